import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports

/// What `--fail-on` can ask for.
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case orphans, missing, invalid, any

    /// Whether a report has findings of the asked kinds (`any`: orphan, missing, invalid or unclassified).
    func isMet(by summary: ScanSummary) -> Bool {
        switch self {
        case .orphans: summary.orphans > 0
        case .missing: summary.missing > 0
        case .invalid: summary.invalid > 0
        case .any: summary.orphans + summary.missing + summary.invalid + summary.unclassified > 0
        }
    }
}

/// `scan`: the read-only orphan audit.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Audit the media root against every reference column (read-only).",
        discussion: "Finds orphans, missing files, unclassified files, invalid references and files inside grace, with sizes by class and directory, and records the audit in the history. With --shard I/N it audits only the files (and missing or invalid references) whose path hashes to shard I, so N machines can split one tree; such a partial audit is not recorded, and 'history merge' joins the shards' JSON reports into the report of the whole tree.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var classOptions: ClassOptions

    @Option(name: .customLong("fail-on"), help: "Exit 1 when findings of this kind exist: orphans, missing, invalid or any.")
    var failOn: [FailOn] = []

    @Option(help: "Directory levels kept in the per-directory totals.")
    var depth = 2

    @Flag(name: .customLong("no-record"), help: "Do not store the audit in the history.")
    var noRecord = false

    @Option(help: ArgumentHelp("Audit only shard I of N (1-based), split by a stable hash of each path; not recorded in the history.", valueName: "i/n"))
    var shard: String?

    func run() async throws {
        try await reportingFailures {
            let shard = try self.shard.map(Self.parseShard)
            let workspace = try Workspace.load(common)
            let selected = try workspace.selectedClasses(classOptions.classes)
            let result = try Audit.run(workspace, selected: selected, keepOwners: false, depth: depth, shard: shard, showingProgress: true)
            try Console.write(output.format.render(result.report, options: output.renderOptions), to: output.output)
            // One shard's totals would read as a shrunken tree in the history: the merged report is
            // recorded instead (`history merge --record`).
            if !noRecord, shard == nil {
                do {
                    try workspace.openStore().recordAudit(result.report, classes: classOptions.classes)
                } catch let failure as CommandFailure {
                    throw CommandFailure.runtime("the audit was printed but not recorded: \(failure.message)")
                }
            }
            try Audit.requireComplete(result)
            if failOn.contains(where: { $0.isMet(by: result.report.summary) }) {
                throw ExitCode(MediaJanitor.Exit.findings)
            }
        }
    }

    /// `--shard I/N`, or a usage error that says what to write.
    static func parseShard(_ text: String) throws(CommandFailure) -> Shard {
        do {
            return try Shard(parsing: text)
        } catch {
            throw .usage("--shard \(error)")
        }
    }
}

/// `usage`: bytes and counts by class, directory and owner.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show bytes and counts by class, directory and owner.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var classOptions: ClassOptions

    @Option(help: "Directory levels kept in the per-directory totals.")
    var depth = 2

    func run() async throws {
        try await reportingFailures {
            try output.requireSupport(for: .usage)
            let workspace = try Workspace.load(common)
            let selected = try workspace.selectedClasses(classOptions.classes)
            let result = try Audit.run(workspace, selected: selected, keepOwners: true, depth: depth, showingProgress: true)
            let report = result.report
            let usage = UsageReport(
                generatedAt: report.generatedAt, mediaRoot: report.mediaRoot, files: report.summary.files,
                bytes: report.summary.bytes, classes: report.classes,
                directories: report.directories.sorted { ($0.bytes, $1.path) > ($1.bytes, $0.path) }, owners: result.owners)
            try Console.write(try output.format.render(usage, options: output.renderOptions), to: output.output)
            try Audit.requireComplete(result)
        }
    }
}

/// `history`: past audits and the change since the previous one (`history` alone, or
/// `history list`), and `history merge` for the reports of a sharded scan.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List past audits and the change since the previous one; merge sharded scans.",
        subcommands: [HistoryListCommand.self, HistoryMergeCommand.self],
        defaultSubcommand: HistoryListCommand.self)
}

/// `history list` (what `history` alone runs): past audits, newest first.
struct HistoryListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List past audits and the change since the previous one.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "How many audits to show, newest first.")
    var limit = 20

    func run() async throws {
        try await reportingFailures {
            try output.requireSupport(for: .history)
            let workspace = try Workspace.load(common)
            let store = try workspace.openStore()
            let audits: [AuditRecord]
            do {
                audits = try store.audits(limit: limit)
            } catch {
                throw CommandFailure.runtime("\(error)")
            }
            try Console.write(try output.format.render(HistoryReport(audits: audits), options: output.renderOptions), to: output.output)
        }
    }
}
