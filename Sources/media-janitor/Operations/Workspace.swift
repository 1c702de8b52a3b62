import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

/// What every command starts from: the loaded config and its sources.
struct Workspace {
    let config: JanitorConfig
    let warnings: [Diagnostic]

    /// Loads the config; errors end the command with exit 2.
    static func load(_ options: CommonOptions) throws(CommandFailure) -> Workspace {
        Log.configure(options)
        let loader = ConfigLoader(files: .disk, environment: ProcessInfo.processInfo.environment)
        let result = loader.load(path: options.configPath, currentDirectory: FileManager.default.currentDirectoryPath)
        guard let config = result.config else {
            Console.diagnostics(result.diagnostics, quiet: false)
            let errors = result.diagnostics.filter { $0.severity == .error }.count
            throw .usage("\(options.configPath): \(errors) error\(errors == 1 ? "" : "s") in the config; fix \(errors == 1 ? "it" : "them") and run 'media-janitor check'")
        }
        Console.diagnostics(result.diagnostics, quiet: options.quiet)
        return Workspace(config: config, warnings: result.diagnostics)
    }

    /// Class indices selected by `--class`; nil selects all. An unknown name is a usage error.
    func selectedClasses(_ names: [String]) throws(CommandFailure) -> Set<Int>? {
        guard !names.isEmpty else { return nil }
        var selected = Set<Int>()
        for name in names {
            guard let index = config.classes.firstIndex(where: { $0.name == name }) else {
                let known = config.classes.map(\.name)
                let hint = didYouMean(name, in: known).map { "did you mean '\($0)'? " } ?? ""
                throw .usage("unknown class '\(name)' in --class; \(hint)classes are: \(known.joined(separator: ", "))")
            }
            selected.insert(index)
        }
        return selected
    }

    /// Opens the app database and checks the configured schema.
    func openAppDatabase() throws(CommandFailure) -> any AppDatabase {
        do {
            let database = try Self.appDatabase(config.database)
            let problems = try database.checkSchema(config.classes)
            if problems.hasErrors {
                Console.diagnostics(problems, quiet: false)
                throw SourceError.schema(problems)
            }
            return database
        } catch let error as SourceError {
            throw error.failure
        } catch {
            throw .runtime("\(error)")
        }
    }

    /// Opens the app database for writing rows (`retention`, `archive restore`).
    func openRowWriter() throws(CommandFailure) -> any AppRowWriter {
        do throws(SourceError) {
            switch config.database {
            case .sqlite(let path): return try SQLiteRowWriter(path: path)
            case .postgres(let url): return try PostgresRowWriter(url: url)
            }
        } catch {
            throw error.failure
        }
    }

    /// Opens the app database's hooks (`hooks`, `check`, `serve`).
    func openHooks() throws(CommandFailure) -> any AppHooks {
        do throws(SourceError) {
            return try Self.hooks(config.database)
        } catch {
            throw error.failure
        }
    }

    /// Opens the janitor's store.
    func openStore() throws(CommandFailure) -> any StateStore {
        do throws(StoreError) {
            return try Self.store(config)
        } catch {
            throw .runtime(error.description)
        }
    }

    /// The app database at `location`, read-only.
    static func appDatabase(_ location: DatabaseLocation) throws(SourceError) -> any AppDatabase {
        switch location {
        case .sqlite(let path): try SQLiteAppDatabase(path: path)
        case .postgres(let url): try PostgresAppDatabase(url: url)
        }
    }

    /// The hooks of the app database at `location`.
    static func hooks(_ location: DatabaseLocation) throws(SourceError) -> any AppHooks {
        switch location {
        case .sqlite(let path): try SQLiteHooks(path: path)
        case .postgres(let url): try PostgresHooks(url: url)
        }
    }

    /// The store the config names: an SQLite file, or a PostgreSQL database that several
    /// janitors share.
    static func store(_ config: JanitorConfig) throws(StoreError) -> any StateStore {
        switch config.state {
        case .sqlite(let path): try SQLiteStateStore(path: path)
        case .postgres(let url): try PostgresStateStore(url: url, lease: config.defaults.lease.timeInterval)
        }
    }
}

extension SourceError {
    /// The command failure for this error: configuration problems exit 2, the world exits 3.
    var failure: CommandFailure {
        if case .schema(let diagnostics) = self {
            let count = diagnostics.filter { $0.severity == .error }.count
            return .usage("\(count) configured table\(count == 1 ? "" : "s") or column\(count == 1 ? "" : "s") missing from the app database; fix the config or the database, then run 'media-janitor check'")
        }
        return isConfiguration ? .usage(description) : .runtime(description)
    }
}
