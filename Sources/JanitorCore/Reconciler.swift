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
    /// The shard to report on (nil: the whole tree). The references of every shard still
    /// decide; only the findings and totals are the shard's.
    public let shard: Shard?

    /// Creates a reconciler.
    public init(
        classes: [MediaClass], mediaRootSetting: String, directoryDepth: Int = 2, selectedClasses: Set<Int>? = nil,
        shard: Shard? = nil
    ) {
        self.classes = classes
        self.mediaRootSetting = mediaRootSetting
        self.directoryDepth = max(1, directoryDepth)
        self.selectedClasses = selectedClasses
        self.shard = shard
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
        /// Rows with a path per class, filled by the caller that read the references.
        public var rowsPerClass: [Int] = []
        /// Directories the walk could not read (root-relative path, reason), filled by the
        /// caller that walked: their files are not in this result.
        public var unreadable: [(path: String, reason: String)] = []
    }

    /// Reconciles. `firstSeen` holds files the sidecar's watcher first saw recently: one first
    /// seen within its class's grace is too young, whatever its mtime says.
    public func reconcile(_ listing: Listing, _ references: ReferenceSet, now: Date, firstSeen: [String: Date] = [:]) -> Result {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        var summary = ScanSummary()
        var classUsage = classes.map { ClassUsage(name: $0.name) }
        var directories = DirectoryTally(depth: directoryDepth)
        var states = [FileState](repeating: .skipped, count: listing.count)
        var classOfEntry = [Int32](repeating: -1, count: listing.count)
        // For each referenced path, the listing entry that holds it (-1: not on disk).
        var referenceEntry = [Int32](repeating: -1, count: references.paths.count)
        var orphans: [Int32] = [], tooYoung: [Int32] = [], unclassified: [Int32] = []
        let derivativeIndex = DerivativeIndex(classes: classes, references: references)
        let matchers = classes.map { ClassMatcher(paths: $0.paths, exclude: $0.exclude, grace: $0.grace.value) }
        let selection: [Bool]? = selectedClasses.map { selected in classes.indices.map { selected.contains($0) } }
        let sizes = listing.sizes, mtimes = listing.mtimes, kinds = listing.kinds

        listing.paths.withStorage { bytes, starts in
            for entry in 0..<listing.count {
                let path = UnsafeBufferPointer(rebasing: bytes[starts[entry]..<starts[entry + 1]])
                // Another shard's file: left `.skipped`. Its path, if referenced, is another
                // shard's too, so leaving `referenceEntry` unset cannot make it missing here.
                if let shard, !shard.contains(path) { continue }
                var owner = -1
                var excluded = false
                for index in 0..<matchers.count where matchers[index].matchesPaths(path) {
                    if matchers[index].isExcluded(path) { excluded = true; continue }
                    owner = index
                    break
                }
                let kind = kinds[entry]
                let size = sizes[entry]
                var referenced = false
                if let index = references.paths.index(of: path) {
                    referenceEntry[index] = Int32(entry)
                    if kind == .regular {
                        referenced = true
                        if owner < 0 { owner = Int(references.firstClass[index]) }
                    }
                } else if kind == .regular, derivativeIndex.hasReferencedParent(path) {
                    referenced = true
                }
                if let selection, owner < 0 || !selection[owner] { continue }
                classOfEntry[entry] = Int32(owner)

                let state: FileState
                if kind != .regular {
                    state = .unclassified
                } else if referenced {
                    state = .referenced
                } else if owner < 0 {
                    state = excluded ? .excluded : .unclassified
                } else if nowSeconds - mtimes[entry] < matchers[owner].grace {
                    state = .tooYoung
                } else if !firstSeen.isEmpty, let seen = firstSeen[String(decoding: path, as: UTF8.self)], nowSeconds - Int64(seen.timeIntervalSince1970) < matchers[owner].grace {
                    state = .tooYoung
                } else {
                    state = .orphan
                }
                states[entry] = state
                summary.files += 1
                summary.bytes += size
                if owner >= 0 {
                    classUsage[owner].files += 1
                    classUsage[owner].bytes += size
                }
                directories.add(path, bytes: size, orphanBytes: state == .orphan ? size : nil)
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
                    orphans.append(Int32(entry))
                case .tooYoung:
                    summary.tooYoung += 1
                    tooYoung.append(Int32(entry))
                case .unclassified:
                    summary.unclassified += 1
                    unclassified.append(Int32(entry))
                case .skipped:
                    break
                }
            }
        }

        // Findings, grouped by kind in `FindingKind.reportOrder`, each group by path bytes
        // (sorting entry indices by their bytes); `ScanReport.merging(shards:)` keeps this order.
        var findings: [Finding] = []
        findings.reserveCapacity(orphans.count + tooYoung.count + unclassified.count)
        func sortedByPath(_ entries: [Int32]) -> [Int32] {
            entries.sorted { listing.paths.precedes(Int($0), Int($1)) }
        }
        for entry in sortedByPath(orphans) {
            let owner = Int(classOfEntry[Int(entry)])
            var finding = fileFinding(.orphan, Int(entry), listing, className: classes[owner].name, reason: nil)
            // A name that is not UTF-8 is shown repaired (its path's bytes differ from the
            // name's); the reason says nothing may act on it.
            if let path = finding.path, !listing.paths.withBytes(at: Int(entry), { path.utf8.elementsEqual($0) }) {
                finding.reason = Finding.repairedNameReason
            }
            findings.append(finding)
        }

        // Missing: referenced paths with no entry on disk.
        var missingFindings: [Int: Int] = [:]
        var missing: [(path: String, classIndex: Int, index: Int)] = []
        for index in 0..<references.paths.count where referenceEntry[index] < 0 {
            let classIndex = Int(references.firstClass[index])
            if let selection, !selection[classIndex] { continue }
            if let shard, !references.paths.withBytes(at: index, shard.contains) { continue }
            missing.append((references.paths[index], classIndex, index))
        }
        missing.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        for item in missing {
            summary.missing += 1
            classUsage[item.classIndex].missing += 1
            missingFindings[item.index] = findings.count
            findings.append(Finding(kind: .missing, path: item.path, className: classes[item.classIndex].name))
        }
        if !missingFindings.isEmpty {
            for occurrence in references.occurrences {
                if let finding = missingFindings[Int(occurrence.path)] {
                    findings[finding].referencedBy.append(references.rowReference(occurrence))
                }
            }
        }

        let invalid = references.invalid.filter { (selection?[$0.classIndex] ?? true) && (shard?.contains($0.value) ?? true) }
            .sorted { $0.value.utf8.lexicographicallyPrecedes($1.value.utf8) }
        for value in invalid {
            summary.invalid += 1
            findings.append(Finding(kind: .invalid, value: value.value, className: classes[value.classIndex].name, reason: value.reason, referencedBy: [value.row]))
        }
        for entry in sortedByPath(unclassified) {
            let owner = Int(classOfEntry[Int(entry)])
            let reason: String
            switch kinds[Int(entry)] {
            case .symlink: reason = "symlink; never followed"
            case .other: reason = "not a regular file"
            case .regular: reason = "no class claims it"
            }
            findings.append(fileFinding(.unclassified, Int(entry), listing, className: owner >= 0 ? classes[owner].name : nil, reason: reason))
        }
        for entry in sortedByPath(tooYoung) {
            let owner = Int(classOfEntry[Int(entry)])
            findings.append(fileFinding(.tooYoung, Int(entry), listing, className: classes[owner].name, reason: "inside grace (\(classes[owner].grace))"))
        }

        let owners = references.keepsOwners ? ownerUsage(listing, references, referenceEntry) : []
        let report = ScanReport(
            generatedAt: Date(timeIntervalSince1970: TimeInterval(nowSeconds)), mediaRoot: mediaRootSetting,
            summary: summary, classes: classUsage.enumerated().filter { selection?[$0.offset] ?? true }.map(\.element),
            directories: directories.sorted(), findings: findings, shard: shard)
        return Result(report: report, owners: owners, states: states, classOfEntry: classOfEntry)
    }

    private func fileFinding(_ kind: FindingKind, _ entry: Int, _ listing: Listing, className: String?, reason: String?) -> Finding {
        Finding(
            kind: kind, path: listing.paths[entry], className: className, bytes: listing.sizes[entry],
            mtime: Date(timeIntervalSince1970: TimeInterval(listing.mtimes[entry])), reason: reason)
    }

    /// Bytes per owner: each file counted once per owner, whichever of their rows hold it.
    private func ownerUsage(_ listing: Listing, _ references: ReferenceSet, _ referenceEntry: [Int32]) -> [OwnerUsage] {
        var usage: [String: OwnerUsage] = [:]
        var seen = Set<String>()
        references.forEachOccurrence { pathIndex, column, _, owner in
            guard let owner else { return }
            let classIndex = references.columns[column].classIndex
            guard selectedClasses?.contains(classIndex) ?? true else { return }
            let entry = Int(referenceEntry[pathIndex])
            guard entry >= 0 else { return }
            let className = classes[classIndex].name
            let key = "\(className)\u{0}\(owner)"
            guard seen.insert("\(key)\u{0}\(pathIndex)").inserted else { return }
            usage[key, default: OwnerUsage(className: className, owner: owner)].files += 1
            usage[key]!.bytes += listing.sizes[entry]
        }
        return usage.values.sorted { ($0.bytes, $1.className, $1.owner) > ($1.bytes, $0.className, $0.owner) }
    }
}

/// The part of a class the per-file loop needs, without the rest of the class's values.
struct ClassMatcher {
    let paths: [Glob]
    let exclude: [Glob]
    let grace: Int64

    func matchesPaths(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<paths.count where paths[index].matches(path) { return true }
        return false
    }

    func isExcluded(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<exclude.count where exclude[index].matches(path) { return true }
        return false
    }
}

/// Totals per directory, cut at a depth. Files of one directory arrive together from the
/// walk, so the running directory's totals stay in local fields until the key changes.
struct DirectoryTally {
    let depth: Int
    var totals: [String: DirectoryUsage] = [:]
    private var lastPrefix: [UInt8] = [0]
    private var current: DirectoryUsage?

    init(depth: Int) { self.depth = depth }

    mutating func add(_ path: UnsafeBufferPointer<UInt8>, bytes: Int64, orphanBytes: Int64?) {
        // The key is the path up to its last '/', at most `depth` segments deep.
        var end = 0
        var slashes = 0
        for i in 0..<path.count where path[i] == UInt8(ascii: "/") {
            slashes += 1
            end = i
            if slashes == depth { break }
        }
        let prefix = UnsafeBufferPointer(rebasing: path[0..<end])
        if current == nil || !prefix.elementsEqual(lastPrefix) {
            flush()
            lastPrefix = Array(prefix)
            let key = end == 0 ? "." : String(decoding: prefix, as: UTF8.self)
            current = totals.removeValue(forKey: key) ?? DirectoryUsage(path: key)
        }
        current!.files += 1
        current!.bytes += bytes
        if let orphanBytes {
            current!.orphans += 1
            current!.orphanBytes += orphanBytes
        }
    }

    private mutating func flush() {
        if let current { totals[current.path] = current }
        current = nil
    }

    mutating func sorted() -> [DirectoryUsage] {
        flush()
        return totals.values.sorted(by: DirectoryUsage.precedesInReport)
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
                references.paths.withBytes(at: index) { _ = stems.insert(Self.stem(of: $0)) }
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
