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

// MARK: Retention

/// Selected rows summed over a retention report's classes, for the sentences that describe
/// the whole plan.
struct RetentionTotals {
    /// Rows selected.
    var selectedRows = 0
    /// Files that go with them.
    var freedFiles = 0
    /// Bytes of those files.
    var freedFileBytes: Int64 = 0
    /// The selected rows' own `size` bytes.
    var freedRowBytes: Int64 = 0
    /// Files of selected rows that stay.
    var keptFiles = 0

    init(_ classes: [RetentionClassPlan]) {
        for plan in classes {
            selectedRows += plan.selectedRows
            freedFiles += plan.freedFiles
            freedFileBytes += plan.freedFileBytes
            freedRowBytes += plan.freedRowBytes
            keptFiles += plan.keptFiles
        }
    }

    /// `7 rows selected: 4 files (1.3 MiB) and 6.0 KiB of rows freed, 1 file kept`, or
    /// `No rows selected`.
    var sentence: String {
        guard selectedRows > 0 else { return "No rows selected" }
        var text =
            counted(selectedRows, "row") + " selected: " + counted(freedFiles, "file")
            + " (\(humanSize(freedFileBytes))) and \(humanSize(freedRowBytes)) of rows freed"
        if keptFiles > 0 { text += ", " + counted(keptFiles, "file") + " kept" }
        return text
    }
}

extension RetentionClassPlan {
    /// What goes: file bytes plus row bytes.
    var freedBytes: Int64 { freedFileBytes + freedRowBytes }

    /// `max_age 3, max_age_per_owner 2`, or `none` when no policy selected anything.
    var policySummary: String {
        byPolicy.isEmpty ? "none" : byPolicy.map { "\($0.policy) \($0.rows)" }.joined(separator: ", ")
    }

    /// `5 of 1200 rows selected (max_age 3, max_age_per_owner 2), row action delete; frees
    /// 4 files (1.3 MiB) and 0 B of rows, 1 file kept`.
    var summary: String {
        "\(selectedRows) of \(counted(rows, "row")) selected (\(policySummary)), row action \(rowAction); frees "
            + "\(counted(freedFiles, "file")) (\(humanSize(freedFileBytes))) and \(humanSize(freedRowBytes)) of rows, "
            + "\(counted(keptFiles, "file")) kept"
    }
}

extension RetentionOutcome {
    /// `6 rows changed, 1 archived, 4 files queued, 4 files removed (1.3 MiB)`.
    var summary: String {
        "\(counted(rowsChanged, "row")) changed, \(rowsArchived) archived, \(counted(filesQueued, "file")) queued, "
            + "\(counted(filesRemoved, "file")) removed (\(humanSize(bytesRemoved)))"
    }
}

extension PlannedFile.Fate {
    /// The fate as the human-readable formats print it: `removed`, `shared`, `row kept`,
    /// `missing`, `outside the class`.
    var title: String {
        switch self {
        case .removed: "removed"
        case .shared: "shared"
        case .rowKept: "row kept"
        case .missing: "missing"
        case .unclaimed: "outside the class"
        }
    }
}

extension RetentionReport {
    /// The safety violations about one class: the safety checks name it as `class '<name>'`.
    func violations(naming className: String) -> [String] {
        violations.filter { $0.contains("class '\(className)'") }
    }

    /// The violations that name none of the report's classes: limits over the whole run.
    var reportWideViolations: [String] {
        violations.filter { violation in !classes.contains { violation.contains("class '\($0.name)'") } }
    }
}
