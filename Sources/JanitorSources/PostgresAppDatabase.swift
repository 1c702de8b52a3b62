import Foundation
import JanitorCore
import JanitorPostgres
import NIOCore
import PostgresNIO

/// The app's PostgreSQL database, read through one read-only session.
///
/// References are streamed column by column with one query each: rows reach the
/// `ReferenceSet` as they arrive, each value's bytes borrowed from the wire buffer, never
/// collected and never one query per file. Every value is selected as `::text`, so keys of any
/// type (integer, uuid, varchar) arrive in their text form, which is also their bytes.
public struct PostgresAppDatabase: AppDatabase {
    /// Where the database is (`location` is it without the password).
    public let url: PostgresURL
    let session: PostgresSession
    /// `postgres://user@host:port/database`, for messages (never the password).
    public var location: String { url.redacted }

    /// Connects; a failure names the host, port and database and what to check (never the
    /// password).
    public init(url: PostgresURL) throws(SourceError) {
        self.url = url
        session = try Self.connect(url, purpose: "app-database", readOnly: true)
    }

    /// Opens a session with settings that make every value's text form the same in every
    /// session: times in UTC and ISO form, floats exact, bytea in hex. `archive` compares rows
    /// read by two sessions, and text times are read as UTC, as SQLite reads them.
    static func connect(_ url: PostgresURL, purpose: String, readOnly: Bool) throws(SourceError) -> PostgresSession {
        do {
            let session = try PostgresSession(url, purpose: purpose)
            var settings = [
                "SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'",
                "SET extra_float_digits = 3", "SET bytea_output = 'hex'", "SET application_name = 'media-janitor'",
            ]
            // The reader never writes: the server refuses it if a bug ever tried.
            if readOnly { settings.append("SET default_transaction_read_only = on") }
            try session.script(settings.joined(separator: "; "))
            return session
        } catch {
            throw .database(location: url.redacted, reason: error.reason)
        }
    }

    /// Tables and views with their columns in table order: those found through the
    /// `search_path` by their plain name (`chat_message`, as a Django or Rails config names
    /// them), those of other schemas qualified (`archive.chat_message`).
    public func schema() throws(SourceError) -> [String: [String]] {
        let sql = """
            SELECT n.nspname::text, c.relname::text, pg_table_is_visible(c.oid)::text, a.attname::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY n.nspname, c.relname, a.attnum
            """
        var tables: [String: [String]] = [:]
        try stream(sql) { row in
            let values = Self.strings(row)
            let name = values[2] == "true" ? values[1]! : "\(values[0]!).\(values[1]!)"
            tables[name, default: []].append(values[3]!)
        }
        return tables
    }

    /// Streams every path-holding column into `references`.
    public func readReferences(into references: inout ReferenceSet) throws(SourceError) {
        for (index, column) in references.columns.enumerated() {
            let reference = column.reference
            guard let pathColumn = reference.column else { continue }
            let path = SQLIdentifier.quote(pathColumn)
            var selected = ["\(SQLIdentifier.quote(reference.key))::text", "\(path)::text"]
            if references.keepsOwners, let owner = reference.owner { selected.append("\(SQLIdentifier.quote(owner))::text") }
            let hasOwner = selected.count == 3
            let sql =
                "SELECT \(selected.joined(separator: ", ")) FROM \(SQLIdentifier.quote(reference.table)) WHERE \(path) IS NOT NULL AND \(path)::text <> ''"
            try stream(sql) { row in
                var cells = row.makeIterator()
                let key = cells.next()?.bytes, value = cells.next()?.bytes
                let owner = hasOwner ? cells.next()?.bytes : nil
                Self.withBytes(value) { value in
                    Self.withBytes(key) { key in
                        if let owner {
                            Self.withBytes(owner) { owner in references.add(value: value, column: index, key: key, owner: owner) }
                        } else {
                            references.add(value: value, column: index, key: key, owner: nil)
                        }
                    }
                }
            }
        }
    }

    /// The rows that still hold each of `paths`, across every given column: one streaming
    /// pass over each column for the whole set, so the cost is the number of rows, whatever
    /// the number of paths. Values are normalised before comparing, so `./a//b.jpg` and an
    /// absolute path inside the root protect `a/b.jpg`.
    public func rowsHolding(
        _ paths: [String], columns: [ReferenceSet.Column], mediaRoot: String
    ) throws(SourceError) -> [String: [RowReference]] {
        guard !paths.isEmpty else { return [:] }
        var wanted = PathSet(capacity: paths.count)
        for path in paths { wanted.insert(path) }
        var holders: [Int: [RowReference]] = [:]
        for column in columns {
            guard let pathColumn = column.reference.column else { continue }
            let quoted = SQLIdentifier.quote(pathColumn)
            let sql =
                "SELECT \(SQLIdentifier.quote(column.reference.key))::text, \(quoted)::text FROM \(SQLIdentifier.quote(column.reference.table)) WHERE \(quoted) IS NOT NULL AND \(quoted)::text <> ''"
            try stream(sql) { row in
                var cells = row.makeIterator()
                let key = cells.next()?.bytes
                let index = Self.withBytes(cells.next()?.bytes) { ReferenceSet.index(of: $0, in: wanted, mediaRoot: mediaRoot) }
                guard let index else { return }
                let text = Self.withBytes(key) { String(decoding: $0, as: UTF8.self) }
                holders[index, default: []].append(RowReference(table: column.reference.table, column: pathColumn, key: text))
            }
        }
        var result: [String: [RowReference]] = [:]
        for (index, rows) in holders { result[wanted[index]] = rows }
        return result
    }

    /// Streams a query's rows to `onRow` as they arrive; a failure becomes the operator's
    /// message naming this database.
    func stream(_ sql: String, _ values: [PostgresValue] = [], onRow: (PostgresRow) -> Void) throws(SourceError) {
        do {
            try session.stream(sql, values, onRow: onRow)
        } catch {
            throw Self.sourceError(error, url: url)
        }
    }

    /// All of a query's rows (small catalog queries).
    func rows(_ sql: String, _ values: [PostgresValue] = []) throws(SourceError) -> [PostgresRow] {
        do {
            return try session.rows(sql, values)
        } catch {
            throw .database(location: url.redacted, reason: error.reason)
        }
    }

    static func sourceError(_ error: any Error, url: PostgresURL) -> SourceError {
        if let error = error as? SourceError { return error }
        if let failure = error as? PostgresFailure { return .database(location: url.redacted, reason: failure.reason) }
        return .database(location: url.redacted, reason: "\(error)")
    }

    /// Calls `body` with a cell's bytes (empty for NULL), borrowed from the row's buffer.
    @inline(__always)
    static func withBytes<R>(_ buffer: ByteBuffer?, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let buffer else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return buffer.withUnsafeReadableBytes { raw in
            body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
        }
    }

    /// A row's cells as text (every column selected as `::text`; NULL as nil).
    static func strings(_ row: PostgresRow) -> [String?] {
        row.map { cell in cell.bytes.map { String(buffer: $0) } }
    }
}
