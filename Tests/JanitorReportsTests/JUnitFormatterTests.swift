import Foundation
import JanitorCore
import JanitorReports
import Testing

#if canImport(FoundationXML)
    import FoundationXML  // XMLParser lives here on Linux, in Foundation on Darwin.
#endif

@Suite("JUnit")
struct JUnitFormatterTests {
    @Test("the scan JUnit report is well-formed XML whose counts match its test cases")
    func wellFormed() throws {
        let xml = ReportFormat.junit.render(Canonical.scan)
        let document = try XMLSummary(xml)
        let report = Canonical.scan
        let failing = report.findings.filter { $0.kind != .tooYoung }.count
        #expect(document.testcases == report.classes.count + report.findings.count)
        #expect(document.failures == failing)
        #expect(document.suiteAttributes["name"] == "media-janitor scan")
        #expect(document.suiteAttributes["tests"] == "\(report.classes.count + report.findings.count)")
        #expect(document.suiteAttributes["failures"] == "\(failing)")
    }

    @Test("names with XML metacharacters survive escaping exactly")
    func escaping() throws {
        let xml = ReportFormat.junit.render(Canonical.scan)
        let document = try XMLSummary(xml)
        #expect(document.testcaseNames.contains("tmp/<upload> & co.part"))
        #expect(document.testcaseNames.contains("profile_pics/say \"cheese\".jpg"))
        #expect(document.testcaseNames.contains("reçus/2026/reçu-été.pdf"))
        #expect(document.testcaseNames.contains(#"tmp/line\nbreak.txt"#))
    }

    @Test("characters XML cannot carry never reach the document")
    func illegalCharacters() throws {
        let report = ScanReport(
            generatedAt: Canonical.generatedAt, mediaRoot: "media\u{1}", summary: ScanSummary(), classes: [],
            directories: [], findings: [Finding(kind: .orphan, path: "a\u{0}\u{1B}\u{FFFE}b", bytes: 1)])
        let xml = ReportFormat.junit.render(report)
        #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(!xml.unicodeScalars.contains { $0 == "\u{FFFE}" })
        let document = try XMLSummary(xml)
        #expect(document.testcases == 1)
    }

    @Test("a check with errors fails one case per error; without diagnostics it is one passing case")
    func check() throws {
        let failing = try XMLSummary(try ReportFormat.junit.render(Canonical.check))
        #expect(failing.testcases == 3)
        #expect(failing.failures == 1)
        let passing = try XMLSummary(try ReportFormat.junit.render(CheckReport(diagnostics: [], facts: [])))
        #expect(passing.testcases == 1)
        #expect(passing.failures == 0)
    }

    @Test("a retention class fails when a safety violation names it, and only then")
    func retentionClassViolation() throws {
        let document = try XMLSummary(ReportFormat.junit.render(Canonical.retention))
        #expect(document.suiteAttributes["name"] == "media-janitor retention")
        #expect(document.testcaseNames == ["chat_media", "committee_chat", "safety", "row actions"])
        #expect(document.failingTestcases == ["chat_media", "row actions"])
        #expect(document.suiteAttributes["failures"] == "2")
    }

    @Test("a violation that names no class fails the safety case; a dry run has no row actions case")
    func retentionReportWideViolation() throws {
        var report = Canonical.retention
        report.dryRun = true
        report.applied = nil
        report.violations = ["1400899 bytes would be removed, more than safety.max_delete_bytes (1000000 bytes)"]
        let document = try XMLSummary(ReportFormat.junit.render(report))
        #expect(document.testcaseNames == ["chat_media", "committee_chat", "safety"])
        #expect(document.failingTestcases == ["safety"])
    }
}

/// What the tests need from a parsed JUnit document.
private final class XMLSummary: NSObject, XMLParserDelegate {
    var testcases = 0
    var failures = 0
    var testcaseNames: [String] = []
    /// The names of the test cases with a `<failure>`, in document order.
    var failingTestcases: [String] = []
    var suiteAttributes: [String: String] = [:]

    init(_ xml: String) throws {
        super.init()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw parser.parserError ?? CocoaError(.propertyListReadCorrupt)
        }
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch element {
        case "testcase":
            testcases += 1
            testcaseNames.append(attributes["name"] ?? "")
        case "failure":
            failures += 1
            failingTestcases.append(testcaseNames.last ?? "")
        case "testsuite": suiteAttributes = attributes
        default: break
        }
    }
}
