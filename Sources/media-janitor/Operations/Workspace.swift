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

    /// Opens the app database (SQLite in this build) and checks the configured schema.
    func openAppDatabase() throws(CommandFailure) -> SQLiteAppDatabase {
        switch config.database {
        case .postgres(let url):
            throw .usage("database '\(url.redacted)': this build reads SQLite app databases only; PostgreSQL support is tracked separately. Use 'database: sqlite:PATH'")
        case .sqlite(let path):
            do {
                let database = try SQLiteAppDatabase(path: path)
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
    }

    /// Opens the app database for writing rows (`retention`, `archive restore`).
    func openRowWriter() throws(CommandFailure) -> SQLiteRowWriter {
        guard case .sqlite(let path) = config.database else {
            throw .usage("this build changes rows in SQLite app databases only; use 'database: sqlite:PATH'")
        }
        do throws(SourceError) {
            return try SQLiteRowWriter(path: path)
        } catch {
            throw error.failure
        }
    }

    /// Opens the janitor's store.
    func openStore() throws(CommandFailure) -> StateStore {
        switch config.state {
        case .postgres(let url):
            throw .usage("state '\(url.redacted)': this build keeps its store in SQLite only; use 'state: PATH'")
        case .sqlite(let path):
            do {
                return try StateStore(path: path)
            } catch {
                throw .runtime(error.description)
            }
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
