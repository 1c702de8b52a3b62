import Foundation
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import Testing

@testable import JanitorSources

/// What only PostgreSQL has: notifications, key and column types, schemas, and the ways its
/// migrations and operators change triggers. The behaviour both databases share is tested in
/// `SQLiteHooksTests`, against both.
@Suite("PostgreSQL hooks: notifications, schemas, key types and what migrations do to triggers")
struct PostgresHooksTests {
    var columns: [ReferenceColumn] { SQLiteHooksTests.columns }

    /// A fresh PostgreSQL database with the gallery tables and hooks installed for `columns`.
    func installed(tables: String = HooksApp.galleryTables, _ columns: [ReferenceColumn]? = nil) throws -> (app: HooksApp, hooks: PostgresHooks) {
        let app = try HooksApp(.postgres, tables: tables)
        let hooks = try #require(app.hooks as? PostgresHooks)
        let status = try hooks.install(columns ?? self.columns)
        #expect(status.isCurrent)
        #expect(status.advice.isEmpty)
        return (app, hooks)
    }

    /// `changeCount()` once it differs from `start`, asking every 5 ms; nil after `seconds`.
    func changeCount(_ hooks: PostgresHooks, movedFrom start: Int, within seconds: Double) throws -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let count = try hooks.changeCount()
            if count != start { return count }
            Thread.sleep(forTimeInterval: 0.005)
        } while Date() < deadline
        return nil
    }

    // MARK: Notifications

    @Test("a committed change moves changeCount within a second without reading the outbox; a rolled-back one does not")
    func notification() throws {
        let (app, hooks) = try installed()
        let start = try hooks.changeCount()
        try app.rollBack("UPDATE accounts_user SET profile_pic = 'profile_pics/x.jpg' WHERE id = 1")
        // Committed, but no file column changed: no outbox row, no notification.
        try app.write("UPDATE accounts_user SET username = 'ada2' WHERE id = 1")
        // Two outbox rows in one transaction: one notification.
        try app.write("UPDATE accounts_user SET profile_pic = NULL")
        let committed = Date()
        // Notifications arrive in commit order: had the rollback or the unrelated commit sent
        // one, the count would be past start + 1 by the time this one arrives.
        #expect(try changeCount(hooks, movedFrom: start, within: 1) == start + 1)
        #expect(Date().timeIntervalSince(committed) < 1)
        // Nothing but LISTEN ran on behalf of changeCount: the hooks' connections last ran the
        // install's COMMIT and the LISTEN.
        #expect(try app.strings("""
            SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND query LIKE '%janitor_outbox%' AND query NOT LIKE 'LISTEN%'
            """) == [])
        #expect(try app.strings("SELECT query FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%janitor_outbox%'").count == 1)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try hooks.changeCount() == start + 1)
        #expect(try hooks.pending(limit: 10).count == 2)
    }

    @Test("when the listening connection drops, changeCount reconnects, counts a change, and hears later ones")
    func listenerReconnects() throws {
        let (app, hooks) = try installed()
        let start = try hooks.changeCount()
        let listening = try app.strings("SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        #expect(listening.count == 1)
        _ = try app.strings("SELECT pg_terminate_backend($1::text::int)::text", [.text(try #require(listening.first))])
        let reconnected = try #require(try changeCount(hooks, movedFrom: start, within: 2))
        #expect(reconnected == start + 1)
        let again = try app.strings("SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        #expect(again.count == 1 && again != listening)
        try app.write("DELETE FROM accounts_user WHERE id = 4")
        #expect(try changeCount(hooks, movedFrom: reconnected, within: 1) == reconnected + 1)
    }

    // MARK: Keys, types and schemas

    @Test("uuid, bigint and text keys are recorded as text, exactly; varchar path columns work")
    func keyTypes() throws {
        let tables = """
            CREATE TABLE docs_receipt (id uuid PRIMARY KEY, file varchar(100));
            CREATE TABLE chat_message (id bigint PRIMARY KEY, image varchar(100), body text);
            CREATE TABLE core_tag (slug text PRIMARY KEY, icon text);
            INSERT INTO docs_receipt VALUES ('6f1c0f3e-8a8e-4d8b-9a57-3c1f6b1f0a11', 'receipts/r.pdf');
            INSERT INTO chat_message VALUES (9007199254740993, 'chat/1.jpg', 'hi');
            INSERT INTO core_tag VALUES ('it''s "odd"', 'icons/a.svg');
            """
        let (app, _) = try installed(tables: tables, [
            ReferenceColumn(table: "docs_receipt", column: "file", key: "id"),
            ReferenceColumn(table: "chat_message", column: "image", key: "id"),
            ReferenceColumn(table: "core_tag", column: "icon", key: "slug"),
        ])
        try app.write("""
            UPDATE docs_receipt SET file = 'receipts/r2.pdf';
            DELETE FROM chat_message;
            UPDATE core_tag SET icon = NULL;
            """)
        #expect(try app.events() == [
            "replace docs_receipt.file[6f1c0f3e-8a8e-4d8b-9a57-3c1f6b1f0a11] receipts/r.pdf -> receipts/r2.pdf",
            "delete chat_message.image[9007199254740993] chat/1.jpg -> nil",
            #"replace core_tag.icon[it's "odd"] icons/a.svg -> nil"#,
        ])
    }

    @Test("schema-qualified tables, and one table name in several schemas, each get their own triggers and events")
    func schemas() throws {
        let tables = """
            CREATE SCHEMA billing;
            CREATE SCHEMA archive;
            CREATE TABLE billing.receipt (id int PRIMARY KEY, pdf text);
            CREATE TABLE archive.receipt (id int PRIMARY KEY, pdf text);
            CREATE TABLE receipt (id int PRIMARY KEY, pdf text);
            INSERT INTO billing.receipt VALUES (1, 'b/1.pdf');
            INSERT INTO archive.receipt VALUES (1, 'a/1.pdf');
            INSERT INTO receipt VALUES (1, 'p/1.pdf');
            """
        let receipts = [
            ReferenceColumn(table: "billing.receipt", column: "pdf", key: "id"),
            ReferenceColumn(table: "archive.receipt", column: "pdf", key: "id"),
            ReferenceColumn(table: "receipt", column: "pdf", key: "id"),
        ]
        let (app, hooks) = try installed(tables: tables, receipts)
        #expect(try hooks.status(receipts).columns.map(\.name) == ["billing.receipt.pdf", "archive.receipt.pdf", "receipt.pdf"])
        let names = try app.triggerNames()
        #expect(names.count == 6)
        #expect(names.filter { $0.hasPrefix("janitor_billing_receipt_pdf_") && $0.range(of: "_[0-9a-f]{8}_(update|delete)$", options: .regularExpression) != nil }.count == 2)
        #expect(names.contains("janitor_receipt_pdf_update"))
        try app.write("UPDATE billing.receipt SET pdf = 'b/2.pdf'; DELETE FROM archive.receipt; UPDATE receipt SET pdf = NULL")
        #expect(try app.events() == [
            "replace billing.receipt.pdf[1] b/1.pdf -> b/2.pdf",
            "delete archive.receipt.pdf[1] a/1.pdf -> nil",
            "replace receipt.pdf[1] p/1.pdf -> nil",
        ])
    }

    @Test("long, mixed-case and quoted names stay within PostgreSQL's 63 bytes, apart, and current")
    func oddNames() throws {
        let tables = #"""
            CREATE TABLE accounts_userprofile_verification_documents (id int PRIMARY KEY, government_issued_identity_scan text);
            CREATE TABLE "Photo" (id int PRIMARY KEY, image text);
            CREATE TABLE photo (id int PRIMARY KEY, image text);
            CREATE TABLE "order" ("key" text PRIMARY KEY, "file ""name""" text);
            INSERT INTO accounts_userprofile_verification_documents VALUES (1, 'ids/1.png');
            INSERT INTO "Photo" VALUES (1, 'P.jpg');
            INSERT INTO photo VALUES (1, 'p.jpg');
            INSERT INTO "order" VALUES ('k''1', 'it''s.jpg');
            """#
        let odd = [
            ReferenceColumn(table: "accounts_userprofile_verification_documents", column: "government_issued_identity_scan", key: "id"),
            ReferenceColumn(table: "Photo", column: "image", key: "id"),
            ReferenceColumn(table: "photo", column: "image", key: "id"),
            ReferenceColumn(table: "order", column: "file \"name\"", key: "key"),
        ]
        let (app, hooks) = try installed(tables: tables, odd)
        let names = try app.triggerNames()
        #expect(names.count == 8)
        #expect(Set(names).count == 8)
        #expect(names.allSatisfy { $0.utf8.count <= 63 })
        #expect(names.filter { $0.hasPrefix("janitor_accounts_userprofile_verification") }.allSatisfy {
            $0.range(of: "_[0-9a-f]{8}_(update|delete)$", options: .regularExpression) != nil
        })
        // Had PostgreSQL cut a name, status would look for the long one and find it missing.
        #expect(try hooks.status(odd).isCurrent)
        let definitions = try app.triggerDefinitions()
        #expect(try hooks.install(odd).isCurrent)
        #expect(try app.triggerDefinitions() == definitions)
        try app.write(#"""
            UPDATE accounts_userprofile_verification_documents SET government_issued_identity_scan = 'ids/2.png';
            DELETE FROM "Photo";
            DELETE FROM "order";
            """#)
        #expect(try app.events() == [
            "replace accounts_userprofile_verification_documents.government_issued_identity_scan[1] ids/1.png -> ids/2.png",
            "delete Photo.image[1] P.jpg -> nil",
            #"delete order.file "name"[k'1] it's.jpg -> nil"#,
        ])
    }

    @Test("a view or a partitioned table is refused by name, before anything is created")
    func notPlainTables() throws {
        let app = try HooksApp(.postgres, tables: """
            CREATE TABLE media (id int PRIMARY KEY, path text);
            CREATE VIEW recent_media AS SELECT * FROM media;
            CREATE TABLE media_log (id int, at date, path text) PARTITION BY RANGE (at);
            """)
        #expect {
            _ = try app.hooks.install([
                ReferenceColumn(table: "recent_media", column: "path", key: "id"),
                ReferenceColumn(table: "media_log", column: "path", key: "id"),
                ReferenceColumn(table: "nowhere.media", column: "path", key: "id"),
            ])
        } throws: { error in
            (error as? SourceError)?.description == """
                error: cannot install hooks: 'recent_media' is a view; name the table it reads from [world.missing-table]
                error: cannot install hooks: 'media_log' is a partitioned table, and the hooks support plain tables only [world.missing-table]
                error: cannot install hooks: table 'nowhere.media' does not exist; tables are: media, media_log, recent_media [world.missing-table]
                """
        }
        #expect(try app.triggerNames().isEmpty)
        #expect(try app.hooks.hasOutbox() == false)
    }

    // MARK: What migrations and operators do to the triggers

    @Test("a dropped and recreated table shows as missing triggers; install puts them back")
    func droppedTable() throws {
        let (app, hooks) = try installed()
        try app.write("""
            DROP TABLE gallery_photo;
            CREATE TABLE gallery_photo (id bigint PRIMARY KEY, album_id int, image varchar(100), video varchar(100));
            INSERT INTO gallery_photo VALUES (20, 1, 'photos/20.jpg', NULL);
            """)
        let status = try hooks.status(columns)
        #expect(status.columns.map(\.state) == [.installed, .missing, .missing])
        #expect(status.extraTriggers.isEmpty)
        #expect(status.advice == [
            "run 'media-janitor hooks install' to recreate 4 missing triggers (an app migration that rebuilds a table drops its triggers)"
        ])
        #expect(try hooks.install(columns).isCurrent)
        try app.write("UPDATE gallery_photo SET image = 'photos/21.jpg'")
        #expect(try app.events() == ["replace gallery_photo.image[20] photos/20.jpg -> photos/21.jpg"])
    }

    @Test("a renamed column keeps the app's writes working and recorded under the configured name; status calls it stale")
    func renamedColumn() throws {
        let (app, hooks) = try installed()
        try app.write("ALTER TABLE accounts_user RENAME COLUMN profile_pic TO avatar")
        try app.write("UPDATE accounts_user SET avatar = 'profile_pics/new.jpg' WHERE id = 1; DELETE FROM accounts_user WHERE id = 4")
        #expect(try app.events() == [
            "replace accounts_user.profile_pic[1] profile_pics/a.jpg -> profile_pics/new.jpg",
            "delete accounts_user.profile_pic[4] profile_pics/d.jpg -> nil",
        ])
        #expect(try hooks.status(columns).columns.map(\.state) == [.stale, .installed, .installed])
        // With the config following the rename, the old triggers are extra and new ones missing.
        var renamed = columns
        renamed[0].column = "avatar"
        let status = try hooks.status(renamed)
        #expect(status.columns.map(\.state) == [.missing, .installed, .installed])
        #expect(status.extraTriggers == ["janitor_accounts_user_profile_pic_delete", "janitor_accounts_user_profile_pic_update"])
        #expect(try hooks.install(renamed).isCurrent)
        #expect(try app.triggerNames().filter { $0.hasPrefix("janitor_accounts_user_") } == [
            "janitor_accounts_user_avatar_delete", "janitor_accounts_user_avatar_update",
        ])
    }

    @Test("PostgreSQL refuses to drop a watched column while its trigger exists, naming the trigger")
    func droppedColumn() throws {
        let (app, _) = try installed()
        #expect {
            try app.write("ALTER TABLE gallery_photo DROP COLUMN video")
        } throws: { error in
            "\(error)".contains("janitor_gallery_photo_video_update")
        }
    }

    @Test("a trigger function rewritten by hand makes every trigger stale; install restores it")
    func staleFunction() throws {
        let (app, hooks) = try installed()
        try app.write("""
            CREATE OR REPLACE FUNCTION janitor_record_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$
            -- media-janitor hooks, version 0
            BEGIN RETURN NULL; END $$;
            """)
        let status = try hooks.status(columns)
        #expect(status.columns.map(\.state) == [.stale, .stale, .stale])
        #expect(status.advice == [
            "run 'media-janitor hooks install' to replace 6 stale triggers (their SQL differs from what this version installs; renaming a table or column rewrites them)"
        ])
        #expect(try hooks.install(columns).isCurrent)
        try app.write("DELETE FROM accounts_user WHERE id = 1")
        #expect(try app.events() == ["delete accounts_user.profile_pic[1] profile_pics/a.jpg -> nil"])
    }

    @Test("a trigger changed in place by CREATE OR REPLACE TRIGGER is stale, though it keeps its name and comment")
    func replacedInPlace() throws {
        let (app, hooks) = try installed()
        try app.write("""
            CREATE OR REPLACE TRIGGER janitor_accounts_user_profile_pic_delete AFTER DELETE ON accounts_user
            FOR EACH ROW EXECUTE FUNCTION janitor_record_change('accounts_user', 'profile_pic', '3', '1');
            """)
        #expect(try hooks.status(columns).columns.map(\.state) == [.stale, .installed, .installed])
        #expect(try hooks.install(columns).isCurrent)
        try app.write("DELETE FROM accounts_user WHERE id = 2")
        #expect(try app.events().isEmpty)
    }

    @Test("a disabled trigger is called out; install enables it again")
    func disabledTrigger() throws {
        let (app, hooks) = try installed()
        try app.write("ALTER TABLE accounts_user DISABLE TRIGGER janitor_accounts_user_profile_pic_update")
        let status = try hooks.status(columns)
        #expect(status.columns.map(\.state) == [.stale, .installed, .installed])
        #expect(status.advice == [
            "run 'media-janitor hooks install' to re-enable 1 disabled trigger (ALTER TABLE ... DISABLE TRIGGER switched them off, and changes of their columns go unseen)"
        ])
        try app.write("UPDATE accounts_user SET profile_pic = 'unseen.jpg' WHERE id = 1")
        #expect(try app.events().isEmpty)
        #expect(try hooks.install(columns).isCurrent)
        try app.write("UPDATE accounts_user SET profile_pic = 'seen.jpg' WHERE id = 1")
        #expect(try app.events() == ["replace accounts_user.profile_pic[1] unseen.jpg -> seen.jpg"])
    }

    @Test("uninstall removes the trigger function and the outbox's sequence too")
    func uninstallLeavesNothing() throws {
        let (app, hooks) = try installed()
        try hooks.uninstall(force: false)
        #expect(try app.strings("SELECT proname::text FROM pg_proc WHERE proname LIKE 'janitor%'") == [])
        #expect(try app.strings("SELECT relname::text FROM pg_class WHERE relname LIKE 'janitor%'") == [])
    }

    // MARK: Roles and connections

    @Test("the app's own role needs no privilege on the outbox: the trigger function runs as its owner")
    func appRole() throws {
        let (app, hooks) = try installed()
        let url = try #require(app.url)
        let role = "app_\(UUID().uuidString.prefix(8).lowercased())"
        try app.write("""
            CREATE ROLE \(role) LOGIN;
            GRANT SELECT, UPDATE, DELETE ON accounts_user TO \(role);
            """)
        defer { try? app.write("DROP OWNED BY \(role); DROP ROLE \(role)") }
        var asApp = url
        asApp.user = role
        let session = try PostgresSession(asApp, purpose: "the app's own role")
        #expect(throws: (any Error).self) { try session.execute("SELECT count(*) FROM janitor_outbox") }
        try session.execute("UPDATE accounts_user SET profile_pic = 'profile_pics/by-app.jpg' WHERE id = 1")
        #expect(try app.events() == ["replace accounts_user.profile_pic[1] profile_pics/a.jpg -> profile_pics/by-app.jpg"])
        #expect(try hooks.status(columns).pendingRows == 1)
    }

    @Test("a server that does not answer, or a database that is not there, is named with what to check, never the password")
    func connectionErrors() throws {
        var refused = try TestPostgres.server()
        refused.port = 1
        refused.password = "s3cret-pw"
        #expect {
            _ = try PostgresHooks(url: refused)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("cannot read the app database 'postgres://\(refused.user):***@\(refused.host):1/\(refused.database)': cannot connect")
                && text.contains("check that the server runs and accepts TCP connections on \(refused.host):1") && !text.contains("s3cret")
                && (error as? SourceError)?.isConfiguration == false
        }
        var missing = try TestPostgres.server()
        missing.database = "no_such_app_db"
        #expect {
            _ = try PostgresHooks(url: missing)
        } throws: { error in
            "\(error)".contains("no_such_app_db") && "\(error)".contains("check the database name at the end of the URL, or create it")
        }
    }
}
