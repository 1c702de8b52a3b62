import CInotifyTools
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Owns libinotifytools' global state for one watcher.
///
/// `FileWatcher.init` opens it and adds the watches on the caller's thread; the first iteration
/// hands it to the reader thread, which is from then on the only code that calls libinotifytools
/// (the library is not thread-safe: its read buffer and watch tables are C globals).
final class WatchSession {
    let root: String
    let subtrees: [String]
    let logger: Logger
    let status: WatchStatus
    let rescanAtStart: Bool

    /// The watched directories by watch descriptor, with root-relative paths. This table, not
    /// libinotifytools' own, is the source of paths: the library cannot list a subtree's watches
    /// (needed when a directory moves away) nor forget a watch the kernel has already dropped.
    private var directories: [Int32: WatchedDirectory] = [:]
    private var watchByInode: [InodeKey: Int32] = [:]
    private var lastWatchDescriptor: Int32 = 0
    private var wakeWatch: Int32 = -1
    private var wakeReadDescriptor: Int32 = -1
    private var publishedCount = -1
    private var hadDirectories = false
    private var finished = false
    private var closed = false
    private var continuation: AsyncStream<WatchEvent>.Continuation?
    /// For tests: stop as if asked to after yielding this many events, leaving the rest unread.
    var stopAfterEvents: Int?

    private struct WatchedDirectory {
        var path: String
        let key: InodeKey
    }

    private init(root: String, subtrees: [String], logger: Logger, status: WatchStatus, rescanAtStart: Bool) {
        self.root = root
        self.subtrees = subtrees
        self.logger = logger
        self.status = status
        self.rescanAtStart = rescanAtStart
    }

    /// Creates the inotify instance and watches every directory of `subtrees`. Takes over the claim
    /// in `status`: on failure it has already been released.
    static func open(
        root: String, subtrees: [String], logger: Logger, status: WatchStatus, rescanAtStart: Bool
    ) throws(WatchError) -> WatchSession {
        guard inotifytools_initialize() != 0 else {
            let code = Int32(inotifytools_error())
            InotifyClaim.shared.release(status.claim)
            if code == EMFILE { throw .instanceLimitReached(limit: InotifySysctl.maxUserInstances) }
            throw .system(operation: "inotify_init", path: root, errno: code)
        }
        let session = WatchSession(
            root: root, subtrees: subtrees, logger: logger, status: status, rescanAtStart: rescanAtStart)
        session.flushLibraryBuffer()
        session.installWakeWatch()
        for subtree in subtrees {
            var visited = Set<Int32>()
            let walk = session.walk(subtree, reportFiles: false, visited: &visited, stopAtLimit: true)
            if let directory = walk.limitReachedAt {
                let watched = session.directories.count
                session.shutDown()
                throw .watchLimitReached(
                    path: directory, limit: InotifySysctl.maxUserWatches, watchesNeededAtLeast: watched + 1)
            }
        }
        session.publishCounts()
        return session
    }

    // MARK: The reader thread

    /// Moves the session to a dedicated thread (not the cooperative pool: it blocks in the kernel),
    /// which reads events until a stop is requested or nothing is left to watch.
    func start(_ continuation: AsyncStream<WatchEvent>.Continuation) {
        // The session crosses to the new thread through an opaque pointer. That is safe because
        // `FileWatcher` took it out of its mutex and keeps no reference: the thread is its only owner.
        let handoff = Unmanaged.passRetained(ReaderStart(session: self, continuation: continuation))
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                let start = Unmanaged<ReaderStart>.fromOpaque(argument!).takeRetainedValue()
                start.session.run(start.continuation)
                return nil
            }, handoff.toOpaque())
        if result == 0 {
            pthread_detach(thread)
        } else {
            handoff.release()
            logger.error(
                "could not start the watcher thread; no file events will be reported",
                metadata: ["watch.error": .string(String(cString: strerror(result)))])
            shutDown()
            continuation.finish()
        }
    }

    private final class ReaderStart {
        let session: WatchSession
        let continuation: AsyncStream<WatchEvent>.Continuation

        init(session: WatchSession, continuation: AsyncStream<WatchEvent>.Continuation) {
            self.session = session
            self.continuation = continuation
        }
    }

    private func run(_ continuation: AsyncStream<WatchEvent>.Continuation) {
        self.continuation = continuation
        defer {
            // Cleanup first, so a watcher created as soon as the stream ends finds the library free.
            shutDown()
            continuation.finish()
        }
        if rescanAtStart {
            var visited = Set<Int32>()
            for subtree in subtrees { rescan(subtree, reason: .start, visited: &visited) }
        }
        while !finished && !status.stopRequested {
            // The timeout (in seconds) only bounds the wait if the wake-up watch could not be set up.
            guard let event = inotifytools_next_event(1) else {
                let code = Int32(inotifytools_error())
                if code == 0 || code == EINTR { continue }
                logger.error(
                    "reading inotify events failed; the watcher stops",
                    metadata: ["watch.error": .string(String(cString: strerror(code)))])
                return
            }
            handle(event)
            publishCounts()
        }
    }

    // MARK: Events

    private func handle(_ event: UnsafeMutablePointer<inotify_event>) {
        let mask = event.pointee.mask
        let descriptor = event.pointee.wd
        if mask & Mask.overflow != 0 {
            recoverFromOverflow()
            return
        }
        if descriptor == wakeWatch { return }
        guard let directory = directory(for: descriptor, mask: mask) else { return }
        if mask & Mask.ignored != 0 {
            forget(descriptor)
            endIfNothingLeft()
            return
        }
        guard let name = EventName(event) else {
            directoryItselfChanged(directory, mask: mask)
            return
        }
        guard let valid = name.valid else {
            logger.warning(
                "a name that is not valid UTF-8 cannot be reported",
                metadata: ["watch.directory": .string(directory), "file.name": .string(name.lossy)])
            return
        }
        let path = WatchPath.join(directory, valid)
        if mask & Mask.isDirectory != 0 {
            if mask & (Mask.create | Mask.movedTo) != 0 {
                var visited = Set<Int32>()
                rescan(path, reason: .newDirectory, visited: &visited)
            } else if mask & Mask.movedFrom != 0 {
                // Its watches stay valid wherever it went; outside the tree they would report wrong paths.
                removeWatches(under: path)
                emit(.removed(path: path))
            } else if mask & Mask.delete != 0 {
                emit(.removed(path: path))
            }
        } else if mask & (Mask.closeWrite | Mask.movedTo) != 0 {
            if let node = FileNode(path: WatchPath.absolute(root: root, path)), node.kind == .regularFile {
                emit(.file(path: path, bytes: node.bytes, seen: Date()))
            }
        } else if mask & (Mask.delete | Mask.movedFrom) != 0 {
            emit(.removed(path: path))
        }
    }

    /// IN_DELETE_SELF or IN_MOVE_SELF. Below a subtree's top the parent's event already said it;
    /// a subtree's top has no watched parent, so say it here.
    private func directoryItselfChanged(_ directory: String, mask: UInt32) {
        guard subtrees.contains(directory), mask & (Mask.deleteSelf | Mask.moveSelf) != 0 else { return }
        logger.error(
            "a watched directory was deleted or moved away and is no longer watched; restart the watcher once it is back",
            metadata: ["watch.directory": .string(directory)])
        if mask & Mask.moveSelf != 0 { removeWatches(under: directory) }
        if !directory.isEmpty { emit(.removed(path: directory)) }
        endIfNothingLeft()
    }

    private func recoverFromOverflow() {
        let overflows = status.recordOverflow()
        logger.warning(
            "inotify queue overflowed and events were lost; rescanning every watched subtree",
            metadata: [
                "watch.overflows": .stringConvertible(overflows),
                "watch.max_queued_events": .string(InotifySysctl.maxQueuedEvents.map(String.init) ?? "unknown"),
            ])
        var visited = Set<Int32>()
        for subtree in subtrees {
            rescan(subtree, reason: .overflow, visited: &visited, overflows: overflows)
        }
        // Directories deleted or moved away while events were dropped: their IN_IGNORED or
        // IN_MOVED_FROM may be among the lost events.
        let unreachable = directories.keys.filter { !visited.contains($0) }
        for descriptor in unreachable { removeWatch(descriptor) }
        endIfNothingLeft()
    }

    /// Walks `subtree` again, reporting every regular file, then the rescan itself.
    private func rescan(_ subtree: String, reason: RescanReason, visited: inout Set<Int32>, overflows: Int? = nil) {
        let walk = walk(subtree, reportFiles: true, visited: &visited)
        emit(.rescanned(directory: subtree, reason: reason, files: walk.files))
        var metadata: Logger.Metadata = [
            "watch.directory": .string(subtree),
            "watch.files": .stringConvertible(walk.files),
            "watch.rescan_reason": .string(reason.rawValue),
        ]
        if let overflows {
            metadata["watch.overflows"] = .stringConvertible(overflows)
            logger.warning("rescanned a subtree after an overflow", metadata: metadata)
        } else {
            logger.debug("rescanned a subtree", metadata: metadata)
        }
    }

    private func emit(_ event: WatchEvent) {
        // Counts first, so a consumer that sees an event also sees the watches behind it in `limits`.
        publishCounts()
        continuation?.yield(event)
        if let remaining = stopAfterEvents {
            stopAfterEvents = remaining - 1
            if remaining <= 1 { finished = true }
        }
    }

    private func endIfNothingLeft() {
        guard hadDirectories, directories.isEmpty, !finished else { return }
        finished = true
        logger.error("every watched directory is gone; the watcher stops", metadata: ["watch.root": .string(root)])
    }

    // MARK: Walking and watching

    private struct Walk {
        var files = 0
        /// The directory where `fs.inotify.max_user_watches` was hit, if it was.
        var limitReachedAt: String?
    }

    /// Walks `subtree` depth-first without following symlinks. Each directory gets its watch before
    /// it is listed, so a file created in it is either in the listing or announced by an event.
    private func walk(_ subtree: String, reportFiles: Bool, visited: inout Set<Int32>, stopAtLimit: Bool = false) -> Walk {
        var result = Walk()
        var pending = [subtree]
        while let relative = pending.popLast() {
            let path = WatchPath.absolute(root: root, relative)
            guard let node = FileNode(path: path), node.kind == .directory else { continue }
            switch addWatch(relative, path: path, key: node.key) {
            case .watching(let descriptor):
                visited.insert(descriptor)
            case .unidentified:
                break
            case .gone:
                continue
            case .limitReached:
                if stopAtLimit {
                    result.limitReachedAt = relative
                    return result
                }
                if result.limitReachedAt == nil {
                    result.limitReachedAt = relative
                    logger.error(
                        """
                        inotify watch limit reached; changes in this directory will be missed until the next audit. \
                        Raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=N)
                        """,
                        metadata: [
                            "watch.directory": .string(relative),
                            "watch.max_user_watches": .string(InotifySysctl.maxUserWatches.map(String.init) ?? "unknown"),
                        ])
                }
            case .failed(let code):
                logger.warning(
                    "could not watch a directory; changes in it will be missed until the next audit",
                    metadata: ["watch.directory": .string(relative), "watch.error": .string(String(cString: strerror(code)))])
            }
            let code = listDirectory(path) { entry in
                guard let node = entry.node else { return }
                guard let name = entry.name else {
                    logger.warning(
                        "a name that is not valid UTF-8 cannot be reported",
                        metadata: ["watch.directory": .string(relative), "file.name": .string(entry.rawName)])
                    return
                }
                let child = WatchPath.join(relative, name)
                switch node.kind {
                case .directory:
                    pending.append(child)
                case .regularFile where reportFiles:
                    result.files += 1
                    emit(.file(path: child, bytes: node.bytes, seen: Date()))
                default:
                    break
                }
            }
            if code != 0 && code != ENOENT && code != ENOTDIR {
                logger.warning(
                    "could not list a directory",
                    metadata: ["watch.directory": .string(relative), "watch.error": .string(String(cString: strerror(code)))])
            }
        }
        return result
    }

    private enum WatchOutcome {
        case watching(Int32)
        /// Added, but its descriptor could not be confirmed; its first event will register it.
        case unidentified
        case gone
        case limitReached
        case failed(Int32)
    }

    private func addWatch(_ relative: String, path: String, key: InodeKey) -> WatchOutcome {
        if inotifytools_watch_file(path, Mask.directoryWatch) != 0 {
            // IN_MASK_CREATE succeeded, so the inode had no live watch: one we had under this inode
            // number belonged to a deleted directory whose number was reused.
            if let stale = watchByInode[key] { forget(stale) }
            guard let descriptor = registerNewWatch(path) else { return .unidentified }
            directories[descriptor] = WatchedDirectory(path: relative, key: key)
            watchByInode[key] = descriptor
            hadDirectories = true
            return .watching(descriptor)
        }
        let code = Int32(inotifytools_error())
        switch code {
        case EEXIST:
            // The inode already has a live watch, and the kernel keeps one per inode: ours.
            guard let descriptor = watchByInode[key], directories[descriptor] != nil else { return .failed(code) }
            // Moved here while its events were lost in an overflow.
            directories[descriptor]?.path = relative
            return .watching(descriptor)
        case ENOENT, ENOTDIR:
            return .gone
        case ENOSPC:
            return .limitReached
        default:
            return .failed(code)
        }
    }

    /// The descriptor of the watch just added. libinotifytools does not return it, and its lookup
    /// by name can find a dead watch on the same path (the library cannot forget a watch the kernel
    /// dropped). The kernel hands out descriptors in rising order (idr_alloc_cyclic), so the new
    /// watch is the one after the last, which the name the library recorded for it confirms. If
    /// that ever fails, a lookup by name that yields a higher descriptor with our name is as good.
    private func registerNewWatch(_ path: String) -> Int32? {
        func recordedHere(_ descriptor: Int32) -> Bool {
            guard let recorded = inotifytools_filename_from_wd(descriptor).map({ String(cString: $0) }) else { return false }
            return recorded == path || recorded == path + "/"
        }
        var candidates = [lastWatchDescriptor &+ 1]
        for name in [path + "/", path] {
            let descriptor = inotifytools_wd_from_filename(name)
            if descriptor > lastWatchDescriptor { candidates.append(descriptor) }
        }
        guard let descriptor = candidates.first(where: recordedHere) else { return nil }
        lastWatchDescriptor = descriptor
        return descriptor
    }

    /// The directory a watch descriptor stands for. A watch added but not identified is
    /// registered here on its first event, from the name libinotifytools recorded for it.
    private func directory(for descriptor: Int32, mask: UInt32) -> String? {
        if let directory = directories[descriptor] { return directory.path }
        // A dead watch sends nothing after IN_IGNORED, and removed watches are gone from the library.
        guard mask & (Mask.ignored | Mask.deleteSelf | Mask.moveSelf | Mask.unmount) == 0, descriptor > 0,
            let recorded = inotifytools_filename_from_wd(descriptor).map({ String(cString: $0) })
        else { return nil }
        let path = recorded.count > 1 && recorded.hasSuffix("/") ? String(recorded.dropLast()) : recorded
        let relative: String
        if path == root {
            relative = ""
        } else if path.hasPrefix(root == "/" ? "/" : root + "/") {
            relative = String(path.dropFirst(root == "/" ? 1 : root.count + 1))
        } else {
            return nil
        }
        guard let node = FileNode(path: path), node.kind == .directory,
            watchByInode[node.key] == nil || watchByInode[node.key] == descriptor
        else { return nil }
        directories[descriptor] = WatchedDirectory(path: relative, key: node.key)
        watchByInode[node.key] = descriptor
        lastWatchDescriptor = max(lastWatchDescriptor, descriptor)
        return relative
    }

    /// Drops a watch the kernel has already removed (after IN_IGNORED).
    private func forget(_ descriptor: Int32) {
        guard let directory = directories.removeValue(forKey: descriptor) else { return }
        if watchByInode[directory.key] == descriptor { watchByInode[directory.key] = nil }
    }

    /// Removes a live watch from the kernel and the tables.
    private func removeWatch(_ descriptor: Int32) {
        _ = inotifytools_remove_watch_by_wd(descriptor)
        forget(descriptor)
    }

    private func removeWatches(under path: String) {
        let doomed = directories.filter { WatchPath.isWithin($0.value.path, subtree: path) }.map(\.key)
        for descriptor in doomed { removeWatch(descriptor) }
    }

    /// Empties libinotifytools' read buffer before any directory is watched. The library keeps that
    /// buffer in static variables that `inotifytools_cleanup` does not reset, so events an earlier
    /// watcher in this process read but never took would come first, with watch descriptors that may
    /// well name this watcher's directories. Closing a pipe under a watch queues IN_CLOSE_WRITE in
    /// the new instance: once it comes back, all before it was stale and nothing is left.
    private func flushLibraryBuffer() {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        defer { Glibc.close(descriptors[0]) }
        let path = "/proc/self/fd/\(descriptors[1])"
        let watched = inotifytools_watch_file(path, Int32(IN_CLOSE_WRITE)) != 0
        let marker = watched ? registerNewWatch(path) : nil
        Glibc.close(descriptors[1])
        guard let marker else {
            // Read until the library times out, which it does only with an empty buffer.
            while inotifytools_next_event(1) != nil {}
            return
        }
        while let event = inotifytools_next_event(1) {
            if event.pointee.wd == marker && event.pointee.mask & Mask.closeWrite != 0 { break }
        }
        _ = inotifytools_remove_watch_by_wd(marker)
    }

    /// Watches a private pipe through /proc/self/fd: a write to it queues IN_MODIFY, so a stop
    /// request ends the reader's wait at once. Without it the one-second timeout still applies.
    private func installWakeWatch() {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        }
        let path = "/proc/self/fd/\(descriptors[1])"
        if inotifytools_watch_file(path, Mask.wake) != 0, let descriptor = registerNewWatch(path) {
            wakeWatch = descriptor
            wakeReadDescriptor = descriptors[0]
            status.setWakeDescriptor(descriptors[1])
        } else {
            logger.debug("no wake-up watch; stopping may take up to a second")
            Glibc.close(descriptors[0])
            Glibc.close(descriptors[1])
        }
    }

    private func publishCounts() {
        guard directories.count != publishedCount else { return }
        publishedCount = directories.count
        status.setCounts(
            watchedDirectories: directories.count, watches: directories.count + (wakeWatch > 0 ? 1 : 0))
    }

    /// Releases libinotifytools (`inotifytools_cleanup` removes every watch) and the claim on it.
    func shutDown() {
        guard !closed else { return }
        closed = true
        inotifytools_cleanup()
        status.closeWakeDescriptor()
        if wakeReadDescriptor >= 0 { Glibc.close(wakeReadDescriptor) }
        wakeReadDescriptor = -1
        directories.removeAll()
        watchByInode.removeAll()
        status.setCounts(watchedDirectories: 0, watches: 0)
        InotifyClaim.shared.release(status.claim)
    }
}

/// The inotify bits the session uses, as the `UInt32` of `inotify_event.mask`.
enum Mask {
    static let closeWrite = UInt32(IN_CLOSE_WRITE)
    static let movedFrom = UInt32(IN_MOVED_FROM)
    static let movedTo = UInt32(IN_MOVED_TO)
    static let create = UInt32(IN_CREATE)
    static let delete = UInt32(IN_DELETE)
    static let deleteSelf = UInt32(IN_DELETE_SELF)
    static let moveSelf = UInt32(IN_MOVE_SELF)
    static let unmount = UInt32(IN_UNMOUNT)
    static let overflow = UInt32(IN_Q_OVERFLOW)
    static let ignored = UInt32(IN_IGNORED)
    static let isDirectory = UInt32(IN_ISDIR)

    /// IN_CREATE is there for new directories only: a file is reported when it is closed after
    /// writing (IN_CLOSE_WRITE) or renamed into place (IN_MOVED_TO), never half-written.
    /// IN_MASK_CREATE makes re-adding a watched inode fail with EEXIST instead of silently
    /// succeeding, which tells a live watch from a dead one.
    static let directoryWatch = Int32(
        bitPattern: closeWrite | movedFrom | movedTo | create | delete | deleteSelf | moveSelf
            | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW) | UInt32(IN_EXCL_UNLINK) | UInt32(IN_MASK_CREATE))

    static let wake = Int32(IN_MODIFY)
}

/// The name carried by an inotify event: the `len` bytes after the fixed header, NUL-padded.
struct EventName {
    let valid: String?
    let lossy: String

    init?(_ event: UnsafeMutablePointer<inotify_event>) {
        let length = Int(event.pointee.len)
        guard length > 0 else { return nil }
        let start = UnsafeRawPointer(event).advanced(by: MemoryLayout<inotify_event>.size)
            .assumingMemoryBound(to: UInt8.self)
        var count = 0
        while count < length && start[count] != 0 { count += 1 }
        guard count > 0 else { return nil }
        let bytes = UnsafeBufferPointer(start: start, count: count)
        valid = String(validating: bytes, as: UTF8.self)
        lossy = String(decoding: bytes, as: UTF8.self)
    }
}
