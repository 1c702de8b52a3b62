import Foundation

/// What a finding is about. Raw values are the JSON `kind` strings.
public enum FindingKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A file in a class that no reference column holds, older than grace.
    case orphan
    /// A path a row references that is not on disk.
    case missing
    /// A file under the media root that no class claims (symlinks and special files included).
    case unclassified
    /// A reference value that cannot be a media path.
    case invalid
    /// An unreferenced file still inside its grace period.
    case tooYoung = "too_young"
}

/// One row that references a path.
public struct RowReference: Sendable, Hashable, Codable {
    /// The table.
    public var table: String
    /// The column that holds the path.
    public var column: String
    /// The row's key, as text.
    public var key: String

    /// Creates a row reference.
    public init(table: String, column: String, key: String) {
        self.table = table
        self.column = column
        self.key = key
    }
}

/// One line of an audit.
public struct Finding: Sendable, Hashable {
    /// What was found.
    public var kind: FindingKind
    /// The path relative to the media root (every kind but `invalid`).
    public var path: String?
    /// The raw reference value (`invalid` only).
    public var value: String?
    /// The class the path belongs to, when one does.
    public var className: String?
    /// Bytes on disk from `lstat` (files only).
    public var bytes: Int64?
    /// Modification time (files only).
    public var mtime: Date?
    /// Why (`invalid`: what is wrong with the value; `unclassified`: a symlink, a socket...).
    public var reason: String?
    /// Rows that hold the path or value (`missing` and `invalid`).
    public var referencedBy: [RowReference]

    /// Creates a finding.
    public init(
        kind: FindingKind, path: String? = nil, value: String? = nil, className: String? = nil,
        bytes: Int64? = nil, mtime: Date? = nil, reason: String? = nil, referencedBy: [RowReference] = []
    ) {
        self.kind = kind
        self.path = path
        self.value = value
        self.className = className
        self.bytes = bytes
        self.mtime = mtime
        self.reason = reason
        self.referencedBy = referencedBy
    }

    /// The text a person reads first: the path, or the raw value for `invalid`.
    public var subject: String { path ?? value ?? "" }

    /// The reason given to a file whose name is not valid UTF-8. Its `path` is repaired for
    /// display (U+FFFD in place of each bad byte), so it names some other file or none.
    public static let repairedNameReason =
        "its name is not valid UTF-8 (shown with U+FFFD), so the janitor cannot name it to remove it; rename it to UTF-8 or remove it by hand"

    /// Whether `path` is a repaired name rather than the file's own: nothing may act on it.
    public var pathIsRepaired: Bool { reason == Self.repairedNameReason }
}

/// Totals of one audit.
public struct ScanSummary: Sendable, Hashable, Codable {
    /// Entries under the media root (regular files, symlinks and special files).
    public var files: Int = 0
    /// Their bytes, from `lstat`.
    public var bytes: Int64 = 0
    /// Files that a reference column holds, directly or as a derivative.
    public var referenced: Int = 0
    /// Orphans past grace.
    public var orphans: Int = 0
    /// Bytes of those orphans: what `clean` would reclaim.
    public var orphanBytes: Int64 = 0
    /// Referenced paths absent from disk.
    public var missing: Int = 0
    /// Files no class claims.
    public var unclassified: Int = 0
    /// Reference values that cannot be media paths.
    public var invalid: Int = 0
    /// Unreferenced files inside grace.
    public var tooYoung: Int = 0
    /// Files a class's `exclude` keeps out of the audit.
    public var excluded: Int = 0

    /// Creates an empty summary.
    public init() {}

    /// How many findings of a kind.
    public func count(of kind: FindingKind) -> Int {
        switch kind {
        case .orphan: orphans
        case .missing: missing
        case .unclassified: unclassified
        case .invalid: invalid
        case .tooYoung: tooYoung
        }
    }
}

/// Per-class totals.
public struct ClassUsage: Sendable, Hashable, Codable {
    /// The class name from the config.
    public var name: String
    /// Files on disk in the class.
    public var files: Int = 0
    /// Their bytes.
    public var bytes: Int64 = 0
    /// Orphans in the class.
    public var orphans: Int = 0
    /// Bytes of those orphans.
    public var orphanBytes: Int64 = 0
    /// Referenced paths of the class absent from disk.
    public var missing: Int = 0

    /// Creates an empty usage line for a class.
    public init(name: String) { self.name = name }
}

/// Per-directory totals (directories are cut at a fixed depth below the media root).
public struct DirectoryUsage: Sendable, Hashable, Codable {
    /// The directory relative to the media root; `.` for the root itself.
    public var path: String
    /// Files below it.
    public var files: Int = 0
    /// Their bytes.
    public var bytes: Int64 = 0
    /// Orphans below it.
    public var orphans: Int = 0
    /// Bytes of those orphans.
    public var orphanBytes: Int64 = 0

    /// Creates an empty usage line for a directory.
    public init(path: String) { self.path = path }
}

/// Bytes and counts referenced by one owner of one class.
public struct OwnerUsage: Sendable, Hashable, Codable {
    /// The class.
    public var className: String
    /// The owner value as text.
    public var owner: String
    /// Files referenced by the owner's rows.
    public var files: Int = 0
    /// Their bytes.
    public var bytes: Int64 = 0

    /// Creates an empty owner line.
    public init(className: String, owner: String) {
        self.className = className
        self.owner = owner
    }
}

/// The result of `scan`: what the JSON report and every other format show.
public struct ScanReport: Sendable, Hashable {
    /// When the audit ran.
    public var generatedAt: Date
    /// The media root as written in the config.
    public var mediaRoot: String
    /// Totals.
    public var summary: ScanSummary
    /// Totals by class, in config order.
    public var classes: [ClassUsage]
    /// Totals by directory, largest orphan bytes first, then by path.
    public var directories: [DirectoryUsage]
    /// Findings, ordered by kind then path.
    public var findings: [Finding]
    /// The shard this report covers (`scan --shard I/N`); nil for the whole tree, and for a
    /// report merged from every shard.
    public var shard: Shard?

    /// Creates a report.
    public init(
        generatedAt: Date, mediaRoot: String, summary: ScanSummary, classes: [ClassUsage],
        directories: [DirectoryUsage], findings: [Finding], shard: Shard? = nil
    ) {
        self.generatedAt = generatedAt
        self.mediaRoot = mediaRoot
        self.summary = summary
        self.classes = classes
        self.directories = directories
        self.findings = findings
        self.shard = shard
    }
}

/// The result of `usage`: bytes and counts by class, directory and owner.
public struct UsageReport: Sendable, Hashable {
    /// When it was measured.
    public var generatedAt: Date
    /// The media root as written in the config.
    public var mediaRoot: String
    /// All files under the media root.
    public var files: Int
    /// Their bytes.
    public var bytes: Int64
    /// Totals by class, in config order.
    public var classes: [ClassUsage]
    /// Totals by directory, largest first.
    public var directories: [DirectoryUsage]
    /// Totals by owner, largest first (classes whose references name an `owner`).
    public var owners: [OwnerUsage]

    /// Creates a usage report.
    public init(
        generatedAt: Date, mediaRoot: String, files: Int, bytes: Int64, classes: [ClassUsage],
        directories: [DirectoryUsage], owners: [OwnerUsage]
    ) {
        self.generatedAt = generatedAt
        self.mediaRoot = mediaRoot
        self.files = files
        self.bytes = bytes
        self.classes = classes
        self.directories = directories
        self.owners = owners
    }
}

/// One stored audit, as `history` shows it.
public struct AuditRecord: Sendable, Hashable {
    /// The store's id for the audit.
    public var id: Int64
    /// When the audit ran.
    public var generatedAt: Date
    /// The media root it audited.
    public var mediaRoot: String
    /// Its totals.
    public var summary: ScanSummary

    /// Creates a record.
    public init(id: Int64, generatedAt: Date, mediaRoot: String, summary: ScanSummary) {
        self.id = id
        self.generatedAt = generatedAt
        self.mediaRoot = mediaRoot
        self.summary = summary
    }
}

/// The result of `history`: past audits, newest first.
public struct HistoryReport: Sendable, Hashable {
    /// The audits, newest first.
    public var audits: [AuditRecord]

    /// Creates a history report.
    public init(audits: [AuditRecord]) { self.audits = audits }
}

/// The result of `check`: every diagnostic, plus facts about the world worth knowing.
public struct CheckReport: Sendable, Hashable {
    /// Diagnostics, errors first.
    public var diagnostics: [Diagnostic]
    /// Facts, such as "hooks: not installed", in the order they were found.
    public var facts: [String]

    /// Creates a check report.
    public init(diagnostics: [Diagnostic], facts: [String]) {
        self.diagnostics = diagnostics
        self.facts = facts
    }
}
