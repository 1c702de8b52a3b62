import Foundation

/// The inotify limits that bound a watcher, and how much of them it uses.
public struct WatchLimits: Sendable, Equatable {
    /// `fs.inotify.max_user_watches`: watches one user may hold across all processes; nil when unreadable.
    public var maxUserWatches: Int?
    /// Inotify watches this watcher holds: one per watched directory plus one private wake-up watch.
    public var watchesInUse: Int
    /// Directories this watcher has a watch on.
    public var watchedDirectories: Int
    /// `fs.inotify.max_queued_events`: events the kernel queues before it drops them and reports an overflow.
    public var maxQueuedEvents: Int?

    /// Creates a value; the watcher builds these, tests compare them.
    public init(maxUserWatches: Int?, watchesInUse: Int, watchedDirectories: Int, maxQueuedEvents: Int?) {
        self.maxUserWatches = maxUserWatches
        self.watchesInUse = watchesInUse
        self.watchedDirectories = watchedDirectories
        self.maxQueuedEvents = maxQueuedEvents
    }

    /// Watches still available to this user (`maxUserWatches - watchesInUse`); an upper bound, since other processes of the same user hold watches too.
    public var headroom: Int? {
        maxUserWatches.map { $0 - watchesInUse }
    }
}

/// Reads the kernel's inotify settings.
enum InotifySysctl {
    static let maxUserWatchesPath = "/proc/sys/fs/inotify/max_user_watches"
    static let maxQueuedEventsPath = "/proc/sys/fs/inotify/max_queued_events"
    static let maxUserInstancesPath = "/proc/sys/fs/inotify/max_user_instances"

    static var maxUserWatches: Int? { readInt(maxUserWatchesPath) }
    static var maxQueuedEvents: Int? { readInt(maxQueuedEventsPath) }
    static var maxUserInstances: Int? { readInt(maxUserInstancesPath) }

    static func readInt(_ path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
