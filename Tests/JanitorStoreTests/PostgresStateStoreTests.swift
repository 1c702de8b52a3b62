import Foundation
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import PostgresNIO
import Testing

@testable import JanitorStore

/// Several janitors on one PostgreSQL store: each test opens two or more stores (two
/// connections, as two janitors on two machines would) on a fresh database.
@Suite("Several janitors sharing a PostgreSQL store")
struct PostgresStateStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// `count` janitors on one fresh database, named `janitor-1`, `janitor-2`, ...
    func janitors(_ count: Int, lease: TimeInterval = 60) throws -> (url: PostgresURL, stores: [PostgresStateStore]) {
        let url = try TestPostgres.freshDatabase("fleet")
        return (url, try (1...count).map { try PostgresStateStore(url: url, lease: lease, janitor: "janitor-\($0)") })
    }

    func items(_ count: Int) -> [NewQueueItem] {
        (0..<count).map { NewQueueItem(path: "photos/\($0).jpg", className: "photos", reason: "orphan", notBefore: now) }
    }

    /// Runs `work(i)` for i in 0..<count on that many threads at once, after they all started.
    func concurrently<T: Sendable>(_ count: Int, _ work: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = Results<T>(count)
        let gate = DispatchGroup()
        gate.enter()
        let threads = (0..<count).map { index in
            Thread {
                gate.wait()
                results.set(index, Result { try work(index) })
            }
        }
        threads.forEach { $0.start() }
        gate.leave()
        return try results.wait().map { try $0.get() }
    }

    /// Who holds each running item, read straight from the table.
    func holders(_ store: PostgresStateStore) throws -> [Int64: String] {
        var holders: [Int64: String] = [:]
        for row in try store.connection.session().rows("SELECT id, claimed_by FROM janitor_queue_item WHERE state = 'running'") {
            let (id, holder) = try row.decode((Int64, String).self)
            holders[id] = holder
        }
        return holders
    }

    @Test("two janitors claiming at once from 2,000 items get disjoint sets that together cover every item")
    func concurrentClaims() throws {
        let (_, stores) = try janitors(2)
        let queued = try stores[0].enqueue(items(2_000), source: "clean", now: now)
        #expect(Set(queued).count == 2_000)
        let claims = try concurrently(2) { index in
            var mine: [Int64] = []
            while true {
                let batch = try stores[index].claimDue(limit: 25, now: now)
                if batch.isEmpty { break }
                mine += batch.map(\.id)
            }
            return mine
        }
        let first = Set(claims[0]), second = Set(claims[1])
        #expect(first.count == claims[0].count && second.count == claims[1].count, "a janitor claimed an item twice")
        #expect(first.isDisjoint(with: second), "\(first.intersection(second).count) items claimed by both janitors")
        #expect(first.union(second) == Set(queued))
        // Each item records the janitor that claimed it.
        let holders = try holders(stores[0])
        #expect(holders.count == 2_000)
        #expect(first.allSatisfy { holders[$0] == "janitor-1" } && second.allSatisfy { holders[$0] == "janitor-2" })
        #expect(try stores[1].queueStats().totalPending == 2_000)
    }

    @Test("a claim whose lease ran out goes to the next janitor's recovery, never while its holder renews it")
    func leaseExpiry() throws {
        let (url, stores) = try janitors(1, lease: 2)
        let owner = stores[0]
        let peer = try PostgresStateStore(url: url, lease: 60, janitor: "peer")
        _ = try owner.enqueue(items(3), source: "clean", now: now)
        let claimed = try owner.claimDue(limit: 2, now: now)
        #expect(claimed.count == 2)
        #expect(try peer.interrupted().isEmpty, "took items whose lease is live")

        // 1.2 s in, the owner records its intent: every item it holds gets a fresh lease.
        Thread.sleep(forTimeInterval: 1.2)
        try owner.markActing(claimed[0].id, stage: "moving", device: 1, inode: 2, changeTime: 3, bytes: 4, quarantinePath: "/q/1-0.jpg")
        // 2.4 s in: past the claim's first lease, within the renewed one.
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try peer.interrupted().isEmpty, "took items whose holder renewed their lease")

        // The owner stops renewing (it hangs, or was killed): the peer takes both over.
        Thread.sleep(forTimeInterval: 1.5)
        let recovered = try peer.interrupted()
        #expect(recovered.map(\.item.id) == claimed.map(\.id))
        #expect(recovered.first?.item.stage == "moving")
        #expect(recovered.first?.quarantinePath == "/q/1-0.jpg")
        #expect(try holders(peer) == [claimed[0].id: "peer", claimed[1].id: "peer"])
        // Taken over once: another look finds nothing, and the third item was never claimed.
        #expect(try peer.interrupted().isEmpty)
        #expect(try owner.interrupted().isEmpty)
        #expect(try owner.queueItems(state: .pending, limit: 10).count == 1)
    }

    @Test("a janitor that lost its lease cannot finish the item: its finish changes nothing, and the removal is recorded once")
    func lostLease() throws {
        let (url, stores) = try janitors(1, lease: 0.5)
        let slow = stores[0]
        let peer = try PostgresStateStore(url: url, lease: 60, janitor: "peer")
        _ = try slow.enqueue(items(2), source: "clean", now: now)
        let claimed = try slow.claimDue(limit: 2, now: now)
        try slow.markActing(claimed[0].id, stage: "moving", device: 1, inode: 2, changeTime: 3, bytes: 4, quarantinePath: "/q/1-0.jpg")
        Thread.sleep(forTimeInterval: 1)
        let recovered = try peer.interrupted()
        #expect(recovered.count == 2)

        // The slow janitor wakes up and tries to finish, fail, refuse and release what it lost.
        let states = try slow.apply(
            [
                .acting(id: claimed[1].id, stage: "unlinking", device: 9, inode: 9, changeTime: 9, bytes: 9, quarantinePath: nil),
                .finish(claimed[0], outcome: "quarantined", removedBytes: 4, quarantinePath: "/q/1-0.jpg"),
                .fail(id: claimed[1].id, error: "EIO"),
                .refuse(id: claimed[1].id, reason: "refused"),
                .release(id: claimed[1].id),
            ], maxAttempts: 1, backoff: Backoff(), now: now)
        #expect(states == [nil, nil, .running, nil, nil])
        let untouched = try peer.queueItems(ids: claimed.map(\.id))
        #expect(untouched.map(\.state) == [.running, .running])
        #expect(untouched.map(\.stage) == ["moving", "claimed"])
        #expect(untouched.map(\.attempts) == [0, 0])
        #expect(try peer.removals(restorableOnly: false).isEmpty)
        #expect(try holders(peer).values.allSatisfy { $0 == "peer" })

        // The peer resolves them: the removal is recorded once, whoever finishes after.
        try peer.finish(recovered[0].item, outcome: "quarantined", removedBytes: 4, quarantinePath: "/q/1-0.jpg", now: now)
        try peer.release(recovered[1].item.id)
        try slow.finish(claimed[0], outcome: "quarantined", removedBytes: 4, quarantinePath: "/q/1-0.jpg", now: now)
        try peer.finish(recovered[0].item, outcome: "quarantined", removedBytes: 4, quarantinePath: "/q/1-0.jpg", now: now)
        let removals = try peer.removals(restorableOnly: false)
        #expect(removals.map(\.queueItemId) == [claimed[0].id])
        #expect(try peer.queueStats().done == 1)
        #expect(try peer.queueItems(ids: [claimed[1].id]).first?.state == .pending)
    }

    @Test("a job run exclusively in one janitor is skipped by the others until it ends, also when it throws")
    func exclusively() throws {
        struct Boom: Error {}
        let (_, stores) = try janitors(2)
        let (a, b) = (stores[0], stores[1])
        var ran: [String] = []
        let result = try a.exclusively("sweep") { () throws -> Int in
            ran.append("a")
            #expect(try b.exclusively("sweep") { ran.append("b while a holds it") } == nil)
            // Another task of the same janitor is kept out too.
            #expect(try a.exclusively("sweep") { ran.append("a again") } == nil)
            // Another job is not.
            #expect(try b.exclusively("purge") { ran.append("b purge") } != nil)
            return 7
        }
        #expect(result == 7)
        #expect(try b.exclusively("sweep") { ran.append("b after") } != nil)
        #expect(throws: Boom.self) { try a.exclusively("sweep") { () throws -> Int in throw Boom() } }
        #expect(try b.exclusively("sweep") { ran.append("b after a threw") } != nil)
        #expect(ran == ["a", "b purge", "b after", "b after a threw"])
    }

    @Test("the same events recorded by two janitors at once are recorded once, and queue one item per path")
    func concurrentRecord() throws {
        let (_, stores) = try janitors(2)
        let decisions = (0..<300).map { index in
            EventDecision(
                event: ChangeEvent(
                    id: "e\(index)", table: "photo", column: "image", op: .delete, key: "\(index)", old: "photos/\(index % 200).jpg",
                    new: nil, tenant: nil),
                decision: "enqueued", reason: "row deleted",
                items: [NewQueueItem(path: "photos/\(index % 200).jpg", className: "photos", reason: "row deleted", notBefore: now)])
        }
        // Opposite orders, so the two transactions also wait on each other's rows.
        let recordings = try concurrently(2) { index in
            let batch = index == 0 ? decisions : Array(decisions.reversed())
            let results = try stores[index].record(batch, source: "outbox", now: now)
            return index == 0 ? results : Array(results.reversed())
        }
        for index in decisions.indices {
            let pair = [recordings[0][index], recordings[1][index]]
            let recorded = pair.filter { if case .recorded = $0 { true } else { false } }
            #expect(recorded.count == 1, "event e\(index): \(pair)")
            #expect(pair.contains(.duplicate(previousDecision: "enqueued")), "event e\(index): \(pair)")
        }
        let stats = try stores[0].queueStats()
        #expect(stats.totalPending == 200)
        // Both janitors were told the same item for a path.
        var itemOfPath: [String: Int64] = [:]
        for recording in recordings.joined() {
            guard case .recorded(let ids) = recording else { continue }
            for item in try stores[0].queueItems(ids: ids) {
                #expect(itemOfPath.updateValue(item.id, forKey: item.path).map { $0 == item.id } ?? true)
            }
        }
        #expect(itemOfPath.count == 200)
    }

    @Test(
        "two janitors queueing the same paths at once get the same item ids",
        arguments: [300, PostgresStateStore.keyLocksPerBatch * 4])  // Locked path by path, and a batch too large for that.
    func concurrentEnqueue(count: Int) throws {
        let (_, stores) = try janitors(2)
        let files = items(count)
        let ids = try concurrently(2) { index in
            index == 0
                ? try stores[0].enqueue(files, source: "clean", now: now)
                : Array(try stores[1].enqueue(Array(files.reversed()), source: "clean", now: now).reversed())
        }
        #expect(ids[0] == ids[1])
        #expect(Set(ids[0]).count == count)
        #expect(try stores[0].queueStats().totalPending == count)
    }

    @Test("migrations run once: janitors starting at once and a second open change nothing")
    func migrations() throws {
        let url = try TestPostgres.freshDatabase("migrate")
        // Three janitors start at once on an empty database.
        let opened = try concurrently(3) { index in try PostgresStateStore(url: url, lease: 60, janitor: "j\(index)").location }
        #expect(opened.count == 3)
        let store = try PostgresStateStore(url: url, lease: 60)
        try store.recordAudit(
            ScanReport(generatedAt: now, mediaRoot: "media", summary: ScanSummary(), classes: [], directories: [], findings: []),
            classes: [])
        let session = try store.connection.session()
        let migrations = "SELECT name, applied_at::text FROM janitor_migration ORDER BY name"
        let before = try session.rows(migrations).map { try $0.decode((String, String).self) }
        #expect(before.map(\.0) == ["v1-audits", "v2-events-queue-removals", "v3-retention", "v4-seen-files"])
        let tables = "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'janitor%'"
        let tableCount = try session.rows(tables)[0].decode(Int.self)

        let reopened = try PostgresStateStore(url: url, lease: 60)
        let after = try session.rows(migrations).map { try $0.decode((String, String).self) }
        #expect(after.map(\.0) == before.map(\.0))
        #expect(after.map(\.1) == before.map(\.1))
        #expect(try session.rows(tables)[0].decode(Int.self) == tableCount)
        #expect(try reopened.audits().count == 1)
    }

    @Test("a server that cannot be reached is named by host, port and database, never with the password")
    func unreachable() throws {
        let url = PostgresURL(
            user: "janitor", password: "s3cret-pw", host: "127.0.0.1", port: 1, database: "media_state", requiresTLS: false)
        do {
            _ = try PostgresStateStore(url: url, lease: 60)
            Issue.record("opened a store on port 1")
        } catch {
            #expect(error.description.hasPrefix("cannot open the janitor's store 'postgres://janitor:***@127.0.0.1:1/media_state': "))
            #expect(error.description.contains("127.0.0.1:1"))
            #expect(error.description.contains("check that the server runs"))
            #expect(!error.description.contains("s3cret-pw"))
        }
    }

    @Test("a database that does not exist is named, with what to check")
    func missingDatabase() throws {
        var url = try TestPostgres.server()
        url.database = "no_such_janitor_db"
        url.password = "s3cret-pw"
        do {
            _ = try PostgresStateStore(url: url, lease: 60)
            Issue.record("opened a store in a database that does not exist")
        } catch {
            #expect(error.description.contains("@\(url.host):\(url.port)/no_such_janitor_db'"))
            #expect(error.description.contains("check the database name"))
            #expect(!error.description.contains("s3cret-pw"))
        }
    }

    @Test("a user that may not create tables is told which grant is missing")
    func noCreatePrivilege() throws {
        var url = try TestPostgres.freshDatabase("grant")
        let role = "janitor_reader_\(UUID().uuidString.prefix(8).lowercased())"
        try PostgresSession(url, purpose: "tests").execute("CREATE ROLE \(role) LOGIN")
        url.user = role
        do {
            _ = try PostgresStateStore(url: url, lease: 60)
            Issue.record("created the store's tables without CREATE on schema public")
        } catch {
            #expect(error.description.contains("permission denied for schema public"))
            #expect(error.description.contains("GRANT CREATE ON SCHEMA public TO \"\(role)\""))
        }
    }

    @Test("the store's location never shows the password")
    func location() throws {
        var url = try TestPostgres.freshDatabase("where")
        url.password = "hidden-pw"  // The test server trusts loopback: any password opens it.
        let store = try PostgresStateStore(url: url, lease: 60)
        #expect(store.location == "postgres://\(url.user):***@\(url.host):\(url.port)/\(url.database)")
    }

    @Test("a store whose connection the server dropped reconnects on its next call")
    func reconnects() throws {
        let (url, stores) = try janitors(1)
        _ = try stores[0].enqueue(items(1), source: "clean", now: now)
        let admin = try PostgresSession(url, purpose: "tests")
        let killed = try admin.rows(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [.text(url.database)])
        #expect(killed.count == 1)
        // The server hung up; the store finds out before its next statement.
        let deadline = Date().addingTimeInterval(5)
        while stores[0].connection.isConnected && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(!stores[0].connection.isConnected)
        #expect(try stores[0].queueStats().totalPending == 1)
        #expect(stores[0].connection.isConnected)
    }
}

/// Results of several threads, filled in as they finish.
private final class Results<T: Sendable>: @unchecked Sendable {
    // @unchecked: `values` is only touched under `condition`'s lock.
    private let condition = NSCondition()
    private var values: [Result<T, any Error>?]

    init(_ count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<T, any Error>) {
        condition.withLock {
            values[index] = value
            condition.broadcast()
        }
    }

    func wait() -> [Result<T, any Error>] {
        condition.withLock {
            while values.contains(where: { $0 == nil }) { condition.wait() }
            return values.map { $0! }
        }
    }
}
