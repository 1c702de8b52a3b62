import Foundation
import JanitorCore
import JanitorPostgres
import NIOCore
import PostgresNIO

/// Changes the app's rows for retention (`row_action`) and puts archived rows back, on a
/// PostgreSQL session of its own. PostgreSQL enforces the app's foreign keys itself: a row they
/// protect is refused with the server's reason instead of left dangling.
///
/// Keys are bound as untyped text (`PostgresValue.untyped`): the server gives the parameter the
/// key column's own type (integer, bigint, uuid, text), exactly as if it were cast to it, so
/// `WHERE "id" = $1` is an index lookup whatever the key's type. Restored values are bound the
/// same way, so each is read back by its column type's own input function, in its own type.
public struct PostgresRowWriter: AppRowWriter {
    /// Where the database is.
    public let url: PostgresURL
    let session: PostgresSession

    /// Connects; a failure names the host, port and database and what to check.
    public init(url: PostgresURL) throws(SourceError) {
        self.url = url
        session = try PostgresAppDatabase.connect(url, purpose: "app-database-rows", readOnly: false)
    }

    /// PostgreSQL's: `$1` placeholders.
    public var dialect: SQLDialect { .postgres }

    /// Runs `body` in one transaction: the rows it reads are locked (`SELECT ... FOR UPDATE`)
    /// until it commits, so no other writer can change them meanwhile. A throw rolls every
    /// change back.
    public func inTransaction<T>(_ body: (any RowTransaction) throws -> T) throws -> T {
        try session.transaction {
            // Foreign keys declared DEFERRABLE INITIALLY DEFERRED (as Django declares them) are
            // checked at each statement here, so a protected row is refused by its own statement
            // (and the batch retried row by row) rather than by the commit of the whole batch.
            try session.execute("SET CONSTRAINTS ALL IMMEDIATE")
            return try body(PostgresRowTransaction(session: session))
        }
    }

    /// Puts an archived row back with every value in its column's own type, unless a row
    /// already holds its key.
    public func restore(_ row: ArchivedRow) throws(SourceError) -> Restoration {
        do {
            return try session.transaction { () throws -> Restoration in
                let columns = try PostgresColumn.read(table: row.table, session: session)
                guard !columns.isEmpty else {
                    throw SourceError.restore(
                        table: row.table, key: row.key,
                        problem:
                            "table '\(row.table)' does not exist any more; create it again (the app's migrations), then run 'archive restore' again"
                    )
                }
                let insertable = Set(columns.filter { !$0.generated }.map(\.name))
                let lost = row.columns.map(\.name).filter { !insertable.contains($0) }
                guard lost.isEmpty else {
                    throw SourceError.restore(
                        table: row.table, key: row.key,
                        problem:
                            "table '\(row.table)' has no column \(lost.map { "'\($0)'" }.joined(separator: ", ")) any more, so the row cannot go back whole; add the column again, then run 'archive restore' again"
                    )
                }
                let current = try Self.rows(
                    session, table: row.table, keyColumn: row.keyColumn, keys: [row.key], columns: row.columns.map(\.name), locking: true)
                if let current = current[row.key] {
                    return current == row ? .alreadyThere : .conflict
                }
                let names = row.columns.map { SQLIdentifier.quote($0.name) }.joined(separator: ", ")
                let marks = row.columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                // An identity column declared GENERATED ALWAYS takes the archived value back too.
                try session.execute(
                    "INSERT INTO \(SQLIdentifier.quote(row.table)) (\(names)) OVERRIDING SYSTEM VALUE VALUES (\(marks))",
                    row.columns.map { Self.bind($0.value) })
                return .restored
            }
        } catch {
            throw PostgresAppDatabase.sourceError(error, url: url)
        }
    }

    /// The whole stored rows of `keys` (keys with no row are absent), keyed by the key as text:
    /// `columns`, or every column that holds data (generated columns are left out), each value
    /// in the storage class SQLite would give it (`StoredValue`): integers and booleans as
    /// integers, floats as reals, bytea as a blob, anything else as its exact text (numeric,
    /// timestamps, uuid, json, arrays), which the column's type reads back unchanged. One
    /// query for all the keys; `locking` locks the rows until the transaction ends.
    static func rows(
        _ session: PostgresSession, table: String, keyColumn: String, keys: [String], columns wanted: [String]? = nil, locking: Bool
    ) throws -> [String: ArchivedRow] {
        let all = try PostgresColumn.read(table: table, session: session)
        let columns: [PostgresColumn]
        if let wanted {
            columns = wanted.compactMap { name in all.first { $0.name == name } }
        } else {
            columns = all.filter { !$0.generated }
        }
        guard !columns.isEmpty else { return [:] }
        let classes = columns.map { StorageClass($0.type) }
        let list = zip(columns, classes).map { column, storage in
            storage == .blob ? SQLIdentifier.quote(column.name) : "\(SQLIdentifier.quote(column.name))::text"
        }
        let key = SQLIdentifier.quote(keyColumn)
        let sql =
            "SELECT \(key)::text, \(list.joined(separator: ", ")) FROM \(SQLIdentifier.quote(table)) WHERE \(key) = ANY($1)\(locking ? " FOR UPDATE" : "")"
        var rows: [String: ArchivedRow] = [:]
        for row in try session.rows(sql, [.untyped(arrayLiteral(keys))]) {
            var cells = row.makeIterator()
            let key = cells.next()?.bytes.map { String(buffer: $0) } ?? ""
            var values: [(name: String, value: StoredValue)] = []
            for (column, storage) in zip(columns, classes) {
                values.append(
                    (column.name, try storage.value(cells.next()?.bytes, column: column, table: table, location: session.url.redacted)))
            }
            rows[key] = ArchivedRow(table: table, keyColumn: keyColumn, key: key, columns: values)
        }
        return rows
    }

    /// A PostgreSQL array literal of text elements (`{"a","b\"c"}`), which the server reads as
    /// an array of the key column's type.
    static func arrayLiteral(_ values: [String]) -> String {
        "{"
            + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    /// An archived value bound as untyped text, read by the column type's own input function.
    static func bind(_ value: StoredValue) -> PostgresValue {
        switch value {
        case .null: .null
        case .integer(let number): .untyped(String(number))
        case .real(let number):
            if number.isNaN {
                .untyped("NaN")
            } else if number.isInfinite {
                .untyped(number < 0 ? "-Infinity" : "Infinity")
            } else {
                .untyped("\(number)")
            }
        case .text(let bytes): .untyped(String(decoding: bytes, as: UTF8.self))
        case .blob(let bytes): .untyped("\\x" + bytes.map { String(format: "%02x", $0) }.joined())
        }
    }

    /// How a column's values are kept in an archived row.
    enum StorageClass {
        case integer, boolean, real, blob, text

        init(_ type: String) {
            switch type {
            case "smallint", "integer", "bigint": self = .integer
            case "boolean": self = .boolean
            case "real", "double precision": self = .real
            case "bytea": self = .blob
            default: self = .text
            }
        }

        /// The value of a cell selected as `::text` (raw for a blob).
        func value(_ bytes: ByteBuffer?, column: PostgresColumn, table: String, location: String) throws(SourceError) -> StoredValue {
            guard let bytes else { return .null }
            switch self {
            case .blob:
                return .blob(Array(bytes.readableBytesView))
            case .text:
                return .text(Array(bytes.readableBytesView))
            case .integer:
                guard let number = Int64(String(buffer: bytes)) else { throw unreadable(bytes, column, table, location) }
                return .integer(number)
            case .boolean:
                return .integer(String(buffer: bytes) == "true" ? 1 : 0)
            case .real:
                switch String(buffer: bytes) {
                case "NaN": return .real(.nan)
                case "Infinity": return .real(.infinity)
                case "-Infinity": return .real(-.infinity)
                case let text:
                    guard let number = Double(text) else { throw unreadable(bytes, column, table, location) }
                    return .real(number)
                }
            }
        }

        private func unreadable(_ bytes: ByteBuffer, _ column: PostgresColumn, _ table: String, _ location: String) -> SourceError {
            .database(
                location: location,
                reason:
                    "column '\(column.name)' of table '\(table)' (\(column.type)) holds '\(String(buffer: bytes))', which is not a number")
        }
    }
}

/// The app's database inside a `PostgresRowWriter` transaction.
struct PostgresRowTransaction: RowTransaction {
    let session: PostgresSession

    /// The whole stored rows of `keys`, as `archive` saves them, locked until the transaction
    /// ends.
    func rows(table: String, keyColumn: String, keys: [String]) throws -> [String: ArchivedRow] {
        try PostgresRowWriter.rows(session, table: table, keyColumn: keyColumn, keys: keys, locking: true)
    }

    /// Runs a row action's statement (PostgreSQL dialect, `$1` the key) for one key; returns
    /// how many rows it changed (0: the row is gone).
    func execute(_ sql: String, key: String) throws -> Int {
        try session.execute(sql, [.untyped(key)])
    }
}
