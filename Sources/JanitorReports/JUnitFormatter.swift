import Foundation
import JanitorCore

/// JUnit XML for CI test reports (GitHub, GitLab, Jenkins, Azure DevOps, CircleCI).
///
/// A scan is one `<testsuite name="media-janitor scan">` inside `<testsuites>`:
/// - one passing `<testcase classname="media-janitor.class" name="<class>">` per class,
///   its totals in `<system-out>`;
/// - one `<testcase classname="media-janitor.<kind>" name="<path or value>">` per finding,
///   failing (`<failure type="<kind>" message=...>`) for `orphan`, `missing`, `unclassified`
///   and `invalid`, passing with `<system-out>` for `too_young`.
///
/// Whether CI should fail the job is the exit code's business (`--fail-on`); this report marks
/// every finding that could fail it. A check is `<testsuite name="media-janitor check">` with
/// one case per diagnostic (errors fail), or one passing case when there are none. Retention
/// is `<testsuite name="media-janitor retention">` with one case per class (see
/// `format(_: RetentionReport)`).
///
/// Text is escaped for XML by ``XMLWriter``, and characters XML 1.0 cannot carry at all (most
/// control characters) are written as visible escapes like `\u{1B}`.
public struct JUnitFormatter: Sendable {
    /// Creates the formatter.
    public init() {}

    /// The scan report.
    public func format(_ report: ScanReport) -> String {
        let tests = report.classes.count + report.findings.count
        let failures = report.findings.count(where: { $0.kind != .tooYoung })
        var xml = XMLWriter(capacity: 1_024 + 256 * report.classes.count + 320 * report.findings.count)
        xml.begin(
            suite: "media-janitor scan", tests: tests, failures: failures, timestamp: report.generatedAt,
            properties: [("media_root", report.mediaRoot)] + (report.shard.map { [("shard", $0.description)] } ?? []))
        for usage in report.classes {
            xml.testCase(
                classname: "media-janitor.class", name: usage.name, failure: nil,
                output: "\(counted(usage.files, "file")), \(humanSize(usage.bytes)); "
                    + "\(counted(usage.orphans, "orphan")) (\(humanSize(usage.orphanBytes))); "
                    + "\(usage.missing) missing")
        }
        for finding in report.findings {
            xml.testCase(finding)
        }
        xml.end()
        return xml.string
    }

    /// The check report.
    public func format(_ report: CheckReport) -> String {
        let failures = report.diagnostics.count(where: { $0.severity == .error })
        var xml = XMLWriter(capacity: 1_024 + 512 * report.diagnostics.count)
        xml.begin(
            suite: "media-janitor check", tests: max(1, report.diagnostics.count), failures: failures, timestamp: nil,
            properties: report.facts.enumerated().map { ("fact.\($0.offset + 1)", $0.element) })
        for diagnostic in report.diagnostics {
            var name = diagnostic.id
            if let location = diagnostic.location {
                name += " at \(location.file):\(location.line):\(location.column)"
            }
            let isError = diagnostic.severity == .error
            xml.testCase(
                classname: "media-janitor.check", name: name,
                failure: isError ? (type: diagnostic.id, message: diagnostic.message) : nil,
                output: diagnostic.description)
        }
        if report.diagnostics.isEmpty {
            xml.testCase(classname: "media-janitor.check", name: "check", failure: nil, output: "no diagnostics")
        }
        xml.end()
        return xml.string
    }
}

extension XMLWriter {
    /// The XML declaration, `<testsuites>`, `<testsuite>` and its properties.
    mutating func begin(
        suite: StaticString, tests: Int, failures: Int, timestamp: Date?, properties: [(String, String)]
    ) {
        raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        raw("<testsuites name=\"media-janitor\" tests=\"")
        decimal(tests)
        raw("\" failures=\"")
        decimal(failures)
        raw("\" errors=\"0\">\n")
        raw("  <testsuite name=\"")
        raw(suite)
        raw("\" tests=\"")
        decimal(tests)
        raw("\" failures=\"")
        decimal(failures)
        raw("\" errors=\"0\" skipped=\"0\"")
        if let timestamp {
            // The JUnit schema's timestamp has no zone designator; it is UTC.
            raw(" timestamp=\"")
            attribute(String(ISO8601.string(timestamp).dropLast()))
            raw("\"")
        }
        raw(">\n")
        guard !properties.isEmpty else { return }
        raw("    <properties>\n")
        for (name, value) in properties {
            raw("      <property name=\"")
            attribute(name)
            raw("\" value=\"")
            attribute(value)
            raw("\"/>\n")
        }
        raw("    </properties>\n")
    }

    /// Closes `<testsuite>` and `<testsuites>`.
    mutating func end() {
        raw("  </testsuite>\n")
        raw("</testsuites>\n")
    }

    /// One `<testcase>`, failing when `failure` is given; `output` is the failure's body when it
    /// fails, `<system-out>` when it passes.
    fileprivate mutating func testCase(
        classname: String, name: String, failure: (type: String, message: String)?, output: String?
    ) {
        raw("    <testcase classname=\"")
        attribute(classname)
        raw("\" name=\"")
        attribute(name)
        guard failure != nil || output != nil else {
            raw("\"/>\n")
            return
        }
        raw("\">\n")
        if let failure {
            raw("      <failure type=\"")
            attribute(failure.type)
            raw("\" message=\"")
            attribute(failure.message)
            raw("\">")
            if let output { text(output) }
            raw("</failure>\n")
        } else if let output {
            raw("      <system-out>")
            text(output)
            raw("</system-out>\n")
        }
        raw("    </testcase>\n")
    }

    /// The test case of a finding. Names from disk and the database go through displayText: a
    /// line break in a file name would otherwise split a test name in the CI interface. The JSON
    /// report keeps them exact.
    fileprivate mutating func testCase(_ finding: Finding) {
        raw("    <testcase classname=\"media-janitor.")
        raw(finding.kind.staticName)
        raw("\" name=\"")
        attribute(displayText(finding.subject))
        raw("\">\n")
        if finding.kind == .tooYoung {
            raw("      <system-out>")
        } else {
            raw("      <failure type=\"")
            raw(finding.kind.staticName)
            raw("\" message=\"")
            attribute(Self.message(finding))
            raw("\">")
        }
        var firstLine = true
        func line(_ label: StaticString, _ value: String) {
            if !firstLine { raw("\n") }
            firstLine = false
            raw(label)
            text(value)
        }
        if let path = finding.path { line("path: ", displayText(path)) }
        if let value = finding.value { line("value: ", displayText(value)) }
        if let className = finding.className { line("class: ", displayText(className)) }
        if let bytes = finding.bytes { line("bytes: ", "\(bytes) (\(humanSize(bytes)))") }
        if let mtime = finding.mtime { line("mtime: ", ISO8601.string(mtime)) }
        if let reason = finding.reason { line("reason: ", displayText(reason)) }
        for reference in finding.referencedBy {
            line(
                "referenced by: ",
                "\(displayText(reference.table)).\(displayText(reference.column)) key \(displayText(reference.key))")
        }
        raw(finding.kind == .tooYoung ? "</system-out>\n" : "</failure>\n")
        raw("    </testcase>\n")
    }

    /// One sentence a CI summary shows next to the path.
    private static func message(_ finding: Finding) -> String {
        switch finding.kind {
        case .orphan:
            return "orphan: no row references this file" + (finding.bytes.map { ", \(humanSize($0))" } ?? "")
        case .missing:
            return "missing: referenced by \(counted(finding.referencedBy.count, "row")) but absent from disk"
        case .unclassified:
            return "unclassified: no class claims this file" + (finding.reason.map { " (\(displayText($0)))" } ?? "")
        case .invalid:
            return "invalid: " + (finding.reason.map(displayText) ?? "not a media path")
        case .tooYoung:
            return "too young: unreferenced but inside its grace period"
        }
    }
}

extension FindingKind {
    /// The raw value as a static string, for writing without a copy.
    fileprivate var staticName: StaticString {
        switch self {
        case .orphan: "orphan"
        case .missing: "missing"
        case .unclassified: "unclassified"
        case .invalid: "invalid"
        case .tooYoung: "too_young"
        }
    }
}
