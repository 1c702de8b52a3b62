import Foundation

extension FindingKind {
    /// The order of the kinds in a report's findings, as the reconciler emits them.
    public static let reportOrder: [FindingKind] = [.orphan, .missing, .invalid, .unclassified, .tooYoung]

    /// The kind's position in ``reportOrder``.
    var reportRank: Int {
        switch self {
        case .orphan: 0
        case .missing: 1
        case .invalid: 2
        case .unclassified: 3
        case .tooYoung: 4
        }
    }
}

extension DirectoryUsage {
    /// The order of a report's directory totals: most orphan bytes first, then most bytes,
    /// then by path.
    public static func precedesInReport(_ a: DirectoryUsage, _ b: DirectoryUsage) -> Bool {
        if a.orphanBytes != b.orphanBytes { return a.orphanBytes > b.orphanBytes }
        if a.bytes != b.bytes { return a.bytes > b.bytes }
        return a.path < b.path
    }
}

extension ScanReport {
    /// The report one unsharded scan would have written, from the reports of shards 1 to N of
    /// one split (`scan --shard I/N`), given in any order with where each came from (a file
    /// name, for the errors).
    ///
    /// Shards never share a file, a missing path or an invalid value, so the summary, class
    /// and directory totals are sums, and the findings are the shards' findings in the
    /// reconciler's order: by kind in ``FindingKind/reportOrder``, then by the bytes of the path
    /// or value. `generatedAt` is the latest shard's (the tree is fully audited only then);
    /// the merged report has no `shard`.
    public static func merging(shards: [(source: String, report: ScanReport)]) throws(ShardMergeError) -> ScanReport {
        guard let first = shards.first else { throw .noReports }
        guard let firstShard = first.report.shard else { throw .notSharded(source: first.source) }
        let firstClasses = first.report.classes.map(\.name)
        var sourceOfShard: [Int: String] = [:]
        for (source, report) in shards {
            guard let shard = report.shard else { throw .notSharded(source: source) }
            guard shard.count == firstShard.count else {
                throw .countMismatch(source: source, shard: shard, firstSource: first.source, firstShard: firstShard)
            }
            guard report.mediaRoot == first.report.mediaRoot else {
                throw .mediaRootMismatch(
                    source: source, mediaRoot: report.mediaRoot, firstSource: first.source, firstMediaRoot: first.report.mediaRoot)
            }
            let classes = report.classes.map(\.name)
            guard classes == firstClasses else {
                throw .classesMismatch(source: source, classes: classes, firstSource: first.source, firstClasses: firstClasses)
            }
            if let earlier = sourceOfShard[shard.index] {
                throw .duplicate(shard: shard, source: source, firstSource: earlier)
            }
            sourceOfShard[shard.index] = source
        }
        let missing = (1...firstShard.count).filter { sourceOfShard[$0] == nil }
        guard missing.isEmpty else {
            let present = sourceOfShard.sorted { $0.key < $1.key }.map {
                (shard: Shard(validIndex: $0.key, count: firstShard.count), source: $0.value)
            }
            throw .missing(shards: missing.map { Shard(validIndex: $0, count: firstShard.count) }, present: present)
        }

        var summary = ScanSummary()
        var classes = first.report.classes.map { ClassUsage(name: $0.name) }
        var directories: [String: DirectoryUsage] = [:]
        var findings: [(finding: Finding, position: Int)] = []
        findings.reserveCapacity(shards.reduce(0) { $0 + $1.report.findings.count })
        for (_, report) in shards.sorted(by: { $0.report.shard!.index < $1.report.shard!.index }) {
            summary.add(report.summary)
            for (index, usage) in report.classes.enumerated() {
                classes[index].files += usage.files
                classes[index].bytes += usage.bytes
                classes[index].orphans += usage.orphans
                classes[index].orphanBytes += usage.orphanBytes
                classes[index].missing += usage.missing
            }
            for usage in report.directories {
                directories[usage.path, default: DirectoryUsage(path: usage.path)].add(usage)
            }
            for finding in report.findings {
                findings.append((finding, findings.count))
            }
        }
        // Equal subjects only come from one shard (the same invalid value in two rows): the
        // position keeps them in that shard's order.
        findings.sort { a, b in
            let rankA = a.finding.kind.reportRank, rankB = b.finding.kind.reportRank
            if rankA != rankB { return rankA < rankB }
            let subjectA = a.finding.subject.utf8, subjectB = b.finding.subject.utf8
            if !subjectA.elementsEqual(subjectB) { return subjectA.lexicographicallyPrecedes(subjectB) }
            return a.position < b.position
        }
        return ScanReport(
            generatedAt: shards.map(\.report.generatedAt).max()!, mediaRoot: first.report.mediaRoot, summary: summary,
            classes: classes, directories: directories.values.sorted(by: DirectoryUsage.precedesInReport),
            findings: findings.map(\.finding))
    }
}

extension ScanSummary {
    /// Adds another summary's counts to this one's.
    public mutating func add(_ other: ScanSummary) {
        files += other.files
        bytes += other.bytes
        referenced += other.referenced
        orphans += other.orphans
        orphanBytes += other.orphanBytes
        missing += other.missing
        unclassified += other.unclassified
        invalid += other.invalid
        tooYoung += other.tooYoung
        excluded += other.excluded
    }
}

extension DirectoryUsage {
    mutating func add(_ other: DirectoryUsage) {
        files += other.files
        bytes += other.bytes
        orphans += other.orphans
        orphanBytes += other.orphanBytes
    }
}

/// Why shard reports cannot be merged; each message names the shard and the file, and what
/// to pass instead.
public enum ShardMergeError: Error, Sendable, CustomStringConvertible {
    /// Nothing to merge.
    case noReports
    /// A report of a whole tree, or of a merge, among the shards.
    case notSharded(source: String)
    /// Shards of two different splits (another N).
    case countMismatch(source: String, shard: Shard, firstSource: String, firstShard: Shard)
    /// Shards of two media roots.
    case mediaRootMismatch(source: String, mediaRoot: String, firstSource: String, firstMediaRoot: String)
    /// Shards of different configs or `--class` selections.
    case classesMismatch(source: String, classes: [String], firstSource: String, firstClasses: [String])
    /// One shard given twice.
    case duplicate(shard: Shard, source: String, firstSource: String)
    /// Shards not given, with the ones that were.
    case missing(shards: [Shard], present: [(shard: Shard, source: String)])

    /// The message for the user.
    public var description: String {
        switch self {
        case .noReports:
            return "no reports to merge; pass the JSON report of every 'scan --shard I/N --format json' run"
        case .notSharded(let source):
            return "'\(source)' is not the report of a shard (it has no 'shard'); merge the JSON reports written by 'scan --shard I/N --format json', one per shard"
        case .countMismatch(let source, let shard, let firstSource, let firstShard):
            return "'\(source)' is shard \(shard) but '\(firstSource)' is shard \(firstShard); merge the shards of one split, all with the same N"
        case .mediaRootMismatch(let source, let mediaRoot, let firstSource, let firstMediaRoot):
            return "'\(source)' audits media root '\(mediaRoot)' but '\(firstSource)' audits '\(firstMediaRoot)'; merge the shards of one media root"
        case .classesMismatch(let source, let classes, let firstSource, let firstClasses):
            return "'\(source)' reports classes \(Self.list(classes)) but '\(firstSource)' reports \(Self.list(firstClasses)); run every shard with the same config and the same --class"
        case .duplicate(let shard, let source, let firstSource):
            return "shard \(shard) is given twice, in '\(firstSource)' and in '\(source)'; pass each shard's report once"
        case .missing(let shards, let present):
            let got = present.map { "\($0.shard) from '\($0.source)'" }.joined(separator: ", ")
            let names = Self.and(shards.map(\.description))
            let runs = Self.and(shards.map { "'scan --shard \($0) --format json'" })
            return shards.count == 1
                ? "shard \(names) is missing (got \(got)); add the report of \(runs)"
                : "shards \(names) are missing (got \(got)); add the reports of \(runs)"
        }
    }

    private static func list(_ classes: [String]) -> String {
        classes.isEmpty ? "(none)" : classes.map { "'\($0)'" }.joined(separator: ", ")
    }

    private static func and(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
