import Foundation
import GRDB
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
        var index: [String: Int] = [:]
        do {
            try queue.read { db in
                for reference in mediaClass.references {
                    func column(_ name: String?, _ alias: String) -> String {
                        name.map { "\(SQL.quote($0)) AS \(alias)" } ?? "NULL AS \(alias)"
                    }
                    let created = reference.created.map {
                        let c = SQL.quote($0)
                        return "CASE WHEN typeof(\(c)) IN ('integer', 'real') THEN \(c) ELSE (julianday(\(c)) - 2440587.5) * 86400.0 END AS created"
                    } ?? "NULL AS created"
                    let size = reference.size.map { "(\($0)) AS size" } ?? "0 AS size"
                    let pathColumns = mediaClass.references.filter { $0.table == reference.table }.compactMap(\.column)
                    let pending = mediaClass.retention?.rowAction.kind.pending(pathColumns: pathColumns).map { " WHERE \($0)" } ?? ""
                    let sql = "SELECT \(SQL.quote(reference.key)) AS k, \(column(reference.column, "path")), \(created), \(column(reference.owner, "owner")), \(column(reference.group, "grp")), \(size) FROM \(SQL.quote(reference.table))\(pending)"
                    let cursor = try Row.fetchCursor(db, sql: sql)
                    while let row = try cursor.next() {
                        let key = SQL.text(row["k"])
                        let id = "\(reference.table)\u{0}\(key)"
                        let position: Int
                        if let existing = index[id] {
                            position = existing
                        } else {
                            position = rows.count
                            index[id] = position
                            // julianday() carries floating-point error: round to milliseconds.
                            let seconds = (row["created"] as Double?).map { ($0 * 1000).rounded() / 1000 }
                            let owner: DatabaseValue = row["owner"], group: DatabaseValue = row["grp"]
                            rows.append(StoredRetentionRow(
                                table: reference.table, key: key, created: seconds.map(Date.init(timeIntervalSince1970:)),
                                owner: owner.isNull ? nil : SQL.text(owner), group: group.isNull ? nil : SQL.text(group),
                                rowBytes: (row["size"] as Int64?) ?? 0, paths: []))
                        }
                        if let value = row["path"] as String?, !value.isEmpty, case .valid(let path) = PathRules.normalise(value, mediaRoot: mediaRoot),
                            !rows[position].paths.contains(path)
                        {
                            rows[position].paths.append(path)
                        }
                    }
                }
            }
        } catch {
            throw .database(location: "sqlite:\(path)", reason: "\(error)")
        }
        return rows
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
