import Foundation
import GRDB
import Testing

@Suite("retention")
struct RetentionCommandTests {
    @Test("a row removed by retention frees its file and the same run's queue removes it; a file another row still holds survives", arguments: AppBackend.allCases)
    func interactionOrder(backend: AppBackend) throws {
        let app = try ChatApp(backend: backend)
        try app.plantChat()
        let report = try json(try app.ok(["retention", "--class", "chat_media", "--format", "json"]))
        // Owner 7 (2h) and the fallbacks of owner 8 (no profile row) expire; owner 9 (NULL) and 10 (48h) keep theirs.
        #expect(try app.keys("chat_message") == [3, 4])
        #expect(!app.exists("chat_media/images/a.jpg"))
        #expect(!app.exists("chat_media/images/d.jpg"))
        #expect(!app.exists("chat_media/videos/e.mp4"))
        #expect(app.exists("chat_media/images/b.jpg"), "held by forum_post 1")
        #expect(app.exists("chat_media/images/c.jpg") && app.exists("chat_media/images/z.jpg"))
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["key"] as? String } == ["2", "5", "1"])
        #expect(rows.map { $0["policy"] as? String } == ["max_age", "max_age", "max_age_per_owner"])
        let shared = try #require((rows[0]["files"] as? [[String: Any]])?.first)
        #expect(shared["fate"] as? String == "shared")
        #expect((shared["held_by"] as? [String: Any])?["table"] as? String == "forum_post")
        #expect((rows[1]["files"] as? [[String: Any]])?.map { $0["fate"] as? String } == ["removed", "removed"])
        let applied = try #require(report["applied"] as? [String: Any])
        #expect(applied["rows_changed"] as? Int == 3)
        #expect(applied["files_removed"] as? Int == 3)
        #expect(applied["bytes_removed"] as? Int == 1200)
        let classPlan = try #require((report["classes"] as? [[String: Any]])?.first)
        #expect(classPlan["freed_files"] as? Int == 3)
        #expect(classPlan["kept_files"] as? Int == 1)
        // Every removal is recorded, restorable from the quarantine.
        let removals = try json(try app.ok(["quarantine", "list", "--format", "json"]))["removals"] as? [[String: Any]]
        #expect(Set(removals?.compactMap { $0["path"] as? String } ?? []) == ["chat_media/images/a.jpg", "chat_media/images/d.jpg", "chat_media/videos/e.mp4"])
        #expect(removals?.allSatisfy { ($0["reason"] as? String)?.hasPrefix("retention: max_age") == true } == true)
        // A second run finds nothing more.
        let again = try json(try app.ok(["retention", "--class", "chat_media", "--format", "json"]))
        #expect((again["rows"] as? [Any])?.isEmpty == true)
    }

    @Test("--dry-run prints the plan in every format and changes nothing", arguments: AppBackend.allCases)
    func dryRun(backend: AppBackend) throws {
        let app = try ChatApp(backend: backend)
        try app.plantChat()
        for format in ["text", "json", "ndjson", "markdown", "junit"] {
            let out = try app.ok(["retention", "--dry-run", "--format", format])
            #expect(out.contains("chat_media"), "\(format): \(out)")
        }
        let text = try app.ok(["retention", "--dry-run"])
        #expect(text.contains("max_age_per_owner"))
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
        #expect(app.exists("chat_media/images/a.jpg"))
        let plan = try json(try app.ok(["retention", "--dry-run", "--format", "json"]))
        #expect(plan["dry_run"] as? Bool == true)
        #expect(plan["applied"] is NSNull)
    }

    @Test("a run above the safety limits changes nothing and exits 4; --force goes ahead", arguments: AppBackend.allCases)
    func safetyLimits(backend: AppBackend) throws {
        let app = try ChatApp(safety: "{max_delete_fraction: 0.25}", backend: backend)
        try app.plantChat()
        let stopped = try app.run(["retention", "--class", "chat_media"])
        #expect(stopped.status == 4)
        #expect(stopped.stderr.contains("3 of 5 rows (60%) would be changed, more than safety.max_delete_fraction (25%)"), "\(stopped.stderr)")
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
        #expect(app.exists("chat_media/images/a.jpg"))
        try app.ok(["retention", "--class", "chat_media", "--force"])
        #expect(try app.keys("chat_message") == [3, 4])
    }

    @Test("QR codes: 7 days, then the latest per user; the image column is set NULL and the rows stay", arguments: AppBackend.allCases)
    func qrCodes(backend: AppBackend) throws {
        let app = try ChatApp(backend: backend)
        for id in 1...4 { app.file("qr_codes/\(id).png") }
        try app.sql("""
            INSERT INTO core_attendanceqr VALUES
              (1, 1, '\(app.hoursAgo(24 * 10))', 'qr_codes/1.png'),
              (2, 1, '\(app.hoursAgo(48))', 'qr_codes/2.png'),
              (3, 1, '\(app.hoursAgo(1))', 'qr_codes/3.png'),
              (4, 2, '\(app.hoursAgo(48))', 'qr_codes/4.png');
            """)
        let report = try json(try app.ok(["retention", "--class", "qr_codes", "--format", "json"]))
        #expect((report["rows"] as? [[String: Any]])?.map { "\($0["key"]!) \($0["policy"]!)" } == ["1 max_age", "2 keep_latest_per_owner"])
        #expect(try app.keys("core_attendanceqr") == [1, 2, 3, 4])
        #expect(try app.keys("core_attendanceqr", "image IS NULL") == [1, 2])
        #expect(!app.exists("qr_codes/1.png") && !app.exists("qr_codes/2.png"))
        #expect(app.exists("qr_codes/3.png") && app.exists("qr_codes/4.png"))
        // Rows set NULL are done: the next run selects nothing, and a scan reports no missing file.
        let again = try json(try app.ok(["retention", "--class", "qr_codes", "--format", "json"]))
        #expect((again["rows"] as? [Any])?.isEmpty == true)
        let scan = try json(try app.ok(["scan", "--class", "qr_codes", "--format", "json"]))
        #expect((scan["summary"] as? [String: Any])?["missing"] as? Int == 0)
    }

    @Test("committee chat, rows only: 90 days, 1000 per committee, 50MB down to 80%", arguments: AppBackend.allCases)
    func committeeChat(backend: AppBackend) throws {
        let app = try ChatApp(backend: backend)
        // Committee 1: 1002 recent messages (2 over the cap); committee 2: one 100-day-old message
        // and exactly 1000 recent ones (at its cap).
        var messages = (1...1002).map { "(\($0), 1, '\(app.hoursAgo(Double(2000 - $0) / 10))', 'hello')" }
        messages.append("(2000, 2, '\(app.hoursAgo(24 * 100))', 'hello')")
        messages += (2001...3000).map { "(\($0), 2, '\(app.hoursAgo(Double(3000 - $0) / 10))', 'hello')" }
        try app.sql("INSERT INTO src_chatmessage (id, committee_id, created_at, message) VALUES \(messages.joined(separator: ", "))")
        let report = try json(try app.ok(["retention", "--class", "committee_chat", "--format", "json"]))
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["key"] as? String } == ["2000", "1", "2"])
        #expect(rows.map { $0["policy"] as? String } == ["max_age", "max_count_per_group", "max_count_per_group"])
        #expect(rows.allSatisfy { ($0["files"] as? [Any])?.isEmpty == true })
        #expect(try app.keys("src_chatmessage").count == 2000)
        #expect(try app.keys("src_chatmessage", "committee_id = 1").first == 3)
    }

    @Test("soft_delete marks the rows; their files stay, since the rows still hold them", arguments: AppBackend.allCases)
    func softDelete(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "soft_delete:deleted_at", backend: backend)
        try app.plantChat()
        let report = try json(try app.ok(["retention", "--class", "chat_media", "--format", "json"]))
        #expect(try app.keys("chat_message", "deleted_at IS NOT NULL") == [1, 2, 5])
        #expect(try app.keys("chat_message").count == 5)
        #expect(app.exists("chat_media/images/a.jpg") && app.exists("chat_media/videos/e.mp4"))
        let fates = (report["rows"] as? [[String: Any]])?.flatMap { ($0["files"] as? [[String: Any]] ?? []).map { $0["fate"] as? String } }
        #expect(fates?.allSatisfy { $0 == "row_kept" } == true)
        let again = try json(try app.ok(["retention", "--class", "chat_media", "--format", "json"]))
        #expect((again["rows"] as? [Any])?.isEmpty == true)
    }

    @Test("row_action none only reports: rows and files stay", arguments: AppBackend.allCases)
    func noneReports(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "none", backend: backend)
        try app.plantChat()
        let report = try json(try app.ok(["retention", "--class", "chat_media", "--format", "json"]))
        #expect((report["rows"] as? [Any])?.count == 3)
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
        #expect(app.exists("chat_media/images/a.jpg"))
        #expect((report["applied"] as? [String: Any])?["rows_changed"] as? Int == 0)
    }

    @Test("a row the app's foreign keys protect is refused and listed (exit 3); the other rows are applied", arguments: AppBackend.allCases)
    func foreignKeyRefusal(backend: AppBackend) throws {
        let app = try ChatApp(backend: backend)
        try app.plantChat()
        try app.sql("""
            CREATE TABLE chat_reaction (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL REFERENCES chat_message(id));
            INSERT INTO chat_reaction VALUES (1, 5);
            """)
        let outcome = try app.run(["retention", "--class", "chat_media", "--format", "json"])
        #expect(outcome.status == 3)
        #expect(outcome.stderr.contains("chat_message key 5"), "\(outcome.stderr)")
        // Each database's own words: SQLite's "FOREIGN KEY constraint failed", PostgreSQL's
        // "violates foreign key constraint".
        #expect(outcome.stderr.lowercased().contains("foreign key constraint"), "\(outcome.stderr)")
        #expect(try app.keys("chat_message") == [3, 4, 5])
        #expect(app.exists("chat_media/images/d.jpg") && app.exists("chat_media/videos/e.mp4"))
        #expect(!app.exists("chat_media/images/a.jpg"))
    }

    @Test("an unknown class, or one without retention rules, is a usage error", arguments: AppBackend.allCases)
    func usageErrors(backend: AppBackend) throws {
        let app = try ChatApp(backend: backend)
        let unknown = try app.run(["retention", "--class", "qr_code"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean 'qr_codes'?"))
        let plain = try app.run(["retention", "--class", "forum_images"])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("no selected class has 'retention' rules"), "\(plain.stderr)")
    }
}
