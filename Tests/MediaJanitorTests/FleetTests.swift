import Foundation
import JanitorPostgres
import PostgresNIO
import Testing

/// Several `serve` processes sharing one PostgreSQL store (DESIGN 7): claims skip rows another
/// janitor holds, and the items of a janitor killed mid-batch return to the queue when its
/// lease runs out, to be resolved from what it recorded before acting.
@Suite("fleet: three serve processes on one PostgreSQL store")
struct FleetTests {
    static let files = 20_000

    @Test("20,000 queued removals, one of three janitors killed with SIGKILL midway: every item ends done exactly once")
    func threeJanitorsOneKilled() async throws {
        let app = try ForumApp(quarantine: "7d", backend: .postgres, store: .postgres, lease: "3s")
        for i in 1...Self.files { app.file("forum/\(i % 100)/f\(i).jpg", content: "file \(i)") }
        // The queue is filled in one statement (intake is not what this test measures): 20,000
        // delete-event items, due now, as `events` would queue them.
        try app.ok(["queue", "stats"])  // creates the store's tables
        let store = try PostgresSession(try #require(app.storeURL), purpose: "tests")
        func count(_ sql: String) throws -> Int { Int(try store.rows(sql).first!.decode(Int64.self)) }
        try store.execute("""
            INSERT INTO janitor_queue_item (path, class, reason, source, event_id, queued_at, not_before)
            SELECT 'forum/' || (i % 100) || '/f' || i || '.jpg', 'forum_images', 'row forum_post key ' || i || ' deleted', 'events', 'd' || i,
                   extract(epoch FROM now()), extract(epoch FROM now())
            FROM generate_series(1, \(Self.files)) AS i
            """)
        #expect(try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'pending'") == Self.files)

        let janitors = try (0..<3).map { _ in try ServeProcess(in: app.path) }
        defer { for janitor in janitors where janitor.process.isRunning { _ = janitor.terminate() } }
        // Midway: SIGKILL the second janitor while it holds claims (a round claims up to 20
        // batches). Between two rounds it holds none, so once the store shows claims of its own
        // it is stopped, and killed if it still holds them; otherwise it runs on.
        let midway = try await ServeProcess.eventually(120) { try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'done'") >= Self.files / 4 }
        #expect(midway)
        let victim = janitors[1]
        let pid = victim.process.processIdentifier
        let held = "SELECT count(*) FROM janitor_queue_item WHERE state = 'running' AND claimed_by LIKE '%:\(pid)/%'"
        var orphaned = 0
        let caughtHolding = try await ServeProcess.eventually(60) {
            guard try count(held) > 0 else { return false }
            kill(pid, SIGSTOP)
            guard await Self.isStopped(pid) else {
                kill(pid, SIGCONT)
                return false
            }
            orphaned = try count(held)
            if orphaned > 0 { return true }
            kill(pid, SIGCONT)
            return false
        }
        let holders = try store.rows("SELECT DISTINCT claimed_by FROM janitor_queue_item WHERE state = 'running'").map { try $0.decode(String.self) }
        #expect(caughtHolding, "the second janitor (pid \(pid)) was never seen holding a claim; holders now \(holders); its log: \(victim.stderr)")
        kill(pid, SIGKILL)
        victim.process.waitUntilExit()
        #expect(victim.process.terminationReason == .uncaughtSignal)
        // It died holding claims: those wait out the lease, then the survivors finish them.
        #expect(orphaned > 0)

        let drained = try await ServeProcess.eventually(300) { try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'done'") == Self.files }
        let done = try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'done'")
        #expect(drained, "done: \(done) of \(Self.files)")
        for janitor in [janitors[0], janitors[2]] { #expect(janitor.terminate() == 0, "\(janitor.stderr)") }

        // Every item done exactly once: one removal record each, every one an actual removal
        // (an item done twice would show a second act as "already gone").
        #expect(try count("SELECT count(*) FROM janitor_queue_item WHERE state <> 'done'") == 0)
        #expect(try count("SELECT count(*) FROM janitor_queue_item WHERE outcome <> 'quarantined'") == 0)
        #expect(try count("SELECT count(*) FROM janitor_removal") == Self.files)
        #expect(try count("SELECT count(DISTINCT queue_item_id) FROM janitor_removal") == Self.files)
        #expect(try count("SELECT count(DISTINCT path) FROM janitor_removal") == Self.files)
        // Every file left the media root once, into the quarantine, byte-identical.
        #expect(app.quarantined().count == Self.files)
        for i in stride(from: 1, through: Self.files, by: 997) { #expect(!app.exists("forum/\(i % 100)/f\(i).jpg")) }
        let sample = try store.rows("SELECT path, quarantine_path FROM janitor_removal ORDER BY id LIMIT 50")
        for row in sample {
            let (path, destination) = try row.decode((String, String).self)
            let number = path.split(separator: "/").last!.dropFirst().dropLast(4)
            #expect(try String(contentsOfFile: destination, encoding: .utf8) == "file \(number)")
        }
        // The three janitors shared the work: the survivors finished the victim's claims.
        #expect(try count("SELECT count(DISTINCT claimed_by) FROM janitor_queue_item") >= 2)
    }

    /// Whether the process has stopped (state `T` in /proc), waiting up to a second for a
    /// SIGSTOP to take effect.
    static func isStopped(_ pid: pid_t) async -> Bool {
        for _ in 0..<100 {
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let end = stat.lastIndex(of: ")"),
               stat[stat.index(after: end)...].split(separator: " ").first == "T" {
                return true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
