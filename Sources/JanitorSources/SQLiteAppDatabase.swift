import Foundation
import GRDB
import GRDBSQLite
import JanitorCore

/// The app's SQLite database, opened read-only through GRDB.
///
/// References are streamed column by column with one statement each, stepping SQLite
/// directly and handing each value's bytes to the `ReferenceSet` without copying: never one
/// query per file.
public struct SQLiteAppDatabase: AppDatabase {
    /// The absolute path of the database file.
    public let path: String
    let queue: DatabaseQueue
    public var location: String { "sqlite:\(path)" }

    /// Opens a database read-only; a missing file is a configuration error.
    public init(path: String) throws(SourceError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw .databaseMissing(path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "app-database"
        // The app may be writing: wait for it rather than failing at once.
        configuration.busyMode = .timeout(5)
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// Opens the app's database read-write, for the few commands that change it (hooks, row
    /// actions), with the app's foreign keys enforced (GRDB's default), so a change they forbid is
    /// refused rather than left dangling. A missing file is a configuration error: GRDB would
    /// create an empty database, and a typo in the config must not do that.
    static func openWritable(path: String, label: String) throws(SourceError) -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw .databaseMissing(path) }
        var configuration = Configuration()
        configuration.label = label
        // The app may be writing: wait for it rather than failing at once.
        configuration.busyMode = .timeout(5)
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// Table names and their columns, for schema checks and `init`.
    public func schema() throws(SourceError) -> [String: [String]] {
        do {
            return try queue.read { db in
                var tables: [String: [String]] = [:]
                let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
                for name in names {
                    tables[name] = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [name]).map { $0["name"] as String }
                }
                return tables
            }
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// Streams every path-holding column into `references`.
    public func readReferences(into references: inout ReferenceSet) throws(SourceError) {
        do {
            try queue.read { db in
                for (index, column) in references.columns.enumerated() {
                    let reference = column.reference
                    guard let pathColumn = reference.column else { continue }
                    var selected = [SQL.quote(reference.key), SQL.quote(pathColumn)]
                    if references.keepsOwners, let owner = reference.owner { selected.append(SQL.quote(owner)) }
                    let sql = "SELECT \(selected.joined(separator: ", ")) FROM \(SQL.quote(reference.table)) WHERE \(SQL.quote(pathColumn)) IS NOT NULL AND \(SQL.quote(pathColumn)) <> ''"
                    let statement = try db.makeStatement(sql: sql)
                    let raw = statement.sqliteStatement
                    let hasOwner = selected.count == 3
                    while true {
                        let code = sqlite3_step(raw)
                        if code == SQLITE_DONE { break }
                        guard code == SQLITE_ROW else {
                            throw SourceError.sqlite(path, code: code, message: String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))
                        }
                        let value = Self.text(raw, 1)
                        let key = Self.text(raw, 0)
                        let owner = hasOwner && sqlite3_column_type(raw, 2) != SQLITE_NULL ? Self.text(raw, 2) : nil
                        references.add(value: value, column: index, key: key, owner: owner)
                    }
                    sqlite3_reset(raw)
                }
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw .sqlite(path, error)
        }
    }

    /// A column's text, borrowed from SQLite until the next step.
    static func text(_ statement: OpaquePointer, _ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let pointer = sqlite3_column_text(statement, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column)))
    }
}

extension SQLiteAppDatabase {
    /// The rows that still hold each of `paths`, across every given column: one streaming
    /// pass over each column for the whole set, so the cost is the number of rows, whatever
    /// the number of paths. Values are normalised before comparing, so `./a//b.jpg` and an
    /// absolute path inside the root protect `a/b.jpg`.
    public func rowsHolding(_ paths: [String], columns: [ReferenceSet.Column], mediaRoot: String) throws(SourceError) -> [String: [RowReference]] {
        guard !paths.isEmpty else { return [:] }
        var wanted = PathSet(capacity: paths.count)
        for path in paths { wanted.insert(path) }
        var holders: [Int: [RowReference]] = [:]
        do {
            try queue.read { db in
                for column in columns {
                    guard let pathColumn = column.reference.column else { continue }
                    let quoted = SQL.quote(pathColumn)
                    let sql = "SELECT \(SQL.quote(column.reference.key)), \(quoted) FROM \(SQL.quote(column.reference.table)) WHERE \(quoted) IS NOT NULL AND \(quoted) <> ''"
                    let statement = try db.makeStatement(sql: sql)
                    let raw = statement.sqliteStatement
                    defer { sqlite3_reset(raw) }
                    while true {
                        let code = sqlite3_step(raw)
                        if code == SQLITE_DONE { break }
                        guard code == SQLITE_ROW else {
                            throw SourceError.sqlite(path, code: code, message: String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))
                        }
                        guard let index = ReferenceSet.index(of: Self.text(raw, 1), in: wanted, mediaRoot: mediaRoot) else { continue }
                        let key = String(decoding: Self.text(raw, 0), as: UTF8.self)
                        holders[index, default: []].append(RowReference(table: column.reference.table, column: pathColumn, key: key))
                    }
                }
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw .sqlite(path, error)
        }
        var result: [String: [RowReference]] = [:]
        for (index, rows) in holders { result[wanted[index]] = rows }
        return result
    }
}

/// SQL text helpers.
enum SQL {
    /// Quotes an identifier (`schema.table` becomes `"schema"."table"`).
    static func quote(_ identifier: String) -> String { SQLIdentifier.quote(identifier) }

    /// A database value as text, for keys in reports.
    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "NULL"
        case .int64(let int): String(int)
        case .double(let double): String(double)
        case .string(let string): string
        case .blob(let data): data.map { String(format: "%02x", $0) }.joined()
        }
    }
}

/// Compares the configured tables and columns with what a database has.
public enum SchemaCheck {
    /// One error per missing table or column, at the reference's place in the config.
    public static func diagnose(_ classes: [MediaClass], tables: [String: [String]], location: String) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let tableNames = tables.keys.sorted()
        func checkColumns(_ table: String, _ wanted: [(String, String)], at place: SourceLocation?) {
            guard let columns = tables[table] else { return }
            for (role, column) in wanted where !columns.contains(column) {
                let hint = didYouMean(column, in: columns).map { "did you mean '\($0)'? " } ?? ""
                diagnostics.append(Diagnostic(.error, "table '\(table)' has no column '\(column)' (\(role)); \(hint)columns are: \(columns.joined(separator: ", "))", id: "world.missing-column", at: place))
            }
        }
        func checkTable(_ table: String, at place: SourceLocation?) -> Bool {
            guard tables[table] == nil else { return true }
            let hint = didYouMean(table, in: tableNames).map { "did you mean '\($0)'? " } ?? ""
            diagnostics.append(Diagnostic(.error, "table '\(table)' does not exist in \(location); \(hint)tables are: \(tableNames.joined(separator: ", "))", id: "world.missing-table", at: place))
            return false
        }
        for mediaClass in classes {
            for reference in mediaClass.references {
                guard checkTable(reference.table, at: reference.location) else { continue }
                var wanted = [("key", reference.key)]
                if let column = reference.column { wanted.append(("column", column)) }
                if let created = reference.created { wanted.append(("created", created)) }
                if let owner = reference.owner { wanted.append(("owner", owner)) }
                if let group = reference.group { wanted.append(("group", group)) }
                if case .softDelete(let column) = mediaClass.retention?.rowAction { wanted.append(("row_action soft_delete", column)) }
                checkColumns(reference.table, wanted, at: reference.location)
            }
            if let ttl = mediaClass.retention?.maxAgePerOwner, checkTable(ttl.table, at: mediaClass.location) {
                checkColumns(ttl.table, [("max_age_per_owner.key", ttl.key), ("max_age_per_owner.column", ttl.column)], at: mediaClass.location)
            }
        }
        return diagnostics
    }
}

extension SourceError {
    /// An SQLite failure on the app database, with what to do about the usual causes.
    static func sqlite(_ path: String, code: Int32, message: String) -> SourceError {
        let advice =
            switch code & 0xff {
            case SQLITE_BUSY, SQLITE_LOCKED:
                "; another connection held a write lock for longer than the 5 s the janitor waits (a migration, a VACUUM, a backup?): run again when it is done"
            case SQLITE_CORRUPT, SQLITE_NOTADB:
                "; the file is not an SQLite database or is damaged: check 'database' in the config, and the app's own health"
            case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH:
                "; check that the janitor's user may read the file and its directory"
            default: ""
            }
        return .database(location: "sqlite:\(path)", reason: message + advice)
    }

    /// See `sqlite(_:code:message:)`; errors that are already a `SourceError` pass through.
    static func sqlite(_ path: String, _ error: any Error) -> SourceError {
        if let error = error as? SourceError { return error }
        if let error = error as? DatabaseError {
            return sqlite(path, code: error.extendedResultCode.rawValue, message: error.message ?? "\(error)")
        }
        return .database(location: "sqlite:\(path)", reason: "\(error)")
    }
}
