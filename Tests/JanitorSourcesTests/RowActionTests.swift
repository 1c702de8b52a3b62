import Foundation
import GRDB
import JanitorCore
import Testing

@testable import JanitorSources

/// Runs every row action's own examples (STYLE item 3) on a real SQLite database, and the
/// archive round trip for every SQLite storage class.
@Suite("Row actions on an SQLite app database")
struct RowActionTests {
    static let cases: [(String, Int)] = RowAction.allExamples.flatMap { entry in entry.examples.indices.map { (entry.action, $0) } }

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
    func example(name: String, index: Int) throws {
        let example = try #require(RowAction.allExamples.first { $0.action == name }).examples[index]
        let tmp = TemporaryDirectory()
        let path = tmp.path + "/app.sqlite3"
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: example.setup) }
        let kind = try action(example.yaml).kind
        let writer = try SQLiteRowWriter(path: path)
        let before = try rows(queue, example.query)
        if let statement = kind.statement(table: "chat_message", keyColumn: "id", pathColumns: ["image"]) {
            let changed = try writer.inTransaction { transaction in try example.selected.map { try transaction.execute(statement, key: $0) } }
            #expect(changed.allSatisfy { $0 == 1 })
        }
        let after = try rows(queue, example.query)
        #expect(after == example.expected, "\(name): \(example.yaml)")
        #expect((before != after) == example.triggers)
        // Rows the action already handled are no longer under retention.
        if let pending = kind.pending(pathColumns: ["image"]) {
            let left = try queue.read { try String.fetchAll($0, sql: "SELECT CAST(id AS TEXT) FROM chat_message WHERE \(pending)") }
            #expect(Set(left).isDisjoint(with: example.selected))
        }
    }

    @Test("every row action has examples, one of them triggering")
    func coverage() {
        #expect(RowAction.allExamples.map(\.action) == ["none", "delete", "archive", "set_null", "soft_delete"])
        for (action, examples) in RowAction.allExamples where action != "none" {
            #expect(examples.contains { $0.triggers }, "\(action)")
            #expect(examples.contains { !$0.triggers }, "\(action)")
        }
    }

    func rows(_ queue: DatabaseQueue, _ sql: String) throws -> [String] {
        try queue.read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { $0.isNull ? "NULL" : "\($0.storage.value!)" }.joined(separator: "|")
            }
        }
    }

    @Test("archive and restore round-trip a row with every SQLite storage class, byte for byte")
    func archiveRoundTrip() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.path + "/app.sqlite3"
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE vault (id INTEGER PRIMARY KEY, i INTEGER, big INTEGER, r REAL, tiny REAL, negzero REAL, t TEXT, bad TEXT, b BLOB, empty BLOB, n TEXT, any, num NUMERIC,
                                    doubled INTEGER GENERATED ALWAYS AS (i * 2) VIRTUAL);
                INSERT INTO vault (id, i, big, r, tiny, negzero, t, bad, b, empty, n, any, num) VALUES
                  (42, -7, 9223372036854775807, 0.1, 4.9e-324, -0.0, 'héllo ✓ "q"' || char(10), CAST(x'ff00fe41' AS TEXT), x'00ff10', x'', NULL, 'x', 1.5);
                """)
        }
        let snapshot = "SELECT quote(id), quote(i), quote(big), quote(r), quote(tiny), quote(negzero), hex(t), typeof(t), hex(bad), typeof(bad), quote(b), quote(empty), quote(n), quote(any), typeof(num), quote(num), doubled FROM vault"
        let before = try rows(queue, snapshot)
        let writer = try SQLiteRowWriter(path: path)
        let read = try writer.inTransaction { try $0.rows(table: "vault", keyColumn: "id", keys: ["42", "43"]) }
        #expect(read.count == 1)
        let archived = try #require(read["42"])
        #expect(!archived.columns.map(\.name).contains("doubled"), "generated columns are not stored")
        // Through the store's JSON form, as `archive restore` reads it.
        let decoded = try #require(ArchivedRow(json: try archived.json()))
        #expect(decoded == archived)
        #expect(try writer.inTransaction { try $0.execute("DELETE FROM vault WHERE id = ?", key: "42") } == 1)
        #expect(try writer.inTransaction { try $0.execute("DELETE FROM vault WHERE id = ?", key: "42") } == 0, "a row already gone changes nothing")
        #expect(try rows(queue, snapshot).isEmpty)
        #expect(try writer.restore(decoded) == .restored)
        #expect(try rows(queue, snapshot) == before)
        #expect(try writer.inTransaction { try $0.rows(table: "vault", keyColumn: "id", keys: ["42"]) }["42"] == archived)
        // Again: the same row is there, so nothing is written; a different row is never overwritten.
        #expect(try writer.restore(decoded) == .alreadyThere)
        try queue.write { try $0.execute(sql: "UPDATE vault SET i = 1") }
        #expect(try writer.restore(decoded) == .conflict)
        #expect(try rows(queue, "SELECT i FROM vault") == ["1"])
        // A table that lost a column cannot take the row back whole: refused, naming the column.
        try queue.write { try $0.execute(sql: "DELETE FROM vault; ALTER TABLE vault DROP COLUMN empty") }
        #expect(throws: SourceError.self) { try writer.restore(decoded) }
        do {
            _ = try writer.restore(decoded)
        } catch {
            #expect("\(error)".contains("has no column 'empty' any more"))
        }
        #expect(try rows(queue, "SELECT id FROM vault").isEmpty)
    }
}
