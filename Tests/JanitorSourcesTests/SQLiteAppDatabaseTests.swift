import Foundation
import GRDB
import JanitorCore
import Testing

@testable import JanitorSources

/// The readers' behaviour, on SQLite and on PostgreSQL from the same test code.
@Suite("Reading references from an app database")
struct SQLiteAppDatabaseTests {
    let classes = [
        MediaClass(name: "avatars", paths: [try! Glob("avatars/**")], references: [
            ReferenceColumn(table: "accounts_user", column: "avatar", key: "id", owner: "team"),
            ReferenceColumn(table: "accounts_user", column: "banner", key: "id"),
        ]),
        MediaClass(name: "docs", paths: [try! Glob("docs/**")], references: [
            ReferenceColumn(table: "doc", column: "file", key: "slug"),
        ]),
    ]

    func makeDatabase(_ backend: AppBackend, _ name: String = #function) throws -> AppDatabaseFixture {
        let app = try AppDatabaseFixture(backend, name)
        try app.sql("""
            CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, avatar TEXT, banner TEXT, team TEXT);
            CREATE TABLE doc (slug TEXT PRIMARY KEY, file TEXT NOT NULL);
            INSERT INTO accounts_user VALUES (1, 'avatars/a.jpg', NULL, 'red');
            INSERT INTO accounts_user VALUES (2, '', 'avatars/a.jpg', NULL);
            INSERT INTO accounts_user VALUES (3, './avatars//c.jpg', '../x', 'blue');
            INSERT INTO doc VALUES ('intro', 'docs/intro.pdf');
            """)
        return app
    }

    @Test("every column streams in; NULL and '' mean no file; values are normalised; bad values become invalid", arguments: AppBackend.allCases)
    func streams(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        let database = try app.reader()
        var references = ReferenceSet(classes: classes, mediaRoot: "/media", keepsOwners: true)
        try database.readReferences(into: &references)
        #expect(references.paths.count == 3)
        let held = ["avatars/a.jpg", "avatars/c.jpg", "docs/intro.pdf"].filter { references.contains($0) }
        #expect(held.count == 3)
        #expect(references.occurrenceCount == 4)
        #expect(references.invalid.map(\.value) == ["../x"])
        #expect(references.invalid.first?.row == RowReference(table: "accounts_user", column: "banner", key: "3"))
        var owners: [String] = []
        references.forEachOccurrence { _, _, key, owner in owners.append("\(key):\(owner ?? "-")") }
        #expect(owners == ["1:red", "3:blue", "2:-", "intro:-"])
    }

    @Test("a missing table or column is an error at the reference that lists what exists", arguments: AppBackend.allCases)
    func schemaDiagnostics(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        let database = try app.reader()
        let wrong = [
            MediaClass(name: "a", paths: [], references: [
                ReferenceColumn(table: "accounts_user", column: "avatr", key: "id", location: SourceLocation(file: "janitor.yml", line: 7, column: 9)),
                ReferenceColumn(table: "accounts_usr", column: "avatar", key: "id", location: SourceLocation(file: "janitor.yml", line: 8, column: 9)),
            ])
        ]
        let diagnostics = try database.checkSchema(wrong).map(\.description)
        #expect(diagnostics == [
            "janitor.yml:7:9: error: table 'accounts_user' has no column 'avatr' (column); did you mean 'avatar'? columns are: id, avatar, banner, team [world.missing-column]",
            "janitor.yml:8:9: error: table 'accounts_usr' does not exist in \(app.location); did you mean 'accounts_user'? tables are: accounts_user, doc [world.missing-table]",
        ])
    }

    @Test("the database is opened read-only: the reader cannot change it", arguments: AppBackend.allCases)
    func readOnly(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        switch try app.reader() {
        case let database as SQLiteAppDatabase:
            #expect(throws: (any Error).self) { try database.queue.write { try $0.execute(sql: "DELETE FROM doc") } }
        case let database as PostgresAppDatabase:
            #expect(throws: (any Error).self) { try database.session.execute("DELETE FROM doc") }
        default:
            Issue.record("an unknown reader")
        }
        #expect(try app.rows("SELECT count(*) FROM doc") == ["1"])
    }

    @Test("a missing database file is a configuration error; a corrupt one is a runtime error")
    func badFiles() throws {
        let tmp = TemporaryDirectory()
        do {
            _ = try SQLiteAppDatabase(path: tmp.path + "/none.sqlite3")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.isConfiguration)
            #expect(error.description == "the app database 'sqlite:\(tmp.path)/none.sqlite3' does not exist; check 'database' in the config (relative paths are relative to the config file)")
        }
        let corrupt = tmp.file("corrupt.sqlite3", bytes: 4096)
        do {
            let database = try SQLiteAppDatabase(path: corrupt)
            var references = ReferenceSet(classes: classes, mediaRoot: "/media")
            try database.readReferences(into: &references)
            Issue.record("read a corrupt file")
        } catch {
            #expect(!error.isConfiguration)
            #expect(error.description.hasPrefix("cannot read the app database 'sqlite:\(corrupt)': "))
        }
    }

    @Test("rows hidden by an app's soft delete still protect their files: tables are read directly", arguments: AppBackend.allCases)
    func softDeletedRowsCount(_ backend: AppBackend) throws {
        let app = try AppDatabaseFixture(backend)
        try app.sql("""
            CREATE TABLE doc (slug TEXT PRIMARY KEY, file TEXT, deleted_at TEXT);
            INSERT INTO doc VALUES ('live', 'docs/live.pdf', NULL), ('hidden', 'docs/hidden.pdf', '2026-01-01');
            CREATE VIEW live_doc AS SELECT * FROM doc WHERE deleted_at IS NULL;
            """)
        var references = ReferenceSet(classes: [classes[1]], mediaRoot: "/media")
        try app.reader().readReferences(into: &references)
        #expect(references.contains("docs/hidden.pdf"))
        #expect(references.paths.count == 2)
    }

    @Test("explain finds the rows that hold a path, normalised", arguments: AppBackend.allCases)
    func rowsHolding(_ backend: AppBackend) throws {
        let app = try makeDatabase(backend)
        let database = try app.reader()
        let columns = ReferenceSet(classes: classes, mediaRoot: "/media").columns
        let holders = try database.rowsHolding(["avatars/a.jpg", "avatars/c.jpg"], columns: columns, mediaRoot: "/media")
        #expect(holders["avatars/a.jpg"] == [
            RowReference(table: "accounts_user", column: "avatar", key: "1"),
            RowReference(table: "accounts_user", column: "banner", key: "2"),
        ])
        #expect(holders["avatars/c.jpg"] == [RowReference(table: "accounts_user", column: "avatar", key: "3")])
    }
}

extension ReferenceSet {
    func contains(_ path: String) -> Bool { paths.contains(path) }
}
