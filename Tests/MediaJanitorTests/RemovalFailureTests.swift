import Foundation
import GRDB
import Testing

@Suite("Removal failures and refusals")
struct RemovalFailureTests {
    func runAsNobody(_ app: ForumApp, _ arguments: [String]) throws -> Janitor.Outcome {
        try Janitor.run(arguments, in: app.path, asNobody: true)
    }

    /// An app with one queued file in a directory `nobody` may read but not change.
    func lockedApp() throws -> ForumApp {
        let app = try ForumApp()
        app.file("forum/locked/x.jpg")
        app.scratch.write("e.ndjson", #"{"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 1, "old": "forum/locked/x.jpg"}"#)
        try app.ok(["events", "e.ndjson"])
        // The janitor's own store and quarantine stay writable; the media directory does not.
        for path in [app.path, app.path + "/.janitor"] { chmod(path, 0o777) }
        try FileManager.default.createDirectory(atPath: app.quarantine, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: app.path + "/.janitor") { chmod(app.path + "/.janitor/" + entry, 0o777) }
        chmod(app.path + "/app.sqlite3", 0o644)
        return app
    }

    func item(_ app: ForumApp) throws -> [String: Any] {
        try #require((try json(try app.ok(["queue", "list", "--format", "json"]))["items"] as? [[String: Any]])?.first)
    }

    @Test("permission denied on removal is retried after a backoff and recorded")
    func permissionDeniedBacksOff() throws {
        let app = try lockedApp()
        let first = try runAsNobody(app, ["queue", "run"])
        #expect(first.status == 3, "\(first.stderr)")
        #expect(first.stdout.contains("1 failed, will retry"))
        #expect(first.stderr.contains("error: 1 item could not be removed (first: 'forum/locked/x.jpg': rename into the quarantine failed: Permission denied); the janitor's user may not change that directory: run it as the user that owns the media files"), "\(first.stderr)")
        var item = try item(app)
        #expect(item["state"] as? String == "pending")
        #expect(item["attempts"] as? Int == 1)
        #expect(item["last_error"] as? String == "rename into the quarantine failed: Permission denied")
        let queued = try #require(ISO8601DateFormatter().date(from: item["queued_at"] as! String))
        let notBefore = try #require(ISO8601DateFormatter().date(from: item["not_before"] as! String))
        #expect(notBefore.timeIntervalSince(queued) >= 29)
        // Inside the backoff nothing is tried again.
        let second = try runAsNobody(app, ["queue", "run"])
        #expect(second.stdout.hasPrefix("0 quarantined, 0 removed"))
        item = try self.item(app)
        #expect(item["attempts"] as? Int == 1)
        #expect(app.exists("forum/locked/x.jpg"))
    }

    @Test("after max_attempts failures the item is dead-lettered with its last error; retry brings it back")
    func deadLetter() throws {
        let app = try lockedApp()
        let run = try runAsNobody(app, ["queue", "run", "--backoff", "0s", "--max-attempts", "3"])
        #expect(run.stdout.contains("1 dead-lettered"), "\(run.stdout)\(run.stderr)")
        let item = try item(app)
        #expect(item["state"] as? String == "dead")
        #expect(item["attempts"] as? Int == 3)
        #expect(item["last_error"] as? String == "rename into the quarantine failed: Permission denied")
        let stats = try app.queueStats()
        #expect(stats["dead"] as? Int == 1)
        #expect(app.exists("forum/locked/x.jpg"))
        // Fixed by the operator (here: run as root), then retried.
        #expect(try app.ok(["queue", "retry", "--all"]) == "1 item back to pending\n")
        try app.ok(["queue", "run"])
        #expect(!app.exists("forum/locked/x.jpg"))
    }

    @Test("a path through a symlinked directory, or a symlink itself, is refused, recorded, and the target untouched", arguments: AppBackend.allCases)
    func symlinkRefused(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.scratch.write("outside/secret.jpg", "secret")
        app.scratch.write("outside/target.jpg", "target")
        try FileManager.default.createDirectory(atPath: app.media + "/forum", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: app.media + "/forum/linked", withDestinationPath: app.path + "/outside")
        try FileManager.default.createSymbolicLink(atPath: app.media + "/forum/link.jpg", withDestinationPath: app.path + "/outside/target.jpg")
        app.scratch.write("e.ndjson", """
            {"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 1, "old": "forum/linked/secret.jpg"}
            {"id": "e2", "table": "forum_post", "column": "image", "op": "delete", "key": 2, "old": "forum/link.jpg"}
            """)
        try app.ok(["events", "e.ndjson"])
        #expect(try app.ok(["queue", "run"]).contains("2 refused by safety rules"))
        #expect(FileManager.default.fileExists(atPath: app.path + "/outside/secret.jpg"))
        #expect(FileManager.default.fileExists(atPath: app.path + "/outside/target.jpg"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: app.media + "/forum/link.jpg")) != nil)
        let items = try #require(try json(try app.ok(["queue", "list", "--state", "dead", "--format", "json"]))["items"] as? [[String: Any]])
        let errors = Dictionary(uniqueKeysWithValues: items.map { ($0["path"] as! String, $0["last_error"] as! String) })
        #expect(errors["forum/linked/secret.jpg"] == "refused: 'forum/linked/secret.jpg' has a symlink or a file where a directory should be ('linked')")
        #expect(errors["forum/link.jpg"] == "refused: 'forum/link.jpg' is a symlink; only regular files are removed")
        #expect(items.allSatisfy { $0["attempts"] as? Int == 0 })
    }

    @Test("a queued path holding U+FFFD is refused and recorded: it may be a name repaired from bytes that are not UTF-8", arguments: AppBackend.allCases)
    func repairedNameRefused(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        // A file whose name really holds U+FFFD, and the delete event of a row whose Latin-1
        // value was repaired into that very name: the event does not name this file.
        app.file("forum/caf\u{FFFD}.jpg", content: "a new upload")
        app.scratch.write("e.ndjson", #"{"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 1, "old": "forum/caf\#u{FFFD}.jpg"}"# + "\n")
        try app.ok(["events", "e.ndjson"])
        #expect(try app.ok(["queue", "run"]).contains("1 refused by safety rules"))
        #expect(try String(contentsOfFile: app.media + "/forum/caf\u{FFFD}.jpg", encoding: .utf8) == "a new upload")
        #expect(app.quarantined().isEmpty)
        let items = try #require(try json(try app.ok(["queue", "list", "--state", "dead", "--format", "json"]))["items"] as? [[String: Any]])
        #expect(items.map { $0["last_error"] as? String } == [
            "refused: 'forum/caf\u{FFFD}.jpg' holds U+FFFD, which stands in for bytes that are not UTF-8, so it may not be the file's own name; remove the file by hand",
        ])
    }

    @Test("paths that leave the media root never reach the queue: the event is rejected and says why")
    func escapeRejected() throws {
        let app = try ForumApp()
        app.scratch.write("e.ndjson", """
            {"id": "e1", "table": "forum_post", "column": "image", "op": "delete", "key": 1, "old": "../app.sqlite3"}
            {"id": "e2", "table": "forum_post", "column": "image", "op": "delete", "key": 2, "old": "/etc/passwd"}
            {"id": "e3", "table": "forum_post", "column": "image", "op": "delete", "key": 3, "old": "forum/a\\u0000.jpg"}
            """)
        let outcome = try app.run(["events", "e.ndjson"])
        #expect(outcome.status == 2)
        #expect(outcome.stdout.contains("e1  rejected  event 1: field 'old' refused: escapes media_root"))
        #expect(outcome.stdout.contains("e2  rejected  event 2: field 'old' refused: absolute path"))
        #expect(outcome.stdout.contains("e3  rejected  event 3: field 'old' refused: contains a NUL byte"))
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
        #expect(FileManager.default.fileExists(atPath: app.path + "/app.sqlite3"))
        // Each refusal is recorded in the janitor's store with the field and the reason.
        let recorded = try DatabaseQueue(path: app.path + "/.janitor/state.sqlite3").read { db in
            try Row.fetchAll(db, sql: "SELECT event_id, field, reason FROM rejected_event ORDER BY id").map { "\($0["event_id"] as String) \($0["field"] as String) \($0["reason"] as String)" }
        }
        #expect(recorded == [
            "e1 old field 'old' refused: escapes media_root; give a path relative to media_root with no '..'",
            "e2 old field 'old' refused: absolute path; stored paths are relative to media_root; give a path relative to media_root with no '..'",
            "e3 old field 'old' refused: contains a NUL byte; give a path relative to media_root with no '..'",
        ])
    }

    @Test("an outbox row whose old value leaves the media root is refused and recorded, not queued", arguments: AppBackend.allCases)
    func outboxEscapeRefused(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        try app.sql("INSERT INTO forum_post VALUES (1, '../../etc/passwd')")
        try app.ok(["hooks", "install"])
        try app.sql("DELETE FROM forum_post")
        #expect(try app.ok(["hooks", "drain"]) == "1 outbox event: 1 refused\n")
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
    }
}
