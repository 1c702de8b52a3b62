import Foundation
import GRDB
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import Testing

@testable import JanitorSources

/// What only PostgreSQL has: keys of many types, schemas, typed time columns, connections that
/// fail. The behaviour both databases share is tested on both in the other suites.
@Suite("A PostgreSQL app database")
struct PostgresAppDatabaseTests {
    @Test("integer, bigint, uuid and text keys come out as their text and find their row through the key's index")
    func keysOfEveryType() throws {
        let app = try AppDatabaseFixture(.postgres)
        try app.sql(
            """
            CREATE TABLE by_int (id INTEGER PRIMARY KEY, image TEXT);
            CREATE TABLE by_bigint (id BIGINT PRIMARY KEY, image TEXT);
            CREATE TABLE by_uuid (id UUID PRIMARY KEY, image VARCHAR(100));
            CREATE TABLE by_slug (slug VARCHAR(40) PRIMARY KEY, image TEXT);
            INSERT INTO by_int SELECT g, 'int/' || g || '.jpg' FROM generate_series(1, 2000) g;
            INSERT INTO by_bigint VALUES (9007199254740993, 'big/a.jpg');
            INSERT INTO by_uuid VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'uuid/a.jpg');
            INSERT INTO by_slug VALUES ('hello-world', 'slug/a.jpg');
            ANALYZE;
            """)
        let tables = ["by_int": "id", "by_bigint": "id", "by_uuid": "id", "by_slug": "slug"]
        let classes = tables.sorted { $0.key < $1.key }.map { table, key in
            MediaClass(name: table, paths: [], references: [ReferenceColumn(table: table, column: "image", key: key)])
        }
        var references = ReferenceSet(classes: classes, mediaRoot: "/media")
        try app.reader().readReferences(into: &references)
        var keys: [String: String] = [:]
        references.forEachOccurrence { _, column, key, _ in
            let table = references.columns[column].reference.table
            if table != "by_int" || key == "1234" { keys[table] = key }
        }
        #expect(
            keys == [
                "by_int": "1234", "by_bigint": "9007199254740993", "by_uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                "by_slug": "hello-world",
            ])

        let writer = try app.writer()
        let session = try PostgresSession(app.url!, purpose: "tests")
        // With sequential scans priced out, the plan is an index scan whenever the index can
        // serve the lookup (and a sequential scan regardless when it cannot).
        try session.execute("SET enable_seqscan = off")
        for mediaClass in classes {
            let reference = mediaClass.references[0]
            let key = try #require(keys[reference.table])
            let delete = try #require(
                RowAction.delete.kind.statement(
                    table: reference.table, keyColumn: reference.key, pathColumns: ["image"], dialect: .postgres))
            // The statement as the writer binds it: the key takes the column's type, so the plan is an index scan.
            let plan = try session.rows("EXPLAIN " + delete, [.untyped(key)]).map {
                PostgresAppDatabase.strings($0).compactMap { $0 }.joined()
            }.joined(separator: "\n")
            #expect(plan.contains("Index Scan") || plan.contains("Index Only Scan"), "\(reference.table): \(plan)")
            #expect(!plan.contains("(id)::text"), "\(reference.table): the key column is never cast to text: \(plan)")
            let archived = try writer.inTransaction { try $0.rows(table: reference.table, keyColumn: reference.key, keys: [key]) }
            #expect(archived[key]?.columns.first { $0.name == "image" }?.value != nil, "\(reference.table)")
            #expect(try writer.inTransaction { try $0.execute(delete, key: key) } == 1, "\(reference.table)")
            #expect(try writer.restore(try #require(archived[key])) == .restored, "\(reference.table)")
        }
        #expect(try app.rows("SELECT count(*) FROM by_int") == ["2000"])
        #expect(try app.rows("SELECT id::text FROM by_uuid") == ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"])
    }

    @Test("tables on the search_path are named plainly, others with their schema; a schema-qualified table is read and changed")
    func schemas() throws {
        let app = try AppDatabaseFixture(.postgres)
        try app.sql(
            """
            CREATE SCHEMA legacy;
            CREATE TABLE public.chat_message (id INTEGER PRIMARY KEY, image TEXT);
            CREATE TABLE legacy.chat_message (id INTEGER PRIMARY KEY, image TEXT, created_at TIMESTAMPTZ);
            INSERT INTO public.chat_message VALUES (1, 'chat/new.jpg');
            INSERT INTO legacy.chat_message VALUES (1, 'chat/old.jpg', '2020-01-01 00:00:00+00'), (2, 'chat/older.jpg', '2019-01-01 00:00:00+00');
            """)
        let database = try app.reader()
        let schema = try database.schema()
        #expect(schema == ["chat_message": ["id", "image"], "legacy.chat_message": ["id", "image", "created_at"]])
        let legacy = MediaClass(
            name: "legacy", paths: [],
            references: [
                ReferenceColumn(table: "legacy.chat_message", column: "image", key: "id", created: "created_at")
            ],
            retention: {
                var rules = RetentionRules()
                rules.rowAction = .delete
                return rules
            }())
        let current = MediaClass(
            name: "current", paths: [], references: [ReferenceColumn(table: "chat_message", column: "image", key: "id")])
        #expect(try database.checkSchema([legacy, current]).isEmpty)
        #expect(try database.retentionProblems([legacy]).isEmpty, "the key of legacy.chat_message is its primary key")

        var references = ReferenceSet(classes: [legacy, current], mediaRoot: "/media")
        try database.readReferences(into: &references)
        #expect(["chat/old.jpg", "chat/older.jpg", "chat/new.jpg"].allSatisfy { references.contains($0) })
        let rows = try database.retentionRows(of: legacy, mediaRoot: "/media")
        #expect(rows.map(\.paths) == [["chat/old.jpg"], ["chat/older.jpg"]])
        #expect(rows.first?.created == ISO8601DateFormatter().date(from: "2020-01-01T00:00:00Z"))

        let writer = try app.writer()
        let delete = try #require(
            RowAction.delete.kind.statement(table: "legacy.chat_message", keyColumn: "id", pathColumns: ["image"], dialect: writer.dialect))
        #expect(try writer.inTransaction { try $0.execute(delete, key: "2") } == 1)
        #expect(try app.rows("SELECT id FROM legacy.chat_message ORDER BY id") == ["1"])
        #expect(try app.rows("SELECT id FROM public.chat_message") == ["1"], "the table of the same name on the search_path is untouched")
    }

    @Test("timestamptz, timestamp, date, Django-style text and Unix-time columns give the same ages, in UTC, as SQLite's text does")
    func createdTimes() throws {
        let app = try AppDatabaseFixture(.postgres)
        // One instant per row, written in every kind of column; the server's own time zone
        // must not matter.
        try app.sql(
            """
            ALTER DATABASE \(app.url!.database) SET TimeZone = 'America/New_York';
            CREATE TABLE msg (id INTEGER PRIMARY KEY, image TEXT, tz TIMESTAMPTZ, ts TIMESTAMP, day DATE, txt TEXT, vc VARCHAR(40), unix BIGINT, real_unix DOUBLE PRECISION);
            INSERT INTO msg VALUES
              (1, 'a.jpg', '2026-11-20 10:00:00+00', '2026-11-20 10:00:00', '2026-11-20', '2026-11-20 10:00:00', '2026-11-20T10:00:00Z', 1795168800, 1795168800),
              (2, 'b.jpg', '2026-11-21 09:30:00.5+00', '2026-11-21 09:30:00.5', '2026-11-21', '2026-11-21 09:30:00.500000', '2026-11-21 11:30:00.5+02:00', 1795253400, 1795253400.5),
              (3, 'c.jpg', NULL, NULL, NULL, 'not a time', '', NULL, NULL);
            """)
        let database = try app.reader()
        func created(_ column: String) throws -> [Date?] {
            let mediaClass = MediaClass(
                name: column, paths: [], references: [ReferenceColumn(table: "msg", column: "image", key: "id", created: column)])
            return try database.retentionRows(of: mediaClass, mediaRoot: "/media").map(\.created)
        }
        let expected = [Date(timeIntervalSince1970: 1_795_168_800), Date(timeIntervalSince1970: 1_795_253_400.5), nil]
        #expect(try created("tz") == expected)
        #expect(try created("ts") == expected)
        #expect(try created("txt") == expected)
        #expect(try created("vc") == expected)
        #expect(try created("real_unix") == expected)
        #expect(try created("unix") == [expected[0], Date(timeIntervalSince1970: 1_795_253_400), nil])
        #expect(try created("day") == [Date(timeIntervalSince1970: 1_795_132_800), Date(timeIntervalSince1970: 1_795_219_200), nil])

        // The same text in an SQLite app gives the same times.
        let sqlite = try AppDatabaseFixture(.sqlite)
        try sqlite.sql(
            """
            CREATE TABLE msg (id INTEGER PRIMARY KEY, image TEXT, txt TEXT, vc VARCHAR(40));
            INSERT INTO msg VALUES (1, 'a.jpg', '2026-11-20 10:00:00', '2026-11-20T10:00:00Z'),
              (2, 'b.jpg', '2026-11-21 09:30:00.500000', '2026-11-21 11:30:00.5+02:00'), (3, 'c.jpg', 'not a time', '');
            """)
        for column in ["txt", "vc"] {
            let mediaClass = MediaClass(
                name: column, paths: [], references: [ReferenceColumn(table: "msg", column: "image", key: "id", created: column)])
            #expect(try sqlite.reader().retentionRows(of: mediaClass, mediaRoot: "/media").map(\.created) == expected, "\(column)")
        }
    }

    @Test("text times are read exactly as SQLite's julianday reads them")
    func textTimesMatchSQLite() throws {
        let texts = [
            "2026-11-20", "2026-11-20 10:00", "2026-11-20 10:00:59", "2026-11-20T10:00:00.123", "2026-11-20 10:00:00.1234567",
            "2026-11-20 10:00:00.9995", "2026-11-20 10:00:00Z", "2026-11-20 10:00:00 z", "2026-11-20 10:00:00+05:30",
            "2026-11-20 10:00:00 -14:00",
            "2026-02-30 00:00:00", "2026-02-31", "2026-11-20 24:00", "2026-11-20  T 10:00", "2026-11-20 10:00:00   ",
            "1969-12-31 23:59:59.999",
            "0001-01-01", "9999-12-31 23:59:59", "2026-13-01", "2026-00-10", "2026-11-32", "2026-11-20 25:00", "2026-11-20 10:60",
            "2026-11-20 10:00:60", "2026-11-20 10:00:00+15:00", "2026-11-20Z", " 2026-11-20", "26-11-20", "2026/11/20", "",
            "2026-11-20 10:00:00 x",
        ]
        let queue = try DatabaseQueue()
        for text in texts {
            let sqlite = try queue.read { try Double.fetchOne($0, sql: "SELECT (julianday(?) - 2440587.5) * 86400.0", arguments: [text]) }
            var bytes = text
            let ours = bytes.withUTF8 { TextTime.unixSeconds($0) }
            #expect(ours == sqlite.map { ($0 * 1000).rounded() / 1000 }, "\(text)")
        }
        // What PostgreSQL prints for a timestamptz, which SQLite cannot read: read, in UTC.
        for (text, seconds) in [("2026-11-20 10:00:00+00", 1_795_168_800.0), ("2026-11-20 12:00:00+0200", 1_795_168_800.0)] {
            var bytes = text
            #expect(bytes.withUTF8 { TextTime.unixSeconds($0) } == seconds, "\(text)")
        }
    }

    @Test("soft_delete marks integer and boolean columns with 1, time columns with the time in UTC, text with Django's text")
    func softDeleteByColumnType() throws {
        let app = try AppDatabaseFixture(.postgres)
        try app.sql(
            """
            CREATE TABLE msg (id BIGINT PRIMARY KEY, image TEXT, flag BOOLEAN NOT NULL DEFAULT false, small SMALLINT DEFAULT 0, num INTEGER,
                              tz TIMESTAMPTZ, ts TIMESTAMP, day DATE, txt TEXT, vc VARCHAR(30));
            INSERT INTO msg (id, image) VALUES (1, 'a.jpg'), (2, 'b.jpg');
            ALTER DATABASE \(app.url!.database) SET TimeZone = 'Asia/Tokyo';
            """)
        let writer = try app.writer()
        let start = Date()
        for column in ["flag", "small", "num", "tz", "ts", "day", "txt", "vc"] {
            let kind = RowAction.softDelete(column: column).kind
            let statement = try #require(kind.statement(table: "msg", keyColumn: "id", pathColumns: ["image"], dialect: writer.dialect))
            #expect(try writer.inTransaction { try $0.execute(statement, key: "1") } == 1, "\(column)")
            let pending = try #require(kind.pending(pathColumns: ["image"], dialect: writer.dialect))
            #expect(try app.rows("SELECT id FROM msg WHERE \(pending) ORDER BY id") == ["2"], "\(column): the marked row is done")
        }
        let marked = try app.rows(
            """
            SELECT flag, small, num, extract(epoch FROM tz)::bigint, extract(epoch FROM ts)::bigint, day::text, txt, vc FROM msg WHERE id = 1
            """)[0].split(separator: "|").map(String.init)
        #expect(marked[0...2] == ["1", "1", "1"])
        for epoch in [marked[3], marked[4]] {
            let seconds = try #require(Double(epoch))
            #expect(abs(seconds - start.timeIntervalSince1970) < 60, "the time is now, in UTC: \(epoch)")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        for text in [marked[6], marked[7]] {
            let date = try #require(formatter.date(from: text), "Django-style text: \(text)")
            #expect(abs(date.timeIntervalSince(start)) < 60, "the time is now, in UTC: \(text)")
        }
        formatter.dateFormat = "yyyy-MM-dd"
        #expect(marked[5] == formatter.string(from: Date()) || marked[5] == formatter.string(from: start))
    }

    @Test("a connection that fails names the host, port and database and what to check, never the password")
    func connectionErrors() throws {
        var closed = try TestPostgres.server()
        closed.port = try Self.closedPort()
        closed.password = "s3cret-pw"
        closed.database = "shop"
        do {
            _ = try PostgresAppDatabase(url: closed)
            Issue.record("connected to a closed port")
        } catch {
            let message = error.description
            #expect(
                message.hasPrefix(
                    "cannot read the app database 'postgres://\(closed.user):***@\(closed.host):\(closed.port)/shop': cannot connect"))
            #expect(message.contains("check that the server runs and accepts TCP connections on \(closed.host):\(closed.port)"))
            #expect(!message.contains("s3cret-pw"))
            #expect(!error.isConfiguration)
        }
        var missing = try TestPostgres.server()
        missing.password = "s3cret-pw"
        missing.database = "no_such_app"
        let opens: [() throws -> Void] = [{ _ = try PostgresAppDatabase(url: missing) }, { _ = try PostgresRowWriter(url: missing) }]
        for open in opens {
            do {
                try open()
                Issue.record("opened a database that does not exist")
            } catch {
                let message = "\(error)"
                #expect(message.contains("@\(missing.host):\(missing.port)/no_such_app'"))
                #expect(message.contains("check the database name at the end of the URL, or create it"))
                #expect(!message.contains("s3cret-pw"))
            }
        }
    }

    /// A loopback port nothing listens on.
    static func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        // Bound but not listening: a connection is refused.
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
