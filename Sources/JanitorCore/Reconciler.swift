import Foundation

/// Turns a listing of the disk and the set of referenced paths into findings and totals.
///
/// Every reference column of every class protects a path, whatever class the file is in and
/// whatever `--class` selects: a file shared by two rows or two fields is never an orphan
/// while one holds it. Derivatives of a referenced file are referenced.
public struct Reconciler: Sendable {
    /// The classes, in config order.
    public let classes: [MediaClass]
    /// The media root as written in the config, for the report.
    public let mediaRootSetting: String
    /// How many directory levels the per-directory totals keep.
    public let directoryDepth: Int
    /// Classes to report on (nil: all). References of every class still protect files.
    public let selectedClasses: Set<Int>?

    /// Creates a reconciler.
    public init(classes: [MediaClass], mediaRootSetting: String, directoryDepth: Int = 2, selectedClasses: Set<Int>? = nil) {
        self.classes = classes
        self.mediaRootSetting = mediaRootSetting
        self.directoryDepth = max(1, directoryDepth)
        self.selectedClasses = selectedClasses
    }

    /// The outcome for one file, for tools that act on files (`clean`, `explain`).
    public enum FileState: UInt8, Sendable {
        case referenced, orphan, tooYoung, unclassified, excluded, skipped
    }

    /// The audit: a report, per-owner totals, and the state of every listing entry.
    public struct Result: Sendable {
        /// The scan report.
        public var report: ScanReport
        /// Bytes and counts by owner (references that name an `owner`).
        public var owners: [OwnerUsage]
        /// Per listing entry: what the audit decided.
        public var states: [FileState]
        /// The class of each listing entry (-1: none).
        public var classOfEntry: [Int32]
    }

    /// Reconciles.
    public func reconcile(_ listing: Listing, _ references: ReferenceSet, now: Date) -> Result {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        var summary = ScanSummary()
        var classUsage = classes.map { ClassUsage(name: $0.name) }
        var directories = DirectoryTally(depth: directoryDepth)
        var findings: [Finding] = []
        var states = [FileState](repeating: .skipped, count: listing.count)
        var classOfEntry = [Int32](repeating: -1, count: listing.count)
        let derivativeIndex = DerivativeIndex(classes: classes, references: references)
        func isSelected(_ classIndex: Int) -> Bool { selectedClasses?.contains(classIndex) ?? true }

        for entry in 0..<listing.count {
            listing.paths.withBytes(at: entry) { path in
                var owner = -1
                var excluded = false
                for (index, mediaClass) in classes.enumerated() where mediaClass.matchesPaths(path) {
                    if mediaClass.isExcluded(path) { excluded = true; continue }
                    owner = index
                    break
                }
                let kind = listing.kinds[entry]
                let size = listing.sizes[entry]
                var referenced = false
                if kind == .regular {
                    if let index = references.paths.index(of: path) {
                        referenced = true
                        if owner < 0 { owner = Int(references.firstClass[index]) }
                    } else if derivativeIndex.hasReferencedParent(path) {
                        referenced = true
                    }
                }
                if owner < 0, selectedClasses != nil { return }
                if owner >= 0, !isSelected(owner) { return }
                classOfEntry[entry] = Int32(owner)

                summary.files += 1
                summary.bytes += size
                directories.add(path, bytes: size)
                if owner >= 0 {
                    classUsage[owner].files += 1
                    classUsage[owner].bytes += size
                }
                let state: FileState
                if kind != .regular {
                    state = .unclassified
                } else if referenced {
                    state = .referenced
                } else if owner < 0 {
                    state = excluded ? .excluded : .unclassified
                } else if nowSeconds - listing.mtimes[entry] < classes[owner].grace.value {
                    state = .tooYoung
                } else {
                    state = .orphan
                }
                states[entry] = state
                switch state {
                case .referenced:
                    summary.referenced += 1
                case .excluded:
                    summary.excluded += 1
                case .orphan:
                    summary.orphans += 1
                    summary.orphanBytes += size
                    classUsage[owner].orphans += 1
                    classUsage[owner].orphanBytes += size
                    directories.addOrphan(path, bytes: size)
                    findings.append(fileFinding(.orphan, path, entry, listing, className: classes[owner].name, reason: nil))
                case .tooYoung:
                    summary.tooYoung += 1
                    findings.append(fileFinding(.tooYoung, path, entry, listing, className: classes[owner].name, reason: "inside grace (\(classes[owner].grace))"))
                case .unclassified:
                    summary.unclassified += 1
                    let reason: String
                    switch kind {
                    case .symlink: reason = "symlink; never followed"
                    case .other: reason = "not a regular file"
                    case .regular: reason = "no class claims it"
                    }
                    findings.append(fileFinding(.unclassified, path, entry, listing, className: owner >= 0 ? classes[owner].name : nil, reason: reason))
                case .skipped:
                    break
                }
            }
        }

        // Missing: referenced paths with no entry on disk.
        var missingFindings: [Int: Int] = [:]
        for index in 0..<references.paths.count {
            let classIndex = Int(references.firstClass[index])
            guard isSelected(classIndex) else { continue }
            let onDisk = references.paths.withBytes(at: index) { listing.paths.index(of: $0) != nil }
            guard !onDisk else { continue }
            summary.missing += 1
            classUsage[classIndex].missing += 1
            missingFindings[index] = findings.count
            findings.append(Finding(kind: .missing, path: references.paths[index], className: classes[classIndex].name))
        }
        var owners: [String: OwnerUsage] = [:]
        if !missingFindings.isEmpty || references.keepsOwners {
            for occurrence in references.occurrences {
                let pathIndex = Int(occurrence.path)
                if let finding = missingFindings[pathIndex] {
                    findings[finding].referencedBy.append(references.rowReference(occurrence))
                }
            }
        }
        if references.keepsOwners {
            owners = ownerUsage(listing, references)
        }

        for value in references.invalid where isSelected(value.classIndex) {
            summary.invalid += 1
            findings.append(Finding(kind: .invalid, value: value.value, className: classes[value.classIndex].name, reason: value.reason, referencedBy: [value.row]))
        }

        findings.sort(by: Self.findingOrder)
        let report = ScanReport(
            generatedAt: Date(timeIntervalSince1970: TimeInterval(nowSeconds)), mediaRoot: mediaRootSetting,
            summary: summary, classes: classUsage.enumerated().filter { isSelected($0.offset) }.map(\.element),
            directories: directories.sorted(), findings: findings)
        let ownerList = owners.values.sorted { ($0.bytes, $1.className, $1.owner) > ($1.bytes, $0.className, $0.owner) }
        return Result(report: report, owners: ownerList, states: states, classOfEntry: classOfEntry)
    }

    /// Kind order (orphan, missing, invalid, unclassified, too_young), then path.
    static func findingOrder(_ a: Finding, _ b: Finding) -> Bool {
        let rank: [FindingKind: Int] = [.orphan: 0, .missing: 1, .invalid: 2, .unclassified: 3, .tooYoung: 4]
        if a.kind != b.kind { return rank[a.kind]! < rank[b.kind]! }
        return a.subject.utf8.lexicographicallyPrecedes(b.subject.utf8)
    }

    private func fileFinding(_ kind: FindingKind, _ path: UnsafeBufferPointer<UInt8>, _ entry: Int, _ listing: Listing, className: String?, reason: String?) -> Finding {
        Finding(
            kind: kind, path: String(decoding: path, as: UTF8.self), className: className, bytes: listing.sizes[entry],
            mtime: Date(timeIntervalSince1970: TimeInterval(listing.mtimes[entry])), reason: reason)
    }

    /// Bytes per owner: each file counted once per owner, whichever of their rows hold it.
    private func ownerUsage(_ listing: Listing, _ references: ReferenceSet) -> [String: OwnerUsage] {
        var usage: [String: OwnerUsage] = [:]
        var seen = Set<String>()
        references.forEachOccurrence { pathIndex, column, _, owner in
            guard let owner else { return }
            let classIndex = references.columns[column].classIndex
            guard selectedClasses?.contains(classIndex) ?? true else { return }
            guard let entry = references.paths.withBytes(at: pathIndex, { listing.paths.index(of: $0) }) else { return }
            let className = classes[classIndex].name
            let key = "\(className)\u{0}\(owner)"
            guard seen.insert("\(key)\u{0}\(pathIndex)").inserted else { return }
            usage[key, default: OwnerUsage(className: className, owner: owner)].files += 1
            usage[key]!.bytes += listing.sizes[entry]
        }
        return usage
    }
}

/// Totals per directory, cut at a depth; consecutive files of one directory reuse its key.
struct DirectoryTally {
    let depth: Int
    var totals: [String: DirectoryUsage] = [:]
    private var lastPrefix: [UInt8] = [1]
    private var lastKey = ""

    init(depth: Int) { self.depth = depth }

    mutating func add(_ path: UnsafeBufferPointer<UInt8>, bytes: Int64) {
        let key = self.key(path)
        totals[key, default: DirectoryUsage(path: key)].files += 1
        totals[key]!.bytes += bytes
    }

    mutating func addOrphan(_ path: UnsafeBufferPointer<UInt8>, bytes: Int64) {
        let key = self.key(path)
        totals[key]!.orphans += 1
        totals[key]!.orphanBytes += bytes
    }

    private mutating func key(_ path: UnsafeBufferPointer<UInt8>) -> String {
        // The prefix is the path up to its last '/', at most `depth` segments deep.
        var end = 0
        var slashes = 0
        for i in 0..<path.count where path[i] == UInt8(ascii: "/") {
            slashes += 1
            end = i
            if slashes == depth { break }
        }
        let prefix = UnsafeBufferPointer(rebasing: path[0..<end])
        if prefix.elementsEqual(lastPrefix) { return lastKey }
        lastPrefix = Array(prefix)
        lastKey = end == 0 ? "." : String(decoding: prefix, as: UTF8.self)
        return lastKey
    }

    func sorted() -> [DirectoryUsage] {
        totals.values.sorted { a, b in
            if a.orphanBytes != b.orphanBytes { return a.orphanBytes > b.orphanBytes }
            if a.bytes != b.bytes { return a.bytes > b.bytes }
            return a.path < b.path
        }
    }
}

/// Answers "is this file a derivative of a referenced file?" for every class's patterns.
struct DerivativeIndex {
    let patterns: [DerivativePattern]
    let references: ReferenceSet
    /// `dir/stem` of every referenced path, built only when a pattern has no `{ext}`.
    let stems: PathSet?

    init(classes: [MediaClass], references: ReferenceSet) {
        var patterns: [DerivativePattern] = []
        for mediaClass in classes {
            for pattern in mediaClass.derivatives where !patterns.contains(pattern) { patterns.append(pattern) }
        }
        self.patterns = patterns
        self.references = references
        if patterns.contains(where: \.matchesByStem) {
            var stems = PathSet(capacity: references.paths.count)
            for index in 0..<references.paths.count {
                references.paths.withBytes(at: index) { stems.insert(Self.stem(of: $0)) }
            }
            self.stems = stems
        } else {
            stems = nil
        }
    }

    func hasReferencedParent(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        for pattern in patterns {
            for parent in pattern.parents(of: path) {
                switch parent {
                case .path(let parentPath):
                    if references.paths.contains(parentPath) { return true }
                case .stem(let stem):
                    if stems?.contains(stem) == true { return true }
                }
            }
        }
        return false
    }

    /// The path without the last extension of its last segment.
    static func stem(of path: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var end = path.count
        var i = path.count - 1
        while i > 0 {
            if path[i] == UInt8(ascii: "/") { break }
            if path[i] == UInt8(ascii: ".") { end = i; break }
            i -= 1
        }
        return UnsafeBufferPointer(rebasing: path[0..<end])
    }
}
