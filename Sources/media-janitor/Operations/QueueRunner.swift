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
/// Each item goes `claimed` -> `moving`/`setting-aside` (the file's identity and destination
/// are recorded first) -> act -> `done` with its removal record, so after a crash at any point
/// the recorded identity says whether the act happened. With quarantine off, a file is renamed
/// aside in its own directory and unlinked only after the references were looked at once more,
/// so a file the app wrote again meanwhile can still be put back.
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
            // Files moved into the quarantine or set aside whose references were not looked at since.
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
                    try settle(unverified, holders: holders, &summary, now: now())
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
                try? lookAgain(at: unverified, &summary, now: now())
                throw error
            }
            try lookAgain(at: unverified, &summary, now: now())
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

    /// A file this run moved into the quarantine, or set aside to be unlinked.
    private struct Moved {
        var item: QueueItem
        /// The quarantine path; nil for a file set aside next to itself (quarantine off).
        var destination: String?
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
            if item.attempts > 0 {
                // A failed attempt may have left the file set aside: it goes back first, referenced or not.
                do throws(SafeRemover.RemovalError) {
                    _ = try putBack(item)
                } catch {
                    settled.append(transition(for: error, item, &summary))
                    continue
                }
            }
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
                id: plan.item.id, stage: plan.destination == nil ? "setting-aside" : "moving", device: plan.identity.device,
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
                    acted = try remover.setAside(plan.item.path, expected: plan.identity, as: SafeRemover.asideName(forItem: plan.item.id))
                }
                faultPoint?.check("acted", plan.ordinal)
                if acted { moved.append(Moved(item: plan.item, destination: plan.destination, bytes: plan.identity.bytes)) }
                // A file set aside is unlinked, and its item finished, after the next look at the references.
                if acted && plan.destination == nil { continue }
                outcomes.append(completion(plan.item, acted: acted, bytes: plan.identity.bytes, destination: plan.destination, summary: &summary))
                if acted { emptied.append(plan.item.path) }
            } catch {
                outcomes.append(transition(for: error, plan.item, &summary))
                summary.halted = Self.haltsRun(error)
            }
        }
        try record(outcomes, &summary, now: now)
        for plan in planned { faultPoint?.check("done", plan.ordinal) }
        removeEmptyParents(of: emptied)
    }

    /// Commits outcomes, correcting `failed` to `dead` where the store says `max_attempts` was reached.
    private func record(_ outcomes: [QueueTransition], _ summary: inout Summary, now: Date) throws {
        let states = try store.apply(outcomes, maxAttempts: maxAttempts, backoff: backoff, now: now)
        for state in states where state == .dead {
            summary.dead += 1
            summary.failed -= 1
        }
    }

    /// Removes the directories the removals emptied, once per directory: the deepest file stands
    /// for its directory.
    private func removeEmptyParents(of removed: [String]) {
        var seen = Set<String>()
        for path in removed where seen.insert(FilePath.directory(of: path)).inserted {
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

    /// Settles the files moved or set aside since the references were last looked at, now that
    /// they were looked at again: a re-upload under the same name, written before this run
    /// looked at the file and saved after it read the references, is referenced again. One more
    /// look per round (not per file) closes that window, quarantine on or off.
    ///
    /// The look is the next round's pass over the references, or a pass of its own when the run
    /// ends (`lookAgain`).
    private func lookAgain(at moved: [Moved], _ summary: inout Summary, now: Date) throws {
        guard !moved.isEmpty else { return }
        faultPoint?.check("verify", 1)
        let holders: [String: [RowReference]]
        do {
            holders = try database.rowsHolding(moved.map(\.item.path), columns: columns, mediaRoot: config.mediaRoot)
        } catch {
            // Nothing is unlinked unseen: the run ends with the database's error (exit 3).
            Log.logger.error("cannot check whether the files just removed were referenced again; the quarantined ones stay restorable (see 'media-janitor quarantine list'), the ones set aside are put back and stay queued")
            try settle(moved, holders: nil, &summary, now: now)
            throw error
        }
        try settle(moved, holders: holders, &summary, now: now)
    }

    /// A quarantined file referenced again is brought back. A file set aside is put back when
    /// it is referenced again, or when the look failed (`holders` nil) and its item goes back
    /// to the queue; otherwise it is unlinked. Its item is finished only then, in one commit.
    private func settle(_ moved: [Moved], holders: [String: [RowReference]]?, _ summary: inout Summary, now: Date) throws {
        var outcomes: [QueueTransition] = []
        var emptied: [String] = []
        for (index, file) in moved.enumerated() {
            let holder = holders?[file.item.path]?.first
            if let destination = file.destination {
                if let holder { bringBack(file, from: destination, heldBy: holder, &summary) }
                continue
            }
            let outcome = settleAside(file, heldBy: holder, looked: holders != nil, &summary)
            outcomes.append(outcome)
            if case .finish(_, "removed", _, _) = outcome { emptied.append(file.item.path) }
            faultPoint?.check("settled", index + 1)
        }
        guard !outcomes.isEmpty else { return }
        try record(outcomes, &summary, now: now)
        removeEmptyParents(of: emptied)
    }

    /// Puts back or unlinks one file set aside. When the look at the references failed
    /// (`looked` false) it is put back and its item released. When it can be neither unlinked
    /// nor put back, the item fails: it stays set aside, and the retry puts it back first.
    private func settleAside(_ file: Moved, heldBy holder: RowReference?, looked: Bool, _ summary: inout Summary) -> QueueTransition {
        let aside = SafeRemover.asideName(forItem: file.item.id), path = file.item.path
        do throws(SafeRemover.RemovalError) {
            if holder != nil || !looked {
                switch try putBack(file.item) {
                case .putBack:
                    guard let holder else { return .release(id: file.item.id) }
                    Log.logger.notice("'\(path)' was referenced again by \(holder.table).\(holder.column) key \(holder.key) while being removed; put back")
                    summary.kept += 1
                    summary.restored += 1
                    return .finish(file.item, outcome: "kept: referenced again by \(holder.table).\(holder.column) key \(holder.key) while being removed", removedBytes: nil, quarantinePath: nil)
                case .superseded(let unlinked):
                    Log.logger.warning("a new file took the name '\(path)' while it was being removed; the file set aside was unlinked, the new one kept")
                    return completion(file.item, acted: unlinked, bytes: file.bytes, destination: nil, summary: &summary)
                case .nothingAside:
                    break
                }
            }
            let unlinked = try remover.discard(aside, nextTo: path)
            return completion(file.item, acted: unlinked, bytes: file.bytes, destination: nil, summary: &summary)
        } catch {
            if (try? remover.putBack(aside, to: path)) == nil {
                Log.logger.error("'\(path)' could be neither removed nor put back: \(error); it is set aside as '\(aside)' in its directory until the item is retried")
            }
            return transition(for: error, file.item, &summary)
        }
    }

    /// What putting back a file set aside did.
    private enum PutBack {
        case putBack
        /// A new file took the name meanwhile and was kept; the one set aside, no row's any
        /// more, was unlinked (false: it was not there either).
        case superseded(unlinked: Bool)
        case nothingAside
    }

    /// Puts the file set aside for an item back at its path, never over a new file there.
    private func putBack(_ item: QueueItem) throws(SafeRemover.RemovalError) -> PutBack {
        let aside = SafeRemover.asideName(forItem: item.id)
        do throws(SafeRemover.RemovalError) {
            return try remover.putBack(aside, to: item.path) ? .putBack : .nothingAside
        } catch .refused {
            return .superseded(unlinked: try remover.discard(aside, nextTo: item.path))
        }
    }

    private func bringBack(_ file: Moved, from destination: String, heldBy holder: RowReference, _ summary: inout Summary) {
        do throws(SafeRemover.RemovalError) {
            try remover.restore(from: destination, to: file.item.path)
        } catch {
            // Something is at the path again: the app wrote a new file there, and that
            // file is the one referenced. The quarantined one stays restorable.
            Log.logger.warning("'\(file.item.path)' is referenced again by \(holder.table).\(holder.column) key \(holder.key) and was not brought back: \(error)")
            return
        }
        Log.logger.notice("'\(file.item.path)' was referenced again by \(holder.table).\(holder.column) key \(holder.key) while being removed; brought back from the quarantine")
        summary.quarantined -= 1
        summary.bytes -= file.bytes
        summary.kept += 1
        summary.restored += 1
        summary.finishedIds.remove(file.item.id)
        do {
            if let record = try store.restorable(id: nil, path: file.item.path, since: nil).first(where: { $0.quarantinePath == destination }) {
                try store.markRestored(record.id, now: Date())
            }
        } catch {
            // The file is back; only the manifest still lists it, and a purge skips a
            // quarantine path that no longer exists.
            Log.logger.error("'\(file.item.path)' was brought back, but the state store could not record it: \(error)")
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

    /// Resolves an item a crash left set aside: the file goes back to its path and the item to
    /// the queue, to be looked at again with the references. Nil when nothing was set aside (the
    /// recorded identity then tells, as for an unlink); a `fail` when it cannot be put back.
    private func recoverAside(_ item: QueueItem, bytes: Int64, _ summary: inout Summary) -> QueueTransition? {
        do throws(SafeRemover.RemovalError) {
            switch try putBack(item) {
            case .putBack: return .release(id: item.id)
            case .superseded(let unlinked): return completion(item, acted: unlinked, bytes: bytes, destination: nil, summary: &summary)
            case .nothingAside: return nil
            }
        } catch {
            return transition(for: error, item, &summary)
        }
    }

    /// Resolves items a crash left `running`, from what was recorded before acting.
    private func recover(_ summary: inout Summary) throws {
        // A retention run cut short may still owe the queue its files.
        try RetentionRecovery(store: store, database: database).settle()
        for interrupted in try store.interrupted() {
            let item = interrupted.item, bytes = interrupted.bytes, destination = interrupted.quarantinePath
            summary.recovered += 1
            guard ["moving", "setting-aside", "unlinking"].contains(item.stage), let device = interrupted.device, let inode = interrupted.inode,
                let changeTime = interrupted.changeTime
            else {
                try store.release(item.id)  // Claimed, nothing done yet.
                continue
            }
            let recorded = SafeRemover.Identity(device: device, inode: inode, bytes: bytes ?? 0, changeTime: changeTime)
            let current = (try? remover.inspect(item.path)) ?? nil
            let sameFile = current.map { $0.isSameFile(as: recorded) } ?? false
            if item.stage == "setting-aside", let outcome = recoverAside(item, bytes: bytes ?? 0, &summary) {
                try record([outcome], &summary, now: Date())
                if case .finish = outcome { remover.removeEmptyParents(of: item.path, keep: protectedDirectories) }
                continue
            }
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
