import Foundation
import GRDB
import Testing

@Suite("Hooks, queue and quarantine on a real SQLite app")
struct HooksQueueTests {
    @Test("a replaced file is gone after hooks drain and queue run, and restores byte-identical", arguments: AppBackend.allCases)
    func replacedFile(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("forum/2026/old.jpg", content: "the old picture")
        app.file("forum/2026/new.jpg")
        try app.sql("INSERT INTO forum_post VALUES (1, 'forum/2026/old.jpg')")
        try app.ok(["hooks", "install"])
        try app.sql("UPDATE forum_post SET image = 'forum/2026/new.jpg' WHERE id = 1")
        #expect(try app.ok(["hooks", "drain"]) == "1 outbox event: 1 enqueued\n")
        #expect(app.exists("forum/2026/old.jpg"))
        #expect(try app.ok(["queue", "run"]).hasPrefix("1 quarantined, 0 removed"))
        #expect(!app.exists("forum/2026/old.jpg"))
        #expect(app.exists("forum/2026/new.jpg"))
        #expect(app.quarantined().count == 1)

        let list = try json(try app.ok(["quarantine", "list", "--format", "json"]))
        let removal = try #require((list["removals"] as? [[String: Any]])?.first)
        #expect(removal["path"] as? String == "forum/2026/old.jpg")
        #expect(removal["bytes"] as? Int == 15)
        #expect(removal["class"] as? String == "forum_images")
        #expect(removal["source"] as? String == "outbox")
        #expect((removal["reason"] as? String)?.hasPrefix("replaced by forum/2026/new.jpg") == true)
        let id = try #require(removal["id"] as? Int)
        #expect(try app.ok(["quarantine", "restore", "\(id)"]) == "restored \(id): forum/2026/old.jpg\n")
        #expect(try String(contentsOfFile: app.media + "/forum/2026/old.jpg", encoding: .utf8) == "the old picture")
        #expect(app.quarantined().isEmpty)
        // Nothing is left to restore, and a second restore says so.
        #expect(try app.run(["quarantine", "restore", "\(id)"]).status == 2)
    }

    @Test("a file shared by two rows survives the first replace and goes after the second", arguments: AppBackend.allCases)
    func sharedFile(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("forum/shared.jpg")
        app.file("forum/a.jpg")
        app.file("forum/b.jpg")
        try app.sql("INSERT INTO forum_post VALUES (1, 'forum/shared.jpg'), (2, 'forum/shared.jpg')")
        try app.ok(["hooks", "install"])
        try app.sql("UPDATE forum_post SET image = 'forum/a.jpg' WHERE id = 1")
        #expect(try app.ok(["hooks", "drain"]) == "1 outbox event: 1 kept\n")
        try app.ok(["queue", "run"])
        #expect(app.exists("forum/shared.jpg"))
        let events = try app.run(["queue", "list", "--format", "json"])
        #expect((try json(events.stdout)["items"] as? [Any])?.isEmpty == true)

        try app.sql("UPDATE forum_post SET image = 'forum/b.jpg' WHERE id = 2")
        #expect(try app.ok(["hooks", "drain"]) == "1 outbox event: 1 enqueued\n")
        try app.ok(["queue", "run"])
        #expect(!app.exists("forum/shared.jpg"))
    }

    @Test("a file referenced again between queueing and removal is kept", arguments: AppBackend.allCases)
    func referencedAgain(backend: AppBackend) throws {
        let app = try ForumApp(extraConfig: "", backend: backend)
        app.file("forum/x.jpg")
        try app.sql("INSERT INTO forum_post VALUES (1, 'forum/x.jpg')")
        try app.ok(["hooks", "install"])
        try app.sql("DELETE FROM forum_post WHERE id = 1")
        #expect(try app.ok(["hooks", "drain"]) == "1 outbox event: 1 enqueued\n")
        // The app puts the same path on another row before the queue runs.
        try app.sql("INSERT INTO accounts_user VALUES (7, NULL, './forum//x.jpg')")
        #expect(try app.ok(["queue", "run"]).contains("1 kept (referenced again)"))
        #expect(app.exists("forum/x.jpg"))
        let items = try json(try app.ok(["queue", "list", "--format", "json"]))["items"] as? [[String: Any]]
        #expect(items?.first?["outcome"] as? String == "kept: still referenced by accounts_user.signature key 7")
    }

    @Test("an update inside a rolled-back transaction removes nothing", arguments: AppBackend.allCases)
    func rolledBack(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("forum/keep.jpg")
        try app.sql("INSERT INTO forum_post VALUES (1, 'forum/keep.jpg')")
        try app.ok(["hooks", "install"])
        try app.sql("BEGIN; UPDATE forum_post SET image = NULL WHERE id = 1; DELETE FROM forum_post; ROLLBACK;")
        #expect(try app.ok(["hooks", "drain"]) == "0 outbox events\n")
        try app.ok(["queue", "run"])
        #expect(app.exists("forum/keep.jpg"))
    }

    @Test("a bulk UPDATE ... SET image = NULL removes every old file", arguments: AppBackend.allCases)
    func bulkUpdate(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        for i in 1...20 {
            app.file("forum/p\(i).jpg")
            try app.sql("INSERT INTO forum_post VALUES (\(i), 'forum/p\(i).jpg')")
        }
        app.file("forum/untouched.jpg")
        try app.sql("INSERT INTO forum_post VALUES (99, 'forum/untouched.jpg')")
        try app.ok(["hooks", "install"])
        try app.sql("UPDATE forum_post SET image = NULL WHERE id <= 20")
        #expect(try app.ok(["hooks", "drain"]) == "20 outbox events: 20 enqueued\n")
        #expect(try app.ok(["queue", "run", "--batch-size", "7"]).hasPrefix("20 quarantined"))
        for i in 1...20 { #expect(!app.exists("forum/p\(i).jpg")) }
        #expect(app.exists("forum/untouched.jpg"))
        #expect(app.quarantined().count == 20)
    }

    @Test("derivatives go with their parent; emptied directories go, class roots and the media root stay", arguments: AppBackend.allCases)
    func derivativesAndDirectories(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("avatars/u1/me.jpg")
        app.file("avatars/u1/thumbs/me_64x64.jpg")
        app.file("avatars/u1/thumbs/me_256x256.jpg")
        app.file("avatars/u1/thumbs/other_64x64.jpg")
        app.file("avatars/u2/new.jpg")
        try app.sql("INSERT INTO accounts_user VALUES (1, 'avatars/u1/me.jpg', NULL)")
        try app.ok(["hooks", "install"])
        try app.sql("UPDATE accounts_user SET avatar = 'avatars/u2/new.jpg' WHERE id = 1")
        #expect(try app.ok(["hooks", "drain"]) == "1 outbox event: 1 enqueued\n")
        #expect(try app.ok(["queue", "run"]).hasPrefix("3 quarantined"))
        #expect(!app.exists("avatars/u1/me.jpg"))
        #expect(!app.exists("avatars/u1/thumbs/me_64x64.jpg"))
        #expect(!app.exists("avatars/u1/thumbs/me_256x256.jpg"))
        #expect(app.exists("avatars/u1/thumbs/other_64x64.jpg"))

        // The last file of a directory goes: the directory goes too, up to the class root.
        try app.sql("UPDATE accounts_user SET avatar = NULL WHERE id = 1")
        try app.ok(["hooks", "drain"])
        try app.ok(["queue", "run"])
        #expect(!app.exists("avatars/u2"))
        #expect(app.exists("avatars/u1/thumbs/other_64x64.jpg"))

        // A class root is never removed, even when its last file goes.
        app.file("forum/only.jpg")
        try app.sql("INSERT INTO forum_post VALUES (1, 'forum/only.jpg'); DELETE FROM forum_post")
        try app.ok(["hooks", "drain"])
        try app.ok(["queue", "run"])
        #expect(!app.exists("forum/only.jpg"))
        #expect(app.exists("forum"))
    }

    @Test("hooks status finds triggers an app migration dropped, and install repairs them", arguments: AppBackend.allCases)
    func migrationDropsTriggers(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("forum/a.jpg")
        try app.ok(["hooks", "install"])
        #expect(try app.run(["hooks", "status"]).status == 0)
        // Django's SQLite schema editor rebuilds a table to alter it; its triggers go with it.
        try app.sql("""
            CREATE TABLE new__forum_post (id INTEGER PRIMARY KEY, image TEXT, title TEXT);
            INSERT INTO new__forum_post (id, image) SELECT id, image FROM forum_post;
            DROP TABLE forum_post;
            ALTER TABLE new__forum_post RENAME TO forum_post;
            """)
        let status = try app.run(["hooks", "status"])
        #expect(status.status == 1)
        #expect(status.stdout.contains("forum_post.image: missing"))
        #expect(status.stdout.contains("hooks install"))
        let check = try app.run(["check", "--require-hooks"])
        #expect(check.status == 2)
        #expect(check.stdout.contains("hooks: not current (forum_post.image missing)"))
        let warned = try app.run(["check"])
        #expect(warned.status == 0)
        #expect(warned.stdout.contains("warning: database hooks are not installed and current;"))
        try app.ok(["hooks", "install"])
        #expect(try app.run(["hooks", "status"]).status == 0)
        #expect(try app.ok(["check", "--require-hooks"]).contains("hooks: installed and current (0 events waiting in the outbox)"))
        try app.ok(["hooks", "uninstall"])
        try app.ok(["hooks", "uninstall"])
    }

    @Test("events from NDJSON: decisions recorded, duplicates ignored, bad lines rejected with their reason while good ones go through", arguments: AppBackend.allCases)
    func eventsCommand(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("forum/gone.jpg")
        let events = """
            {"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 5, "old": "forum/gone.jpg", "tenant": "acme"}
            {"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 5, "old": "forum/gone.jpg"}
            {"id": "e2", "table": "forum_post", "column": "image", "op": "delete", "key": 6, "old": "../../etc/passwd"}
            {"id": "e3", "table": "forum_post", "column": "image", "op": "remove", "key": 7, "old": "forum/x.jpg"}
            {"id": "e4", "table": "blog", "column": "cover", "op": "delete", "key": 8, "old": "blog/x.jpg"}
            not json
            """
        app.scratch.write("events.ndjson", events)
        let outcome = try app.run(["events", "events.ndjson", "--format", "json"])
        #expect(outcome.status == 2)
        let lines = try #require(try json(outcome.stdout)["events"] as? [[String: Any]])
        #expect(lines.map { $0["decision"] as? String } == ["enqueued", "rejected", "rejected", "rejected", "ignored", "rejected"])
        #expect((lines[2]["reason"] as? String)?.contains("field 'old' refused: escapes media_root") == true)
        #expect((lines[3]["reason"] as? String)?.contains("field 'op' must be one of replace, delete, create, not 'remove'") == true)
        #expect(lines[4]["reason"] as? String == "no class for blog.cover")
        // Delivered again later: a duplicate, nothing queued twice.
        app.scratch.write("again.ndjson", #"{"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 5, "old": "forum/gone.jpg"}"#)
        let again = try app.run(["events", "again.ndjson"])
        #expect(again.stdout == "e1  duplicate  duplicate event (first decision: enqueued)\n")
        let items = try json(try app.ok(["queue", "list", "--format", "json"]))["items"] as? [[String: Any]]
        #expect(items?.count == 1)
        #expect(items?.first?["tenant"] as? String == "acme")
        try app.ok(["queue", "run"])
        #expect(!app.exists("forum/gone.jpg"))
    }

    @Test("an event naming a file outside its class's paths, or excluded, removes nothing", arguments: AppBackend.allCases)
    func outsideClassPaths(backend: AppBackend) throws {
        let app = try ForumApp(quarantine: "0", extraConfig: "", backend: backend)
        app.file("README.txt")
        app.file("avatars/old.jpg")
        let events = """
            {"id": "x1", "table": "forum_post", "column": "image", "op": "delete", "key": "1", "old": "README.txt"}
            {"id": "x2", "table": "forum_post", "column": "image", "op": "delete", "key": "2", "old": "avatars/old.jpg"}
            """
        app.scratch.write("events.ndjson", events)
        let outcome = try app.run(["events", "events.ndjson", "--run-queue", "--format", "json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = try json(outcome.stdout)["events"] as? [[String: Any]]
        #expect(lines?.map { $0["decision"] as? String } == ["refused", "refused"])
        #expect((lines?.first?["reason"] as? String)?.contains("outside the paths of class 'forum_images'") == true)
        #expect(app.exists("README.txt") && app.exists("avatars/old.jpg"))
    }
}
