import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

#if canImport(Glibc)
import Glibc
#endif

/// Gathers what retention planning needs (each class's rows, owners' limits, files from
/// `lstat`, and one re-check of every reference column) and hands it to the pure
/// ``RetentionPlanBuilder``.
struct RetentionPlanning {
    let config: JanitorConfig
    let database: any AppDatabase

    /// The plan of the selected classes (nil: all) at `now`, with the selections a real run acts on.
    /// With `showingProgress`, the classes read are shown on the progress line (on a terminal only).
    func plan(selected: Set<Int>?, now: Date, showingProgress: Bool = false) throws(CommandFailure) -> (report: RetentionReport, selections: [RetentionSelection]) {
        let classes = config.classes.enumerated().filter { selected?.contains($0.offset) ?? true }.map(\.element).filter { $0.retention != nil }
        let planning = showingProgress ? Progress.start("planning", unit: "classes", total: classes.count, stages: classes.map(\.name) + ["re-checking references"]) : nil
        defer { if showingProgress { Progress.end() } }
        let builder = RetentionPlanBuilder(config: config, now: now)
        var facts: [String: FileFacts?] = [:]
        func look(_ path: String) -> FileFacts? {
            if let known = facts[path] { return known }
            let found = Self.lstat(root: config.mediaRoot, path: path)
            facts[path] = found
            return found
        }
        var selections: [RetentionSelection] = []
        let clock = ContinuousClock()
        var readTime = Duration.zero, planTime = Duration.zero, rowCount = 0
        let problems: [String]
        do throws(SourceError) {
            problems = try database.retentionProblems(classes)
        } catch {
            throw error.failure
        }
        guard problems.isEmpty else {
            for problem in problems { Console.error("error: \(problem)") }
            throw .usage("retention cannot run safely on this database (\(problems.count) problem\(problems.count == 1 ? "" : "s") above); nothing was changed")
        }
        do throws(SourceError) {
            for (index, mediaClass) in classes.enumerated() {
                planning?.update(count: index, stage: index)
                let readStart = clock.now
                let rows = try database.retentionRows(of: mediaClass, mediaRoot: config.mediaRoot)
                var limits: [String: Seconds] = [:]
                if let ttl = mediaClass.retention?.maxAgePerOwner {
                    let read = try database.ownerLimits(ttl)
                    limits = read.limits
                    if read.invalid > 0 {
                        Console.warning("class '\(mediaClass.name)': \(read.invalid) value\(read.invalid == 1 ? "" : "s") of \(ttl.table).\(ttl.column) \(read.invalid == 1 ? "is" : "are") not a number of \(ttl.unit.rawValue) from 0 to 1000 years; \(read.invalid == 1 ? "that owner falls" : "those owners fall") back to max_age")
                    }
                }
                let planStart = clock.now
                readTime += planStart - readStart
                selections.append(builder.select(mediaClass, rows: rows, ownerLimits: limits, facts: look))
                planTime += clock.now - planStart
                rowCount += rows.count
            }
            Log.logger.debug("planned retention", metadata: [
                "retention.rows": "\(rowCount)", "retention.read_time": "\(readTime.seconds)", "retention.plan_time": "\(planTime.seconds)",
            ])
            planning?.update(count: classes.count, stage: classes.count)
            // One re-check for the whole plan: which rows, of any class, still hold a released file.
            let holders = try database.rowsHolding(
                RetentionPlanBuilder.released(selections), columns: ReferenceSet.columns(of: config.classes), mediaRoot: config.mediaRoot)
            return (builder.plan(selections, holders: holders, facts: look), selections)
        } catch {
            throw error.failure
        }
    }

    /// A path's file under `root`, when it is a regular file (never following a symlink).
    static func lstat(root: String, path: String) -> FileFacts? {
        var info = stat()
        guard Glibc.lstat(root + "/" + path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileFacts(bytes: Int64(info.st_size), mtime: Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9))
    }
}

/// Carries out a retention plan so that a crash at any point loses nothing and removes nothing
/// still referenced. Per batch of rows of one table:
///
/// 1. in one `BEGIN IMMEDIATE` transaction of the app's database (no app write can slip in):
///    read each row as it is now, and skip one that is gone or no longer holds the planned
///    files (the app changed it since planning; the next run sees it afresh);
/// 2. journal the rows in the store (for `archive`, the whole row as just read) and commit
///    that, still inside the app's transaction;
/// 3. apply the row action and commit the app's transaction;
/// 4. in one store transaction, mark the rows done and queue their files.
///
/// A crash before 3 commits leaves journalled rows that never changed; one after leaves rows
/// changed whose files are not queued yet. ``RetentionRecovery`` tells the two apart from the
/// rows as they are. Files are queued only after the row change, never before: a queue worker
/// running meanwhile would otherwise find them still referenced and finish them as kept.
/// The queue re-checks every reference column right before each removal in any case.
struct RetentionApplier {
    let config: JanitorConfig
    let store: any StateStore
    let database: any AppDatabase
    let writer: any AppRowWriter
    let faultPoint = FaultPoint.fromEnvironment

    /// Applies the selections; `freed` are the files the plan found free (their derivatives go
    /// with them). Returns what was done and the run id. With `showingProgress`, the rows done
    /// are shown against the rows selected on the progress line (on a terminal only).
    func apply(_ selections: [RetentionSelection], freed: Set<String>, now: Date, showingProgress: Bool = false) throws(CommandFailure) -> (outcome: RetentionOutcome, run: Int64?) {
        var outcome = RetentionOutcome(rowsChanged: 0, rowsArchived: 0, failures: [], filesQueued: 0, filesRemoved: 0, bytesRemoved: 0)
        defer { if showingProgress { Progress.end() } }
        do {
            try RetentionRecovery(store: store, database: database).settle()
            guard selections.contains(where: { $0.kind.changesRows && !$0.entries.isEmpty }) else { return (outcome, nil) }
            let run = try store.startRetention(owner: RetentionRecovery.owner, now: now)
            var finder = DerivativeFinder(root: config.mediaRoot)
            var batches = 0
            let selected = selections.filter(\.kind.changesRows).map(\.entries.count).reduce(0, +)
            let applying = showingProgress ? Progress.start("applying", unit: "rows", total: selected) : nil
            var rowsDone = 0
            for selection in selections where selection.kind.changesRows {
                let action = selection.mediaClass.retention?.rowAction.configValue ?? "none"
                for (table, entries) in Dictionary(grouping: selection.entries, by: \.row.table).sorted(by: { $0.key < $1.key }) {
                    let pathColumns = selection.mediaClass.references.filter { $0.table == table }.compactMap(\.column)
                    guard let statement = selection.kind.statement(table: table, keyColumn: entries[0].row.keyColumn, pathColumns: pathColumns, dialect: writer.dialect) else { continue }
                    for start in stride(from: 0, to: entries.count, by: config.defaults.batchSize) {
                        let batch = Array(entries[start..<min(start + config.defaults.batchSize, entries.count)])
                        batches += 1
                        let result = try applyBatch(batch, selection: selection, action: action, statement: statement, pathColumns: pathColumns, run: run, ordinal: batches)
                        faultPoint?.check("retention-applied", batches)
                        rowsDone += batch.count
                        applying?.update(count: rowsDone)
                        var items: [NewQueueItem] = []
                        for entry in result.applied {
                            items += entry.paths.map { NewQueueItem(path: $0, className: entry.className, reason: "retention: \(entry.policy)", notBefore: now) }
                            for path in entry.paths where freed.contains(path) {
                                items += finder.existing(for: path, patterns: selection.mediaClass.derivatives).map {
                                    NewQueueItem(path: $0, className: entry.className, reason: "derivative of \(path) (retention)", notBefore: now)
                                }
                            }
                        }
                        outcome.rowsChanged += result.applied.count
                        outcome.rowsArchived += result.applied.filter { $0.archived != nil }.count
                        outcome.failures += result.failed.map { "\(table) key \($0.entry.key): \($0.error)" }
                        outcome.filesQueued += try store.settleRetention(
                            run: run, applied: result.applied.map(\.id), failed: result.failed.map { ($0.entry.id, $0.error) }, void: result.void.map(\.id),
                            items: Self.unique(items), now: now)
                    }
                }
            }
            try store.endRetention(run: run, recovered: false, now: now)
            return (outcome, run)
        } catch let failure as CommandFailure {
            throw failure
        } catch let error as SourceError {
            throw error.failure
        } catch let error as StoreError {
            throw .runtime(error.description)
        } catch {
            throw .runtime("\(error)")
        }
    }

    private struct BatchResult {
        var applied: [RetentionJournalEntry] = []
        var failed: [(entry: RetentionJournalEntry, error: String)] = []
        var void: [RetentionJournalEntry] = []
    }

    /// Steps 1 to 3 for one batch; a batch the database refuses (a foreign key, a trigger) is
    /// voided and retried row by row, so one protected row does not hold back the rest.
    private func applyBatch(
        _ batch: [RetentionSelection.Entry], selection: RetentionSelection, action: String, statement: String, pathColumns: [String], run: Int64, ordinal: Int
    ) throws -> BatchResult {
        var result = BatchResult()
        var journalled: [RetentionJournalEntry] = []
        do {
            try writer.inTransaction { transaction in
                let current = try transaction.rows(table: batch[0].row.table, keyColumn: batch[0].row.keyColumn, keys: batch.map(\.row.key))
                let entries = batch.compactMap { entry -> RetentionJournalEntry? in
                    guard let row = current[entry.row.key], holdsPlannedFiles(row, entry.row, pathColumns: pathColumns) else { return nil }
                    return RetentionJournalEntry(
                        className: selection.mediaClass.name, table: entry.row.table, keyColumn: entry.row.keyColumn, key: entry.row.key, action: action,
                        policy: entry.reason.description, paths: entry.releases, archived: selection.kind.archives ? row : nil)
                }
                journalled = try store.journal(entries, run: run)
                faultPoint?.check("retention-recorded", ordinal)
                for entry in journalled {
                    if try transaction.execute(statement, key: entry.key) > 0 { result.applied.append(entry) } else { result.void.append(entry) }
                }
            }
            return result
        } catch let error as StoreError {
            throw error
        } catch {
            guard batch.count > 1 else {
                // Rolled back: the journalled row never changed.
                result = BatchResult(failed: journalled.map { ($0, "\(error)") })
                return result
            }
            _ = try store.settleRetention(run: run, applied: [], failed: [], void: journalled.map(\.id), items: [])
            var merged = BatchResult()
            for entry in batch {
                let single = try applyBatch([entry], selection: selection, action: action, statement: statement, pathColumns: pathColumns, run: run, ordinal: ordinal)
                merged.applied += single.applied
                merged.failed += single.failed
                merged.void += single.void
            }
            return merged
        }
    }

    /// Whether the row as it is now still holds exactly the files planning saw (the app may
    /// have replaced them since: such a row waits for the next run).
    private func holdsPlannedFiles(_ row: ArchivedRow, _ planned: StoredRetentionRow, pathColumns: [String]) -> Bool {
        var paths = Set<String>()
        for column in row.columns where pathColumns.contains(column.name) {
            guard case .text(let bytes) = column.value, !bytes.isEmpty,
                case .valid(let path) = PathRules.normalise(String(decoding: bytes, as: UTF8.self), mediaRoot: config.mediaRoot)
            else { continue }
            paths.insert(path)
        }
        return paths == Set(planned.paths)
    }

    /// One item per path (two selected rows may share a file).
    static func unique(_ items: [NewQueueItem]) -> [NewQueueItem] {
        var seen = Set<String>()
        return items.filter { seen.insert($0.path).inserted }
    }
}

/// Settles retention runs a crash left `applying`, once their process is gone (a run another
/// live process is applying is left alone). Each journalled row is judged from the row as it is
/// now:
///
/// - `delete`/`archive`: no row with the key, or a row other than the archived one (the key was
///   reused), means the delete happened: its files are queued and the archive kept. The very row
///   still there means it never happened: the entry is void and the archive dropped.
/// - `set_null`: a row still holding the planned files never changed (void); otherwise its files
///   are queued.
/// - `soft_delete`: files stay either way; the entry is marked applied.
///
/// The queue's re-check keeps any queued file that is still referenced.
struct RetentionRecovery {
    let store: any StateStore
    let database: any AppDatabase
    var now: () -> Date = Date.init

    /// This process, as a run's owner: `host:pid`.
    static let owner = "\(ProcessInfo.processInfo.hostName):\(getpid())"

    /// Whether the process that owns a run is gone: on this host, when its pid is not alive;
    /// from another host (a shared store), after a day.
    static func isAbandoned(_ owner: String, startedAt: Date) -> Bool {
        guard let colon = owner.lastIndex(of: ":"), let pid = Int32(owner[owner.index(after: colon)...]) else { return true }
        guard owner[..<colon] == ProcessInfo.processInfo.hostName[...] else { return Date().timeIntervalSince(startedAt) > 86_400 }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    func settle() throws {
        for (run, entries) in try store.abandonedRetention(isAbandoned: Self.isAbandoned) {
            var applied: [Int64] = [], void: [Int64] = [], items: [NewQueueItem] = []
            for (_, group) in Dictionary(grouping: entries, by: { "\($0.table)\u{0}\($0.keyColumn)" }) {
                let current = try database.storedRows(table: group[0].table, keyColumn: group[0].keyColumn, keys: group.map(\.key))
                for entry in group {
                    let kind = RowAction(configValue: entry.action)?.kind
                    let happened: Bool
                    if let row = current[entry.key] {
                        if kind?.removesRow == true {
                            happened = entry.archived.map { $0 != row } ?? !Self.holds(row, entry.paths)
                        } else {
                            happened = kind?.keepsFiles == true || !Self.holds(row, entry.paths)
                        }
                    } else {
                        happened = true
                    }
                    if happened {
                        applied.append(entry.id)
                        items += entry.paths.map { NewQueueItem(path: $0, className: entry.className, reason: "retention: \(entry.policy)", notBefore: now()) }
                    } else {
                        void.append(entry.id)
                    }
                }
            }
            _ = try store.settleRetention(run: run, applied: applied, failed: [], void: void, items: RetentionApplier.unique(items), now: now())
            try store.endRetention(run: run, recovered: true, now: now())
            Log.logger.notice("settled an interrupted retention run", metadata: ["retention.run": "\(run)", "retention.applied": "\(applied.count)", "retention.void": "\(void.count)"])
        }
    }

    /// Whether a row holds every one of `paths` in some column (an empty list: it is there).
    static func holds(_ row: ArchivedRow, _ paths: [String]) -> Bool {
        let values = Set(row.columns.compactMap { column -> String? in
            guard case .text(let bytes) = column.value else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        })
        return paths.allSatisfy { values.contains($0) }
    }
}
