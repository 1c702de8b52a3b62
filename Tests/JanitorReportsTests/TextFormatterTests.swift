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

    @Test("an orphan whose name is shown repaired says so on its line; other orphans carry no reason")
    func repairedName() {
        let report = scan(findings: [
            Finding(kind: .orphan, path: "forum/caf\u{FFFD}.jpg", className: "forum", bytes: 2, reason: Finding.repairedNameReason),
            Finding(kind: .orphan, path: "forum/plain.jpg", className: "forum", bytes: 1),
        ])
        let lines = ReportFormat.text.render(report, options: RenderOptions(color: false)).split(separator: "\n")
        #expect(lines.first { $0.contains("caf\u{FFFD}.jpg") }?.hasSuffix(Finding.repairedNameReason) == true)
        #expect(lines.first { $0.contains("plain.jpg") }?.hasSuffix("forum") == true)
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

    @Test("a dry-run retention plan says it is a dry run and reports nothing applied")
    func retentionDryRun() {
        var report = Canonical.retention
        report.dryRun = true
        report.applied = nil
        let text = ReportFormat.text.render(report)
        #expect(text.hasPrefix("Retention plan (dry run)\n  generated at  2026-11-21T10:00:00Z\n"))
        #expect(!text.contains("Applied"))
        #expect(!text.contains("Not applied"))
    }

    @Test("a real retention run stopped by the safety limits says that nothing was changed")
    func retentionStopped() {
        var report = Canonical.retention
        report.applied = nil
        let text = ReportFormat.text.render(report)
        #expect(text.hasPrefix("Retention\n"))
        #expect(
            text.hasSuffix(
                """
                warning: safety: class 'chat_media': 4 of 1150 files (0.3%) would be removed, more than safety.max_delete_fraction (0.1%)

                Not applied
                  the safety limits above stopped the run; nothing was changed (--force overrides them)

                """))
    }

    @Test("each class shows at most top selected rows with their files, and says how many more")
    func retentionTop() {
        let text = ReportFormat.text.render(Canonical.retention, options: RenderOptions(top: 1))
        #expect(
            text.contains(
                """
                chat_media: 5 selected rows, oldest first
                  chat_message key 101  max_age (30d)  created 2026-08-01T09:30:00Z  owner 7
                    removed   1.0 MiB  chat/2026/08/beach.jpg
                    removed  51.1 KiB  chat/2026/08/beach_thumb.jpg
                  ... and 4 more rows

                """))
        #expect(text.contains("  ... and 1 more row\n"))
        #expect(!text.contains("meme.gif"))
    }

    @Test("a retention plan that selects nothing says so")
    func retentionNothingSelected() {
        let plan = RetentionClassPlan(
            name: "chat_media", rowAction: "delete", rows: 3, files: 3, bytes: 30, selectedRows: 0, freedFiles: 0,
            freedFileBytes: 0, freedRowBytes: 0, keptFiles: 0, byPolicy: [])
        let text = ReportFormat.text.render(
            RetentionReport(generatedAt: Canonical.generatedAt, dryRun: true, classes: [plan], rows: []))
        #expect(text.hasSuffix("\nNo rows selected\n"))
        #expect(!text.contains("Selected by policy"))
    }

    private func scan(findings: [Finding]) -> ScanReport {
        ScanReport(
            generatedAt: Canonical.generatedAt, mediaRoot: "media", summary: ScanSummary(), classes: [],
            directories: [], findings: findings)
    }
}
