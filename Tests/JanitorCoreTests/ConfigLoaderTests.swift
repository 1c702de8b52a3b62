import Foundation
import Testing

@testable import JanitorCore

@Suite("Loading janitor.yml")
struct ConfigLoaderTests {
    @Test("the DESIGN example loads with every section resolved")
    func designExample() throws {
        let result = InMemoryConfig(designExampleText).load(environment: ["MEDIA_JANITOR_TOKEN": "s3cret"])
        // The example's qr_codes sets no row_action: retention would only report there.
        #expect(result.diagnostics.map(\.id) == ["config.retention-report-only"], "\(result.diagnostics)")
        #expect(result.diagnostics.first?.message.contains("class 'qr_codes'") == true)
        let config = try #require(result.config)
        #expect(config.mediaRoot == "/app/media")
        #expect(config.database == .sqlite(path: "/app/app.sqlite3"))
        #expect(config.state == .sqlite(path: "/app/.janitor/state.sqlite3"))
        #expect(config.defaults.grace == Seconds(900))
        #expect(config.defaults.quarantine == Seconds(7 * 86_400))
        #expect(config.defaults.quarantineDirectory == "/app/.janitor/quarantine")
        #expect(config.safety.maxDeleteBytes == 50 * 1024 * 1024 * 1024)
        #expect(config.classes.map(\.name) == ["profile_pictures", "chat_media", "committee_chat", "qr_codes"])
        let profile = try #require(config.mediaClass(named: "profile_pictures"))
        #expect(profile.claims("profile_pics/a.jpg"))
        #expect(!profile.claims("profile_pics/default.png"))
        #expect(profile.derivatives.map(\.pattern) == ["{dir}/thumbs/{stem}_*.{ext}", "{dir}/{stem}.webp"])
        let chat = try #require(config.mediaClass(named: "chat_media"))
        #expect(chat.retention?.maxAge == Seconds(86_400))
        #expect(chat.retention?.maxAgePerOwner == OwnerTTL(table: "accounts_userprofile", key: "user_id", column: "message_deletion_hours", unit: .hours))
        #expect(chat.retention?.rowAction == .delete)
        let committee = try #require(config.mediaClass(named: "committee_chat"))
        #expect(committee.paths.isEmpty)
        #expect(committee.references.first?.column == nil)
        #expect(committee.retention?.maxTotalSize == Int64(52_428_800))
        #expect(committee.retention?.maxCountPerGroup == 1000)
        #expect(config.mediaClass(named: "qr_codes")?.retention?.keepLatestPerOwner == 1)
        #expect(config.serve.token == "s3cret")
        #expect(config.schedule.retention == Seconds(3600))
    }

    @Test("included rule files add classes; a class defined twice is an error naming both places")
    func includes() throws {
        let rule = """
            classes:
              receipts:
                paths: ["receipts/**"]
                references: [{table: billing_receipt, column: file, key: id}]
            """
        let main = minimalConfig.replacingOccurrences(of: "classes:", with: "include: [\"rules/*.yml\"]\nclasses:")
        let ok = InMemoryConfig(main, extra: ["rules/receipts.yml": rule]).load()
        #expect(ok.config?.classes.map(\.name) == ["avatars", "receipts"])

        let twice = InMemoryConfig(main, extra: ["rules/a.yml": rule, "rules/b.yml": rule]).load()
        #expect(twice.config == nil)
        #expect(twice.diagnostics.map(\.description) == [
            "rules/b.yml:2:3: error: class 'receipts' is defined twice (first in rules/a.yml:2); rename one or remove it [config.duplicate-class]"
        ])
    }

    @Test("keys that start with x- are free for notes")
    func notes() {
        let text = "x-owner: web team\n" + minimalConfig.replacingOccurrences(of: "    paths:", with: "    x-why: legacy\n    paths:")
        let result = InMemoryConfig(text).load()
        #expect(result.diagnostics.isEmpty)
        #expect(result.config != nil)
    }

    @Test("retention without a row_action warns that it only reports; an explicit 'row_action: none' does not")
    func reportOnlyRetention() {
        let owner = minimalConfig.replacingOccurrences(of: "key: id}", with: "key: id, created: created_at}")
        let implicit = InMemoryConfig(owner + "\n    retention: {max_age: 7d}\n").load()
        #expect(implicit.diagnostics.map(\.id) == ["config.retention-report-only"])
        #expect(implicit.diagnostics.first?.severity == .warning)
        #expect(implicit.config?.classes.first?.retention?.rowAction == RowAction.none)
        let explicit = InMemoryConfig(owner + "\n    retention: {max_age: 7d, row_action: none}\n").load()
        #expect(explicit.diagnostics.isEmpty, "\(explicit.diagnostics)")
    }

    @Test("an unset environment variable in serve.token warns and leaves no token")
    func unsetToken() {
        let result = InMemoryConfig(minimalConfig + "\nserve: {token: \"${MEDIA_JANITOR_TOKEN}\"}\n").load(environment: [:])
        #expect(result.config?.serve.token == nil)
        #expect(result.diagnostics.map(\.id) == ["config.env-unset"])
    }

    /// One malformed config per case: the file text, and the exact diagnostic line.
    static let malformed: [(String, String, String)] = [
        ("unknown retention policy with a did-you-mean",
         minimalConfig + "\n    retention:\n      max_agee: 7d\n      row_action: delete\n",
         "janitor.yml:10:7: error: unknown policy 'max_agee'; did you mean 'max_age'? [config.unknown-key]"),
        ("unknown top-level key",
         minimalConfig.replacingOccurrences(of: "database:", with: "databse:"),
         "janitor.yml:3:1: error: unknown key 'databse'; did you mean 'database'? [config.unknown-key]"),
        ("a misspelled safety limit is never ignored",
         minimalConfig + "\nsafety:\n  max_delete_fractoin: 0.1\n",
         "janitor.yml:10:3: error: unknown safety limit 'max_delete_fractoin'; did you mean 'max_delete_fraction'? [config.unknown-key]"),
        ("YAML syntax error",
         minimalConfig + "\n  bad: [unclosed\n",
         "janitor.yml:10:1: error: YAML syntax error: while parsing a flow sequence: did not find expected ',' or ']'; check indentation, quotes and ':' around here [config.yaml-syntax]"),
        ("bad duration",
         minimalConfig + "\ndefaults:\n  grace: 15mins\n",
         "janitor.yml:10:10: error: invalid duration '15mins' for 'defaults.grace'; write a number and a unit: 30s, 15m, 24h, 7d, 2w, or combined like 1d12h [config.duration]"),
        ("bad size",
         minimalConfig + "\nsafety:\n  max_delete_bytes: 50 gigs\n",
         "janitor.yml:10:21: error: invalid size '50 gigs' for 'safety.max_delete_bytes'; write a number and a unit: 512KB, 50MB, 10GB (powers of 1024) [config.size]"),
        ("unknown enum value",
         minimalConfig + "\n    on_replace: delete_olde\n",
         "janitor.yml:9:17: error: unknown value 'delete_olde' for 'on_replace'; did you mean 'delete_old'? [config.unknown-value]"),
        ("missing media_root",
         minimalConfig.replacingOccurrences(of: "media_root: media\n", with: ""),
         "janitor.yml:1:1: error: missing 'media_root'; add the directory that stored paths are relative to, e.g. 'media_root: media' [config.missing-key]"),
        ("unsupported version",
         minimalConfig.replacingOccurrences(of: "version: 1", with: "version: 2"),
         "janitor.yml:1:10: error: unsupported version 2; this media-janitor reads version 1 [config.version]"),
        ("a class with no references",
         minimalConfig.replacingOccurrences(of: "    references:\n      - {table: accounts_user, column: avatar, key: id}", with: "    on_delete: keep"),
         "janitor.yml:5:3: error: class 'avatars' has no 'references': every file would look unused; list every column that may hold a path of this class, e.g. '- {table: accounts_user, column: avatar, key: id}' [config.no-references]"),
        ("a reference without a table",
         minimalConfig.replacingOccurrences(of: "{table: accounts_user, column: avatar, key: id}", with: "{column: avatar, key: id}"),
         "janitor.yml:8:9: error: a reference needs 'table', e.g. '{table: accounts_user, column: avatar, key: id}' [config.missing-key]"),
        ("wrong type: a mapping where a list is expected",
         minimalConfig.replacingOccurrences(of: "    references:\n      - {table: accounts_user, column: avatar, key: id}", with: "    references: {table: accounts_user, column: avatar}"),
         "janitor.yml:7:17: error: 'references' must be a list, found a mapping [config.type]"),
        ("quarantine_dir inside media_root",
         minimalConfig + "\ndefaults:\n  quarantine_dir: media/.trash\n",
         "janitor.yml:10:19: error: quarantine_dir '/app/media/.trash' is inside media_root: quarantined files would stay downloadable; move it outside 'media' [config.quarantine-inside-media]"),
        ("state store inside media_root",
         minimalConfig.replacingOccurrences(of: "database: sqlite:app.sqlite3", with: "database: sqlite:app.sqlite3\nstate: media/janitor.sqlite3"),
         "janitor.yml:4:8: error: state store '/app/media/janitor.sqlite3' is inside media_root: it would be downloadable and audited as a file; move it outside 'media' [config.state-inside-media]"),
        ("max_delete_fraction out of range",
         minimalConfig + "\nsafety:\n  max_delete_fraction: 25\n",
         "janitor.yml:10:24: error: 'max_delete_fraction' must be greater than 0 and at most 1 (a share, e.g. 0.25), not 25 [config.invalid-value]"),
        ("unsupported database scheme",
         minimalConfig.replacingOccurrences(of: "sqlite:app.sqlite3", with: "mysql://root@db/app"),
         "janitor.yml:3:11: error: 'database': unsupported database scheme 'mysql'; use sqlite:PATH or postgres://user:password@host:port/database [config.database]"),
        ("PostgreSQL URL with a bad port, password hidden",
         minimalConfig.replacingOccurrences(of: "sqlite:app.sqlite3", with: "postgres://app:hunter2@db:54x/app"),
         "janitor.yml:3:11: error: 'database': malformed PostgreSQL URL 'postgres://app:***@db:54x/app': the port '54x' is not a number from 1 to 65535; the form is postgres://user:password@host:port/database?sslmode=require [config.database]"),
        ("invalid glob",
         minimalConfig.replacingOccurrences(of: "[\"avatars/**\"]", with: "[\"/avatars/**\"]"),
         "janitor.yml:6:13: error: invalid glob '/avatars/**' in 'paths': globs are relative to media_root; remove the leading '/' [config.glob]"),
        ("unknown derivative placeholder",
         minimalConfig + "\n    derivatives: [\"{dir}/thumbs/{stme}_*.jpg\"]\n",
         "janitor.yml:9:19: error: derivative pattern '{dir}/thumbs/{stme}_*.jpg': unknown placeholder '{stme}'; did you mean '{stem}'? [config.derivative]"),
        ("derivative pattern stepping out of its parent's directory",
         minimalConfig + "\n    derivatives: [\"{dir}/../thumbs/{stem}.jpg\"]\n",
         "janitor.yml:9:19: error: derivative pattern '{dir}/../thumbs/{stem}.jpg': a derivative pattern cannot step with '..': derivatives live in or below their parent's directory; name the directory instead [config.derivative]"),
        ("duplicate key",
         minimalConfig.replacingOccurrences(of: "media_root: media\n", with: "media_root: media\nmedia_root: other\n"),
         "janitor.yml:3:1: error: duplicate key 'media_root' (first on line 2); keep one [config.duplicate-key]"),
        ("a policy that needs a column the references lack",
         minimalConfig + "\n    retention: {keep_latest_per_owner: 1, row_action: delete}\n",
         "janitor.yml:9:17: error: 'keep_latest_per_owner' in class 'avatars' needs a reference with an 'owner' column [config.policy-needs-column]"),
        ("a table name that is not an identifier",
         minimalConfig.replacingOccurrences(of: "table: accounts_user", with: "table: \"users; DROP TABLE x\""),
         "janitor.yml:8:17: error: 'table' must be a table or column name (letters, digits, '_', optionally 'schema.table'), not 'users; DROP TABLE x' [config.identifier]"),
        ("set_null on a class whose references hold no path column",
         minimalConfig.replacingOccurrences(of: "column: avatar, ", with: "").replacingOccurrences(of: "    paths: [\"avatars/**\"]\n", with: "")
            + "\n    retention: {max_age: 1d, row_action: set_null}\n",
         "janitor.yml:8:42: error: 'row_action: set_null' in class 'avatars' needs a reference with a 'column' to set NULL; use 'delete' or 'archive' for rows without files [config.policy-needs-column]"),
        ("unknown row action",
         minimalConfig + "\n    retention: {max_age: 1d, row_action: archve}\n",
         "janitor.yml:9:42: error: unknown row action 'archve'; did you mean 'archive'? [config.unknown-value]"),
    ]

    @Test("a malformed config gives one compiler-style diagnostic with line and column", arguments: 0..<malformed.count)
    func malformedConfig(_ index: Int) {
        let (name, text, expected) = Self.malformed[index]
        let result = InMemoryConfig(text).load()
        #expect(result.config == nil, "\(name): loaded anyway")
        #expect(result.diagnostics.map(\.description) == [expected], "\(name)")
    }

    @Test("several mistakes are all reported in one run")
    func severalMistakes() {
        let text = minimalConfig.replacingOccurrences(of: "version: 1", with: "version: 1\nmedai_root: x") + "\n    on_delete: delet\n"
        let result = InMemoryConfig(text).load()
        #expect(result.diagnostics.map(\.id) == ["config.unknown-key", "config.unknown-value"])
    }

    @Test("an unreadable config says how to point at another one")
    func unreadable() {
        let result = ConfigLoader(files: ConfigFiles(read: { _ in throw InMemoryConfig.Missing(path: "x") }, glob: { _, _ in [] }))
            .load(path: "janitor.yml", currentDirectory: "/nowhere")
        #expect(result.diagnostics.map(\.description) == [
            "janitor.yml:1:1: error: cannot read the config file: no such file 'x'; pass --config PATH or set MEDIA_JANITOR_CONFIG [config.unreadable]"
        ])
    }
}

let designExampleText = """
    version: 1
    media_root: media                    # relative to this file; stored paths are relative to it
    database: sqlite:app.sqlite3
    state: .janitor/state.sqlite3

    defaults:
      grace: 15m
      delay: 0s
      quarantine: 7d
      quarantine_dir: .janitor/quarantine
      max_attempts: 5
      batch_size: 100

    safety:
      max_delete_fraction: 0.25
      max_delete_bytes: 50GB
      refuse_empty_references: true

    classes:
      profile_pictures:
        paths: ["profile_pics/**"]
        exclude: ["profile_pics/default.png"]
        references:
          - {table: accounts_user, column: profile_pic, key: id}
        on_replace: delete_old
        on_delete: delete
        derivatives: ["{dir}/thumbs/{stem}_*.{ext}", "{dir}/{stem}.webp"]

      chat_media:
        paths: ["chat_media/images/**", "chat_media/videos/**"]
        references:
          - {table: chat_message, column: image, key: id, created: timestamp, owner: sender_id}
          - {table: chat_message, column: video, key: id, created: timestamp, owner: sender_id}
        retention:
          max_age: 24h
          max_age_per_owner: {table: accounts_userprofile, key: user_id, column: message_deletion_hours, unit: hours}
          row_action: delete

      committee_chat:
        references:
          - {table: src_chatmessage, key: id, created: created_at, group: committee_id, size: "length(message) + 200"}
        retention:
          max_age: 90d
          max_count_per_group: 1000
          max_total_size: 50MB
          row_action: delete

      qr_codes:
        paths: ["qr_codes/**"]
        references: [{table: core_attendanceqr, column: image, key: id, created: created_at, owner: user_id}]
        retention: {max_age: 7d, keep_latest_per_owner: 1}

    serve:
      listen: 127.0.0.1:8787
      token: ${MEDIA_JANITOR_TOKEN}
      max_body: 1MB
    schedule: {retention: 1h, audit: 30d, quarantine_purge: 1d}
    """
