import Foundation
import GRDB
import GRDBSQLite
import JanitorCore

/// A row under retention as the app's database holds it: the files are paths, to be joined
/// with their sizes and times from disk.
public struct StoredRetentionRow: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The row's key, as text.
    public var key: String
    /// The `created` column as a time (text in any SQLite date format, or Unix seconds).
    public var created: Date?
    /// The `owner` column, as text.
    public var owner: String?
    /// The `group` column, as text.
    public var group: String?
    /// The `size` expression's value.
    public var rowBytes: Int64
    /// The normalised paths the row's reference columns hold.
    public var paths: [String]
}

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
                    let pending = mediaClass.retention?.rowAction.kind.pending(pathColumns: pathColumns).map { " WHERE \($0)" } ?? ""
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
                            throw SourceError.database(location: "sqlite:\(path)", reason: String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))
                        }
                        let key = Self.string(raw, 0)
                        let position: Int
                        if let existing = keys[key] {
                            position = existing
                        } else {
                            position = rows.count
                            keys[key] = position
                            // julianday() carries floating-point error: round to milliseconds.
                            let created = sqlite3_column_type(raw, 2) == SQLITE_NULL ? nil : Date(timeIntervalSince1970: (sqlite3_column_double(raw, 2) * 1000).rounded() / 1000)
                            rows.append(StoredRetentionRow(
                                table: reference.table, key: key, created: created,
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
            throw .database(location: "sqlite:\(path)", reason: "\(error)")
        }
        return rows
    }

    /// A column's value as text (SQLite's own conversion for numbers).
    static func string(_ statement: OpaquePointer, _ column: Int32) -> String {
        String(decoding: text(statement, column), as: UTF8.self)
    }

    /// Each owner's own age limit from `max_age_per_owner`; owners with no row or a NULL value
    /// are absent (they fall back to `max_age`).
    public func ownerLimits(_ ttl: OwnerTTL) throws(SourceError) -> [String: Seconds] {
        do {
            return try queue.read { db in
                var limits: [String: Seconds] = [:]
                let sql = "SELECT \(SQL.quote(ttl.key)) AS k, \(SQL.quote(ttl.column)) AS v FROM \(SQL.quote(ttl.table)) WHERE \(SQL.quote(ttl.column)) IS NOT NULL"
                let cursor = try Row.fetchCursor(db, sql: sql)
                while let row = try cursor.next() {
                    guard let value = row["v"] as Double? else { continue }
                    limits[SQL.text(row["k"])] = Seconds(Int64((value * Double(ttl.unit.seconds)).rounded()))
                }
                return limits
            }
        } catch {
            throw .database(location: "sqlite:\(path)", reason: "\(error)")
        }
    }

    /// Which of `keys` still have a row in `table` (one prepared lookup by key each): only for
    /// settling a retention run a crash interrupted, so never on the hot path.
    public func existingKeys(table: String, keyColumn: String, keys: [String]) throws(SourceError) -> Set<String> {
        guard !keys.isEmpty else { return [] }
        do {
            return try queue.read { db in
                var found = Set<String>()
                let statement = try db.makeStatement(sql: "SELECT 1 FROM \(SQL.quote(table)) WHERE \(SQL.quote(keyColumn)) = ?")
                for key in keys where try Bool.fetchOne(statement, arguments: [key]) != nil { found.insert(key) }
                return found
            }
        } catch {
            throw .database(location: "sqlite:\(path)", reason: "\(error)")
        }
    }
}
