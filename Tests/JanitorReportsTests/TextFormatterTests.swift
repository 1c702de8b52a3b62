import Foundation
import JanitorCore
import JanitorReports
import Testing

@Suite("text")
struct TextFormatterTests {
    @Test("text has no escape sequences unless colour is asked for")
    func colour() {
        let plain = ReportFormat.text.render(Canonical.scan, options: RenderOptions(color: false))
        let colored = ReportFormat.text.render(Canonical.scan, options: RenderOptions(color: true))
        #expect(!plain.contains("\u{1B}"))
        #expect(colored.contains("\u{1B}[1mSummary\u{1B}[0m"))
    }

    @Test("control characters in file names are shown as escapes, never sent to the terminal")
    func controlCharacters() {
        let name = "evil\u{1B}]0;owned\u{7}\u{202E}gpj.exe"
        let report = scan(findings: [Finding(kind: .unclassified, path: name, bytes: 1)])
        for options in [RenderOptions(color: false), RenderOptions(color: true)] {
            let text = ReportFormat.text.render(report, options: options)
            #expect(text.contains(#"evil\u{1B}]0;owned\u{7}\u{202E}gpj.exe"#))
            #expect(!text.contains("\u{7}"))
            #expect(!text.contains("\u{202E}"))
            #expect(!text.contains("\u{1B}]"))
        }
    }

    @Test("each findings kind shows at most top rows, largest first, and says how many more")
    func topFindings() {
        let text = ReportFormat.text.render(Canonical.scan, options: RenderOptions(top: 1))
        #expect(
            text.contains(
                """
                Orphans: 4, 3.6 MiB reclaimable, largest first
                  2.3 MiB  forum_images/old banner.png  forum_images  2026-10-01T08:00:00Z
                  ... and 3 more

                """))
        #expect(text.contains("  ... and 4 more directories\n"))
    }

    @Test("top 0 keeps the counts and lists no rows")
    func topZero() {
        let text = ReportFormat.text.render(Canonical.scan, options: RenderOptions(top: 0))
        #expect(text.contains("Orphans: 4, 3.6 MiB reclaimable, largest first\n  ... and 4 more\n"))
        #expect(!text.contains("profile_pics/a.jpg"))
    }

    @Test("the default shows up to 20 rows per list")
    func defaultTop() {
        let findings = (0..<25).map { Finding(kind: .missing, path: String(format: "m/%02d.jpg", $0)) }
        let text = ReportFormat.text.render(scan(findings: findings))
        #expect(text.contains("m/19.jpg"))
        #expect(!text.contains("m/20.jpg"))
        #expect(text.contains("  ... and 5 more\n"))
    }

    @Test("a scan without findings says so")
    func noFindings() {
        let text = ReportFormat.text.render(scan(findings: []))
        #expect(text.hasSuffix("\nNo findings\n"))
    }

    @Test("check text is the compiler-style lines, the facts and a verdict")
    func checkVerdicts() throws {
        let passing = CheckReport(
            diagnostics: [Diagnostic(.warning, "hooks are not installed", id: "hooks.absent")], facts: [])
        #expect(
            try ReportFormat.text.render(passing)
                == "warning: hooks are not installed [hooks.absent]\n\ncheck passed with 1 warning\n")
        #expect(try ReportFormat.text.render(CheckReport(diagnostics: [], facts: [])) == "check passed\n")
    }

    @Test("an empty history says how to record an audit")
    func emptyHistory() throws {
        let text = try ReportFormat.text.render(HistoryReport(audits: []))
        #expect(text.contains("no audits yet"))
    }

    private func scan(findings: [Finding]) -> ScanReport {
        ScanReport(
            generatedAt: Canonical.generatedAt, mediaRoot: "media", summary: ScanSummary(), classes: [],
            directories: [], findings: findings)
    }
}
