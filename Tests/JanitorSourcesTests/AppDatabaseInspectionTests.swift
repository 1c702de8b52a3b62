import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

/// What `init` reads from an app database: tables with their text columns and keys, and bounded
/// samples of column values, on SQLite and on PostgreSQL from the same test code.
@Suite("Inspecting an app database for init")
struct AppDatabaseInspectionTests {
    func makeDatabase(_ backend: AppBackend, _ name: String = #function) throws -> AppDatabaseFixture {
        let app = try AppDatabaseFixture(backend, name)
        try app.sql("""
            CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, username VARCHAR(150) NOT NULL, avatar VARCHAR(100), age INTEGER, joined TIMESTAMP);
            CREATE TABLE membership (team_id INTEGER NOT NULL, user_id INTEGER NOT NULL, badge TEXT, PRIMARY KEY (user_id, team_id));
            CREATE TABLE audit_line (note TEXT);
            CREATE VIEW avatar_view AS SELECT id, avatar FROM accounts_user;
            INSERT INTO accounts_user VALUES (1, 'ann', 'avatars/a.jpg', 30, NULL), (2, 'bob', NULL, 40, NULL), (3, 'cy', '', 50, NULL),
                (4, 'dee', 'avatars/d.jpg', 60, NULL), (5, 'eve', 'avatars/e.jpg', 70, NULL), (6, 'fay', 'avatars/f.jpg', 80, NULL);
            """)
        return app
    }

    @Test("tables come with their columns in order, the text columns, and the primary key in key order; views are left out", arguments: AppBackend.allCases)
    func tables(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        let tables = try app.reader().inspectTables()
        #expect(tables.map(\.name) == ["accounts_user", "audit_line", "membership"])
        #expect(tables[0] == InspectedTable(name: "accounts_user", columns: ["id", "username", "avatar", "age", "joined"], textColumns: ["username", "avatar"], primaryKey: ["id"]))
        #expect(tables[1] == InspectedTable(name: "audit_line", columns: ["note"], textColumns: ["note"], primaryKey: []))
        #expect(tables[2] == InspectedTable(name: "membership", columns: ["team_id", "user_id", "badge"], textColumns: ["badge"], primaryKey: ["user_id", "team_id"]))
    }

    @Test("a sample holds at most the limit of values, never NULL or ''", arguments: AppBackend.allCases)
    func sample(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        let database = try app.reader()
        let all = try database.sampleValues(table: "accounts_user", column: "avatar", limit: 100)
        #expect(Set(all) == ["avatars/a.jpg", "avatars/d.jpg", "avatars/e.jpg", "avatars/f.jpg"])
        #expect(all.count == 4)
        let some = try database.sampleValues(table: "accounts_user", column: "avatar", limit: 2)
        #expect(some.count == 2)
        #expect(Set(some).isSubset(of: Set(all)))
        #expect(try database.sampleValues(table: "audit_line", column: "note", limit: 10).isEmpty)
    }

    @Test("a column that is not there is a database error naming the database", arguments: AppBackend.allCases)
    func missingColumn(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        let database = try app.reader()
        #expect {
            _ = try database.sampleValues(table: "accounts_user", column: "photo", limit: 10)
        } throws: { error in
            guard case .database(let location, _) = error as? SourceError else { return false }
            return location == app.location
        }
    }

    @Test("SQLite affinity decides which declared types hold text")
    func sqliteAffinity() {
        for type in ["varchar(100)", "TEXT", "character varying", "clob", "", "nvarchar(20)"] {
            #expect(SQLiteAppDatabase.holdsText(declaredType: type), "\(type)")
        }
        for type in ["integer", "INT", "bigint", "datetime", "real", "numeric", "blob", "bool", "point"] {
            #expect(!SQLiteAppDatabase.holdsText(declaredType: type), "\(type)")
        }
    }
}
