import JanitorCore

extension TextFormatter {
    /// The retention report: the plan per class, the rows it selects with the fate of their
    /// files, the safety limits it crosses, and, after a real run, what was done.
    ///
    /// ```
    /// Retention plan (dry run)
    ///   generated at  2026-11-21T10:00:00Z
    ///
    /// By class
    ///   class       row action  rows  files      size  selected  freed files  freed size  kept files
    ///   chat_media  delete      1200   1150  70.0 MiB         5            4     1.3 MiB           1
    ///
    /// chat_media: 5 selected rows, oldest first
    ///   chat_message key 101  max_age (30d)  created 2026-08-01T09:30:00Z  owner 7
    ///     removed  1.0 MiB  chat/2026/08/beach.jpg
    ///   ...
    /// ```
    public func format(_ report: RetentionReport) -> String {
        var out = TextOutput(style: style)
        out.title(report.dryRun ? "Retention plan (dry run)" : "Retention")
        var head = TextTable([.left, .left])
        head.append(["generated at", ISO8601.string(report.generatedAt)])
        out.table(head)

        if report.classes.isEmpty {
            out.section("No class has retention rules")
        } else {
            out.section("By class")
            out.table(retentionClassTable(report.classes))
        }
        var policies = TextTable([.left, .left, .right], header: ["class", "policy", "rows"])
        for plan in report.classes {
            for count in plan.byPolicy {
                policies.append([displayText(plan.name), displayText(count.policy), "\(count.rows)"])
            }
        }
        if !policies.rows.isEmpty {
            out.section("Selected by policy")
            out.table(policies)
        }

        let groups = RetentionGroup.groups(report, top: options.top)
        if groups.isEmpty && !report.classes.isEmpty {
            out.section("No rows selected")
        }
        for group in groups {
            out.section("\(displayText(group.className)): \(counted(group.count, "selected row")), oldest first")
            plannedRows(group.shown, into: &out)
            out.more(group.hidden, "row")
        }

        if !report.violations.isEmpty { out.line("") }
        for violation in report.violations {
            out.line(style.yellow("warning:") + " safety: " + displayText(violation))
        }

        if let applied = report.applied {
            out.section("Applied")
            out.line("  " + applied.summary)
            for failure in applied.failures {
                out.line("  " + style.red("failed:") + " " + displayText(failure))
            }
        } else if !report.dryRun {
            out.section("Not applied")
            out.line(
                report.violations.isEmpty
                    ? "  nothing was changed"
                    : "  the safety limits above stopped the run; nothing was changed (--force overrides them)")
        }
        return out.text
    }

    private func retentionClassTable(_ classes: [RetentionClassPlan]) -> TextTable {
        var table = TextTable(
            [.left, .left, .right, .right, .right, .right, .right, .right, .right],
            header: [
                "class", "row action", "rows", "files", "size", "selected", "freed files", "freed size", "kept files",
            ])
        for plan in classes {
            table.append([
                displayText(plan.name), displayText(plan.rowAction), "\(plan.rows)", "\(plan.files)",
                humanSize(plan.bytes), "\(plan.selectedRows)", "\(plan.freedFiles)", humanSize(plan.freedBytes),
                "\(plan.keptFiles)",
            ])
        }
        return table
    }

    /// One line per row, its files indented below it; rows and files each align across the list.
    private func plannedRows(_ rows: [PlannedRow], into out: inout TextOutput) {
        var rowTable = TextTable([.left, .left, .left, .left])
        var fileTable = TextTable([.left, .right, .left, .left])
        for row in rows {
            var details: [String] = []
            if let owner = row.owner { details.append("owner " + displayText(owner)) }
            if let group = row.group { details.append("group " + displayText(group)) }
            if row.rowBytes > 0 { details.append("row size " + humanSize(row.rowBytes)) }
            rowTable.append([
                "\(displayText(row.table)) key \(displayText(row.key))", displayText(row.reason),
                row.created.map { "created " + ISO8601.string($0) } ?? "", details.joined(separator: ", "),
            ])
            for file in row.files {
                fileTable.append([
                    file.fate.title, file.fate == .missing ? "-" : humanSize(file.bytes), displayText(file.path),
                    heldBy(file),
                ])
            }
        }
        var fileLines = fileTable.lines(indent: 4, style: style)[...]
        for (row, line) in zip(rows, rowTable.lines(style: style)) {
            out.line(line)
            for fileLine in fileLines.prefix(row.files.count) { out.line(fileLine) }
            fileLines = fileLines.dropFirst(row.files.count)
        }
    }

    /// `held by chat_message.attachment key 240` for a shared file, empty otherwise.
    private func heldBy(_ file: PlannedFile) -> String {
        guard file.fate == .shared else { return "" }
        guard let reference = file.heldBy else { return "held by another row" }
        return "held by \(displayText(reference.table)).\(displayText(reference.column)) key \(displayText(reference.key))"
    }
}
