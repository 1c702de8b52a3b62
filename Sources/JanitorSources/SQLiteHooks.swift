import Foundation
import GRDB
import JanitorCore

/// Database hooks for an SQLite app database: an outbox table and triggers that write a row
/// into it, inside the app's own transaction, for every change of a reference column.
///
/// Rolled-back changes never reach the outbox; bulk updates, raw SQL and foreign-key cascades
/// do. Triggers are named `janitor_<table>_<column>_update` and `…_delete`, and their SQL is
/// deterministic, so `status` can tell an installed trigger from a missing or stale one.
public struct SQLiteHooks: AppHooks {
    /// The absolute path of the database file.
    public let path: String
    let queue: DatabaseQueue

    /// The outbox table's name.
    public static let outboxTable = "janitor_outbox"

    /// Opens a database read-write; a missing file is a configuration error.
    public init(path: String) throws(SourceError) {
        self.path = path
        queue = try SQLiteAppDatabase.openWritable(path: path, label: "app-database-hooks")
    }

    private var location: String { "sqlite:\(path)" }

    /// Creates the outbox and the triggers of every reference column, replaces stale triggers and
    /// drops janitor triggers for columns no longer configured; returns the status afterwards.
    ///
    /// Idempotent. Runs in one transaction after checking every table and column, so a failed
    /// install leaves the database as it was.
    public func install(_ columns: [ReferenceColumn]) throws(SourceError) -> HooksStatus {
        let expected = HookTriggers.expected(for: columns)
        return try inTransaction { db in
            // A trigger naming a column that does not exist is accepted by CREATE TRIGGER and
            // then fails every write of the app to that table: check first.
            let problems = try HookTriggers.validate(columns, in: db)
            guard problems.isEmpty else { throw SourceError.schema(problems) }
            try db.execute(sql: HookTriggers.outboxSQL)
            let existing = try HookTriggers.existing(in: db)
            let wanted = Set(expected.map(\.name))
            for trigger in existing.values where !wanted.contains(trigger.name.lowercased()) {
                try db.execute(sql: "DROP TRIGGER \(HookTriggers.quote(trigger.name))")
            }
            for trigger in expected {
                if let current = existing[trigger.name] {
                    if current.sql == trigger.sql { continue }
                    try db.execute(sql: "DROP TRIGGER \(HookTriggers.quote(current.name))")
                }
                try db.execute(sql: trigger.sql)
            }
            return try HookTriggers.status(expected, in: db)
        }
    }

    /// Drops every janitor trigger and the outbox table. Idempotent.
    ///
    /// Refuses while the outbox holds changes the janitor has not processed, unless `force`:
    /// dropping them would lose those changes.
    public func uninstall(force: Bool = false) throws(SourceError) {
        try inTransaction { db in
            let outboxExists = try HookTriggers.outboxExists(in: db)
            if outboxExists, !force {
                let pending = try HookTriggers.pendingCount(in: db)
                guard pending == 0 else {
                    throw SourceError.database(
                        location: location,
                        reason: "the outbox '\(Self.outboxTable)' still holds \(HooksAdvice.count(pending, "change")) the janitor has not processed; run 'media-janitor hooks drain' first, or 'media-janitor hooks uninstall --force' to drop them"
                    )
                }
            }
            // Triggers first: a trigger left without its outbox fails every write of the app.
            for trigger in try HookTriggers.existing(in: db).values {
                try db.execute(sql: "DROP TRIGGER \(HookTriggers.quote(trigger.name))")
            }
            if outboxExists {
                try db.execute(sql: "DROP TABLE \(HookTriggers.quote(Self.outboxTable))")
            }
        }
    }

    /// Compares the installed outbox and triggers with what `install` would create.
    public func status(_ columns: [ReferenceColumn]) throws(SourceError) -> HooksStatus {
        let expected = HookTriggers.expected(for: columns)
        return try read { db in try HookTriggers.status(expected, in: db) }
    }

    /// SQLite's change counter for this connection: it moves whenever another connection (the
    /// app) commits, so a drain can wake on it instead of re-reading the outbox.
    public func changeCount() throws(SourceError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    /// Whether the outbox table exists (the hooks were installed).
    public func hasOutbox() throws(SourceError) -> Bool {
        try read { db in try HookTriggers.outboxExists(in: db) }
    }

    /// Up to `limit` outbox rows, oldest first.
    public func pending(limit: Int) throws(SourceError) -> [OutboxRow] {
        guard limit > 0 else { return [] }
        return try read { db in
            try requireOutbox(db)
            // julianday reads the trigger's `…T10:00:00.123Z`; seconds since 1970 avoid a date parser.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, table_name, column_name, op, row_key, old_path, new_path, at, \
                    (julianday(at) - 2440587.5) * 86400.0 AS at_seconds \
                    FROM \(HookTriggers.quote(Self.outboxTable)) ORDER BY id LIMIT ?
                    """,
                arguments: [limit])
            return try rows.map { row in
                let id: Int64 = row["id"]
                let opText: String = row["op"]
                guard let op = ChangeEvent.Operation(rawValue: opText) else {
                    throw SourceError.database(
                        location: location,
                        reason: "outbox row \(id) has op '\(opText)'; expected one of: \(ChangeEvent.Operation.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let seconds: Double? = row["at_seconds"]
                // The row's time is part of the id: ids restart at 1 when the outbox is dropped
                // and recreated, and a new change must never look like a processed one.
                let at: String = row["at"]
                let event = ChangeEvent(
                    id: "outbox-\(id)-\(at)", table: row["table_name"], column: row["column_name"], op: op,
                    key: row["row_key"] ?? "", old: Self.path(row["old_path"]), new: Self.path(row["new_path"]),
                    // The trigger writes milliseconds; rounding undoes julianday's floating-point error.
                    at: seconds.map { Date(timeIntervalSince1970: ($0 * 1000).rounded() / 1000) })
                return OutboxRow(id: id, event: event)
            }
        }
    }

    /// Deletes these outbox rows, once their events are durably recorded. Unknown ids are ignored.
    public func acknowledge(_ ids: [Int64]) throws(SourceError) {
        guard !ids.isEmpty else { return }
        try inTransaction { db in
            try requireOutbox(db)
            // Stay well under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                try db.execute(
                    sql: "DELETE FROM \(HookTriggers.quote(Self.outboxTable)) WHERE id IN (\(marks))",
                    arguments: StatementArguments(chunk))
            }
        }
    }

    private func requireOutbox(_ db: Database) throws {
        guard try HookTriggers.outboxExists(in: db) else {
            throw SourceError.database(
                location: location,
                reason: "the outbox table '\(Self.outboxTable)' does not exist; run 'media-janitor hooks install'")
        }
    }

    private static func path(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    private func read<T>(_ body: (Database) throws -> T) throws(SourceError) -> T {
        do {
            return try queue.read(body)
        } catch let error as SourceError {
            throw error
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }

    /// Runs `body` in an immediate transaction: the write lock is taken up front, so a busy app
    /// makes the janitor wait at the start rather than fail half-way.
    private func inTransaction<T>(_ body: (Database) throws -> T) throws(SourceError) -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }
}

/// One row of the outbox, as the change event it records.
public struct OutboxRow: Sendable, Hashable {
    /// The outbox row's id; `acknowledge` takes it.
    public var id: Int64
    /// The change, with id `outbox-<id>`.
    public var event: ChangeEvent

    /// Creates an outbox row.
    public init(id: Int64, event: ChangeEvent) {
        self.id = id
        self.event = event
    }
}

/// What is installed in an app database, compared with what the configuration needs.
public struct HooksStatus: Sendable, Hashable {
    /// The state of one reference column's pair of triggers.
    public enum ColumnState: String, Sendable, Hashable {
        /// Both triggers are there, with the expected SQL.
        case installed
        /// A trigger is absent (never installed, or dropped with its table by a migration).
        case missing
        /// A trigger is there with different SQL (another version, or rewritten by a rename).
        case stale
    }

    /// One configured reference column.
    public struct Column: Sendable, Hashable {
        /// `table.column`.
        public var name: String
        /// Whether its triggers are installed and current.
        public var state: ColumnState

        /// Creates a column status.
        public init(name: String, state: ColumnState) {
            self.name = name
            self.state = state
        }
    }

    /// Whether the outbox table exists.
    public var outboxExists: Bool
    /// Rows waiting in the outbox (0 when it does not exist).
    public var pendingRows: Int
    /// Every configured reference column with a path column, in configuration order.
    public var columns: [Column]
    /// Janitor triggers for columns no longer configured; `install` drops them.
    public var extraTriggers: [String]
    /// What to run, one sentence each; empty when everything is current.
    public var advice: [String]

    /// Creates a status.
    public init(outboxExists: Bool, pendingRows: Int, columns: [Column], extraTriggers: [String], advice: [String]) {
        self.outboxExists = outboxExists
        self.pendingRows = pendingRows
        self.columns = columns
        self.extraTriggers = extraTriggers
        self.advice = advice
    }

    /// The outbox exists, every column's triggers are installed and current, and nothing extra.
    public var isCurrent: Bool {
        outboxExists && extraTriggers.isEmpty && columns.allSatisfy { $0.state == .installed }
    }
}

/// The SQL of the hooks: what `install` creates and `status` compares.
enum HookTriggers {
    /// One trigger as it should be.
    struct Trigger {
        /// Lowercase: SQLite compares trigger names without case.
        var name: String
        var sql: String
        /// The index of its column in the deduplicated list.
        var column: Int
        /// `table.column`, as configured.
        var columnName: String
    }

    /// One janitor trigger as it is in `sqlite_master`.
    struct Installed {
        var name: String
        var table: String
        var sql: String?
    }

    static let outboxSQL = """
        CREATE TABLE IF NOT EXISTS "janitor_outbox" (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            table_name TEXT NOT NULL,
            column_name TEXT NOT NULL,
            op TEXT NOT NULL,
            row_key TEXT,
            old_path TEXT,
            new_path TEXT,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        )
        """

    /// Reference columns that hold paths, once each (SQLite names ignore case), in order.
    static func watched(_ columns: [ReferenceColumn]) -> [(reference: ReferenceColumn, column: String)] {
        var seen: Set<String> = []
        var result: [(ReferenceColumn, String)] = []
        for reference in columns {
            guard let column = reference.column else { continue }
            guard seen.insert("\(reference.table)\u{0}\(column)".lowercased()).inserted else { continue }
            result.append((reference, column))
        }
        return result
    }

    /// The triggers `install` creates, two per watched column, update before delete.
    static func expected(for columns: [ReferenceColumn]) -> [Trigger] {
        let watched = watched(columns)
        let bases = watched.map { baseName($0.reference.table, $0.column) }
        var uses: [String: Int] = [:]
        for base in bases { uses[base.name, default: 0] += 1 }
        var triggers: [Trigger] = []
        for (index, (reference, column)) in watched.enumerated() {
            var name = bases[index].name
            // `a_b.c` and `a.b_c` would share a name, and so would `a-b.c` and `a_b.c`: a hash of
            // the exact names keeps them apart.
            if bases[index].altered || uses[name, default: 0] > 1 {
                name += "_" + fnv1a("\(reference.table)\u{0}\(column)".lowercased())
            }
            let qualified = "\(reference.table).\(column)"
            triggers.append(Trigger(name: name + "_update", sql: updateSQL(name + "_update", reference, column), column: index, columnName: qualified))
            triggers.append(Trigger(name: name + "_delete", sql: deleteSQL(name + "_delete", reference, column), column: index, columnName: qualified))
        }
        return triggers
    }

    private static func baseName(_ table: String, _ column: String) -> (name: String, altered: Bool) {
        var altered = false
        func sanitise(_ text: String) -> String {
            String(
                text.lowercased().unicodeScalars.map { scalar -> Character in
                    if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" { return Character(scalar) }
                    altered = true
                    return "_"
                })
        }
        return ("janitor_\(sanitise(table))_\(sanitise(column))", altered)
    }

    private static func fnv1a(_ text: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    // The SQL is compared with `sqlite_master.sql`, which keeps the text as written (minus any
    // IF NOT EXISTS): change it and every installed trigger reads as stale until reinstalled.
    private static func updateSQL(_ name: String, _ reference: ReferenceColumn, _ column: String) -> String {
        let old = "OLD.\(quote(column))", new = "NEW.\(quote(column))"
        return "CREATE TRIGGER \(quote(name)) AFTER UPDATE OF \(quote(column)) ON \(quote(reference.table)) FOR EACH ROW"
            + " WHEN \(old) IS NOT \(new) AND (COALESCE(\(old), '') <> '' OR COALESCE(\(new), '') <> '')"
            + " BEGIN \(insert) VALUES (\(literal(reference.table)), \(literal(column)),"
            + " CASE WHEN COALESCE(\(old), '') = '' THEN 'create' ELSE 'replace' END,"
            // OLD's key: an UPDATE that also changes the key still names the row the file left.
            + " CAST(OLD.\(quote(reference.key)) AS TEXT), NULLIF(\(old), ''), NULLIF(\(new), '')); END"
    }

    private static func deleteSQL(_ name: String, _ reference: ReferenceColumn, _ column: String) -> String {
        let old = "OLD.\(quote(column))"
        return "CREATE TRIGGER \(quote(name)) AFTER DELETE ON \(quote(reference.table)) FOR EACH ROW"
            + " WHEN \(old) IS NOT NULL AND \(old) <> ''"
            + " BEGIN \(insert) VALUES (\(literal(reference.table)), \(literal(column)), 'delete',"
            + " CAST(OLD.\(quote(reference.key)) AS TEXT), \(old), NULL); END"
    }

    private static let insert =
        "INSERT INTO \"janitor_outbox\" (\"table_name\", \"column_name\", \"op\", \"row_key\", \"old_path\", \"new_path\")"

    /// Quotes one identifier. Unlike `SQL.quote`, a dot stays part of the name: a trigger's
    /// table cannot be schema-qualified.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// One error per watched table or column that does not exist, listing what does.
    static func validate(_ columns: [ReferenceColumn], in db: Database) throws -> [Diagnostic] {
        let tables = try Row.fetchAll(db, sql: "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        var types: [String: (name: String, type: String)] = [:]
        for row in tables {
            let name: String = row["name"]
            types[name.lowercased()] = (name, row["type"])
        }
        let tableNames = tables.map { $0["name"] as String }.filter { $0 != SQLiteHooks.outboxTable }
        var problems: [Diagnostic] = []
        for (reference, column) in watched(columns) {
            guard let table = types[reference.table.lowercased()] else {
                let hint = didYouMean(reference.table, in: tableNames).map { "did you mean '\($0)'? " } ?? ""
                problems.append(Diagnostic(.error, "cannot install hooks: table '\(reference.table)' does not exist; \(hint)tables are: \(tableNames.joined(separator: ", "))", id: "world.missing-table", at: reference.location))
                continue
            }
            guard table.type == "table" else {
                problems.append(Diagnostic(.error, "cannot install hooks: '\(reference.table)' is a view; name the table it reads from", id: "world.missing-table", at: reference.location))
                continue
            }
            let names = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table.name])
            let lowered = Set(names.map { $0.lowercased() })
            var wanted = [("column", column)]
            // A rowid alias is not in table_info; preparing a SELECT proves it exists (not WITHOUT ROWID).
            if !(["rowid", "oid", "_rowid_"].contains(reference.key.lowercased())
                && (try? db.makeStatement(sql: "SELECT \(quote(reference.key)) FROM \(quote(table.name)) LIMIT 0")) != nil)
            {
                wanted.insert(("key", reference.key), at: 0)
            }
            for (role, name) in wanted where !lowered.contains(name.lowercased()) {
                let hint = didYouMean(name, in: names).map { "did you mean '\($0)'? " } ?? ""
                problems.append(Diagnostic(.error, "cannot install hooks: table '\(reference.table)' has no column '\(name)' (\(role)); \(hint)columns are: \(names.joined(separator: ", "))", id: "world.missing-column", at: reference.location))
            }
        }
        return problems
    }

    /// Every trigger named `janitor_…`, by lowercased name.
    static func existing(in db: Database) throws -> [String: Installed] {
        var result: [String: Installed] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'janitor\\_%' ESCAPE '\\' ORDER BY name") {
            let name: String = row["name"]
            result[name.lowercased()] = Installed(name: name, table: row["tbl_name"], sql: row["sql"])
        }
        return result
    }

    /// Read from `sqlite_master` each time: GRDB's schema cache would miss an app migration
    /// made through another connection.
    static func outboxExists(in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [SQLiteHooks.outboxTable]) ?? false
    }

    static func pendingCount(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quote(SQLiteHooks.outboxTable))") ?? 0
    }

    static func status(_ expected: [Trigger], in db: Database) throws -> HooksStatus {
        let outboxExists = try outboxExists(in: db)
        let pendingRows = outboxExists ? try pendingCount(in: db) : 0
        let existing = try existing(in: db)
        let wanted = Set(expected.map(\.name))
        let extra = existing.filter { !wanted.contains($0.key) }.map(\.value.name).sorted()

        var columns: [HooksStatus.Column] = []
        var missing = 0, stale = 0
        for trigger in expected {
            // Both triggers of a column are adjacent: the first opens its entry.
            if trigger.column == columns.count { columns.append(HooksStatus.Column(name: trigger.columnName, state: .installed)) }
            switch existing[trigger.name] {
            case nil:
                missing += 1
                if columns[trigger.column].state == .installed { columns[trigger.column].state = .missing }
            case let installed? where installed.sql != trigger.sql:
                stale += 1
                columns[trigger.column].state = .stale
            default:
                break
            }
        }

        let advice = HooksAdvice.advice(
            outbox: SQLiteHooks.outboxTable, outboxExists: outboxExists, remainingTriggers: existing.count,
            remainingTables: Set(existing.values.map(\.table)).sorted(), expectedTriggers: expected.count, columns: columns.count,
            missing: missing, stale: stale, disabled: 0, extra: extra)
        return HooksStatus(outboxExists: outboxExists, pendingRows: pendingRows, columns: columns, extraTriggers: extra, advice: advice)
    }
}
