import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

/// References are streamed (DESIGN 7): 200,000 rows go from the database into the
/// `ReferenceSet` without being collected first, on PostgreSQL as on SQLite. Prints the time
/// and the peak memory of each for the same rows.
@Suite("Streaming references at scale", .serialized)
struct PostgresStreamingTests {
    static let rowCount = 200_000

    /// The same rows in either database: 200,000 messages, each with its own image.
    func fill(_ backend: AppBackend) throws -> AppDatabaseFixture {
        let app = try AppDatabaseFixture(backend, "streaming_\(backend.rawValue)")
        let path = "'chat_media/images/' || (g % 500) || '/photo_' || g || '.jpg'"
        switch backend {
        case .sqlite:
            try app.sql(
                """
                CREATE TABLE chat_message (id INTEGER PRIMARY KEY, sender_id INTEGER, image TEXT);
                WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < \(Self.rowCount))
                INSERT INTO chat_message SELECT g, g % 1000, \(path) FROM s;
                """)
        case .postgres:
            try app.sql(
                """
                CREATE TABLE chat_message (id BIGINT PRIMARY KEY, sender_id INTEGER, image TEXT);
                INSERT INTO chat_message SELECT g, g % 1000, \(path) FROM generate_series(1, \(Self.rowCount)) g;
                VACUUM ANALYZE chat_message;
                """)
        }
        return app
    }

    @Test("200,000 references stream into the reference set on both databases, in bounded memory")
    func twoHundredThousand() throws {
        let chat = MediaClass(
            name: "chat", paths: [], references: [ReferenceColumn(table: "chat_message", column: "image", key: "id", owner: "sender_id")])
        var figures: [AppBackend: (seconds: Double, peakBytes: Int)] = [:]
        for backend in AppBackend.allCases {
            let app = try fill(backend)
            let database = try app.reader()
            // Once to warm the caches (the file's pages, the server's buffers), then measured.
            do {
                var warm = ReferenceSet(classes: [chat], mediaRoot: "/media", keepsOwners: true)
                try database.readReferences(into: &warm)
            }
            let baseline = Memory.resetPeak()
            let start = ContinuousClock.now
            var references = ReferenceSet(classes: [chat], mediaRoot: "/media", keepsOwners: true, capacity: 1024)
            try database.readReferences(into: &references)
            let elapsed = ContinuousClock.now - start
            let peak = Memory.peak() - baseline
            #expect(references.occurrenceCount == Self.rowCount, "\(backend)")
            #expect(references.paths.count == Self.rowCount, "\(backend)")
            #expect(references.contains("chat_media/images/7/photo_199507.jpg"), "\(backend)")
            var owners = Set<String>()
            references.forEachOccurrence { _, _, _, owner in owners.insert(owner ?? "-") }
            #expect(owners.count == 1000, "\(backend)")
            figures[backend] = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, peak)
        }
        let sqlite = try #require(figures[.sqlite]), postgres = try #require(figures[.postgres])
        // What collecting the rows first would cost: the same rows into the same set, from an array.
        let collected = try collectedFigures(chat)
        print(
            String(
                format:
                    "streaming %d references: SQLite %.3f s, peak +%.1f MB; PostgreSQL %.3f s, peak +%.1f MB (collected first: %.3f s, peak +%.1f MB)",
                Self.rowCount, sqlite.seconds, Double(sqlite.peakBytes) / 1_048_576, postgres.seconds,
                Double(postgres.peakBytes) / 1_048_576,
                collected.seconds, Double(collected.peakBytes) / 1_048_576))
        // Other suites run in this process meanwhile, so the figures are rough; the gap is not
        // (about 15 MB streamed against about 65 MB collected).
        #expect(postgres.peakBytes + 16 * 1_048_576 < collected.peakBytes, "PostgreSQL rows are streamed, never all held at once")
    }

    /// The same read with every row collected before any reaches the set.
    func collectedFigures(_ chat: MediaClass) throws -> (seconds: Double, peakBytes: Int) {
        let app = try fill(.postgres)
        let database = try #require(try app.reader() as? PostgresAppDatabase)
        let baseline = Memory.resetPeak()
        let start = ContinuousClock.now
        var references = ReferenceSet(classes: [chat], mediaRoot: "/media", keepsOwners: true, capacity: 1024)
        let rows = try database.rows(
            "SELECT id::text, image::text, sender_id::text FROM chat_message WHERE image IS NOT NULL AND image::text <> ''")
        for row in rows {
            var cells = row.makeIterator()
            let key = cells.next()?.bytes, value = cells.next()?.bytes, owner = cells.next()?.bytes
            PostgresAppDatabase.withBytes(value) { value in
                PostgresAppDatabase.withBytes(key) { key in
                    PostgresAppDatabase.withBytes(owner) { owner in references.add(value: value, column: 0, key: key, owner: owner) }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        let peak = Memory.peak() - baseline
        #expect(references.occurrenceCount == Self.rowCount)
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, peak)
    }
}

/// The process's resident memory from `/proc/self/status`; the peak is reset through
/// `/proc/self/clear_refs` (Linux).
enum Memory {
    /// Resets the peak to the current resident size, and returns it.
    static func resetPeak() -> Int {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        return field("VmRSS")
    }

    /// The peak resident size since the last reset.
    static func peak() -> Int { field("VmHWM") }

    private static func field(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
            let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}
