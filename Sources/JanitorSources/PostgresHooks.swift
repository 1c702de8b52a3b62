import Foundation
import JanitorCore
import JanitorPostgres
import PostgresNIO
import Synchronization

/// Database hooks for a PostgreSQL app database: an outbox table and triggers that write a row
/// into it, inside the app's own transaction, for every change of a reference column, and
/// `pg_notify('janitor_outbox')` so `serve` wakes without polling the table.
///
/// The same changes give the same events as `SQLiteHooks`. Per reference column there is an
/// `AFTER UPDATE OF column` trigger (firing only when the value changed) and an `AFTER DELETE`
/// trigger, named `janitor_<table>_<column>_update` and `…_delete`; both call one shared
/// function, `janitor_record_change`, which finds the columns by number, so an app migration
/// that renames a column never breaks the app's writes. The outbox and the function live in the
/// first schema of the janitor user's `search_path` (`public` usually).
///
/// Holds two connections: one for statements, and one opened by the first `changeCount()` that
/// only listens. Both reconnect after the server drops them.
public final class PostgresHooks: AppHooks {
    /// Where the app's database is.
    public let url: PostgresURL
    /// The connection for statements; nil until opened, or after it dropped.
    private let main = Mutex<Connected?>(nil)
    /// The connection that listens on `channel`; nil until the first `changeCount()`.
    private let listener = Mutex<PostgresSession?>(nil)
    /// Bumped on the listening connection's event loop, read by `changeCount()`.
    private let notifications = NotificationCount()

    /// The outbox table's name.
    public static let outboxTable = "janitor_outbox"
    /// The `LISTEN`/`NOTIFY` channel the triggers signal on.
    public static let channel = "janitor_outbox"

    /// Connects to the app's database; fails naming the host, the database and what to check.
    public init(url: PostgresURL) throws(SourceError) {
        self.url = url
        _ = try connected()
    }

    private var location: String { url.redacted }

    /// Creates the outbox, the trigger function and the triggers of every reference column,
    /// replaces stale ones and drops janitor triggers for columns no longer configured; returns
    /// the status afterwards.
    ///
    /// Idempotent. Runs in one transaction after checking every table and column, so a failed
    /// install leaves the database as it was.
    public func install(_ columns: [ReferenceColumn]) throws(SourceError) -> HooksStatus {
        try inTransaction { session, names in
            try PostgresHookSQL.lockForChanges(session)
            let watched = PostgresHookSQL.watched(columns)
            // Resolved before the search_path is pinned: an unqualified table is the one the app sees.
            let relations = try PostgresHookSQL.relations(of: watched, in: session)
            // CREATE TRIGGER would stop at the first missing column, in PostgreSQL's words: check
            // every table and column first and report them all, as SQLiteHooks does.
            let problems = try PostgresHookSQL.validate(watched, relations: relations, in: session)
            guard problems.isEmpty else { throw SourceError.schema(problems) }
            try PostgresHookSQL.pinSearchPath(session)

            for statement in PostgresHookSQL.outboxSQL(names) { try session.execute(statement) }
            let expected = PostgresHookSQL.expected(watched, relations: relations, names: names)
            var snapshot = try PostgresHookSQL.snapshot(names, in: session)
            for trigger in snapshot.triggers where !expected.contains(where: { $0.matches(trigger) }) {
                try session.execute("DROP TRIGGER \(PostgresHookSQL.quote(trigger.name)) ON \(trigger.qualifiedTable)")
            }
            if !snapshot.functionIsCurrent(names) {
                try session.execute(PostgresHookSQL.functionSQL(names))
                snapshot.functions = try PostgresHookSQL.functions(in: session)
            }
            for (trigger, verdict) in zip(expected, PostgresHookSQL.verdicts(expected, snapshot, names: names)) where verdict != .current {
                try PostgresHookSQL.create(trigger, replacing: verdict != .missing, in: session)
            }
            // Last: until the loop above recreated it, a trigger may have called one of these (the
            // function an install under another search_path put in another schema).
            for function in snapshot.functions where !function.isExpected(names) {
                try session.execute("DROP FUNCTION \(function.qualifiedName)()")
            }
            return PostgresHookSQL.status(expected, try PostgresHookSQL.snapshot(names, in: session), names: names)
        }
    }

    /// Drops every janitor trigger, the trigger function and the outbox table. Idempotent.
    ///
    /// Refuses while the outbox holds changes the janitor has not processed, unless `force`:
    /// dropping them would lose those changes.
    public func uninstall(force: Bool = false) throws(SourceError) {
        try inTransaction { session, names in
            try PostgresHookSQL.lockForChanges(session)
            try PostgresHookSQL.pinSearchPath(session)
            let snapshot = try PostgresHookSQL.snapshot(names, in: session)
            if snapshot.outboxExists, !force, snapshot.pendingRows > 0 {
                throw SourceError.database(
                    location: location,
                    reason: "the outbox '\(Self.outboxTable)' still holds \(HooksAdvice.count(snapshot.pendingRows, "change")) the janitor has not processed; run 'media-janitor hooks drain' first, or 'media-janitor hooks uninstall --force' to drop them"
                )
            }
            // Triggers first: a trigger left without its function or outbox fails every write of the app.
            for trigger in snapshot.triggers {
                try session.execute("DROP TRIGGER \(PostgresHookSQL.quote(trigger.name)) ON \(trigger.qualifiedTable)")
            }
            for function in snapshot.functions {
                try session.execute("DROP FUNCTION \(function.qualifiedName)()")
            }
            if snapshot.outboxExists {
                try session.execute("DROP TABLE \(names.outbox)")
            }
        }
    }

    /// Compares the installed outbox, function and triggers with what `install` would create.
    public func status(_ columns: [ReferenceColumn]) throws(SourceError) -> HooksStatus {
        try inTransaction { session, names in
            let watched = PostgresHookSQL.watched(columns)
            let relations = try PostgresHookSQL.relations(of: watched, in: session)
            try PostgresHookSQL.pinSearchPath(session)
            let expected = PostgresHookSQL.expected(watched, relations: relations, names: names)
            return PostgresHookSQL.status(expected, try PostgresHookSQL.snapshot(names, in: session), names: names)
        }
    }

    /// How many notifications the triggers have sent since the first call, counted in memory
    /// on a second connection that only listens: asking costs no query.
    ///
    /// PostgreSQL delivers one notification per committed transaction that wrote the outbox
    /// (identical notifications fold), and none for a rolled-back one. When the listening
    /// connection was lost, it reconnects and counts one change: notifications sent meanwhile
    /// are gone, so the caller must read the outbox.
    public func changeCount() throws(SourceError) -> Int {
        let notifications = self.notifications
        try listener.withLock { (session: inout PostgresSession?) throws(SourceError) in
            if session?.isOpen == true { return }
            let reconnecting = session != nil
            session = nil
            let listening = try Self.open(url, purpose: "outbox notifications")
            do {
                try listening.listen(Self.channel) { _ in notifications.bump() }
            } catch {
                throw Self.failure(error, url: url)
            }
            session = listening
            if reconnecting { notifications.bump() }
        }
        return notifications.value
    }

    /// Whether the outbox table exists (the hooks were installed).
    public func hasOutbox() throws(SourceError) -> Bool {
        try run { session, names in try PostgresHookSQL.outboxExists(names, in: session) }
    }

    /// Up to `limit` outbox rows, oldest first.
    public func pending(limit: Int) throws(SourceError) -> [OutboxRow] {
        guard limit > 0 else { return [] }
        return try run { session, names in
            let rows: [PostgresRow]
            do {
                rows = try session.rows(
                    """
                    SELECT id, table_name, column_name, op, row_key, old_path, new_path,
                    to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), (extract(epoch FROM at) * 1000)::int8
                    FROM \(names.outbox) ORDER BY id LIMIT $1
                    """,
                    [.int(Int64(limit))])
            } catch let error as PostgresFailure where error.sqlState == "42P01" {
                throw SourceError.database(location: location, reason: "the outbox table '\(Self.outboxTable)' does not exist; run 'media-janitor hooks install'")
            }
            return try rows.map { row in
                let (id, table, column, opText, key, old, new, at, milliseconds) = try row.decode(
                    (Int64, String, String, String, String?, String?, String?, String, Int64).self)
                guard let op = ChangeEvent.Operation(rawValue: opText) else {
                    throw SourceError.database(
                        location: location,
                        reason: "outbox row \(id) has op '\(opText)'; expected one of: \(ChangeEvent.Operation.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                // The row's time is part of the id: ids restart at 1 when the outbox is dropped
                // and recreated, and a new change must never look like a processed one.
                let event = ChangeEvent(
                    id: "outbox-\(id)-\(at)", table: table, column: column, op: op, key: key ?? "",
                    old: Self.path(old), new: Self.path(new), at: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
                return OutboxRow(id: id, event: event)
            }
        }
    }

    /// Deletes these outbox rows, once their events are durably recorded. Unknown ids are ignored.
    public func acknowledge(_ ids: [Int64]) throws(SourceError) {
        guard !ids.isEmpty else { return }
        try run { session, names in
            do {
                // One array parameter, whatever the batch size.
                try session.execute(
                    "DELETE FROM \(names.outbox) WHERE id = ANY($1::int8[])",
                    [.text("{" + ids.map(String.init).joined(separator: ",") + "}")])
            } catch let error as PostgresFailure where error.sqlState == "42P01" {
                throw SourceError.database(location: location, reason: "the outbox table '\(Self.outboxTable)' does not exist; run 'media-janitor hooks install'")
            }
        }
    }

    private static func path(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    // MARK: Connections

    /// The statement connection and where the hooks' objects live on it.
    private struct Connected: Sendable {
        var session: PostgresSession
        var names: PostgresHookNames
    }

    /// The open statement connection, reconnecting when the server dropped the last one.
    private func connected() throws(SourceError) -> Connected {
        let url = self.url
        return try main.withLock { (current: inout Connected?) throws(SourceError) -> Connected in
            if let current, current.session.isOpen { return current }
            current = nil
            let session = try Self.open(url, purpose: "app database hooks")
            let schema: String?
            do {
                schema = try session.rows("SELECT current_schema()::text").first?.decode(String?.self) ?? nil
            } catch {
                throw Self.failure(error, url: url)
            }
            guard let schema else {
                throw SourceError.database(
                    location: url.redacted,
                    reason: "no schema on the search_path of user '\(url.user)' exists, so there is nowhere to put the outbox '\(Self.outboxTable)'; create one, or set the user's search_path (ALTER ROLE ... SET search_path = public)")
            }
            let connected = Connected(session: session, names: PostgresHookNames(schema: schema))
            current = connected
            return connected
        }
    }

    private static func open(_ url: PostgresURL, purpose: String) throws(SourceError) -> PostgresSession {
        do throws(PostgresFailure) {
            return try PostgresSession(url, purpose: purpose)
        } catch {
            throw .database(location: url.redacted, reason: error.reason)
        }
    }

    private func run<T>(_ body: (PostgresSession, PostgresHookNames) throws -> T) throws(SourceError) -> T {
        let connected = try connected()
        do {
            return try body(connected.session, connected.names)
        } catch {
            throw Self.failure(error, url: url)
        }
    }

    private func inTransaction<T>(_ body: (PostgresSession, PostgresHookNames) throws -> T) throws(SourceError) -> T {
        try run { session, names in try session.transaction { try body(session, names) } }
    }

    /// The operator's wording of whatever a statement threw; never shows the password.
    private static func failure(_ error: any Error, url: PostgresURL) -> SourceError {
        switch error {
        case let error as SourceError:
            return error
        case let error as PostgresFailure:
            var reason = error.reason
            if error.sqlState == "55P03" {
                reason += "; a long-running transaction of the app holds a lock on a table the hooks change: run the command again when it has finished"
            }
            return .database(location: url.redacted, reason: reason)
        default:
            return .database(location: url.redacted, reason: "\(error)")
        }
    }
}

/// The count of notifications received, shared with the listening connection's callback
/// (which must not hold the hooks themselves: the connection would keep them alive).
private final class NotificationCount: Sendable {
    private let count = Mutex(0)

    func bump() { count.withLock { $0 += 1 } }

    var value: Int { count.withLock { $0 } }
}
