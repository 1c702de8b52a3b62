import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

/// What retention reads (`retentionRows`, `ownerLimits`, `retentionProblems`), on SQLite and on
/// PostgreSQL from the same test code: both must give the same rows, times and refusals.
@Suite("Reading rows for retention from an app database")
struct PostgresRetentionRowsTests {
    let chat = MediaClass(
        name: "chat", paths: [try! Glob("chat/**")],
        references: [
            ReferenceColumn(table: "chat_message", column: "image", key: "id", created: "timestamp", owner: "sender_id"),
            ReferenceColumn(table: "chat_message", column: "video", key: "id", created: "timestamp", owner: "sender_id"),
        ])

    func rules(_ action: RowAction) -> RetentionRules {
        var rules = RetentionRules()
        rules.rowAction = action
        return rules
    }

    func database(_ backend: AppBackend, _ name: String = #function) throws -> AppDatabaseFixture {
        let app = try AppDatabaseFixture(backend, name)
        try app.sql(
            """
            CREATE TABLE chat_message (id INTEGER PRIMARY KEY, sender_id INTEGER, image TEXT, video TEXT, timestamp TEXT, deleted_at TEXT);
            INSERT INTO chat_message VALUES (1, 7, 'chat/a.jpg', 'chat/a.mp4', '2026-11-20 10:00:00', NULL);
            INSERT INTO chat_message VALUES (2, 8, NULL, './chat//b.mp4', '2026-11-21T09:30:00.5Z', NULL);
            INSERT INTO chat_message VALUES (3, NULL, '', NULL, NULL, NULL);
            INSERT INTO chat_message VALUES (4, 9, 'chat/d.jpg', NULL, '2026-11-22 08:00:00', '2026-11-23 00:00:00');
            CREATE TABLE src_chatmessage (id INTEGER PRIMARY KEY, committee_id INTEGER, message TEXT, created_at INTEGER);
            INSERT INTO src_chatmessage VALUES (10, 1, 'hello', 1800000000), (11, 1, 'a longer message', 1800000060);
            CREATE TABLE accounts_userprofile (user_id INTEGER PRIMARY KEY, message_deletion_hours DOUBLE PRECISION);
            INSERT INTO accounts_userprofile VALUES (7, 2), (8, NULL), (9, -5), (11, 1e300), (12, 0.5);
            """)
        return app
    }

    @Test(
        "a row with two path columns is one row holding two files; values normalised; NULL and '' hold none", arguments: AppBackend.allCases
    )
    func twoFilesOnOneRow(_ backend: AppBackend) throws {
        let app = try database(backend)
        let rows = try app.reader().retentionRows(of: chat, mediaRoot: "/media")
        #expect(rows.map(\.key) == ["1", "2", "3", "4"])
        #expect(rows.map(\.paths) == [["chat/a.jpg", "chat/a.mp4"], ["chat/b.mp4"], [], ["chat/d.jpg"]])
        #expect(rows[0].created == ISO8601DateFormatter().date(from: "2026-11-20T10:00:00Z"))
        #expect(
            rows[1].created?.timeIntervalSince1970 == ISO8601DateFormatter().date(from: "2026-11-21T09:30:00Z")!.timeIntervalSince1970 + 0.5
        )
        #expect(rows.map(\.owner) == ["7", "8", nil, "9"])
        #expect(rows[2].created == nil)
    }

    @Test("rows the row action already handled are not under retention any more", arguments: AppBackend.allCases)
    func handledRowsLeftOut(_ backend: AppBackend) throws {
        let app = try database(backend)
        var softDeleting = chat
        softDeleting.retention = rules(.softDelete(column: "deleted_at"))
        #expect(try app.reader().retentionRows(of: softDeleting, mediaRoot: "/media").map(\.key) == ["1", "2", "3"])
        var settingNull = chat
        settingNull.retention = rules(.setNull)
        #expect(try app.reader().retentionRows(of: settingNull, mediaRoot: "/media").map(\.key) == ["1", "2", "4"])
    }

    @Test("rows without files carry their size expression and Unix-time creation", arguments: AppBackend.allCases)
    func rowsOnly(_ backend: AppBackend) throws {
        let app = try database(backend)
        let committee = MediaClass(
            name: "committee", paths: [],
            references: [
                ReferenceColumn(
                    table: "src_chatmessage", column: nil, key: "id", created: "created_at", group: "committee_id",
                    size: "length(message) + 200")
            ])
        let rows = try app.reader().retentionRows(of: committee, mediaRoot: "/media")
        #expect(rows.map(\.rowBytes) == [205, 216])
        #expect(rows.map(\.group) == ["1", "1"])
        #expect(rows.first?.created == Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test(
        "owner limits: a value becomes seconds in its unit; NULL and missing owners are absent; negative and absurd values are counted and fall back",
        arguments: AppBackend.allCases)
    func ownerLimits(_ backend: AppBackend) throws {
        let app = try database(backend)
        let read = try app.reader().ownerLimits(
            OwnerTTL(table: "accounts_userprofile", key: "user_id", column: "message_deletion_hours", unit: .hours))
        #expect(read.limits == ["7": Seconds(7_200), "12": Seconds(1_800)])
        #expect(read.invalid == 2)
    }

    @Test("retention refuses a key that is not unique, and archive under ON DELETE CASCADE or SET NULL", arguments: AppBackend.allCases)
    func problems(_ backend: AppBackend) throws {
        let app = try AppDatabaseFixture(backend)
        try app.sql(
            """
            CREATE TABLE post (id INTEGER PRIMARY KEY, code TEXT, slug TEXT UNIQUE, image TEXT);
            CREATE TABLE reply (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES post (id) ON DELETE CASCADE);
            CREATE TABLE mention (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES post (id) ON DELETE SET NULL);
            CREATE TABLE quote (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES post (id));
            """)
        func mediaClass(_ name: String = "posts", key: String, _ action: RowAction) -> MediaClass {
            MediaClass(
                name: name, paths: [], references: [ReferenceColumn(table: "post", column: "image", key: key)], retention: rules(action))
        }
        let database = try app.reader()
        #expect(try database.retentionProblems([mediaClass(key: "id", .delete), mediaClass("by_slug", key: "slug", .setNull)]).isEmpty)
        #expect(
            try database.retentionProblems([mediaClass(key: "code", .none)]).isEmpty, "an action that changes no row needs no unique key")
        #expect(
            try database.retentionProblems([mediaClass(key: "code", .delete)]) == [
                "class 'posts': key 'code' of table 'post' is not a PRIMARY KEY or UNIQUE column, so one key may name several rows and the row action would change them all; point 'key' at a unique column"
            ])
        #expect(
            try database.retentionProblems([mediaClass(key: "id", .archive)]).sorted() == [
                "class 'posts': table 'mention' references 'post' with ON DELETE SET NULL, so deleting an archived row would change rows of 'mention' the archive does not save; use 'row_action: delete' (and keep backups), 'set_null' or 'soft_delete:COLUMN'",
                "class 'posts': table 'reply' references 'post' with ON DELETE CASCADE, so deleting an archived row would change rows of 'reply' the archive does not save; use 'row_action: delete' (and keep backups), 'set_null' or 'soft_delete:COLUMN'",
            ])
    }

    @Test("a foreign key that protects a row refuses its row action, and the rest of the batch goes on", arguments: AppBackend.allCases)
    func foreignKeysEnforced(_ backend: AppBackend) throws {
        let app = try AppDatabaseFixture(backend)
        try app.sql(
            """
            CREATE TABLE post (id INTEGER PRIMARY KEY, image TEXT);
            CREATE TABLE quote (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES post (id));
            INSERT INTO post VALUES (1, 'a.jpg'), (2, 'b.jpg');
            INSERT INTO quote VALUES (10, 2);
            """)
        let writer = try app.writer()
        let delete = try #require(
            RowAction.delete.kind.statement(table: "post", keyColumn: "id", pathColumns: ["image"], dialect: writer.dialect))
        #expect(throws: (any Error).self) { try writer.inTransaction { try $0.execute(delete, key: "2") } }
        #expect(try writer.inTransaction { try $0.execute(delete, key: "1") } == 1)
        #expect(try app.rows("SELECT id FROM post") == ["2"])
    }
}
