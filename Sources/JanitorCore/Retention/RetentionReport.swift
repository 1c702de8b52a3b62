import Foundation

/// The result of `retention`: the plan per class and every selected row, and, after a real
/// run, what was done. `--dry-run` prints the same report with `applied` nil.
public struct RetentionReport: Sendable, Hashable {
    /// When the plan was made.
    public var generatedAt: Date
    /// Whether this is a plan only (`--dry-run`).
    public var dryRun: Bool
    /// One entry per class with retention rules, in config order.
    public var classes: [RetentionClassPlan]
    /// The selected rows, by class in config order, oldest first within a class.
    public var rows: [PlannedRow]
    /// Safety limits the plan crosses (a real run stops on them unless `--force`).
    public var violations: [String]
    /// What a real run did; nil for a dry run or a run stopped by the safety limits.
    public var applied: RetentionOutcome?

    /// Creates a report.
    public init(generatedAt: Date, dryRun: Bool, classes: [RetentionClassPlan], rows: [PlannedRow], violations: [String] = [], applied: RetentionOutcome? = nil) {
        self.generatedAt = generatedAt
        self.dryRun = dryRun
        self.classes = classes
        self.rows = rows
        self.violations = violations
        self.applied = applied
    }
}

/// One class's plan: its totals and what retention selects.
public struct RetentionClassPlan: Sendable, Hashable {
    /// The class name.
    public var name: String
    /// The row action, as the config spells it (`delete`, `soft_delete:deleted_at`...).
    public var rowAction: String
    /// Rows the class's references hold.
    public var rows: Int
    /// Files those rows hold that exist on disk.
    public var files: Int
    /// Their bytes plus the rows' `size` bytes.
    public var bytes: Int64
    /// Rows selected.
    public var selectedRows: Int
    /// Files that go with them: held by selected rows, present on disk, and held by no other row.
    public var freedFiles: Int
    /// Bytes of those files.
    public var freedFileBytes: Int64
    /// The `size` bytes of the selected rows.
    public var freedRowBytes: Int64
    /// Files of selected rows that stay: another row still holds them, or the row action keeps
    /// the row (`none`, `soft_delete`).
    public var keptFiles: Int
    /// Selected rows per policy name (`max_age`, `max_age_per_owner`, ...), in policy order.
    public var byPolicy: [PolicyCount]

    /// Creates a class plan.
    public init(
        name: String, rowAction: String, rows: Int, files: Int, bytes: Int64, selectedRows: Int, freedFiles: Int,
        freedFileBytes: Int64, freedRowBytes: Int64, keptFiles: Int, byPolicy: [PolicyCount]
    ) {
        self.name = name
        self.rowAction = rowAction
        self.rows = rows
        self.files = files
        self.bytes = bytes
        self.selectedRows = selectedRows
        self.freedFiles = freedFiles
        self.freedFileBytes = freedFileBytes
        self.freedRowBytes = freedRowBytes
        self.keptFiles = keptFiles
        self.byPolicy = byPolicy
    }
}

/// How many rows one policy selected.
public struct PolicyCount: Sendable, Hashable {
    /// The policy's config key.
    public var policy: String
    /// Rows it selected.
    public var rows: Int

    /// Creates a count.
    public init(policy: String, rows: Int) {
        self.policy = policy
        self.rows = rows
    }
}

/// One row retention selected, with the policy that selected it and its files.
public struct PlannedRow: Sendable, Hashable {
    /// The class.
    public var className: String
    /// The row's table.
    public var table: String
    /// The row's key, as text.
    public var key: String
    /// The policy's config key (`max_age`, `max_age_per_owner`, ...).
    public var policy: String
    /// The policy with its limit, as the plan prints it (`max_age (7d)`).
    public var reason: String
    /// The row's `created`, when the reference names one.
    public var created: Date?
    /// The row's owner.
    public var owner: String?
    /// The row's group.
    public var group: String?
    /// The row's own `size` bytes.
    public var rowBytes: Int64
    /// The files the row holds.
    public var files: [PlannedFile]

    /// Creates a planned row.
    public init(
        className: String, table: String, key: String, policy: String, reason: String, created: Date?, owner: String?,
        group: String?, rowBytes: Int64, files: [PlannedFile]
    ) {
        self.className = className
        self.table = table
        self.key = key
        self.policy = policy
        self.reason = reason
        self.created = created
        self.owner = owner
        self.group = group
        self.rowBytes = rowBytes
        self.files = files
    }
}

/// A file held by a selected row, and whether it goes.
public struct PlannedFile: Sendable, Hashable {
    /// What happens to the file.
    public enum Fate: String, Sendable, Hashable, CaseIterable {
        /// Queued for removal once the row action is done.
        case removed
        /// Another row (not selected) still holds it.
        case shared
        /// The row action keeps the row (`none`, `soft_delete`), so the row still holds it.
        case rowKept = "row_kept"
        /// Referenced but not on disk (or not a regular file).
        case missing
        /// Outside the class's `paths`, or excluded: retention never removes it.
        case unclaimed
    }

    /// Root-relative path.
    public var path: String
    /// Bytes from `lstat` (0 when missing).
    public var bytes: Int64
    /// What happens to it.
    public var fate: Fate
    /// For `shared`: one row that still holds it.
    public var heldBy: RowReference?

    /// Creates a planned file.
    public init(path: String, bytes: Int64, fate: Fate, heldBy: RowReference? = nil) {
        self.path = path
        self.bytes = bytes
        self.fate = fate
        self.heldBy = heldBy
    }
}

/// What a real retention run did.
public struct RetentionOutcome: Sendable, Hashable {
    /// Rows deleted, updated or archived in the app's database.
    public var rowsChanged: Int
    /// Rows saved in the store before deletion (`row_action: archive`).
    public var rowsArchived: Int
    /// Rows the database refused to change, with its reason (a foreign key, a trigger).
    public var failures: [String]
    /// Files queued for removal.
    public var filesQueued: Int
    /// Files the queue removed or quarantined in this run.
    public var filesRemoved: Int
    /// Their bytes.
    public var bytesRemoved: Int64

    /// Creates an outcome.
    public init(rowsChanged: Int, rowsArchived: Int, failures: [String], filesQueued: Int, filesRemoved: Int, bytesRemoved: Int64) {
        self.rowsChanged = rowsChanged
        self.rowsArchived = rowsArchived
        self.failures = failures
        self.filesQueued = filesQueued
        self.filesRemoved = filesRemoved
        self.bytesRemoved = bytesRemoved
    }
}
