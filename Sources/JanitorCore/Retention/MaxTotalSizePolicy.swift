import Foundation

/// `max_total_size`: acts only when the class's total (its rows' `size` plus their files'
/// bytes, of the rows earlier policies kept) strictly exceeds the cap, and then removes the
/// oldest rows until the total is at most 80% of the cap. Rows that hold no files count too.
///
/// Triggers: `max_total_size: 50MB` with 51 MB of chat (oldest go down to 40 MB).
/// Does not trigger: a total exactly at the cap.
struct MaxTotalSizePolicy: RetentionPolicy {
    let cap: Int64?

    func select(_ rows: [RetentionRow], oldestFirst order: [Int], now: Date, selected: inout [RetentionReason?]) {
        guard let cap else { return }
        var total = order.filter { selected[$0] == nil }.reduce(Int64(0)) { $0 + rows[$1].totalBytes }
        guard total > cap else { return }
        let target = cap * 4 / 5
        for index in order where selected[index] == nil {
            guard total > target else { break }
            selected[index] = .maxTotalSize(cap: cap)
            total -= rows[index].totalBytes
        }
    }

    static let examples = [
        // 4 x 300 bytes = 1200 > 1KB: the oldest go until at most 819 bytes (80%) remain: 600.
        RetentionExample(
            yaml: "{max_total_size: 1KB}",
            rows: (1...4).map { RetentionRow(key: "\($0)", created: RetentionExample.hoursAgo(Double(10 - $0)), rowBytes: 300) }, selects: ["1", "2"]),
        RetentionExample(
            yaml: "{max_total_size: 1KB}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(2), rowBytes: 1000),
                   RetentionRow(key: "2", created: RetentionExample.hoursAgo(1), files: [RetentionFile(path: "a", bytes: 24, mtime: RetentionExample.now)])],
            selects: []),
    ]
}
