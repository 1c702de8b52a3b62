/// A starter `janitor.yml` worked out from the app's tables, the sampled values of their text
/// columns and one walk of the media root: what `init` writes.
///
/// Each top-level directory that media columns point into becomes a class, with every column
/// that points there as a reference; a column whose values span several directories joins them
/// into one class. A class claims its directory whole, unless some of its subdirectories hold
/// no sampled path and have word names (`chat_media/audio/` beside `images/` and `videos/`):
/// those are left out, so a scan lists their files as unclassified, never as orphans. Files
/// named after a referenced file (thumbnails, other formats) become derivative patterns, and
/// placeholders the app ships (`default.png`) are excluded.
public struct StarterConfig: Sendable, Hashable {
    /// A reference of a class.
    public struct Reference: Sendable, Hashable {
        /// The table.
        public var table: String
        /// The path column.
        public var column: String
        /// The key column.
        public var key: String
        /// Why the key needs a look, when it was not a single-column primary key.
        public var keyNote: String?
    }

    /// A derivative pattern and how many files it matched beside the sampled paths.
    public struct Derivative: Sendable, Hashable {
        /// The pattern, such as `{dir}/thumbs/{stem}_*.{ext}`.
        public var pattern: String
        /// Files it matched.
        public var files: Int
    }

    /// One class of the starter config.
    public struct StarterClass: Sendable, Hashable {
        /// The class name.
        public var name: String
        /// Globs relative to the media root.
        public var paths: [String]
        /// Files excluded as placeholders.
        public var exclude: [String]
        /// The columns that hold its paths.
        public var references: [Reference]
        /// Derivative patterns found.
        public var derivatives: [Derivative]
        /// What was found, as comment lines above the class.
        public var notes: [String]
        /// Columns of the first reference's table that retention would need.
        public var retentionHint: String?
    }

    /// Files under the media root that no class claims, by directory.
    public struct Leftover: Sendable, Hashable {
        /// `dir/` or `dir/sub/`, or `""` for files at the top of the media root.
        public var directory: String
        /// Regular files there.
        public var files: Int
        /// One of them.
        public var example: String
    }

    /// The classes, in the order of their first column.
    public var classes: [StarterClass]
    /// Every sampled column and what it looked like.
    public var findings: [ColumnFinding]
    /// How many tables were inspected.
    public var tables: Int
    /// How many text columns were sampled.
    public var textColumns: Int
    /// Directories no class claims (a scan lists their files as unclassified).
    public var leftovers: [Leftover]
    /// Symlinks and special files under the media root (always unclassified, never followed).
    public var specialEntries: Int
    /// Media-like columns that could not become a reference, and why.
    public var skipped: [String]

    /// The columns that became references, as `table.column`.
    public var referenceColumns: [String] {
        classes.flatMap { $0.references.map { "\($0.table).\($0.column)" } }
    }

    /// Works out the starter config.
    ///
    /// - Parameters:
    ///   - tables: the inspected tables (for keys and retention hints).
    ///   - findings: `MediaColumnDetector.examine` of the sampled text columns.
    ///   - listing: the walk of the media root.
    public static func build(tables: [InspectedTable], findings: [ColumnFinding], listing: Listing) -> StarterConfig {
        var builder = Builder(tables: tables, findings: findings, listing: listing)
        return builder.build()
    }
}

extension StarterConfig {
    /// Name stems of placeholder files an app ships in a media directory: never removed.
    static let placeholderStems: Set<String> = [
        "default", "placeholder", "blank", "empty", "missing", "no-image", "no_image", "noimage", "no-photo", "no_photo",
        "nophoto", "no-avatar", "no_avatar", "anonymous", "unknown",
    ]

    /// Suffixes that name a variant of a file beside it (`a_64x64.jpg`, `a-thumb.jpg`); other
    /// suffixes are more likely an upload handler's answer to a name clash (`a_x7Kp2Qd.jpg`).
    static func isVariantSuffix(_ suffix: Substring) -> Bool {
        let words: Set<String> = ["thumb", "thumbnail", "small", "medium", "large", "preview", "sm", "md", "lg", "xs", "xl", "2x", "3x", "@2x", "@3x", "retina", "crop", "cropped"]
        if words.contains(suffix.lowercased()) { return true }
        let parts = suffix.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// Directory names an upload handler makes up (`2024`, `06`, `a3f`, `9c-1e`): a sibling
    /// without a sampled path is no sign that it holds something else.
    static func isGeneratedName(_ name: String) -> Bool {
        name.contains { $0.isASCII && $0.isNumber } && name.allSatisfy { $0.isHexDigit || $0 == "-" || $0 == "_" }
    }

    /// A class name from a directory or column name: letters, digits and `_`.
    static func className(_ text: String) -> String {
        var name = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber) || $0 == "_" ? $0 : "_" })
        if name.first?.isNumber ?? true { name = "media_" + name }
        // YAML reads these as booleans or null, not as a class name.
        if ["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(name.lowercased()) { name += "_files" }
        return name
    }

    /// The key of a table's references: its primary key, or a fallback and why it needs a look.
    static func key(of table: InspectedTable) -> (column: String, note: String?)? {
        if table.primaryKey.count == 1 { return (table.primaryKey[0], nil) }
        if let first = table.primaryKey.first {
            return (first, "composite primary key (\(table.primaryKey.joined(separator: ", "))): 'key' names one column, enough for scan and clean; review before retention")
        }
        if table.columns.contains("id") { return ("id", "no primary key: 'id' assumed; check that it is unique") }
        guard let first = table.columns.first else { return nil }
        return (first, "no primary key: '\(first)' used as the key; name a unique column")
    }

    /// Retention needs a creation time and, for per-owner policies, an owner: the columns of
    /// the table that look like them, by name.
    static func retentionHint(_ table: InspectedTable?) -> String? {
        guard let table else { return nil }
        let created = ["created_at", "created", "created_on", "uploaded_at", "timestamp", "inserted_at", "date_created", "creation_date", "date_joined"]
        let owners = ["owner_id", "user_id", "author_id", "sender_id", "uploaded_by_id", "created_by_id", "account_id"]
        var parts: [String] = []
        if let column = created.first(where: table.columns.contains) { parts.append("created: \(column)") }
        if let column = owners.first(where: table.columns.contains) { parts.append("owner: \(column)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}

/// The steps of `StarterConfig.build`, sharing what they work out.
private struct Builder {
    let tables: [String: InspectedTable]
    let tableCount: Int
    let textColumns: Int
    let findings: [ColumnFinding]
    let listing: Listing

    /// A media column with its directories: `significant` ones hold at least 1 in 20 of its
    /// paths and shape the classes; the others are noted.
    struct MediaColumn {
        var finding: ColumnFinding
        var key: (column: String, note: String?)
        var counts: [String: Int]
        var significant: [String]
    }

    /// What one walk says about a class directory.
    struct DirectoryShape {
        /// Files per subdirectory (the second path component).
        var subdirectories: [String: Int] = [:]
        /// Names of the files directly in it.
        var files: [String] = []
    }

    init(tables: [InspectedTable], findings: [ColumnFinding], listing: Listing) {
        self.tables = Dictionary(tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        tableCount = tables.count
        textColumns = tables.reduce(0) { $0 + $1.textColumns.count }
        self.findings = findings
        self.listing = listing
    }

    mutating func build() -> StarterConfig {
        var skipped: [String] = []
        var columns: [MediaColumn] = []
        for finding in findings where finding.verdict == .media {
            guard NodeReader.isIdentifier(finding.table), NodeReader.isIdentifier(finding.column) else {
                skipped.append("\(finding.qualifiedName): a config names tables and columns with letters, digits and '_' only; add a class by hand if your database allows a quoted name there")
                continue
            }
            guard let table = tables[finding.table], let key = StarterConfig.key(of: table), NodeReader.isIdentifier(key.column) else {
                skipped.append("\(finding.qualifiedName): no key column usable in a config")
                continue
            }
            let counts = finding.directories
            var significant = counts.filter { $0.value * 20 >= finding.paths.count }.map(\.key)
            significant.sort { (counts[$0]!, $1) > (counts[$1]!, $0) }
            columns.append(MediaColumn(finding: finding, key: key, counts: counts, significant: significant))
        }

        // Directories a column spans substantially belong to one class.
        var parent: [String: String] = [:]
        func root(_ directory: String) -> String {
            var current = directory
            while let next = parent[current], next != current { current = next }
            return current
        }
        for column in columns {
            for directory in column.significant where parent[directory] == nil { parent[directory] = directory }
            for directory in column.significant.dropFirst() {
                let a = root(column.significant[0]), b = root(directory)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for (index, column) in columns.enumerated() {
            let group = root(column.significant[0])
            if groups[group] == nil { order.append(group) }
            groups[group, default: []].append(index)
        }
        var directoriesOf: [String: [String]] = [:]
        for directory in parent.keys { directoriesOf[root(directory), default: []].append(directory) }

        let referenced = Set(columns.flatMap(\.finding.paths))
        var classOfDirectory: [String: Int] = [:]
        var names: Set<String> = []
        var classes: [StarterConfig.StarterClass] = []
        var classDirectories: [[String]] = []
        for group in order {
            let members = groups[group]!.map { columns[$0] }
            let directories = directoriesOf[group]!.sorted()
            let first = members[0].finding
            var name = StarterConfig.className(directories.count == 1 && !directories[0].isEmpty && !(directories[0].first?.isNumber ?? true) ? directories[0] : "\(first.table)_\(first.column)".replacingOccurrences(of: ".", with: "_"))
            if names.contains(name) {
                var suffix = 2
                while names.contains("\(name)_\(suffix)") { suffix += 1 }
                name += "_\(suffix)"
            }
            names.insert(name)
            for directory in directories { classOfDirectory[directory] = classes.count }
            let references = members.map { StarterConfig.Reference(table: $0.finding.table, column: $0.finding.column, key: $0.key.column, keyNote: $0.key.note) }
            classes.append(StarterConfig.StarterClass(
                name: name, paths: [], exclude: [], references: references, derivatives: [], notes: [],
                retentionHint: StarterConfig.retentionHint(tables[first.table])))
            classDirectories.append(directories)
        }

        // One pass over the walk: the shape of every class directory, and the files that may be
        // derivatives (not themselves a sampled path).
        var shapes: [String: DirectoryShape] = [:]
        var matchers = order.map { DerivativeMatcher(parents: groups[$0]!.flatMap { columns[$0].finding.paths }) }
        for index in 0..<listing.count where listing.kinds[index] == .regular {
            let path = listing.paths[index]
            let top = MediaColumnDetector.topDirectory(of: path)
            guard let owner = classOfDirectory[top] else { continue }
            let rest = top.isEmpty ? Substring(path) : path.dropFirst(top.count + 1)
            if let slash = rest.firstIndex(of: "/") {
                shapes[top, default: DirectoryShape()].subdirectories[String(rest[..<slash]), default: 0] += 1
            } else {
                shapes[top, default: DirectoryShape()].files.append(String(rest))
            }
            if !referenced.contains(path) { matchers[owner].observe(path) }
        }

        for (index, directories) in classDirectories.enumerated() {
            let members = groups[order[index]]!.map { columns[$0] }
            let paths = members.flatMap(\.finding.paths)
            let derivatives = matchers[index].result()
            classes[index].derivatives = derivatives.accepted
            classes[index].notes = notes(members, classOfDirectory: classOfDirectory, classes: classes, directories: directories)
            var globs: [String] = []
            for directory in directories {
                if directory.isEmpty {
                    // Files at the top of the media root: only the extensions the columns hold.
                    let extensions = Set(paths.filter { !$0.contains("/") }.compactMap { $0.split(separator: ".").last.map(String.init) })
                    globs += extensions.sorted().map { "*." + Glob.escaped($0) }
                    continue
                }
                let shape = shapes[directory] ?? DirectoryShape()
                var touched = Set(paths.compactMap { Self.subdirectory(of: $0, under: directory) })
                touched.formUnion(Set(referenced.compactMap { Self.subdirectory(of: $0, under: directory) }))
                touched.formUnion(derivatives.touched.compactMap { Self.subdirectory(of: $0, under: directory) })
                let rootTouched = referenced.contains { MediaColumnDetector.topDirectory(of: $0) == directory && Self.subdirectory(of: $0, under: directory) == nil }
                    || derivatives.touched.contains { MediaColumnDetector.topDirectory(of: $0) == directory && Self.subdirectory(of: $0, under: directory) == nil }
                let untouched = shape.subdirectories.keys.filter { !touched.contains($0) }.sorted()
                let everyName = Set(shape.subdirectories.keys).union(touched)
                if untouched.isEmpty || everyName.contains(where: StarterConfig.isGeneratedName) {
                    globs.append(Glob.escaped(directory) + "/**")
                } else {
                    globs += touched.sorted().map { Glob.escaped(directory) + "/" + Glob.escaped($0) + "/**" }
                    if rootTouched { globs.append(Glob.escaped(directory) + "/*") }
                    for subdirectory in untouched {
                        let files = shape.subdirectories[subdirectory] ?? 0
                        classes[index].notes.append("\(directory)/\(subdirectory)/ holds \(StarterConfig.count(files, "file")) and no sampled path: left out of this class (a scan lists its files as unclassified); add \"\(directory)/\(subdirectory)/**\" to paths if they belong here")
                    }
                }
                // Placeholders the app ships, shared by many rows or by none: never removed.
                let claimsTop = globs.contains(Glob.escaped(directory) + "/**") || globs.contains(Glob.escaped(directory) + "/*")
                for file in shape.files.sorted() where claimsTop {
                    let stem = file.split(separator: ".", omittingEmptySubsequences: false).first.map { $0.lowercased() } ?? ""
                    if StarterConfig.placeholderStems.contains(stem) || stem.hasPrefix("default") {
                        classes[index].exclude.append(Glob.escaped(directory) + "/" + Glob.escaped(file))
                    }
                }
            }
            classes[index].paths = globs
        }

        let (leftovers, special) = leftovers(classes, classDirectories: classDirectories)
        return StarterConfig(
            classes: classes, findings: findings, tables: tableCount, textColumns: textColumns, leftovers: leftovers,
            specialEntries: special, skipped: skipped)
    }

    /// The comment lines above a class: what each column holds and where.
    func notes(_ members: [MediaColumn], classOfDirectory: [String: Int], classes: [StarterConfig.StarterClass], directories: [String]) -> [String] {
        var notes: [String] = []
        for member in members {
            let finding = member.finding
            var line = "\(finding.qualifiedName): \(finding.paths.count.grouped) of \(finding.sampled.grouped) sampled values are paths; \(finding.existing.grouped) exist under the media root"
            if finding.urls > 0 { line += "; \(StarterConfig.count(finding.urls, "is a URL", plural: "are URLs")) (a scan reports \(finding.urls == 1 ? "it" : "them") as invalid)" }
            if finding.insideRoot > 0 {
                line += "; \(StarterConfig.count(finding.insideRoot, "is", plural: "are")) stored absolute or with '..' (reported as invalid; the files they name are kept)"
            }
            notes.append(line)
        }
        if directories.count > 1 {
            for member in members where member.significant.count > 1 {
                let total = max(member.finding.paths.count, 1)
                let shares = member.significant.sorted().map { "\($0.isEmpty ? "(top of the media root)" : $0 + "/") \(member.counts[$0]! * 100 / total)%" }
                notes.append("\(member.finding.qualifiedName) spans several directories (\(shares.joined(separator: ", "))): one class covers them all")
            }
        }
        for member in members {
            for (directory, count) in member.counts.sorted(by: { $0.key < $1.key }) where !member.significant.contains(directory) {
                let place = directory.isEmpty ? "at the top of the media root" : "under \(directory)/"
                if let owner = classOfDirectory[directory] {
                    notes.append("\(member.finding.qualifiedName) also holds \(StarterConfig.count(count, "path")) \(place) (class \(classes[owner].name)): every reference column protects its files, whatever the class")
                } else {
                    notes.append("\(member.finding.qualifiedName) also holds \(StarterConfig.count(count, "path")) \(place), which no class claims: a scan lists those files as unclassified")
                }
            }
        }
        return notes
    }

    /// Files no class claims, by directory (the subdirectory inside a class directory), and
    /// how many entries are symlinks or special files.
    func leftovers(_ classes: [StarterConfig.StarterClass], classDirectories: [[String]]) -> ([StarterConfig.Leftover], Int) {
        let globs = classes.flatMap { $0.paths.compactMap { try? Glob($0) } }
        let classTops = Set(classDirectories.joined())
        var buckets: [String: StarterConfig.Leftover] = [:]
        var special = 0
        for index in 0..<listing.count {
            guard listing.kinds[index] == .regular else {
                special += 1
                continue
            }
            let path = listing.paths[index]
            if globs.contains(where: { $0.matches(path) }) { continue }
            let top = MediaColumnDetector.topDirectory(of: path)
            var bucket = top.isEmpty ? "" : top + "/"
            if !top.isEmpty, classTops.contains(top), let subdirectory = Self.subdirectory(of: path, under: top) {
                bucket += subdirectory + "/"
            }
            buckets[bucket, default: StarterConfig.Leftover(directory: bucket, files: 0, example: path)].files += 1
        }
        return (buckets.values.sorted { $0.directory < $1.directory }, special)
    }

    /// The second component of a path under `directory`, when the path goes deeper than a file
    /// directly in it.
    static func subdirectory(of path: String, under directory: String) -> String? {
        guard path.hasPrefix(directory + "/") else { return nil }
        let rest = path.dropFirst(directory.count + 1)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return String(rest[..<slash])
    }

    /// Directory (`""` at the top) and name.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// Stem and extension (`""` when there is none).
    static func splitExtension(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }
}

/// Derivative patterns of one class: files named after a sampled path, beside it or in a
/// subdirectory of its directory, observed one file at a time during the walk's pass. A
/// pattern is kept when it matches at least 3 files and 1 in 50 parents.
private struct DerivativeMatcher {
    /// Extensions of the parents, by `directory/stem`.
    var byStem: [String: Set<String>] = [:]
    let parentCount: Int
    var counts: [String: Int] = [:]
    var matched: [String: [String]] = [:]
    static let separators: Set<Character> = ["_", "-", ".", "@"]

    init(parents: [String]) {
        parentCount = parents.count
        for path in parents {
            let (directory, name) = Builder.split(path)
            let (stem, ext) = Builder.splitExtension(name)
            byStem[directory + "/" + stem, default: []].insert(ext)
        }
    }

    /// Counts the patterns a file that no sampled row holds would match.
    mutating func observe(_ path: String) {
        let (directory, name) = Builder.split(path)
        let (stem, ext) = Builder.splitExtension(name)
        // In a derivative pattern only `*` and braces are special: names holding them are skipped.
        guard !ext.isEmpty, !stem.isEmpty, ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return }
        func extensionPart(_ parentExtensions: Set<String>) -> String { parentExtensions.contains(ext) ? "{ext}" : ext }
        var patterns: Set<String> = []
        if let extensions = byStem[directory + "/" + stem], !extensions.contains(ext) {
            patterns.insert("{dir}/{stem}." + ext)
        }
        for cut in stem.indices where Self.separators.contains(stem[cut]) && cut != stem.startIndex {
            let suffix = stem[stem.index(after: cut)...]
            if let extensions = byStem[directory + "/" + stem[..<cut]], StarterConfig.isVariantSuffix(suffix) {
                patterns.insert("{dir}/{stem}\(stem[cut])*.\(extensionPart(extensions))")
            }
        }
        if !directory.isEmpty {
            let (parentDirectory, subdirectory) = Builder.split(directory)
            if !subdirectory.contains(where: { "*{}".contains($0) }) {
                if let extensions = byStem[parentDirectory + "/" + stem] {
                    patterns.insert("{dir}/\(subdirectory)/{stem}.\(extensionPart(extensions))")
                }
                for cut in stem.indices where Self.separators.contains(stem[cut]) && cut != stem.startIndex {
                    if let extensions = byStem[parentDirectory + "/" + stem[..<cut]] {
                        patterns.insert("{dir}/\(subdirectory)/{stem}\(stem[cut])*.\(extensionPart(extensions))")
                    }
                }
            }
        }
        for pattern in patterns {
            counts[pattern, default: 0] += 1
            matched[pattern, default: []].append(path)
        }
    }

    /// The patterns kept, most files first (at most 5), and the files they matched.
    func result() -> (accepted: [StarterConfig.Derivative], touched: [String]) {
        let accepted = counts.filter { $0.value >= 3 && $0.value * 50 >= parentCount }
            .sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .prefix(5)
            .map { StarterConfig.Derivative(pattern: $0.key, files: $0.value) }
        return (Array(accepted), accepted.flatMap { matched[$0.pattern] ?? [] })
    }
}

extension StarterConfig {
    /// `1 file`, `2 files`, `1 is a URL`, `3 are URLs`.
    public static func count(_ number: Int, _ singular: String, plural: String? = nil) -> String {
        "\(number.grouped) \(number == 1 ? singular : plural ?? singular + "s")"
    }
}

extension Glob {
    /// A literal path segment as glob text: `*`, `?`, `[` and `]` in brackets; a brace, which
    /// no glob may hold, becomes `?` (any one character).
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "*", "?", "[", "]": out += "[\(character)]"
            case "{", "}": out += "?"
            default: out.append(character)
            }
        }
        return out
    }
}

extension StarterConfig {
    /// Whether a table is the janitor's own (the hooks' outbox, a store sharing the database):
    /// its columns hold media paths, but they are no references.
    public static func isJanitorTable(_ name: String) -> Bool {
        (name.split(separator: ".").last ?? "").hasPrefix("janitor_")
    }
}

extension FilePath {
    /// `path` relative to the directory `base` (both absolute and normalised), with `..` where
    /// it lies outside; `.` for the directory itself.
    public static func relative(_ path: String, from base: String) -> String {
        let target = path.split(separator: "/"), origin = base.split(separator: "/")
        var common = 0
        while common < min(target.count, origin.count), target[common] == origin[common] { common += 1 }
        let parts = Array(repeating: "..", count: origin.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
