import Foundation
import GRDB
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import PostgresNIO
import Testing

/// Which database the app of a fixture keeps its rows in. The integration tests of scan,
/// hooks, retention and the sidecar take it as an argument, so one body of test code runs
/// against both.
enum AppBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// The app's database in a fixture (SQLite in the scratch directory, or a fresh database on
/// the test run's PostgreSQL server), with what tests do to it: run SQL, read values back.
final class AppDB: @unchecked Sendable {
    let backend: AppBackend
    /// The `database:` value of the fixture's janitor.yml.
    let configValue: String
    private let sqlite: DatabaseQueue?
    private let postgres: PostgresSession?

    init(_ backend: AppBackend, directory: String) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            sqlite = try DatabaseQueue(path: directory + "/app.sqlite3")
            postgres = nil
            configValue = "sqlite:app.sqlite3"
        case .postgres:
            let url = try TestPostgres.freshDatabase("app")
            postgres = try PostgresSession(url, purpose: "tests")
            sqlite = nil
            configValue = TestPostgres.text(url)
        }
    }

    /// Runs SQL (several statements separated by `;`, a `BEGIN ... ROLLBACK` included).
    func sql(_ text: String) throws {
        if let sqlite {
            try sqlite.writeWithoutTransaction { try $0.execute(sql: text) }
        } else {
            try postgres!.script(text)
        }
    }

    /// The rows of a query, each value as SQLite would print it (NULL as nil, a timestamp as
    /// `YYYY-MM-DD HH:MM:SS` in UTC).
    func values(_ query: String) throws -> [[String?]] {
        if let sqlite {
            return try sqlite.read { db in
                try Row.fetchAll(db, sql: query).map { row in
                    row.databaseValues.map { value in
                        switch value.storage {
                        case .null: nil
                        case .int64(let v): String(v)
                        case .double(let v): String(v)
                        case .string(let v): v
                        case .blob(let v): v.map { String(format: "%02x", $0) }.joined()
                        }
                    }
                }
            }
        }
        return try postgres!.rows(query).map { row in row.map(Self.text) }
    }

    /// The first column of every row, as integers.
    func ints(_ query: String) throws -> [Int64] {
        try values(query).map { Int64($0[0] ?? "") ?? -1 }
    }

    /// The first value of the first row.
    func value(_ query: String) throws -> String? {
        try values(query).first?.first ?? nil
    }

    private static func text(_ cell: PostgresCell) -> String? {
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return (try? cell.decode(Int64.self)).map(String.init)
        case .bool:
            return (try? cell.decode(Bool.self)).map { $0 ? "1" : "0" }
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map { String($0) }
        case .timestamp, .timestamptz, .date:
            guard let date = try? cell.decode(Date.self) else { return nil }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return formatter.string(from: date)
        default:
            return (try? cell.decode(String.self)) ?? "<\(cell.dataType)>"
        }
    }
}
