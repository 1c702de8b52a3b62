import Foundation
import JanitorCore
import JanitorPostgres

/// The PostgreSQL server of a test run: `scripts/with-postgres.sh` (run by `make test`)
/// starts one on loopback and names it in `MEDIA_JANITOR_TEST_POSTGRES`. Each test takes a
/// database of its own, so tests run in parallel without seeing each other's rows.
///
/// Without the server a PostgreSQL test fails with this message; it never skips silently.
public enum TestPostgres {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The server's maintenance URL (database `postgres`).
    public static func server() throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment["MEDIA_JANITOR_TEST_POSTGRES"], !text.isEmpty else {
            throw Unavailable(description: "MEDIA_JANITOR_TEST_POSTGRES is not set, so the PostgreSQL tests cannot run; run the suite with 'make test', or 'scripts/with-postgres.sh swift test', which start a throwaway server")
        }
        guard case .postgres(let url) = try? ConfigValues.database(text, base: "/").get() else {
            throw Unavailable(description: "MEDIA_JANITOR_TEST_POSTGRES='\(text)' is not a postgres:// URL")
        }
        return url
    }

    /// A new, empty database on the test server; its URL.
    public static func freshDatabase(_ prefix: String = "t") throws -> PostgresURL {
        var url = try server()
        let name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try PostgresSession(url, purpose: "tests")
        try admin.execute("CREATE DATABASE \(SQLIdentifier.quote(name))")
        url.database = name
        return url
    }

    /// The URL as text, for a `janitor.yml`.
    public static func text(_ url: PostgresURL) -> String {
        let credentials = url.password.map { "\(url.user):\($0)" } ?? url.user
        return "postgres://\(credentials)@\(url.host):\(url.port)/\(url.database)"
    }
}
