import Foundation
import GRDB
import JanitorCore
import JanitorTestSupport
import Testing

/// A small forum app on real files: an SQLite database with users (avatar and signature
/// columns) and posts (image column), a media root with avatars that have thumbnails, and a
/// janitor.yml with quarantine on, in a scratch directory.
final class ForumApp: AppFixture {
    let scratch = Scratch()
    var path: String { scratch.path }
    var quarantine: String { path + "/.janitor/quarantine" }
    let db: AppDB
    /// The janitor's store when it is on PostgreSQL (`store: .postgres`), shared by every
    /// janitor run in this directory.
    let storeURL: PostgresURL?

    init(quarantine: String = "7d", extraConfig: String = "", backend: AppBackend = .sqlite, store: AppBackend = .sqlite, lease: String = "60s") throws {
        db = try AppDB(backend, directory: scratch.path)
        storeURL = store == .postgres ? try TestPostgres.freshDatabase("store") : nil
        scratch.write("janitor.yml", """
            version: 1
            media_root: media
            database: \(db.configValue)
            state: \(storeURL.map(TestPostgres.text) ?? ".janitor/state.sqlite3")
            defaults:
              lease: \(lease)
              grace: 15m
              quarantine: \(quarantine)
              quarantine_dir: .janitor/quarantine
            safety:
              max_delete_fraction: 0.5
            classes:
              avatars:
                paths: ["avatars/**"]
                references:
                  - {table: accounts_user, column: avatar, key: id}
                  - {table: accounts_user, column: signature, key: id}
                derivatives: ["{dir}/thumbs/{stem}_*.{ext}"]
              forum_images:
                paths: ["forum/**"]
                references:
                  - {table: forum_post, column: image, key: id}
            \(extraConfig)
            """)
        try db.sql("""
                CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, avatar TEXT, signature TEXT);
                CREATE TABLE forum_post (id INTEGER PRIMARY KEY, image TEXT);
                """)
    }

    /// Writes a media file with distinct content, old enough to be past grace.
    @discardableResult
    func file(_ relative: String, content: String? = nil) -> String {
        let full = media + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let data = Data((content ?? "content of \(relative)\n").utf8)
        _ = FileManager.default.createFile(atPath: full, contents: data, attributes: [.modificationDate: Date(timeIntervalSince1970: 1_700_000_000)])
        return full
    }

    /// Writes the files and queues each for removal with a `delete` event of forum post N (N
    /// from 1, in order), as the app's deletion of the posts would; returns path -> content.
    @discardableResult
    func queueDeleted(_ files: [(path: String, content: String)]) throws -> [String: String] {
        var events = ""
        for (index, file) in files.enumerated() {
            self.file(file.path, content: file.content)
            events += #"{"id": "d\#(index + 1)", "table": "forum_post", "column": "image", "op": "delete", "key": \#(index + 1), "old": "\#(file.path)"}"# + "\n"
        }
        scratch.write("events.ndjson", events)
        try ok(["events", "events.ndjson"])
        return Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.content) })
    }

    /// Files the janitor set aside in the media tree (quarantine off) and left there, relative
    /// to the media root.
    func setAside() -> [String] {
        let names = FileManager.default.enumerator(atPath: media)?.compactMap { $0 as? String } ?? []
        return names.filter { $0.split(separator: "/").last?.hasPrefix(".media-janitor-") == true }.sorted()
    }

    /// Files under the quarantine directory, relative to it.
    func quarantined() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: quarantine) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: quarantine + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        return files.sorted()
    }

    func queueStats() throws -> [String: Any] {
        try json(try ok(["queue", "stats", "--format", "json"]))
    }
}
