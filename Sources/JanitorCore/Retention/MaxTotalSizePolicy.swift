import Foundation

/// `max_total_size`: acts only when the class's total (its rows' `size` plus the bytes of
/// their files, each file counted once however many rows hold it, of the rows earlier policies
/// kept) strictly exceeds the cap, and then removes the oldest rows until the total is at most
/// 80% of the cap. Rows that hold no files count too; a file shared with a row that stays
/// frees nothing.
///
/// Triggers: `max_total_size: 50MB` with 51 MB of chat (oldest go down to 40 MB).
/// Does not trigger: a total exactly at the cap.
struct MaxTotalSizePolicy: RetentionPolicy {
    let cap: Int64?

    func select(_ rows: [RetentionRow], oldestFirst order: [Int], now: Date, selected: inout [RetentionReason?]) {
        guard let cap else { return }
        var holders: [String: Int] = [:]
        var total: Int64 = 0
        for index in order where selected[index] == nil {
            total += rows[index].rowBytes
            for file in rows[index].files {
                holders[file.path, default: 0] += 1
                if holders[file.path] == 1 { total += file.bytes }
            }
        }
        guard total > cap else { return }
        let target = cap * 4 / 5
        for index in order where selected[index] == nil {
            guard total > target else { break }
            selected[index] = .maxTotalSize(cap: cap)
            total -= rows[index].rowBytes
            for file in rows[index].files {
                holders[file.path, default: 1] -= 1
                if holders[file.path] == 0 { total -= file.bytes }
            }
        }
    }

    static let examples = [
        // 4 x 300 bytes = 1200 > 1KB: the oldest go until at most 819 bytes (80%) remain: 600.
        RetentionExample(
            yaml: "{max_total_size: 1KB}",
            rows: (1...4).map { RetentionRow(key: "\($0)", created: RetentionExample.hoursAgo(Double(10 - $0)), rowBytes: 300) }, selects: ["1", "2"]),
        // One 600-byte file held by two rows counts once: 600 + 400 = 1000, under the cap.
        RetentionExample(
            yaml: "{max_total_size: 1KB}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(3), rowBytes: 200, files: [RetentionFile(path: "s", bytes: 600, mtime: RetentionExample.now)]),
                   RetentionRow(key: "2", created: RetentionExample.hoursAgo(2), rowBytes: 200, files: [RetentionFile(path: "s", bytes: 600, mtime: RetentionExample.now)])],
            selects: []),
        RetentionExample(
            yaml: "{max_total_size: 1KB}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(2), rowBytes: 1000),
                   RetentionRow(key: "2", created: RetentionExample.hoursAgo(1), files: [RetentionFile(path: "a", bytes: 24, mtime: RetentionExample.now)])],
            selects: []),
    ]
}
