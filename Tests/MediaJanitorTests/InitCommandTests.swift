import Foundation
import Testing

/// `init` run as a real process: the config it writes passes `check`, and a scan with it finds
/// what a hand-written config finds; it refuses what it cannot do without writing anything.
@Suite("init")
struct InitCommandTests {
    /// The `database:` value of the sample for a backend, as `--database` takes it.
    func sampleDatabase(_ backend: AppBackend) throws -> String {
        switch backend {
        case .sqlite: return "sqlite:out/app.sqlite3"
        case .postgres:
            _ = try Sample.config(.postgres)
            let config = try String(contentsOfFile: Sample.directory + "/janitor-pg.yml", encoding: .utf8)
            let line = try #require(config.split(separator: "\n").first { $0.hasPrefix("database: ") })
            return String(line.dropFirst("database: ".count))
        }
    }

    func summary(_ outcome: Janitor.Outcome) throws -> [String: Int] {
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return try #require(try json(outcome.stdout)["summary"] as? [String: Int])
    }

    func findings(_ outcome: Janitor.Outcome) throws -> Set<String> {
        let all = try json(outcome.stdout)["findings"] as? [[String: Any]] ?? []
        return Set(all.map { "\($0["kind"]!) \(($0["path"] ?? $0["value"])!)" })
    }

    @Test("on the sample app: check passes unchanged, and the scan finds exactly what the hand-written config finds", arguments: AppBackend.allCases)
    func sample(_ backend: AppBackend) throws {
        let scratch = Scratch()
        try Sample.copy(to: scratch.path)
        let database = try sampleDatabase(backend)
        let written = try Janitor.run(["init", "--database", database, "--media-root", "out/media", "--output", "generated.yml"], in: scratch.path)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stderr.isEmpty)
        #expect(written.stdout == """
            wrote generated.yml: 6 classes (profile_pics, signatures, receipts, chat_media, qr_codes, forum_images) from 7 columns (accounts_user.profile_pic, accounts_user.signature, billing_receipt.file, chat_message.image, chat_message.video, core_attendanceqr.image, forum_post.image)
            3 directories that no class claims are listed at its end
            Review it, then run:
              media-janitor check --config generated.yml
              media-janitor scan --config generated.yml

            """)
        let text = try String(contentsOfFile: scratch.path + "/generated.yml", encoding: .utf8)
        #expect(text.contains("\nmedia_root: out/media\n"))
        #expect(!text.contains(scratch.path), "no absolute path of this machine in the file")
        #expect(text.contains("    exclude: [\"profile_pics/default.png\"]"))
        #expect(text.contains("      - \"{dir}/thumbs/{stem}_*.{ext}\""))
        #expect(text.contains("    paths: [\"chat_media/images/**\", \"chat_media/videos/**\"]"))

        let check = try Janitor.run(["check", "--config", "generated.yml"], in: scratch.path)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let generated = try Janitor.run(["scan", "--config", "generated.yml", "--no-record", "--format", "json"], in: scratch.path)
        let handWritten = try Janitor.run(["scan"] + Sample.config(backend) + ["--no-record", "--format", "json"], in: Sample.directory)
        #expect(try summary(generated) == summary(handWritten))
        #expect(try summary(generated)["orphans"] == 45)
        #expect(try findings(generated) == findings(handWritten))
    }

    @Test("on a forum app: avatars with their signatures and thumbnails, and forum images; the scan counts equal the hand-written config's", arguments: AppBackend.allCases)
    func forum(_ backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        var rows: [String] = []
        for user in 1...12 {
            app.file("avatars/u\(user).jpg")
            app.file("avatars/thumbs/u\(user)_64x64.jpg")
            let signature = user <= 4 ? "'avatars/sig\(user).png'" : "NULL"
            if user <= 4 { app.file("avatars/sig\(user).png") }
            rows.append("INSERT INTO accounts_user VALUES (\(user), 'avatars/u\(user).jpg', \(signature));")
        }
        for post in 1...10 {
            app.file("forum/2024/p\(post).png")
            rows.append("INSERT INTO forum_post VALUES (\(post), 'forum/2024/p\(post).png');")
        }
        rows.append("INSERT INTO forum_post VALUES (11, 'forum/2024/missing.png');")
        for orphan in ["avatars/old1.jpg", "avatars/thumbs/old1_64x64.jpg", "avatars/old2.jpg", "forum/2023/gone.png", "forum/2024/gone.png"] {
            app.file(orphan)
        }
        try app.sql(rows.joined(separator: "\n"))

        let written = try app.run(["init", "--database", app.db.configValue, "--media-root", "media", "--output", "generated.yml"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.hasPrefix("wrote generated.yml: 2 classes (avatars, forum) from 3 columns (accounts_user.avatar, accounts_user.signature, forum_post.image)\n"))
        let text = try String(contentsOfFile: app.path + "/generated.yml", encoding: .utf8)
        #expect(text.contains("""
              avatars:
                paths: ["avatars/**"]
                references:
                  - {table: accounts_user, column: avatar, key: id}
                  - {table: accounts_user, column: signature, key: id}
                derivatives:  # files named after a referenced file, which go with it
                  - "{dir}/thumbs/{stem}_*.{ext}"  # 12 files named after a sampled path
            """))
        #expect(try app.run(["check", "--config", "generated.yml"]).status == 0)
        let generated = try app.run(["scan", "--config", "generated.yml", "--no-record", "--format", "json"])
        let handWritten = try app.run(["scan", "--no-record", "--format", "json"])
        #expect(try summary(generated)["orphans"] == 5)
        #expect(try summary(generated)["missing"] == 1)
        #expect(try summary(generated) == summary(handWritten))
        #expect(try findings(generated) == findings(handWritten))

        // `--output -` prints the config and leaves the summary to standard error.
        let printed = try app.run(["init", "--database", app.db.configValue, "--media-root", "media", "--output", "-"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout == text)
        #expect(printed.stderr.hasPrefix("printed to standard output: 2 classes (avatars, forum)"))
    }

    @Test("an existing file is left unchanged without --force (exit 2) and replaced with it")
    func existing() throws {
        let app = try ForumApp()
        app.file("avatars/u1.jpg")
        try app.sql("INSERT INTO accounts_user VALUES (1, 'avatars/u1.jpg', NULL)")
        let before = try String(contentsOfFile: app.path + "/janitor.yml", encoding: .utf8)
        let refused = try app.run(["init", "--database", app.db.configValue, "--media-root", "media"])
        #expect(refused.status == 2)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr == "error: 'janitor.yml' already exists and was left unchanged; pass --force to replace it, or --output to write elsewhere\n")
        #expect(try String(contentsOfFile: app.path + "/janitor.yml", encoding: .utf8) == before)

        let forced = try app.run(["init", "--database", app.db.configValue, "--media-root", "media", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.hasSuffix("Review it, then run:\n  media-janitor check\n  media-janitor scan\n"))
        let after = try String(contentsOfFile: app.path + "/janitor.yml", encoding: .utf8)
        #expect(after.hasPrefix("# janitor.yml: a starter config written by 'media-janitor init'."))
        #expect(try app.run(["check"]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: app.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a database with no media column: exit 2, what was inspected and what to check, and no file", arguments: AppBackend.allCases)
    func noMediaColumns(_ backend: AppBackend) throws {
        let scratch = Scratch()
        let db = try AppDB(backend, directory: scratch.path)
        try db.sql("""
            CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, username TEXT, email TEXT, age INTEGER);
            CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);
            INSERT INTO accounts_user VALUES (1, 'ann', 'ann@example.com', 30);
            INSERT INTO note VALUES (1, 'see the photo.jpg I sent');
            """)
        scratch.write("media/avatars/a.jpg", "x")
        let outcome = try Janitor.run(["init", "--database", db.configValue, "--media-root", "media"], in: scratch.path)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        let location = backend == .sqlite ? "sqlite:\(scratch.path)/app.sqlite3" : db.configValue
        #expect(outcome.stderr == """
            error: no column of \(location) looks like it holds media paths, so no file was written: inspected 2 tables and 3 text columns (up to 1,000 values each) against 1 entry under 'media'. A media column holds paths relative to the media root, such as 'avatars/a.jpg', of files that exist there; check that --media-root is the directory those paths start from and that --database is the app's database

            """)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/janitor.yml"))
    }

    @Test("paths of files that are not under the given media root are named as the closest columns")
    func wrongMediaRoot() throws {
        let scratch = Scratch()
        let db = try AppDB(.sqlite, directory: scratch.path)
        try db.sql("CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, avatar TEXT); INSERT INTO accounts_user VALUES (1, 'avatars/a.jpg'), (2, 'avatars/b.jpg');")
        scratch.write("media/avatars/a.jpg", "x")
        scratch.write("elsewhere/readme.txt", "x")
        let outcome = try Janitor.run(["init", "--database", "app.sqlite3", "--media-root", "elsewhere"], in: scratch.path)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasSuffix("; closest: accounts_user.avatar: 2 of 2 values look like paths, 0 exist under the media root\n"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/janitor.yml"))
    }

    @Test("a database or media root that cannot be used is a clear error, and nothing is written")
    func badArguments() throws {
        let scratch = Scratch()
        let db = try AppDB(.sqlite, directory: scratch.path)
        try db.sql("CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, avatar TEXT)")
        scratch.write("media/a.jpg", "x")
        let cases: [([String], Int32, String)] = [
            (["--database", "mysql://app@db/app", "--media-root", "media"], 2,
             "error: --database: unsupported database scheme 'mysql'; use sqlite:PATH or postgres://user:password@host:port/database\n"),
            (["--database", "postgres://db/app", "--media-root", "media"], 2,
             "error: --database: malformed PostgreSQL URL 'postgres://db/app': no user: write user@host; the form is postgres://user:password@host:port/database?sslmode=require\n"),
            (["--database", "sqlite:nothere.sqlite3", "--media-root", "media"], 2,
             "error: the app database 'sqlite:\(scratch.path)/nothere.sqlite3' does not exist; check --database (sqlite:PATH, or postgres://user:password@host:port/database)\n"),
            (["--database", "sqlite:app.sqlite3", "--media-root", "nomedia"], 2,
             "error: --media-root 'nomedia' does not exist; give the directory the stored paths are relative to\n"),
            (["--database", "sqlite:app.sqlite3", "--media-root", "media/a.jpg"], 2,
             "error: --media-root 'media/a.jpg' is not a directory (a symlink is not followed); give the real directory the stored paths are relative to\n"),
            (["--database", "sqlite:app.sqlite3", "--media-root", "media", "--output", "media/janitor.yml"], 2,
             "error: --output 'media/janitor.yml' is inside the media root: the janitor's state and quarantine beside it would be served and audited as media; write it elsewhere\n"),
            (["--database", "sqlite:app.sqlite3", "--media-root", "media", "--output", "app.sqlite3", "--force"], 2,
             "error: --output 'app.sqlite3' is the app database; name another file\n"),
            (["--database", "sqlite:app.sqlite3", "--media-root", "media", "--sample-size", "0"], 2,
             "error: --sample-size must be at least 1\n"),
        ]
        for (arguments, status, message) in cases {
            let outcome = try Janitor.run(["init"] + arguments, in: scratch.path)
            #expect(outcome.status == status, "\(arguments)")
            #expect(outcome.stderr == message, "\(arguments)")
            #expect(outcome.stdout.isEmpty)
        }
        // A server that does not answer is the world, not the configuration: exit 3.
        let unreachable = try Janitor.run(["init", "--database", "postgres://app:secret@127.0.0.1:1/app", "--media-root", "media"], in: scratch.path)
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.hasPrefix("error: cannot read the app database 'postgres://app:***@127.0.0.1:1/app': "))
        #expect(!unreachable.stderr.contains("secret"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["app.sqlite3", "media"])
    }
}
