import Foundation
import GRDB
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import Testing

@testable import JanitorSources

/// The app databases the hooks run on. The behaviour tests below run once against each, from
/// one body of test code: the same changes must give the same events and the same status.
enum HooksBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// `sqlite` or `postgres`, whichever this backend needs.
    func pick(sqlite: String, postgres: String) -> String {
        self == .sqlite ? sqlite : postgres
    }
}

/// An app database, the hooks over it, and a connection of the app's own to change its rows.
final class HooksApp {
    let backend: HooksBackend
    /// The hooks under test (not installed yet).
    let hooks: any AppHooks
    /// How error messages name the database.
    let location: String
    private let sqlite: DatabaseQueue?
    private let postgres: PostgresSession?
    /// The PostgreSQL database's URL (nil for SQLite).
    let url: PostgresURL?
    /// Kept alive with the SQLite file in it.
    private let directory: TemporaryDirectory?

    /// Users, photos carrying two file columns, and albums whose deletion cascades to photos.
    /// Plain SQL both databases run.
    static let galleryTables = """
        CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, username TEXT NOT NULL, profile_pic TEXT);
        CREATE TABLE gallery_album (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE gallery_photo (id INTEGER PRIMARY KEY, album_id INTEGER REFERENCES gallery_album (id) ON DELETE CASCADE, image TEXT, video TEXT);
        INSERT INTO accounts_user VALUES (1, 'ada', 'profile_pics/a.jpg'), (2, 'bob', NULL), (3, 'cy', ''),
            (4, 'dee', 'profile_pics/d.jpg');
        INSERT INTO gallery_album VALUES (1, 'holiday');
        INSERT INTO gallery_photo VALUES (10, 1, 'photos/10.jpg', 'videos/10.mp4'), (11, 1, 'photos/11.jpg', NULL);
        """

    /// A new database of `backend` holding `tables`; hooks not installed. The PostgreSQL one is
    /// a fresh database on the test server.
    init(_ backend: HooksBackend, tables: String = galleryTables, name: String = #function) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            let directory = TemporaryDirectory(name)
            let path = directory.path + "/app.sqlite3"
            let app = try DatabaseQueue(path: path)
            try app.write { try $0.execute(sql: tables) }
            self.directory = directory
            sqlite = app
            postgres = nil
            url = nil
            location = "sqlite:\(path)"
            hooks = try SQLiteHooks(path: path)
        case .postgres:
            let url = try TestPostgres.freshDatabase("hooks")
            let app = try PostgresSession(url, purpose: "the app of a hooks test")
            for statement in Self.statements(tables) { try app.execute(statement) }
            directory = nil
            sqlite = nil
            postgres = app
            self.url = url
            location = url.redacted
            hooks = try PostgresHooks(url: url)
        }
    }

    /// The statements of a script, split at semicolons outside quotes and dollar quotes:
    /// postgres-nio sends each statement on its own.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = [], current = ""
        var index = sql.startIndex
        func take(through end: String.Index) {
            current += sql[index..<end]
            index = end
        }
        while index < sql.endIndex {
            let rest = sql[index...]
            if rest.hasPrefix("'") || rest.hasPrefix("\"") {
                let quote = rest.first!
                let end = rest.dropFirst().firstIndex(of: quote).map { sql.index(after: $0) } ?? sql.endIndex
                take(through: end)
            } else if rest.hasPrefix("$"), let close = rest.dropFirst().firstIndex(of: "$"),
                rest[rest.index(after: rest.startIndex)..<close].allSatisfy({ $0.isLetter || $0 == "_" })
            {
                let tag = String(rest[rest.startIndex...close])
                let body = sql[sql.index(after: close)...]
                let end = body.range(of: tag)?.upperBound ?? sql.endIndex
                take(through: end)
            } else if rest.hasPrefix(";") {
                statements.append(current)
                current = ""
                index = sql.index(after: index)
            } else {
                take(through: sql.index(after: index))
            }
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Runs `sql` (one or more statements) as the app, in one transaction.
    func write(_ sql: String) throws {
        if let sqlite {
            try sqlite.write { try $0.execute(sql: sql) }
        } else if let postgres {
            try postgres.transaction {
                for statement in Self.statements(sql) { try postgres.execute(statement) }
            }
        }
    }

    /// Runs `sql` as the app in a transaction the app then rolls back.
    func rollBack(_ sql: String) throws {
        if let sqlite {
            try sqlite.writeWithoutTransaction { db in
                try db.inTransaction {
                    try db.execute(sql: sql)
                    return .rollback
                }
            }
        } else if let postgres {
            try postgres.execute("BEGIN")
            for statement in Self.statements(sql) { try postgres.execute(statement) }
            try postgres.execute("ROLLBACK")
        }
    }

    /// Every trigger of the database, sorted by name.
    func triggerNames() throws -> [String] {
        if let sqlite {
            return try sqlite.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'") }.sorted()
        }
        return try strings("SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal").sorted()
    }

    /// Each trigger's name and SQL (SQLite), or name, oid and comment (PostgreSQL, where a
    /// recreated trigger gets a new oid), sorted.
    func triggerDefinitions() throws -> [String] {
        if let sqlite {
            return try sqlite.read { try String.fetchAll($0, sql: "SELECT name || ' ' || sql FROM sqlite_master WHERE type = 'trigger'") }.sorted()
        }
        return try strings("SELECT tgname::text || ' ' || oid::text || ' ' || COALESCE(obj_description(oid, 'pg_trigger'), '') FROM pg_trigger WHERE NOT tgisinternal").sorted()
    }

    /// Whether a table of that name exists (in PostgreSQL, on the search_path).
    func tableExists(_ name: String) throws -> Bool {
        if let sqlite { return try sqlite.read { try $0.tableExists(name) } }
        return try strings("SELECT to_regclass('\(name)')::text").first != nil
    }

    /// The first column of every row of a PostgreSQL query (NULLs left out).
    func strings(_ sql: String, _ values: [PostgresValue] = []) throws -> [String] {
        guard let postgres else { return [] }
        return try postgres.rows(sql, values).compactMap { try $0.decode(String?.self) }
    }

    /// The events waiting in the outbox, one line each.
    func events() throws -> [String] {
        try hooks.pending(limit: 100).map { row in
            let e = row.event
            return "\(e.op.rawValue) \(e.table).\(e.column)[\(e.key)] \(e.old ?? "nil") -> \(e.new ?? "nil")"
        }
    }
}

@Suite("Database hooks: triggers that write an outbox in the app's own transaction")
struct SQLiteHooksTests {
    static let columns = [
        ReferenceColumn(table: "accounts_user", column: "profile_pic", key: "id"),
        ReferenceColumn(table: "gallery_photo", column: "image", key: "id"),
        ReferenceColumn(table: "gallery_photo", column: "video", key: "id"),
        // Rows-only references have no file column to watch.
        ReferenceColumn(table: "gallery_album", column: nil, key: "id"),
    ]
    var columns: [ReferenceColumn] { Self.columns }

    /// A database with hooks installed for `columns`.
    func installed(_ backend: HooksBackend, name: String = #function) throws -> HooksApp {
        let app = try HooksApp(backend, name: name)
        let status = try app.hooks.install(columns)
        #expect(status.isCurrent)
        #expect(status.advice.isEmpty)
        return app
    }

    // MARK: What the triggers record

    @Test("a replaced file is recorded with the old and the new path and the row's key", arguments: HooksBackend.allCases)
    func replace(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("UPDATE accounts_user SET profile_pic = 'profile_pics/a2.jpg' WHERE id = 1")
        #expect(try app.events() == ["replace accounts_user.profile_pic[1] profile_pics/a.jpg -> profile_pics/a2.jpg"])
    }

    @Test("a cleared field (NULL or '') is a replace with no new path", arguments: HooksBackend.allCases)
    func cleared(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("""
            UPDATE accounts_user SET profile_pic = NULL WHERE id = 1;
            UPDATE accounts_user SET profile_pic = '' WHERE id = 4;
            """)
        #expect(try app.events() == [
            "replace accounts_user.profile_pic[1] profile_pics/a.jpg -> nil",
            "replace accounts_user.profile_pic[4] profile_pics/d.jpg -> nil",
        ])
    }

    @Test("a file put on a row that had none (NULL or '') is a create; NULL to '' is nothing", arguments: HooksBackend.allCases)
    func create(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("""
            UPDATE accounts_user SET profile_pic = 'profile_pics/b.jpg' WHERE id = 2;
            UPDATE accounts_user SET profile_pic = 'profile_pics/c.jpg' WHERE id = 3;
            INSERT INTO accounts_user VALUES (5, 'eve', NULL);
            UPDATE accounts_user SET profile_pic = '' WHERE id = 5;
            """)
        #expect(try app.events() == [
            "create accounts_user.profile_pic[2] nil -> profile_pics/b.jpg",
            "create accounts_user.profile_pic[3] nil -> profile_pics/c.jpg",
        ])
    }

    @Test("a deleted row with a file is a delete; rows without one record nothing", arguments: HooksBackend.allCases)
    func delete(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("DELETE FROM accounts_user WHERE id IN (1, 2, 3)")
        #expect(try app.events() == ["delete accounts_user.profile_pic[1] profile_pics/a.jpg -> nil"])
    }

    @Test("a bulk UPDATE records one row per affected row that had a file", arguments: HooksBackend.allCases)
    func bulkUpdate(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("UPDATE accounts_user SET profile_pic = NULL")
        #expect(try app.events() == [
            "replace accounts_user.profile_pic[1] profile_pics/a.jpg -> nil",
            "replace accounts_user.profile_pic[4] profile_pics/d.jpg -> nil",
        ])
    }

    @Test("rows deleted by a foreign-key cascade are recorded like rows deleted by hand", arguments: HooksBackend.allCases)
    func cascade(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("DELETE FROM gallery_album WHERE id = 1")
        #expect(try Set(app.events()) == [
            "delete gallery_photo.image[10] photos/10.jpg -> nil",
            "delete gallery_photo.video[10] videos/10.mp4 -> nil",
            "delete gallery_photo.image[11] photos/11.jpg -> nil",
        ])
    }

    @Test("a change rolled back by the app never reaches the outbox", arguments: HooksBackend.allCases)
    func rollback(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.rollBack("""
            UPDATE accounts_user SET profile_pic = 'profile_pics/x.jpg' WHERE id = 1;
            DELETE FROM gallery_photo;
            """)
        #expect(try app.hooks.pending(limit: 10).isEmpty)
        #expect(try app.hooks.status(columns).pendingRows == 0)
        // The same statements committed are recorded: the rollback, not the triggers, kept them out.
        try app.write("UPDATE accounts_user SET profile_pic = 'profile_pics/x.jpg' WHERE id = 1")
        #expect(try app.hooks.pending(limit: 10).count == 1)
    }

    @Test("an UPDATE that writes the same value, or another column, records nothing", arguments: HooksBackend.allCases)
    func sameValue(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("""
            UPDATE accounts_user SET profile_pic = profile_pic;
            UPDATE accounts_user SET username = 'ada2' WHERE id = 1;
            """)
        #expect(try app.hooks.pending(limit: 10).isEmpty)
    }

    @Test("an UPDATE that also changes the key records the row's old key", arguments: HooksBackend.allCases)
    func keyChange(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("UPDATE accounts_user SET id = 100, profile_pic = 'profile_pics/n.jpg' WHERE id = 1")
        #expect(try app.events() == ["replace accounts_user.profile_pic[1] profile_pics/a.jpg -> profile_pics/n.jpg"])
    }

    @Test("a deleted row with two file columns gives one outbox row per file", arguments: HooksBackend.allCases)
    func twoColumns(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("DELETE FROM gallery_photo")
        #expect(try Set(app.events()) == [
            "delete gallery_photo.image[10] photos/10.jpg -> nil",
            "delete gallery_photo.video[10] videos/10.mp4 -> nil",
            "delete gallery_photo.image[11] photos/11.jpg -> nil",
        ])
    }

    // MARK: Draining the outbox

    @Test("pending rows come oldest first as change events, and acknowledged rows are gone", arguments: HooksBackend.allCases)
    func pendingAndAcknowledge(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        let hooks = app.hooks
        let before = Date()
        try app.write("""
            UPDATE accounts_user SET profile_pic = 'p/1.jpg' WHERE id = 1;
            UPDATE accounts_user SET profile_pic = 'p/2.jpg' WHERE id = 2;
            DELETE FROM accounts_user WHERE id = 4;
            """)
        let first = try hooks.pending(limit: 2)
        #expect(first.count == 2)
        #expect(first[0].id < first[1].id)
        let event = first[0].event
        #expect(event.id.hasPrefix("outbox-\(first[0].id)-20"))
        #expect(event.id.range(of: #"^outbox-\d+-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        #expect(event.op == .replace && event.key == "1" && event.old == "profile_pics/a.jpg" && event.new == "p/1.jpg")
        #expect(event.table == "accounts_user" && event.column == "profile_pic")
        #expect(event.tenant == nil)
        let at = try #require(event.at)
        #expect(at.timeIntervalSince(before) > -1 && at.timeIntervalSinceNow < 1)
        #expect(first[1].event.op == .create)

        try hooks.acknowledge(first.map(\.id))
        let rest = try hooks.pending(limit: 10)
        #expect(rest.map(\.event.op) == [.delete])
        #expect(rest[0].id > first[1].id)
        try hooks.acknowledge(rest.map(\.id) + [9_999])
        #expect(try hooks.pending(limit: 10).isEmpty)
        #expect(try hooks.pending(limit: 0).isEmpty)
    }

    @Test("draining a database without hooks says to install them", arguments: HooksBackend.allCases)
    func pendingWithoutOutbox(_ backend: HooksBackend) throws {
        let app = try HooksApp(backend)
        #expect(try app.hooks.hasOutbox() == false)
        #expect {
            _ = try app.hooks.pending(limit: 10)
        } throws: { error in
            "\(error)".contains("the outbox table 'janitor_outbox' does not exist; run 'media-janitor hooks install'")
        }
    }

    // MARK: Install, status, uninstall

    @Test("install creates two triggers per file column and installing again changes nothing", arguments: HooksBackend.allCases)
    func installTwice(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        let names = try app.triggerNames()
        #expect(names == [
            "janitor_accounts_user_profile_pic_delete", "janitor_accounts_user_profile_pic_update",
            "janitor_gallery_photo_image_delete", "janitor_gallery_photo_image_update",
            "janitor_gallery_photo_video_delete", "janitor_gallery_photo_video_update",
        ])
        #expect(try app.hooks.hasOutbox())
        let definitions = try app.triggerDefinitions()
        let again = try app.hooks.install(columns)
        #expect(again.isCurrent)
        #expect(again.columns == [
            .init(name: "accounts_user.profile_pic", state: .installed),
            .init(name: "gallery_photo.image", state: .installed),
            .init(name: "gallery_photo.video", state: .installed),
        ])
        #expect(try app.triggerNames() == names)
        // Not even recreated: the second install found everything current.
        #expect(try app.triggerDefinitions() == definitions)
    }

    @Test("uninstall drops every janitor trigger and the outbox, and uninstalling again is a no-op", arguments: HooksBackend.allCases)
    func uninstallTwice(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write(backend.pick(
            sqlite: "CREATE TRIGGER app_audit AFTER DELETE ON gallery_album BEGIN SELECT 1; END",
            postgres: """
                CREATE FUNCTION app_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
                CREATE TRIGGER app_audit AFTER DELETE ON gallery_album FOR EACH ROW EXECUTE FUNCTION app_audit();
                """))
        try app.hooks.uninstall(force: false)
        try app.hooks.uninstall(force: false)
        #expect(try app.triggerNames() == ["app_audit"])
        #expect(try app.tableExists("janitor_outbox") == false)
        #expect(try app.hooks.hasOutbox() == false)
        // The app's writes still work.
        try app.write("UPDATE accounts_user SET profile_pic = 'x.jpg'; DELETE FROM gallery_photo; DELETE FROM gallery_album")
    }

    @Test("uninstall refuses to drop unprocessed changes unless forced, naming 'hooks drain' and '--force'", arguments: HooksBackend.allCases)
    func uninstallWithPendingRows(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("DELETE FROM accounts_user WHERE id = 1")
        do {
            try app.hooks.uninstall(force: false)
            Issue.record("dropped an outbox with pending rows")
        } catch {
            #expect(!error.isConfiguration)
            #expect(error.description == "cannot read the app database '\(app.location)': the outbox 'janitor_outbox' still holds 1 change the janitor has not processed; run 'media-janitor hooks drain' first, or 'media-janitor hooks uninstall --force' to drop them")
        }
        // Nothing was dropped.
        #expect(try app.hooks.status(columns).isCurrent)
        #expect(try app.hooks.status(columns).pendingRows == 1)
        try app.hooks.uninstall(force: true)
        #expect(try app.triggerNames().isEmpty)
        #expect(try app.tableExists("janitor_outbox") == false)
    }

    @Test("status of a database that never had hooks: no outbox, every column missing, advice names 'hooks install'", arguments: HooksBackend.allCases)
    func neverInstalled(_ backend: HooksBackend) throws {
        let app = try HooksApp(backend)
        let status = try app.hooks.status(columns)
        #expect(status == HooksStatus(
            outboxExists: false, pendingRows: 0,
            columns: [
                .init(name: "accounts_user.profile_pic", state: .missing),
                .init(name: "gallery_photo.image", state: .missing),
                .init(name: "gallery_photo.video", state: .missing),
            ],
            extraTriggers: [],
            advice: ["run 'media-janitor hooks install' to create the outbox table and 6 triggers for 3 columns"]))
        #expect(!status.isCurrent)
    }

    @Test("an app migration that rebuilds a table drops its triggers: status says missing, install repairs", arguments: HooksBackend.allCases)
    func tableRebuild(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        // Django's SQLite schema editor, altering a field of accounts_user (PostgreSQL drops the
        // old table's triggers the same way).
        try app.write("""
            CREATE TABLE "new__accounts_user" (id INTEGER PRIMARY KEY, username TEXT NOT NULL, profile_pic TEXT, bio TEXT);
            INSERT INTO "new__accounts_user" (id, username, profile_pic, bio) SELECT id, username, profile_pic, NULL FROM "accounts_user";
            DROP TABLE "accounts_user";
            ALTER TABLE "new__accounts_user" RENAME TO "accounts_user";
            """)
        // Dropping the old table did not look like deleting its rows.
        #expect(try app.hooks.pending(limit: 10).isEmpty)
        let status = try app.hooks.status(columns)
        #expect(!status.isCurrent)
        #expect(status.outboxExists)
        #expect(status.columns.map(\.state) == [.missing, .installed, .installed])
        #expect(status.extraTriggers.isEmpty)
        #expect(status.advice == [
            "run 'media-janitor hooks install' to recreate 2 missing triggers (an app migration that rebuilds a table drops its triggers)"
        ])
        // Meanwhile a change goes unseen; after install the next one is recorded.
        try app.write("UPDATE accounts_user SET profile_pic = 'unseen.jpg' WHERE id = 1")
        #expect(try app.hooks.install(columns).isCurrent)
        try app.write("UPDATE accounts_user SET profile_pic = 'seen.jpg' WHERE id = 1")
        #expect(try app.events() == ["replace accounts_user.profile_pic[1] unseen.jpg -> seen.jpg"])
    }

    @Test("a trigger whose SQL differs from what install writes is stale; install replaces it", arguments: HooksBackend.allCases)
    func stale(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        // The same trigger without its WHEN clause: it would record rows that never had a file.
        try app.write(backend.pick(
            sqlite: """
                DROP TRIGGER janitor_gallery_photo_image_delete;
                CREATE TRIGGER janitor_gallery_photo_image_delete AFTER DELETE ON gallery_photo FOR EACH ROW
                BEGIN INSERT INTO janitor_outbox (table_name, column_name, op) VALUES ('gallery_photo', 'image', 'delete'); END;
                """,
            postgres: """
                DROP TRIGGER janitor_gallery_photo_image_delete ON gallery_photo;
                CREATE TRIGGER janitor_gallery_photo_image_delete AFTER DELETE ON gallery_photo FOR EACH ROW
                EXECUTE FUNCTION janitor_record_change('gallery_photo', 'image', '3', '1');
                """))
        let status = try app.hooks.status(columns)
        #expect(status.columns.map(\.state) == [.installed, .stale, .installed])
        #expect(status.advice == [
            "run 'media-janitor hooks install' to replace 1 stale trigger (their SQL differs from what this version installs; renaming a table or column rewrites them)"
        ])
        #expect(try app.hooks.install(columns).isCurrent)
        try app.write("DELETE FROM gallery_photo WHERE id = 11")
        #expect(try app.events() == ["delete gallery_photo.image[11] photos/11.jpg -> nil"])
    }

    @Test("triggers for a column no longer configured are extra; install drops them", arguments: HooksBackend.allCases)
    func extraTriggers(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        let fewer = columns.filter { $0.column != "video" }
        let status = try app.hooks.status(fewer)
        #expect(!status.isCurrent)
        #expect(status.extraTriggers == ["janitor_gallery_photo_video_delete", "janitor_gallery_photo_video_update"])
        #expect(status.advice == [
            "run 'media-janitor hooks install' to drop 2 triggers for columns no longer configured: janitor_gallery_photo_video_delete, janitor_gallery_photo_video_update"
        ])
        #expect(try app.hooks.install(fewer).isCurrent)
        #expect(try app.triggerNames().count == 4)
        try app.write("UPDATE gallery_photo SET video = 'videos/new.mp4' WHERE id = 10")
        #expect(try app.events().isEmpty)
    }

    @Test("an outbox dropped by hand while triggers remain is called out: the app's writes fail", arguments: HooksBackend.allCases)
    func outboxWithoutTriggers(_ backend: HooksBackend) throws {
        let app = try installed(backend)
        try app.write("DROP TABLE janitor_outbox")
        let status = try app.hooks.status(columns)
        #expect(status.advice == [
            "the outbox table 'janitor_outbox' is missing but 6 janitor triggers remain: every write of the app to 'accounts_user', 'gallery_photo' fails until you run 'media-janitor hooks install' (or 'media-janitor hooks uninstall')"
        ])
        #expect(throws: (any Error).self) { try app.write("DELETE FROM accounts_user WHERE id = 1") }
        #expect(try app.hooks.install(columns).isCurrent)
        // An SQLite connection compiles triggers against the schema it last read, and a failed
        // prepare does not re-read it: the app's next query that runs (any read) does.
        #expect(try app.tableExists("janitor_outbox"))
        try app.write("DELETE FROM accounts_user WHERE id = 1")
        #expect(try app.events() == ["delete accounts_user.profile_pic[1] profile_pics/a.jpg -> nil"])
    }

    @Test("a column or key the table does not have fails install before anything is created", arguments: HooksBackend.allCases)
    func missingColumn(_ backend: HooksBackend) throws {
        let app = try HooksApp(backend)
        let wrong = columns + [
            ReferenceColumn(table: "accounts_user", column: "profile_pik", key: "id", location: SourceLocation(file: "janitor.yml", line: 9, column: 7)),
            ReferenceColumn(table: "gallery_album", column: "cover", key: "uuid"),
            ReferenceColumn(table: "blog_post", column: "hero", key: "id"),
        ]
        do {
            _ = try app.hooks.install(wrong)
            Issue.record("installed hooks for a column that does not exist")
        } catch {
            #expect(error.isConfiguration)
            #expect(error.description == """
                janitor.yml:9:7: error: cannot install hooks: table 'accounts_user' has no column 'profile_pik' (column); did you mean 'profile_pic'? columns are: id, username, profile_pic [world.missing-column]
                error: cannot install hooks: table 'gallery_album' has no column 'uuid' (key); columns are: id, name [world.missing-column]
                error: cannot install hooks: table 'gallery_album' has no column 'cover' (column); columns are: id, name [world.missing-column]
                error: cannot install hooks: table 'blog_post' does not exist; tables are: accounts_user, gallery_album, gallery_photo [world.missing-table]
                """)
        }
        #expect(try app.triggerNames().isEmpty)
        #expect(try app.tableExists("janitor_outbox") == false)
    }

    // MARK: SQLite only

    @Test("names that need sanitising or would collide get a hash; quoting keeps odd names working")
    func oddNames() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.path + "/odd.sqlite3"
        let app = try DatabaseQueue(path: path)
        try app.write { db in
            try db.execute(sql: #"""
                CREATE TABLE "a_b" (id INTEGER PRIMARY KEY, "c" TEXT);
                CREATE TABLE "a" (id INTEGER PRIMARY KEY, "b_c" TEXT);
                CREATE TABLE "order" ("key" TEXT PRIMARY KEY, "file ""name""" TEXT) WITHOUT ROWID;
                INSERT INTO "order" VALUES ('k''1', 'it''s.jpg');
                """#)
        }
        let hooks = try SQLiteHooks(path: path)
        let odd = [
            ReferenceColumn(table: "a_b", column: "c", key: "rowid"),
            ReferenceColumn(table: "a", column: "b_c", key: "id"),
            ReferenceColumn(table: "order", column: "file \"name\"", key: "key"),
        ]
        #expect(try hooks.install(odd).isCurrent)
        let names = try app.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name") }
        #expect(names.count == 6)
        #expect(names.allSatisfy { $0.range(of: "^janitor_[a-z0-9_]+_[0-9a-f]{8}_(update|delete)$", options: .regularExpression) != nil })
        try app.write { db in
            try db.execute(sql: #"DELETE FROM "order""#)
            try db.execute(sql: #"INSERT INTO "a_b" VALUES (7, 'x.jpg'); UPDATE "a_b" SET c = 'y.jpg'"#)
        }
        #expect(try hooks.pending(limit: 10).map { "\($0.event.op.rawValue) \($0.event.table).\($0.event.column)[\($0.event.key)] \($0.event.old ?? "nil") -> \($0.event.new ?? "nil")" } == [
            "delete order.file \"name\"[k'1] it's.jpg -> nil",
            "replace a_b.c[7] x.jpg -> y.jpg",
        ])
        // A rowid key on a WITHOUT ROWID table is refused rather than installed broken.
        #expect(throws: SourceError.self) {
            _ = try hooks.install([ReferenceColumn(table: "order", column: "file \"name\"", key: "rowid")])
        }
    }

    @Test("a missing database file is a configuration error and is not created")
    func missingFile() throws {
        let tmp = TemporaryDirectory()
        #expect {
            _ = try SQLiteHooks(path: tmp.path + "/none.sqlite3")
        } throws: { error in
            (error as? SourceError)?.isConfiguration == true
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/none.sqlite3"))
    }
}
