import Foundation
import GRDB
import Testing

/// The ways retention could lose a row or remove a file still needed, each shown not to happen.
@Suite("retention: safety")
struct RetentionSafetyTests {
    func store(_ app: ChatApp) throws -> DatabaseQueue {
        try DatabaseQueue(path: app.path + "/.janitor/state.sqlite3")
    }

    @Test("a run another live process is applying is never settled by a queue run; once that process is gone it is", arguments: AppBackend.allCases)
    func liveRunLeftAlone(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        try app.ok(["queue", "stats"])  // creates the store
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        defer { if sleeper.isRunning { kill(sleeper.processIdentifier, SIGKILL) } }
        let owner = "\(ProcessInfo.processInfo.hostName):\(sleeper.processIdentifier)"
        try store(app).write { db in
            try db.execute(sql: "INSERT INTO retention_run (id, started_at, owner) VALUES (1, 0, ?)", arguments: [owner])
            try db.execute(sql: """
                INSERT INTO retention_row (run_id, class, table_name, key_column, row_key, action, policy, paths)
                VALUES (1, 'chat_media', 'chat_message', 'id', '1', 'delete', 'max_age (1d)', '["chat_media/images/a.jpg"]')
                """)
        }
        // Row 1 is gone as if that process had just deleted it and not yet queued its file.
        try app.sql("DELETE FROM chat_message WHERE id = 1")
        try app.ok(["queue", "run"])
        #expect(try store(app).read { try String.fetchOne($0, sql: "SELECT state FROM retention_row") } == "planned")
        #expect(app.exists("chat_media/images/a.jpg"))
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
        try app.ok(["queue", "run"])
        #expect(try store(app).read { try String.fetchOne($0, sql: "SELECT state FROM retention_row") } == "applied")
        #expect(try store(app).read { try String.fetchOne($0, sql: "SELECT state FROM retention_run") } == "recovered")
        #expect(!app.exists("chat_media/images/a.jpg"))
    }

    @Test("after a crash, a key the app reused does not void the archive of the row that was deleted", arguments: AppBackend.allCases)
    func reusedKeyAfterCrash(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        let crashed = try app.run(["retention", "--class", "chat_media"], environment: ["MEDIA_JANITOR_CRASH_AT": "retention-applied:1"])
        #expect(crashed.signaled)
        try app.sql("INSERT INTO chat_message (id, sender_id, timestamp, image) VALUES (1, 42, '\(app.hoursAgo(0))', 'chat_media/images/z.jpg')")
        try app.ok(["queue", "run"])
        let archived = try json(try app.ok(["archive", "list", "--format", "json"]))["archived_rows"] as? [[String: Any]]
        #expect(Set(archived?.compactMap { $0["key"] as? String } ?? []) == ["1", "2", "5"])
        #expect(!app.exists("chat_media/images/a.jpg"), "the deleted row's file is freed")
        #expect(app.exists("chat_media/images/z.jpg"), "the new row's file stays")
        #expect(try app.run(["archive", "restore", "--all"]).stderr.contains("already has a different row with id = 1"))
    }

    @Test("a key column that is not unique stops retention before anything changes (exit 2)")
    func nonUniqueKey() throws {
        let app = try ChatApp(extraClasses: """
              notes:
                paths: ["notes/**"]
                references: [{table: note, column: attachment, key: slug, created: created_at}]
                retention: {max_age: 1d, row_action: delete}
            """)
        try app.sql("""
            CREATE TABLE note (id INTEGER PRIMARY KEY, slug TEXT, created_at TEXT, attachment TEXT);
            INSERT INTO note VALUES (1, 'a', '\(app.hoursAgo(48))', NULL), (2, 'a', '\(app.hoursAgo(1))', NULL);
            """)
        let outcome = try app.run(["retention", "--class", "notes", "--dry-run"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("key 'slug' of table 'note' is not a PRIMARY KEY or UNIQUE column"), "\(outcome.stderr)")
        #expect(try app.run(["retention", "--class", "notes"]).status == 2)
        #expect(try app.keys("note") == [1, 2])
        try app.sql("CREATE UNIQUE INDEX note_slug ON note(slug) WHERE 0")  // a partial index is not enough
        #expect(try app.run(["retention", "--class", "notes", "--dry-run"]).status == 2)
    }

    @Test("row_action: archive is refused when an ON DELETE CASCADE would delete rows the archive does not save", arguments: AppBackend.allCases)
    func archiveUnderCascade(backend: AppBackend) throws {
        let app = try ChatApp(chatRowAction: "archive", backend: backend)
        try app.plantChat()
        try app.sql("CREATE TABLE chat_reaction (id INTEGER PRIMARY KEY, message_id INTEGER REFERENCES chat_message(id) ON DELETE CASCADE)")
        let outcome = try app.run(["retention", "--class", "chat_media"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("table 'chat_reaction' references 'chat_message' with ON DELETE CASCADE"), "\(outcome.stderr)")
        #expect(try app.keys("chat_message") == [1, 2, 3, 4, 5])
    }

    @Test("a file outside the class's paths, or excluded, is never removed by retention, even when its row goes")
    func unclaimedFilesStay() throws {
        let app = try ChatApp(extraClasses: """
              notes:
                paths: ["notes/**"]
                exclude: ["notes/default.png"]
                references: [{table: note, column: attachment, key: id, created: created_at}]
                retention: {max_age: 1d, row_action: delete}
            """)
        app.file("notes/default.png")
        app.file("elsewhere/secret.txt")
        app.file("notes/old.pdf")
        try app.sql("""
            CREATE TABLE note (id INTEGER PRIMARY KEY, created_at TEXT, attachment TEXT);
            INSERT INTO note VALUES (1, '\(app.hoursAgo(48))', 'notes/default.png'), (2, '\(app.hoursAgo(48))', 'elsewhere/secret.txt'),
              (3, '\(app.hoursAgo(48))', 'notes/old.pdf');
            """)
        let report = try json(try app.ok(["retention", "--class", "notes", "--format", "json"]))
        let fates = (report["rows"] as? [[String: Any]])?.compactMap { ($0["files"] as? [[String: Any]])?.first?["fate"] as? String }
        #expect(fates == ["unclaimed", "unclaimed", "removed"])
        #expect(try app.keys("note").isEmpty)
        #expect(app.exists("notes/default.png") && app.exists("elsewhere/secret.txt"))
        #expect(!app.exists("notes/old.pdf"))
    }

    @Test("a freed file's derivatives go with it; a shared file's stay")
    func derivatives() throws {
        let app = try ChatApp(extraClasses: """
              photos:
                paths: ["photos/**"]
                references: [{table: photo, column: image, key: id, created: created_at}]
                derivatives: ["{dir}/thumbs/{stem}_*.{ext}"]
                retention: {max_age: 1d, row_action: delete}
            """)
        for name in ["photos/a.jpg", "photos/thumbs/a_small.jpg", "photos/b.jpg", "photos/thumbs/b_small.jpg"] { app.file(name) }
        try app.sql("""
            CREATE TABLE photo (id INTEGER PRIMARY KEY, created_at TEXT, image TEXT);
            INSERT INTO photo VALUES (1, '\(app.hoursAgo(48))', 'photos/a.jpg'), (2, '\(app.hoursAgo(48))', 'photos/b.jpg');
            INSERT INTO forum_post (id, image) VALUES (9, 'photos/b.jpg');
            """)
        try app.ok(["retention", "--class", "photos"])
        #expect(!app.exists("photos/a.jpg") && !app.exists("photos/thumbs/a_small.jpg"))
        #expect(app.exists("photos/b.jpg") && app.exists("photos/thumbs/b_small.jpg"))
    }
}
