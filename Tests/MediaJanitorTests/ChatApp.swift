import Foundation
import GRDB
import Testing

/// A chat and attendance app on real files, configured with the ready rule files of `rules/`
/// (chat media expiry, committee chat retention, QR codes) plus a forum whose posts may share
/// a chat file: an SQLite database, a media root and a janitor.yml in a scratch directory.
final class ChatApp: AppFixture {
    let scratch = Scratch()
    var path: String { scratch.path }
    let db: AppDB
    let now = Date()

    init(safety: String = "{max_delete_fraction: 1.0}", quarantine: String = "7d", chatRowAction: String? = nil, extraClasses: String = "", backend: AppBackend = .sqlite) throws {
        let rules = Janitor.repository.appendingPathComponent("rules").path
        var chatRule = try String(contentsOfFile: rules + "/chat-media-expiry.yml", encoding: .utf8)
        if let chatRowAction { chatRule = chatRule.replacingOccurrences(of: "row_action: delete", with: "row_action: \(chatRowAction)") }
        scratch.write("rules/chat-media-expiry.yml", chatRule)
        for name in ["committee-chat-retention.yml", "qr-codes.yml"] {
            scratch.write("rules/" + name, try String(contentsOfFile: rules + "/" + name, encoding: .utf8))
        }
        db = try AppDB(backend, directory: scratch.path)
        scratch.write("janitor.yml", """
            version: 1
            media_root: media
            database: \(db.configValue)
            state: .janitor/state.sqlite3
            include: ["rules/*.yml"]
            defaults: {grace: 15m, quarantine: \(quarantine), quarantine_dir: .janitor/quarantine}
            safety: \(safety)
            classes:
              forum_images:
                paths: ["forum/**"]
                references:
                  - {table: forum_post, column: image, key: id}
                  - {table: forum_post, column: attachment, key: id}
            \(extraClasses)
            """)
        try db.sql("""
                CREATE TABLE accounts_userprofile (user_id INTEGER PRIMARY KEY, message_deletion_hours INTEGER);
                CREATE TABLE chat_message (id INTEGER PRIMARY KEY, sender_id INTEGER, timestamp TEXT, image TEXT, video TEXT, deleted_at TEXT);
                CREATE TABLE src_chatmessage (id INTEGER PRIMARY KEY, committee_id INTEGER, created_at TEXT, message TEXT NOT NULL);
                CREATE TABLE core_attendanceqr (id INTEGER PRIMARY KEY, user_id INTEGER, created_at TEXT, image TEXT);
                CREATE TABLE forum_post (id INTEGER PRIMARY KEY, image TEXT, attachment TEXT);
                """)
    }

    /// `YYYY-MM-DD HH:MM:SS` (UTC), `hours` before now, as Django stores a timestamp.
    func hoursAgo(_ hours: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: now.addingTimeInterval(-hours * 3600))
    }

    /// Writes a media file, old enough to be past grace.
    @discardableResult
    func file(_ relative: String, bytes: Int = 100) -> String {
        let full = media + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(repeating: UInt8(ascii: "x"), count: bytes), attributes: [.modificationDate: now.addingTimeInterval(-86_400 * 30)])
        return full
    }

    func keys(_ table: String, _ condition: String = "TRUE") throws -> [Int64] {
        try db.ints("SELECT id FROM \(table) WHERE \(condition) ORDER BY id")
    }

    /// The chat of the interaction-order test: per-user hours, a shared file, a row with two
    /// files. Rows 1, 2 and 5 expire; file b.jpg is also a forum post's image.
    func plantChat() throws {
        for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "z.jpg"] { file("chat_media/images/" + name) }
        file("chat_media/videos/e.mp4", bytes: 1000)
        try sql("""
            INSERT INTO accounts_userprofile VALUES (7, 2), (9, NULL), (10, 48);
            INSERT INTO chat_message (id, sender_id, timestamp, image, video) VALUES
              (1, 7, '\(hoursAgo(3))', 'chat_media/images/a.jpg', NULL),
              (2, 8, '\(hoursAgo(30))', 'chat_media/images/b.jpg', NULL),
              (3, 9, '\(hoursAgo(20))', 'chat_media/images/c.jpg', NULL),
              (4, 10, '\(hoursAgo(30))', 'chat_media/images/z.jpg', NULL),
              (5, 8, '\(hoursAgo(25))', 'chat_media/images/d.jpg', 'chat_media/videos/e.mp4');
            INSERT INTO forum_post (id, image) VALUES (1, 'chat_media/images/b.jpg');
            """)
    }
}
