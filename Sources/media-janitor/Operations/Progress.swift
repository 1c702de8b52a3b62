import Foundation
import JanitorCore
import JanitorReports
import JanitorStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The progress line of long work (`scan`, `usage`, `clean`, `queue run`, `retention`) on
/// standard error, one or two meters side by side:
///
///     scanning: 412,305 of ~500,000 files, 38.2 GiB · 61,200 files/s · ETA 1s | references: 1,204,332 rows · 402,110 rows/s · forum_post.image
///     removing: 12,400 of 20,000 files, 3.1 GiB · 842 files/s · ETA 9s
///
/// - Drawn only when standard error is a terminal and `--quiet` is off (`isEnabled`, set by
///   `Log.configure`); piped or redirected, nothing is drawn. `serve` never asks for it.
/// - Redrawn in place (`\r`, the text, erase to the end of the line) at most every `interval`,
///   cut to the terminal's width so it never wraps, and erased by `end()` before the report or
///   summary is written.
/// - Everything else written to standard error goes through `clearingLine` (log lines, warnings,
///   errors): the line is erased first and drawn again at the next update, so with `--verbose`
///   the debug lines and the progress line never share a line.
///
/// Libraries never draw: their loops call a `ProgressReporter` every few thousand items.
enum Progress {
    /// Whether the line is drawn: standard error is a terminal (not `TERM=dumb`) and `--quiet`
    /// is off. Set once by `Log.configure`, before any work.
    nonisolated(unsafe) static var isEnabled = false

    /// The least time between two frames: 0.1 s, or `MEDIA_JANITOR_PROGRESS_INTERVAL` seconds
    /// (0 draws every update, which is how the tests see frames on a tiny tree).
    static let interval: Duration = {
        guard let text = ProcessInfo.processInfo.environment["MEDIA_JANITOR_PROGRESS_INTERVAL"], let seconds = Double(text), seconds >= 0
        else {
            return .milliseconds(100)
        }
        return .milliseconds(Int64(seconds * 1000))
    }()

    /// One measured pass.
    struct Meter: Sendable {
        let id: Int
        /// `scanning`, `references`, `removing`...
        let label: String
        /// What is counted, plural: `files`, `rows`, `classes`.
        let unit: String
        /// How many are expected, when known.
        var total: Int?
        /// Whether `total` is a guess (a scan's last audit), shown as `~`.
        var estimated = false
        var showsBytes = false
        /// Names of the stages a reporter's `stage` index points into (the columns being read).
        var stages: [String] = []
        var count = 0
        var bytes: Int64 = 0
        var stage: Int?
        let started: ContinuousClock.Instant
        var finished = false
    }

    /// A meter on the line, held by the code doing the work.
    struct Handle: Sendable {
        let id: Int

        /// What a library loop calls.
        var reporter: ProgressReporter {
            let id = id
            return ProgressReporter { count, bytes, stage in
                Progress.update(id) {
                    $0.count = count; $0.bytes = bytes; $0.stage = stage
                }
            }
        }

        /// Sets how far the work has got.
        func update(count: Int, bytes: Int64? = nil, stage: Int? = nil) {
            Progress.update(id) { meter in
                meter.count = count
                if let bytes { meter.bytes = bytes }
                if let stage { meter.stage = stage }
            }
        }

        /// Marks the pass done (with its final count, when given): shown as `done` while another
        /// meter of the line goes on.
        func finish(count: Int? = nil) {
            Progress.update(id) { meter in
                if let count { meter.count = count }
                meter.finished = true
            }
        }
    }

    private struct Line {
        var meters: [Meter] = []
        var lastId = 0
        /// Whether a frame is on the screen.
        var visible = false
        var drawnAt: ContinuousClock.Instant?
    }

    private static let line = Mutex(Line())

    /// Adds a meter to the line and draws it at once; nil when progress is off.
    static func start(
        _ label: String, unit: String, total: Int? = nil, estimated: Bool = false, showsBytes: Bool = false, stages: [String] = []
    ) -> Handle? {
        guard isEnabled else { return nil }
        let now = ContinuousClock.now
        return line.withLock { line in
            line.lastId += 1
            line.meters.append(
                Meter(
                    id: line.lastId, label: label, unit: unit, total: total, estimated: estimated, showsBytes: showsBytes, stages: stages,
                    started: now))
            draw(&line, now: now, force: true)
            return Handle(id: line.lastId)
        }
    }

    /// Erases the line and forgets its meters: what follows starts on a clean line.
    static func end() {
        guard isEnabled else { return }
        line.withLock { line in
            if line.visible { write("\r\u{1B}[K") }
            line = Line(lastId: line.lastId)
        }
    }

    /// Writes something else to standard error (`write` does it) with the line erased first; the
    /// next update draws it again.
    static func clearingLine(_ write: () -> Void) {
        guard isEnabled else { return write() }
        line.withLock { line in
            if line.visible {
                Self.write("\r\u{1B}[K")
                line.visible = false
                line.drawnAt = nil
            }
            write()
        }
    }

    private static func update(_ id: Int, _ change: (inout Meter) -> Void) {
        let now = ContinuousClock.now
        line.withLock { line in
            guard let index = line.meters.firstIndex(where: { $0.id == id }) else { return }  // the line has ended
            change(&line.meters[index])
            draw(&line, now: now, force: false)
        }
    }

    private static func draw(_ line: inout Line, now: ContinuousClock.Instant, force: Bool) {
        if !force, let drawnAt = line.drawnAt, now - drawnAt < interval { return }
        var text = line.meters.map { $0.text(now: now) }.joined(separator: " | ")
        // Never as wide as the terminal: a line that wraps cannot be redrawn with `\r`.
        let width = terminalWidth()
        if width > 1, text.count > width - 1 { text = String(text.prefix(width - 2)) + "…" }
        write("\r" + text + "\u{1B}[K")
        line.visible = true
        line.drawnAt = now
    }

    /// The terminal's columns (0 when unknown).
    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
        return Int(size.ws_col)
    }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

extension Progress.Meter {
    /// `scanning: 412,305 of ~500,000 files, 38.2 GiB · 61,200 files/s · ETA 1s`
    func text(now: ContinuousClock.Instant) -> String {
        var text = "\(label): \(count.grouped)"
        // An estimate that was passed is no use any more.
        if let total, !finished, count <= total { text += " of \(estimated ? "~" : "")\(total.grouped)" }
        text += " \(unit)"
        if showsBytes { text += ", \(humanSize(bytes))" }
        if finished { return text + " · done" }
        let elapsed = (now - started) / .seconds(1)
        // Too early for a rate that means anything.
        if count > 0, elapsed >= 0.25 {
            let rate = Double(count) / elapsed
            text += " · \(Int(rate).grouped) \(unit)/s"
            if let total, count < total { text += " · ETA \(Self.duration(Double(total - count) / rate))" }
        }
        if let stage, stages.indices.contains(stage) { text += " · \(stages[stage])" }
        return text
    }

    /// `9s`, `2m05s`, `1h02m`
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h\(String(format: "%02d", whole % 3600 / 60))m"
    }
}

// MARK: - The meters of each kind of work

extension Progress {
    /// The walk of the media root, against the file count of the last audit in the history
    /// when there is one (an estimate: the tree may have changed since). Never creates the store.
    static func walking(_ config: JanitorConfig, shard: Shard?) -> Handle? {
        guard isEnabled else { return nil }
        var expected: Int?
        if case .sqlite(let path) = config.state, !FileManager.default.fileExists(atPath: path) {
            expected = nil
        } else if let last = try? Workspace.store(config).audits(limit: 1).first, last.summary.files > 0 {
            // A shard lists about 1/N of the tree.
            expected = last.summary.files / (shard?.count ?? 1)
        }
        return start("scanning", unit: "files", total: expected, estimated: true, showsBytes: true)
    }

    /// The reference read, naming the column being read.
    static func readingReferences(_ columns: [ReferenceSet.Column]) -> Handle? {
        start("references", unit: "rows", stages: columns.map(\.reference.qualifiedName))
    }

    /// A queue run, against the items due now.
    static func removing(_ store: any StateStore, now: Date) -> Handle? {
        guard isEnabled else { return nil }
        return start("removing", unit: "files", total: try? store.dueCount(now: now), showsBytes: true)
    }
}
