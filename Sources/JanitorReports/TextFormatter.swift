import Foundation
import JanitorCore

/// The terminal report: a header, totals, aligned tables with human sizes, and the top findings.
///
/// Lists are cut at ``RenderOptions/top`` rows with a line saying how many more there are.
/// Names from disk and from the database pass through ``displayText(_:)``, so control
/// characters cannot reach the terminal. ANSI styling appears only with
/// ``RenderOptions/color``.
///
/// ```
/// media-janitor scan
///   media root    media
///   generated at  2026-11-21T10:00:00Z
///
/// Summary
///   files           1200  70.0 MiB
///   orphans           80   5.0 MiB reclaimable
///   ...
/// ```
public struct TextFormatter: Sendable {
    /// Rows per list and colour.
    public var options: RenderOptions

    /// Creates the formatter.
    public init(options: RenderOptions = RenderOptions()) {
        self.options = options
    }

    var style: TerminalStyle { TerminalStyle(enabled: options.color) }

    // MARK: Scan

    /// The scan report.
    public func format(_ report: ScanReport) -> String {
        let summary = report.summary
        var out = TextOutput(style: style)
        out.title("media-janitor scan")
        var head = header(mediaRoot: report.mediaRoot, generatedAt: report.generatedAt)
        if let shard = report.shard {
            head.append(["shard", "\(shard.index) of \(shard.count); 'media-janitor history merge' joins the shards' JSON reports"])
        }
        out.table(head)

        out.section("Summary")
        var totals = TextTable([.left, .right, .right, .left])
        totals.append(["files", "\(summary.files)", humanSize(summary.bytes), ""])
        totals.append(["referenced", "\(summary.referenced)", "", ""])
        totals.append(["orphans", "\(summary.orphans)", humanSize(summary.orphanBytes), "reclaimable"])
        totals.append(["missing", "\(summary.missing)", "", ""])
        totals.append(["unclassified", "\(summary.unclassified)", "", ""])
        totals.append(["invalid", "\(summary.invalid)", "", ""])
        totals.append(["too young", "\(summary.tooYoung)", "", ""])
        totals.append(["excluded", "\(summary.excluded)", "", ""])
        out.table(totals)

        if !report.classes.isEmpty {
            out.section("By class")
            out.table(classTable(report.classes))
        }

        if !report.directories.isEmpty {
            out.section("By directory, most orphan bytes first")
            var table = TextTable(
                [.left, .right, .right, .right, .right],
                header: ["directory", "files", "size", "orphans", "orphan size"])
            for usage in report.directories.prefix(max(0, options.top)) {
                table.append([
                    displayText(usage.path), "\(usage.files)", humanSize(usage.bytes), "\(usage.orphans)",
                    humanSize(usage.orphanBytes),
                ])
            }
            out.table(table)
            out.more(report.directories.count - table.rows.count, "directory", "directories")
        }

        let groups = FindingGroup.groups(report.findings, top: options.top)
        if groups.isEmpty {
            out.section("No findings")
        }
        for group in groups {
            out.section(group.title, color: kindColor(group.kind))
            out.table(findingTable(group))
            out.more(group.hidden)
        }
        return out.text
    }

    private func classTable(_ classes: [ClassUsage]) -> TextTable {
        var table = TextTable(
            [.left, .right, .right, .right, .right, .right],
            header: ["class", "files", "size", "orphans", "orphan size", "missing"])
        for usage in classes {
            table.append([
                displayText(usage.name), "\(usage.files)", humanSize(usage.bytes), "\(usage.orphans)",
                humanSize(usage.orphanBytes), "\(usage.missing)",
            ])
        }
        return table
    }

    private func findingTable(_ group: FindingGroup) -> TextTable {
        switch group.kind {
        case .orphan, .tooYoung:
            // Every too-young file is inside grace; an orphan has a reason only when nothing
            // may act on it (a name that is not UTF-8), and then it is shown.
            var table = TextTable([.right, .left, .left, .left, .left])
            for finding in group.shown {
                table.append([
                    finding.bytes.map(humanSize) ?? "-", displayText(finding.subject),
                    finding.className.map(displayText) ?? "-", finding.mtime.map(ISO8601.string) ?? "",
                    group.kind == .orphan ? finding.reason.map(displayText) ?? "" : "",
                ])
            }
            return table
        case .unclassified:
            var table = TextTable([.right, .left, .left])
            for finding in group.shown {
                table.append([
                    finding.bytes.map(humanSize) ?? "-", displayText(finding.subject),
                    finding.reason.map(displayText) ?? "",
                ])
            }
            return table
        case .missing:
            var table = TextTable([.left, .left, .left])
            for finding in group.shown {
                table.append([
                    displayText(finding.subject), finding.className.map(displayText) ?? "-",
                    references(finding.referencedBy),
                ])
            }
            return table
        case .invalid:
            var table = TextTable([.left, .left, .left])
            for finding in group.shown {
                table.append([
                    displayText(finding.subject), finding.reason.map(displayText) ?? "",
                    references(finding.referencedBy),
                ])
            }
            return table
        }
    }

    /// `referenced by forum_post.image key 7, forum_post.thumb key 7 and 2 more rows`.
    private func references(_ references: [RowReference]) -> String {
        guard !references.isEmpty else { return "" }
        let shown = references.prefix(referencesShown).map {
            "\(displayText($0.table)).\(displayText($0.column)) key \(displayText($0.key))"
        }
        var text = "referenced by " + shown.joined(separator: ", ")
        if references.count > shown.count { text += " and \(counted(references.count - shown.count, "more row"))" }
        return text
    }

    private func kindColor(_ kind: FindingKind) -> (String) -> String {
        switch kind {
        case .orphan: style.yellow
        case .missing, .invalid: style.red
        case .unclassified: style.magenta
        case .tooYoung: style.dim
        }
    }

    // MARK: Usage

    /// The usage report: totals, then classes, directories and owners with their share of bytes.
    public func format(_ report: UsageReport) -> String {
        var out = TextOutput(style: style)
        out.title("media-janitor usage")
        var head = header(mediaRoot: report.mediaRoot, generatedAt: report.generatedAt)
        head.append(["files", "\(report.files)"])
        head.append(["size", humanSize(report.bytes)])
        out.table(head)

        if !report.classes.isEmpty {
            out.section("By class")
            var table = TextTable([.left, .right, .right, .right], header: ["class", "files", "size", "share"])
            for usage in report.classes {
                table.append([
                    displayText(usage.name), "\(usage.files)", humanSize(usage.bytes),
                    percent(usage.bytes, of: report.bytes),
                ])
            }
            out.table(table)
        }

        if !report.directories.isEmpty {
            out.section("By directory, largest first")
            var table = TextTable([.left, .right, .right, .right], header: ["directory", "files", "size", "share"])
            for usage in report.directories.prefix(max(0, options.top)) {
                table.append([
                    displayText(usage.path), "\(usage.files)", humanSize(usage.bytes),
                    percent(usage.bytes, of: report.bytes),
                ])
            }
            out.table(table)
            out.more(report.directories.count - table.rows.count, "directory", "directories")
        }

        if !report.owners.isEmpty {
            out.section("By owner, largest first")
            var table = TextTable([.left, .left, .right, .right], header: ["class", "owner", "files", "size"])
            for usage in report.owners.prefix(max(0, options.top)) {
                table.append([
                    displayText(usage.className), displayText(usage.owner), "\(usage.files)", humanSize(usage.bytes),
                ])
            }
            out.table(table)
            out.more(report.owners.count - table.rows.count, "owner")
        }
        return out.text
    }

    // MARK: History

    /// The audit history, newest first, each value followed by its change since the next older
    /// audit when it changed: `80 (-5)`.
    public func format(_ report: HistoryReport) -> String {
        var out = TextOutput(style: style)
        out.title("media-janitor history")
        guard !report.audits.isEmpty else {
            out.line("  no audits yet; run `media-janitor scan` to record one")
            return out.text
        }
        out.section("Audits, newest first")
        var table = TextTable(
            [.right, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right],
            header: [
                "id", "generated at", "media root", "files", "size", "orphans", "orphan size", "missing",
                "unclassified", "invalid", "too young",
            ])
        for (index, audit) in report.audits.enumerated() {
            let row = HistoryRow(audit, previous: report.audits.olderAudit(than: index))
            table.append(["\(audit.id)", ISO8601.string(audit.generatedAt), displayText(audit.mediaRoot)] + row.cells)
        }
        out.table(table)
        return out.text
    }

    // MARK: Check

    /// The check report: compiler-style diagnostics, the facts, and a verdict.
    public func format(_ report: CheckReport) -> String {
        var out = TextOutput(style: style)
        for diagnostic in report.diagnostics {
            out.line(coloredDiagnostic(diagnostic))
        }
        if !report.facts.isEmpty {
            if !report.diagnostics.isEmpty { out.line("") }
            out.line(style.bold("Facts"))
            for fact in report.facts { out.line("  " + displayText(fact)) }
        }
        if !out.text.isEmpty { out.line("") }
        let verdict = CheckVerdict(report.diagnostics)
        out.line(verdict.ok ? style.green(verdict.text) : style.red(verdict.text))
        return out.text
    }

    /// `Diagnostic.description` with the severity coloured the way compilers do.
    private func coloredDiagnostic(_ diagnostic: Diagnostic) -> String {
        var text = ""
        if let location = diagnostic.location {
            text += style.bold("\(displayText(location.file)):\(location.line):\(location.column):") + " "
        }
        let severity = "\(diagnostic.severity.rawValue):"
        switch diagnostic.severity {
        case .error: text += style.red(severity)
        case .warning: text += style.yellow(severity)
        case .note: text += style.cyan(severity)
        }
        return text + " \(displayText(diagnostic.message)) [\(displayText(diagnostic.id))]"
    }

    // MARK: Shared

    private func header(mediaRoot: String, generatedAt: Date) -> TextTable {
        var table = TextTable([.left, .left])
        table.append(["media root", displayText(mediaRoot)])
        table.append(["generated at", ISO8601.string(generatedAt)])
        return table
    }
}

/// Lines of text output, with blank lines between sections.
struct TextOutput {
    var style: TerminalStyle
    var text = ""

    mutating func line(_ line: String) {
        text += line
        text += "\n"
    }

    mutating func title(_ title: String) {
        line(style.bold(title))
    }

    mutating func section(_ title: String, color: ((String) -> String)? = nil) {
        line("")
        line(style.bold(color.map { $0(title) } ?? title))
    }

    mutating func table(_ table: TextTable) {
        for line in table.lines(style: style) { self.line(line) }
    }

    /// `  ... and 3 more directories`, nothing when none are hidden.
    mutating func more(_ hidden: Int, _ singular: String? = nil, _ plural: String? = nil) {
        guard hidden > 0 else { return }
        if let singular {
            line("  ... and \(counted(hidden, "more " + singular, plural.map { "more " + $0 }))")
        } else {
            line("  ... and \(hidden) more")
        }
    }
}
