import JanitorCore
import JanitorReports
import Testing

@Suite("Markdown")
struct MarkdownFormatterTests {
    @Test("a pipe in a path does not split a table cell")
    func pipeInTable() {
        var usage = DirectoryUsage(path: "a|b")
        usage.files = 1
        let markdown = ReportFormat.markdown.render(scan(directories: [usage]))
        #expect(markdown.contains(#"| `a\|b` | 1 | 0 B | 0 | 0 B |"#))
    }

    @Test("a backtick in a path keeps its code span closed")
    func backtickInPath() {
        let markdown = ReportFormat.markdown.render(scan(findings: [Finding(kind: .missing, path: "a`b")]))
        #expect(markdown.contains("- ``a`b``"))
    }

    @Test("Markdown in a reason is shown literally")
    func reasonEscaped() {
        let finding = Finding(kind: .invalid, value: "x", reason: "*not* <b>a</b> [path](http://x)")
        let markdown = ReportFormat.markdown.render(scan(findings: [finding]))
        #expect(markdown.contains(#"- `x` — \*not\* \<b\>a\</b\> \[path\](http://x)"#))
    }

    @Test("a scan without findings says so in bold")
    func noFindings() {
        let markdown = ReportFormat.markdown.render(scan())
        #expect(markdown.contains("\n**No findings.**\n"))
        #expect(!markdown.contains("## Findings"))
    }

    private func scan(directories: [DirectoryUsage] = [], findings: [Finding] = []) -> ScanReport {
        ScanReport(
            generatedAt: Canonical.generatedAt, mediaRoot: "media", summary: ScanSummary(), classes: [],
            directories: directories, findings: findings)
    }
}
