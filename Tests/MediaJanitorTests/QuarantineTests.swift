import Foundation
import Testing

@Suite("Quarantine restore and purge")
struct QuarantineTests {
    /// Three files removed through events and the queue.
    func removedThree() throws -> ForumApp {
        let app = try ForumApp()
        var events = ""
        for i in 1...3 {
            app.file("forum/q\(i).jpg", content: "picture \(i)")
            events += #"{"id": "d\#(i)", "table": "forum_post", "column": "image", "op": "delete", "key": \#(i), "old": "forum/q\#(i).jpg"}"# + "\n"
        }
        app.scratch.write("e.ndjson", events)
        try app.ok(["events", "e.ndjson", "--run-queue"])
        for i in 1...3 { #expect(!app.exists("forum/q\(i).jpg")) }
        return app
    }

    @Test("restore by original path, and everything removed since a time")
    func restoreByPathAndTime() throws {
        let app = try removedThree()
        #expect(try app.ok(["quarantine", "restore", "--path", "forum/q2.jpg"]).hasSuffix(": forum/q2.jpg\n"))
        #expect(try String(contentsOfFile: app.media + "/forum/q2.jpg", encoding: .utf8) == "picture 2")
        let rest = try app.ok(["quarantine", "restore", "--since", "1h"])
        #expect(rest.split(separator: "\n").count == 2)
        for i in 1...3 { #expect(try String(contentsOfFile: app.media + "/forum/q\(i).jpg", encoding: .utf8) == "picture \(i)") }
        #expect(app.quarantined().isEmpty)
    }

    @Test("restore never overwrites a file that came back, and says so (exit 3); the quarantined copy stays")
    func restoreRefusesOverwrite() throws {
        let app = try removedThree()
        app.file("forum/q1.jpg", content: "a new upload")
        let outcome = try app.run(["quarantine", "restore", "--path", "forum/q1.jpg"])
        #expect(outcome.status == 3)
        #expect(outcome.stderr.contains("'forum/q1.jpg' exists again; move it away first"))
        #expect(try String(contentsOfFile: app.media + "/forum/q1.jpg", encoding: .utf8) == "a new upload")
        #expect(app.quarantined().count == 3)
    }

    @Test("purge deletes quarantined files older than the given age, and only those")
    func purge() throws {
        let app = try removedThree()
        #expect(try app.ok(["quarantine", "purge"]) == "0 purged, 0 B\n")
        #expect(try app.ok(["quarantine", "purge", "--older-than", "0s"]) == "3 purged, 27 B\n")
        #expect(app.quarantined().isEmpty)
        let list = try json(try app.ok(["quarantine", "list", "--all", "--format", "json"]))["removals"] as? [[String: Any]]
        #expect(list?.count == 3)
        #expect(list?.allSatisfy { $0["purged_at"] != nil } == true)
        #expect(try app.run(["quarantine", "restore", "--path", "forum/q1.jpg"]).status == 2)
    }

    @Test("bad arguments name the fix", arguments: AppBackend.allCases)
    func badArguments(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        let none = try app.run(["quarantine", "restore"])
        #expect(none.status == 2)
        #expect(none.stderr == "error: give exactly one of: an id, --path PATH, --since TIME\n")
        let since = try app.run(["quarantine", "restore", "--since", "yesterday"])
        #expect(since.stderr == "error: invalid time 'yesterday' for --since; write 2026-11-21T10:00:00Z or a duration such as 2h\n")
        let escape = try app.run(["quarantine", "restore", "--path", "../x"])
        #expect(escape.status == 2)
    }
}
