import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

/// Runs every row action's own examples (STYLE item 3) on a real SQLite and a real
/// PostgreSQL database from the same test code, and the archive round trip for every storage
/// class.
@Suite("Row actions on an app database")
struct RowActionTests {
    static let cases: [(AppBackend, String, Int)] = AppBackend.allCases.flatMap { backend in
        RowAction.allExamples.flatMap { entry in entry.examples.indices.map { (backend, entry.action, $0) } }
    }

    func action(_ yaml: String) throws -> RowAction {
        let text = """
            version: 1
            media_root: media
            database: sqlite:app.sqlite3
            classes:
              chat:
                paths: ["chat/**"]
                references: [{table: chat_message, column: image, key: id, created: created_at}]
                retention: {max_age: 1d, \(yaml)}
            """
        let loaded = ConfigLoader(files: ConfigFiles(read: { _ in text }, glob: { _, _ in [] })).load(path: "janitor.yml", currentDirectory: "/app")
        #expect(loaded.diagnostics.filter { $0.severity == .error }.isEmpty, "\(loaded.diagnostics)")
        return try #require(loaded.config?.classes.first?.retention?.rowAction)
    }

    @Test("each row action leaves the table as its examples say", arguments: cases)
    func example(backend: AppBackend, name: String, index: Int) throws {
        let example = try #require(RowAction.allExamples.first { $0.action == name }).examples[index]
        let app = try AppDatabaseFixture(backend)
        try app.sql(example.setup)
        let kind = try action(example.yaml).kind
        let writer = try app.writer()
        let before = try app.rows(example.query)
        if let statement = kind.statement(table: "chat_message", keyColumn: "id", pathColumns: ["image"], dialect: writer.dialect) {
            let changed = try writer.inTransaction { transaction in try example.selected.map { try transaction.execute(statement, key: $0) } }
            #expect(changed.allSatisfy { $0 == 1 })
        }
        let after = try app.rows(example.query)
        #expect(after == example.expected, "\(name): \(example.yaml)")
        #expect((before != after) == example.triggers)
        // Rows the action already handled are no longer under retention.
        if let pending = kind.pending(pathColumns: ["image"], dialect: writer.dialect) {
            let left = try app.rows("SELECT CAST(id AS TEXT) FROM chat_message WHERE \(pending)")
            #expect(Set(left).isDisjoint(with: example.selected))
            #expect(!left.isEmpty, "a row the action did not handle is still under retention")
        }
    }

    @Test("SQLite statements are exactly those SQLite has always run")
    func sqliteStatements() throws {
        func statement(_ action: RowAction) -> String? {
            action.kind.statement(table: "chat_message", keyColumn: "id", pathColumns: ["image", "video"], dialect: .sqlite)
        }
        #expect(statement(.none) == nil)
        #expect(statement(.delete) == #"DELETE FROM "chat_message" WHERE "id" = ?"#)
        #expect(statement(.archive) == #"DELETE FROM "chat_message" WHERE "id" = ?"#)
        #expect(statement(.setNull) == #"UPDATE "chat_message" SET "image" = NULL, "video" = NULL WHERE "id" = ?"#)
        #expect(statement(.softDelete(column: "deleted_at")) == """
            UPDATE "chat_message" SET "deleted_at" = CASE WHEN (SELECT upper(type) FROM pragma_table_info('chat_message') WHERE name = 'deleted_at') LIKE '%INT%' \
            OR (SELECT upper(type) FROM pragma_table_info('chat_message') WHERE name = 'deleted_at') LIKE '%BOOL%' THEN 1 ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END \
            WHERE "id" = ?
            """)
        #expect(RowAction.setNull.kind.pending(pathColumns: ["image"], dialect: .sqlite) == #"(("image" IS NOT NULL AND "image" <> ''))"#)
        #expect(RowAction.softDelete(column: "deleted_at").kind.pending(pathColumns: ["image"], dialect: .sqlite) == #"("deleted_at" IS NULL OR "deleted_at" = 0 OR "deleted_at" = '')"#)
    }

    @Test("every row action has examples, one of them triggering")
    func coverage() {
        #expect(RowAction.allExamples.map(\.action) == ["none", "delete", "archive", "set_null", "soft_delete"])
        for (action, examples) in RowAction.allExamples where action != "none" {
            #expect(examples.contains { $0.triggers }, "\(action)")
            #expect(examples.contains { !$0.triggers }, "\(action)")
        }
    }

    /// A table with every storage class of the backend, and a query that shows each value
    /// exactly (bytes, type, sign of zero).
    static func vault(_ backend: AppBackend) -> (setup: String, snapshot: String) {
        switch backend {
        case .sqlite:
            return ("""
                CREATE TABLE vault (id INTEGER PRIMARY KEY, i INTEGER, big INTEGER, r REAL, tiny REAL, negzero REAL, t TEXT, bad TEXT, b BLOB, empty BLOB, n TEXT, any, num NUMERIC,
                                    doubled INTEGER GENERATED ALWAYS AS (i * 2) VIRTUAL);
                INSERT INTO vault (id, i, big, r, tiny, negzero, t, bad, b, empty, n, any, num) VALUES
                  (42, -7, 9223372036854775807, 0.1, 4.9e-324, -0.0, 'héllo ✓ "q"' || char(10), CAST(x'ff00fe41' AS TEXT), x'00ff10', x'', NULL, 'x', 1.5);
                """,
                "SELECT quote(id), quote(i), quote(big), quote(r), quote(tiny), quote(negzero), hex(t), typeof(t), hex(bad), typeof(bad), quote(b), quote(empty), quote(n), quote(any), typeof(num), quote(num), doubled FROM vault")
        case .postgres:
            return ("""
                CREATE TABLE vault (id INTEGER PRIMARY KEY, i INTEGER, big BIGINT, small SMALLINT, r DOUBLE PRECISION, tiny DOUBLE PRECISION, negzero DOUBLE PRECISION,
                                    f4 REAL, inf DOUBLE PRECISION, t TEXT, b BYTEA, empty BYTEA, n TEXT, flag BOOLEAN, num NUMERIC(20, 6), at TIMESTAMPTZ, day DATE,
                                    local TIMESTAMP, u UUID, j JSONB, tags TEXT[], v VARCHAR(10), serial BIGINT GENERATED ALWAYS AS IDENTITY,
                                    doubled INTEGER GENERATED ALWAYS AS (i * 2) STORED);
                INSERT INTO vault (id, i, big, small, r, tiny, negzero, f4, inf, t, b, empty, n, flag, num, at, day, local, u, j, tags, v) VALUES
                  (42, -7, 9223372036854775807, -32768, 0.1, 4.9e-324, '-0', 1.1, '-Infinity', E'héllo ✓ "q"\n', '\\x00ff10', '', NULL, true,
                   1.500000, '2026-11-20 10:00:00.123456+02', '2026-02-28', '2026-11-20 10:00:00.5', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
                   '{"a": [1, 2.50]}', ARRAY['x', 'y "z"'], 'short');
                """,
                """
                SELECT id, i, big, small, r::text, tiny::text, negzero::text, f4::text, inf::text, encode(convert_to(t, 'UTF8'), 'hex'), encode(b, 'hex'), length(empty),
                       n, flag, num::text, at::text, day::text, local::text, u::text, j::text, tags::text, v, serial, doubled FROM vault
                """)
        }
    }

    @Test("archive and restore round-trip a row with every storage class, byte for byte", arguments: AppBackend.allCases)
    func archiveRoundTrip(_ backend: AppBackend) throws {
        let app = try AppDatabaseFixture(backend)
        let vault = Self.vault(backend)
        try app.sql(vault.setup)
        let before = try app.rows(vault.snapshot)
        #expect(before.count == 1)
        let writer = try app.writer()
        let delete = try #require(RowAction.delete.kind.statement(table: "vault", keyColumn: "id", pathColumns: [], dialect: writer.dialect))
        let read = try writer.inTransaction { try $0.rows(table: "vault", keyColumn: "id", keys: ["42", "43"]) }
        #expect(read.count == 1)
        let archived = try #require(read["42"])
        #expect(!archived.columns.map(\.name).contains("doubled"), "generated columns are not stored")
        // Through the store's JSON form, as `archive restore` reads it.
        let decoded = try #require(ArchivedRow(json: try archived.json()))
        #expect(decoded == archived)
        #expect(try writer.inTransaction { try $0.execute(delete, key: "42") } == 1)
        #expect(try writer.inTransaction { try $0.execute(delete, key: "42") } == 0, "a row already gone changes nothing")
        #expect(try app.rows(vault.snapshot).isEmpty)
        #expect(try writer.restore(decoded) == .restored)
        #expect(try app.rows(vault.snapshot) == before)
        #expect(try writer.inTransaction { try $0.rows(table: "vault", keyColumn: "id", keys: ["42"]) }["42"] == archived)
        #expect(try app.reader().storedRows(table: "vault", keyColumn: "id", keys: ["42"])["42"] == archived, "the reader and the writer read a row alike")
        // Again: the same row is there, so nothing is written; a different row is never overwritten.
        #expect(try writer.restore(decoded) == .alreadyThere)
        try app.sql("UPDATE vault SET i = 1")
        #expect(try writer.restore(decoded) == .conflict)
        #expect(try app.rows("SELECT i FROM vault") == ["1"])
        // A table that lost a column cannot take the row back whole: refused, naming the column.
        try app.sql("DELETE FROM vault; ALTER TABLE vault DROP COLUMN empty")
        #expect(throws: SourceError.self) { try writer.restore(decoded) }
        do {
            _ = try writer.restore(decoded)
        } catch {
            #expect("\(error)".contains("has no column 'empty' any more"))
        }
        #expect(try app.rows("SELECT id FROM vault").isEmpty)
        // Nor a table that is gone.
        try app.sql("DROP TABLE vault")
        do {
            _ = try writer.restore(decoded)
            Issue.record("restored into a missing table")
        } catch {
            #expect("\(error)" == "cannot restore vault key 42: table 'vault' does not exist any more; create it again (the app's migrations), then run 'archive restore' again")
        }
    }
}
