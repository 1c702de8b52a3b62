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
        // Midway: SIGKILL one janitor while it holds claims (a round claims up to 20 batches).
        // Which one holds claims at a given moment is up to the scheduler, and between two
        // rounds a janitor holds none: so the victim is whichever janitor the store shows
        // holding claims, stopped with SIGSTOP and killed if it still holds them once stopped.
        let midway = try await ServeProcess.eventually(120) { try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'done'") >= Self.files / 4 }
        #expect(midway)
        func held(by pid: pid_t) throws -> Int {
            try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'running' AND claimed_by LIKE '%:\(pid)/%'")
        }
        var victim: ServeProcess?
        var orphaned = 0
        let caughtHolding = try await ServeProcess.eventually(60) {
            for janitor in janitors {
                let pid = janitor.process.processIdentifier
                guard try held(by: pid) > 0 else { continue }
                kill(pid, SIGSTOP)
                if await Self.isStopped(pid) {
                    orphaned = try held(by: pid)
                    if orphaned > 0 {
                        victim = janitor
                        return true
                    }
                }
                kill(pid, SIGCONT)
            }
            return false
        }
        let holders = try store.rows("SELECT DISTINCT claimed_by FROM janitor_queue_item WHERE state = 'running'").map { try $0.decode(String.self) }
        let logs = janitors.map { "pid \($0.process.processIdentifier): \($0.stderr)" }.joined(separator: "\n")
        #expect(caughtHolding, "no janitor was seen holding a claim; holders now \(holders); their logs:\n\(logs)")
        let killed = try #require(victim)
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        #expect(killed.process.terminationReason == .uncaughtSignal)
        // It died holding claims: those wait out the lease, then the survivors finish them.
        #expect(orphaned > 0)

        let drained = try await ServeProcess.eventually(300) { try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'done'") == Self.files }
        let done = try count("SELECT count(*) FROM janitor_queue_item WHERE state = 'done'")
        #expect(drained, "done: \(done) of \(Self.files)")
        for janitor in janitors where janitor !== killed { #expect(janitor.terminate() == 0, "\(janitor.stderr)") }

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
