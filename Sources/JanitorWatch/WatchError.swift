#if canImport(Glibc)
import Glibc
#endif

/// Why a watcher could not start; each message says what to fix.
public enum WatchError: Error, CustomStringConvertible, Equatable {
    /// The media root does not exist.
    case rootMissing(path: String)
    /// The media root exists but is not a directory.
    case rootNotADirectory(path: String)
    /// The media root is a symlink; like the disk walker, the watcher never follows one.
    case rootIsSymlink(path: String)
    /// A watched subtree was not a plain root-relative path.
    case invalidDirectory(String)
    /// `fs.inotify.max_user_watches` was reached while adding watches.
    case watchLimitReached(path: String, limit: Int?, watchesNeededAtLeast: Int)
    /// `fs.inotify.max_user_instances` was reached, so no inotify instance could be created.
    case instanceLimitReached(limit: Int?)
    /// Another FileWatcher in this process is still active (libinotifytools keeps one global instance).
    case alreadyActive
    /// A system call failed for another reason.
    case system(operation: String, path: String, errno: Int32)

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .rootMissing(let path):
            return "media root '\(path)' does not exist; create it or fix the configured root"
        case .rootNotADirectory(let path):
            return "media root '\(path)' is not a directory; point the configured root at the media directory"
        case .rootIsSymlink(let path):
            return "media root '\(path)' is a symlink, which is never followed; point the configured root at the directory it links to"
        case .invalidDirectory(let directory):
            return "watched directory '\(directory)' must be relative to the media root, without '..' components"
        case .watchLimitReached(let path, let limit, let needed):
            let current = limit.map { " (now \($0))" } ?? ""
            let suggested = max(needed * 2, (limit ?? 8192) * 2)
            return "inotify watch limit fs.inotify.max_user_watches\(current) reached while watching '\(path)'; "
                + "at least \(needed) directories need a watch. Raise it with "
                + "'sysctl -w fs.inotify.max_user_watches=\(suggested)' "
                + "(persist it in /etc/sysctl.d/) or watch fewer directories"
        case .instanceLimitReached(let limit):
            let current = limit.map { " (now \($0))" } ?? ""
            return "inotify instance limit fs.inotify.max_user_instances\(current) reached; close other watchers of this user "
                + "or raise it with 'sysctl -w fs.inotify.max_user_instances=\((limit ?? 128) * 2)'"
        case .alreadyActive:
            return "another FileWatcher is active in this process; libinotifytools allows one at a time, "
                + "so end the other watcher's iteration (or drop it) before creating a new one"
        case .system(let operation, let path, let code):
            return "\(operation) failed for '\(path)': \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
