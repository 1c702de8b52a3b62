import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports

extension ReportFormat: ExpressibleByArgument {}

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config file (default ./janitor.yml, or MEDIA_JANITOR_CONFIG).", valueName: "path"))
    var config: String?

    @Flag(
        name: .long,
        help: """
            Print only errors: no warnings and no progress line. (Without it, long work such as scan, \
            clean, queue run and retention shows a progress line on standard error when that is a terminal, \
            erased before the report; never when piped or redirected.)
            """)
    var quiet = false

    @Flag(
        name: .long,
        help: """
            Also print debug lines on standard error: what is being done and how long it took. A progress \
            line on a terminal stays, erased before each debug line.
            """)
    var verbose = false

    /// The config path to use.
    var configPath: String {
        config ?? ProcessInfo.processInfo.environment["MEDIA_JANITOR_CONFIG"] ?? "janitor.yml"
    }
}

/// Options of commands that print a report.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text, json, ndjson, markdown or junit.")
    var format: ReportFormat = .text

    @Option(name: .long, help: ArgumentHelp("Write the report to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: "How many rows per table and per kind of finding text and Markdown show.")
    var top = 20

    /// Fails with a usage error, before any work, when the format cannot render `kind`.
    func requireSupport(for kind: ReportKind) throws(CommandFailure) {
        guard format.supports(kind) else {
            throw .usage(ReportError.unsupportedFormat(format, report: kind).description)
        }
    }

    /// Options for the formatters.
    var renderOptions: RenderOptions {
        let environment = ProcessInfo.processInfo.environment
        let color = output == nil && isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && format == .text
        return RenderOptions(top: top, color: color)
    }
}

/// `--dry-run` and `--force`, for the commands that remove things (`clean`, `retention`).
struct SweepOptions: ParsableArguments {
    @Flag(name: .customLong("dry-run"), help: "Print the plan and change nothing.")
    var dryRun = false

    @Flag(help: "Go ahead even when a safety limit is crossed.")
    var force = false

    /// Ends the command with exit 4 when the plan crosses a safety limit and `--force` was not
    /// given, saying how to go on.
    func stopUnlessForced(_ violations: [String], stopped: String) throws {
        guard !violations.isEmpty, !force else { return }
        for violation in violations { Console.error("error: \(violation)") }
        Console.error("error: \(stopped), then raise the limit in 'safety' or pass --force")
        throw ExitCode(MediaJanitor.Exit.safety)
    }
}

/// `--class NAME`, repeatable.
struct ClassOptions: ParsableArguments {
    @Option(name: .customLong("class"), help: ArgumentHelp("Only this class (repeatable).", valueName: "name"))
    var classes: [String] = []
}
