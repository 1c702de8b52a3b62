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

    @Test("each class's table of selected rows is cut at top rows with a line saying how many more")
    func retentionTop() {
        let markdown = ReportFormat.markdown.render(Canonical.retention, options: RenderOptions(top: 1))
        #expect(markdown.contains("\n_... and 4 more rows._\n"))
        #expect(markdown.contains("\n_... and 1 more row._\n"))
        #expect(!markdown.contains("meme.gif"))
    }

    @Test("a dry-run retention plan is titled as one")
    func retentionDryRun() {
        var report = Canonical.retention
        report.dryRun = true
        report.applied = nil
        let markdown = ReportFormat.markdown.render(report)
        #expect(markdown.hasPrefix("# Retention plan (dry run)\n"))
        #expect(!markdown.contains("## Applied"))
    }

    private func scan(directories: [DirectoryUsage] = [], findings: [Finding] = []) -> ScanReport {
        ScanReport(
            generatedAt: Canonical.generatedAt, mediaRoot: "media", summary: ScanSummary(), classes: [],
            directories: directories, findings: findings)
    }
}
