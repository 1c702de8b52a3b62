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
    let faultPoint: FaultPoint?

    init(config: JanitorConfig, store: any StateStore, database: any AppDatabase, maxAttempts: Int? = nil, backoff: Backoff = Backoff()) {
        self.config = config
        self.store = store
        self.database = database
        remover = SafeRemover(root: config.mediaRoot)
        columns = ReferenceSet.columns(of: config.classes)
        protectedDirectories = RuleEngine(classes: config.classes).protectedDirectories
        self.maxAttempts = maxAttempts ?? config.defaults.maxAttempts
        self.backoff = backoff
        faultPoint = FaultPoint.fromEnvironment
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
        /// Quarantined, then brought back because the app referenced them again meanwhile
        /// (also counted in `kept`).
        var restored = 0
        /// The items this run removed or quarantined (with a shared store, other janitors'
        /// removals are theirs to report).
        var finishedIds: Set<Int64> = []
        /// The first removal that failed, for the closing error.
        var firstFailure: (path: String, error: SafeRemover.RemovalError)?
        /// Set when the file system itself failed (read-only, full, I/O error): every further
        /// item would fail the same way, so the run stopped and left them queued.
        var halted = false

        /// The error a command ends with (exit 3) when a removal failed, naming the first
        /// failure and what to fix; nil when none failed.
        var failureMessage: String? {
            guard let (path, error) = firstFailure else { return nil }
            let count = failed + dead
            let items = count == 1 ? "1 item" : "\(count) items"
            let what = halted
                ? "the run stopped at '\(path)': \(error)"
                : "\(items) could not be removed (first: '\(path)': \(error))"
            return "\(what); \(QueueRunner.advice(for: error))"
        }
    }

    /// Ends a command with exit 3 when a removal failed: the summary was written first.
    static func requireSuccess(_ summary: Summary) throws(CommandFailure) {
        if let message = summary.failureMessage { throw .runtime(message) }
    }

    /// What to do about a failed removal, by its cause.
    static func advice(for error: SafeRemover.RemovalError) -> String {
        guard case .failed(_, let code) = error else { return "see 'media-janitor queue list --state dead'" }
        let queued = "the files stay queued; see 'media-janitor queue list'"
        switch code {
        case EACCES, EPERM:
            return "the janitor's user may not change that directory: run it as the user that owns the media files (README, Security); \(queued), retried after the backoff"
        case EROFS:
            return "the file system is mounted read-only: remount it read-write, then run 'media-janitor queue run'; \(queued)"
        case ENOSPC, EDQUOT:
            return "the quarantine's file system is full: free space there, run 'media-janitor quarantine purge', or put 'quarantine_dir' on the media root's file system, where a move needs no space; \(queued)"
        case EIO:
            return "the disk reported an I/O error: check the kernel log before going on; \(queued)"
        default:
            return "\(queued), retried after the backoff"
        }
    }

    /// Whether a failure belongs to the file system rather than to one file, so that every
    /// further item would fail the same way.
    static func haltsRun(_ error: SafeRemover.RemovalError) -> Bool {
        guard case .failed(_, let code) = error else { return false }
        return [EROFS, ENOSPC, EDQUOT, EIO].contains(code)
    }

    /// Recovers interrupted items, then processes due items in batches until none is due.
    ///
    /// A batch costs two commits, whatever its size: one records what is about to be done to
    /// every file (identity and destination), the other every outcome and removal record.
    ///
    /// `shouldStop` is asked between batches (`serve` on SIGTERM): the batch in hand is always
    /// finished, and what is left stays queued for the next run.
    ///
    /// With `showingProgress`, the items done are shown against the items due on the progress
    /// line (on a terminal only), erased before this returns.
    func run(batchSize: Int, now: () -> Date = Date.init, shouldStop: () -> Bool = { false }, showingProgress: Bool = false) throws(CommandFailure) -> Summary {
        var summary = Summary()
        var processed = 0
        defer { if showingProgress { Progress.end() } }
        do {
            try recover(&summary)
            // Counted after the recovery, which may give interrupted items back to the queue.
            let removing = showingProgress ? Progress.removing(store, now: now()) : nil
            // Files moved into the quarantine whose references were not looked at since.
            var unverified: [Moved] = []
            do {
                rounds: while !shouldStop() {
                    // A round of up to 20 batches shares one re-check of the references: one pass
                    // over each reference column, whose cost is the app's row count, so the drain
                    // stays linear. Each batch still commits its intent and its outcomes.
                    let round = try store.claimDue(limit: batchSize * 20, now: now())
                    if round.isEmpty { break }
                    // The same pass is the previous round's look after its moves: nothing but
                    // the claim happened since, so the window is the same as a pass of its own.
                    if !unverified.isEmpty { faultPoint?.check("verify", 1) }
                    let holders = try database.rowsHolding(
                        round.map(\.path) + unverified.map(\.item.path), columns: columns, mediaRoot: config.mediaRoot)
                    bringBack(unverified, holders: holders, &summary)
                    unverified = []
                    for start in stride(from: 0, to: round.count, by: batchSize) {
                        if start > 0 && (shouldStop() || summary.halted) {
                            // Claimed but not started: back to pending for the next run.
                            for item in round[start...] { try store.release(item.id) }
                            break rounds
                        }
                        let batch = Array(round[start..<min(start + batchSize, round.count)])
                        try process(batch, holders: holders, ordinal: &processed, summary: &summary, moved: &unverified, now: now())
                        removing?.update(count: processed, bytes: summary.bytes)
                    }
                    if summary.halted { break }
                }
            } catch {
                lookAgain(at: unverified, &summary)
                throw error
            }
            lookAgain(at: unverified, &summary)
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

    /// A file this run moved into the quarantine.
    private struct Moved {
        var item: QueueItem
        var destination: String
        var bytes: Int64
    }

    private func process(
        _ batch: [QueueItem], holders: [String: [RowReference]], ordinal: inout Int, summary: inout Summary, moved: inout [Moved], now: Date
    ) throws {
        let day = Self.day(now)
        var settled: [QueueTransition] = []
        var planned: [(item: QueueItem, identity: SafeRemover.Identity, destination: String?, ordinal: Int)] = []
        for item in batch {
            ordinal += 1
            faultPoint?.check("claimed", ordinal)
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
            if summary.halted {
                // The file system failed on an earlier item of this batch: not tried, not counted.
                outcomes.append(.release(id: plan.item.id))
                continue
            }
            faultPoint?.check("acting", plan.ordinal)
            do throws(SafeRemover.RemovalError) {
                let acted: Bool
                if let destination = plan.destination {
                    acted = try remover.quarantine(plan.item.path, expected: plan.identity, to: destination)
                } else {
                    acted = try remover.unlink(plan.item.path, expected: plan.identity)
                }
                faultPoint?.check("acted", plan.ordinal)
                outcomes.append(completion(plan.item, acted: acted, bytes: plan.identity.bytes, destination: plan.destination, summary: &summary))
                if acted { emptied.append(plan.item.path) }
                if acted, let destination = plan.destination { moved.append(Moved(item: plan.item, destination: destination, bytes: plan.identity.bytes)) }
            } catch {
                outcomes.append(transition(for: error, plan.item, &summary))
                summary.halted = Self.haltsRun(error)
            }
        }
        let states = try store.apply(outcomes, maxAttempts: maxAttempts, backoff: backoff, now: now)
        for state in states where state == .dead {
            summary.dead += 1
            summary.failed -= 1
        }
        for plan in planned { faultPoint?.check("done", plan.ordinal) }
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
            if summary.firstFailure == nil { summary.firstFailure = (item.path, error) }
            return .fail(id: item.id, error: error.description)
        }
    }

    /// Brings back the quarantined files the app referenced again while they were being
    /// removed: a re-upload under the same name, written before this run looked at the file and
    /// saved after it read the references. One more look at the references per round (not
    /// per file) closes that window; with quarantine off an unlinked file cannot come back, and
    /// the window is the time between the round's look at the references and the unlink.
    ///
    /// The look is the next round's pass over the references (`bringBack`), or a pass of its own
    /// when the run ends (`lookAgain`).
    private func lookAgain(at moved: [Moved], _ summary: inout Summary) {
        guard !moved.isEmpty else { return }
        faultPoint?.check("verify", 1)
        do {
            let holders = try database.rowsHolding(moved.map(\.item.path), columns: columns, mediaRoot: config.mediaRoot)
            bringBack(moved, holders: holders, &summary)
        } catch {
            Log.logger.error("cannot check whether the quarantined files were referenced again: \(error); see 'media-janitor quarantine list'")
        }
    }

    private func bringBack(_ moved: [Moved], holders: [String: [RowReference]], _ summary: inout Summary) {
        for file in moved {
            guard let holder = holders[file.item.path]?.first else { continue }
            do throws(SafeRemover.RemovalError) {
                try remover.restore(from: file.destination, to: file.item.path)
            } catch {
                // Something is at the path again: the app wrote a new file there, and that
                // file is the one referenced. The quarantined one stays restorable.
                Log.logger.warning("'\(file.item.path)' is referenced again by \(holder.table).\(holder.column) key \(holder.key) and was not brought back: \(error)")
                continue
            }
            Log.logger.notice("'\(file.item.path)' was referenced again by \(holder.table).\(holder.column) key \(holder.key) while being removed; brought back from the quarantine")
            summary.quarantined -= 1
            summary.bytes -= file.bytes
            summary.kept += 1
            summary.restored += 1
            summary.finishedIds.remove(file.item.id)
            do {
                if let record = try store.restorable(id: nil, path: file.item.path, since: nil).first(where: { $0.quarantinePath == file.destination }) {
                    try store.markRestored(record.id, now: Date())
                }
            } catch {
                // The file is back; only the manifest still lists it, and a purge skips a
                // quarantine path that no longer exists.
                Log.logger.error("'\(file.item.path)' was brought back, but the state store could not record it: \(error)")
            }
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
