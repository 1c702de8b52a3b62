import Foundation

/// The whole configuration, resolved once into an immutable value.
public struct JanitorConfig: Sendable, Hashable {
    /// The config file as the user named it, for diagnostics.
    public var file: String
    /// The directory of the config file; relative paths resolve against it.
    public var baseDirectory: String
    /// `media_root` as written.
    public var mediaRootSetting: String
    /// `media_root` resolved to an absolute, normalised path.
    public var mediaRoot: String
    /// The app's database.
    public var database: DatabaseLocation
    /// The janitor's own store.
    public var state: DatabaseLocation
    /// Values every class starts from.
    public var defaults: Defaults
    /// Circuit-breaker limits.
    public var safety: Safety
    /// Classes in the order they were defined (includes after the main file).
    public var classes: [MediaClass]
    /// Settings of `serve`.
    public var serve: ServeSettings
    /// Scheduled sweeps of `serve`.
    public var schedule: Schedule

    /// Creates a config.
    public init(
        file: String, baseDirectory: String, mediaRootSetting: String, mediaRoot: String,
        database: DatabaseLocation, state: DatabaseLocation, defaults: Defaults, safety: Safety,
        classes: [MediaClass], serve: ServeSettings = ServeSettings(), schedule: Schedule = Schedule()
    ) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.mediaRootSetting = mediaRootSetting
        self.mediaRoot = mediaRoot
        self.database = database
        self.state = state
        self.defaults = defaults
        self.safety = safety
        self.classes = classes
        self.serve = serve
        self.schedule = schedule
    }

    /// The class with a name, if any.
    public func mediaClass(named name: String) -> MediaClass? {
        classes.first { $0.name == name }
    }
}

/// A database named by the config: `sqlite:PATH`, a bare path, or `postgres://...`.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    /// An SQLite file, as an absolute path.
    case sqlite(path: String)
    /// A PostgreSQL server.
    case postgres(PostgresURL)

    /// The location for messages (a PostgreSQL password is never shown).
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): url.redacted
        }
    }
}

/// A libpq-style PostgreSQL URL, parsed.
public struct PostgresURL: Sendable, Hashable {
    /// User name.
    public var user: String
    /// Password, if any.
    public var password: String?
    /// Host name or address.
    public var host: String
    /// TCP port (5432 when absent).
    public var port: Int
    /// Database name.
    public var database: String
    /// Whether `sslmode` asks for TLS (`require`, `verify-ca`, `verify-full`).
    public var requiresTLS: Bool

    /// Creates a URL value.
    public init(user: String, password: String?, host: String, port: Int, database: String, requiresTLS: Bool) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.requiresTLS = requiresTLS
    }

    /// The URL with the password replaced by `***`.
    public var redacted: String {
        let credentials = password == nil ? user : "\(user):***"
        return "postgres://\(credentials)@\(host):\(port)/\(database)"
    }
}

/// `defaults`: values every class starts from.
public struct Defaults: Sendable, Hashable {
    /// A file younger than this (mtime) is never an orphan.
    public var grace: Seconds = Seconds(15 * 60)
    /// How long a superseded file waits in the queue before removal.
    public var delay: Seconds = Seconds(0)
    /// How long removed files stay restorable; 0 unlinks at once.
    public var quarantine: Seconds = Seconds(7 * 86_400)
    /// Where quarantined files go, absolute and normalised.
    public var quarantineDirectory: String = ""
    /// Attempts before a queue item is dead-lettered.
    public var maxAttempts: Int = 5
    /// Queue items taken per batch.
    public var batchSize: Int = 100
    /// With a shared PostgreSQL store, how long a janitor's claim on queue items lasts without
    /// renewal; items of a janitor that stopped answering return to the queue after it.
    public var lease: Seconds = Seconds(60)

    /// Creates the built-in defaults.
    public init() {}
}

/// `safety`: limits that stop a sweep (exit 4) unless `--force`.
public struct Safety: Sendable, Hashable {
    /// Refuse a sweep removing more than this share of a class's files.
    public var maxDeleteFraction: Double = 0.25
    /// Refuse a sweep removing more than this many bytes.
    public var maxDeleteBytes: Int64 = 50 * 1024 * 1024 * 1024
    /// A class whose reference set is empty is never swept.
    public var refuseEmptyReferences: Bool = true

    /// Creates the built-in limits.
    public init() {}
}

/// A span of time in whole seconds (`30s`, `15m`, `1d12h`).
public struct Seconds: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number of seconds.
    public var value: Int64

    /// Creates a span.
    public init(_ value: Int64) { self.value = value }

    /// As a `TimeInterval`.
    public var timeInterval: TimeInterval { TimeInterval(value) }

    /// The shortest spelling in config syntax, such as `1d12h` or `0s`.
    public var description: String {
        if value == 0 { return "0s" }
        var rest = value
        var text = ""
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    /// Orders spans by length.
    public static func < (lhs: Seconds, rhs: Seconds) -> Bool { lhs.value < rhs.value }
}

/// What happens to the old file when a reference column changes.
public enum ReplaceAction: String, Sendable, Hashable, CaseIterable {
    /// Remove the superseded file once nothing references it.
    case deleteOld = "delete_old"
    /// Leave it.
    case keep
}

/// What happens to the file when its row is deleted.
public enum DeleteAction: String, Sendable, Hashable, CaseIterable {
    /// Remove the file once nothing references it.
    case delete
    /// Leave it.
    case keep
}

/// One column that may hold a path of a class, or a table of rows for row-only retention.
public struct ReferenceColumn: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The column holding a path relative to the media root; nil for rows without files.
    public var column: String?
    /// The row's key column.
    public var key: String
    /// The column with the row's creation time, for retention.
    public var created: String?
    /// The column naming the row's owner, for per-owner policies and `usage`.
    public var owner: String?
    /// The column naming the row's group, for per-group caps.
    public var group: String?
    /// An SQL expression for the row's own size in bytes, for size caps.
    public var size: String?
    /// Where it was declared.
    public var location: SourceLocation?

    /// Creates a reference column.
    public init(
        table: String, column: String?, key: String, created: String? = nil, owner: String? = nil,
        group: String? = nil, size: String? = nil, location: SourceLocation? = nil
    ) {
        self.table = table
        self.column = column
        self.key = key
        self.created = created
        self.owner = owner
        self.group = group
        self.size = size
        self.location = location
    }

    /// `table.column`, or `table` for a rows-only reference.
    public var qualifiedName: String { column.map { "\(table).\($0)" } ?? table }
}

/// `max_age_per_owner`: a per-owner age limit read from the app's database.
public struct OwnerTTL: Sendable, Hashable {
    /// Unit of the TTL column.
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case seconds, minutes, hours, days, weeks

        /// Seconds in one unit.
        public var seconds: Int64 {
            switch self {
            case .seconds: 1
            case .minutes: 60
            case .hours: 3_600
            case .days: 86_400
            case .weeks: 604_800
            }
        }
    }

    /// The table holding one row per owner.
    public var table: String
    /// The column matching the reference's `owner` value.
    public var key: String
    /// The column holding the TTL.
    public var column: String
    /// The TTL's unit.
    public var unit: Unit

    /// Creates a per-owner TTL.
    public init(table: String, key: String, column: String, unit: Unit) {
        self.table = table
        self.key = key
        self.column = column
        self.unit = unit
    }
}

/// What retention does to the rows whose files it removes.
public enum RowAction: Sendable, Hashable {
    /// Leave rows alone.
    case none
    /// Delete the rows.
    case delete
    /// Save the rows in the janitor's store, then delete them.
    case archive
    /// Set the reference column to NULL.
    case setNull
    /// Set a column (to the current time) instead of deleting.
    case softDelete(column: String)

    /// Parses the config spelling (as the retention journal stores it).
    public init?(configValue text: String) {
        switch text {
        case "none": self = .none
        case "delete": self = .delete
        case "archive": self = .archive
        case "set_null": self = .setNull
        default:
            guard text.hasPrefix("soft_delete:"), text.count > "soft_delete:".count else { return nil }
            self = .softDelete(column: String(text.dropFirst("soft_delete:".count)))
        }
    }

    /// The config spelling.
    public var configValue: String {
        switch self {
        case .none: "none"
        case .delete: "delete"
        case .archive: "archive"
        case .setNull: "set_null"
        case .softDelete(let column): "soft_delete:\(column)"
        }
    }
}

/// `retention`: parsed and validated; applied by `retention`.
public struct RetentionRules: Sendable, Hashable {
    /// Rows (and files) older than this expire.
    public var maxAge: Seconds?
    /// Per-owner override of `max_age`.
    public var maxAgePerOwner: OwnerTTL?
    /// Keep only the N newest rows per owner.
    public var keepLatestPerOwner: Int?
    /// Keep only the N newest rows per group.
    public var maxCountPerGroup: Int?
    /// Cap on the class total; oldest first down to 80% of it.
    public var maxTotalSize: Int64?
    /// What to do to the rows.
    public var rowAction: RowAction = .none

    /// Creates empty rules.
    public init() {}
}

/// A class of media: which files, which columns reference them, and what to do.
public struct MediaClass: Sendable, Hashable {
    /// The class name (its key under `classes`).
    public var name: String
    /// Globs relative to the media root.
    public var paths: [Glob]
    /// Globs the class leaves alone.
    public var exclude: [Glob]
    /// Columns that may hold a path of this class.
    public var references: [ReferenceColumn]
    /// What happens to a replaced file.
    public var onReplace: ReplaceAction
    /// What happens to a deleted row's file.
    public var onDelete: DeleteAction
    /// Files that belong to a parent file.
    public var derivatives: [DerivativePattern]
    /// Retention policies, when any.
    public var retention: RetentionRules?
    /// The class's grace (from `defaults` unless overridden).
    public var grace: Seconds
    /// Where it was declared.
    public var location: SourceLocation?

    /// Creates a class.
    public init(
        name: String, paths: [Glob], exclude: [Glob] = [], references: [ReferenceColumn],
        onReplace: ReplaceAction = .deleteOld, onDelete: DeleteAction = .delete,
        derivatives: [DerivativePattern] = [], retention: RetentionRules? = nil,
        grace: Seconds = Seconds(900), location: SourceLocation? = nil
    ) {
        self.name = name
        self.paths = paths
        self.exclude = exclude
        self.references = references
        self.onReplace = onReplace
        self.onDelete = onDelete
        self.derivatives = derivatives
        self.retention = retention
        self.grace = grace
        self.location = location
    }

    /// Whether a root-relative path is one of this class's files (matched and not excluded).
    public func claims(_ path: String) -> Bool {
        claims(Array(path.utf8))
    }

    /// Byte form of `claims(_:)` for the walk's hot path.
    public func claims(_ path: [UInt8]) -> Bool {
        path.withUnsafeBufferPointer { claims($0) }
    }

    /// Byte form of `claims(_:)` over a borrowed buffer.
    public func claims(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard paths.contains(where: { $0.matches(path) }) else { return false }
        return !isExcluded(path)
    }

    /// Whether a path matches the class's paths but is excluded.
    public func isExcluded(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        exclude.contains { $0.matches(path) }
    }

    /// Whether a path matches the class's `paths` at all (excluded or not).
    public func matchesPaths(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        paths.contains { $0.matches(path) }
    }
}

/// `serve`: the sidecar's settings.
public struct ServeSettings: Sendable, Hashable {
    /// `HOST:PORT` to listen on.
    public var listen: String = "127.0.0.1:8787"
    /// Bearer token, after `${VAR}` expansion.
    public var token: String?
    /// Largest accepted request body.
    public var maxBody: Int64 = 1024 * 1024
    /// Outgoing webhooks.
    public var webhooks: [Webhook] = []

    /// Creates default settings.
    public init() {}
}

/// An outgoing webhook.
public struct Webhook: Sendable, Hashable {
    /// Where to POST.
    public var url: String
    /// HMAC-SHA256 secret.
    public var secret: String?

    /// Creates a webhook.
    public init(url: String, secret: String?) {
        self.url = url
        self.secret = secret
    }
}

/// `schedule`: how often `serve` runs sweeps; nil means never.
public struct Schedule: Sendable, Hashable {
    /// Retention sweep interval.
    public var retention: Seconds?
    /// Orphan audit interval.
    public var audit: Seconds?
    /// Quarantine purge interval.
    public var quarantinePurge: Seconds?

    /// Creates an empty schedule.
    public init() {}
}
