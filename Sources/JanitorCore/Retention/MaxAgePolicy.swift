import Foundation

/// `max_age` and `max_age_per_owner`: a row expires when `now - created` exceeds its limit.
/// An owner's own limit (shorter or longer) replaces `max_age`; an owner with no row or a
/// NULL limit falls back to `max_age`.
///
/// Triggers: `retention: {max_age: 24h}` on a row created 25 hours ago; `max_age_per_owner`
/// with the owner's `message_deletion_hours: 2` on a row 3 hours old.
/// Does not trigger: a row 23 hours old under `max_age: 24h`; an owner whose limit is 48
/// hours, for a row 25 hours old, even under `max_age: 24h`.
struct MaxAgePolicy: RetentionPolicy {
    let maxAge: Seconds?
    let perOwner: Bool
    let ownerLimits: [String: Seconds]

    func select(_ rows: [RetentionRow], oldestFirst order: [Int], now: Date, selected: inout [RetentionReason?]) {
        for index in order where selected[index] == nil {
            let row = rows[index]
            let ownLimit = perOwner ? row.owner.flatMap { ownerLimits[$0] } : nil
            guard let limit = ownLimit ?? maxAge, let born = row.born else { continue }
            if now.timeIntervalSince(born) > limit.timeInterval {
                selected[index] = .maxAge(limit: limit, perOwner: ownLimit != nil)
            }
        }
    }

    static let examples = [
        RetentionExample(yaml: "{max_age: 24h}", rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(25))], selects: ["1"]),
        RetentionExample(yaml: "{max_age: 24h}", rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(23))], selects: []),
        RetentionExample(
            yaml: "{max_age: 24h, max_age_per_owner: {table: profile, key: user_id, column: hours, unit: hours}}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(3), owner: "7")], ownerLimits: ["7": Seconds(7_200)], selects: ["1"]),
        RetentionExample(
            yaml: "{max_age: 24h, max_age_per_owner: {table: profile, key: user_id, column: hours, unit: hours}}",
            rows: [RetentionRow(key: "1", created: RetentionExample.hoursAgo(25), owner: "7")], ownerLimits: ["7": Seconds(172_800)], selects: []),
    ]
}
