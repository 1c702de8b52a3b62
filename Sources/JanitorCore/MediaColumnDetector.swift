/// A table of the app's database as `init` inspects it.
public struct InspectedTable: Sendable, Hashable {
    /// The name a config uses for it (`schema.table` outside PostgreSQL's search path).
    public var name: String
    /// Every column, in table order.
    public var columns: [String]
    /// The columns that can hold text (the only ones that can hold paths), in table order.
    public var textColumns: [String]
    /// The primary key's columns in key order; empty when there is none.
    public var primaryKey: [String]

    /// Creates a table description.
    public init(name: String, columns: [String], textColumns: [String], primaryKey: [String]) {
        self.name = name
        self.columns = columns
        self.textColumns = textColumns
        self.primaryKey = primaryKey
    }
}

/// Non-empty values of one text column, as `init` sampled them.
public struct ColumnSample: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The column.
    public var column: String
    /// Up to the sample limit of non-NULL, non-empty values.
    public var values: [String]

    /// Creates a sample.
    public init(table: String, column: String, values: [String]) {
        self.table = table
        self.column = column
        self.values = values
    }

    /// `table.column`.
    public var qualifiedName: String { "\(table).\(column)" }
}

/// What the sampled values of one column look like against the media root.
public struct ColumnFinding: Sendable, Hashable {
    /// What `init` makes of the column.
    public enum Verdict: Sendable, Hashable {
        /// Most values are paths of files under the media root: the column becomes a reference.
        case media
        /// Most values look like paths, but too few of them exist under the media root.
        case notOnDisk
        /// Most values name files under the media root once this prefix (a `MEDIA_URL` such
        /// as `/media/`) is cut; the config has no setting for a prefix.
        case prefixed(String)
        /// Not paths.
        case none
    }

    /// The table.
    public var table: String
    /// The column.
    public var column: String
    /// How many values were sampled.
    public var sampled: Int
    /// Values that are media paths (normalised, root-relative), the ones stored absolute or
    /// with `..` but still inside the media root included, in sample order.
    public var paths: [String]
    /// How many of `paths` exist under the media root.
    public var existing: Int
    /// Values that are URLs.
    public var urls: Int
    /// Values stored absolute or with `..` that still name a file inside the media root (a scan
    /// reports them as invalid and keeps their files).
    public var insideRoot: Int
    /// The most common prefix whose removal makes a value name a file under the media root.
    public var prefix: String?
    /// How many values `prefix` fits.
    public var prefixed: Int
    /// The verdict.
    public var verdict: Verdict

    /// `table.column`.
    public var qualifiedName: String { "\(table).\(column)" }

    /// Path-like values per top-level directory of the media root (`""` for files at its top).
    public var directories: [String: Int] {
        var counts: [String: Int] = [:]
        for path in paths { counts[MediaColumnDetector.topDirectory(of: path), default: 0] += 1 }
        return counts
    }
}

/// Decides which sampled columns hold media paths: a column is media when most of its values
/// (URLs aside) are relative paths of files with an extension, and at least half of those exist
/// under the media root. Pure: the listing of one walk is passed in, and every existence check
/// is a lookup in it.
public struct MediaColumnDetector: Sendable {
    /// The absolute, normalised media root, to recognise absolute values inside it.
    public let mediaRoot: String

    /// Creates a detector for a media root.
    public init(mediaRoot: String) {
        self.mediaRoot = mediaRoot
    }

    /// What one stored value is.
    public enum ValueShape: Sendable, Hashable {
        /// A relative media path, normalised (`./a//b.jpg` is `a/b.jpg`).
        case path(String)
        /// Stored absolute or with `..`, but naming this file inside the media root.
        case insideRoot(String)
        /// A URL (`https://...`).
        case url
        /// Anything else: text, a name without an extension, an absolute path elsewhere.
        case other
    }

    /// Classifies one value.
    public func shape(of value: String) -> ValueShape {
        guard value.utf8.count <= 1024, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return .other }
        switch PathRules.normalise(value, mediaRoot: mediaRoot) {
        case .valid(let path):
            return Self.isFileName(path) && !Self.looksLikeAddress(value) ? .path(path) : .other
        case .invalid(_, let inside?):
            return Self.isFileName(inside) ? .insideRoot(inside) : .other
        case .invalid:
            return value.contains("://") ? .url : .other
        }
    }

    /// Examines every sample against the listing: one pass over the listing for all columns.
    public func examine(_ samples: [ColumnSample], listing: Listing) -> [ColumnFinding] {
        // Every path whose existence matters: the values, and the values with one or two leading
        // components cut (a `MEDIA_URL` prefix such as `/media/` or `/static/media/`).
        var wanted = PathSet(capacity: samples.reduce(0) { $0 + $1.values.count } * 2 + 16)
        struct Examined {
            var shape: ValueShape
            var path: Int?
            var cuts: [(prefix: String, index: Int)]
        }
        var examined: [[Examined]] = []
        for sample in samples {
            var values: [Examined] = []
            values.reserveCapacity(sample.values.count)
            for value in sample.values {
                let shape = shape(of: value)
                var entry = Examined(shape: shape, path: nil, cuts: [])
                var mayHavePrefix = true
                switch shape {
                case .path(let path): entry.path = wanted.insert(path).index
                case .insideRoot(let path):
                    entry.path = wanted.insert(path).index
                    mayHavePrefix = false
                case .url: mayHavePrefix = false  // a URL's host is no prefix a config could name
                case .other: break
                }
                if mayHavePrefix {
                    for (prefix, rest) in Self.cuts(of: value) { entry.cuts.append((prefix, wanted.insert(rest).index)) }
                }
                values.append(entry)
            }
            examined.append(values)
        }
        var exists = [Bool](repeating: false, count: wanted.count)
        for index in 0..<listing.count {
            listing.paths.withBytes(at: index) { path in
                if let found = wanted.index(of: path) { exists[found] = true }
            }
        }

        var findings: [ColumnFinding] = []
        for (sample, values) in zip(samples, examined) {
            var paths: [String] = []
            var existing = 0, urls = 0, insideRoot = 0
            var prefixes: [String: Int] = [:]
            for value in values {
                switch value.shape {
                case .path(let path):
                    paths.append(path)
                case .insideRoot(let path):
                    paths.append(path)
                    insideRoot += 1
                case .url:
                    urls += 1
                case .other:
                    break
                }
                if let index = value.path, exists[index] {
                    existing += 1
                } else if let cut = value.cuts.first(where: { exists[$0.index] }) {
                    prefixes[cut.prefix, default: 0] += 1
                }
            }
            let prefix = prefixes.max { ($0.value, $1.key) < ($1.value, $0.key) }
            let verdict = Self.verdict(sampled: sample.values.count, paths: paths.count, existing: existing, urls: urls, prefix: prefix)
            findings.append(ColumnFinding(
                table: sample.table, column: sample.column, sampled: sample.values.count, paths: paths, existing: existing,
                urls: urls, insideRoot: insideRoot, prefix: prefix?.key, prefixed: prefix?.value ?? 0, verdict: verdict))
        }
        return findings
    }

    /// Media: most values are paths (at least half of all, and four in five of those that are
    /// not URLs: an avatar column may hold a social network's URLs beside uploads), and at least
    /// half of the paths exist under the media root.
    static func verdict(sampled: Int, paths: Int, existing: Int, urls: Int, prefix: (key: String, value: Int)?) -> ColumnFinding.Verdict {
        let mostlyPaths = paths > 0 && paths * 2 >= sampled && paths * 5 >= (sampled - urls) * 4
        if mostlyPaths, existing * 2 >= paths, existing > 0 { return .media }
        if let prefix, prefix.value * 2 >= sampled { return .prefixed(prefix.key) }
        return mostlyPaths ? .notOnDisk : .none
    }

    /// Whether a normalised path's last component is a file name with an extension: a stem,
    /// a dot, and 1 to 10 letters or digits with at least one letter (`1.5` is a number).
    static func isFileName(_ path: String) -> Bool {
        let name = path.split(separator: "/").last ?? Substring(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        let ext = name[name.index(after: dot)...]
        guard (1...10).contains(ext.count) else { return false }
        return ext.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && ext.contains { $0.isLetter }
    }

    /// An e-mail address or a bare web address, which a file name rarely is.
    static func looksLikeAddress(_ value: String) -> Bool {
        !value.contains("/") && (value.contains("@") || value.lowercased().hasPrefix("www."))
    }

    /// The value with its first one or two components cut, each with the cut prefix, when
    /// what is left is a relative path of a file.
    static func cuts(of value: String) -> [(prefix: String, rest: String)] {
        let absolute = value.hasPrefix("/")
        let components = value.split(separator: "/", omittingEmptySubsequences: true)
        guard components.count >= 2 else { return [] }
        var result: [(prefix: String, rest: String)] = []
        for count in 1...min(2, components.count - 1) {
            let rest = components[count...].joined(separator: "/")
            guard case .valid(let path) = PathRules.normalise(rest, mediaRoot: "/"), isFileName(path) else { continue }
            result.append(((absolute ? "/" : "") + components[..<count].joined(separator: "/") + "/", path))
        }
        return result
    }

    /// The first component of a root-relative path, `""` for a file at the top of the root.
    public static func topDirectory(of path: String) -> String {
        guard let slash = path.firstIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }
}
