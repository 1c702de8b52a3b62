import Foundation
import GRDB
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import PostgresNIO
import Testing

@testable import JanitorSources

/// Which database an app fixture keeps its rows in. The behaviour tests of the app database
/// readers and row writers take it as an argument, so one body of test code runs on both.
enum AppBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// An app database for one test: an SQLite file in a temporary directory, or a fresh database
/// on the test run's PostgreSQL server (the test fails, never skips, without one). Tests write
/// plain SQL both understand, and read values back as SQLite prints them.
final class AppDatabaseFixture {
    let backend: AppBackend
    let directory: TemporaryDirectory
    /// The PostgreSQL database, for the PostgreSQL backend.
    let url: PostgresURL?
    private let queue: DatabaseQueue?
    private let session: PostgresSession?

    init(_ backend: AppBackend, _ name: String = #function) throws {
        self.backend = backend
        directory = TemporaryDirectory(name)
        switch backend {
        case .sqlite:
            queue = try DatabaseQueue(path: directory.path + "/app.sqlite3")
            url = nil
            session = nil
        case .postgres:
            let url = try TestPostgres.freshDatabase("app")
            self.url = url
            session = try PostgresSession(url, purpose: "tests")
            queue = nil
        }
    }

    /// The SQLite file, for the SQLite backend.
    var path: String { directory.path + "/app.sqlite3" }

    /// `sqlite:PATH` or the PostgreSQL URL without its password, as errors name the database.
    var location: String { url?.redacted ?? "sqlite:\(path)" }

    /// Runs SQL, several statements separated by `;`.
    func sql(_ text: String) throws {
        if let queue {
            try queue.writeWithoutTransaction { try $0.execute(sql: text) }
        } else {
            try session!.script(text)
        }
    }

    /// The rows of a query, one line per row with values separated by `|`, as SQLite prints
    /// them: NULL as `NULL`, booleans as `1` and `0`.
    func rows(_ query: String) throws -> [String] {
        if let queue {
            return try queue.read { db in
                try Row.fetchAll(db, sql: query).map { row in
                    row.databaseValues.map { $0.isNull ? "NULL" : "\($0.storage.value!)" }.joined(separator: "|")
                }
            }
        }
        return try session!.rows(query).map { row in row.map(Self.text).joined(separator: "|") }
    }

    /// The reader of the app's database.
    func reader() throws -> any AppDatabase {
        switch backend {
        case .sqlite: try SQLiteAppDatabase(path: path)
        case .postgres: try PostgresAppDatabase(url: url!)
        }
    }

    /// The row writer of the app's database.
    func writer() throws -> any AppRowWriter {
        switch backend {
        case .sqlite: try SQLiteRowWriter(path: path)
        case .postgres: try PostgresRowWriter(url: url!)
        }
    }

    private static func text(_ cell: PostgresCell) -> String {
        guard cell.bytes != nil else { return "NULL" }
        switch cell.dataType {
        case .bool: return (try? cell.decode(Bool.self)) == true ? "1" : "0"
        case .int2, .int4, .int8: return (try? cell.decode(Int64.self)).map(String.init) ?? "?"
        case .float4, .float8: return (try? cell.decode(Double.self)).map { "\($0)" } ?? "?"
        default: return (try? cell.decode(String.self)) ?? "<\(cell.dataType)>"
        }
    }
}
