import Foundation

/// `keep_latest_per_owner: N`: all but the N newest rows of each owner go. It never shields
/// an expired row: rows age removed still count among the newest.
///
/// Triggers: `keep_latest_per_owner: 1` on an owner with two QR codes (the older goes).
/// Does not trigger: an owner with exactly one row; rows with no owner.
struct KeepLatestPerOwnerPolicy: RetentionPolicy {
    let count: Int?

    func select(_ rows: [RetentionRow], oldestFirst order: [Int], now: Date, selected: inout [RetentionReason?]) {
        guard let count else { return }
        var seen: [String: Int] = [:]
        for index in order.reversed() {
            guard let owner = rows[index].owner else { continue }
            seen[owner, default: 0] += 1
            if seen[owner]! > count, selected[index] == nil { selected[index] = .keepLatestPerOwner(count) }
        }
    }

    static let examples = [
        RetentionExample(
            yaml: "{keep_latest_per_owner: 1}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(2), owner: "7"), RetentionRow(key: "2", created: RetentionExample.hoursAgo(1), owner: "7")],
            selects: ["1"]),
        RetentionExample(
            yaml: "{keep_latest_per_owner: 1}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(2), owner: "7"), RetentionRow(key: "2", created: RetentionExample.hoursAgo(1), owner: "8"),
                   RetentionRow(key: "3", created: RetentionExample.hoursAgo(3))],
            selects: []),
    ]
}
