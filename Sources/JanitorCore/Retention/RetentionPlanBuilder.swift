import Foundation

/// A row under retention as the app's database holds it: the files are paths, to be joined
/// with their sizes and times from disk.
public struct StoredRetentionRow: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The table's key column.
    public var keyColumn: String
    /// The row's key, as text.
    public var key: String
    /// The `created` column as a time (text in any SQLite date format, or Unix seconds).
    public var created: Date?
    /// The `owner` column, as text.
    public var owner: String?
    /// The `group` column, as text.
    public var group: String?
    /// The `size` expression's value.
    public var rowBytes: Int64
    /// The normalised paths the row's reference columns hold.
    public var paths: [String]

    /// Creates a row.
    public init(table: String, keyColumn: String, key: String, created: Date?, owner: String?, group: String?, rowBytes: Int64, paths: [String]) {
        self.table = table
        self.keyColumn = keyColumn
        self.key = key
        self.created = created
        self.owner = owner
        self.group = group
        self.rowBytes = rowBytes
        self.paths = paths
    }
}

/// A file as `lstat` saw it: only regular files count.
public struct FileFacts: Sendable, Hashable {
    /// Bytes.
    public var bytes: Int64
    /// Modification time.
    public var mtime: Date

    /// Creates facts.
    public init(bytes: Int64, mtime: Date) {
        self.bytes = bytes
        self.mtime = mtime
    }
}

/// One class's selection: the rows retention chose, with the files their row action releases.
public struct RetentionSelection: Sendable {
    /// One selected row.
    public struct Entry: Sendable {
        /// The row.
        public var row: StoredRetentionRow
        /// The policy that selected it.
        public var reason: RetentionReason
        /// The files the row action releases: held by the row, on disk, inside the class's
        /// paths and not excluded. The queue re-checks each before removal.
        public var releases: [String]
    }

    /// The class.
    public var mediaClass: MediaClass
    /// Its row action.
    public var kind: any RowActionKind
    /// The selected rows, oldest first.
    public var entries: [Entry]
    /// Rows under retention.
    public var rows: Int
    /// Distinct files on disk those rows hold.
    public var files: Int
    /// Their bytes plus the rows' `size` bytes.
    public var bytes: Int64
}

/// Turns a class's rows and its files' facts into a selection, and selections plus the rows
/// that still hold each released file into the plan every report format prints. Pure: the
/// caller reads the database and the disk.
public struct RetentionPlanBuilder: Sendable {
    /// The config (classes, safety).
    public let config: JanitorConfig
    /// The clock.
    public let now: Date

    /// Creates a builder.
    public init(config: JanitorConfig, now: Date) {
        self.config = config
        self.now = now
    }

    /// Runs the class's policies over its rows; `facts` gives a path's file (nil: not a regular
    /// file on disk).
    public func select(_ mediaClass: MediaClass, rows stored: [StoredRetentionRow], ownerLimits: [String: Seconds], facts: (String) -> FileFacts?) -> RetentionSelection {
        let rules = mediaClass.retention ?? RetentionRules()
        let kind = rules.rowAction.kind
        var rows: [RetentionRow] = []
        rows.reserveCapacity(stored.count)
        var seen = Set<String>(), bytes: Int64 = 0
        for row in stored {
            var files: [RetentionFile] = []
            for path in row.paths {
                guard let file = facts(path) else { continue }
                files.append(RetentionFile(path: path, bytes: file.bytes, mtime: file.mtime))
                if seen.insert(path).inserted { bytes += file.bytes }
            }
            bytes += row.rowBytes
            rows.append(RetentionRow(table: row.table, key: row.key, created: row.created, owner: row.owner, group: row.group, rowBytes: row.rowBytes, files: files))
        }
        let chosen = RetentionPlanner(rules: rules).plan(rows, ownerLimits: ownerLimits, now: now)
        let entries = chosen.map { choice in
            let row = stored[choice.row]
            let releases = kind.keepsFiles ? [] : rows[choice.row].files.map(\.path).filter { mediaClass.claims($0) }
            return RetentionSelection.Entry(row: row, reason: choice.reason, releases: releases)
        }
        return RetentionSelection(mediaClass: mediaClass, kind: kind, entries: entries, rows: stored.count, files: seen.count, bytes: bytes)
    }

    /// Every file the selections release, for one re-check of the reference columns.
    public static func released(_ selections: [RetentionSelection]) -> [String] {
        Array(Set(selections.flatMap { $0.entries.flatMap(\.releases) }))
    }

    /// The plan: per class totals and safety, and each selected row with its files' fates.
    /// `holders` are the rows that hold each released file now, across every reference column
    /// of every class; a holder that is itself a selected row being deleted, or a column
    /// `set_null` clears, does not keep the file.
    public func plan(_ selections: [RetentionSelection], holders: [String: [RowReference]], facts: (String) -> FileFacts?) -> RetentionReport {
        struct Released: Hashable {
            var table: String
            var key: String
            var column: String?
        }
        var releasing = Set<Released>()
        for selection in selections where !selection.kind.keepsFiles && selection.kind.changesRows {
            for entry in selection.entries {
                if selection.kind.removesRow {
                    releasing.insert(Released(table: entry.row.table, key: entry.row.key))
                } else {
                    for reference in selection.mediaClass.references where reference.table == entry.row.table {
                        if let column = reference.column { releasing.insert(Released(table: entry.row.table, key: entry.row.key, column: column)) }
                    }
                }
            }
        }
        func stillHeld(_ path: String) -> RowReference? {
            holders[path]?.first { holder in
                !releasing.contains(Released(table: holder.table, key: holder.key))
                    && !releasing.contains(Released(table: holder.table, key: holder.key, column: holder.column))
            }
        }
        var classes: [RetentionClassPlan] = []
        var planned: [PlannedRow] = []
        // One string per distinct reason, shared by every row it selected.
        var reasons: [RetentionReason: String] = [:]
        for selection in selections {
            var freed = Set<String>(), kept = Set<String>(), freedBytes: Int64 = 0, rowBytes: Int64 = 0
            var byPolicy: [String: Int] = [:]
            for entry in selection.entries {
                byPolicy[entry.reason.policy, default: 0] += 1
                rowBytes += entry.row.rowBytes
                let files = entry.row.paths.map { path -> PlannedFile in
                    guard let file = facts(path) else { return PlannedFile(path: path, bytes: 0, fate: .missing) }
                    if selection.kind.keepsFiles || !selection.kind.changesRows {
                        kept.insert(path)
                        return PlannedFile(path: path, bytes: file.bytes, fate: .rowKept)
                    }
                    if !selection.mediaClass.claims(path) {
                        kept.insert(path)
                        return PlannedFile(path: path, bytes: file.bytes, fate: .unclaimed)
                    }
                    if let holder = stillHeld(path) {
                        kept.insert(path)
                        return PlannedFile(path: path, bytes: file.bytes, fate: .shared, heldBy: holder)
                    }
                    if freed.insert(path).inserted { freedBytes += file.bytes }
                    return PlannedFile(path: path, bytes: file.bytes, fate: .removed)
                }
                let reason = reasons[entry.reason] ?? entry.reason.description
                reasons[entry.reason] = reason
                planned.append(PlannedRow(
                    className: selection.mediaClass.name, table: entry.row.table, key: entry.row.key, policy: entry.reason.policy, reason: reason,
                    created: entry.row.created, owner: entry.row.owner, group: entry.row.group, rowBytes: entry.row.rowBytes, files: files))
            }
            classes.append(RetentionClassPlan(
                name: selection.mediaClass.name, rowAction: selection.mediaClass.retention?.rowAction.configValue ?? "none", rows: selection.rows,
                files: selection.files, bytes: selection.bytes, selectedRows: selection.entries.count, freedFiles: freed.count, freedFileBytes: freedBytes,
                freedRowBytes: rowBytes, keptFiles: kept.subtracting(freed).count,
                byPolicy: RetentionReason.policyOrder.compactMap { name in byPolicy[name].map { PolicyCount(policy: name, rows: $0) } }))
        }
        let check = SafetyCheck(safety: config.safety)
        var violations = check.violations(planned: classes.map { ($0.name, $0.freedFiles, $0.freedFileBytes, $0.files, $0.rows) })
        violations += check.violations(rows: zip(classes, selections).filter { $0.1.kind.changesRows }.map { ($0.0.name, $0.0.selectedRows, $0.0.rows) })
        return RetentionReport(generatedAt: now, dryRun: true, classes: classes, rows: planned, violations: violations.map(\.message))
    }
}
