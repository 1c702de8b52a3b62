import Foundation
import JanitorCore

/// GitHub-flavoured Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`) or a pull-request
/// comment: headings, a summary table, class and directory tables, and findings lists.
///
/// Lists are cut at ``RenderOptions/top`` rows, which keeps a comment under the host's size
/// limit. Paths, values and names are code spans, so Markdown in a file name stays literal;
/// control characters become visible escapes as in the text format.
public struct MarkdownFormatter: Sendable {
    /// Rows per list (colour does not apply).
    public var options: RenderOptions

    /// Creates the formatter.
    public init(options: RenderOptions = RenderOptions()) {
        self.options = options
    }

    var top: Int { max(0, options.top) }

    // MARK: Scan

    /// The scan report.
    public func format(_ report: ScanReport) -> String {
        let summary = report.summary
        let groups = FindingGroup.groups(report.findings, top: top)
        var out = MarkdownOutput()
        out.heading(1, "media-janitor scan")
        out.paragraph(
            "Media root \(code(report.mediaRoot)), generated at \(ISO8601.string(report.generatedAt)).")
        if let shard = report.shard {
            out.paragraph(
                "Shard \(shard.index) of \(shard.count): only the files and references that hash to this shard; \(code("media-janitor history merge")) joins the shards' JSON reports.")
        }
        out.paragraph(verdict(summary))

        out.heading(2, "Summary")
        out.table(
            header: ["", "count", "size"], alignments: [.left, .right, .right],
            rows: [
                ["files", "\(summary.files)", humanSize(summary.bytes)],
                ["referenced", "\(summary.referenced)", ""],
                ["orphans", "\(summary.orphans)", humanSize(summary.orphanBytes)],
                ["missing", "\(summary.missing)", ""],
                ["unclassified", "\(summary.unclassified)", ""],
                ["invalid", "\(summary.invalid)", ""],
                ["too young", "\(summary.tooYoung)", ""],
                ["excluded", "\(summary.excluded)", ""],
            ])

        if !report.classes.isEmpty {
            out.heading(2, "By class")
            out.table(
                header: ["class", "files", "size", "orphans", "orphan size", "missing"],
                alignments: [.left, .right, .right, .right, .right, .right],
                rows: report.classes.map {
                    [
                        code($0.name, inTable: true), "\($0.files)", humanSize($0.bytes), "\($0.orphans)",
                        humanSize($0.orphanBytes), "\($0.missing)",
                    ]
                })
        }

        if !report.directories.isEmpty {
            out.heading(2, "By directory, most orphan bytes first")
            out.table(
                header: ["directory", "files", "size", "orphans", "orphan size"],
                alignments: [.left, .right, .right, .right, .right],
                rows: report.directories.prefix(top).map {
                    [
                        code($0.path, inTable: true), "\($0.files)", humanSize($0.bytes), "\($0.orphans)",
                        humanSize($0.orphanBytes),
                    ]
                })
            out.more(report.directories.count - min(top, report.directories.count), "directory", "directories")
        }

        if !groups.isEmpty { out.heading(2, "Findings") }
        for group in groups {
            out.heading(3, group.title)
            out.list(group.shown.map(findingItem))
            out.more(group.hidden)
        }
        return out.text
    }

    /// `**Findings:** 80 orphans (5.0 MiB reclaimable), 3 missing, ...` or `**No findings.**`
    private func verdict(_ summary: ScanSummary) -> String {
        var parts: [String] = []
        if summary.orphans > 0 {
            parts.append(counted(summary.orphans, "orphan") + " (\(humanSize(summary.orphanBytes)) reclaimable)")
        }
        if summary.missing > 0 { parts.append("\(summary.missing) missing") }
        if summary.unclassified > 0 { parts.append("\(summary.unclassified) unclassified") }
        if summary.invalid > 0 { parts.append("\(summary.invalid) invalid") }
        if summary.tooYoung > 0 { parts.append("\(summary.tooYoung) too young") }
        return parts.isEmpty ? "**No findings.**" : "**Findings:** " + parts.joined(separator: ", ") + "."
    }

    private func findingItem(_ finding: Finding) -> String {
        var details: [String] = []
        if let bytes = finding.bytes { details.append(humanSize(bytes)) }
        if let className = finding.className { details.append("class " + code(className)) }
        if let mtime = finding.mtime { details.append("modified " + ISO8601.string(mtime)) }
        if let reason = finding.reason { details.append(text(reason)) }
        if !finding.referencedBy.isEmpty { details.append(references(finding.referencedBy)) }
        let subject = code(finding.subject)
        return details.isEmpty ? subject : subject + " — " + details.joined(separator: ", ")
    }

    /// ``referenced by `forum_post.image` key `7` and 2 more rows``.
    private func references(_ references: [RowReference]) -> String {
        let shown = references.prefix(referencesShown).map {
            "\(code("\($0.table).\($0.column)")) key \(code($0.key))"
        }
        var text = "referenced by " + shown.joined(separator: ", ")
        if references.count > shown.count { text += " and \(counted(references.count - shown.count, "more row"))" }
        return text
    }

    // MARK: Usage

    /// The usage report.
    public func format(_ report: UsageReport) -> String {
        var out = MarkdownOutput()
        out.heading(1, "media-janitor usage")
        out.paragraph(
            "Media root \(code(report.mediaRoot)), generated at \(ISO8601.string(report.generatedAt)).")
        out.paragraph("**\(counted(report.files, "file")), \(humanSize(report.bytes)).**")

        if !report.classes.isEmpty {
            out.heading(2, "By class")
            out.table(
                header: ["class", "files", "size", "share"], alignments: [.left, .right, .right, .right],
                rows: report.classes.map {
                    [
                        code($0.name, inTable: true), "\($0.files)", humanSize($0.bytes),
                        percent($0.bytes, of: report.bytes),
                    ]
                })
        }
        if !report.directories.isEmpty {
            out.heading(2, "By directory, largest first")
            out.table(
                header: ["directory", "files", "size", "share"], alignments: [.left, .right, .right, .right],
                rows: report.directories.prefix(top).map {
                    [
                        code($0.path, inTable: true), "\($0.files)", humanSize($0.bytes),
                        percent($0.bytes, of: report.bytes),
                    ]
                })
            out.more(report.directories.count - min(top, report.directories.count), "directory", "directories")
        }
        if !report.owners.isEmpty {
            out.heading(2, "By owner, largest first")
            out.table(
                header: ["class", "owner", "files", "size"], alignments: [.left, .left, .right, .right],
                rows: report.owners.prefix(top).map {
                    [
                        code($0.className, inTable: true), code($0.owner, inTable: true), "\($0.files)",
                        humanSize($0.bytes),
                    ]
                })
            out.more(report.owners.count - min(top, report.owners.count), "owner")
        }
        return out.text
    }

    // MARK: History

    /// The audit history, newest first, with each value's change since the next older audit.
    public func format(_ report: HistoryReport) -> String {
        var out = MarkdownOutput()
        out.heading(1, "media-janitor history")
        guard !report.audits.isEmpty else {
            out.paragraph("No audits yet; run `media-janitor scan` to record one.")
            return out.text
        }
        out.table(
            header: [
                "id", "generated at", "media root", "files", "size", "orphans", "orphan size", "missing",
                "unclassified", "invalid", "too young",
            ],
            alignments: [.right, .left, .left] + Array(repeating: .right, count: 8),
            rows: report.audits.enumerated().map { index, audit in
                ["\(audit.id)", ISO8601.string(audit.generatedAt), code(audit.mediaRoot, inTable: true)]
                    + HistoryRow(audit, previous: report.audits.olderAudit(than: index)).cells
            })
        return out.text
    }

    // MARK: Check

    /// The check report: the verdict, the diagnostics and the facts.
    public func format(_ report: CheckReport) -> String {
        var out = MarkdownOutput()
        out.heading(1, "media-janitor check")
        out.paragraph("**\(CheckVerdict(report.diagnostics).text).**")
        if !report.diagnostics.isEmpty {
            out.heading(2, "Diagnostics")
            out.list(
                report.diagnostics.map { diagnostic in
                    var item = "**\(diagnostic.severity.rawValue)**"
                    if let location = diagnostic.location {
                        item += " " + code("\(location.file):\(location.line):\(location.column)")
                    }
                    return item + " " + text(diagnostic.message) + " " + code("[\(diagnostic.id)]")
                })
        }
        if !report.facts.isEmpty {
            out.heading(2, "Facts")
            out.list(report.facts.map(text))
        }
        return out.text
    }

    // MARK: Escaping

    /// A code span that shows `text` literally: a backtick fence longer than any run inside,
    /// and `|` escaped inside table cells (GitHub splits cells before it parses code spans).
    func code(_ text: String, inTable: Bool = false) -> String {
        var content = displayText(text)
        if inTable { content = content.replacingOccurrences(of: "|", with: "\\|") }
        var longestRun = 0
        var run = 0
        for character in content {
            run = character == "`" ? run + 1 : 0
            longestRun = max(longestRun, run)
        }
        let fence = String(repeating: "`", count: longestRun + 1)
        // A space on each side keeps a leading or trailing backtick out of the fence; CommonMark strips it.
        let pad = content.hasPrefix("`") || content.hasSuffix("`") || (content.hasPrefix(" ") && content.hasSuffix(" "))
        return pad ? "\(fence) \(content) \(fence)" : "\(fence)\(content)\(fence)"
    }

    /// Free text (reasons, messages, facts) with Markdown punctuation escaped.
    func text(_ text: String) -> String {
        var result = ""
        for character in displayText(text) {
            if "\\`*_[]<>|&".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

/// Blocks of Markdown separated by blank lines.
struct MarkdownOutput {
    enum Alignment {
        case left, right
    }

    var text = ""

    private mutating func block(_ lines: [String]) {
        if !text.isEmpty { text += "\n" }
        for line in lines { text += line + "\n" }
    }

    mutating func heading(_ level: Int, _ title: String) {
        block([String(repeating: "#", count: level) + " " + title])
    }

    mutating func paragraph(_ line: String) {
        block([line])
    }

    mutating func list(_ items: [String]) {
        guard !items.isEmpty else { return }
        block(items.map { "- " + $0 })
    }

    mutating func table(header: [String], alignments: [Alignment], rows: [[String]]) {
        func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
        let rule = "|" + alignments.map { $0 == .left ? " :-- |" : " --: |" }.joined()
        block([row(header), rule] + rows.map(row))
    }

    /// `_... and 3 more directories._`, nothing when none are hidden.
    mutating func more(_ hidden: Int, _ singular: String? = nil, _ plural: String? = nil) {
        guard hidden > 0 else { return }
        if let singular {
            paragraph("_... and \(counted(hidden, "more " + singular, plural.map { "more " + $0 }))._")
        } else {
            paragraph("_... and \(hidden) more._")
        }
    }
}
