import Foundation
import GRDB
import GRDBSQLite
import JanitorCore

/// Changes the app's rows for retention (`row_action`) and puts archived rows back, on a
/// read-write connection with foreign keys enforced: a row the app's own constraints protect
/// is refused with the database's reason instead of left dangling.
public struct SQLiteRowWriter: AppRowWriter {
    /// The absolute path of the database file.
    public let path: String
    let queue: DatabaseQueue

    /// Opens a database read-write; a missing file is a configuration error.
    /// SQLite's: `?` placeholders, types read from `pragma_table_info`.
    public var dialect: SQLDialect { .sqlite }

    public init(path: String) throws(SourceError) {
        self.path = path
        queue = try SQLiteAppDatabase.openWritable(path: path, label: "app-database-rows")
    }

    private var location: String { "sqlite:\(path)" }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction of the app's database: what it reads
    /// stays true until it commits, since no other writer can start meanwhile. A throw rolls
    /// every change back.
    public func inTransaction<T>(_ body: (any RowTransaction) throws -> T) throws -> T {
        var result: T?
        try queue.inTransaction(.immediate) { db in
            result = try body(SQLiteRowTransaction(db: db))
            return .commit
        }
        return result!
    }

    /// Puts an archived row back with every value bound in its own storage class, unless a
    /// row already holds its key.
    public func restore(_ row: ArchivedRow) throws(SourceError) -> Restoration {
        do {
            return try queue.write { db in
                let columns = try Set(Self.dataColumns(db, row.table))
                guard !columns.isEmpty else {
                    throw SourceError.restore(table: row.table, key: row.key, problem: "table '\(row.table)' does not exist any more; create it again (the app's migrations), then run 'archive restore' again")
                }
                let lost = row.columns.map(\.name).filter { !columns.contains($0) }
                guard lost.isEmpty else {
                    throw SourceError.restore(table: row.table, key: row.key, problem: "table '\(row.table)' has no column \(lost.map { "'\($0)'" }.joined(separator: ", ")) any more, so the row cannot go back whole; add the column again, then run 'archive restore' again")
                }
                if let current = try Self.rows(db, table: row.table, keyColumn: row.keyColumn, keys: [row.key], columns: row.columns.map(\.name))[row.key] {
                    return current == row ? .alreadyThere : .conflict
                }
                let names = row.columns.map { SQLIdentifier.quote($0.name) }.joined(separator: ", ")
                let marks = Array(repeating: "?", count: row.columns.count).joined(separator: ", ")
                let statement = try db.makeStatement(sql: "INSERT INTO \(SQLIdentifier.quote(row.table)) (\(names)) VALUES (\(marks))")
                let raw = statement.sqliteStatement
                for (index, column) in row.columns.enumerated() {
                    let position = Int32(index + 1)
                    switch column.value {
                    case .null: sqlite3_bind_null(raw, position)
                    case .integer(let value): sqlite3_bind_int64(raw, position, value)
                    case .real(let value): sqlite3_bind_double(raw, position, value)
                    case .text(let bytes): Self.bindText(raw, position, bytes)
                    case .blob(let bytes):
                        _ = bytes.withUnsafeBytes { sqlite3_bind_blob(raw, position, $0.baseAddress, Int32($0.count), Self.transient) }
                    }
                }
                let code = sqlite3_step(raw)
                sqlite3_reset(raw)
                guard code == SQLITE_DONE else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection))) }
                return .restored
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }

    /// The whole stored rows of `keys` (keys with no row are absent): `columns`, or every column
    /// that holds data, each value with its exact storage class and bytes.
    static func rows(_ db: Database, table: String, keyColumn: String, keys: [String], columns wanted: [String]? = nil) throws -> [String: ArchivedRow] {
        let columns = try wanted ?? dataColumns(db, table)
        let list = columns.map(SQLIdentifier.quote).joined(separator: ", ")
        let statement = try db.makeStatement(sql: "SELECT \(list) FROM \(SQLIdentifier.quote(table)) WHERE \(SQLIdentifier.quote(keyColumn)) = ?")
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        var rows: [String: ArchivedRow] = [:]
        for key in keys {
            sqlite3_reset(raw)
            bindText(raw, 1, Array(key.utf8))
            guard sqlite3_step(raw) == SQLITE_ROW else { continue }
            rows[key] = ArchivedRow(table: table, keyColumn: keyColumn, key: key, columns: columns.indices.map { (columns[$0], value(raw, Int32($0))) })
        }
        return rows
    }

    /// The columns that hold data, in table order (generated and hidden columns cannot be
    /// inserted and are left out).
    static func dataColumns(_ db: Database, _ table: String) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid", arguments: [table]).map { $0["name"] }
    }

    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func bindText(_ statement: OpaquePointer, _ position: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { sqlite3_bind_text(statement, position, $0, Int32(buffer.count), transient) }
            } ?? sqlite3_bind_text(statement, position, "", 0, transient)
        }
    }

    static func value(_ statement: OpaquePointer, _ column: Int32) -> StoredValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard let pointer = sqlite3_column_text(statement, column) else { return .text([]) }
            return .text(Array(UnsafeBufferPointer(start: pointer, count: count)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard let pointer = sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: pointer, count: count)))
        default: return .null
        }
    }
}

/// The app's database inside a `SQLiteRowWriter` transaction.
struct SQLiteRowTransaction: RowTransaction {
    let db: Database

    /// The whole stored rows of `keys`, as `archive` saves them.
    public func rows(table: String, keyColumn: String, keys: [String]) throws -> [String: ArchivedRow] {
        try SQLiteRowWriter.rows(db, table: table, keyColumn: keyColumn, keys: keys)
    }

    /// Runs a row action's statement for one key; returns how many rows it changed (0: the
    /// row is gone).
    public func execute(_ sql: String, key: String) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: [key])
        return db.changesCount
    }
}
