import Foundation
import Testing

@Suite("clean")
struct CleanCommandTests {
    /// 10 files in the forum, `orphans` of them unreferenced.
    func app(orphans: Int, backend: AppBackend) throws -> ForumApp {
        let app = try ForumApp(backend: backend)
        for i in 1...10 {
            app.file("forum/f\(i).jpg")
            if i > orphans { try app.sql("INSERT INTO forum_post VALUES (\(i), 'forum/f\(i).jpg')") }
        }
        app.file("avatars/me.jpg")
        try app.sql("INSERT INTO accounts_user VALUES (1, 'avatars/me.jpg', NULL)")
        return app
    }

    @Test("--dry-run prints the plan in every format and changes nothing", arguments: AppBackend.allCases)
    func dryRun(backend: AppBackend) throws {
        let app = try app(orphans: 3, backend: backend)
        let plan = try json(try app.ok(["clean", "--dry-run", "--format", "json"]))
        let paths = (plan["findings"] as? [[String: Any]])?.compactMap { $0["path"] as? String }
        #expect(paths == ["forum/f1.jpg", "forum/f2.jpg", "forum/f3.jpg"])
        for format in ["text", "ndjson", "markdown", "junit"] {
            #expect(try app.run(["clean", "--dry-run", "--format", format]).status == 0)
        }
        for i in 1...10 { #expect(app.exists("forum/f\(i).jpg")) }
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
        #expect(app.quarantined().isEmpty)
    }

    @Test("clean removes orphans past grace through the queue and quarantine, and nothing referenced", arguments: AppBackend.allCases)
    func removes(backend: AppBackend) throws {
        let app = try app(orphans: 3, backend: backend)
        app.file("forum/new-upload.jpg")
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: app.media + "/forum/new-upload.jpg")
        #expect(try app.ok(["clean"]).hasPrefix("3 quarantined"))
        for i in 1...3 { #expect(!app.exists("forum/f\(i).jpg")) }
        for i in 4...10 { #expect(app.exists("forum/f\(i).jpg")) }
        #expect(app.exists("forum/new-upload.jpg"), "inside grace")
        #expect(app.exists("avatars/me.jpg"))
        let removals = try json(try app.ok(["quarantine", "list", "--format", "json"]))["removals"] as? [[String: Any]]
        #expect(removals?.allSatisfy { $0["source"] as? String == "clean" && $0["reason"] as? String == "orphan" } == true)
    }

    @Test("a sweep above max_delete_fraction stops with exit 4 and removes nothing, unless --force", arguments: AppBackend.allCases)
    func circuitBreaker(backend: AppBackend) throws {
        let app = try app(orphans: 6, backend: backend)
        let stopped = try app.run(["clean"])
        #expect(stopped.status == 4)
        #expect(stopped.stderr == """
            error: class 'forum_images': 6 of 10 files (60%) would be removed, more than safety.max_delete_fraction (50%)
            error: the sweep was stopped by the safety limits and removed nothing; check with 'clean --dry-run', then raise the limit in 'safety' or pass --force

            """)
        for i in 1...10 { #expect(app.exists("forum/f\(i).jpg")) }
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
        let dry = try app.run(["clean", "--dry-run", "--output", "/dev/null"])
        #expect(dry.status == 0)
        #expect(dry.stderr.contains("a real run stops here (exit 4) unless --force"))
        #expect(try app.ok(["clean", "--force"]).hasPrefix("6 quarantined"))
    }

    @Test("a class whose references are all empty is never swept", arguments: AppBackend.allCases)
    func emptyReferences(backend: AppBackend) throws {
        let app = try app(orphans: 0, backend: backend)
        try app.sql("DELETE FROM accounts_user")
        app.file("avatars/other.jpg")
        let stopped = try app.run(["clean", "--class", "avatars"])
        #expect(stopped.status == 4)
        #expect(stopped.stderr.contains("class 'avatars': no row references any file, so every file looks unused (safety.refuse_empty_references)"))
        #expect(app.exists("avatars/me.jpg"))
    }

    @Test("max_delete_bytes limits the whole sweep", arguments: AppBackend.allCases)
    func byteLimit(backend: AppBackend) throws {
        let app = try ForumApp(extraConfig: "", backend: backend)
        try app.sql("INSERT INTO forum_post VALUES (100, 'forum/keep.jpg')")
        app.file("forum/keep.jpg")
        app.file("forum/big.jpg", content: String(repeating: "x", count: 4096))
        let config = try String(contentsOfFile: app.path + "/janitor.yml", encoding: .utf8)
            .replacingOccurrences(of: "max_delete_fraction: 0.5", with: "max_delete_fraction: 0.5\n  max_delete_bytes: 1KB")
        try config.write(toFile: app.path + "/janitor.yml", atomically: true, encoding: .utf8)
        let stopped = try app.run(["clean"])
        #expect(stopped.status == 4)
        #expect(stopped.stderr.contains("error: 4096 bytes would be removed, more than safety.max_delete_bytes (1024 bytes)"))
        #expect(app.exists("forum/big.jpg"))
    }

    @Test("an orphan whose name is not UTF-8 is left, exit 3 names it, and its repaired name never stands for another file", arguments: AppBackend.allCases)
    func nameNotUTF8(backend: AppBackend) throws {
        let app = try app(orphans: 1, backend: backend)
        // "café.jpg" in Latin-1 ("é" is the single byte 0xE9), an orphan past grace; beside it a
        // new upload inside grace whose name really is "caf\u{FFFD}.jpg": the Latin-1 name as
        // repaired for display. Queuing the repaired name would remove the new upload.
        let latin1 = Array((app.media + "/forum/caf").utf8) + [0xE9] + Array(".jpg".utf8) + [0]
        let written = latin1.withUnsafeBufferPointer { path in
            path.withMemoryRebound(to: CChar.self) { path -> Bool in
                let fd = open(path.baseAddress!, O_CREAT | O_WRONLY | O_EXCL, 0o644)
                guard fd >= 0 else { return false }
                defer { close(fd) }
                let past = timespec(tv_sec: 1_700_000_000, tv_nsec: 0)
                return write(fd, "old", 3) == 3 && futimens(fd, [past, past]) == 0
            }
        }
        #expect(written)
        func latin1Exists() -> Bool { latin1.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { access($0.baseAddress!, F_OK) == 0 } } }
        app.file("forum/caf\u{FFFD}.jpg", content: "new upload")
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: app.media + "/forum/caf\u{FFFD}.jpg")

        let scan = try json(try app.run(["scan", "--format", "json"]).stdout)
        let orphans = (scan["findings"] as? [[String: Any]])?.filter { $0["kind"] as? String == "orphan" }
        #expect(orphans?.compactMap { $0["path"] as? String } == ["forum/caf\u{FFFD}.jpg", "forum/f1.jpg"])
        #expect((orphans?.first?["reason"] as? String)?.contains("not valid UTF-8") == true)
        #expect(orphans?.last?["reason"] == nil)

        let message = "error: 1 orphan was left in place because its name is not valid UTF-8 (first, shown with U+FFFD: 'forum/caf\u{FFFD}.jpg'); "
            + "the janitor cannot name such a file to remove it: rename it to UTF-8 (for example with 'convmv') or remove it by hand\n"
        let dry = try app.run(["clean", "--dry-run", "--format", "json"])
        #expect(dry.status == 3)
        #expect(dry.stderr == message)
        #expect((try json(dry.stdout)["findings"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["forum/f1.jpg"])

        let clean = try app.run(["clean"])
        #expect(clean.status == 3)
        #expect(clean.stderr == message)
        #expect(clean.stdout.hasPrefix("1 quarantined, 0 removed"))
        #expect(!app.exists("forum/f1.jpg"))
        #expect(latin1Exists(), "left for the operator")
        #expect(try String(contentsOfFile: app.media + "/forum/caf\u{FFFD}.jpg", encoding: .utf8) == "new upload")
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
        #expect(app.quarantined().count == 1)
    }
}
