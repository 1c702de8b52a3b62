import Foundation
import GRDB
import JanitorCore
import Testing

@testable import JanitorStore

@Suite("The janitor's store")
struct StateStoreTests {
    func report(at seconds: TimeInterval, orphans: Int) -> ScanReport {
        var summary = ScanSummary()
        summary.files = 100
        summary.bytes = 12_345
        summary.orphans = orphans
        summary.orphanBytes = Int64(orphans * 10)
        return ScanReport(generatedAt: Date(timeIntervalSince1970: seconds), mediaRoot: "media", summary: summary, classes: [], directories: [], findings: [])
    }

    @Test("audits are recorded and listed newest first with their totals")
    func audits() throws {
        let store = try SQLiteStateStore()
        try store.recordAudit(report(at: 1_000, orphans: 5), classes: [])
        try store.recordAudit(report(at: 2_000, orphans: 3), classes: ["avatars"])
        let audits = try store.audits()
        #expect(audits.map(\.summary.orphans) == [3, 5])
        #expect(audits.first?.generatedAt == Date(timeIntervalSince1970: 2_000))
        #expect(audits.first?.summary.bytes == 12_345)
        #expect(try store.audits(limit: 1).count == 1)
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
}
