import Foundation
import GRDB
import JanitorCore

/// The janitor's own store (SQLite through GRDB): audits now; the queue, quarantine manifest,
/// seen files and archived rows join it through later migrations.
///
/// One writer per file: a `DatabaseQueue`. Migrations are named, append-only, plain SQL.
public final class SQLiteStateStore: StateStore {
    /// The store's file path, or `:memory:`.
    public let path: String
    public var location: String { path }
    let queue: DatabaseQueue

    /// Opens (creating it and its directory when needed) and migrates the store at `path`.
    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.label = "janitor-state"
            configuration.busyMode = .timeout(10)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            // WAL: one fsync per commit instead of a rollback journal's several.
            try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
            try Self.migrator.migrate(queue)
        } catch {
            throw Self.failure(error, path: path, opening: true)
        }
    }

    /// The error for a failed SQLite call: a damaged file gets its own message, which says how
    /// to go on without losing anything.
    static func failure(_ error: any Error, path: String, opening: Bool) -> StoreError {
        if let error = error as? DatabaseError, [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) {
            return .damaged(path: path, reason: error.message ?? "\(error.resultCode)")
        }
        return opening ? .open(path: path, reason: "\(error)") : .query(path: path, reason: "\(error)")
    }

    /// An in-memory store, for tests.
    public init() throws(StoreError) {
        path = ":memory:"
        do {
            queue = try DatabaseQueue()
            try Self.migrator.migrate(queue)
        } catch {
            throw Self.failure(error, path: path, opening: true)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Shipped migrations are never edited: add new ones below.
        migrator.registerMigration("v1-audits") { db in
            try db.execute(sql: """
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    generated_at REAL NOT NULL,
                    media_root TEXT NOT NULL,
                    classes TEXT NOT NULL,
                    files INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    referenced INTEGER NOT NULL,
                    orphans INTEGER NOT NULL,
                    orphan_bytes INTEGER NOT NULL,
                    missing INTEGER NOT NULL,
                    unclassified INTEGER NOT NULL,
                    invalid INTEGER NOT NULL,
                    too_young INTEGER NOT NULL,
                    excluded INTEGER NOT NULL
                );
                CREATE INDEX audit_generated_at ON audit(generated_at);
                """)
        }
        migrator.registerMigration("v2-events-queue-removals") { db in
            try db.execute(sql: """
                CREATE TABLE event (
                    id TEXT PRIMARY KEY,
                    received_at REAL NOT NULL,
                    source TEXT NOT NULL,
                    table_name TEXT NOT NULL,
                    column_name TEXT NOT NULL,
                    op TEXT NOT NULL,
                    row_key TEXT NOT NULL,
                    old_path TEXT,
                    new_path TEXT,
                    tenant TEXT,
                    decision TEXT NOT NULL,
                    reason TEXT NOT NULL
                );
                CREATE TABLE queue_item (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    path TEXT NOT NULL,
                    class TEXT NOT NULL,
                    tenant TEXT,
                    reason TEXT NOT NULL,
                    source TEXT NOT NULL,
                    event_id TEXT,
                    queued_at REAL NOT NULL,
                    not_before REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'dead')),
                    stage TEXT,
                    device INTEGER,
                    inode INTEGER,
                    change_time INTEGER,
                    bytes INTEGER,
                    quarantine_path TEXT,
                    outcome TEXT,
                    finished_at REAL
                );
                CREATE INDEX queue_item_due ON queue_item(state, not_before);
                CREATE UNIQUE INDEX queue_item_active_path ON queue_item(path) WHERE state IN ('pending', 'running');
                CREATE TABLE removal (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    queue_item_id INTEGER NOT NULL REFERENCES queue_item(id),
                    path TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    class TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    source TEXT NOT NULL,
                    event_id TEXT,
                    tenant TEXT,
                    removed_at REAL NOT NULL,
                    quarantine_path TEXT,
                    restored_at REAL,
                    purged_at REAL
                );
                CREATE UNIQUE INDEX removal_queue_item ON removal(queue_item_id);
                CREATE TABLE rejected_event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at REAL NOT NULL,
                    source TEXT NOT NULL,
                    event_id TEXT,
                    field TEXT,
                    reason TEXT NOT NULL
                );
                CREATE INDEX removal_path ON removal(path);
                """)
        }
        migrator.registerMigration("v3-retention") { db in
            // A retention run is journalled before the app's rows change: `retention_row` holds
            // each selected row, its files and (for `archive`) the whole row; the files are
            // queued only once the row change committed, and a run left `applying` by a crash
            // is resolved from the journal. `owner` (host and pid) tells a crashed run from one
            // another process is still applying.
            try db.execute(sql: """
                CREATE TABLE retention_run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at REAL NOT NULL,
                    finished_at REAL,
                    owner TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'applying' CHECK (state IN ('applying', 'done', 'recovered'))
                );
                CREATE TABLE retention_row (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES retention_run(id),
                    class TEXT NOT NULL,
                    table_name TEXT NOT NULL,
                    key_column TEXT NOT NULL,
                    row_key TEXT NOT NULL,
                    action TEXT NOT NULL,
                    policy TEXT NOT NULL,
                    paths TEXT NOT NULL,
                    archived TEXT,
                    state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'applied', 'failed', 'void')),
                    error TEXT,
                    restored_at REAL
                );
                CREATE INDEX retention_row_run ON retention_row(run_id);
                CREATE INDEX retention_row_archived ON retention_row(class, id) WHERE archived IS NOT NULL AND state = 'applied';
                """)
        }
        migrator.registerMigration("v4-seen-files") { db in
            // When `serve`'s watcher first saw a file: an audit treats a file first seen within
            // grace as too young, even when its mtime is old (a tar or rsync keeps old mtimes).
            try db.execute(sql: """
                CREATE TABLE seen_file (
                    path TEXT PRIMARY KEY,
                    first_seen REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX seen_file_first_seen ON seen_file(first_seen);
                """)
        }
        return migrator
    }

    /// Records an audit's summary; `classes` names the classes it covered (empty: all).
    @discardableResult
    public func recordAudit(_ report: ScanReport, classes: [String]) throws(StoreError) -> Int64 {
        let s = report.summary
        do {
            return try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO audit (generated_at, media_root, classes, files, bytes, referenced, orphans,
                            orphan_bytes, missing, unclassified, invalid, too_young, excluded)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        report.generatedAt.timeIntervalSince1970, report.mediaRoot, classes.joined(separator: ","),
                        s.files, s.bytes, s.referenced, s.orphans, s.orphanBytes, s.missing, s.unclassified, s.invalid,
                        s.tooYoung, s.excluded,
                    ])
                return db.lastInsertedRowID
            }
        } catch {
            throw Self.failure(error, path: path, opening: false)
        }
    }

    /// Past audits, newest first, at most `limit`.
    public func audits(limit: Int) throws(StoreError) -> [AuditRecord] {
        do {
            return try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY generated_at DESC, id DESC LIMIT ?", arguments: [limit]).map { row in
                    var summary = ScanSummary()
                    summary.files = row["files"]
                    summary.bytes = row["bytes"]
                    summary.referenced = row["referenced"]
                    summary.orphans = row["orphans"]
                    summary.orphanBytes = row["orphan_bytes"]
                    summary.missing = row["missing"]
                    summary.unclassified = row["unclassified"]
                    summary.invalid = row["invalid"]
                    summary.tooYoung = row["too_young"]
                    summary.excluded = row["excluded"]
                    return AuditRecord(
                        id: row["id"], generatedAt: Date(timeIntervalSince1970: row["generated_at"]),
                        mediaRoot: row["media_root"], summary: summary)
                }
            }
        } catch {
            throw Self.failure(error, path: path, opening: false)
        }
    }

    /// One janitor per file: nothing else can be running the job.
    public func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T? {
        try body()
    }
}
