import JanitorCore

// Wording and arithmetic shared by the formats, so that they all say the same thing.

/// `1 file`, `2 files`.
func counted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}

/// `12.5%` of a total, `-` when the total is zero.
func percent(_ part: Int64, of total: Int64) -> String {
    guard total > 0 else { return "-" }
    let tenths = Int64((Double(part) / Double(total) * 1_000).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
}

/// A signed change, `+20`, `-5`, or empty when nothing changed.
func signed(_ change: Int64) -> String {
    change > 0 ? "+\(change)" : change < 0 ? "\(change)" : ""
}

/// How many references a line lists before saying how many more rows there are.
let referencesShown = 3

/// The verdict line of `check`: `check passed`, `check passed with 1 warning`,
/// `check failed: 2 errors, 1 warning`.
struct CheckVerdict {
    /// No errors.
    var ok: Bool
    /// The line.
    var text: String

    init(_ diagnostics: [Diagnostic]) {
        let errors = diagnostics.count(where: { $0.severity == .error })
        let warnings = diagnostics.count(where: { $0.severity == .warning })
        let notes = diagnostics.count(where: { $0.severity == .note })
        var counts: [String] = []
        if errors > 0 { counts.append(counted(errors, "error")) }
        if warnings > 0 { counts.append(counted(warnings, "warning")) }
        if notes > 0 { counts.append(counted(notes, "note")) }
        ok = errors == 0
        if ok {
            text = counts.isEmpty ? "check passed" : "check passed with " + counts.joined(separator: ", ")
        } else {
            text = "check failed: " + counts.joined(separator: ", ")
        }
    }
}

/// The summary cells of one audit in the history table, each with its change: `80 (-5)`.
struct HistoryRow {
    /// files, size, orphans, orphan size, missing, unclassified, invalid, too young.
    var cells: [String]

    init(_ audit: AuditRecord, previous: AuditRecord?) {
        let now = audit.summary
        let then = previous?.summary
        func count(_ value: Int, _ old: Int?) -> String {
            guard let old, old != value else { return "\(value)" }
            return "\(value) (\(signed(Int64(value - old))))"
        }
        func size(_ value: Int64, _ old: Int64?) -> String {
            guard let old, old != value else { return humanSize(value) }
            let change = value - old
            return "\(humanSize(value)) (\(change > 0 ? "+" : "")\(humanSize(change)))"
        }
        cells = [
            count(now.files, then?.files), size(now.bytes, then?.bytes), count(now.orphans, then?.orphans),
            size(now.orphanBytes, then?.orphanBytes), count(now.missing, then?.missing),
            count(now.unclassified, then?.unclassified), count(now.invalid, then?.invalid),
            count(now.tooYoung, then?.tooYoung),
        ]
    }
}

extension Array where Element == AuditRecord {
    /// The audit the change of `index` is measured against: the next older one, if any.
    func olderAudit(than index: Int) -> AuditRecord? {
        index + 1 < count ? self[index + 1] : nil
    }
}
