import Foundation
import JanitorWatch
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A media tree in a fresh temporary directory, removed when the test is done. Writes go
/// straight through open/write/close so that thousands of files can be made quickly.
final class MediaTree: Sendable {
    let root: String

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        root = FileManager.default.temporaryDirectory.path + "/janitor-watch-\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes a file of `bytes` bytes (its directory must exist) and closes it.
    func file(_ relative: String, bytes: Int = 3) {
        let descriptor = open(path(relative), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(descriptor >= 0, "cannot create \(relative): \(String(cString: strerror(errno)))")
        if bytes > 0 {
            let content = [UInt8](repeating: 0x61, count: bytes)
            precondition(write(descriptor, content, bytes) == bytes)
        }
        close(descriptor)
    }

    func directory(_ relative: String) {
        precondition(mkdir(path(relative), 0o755) == 0, "cannot create \(relative): \(String(cString: strerror(errno)))")
    }

    func symlink(_ relative: String, to target: String) {
        precondition(Glibc.symlink(target, path(relative)) == 0)
    }

    func move(_ relative: String, to destination: String) {
        precondition(rename(path(relative), destination) == 0, "cannot move \(relative): \(String(cString: strerror(errno)))")
    }

    func move(_ relative: String, within destination: String) {
        move(relative, to: path(destination))
    }

    func remove(_ relative: String) {
        precondition(Glibc.remove(path(relative)) == 0)
    }
}

/// What a test saw from a watcher, in order.
struct SeenEvents: Sendable {
    var events: [WatchEvent] = []
    var files: Set<String> = []
    var removed: Set<String> = []
    var rescans: [(directory: String, reason: RescanReason, files: Int)] = []
    /// `limits.watchedDirectories` once the last event had been received, before the iteration ended.
    var watchedDirectories = 0

    mutating func record(_ event: WatchEvent) {
        events.append(event)
        switch event {
        case .file(let path, _, _): files.insert(path)
        case .removed(let path): removed.insert(path)
        case .rescanned(let directory, let reason, let count): rescans.append((directory, reason, count))
        }
    }

    /// Events with the time left out, for comparing with what a test expects.
    var timeless: [Timeless] { events.map(Timeless.init) }

    enum Timeless: Equatable, Sendable {
        case file(String, Int64)
        case removed(String)
        case rescanned(String, RescanReason, Int)

        init(_ event: WatchEvent) {
            switch event {
            case .file(let path, let bytes, _): self = .file(path, bytes)
            case .removed(let path): self = .removed(path)
            case .rescanned(let directory, let reason, let files): self = .rescanned(directory, reason, files)
            }
        }
    }
}

/// Whether `expected` appears in `events` in this order (other events may come between).
func appearsInOrder(_ expected: [SeenEvents.Timeless], in events: [SeenEvents.Timeless]) -> Bool {
    var remaining = expected[...]
    for event in events where event == remaining.first { remaining = remaining.dropFirst() }
    return remaining.isEmpty
}

/// Iterates `watcher` (the first iteration starts its thread), calls `started` once the iterator
/// exists, and records events until `done` holds or `limit` passes; then the iteration ends.
/// A deadline is only a guard against hanging: tests assert on what was seen, never on time.
func watch(
    _ watcher: FileWatcher,
    for limit: Duration = .seconds(60),
    started: @escaping @Sendable () -> Void = {},
    onEvent: @escaping @Sendable (WatchEvent, SeenEvents) -> Void = { _, _ in },
    until done: @escaping @Sendable (SeenEvents) -> Bool
) async -> SeenEvents {
    await withTaskGroup(of: SeenEvents?.self) { group in
        group.addTask {
            var seen = SeenEvents()
            var iterator = watcher.makeAsyncIterator()
            started()
            while let event = await iterator.next() {
                seen.record(event)
                onEvent(event, seen)
                if done(seen) { break }
            }
            // Counts are published before each event is yielded, and the watcher stops (and
            // zeroes them) only once the iterator is gone.
            withExtendedLifetime(iterator) { seen.watchedDirectories = watcher.limits.watchedDirectories }
            return seen
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        var result = SeenEvents()
        for await value in group {
            group.cancelAll()
            if let value {
                result = value
                break
            }
        }
        return result
    }
}

/// One change to the tree and the event that shows it was seen.
struct Step: Sendable {
    let until: SeenEvents.Timeless
    let change: @Sendable () -> Void

    init(until: SeenEvents.Timeless, _ change: @escaping @Sendable () -> Void) {
        self.until = until
        self.change = change
    }
}

/// Makes each change once the previous step's event has been reported, and stops after the last.
func watch(_ watcher: FileWatcher, for limit: Duration = .seconds(60), steps: [Step]) async -> SeenEvents {
    let next = Mutex(0)
    return await watch(
        watcher, for: limit,
        started: { steps.first?.change() },
        onEvent: { event, _ in
            let reached = next.withLock { index -> Int? in
                guard index < steps.count, SeenEvents.Timeless(event) == steps[index].until else { return nil }
                index += 1
                return index
            }
            if let reached, reached < steps.count { steps[reached].change() }
        },
        until: { _ in next.withLock { $0 } == steps.count })
}

/// Runs `body` on a thread of its own (not the cooperative pool) and returns when it is done.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}

/// Waits for `signal`, then runs `body` on a thread of its own.
func onThread<T: Sendable>(after signal: AsyncStream<Void>, _ body: @escaping @Sendable () -> T) async -> T {
    for await _ in signal { break }
    return await onThread(body)
}

/// Log lines a watcher wrote, for tests that check what operators would read.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let recorded = Mutex<[Line]>([])

    var lines: [Line] { recorded.withLock { $0 } }

    var logger: Logger {
        Logger(label: "janitor.watch.tests") { _ in Handler(recorder: self) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).mapValues { "\($0)" }
            recorder.recorded.withLock {
                $0.append(Line(level: event.level, message: "\(event.message)", metadata: fields))
            }
        }
    }
}

/// Lowers `fs.inotify.max_queued_events` for inotify instances created until `restore()`; nil when
/// the setting is not writable here (it needs root and a writable /proc/sys).
struct QueueLimitOverride {
    static let path = "/proc/sys/fs/inotify/max_queued_events"
    let original: Int

    init?(lowerTo value: Int) {
        guard let text = try? String(contentsOfFile: Self.path, encoding: .utf8),
            let original = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            Self.write(value)
        else { return nil }
        self.original = original
    }

    func restore() {
        _ = Self.write(original)
    }

    private static func write(_ value: Int) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let text = Array("\(value)\n".utf8)
        return Glibc.write(descriptor, text, text.count) == text.count
    }
}

func readProcInt(_ path: String) -> Int? {
    (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}
