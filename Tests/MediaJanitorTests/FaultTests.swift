import Foundation
import Testing

/// The world failing under the janitor: a read-only or unreadable media root, a full
/// quarantine, the app's database locked or gone mid-scan, a damaged store. Each ends with a
/// message that says what happened and what to do, exit 3, and every file and queue item where
/// it was or where it should be.
@Suite("Faults: clear error, exit 3, nothing lost", .timeLimit(.minutes(3)))
struct FaultTests {
    /// An app with `count` unreferenced forum files of `bytes` each, queued for removal.
    func queuedApp(count: Int = 3, bytes: Int = 64, quarantine: String = "7d") throws -> (ForumApp, [String: String]) {
        let app = try ForumApp(quarantine: quarantine)
        let contents = try app.queueDeleted((1...count).map { i in ("forum/t\(i)/f\(i).jpg", String(String(repeating: "\(i)", count: bytes).prefix(bytes))) })
        return (app, contents)
    }

    /// Every file is either untouched in the media root and still queued, or in the quarantine
    /// (byte-identical, recorded once) and done; nothing half-copied is left behind.
    func expectNothingLost(_ app: ForumApp, _ contents: [String: String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let removals = try #require(try json(try app.ok(["quarantine", "list", "--all", "--format", "json"]))["removals"] as? [[String: Any]])
        let removed = Dictionary(uniqueKeysWithValues: removals.map { ($0["path"] as! String, $0["quarantine_path"] as? String) })
        #expect(removed.count == removals.count, "a file recorded twice", sourceLocation: sourceLocation)
        for (path, content) in contents {
            if let stored = removed[path] {
                #expect(!app.exists(path), "\(path) recorded as removed but still there", sourceLocation: sourceLocation)
                #expect(try String(contentsOfFile: try #require(stored), encoding: .utf8) == content, sourceLocation: sourceLocation)
            } else {
                #expect(try String(contentsOfFile: app.media + "/" + path, encoding: .utf8) == content, "\(path) changed or lost", sourceLocation: sourceLocation)
            }
        }
        #expect(app.quarantined().count == removed.count, "\(app.quarantined())", sourceLocation: sourceLocation)
        #expect(!app.quarantined().contains { $0.hasSuffix(".partial") }, sourceLocation: sourceLocation)
        let stats = try app.queueStats()
        #expect(stats["total_pending"] as? Int == contents.count - removed.count, sourceLocation: sourceLocation)
        #expect(stats["dead"] as? Int == 0, sourceLocation: sourceLocation)
    }

    @Test("media root on a read-only mount: the run stops at the first file, exit 3, every file and item kept", .enabled(if: Mounts.allowed), arguments: ["7d", "0"])
    func readOnlyMediaRoot(quarantine: String) throws {
        let (app, contents) = try queuedApp(quarantine: quarantine)
        try Mounts.bindReadOnly(app.media)
        defer { Mounts.unmount(app.media) }
        let run = try app.run(["queue", "run"])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("0 quarantined, 0 removed, 0 B freed, 1 failed, will retry"), "\(run.stdout)")
        #expect(run.stderr.contains("error: the run stopped at 'forum/t1/f1.jpg': "), "\(run.stderr)")
        #expect(run.stderr.contains("Read-only file system; the file system is mounted read-only: remount it read-write, then run 'media-janitor queue run'"), "\(run.stderr)")
        try expectNothingLost(app, contents)
        // Only the file that met the failure counts an attempt: the others were not tried.
        let items = try #require(try json(try app.ok(["queue", "list", "--format", "json"]))["items"] as? [[String: Any]])
        #expect(items.map { $0["attempts"] as? Int } .sorted { ($0 ?? 0) < ($1 ?? 0) } == [0, 0, 1])
        // Writable again: the next run takes the files that were not tried (the one that
        // failed waits out its backoff), and still loses nothing.
        Mounts.unmount(app.media)
        let resumed = try app.run(["queue", "run"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.hasPrefix(quarantine == "0" ? "0 quarantined, 2 removed" : "2 quarantined, 0 removed"), "\(resumed.stdout)")
        if quarantine != "0" { try expectNothingLost(app, contents) }
        #expect(try app.queueStats()["total_pending"] as? Int == 1)
    }

    @Test("media root made read-only while files are set aside (quarantine 0): exit 3, the retry puts them back first and removes them", .enabled(if: Mounts.allowed))
    func readOnlyWhileSetAside() throws {
        let (app, contents) = try queuedApp(quarantine: "0")
        let run = try app.run(["queue", "run", "--backoff", "0s"], pausingAt: "verify:1") { try Mounts.bindReadOnly(app.media) }
        defer { Mounts.unmount(app.media) }
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("0 quarantined, 0 removed, 0 B freed, 3 failed, will retry"), "\(run.stdout)")
        #expect(run.stderr.contains("'forum/t1/f1.jpg' could be neither removed nor put back: unlink failed: Read-only file system; it is set aside as '.media-janitor-1.removing' in its directory until the item is retried"), "\(run.stderr)")
        #expect(run.stderr.contains("error: 3 items could not be removed (first: 'forum/t1/f1.jpg': unlink failed: Read-only file system); the file system is mounted read-only"), "\(run.stderr)")
        // Nothing is lost: each file is set aside in its own directory, under its item's id.
        #expect(app.setAside().count == contents.count, "\(app.setAside())")
        for path in contents.keys { #expect(!app.exists(path)) }
        #expect(try app.queueStats()["total_pending"] as? Int == contents.count)

        // One of them is referenced again meanwhile; writable again, the retry puts every file
        // back before anything else, keeps the referenced one and removes the others.
        Mounts.unmount(app.media)
        let kept = try #require(contents.keys.sorted().first)
        try app.sql("INSERT INTO forum_post (id, image) VALUES (99, '\(kept)')")
        let resumed = try app.run(["queue", "run"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.hasPrefix("0 quarantined, 2 removed"), "\(resumed.stdout)")
        #expect(try String(contentsOfFile: app.media + "/" + kept, encoding: .utf8) == contents[kept])
        for path in contents.keys where path != kept { #expect(!app.exists(path)) }
        #expect(app.setAside().isEmpty, "\(app.setAside())")
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
    }

    @Test("quarantine on a full file system: the files that fit are quarantined, the run stops, exit 3, the rest stay queued", .enabled(if: Mounts.allowed))
    func fullQuarantine() throws {
        let (app, contents) = try queuedApp(count: 6, bytes: 12_000)
        // tmpfs counts whole pages: room for two or three of the six files.
        try Mounts.tmpfs(app.quarantine, bytes: 32 * 1024)
        defer { Mounts.unmount(app.quarantine) }
        let run = try app.run(["queue", "run", "--batch-size", "2"])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("No space left on device; the quarantine's file system is full: free space there, run 'media-janitor quarantine purge', or put 'quarantine_dir' on the media root's file system"), "\(run.stderr)")
        let moved = app.quarantined().count
        #expect(moved >= 1 && moved < 6, "\(app.quarantined())")
        #expect(run.stdout.hasPrefix("\(moved) quarantined, 0 removed"), "\(run.stdout)")
        try expectNothingLost(app, contents)
        #expect(try app.queueStats()["total_pending"] as? Int == 6 - moved)
    }

    @Test("media root the janitor's user may not read: scan says which directory and why, exit 3, the report is still written")
    func unreadableDirectory() throws {
        let app = try ForumApp()
        app.file("forum/open/a.jpg")
        app.file("forum/private/b.jpg")
        let world = [app.path, app.path + "/.janitor"]
        try FileManager.default.createDirectory(atPath: app.path + "/.janitor", withIntermediateDirectories: true)
        for path in world { chmod(path, 0o777) }
        chmod(app.path + "/app.sqlite3", 0o644)
        chmod(app.media + "/forum/private", 0o700)
        let scan = try Janitor.run(["scan", "--no-record", "--format", "json"], in: app.path, asNobody: true)
        #expect(scan.status == 3, "\(scan.stderr)")
        #expect(scan.stderr.contains("warning: could not read directory 'forum/private' under media_root: Permission denied"), "\(scan.stderr)")
        #expect(scan.stderr.contains("error: 1 directory under media_root could not be read (first: 'forum/private': Permission denied), so their files are missing from this audit; run the janitor as a user that can read every directory of the media root"), "\(scan.stderr)")
        #expect(try json(scan.stdout)["summary"].flatMap { ($0 as? [String: Any])?["orphans"] as? Int } == 1)
        // The whole media root unreadable: nothing to report.
        chmod(app.media, 0o700)
        let denied = try Janitor.run(["scan", "--no-record"], in: app.path, asNobody: true)
        #expect(denied.status == 3, "\(denied.stderr)")
        #expect(denied.stderr.contains("error: reading media_root '\(app.media)' failed: Permission denied; run the janitor as a user that may read the media files"), "\(denied.stderr)")
        #expect(denied.stdout.isEmpty)
        #expect(app.exists("forum/open/a.jpg") && app.exists("forum/private/b.jpg"))
    }

    @Test("app database locked by another process mid-scan: exit 3 naming the lock, nothing recorded")
    func databaseLockedMidScan() throws {
        let app = try ForumApp()
        app.file("forum/a.jpg")
        try app.sql("INSERT INTO forum_post (id, image) VALUES (1, 'forum/a.jpg')")
        var holder: SQLiteLockHolder?
        let scan = try app.run(["scan"], pausingAt: "references:1") {
            holder = try SQLiteLockHolder(app.path + "/app.sqlite3")
        }
        holder?.release()
        #expect(scan.status == 3, "\(scan.stdout)\(scan.stderr)")
        #expect(scan.stderr.contains("error: cannot read the app database 'sqlite:\(app.path)/app.sqlite3': database is locked; another connection held a write lock for longer than the 5 s the janitor waits"), "\(scan.stderr)")
        #expect(scan.stdout.isEmpty)
        #expect(try json(try app.ok(["history", "--format", "json"]))["audits"].map { ($0 as? [Any])?.count } == 0)
        // The lock gone, the same scan works.
        #expect(try app.run(["scan"]).status == 0)
    }

    @Test("app database gone mid-scan: exit 3 naming the database, nothing recorded, no file touched", arguments: AppBackend.allCases)
    func databaseGoneMidScan(backend: AppBackend) throws {
        let app = try ForumApp(backend: backend)
        app.file("forum/a.jpg")
        app.file("forum/b.jpg")
        try app.sql("INSERT INTO forum_post (id, image) VALUES (1, 'forum/a.jpg')")
        let scan = try app.run(["scan"], pausingAt: "references:1") {
            try app.db.vanish(directory: app.path)
        }
        #expect(scan.status == 3, "\(scan.stdout)\(scan.stderr)")
        switch backend {
        case .sqlite:
            #expect(scan.stderr.contains("error: cannot read the app database 'sqlite:\(app.path)/app.sqlite3': file is not a database; the file is not an SQLite database or is damaged"), "\(scan.stderr)")
        case .postgres:
            #expect(scan.stderr.contains("error: cannot read the app database 'postgres://"), "\(scan.stderr)")
        }
        #expect(scan.stdout.isEmpty)
        #expect(app.exists("forum/a.jpg") && app.exists("forum/b.jpg"))
        #expect(try json(try app.ok(["history", "--format", "json"]))["audits"].map { ($0 as? [Any])?.count } == 0)
    }

    @Test("damaged store: every command that needs it stops with exit 3 and says how to go on; the store file and the media are left as they were", arguments: ["garbage", "truncated"])
    func damagedStore(damage: String) throws {
        let (app, contents) = try queuedApp()
        let store = app.path + "/.janitor/state.sqlite3"
        try app.ok(["scan"])  // a history worth keeping
        if damage == "garbage" {
            try Data(repeating: 0xA5, count: 40_000).write(to: URL(fileURLWithPath: store))
        } else {
            let handle = try #require(FileHandle(forWritingAtPath: store))
            try handle.truncate(atOffset: 4096)
            try handle.close()
        }
        let damaged = try Data(contentsOf: URL(fileURLWithPath: store))
        for command in [["queue", "run"], ["clean", "--force"], ["queue", "stats"], ["history"]] {
            let outcome = try app.run(command)
            #expect(outcome.status == 3, "\(command): \(outcome.stderr)")
            #expect(outcome.stderr.contains("error: the janitor's store '\(store)' is damaged ("), "\(command): \(outcome.stderr)")
            #expect(outcome.stderr.contains("so the janitor stopped. Move it aside (mv '\(store)' '\(store).damaged') and run again"), "\(command): \(outcome.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == damaged, "the damaged store was changed")
        for (path, content) in contents {
            #expect(try String(contentsOfFile: app.media + "/" + path, encoding: .utf8) == content)
        }
        #expect(app.quarantined().isEmpty)
    }
}

/// The app re-uploads a file under the same name while the janitor is removing it (DESIGN
/// 6.2): whatever the moment, once the app references the path again, the file the app wrote
/// is there afterwards.
@Suite("A file re-uploaded at its path while being removed", .timeLimit(.minutes(3)))
struct ReuploadRaceTests {
    /// One queued file, `forum/a.jpg`, no longer referenced by any row.
    func queuedApp() throws -> ForumApp {
        let app = try ForumApp()
        try app.queueDeleted([("forum/a.jpg", "first upload\n")])
        app.file("forum/b.jpg", content: "unrelated\n")
        return app
    }

    /// What an app does on a re-upload: a new file written aside and renamed over the name, then
    /// the row that names it.
    func reupload(_ app: ForumApp) throws {
        let temporary = app.media + "/forum/.upload.tmp"
        #expect(FileManager.default.createFile(atPath: temporary, contents: Data("second upload\n".utf8)))
        #expect(rename(temporary, app.media + "/forum/a.jpg") == 0)
        try app.sql("INSERT INTO forum_post (id, image) VALUES (7, 'forum/a.jpg')")
    }

    @Test("re-uploaded and referenced again at any point of the removal: the new file stays", arguments: [
        "claimed:1", "acting:1", "acted:1", "done:1", "verify:1",
    ])
    func reuploaded(point: String) throws {
        let app = try queuedApp()
        let run = try app.run(["queue", "run"], pausingAt: point) { try reupload(app) }
        #expect(run.status == 0, "\(point): \(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: app.media + "/forum/a.jpg", encoding: .utf8) == "second upload\n", "\(point): \(run.stdout)\(run.stderr)")
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
        switch point {
        case "claimed:1":
            // The new file was looked at, taken for the old one and moved; the look at the
            // references after the round found the new row and brought it back.
            #expect(run.stdout.hasPrefix("0 quarantined, 0 removed, 0 B freed, 1 kept (referenced again)"), "\(run.stdout)")
            let removals = try #require(try json(try app.ok(["quarantine", "list", "--all", "--format", "json"]))["removals"] as? [[String: Any]])
            #expect(removals.count == 1 && removals[0]["restored_at"] is String, "\(removals)")
            #expect(app.quarantined().isEmpty)
        case "acting:1":
            // The file changed between the recorded look and the move: refused, nothing moved.
            #expect(run.stdout.contains("1 refused by safety rules"), "\(run.stdout)")
            #expect(app.quarantined().isEmpty)
        default:
            // The first upload was already in the quarantine; the app's new file took its name
            // and is not touched, and the first upload stays restorable.
            #expect(run.stdout.hasPrefix("1 quarantined"), "\(run.stdout)")
            #expect(app.quarantined().count == 1)
            #expect(run.stderr.contains("'forum/a.jpg' is referenced again by forum_post.image key 7 and was not brought back"), "\(run.stderr)")
        }
        #expect(try String(contentsOfFile: app.media + "/forum/b.jpg", encoding: .utf8) == "unrelated\n")
    }

    @Test("with quarantine 0, re-uploaded and referenced again at any point of the removal: the new file stays", arguments: [
        "claimed:1", "acting:1", "acted:1", "done:1", "verify:1",
    ])
    func reuploadedWithoutQuarantine(point: String) throws {
        let app = try ForumApp(quarantine: "0")
        try app.queueDeleted([("forum/a.jpg", "first upload\n")])
        let run = try app.run(["queue", "run"], pausingAt: point) { try reupload(app) }
        #expect(run.status == 0, "\(point): \(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: app.media + "/forum/a.jpg", encoding: .utf8) == "second upload\n", "\(point): \(run.stdout)\(run.stderr)")
        switch point {
        case "claimed:1":
            // The new file was looked at and taken for the old one: set aside, not unlinked, and
            // put back when the look at the references after the round found the new row.
            #expect(run.stdout.hasPrefix("0 quarantined, 0 removed, 0 B freed, 1 kept (referenced again)"), "\(run.stdout)")
            let items = try #require(try json(try app.ok(["queue", "list", "--state", "done", "--format", "json"]))["items"] as? [[String: Any]])
            #expect(items.map { $0["outcome"] as? String } == ["kept: referenced again by forum_post.image key 7 while being removed"], "\(items)")
        case "acting:1":
            // Replaced between the recorded look and the rename: refused, the new file kept.
            #expect(run.stdout.contains("1 refused by safety rules"), "\(run.stdout)")
        default:
            // The first upload was set aside before the new one took its name: it is unlinked,
            // the new file is not touched.
            #expect(run.stdout.hasPrefix("0 quarantined, 1 removed"), "\(run.stdout)")
        }
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
        #expect(app.quarantined().isEmpty)
        #expect(app.setAside().isEmpty)
    }

    @Test("app database gone before the look after the removals: exit 3, quarantined files stay restorable, files set aside go back and stay queued", arguments: [
        ("7d", AppBackend.sqlite), ("0", .sqlite), ("0", .postgres),
    ])
    func databaseGoneBeforeTheLook(quarantine: String, backend: AppBackend) throws {
        let app = try ForumApp(quarantine: quarantine, backend: backend)
        let contents = try app.queueDeleted([("forum/a.jpg", "first\n"), ("forum/t/b.jpg", "second\n")])
        let run = try app.run(["queue", "run"], pausingAt: "verify:1") { try app.db.vanish(directory: app.path) }
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("cannot check whether the files just removed were referenced again"), "\(run.stderr)")
        #expect(run.stderr.contains("error: cannot read the app database '"), "\(run.stderr)")
        #expect(app.setAside().isEmpty)
        let stats = try app.queueStats()
        if quarantine == "0" {
            for (path, content) in contents {
                #expect(try String(contentsOfFile: app.media + "/" + path, encoding: .utf8) == content)
            }
            #expect(stats["total_pending"] as? Int == 2, "\(stats)")
            #expect(stats["done"] as? Int == 0, "\(stats)")
        } else {
            #expect(app.quarantined().count == 2)
            #expect(stats["done"] as? Int == 2, "\(stats)")
            let removals = try #require(try json(try app.ok(["quarantine", "list", "--format", "json"]))["removals"] as? [[String: Any]])
            #expect(Set(removals.compactMap { $0["path"] as? String }) == Set(contents.keys))
        }
    }

    @Test("a file moved in one round and referenced again is brought back by the next round's look at the references")
    func reuploadedAcrossRounds() throws {
        let app = try ForumApp()
        // With --batch-size 1 a round is 20 items: a.jpg goes in the first, n20.jpg in the second.
        try app.queueDeleted([("forum/a.jpg", "first upload\n")] + (1...20).map { ("forum/n\($0).jpg", "orphan \($0)\n") })
        let run = try app.run(["queue", "run", "--batch-size", "1"], pausingAt: "claimed:1") { try reupload(app) }
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: app.media + "/forum/a.jpg", encoding: .utf8) == "second upload\n")
        #expect(run.stdout.hasPrefix("20 quarantined, 0 removed"), "\(run.stdout)")
        #expect(run.stdout.contains("1 kept (referenced again)"), "\(run.stdout)")
        let removals = try #require(try json(try app.ok(["quarantine", "list", "--all", "--format", "json"]))["removals"] as? [[String: Any]])
        #expect(removals.count == 21)
        #expect(removals.filter { $0["restored_at"] is String }.map { $0["path"] as? String } == ["forum/a.jpg"], "\(removals)")
        #expect(app.quarantined().count == 20)
        #expect(try app.queueStats()["total_pending"] as? Int == 0)
    }
}
