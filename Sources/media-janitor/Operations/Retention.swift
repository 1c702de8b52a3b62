import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

#if canImport(Glibc)
import Glibc
#endif

/// Plans retention for every class with `retention` rules: reads each class's rows, joins them
/// with their files' sizes and times from `lstat`, runs the planner, and decides each file's
/// fate with one re-check of every reference column of every class.
struct RetentionPlanning {
    /// One class's selected rows, as the run acts on them.
    struct ClassWork {
        let mediaClass: MediaClass
        let kind: any RowActionKind
        /// Selected rows with their policy, and the files the row action releases.
        var rows: [(row: StoredRetentionRow, reason: RetentionReason, releases: [String])]
    }

    let config: JanitorConfig
    let database: SQLiteAppDatabase

    /// The plan of the selected classes (nil: all) at `now`.
    func plan(selected: Set<Int>?, now: Date) throws(CommandFailure) -> (report: RetentionReport, work: [ClassWork]) {
        var works: [ClassWork] = []
        var totals: [(rows: Int, files: Int, bytes: Int64)] = []
        var stats: [String: FileFacts] = [:]
        let clock = ContinuousClock()
        var readTime = Duration.zero, planTime = Duration.zero
        for (index, mediaClass) in config.classes.enumerated() where selected?.contains(index) ?? true {
            guard let rules = mediaClass.retention else { continue }
            let readStart = clock.now
            let stored: [StoredRetentionRow]
            let limits: [String: Seconds]
            do throws(SourceError) {
                stored = try database.retentionRows(of: mediaClass, mediaRoot: config.mediaRoot)
                limits = try rules.maxAgePerOwner.map { ttl throws(SourceError) in try database.ownerLimits(ttl) } ?? [:]
            } catch {
                throw error.failure
            }
            var rows: [RetentionRow] = []
            rows.reserveCapacity(stored.count)
            var classFiles = Set<String>(), classBytes: Int64 = 0
            for row in stored {
                var files: [RetentionFile] = []
                for path in row.paths {
                    let facts = stats[path] ?? FileFacts(root: config.mediaRoot, path: path)
                    stats[path] = facts
                    guard facts.exists else { continue }
                    files.append(RetentionFile(path: path, bytes: facts.bytes, mtime: facts.mtime))
                    if classFiles.insert(path).inserted { classBytes += facts.bytes }
                }
                classBytes += row.rowBytes
                rows.append(RetentionRow(key: row.key, created: row.created, owner: row.owner, group: row.group, rowBytes: row.rowBytes, files: files))
            }
            let planStart = clock.now
            readTime += planStart - readStart
            let selection = RetentionPlanner(rules: rules).plan(rows, ownerLimits: limits, now: now)
            planTime += clock.now - planStart
            let kind = rules.rowAction.kind
            works.append(ClassWork(mediaClass: mediaClass, kind: kind, rows: selection.map { choice in
                let row = stored[choice.row]
                return (row, choice.reason, kind.keepsFiles ? [] : row.paths.filter { stats[$0]?.exists ?? false })
            }))
            totals.append((stored.count, classFiles.count, classBytes))
        }
        Log.logger.debug("planned retention", metadata: [
            "retention.rows": "\(totals.reduce(0) { $0 + $1.rows })", "retention.read_time": "\(readTime.seconds)", "retention.plan_time": "\(planTime.seconds)",
        ])
        // One re-check for the whole plan: which rows outside it still hold a released file.
        let released = Array(Set(works.flatMap { $0.rows.flatMap(\.releases) }))
        let holders: [String: [RowReference]]
        do throws(SourceError) {
            holders = try database.rowsHolding(released, columns: ReferenceSet.columns(of: config.classes), mediaRoot: config.mediaRoot)
        } catch {
            throw error.failure
        }
        var releasing = Set<String>()  // "table\0key" for deleted rows, "table\0key\0column" for nulled columns
        for work in works {
            for entry in work.rows where !work.kind.keepsFiles {
                if work.kind.removesRow {
                    releasing.insert("\(entry.row.table)\u{0}\(entry.row.key)")
                } else {
                    for reference in work.mediaClass.references where reference.table == entry.row.table {
                        if let column = reference.column { releasing.insert("\(entry.row.table)\u{0}\(entry.row.key)\u{0}\(column)") }
                    }
                }
            }
        }
        func stillHeld(_ path: String) -> RowReference? {
            holders[path]?.first { holder in
                !releasing.contains("\(holder.table)\u{0}\(holder.key)") && !releasing.contains("\(holder.table)\u{0}\(holder.key)\u{0}\(holder.column)")
            }
        }
        var classes: [RetentionClassPlan] = []
        var planned: [PlannedRow] = []
        // One string per distinct reason, shared by every row it selected.
        var reasons: [RetentionReason: String] = [:]
        for (work, total) in zip(works, totals) {
            var freed = Set<String>(), kept = Set<String>(), freedBytes: Int64 = 0, rowBytes: Int64 = 0
            var byPolicy: [String: Int] = [:]
            for entry in work.rows {
                byPolicy[entry.reason.policy, default: 0] += 1
                rowBytes += entry.row.rowBytes
                let files = entry.row.paths.map { path -> PlannedFile in
                    let facts = stats[path] ?? FileFacts(root: config.mediaRoot, path: path)
                    guard facts.exists else { return PlannedFile(path: path, bytes: 0, fate: .missing) }
                    if work.kind.keepsFiles {
                        kept.insert(path)
                        return PlannedFile(path: path, bytes: facts.bytes, fate: .rowKept)
                    }
                    if let holder = stillHeld(path) {
                        kept.insert(path)
                        return PlannedFile(path: path, bytes: facts.bytes, fate: .shared, heldBy: holder)
                    }
                    if freed.insert(path).inserted { freedBytes += facts.bytes }
                    return PlannedFile(path: path, bytes: facts.bytes, fate: .removed)
                }
                let reason = reasons[entry.reason] ?? entry.reason.description
                reasons[entry.reason] = reason
                planned.append(PlannedRow(
                    className: work.mediaClass.name, table: entry.row.table, key: entry.row.key, policy: entry.reason.policy, reason: reason,
                    created: entry.row.created, owner: entry.row.owner, group: entry.row.group, rowBytes: entry.row.rowBytes, files: files))
            }
            classes.append(RetentionClassPlan(
                name: work.mediaClass.name, rowAction: work.mediaClass.retention?.rowAction.configValue ?? "none", rows: total.rows, files: total.files,
                bytes: total.bytes, selectedRows: work.rows.count, freedFiles: freed.count, freedFileBytes: freedBytes, freedRowBytes: rowBytes,
                keptFiles: kept.subtracting(freed).count,
                byPolicy: RetentionReason.policyOrder.compactMap { name in byPolicy[name].map { PolicyCount(policy: name, rows: $0) } }))
        }
        let check = SafetyCheck(safety: config.safety)
        var violations = check.violations(planned: classes.map { ($0.name, $0.freedFiles, $0.freedFileBytes, $0.files, $0.rows) })
        violations += check.violations(rows: zip(classes, works).filter { $1.kind.changesRows }.map { ($0.0.name, $0.0.selectedRows, $0.0.rows) })
        let report = RetentionReport(generatedAt: now, dryRun: true, classes: classes, rows: planned, violations: violations.map(\.message))
        return (report, works)
    }
}

/// A file's size and time as `lstat` gives them; only regular files count.
struct FileFacts {
    let exists: Bool
    let bytes: Int64
    let mtime: Date

    init(root: String, path: String) {
        var info = stat()
        if lstat(root + "/" + path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            exists = true
            bytes = Int64(info.st_size)
            mtime = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        } else {
            exists = false
            bytes = 0
            mtime = .distantPast
        }
    }
}

/// Carries out a retention plan so that a crash at any point loses nothing and removes nothing
/// still referenced:
///
/// 1. the store journals every selected row, its files and (for `archive`) the whole row;
/// 2. the app's rows change, in batch transactions;
/// 3. the store marks the rows done and queues their files, in one transaction;
/// 4. the queue removes them, re-checking every reference column right before each removal.
///
/// A crash after 1 leaves the run `applying`; ``RetentionRecovery`` settles it from the journal
/// (rows still present are void, archives of rows still present dropped, files of rows gone
/// queued). Queueing after the row change, never before, keeps a concurrent queue worker from
/// finding the file still referenced and finishing the item while the row is about to go.
struct RetentionApplier {
    let config: JanitorConfig
    let store: StateStore
    let database: SQLiteAppDatabase
    let writer: SQLiteRowWriter
    let crashPoint = CrashPoint(ProcessInfo.processInfo.environment["MEDIA_JANITOR_CRASH_AT"])

    /// Applies the plan; returns what was done (the queue run included).
    func apply(_ works: [RetentionPlanning.ClassWork], now: Date) throws(CommandFailure) -> RetentionOutcome {
        var outcome = RetentionOutcome(rowsChanged: 0, rowsArchived: 0, failures: [], filesQueued: 0, filesRemoved: 0, bytesRemoved: 0)
        do {
            try RetentionRecovery(store: store, database: database).settle()
            var entries: [RetentionJournalEntry] = []
            for work in works where work.kind.changesRows {
                for (table, rows) in Dictionary(grouping: work.rows, by: \.row.table).sorted(by: { $0.key < $1.key }) {
                    let keyColumn = Self.keyColumn(of: table, in: work.mediaClass)
                    let archived = work.kind.archives ? try writer.archive(table: table, keyColumn: keyColumn, keys: rows.map(\.row.key)) : [:]
                    for entry in rows {
                        // A row gone since planning has nothing left to archive or change.
                        if work.kind.archives && archived[entry.row.key] == nil { continue }
                        entries.append(RetentionJournalEntry(
                            className: work.mediaClass.name, table: table, keyColumn: keyColumn, key: entry.row.key,
                            action: work.mediaClass.retention?.rowAction.configValue ?? "none", policy: entry.reason.description, paths: entry.releases,
                            archived: archived[entry.row.key]))
                    }
                }
            }
            guard !entries.isEmpty else { return outcome }
            let (run, recorded) = try store.beginRetention(entries, now: now)
            crashPoint?.check("retention-recorded", 1)
            var applied: [Int64] = [], failed: [(id: Int64, error: String)] = []
            var items: [NewQueueItem] = []
            let byTarget = Dictionary(grouping: recorded) { "\($0.className)\u{0}\($0.table)" }
            for work in works {
                for table in Set(work.rows.map(\.row.table)).sorted() {
                    guard let group = byTarget["\(work.mediaClass.name)\u{0}\(table)"], let first = group.first else { continue }
                    let pathColumns = work.mediaClass.references.filter { $0.table == table }.compactMap(\.column)
                    guard let statement = work.kind.statement(table: table, keyColumn: first.keyColumn, pathColumns: pathColumns) else { continue }
                    let result = try writer.apply(statement: statement, keys: group.map(\.key), batchSize: config.defaults.batchSize * 5)
                    let done = Set(result.applied)
                    let errors = Dictionary(result.failed.map { ($0.key, $0.error) }, uniquingKeysWith: { first, _ in first })
                    for entry in group {
                        if done.contains(entry.key) {
                            applied.append(entry.id)
                            if entry.archived != nil { outcome.rowsArchived += 1 }
                            items += entry.paths.map { NewQueueItem(path: $0, className: entry.className, reason: "retention: \(entry.policy)", notBefore: now) }
                        } else if let error = errors[entry.key] {
                            failed.append((entry.id, error))
                            outcome.failures.append("\(table) key \(entry.key): \(error)")
                        }
                    }
                }
            }
            outcome.rowsChanged = applied.count
            crashPoint?.check("retention-applied", 1)
            outcome.filesQueued = try store.finishRetention(run: run, applied: applied, failed: failed, void: [], items: Self.unique(items), now: now)
        } catch let failure as CommandFailure {
            throw failure
        } catch let error as SourceError {
            throw error.failure
        } catch {
            throw .runtime("\(error)")
        }
        return outcome
    }

    /// The key column of a table in a class (its first reference on that table).
    static func keyColumn(of table: String, in mediaClass: MediaClass) -> String {
        mediaClass.references.first { $0.table == table }?.key ?? "id"
    }

    /// One item per path (two selected rows may share a file).
    static func unique(_ items: [NewQueueItem]) -> [NewQueueItem] {
        var seen = Set<String>()
        return items.filter { seen.insert($0.path).inserted }
    }
}

/// Settles retention runs a crash left `applying`: a row still in the app's table was never
/// deleted (its entry is void, its archive dropped); a row gone was (its files are queued; the
/// queue's re-check keeps any still referenced). `set_null` and `soft_delete` rows are queued
/// either way: the re-check decides.
struct RetentionRecovery {
    let store: StateStore
    let database: SQLiteAppDatabase

    func settle() throws {
        for (run, entries) in try store.unfinishedRetention() {
            var applied: [Int64] = [], void: [Int64] = [], items: [NewQueueItem] = []
            for (_, group) in Dictionary(grouping: entries, by: { "\($0.table)\u{0}\($0.keyColumn)" }) {
                let removing = group.filter { $0.action == "delete" || $0.action == "archive" }
                let present = try database.existingKeys(table: group[0].table, keyColumn: group[0].keyColumn, keys: removing.map(\.key))
                for entry in group {
                    if (entry.action == "delete" || entry.action == "archive") && present.contains(entry.key) {
                        void.append(entry.id)
                    } else {
                        applied.append(entry.id)
                        items += entry.paths.map { NewQueueItem(path: $0, className: entry.className, reason: "retention: \(entry.policy)", notBefore: Date()) }
                    }
                }
            }
            _ = try store.finishRetention(run: run, applied: applied, failed: [], void: void, items: RetentionApplier.unique(items), recovered: true)
            Log.logger.notice("settled an interrupted retention run", metadata: ["retention.run": "\(run)", "retention.applied": "\(applied.count)", "retention.void": "\(void.count)"])
        }
    }
}
