import JanitorCore

/// The findings of one kind as the human-readable formats show them: how many, how big, and
/// the first `top` of them.
struct FindingGroup {
    /// The kind.
    var kind: FindingKind
    /// How many findings of the kind the report holds.
    var count = 0
    /// Their bytes (kinds without sizes count zero).
    var bytes: Int64 = 0
    /// The ones to show: largest first for kinds that have sizes, report order otherwise.
    var shown: [Finding] = []

    /// How many are not shown.
    var hidden: Int { count - shown.count }

    /// Whether the kind is listed largest first.
    var largestFirst: Bool { kind.hasSize }

    /// The heading text and Markdown use: kind, count, bytes, and the order shown.
    var title: String {
        var title = "\(kind.title): \(count)"
        if kind.hasSize {
            title += ", \(humanSize(bytes))"
            if kind == .orphan { title += " reclaimable" }
            if count > 1 { title += ", largest first" }
        }
        return title
    }

    /// Groups findings by kind, in `FindingKind.allCases` order, leaving out empty kinds.
    ///
    /// One pass over the findings plus a sort of integer pairs per sized kind, so 200,000
    /// findings cost milliseconds whatever `top` is.
    static func groups(_ findings: [Finding], top: Int) -> [FindingGroup] {
        var indices: [FindingKind: [Int]] = [:]
        var bytes: [FindingKind: Int64] = [:]
        for (index, finding) in findings.enumerated() {
            indices[finding.kind, default: []].append(index)
            bytes[finding.kind, default: 0] += finding.bytes ?? 0
        }
        let limit = max(0, top)
        return FindingKind.allCases.compactMap { kind in
            guard var kindIndices = indices[kind] else { return nil }
            if kind.hasSize {
                // Ties keep report order (by path), so the output is stable.
                kindIndices.sort { left, right in
                    let leftBytes = findings[left].bytes ?? -1
                    let rightBytes = findings[right].bytes ?? -1
                    return leftBytes != rightBytes ? leftBytes > rightBytes : left < right
                }
            }
            return FindingGroup(
                kind: kind, count: kindIndices.count, bytes: bytes[kind] ?? 0,
                shown: kindIndices.prefix(limit).map { findings[$0] })
        }
    }
}

extension FindingKind {
    /// Whether findings of this kind are files on disk with a size.
    var hasSize: Bool {
        switch self {
        case .orphan, .tooYoung, .unclassified: true
        case .missing, .invalid: false
        }
    }

    /// The section title in text and Markdown.
    var title: String {
        switch self {
        case .orphan: "Orphans"
        case .missing: "Missing files"
        case .unclassified: "Unclassified files"
        case .invalid: "Invalid references"
        case .tooYoung: "Too young (inside grace)"
        }
    }
}
