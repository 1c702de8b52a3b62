import Foundation
import GRDB
import GRDBSQLite
import JanitorCore

/// Changes the app's rows for retention (`row_action`) and puts archived rows back, on a
/// read-write connection with foreign keys enforced: a row the app's own constraints protect
/// is refused with the database's reason instead of left dangling.
public struct SQLiteRowWriter: Sendable {
    /// The absolute path of the database file.
    public let path: String
    let queue: DatabaseQueue

    /// What became of a batch of rows.
    public struct Outcome: Sendable, Hashable {
        /// Keys changed.
        public var applied: [String] = []
        /// Keys the database refused, with its reason.
        public var failed: [(key: String, error: String)] = []

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.applied == b.applied && a.failed.map(\.key) == b.failed.map(\.key) && a.failed.map(\.error) == b.failed.map(\.error)
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(applied) }
    }

    /// What `restore` found.
    public enum Restoration: Sendable, Hashable {
        /// The row is back.
        case restored
        /// A row with that key holds exactly the archived values (restored before).
        case alreadyThere
        /// A different row holds that key; nothing was written.
        case conflict
    }

    /// Opens a database read-write; a missing file is a configuration error.
    public init(path: String) throws(SourceError) {
        self.path = path
        queue = try SQLiteAppDatabase.openWritable(path: path, label: "app-database-rows")
    }

    private var location: String { "sqlite:\(path)" }

    /// The whole stored rows of `keys` (keys with no row are absent), every column that holds
    /// data with its exact storage class and bytes.
    public func archive(table: String, keyColumn: String, keys: [String]) throws(SourceError) -> [String: ArchivedRow] {
        do {
            return try queue.read { db in
                let columns = try Self.dataColumns(db, table)
                let list = columns.map(SQLIdentifier.quote).joined(separator: ", ")
                let statement = try db.makeStatement(sql: "SELECT \(list) FROM \(SQLIdentifier.quote(table)) WHERE \(SQLIdentifier.quote(keyColumn)) = ?")
                let raw = statement.sqliteStatement
                var rows: [String: ArchivedRow] = [:]
                for key in keys {
                    sqlite3_reset(raw)
                    Self.bindText(raw, 1, Array(key.utf8))
                    guard sqlite3_step(raw) == SQLITE_ROW else { continue }
                    let values = columns.indices.map { (name: columns[$0], value: Self.value(raw, Int32($0))) }
                    rows[key] = ArchivedRow(table: table, keyColumn: keyColumn, key: key, columns: values)
                }
                sqlite3_reset(raw)
                return rows
            }
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }

    /// Runs `statement` (one `?`, the key) for every key, `batchSize` rows per transaction. A
    /// batch the database refuses (a constraint, a trigger) is retried row by row, so one
    /// protected row does not hold back the rest.
    public func apply(statement sql: String, keys: [String], batchSize: Int = 500) throws(SourceError) -> Outcome {
        var outcome = Outcome()
        for start in stride(from: 0, to: keys.count, by: max(batchSize, 1)) {
            let batch = Array(keys[start..<min(start + max(batchSize, 1), keys.count)])
            do {
                try queue.write { db in
                    let statement = try db.cachedStatement(sql: sql)
                    for key in batch { try statement.execute(arguments: [key]) }
                }
                outcome.applied += batch
            } catch {
                for key in batch {
                    do {
                        try queue.write { db in try db.cachedStatement(sql: sql).execute(arguments: [key]) }
                        outcome.applied.append(key)
                    } catch let error as DatabaseError {
                        outcome.failed.append((key, error.message ?? "\(error.resultCode)"))
                    } catch {
                        throw SourceError.database(location: location, reason: "\(error)")
                    }
                }
            }
        }
        return outcome
    }

    /// Puts an archived row back with every value bound in its own storage class, unless a
    /// row already holds its key.
    public func restore(_ row: ArchivedRow) throws(SourceError) -> Restoration {
        do {
            return try queue.write { db in
                if let current = try archive(db, row) {
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
        } catch {
            throw .database(location: location, reason: "\(error)")
        }
    }

    private func archive(_ db: Database, _ row: ArchivedRow) throws -> ArchivedRow? {
        let columns = row.columns.map(\.name)
        let statement = try db.makeStatement(
            sql: "SELECT \(columns.map(SQLIdentifier.quote).joined(separator: ", ")) FROM \(SQLIdentifier.quote(row.table)) WHERE \(SQLIdentifier.quote(row.keyColumn)) = ?")
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        Self.bindText(raw, 1, Array(row.key.utf8))
        guard sqlite3_step(raw) == SQLITE_ROW else { return nil }
        return ArchivedRow(table: row.table, keyColumn: row.keyColumn, key: row.key, columns: columns.indices.map { (columns[$0], Self.value(raw, Int32($0))) })
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
