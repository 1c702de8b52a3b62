import Foundation
import GRDB
import GRDBSQLite
import JanitorCore

extension SQLiteAppDatabase {
    /// Every row of a class's reference tables still under retention, one pass per reference,
    /// merged by table and key so that a row with two path columns is one row holding two files.
    /// Rows the row action already handled (soft-deleted, set NULL) are left out, and so are
    /// invalid path values (the audit reports them).
    public func retentionRows(of mediaClass: MediaClass, mediaRoot: String) throws(SourceError) -> [StoredRetentionRow] {
        var rows: [StoredRetentionRow] = []
        // Per table, key -> position: keys are short strings stored inline, so the index costs
        // no allocation per row.
        var index: [String: [String: Int]] = [:]
        do {
            try queue.read { db in
                for reference in mediaClass.references {
                    func column(_ name: String?) -> String { name.map(SQL.quote) ?? "NULL" }
                    let created = reference.created.map {
                        let c = SQL.quote($0)
                        return "CASE WHEN typeof(\(c)) IN ('integer', 'real') THEN \(c) ELSE (julianday(\(c)) - 2440587.5) * 86400.0 END"
                    } ?? "NULL"
                    let size = reference.size.map { "(\($0))" } ?? "0"
                    let pathColumns = mediaClass.references.filter { $0.table == reference.table }.compactMap(\.column)
                    let pending = mediaClass.retention?.rowAction.kind.pending(pathColumns: pathColumns, dialect: .sqlite).map { " WHERE \($0)" } ?? ""
                    let sql = "SELECT \(SQL.quote(reference.key)), \(column(reference.column)), \(created), \(column(reference.owner)), \(column(reference.group)), \(size) FROM \(SQL.quote(reference.table))\(pending)"
                    // Stepped directly, columns by position: GRDB's `Row` would look each up by name.
                    let statement = try db.makeStatement(sql: sql)
                    let raw = statement.sqliteStatement
                    defer { sqlite3_reset(raw) }
                    var keys = index.removeValue(forKey: reference.table) ?? [:]
                    while true {
                        let code = sqlite3_step(raw)
                        if code == SQLITE_DONE { break }
                        guard code == SQLITE_ROW else {
                            throw SourceError.sqlite(path, code: code, message: String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))
                        }
                        let key = Self.string(raw, 0)
                        let position: Int
                        if let existing = keys[key] {
                            position = existing
                            // A second reference on the same row fills what the first did not name.
                            if rows[position].created == nil, sqlite3_column_type(raw, 2) != SQLITE_NULL {
                                rows[position].created = Date(timeIntervalSince1970: (sqlite3_column_double(raw, 2) * 1000).rounded() / 1000)
                            }
                            if rows[position].owner == nil, sqlite3_column_type(raw, 3) != SQLITE_NULL { rows[position].owner = Self.string(raw, 3) }
                            if rows[position].group == nil, sqlite3_column_type(raw, 4) != SQLITE_NULL { rows[position].group = Self.string(raw, 4) }
                            if rows[position].rowBytes == 0 { rows[position].rowBytes = sqlite3_column_int64(raw, 5) }
                        } else {
                            position = rows.count
                            keys[key] = position
                            // julianday() carries floating-point error: round to milliseconds.
                            let created = sqlite3_column_type(raw, 2) == SQLITE_NULL ? nil : Date(timeIntervalSince1970: (sqlite3_column_double(raw, 2) * 1000).rounded() / 1000)
                            rows.append(StoredRetentionRow(
                                table: reference.table, keyColumn: reference.key, key: key, created: created,
                                owner: sqlite3_column_type(raw, 3) == SQLITE_NULL ? nil : Self.string(raw, 3),
                                group: sqlite3_column_type(raw, 4) == SQLITE_NULL ? nil : Self.string(raw, 4),
                                rowBytes: sqlite3_column_int64(raw, 5), paths: []))
                        }
                        guard sqlite3_column_type(raw, 1) == SQLITE_TEXT, sqlite3_column_bytes(raw, 1) > 0 else { continue }
                        if case .valid(let path) = PathRules.normalise(Self.string(raw, 1), mediaRoot: mediaRoot), !rows[position].paths.contains(path) {
                            rows[position].paths.append(path)
                        }
                    }
                    index[reference.table] = keys
                }
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw .sqlite(path, error)
        }
        return rows
    }

    /// A column's value as text (SQLite's own conversion for numbers).
    static func string(_ statement: OpaquePointer, _ column: Int32) -> String {
        String(decoding: text(statement, column), as: UTF8.self)
    }

    /// Each owner's own age limit from `max_age_per_owner`; owners with no row or a NULL value
    /// are absent (they fall back to `max_age`), and so are values that are not a number, are
    /// negative or exceed 1,000 years: those are counted in `invalid` (the caller says so) so
    /// a typo in one profile never expires all of that owner's rows at once.
    public func ownerLimits(_ ttl: OwnerTTL) throws(SourceError) -> (limits: [String: Seconds], invalid: Int) {
        do {
            return try queue.read { db in
                var limits: [String: Seconds] = [:]
                var invalid = 0
                let sql = "SELECT \(SQL.quote(ttl.key)) AS k, \(SQL.quote(ttl.column)) AS v, typeof(\(SQL.quote(ttl.column))) AS t FROM \(SQL.quote(ttl.table)) WHERE \(SQL.quote(ttl.column)) IS NOT NULL"
                let cursor = try Row.fetchCursor(db, sql: sql)
                let ceiling = 1_000 * 366 * 86_400.0
                while let row = try cursor.next() {
                    let type: String = row["t"]
                    let seconds = ((row["v"] as Double?) ?? -1) * Double(ttl.unit.seconds)
                    guard type == "integer" || type == "real", seconds >= 0, seconds <= ceiling else {
                        invalid += 1
                        continue
                    }
                    limits[SQL.text(row["k"])] = Seconds(Int64(seconds.rounded()))
                }
                return (limits, invalid)
            }
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// The whole stored rows of `keys` in `table` (keys with no row are absent): for settling a
    /// retention run a crash interrupted, so never on the hot path.
    public func storedRows(table: String, keyColumn: String, keys: [String]) throws(SourceError) -> [String: ArchivedRow] {
        guard !keys.isEmpty else { return [:] }
        do {
            return try queue.read { db in try SQLiteRowWriter.rows(db, table: table, keyColumn: keyColumn, keys: keys) }
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// What makes retention unsafe on this database, one message per problem, each naming the
    /// fix: a key column that is not unique (one key would name several rows, and the row
    /// action would change them all), and for `row_action: archive` a foreign key whose
    /// `ON DELETE` would change rows the archive does not save.
    public func retentionProblems(_ classes: [MediaClass]) throws(SourceError) -> [String] {
        do {
            return try queue.read { db in
                var problems: [String] = []
                var checked = Set<String>()
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                for mediaClass in classes {
                    guard let rules = mediaClass.retention, rules.rowAction.kind.changesRows else { continue }
                    for reference in mediaClass.references where checked.insert("\(mediaClass.name)\u{0}\(reference.table)").inserted {
                        if try !Self.isUnique(db, table: reference.table, column: reference.key) {
                            problems.append("class '\(mediaClass.name)': key '\(reference.key)' of table '\(reference.table)' is not a PRIMARY KEY or UNIQUE column, so one key may name several rows and the row action would change them all; point 'key' at a unique column")
                        }
                        guard rules.rowAction == .archive else { continue }
                        for child in tables {
                            let keys = try Row.fetchAll(db, sql: "SELECT \"table\" AS parent, on_delete FROM pragma_foreign_key_list(?)", arguments: [child])
                            for key in keys where (key["parent"] as String).lowercased() == reference.table.lowercased() && (key["on_delete"] as String) != "NO ACTION" && (key["on_delete"] as String) != "RESTRICT" {
                                problems.append("class '\(mediaClass.name)': table '\(child)' references '\(reference.table)' with ON DELETE \(key["on_delete"] as String), so deleting an archived row would change rows of '\(child)' the archive does not save; use 'row_action: delete' (and keep backups), 'set_null' or 'soft_delete:COLUMN'")
                            }
                        }
                    }
                }
                return problems
            }
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// Whether `column` alone is the table's primary key (a rowid alias included) or has a
    /// unique index of its own.
    static func isUnique(_ db: Database, table: String, column: String) throws -> Bool {
        if ["rowid", "_rowid_", "oid"].contains(column.lowercased()) { return true }
        let primary = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) WHERE pk > 0", arguments: [table])
        if primary.count == 1, primary[0].lowercased() == column.lowercased() { return true }
        for index in try Row.fetchAll(db, sql: "SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND partial = 0", arguments: [table]) {
            let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?)", arguments: [index["name"] as String])
            if columns.count == 1, columns[0].lowercased() == column.lowercased() { return true }
        }
        return false
    }
}
