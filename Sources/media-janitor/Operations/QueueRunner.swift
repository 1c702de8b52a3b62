import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

#if canImport(Glibc)
import Glibc
#endif

/// Drains the deferred-deletion queue: re-checks references right before acting, refuses
/// unsafe paths, quarantines or unlinks, records every removal, and recovers items a crash
/// left half-done (DESIGN 6.2 and 6.5).
///
/// Each item goes `claimed` -> `moving`/`unlinking` (the file's identity and destination are
/// recorded first) -> act -> `done` with its removal record, so after a crash at any point
/// the recorded identity says whether the act happened.
struct QueueRunner {
    let config: JanitorConfig
    let store: StateStore
    let database: SQLiteAppDatabase
    let remover: SafeRemover
    let columns: [ReferenceSet.Column]
    let protectedDirectories: Set<String>
    let maxAttempts: Int
    let backoff: Backoff
    let crashPoint: CrashPoint?

    init(config: JanitorConfig, store: StateStore, database: SQLiteAppDatabase, maxAttempts: Int? = nil, backoff: Backoff = Backoff()) {
        self.config = config
        self.store = store
        self.database = database
        remover = SafeRemover(root: config.mediaRoot)
        columns = ReferenceSet(classes: config.classes, mediaRoot: config.mediaRoot).columns
        protectedDirectories = RuleEngine(classes: config.classes).protectedDirectories
        self.maxAttempts = maxAttempts ?? config.defaults.maxAttempts
        self.backoff = backoff
        crashPoint = CrashPoint(ProcessInfo.processInfo.environment["MEDIA_JANITOR_CRASH_AT"])
    }

    /// What one run did.
    struct Summary {
        var recovered = 0
        var removed = 0
        var quarantined = 0
        var bytes: Int64 = 0
        var kept = 0
        var gone = 0
        var failed = 0
        var dead = 0
        var refused = 0
    }

    /// Recovers interrupted items, then processes due items in batches until none is due.
    func run(batchSize: Int, now: () -> Date = Date.init) throws(CommandFailure) -> Summary {
        var summary = Summary()
        var processed = 0
        do {
            try recover(&summary)
            while true {
                let batch = try store.claimDue(limit: batchSize, now: now())
                if batch.isEmpty { break }
                // One query per column for the whole batch, right before acting on it.
                let holders = try database.rowsHolding(batch.map(\.path), columns: columns, mediaRoot: config.mediaRoot)
                for item in batch {
                    processed += 1
                    crashPoint?.check("claimed", processed)
                    try process(item, holders: holders[item.path] ?? [], ordinal: processed, summary: &summary, now: now())
                }
            }
        } catch let error as StoreError {
            throw .runtime(error.description)
        } catch let error as SourceError {
            throw error.failure
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw .runtime("\(error)")
        }
        return summary
    }

    private func process(_ item: QueueItem, holders: [RowReference], ordinal: Int, summary: inout Summary, now: Date) throws {
        if let first = holders.first {
            try store.finish(item, outcome: "kept: still referenced by \(first.table).\(first.column) key \(first.key)", removedBytes: nil, quarantinePath: nil, now: now)
            summary.kept += 1
            return
        }
        let found: SafeRemover.Identity?
        do throws(SafeRemover.RemovalError) {
            found = try remover.inspect(item.path)
        } catch {
            try handle(error, item, &summary, now: now)
            return
        }
        guard let identity = found else {
            try store.finish(item, outcome: "already gone", removedBytes: nil, quarantinePath: nil, now: now)
            summary.gone += 1
            return
        }
        let destination = quarantineDestination(item, now: now)
        try store.markActing(
            item.id, stage: destination == nil ? "unlinking" : "moving", device: identity.device, inode: identity.inode,
            changeTime: identity.changeTime, bytes: identity.bytes, quarantinePath: destination)
        crashPoint?.check("acting", ordinal)
        do {
            let acted: Bool
            if let destination {
                acted = try remover.quarantine(item.path, expected: identity, to: destination)
            } else {
                acted = try remover.unlink(item.path, expected: identity)
            }
            crashPoint?.check("acted", ordinal)
            try complete(item, acted: acted, bytes: identity.bytes, destination: destination, summary: &summary, now: now)
            crashPoint?.check("done", ordinal)
        } catch let error as SafeRemover.RemovalError {
            try handle(error, item, &summary, now: now)
        }
    }

    private func complete(_ item: QueueItem, acted: Bool, bytes: Int64, destination: String?, summary: inout Summary, now: Date) throws {
        guard acted else {
            try store.finish(item, outcome: "already gone", removedBytes: nil, quarantinePath: nil, now: now)
            summary.gone += 1
            return
        }
        try store.finish(item, outcome: destination == nil ? "removed" : "quarantined", removedBytes: bytes, quarantinePath: destination, now: now)
        remover.removeEmptyParents(of: item.path, keep: protectedDirectories)
        if destination == nil { summary.removed += 1 } else { summary.quarantined += 1 }
        summary.bytes += bytes
    }

    private func handle(_ error: SafeRemover.RemovalError, _ item: QueueItem, _ summary: inout Summary, now: Date) throws {
        switch error {
        case .refused(let reason):
            try store.refuse(item.id, reason: "refused: \(reason)", now: now)
            summary.refused += 1
        case .failed:
            let state = try store.fail(item.id, error: error.description, maxAttempts: maxAttempts, backoff: backoff, now: now)
            if state == .dead { summary.dead += 1 } else { summary.failed += 1 }
        }
    }

    /// `quarantine_dir/YYYY-MM-DD/<item id>-<file name>`, or nil when quarantine is off.
    private func quarantineDestination(_ item: QueueItem, now: Date) -> String? {
        guard config.defaults.quarantine.value > 0 else { return nil }
        let day = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let name = String(item.path.split(separator: "/").last ?? "file").utf8.prefix(200)
        return "\(config.defaults.quarantineDirectory)/\(day)/\(item.id)-\(String(decoding: name, as: UTF8.self))"
    }

    /// Resolves items a crash left `running`, from what was recorded before acting.
    private func recover(_ summary: inout Summary) throws {
        for interrupted in try store.interrupted() {
            let item = interrupted.item, bytes = interrupted.bytes, destination = interrupted.quarantinePath
            summary.recovered += 1
            guard item.stage == "moving" || item.stage == "unlinking", let device = interrupted.device, let inode = interrupted.inode,
                let changeTime = interrupted.changeTime
            else {
                try store.release(item.id)  // Claimed, nothing done yet.
                continue
            }
            let recorded = SafeRemover.Identity(device: device, inode: inode, bytes: bytes ?? 0, changeTime: changeTime)
            let current = (try? remover.inspect(item.path)) ?? nil
            let sameFile = current.map { $0.isSameFile(as: recorded) } ?? false
            if let destination {
                var info = stat()
                let landed = lstat(destination, &info) == 0
                if landed && sameFile {
                    // Copied across file systems, not yet unlinked: finish the move.
                    _ = try? remover.unlink(item.path, expected: recorded)
                }
                if landed {
                    try complete(item, acted: true, bytes: bytes ?? Int64(info.st_size), destination: destination, summary: &summary, now: Date())
                } else if sameFile {
                    try? FileManager.default.removeItem(atPath: destination + ".partial")
                    try store.release(item.id)
                } else {
                    try store.finish(item, outcome: "already gone", removedBytes: nil, quarantinePath: nil)
                    summary.gone += 1
                }
            } else if sameFile {
                try store.release(item.id)
            } else {
                try complete(item, acted: true, bytes: bytes ?? 0, destination: nil, summary: &summary, now: Date())
            }
        }
    }
}

/// A fault-injection seam for the crash tests: `MEDIA_JANITOR_CRASH_AT=STAGE:N` kills the
/// process with SIGKILL when the N-th item of a run reaches STAGE (`claimed`, `acting`,
/// `acted`, `done`). Unset in production.
struct CrashPoint {
    let stage: String
    let ordinal: Int

    init?(_ text: String?) {
        guard let text, let colon = text.firstIndex(of: ":"), let ordinal = Int(text[text.index(after: colon)...]) else { return nil }
        stage = String(text[..<colon])
        self.ordinal = ordinal
    }

    func check(_ stage: String, _ ordinal: Int) {
        if stage == self.stage && ordinal == self.ordinal { kill(getpid(), SIGKILL) }
    }
}
