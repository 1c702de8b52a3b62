import Foundation
import JanitorCore
import JanitorReports
import JanitorSources
import JanitorWatch
import Logging
import ServiceLifecycle
import Synchronization

/// Knows the media tree as it changes. The inotify watches go in first, then one walk loads the
/// usage counters (so nothing created during the walk is missed), then every event moves them:
/// new files as they are finished, removals, and rescans after a new directory or a queue
/// overflow (counted in `janitor_watcher_overflows_total`). A class whose files alone pass its
/// `max_total_size` gets a retention run at once, not at the next `schedule.retention`.
final class WatcherService: Service, Sendable {
    let sidecar: Sidecar
    let watch: Bool
    /// Where `max_total_size` crossings go.
    let caps: CapTrigger
    private let status = Mutex<String?>(nil)

    init(sidecar: Sidecar, watch: Bool, caps: CapTrigger) {
        self.sidecar = sidecar
        self.watch = watch
        self.caps = caps
    }

    /// The watcher's part of `/healthz` (a JSON object), nil when it is not running.
    func health() -> String? { status.withLock { $0 } }

    func run() async throws {
        let sidecar = self.sidecar
        var watcher: FileWatcher?
        if watch {
            do {
                watcher = try FileWatcher(root: sidecar.config.mediaRoot, directories: [""], logger: sidecar.logger)
            } catch {
                sidecar.metrics.error("watcher")
                sidecar.logger.error("the file watcher could not start; usage moves only with removals", metadata: ["error": "\(error)"])
            }
        }
        do {
            let listing = try await sidecar.onWorker { try DiskWalker(root: sidecar.config.mediaRoot).walk(capacityHint: 1 << 14) }
            sidecar.usage.load(listing)
        } catch {
            sidecar.metrics.error("watcher")
            sidecar.logger.error("the first walk of the media root failed; usage stays empty", metadata: ["error": "\(error)"])
        }
        guard let watcher else { return try await gracefulShutdown() }
        publish(watcher)
        if let headroom = watcher.limits.headroom {
            sidecar.logger.info("inotify watch headroom", metadata: ["watch.headroom": "\(headroom)", "watch.directories": "\(watcher.limits.watchedDirectories)"])
        }
        // Ending the iteration (graceful shutdown) stops the watcher's thread and removes its watches.
        // First-seen times go to the store in batches, a quarter of a second apart at most.
        let seen = SeenBuffer()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await self.record(seen.take())
                }
            }
            for try await event in watcher.cancelOnGracefulShutdown() {
                handle(event)
                if case .file(let path, _, let time) = event { seen.add(path, time) }
                if case .rescanned = event { publish(watcher) }
            }
            group.cancelAll()
        }
        await record(seen.take())
        // The watcher can also stop by itself (every watched directory gone, a read failure):
        // the other services go on, and usage then moves only with removals.
        if !Task.isShuttingDownGracefully {
            sidecar.metrics.error("watcher")
            sidecar.logger.error("the file watcher stopped; usage moves only with removals until serve restarts")
            status.withLock { $0 = nil }
            try await gracefulShutdown()
        }
    }

    /// Stores first-seen times, so an audit counts grace from them too.
    private func record(_ files: [(path: String, seen: Date)]) async {
        guard !files.isEmpty else { return }
        let sidecar = self.sidecar
        let longest = sidecar.config.classes.map(\.grace.timeInterval).max() ?? 0
        do {
            try await sidecar.onIntake { try sidecar.store.recordSeen(files, forgetBefore: Date().addingTimeInterval(-max(longest, 86_400))) }
        } catch {
            sidecar.metrics.error("watcher")
            sidecar.logger.error("cannot record first-seen times", metadata: ["error": "\(error)"])
        }
    }

    private func handle(_ event: WatchEvent) {
        switch event {
        case .file(let path, let bytes, _):
            sidecar.metrics.watcherFiles(1)
            if let owner = sidecar.usage.file(path, bytes: bytes) { caps.check(owner, usage: sidecar.usage) }
        case .removed(let path):
            sidecar.usage.removed(path)
        case .rescanned(let directory, let reason, let files):
            if reason == .overflow {
                sidecar.metrics.watcherOverflow()
                sidecar.logger.warning("inotify queue overflowed; rescanned", metadata: ["watch.directory": "\(directory)", "watch.files": "\(files)"])
            }
        }
    }

    private func publish(_ watcher: FileWatcher) {
        let limits = watcher.limits
        var json = JSONWriter()
        json.beginObject()
        json.field("watched_directories", limits.watchedDirectories)
        json.field("watches_in_use", limits.watchesInUse)
        json.field("max_user_watches", limits.maxUserWatches.map(Int64.init))
        json.field("headroom", limits.headroom.map(Int64.init))
        json.field("overflows", watcher.overflows)
        json.endObject()
        status.withLock { $0 = json.string }
    }
}

/// Asks the scheduler for a retention run of a class as soon as its files alone pass its
/// `max_total_size` (rows' `size` bytes only add to that), at most once every 10 seconds per
/// class.
final class CapTrigger: Sendable {
    private let caps: [Int: Int64]
    private let state = Mutex<(requested: Set<Int>, last: [Int: ContinuousClock.Instant])>(([], [:]))
    let doorbell = Doorbell()

    init(classes: [MediaClass]) {
        var caps: [Int: Int64] = [:]
        for (index, mediaClass) in classes.enumerated() {
            if let cap = mediaClass.retention?.maxTotalSize, mediaClass.retention?.rowAction.kind.changesRows == true { caps[index] = cap }
        }
        self.caps = caps
    }

    func check(_ classIndex: Int, usage: UsageTracker) {
        guard let cap = caps[classIndex], usage.totals(ofClass: classIndex).bytes > cap else { return }
        let now = ContinuousClock.now
        let ring = state.withLock { state -> Bool in
            if let last = state.last[classIndex], now - last < .seconds(10) { return false }
            state.last[classIndex] = now
            state.requested.insert(classIndex)
            return true
        }
        if ring { doorbell.ring() }
    }

    /// The classes asked for since the last call.
    func take() -> Set<Int> {
        state.withLock { state in
            defer { state.requested = [] }
            return state.requested
        }
    }
}

/// Files seen since the last flush to the store.
final class SeenBuffer: Sendable {
    private let files = Mutex<[(path: String, seen: Date)]>([])

    func add(_ path: String, _ seen: Date) { files.withLock { $0.append((path, seen)) } }

    func take() -> [(path: String, seen: Date)] {
        files.withLock { files in
            defer { files.removeAll() }
            return files
        }
    }
}
