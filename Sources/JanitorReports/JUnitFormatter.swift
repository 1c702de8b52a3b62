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
/// one case per diagnostic (errors fail), or one passing case when there are none.
///
/// Text is escaped for XML, and characters XML 1.0 cannot carry at all (most control
/// characters) are written as visible escapes like `\u{1B}`.
public struct JUnitFormatter: Sendable {
    /// Creates the formatter.
    public init() {}

    /// The scan report.
    public func format(_ report: ScanReport) -> String {
        var cases: [TestCase] = []
        cases.reserveCapacity(report.classes.count + report.findings.count)
        for usage in report.classes {
            cases.append(
                TestCase(
                    classname: "media-janitor.class", name: usage.name,
                    output: "\(counted(usage.files, "file")), \(humanSize(usage.bytes)); "
                        + "\(counted(usage.orphans, "orphan")) (\(humanSize(usage.orphanBytes))); "
                        + "\(usage.missing) missing"))
        }
        for finding in report.findings {
            cases.append(testCase(finding))
        }
        return document(
            suite: "media-janitor scan", timestamp: report.generatedAt,
            properties: [("media_root", report.mediaRoot)], cases: cases)
    }

    /// The check report.
    public func format(_ report: CheckReport) -> String {
        var cases = report.diagnostics.map { diagnostic in
            var name = diagnostic.id
            if let location = diagnostic.location {
                name += " at \(location.file):\(location.line):\(location.column)"
            }
            return TestCase(
                classname: "media-janitor.check", name: name,
                failure: diagnostic.severity == .error
                    ? Failure(type: diagnostic.id, message: diagnostic.message, body: diagnostic.description) : nil,
                output: diagnostic.severity == .error ? nil : diagnostic.description)
        }
        if cases.isEmpty {
            cases.append(TestCase(classname: "media-janitor.check", name: "check", output: "no diagnostics"))
        }
        return document(
            suite: "media-janitor check", timestamp: nil,
            properties: report.facts.enumerated().map { ("fact.\($0.offset + 1)", $0.element) }, cases: cases)
    }

    // MARK: Findings

    private func testCase(_ finding: Finding) -> TestCase {
        // Names from disk and the database go through displayText: a line break in a file name
        // would otherwise split a test name in the CI interface. The JSON report keeps them exact.
        var details: [String] = []
        if let path = finding.path { details.append("path: \(displayText(path))") }
        if let value = finding.value { details.append("value: \(displayText(value))") }
        if let className = finding.className { details.append("class: \(displayText(className))") }
        if let bytes = finding.bytes { details.append("bytes: \(bytes) (\(humanSize(bytes)))") }
        if let mtime = finding.mtime { details.append("mtime: \(ISO8601.string(mtime))") }
        if let reason = finding.reason { details.append("reason: \(displayText(reason))") }
        for reference in finding.referencedBy {
            details.append(
                "referenced by: \(displayText(reference.table)).\(displayText(reference.column))"
                    + " key \(displayText(reference.key))")
        }
        let body = details.joined(separator: "\n")
        let classname = "media-janitor.\(finding.kind.rawValue)"
        let name = displayText(finding.subject)
        guard finding.kind != .tooYoung else {
            return TestCase(classname: classname, name: name, output: body)
        }
        return TestCase(
            classname: classname, name: name,
            failure: Failure(type: finding.kind.rawValue, message: message(finding), body: body))
    }

    /// One sentence a CI summary shows next to the path.
    private func message(_ finding: Finding) -> String {
        switch finding.kind {
        case .orphan:
            let size = finding.bytes.map { ", \(humanSize($0))" } ?? ""
            return "orphan: no row references this file\(size)"
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

    // MARK: Document

    private struct Failure {
        var type: String
        var message: String
        var body: String
    }

    private struct TestCase {
        var classname: String
        var name: String
        var failure: Failure? = nil
        var output: String? = nil
    }

    private func document(
        suite: String, timestamp: Date?, properties: [(String, String)], cases: [TestCase]
    ) -> String {
        let failures = cases.count(where: { $0.failure != nil })
        var xml = ""
        xml.reserveCapacity(512 + 300 * cases.count)
        xml += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"media-janitor\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\">\n"
        xml += "  <testsuite name=\"\(suite)\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\""
        if let timestamp {
            // The JUnit schema's timestamp has no zone designator; it is UTC.
            xml += " timestamp=\"\(ISO8601.string(timestamp).dropLast())\""
        }
        xml += ">\n"
        if !properties.isEmpty {
            xml += "    <properties>\n"
            for (name, value) in properties {
                xml += "      <property name=\""
                xml.appendXMLEscaped(name, attribute: true)
                xml += "\" value=\""
                xml.appendXMLEscaped(value, attribute: true)
                xml += "\"/>\n"
            }
            xml += "    </properties>\n"
        }
        for testCase in cases {
            xml += "    <testcase classname=\""
            xml.appendXMLEscaped(testCase.classname, attribute: true)
            xml += "\" name=\""
            xml.appendXMLEscaped(testCase.name, attribute: true)
            guard testCase.failure != nil || testCase.output != nil else {
                xml += "\"/>\n"
                continue
            }
            xml += "\">\n"
            if let failure = testCase.failure {
                xml += "      <failure type=\""
                xml.appendXMLEscaped(failure.type, attribute: true)
                xml += "\" message=\""
                xml.appendXMLEscaped(failure.message, attribute: true)
                xml += "\">"
                xml.appendXMLEscaped(failure.body, attribute: false)
                xml += "</failure>\n"
            }
            if let output = testCase.output {
                xml += "      <system-out>"
                xml.appendXMLEscaped(output, attribute: false)
                xml += "</system-out>\n"
            }
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n"
        xml += "</testsuites>\n"
        return xml
    }
}

extension String {
    /// Appends `text` escaped for XML 1.0 character data or a double-quoted attribute.
    ///
    /// `&`, `<` and `>` become entities, and `"` too in attributes (always double-quoted); in
    /// attributes, tab, line feed and carriage return become character references so attribute
    /// normalisation keeps them. Characters XML 1.0 forbids even as references (other C0
    /// controls, U+FFFE, U+FFFF) become `\u{XX}`.
    mutating func appendXMLEscaped(_ text: String, attribute: Bool) {
        // U+FFFE and U+FFFF start with byte 0xEF in UTF-8; the slow path sorts out the rest.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0xEF })
        else {
            append(text)
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": append("&amp;")
            case "<": append("&lt;")
            case ">": append("&gt;")
            case "\"":
                if attribute {
                    append("&quot;")
                } else {
                    unicodeScalars.append(scalar)
                }
            case "\t", "\n", "\r":
                if attribute {
                    append("&#\(scalar.value);")
                } else {
                    unicodeScalars.append(scalar)
                }
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}":
                append("\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}")
            default:
                unicodeScalars.append(scalar)
            }
        }
    }
}
