import Foundation
import GRDB
import Testing

/// A tiny app: one class, one table, a media root, written into a scratch directory.
struct TinyApp {
    let scratch = Scratch()
    var path: String { scratch.path }

    init(config: String? = nil) throws {
        scratch.write("janitor.yml", config ?? Self.config)
        scratch.write("media/avatars/used.jpg", "x")
        let queue = try DatabaseQueue(path: scratch.path + "/app.sqlite3")
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, avatar TEXT); INSERT INTO accounts_user VALUES (1, 'avatars/used.jpg')")
        }
    }

    static let config = """
        version: 1
        media_root: media
        database: sqlite:app.sqlite3
        classes:
          avatars:
            paths: ["avatars/**"]
            references:
              - {table: accounts_user, column: avatar, key: id}
        """
}

@Suite("Exit codes and error messages")
struct CommandErrorTests {
    @Test("a clean world exits 0 with --fail-on any")
    func clean() throws {
        let app = try TinyApp()
        let outcome = try Janitor.run(["scan", "--fail-on", "any", "--format", "json"], in: app.path)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try json(outcome.stdout)["findings"] as? [Any] != nil)
    }

    @Test("a malformed config exits 2 with compiler-style diagnostics on stderr")
    func badConfig() throws {
        let app = try TinyApp(config: TinyApp.config + "\n    retention: {max_agee: 7d, row_action: delete}\n")
        let outcome = try Janitor.run(["scan"], in: app.path)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr == """
            janitor.yml:9:17: error: unknown policy 'max_agee'; did you mean 'max_age'? [config.unknown-key]
            error: janitor.yml: 1 error in the config; fix it and run 'media-janitor check'

            """)
    }

    @Test("a missing config names --config and MEDIA_JANITOR_CONFIG")
    func missingConfig() throws {
        let scratch = Scratch()
        let outcome = try Janitor.run(["scan"], in: scratch.path)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("janitor.yml:1:1: error: cannot read the config file: "))
        #expect(outcome.stderr.contains("pass --config PATH or set MEDIA_JANITOR_CONFIG [config.unreadable]"))
        let app = try TinyApp()
        let viaEnvironment = try Janitor.run(["check"], in: scratch.path, environment: ["MEDIA_JANITOR_CONFIG": app.path + "/janitor.yml"])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
    }

    @Test("a media_root that does not exist exits 2")
    func missingMediaRoot() throws {
        let app = try TinyApp(config: TinyApp.config.replacingOccurrences(of: "media_root: media", with: "media_root: medai"))
        let outcome = try Janitor.run(["scan"], in: app.path)
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: media_root '\(app.path)/medai' cannot be used: No such file or directory; check 'media_root' in the config (it is relative to the config file)\n")
    }

    @Test("a missing SQLite file exits 2; a missing column exits 2 listing the columns")
    func missingDatabaseParts() throws {
        let app = try TinyApp(config: TinyApp.config.replacingOccurrences(of: "sqlite:app.sqlite3", with: "sqlite:ap.sqlite3"))
        let missingFile = try Janitor.run(["scan"], in: app.path)
        #expect(missingFile.status == 2)
        #expect(missingFile.stderr == "error: the app database 'sqlite:\(app.path)/ap.sqlite3' does not exist; check 'database' in the config (relative paths are relative to the config file)\n")

        let column = try TinyApp(config: TinyApp.config.replacingOccurrences(of: "column: avatar", with: "column: avatr"))
        let missingColumn = try Janitor.run(["scan"], in: column.path)
        #expect(missingColumn.status == 2)
        #expect(missingColumn.stderr == """
            janitor.yml:8:9: error: table 'accounts_user' has no column 'avatr' (column); did you mean 'avatar'? columns are: id, avatar [world.missing-column]
            error: 1 configured table or column missing from the app database; fix the config or the database, then run 'media-janitor check'

            """)
    }

    @Test("a corrupt app database is a runtime error, exit 3")
    func corruptDatabase() throws {
        let app = try TinyApp()
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: app.path + "/app.sqlite3"))
        let outcome = try Janitor.run(["scan"], in: app.path)
        #expect(outcome.status == 3)
        #expect(outcome.stderr.hasPrefix("error: cannot read the app database 'sqlite:\(app.path)/app.sqlite3': "))
    }

    @Test("a PostgreSQL server that does not answer is a runtime error, exit 3, naming host, port and database, never the password")
    func postgresUnreachable() throws {
        // A loopback port nothing listens on: bound, then released.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(probe)
        let app = try TinyApp(config: TinyApp.config.replacingOccurrences(of: "sqlite:app.sqlite3", with: "postgres://app:secret@127.0.0.1:\(port)/app"))
        for command in [["scan"], ["check"], ["hooks", "status"]] {
            let outcome = try Janitor.run(command, in: app.path)
            #expect(outcome.status == (command == ["check"] ? 2 : 3), "\(command): \(outcome.stderr)")
            let text = outcome.stdout + outcome.stderr
            #expect(!text.contains("secret"))
            #expect(text.contains("postgres://app:***@127.0.0.1:\(port)/app"), "\(text)")
            #expect(text.contains("check that the server runs and accepts TCP connections on 127.0.0.1:\(port)"), "\(text)")
        }
    }

    @Test("an unknown format or flag is a usage error, exit 2")
    func usageErrors() throws {
        let app = try TinyApp()
        let format = try Janitor.run(["scan", "--format", "xml"], in: app.path)
        #expect(format.status == 2)
        #expect(format.stderr.hasPrefix("Error: The value 'xml' is invalid for '--format <format>'"))
        #expect(try Janitor.run(["scan", "--fail-on", "everything"], in: app.path).status == 2)
        #expect(try Janitor.run(["sweep"], in: app.path).status == 2)
    }

    @Test("a class whose columns hold no path warns (every file would look unused); --quiet silences it, --verbose adds timings")
    func emptyReferences() throws {
        let app = try TinyApp()
        try DatabaseQueue(path: app.path + "/app.sqlite3").write { try $0.execute(sql: "UPDATE accounts_user SET avatar = NULL") }
        let warning = "warning: no row of class 'avatars' references a file (accounts_user.avatar); every file of the class looks unused — check the reference columns. A sweep of this class is refused while this holds.\n"
        let plain = try Janitor.run(["scan", "--no-record", "--output", "/dev/null"], in: app.path)
        #expect(plain.stderr == warning)
        let quiet = try Janitor.run(["scan", "--no-record", "--quiet", "--output", "/dev/null"], in: app.path)
        #expect(quiet.stderr.isEmpty)
        let verbose = try Janitor.run(["scan", "--no-record", "--verbose", "--output", "/dev/null"], in: app.path)
        #expect(verbose.stderr.contains("walk.entries=1"))
        #expect(verbose.stderr.contains("references.rows=0"))
    }

    @Test("the top-level help is exactly as documented")
    func help() throws {
        let outcome = try Janitor.run(["--help"], in: FileManager.default.temporaryDirectory.path)
        #expect(outcome.status == 0)
        let expected = Janitor.repository.appendingPathComponent("Tests/MediaJanitorTests/Expected/help.txt").path
        if ProcessInfo.processInfo.environment["RECORD"] == "1" {
            try outcome.stdout.write(toFile: expected, atomically: true, encoding: .utf8)
        }
        #expect(outcome.stdout == (try String(contentsOfFile: expected, encoding: .utf8)))
    }
}

@Suite("check and explain")
struct CheckExplainTests {
    @Test("check passes on the sample and states the facts")
    func checkSample() throws {
        let outcome = try Janitor.run(["check", "--format", "json"], in: Sample.directory)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try json(outcome.stdout)
        #expect(report["ok"] as? Bool == true)
        let facts = try #require(report["facts"] as? [String])
        #expect(facts.contains("config: 7 classes, 8 references"))
        #expect(facts.contains("hooks: not installed"))
        #expect(facts.contains { $0.hasPrefix("quarantine: ") && $0.hasSuffix("(same file system: rename)") })
    }

    @Test("check reports every problem at once and exits 2; --require-hooks makes missing hooks an error")
    func checkProblems() throws {
        let app = try TinyApp(config: TinyApp.config.replacingOccurrences(of: "column: avatar", with: "column: avatr"))
        let outcome = try Janitor.run(["check"], in: app.path)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.contains("janitor.yml:8:9: error: table 'accounts_user' has no column 'avatr' (column); did you mean 'avatar'? columns are: id, avatar [world.missing-column]"))
        let good = try TinyApp()
        #expect(try Janitor.run(["check"], in: good.path).status == 0)
        let hooks = try Janitor.run(["check", "--require-hooks"], in: good.path)
        #expect(hooks.status == 2)
        #expect(hooks.stdout.contains("database hooks are not installed"))
    }

    @Test("explain says why an orphan would go and why a shared file, a derivative and an excluded file stay")
    func explain() throws {
        let orphan = try Janitor.run(["explain", "receipts/r000351-22c2.pdf"], in: Sample.directory)
        #expect(orphan.status == 0)
        #expect(orphan.stdout.contains("class:    receipts"))
        #expect(orphan.stdout.contains("verdict:  orphan: a sweep would remove it (unreferenced, older than grace 15m)"))

        let shared = try json(try Janitor.run(["explain", "--format", "json", "profile_pics/u0010-5e5f.jpg"], in: Sample.directory).stdout)
        #expect((shared["referenced_by"] as? [[String: String]])?.map { $0["key"]! } == ["10", "11"])
        #expect(shared["would_remove"] as? Bool == false)

        let thumb = try Janitor.run(["explain", "profile_pics/thumbs/u0010-5e5f_64x64.jpg"], in: Sample.directory)
        #expect(thumb.stdout.contains("verdict:  kept: a derivative of 'profile_pics/u0010-5e5f.jpg', which is referenced"))

        let excluded = try Janitor.run(["explain", "profile_pics/default.png"], in: Sample.directory)
        #expect(excluded.stdout.contains("verdict:  kept: excluded by profile_pictures exclude 'profile_pics/default.png'"))

        let link = try Janitor.run(["explain", "profile_pics/avatar-link.jpg"], in: Sample.directory)
        #expect(link.stdout.contains("verdict:  kept: only regular files are ever removed (symlink (never followed))"))
    }

    @Test("explain refuses a path that leaves the media root, exit 2")
    func explainEscape() throws {
        let outcome = try Janitor.run(["explain", "../../etc/passwd"], in: Sample.directory)
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: path '../../etc/passwd' refused: escapes media_root; give a path relative to media_root ('out/media') with no '..'\n")
    }
}
