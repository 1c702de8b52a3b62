import Foundation
import JanitorCore
import Testing

@testable import JanitorStore

@Suite("The queue in the store")
struct QueueStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func event(_ id: String, old: String = "a/b.jpg") -> ChangeEvent {
        ChangeEvent(id: id, table: "t", column: "c", op: .delete, key: "1", old: old, new: nil, tenant: "acme")
    }

    @Test("an event id is recorded once; delivered again it is a duplicate and queues nothing")
    func idempotent() throws {
        let store = try SQLiteStateStore()
        let item = NewQueueItem(path: "a/b.jpg", className: "c", reason: "row deleted", notBefore: now)
        #expect(try store.record(event("e1"), source: "http", decision: "enqueued", reason: "x", queue: [item], now: now) == .recorded(queued: [1]))
        #expect(try store.record(event("e1"), source: "http", decision: "enqueued", reason: "x", queue: [item], now: now) == .duplicate(previousDecision: "enqueued"))
        #expect(try store.queueStats().totalPending == 1)
        // Another event for the same path joins the active item instead of adding one.
        #expect(try store.record(event("e2"), source: "http", decision: "enqueued", reason: "x", queue: [item], now: now) == .recorded(queued: [1]))
        #expect(try store.queueStats().totalPending == 1)
    }

    @Test("delay: an item is not claimed before not_before")
    func delay() throws {
        let store = try SQLiteStateStore()
        _ = try store.enqueue([NewQueueItem(path: "a.jpg", className: "c", reason: "r", notBefore: now.addingTimeInterval(60))], source: "clean", now: now)
        #expect(try store.claimDue(limit: 10, now: now).isEmpty)
        #expect(try store.claimDue(limit: 10, now: now.addingTimeInterval(61)).map(\.path) == ["a.jpg"])
    }

    @Test("failures back off exponentially, then dead-letter at max_attempts")
    func backoff() throws {
        let store = try SQLiteStateStore()
        _ = try store.enqueue([NewQueueItem(path: "a.jpg", className: "c", reason: "r", notBefore: now)], source: "clean", now: now)
        var clock = now
        var delays: [TimeInterval] = []
        for attempt in 1...4 {
            let item = try #require(try store.claimDue(limit: 1, now: clock).first)
            let state = try store.fail(item.id, error: "EACCES \(attempt)", maxAttempts: 4, backoff: Backoff(base: 10), now: clock)
            let after = try store.queueItems(ids: [item.id])[0]
            #expect(after.attempts == attempt)
            #expect(after.lastError == "EACCES \(attempt)")
            if attempt < 4 {
                #expect(state == .pending)
                delays.append(after.notBefore.timeIntervalSince(clock))
                #expect(try store.claimDue(limit: 1, now: clock).isEmpty)
                clock = after.notBefore
            } else {
                #expect(state == .dead)
            }
        }
        #expect(delays == [10, 20, 40])
        let stats = try store.queueStats()
        #expect((stats.dead, stats.totalPending) == (1, 0))
        #expect(try store.retry(ids: nil, now: clock) == 1)
        #expect(try store.queueStats().byAttempts == [0: 1])
    }

    @Test("a removal is recorded exactly once per item, even if finishing is repeated")
    func exactlyOnce() throws {
        let store = try SQLiteStateStore()
        _ = try store.enqueue([NewQueueItem(path: "a.jpg", className: "c", reason: "r", notBefore: now)], source: "clean", now: now)
        let item = try #require(try store.claimDue(limit: 1, now: now).first)
        try store.finish(item, outcome: "quarantined", removedBytes: 10, quarantinePath: "/q/1-a.jpg", now: now)
        try store.finish(item, outcome: "quarantined", removedBytes: 10, quarantinePath: "/q/1-a.jpg", now: now)
        #expect(try store.removals(restorableOnly: false).count == 1)
        #expect(try store.queueStats().done == 1)
    }

    @Test("queue stats report pending, oldest, newest, attempts and dead")
    func stats() throws {
        let store = try SQLiteStateStore()
        _ = try store.enqueue([NewQueueItem(path: "a.jpg", className: "c", reason: "r", notBefore: now)], source: "clean", now: now)
        _ = try store.enqueue([NewQueueItem(path: "b.jpg", className: "c", reason: "r", notBefore: now)], source: "clean", now: now.addingTimeInterval(5))
        let stats = try store.queueStats()
        #expect(stats.totalPending == 2)
        #expect(stats.oldestQueued == now)
        #expect(stats.newestQueued == now.addingTimeInterval(5))
        #expect(stats.byAttempts == [0: 2])
        #expect(try store.drop(ids: [1]) == 1)
        #expect(try store.queueStats().totalPending == 1)
    }
}
