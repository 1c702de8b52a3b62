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

    func item(_ path: String, after seconds: TimeInterval = 0) -> NewQueueItem {
        NewQueueItem(path: path, className: "c", reason: "r", notBefore: now.addingTimeInterval(seconds))
    }

    @Test("an event id is recorded once; delivered again it is a duplicate and queues nothing", arguments: StoreKind.allCases)
    func idempotent(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            let item = NewQueueItem(path: "a/b.jpg", className: "c", reason: "row deleted", notBefore: now)
            #expect(
                try store.record(event("e1"), source: "http", decision: "enqueued", reason: "x", queue: [item], now: now)
                    == .recorded(queued: [1]))
            #expect(
                try store.record(event("e1"), source: "http", decision: "enqueued", reason: "x", queue: [item], now: now)
                    == .duplicate(previousDecision: "enqueued"))
            #expect(try store.queueStats().totalPending == 1)
            // Another event for the same path joins the active item instead of adding one.
            #expect(
                try store.record(event("e2"), source: "http", decision: "enqueued", reason: "x", queue: [item], now: now)
                    == .recorded(queued: [1]))
            #expect(try store.queueStats().totalPending == 1)
        }
    }

    @Test("a batch of decisions is recorded in order; a repeated id within the batch is a duplicate", arguments: StoreKind.allCases)
    func batch(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            let decisions = [
                EventDecision(event: event("e1", old: "a.jpg"), decision: "enqueued", reason: "row deleted", items: [item("a.jpg")]),
                EventDecision(event: event("e2", old: "b.jpg"), decision: "kept", reason: "still referenced", items: []),
                EventDecision(event: event("e1", old: "a.jpg"), decision: "enqueued", reason: "row deleted", items: [item("a.jpg")]),
                EventDecision(
                    event: event("e3", old: "c.jpg"), decision: "enqueued", reason: "replaced", items: [item("c.jpg"), item("c_thumb.jpg")]),
            ]
            #expect(
                try store.record(decisions, source: "outbox", now: now) == [
                    .recorded(queued: [1]), .recorded(queued: []), .duplicate(previousDecision: "enqueued"), .recorded(queued: [2, 3]),
                ])
            #expect(try store.decision(forEvent: "e2").map { [$0.decision, $0.reason] } == ["kept", "still referenced"])
            #expect(try store.decision(forEvent: "nope") == nil)
            let queued = try store.queueItems(ids: [1, 2, 3])
            #expect(queued.map(\.path) == ["a.jpg", "c.jpg", "c_thumb.jpg"])
            #expect(
                queued.allSatisfy {
                    $0.tenant == "acme" && $0.source == "outbox" && $0.queuedAt == now && $0.state == .pending && $0.attempts == 0
                })
            #expect(queued.map(\.eventId) == ["e1", "e3", "e3"])
        }
    }

    @Test("a rejected event is kept apart: the corrected event with the same id is still processed", arguments: StoreKind.allCases)
    func rejected(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            try store.recordRejected(
                [(eventId: "e1", field: "old", reason: "absolute path"), (eventId: nil, field: nil, reason: "not JSON")], source: "http",
                now: now)
            #expect(try store.decision(forEvent: "e1") == nil)
            #expect(
                try store.record(event("e1"), source: "http", decision: "enqueued", reason: "x", queue: [item("a/b.jpg")], now: now)
                    == .recorded(queued: [1]))
        }
    }

    @Test("one active item per path; once done, the path can be queued again", arguments: StoreKind.allCases)
    func oneActivePerPath(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            #expect(try store.enqueue([item("a.jpg"), item("b.jpg"), item("a.jpg")], source: "clean", now: now) == [1, 2, 1])
            let claimed = try store.claimDue(limit: 1, now: now)
            #expect(claimed.map(\.id) == [1])
            // Running is active too.
            #expect(try store.enqueue([item("a.jpg")], source: "clean", now: now) == [1])
            try store.finish(claimed[0], outcome: "already gone", removedBytes: nil, quarantinePath: nil, now: now)
            #expect(try store.enqueue([item("a.jpg")], source: "clean", now: now) == [3])
            #expect(try store.removals(restorableOnly: false).isEmpty)
        }
    }

    @Test("recording the intent to act says whether the item is still held: running for a claimed item, nil for one that is not running", arguments: StoreKind.allCases)
    func actingReportsHold(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg"), item("b.jpg")], source: "clean", now: now)
            let claimed = try store.claimDue(limit: 1, now: now)
            let states = try store.apply(
                [
                    .acting(id: claimed[0].id, stage: "unlinking", device: 1, inode: 2, changeTime: 3, bytes: 4, quarantinePath: nil),
                    .acting(id: 2, stage: "unlinking", device: 1, inode: 2, changeTime: 3, bytes: 4, quarantinePath: nil),
                ], maxAttempts: 5, backoff: Backoff(), now: now)
            // QueueRunner acts only on the items whose intent is recorded (`.running`).
            #expect(states == [.running, nil])
            #expect(try store.queueItems(ids: [2]).first?.stage == nil)
        }
    }

    @Test("delay: an item is not claimed before not_before", arguments: StoreKind.allCases)
    func delay(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg", after: 60)], source: "clean", now: now)
            #expect(try store.claimDue(limit: 10, now: now).isEmpty)
            #expect(try store.claimDue(limit: 10, now: now.addingTimeInterval(61)).map(\.path) == ["a.jpg"])
        }
    }

    @Test("claims take the oldest due items first and mark them running at stage claimed", arguments: StoreKind.allCases)
    func claimOrder(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue(
                [item("late.jpg", after: 30), item("early.jpg", after: -30), item("middle.jpg"), item("tie.jpg")], source: "clean", now: now
            )
            let claimed = try store.claimDue(limit: 3, now: now.addingTimeInterval(60))
            #expect(claimed.map(\.path) == ["early.jpg", "middle.jpg", "tie.jpg"])
            #expect(claimed.allSatisfy { $0.state == .running && $0.stage == "claimed" })
            #expect(try store.queueItems(ids: claimed.map(\.id)) == claimed)
            #expect(try store.claimDue(limit: 3, now: now.addingTimeInterval(60)).map(\.path) == ["late.jpg"])
            #expect(try store.claimDue(limit: 3, now: now.addingTimeInterval(60)).isEmpty)
            // Running items still count as pending work.
            #expect(try store.queueStats().totalPending == 4)
            #expect(try store.queueItems(state: .running, limit: 2).map(\.path) == ["tie.jpg", "middle.jpg"])
        }
    }

    @Test("a released item goes back to pending without counting an attempt", arguments: StoreKind.allCases)
    func release(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg")], source: "clean", now: now)
            let claimed = try #require(try store.claimDue(limit: 1, now: now).first)
            try store.release(claimed.id)
            let after = try store.queueItems(ids: [claimed.id])[0]
            #expect(after.state == .pending)
            #expect(after.stage == nil)
            #expect(after.attempts == 0)
            #expect(try store.claimDue(limit: 1, now: now).map(\.id) == [claimed.id])
        }
    }

    @Test("failures back off exponentially, then dead-letter at max_attempts", arguments: StoreKind.allCases)
    func backoff(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg")], source: "clean", now: now)
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
    }

    @Test("a refused item is dead at once with outcome refused; retry skips a path queued again meanwhile", arguments: StoreKind.allCases)
    func refuse(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg"), item("b.jpg")], source: "clean", now: now)
            for claimed in try store.claimDue(limit: 2, now: now) {
                try store.refuse(claimed.id, reason: "refused: symlink in path", now: now)
            }
            let dead = try store.queueItems(state: .dead, limit: 10)
            #expect(dead.map(\.path) == ["b.jpg", "a.jpg"])
            #expect(dead.allSatisfy { $0.outcome == "refused" && $0.lastError == "refused: symlink in path" && $0.stage == nil })
            // a.jpg is queued again: retrying its dead item would make two active items.
            #expect(try store.enqueue([item("a.jpg")], source: "clean", now: now) == [3])
            #expect(try store.retry(ids: nil, now: now) == 1)
            #expect(try store.queueItems(ids: [1, 2]).map(\.state) == [.dead, .pending])
            #expect(try store.queueItems(ids: [2])[0].outcome == nil)
        }
    }

    @Test("drop removes only pending or dead items", arguments: StoreKind.allCases)
    func drop(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg"), item("b.jpg"), item("c.jpg")], source: "clean", now: now)
            let running = try #require(try store.claimDue(limit: 1, now: now).first)
            let dead = try #require(try store.claimDue(limit: 1, now: now).first)
            try store.refuse(dead.id, reason: "refused", now: now)
            #expect(try store.drop(ids: [running.id]) == 0)
            #expect(try store.drop(ids: nil) == 1)
            #expect(try store.drop(ids: [3, running.id]) == 1)
            #expect(try store.queueItems(state: nil, limit: 10).map(\.id) == [running.id])
        }
    }

    @Test("a removal is recorded exactly once per item, even if finishing is repeated", arguments: StoreKind.allCases)
    func exactlyOnce(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg")], source: "clean", now: now)
            let item = try #require(try store.claimDue(limit: 1, now: now).first)
            try store.finish(item, outcome: "quarantined", removedBytes: 10, quarantinePath: "/q/1-a.jpg", now: now)
            try store.finish(item, outcome: "quarantined", removedBytes: 10, quarantinePath: "/q/1-a.jpg", now: now)
            #expect(try store.removals(restorableOnly: false).count == 1)
            #expect(try store.queueStats().done == 1)
        }
    }

    @Test("removals carry the item's facts; quarantined ones are restorable until restored or purged", arguments: StoreKind.allCases)
    func removals(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.record(
                event("e1", old: "a.jpg"), source: "http", decision: "enqueued", reason: "x", queue: [item("a.jpg")], now: now)
            _ = try store.enqueue([item("b.jpg"), item("c.jpg")], source: "clean", now: now)
            let claimed = try store.claimDue(limit: 3, now: now)
            try store.apply(
                [
                    .finish(claimed[0], outcome: "quarantined", removedBytes: 10, quarantinePath: "/q/1-a.jpg"),
                    .finish(claimed[1], outcome: "removed", removedBytes: 20, quarantinePath: nil),
                    .finish(claimed[2], outcome: "quarantined", removedBytes: 30, quarantinePath: "/q/3-c.jpg"),
                ], now: now.addingTimeInterval(10))
            let all = try store.removals(since: now)
            #expect(all.map(\.path) == ["a.jpg", "b.jpg", "c.jpg"])
            #expect(
                all[0]
                    == RemovalRecord(
                        id: all[0].id, queueItemId: claimed[0].id, path: "a.jpg", bytes: 10, className: "c", reason: "r", source: "http",
                        eventId: "e1",
                        tenant: "acme", removedAt: now.addingTimeInterval(10), quarantinePath: "/q/1-a.jpg", restoredAt: nil, purgedAt: nil)
            )
            #expect(try store.removals(since: now.addingTimeInterval(11)).isEmpty)
            #expect(try store.removals(restorableOnly: true).map(\.path) == ["c.jpg", "a.jpg"])
            #expect(try store.removals(restorableOnly: false, limit: 2).map(\.path) == ["c.jpg", "b.jpg"])
            #expect(try store.restorable(path: "c.jpg").map(\.path) == ["c.jpg"])
            #expect(try store.restorable(id: all[1].id).isEmpty)
            #expect(try store.restorable(id: nil, path: nil, since: now).map(\.path) == ["a.jpg", "c.jpg"])
            #expect(try store.purgeable(before: now.addingTimeInterval(11)).map(\.path) == ["a.jpg", "c.jpg"])
            #expect(try store.purgeable(before: now.addingTimeInterval(10)).isEmpty)
            try store.markRestored(all[0].id, now: now.addingTimeInterval(20))
            try store.markPurged(all[2].id, now: now.addingTimeInterval(30))
            #expect(try store.removals(restorableOnly: true).isEmpty)
            let marked = try store.removals(since: now)
            #expect(marked[0].restoredAt == now.addingTimeInterval(20))
            #expect(marked[2].purgedAt == now.addingTimeInterval(30))
        }
    }

    @Test("after a crash the next run finds the running items with the identity they recorded before acting", arguments: StoreKind.allCases)
    func interrupted(kind: StoreKind) throws {
        // A lease of zero: the crashed janitor's claims have run out by the time the next one looks.
        try kind.withReopenableStore(lease: 0) { (store, reopen) throws in
            _ = try store.enqueue([item("a.jpg"), item("b.jpg"), item("c.jpg")], source: "clean", now: now)
            let claimed = try store.claimDue(limit: 2, now: now)
            try store.markActing(
                claimed[0].id, stage: "moving", device: 64_768, inode: 1_234, changeTime: 1_799_999_000, bytes: 99,
                quarantinePath: "/q/1-a.jpg")
            // The janitor is killed here; the next one starts.
            let next = try reopen()
            let found = try next.interrupted()
            #expect(found.map(\.item.path) == ["a.jpg", "b.jpg"])
            #expect(found.map(\.item.stage) == ["moving", "claimed"])
            let first = try #require(found.first)
            #expect([first.device, first.inode, first.changeTime, first.bytes] == [64_768, 1_234, 1_799_999_000, 99])
            #expect(first.quarantinePath == "/q/1-a.jpg")
            #expect(found[1].device == nil && found[1].quarantinePath == nil)
            // The next janitor resolves them.
            try next.finish(first.item, outcome: "quarantined", removedBytes: 99, quarantinePath: "/q/1-a.jpg", now: now)
            try next.release(found[1].item.id)
            #expect(try next.interrupted().isEmpty)
            #expect(try next.removals(restorableOnly: true).map(\.path) == ["a.jpg"])
            #expect(try next.claimDue(limit: 5, now: now).map(\.path) == ["b.jpg", "c.jpg"])
        }
    }

    @Test("queue stats report pending, oldest, newest, attempts and dead", arguments: StoreKind.allCases)
    func stats(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            _ = try store.enqueue([item("a.jpg")], source: "clean", now: now)
            _ = try store.enqueue([item("b.jpg")], source: "clean", now: now.addingTimeInterval(5))
            let stats = try store.queueStats()
            #expect(stats.totalPending == 2)
            #expect(stats.oldestQueued == now)
            #expect(stats.newestQueued == now.addingTimeInterval(5))
            #expect(stats.byAttempts == [0: 2])
            #expect(try store.drop(ids: [1]) == 1)
            #expect(try store.queueStats().totalPending == 1)
            #expect(try store.drop(ids: [2]) == 1)
            #expect(
                try store.queueStats()
                    == QueueStats(totalPending: 0, oldestQueued: nil, newestQueued: nil, byAttempts: [:], dead: 0, done: 0))
        }
    }
}
