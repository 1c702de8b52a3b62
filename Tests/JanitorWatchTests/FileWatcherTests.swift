import Foundation
import Logging
import Testing

@testable import JanitorWatch

#if canImport(Glibc)
import Glibc
#endif

// libinotifytools allows one active watcher per process, so these run one after another.
@Suite("Watching the media tree", .serialized)
struct FileWatcherTests {
    let quiet = Logger(label: "janitor.watch.tests") { _ in SwiftLogNoOpLogHandler() }

    @Test("10,000 files created as fast as possible in fresh nested directories are all reported")
    func burstInFreshDirectories() async throws {
        let tree = MediaTree()
        let watcher = try FileWatcher(root: tree.root, directories: [""], logger: quiet)
        // 10 chains of 10 nested directories, each made right before its 100 files, so most files
        // exist before the watch on their directory does.
        var expected = Set<String>()
        var directories: [String] = []
        for chain in 0..<10 {
            var directory = "chain\(chain)"
            for depth in 0..<10 {
                if depth > 0 { directory += "/level\(depth)" }
                directories.append(directory)
                for index in 0..<100 { expected.insert("\(directory)/photo\(index).jpg") }
            }
        }
        let expectedFiles = expected
        let newDirectories = directories
        let clock = ContinuousClock()
        // The writer starts once the iteration has, on a thread of its own.
        let (started, start) = AsyncStream.makeStream(of: Void.self)
        async let writeTime = onThread(after: started) {
            clock.measure {
                for directory in newDirectories {
                    tree.directory(directory)
                    for index in 0..<100 { tree.file("\(directory)/photo\(index).jpg") }
                }
            }
        }
        let begin = clock.now
        let seen = await watch(
            watcher,
            started: {
                start.yield()
                start.finish()
            },
            until: { expectedFiles.isSubset(of: $0.files) })
        let allSeen = clock.now - begin

        let missed = expected.subtracting(seen.files)
        #expect(missed.isEmpty, "missed \(missed.count) files, e.g. \(missed.sorted().prefix(3))")
        #expect(seen.files.isSubset(of: expected))
        // A rescan may catch a file before its bytes are written; its IN_CLOSE_WRITE comes later.
        var lastSize: [String: Int64] = [:]
        for case .file(let path, let bytes, _) in seen.events { lastSize[path] = bytes }
        #expect(lastSize.values.allSatisfy { $0 == 3 })
        let newDirectoryRescans = seen.rescans.filter { $0.reason == RescanReason.newDirectory }.count
        print(
            "10,000 files in 100 new directories: written in \(await writeTime), all seen after \(allSeen); "
                + "\(seen.events.count) events, \(newDirectoryRescans) new-directory rescans, \(watcher.overflows) overflows")
    }

    @Test("an overflow is healed by a rescan with no file missed")
    func overflowHealedByRescan() async throws {
        let tree = MediaTree()
        tree.directory("uploads")
        let recorder = LogRecorder()
        // max_queued_events is read when an inotify instance is created, so it is lowered only
        // around the watcher's creation. Where it cannot be lowered the default queue is filled.
        let lowered = QueueLimitOverride(lowerTo: 64)
        let watcher: FileWatcher
        do {
            defer { lowered?.restore() }
            watcher = try FileWatcher(root: tree.root, directories: ["uploads"], logger: recorder.logger)
        }
        let queueSize = lowered != nil ? 64 : (readProcInt(QueueLimitOverride.path) ?? 16384)
        // Each file queues IN_CREATE and IN_CLOSE_WRITE; where the limit cannot be lowered this
        // fills the kernel's own queue, however large (slower, but the test always runs).
        let fileCount = queueSize / 2 + 200
        // Nobody reads yet, so the kernel queue fills up and overflows (the files go straight into
        // the watched directory: a new directory has no watch until its IN_CREATE is read).
        var expected = Set<String>()
        for index in 0..<fileCount {
            tree.file("uploads/file\(index).jpg")
            expected.insert("uploads/file\(index).jpg")
        }
        // Created after the queue is full: its IN_CREATE is lost, only the rescan can find it.
        tree.directory("uploads/late")
        for index in 0..<5 {
            tree.file("uploads/late/early\(index).jpg")
            expected.insert("uploads/late/early\(index).jpg")
        }
        // Written once the rescan is done: proves the rescan also put a watch on the lost directory.
        expected.insert("uploads/late/after-rescan.jpg")

        let expectedFiles = expected
        let seen = await watch(
            watcher,
            onEvent: { event, _ in
                let late = "uploads/late/after-rescan.jpg"
                if case .rescanned(_, .overflow, _) = event, !FileManager.default.fileExists(atPath: tree.path(late)) {
                    tree.file(late)
                }
            },
            until: { expectedFiles.isSubset(of: $0.files) })

        #expect(watcher.overflows >= 1)
        #expect(seen.rescans.contains { $0.directory == "uploads" && $0.reason == .overflow })
        let missed = expected.subtracting(seen.files)
        #expect(missed.isEmpty, "missed \(missed.count) files, e.g. \(missed.sorted().prefix(3))")
        let warning = recorder.lines.first {
            $0.level == .warning && $0.metadata["watch.overflows"] != nil && $0.metadata["watch.directory"] == "uploads"
        }
        #expect(warning != nil)
        print(
            "overflow: queue \(queueSize)\(lowered != nil ? " (lowered)" : ""), \(fileCount + 5) files, "
                + "\(watcher.overflows) overflows, \(seen.events.count) events")
    }

    @Test("symlinks are never followed: a link to a directory outside the root or to a file is not reported")
    func symlinksNotFollowed() async throws {
        let outside = MediaTree("outside")
        outside.directory("secret")
        outside.file("secret/inner.jpg")
        let tree = MediaTree()
        tree.directory("media")
        tree.file("media/real.jpg", bytes: 5)
        tree.symlink("media/linked-dir", to: outside.path("secret"))
        tree.symlink("media/linked-file.jpg", to: tree.path("media/real.jpg"))
        let watcher = try FileWatcher(root: tree.root, directories: ["media"], rescanAtStart: true, logger: quiet)
        #expect(watcher.limits.watchedDirectories == 1)

        let seen = await watch(
            watcher,
            onEvent: { event, _ in
                guard case .rescanned("media", .start, _) = event else { return }
                outside.file("secret/written-outside.jpg")
                tree.symlink("media/new-link.jpg", to: tree.path("media/real.jpg"))
                tree.symlink("media/new-linked-dir", to: outside.path("secret"))
                outside.symlink("moved-link.jpg", to: tree.path("media/real.jpg"))
                outside.move("moved-link.jpg", to: tree.path("media/moved-link.jpg"))
                tree.directory("media/fresh")
                tree.symlink("media/fresh/link-out", to: outside.path("secret"))
                tree.file("media/fresh/ok.jpg")
                tree.file("media/zz-sentinel.jpg")
            },
            until: { $0.files.contains("media/zz-sentinel.jpg") })

        #expect(seen.timeless.first == .file("media/real.jpg", 5))
        #expect(seen.rescans.first.map { "\($0.directory) \($0.reason) \($0.files)" } == "media start 1")
        #expect(seen.files == ["media/real.jpg", "media/fresh/ok.jpg", "media/zz-sentinel.jpg"])
        #expect(seen.rescans.contains { $0.directory == "media/fresh" && $0.reason == .newDirectory })
        #expect(seen.watchedDirectories == 2)
    }

    @Test("removals, renames and moves into the tree are reported; a missing subtree is skipped; nothing is reported at start")
    func removalsAndRenames() async throws {
        let outside = MediaTree("outside")
        outside.file("incoming.jpg", bytes: 7)
        let tree = MediaTree()
        tree.directory("media")
        tree.file("media/old.jpg")
        tree.directory("media/keep")
        tree.file("media/keep/a.jpg", bytes: 4)
        let recorder = LogRecorder()
        let watcher = try FileWatcher(root: tree.root, directories: ["media", "missing"], logger: recorder.logger)
        #expect(watcher.directories == ["media"])
        #expect(recorder.lines.contains { $0.level == .warning && $0.metadata["watch.directory"] == "missing" })

        // One change at a time, each once the previous one has been reported: what the watcher
        // reports depends on the tree when it reads an event, so later changes must not overtake.
        let seen = await watch(
            watcher,
            steps: [
                .init(until: .removed("media/old.jpg")) { tree.remove("media/old.jpg") },
                .init(until: .file("media/keep/b.jpg", 4)) { tree.move("media/keep/a.jpg", within: "media/keep/b.jpg") },
                .init(until: .file("media/incoming.jpg", 7)) { outside.move("incoming.jpg", to: tree.path("media/incoming.jpg")) },
                .init(until: .rescanned("media/kept", .newDirectory, 1)) { tree.move("media/keep", within: "media/kept") },
                .init(until: .file("media/kept/after-rename.jpg", 2)) { tree.file("media/kept/after-rename.jpg", bytes: 2) },
                .init(until: .removed("media/kept")) {
                    outside.directory("elsewhere")
                    tree.move("media/kept", to: outside.path("elsewhere/away"))
                    outside.file("elsewhere/away/ghost.jpg")
                    outside.remove("elsewhere/away/b.jpg")
                },
                .init(until: .rescanned("media/tmp", .newDirectory, 0)) { tree.directory("media/tmp") },
                .init(until: .removed("media/tmp")) { tree.remove("media/tmp") },
                .init(until: .file("media/zz-sentinel.jpg", 3)) { tree.file("media/zz-sentinel.jpg") },
            ])

        #expect(seen.timeless.first == .removed("media/old.jpg"), "files there at start are not reported")
        #expect(appearsInOrder([.removed("media/keep/a.jpg"), .file("media/keep/b.jpg", 4)], in: seen.timeless))
        #expect(
            appearsInOrder(
                [.removed("media/keep"), .file("media/kept/b.jpg", 4), .rescanned("media/kept", .newDirectory, 1)], in: seen.timeless))
        #expect(seen.files.contains("media/zz-sentinel.jpg"), "every step was reported: \(seen.timeless)")
        #expect(!seen.files.contains { $0.contains("ghost") }, "a directory moved out of the tree is no longer watched")
        #expect(!seen.removed.contains("media/kept/b.jpg"), "a directory moved out of the tree is no longer watched")
        #expect(seen.watchedDirectories == 1)
    }

    @Test("a root that does not exist, is a file or is a symlink is refused with a message naming it")
    func unusableRoots() throws {
        let tree = MediaTree()
        let missing = tree.path("no-such-media")
        #expect(throws: WatchError.rootMissing(path: missing)) { try FileWatcher(root: missing, logger: quiet) }
        #expect(WatchError.rootMissing(path: missing).description.contains("'\(missing)' does not exist"))

        tree.file("plain.txt")
        #expect(throws: WatchError.rootNotADirectory(path: tree.path("plain.txt"))) {
            try FileWatcher(root: tree.path("plain.txt"), logger: quiet)
        }
        tree.directory("real")
        tree.symlink("linked", to: tree.path("real"))
        #expect(throws: WatchError.rootIsSymlink(path: tree.path("linked"))) {
            try FileWatcher(root: tree.path("linked"), logger: quiet)
        }
        #expect(throws: WatchError.invalidDirectory("../etc")) {
            try FileWatcher(root: tree.root, directories: ["../etc"], logger: quiet)
        }
    }

    @Test("error messages say what to fix")
    func errorMessages() {
        let limit = WatchError.watchLimitReached(path: "avatars/2024", limit: 8192, watchesNeededAtLeast: 8000).description
        #expect(
            limit
                == "inotify watch limit fs.inotify.max_user_watches (now 8192) reached while watching 'avatars/2024'; "
                + "at least 8000 directories need a watch. Raise it with 'sysctl -w fs.inotify.max_user_watches=16384' "
                + "(persist it in /etc/sysctl.d/) or watch fewer directories")
        #expect(WatchError.rootIsSymlink(path: "media").description.contains("point the configured root at the directory it links to"))
        #expect(WatchError.instanceLimitReached(limit: 128).description.contains("sysctl -w fs.inotify.max_user_instances=256"))
    }

    @Test("limits report max_user_watches and max_queued_events from /proc and count the watched directories")
    func limits() async throws {
        let tree = MediaTree()
        tree.directory("a")
        tree.directory("a/b")
        tree.directory("c")
        tree.file("a/b/photo.jpg")
        let watcher = try FileWatcher(root: tree.root, logger: quiet)
        let limits = watcher.limits
        #expect(limits.maxUserWatches == readProcInt("/proc/sys/fs/inotify/max_user_watches"))
        #expect(limits.maxQueuedEvents == readProcInt("/proc/sys/fs/inotify/max_queued_events"))
        #expect(limits.watchedDirectories == 4)
        // One more: the private watch that wakes the reader thread when iteration ends.
        #expect(limits.watchesInUse == 5)
        #expect(limits.headroom == limits.maxUserWatches.map { $0 - 5 })

        let seen = await watch(
            watcher, started: { tree.directory("a/new") },
            until: { seen in seen.rescans.contains { $0.directory == "a/new" } })
        #expect(seen.rescans.count == 1)
        #expect(seen.watchedDirectories == 5)
    }

    @Test("one watcher per process; ending its iteration releases every watch so the next one can start")
    func onePerProcess() async throws {
        let tree = MediaTree()
        tree.directory("media")
        let first = try FileWatcher(root: tree.root, logger: quiet)
        #expect(throws: WatchError.alreadyActive) { try FileWatcher(root: tree.root, logger: quiet) }
        #expect(WatchError.alreadyActive.description.contains("one at a time"))

        let seen = await watch(first, started: { tree.file("media/one.jpg") }, until: { $0.files.contains("media/one.jpg") })
        #expect(seen.files == ["media/one.jpg"])
        // The iteration has ended: the next watcher waits for the thread to release libinotifytools.
        let clock = ContinuousClock()
        var second: FileWatcher?
        let waited = try clock.measure { second = try FileWatcher(root: tree.root, logger: quiet) }
        print("a new watcher could start \(waited) after the previous iteration ended")
        let next = try #require(second)
        #expect(first.limits.watchesInUse == 0)
        #expect(next.limits.watchedDirectories == 2)

        // A watcher is iterated once: a second iteration ends at once, with nothing.
        let again = await watch(first, until: { _ in false })
        #expect(again.events.isEmpty)
    }

    @Test("cancelling the task that iterates stops the watcher and removes its watches")
    func cancellationStops() async throws {
        let tree = MediaTree()
        tree.directory("media")
        let watcher = try FileWatcher(root: tree.root, logger: quiet)
        let (firstEvent, seenFirst) = AsyncStream.makeStream(of: Void.self)
        let consumer = Task {
            var count = 0
            for await _ in watcher {
                count += 1
                seenFirst.yield()
            }
            return count
        }
        tree.file("media/one.jpg")
        for await _ in firstEvent { break }
        consumer.cancel()
        #expect(await consumer.value == 1)
        // Blocks until the reader thread has released libinotifytools (or throws after 3 s).
        let next = try FileWatcher(root: tree.root, logger: quiet)
        #expect(watcher.limits.watchesInUse == 0)
        #expect(next.limits.watchedDirectories == 2)
    }

    @Test("events the previous watcher left unread are never reported by the next one")
    func nothingLeftOverForTheNextWatcher() async throws {
        // libinotifytools reads events in batches into static buffers that its cleanup keeps.
        let first = MediaTree("first")
        first.directory("media")
        for index in 0..<100 { first.file("media/first\(index).jpg") }
        let firstWatcher = try FileWatcher(root: first.root, logger: quiet)
        for index in 0..<100 { first.remove("media/first\(index).jpg") }
        firstWatcher.stopReading(afterEvents: 1)
        let firstSeen = await watch(firstWatcher, until: { _ in false })
        #expect(firstSeen.events.count == 1)

        // Same layout, so the same watch descriptors name its directories.
        let second = MediaTree("second")
        second.directory("media")
        let secondWatcher = try FileWatcher(root: second.root, logger: quiet)
        let seen = await watch(
            secondWatcher, started: { second.file("media/sentinel.jpg") },
            until: { $0.files.contains("media/sentinel.jpg") })
        #expect(seen.timeless == [.file("media/sentinel.jpg", 3)])
    }

    @Test("a watcher that is never iterated releases libinotifytools when dropped")
    func droppedWithoutIterating() throws {
        let tree = MediaTree()
        do {
            let unused = try FileWatcher(root: tree.root, logger: quiet)
            #expect(unused.limits.watchedDirectories == 1)
        }
        let next = try FileWatcher(root: tree.root, logger: quiet)
        #expect(next.limits.watchedDirectories == 1)
    }
}
