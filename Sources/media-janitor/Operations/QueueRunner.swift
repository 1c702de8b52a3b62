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
    let store: any StateStore
    let database: any AppDatabase
    let remover: SafeRemover
    let columns: [ReferenceSet.Column]
    let protectedDirectories: Set<String>
    let maxAttempts: Int
    let backoff: Backoff
    let crashPoint: CrashPoint?

    init(config: JanitorConfig, store: any StateStore, database: any AppDatabase, maxAttempts: Int? = nil, backoff: Backoff = Backoff()) {
        self.config = config
        self.store = store
        self.database = database
        remover = SafeRemover(root: config.mediaRoot)
        columns = ReferenceSet.columns(of: config.classes)
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
        /// The items this run removed or quarantined (with a shared store, other janitors'
        /// removals are theirs to report).
        var finishedIds: Set<Int64> = []
    }

    /// Recovers interrupted items, then processes due items in batches until none is due.
    ///
    /// A batch costs two commits, whatever its size: one records what is about to be done to
    /// every file (identity and destination), the other every outcome and removal record.
    ///
    /// `shouldStop` is asked between batches (`serve` on SIGTERM): the batch in hand is always
    /// finished, and what is left stays queued for the next run.
    func run(batchSize: Int, now: () -> Date = Date.init, shouldStop: () -> Bool = { false }) throws(CommandFailure) -> Summary {
        var summary = Summary()
        var processed = 0
        do {
            try recover(&summary)
            rounds: while !shouldStop() {
                // A round of up to 20 batches shares one re-check of the references: one pass
                // over each reference column, whose cost is the app's row count, so the drain
                // stays linear. Each batch still commits its intent and its outcomes.
                let round = try store.claimDue(limit: batchSize * 20, now: now())
                if round.isEmpty { break }
                let holders = try database.rowsHolding(round.map(\.path), columns: columns, mediaRoot: config.mediaRoot)
                for start in stride(from: 0, to: round.count, by: batchSize) {
                    if start > 0 && shouldStop() {
                        // Claimed but not started: back to pending for the next run.
                        for item in round[start...] { try store.release(item.id) }
                        break rounds
                    }
                    let batch = Array(round[start..<min(start + batchSize, round.count)])
                    try process(batch, holders: holders, ordinal: &processed, summary: &summary, now: now())
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

    private func process(_ batch: [QueueItem], holders: [String: [RowReference]], ordinal: inout Int, summary: inout Summary, now: Date) throws {
        let day = Self.day(now)
        var settled: [QueueTransition] = []
        var planned: [(item: QueueItem, identity: SafeRemover.Identity, destination: String?, ordinal: Int)] = []
        for item in batch {
            ordinal += 1
            crashPoint?.check("claimed", ordinal)
            if let first = holders[item.path]?.first {
                settled.append(.finish(item, outcome: "kept: still referenced by \(first.table).\(first.column) key \(first.key)", removedBytes: nil, quarantinePath: nil))
                summary.kept += 1
                continue
            }
            let found: SafeRemover.Identity?
            do throws(SafeRemover.RemovalError) {
                found = try remover.inspect(item.path)
            } catch {
                settled.append(transition(for: error, item, &summary))
                continue
            }
            guard let identity = found else {
                settled.append(.finish(item, outcome: "already gone", removedBytes: nil, quarantinePath: nil))
                summary.gone += 1
                continue
            }
            planned.append((item, identity, quarantineDestination(item, day: day), ordinal))
        }
        // Recorded before any file is touched, so a crash mid-batch can be resolved.
        let recorded = try store.apply(settled + planned.map { plan in
            .acting(
                id: plan.item.id, stage: plan.destination == nil ? "unlinking" : "moving", device: plan.identity.device,
                inode: plan.identity.inode, changeTime: plan.identity.changeTime, bytes: plan.identity.bytes, quarantinePath: plan.destination)
        }, maxAttempts: maxAttempts, backoff: backoff, now: now)
        // An item whose intent was not recorded is no longer this janitor's (with a shared
        // store, its lease ran out and another janitor took it over): never act without a record.
        planned = zip(planned, recorded.suffix(planned.count)).filter { $0.1 == .running }.map(\.0)
        var outcomes: [QueueTransition] = []
        var emptied: [String] = []
        for plan in planned {
            crashPoint?.check("acting", plan.ordinal)
            do throws(SafeRemover.RemovalError) {
                let acted: Bool
                if let destination = plan.destination {
                    acted = try remover.quarantine(plan.item.path, expected: plan.identity, to: destination)
                } else {
                    acted = try remover.unlink(plan.item.path, expected: plan.identity)
                }
                crashPoint?.check("acted", plan.ordinal)
                outcomes.append(completion(plan.item, acted: acted, bytes: plan.identity.bytes, destination: plan.destination, summary: &summary))
                if acted { emptied.append(plan.item.path) }
            } catch {
                outcomes.append(transition(for: error, plan.item, &summary))
            }
        }
        let states = try store.apply(outcomes, maxAttempts: maxAttempts, backoff: backoff, now: now)
        for state in states where state == .dead {
            summary.dead += 1
            summary.failed -= 1
        }
        for plan in planned { crashPoint?.check("done", plan.ordinal) }
        // Once per directory: the deepest file stands for its directory.
        var seen = Set<String>()
        for path in emptied where seen.insert(FilePath.directory(of: path)).inserted {
            remover.removeEmptyParents(of: path, keep: protectedDirectories)
        }
    }

    private func completion(_ item: QueueItem, acted: Bool, bytes: Int64, destination: String?, summary: inout Summary) -> QueueTransition {
        guard acted else {
            summary.gone += 1
            return .finish(item, outcome: "already gone", removedBytes: nil, quarantinePath: nil)
        }
        if destination == nil { summary.removed += 1 } else { summary.quarantined += 1 }
        summary.bytes += bytes
        summary.finishedIds.insert(item.id)
        return .finish(item, outcome: destination == nil ? "removed" : "quarantined", removedBytes: bytes, quarantinePath: destination)
    }

    /// A refusal dead-letters at once; an operating-system failure is retried (counted as
    /// failed here and corrected to dead when the store says `max_attempts` was reached).
    private func transition(for error: SafeRemover.RemovalError, _ item: QueueItem, _ summary: inout Summary) -> QueueTransition {
        switch error {
        case .refused(let reason):
            summary.refused += 1
            return .refuse(id: item.id, reason: "refused: \(reason)")
        case .failed:
            summary.failed += 1
            return .fail(id: item.id, error: error.description)
        }
    }

    /// `quarantine_dir/YYYY-MM-DD/<item id>-<file name>`, or nil when quarantine is off.
    private func quarantineDestination(_ item: QueueItem, day: String) -> String? {
        guard config.defaults.quarantine.value > 0 else { return nil }
        let name = String(item.path.split(separator: "/").last ?? "file").utf8.prefix(200)
        return "\(config.defaults.quarantineDirectory)/\(day)/\(item.id)-\(String(decoding: name, as: UTF8.self))"
    }

    /// `YYYY-MM-DD` in UTC.
    static func day(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
    }

    /// Resolves items a crash left `running`, from what was recorded before acting.
    private func recover(_ summary: inout Summary) throws {
        // A retention run cut short may still owe the queue its files.
        try RetentionRecovery(store: store, database: database).settle()
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
                    try store.apply([completion(item, acted: true, bytes: bytes ?? Int64(info.st_size), destination: destination, summary: &summary)])
                    remover.removeEmptyParents(of: item.path, keep: protectedDirectories)
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
                try store.apply([completion(item, acted: true, bytes: bytes ?? 0, destination: nil, summary: &summary)])
                remover.removeEmptyParents(of: item.path, keep: protectedDirectories)
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
