import ArgumentParser
import Foundation
import JanitorCore

/// The `media-janitor` command.
@main
struct MediaJanitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media-janitor",
        abstract: "Keeps a web app's media directory in step with its database.",
        discussion: """
            Getting started: 'media-janitor init --database URL --media-root PATH' writes a starter \
            janitor.yml from the app database and the media root; review it, then run \
            'media-janitor check' and 'media-janitor scan' (read-only).

            Exit codes: 0 success and nothing found; 1 findings present and --fail-on asked for \
            them; 2 usage or configuration error; 3 runtime error; 4 a safety limit stopped the run.
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, CheckCommand.self, ExplainCommand.self, ScanCommand.self, CleanCommand.self, UsageCommand.self, HistoryCommand.self,
            RetentionCommand.self, EventsCommand.self, HooksCommand.self, QueueCommand.self, QuarantineCommand.self, ArchiveCommand.self, ServeCommand.self,
        ]
    )

    /// Parses and runs, mapping ArgumentParser's usage errors (EX_USAGE, 64) to exit 2 as
    /// DESIGN section 4 specifies for every usage error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code.rawValue == 64 {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(Exit.usage)
            }
            exit(withError: error)
        }
    }

    /// Exit codes shared by every command (DESIGN section 4).
    enum Exit {
        static let findings: Int32 = 1
        static let usage: Int32 = 2
        static let runtime: Int32 = 3
        static let safety: Int32 = 4
    }
}
