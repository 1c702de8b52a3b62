import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources
import JanitorStore

/// `clean`: removes orphans past grace, through the queue and the quarantine.
struct CleanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Remove orphans past grace through the queue and quarantine (--dry-run: print the plan only).",
        discussion: "A sweep above the safety limits (safety.max_delete_fraction, safety.max_delete_bytes, or a class whose references are empty) removes nothing and exits 4, unless --force. Every file is re-checked against every reference column right before it goes.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var classOptions: ClassOptions

    @OptionGroup var sweep: SweepOptions

    func run() async throws {
        try await reportingFailures {
            let workspace = try Workspace.load(common)
            let selected = try workspace.selectedClasses(classOptions.classes)
            let audit = try Audit.run(workspace, selected: selected, keepOwners: false, depth: 2, showingProgress: true)
            let plan = Self.plan(from: audit.report)
            let violations = SafetyCheck(safety: workspace.config.safety).violations(planned: audit.report.classes.map { usage in
                let classIndex = workspace.config.classes.firstIndex { $0.name == usage.name }!
                let rows = audit.rowsPerClass[classIndex]
                return (usage.name, usage.orphans, usage.orphanBytes, usage.files, rows)
            })
            if sweep.dryRun {
                try Console.write(output.format.render(plan, options: output.renderOptions), to: output.output)
                for violation in violations { Console.warning("\(violation); a real run stops here (exit 4) unless --force") }
                try Audit.requireComplete(audit)
                try Self.requireNameable(audit.report)
                return
            }
            try sweep.stopUnlessForced(violations.map(\.message), stopped: "the sweep was stopped by the safety limits and removed nothing; check with 'clean --dry-run'")
            let store = try workspace.openStore()
            let now = Date()
            let classesByName = Dictionary(uniqueKeysWithValues: workspace.config.classes.map { ($0.name, $0) })
            let items = plan.findings.compactMap { finding -> NewQueueItem? in
                guard let path = finding.path, let name = finding.className, classesByName[name] != nil else { return nil }
                return NewQueueItem(path: path, className: name, reason: "orphan", notBefore: now)
            }
            do {
                _ = try store.enqueue(items, source: "clean", now: now)
            } catch {
                throw CommandFailure.runtime("\(error)")
            }
            let runner = QueueRunner(config: workspace.config, store: store, database: try workspace.openAppDatabase())
            let summary = try runner.run(batchSize: workspace.config.defaults.batchSize, showingProgress: true)
            try Console.write(QueueText.summary(summary, json: output.format == .json), to: output.output)
            try Audit.requireComplete(audit)
            try Self.requireNameable(audit.report)
            try QueueRunner.requireSuccess(summary)
        }
    }

    /// The plan: the audit with only its orphans, so every report format can show it. An orphan
    /// whose name is not UTF-8 is left out: its path is repaired for display and may name
    /// another file (one whose name really holds U+FFFD, maybe inside grace).
    static func plan(from report: ScanReport) -> ScanReport {
        var plan = report
        plan.findings = report.findings.filter { $0.kind == .orphan && !$0.pathIsRepaired }
        return plan
    }

    /// Exit 3 when orphans were left because their names are not UTF-8, once the rest is done.
    static func requireNameable(_ report: ScanReport) throws(CommandFailure) {
        let left = report.findings.filter { $0.kind == .orphan && $0.pathIsRepaired }
        guard let first = left.first?.path else { return }
        let orphans = left.count == 1 ? "1 orphan was" : "\(left.count) orphans were"
        throw .runtime(
            "\(orphans) left in place because \(left.count == 1 ? "its name is" : "their names are") not valid UTF-8 (first, shown with U+FFFD: '\(first)'); "
                + "the janitor cannot name such a file to remove it: rename it to UTF-8 (for example with 'convmv') or remove it by hand")
    }
}
