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

        do {
            let database = try Workspace.appDatabase(config.database)
            diagnostics += try database.checkSchema(config.classes)
            facts.append("database: \(database.location)")
            let columns = ReferenceSet.columns(of: config.classes).map(\.reference)
            let hooks = try Workspace.hooks(config.database).status(columns)
            if hooks.isCurrent {
                facts.append("hooks: installed and current (\(hooks.pendingRows) event\(hooks.pendingRows == 1 ? "" : "s") waiting in the outbox)")
            } else if !hooks.outboxExists && hooks.columns.allSatisfy({ $0.state == .missing }) {  // never installed
                facts.append("hooks: not installed")
            } else {
                let problems = hooks.columns.filter { $0.state != .installed }.map { "\($0.name) \($0.state.rawValue)" } + hooks.extraTriggers.map { "extra trigger \($0)" }
                facts.append("hooks: not current (\(problems.joined(separator: ", ")))")
            }
            let neverInstalled = !hooks.outboxExists && hooks.columns.allSatisfy { $0.state == .missing }
            if !hooks.isCurrent && (requireHooks || !neverInstalled) {
                let advice = hooks.advice.joined(separator: "; ")
                diagnostics.append(Diagnostic(requireHooks ? .error : .warning, "database hooks are not installed and current; \(advice.isEmpty ? "run 'media-janitor hooks install'" : advice)", id: "world.hooks", at: nil))
            }
        } catch {
            diagnostics.append(Diagnostic(.error, error.description, id: "world.database", at: nil))
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
