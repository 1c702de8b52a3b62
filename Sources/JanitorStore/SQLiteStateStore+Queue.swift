import Foundation
import GRDB
import JanitorCore

/// An event with the decision taken on it and the files it queues.
public struct EventDecision: Sendable {
    /// The event.
    public var event: ChangeEvent
    /// `enqueued`, `kept`, `ignored`, `refused`.
    public var decision: String
    /// Why.
    public var reason: String
    /// Files to queue.
    public var items: [NewQueueItem]

    /// Creates a decision.
    public init(event: ChangeEvent, decision: String, reason: String, items: [NewQueueItem]) {
        self.event = event
        self.decision = decision
        self.reason = reason
        self.items = items
    }
}

/// What the store did with an event's decision.
public enum EventRecording: Sendable, Hashable {
    /// Recorded, with the ids of the queue items it created.
    case recorded(queued: [Int64])
    /// The event id was seen before: nothing was done again.
    case duplicate(previousDecision: String)
}

/// One change of a queue item's state, for `StateStore.apply`.
public enum QueueTransition: Sendable {
    /// About to act: the file's identity and destination, recorded first.
    case acting(id: Int64, stage: String, device: Int64, inode: Int64, changeTime: Int64, bytes: Int64, quarantinePath: String?)
    /// Done, with a removal record when a file went.
    case finish(QueueItem, outcome: String, removedBytes: Int64?, quarantinePath: String?)
    /// Back to pending, no attempt counted.
    case release(id: Int64)
    /// A failed attempt (backoff, then dead-letter).
    case fail(id: Int64, error: String)
    /// Refused by a safety rule: dead at once.
    case refuse(id: Int64, reason: String)
}

/// An item a stopped run left `running`, with what it recorded before acting.
public struct InterruptedItem: Sendable {
    /// The item.
    public var item: QueueItem
    /// The file's device, inode and change time, when recorded.
    public var device: Int64?
    /// See `device`.
    public var inode: Int64?
    /// See `device`.
    public var changeTime: Int64?
    /// The file's size, when recorded.
    public var bytes: Int64?
    /// Where the file was being moved, when quarantining.
    public var quarantinePath: String?
}

extension SQLiteStateStore {
    /// Records many decisions in one transaction (one commit for a whole batch of events).
    public func record(_ decisions: [EventDecision], source: String, now: Date) throws(StoreError) -> [EventRecording] {
        try write { db in
            try decisions.map { entry in
                let event = entry.event
                if let previous = try String.fetchOne(db.cachedStatement(sql: "SELECT decision FROM event WHERE id = ?"), arguments: [event.id]) {
                    return .duplicate(previousDecision: previous)
                }
                try db.cachedStatement(sql: """
                    INSERT INTO event (id, received_at, source, table_name, column_name, op, row_key, old_path, new_path, tenant, decision, reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        event.id, now.timeIntervalSince1970, source, event.table, event.column, event.op.rawValue, event.key, event.old,
                        event.new, event.tenant, entry.decision, entry.reason,
                    ])
                var ids: [Int64] = []
                for item in entry.items {
                    if let id = try Self.enqueue(db, item, tenant: event.tenant, source: source, eventId: event.id, now: now) { ids.append(id) }
                }
                return .recorded(queued: ids)
            }
        }
    }

    /// Records events refused at intake (malformed, or a path the safety rules refuse), kept
    /// apart from decisions so that a corrected event with the same id is still processed.
    public func recordRejected(_ rejections: [(eventId: String?, field: String?, reason: String)], source: String, now: Date) throws(StoreError) {
        guard !rejections.isEmpty else { return }
        try write { db in
            for rejection in rejections {
                try db.cachedStatement(sql: "INSERT INTO rejected_event (received_at, source, event_id, field, reason) VALUES (?, ?, ?, ?, ?)")
                    .execute(arguments: [now.timeIntervalSince1970, source, rejection.eventId, rejection.field, rejection.reason])
            }
        }
    }

    /// Queues files with no event (`clean`); returns the ids of new or already active items.
    public func enqueue(_ items: [NewQueueItem], source: String, now: Date) throws(StoreError) -> [Int64] {
        try write { db in
            var ids: [Int64] = []
            for item in items {
                if let id = try Self.enqueue(db, item, tenant: nil, source: source, eventId: nil, now: now) { ids.append(id) }
            }
            return ids
        }
    }

    static func enqueue(_ db: Database, _ item: NewQueueItem, tenant: String?, source: String, eventId: String?, now: Date) throws -> Int64? {
        let active = try db.cachedStatement(sql: "SELECT id FROM queue_item WHERE path = ? AND state IN ('pending', 'running')")
        if let id = try Int64.fetchOne(active, arguments: [item.path]) { return id }
        try db.cachedStatement(sql: """
            INSERT INTO queue_item (path, class, tenant, reason, source, event_id, queued_at, not_before)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [item.path, item.className, tenant, item.reason, source, eventId, now.timeIntervalSince1970, item.notBefore.timeIntervalSince1970])
        return db.lastInsertedRowID
    }

    /// Claims up to `limit` due items (pending, `not_before` passed), oldest first, marking them
    /// `running` at stage `claimed` in one transaction.
    public func claimDue(limit: Int, now: Date) throws(StoreError) -> [QueueItem] {
        try write { db in
            let items = try Row.fetchAll(
                db, sql: "SELECT * FROM queue_item WHERE state = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit]
            ).map(Self.item)
            let claim = try db.cachedStatement(sql: "UPDATE queue_item SET state = 'running', stage = 'claimed' WHERE id = ?")
            for item in items { try claim.execute(arguments: [item.id]) }
            return items.map { var item = $0; item.state = .running; item.stage = "claimed"; return item }
        }
    }

    /// Items left `running` by a run that stopped (a crash), with what they had recorded.
    public func interrupted() throws(StoreError) -> [InterruptedItem] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM queue_item WHERE state = 'running' ORDER BY id").map { row in
                InterruptedItem(
                    item: Self.item(row), device: row["device"], inode: row["inode"], changeTime: row["change_time"],
                    bytes: row["bytes"], quarantinePath: row["quarantine_path"])
            }
        }
    }

    /// Applies several queue transitions in one transaction (one commit for a whole batch).
    /// Returns, per transition, the state a `fail` left the item in (nil for the others).
    @discardableResult
    public func apply(
        _ transitions: [QueueTransition], maxAttempts: Int, backoff: Backoff, now: Date
    ) throws(StoreError) -> [QueueState?] {
        guard !transitions.isEmpty else { return [] }
        return try write { db in
            try transitions.map { transition -> QueueState? in
                switch transition {
                case .acting(let id, let stage, let device, let inode, let changeTime, let bytes, let quarantinePath):
                    try db.cachedStatement(sql: "UPDATE queue_item SET stage = ?, device = ?, inode = ?, change_time = ?, bytes = ?, quarantine_path = ? WHERE id = ? AND state = 'running'")
                        .execute(arguments: [stage, device, inode, changeTime, bytes, quarantinePath, id])
                    return db.changesCount > 0 ? .running : nil
                case .finish(let item, let outcome, let removedBytes, let quarantinePath):
                    if let removedBytes {
                        try db.cachedStatement(sql: """
                            INSERT OR IGNORE INTO removal (queue_item_id, path, bytes, class, reason, source, event_id, tenant, removed_at, quarantine_path)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """).execute(arguments: [
                                item.id, item.path, removedBytes, item.className, item.reason, item.source, item.eventId, item.tenant,
                                now.timeIntervalSince1970, quarantinePath,
                            ])
                    }
                    try db.cachedStatement(sql: "UPDATE queue_item SET state = 'done', stage = NULL, outcome = ?, finished_at = ? WHERE id = ?")
                        .execute(arguments: [outcome, now.timeIntervalSince1970, item.id])
                case .release(let id):
                    try db.execute(sql: "UPDATE queue_item SET state = 'pending', stage = NULL WHERE id = ? AND state = 'running'", arguments: [id])
                case .fail(let id, let error):
                    let attempts = (try Int.fetchOne(db, sql: "SELECT attempts FROM queue_item WHERE id = ?", arguments: [id]) ?? 0) + 1
                    let state: QueueState = attempts >= maxAttempts ? .dead : .pending
                    let notBefore = now.addingTimeInterval(backoff.delay(afterAttempts: attempts))
                    try db.execute(
                        sql: "UPDATE queue_item SET state = ?, stage = NULL, attempts = ?, last_error = ?, not_before = ?, finished_at = ? WHERE id = ?",
                        arguments: [state.rawValue, attempts, error, notBefore.timeIntervalSince1970, state == .dead ? now.timeIntervalSince1970 : nil, id])
                    return state
                case .refuse(let id, let reason):
                    try db.execute(
                        sql: "UPDATE queue_item SET state = 'dead', stage = NULL, last_error = ?, outcome = 'refused', finished_at = ? WHERE id = ?",
                        arguments: [reason, now.timeIntervalSince1970, id])
                }
                return nil
            }
        }
    }

    /// Queue totals.
    public func queueStats() throws(StoreError) -> QueueStats {
        try read { db in
            let pending = try Row.fetchOne(db, sql: "SELECT count(*) AS n, min(queued_at) AS oldest, max(queued_at) AS newest FROM queue_item WHERE state IN ('pending', 'running')")!
            var byAttempts: [Int: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT attempts, count(*) AS n FROM queue_item WHERE state IN ('pending', 'running') GROUP BY attempts") {
                byAttempts[row["attempts"]] = row["n"]
            }
            let dead = try Int.fetchOne(db, sql: "SELECT count(*) FROM queue_item WHERE state = 'dead'") ?? 0
            let done = try Int.fetchOne(db, sql: "SELECT count(*) FROM queue_item WHERE state = 'done'") ?? 0
            return QueueStats(
                totalPending: pending["n"], oldestQueued: (pending["oldest"] as Double?).map(Date.init(timeIntervalSince1970:)),
                newestQueued: (pending["newest"] as Double?).map(Date.init(timeIntervalSince1970:)), byAttempts: byAttempts, dead: dead, done: done)
        }
    }

    /// How many items a run starting at `now` finds due.
    public func dueCount(now: Date) throws(StoreError) -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM queue_item WHERE state = 'pending' AND not_before <= ?", arguments: [now.timeIntervalSince1970]) ?? 0
        }
    }

    /// Items in a state (all states when nil), newest first.
    public func queueItems(state: QueueState?, limit: Int) throws(StoreError) -> [QueueItem] {
        try read { db in
            if let state {
                return try Row.fetchAll(db, sql: "SELECT * FROM queue_item WHERE state = ? ORDER BY id DESC LIMIT ?", arguments: [state.rawValue, limit]).map(Self.item)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM queue_item ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.item)
        }
    }

    /// Items by id.
    public func queueItems(ids: [Int64]) throws(StoreError) -> [QueueItem] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM queue_item WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(ids)).map(Self.item)
        }
    }

    /// Sends dead items (the given ids, or all) back to pending with their attempts reset.
    public func retry(ids: [Int64]?, now: Date) throws(StoreError) -> Int {
        try write { db in
            var sql = "UPDATE queue_item SET state = 'pending', attempts = 0, not_before = ?, finished_at = NULL, outcome = NULL WHERE state = 'dead'"
            var arguments: StatementArguments = [now.timeIntervalSince1970]
            if let ids {
                sql += " AND id IN (\(ids.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(ids)
            }
            // A path may have been queued again meanwhile: keep one active item per path.
            sql += " AND path NOT IN (SELECT path FROM queue_item WHERE state IN ('pending', 'running'))"
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
    }

    /// Removes pending or dead items (the given ids, or every dead one) from the queue.
    public func drop(ids: [Int64]?) throws(StoreError) -> Int {
        try write { db in
            if let ids {
                try db.execute(
                    sql: "DELETE FROM queue_item WHERE state IN ('pending', 'dead') AND id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(ids))
            } else {
                try db.execute(sql: "DELETE FROM queue_item WHERE state = 'dead'")
            }
            return db.changesCount
        }
    }

    /// The decision recorded for an event id, if any.
    public func decision(forEvent id: String) throws(StoreError) -> (decision: String, reason: String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT decision, reason FROM event WHERE id = ?", arguments: [id]).map { ($0["decision"], $0["reason"]) }
        }
    }

    static func item(_ row: Row) -> QueueItem {
        QueueItem(
            id: row["id"], path: row["path"], className: row["class"], tenant: row["tenant"], reason: row["reason"],
            source: row["source"], eventId: row["event_id"], queuedAt: Date(timeIntervalSince1970: row["queued_at"]),
            notBefore: Date(timeIntervalSince1970: row["not_before"]), attempts: row["attempts"], lastError: row["last_error"],
            state: QueueState(rawValue: row["state"]) ?? .pending, stage: row["stage"], outcome: row["outcome"])
    }

    // MARK: Removals and the quarantine manifest

    /// Removals recorded at or after `date`, oldest first (for the sidecar's webhooks and usage).
    public func removals(since date: Date) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM removal WHERE removed_at >= ? ORDER BY id", arguments: [date.timeIntervalSince1970]).map(Self.removal)
        }
    }

    /// Removals, newest first: all, or only those still restorable from the quarantine.
    public func removals(restorableOnly: Bool, limit: Int) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            let filter = restorableOnly ? "WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL" : ""
            return try Row.fetchAll(db, sql: "SELECT * FROM removal \(filter) ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.removal)
        }
    }

    /// Restorable removals selected by id, by original path (the latest), or by time.
    public func restorable(id: Int64?, path: String?, since: Date?) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            let base = "SELECT * FROM removal WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL"
            if let id {
                return try Row.fetchAll(db, sql: base + " AND id = ?", arguments: [id]).map(Self.removal)
            }
            if let path {
                return try Row.fetchAll(db, sql: base + " AND path = ? ORDER BY id DESC LIMIT 1", arguments: [path]).map(Self.removal)
            }
            return try Row.fetchAll(db, sql: base + " AND removed_at >= ? ORDER BY id", arguments: [(since ?? .distantPast).timeIntervalSince1970]).map(Self.removal)
        }
    }

    /// Quarantined files older than `date`, not restored or purged.
    public func purgeable(before date: Date) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM removal WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL AND removed_at < ? ORDER BY id",
                arguments: [date.timeIntervalSince1970]
            ).map(Self.removal)
        }
    }

    /// Marks a removal restored.
    public func markRestored(_ id: Int64, now: Date) throws(StoreError) {
        try write { try $0.execute(sql: "UPDATE removal SET restored_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id]) }
    }

    /// Marks a removal's quarantined copy purged.
    public func markPurged(_ id: Int64, now: Date) throws(StoreError) {
        try write { try $0.execute(sql: "UPDATE removal SET purged_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id]) }
    }

    static func removal(_ row: Row) -> RemovalRecord {
        RemovalRecord(
            id: row["id"], queueItemId: row["queue_item_id"], path: row["path"], bytes: row["bytes"], className: row["class"],
            reason: row["reason"], source: row["source"], eventId: row["event_id"], tenant: row["tenant"],
            removedAt: Date(timeIntervalSince1970: row["removed_at"]), quarantinePath: row["quarantine_path"],
            restoredAt: (row["restored_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            purgedAt: (row["purged_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    // MARK: Transactions

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try queue.write(body)
        } catch {
            throw Self.failure(error, path: path, opening: false)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw Self.failure(error, path: path, opening: false)
        }
    }
}
