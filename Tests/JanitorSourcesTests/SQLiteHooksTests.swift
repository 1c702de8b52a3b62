import Foundation
import GRDB
import JanitorCore
import Testing

@testable import JanitorSources

@Suite("Database hooks: triggers that write an outbox in the app's own transaction")
struct SQLiteHooksTests {
    let columns = [
        ReferenceColumn(table: "accounts_user", column: "profile_pic", key: "id"),
        ReferenceColumn(table: "gallery_photo", column: "image", key: "id"),
        ReferenceColumn(table: "gallery_photo", column: "video", key: "id"),
        // Rows-only references have no file column to watch.
        ReferenceColumn(table: "gallery_album", column: nil, key: "id"),
    ]

    /// An app database with users, photos carrying two file columns, and albums; hooks not installed.
    func appDatabase(_ tmp: TemporaryDirectory) throws -> (path: String, app: DatabaseQueue) {
        let path = tmp.path + "/app.sqlite3"
        let app = try DatabaseQueue(path: path)
        try app.write { db in
            try db.execute(sql: """
                CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, username TEXT NOT NULL, profile_pic TEXT);
                CREATE TABLE gallery_album (id INTEGER PRIMARY KEY, name TEXT);
                CREATE TABLE gallery_photo (id INTEGER PRIMARY KEY, album_id INTEGER, image TEXT, video TEXT);
                INSERT INTO accounts_user VALUES (1, 'ada', 'profile_pics/a.jpg'), (2, 'bob', NULL), (3, 'cy', ''),
                    (4, 'dee', 'profile_pics/d.jpg');
                INSERT INTO gallery_album VALUES (1, 'holiday');
                INSERT INTO gallery_photo VALUES (10, 1, 'photos/10.jpg', 'videos/10.mp4'), (11, 1, 'photos/11.jpg', NULL);
                """)
        }
        return (path, app)
    }

    /// A database with hooks installed for `columns`.
    func installed(_ tmp: TemporaryDirectory) throws -> (hooks: SQLiteHooks, app: DatabaseQueue) {
        let (path, app) = try appDatabase(tmp)
        let hooks = try SQLiteHooks(path: path)
        let status = try hooks.install(columns)
        #expect(status.isCurrent)
        #expect(status.advice.isEmpty)
        return (hooks, app)
    }

    func events(_ hooks: SQLiteHooks) throws -> [String] {
        try hooks.pending(limit: 100).map { row in
            let e = row.event
            return "\(e.op.rawValue) \(e.table).\(e.column)[\(e.key)] \(e.old ?? "nil") -> \(e.new ?? "nil")"
        }
    }

    func triggerNames(_ app: DatabaseQueue) throws -> [String] {
        try app.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name") }
    }

    // MARK: What the triggers record

    @Test("a replaced file is recorded with the old and the new path and the row's key")
    func replace() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "UPDATE accounts_user SET profile_pic = 'profile_pics/a2.jpg' WHERE id = 1") }
        #expect(try events(hooks) == ["replace accounts_user.profile_pic[1] profile_pics/a.jpg -> profile_pics/a2.jpg"])
    }

    @Test("a cleared field (NULL or '') is a replace with no new path")
    func cleared() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { db in
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = NULL WHERE id = 1")
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = '' WHERE id = 4")
        }
        #expect(try events(hooks) == [
            "replace accounts_user.profile_pic[1] profile_pics/a.jpg -> nil",
            "replace accounts_user.profile_pic[4] profile_pics/d.jpg -> nil",
        ])
    }

    @Test("a file put on a row that had none (NULL or '') is a create; NULL to '' is nothing")
    func create() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { db in
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = 'profile_pics/b.jpg' WHERE id = 2")
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = 'profile_pics/c.jpg' WHERE id = 3")
            try db.execute(sql: "INSERT INTO accounts_user VALUES (5, 'eve', NULL)")
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = '' WHERE id = 5")
        }
        #expect(try events(hooks) == [
            "create accounts_user.profile_pic[2] nil -> profile_pics/b.jpg",
            "create accounts_user.profile_pic[3] nil -> profile_pics/c.jpg",
        ])
    }

    @Test("a deleted row with a file is a delete; rows without one record nothing")
    func delete() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "DELETE FROM accounts_user WHERE id IN (1, 2, 3)") }
        #expect(try events(hooks) == ["delete accounts_user.profile_pic[1] profile_pics/a.jpg -> nil"])
    }

    @Test("a bulk UPDATE records one row per affected row that had a file")
    func bulkUpdate() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "UPDATE accounts_user SET profile_pic = NULL") }
        #expect(try events(hooks) == [
            "replace accounts_user.profile_pic[1] profile_pics/a.jpg -> nil",
            "replace accounts_user.profile_pic[4] profile_pics/d.jpg -> nil",
        ])
    }

    @Test("a change rolled back by the app never reaches the outbox")
    func rollback() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.writeWithoutTransaction { db in
            try db.inTransaction {
                try db.execute(sql: "UPDATE accounts_user SET profile_pic = 'profile_pics/x.jpg' WHERE id = 1")
                try db.execute(sql: "DELETE FROM gallery_photo")
                return .rollback
            }
        }
        #expect(try hooks.pending(limit: 10).isEmpty)
        #expect(try hooks.status(columns).pendingRows == 0)
    }

    @Test("an UPDATE that writes the same value, or another column, records nothing")
    func sameValue() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { db in
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = profile_pic")
            try db.execute(sql: "UPDATE accounts_user SET username = 'ada2' WHERE id = 1")
        }
        #expect(try hooks.pending(limit: 10).isEmpty)
    }

    @Test("an UPDATE that also changes the key records the row's old key")
    func keyChange() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "UPDATE accounts_user SET id = 100, profile_pic = 'profile_pics/n.jpg' WHERE id = 1") }
        #expect(try events(hooks) == ["replace accounts_user.profile_pic[1] profile_pics/a.jpg -> profile_pics/n.jpg"])
    }

    @Test("a deleted row with two file columns gives one outbox row per file")
    func twoColumns() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "DELETE FROM gallery_photo") }
        #expect(try Set(events(hooks)) == [
            "delete gallery_photo.image[10] photos/10.jpg -> nil",
            "delete gallery_photo.video[10] videos/10.mp4 -> nil",
            "delete gallery_photo.image[11] photos/11.jpg -> nil",
        ])
    }

    // MARK: Draining the outbox

    @Test("pending rows come oldest first as change events, and acknowledged rows are gone")
    func pendingAndAcknowledge() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        let before = Date()
        try app.write { db in
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = 'p/1.jpg' WHERE id = 1")
            try db.execute(sql: "UPDATE accounts_user SET profile_pic = 'p/2.jpg' WHERE id = 2")
            try db.execute(sql: "DELETE FROM accounts_user WHERE id = 4")
        }
        let first = try hooks.pending(limit: 2)
        #expect(first.count == 2)
        #expect(first[0].id < first[1].id)
        let event = first[0].event
        #expect(event.id.hasPrefix("outbox-\(first[0].id)-20"))
        #expect(event.op == .replace && event.key == "1" && event.old == "profile_pics/a.jpg" && event.new == "p/1.jpg")
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

    @Test("draining a database without hooks says to install them")
    func pendingWithoutOutbox() throws {
        let tmp = TemporaryDirectory()
        let hooks = try SQLiteHooks(path: try appDatabase(tmp).path)
        #expect {
            _ = try hooks.pending(limit: 10)
        } throws: { error in
            "\(error)".contains("the outbox table 'janitor_outbox' does not exist; run 'media-janitor hooks install'")
        }
    }

    // MARK: Install, status, uninstall

    @Test("install creates two triggers per file column and installing again changes nothing")
    func installTwice() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        let names = try triggerNames(app)
        #expect(names == [
            "janitor_accounts_user_profile_pic_delete", "janitor_accounts_user_profile_pic_update",
            "janitor_gallery_photo_image_delete", "janitor_gallery_photo_image_update",
            "janitor_gallery_photo_video_delete", "janitor_gallery_photo_video_update",
        ])
        let sql = try app.read { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name") }
        let again = try hooks.install(columns)
        #expect(again.isCurrent)
        #expect(again.columns == [
            .init(name: "accounts_user.profile_pic", state: .installed),
            .init(name: "gallery_photo.image", state: .installed),
            .init(name: "gallery_photo.video", state: .installed),
        ])
        #expect(try triggerNames(app) == names)
        #expect(try app.read { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name") } == sql)
    }

    @Test("uninstall drops every janitor trigger and the outbox, and uninstalling again is a no-op")
    func uninstallTwice() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "CREATE TRIGGER app_audit AFTER DELETE ON gallery_album BEGIN SELECT 1; END") }
        try hooks.uninstall()
        try hooks.uninstall()
        #expect(try triggerNames(app) == ["app_audit"])
        #expect(try app.read { try $0.tableExists("janitor_outbox") } == false)
        // The app's writes still work.
        try app.write { try $0.execute(sql: "UPDATE accounts_user SET profile_pic = 'x.jpg'; DELETE FROM gallery_photo") }
    }

    @Test("uninstall refuses to drop unprocessed changes unless forced, naming 'hooks drain' and '--force'")
    func uninstallWithPendingRows() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "DELETE FROM accounts_user WHERE id = 1") }
        do {
            try hooks.uninstall()
            Issue.record("dropped an outbox with pending rows")
        } catch {
            #expect(!error.isConfiguration)
            #expect(error.description == "cannot read the app database 'sqlite:\(tmp.path)/app.sqlite3': the outbox 'janitor_outbox' still holds 1 change the janitor has not processed; run 'media-janitor hooks drain' first, or 'media-janitor hooks uninstall --force' to drop them")
        }
        // Nothing was dropped.
        #expect(try hooks.status(columns).isCurrent)
        #expect(try hooks.status(columns).pendingRows == 1)
        try hooks.uninstall(force: true)
        #expect(try triggerNames(app).isEmpty)
        #expect(try app.read { try $0.tableExists("janitor_outbox") } == false)
    }

    @Test("status of a database that never had hooks: no outbox, every column missing, advice names 'hooks install'")
    func neverInstalled() throws {
        let tmp = TemporaryDirectory()
        let hooks = try SQLiteHooks(path: try appDatabase(tmp).path)
        let status = try hooks.status(columns)
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

    @Test("an app migration that rebuilds a table drops its triggers: status says missing, install repairs")
    func tableRebuild() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        // Django's SQLite schema editor, altering a field of accounts_user.
        try app.write { db in
            try db.execute(sql: """
                CREATE TABLE "new__accounts_user" (id INTEGER PRIMARY KEY, username TEXT NOT NULL, profile_pic TEXT, bio TEXT);
                INSERT INTO "new__accounts_user" (id, username, profile_pic, bio) SELECT id, username, profile_pic, NULL FROM "accounts_user";
                DROP TABLE "accounts_user";
                ALTER TABLE "new__accounts_user" RENAME TO "accounts_user";
                """)
        }
        // Dropping the old table did not look like deleting its rows.
        #expect(try hooks.pending(limit: 10).isEmpty)
        let status = try hooks.status(columns)
        #expect(!status.isCurrent)
        #expect(status.outboxExists)
        #expect(status.columns.map(\.state) == [.missing, .installed, .installed])
        #expect(status.extraTriggers.isEmpty)
        #expect(status.advice == [
            "run 'media-janitor hooks install' to recreate 2 missing triggers (an app migration that rebuilds a table drops its triggers)"
        ])
        // Meanwhile a change goes unseen; after install the next one is recorded.
        try app.write { try $0.execute(sql: "UPDATE accounts_user SET profile_pic = 'unseen.jpg' WHERE id = 1") }
        #expect(try hooks.install(columns).isCurrent)
        try app.write { try $0.execute(sql: "UPDATE accounts_user SET profile_pic = 'seen.jpg' WHERE id = 1") }
        #expect(try events(hooks) == ["replace accounts_user.profile_pic[1] unseen.jpg -> seen.jpg"])
    }

    @Test("a trigger whose SQL differs from what install writes is stale; install replaces it")
    func stale() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { db in
            try db.execute(sql: """
                DROP TRIGGER janitor_gallery_photo_image_delete;
                CREATE TRIGGER janitor_gallery_photo_image_delete AFTER DELETE ON gallery_photo FOR EACH ROW
                BEGIN INSERT INTO janitor_outbox (table_name, column_name, op) VALUES ('gallery_photo', 'image', 'delete'); END;
                """)
        }
        let status = try hooks.status(columns)
        #expect(status.columns.map(\.state) == [.installed, .stale, .installed])
        #expect(status.advice == [
            "run 'media-janitor hooks install' to replace 1 stale trigger (their SQL differs from what this version installs; renaming a table or column rewrites them)"
        ])
        #expect(try hooks.install(columns).isCurrent)
        try app.write { try $0.execute(sql: "DELETE FROM gallery_photo WHERE id = 11") }
        #expect(try events(hooks) == ["delete gallery_photo.image[11] photos/11.jpg -> nil"])
    }

    @Test("triggers for a column no longer configured are extra; install drops them")
    func extraTriggers() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        let fewer = columns.filter { $0.column != "video" }
        let status = try hooks.status(fewer)
        #expect(!status.isCurrent)
        #expect(status.extraTriggers == ["janitor_gallery_photo_video_delete", "janitor_gallery_photo_video_update"])
        #expect(status.advice == [
            "run 'media-janitor hooks install' to drop 2 triggers for columns no longer configured: janitor_gallery_photo_video_delete, janitor_gallery_photo_video_update"
        ])
        #expect(try hooks.install(fewer).isCurrent)
        #expect(try triggerNames(app).count == 4)
    }

    @Test("an outbox dropped by hand while triggers remain is called out: the app's writes fail")
    func outboxWithoutTriggers() throws {
        let tmp = TemporaryDirectory()
        let (hooks, app) = try installed(tmp)
        try app.write { try $0.execute(sql: "DROP TABLE janitor_outbox") }
        let status = try hooks.status(columns)
        #expect(status.advice == [
            "the outbox table 'janitor_outbox' is missing but 6 janitor triggers remain: every write of the app to 'accounts_user', 'gallery_photo' fails until you run 'media-janitor hooks install' (or 'media-janitor hooks uninstall')"
        ])
        #expect(throws: (any Error).self) { try app.write { try $0.execute(sql: "DELETE FROM accounts_user WHERE id = 1") } }
        #expect(try hooks.install(columns).isCurrent)
    }

    @Test("a column or key the table does not have fails install before anything is created")
    func missingColumn() throws {
        let tmp = TemporaryDirectory()
        let (path, app) = try appDatabase(tmp)
        let hooks = try SQLiteHooks(path: path)
        let wrong = columns + [
            ReferenceColumn(table: "accounts_user", column: "profile_pik", key: "id", location: SourceLocation(file: "janitor.yml", line: 9, column: 7)),
            ReferenceColumn(table: "gallery_album", column: "cover", key: "uuid"),
            ReferenceColumn(table: "blog_post", column: "hero", key: "id"),
        ]
        do {
            _ = try hooks.install(wrong)
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
        #expect(try triggerNames(app).isEmpty)
        #expect(try app.read { try $0.tableExists("janitor_outbox") } == false)
    }

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
        let names = try triggerNames(app)
        #expect(names.count == 6)
        #expect(names.allSatisfy { $0.range(of: "^janitor_[a-z0-9_]+_[0-9a-f]{8}_(update|delete)$", options: .regularExpression) != nil })
        try app.write { db in
            try db.execute(sql: #"DELETE FROM "order""#)
            try db.execute(sql: #"INSERT INTO "a_b" VALUES (7, 'x.jpg'); UPDATE "a_b" SET c = 'y.jpg'"#)
        }
        #expect(try events(hooks) == [
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
