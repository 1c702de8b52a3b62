import Foundation
import JanitorCore
import JanitorPostgres
import PostgresNIO

extension PostgresStateStore {
    /// Records many decisions in one transaction (one commit for a whole batch of events). Two
    /// janitors recording one event id at once record it once: the second waits for the first
    /// to commit, then finds a duplicate.
    public func record(_ decisions: [EventDecision], source: String, now: Date) throws(StoreError) -> [EventRecording] {
        try write { db in
            try lockIntake(db, events: decisions.map(\.event.id), paths: decisions.flatMap { $0.items.map(\.path) })
            return try decisions.map { entry in
                let event = entry.event
                let inserted = try db.execute(
                    """
                    INSERT INTO janitor_event (id, received_at, source, table_name, column_name, op, row_key, old_path, new_path, tenant, decision, reason)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                    ON CONFLICT (id) DO NOTHING
                    """,
                    [
                        .text(event.id), .seconds(now), .text(source), .text(event.table), .text(event.column), .text(event.op.rawValue),
                        .text(event.key), .nullable(event.old), .nullable(event.new), .nullable(event.tenant), .text(entry.decision),
                        .text(entry.reason),
                    ])
                if inserted == 0 {
                    let previous = try db.rows("SELECT decision FROM janitor_event WHERE id = $1", [.text(event.id)])
                    return .duplicate(previousDecision: try previous.first?.decode(String.self) ?? entry.decision)
                }
                var ids: [Int64] = []
                for item in entry.items {
                    ids.append(try enqueue(db, item, tenant: event.tenant, source: source, eventId: event.id, now: now))
                }
                return .recorded(queued: ids)
            }
        }
    }

    /// Records events refused at intake (malformed, or a path the safety rules refuse), kept
    /// apart from decisions so that a corrected event with the same id is still processed.
    public func recordRejected(_ rejections: [(eventId: String?, field: String?, reason: String)], source: String, now: Date)
        throws(StoreError)
    {
        guard !rejections.isEmpty else { return }
        try write { db in
            for rejection in rejections {
                try db.execute(
                    "INSERT INTO janitor_rejected_event (received_at, source, event_id, field, reason) VALUES ($1, $2, $3, $4, $5)",
                    [.seconds(now), .text(source), .nullable(rejection.eventId), .nullable(rejection.field), .text(rejection.reason)])
            }
        }
    }

    /// Queues files with no event (`clean`); returns the ids of new or already active items.
    public func enqueue(_ items: [NewQueueItem], source: String, now: Date) throws(StoreError) -> [Int64] {
        try write { db in
            try lockIntake(db, events: [], paths: items.map(\.path))
            return try items.map { try enqueue(db, $0, tenant: nil, source: source, eventId: nil, now: now) }
        }
    }

    /// Takes, for this transaction, a lock per event id and per path it is about to record, in
    /// one global order, so that janitors recording the same events or queueing the same paths
    /// at once take turns instead of deadlocking (they would wait on each other's uncommitted
    /// rows in whatever order their batches came), and ids still follow each batch's order.
    ///
    /// Every intake first takes the intake lock: shared by batches small enough to lock key by
    /// key, exclusive for a larger one (a `clean` of many orphans), which then runs alone rather
    /// than filling the server's lock table.
    func lockIntake(_ db: PostgresSession, events: [String], paths: [String]) throws {
        let keys = Set(events.map { Self.lockKey("event", $0) } + paths.map { Self.lockKey("path", $0) }).sorted()
        guard !keys.isEmpty else { return }
        if keys.count > Self.keyLocksPerBatch {
            return try lockAllIntake(db)
        }
        try db.execute("SELECT pg_advisory_xact_lock_shared($1)", [.int(Self.lockKey("intake", ""))])
        try db.execute("SELECT pg_advisory_xact_lock(key) FROM unnest($1::bigint[]) AS key", [.ids(keys)])
    }

    /// Takes the intake lock alone, for this transaction: no other janitor queues anything
    /// until it commits.
    func lockAllIntake(_ db: PostgresSession) throws {
        try db.execute("SELECT pg_advisory_xact_lock($1)", [.int(Self.lockKey("intake", ""))])
    }

    /// The most keys a batch locks one by one (the server's lock table is shared and sized
    /// by `max_locks_per_transaction`, 64 per connection by default).
    static let keyLocksPerBatch = 500

    /// A 64-bit FNV-1a hash of `kind:value`, as an advisory lock key.
    static func lockKey(_ kind: String, _ value: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "janitor:\(kind):\(value)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// Queues one file, or returns the id of its active item. The caller holds the path's
    /// intake lock; a path made active by something else meanwhile (a `retry`) is joined.
    func enqueue(_ db: PostgresSession, _ item: NewQueueItem, tenant: String?, source: String, eventId: String?, now: Date) throws -> Int64
    {
        let path = PostgresValue.text(item.path)
        // The active item may finish between a look-up and the insert: then try again.
        for _ in 1...5 {
            // Looked up first so that a path already queued costs no id (ids stay dense).
            if let active = try db.rows("SELECT id FROM janitor_queue_item WHERE path = $1 AND state IN ('pending', 'running')", [path])
                .first
            {
                return try active.decode(Int64.self)
            }
            let inserted = try db.rows(
                """
                INSERT INTO janitor_queue_item (path, class, tenant, reason, source, event_id, queued_at, not_before)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (path) WHERE state IN ('pending', 'running') DO NOTHING
                RETURNING id
                """,
                [
                    path, .text(item.className), .nullable(tenant), .text(item.reason), .text(source), .nullable(eventId), .seconds(now),
                    .seconds(item.notBefore),
                ])
            if let row = inserted.first { return try row.decode(Int64.self) }
        }
        throw StoreError.query(
            path: location, reason: "cannot queue '\(item.path)': its active item kept changing under other janitors; run the command again"
        )
    }

    /// Claims up to `limit` due items (pending, `not_before` passed), oldest first, in one
    /// statement: rows another janitor is claiming are skipped, not waited for, so no item is
    /// claimed twice. Each claim records this janitor and a lease on the server's clock.
    public func claimDue(limit: Int, now: Date) throws(StoreError) -> [QueueItem] {
        guard limit > 0 else { return [] }
        return try write { db in
            try db.rows(
                """
                UPDATE janitor_queue_item SET state = 'running', stage = 'claimed', claimed_by = $3, lease_until = now() + $4 * interval '1 second'
                WHERE id IN (
                    SELECT id FROM janitor_queue_item WHERE state = 'pending' AND not_before <= $1
                    ORDER BY not_before, id LIMIT $2 FOR UPDATE SKIP LOCKED)
                RETURNING *
                """,
                [.seconds(now), .number(limit), .text(janitor), .double(lease)]
            ).map(Self.item).sorted { ($0.notBefore, $0.id) < ($1.notBefore, $1.id) }
        }
    }

    /// Items a stopped janitor left `running` whose lease has run out, with what they had
    /// recorded: taken over by this janitor (claimed, with a fresh lease) in one statement, so
    /// two janitors never recover one item, and an item whose holder still renews it is never
    /// returned.
    public func interrupted() throws(StoreError) -> [InterruptedItem] {
        try write { db in
            try db.rows(
                """
                UPDATE janitor_queue_item SET claimed_by = $1, lease_until = now() + $2 * interval '1 second'
                WHERE id IN (
                    SELECT id FROM janitor_queue_item WHERE state = 'running' AND lease_until < now()
                    ORDER BY id FOR UPDATE SKIP LOCKED)
                RETURNING *
                """,
                [.text(janitor), .double(lease)]
            ).map { row in
                let columns = StoreRow(row)
                return InterruptedItem(
                    item: try Self.item(row), device: try columns["device"], inode: try columns["inode"],
                    changeTime: try columns["change_time"],
                    bytes: try columns["bytes"], quarantinePath: try columns["quarantine_path"])
            }.sorted { $0.item.id < $1.item.id }
        }
    }

    /// Applies several queue transitions in one transaction (one commit for a whole batch).
    /// Returns, per transition, the state a `fail` left the item in (nil for the others).
    ///
    /// Only items this janitor holds move on: one whose lease ran out and that another janitor
    /// took over is left alone (a `fail` then returns its current state), so an item is never
    /// finished twice, and its removal is recorded once.
    @discardableResult
    public func apply(_ transitions: [QueueTransition], maxAttempts: Int, backoff: Backoff, now: Date) throws(StoreError) -> [QueueState?] {
        guard !transitions.isEmpty else { return [] }
        let me = PostgresValue.text(janitor)
        return try write { db in
            // This janitor is alive and working: every item it holds keeps its claim for another
            // lease (a round claims many batches at once; the later ones must not lapse). Only
            // leases past their half are renewed, so a batch does not rewrite every held row.
            try db.execute(
                """
                UPDATE janitor_queue_item SET lease_until = now() + $2 * interval '1 second'
                WHERE state = 'running' AND claimed_by = $1 AND lease_until < now() + $2 / 2 * interval '1 second'
                """,
                [me, .double(lease)])
            return try transitions.map { transition -> QueueState? in
                switch transition {
                case .acting(let id, let stage, let device, let inode, let changeTime, let bytes, let quarantinePath):
                    let held = try db.execute(
                        """
                        UPDATE janitor_queue_item SET stage = $1, device = $2, inode = $3, change_time = $4, bytes = $5, quarantine_path = $6
                        WHERE id = $7 AND state = 'running' AND claimed_by = $8
                        """,
                        [.text(stage), .int(device), .int(inode), .int(changeTime), .int(bytes), .nullable(quarantinePath), .int(id), me])
                    return held > 0 ? .running : nil
                case .finish(let item, let outcome, let removedBytes, let quarantinePath):
                    let finished = try db.execute(
                        """
                        UPDATE janitor_queue_item SET state = 'done', stage = NULL, outcome = $1, finished_at = $2, lease_until = NULL
                        WHERE id = $3 AND state = 'running' AND claimed_by = $4
                        """,
                        [.text(outcome), .seconds(now), .int(item.id), me])
                    if finished == 1, let removedBytes {
                        try db.execute(
                            """
                            INSERT INTO janitor_removal (queue_item_id, path, bytes, class, reason, source, event_id, tenant, removed_at, quarantine_path)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                            ON CONFLICT (queue_item_id) DO NOTHING
                            """,
                            [
                                .int(item.id), .text(item.path), .int(removedBytes), .text(item.className), .text(item.reason),
                                .text(item.source),
                                .nullable(item.eventId), .nullable(item.tenant), .seconds(now), .nullable(quarantinePath),
                            ])
                    }
                case .release(let id):
                    try db.execute(
                        """
                        UPDATE janitor_queue_item SET state = 'pending', stage = NULL, claimed_by = NULL, lease_until = NULL
                        WHERE id = $1 AND state = 'running' AND claimed_by = $2
                        """,
                        [.int(id), me])
                case .fail(let id, let error):
                    let held = try db.rows(
                        "SELECT attempts FROM janitor_queue_item WHERE id = $1 AND state = 'running' AND claimed_by = $2 FOR UPDATE",
                        [.int(id), me])
                    guard let row = held.first else {
                        return try db.rows("SELECT state FROM janitor_queue_item WHERE id = $1", [.int(id)]).first
                            .flatMap { QueueState(rawValue: try $0.decode(String.self)) }
                    }
                    let attempts = try row.decode(Int.self) + 1
                    let state: QueueState = attempts >= maxAttempts ? .dead : .pending
                    let notBefore = now.addingTimeInterval(backoff.delay(afterAttempts: attempts))
                    try db.execute(
                        """
                        UPDATE janitor_queue_item SET state = $1, stage = NULL, attempts = $2, last_error = $3, not_before = $4, finished_at = $5,
                            claimed_by = CASE WHEN $1 = 'dead' THEN claimed_by END, lease_until = NULL
                        WHERE id = $6
                        """,
                        [
                            .text(state.rawValue), .number(attempts), .text(error), .seconds(notBefore),
                            state == .dead ? .seconds(now) : .null, .int(id),
                        ])
                    return state
                case .refuse(let id, let reason):
                    try db.execute(
                        """
                        UPDATE janitor_queue_item SET state = 'dead', stage = NULL, last_error = $1, outcome = 'refused', finished_at = $2, lease_until = NULL
                        WHERE id = $3 AND state = 'running' AND claimed_by = $4
                        """,
                        [.text(reason), .seconds(now), .int(id), me])
                }
                return nil
            }
        }
    }

    /// Queue totals.
    public func queueStats() throws(StoreError) -> QueueStats {
        try read { db in
            let totals = StoreRow(
                try db.rows(
                    """
                    SELECT count(*) FILTER (WHERE state IN ('pending', 'running')) AS pending,
                        min(queued_at) FILTER (WHERE state IN ('pending', 'running')) AS oldest,
                        max(queued_at) FILTER (WHERE state IN ('pending', 'running')) AS newest,
                        count(*) FILTER (WHERE state = 'dead') AS dead,
                        count(*) FILTER (WHERE state = 'done') AS done
                    FROM janitor_queue_item
                    """)[0])
            var byAttempts: [Int: Int] = [:]
            for row in try db.rows(
                "SELECT attempts, count(*) FROM janitor_queue_item WHERE state IN ('pending', 'running') GROUP BY attempts")
            {
                let (attempts, count) = try row.decode((Int, Int).self)
                byAttempts[attempts] = count
            }
            return QueueStats(
                totalPending: try totals["pending"], oldestQueued: try totals.optionalDate("oldest"),
                newestQueued: try totals.optionalDate("newest"),
                byAttempts: byAttempts, dead: try totals["dead"], done: try totals["done"])
        }
    }

    /// How many items a run starting at `now` finds due (other janitors may take some of them).
    public func dueCount(now: Date) throws(StoreError) -> Int {
        try read { db in
            try StoreRow(try db.rows("SELECT count(*) AS due FROM janitor_queue_item WHERE state = 'pending' AND not_before <= $1", [.seconds(now)])[0])["due"]
        }
    }

    /// Items in a state (all states when nil), newest first.
    public func queueItems(state: QueueState?, limit: Int) throws(StoreError) -> [QueueItem] {
        try read { db in
            if let state {
                return try db.rows(
                    "SELECT * FROM janitor_queue_item WHERE state = $1 ORDER BY id DESC LIMIT $2", [.text(state.rawValue), .number(limit)]
                )
                .map(Self.item)
            }
            return try db.rows("SELECT * FROM janitor_queue_item ORDER BY id DESC LIMIT $1", [.number(limit)]).map(Self.item)
        }
    }

    /// Items by id.
    public func queueItems(ids: [Int64]) throws(StoreError) -> [QueueItem] {
        try read { db in
            try db.rows("SELECT * FROM janitor_queue_item WHERE id = ANY($1::bigint[]) ORDER BY id", [.ids(ids)]).map(Self.item)
        }
    }

    /// Sends dead items (the given ids, or all) back to pending with their attempts reset. A path
    /// queued again meanwhile keeps its one active item; of several dead items of one path, the
    /// newest goes back.
    public func retry(ids: [Int64]?, now: Date) throws(StoreError) -> Int {
        try write { db in
            // Dead items becoming active again must not race intake queueing their paths.
            try lockAllIntake(db)
            return try db.execute(
                """
                UPDATE janitor_queue_item SET state = 'pending', attempts = 0, not_before = $1, finished_at = NULL, outcome = NULL, claimed_by = NULL
                WHERE state = 'dead' AND id IN (
                    SELECT DISTINCT ON (path) id FROM janitor_queue_item d
                    WHERE state = 'dead' AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
                        AND NOT EXISTS (SELECT 1 FROM janitor_queue_item a WHERE a.path = d.path AND a.state IN ('pending', 'running'))
                    ORDER BY path, id DESC)
                """,
                [.seconds(now), ids.map(PostgresValue.ids) ?? .null])
        }
    }

    /// Removes pending or dead items (the given ids, or every dead one) from the queue.
    public func drop(ids: [Int64]?) throws(StoreError) -> Int {
        try write { db in
            if let ids {
                return try db.execute(
                    "DELETE FROM janitor_queue_item WHERE state IN ('pending', 'dead') AND id = ANY($1::bigint[])", [.ids(ids)])
            }
            return try db.execute("DELETE FROM janitor_queue_item WHERE state = 'dead'")
        }
    }

    /// The decision recorded for an event id, if any.
    public func decision(forEvent id: String) throws(StoreError) -> (decision: String, reason: String)? {
        try read { db in
            try db.rows("SELECT decision, reason FROM janitor_event WHERE id = $1", [.text(id)]).first.map {
                try $0.decode((String, String).self)
            }
        }
    }

    static func item(_ row: PostgresRow) throws -> QueueItem {
        let row = StoreRow(row)
        let state: String = try row["state"]
        return QueueItem(
            id: try row["id"], path: try row["path"], className: try row["class"], tenant: try row["tenant"], reason: try row["reason"],
            source: try row["source"], eventId: try row["event_id"], queuedAt: try row.date("queued_at"),
            notBefore: try row.date("not_before"),
            attempts: try row["attempts"], lastError: try row["last_error"], state: QueueState(rawValue: state) ?? .pending,
            stage: try row["stage"], outcome: try row["outcome"])
    }

    // MARK: Removals and the quarantine manifest

    /// Removals recorded at or after `date`, oldest first (for the sidecar's webhooks and usage).
    public func removals(since date: Date) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            try db.rows("SELECT * FROM janitor_removal WHERE removed_at >= $1 ORDER BY id", [.seconds(date)]).map(Self.removal)
        }
    }

    /// Removals, newest first: all, or only those still restorable from the quarantine.
    public func removals(restorableOnly: Bool, limit: Int) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            let filter = restorableOnly ? "WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL" : ""
            return try db.rows("SELECT * FROM janitor_removal \(filter) ORDER BY id DESC LIMIT $1", [.number(limit)]).map(Self.removal)
        }
    }

    /// Restorable removals selected by id, by original path (the latest), or by time.
    public func restorable(id: Int64?, path: String?, since: Date?) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            let base = "SELECT * FROM janitor_removal WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL"
            if let id {
                return try db.rows(base + " AND id = $1", [.int(id)]).map(Self.removal)
            }
            if let path {
                return try db.rows(base + " AND path = $1 ORDER BY id DESC LIMIT 1", [.text(path)]).map(Self.removal)
            }
            return try db.rows(base + " AND removed_at >= $1 ORDER BY id", [.seconds(since ?? .distantPast)]).map(Self.removal)
        }
    }

    /// Quarantined files older than `date`, not restored or purged.
    public func purgeable(before date: Date) throws(StoreError) -> [RemovalRecord] {
        try read { db in
            try db.rows(
                "SELECT * FROM janitor_removal WHERE quarantine_path IS NOT NULL AND restored_at IS NULL AND purged_at IS NULL AND removed_at < $1 ORDER BY id",
                [.seconds(date)]
            ).map(Self.removal)
        }
    }

    /// Marks a removal restored.
    public func markRestored(_ id: Int64, now: Date) throws(StoreError) {
        try write { db in try db.execute("UPDATE janitor_removal SET restored_at = $1 WHERE id = $2", [.seconds(now), .int(id)]) }
    }

    /// Marks a removal's quarantined copy purged.
    public func markPurged(_ id: Int64, now: Date) throws(StoreError) {
        try write { db in try db.execute("UPDATE janitor_removal SET purged_at = $1 WHERE id = $2", [.seconds(now), .int(id)]) }
    }

    static func removal(_ row: PostgresRow) throws -> RemovalRecord {
        let row = StoreRow(row)
        return RemovalRecord(
            id: try row["id"], queueItemId: try row["queue_item_id"], path: try row["path"], bytes: try row["bytes"],
            className: try row["class"],
            reason: try row["reason"], source: try row["source"], eventId: try row["event_id"], tenant: try row["tenant"],
            removedAt: try row.date("removed_at"), quarantinePath: try row["quarantine_path"],
            restoredAt: try row.optionalDate("restored_at"),
            purgedAt: try row.optionalDate("purged_at"))
    }
}
