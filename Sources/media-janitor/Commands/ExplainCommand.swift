import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources

/// `explain PATH`: which class, which rows, and what a sweep would do.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain one path: its class, the rows that reference it, and whether a sweep would remove it.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Output format: text or json.")
    var format: ReportFormat = .text

    @Argument(help: "A path relative to media_root (or an absolute path inside it).")
    var path: String

    func run() async throws {
        try await reportingFailures {
            guard format == .text || format == .json else {
                throw CommandFailure.usage("explain writes text or json; use --format text or --format json")
            }
            let workspace = try Workspace.load(common)
            let explanation = try Explanation.make(for: path, in: workspace)
            try Console.write(format == .json ? explanation.json : explanation.text, to: nil)
        }
    }
}
