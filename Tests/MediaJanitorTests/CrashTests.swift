import Foundation
import Testing

/// Kills `queue run` with SIGKILL at chosen points (the `MEDIA_JANITOR_CRASH_AT` seam) and
/// checks that a later run leaves every item done exactly once, every file quarantined
/// exactly once and byte-identical, and nothing lost (DESIGN 6.5).
@Suite("Crash safety of the queue")
struct CrashTests {
    static let count = 12

    /// An app whose forum holds `count` unreferenced files, each queued by a delete event.
    func queuedApp(quarantine: String = "7d") throws -> (ForumApp, [String: String]) {
        let app = try ForumApp(quarantine: quarantine)
        let contents = try app.queueDeleted((1...Self.count).map { i in ("forum/t/\(i)/f\(i).jpg", String(repeating: "payload \(i) ", count: i * 50)) })
        return (app, contents)
    }

    func verify(_ app: ForumApp, _ contents: [String: String], quarantined: Bool, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let stats = try app.queueStats()
        #expect(stats["total_pending"] as? Int == 0, sourceLocation: sourceLocation)
        #expect(stats["dead"] as? Int == 0, sourceLocation: sourceLocation)
        #expect(stats["done"] as? Int == Self.count, sourceLocation: sourceLocation)
        let removals = try #require(try json(try app.ok(["quarantine", "list", "--all", "--format", "json"]))["removals"] as? [[String: Any]])
        // Every file removed exactly once, and recorded exactly once.
        #expect(removals.count == Self.count, sourceLocation: sourceLocation)
        #expect(Set(removals.compactMap { $0["path"] as? String }) == Set(contents.keys), sourceLocation: sourceLocation)
        for path in contents.keys { #expect(!app.exists(path), "\(path) still on disk", sourceLocation: sourceLocation) }
        if quarantined {
            #expect(app.quarantined().count == Self.count, sourceLocation: sourceLocation)
            for removal in removals {
                let stored = try #require(removal["quarantine_path"] as? String)
                let path = try #require(removal["path"] as? String)
                #expect(try String(contentsOfFile: stored, encoding: .utf8) == contents[path], sourceLocation: sourceLocation)
                #expect(removal["bytes"] as? Int == contents[path]?.utf8.count, sourceLocation: sourceLocation)
            }
        } else {
            #expect(app.quarantined().isEmpty, sourceLocation: sourceLocation)
            #expect(app.setAside().isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test("SIGKILL at any point of a quarantining run: the next run finishes every item exactly once", arguments: [
        "claimed:1", "claimed:6", "acting:3", "acted:3", "done:3", "acting:12", "acted:12", "done:12",
    ])
    func killedQuarantining(point: String) throws {
        let (app, contents) = try queuedApp()
        let crashed = try app.run(["queue", "run", "--batch-size", "5"], environment: ["MEDIA_JANITOR_CRASH_AT": point])
        #expect(crashed.signaled && crashed.status == SIGKILL, "\(point): \(crashed.stderr)")
        let resumed = try app.run(["queue", "run", "--batch-size", "5"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try verify(app, contents, quarantined: true)
    }

    @Test("SIGKILL while unlinking (quarantine off): the next run finishes every item exactly once", arguments: [
        "acting:4", "acted:4", "done:4", "verify:1", "settled:1", "settled:12",
    ])
    func killedUnlinking(point: String) throws {
        let (app, contents) = try queuedApp(quarantine: "0")
        let crashed = try app.run(["queue", "run"], environment: ["MEDIA_JANITOR_CRASH_AT": point])
        #expect(crashed.signaled, "\(point)")
        try app.ok(["queue", "run"])
        try verify(app, contents, quarantined: false)
    }

    @Test("killed twice in a row, once during the run that recovers the first crash")
    func killedTwice() throws {
        let (app, contents) = try queuedApp()
        #expect(try app.run(["queue", "run"], environment: ["MEDIA_JANITOR_CRASH_AT": "acted:2"]).signaled)
        #expect(try app.run(["queue", "run"], environment: ["MEDIA_JANITOR_CRASH_AT": "acting:3"]).signaled)
        let output = try app.ok(["queue", "run"])
        #expect(output.contains("recovered from an interrupted run"))
        try verify(app, contents, quarantined: true)
    }

    @Test("a real SIGKILL at an arbitrary moment of a larger run loses nothing", arguments: AppBackend.allCases)
    func killedFromOutside(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        var events = ""
        var contents: [String: String] = [:]
        for i in 1...400 {
            let path = "forum/big/\(i % 7)/f\(i).jpg"
            contents[path] = "file \(i)"
            app.file(path, content: "file \(i)")
            events += #"{"id": "d\#(i)", "table": "forum_post", "column": "image", "op": "delete", "key": \#(i), "old": "\#(path)"}"# + "\n"
        }
        app.scratch.write("events.ndjson", events)
        try app.ok(["events", "events.ndjson"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Janitor.executable)
        process.arguments = ["queue", "run", "--batch-size", "10"]
        process.currentDirectoryURL = URL(fileURLWithPath: app.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(150_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try app.ok(["queue", "run"])
        let removals = try #require(try json(try app.ok(["quarantine", "list", "--all", "--format", "json"]))["removals"] as? [[String: Any]])
        #expect(removals.count == 400)
        #expect(Set(removals.compactMap { $0["path"] as? String }).count == 400)
        #expect(app.quarantined().count == 400)
        for removal in removals {
            let stored = try #require(removal["quarantine_path"] as? String)
            #expect(try String(contentsOfFile: stored, encoding: .utf8) == contents[removal["path"] as! String])
        }
    }
}
