import Foundation
import GRDB
import JanitorCore
import JanitorTestSupport
import Testing

@testable import JanitorStore

/// The two stores every behaviour test runs against, from one body of test code.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `body` on a new, empty store of this kind: an SQLite file in a temporary directory
    /// (removed afterwards), or a PostgreSQL store in a fresh database of the test server, which
    /// must be running. `lease` is the PostgreSQL store's claim lease.
    func withStore(lease: TimeInterval = 60, _ body: (any StateStore) throws -> Void) throws {
        try withReopenableStore(lease: lease) { store, _ in try body(store) }
    }

    /// Like `withStore`, and `body` can open the same store again, as the next process to start
    /// (after a crash, or another janitor) would.
    func withReopenableStore(lease: TimeInterval = 60, _ body: (any StateStore, _ reopen: () throws -> any StateStore) throws -> Void)
        throws
    {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("janitor-store-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("state.sqlite3").path
            try body(try SQLiteStateStore(path: path)) { try SQLiteStateStore(path: path) }
        case .postgres:
            let url = try TestPostgres.freshDatabase("store")
            try body(try PostgresStateStore(url: url, lease: lease)) { try PostgresStateStore(url: url, lease: lease) }
        }
    }
}

@Suite("The janitor's store")
struct StateStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func report(at seconds: TimeInterval, orphans: Int) -> ScanReport {
        var summary = ScanSummary()
        summary.files = 100
        summary.bytes = 12_345
        summary.orphans = orphans
        summary.orphanBytes = Int64(orphans * 10)
        return ScanReport(
            generatedAt: Date(timeIntervalSince1970: seconds), mediaRoot: "media", summary: summary, classes: [], directories: [],
            findings: [])
    }

    @Test("audits are recorded and listed newest first with their totals", arguments: StoreKind.allCases)
    func audits(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            try store.recordAudit(report(at: 1_000, orphans: 5), classes: [])
            try store.recordAudit(report(at: 2_000, orphans: 3), classes: ["avatars"])
            let audits = try store.audits()
            #expect(audits.map(\.summary.orphans) == [3, 5])
            #expect(audits.first?.generatedAt == Date(timeIntervalSince1970: 2_000))
            #expect(audits.first?.summary.bytes == 12_345)
            #expect(audits.first?.summary.orphanBytes == 30)
            #expect(audits.first?.mediaRoot == "media")
            #expect(try store.audits(limit: 1).count == 1)
        }
    }

    @Test("a store file is created with its directory, and migrations are recorded by name")
    func fileStore() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("janitor-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nested/state.sqlite3").path
        try SQLiteStateStore(path: path).recordAudit(report(at: 1, orphans: 1), classes: [])
        // Reopening keeps the data and applies no migration twice.
        let reopened = try SQLiteStateStore(path: path)
        #expect(try reopened.audits().count == 1)
        let applied = try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(applied == ["v1-audits", "v2-events-queue-removals", "v3-retention", "v4-seen-files"])
    }

    @Test("a store that cannot be created says which setting to check")
    func unwritable() {
        do {
            _ = try SQLiteStateStore(path: "/proc/janitor/state.sqlite3")
            Issue.record("created a store under /proc")
        } catch {
            #expect(error.description.hasPrefix("cannot open the janitor's store '/proc/janitor/state.sqlite3': "))
            #expect(error.description.hasSuffix("; check 'state' in the config and that its directory is writable"))
        }
    }

    // MARK: First-seen times

    @Test("a file keeps the time it was first seen; times past forgetBefore are forgotten", arguments: StoreKind.allCases)
    func seenFiles(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            try store.recordSeen(
                [("a.jpg", now), ("old.jpg", now.addingTimeInterval(-100)), ("we\"ird\\,{x}.jpg", now)], forgetBefore: .distantPast)
            // Seen again later (and twice in one batch): the first time stands.
            try store.recordSeen(
                [("a.jpg", now.addingTimeInterval(50)), ("b.jpg", now.addingTimeInterval(10)), ("b.jpg", now.addingTimeInterval(20))],
                forgetBefore: .distantPast)
            #expect(try store.seen(since: now) == ["a.jpg": now, "b.jpg": now.addingTimeInterval(10), "we\"ird\\,{x}.jpg": now])
            #expect(try store.seen(since: now.addingTimeInterval(-1_000)).count == 4)
            try store.recordSeen([("c.jpg", now.addingTimeInterval(0.25))], forgetBefore: now.addingTimeInterval(-10))
            #expect(try store.seen(since: .distantPast).keys.sorted() == ["a.jpg", "b.jpg", "c.jpg", "we\"ird\\,{x}.jpg"])
            #expect(try store.seen(since: .distantPast)["c.jpg"] == now.addingTimeInterval(0.25))
        }
    }

    // MARK: Retention

    func entry(_ key: String, paths: [String], archived: ArchivedRow? = nil) -> RetentionJournalEntry {
        RetentionJournalEntry(
            className: "photos", table: "gallery_photo", keyColumn: "id", key: key, action: archived == nil ? "delete" : "archive",
            policy: "max_age 30d", paths: paths, archived: archived)
    }

    @Test("a retention run journals rows with their archives, then settles them and queues their files", arguments: StoreKind.allCases)
    func retentionJournal(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            let row = ArchivedRow(
                table: "gallery_photo", keyColumn: "id", key: "7",
                columns: [
                    ("id", .integer(7)), ("title", .text(Array("été \"quoted\"".utf8))), ("ratio", .real(0.1)),
                    ("thumb", .blob([0, 1, 255])), ("gone", .null),
                ])
            let run = try store.startRetention(owner: "host-a:42", now: now)
            let journalled = try store.journal(
                [entry("7", paths: ["p/7.jpg", "p/7_thumb.jpg"], archived: row), entry("8", paths: ["p/8.jpg"]), entry("9", paths: [])],
                run: run)
            #expect(journalled.map(\.key) == ["7", "8", "9"])
            #expect(Set(journalled.map(\.id)).count == 3 && !journalled.map(\.id).contains(0))

            // Before settling, the run is abandoned if its owner is gone, with every planned row.
            let abandoned = try store.abandonedRetention { owner, started in owner == "host-a:42" && started == now }
            #expect(abandoned.map(\.run) == [run])
            #expect(abandoned.first?.entries == journalled)
            #expect(try store.abandonedRetention { _, _ in false }.isEmpty)

            let items = ["p/7.jpg", "p/7_thumb.jpg"].map {
                NewQueueItem(path: $0, className: "photos", reason: "retention: max_age 30d", notBefore: now)
            }
            let queued = try store.settleRetention(
                run: run, applied: [journalled[0].id], failed: [(journalled[1].id, "permission denied for table gallery_photo")],
                void: [journalled[2].id],
                items: items, now: now)
            #expect(queued == 2)
            let pending = try store.queueItems(state: .pending, limit: 10)
            #expect(Set(pending.map(\.path)) == ["p/7.jpg", "p/7_thumb.jpg"])
            #expect(
                pending.allSatisfy { $0.source == "retention" && $0.eventId == "retention-\(run)" && $0.reason == "retention: max_age 30d" }
            )
            // Settled rows are no longer planned: nothing is left to recover.
            #expect(try store.abandonedRetention { _, _ in true }.first?.entries.isEmpty == true)
            try store.endRetention(run: run, recovered: false, now: now)
            #expect(try store.abandonedRetention { _, _ in true }.isEmpty)

            // The archived row comes back exactly, until it is restored.
            let archives = try store.archivedRows()
            #expect(archives.count == 1)
            #expect(archives.first?.id == journalled[0].id)
            #expect(archives.first?.row == row)
            #expect(archives.first?.archivedAt == now)
            #expect(archives.first.map { [$0.className, $0.policy, $0.table, $0.key] } == ["photos", "max_age 30d", "gallery_photo", "7"])
            #expect(try store.archivedRows(id: journalled[0].id, className: "photos", includeRestored: false, limit: 10).count == 1)
            #expect(try store.archivedRows(id: nil, className: "avatars", includeRestored: false, limit: 10).isEmpty)
            try store.markArchiveRestored(journalled[0].id, now: now.addingTimeInterval(60))
            #expect(try store.archivedRows().isEmpty)
            #expect(try store.archivedRows(includeRestored: true).first?.restoredAt == now.addingTimeInterval(60))

            // The files the queue removed for the run are counted for its report.
            #expect(try store.retentionRemovals(run: run).files == 0)
            for item in try store.claimDue(limit: 10, now: now) {
                try store.finish(item, outcome: "removed", removedBytes: 100, quarantinePath: nil, now: now)
            }
            let removed = try store.retentionRemovals(run: run)
            #expect(removed.files == 2)
            #expect(removed.bytes == 200)
        }
    }

    @Test("a run ended after a crash is marked recovered and is no longer abandoned", arguments: StoreKind.allCases)
    func retentionRecovered(kind: StoreKind) throws {
        try kind.withStore { (store) throws in
            let first = try store.startRetention(owner: "host-a:1", now: now)
            let second = try store.startRetention(owner: "host-a:2", now: now.addingTimeInterval(1))
            _ = try store.journal([entry("1", paths: ["a.jpg"])], run: first)
            #expect(second > first)
            // Only the runs whose owner is gone.
            #expect(try store.abandonedRetention { owner, _ in owner == "host-a:2" }.map(\.run) == [second])
            try store.endRetention(run: first, recovered: true, now: now)
            // Ending twice changes nothing.
            try store.endRetention(run: first, recovered: false, now: now)
            #expect(try store.abandonedRetention { _, _ in true }.map(\.run) == [second])
        }
    }
}
