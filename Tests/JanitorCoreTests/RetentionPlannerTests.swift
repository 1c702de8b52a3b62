import Foundation
import Testing

@testable import JanitorCore

@Suite("Retention planning")
struct RetentionPlannerTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func hoursAgo(_ hours: Double) -> Date { now.addingTimeInterval(-hours * 3600) }

    func rules(_ configure: (inout RetentionRules) -> Void) -> RetentionRules {
        var rules = RetentionRules()
        configure(&rules)
        return rules
    }

    func keys(_ plan: [(row: Int, reason: RetentionReason)], _ rows: [RetentionRow]) -> [String] {
        plan.map { rows[$0.row].key }
    }

    @Test("max_age: a row older than the limit expires, a younger one stays")
    func maxAge() {
        let rows = [RetentionRow(key: "1", created: hoursAgo(25)), RetentionRow(key: "2", created: hoursAgo(23))]
        let plan = RetentionPlanner(rules: rules { $0.maxAge = Seconds(86_400) }).plan(rows, now: now)
        #expect(keys(plan, rows) == ["1"])
        #expect(plan.first?.reason == .maxAge(limit: Seconds(86_400), perOwner: false))
    }

    @Test("max_age_per_owner replaces max_age for an owner with a value, shorter or longer; no profile row or NULL falls back")
    func perOwner() {
        let rows = [
            RetentionRow(key: "1", created: hoursAgo(3), owner: "short"),      // 2h limit: expires
            RetentionRow(key: "2", created: hoursAgo(30), owner: "long"),      // 48h limit: stays
            RetentionRow(key: "3", created: hoursAgo(30), owner: "no-profile"), // falls back to 24h: expires
            RetentionRow(key: "4", created: hoursAgo(20), owner: "null-ttl"),   // falls back to 24h: stays
        ]
        let planner = RetentionPlanner(rules: rules {
            $0.maxAge = Seconds(86_400)
            $0.maxAgePerOwner = OwnerTTL(table: "p", key: "user_id", column: "hours", unit: .hours)
        })
        let plan = planner.plan(rows, ownerLimits: ["short": Seconds(7_200), "long": Seconds(172_800)], now: now)
        #expect(keys(plan, rows) == ["3", "1"])
        #expect(plan.map(\.reason) == [.maxAge(limit: Seconds(86_400), perOwner: false), .maxAge(limit: Seconds(7_200), perOwner: true)])
    }

    @Test("age comes from the file's mtime when the reference has no created column")
    func ageFromMtime() {
        let rows = [RetentionRow(key: "1", files: [RetentionFile(path: "qr/a.png", bytes: 10, mtime: hoursAgo(200))])]
        #expect(keys(RetentionPlanner(rules: rules { $0.maxAge = Seconds(604_800) }).plan(rows, now: now), rows) == ["1"])
    }

    @Test("keep_latest_per_owner keeps the N newest per owner and never shields an expired row; ties break by key")
    func keepLatest() {
        let rows = [
            RetentionRow(key: "10", created: hoursAgo(5), owner: "a"),
            RetentionRow(key: "9", created: hoursAgo(5), owner: "a"),  // tie with 10: 9 is older
            RetentionRow(key: "3", created: hoursAgo(1), owner: "b"),
            RetentionRow(key: "4", created: hoursAgo(400), owner: "c"),  // the only row of c, but expired
        ]
        let plan = RetentionPlanner(rules: rules {
            $0.maxAge = Seconds(604_800)
            $0.keepLatestPerOwner = 1
        }).plan(rows, now: now)
        #expect(keys(plan, rows) == ["4", "9"])
        #expect(plan.map(\.reason) == [.maxAge(limit: Seconds(604_800), perOwner: false), .keepLatestPerOwner(1)])
    }

    @Test("max_count_per_group: a group exactly at its cap keeps everything; one over loses its oldest")
    func countPerGroup() {
        var rows: [RetentionRow] = []
        for i in 1...3 { rows.append(RetentionRow(key: "a\(i)", created: hoursAgo(Double(10 - i)), group: "at-cap")) }
        for i in 1...4 { rows.append(RetentionRow(key: "b\(i)", created: hoursAgo(Double(10 - i)), group: "over")) }
        let plan = RetentionPlanner(rules: rules { $0.maxCountPerGroup = 3 }).plan(rows, now: now)
        #expect(keys(plan, rows) == ["b1"])
    }

    @Test("max_total_size acts only above the cap, then removes the oldest down to 80%, rows without files included")
    func totalSize() {
        // 10 rows of 100 bytes each (text only) and one with a 500-byte file: 1500 bytes.
        var rows = (1...10).map { RetentionRow(key: "\($0)", created: hoursAgo(Double(100 - $0)), rowBytes: 100) }
        rows.append(RetentionRow(key: "11", created: hoursAgo(1), rowBytes: 0, files: [
            RetentionFile(path: "chat/a.jpg", bytes: 300, mtime: hoursAgo(1)), RetentionFile(path: "chat/b.mp4", bytes: 200, mtime: hoursAgo(1)),
        ]))
        #expect(RetentionPlanner(rules: rules { $0.maxTotalSize = 1500 }).plan(rows, now: now).isEmpty)
        // Cap 1400: 1500 > 1400, so remove oldest until <= 1120: four rows of 100 (1100).
        let plan = RetentionPlanner(rules: rules { $0.maxTotalSize = 1400 }).plan(rows, now: now)
        #expect(keys(plan, rows) == ["1", "2", "3", "4"])
        #expect(Set(plan.map(\.reason)) == [.maxTotalSize(cap: 1400)])
    }

    @Test("policies apply in order: rows already removed by age do not count toward the size cap")
    func order() {
        let rows = [
            RetentionRow(key: "1", created: hoursAgo(1000), rowBytes: 1000),
            RetentionRow(key: "2", created: hoursAgo(2), rowBytes: 100),
            RetentionRow(key: "3", created: hoursAgo(1), rowBytes: 100),
        ]
        let plan = RetentionPlanner(rules: rules {
            $0.maxAge = Seconds(86_400)
            $0.maxTotalSize = 250
        }).plan(rows, now: now)
        #expect(keys(plan, rows) == ["1"])
    }
}
