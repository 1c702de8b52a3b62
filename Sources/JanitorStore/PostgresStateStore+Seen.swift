import Foundation
import JanitorCore
import JanitorPostgres

extension PostgresStateStore {
    /// Records when files were first seen (a path already known keeps its first time), and
    /// forgets files first seen before `forgetBefore`: past every grace, they no longer matter.
    /// A batch goes in a few statements, not one per file.
    public func recordSeen(_ files: [(path: String, seen: Date)], forgetBefore: Date) throws(StoreError) {
        guard !files.isEmpty else { return }
        try write { db in
            for start in stride(from: 0, to: files.count, by: 5_000) {
                let chunk = files[start..<min(start + 5_000, files.count)]
                try db.execute(
                    "INSERT INTO janitor_seen_file (path, first_seen) SELECT * FROM unnest($1::text[], $2::float8[]) ON CONFLICT (path) DO NOTHING",
                    [.texts(chunk.map { $0.path }), .times(chunk.map { $0.seen })])
            }
            try db.execute("DELETE FROM janitor_seen_file WHERE first_seen < $1", [.seconds(forgetBefore)])
        }
    }

    /// Files first seen at or after `date`, with that time.
    public func seen(since date: Date) throws(StoreError) -> [String: Date] {
        try read { db in
            var seen: [String: Date] = [:]
            for row in try db.rows("SELECT path, first_seen FROM janitor_seen_file WHERE first_seen >= $1", [.seconds(date)]) {
                let (path, first) = try row.decode((String, Double).self)
                seen[path] = Date(timeIntervalSince1970: first)
            }
            return seen
        }
    }
}
