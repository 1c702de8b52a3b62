import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources

/// `check`: validates the config and the world.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config and the world: tables, columns, media root, hooks.",
        discussion: "Diagnostics are compiler-style: FILE:LINE:COLUMN: error: MESSAGE [id]. Exit 0 when there is no error, 2 otherwise.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .customLong("require-hooks"), help: "Treat missing or stale database hooks as an error.")
    var requireHooks = false

    func run() async throws {
        try await reportingFailures {
            let report = Self.check(common.configPath, requireHooks: requireHooks)
            try Console.write(try output.format.render(report, options: output.renderOptions), to: output.output)
            if report.diagnostics.hasErrors { throw ExitCode(MediaJanitor.Exit.usage) }
        }
    }

    static func check(_ path: String, requireHooks: Bool) -> CheckReport {
        let loader = ConfigLoader(files: .disk, environment: ProcessInfo.processInfo.environment)
        let loaded = loader.load(path: path, currentDirectory: FileManager.default.currentDirectoryPath)
        var diagnostics = loaded.diagnostics
        var facts: [String] = []
        guard let config = loaded.config else { return CheckReport(diagnostics: diagnostics, facts: facts) }
        let classCount = config.classes.count
        let columnCount = config.classes.map(\.references.count).reduce(0, +)
        facts.append("config: \(classCount) class\(classCount == 1 ? "" : "es"), \(columnCount) reference\(columnCount == 1 ? "" : "s")")

        var info = stat()
        if lstat(config.mediaRoot, &info) != 0 {
            diagnostics.append(Diagnostic(.error, "media_root '\(config.mediaRootSetting)' (\(config.mediaRoot)) does not exist; create it or fix 'media_root'", id: "world.media-root", at: SourceLocation(file: path, line: 1, column: 1)))
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            diagnostics.append(Diagnostic(.error, "media_root '\(config.mediaRootSetting)' is not a directory (a symlink is not followed); point 'media_root' at the real directory", id: "world.media-root", at: nil))
        } else {
            facts.append("media_root: \(config.mediaRoot)")
            facts.append("quarantine: \(quarantineMove(config))")
        }

        switch config.database {
        case .postgres(let url):
            diagnostics.append(Diagnostic(.error, "database '\(url.redacted)': this build reads SQLite app databases only; use 'database: sqlite:PATH'", id: "world.database", at: nil))
        case .sqlite(let databasePath):
            do {
                let database = try SQLiteAppDatabase(path: databasePath)
                diagnostics += try database.checkSchema(config.classes)
                facts.append("database: sqlite:\(databasePath)")
                let hooksInstalled = try database.schema()["janitor_outbox"] != nil
                if hooksInstalled {
                    facts.append("hooks: outbox table present")
                } else {
                    facts.append("hooks: not installed")
                    if requireHooks {
                        diagnostics.append(Diagnostic(.error, "database hooks are not installed (no 'janitor_outbox' table); install them, or drop --require-hooks", id: "world.hooks", at: nil))
                    }
                }
            } catch {
                diagnostics.append(Diagnostic(.error, error.description, id: "world.database", at: nil))
            }
        }
        facts.append("state: \(config.state)")
        diagnostics.sort { ($0.severity == .error ? 0 : 1) < ($1.severity == .error ? 0 : 1) }
        return CheckReport(diagnostics: diagnostics, facts: facts)
    }

    /// Whether quarantining is a rename (same file system) or a copy.
    static func quarantineMove(_ config: JanitorConfig) -> String {
        var media = stat(), quarantine = stat()
        var directory = config.defaults.quarantineDirectory
        while stat(directory, &quarantine) != 0, directory != "/" {
            directory = FilePath.directory(of: directory)
        }
        guard stat(config.mediaRoot, &media) == 0 else { return "unknown" }
        if media.st_dev == quarantine.st_dev {
            return "\(config.defaults.quarantineDirectory) (same file system: rename)"
        }
        return "\(config.defaults.quarantineDirectory) (another file system: copy + fsync + unlink, slower)"
    }
}
