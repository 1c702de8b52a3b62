import Foundation
import GRDB
import GRDBSQLite
import JanitorCore

extension SQLiteAppDatabase {
    /// Every table with its columns, the ones that can hold text, and its primary key.
    public func inspectTables() throws(SourceError) -> [InspectedTable] {
        do {
            return try queue.read { db in
                let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                return try names.map { name in
                    let rows = try Row.fetchAll(db, sql: "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
                    let columns = rows.map { $0["name"] as String }
                    let text = rows.filter { Self.holdsText(declaredType: $0["type"] as String? ?? "") }.map { $0["name"] as String }
                    let key = rows.filter { ($0["pk"] as Int? ?? 0) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
                    return InspectedTable(name: name, columns: columns, textColumns: text, primaryKey: key)
                }
            }
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }

    /// Whether a column of this declared type can hold text, by SQLite's affinity rules: TEXT
    /// affinity (`varchar(100)`, `text`, `clob`) or none at all (an untyped column holds
    /// anything); INTEGER, REAL and NUMERIC affinities (`datetime` included) are left out.
    static func holdsText(declaredType: String) -> Bool {
        let type = declaredType.uppercased()
        if type.contains("INT") { return false }
        if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") { return true }
        return type.trimmingCharacters(in: .whitespaces).isEmpty
    }

    /// Up to `limit` non-NULL, non-empty values of one column as text, stepped one row at a time.
    public func sampleValues(table: String, column: String, limit: Int) throws(SourceError) -> [String] {
        do {
            return try queue.read { db in
                let quoted = SQL.quote(column)
                let statement = try db.makeStatement(sql: "SELECT \(quoted) FROM \(SQL.quote(table)) WHERE \(quoted) IS NOT NULL AND \(quoted) <> '' LIMIT ?")
                try statement.setArguments([limit])
                let raw = statement.sqliteStatement
                defer { sqlite3_reset(raw) }
                var values: [String] = []
                while values.count < limit {
                    let code = sqlite3_step(raw)
                    if code == SQLITE_DONE { break }
                    guard code == SQLITE_ROW else {
                        throw SourceError.database(location: location, reason: String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))
                    }
                    values.append(String(decoding: Self.text(raw, 0), as: UTF8.self))
                }
                return values
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }
}
