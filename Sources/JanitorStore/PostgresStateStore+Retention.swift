import Foundation
import JanitorCore
import JanitorPostgres
import PostgresNIO

extension PostgresStateStore {
    /// Starts a retention run owned by `owner` (`host:pid`); returns its id.
    public func startRetention(owner: String, now: Date) throws(StoreError) -> Int64 {
        try write { db in
            try db.rows(
                "INSERT INTO janitor_retention_run (started_at, owner) VALUES ($1, $2) RETURNING id", [.seconds(now), .text(owner)])[0]
                .decode(Int64.self)
        }
    }

    /// Journals selected rows before they change; returns them with their ids. Archived rows are
    /// saved here, so a row is never deleted unsaved.
    public func journal(_ entries: [RetentionJournalEntry], run: Int64) throws(StoreError) -> [RetentionJournalEntry] {
        var encoded: [(paths: String, archived: String?)] = []
        for entry in entries {
            do {
                encoded.append((try SQLiteStateStore.encode(entry.paths), try entry.archived?.json()))
            } catch {
                throw .query(path: location, reason: "cannot encode the journal entry of \(entry.table) key \(entry.key): \(error)")
            }
        }
        return try write { db in
            var recorded = entries
            for index in recorded.indices {
                let entry = recorded[index]
                recorded[index].id = try db.rows(
                    """
                    INSERT INTO janitor_retention_row (run_id, class, table_name, key_column, row_key, action, policy, paths, archived)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    RETURNING id
                    """,
                    [
                        .int(run), .text(entry.className), .text(entry.table), .text(entry.keyColumn), .text(entry.key),
                        .text(entry.action),
                        .text(entry.policy), .text(encoded[index].paths), .nullable(encoded[index].archived),
                    ])[0].decode(Int64.self)
            }
            return recorded
        }
    }

    /// Settles journalled rows in one transaction: applied (their files queued with `items`),
    /// failed (with the database's reason) or void (the row never changed, or was gone; an
    /// archive of it is dropped). Returns how many items were queued.
    public func settleRetention(
        run: Int64, applied: [Int64], failed: [(id: Int64, error: String)], void: [Int64], items: [NewQueueItem], now: Date
    ) throws(StoreError) -> Int {
        try write { db in
            try lockIntake(db, events: [], paths: items.map(\.path))
            let mark = "UPDATE janitor_retention_row SET state = $1, error = $2 WHERE id = $3 AND state = 'planned'"
            for id in applied { try db.execute(mark, [.text("applied"), .null, .int(id)]) }
            for failure in failed { try db.execute(mark, [.text("failed"), .text(failure.error), .int(failure.id)]) }
            for id in void { try db.execute(mark, [.text("void"), .null, .int(id)]) }
            for item in items {
                _ = try enqueue(db, item, tenant: nil, source: "retention", eventId: "retention-\(run)", now: now)
            }
            return items.count
        }
    }

    /// Ends a run: `done`, or `recovered` when another process settled it after a crash.
    public func endRetention(run: Int64, recovered: Bool, now: Date) throws(StoreError) {
        try write { db in
            try db.execute(
                "UPDATE janitor_retention_run SET state = $1, finished_at = $2 WHERE id = $3 AND state = 'applying'",
                [.text(recovered ? "recovered" : "done"), .seconds(now), .int(run)])
        }
    }

    /// Runs left `applying` whose owner `isAbandoned` says is gone, with their entries still
    /// `planned`. A run another live process is applying is never returned.
    public func abandonedRetention(isAbandoned: (_ owner: String, _ startedAt: Date) -> Bool) throws(StoreError) -> [(
        run: Int64, entries: [RetentionJournalEntry]
    )] {
        try read { db in
            var abandoned: [(run: Int64, entries: [RetentionJournalEntry])] = []
            for row in try db.rows("SELECT id, owner, started_at FROM janitor_retention_run WHERE state = 'applying' ORDER BY id") {
                let (id, owner, startedAt) = try row.decode((Int64, String, Double).self)
                guard isAbandoned(owner, Date(timeIntervalSince1970: startedAt)) else { continue }
                let entries = try db.rows(
                    "SELECT * FROM janitor_retention_row WHERE run_id = $1 AND state = 'planned' ORDER BY id", [.int(id)])
                abandoned.append((id, try entries.map(Self.journalEntry)))
            }
            return abandoned
        }
    }

    /// Files the queue removed for a run's rows, and their bytes.
    public func retentionRemovals(run: Int64) throws(StoreError) -> (files: Int, bytes: Int64) {
        try read { db in
            try db.rows(
                "SELECT count(*), coalesce(sum(bytes), 0)::bigint FROM janitor_removal WHERE event_id = $1", [.text("retention-\(run)")])[0]
                .decode((Int, Int64).self)
        }
    }

    /// Archived rows, oldest first: one by id, a class's, or all; restored ones only with
    /// `includeRestored`.
    public func archivedRows(id: Int64?, className: String?, includeRestored: Bool, limit: Int) throws(StoreError) -> [ArchiveRecord] {
        try read { db in
            var conditions = ["r.archived IS NOT NULL", "r.state = 'applied'"]
            var values: [PostgresValue] = []
            if let id {
                values.append(.int(id))
                conditions.append("r.id = $\(values.count)")
            }
            if let className {
                values.append(.text(className))
                conditions.append("r.class = $\(values.count)")
            }
            if !includeRestored { conditions.append("r.restored_at IS NULL") }
            values.append(.number(limit))
            let sql = """
                SELECT r.*, run.started_at FROM janitor_retention_row r JOIN janitor_retention_run run ON run.id = r.run_id
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY r.id LIMIT $\(values.count)
                """
            return try db.rows(sql, values).map { row in
                let row = StoreRow(row)
                let archived: String? = try row["archived"]
                return ArchiveRecord(
                    id: try row["id"], className: try row["class"], policy: try row["policy"], archivedAt: try row.date("started_at"),
                    restoredAt: try row.optionalDate("restored_at"), table: try row["table_name"], key: try row["row_key"],
                    row: archived.flatMap(ArchivedRow.init(json:)))
            }
        }
    }

    /// Records that an archived row is back in the app's table.
    public func markArchiveRestored(_ id: Int64, now: Date) throws(StoreError) {
        try write { db in
            try db.execute("UPDATE janitor_retention_row SET restored_at = $1 WHERE id = $2", [.seconds(now), .int(id)])
        }
    }

    static func journalEntry(_ row: PostgresRow) throws -> RetentionJournalEntry {
        let row = StoreRow(row)
        let archived: String? = try row["archived"]
        return RetentionJournalEntry(
            id: try row["id"], className: try row["class"], table: try row["table_name"], keyColumn: try row["key_column"],
            key: try row["row_key"],
            action: try row["action"], policy: try row["policy"], paths: SQLiteStateStore.decode(try row["paths"]),
            archived: archived.flatMap(ArchivedRow.init(json:)))
    }
}
