import Foundation
import GRDB
import Testing

@Suite("retention: archive, crashes, ties and size caps")
struct RetentionArchiveTests {
    @Test("archive saves each row before deleting it; archive list shows it; restore by id, --class and --all puts it back", arguments: AppBackend.allCases)
    func archiveAndRestore(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        let before = try app.db.values("SELECT * FROM chat_message WHERE id IN (1, 2, 5) ORDER BY id")
        try app.ok(["retention", "--class", "chat_media"])
        #expect(try app.keys("chat_message") == [3, 4])
        let listed = try json(try app.ok(["archive", "list", "--format", "json"]))["archived_rows"] as? [[String: Any]]
        #expect(listed?.map { $0["key"] as? String } == ["2", "5", "1"])
        let five = try #require(listed?.first { $0["key"] as? String == "5" })
        let columns = try #require(five["columns"] as? [[String: Any]])
        #expect(columns.first { $0["name"] as? String == "video" }?["value"] as? String == "chat_media/videos/e.mp4")
        #expect(columns.first { $0["name"] as? String == "deleted_at" }?["type"] as? String == "null")
        #expect(try app.ok(["archive", "list"]).contains("chat_message key 5"))

        let id = try #require(five["id"] as? Int)
        let restored = try app.ok(["archive", "restore", "\(id)"])
        #expect(restored.contains("restored \(id): chat_message key 5"))
        #expect(restored.contains("chat_media/videos/e.mp4"), "names the files to bring back from the quarantine")
        #expect(try app.keys("chat_message") == [3, 4, 5])
        try app.ok(["archive", "restore", "--class", "chat_media"])
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
        let after = try app.db.values("SELECT * FROM chat_message WHERE id IN (1, 2, 5) ORDER BY id")
        #expect(after == before)
        #expect(try app.ok(["archive", "list"]) == "no archived rows\n")
        #expect(try app.run(["archive", "restore", "--all"]).status == 2, "nothing left to restore")
        #expect((try json(try app.ok(["archive", "list", "--all", "--format", "json"]))["archived_rows"] as? [Any])?.count == 3)
    }

    @Test("archive restore never overwrites a different row that took the key", arguments: AppBackend.allCases)
    func restoreConflict(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        try app.ok(["retention", "--class", "chat_media"])
        try app.sql("INSERT INTO chat_message (id, sender_id, image) VALUES (1, 99, 'chat_media/images/new.jpg')")
        let outcome = try app.run(["archive", "restore", "--all"])
        #expect(outcome.status == 3)
        #expect(outcome.stderr.contains("already has a different row with id = 1"), "\(outcome.stderr)")
        #expect(try app.db.value("SELECT sender_id FROM chat_message WHERE id = 1") == "99")
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5], "the other rows are restored")
        #expect(try app.ok(["archive", "list"]).contains("chat_message key 1"))
    }

    @Test("bad archive restore arguments are usage errors", arguments: AppBackend.allCases)
    func restoreUsage(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        #expect(try app.run(["archive", "restore"]).stderr.contains("give exactly one of: an id, --class NAME, --all"))
        #expect(try app.run(["archive", "restore", "1", "--all"]).status == 2)
        #expect(try app.run(["archive", "restore", "--class", "chat_medai"]).stderr.contains("did you mean 'chat_media'?"))
    }

    @Test("a crash after the journal and before the row change: rows stay, no file goes, the archive is dropped", arguments: AppBackend.allCases)
    func crashBeforeRowChange(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        let crashed = try app.run(["retention", "--class", "chat_media"], environment: ["MEDIA_JANITOR_CRASH_AT": "retention-recorded:1"])
        #expect(crashed.signaled)
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
        try app.ok(["queue", "run"])
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
        #expect(app.exists("chat_media/images/a.jpg") && app.exists("chat_media/videos/e.mp4"))
        #expect(try app.ok(["archive", "list"]) == "no archived rows\n")
        // The next run starts afresh and completes.
        try app.ok(["retention", "--class", "chat_media"])
        #expect(try app.keys("chat_message") == [3, 4])
        #expect(!app.exists("chat_media/images/a.jpg"))
    }

    @Test("a crash after the row change and before the files are queued: the next queue run settles it and removes them", arguments: AppBackend.allCases)
    func crashAfterRowChange(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        let crashed = try app.run(["retention", "--class", "chat_media"], environment: ["MEDIA_JANITOR_CRASH_AT": "retention-applied:1"])
        #expect(crashed.signaled)
        #expect(try app.keys("chat_message") == [3, 4])
        #expect(app.exists("chat_media/images/a.jpg"), "not queued yet")
        try app.ok(["queue", "run"])
        #expect(!app.exists("chat_media/images/a.jpg") && !app.exists("chat_media/images/d.jpg") && !app.exists("chat_media/videos/e.mp4"))
        #expect(app.exists("chat_media/images/b.jpg"), "still held by forum_post 1")
        #expect((try json(try app.ok(["archive", "list", "--format", "json"]))["archived_rows"] as? [Any])?.count == 3)
        // Settled once: another queue run finds nothing to do.
        let again = try json(try app.ok(["queue", "run", "--format", "json"]))
        #expect(again["quarantined"] as? Int == 0)
        #expect(again["kept"] as? Int == 0)
    }

    @Test("ties in created break by key; a size cap is met by removing rows that hold no files, oldest first")
    func tiesAndSizeCap() throws {
        let app = try ChatApp(extraClasses: """
              notes:
                paths: ["notes/**"]
                references:
                  - {table: note, column: attachment, key: id, created: created_at, size: "length(body)"}
                retention: {max_total_size: 1KB, row_action: delete}
            """)
        app.file("notes/5.pdf", bytes: 100)
        let body = String(repeating: "n", count: 300)
        try app.sql("""
            CREATE TABLE note (id INTEGER PRIMARY KEY, created_at TEXT, body TEXT, attachment TEXT);
            INSERT INTO note VALUES (4, '\(app.hoursAgo(5))', '\(body)', NULL), (3, '\(app.hoursAgo(5))', '\(body)', NULL),
              (10, '\(app.hoursAgo(5))', '\(body)', NULL), (2, '\(app.hoursAgo(5))', '\(body)', NULL), (5, '\(app.hoursAgo(1))', '', 'notes/5.pdf');
            """)
        // 4 x 300 + 100 = 1300 > 1024: the oldest go, ties by key (2, 3), until at most 819 remain (700).
        let report = try json(try app.ok(["retention", "--class", "notes", "--format", "json"]))
        #expect((report["rows"] as? [[String: Any]])?.map { $0["key"] as? String } == ["2", "3"])
        #expect(try app.keys("note") == [4, 5, 10])
        #expect(app.exists("notes/5.pdf"))
        let plan = try #require((report["classes"] as? [[String: Any]])?.first)
        #expect(plan["bytes"] as? Int == 1300)
        #expect(plan["freed_row_bytes"] as? Int == 600)
        #expect(plan["freed_files"] as? Int == 0)
    }

    @Test("with no created column, a row's age is its file's mtime")
    func ageFromMtime() throws {
        let app = try ChatApp(extraClasses: """
              exports:
                paths: ["exports/**"]
                references: [{table: export, column: file, key: id}]
                retention: {max_age: 7d, row_action: delete}
            """)
        app.file("exports/old.csv")  // 30 days old
        _ = FileManager.default.createFile(atPath: app.media + "/exports/new.csv", contents: Data("fresh".utf8))
        try app.sql("""
            CREATE TABLE export (id INTEGER PRIMARY KEY, file TEXT);
            INSERT INTO export VALUES (1, 'exports/old.csv'), (2, 'exports/new.csv');
            """)
        let report = try json(try app.ok(["retention", "--class", "exports", "--format", "json"]))
        #expect((report["rows"] as? [[String: Any]])?.map { $0["key"] as? String } == ["1"])
        #expect(try app.keys("export") == [2])
        #expect(!app.exists("exports/old.csv") && app.exists("exports/new.csv"))
    }

    @Test("archive through the CLI and the store round-trips every SQLite storage class byte for byte")
    func everyStorageClass() throws {
        let app = try ChatApp(extraClasses: """
              vault:
                references: [{table: vault, key: id, created: created_at}]
                retention: {max_age: 1d, row_action: archive}
            """)
        try app.sql("""
            CREATE TABLE vault (id INTEGER PRIMARY KEY, created_at TEXT, i INTEGER, big INTEGER, r REAL, tiny REAL, t TEXT, bad TEXT, b BLOB, empty BLOB, n TEXT, any, num NUMERIC);
            INSERT INTO vault VALUES (7, '\(app.hoursAgo(48))', -7, -9223372036854775808, 0.1, 4.9e-324, 'héllo ✓ "q"' || char(0) || 'after', CAST(x'ff00fe41' AS TEXT),
              x'00ff10', x'', NULL, 3.5, '12.0');
            """)
        let snapshot = "SELECT quote(id), quote(created_at), quote(i), quote(big), quote(r), quote(tiny), hex(t), typeof(t), hex(bad), typeof(bad), quote(b), quote(empty), quote(n), quote(any), typeof(num), quote(num) FROM vault"
        let before = try app.db.values(snapshot)
        try app.ok(["retention", "--class", "vault"])
        #expect(try app.keys("vault").isEmpty)
        try app.ok(["archive", "restore", "--class", "vault"])
        #expect(try app.db.values(snapshot) == before)
    }
}
