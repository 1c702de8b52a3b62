import Foundation
import Testing

@testable import JanitorCore

@Suite("Retention plan: file fates and totals")
struct RetentionPlanBuilderTests {
    let now = RetentionExample.now

    func config(_ rowAction: String) throws -> JanitorConfig {
        let text = """
            version: 1
            media_root: media
            database: sqlite:app.sqlite3
            safety: {max_delete_fraction: 1.0}
            classes:
              chat:
                paths: ["chat/**"]
                exclude: ["chat/keep.png"]
                references:
                  - {table: msg, column: image, key: id, created: at}
                  - {table: msg, column: video, key: id, created: at}
                retention: {max_age: 1d, row_action: \(rowAction)}
              posts:
                paths: ["chat/**"]
                references: [{table: post, column: image, key: id}]
            """
        return try #require(InMemoryConfig(text).load().config)
    }

    func row(_ key: String, hours: Double, _ paths: [String]) -> StoredRetentionRow {
        StoredRetentionRow(table: "msg", keyColumn: "id", key: key, created: RetentionExample.hoursAgo(hours), owner: nil, group: nil, rowBytes: 0, paths: paths)
    }

    func facts(_ path: String) -> FileFacts? {
        path == "chat/gone.jpg" ? nil : FileFacts(bytes: 100, mtime: now)
    }

    func plan(_ rowAction: String, holders: [String: [RowReference]]) throws -> RetentionReport {
        let config = try config(rowAction)
        let builder = RetentionPlanBuilder(config: config, now: now)
        let rows = [
            row("1", hours: 30, ["chat/a.jpg", "chat/a.mp4"]), row("2", hours: 30, ["chat/shared.jpg"]), row("3", hours: 30, ["chat/keep.png", "other/x.txt"]),
            row("4", hours: 30, ["chat/gone.jpg"]), row("5", hours: 2, ["chat/young.jpg"]),
        ]
        let selection = builder.select(config.classes[0], rows: rows, ownerLimits: [:], facts: facts)
        #expect(selection.entries.map(\.row.key) == ["1", "2", "3", "4"])
        #expect(selection.entries[2].releases.isEmpty, "nothing outside the class's paths is released")
        return builder.plan([selection], holders: holders, facts: facts)
    }

    @Test("delete: a row's own two columns free its files; a file another row holds is shared; outside the class or excluded, unclaimed; absent, missing")
    func deleteFates() throws {
        let holders = [
            "chat/a.jpg": [RowReference(table: "msg", column: "image", key: "1")], "chat/a.mp4": [RowReference(table: "msg", column: "video", key: "1")],
            "chat/shared.jpg": [RowReference(table: "msg", column: "image", key: "2"), RowReference(table: "post", column: "image", key: "9")],
        ]
        let report = try plan("delete", holders: holders)
        #expect(report.rows.map { $0.files.map(\.fate) } == [[.removed, .removed], [.shared], [.unclaimed, .unclaimed], [.missing]])
        #expect(report.rows[1].files[0].heldBy == RowReference(table: "post", column: "image", key: "9"))
        let chat = try #require(report.classes.first)
        #expect((chat.rows, chat.files, chat.bytes) == (5, 6, 600))
        #expect((chat.selectedRows, chat.freedFiles, chat.freedFileBytes, chat.keptFiles) == (4, 2, 200, 3))
        #expect(chat.byPolicy == [PolicyCount(policy: "max_age", rows: 4)])
    }

    @Test("set_null clears only the class's path columns: a file the same row holds in another column stays shared")
    func setNullColumns() throws {
        let holders = ["chat/a.jpg": [RowReference(table: "msg", column: "image", key: "1"), RowReference(table: "msg", column: "thumbnail", key: "1")]]
        let report = try plan("set_null", holders: holders)
        #expect(report.rows[0].files.map(\.fate) == [.shared, .removed])
    }

    @Test("soft_delete and none keep the rows, so every file stays with them")
    func rowsKept() throws {
        for action in ["soft_delete:deleted_at", "none"] {
            let report = try plan(action, holders: [:])
            #expect(report.rows[0].files.map(\.fate) == [.rowKept, .rowKept], "\(action)")
            #expect(report.classes[0].freedFiles == 0)
        }
    }
}
