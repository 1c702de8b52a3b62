import Foundation

/// `max_count_per_group: N`: of the rows earlier policies kept, all but the N newest of each
/// group go.
///
/// Triggers: `max_count_per_group: 1000` on a committee with 1001 messages (the oldest goes).
/// Does not trigger: a group exactly at its cap; rows with no group.
struct MaxCountPerGroupPolicy: RetentionPolicy {
    let count: Int?

    func select(_ rows: [RetentionRow], oldestFirst order: [Int], now: Date, selected: inout [RetentionReason?]) {
        guard let count else { return }
        var seen: [String: Int] = [:]
        for index in order.reversed() where selected[index] == nil {
            guard let group = rows[index].group else { continue }
            seen[group, default: 0] += 1
            if seen[group]! > count { selected[index] = .maxCountPerGroup(count) }
        }
    }

    static let examples = [
        RetentionExample(
            yaml: "{max_count_per_group: 2}",
            rows: (1...3).map { RetentionRow(key: "\($0)", created: RetentionExample.hoursAgo(Double(10 - $0)), group: "board") }, selects: ["1"]),
        RetentionExample(
            yaml: "{max_count_per_group: 2}",
            rows: (1...2).map { RetentionRow(key: "\($0)", created: RetentionExample.hoursAgo(Double(10 - $0)), group: "board") }
                + [RetentionRow(key: "3", created: RetentionExample.hoursAgo(20))], selects: []),
    ]
}
