import Foundation
import JanitorCore
import JanitorReports
import Testing

/// The canonical reports through every format they support, against `Expected/<report>.<ext>`.
@Suite("golden files")
struct GoldenFileTests {
    @Test("the scan report renders in every format as its golden file", arguments: ReportFormat.allCases)
    func scan(format: ReportFormat) throws {
        let actual = format.render(Canonical.scan, options: Canonical.options)
        try compare(actual, with: "report", format: format)
    }

    @Test("the usage report renders as its golden files", arguments: ReportKind.usage.supportedFormats)
    func usage(format: ReportFormat) throws {
        let actual = try format.render(Canonical.usage, options: Canonical.options)
        try compare(actual, with: "usage", format: format)
    }

    @Test("the history report renders as its golden files", arguments: ReportKind.history.supportedFormats)
    func history(format: ReportFormat) throws {
        let actual = try format.render(Canonical.history, options: Canonical.options)
        try compare(actual, with: "history", format: format)
    }

    @Test("the check report renders as its golden files", arguments: ReportKind.check.supportedFormats)
    func check(format: ReportFormat) throws {
        let actual = try format.render(Canonical.check, options: Canonical.options)
        try compare(actual, with: "check", format: format)
    }

    @Test("the retention report renders in every format as its golden file", arguments: ReportFormat.allCases)
    func retention(format: ReportFormat) throws {
        let actual = format.render(Canonical.retention, options: Canonical.options)
        try compare(actual, with: "retention", format: format)
    }

    /// JSON and NDJSON compare structurally (a layout change is not a content change); the
    /// other formats compare as whole text.
    private func compare(_ actual: String, with name: String, format: ReportFormat) throws {
        let expected = try GoldenFile.expected("\(name).\(format.fileExtension)", actual: actual)
        switch format {
        case .json:
            #expect(actual.hasPrefix("{\"schema\": 1,"))
            #expect(try canonicalJSON(actual) == canonicalJSON(expected))
        case .ndjson:
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(actual.hasSuffix("\n"))
            #expect(actualLines.count == expectedLines.count)
            for (actualLine, expectedLine) in zip(actualLines, expectedLines) where !actualLine.isEmpty {
                #expect(try canonicalJSON(actualLine) == canonicalJSON(expectedLine))
            }
        case .text, .markdown, .junit:
            #expect(actual == expected)
        }
    }
}
