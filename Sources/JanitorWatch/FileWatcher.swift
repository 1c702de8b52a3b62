import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches subtrees of a media root with inotify (through libinotifytools) and yields what changed.
///
/// - Watches are added in `init`, so changes from then on are kept by the kernel even before
///   iteration begins (up to `fs.inotify.max_queued_events`; past that an overflow, healed by a
///   rescan once reading starts). Events are read only while the sequence is iterated, on one
///   dedicated thread. Iterate it once: a second iterator ends at once.
/// - Symlinks are never followed and only regular files are reported.
/// - Nothing is reported for files that existed at start unless `rescanAtStart` is set (the daemon
///   runs its own audit). New directories and queue overflows are healed by rescans, so a file may
///   be reported twice but is never missed; removals lost in an overflow are left to the audit.
/// - libinotifytools keeps global state, so one watcher may be active per process. Ending the
///   iteration (cancelling the task, or dropping the iterator) stops the thread and removes every
///   watch within milliseconds; a watcher created meanwhile waits for that (up to 3 seconds).
/// - The sequence also ends when every watched directory is gone or reading from inotify fails,
///   both logged at error.
/// - The stream buffers without bound: a consumer that stops reading without ending the iteration
///   lets events accumulate in memory.
public final class FileWatcher: AsyncSequence, Sendable {
    /// What the sequence yields.
    public typealias Element = WatchEvent

    /// The media root as watched: absolute, with symlinks above it resolved.
    public let root: String
    /// The root-relative subtrees actually watched (those that existed, without nested duplicates).
    public let directories: [String]

    private let logger: Logger
    private let status: WatchStatus
    /// The session until the first iteration takes it to the reader thread.
    private let pending: Mutex<WatchSession?>

    /// Watches `directories` (root-relative subtrees, "" for the whole root) below `root`, recursively.
    ///
    /// A missing subtree, or one reached through a symlink, is skipped with a log line. Throws when
    /// the root is missing or not a directory, when the inotify limits are reached, or when another
    /// watcher is active in this process. With `rescanAtStart`, iteration begins by reporting every
    /// existing file, then `.rescanned(reason: .start)` for each subtree.
    public init(root: String, directories: [String] = [""], rescanAtStart: Bool = false, logger: Logger) throws(WatchError) {
        let resolvedRoot = try Self.resolveRoot(root)
        var subtrees: [String] = []
        for directory in directories {
            guard let relative = WatchPath.normalised(directory) else { throw .invalidDirectory(directory) }
            if Self.isPlainDirectory(root: resolvedRoot, relative, logger: logger) { subtrees.append(relative) }
        }
        subtrees = WatchPath.outermost(subtrees)
        if subtrees.isEmpty {
            logger.warning(
                "none of the directories to watch exists; nothing will be reported", metadata: ["watch.root": .string(resolvedRoot)])
        }
        guard let claim = InotifyClaim.shared.acquire() else { throw .alreadyActive }
        let status = WatchStatus(claim: claim)
        let session = try WatchSession.open(
            root: resolvedRoot, subtrees: subtrees, logger: logger, status: status, rescanAtStart: rescanAtStart)
        self.root = resolvedRoot
        self.directories = subtrees
        self.logger = logger
        self.status = status
        self.pending = Mutex(session)
        let counts = status.counts
        logger.info(
            "watching for file changes",
            metadata: [
                "watch.root": .string(resolvedRoot),
                "watch.directories": .stringConvertible(counts.watchedDirectories),
                "watch.max_user_watches": .string(InotifySysctl.maxUserWatches.map(String.init) ?? "unknown"),
            ])
    }

    deinit {
        // Never iterated: nobody else will release libinotifytools.
        pending.withLock { $0.take() }?.shutDown()
    }

    /// The kernel's inotify limits and the watches this watcher holds (zero once it has stopped).
    public var limits: WatchLimits {
        let counts = status.counts
        return WatchLimits(
            maxUserWatches: InotifySysctl.maxUserWatches, watchesInUse: counts.watches,
            watchedDirectories: counts.watchedDirectories, maxQueuedEvents: InotifySysctl.maxQueuedEvents)
    }

    /// How many times the kernel queue overflowed (IN_Q_OVERFLOW) so far.
    public var overflows: Int { status.overflows }

    /// For tests: the reader stops after yielding `count` events as if the iteration had ended,
    /// leaving whatever the kernel and libinotifytools still hold unread.
    func stopReading(afterEvents count: Int) {
        pending.withLock { $0?.stopAfterEvents = count }
    }

    /// Starts the reader thread; only the first iterator receives events.
    public func makeAsyncIterator() -> Iterator {
        let (stream, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .unbounded)
        guard let session = pending.withLock({ $0.take() }) else {
            logger.error("a FileWatcher can be iterated only once; this iterator ends at once", metadata: ["watch.root": .string(root)])
            continuation.finish()
            return Iterator(base: stream.makeAsyncIterator())
        }
        let status = self.status
        continuation.onTermination = { _ in status.requestStop() }
        session.start(continuation)
        return Iterator(base: stream.makeAsyncIterator())
    }

    /// Iterates the watcher's events.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncStream<WatchEvent>.Iterator

        /// The next event, or nil once the watcher has stopped.
        public mutating func next() async -> WatchEvent? {
            await base.next()
        }

        /// The next event, or nil once the watcher has stopped.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> WatchEvent? {
            await base.next(isolation: actor)
        }
    }

    /// The root as an absolute path; it must be a directory itself, not a symlink to one (symlinks
    /// above it are resolved, as opening it would).
    private static func resolveRoot(_ root: String) throws(WatchError) -> String {
        if let node = FileNode(path: root), node.kind == .symlink { throw .rootIsSymlink(path: root) }
        guard let resolved = realpath(root, nil) else {
            let code = errno
            switch code {
            case ENOENT: throw .rootMissing(path: root)
            case ENOTDIR: throw .rootNotADirectory(path: root)
            default: throw .system(operation: "realpath", path: root, errno: code)
            }
        }
        defer { free(resolved) }
        let path = String(cString: resolved)
        guard let node = FileNode(path: path), node.kind == .directory else { throw .rootNotADirectory(path: root) }
        return path
    }

    /// Whether `relative` is a directory reached without symlinks; logs why not.
    private static func isPlainDirectory(root: String, _ relative: String, logger: Logger) -> Bool {
        var current = ""
        for component in relative.split(separator: "/") {
            current = WatchPath.join(current, String(component))
            let node = FileNode(path: WatchPath.absolute(root: root, current))
            let problem: Logger.Message
            switch node?.kind {
            case .directory?: continue
            case nil: problem = "a directory to watch does not exist; skipped"
            case .regularFile?: problem = "a directory to watch is a file; skipped"
            case .symlink?: problem = "a directory to watch is (or is reached through) a symlink, which is never followed; skipped"
            case .other?: problem = "a directory to watch is a special file; skipped"
            }
            logger.warning(problem, metadata: ["watch.root": .string(root), "watch.directory": .string(relative)])
            return false
        }
        return true
    }
}
