import Foundation

/// One thing the watcher saw, with root-relative POSIX paths.
public enum WatchEvent: Sendable, Hashable {
    /// A regular file appeared or was finished (IN_CLOSE_WRITE, IN_MOVED_TO, or found by a rescan), with its size from lstat and when the watcher first saw it.
    case file(path: String, bytes: Int64, seen: Date)
    /// A file or directory went away (IN_DELETE, IN_MOVED_FROM).
    case removed(path: String)
    /// A subtree was walked again: a new directory (files created before its watch existed are reported as .file events before this), or after a queue overflow.
    case rescanned(directory: String, reason: RescanReason, files: Int)
}

/// Why a subtree was walked again.
public enum RescanReason: String, Sendable {
    /// A directory appeared (created or moved in); its files may predate its watch.
    case newDirectory = "new_directory"
    /// The kernel queue overflowed (IN_Q_OVERFLOW) and events were lost.
    case overflow
    /// The watcher was asked to walk every subtree when iteration began (`rescanAtStart`).
    case start
}
