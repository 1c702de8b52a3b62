import JanitorCore

extension MarkdownFormatter {
    /// The retention report: the totals, a table per topic (classes, policies, the selected rows
    /// of each class), the safety limits crossed and what a real run did.
    public func format(_ report: RetentionReport) -> String {
        var out = MarkdownOutput()
        out.heading(1, report.dryRun ? "Retention plan (dry run)" : "Retention")
        out.paragraph("Generated at \(ISO8601.string(report.generatedAt)).")
        out.paragraph("**\(RetentionTotals(report.classes).sentence).**")

        if !report.classes.isEmpty {
            out.heading(2, "By class")
            out.table(
                header: [
                    "class", "row action", "rows", "files", "size", "selected rows", "freed files", "freed size",
                    "kept files",
                ],
                alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .right],
                rows: report.classes.map {
                    [
                        code($0.name, inTable: true), code($0.rowAction, inTable: true), "\($0.rows)", "\($0.files)",
                        humanSize($0.bytes), "\($0.selectedRows)", "\($0.freedFiles)", humanSize($0.freedBytes),
                        "\($0.keptFiles)",
                    ]
                })
        }

        let policies = report.classes.flatMap { plan in
            plan.byPolicy.map { [code(plan.name, inTable: true), code($0.policy, inTable: true), "\($0.rows)"] }
        }
        if !policies.isEmpty {
            out.heading(2, "Selected by policy")
            out.table(header: ["class", "policy", "rows"], alignments: [.left, .left, .right], rows: policies)
        }

        let groups = RetentionGroup.groups(report, top: top)
        if !groups.isEmpty { out.heading(2, "Selected rows") }
        for group in groups {
            out.heading(3, "\(code(group.className)): \(counted(group.count, "selected row")), oldest first")
            if !group.shown.isEmpty {
                out.table(
                    header: ["table", "key", "reason", "created", "owner", "group", "row size", "files"],
                    alignments: [.left, .left, .left, .left, .left, .left, .right, .left],
                    rows: group.shown.map(plannedRowCells))
            }
            out.more(group.hidden, "row")
        }

        if !report.violations.isEmpty {
            out.heading(2, "Safety")
            out.list(report.violations.map { "**warning** safety: " + text($0) })
        }

        if let applied = report.applied {
            out.heading(2, "Applied")
            out.paragraph(applied.summary + ".")
            out.list(applied.failures.map { "**failed** " + text($0) })
        } else if !report.dryRun {
            out.heading(2, "Not applied")
            out.paragraph(
                report.violations.isEmpty
                    ? "Nothing was changed."
                    : "The safety limits above stopped the run; nothing was changed (`--force` overrides them).")
        }
        return out.text
    }

    /// A row's cells; its files share one cell, one per line.
    private func plannedRowCells(_ row: PlannedRow) -> [String] {
        let files = row.files.map { file in
            var cell = file.fate.title + " " + code(file.path, inTable: true)
            if file.fate != .missing { cell += " (\(humanSize(file.bytes)))" }
            if file.fate == .shared {
                if let reference = file.heldBy {
                    cell +=
                        ", held by " + code("\(reference.table).\(reference.column)", inTable: true) + " key "
                        + code(reference.key, inTable: true)
                } else {
                    cell += ", held by another row"
                }
            }
            return cell
        }
        return [
            code(row.table, inTable: true), code(row.key, inTable: true), text(row.reason),
            row.created.map(ISO8601.string) ?? "", row.owner.map { code($0, inTable: true) } ?? "",
            row.group.map { code($0, inTable: true) } ?? "", row.rowBytes > 0 ? humanSize(row.rowBytes) : "",
            files.joined(separator: "<br>"),
        ]
    }
}
