import JanitorCore

extension JUnitFormatter {
    /// The retention report, as `<testsuite name="media-janitor retention">` with the property
    /// `dry_run`:
    /// - one `<testcase classname="media-janitor.retention" name="<class>">` per class, failing
    ///   (`<failure type="safety">`) when a safety violation names it (`class '<name>'`), its
    ///   plan and selected rows in `<system-out>` either way;
    /// - one `safety` case, failing on the violations that name no class (the limits over the
    ///   whole run), so that every violation fails exactly one case;
    /// - after a real run, one `row actions` case, failing (`type="row_action"`) on the rows the
    ///   database refused to change.
    public func format(_ report: RetentionReport) -> String {
        let groups = Dictionary(
            RetentionGroup.groups(report, top: .max).map { ($0.className, $0.shown) }, uniquingKeysWith: { $1 })
        let reportWide = report.reportWideViolations
        var cases: [RetentionCase] = report.classes.map { plan in
            let rows = groups[plan.name] ?? []
            return RetentionCase(
                name: plan.name, failureType: "safety",
                failures: report.violations(naming: plan.name),
                output: ([plan.summary] + rows.map(rowLine)).joined(separator: "\n"))
        }
        cases.append(
            RetentionCase(
                name: "safety", failureType: "safety", failures: reportWide,
                output: reportWide.isEmpty ? "no safety limit over the whole run crossed" : nil))
        if let applied = report.applied {
            cases.append(
                RetentionCase(name: "row actions", failureType: "row_action", failures: applied.failures, output: applied.summary))
        }

        var xml = XMLWriter(capacity: 1_024 + 512 * cases.count + 160 * report.rows.count)
        xml.begin(
            suite: "media-janitor retention", tests: cases.count, failures: cases.count(where: { !$0.failures.isEmpty }),
            timestamp: report.generatedAt, properties: [("dry_run", report.dryRun ? "true" : "false")])
        for testCase in cases { xml.testCase(testCase) }
        xml.end()
        return xml.string
    }

    /// `chat_message key 101, max_age (30d): removed chat/a.jpg, shared chat/b.gif (held by
    /// chat_message.attachment key 240)`.
    private func rowLine(_ row: PlannedRow) -> String {
        var line = "\(displayText(row.table)) key \(displayText(row.key)), \(displayText(row.reason))"
        guard !row.files.isEmpty else { return line }
        line += ": "
        line += row.files.map { file in
            var text = file.fate.title + " " + displayText(file.path)
            if file.fate == .shared, let reference = file.heldBy {
                text += " (held by \(displayText(reference.table)).\(displayText(reference.column)) key \(displayText(reference.key)))"
            }
            return text
        }.joined(separator: ", ")
        return line
    }
}

/// One test case of the retention suite: failing when it has failures, each a line of the
/// `<failure>` body.
private struct RetentionCase {
    var name: String
    var failureType: StaticString
    var failures: [String]
    var output: String?
}

extension XMLWriter {
    /// A retention case: `<failure>` when it has failures (the first in `message`, all in the
    /// body), then `<system-out>` when it has output. Names from the config and the database go
    /// through displayText, as in the scan.
    fileprivate mutating func testCase(_ testCase: RetentionCase) {
        raw("    <testcase classname=\"media-janitor.retention\" name=\"")
        attribute(displayText(testCase.name))
        guard !testCase.failures.isEmpty || testCase.output != nil else {
            raw("\"/>\n")
            return
        }
        raw("\">\n")
        if let first = testCase.failures.first {
            raw("      <failure type=\"")
            raw(testCase.failureType)
            raw("\" message=\"")
            let more = testCase.failures.count - 1
            attribute(displayText(first) + (more > 0 ? " (and \(more) more)" : ""))
            raw("\">")
            text(testCase.failures.map(displayText).joined(separator: "\n"))
            raw("</failure>\n")
        }
        if let output = testCase.output {
            raw("      <system-out>")
            text(output)
            raw("</system-out>\n")
        }
        raw("    </testcase>\n")
    }
}
