import JanitorCore
import JanitorReports
import Testing

@Suite("report formats")
struct ReportFormatTests {
    @Test("the formats are the --format names")
    func names() {
        #expect(ReportFormat.allCases.map(\.rawValue) == ["text", "json", "ndjson", "markdown", "junit"])
        #expect(ReportFormat(rawValue: "junit") == .junit)
    }

    @Test("usage and history cannot be written as JUnit, and the error names the formats that work")
    func unsupported() {
        #expect(throws: ReportError.unsupportedFormat(.junit, report: .usage)) {
            try ReportFormat.junit.render(Canonical.usage)
        }
        #expect(throws: ReportError.unsupportedFormat(.junit, report: .history)) {
            try ReportFormat.junit.render(Canonical.history)
        }
        #expect(
            ReportError.unsupportedFormat(.junit, report: .usage).description
                == "the usage report cannot be written as junit; use --format text, json, ndjson or markdown")
    }

    @Test("a format renders a report exactly when it says it supports it", arguments: ReportFormat.allCases)
    func supportMatchesRendering(format: ReportFormat) {
        #expect(format.supports(.scan))
        #expect(format.supports(.retention))
        #expect(!format.render(Canonical.retention).isEmpty)
        #expect(throws: Never.self) { try format.render(Canonical.check) }
        let renderedUsage = (try? format.render(Canonical.usage)) != nil
        let renderedHistory = (try? format.render(Canonical.history)) != nil
        #expect(renderedUsage == format.supports(.usage))
        #expect(renderedHistory == format.supports(.history))
    }

    @Test("every report kind lists the formats it supports")
    func supportedFormats() {
        #expect(ReportKind.scan.supportedFormats == ReportFormat.allCases)
        #expect(ReportKind.check.supportedFormats == ReportFormat.allCases)
        #expect(ReportKind.retention.supportedFormats == ReportFormat.allCases)
        #expect(ReportKind.usage.supportedFormats == [.text, .json, .ndjson, .markdown])
        #expect(ReportKind.history.supportedFormats == [.text, .json, .ndjson, .markdown])
    }
}
