import Foundation
import GRDB
import JanitorCore
import Testing

@testable import JanitorSources

@Suite("Reading rows for retention from an SQLite app database")
struct RetentionRowsTests {
    func database(_ tmp: TemporaryDirectory) throws -> SQLiteAppDatabase {
        let path = tmp.path + "/app.sqlite3"
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                CREATE TABLE chat_message (id INTEGER PRIMARY KEY, sender_id INTEGER, image TEXT, video TEXT, timestamp TEXT);
                INSERT INTO chat_message VALUES (1, 7, 'chat/a.jpg', 'chat/a.mp4', '2026-11-20 10:00:00');
                INSERT INTO chat_message VALUES (2, 8, NULL, './chat//b.mp4', '2026-11-21T09:30:00.5Z');
                INSERT INTO chat_message VALUES (3, NULL, '', NULL, NULL);
                CREATE TABLE src_chatmessage (id INTEGER PRIMARY KEY, committee_id INTEGER, message TEXT, created_at INTEGER);
                INSERT INTO src_chatmessage VALUES (10, 1, 'hello', 1800000000), (11, 1, 'a longer message', 1800000060);
                CREATE TABLE accounts_userprofile (user_id INTEGER PRIMARY KEY, message_deletion_hours REAL);
                INSERT INTO accounts_userprofile VALUES (7, 2), (8, NULL), (9, -5), (10, 'two'), (11, 1e300);
                """)
        }
        return try SQLiteAppDatabase(path: path)
    }

    @Test("a row with two path columns is one row holding two files; values normalised; NULL and '' hold none")
    func twoFilesOnOneRow() throws {
        let tmp = TemporaryDirectory()
        let chat = MediaClass(name: "chat", paths: [try Glob("chat/**")], references: [
            ReferenceColumn(table: "chat_message", column: "image", key: "id", created: "timestamp", owner: "sender_id"),
            ReferenceColumn(table: "chat_message", column: "video", key: "id", created: "timestamp", owner: "sender_id"),
        ])
        let rows = try database(tmp).retentionRows(of: chat, mediaRoot: "/media")
        #expect(rows.map(\.key) == ["1", "2", "3"])
        #expect(rows.map(\.paths) == [["chat/a.jpg", "chat/a.mp4"], ["chat/b.mp4"], []])
        #expect(rows[0].created == ISO8601DateFormatter().date(from: "2026-11-20T10:00:00Z"))
        #expect(rows[1].created?.timeIntervalSince1970 == ISO8601DateFormatter().date(from: "2026-11-21T09:30:00Z")!.timeIntervalSince1970 + 0.5)
        #expect(rows.map(\.owner) == ["7", "8", nil])
        #expect(rows[2].created == nil)
    }

    @Test("rows without files carry their size expression and Unix-time creation")
    func rowsOnly() throws {
        let tmp = TemporaryDirectory()
        let committee = MediaClass(name: "committee", paths: [], references: [
            ReferenceColumn(table: "src_chatmessage", column: nil, key: "id", created: "created_at", group: "committee_id", size: "length(message) + 200"),
        ])
        let rows = try database(tmp).retentionRows(of: committee, mediaRoot: "/media")
        #expect(rows.map(\.rowBytes) == [205, 216])
        #expect(rows.map(\.group) == ["1", "1"])
        #expect(rows.first?.created == Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test("owner limits: a value becomes seconds in its unit; NULL and missing owners are absent; negative, text and absurd values are counted and fall back")
    func ownerLimits() throws {
        let tmp = TemporaryDirectory()
        let read = try database(tmp).ownerLimits(OwnerTTL(table: "accounts_userprofile", key: "user_id", column: "message_deletion_hours", unit: .hours))
        #expect(read.limits == ["7": Seconds(7_200)])
        #expect(read.invalid == 3)
    }
}
