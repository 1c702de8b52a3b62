import Foundation
import GRDB
import JanitorCore

extension SQLiteStateStore {
    /// Records when files were first seen (a path already known keeps its first time), and
    /// forgets files first seen before `forgetBefore`: past every grace, they no longer matter.
    public func recordSeen(_ files: [(path: String, seen: Date)], forgetBefore: Date) throws(StoreError) {
        guard !files.isEmpty else { return }
        try write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO seen_file (path, first_seen) VALUES (?, ?)")
            for file in files { try insert.execute(arguments: [file.path, file.seen.timeIntervalSince1970]) }
            try db.execute(sql: "DELETE FROM seen_file WHERE first_seen < ?", arguments: [forgetBefore.timeIntervalSince1970])
        }
    }

    /// Files first seen at or after `date`, with that time.
    public func seen(since date: Date) throws(StoreError) -> [String: Date] {
        try read { db in
            var seen: [String: Date] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT path, first_seen FROM seen_file WHERE first_seen >= ?", arguments: [date.timeIntervalSince1970]) {
                seen[row["path"]] = Date(timeIntervalSince1970: row["first_seen"])
            }
            return seen
        }
    }
}
