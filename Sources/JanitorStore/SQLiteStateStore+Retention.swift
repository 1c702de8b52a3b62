import Foundation
import GRDB
import JanitorCore

/// A selected row as the retention journal records it before the app's database changes.
public struct RetentionJournalEntry: Sendable, Hashable {
    /// The store's id (0 until recorded).
    public var id: Int64
    /// The class.
    public var className: String
    /// The row's table.
    public var table: String
    /// Its key column.
    public var keyColumn: String
    /// Its key.
    public var key: String
    /// The row action, as the config spells it.
    public var action: String
    /// The policy that selected it, as the plan prints it.
    public var policy: String
    /// The files to queue once the row change committed.
    public var paths: [String]
    /// The whole row, for `row_action: archive`.
    public var archived: ArchivedRow?

    /// Creates an entry.
    public init(id: Int64 = 0, className: String, table: String, keyColumn: String, key: String, action: String, policy: String, paths: [String], archived: ArchivedRow? = nil) {
        self.id = id
        self.className = className
        self.table = table
        self.keyColumn = keyColumn
        self.key = key
        self.action = action
        self.policy = policy
        self.paths = paths
        self.archived = archived
    }
}

/// A row `row_action: archive` saved, as `archive list` shows it.
public struct ArchiveRecord: Sendable, Hashable {
    /// The id `archive restore` takes.
    public var id: Int64
    /// The class.
    public var className: String
    /// The policy that selected the row.
    public var policy: String
    /// When the row was archived (its run's start).
    public var archivedAt: Date
    /// When it was restored, if it was.
    public var restoredAt: Date?
    /// The row's table, as journalled.
    public var table: String
    /// The row's key, as journalled.
    public var key: String
    /// The row; nil when the stored JSON cannot be read (reported, never restored).
    public var row: ArchivedRow?
}

extension SQLiteStateStore {
    /// Starts a retention run owned by `owner` (`host:pid`); returns its id.
    public func startRetention(owner: String, now: Date) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO retention_run (started_at, owner) VALUES (?, ?)", arguments: [now.timeIntervalSince1970, owner])
            return db.lastInsertedRowID
        }
    }

    /// Journals selected rows before they change; returns them with their ids. Archived rows are
    /// saved here, so a row is never deleted unsaved.
    public func journal(_ entries: [RetentionJournalEntry], run: Int64) throws(StoreError) -> [RetentionJournalEntry] {
        var encoded: [(paths: String, archived: String?)] = []
        for entry in entries {
            do {
                encoded.append((try Self.encode(entry.paths), try entry.archived?.json()))
            } catch {
                throw .query(path: path, reason: "cannot encode the journal entry of \(entry.table) key \(entry.key): \(error)")
            }
        }
        return try write { db in
            var recorded = entries
            let insert = try db.cachedStatement(sql: """
                INSERT INTO retention_row (run_id, class, table_name, key_column, row_key, action, policy, paths, archived)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for index in recorded.indices {
                let entry = recorded[index]
                try insert.execute(arguments: [
                    run, entry.className, entry.table, entry.keyColumn, entry.key, entry.action, entry.policy, encoded[index].paths, encoded[index].archived,
                ])
                recorded[index].id = db.lastInsertedRowID
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
            let mark = try db.cachedStatement(sql: "UPDATE retention_row SET state = ?, error = ? WHERE id = ? AND state = 'planned'")
            for id in applied { try mark.execute(arguments: ["applied", nil, id]) }
            for failure in failed { try mark.execute(arguments: ["failed", failure.error, failure.id]) }
            for id in void { try mark.execute(arguments: ["void", nil, id]) }
            var queued = 0
            for item in items where try Self.enqueue(db, item, tenant: nil, source: "retention", eventId: "retention-\(run)", now: now) != nil {
                queued += 1
            }
            return queued
        }
    }

    /// Ends a run: `done`, or `recovered` when another process settled it after a crash.
    public func endRetention(run: Int64, recovered: Bool, now: Date) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "UPDATE retention_run SET state = ?, finished_at = ? WHERE id = ? AND state = 'applying'",
                arguments: [recovered ? "recovered" : "done", now.timeIntervalSince1970, run])
        }
    }

    /// Runs left `applying` whose owner `isAbandoned` says is gone, with their entries still
    /// `planned`. A run another live process is applying is never returned.
    public func abandonedRetention(isAbandoned: (_ owner: String, _ startedAt: Date) -> Bool) throws(StoreError) -> [(run: Int64, entries: [RetentionJournalEntry])] {
        try read { db in
            let runs = try Row.fetchAll(db, sql: "SELECT id, owner, started_at FROM retention_run WHERE state = 'applying' ORDER BY id")
            return try runs.filter { isAbandoned($0["owner"], Date(timeIntervalSince1970: $0["started_at"])) }.map { run in
                let id: Int64 = run["id"]
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM retention_row WHERE run_id = ? AND state = 'planned' ORDER BY id", arguments: [id])
                return (id, rows.map(Self.journalEntry))
            }
        }
    }

    /// Files the queue removed for a run's rows, and their bytes.
    public func retentionRemovals(run: Int64) throws(StoreError) -> (files: Int, bytes: Int64) {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM removal WHERE event_id = ?", arguments: ["retention-\(run)"])
            return (row?["n"] ?? 0, row?["b"] ?? 0)
        }
    }

    /// Archived rows, oldest first: one by id, a class's, or all; restored ones only with
    /// `includeRestored`.
    public func archivedRows(id: Int64?, className: String?, includeRestored: Bool, limit: Int) throws(StoreError) -> [ArchiveRecord] {
        try read { db in
            var conditions = ["r.archived IS NOT NULL", "r.state = 'applied'"]
            var arguments: [(any DatabaseValueConvertible)?] = []
            if let id {
                conditions.append("r.id = ?")
                arguments.append(id)
            }
            if let className {
                conditions.append("r.class = ?")
                arguments.append(className)
            }
            if !includeRestored { conditions.append("r.restored_at IS NULL") }
            arguments.append(limit)
            let sql = """
                SELECT r.*, run.started_at FROM retention_row r JOIN retention_run run ON run.id = r.run_id
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY r.id LIMIT ?
                """
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                ArchiveRecord(
                    id: row["id"], className: row["class"], policy: row["policy"], archivedAt: Date(timeIntervalSince1970: row["started_at"]),
                    restoredAt: (row["restored_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    table: row["table_name"], key: row["row_key"], row: (row["archived"] as String?).flatMap(ArchivedRow.init(json:)))
            }
        }
    }

    /// Records that an archived row is back in the app's table.
    public func markArchiveRestored(_ id: Int64, now: Date) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE retention_row SET restored_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
        }
    }

    static func journalEntry(_ row: Row) -> RetentionJournalEntry {
        RetentionJournalEntry(
            id: row["id"], className: row["class"], table: row["table_name"], keyColumn: row["key_column"], key: row["row_key"], action: row["action"],
            policy: row["policy"], paths: decode(row["paths"]), archived: (row["archived"] as String?).flatMap(ArchivedRow.init(json:)))
    }

    static func encode(_ paths: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(paths), as: UTF8.self)
    }

    static func decode(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
