/// Maps a change event to what the janitor should consider removing (DESIGN section 3).
///
/// The engine is pure: whether the path is still referenced anywhere is checked by the caller
/// against the app's database, right before queueing and again right before removal.
public struct RuleEngine: Sendable {
    /// The classes, in config order.
    public let classes: [MediaClass]

    /// What to do with an event.
    public enum Plan: Sendable, Hashable {
        /// The path may be removed once nothing references it.
        case consider(path: String, classIndex: Int, reason: String)
        /// Nothing to remove; `decision` is `kept` or `ignored`.
        case keep(decision: String, reason: String)
    }

    /// Creates an engine.
    public init(classes: [MediaClass]) { self.classes = classes }

    /// The class whose references include `table.column`.
    public func classIndex(table: String, column: String) -> Int? {
        classes.firstIndex { $0.references.contains { $0.table == table && $0.column == column } }
    }

    /// Plans an event whose paths are already normalised.
    public func plan(_ event: ChangeEvent) -> Plan {
        guard let index = classIndex(table: event.table, column: event.column) else {
            return .keep(decision: "ignored", reason: "no class for \(event.table).\(event.column)")
        }
        let mediaClass = classes[index]
        guard let old = event.old, !old.isEmpty else {
            return .keep(decision: "ignored", reason: event.op == .create ? "a new file: nothing superseded" : "no old file")
        }
        switch event.op {
        case .create:
            return .keep(decision: "ignored", reason: "a new file: nothing superseded")
        case .replace:
            if old == event.new { return .keep(decision: "ignored", reason: "unchanged") }
            guard mediaClass.onReplace == .deleteOld else {
                return .keep(decision: "kept", reason: "kept by rule (on_replace: keep in class '\(mediaClass.name)')")
            }
            return .consider(path: old, classIndex: index, reason: event.new.map { "replaced by \($0)" } ?? "cleared")
        case .delete:
            guard mediaClass.onDelete == .delete else {
                return .keep(decision: "kept", reason: "kept by rule (on_delete: keep in class '\(mediaClass.name)')")
            }
            return .consider(path: old, classIndex: index, reason: "row \(event.table) key \(event.key) deleted")
        }
    }

    /// Directories that are never removed when emptied: the media root's class roots (the
    /// literal directory of each class glob) and every directory above them.
    public var protectedDirectories: Set<String> {
        var directories = Set<String>()
        for mediaClass in classes {
            for glob in mediaClass.paths {
                guard var directory = glob.literalDirectory, !directory.isEmpty else { continue }
                while !directory.isEmpty && directory != "." {
                    directories.insert(directory)
                    directory = FilePath.directory(of: directory)
                }
            }
        }
        return directories
    }
}

/// The circuit breaker of DESIGN 6.4: a sweep above the `safety` limits removes nothing.
public struct SafetyCheck: Sendable {
    /// One limit a planned sweep crosses.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        /// The class, or nil for the whole sweep.
        public var className: String?
        /// What is crossed, naming the setting.
        public var message: String

        /// The message.
        public var description: String { message }
    }

    /// The limits.
    public let safety: Safety

    /// Creates a check.
    public init(safety: Safety) { self.safety = safety }

    /// Checks a planned sweep: per class, the files and bytes to remove against the class's
    /// totals and whether its reference columns hold any path at all.
    public func violations(planned: [(className: String, files: Int, bytes: Int64, classFiles: Int, referencedRows: Int)]) -> [Violation] {
        var violations: [Violation] = []
        var totalBytes: Int64 = 0
        for plan in planned where plan.files > 0 {
            totalBytes += plan.bytes
            if safety.refuseEmptyReferences, plan.referencedRows == 0 {
                violations.append(Violation(className: plan.className, message: "class '\(plan.className)': no row references any file, so every file looks unused (safety.refuse_empty_references); check its reference columns"))
                continue
            }
            let fraction = plan.classFiles > 0 ? Double(plan.files) / Double(plan.classFiles) : 1
            if fraction > safety.maxDeleteFraction {
                violations.append(Violation(className: plan.className, message: "class '\(plan.className)': \(plan.files) of \(plan.classFiles) files (\(Self.percent(fraction))) would be removed, more than safety.max_delete_fraction (\(Self.percent(safety.maxDeleteFraction)))"))
            }
        }
        if totalBytes > safety.maxDeleteBytes {
            violations.append(Violation(className: nil, message: "\(totalBytes) bytes would be removed, more than safety.max_delete_bytes (\(safety.maxDeleteBytes) bytes)"))
        }
        return violations
    }

    /// A share as a whole percentage (`0.25` is `25%`).
    static func percent(_ value: Double) -> String { String(Int((value * 100).rounded())) + "%" }

    /// Checks a planned retention run: per class, the rows to change against the class's rows.
    public func violations(rows planned: [(className: String, selected: Int, total: Int)]) -> [Violation] {
        planned.compactMap { plan in
            guard plan.selected > 0, plan.total > 0 else { return nil }
            let fraction = Double(plan.selected) / Double(plan.total)
            guard fraction > safety.maxDeleteFraction else { return nil }
            return Violation(className: plan.className, message: "class '\(plan.className)': \(plan.selected) of \(plan.total) rows (\(Self.percent(fraction))) would be changed, more than safety.max_delete_fraction (\(Self.percent(safety.maxDeleteFraction)))")
        }
    }
}
