import Foundation

/// One row of a class under retention, with the files its reference columns hold.
public struct RetentionRow: Sendable, Hashable {
    /// The row's table (a class may reference several).
    public var table: String
    /// The row's key, as text.
    public var key: String
    /// The `created` column, when the reference names one.
    public var created: Date?
    /// The `owner` column, when the reference names one.
    public var owner: String?
    /// The `group` column, when the reference names one.
    public var group: String?
    /// The row's own size from the reference's `size` expression (0 when none).
    public var rowBytes: Int64
    /// The files the row holds (several path columns may share a row).
    public var files: [RetentionFile]

    /// Creates a row.
    public init(table: String = "", key: String, created: Date? = nil, owner: String? = nil, group: String? = nil, rowBytes: Int64 = 0, files: [RetentionFile] = []) {
        self.table = table
        self.key = key
        self.created = created
        self.owner = owner
        self.group = group
        self.rowBytes = rowBytes
        self.files = files
    }

    /// When the row counts as made: `created`, or the oldest file's mtime when there is none.
    public var born: Date? { created ?? files.map(\.mtime).min() }

}

/// A file held by a row under retention.
public struct RetentionFile: Sendable, Hashable {
    /// Root-relative path.
    public var path: String
    /// Bytes from `lstat`.
    public var bytes: Int64
    /// Modification time.
    public var mtime: Date

    /// Creates a file.
    public init(path: String, bytes: Int64, mtime: Date) {
        self.path = path
        self.bytes = bytes
        self.mtime = mtime
    }
}

/// Why retention selected a row.
public enum RetentionReason: Sendable, Hashable, CustomStringConvertible {
    /// Older than `max_age`, or than the owner's own limit.
    case maxAge(limit: Seconds, perOwner: Bool)
    /// Beyond the newest N of its owner.
    case keepLatestPerOwner(Int)
    /// Beyond the newest N of its group.
    case maxCountPerGroup(Int)
    /// Among the oldest while the class exceeded its size cap.
    case maxTotalSize(cap: Int64)

    /// The policy's config key.
    public var policy: String {
        switch self {
        case .maxAge(_, let perOwner): perOwner ? "max_age_per_owner" : "max_age"
        case .keepLatestPerOwner: "keep_latest_per_owner"
        case .maxCountPerGroup: "max_count_per_group"
        case .maxTotalSize: "max_total_size"
        }
    }

    /// Every policy key, in the order the planner applies them.
    public static let policyOrder = ["max_age", "max_age_per_owner", "keep_latest_per_owner", "max_count_per_group", "max_total_size"]

    /// The policy, as the plan prints it.
    public var description: String {
        switch self {
        case .maxAge(let limit, let perOwner): perOwner ? "max_age_per_owner (\(limit))" : "max_age (\(limit))"
        case .keepLatestPerOwner(let count): "keep_latest_per_owner (\(count))"
        case .maxCountPerGroup(let count): "max_count_per_group (\(count))"
        case .maxTotalSize(let cap): "max_total_size (\(cap) bytes)"
        }
    }
}

/// Plans retention for one class: which rows go, and under which policy (DESIGN section 2).
///
/// Policies apply in order: age, keep-latest per owner, count per group, total size; each
/// later policy sees only the rows earlier ones kept. Ties in age break by key, so plans are
/// stable. The planner is pure: reading rows and acting on them are the caller's.
public struct RetentionPlanner: Sendable {
    /// The class's rules.
    public let rules: RetentionRules

    /// Creates a planner.
    public init(rules: RetentionRules) { self.rules = rules }

    /// The selected rows (indices into `rows`) with the policy that selected each.
    public func plan(_ rows: [RetentionRow], ownerLimits: [String: Seconds] = [:], now: Date) -> [(row: Int, reason: RetentionReason)] {
        var selected = [RetentionReason?](repeating: nil, count: rows.count)
        // Oldest first; ties by table, then key: numbers in numeric order before other keys in
        // text order, so the order is total. The sort keys are computed once per row.
        let born = rows.map { $0.born?.timeIntervalSince1970 ?? .infinity }
        let numericKeys = rows.map { Int64($0.key) }
        let order = rows.indices.sorted { a, b in
            if born[a] != born[b] { return born[a] < born[b] }
            if rows[a].table != rows[b].table { return rows[a].table < rows[b].table }
            switch (numericKeys[a], numericKeys[b]) {
            case (let x?, let y?): return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return rows[a].key < rows[b].key
            }
        }
        let policies: [any RetentionPolicy] = [
            MaxAgePolicy(maxAge: rules.maxAge, perOwner: rules.maxAgePerOwner != nil, ownerLimits: ownerLimits),
            KeepLatestPerOwnerPolicy(count: rules.keepLatestPerOwner),
            MaxCountPerGroupPolicy(count: rules.maxCountPerGroup),
            MaxTotalSizePolicy(cap: rules.maxTotalSize),
        ]
        for policy in policies {
            policy.select(rows, oldestFirst: order, now: now, selected: &selected)
        }
        return order.compactMap { index in selected[index].map { (index, $0) } }
    }
}

/// One retention policy: marks rows in `selected` that it removes, given the rows oldest first.
protocol RetentionPolicy: Sendable {
    func select(_ rows: [RetentionRow], oldestFirst order: [Int], now: Date, selected: inout [RetentionReason?])
    /// The YAML that triggers the policy and the YAML that does not, with the rows they see.
    static var examples: [RetentionExample] { get }
}

/// A policy's example: the class's `retention` block, the rows it sees at ``now``, and the keys
/// of the rows it selects (empty for a non-triggering example).
public struct RetentionExample: Sendable {
    /// The lines under `retention:`, as a flow mapping (`{max_age: 24h}`).
    public var yaml: String
    /// The rows.
    public var rows: [RetentionRow]
    /// Owners' own limits, as `max_age_per_owner` would read them.
    public var ownerLimits: [String: Seconds]
    /// Keys of the selected rows, oldest first.
    public var selects: [String]

    /// Creates an example.
    public init(yaml: String, rows: [RetentionRow], ownerLimits: [String: Seconds] = [:], selects: [String]) {
        self.yaml = yaml
        self.rows = rows
        self.ownerLimits = ownerLimits
        self.selects = selects
    }

    /// The clock every example runs at.
    public static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A time `hours` before ``now``.
    public static func hoursAgo(_ hours: Double) -> Date { now.addingTimeInterval(-hours * 3600) }

    /// Every policy's examples, for the generic test.
    public static var all: [(policy: String, examples: [RetentionExample])] {
        [
            ("max_age", MaxAgePolicy.examples), ("keep_latest_per_owner", KeepLatestPerOwnerPolicy.examples),
            ("max_count_per_group", MaxCountPerGroupPolicy.examples), ("max_total_size", MaxTotalSizePolicy.examples),
        ]
    }
}
