import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports

/// `history merge`: the JSON reports of `scan --shard 1/N` to `N/N` as the report of the
/// whole tree, exactly as one unsharded scan would print it.
struct HistoryMergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the JSON reports of 'scan --shard I/N' into the report of the whole tree.",
        discussion: """
            Checks that the files are shards 1 to N of one split, each exactly once, of one media \
            root and the same classes, then prints the report one unsharded scan would print, in \
            any --format. With --record the merged audit is stored in the history of the --config \
            store, as 'scan' stores its audits.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The JSON reports of shards 1 to N, in any order.", valueName: "file"))
    var files: [String]

    @Option(name: .customLong("fail-on"), help: "Exit 1 when findings of this kind exist: orphans, missing, invalid or any.")
    var failOn: [FailOn] = []

    @Flag(help: "Store the merged audit in the history, as 'scan' does.")
    var record = false

    func run() async throws {
        try await reportingFailures {
            Log.configure(common)
            var shards: [(source: String, report: ScanReport)] = []
            for file in files {
                shards.append((file, try Self.read(file)))
            }
            let report: ScanReport
            do {
                report = try ScanReport.merging(shards: shards)
            } catch {
                throw CommandFailure.usage("\(error)")
            }
            // The store comes from the config: check it describes the same tree before printing.
            let history = record ? try Self.history(for: report, common) : nil
            try Console.write(output.format.render(report, options: output.renderOptions), to: output.output)
            if let history {
                do {
                    try history.workspace.openStore().recordAudit(report, classes: history.classes)
                } catch let failure as CommandFailure {
                    throw CommandFailure.runtime("the merged audit was printed but not recorded: \(failure.message)")
                }
            }
            if failOn.contains(where: { $0.isMet(by: report.summary) }) {
                throw ExitCode(MediaJanitor.Exit.findings)
            }
        }
    }

    /// One shard's report, or a usage error naming the file.
    static func read(_ path: String) throws(CommandFailure) -> ScanReport {
        let hint = "pass the JSON reports written by 'scan --shard I/N --format json'"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .usage("cannot read '\(path)': \(String(cString: strerror(errno))); \(hint)")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else {
            throw .usage("cannot read '\(path)': it is a directory; \(hint)")
        }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw .runtime("cannot read '\(path)': \(error)")
        }
        do {
            return try JSONReportDecoder().scanReport(from: data)
        } catch {
            throw .usage("'\(path)' is \(error.description)")
        }
    }

    /// The workspace whose store records the merged audit, and the `--class` names to record
    /// with it (none when the shards covered every class, as for `scan` without `--class`).
    static func history(
        for report: ScanReport, _ common: CommonOptions
    ) throws(CommandFailure) -> (workspace: Workspace, classes: [String]) {
        let workspace = try Workspace.load(common)
        let config = workspace.config
        guard report.mediaRoot == config.mediaRootSetting else {
            throw .usage("the shards audit media root '\(report.mediaRoot)' but \(common.configPath) has media_root '\(config.mediaRootSetting)'; pass the --config the shards were scanned with")
        }
        let names = report.classes.map(\.name)
        let known = config.classes.map(\.name)
        if names == known { return (workspace, []) }
        let unknown = names.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw .usage("the shards report classes that \(common.configPath) does not define (\(unknown.map { "'\($0)'" }.joined(separator: ", "))); pass the --config the shards were scanned with")
        }
        return (workspace, names)
    }
}
