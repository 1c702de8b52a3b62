import JanitorCore

/// The selected rows of one class as the human-readable formats show them: how many, and the
/// first `top` of them, in report order (oldest first).
struct RetentionGroup {
    /// The class.
    var className: String
    /// How many selected rows of the class the report holds.
    var count = 0
    /// The ones to show.
    var shown: [PlannedRow] = []

    /// How many are not shown.
    var hidden: Int { count - shown.count }

    /// Groups the selected rows by class, in the report's class order, leaving out classes with
    /// no selected rows. Rows of a class the report does not list come last, in report order,
    /// so that no row goes unshown.
    static func groups(_ report: RetentionReport, top: Int) -> [RetentionGroup] {
        var groups: [RetentionGroup] = []
        var indexByClass: [String: Int] = [:]
        for plan in report.classes where indexByClass[plan.name] == nil {
            indexByClass[plan.name] = groups.count
            groups.append(RetentionGroup(className: plan.name))
        }
        let limit = max(0, top)
        for row in report.rows {
            let index: Int
            if let existing = indexByClass[row.className] {
                index = existing
            } else {
                index = groups.count
                indexByClass[row.className] = index
                groups.append(RetentionGroup(className: row.className))
            }
            groups[index].count += 1
            if groups[index].shown.count < limit { groups[index].shown.append(row) }
        }
        return groups.filter { $0.count > 0 }
    }
}
