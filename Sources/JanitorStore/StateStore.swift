import Foundation
import JanitorCore

/// What can go wrong with the janitor's own store.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The store could not be opened or created.
    case open(path: String, reason: String)
    /// A read or write failed.
    case query(path: String, reason: String)
    /// This build cannot use this kind of store yet.
    case unsupported(String)
    /// The store's file is not a database any more, or its pages are damaged.
    case damaged(path: String, reason: String)

    /// The message the user reads.
    public var description: String {
        switch self {
        case .open(let path, let reason):
            "cannot open the janitor's store '\(path)': \(reason); check 'state' in the config\(path.hasPrefix("postgres://") ? "" : " and that its directory is writable")"
        case .query(let path, let reason):
            "the janitor's store '\(path)' failed: \(reason)"
        case .unsupported(let what): what
        case .damaged(let path, let reason):
            "the janitor's store '\(path)' is damaged (\(reason)), so the janitor stopped. Move it aside (mv '\(path)' '\(path).damaged') "
                + "and run again to start an empty store, or put back a backup: the damaged file holds the queue, the quarantine manifest "
                + "and the audit history (quarantined files stay in quarantine_dir either way)"
        }
    }
}

/// The janitor's own store: audits, events, the deferred-deletion queue, the removal and
/// quarantine manifest, the retention journal with archived rows, and first-seen times.
///
/// Two implementations: `SQLiteStateStore` (the default, one janitor per file) and
/// `PostgresStateStore` (several janitors on one server share the queue: claims skip rows
/// another janitor holds, and a claim not renewed within its lease returns to the queue).
public protocol StateStore: AnyObject, Sendable {
    /// Where the store is, for messages (a PostgreSQL password is never shown).
    var location: String { get }

    // MARK: Events and the queue

    /// Records many decisions in one transaction (one commit for a whole batch of events); an
    /// event id seen before is a duplicate and changes nothing. A path already pending keeps
    /// its one active item.
    func record(_ decisions: [EventDecision], source: String, now: Date) throws(StoreError) -> [EventRecording]
    /// Records events refused at intake (malformed, or a path the safety rules refuse), kept
    /// apart from decisions so that a corrected event with the same id is still processed.
    func recordRejected(_ rejections: [(eventId: String?, field: String?, reason: String)], source: String, now: Date) throws(StoreError)
    /// Queues files with no event (`clean`, retention); returns the ids of new or already
    /// active items.
    func enqueue(_ items: [NewQueueItem], source: String, now: Date) throws(StoreError) -> [Int64]
    /// Claims up to `limit` due items (pending, `not_before` passed), oldest first, marking
    /// them `running` at stage `claimed`. No item is ever claimed by two janitors at once.
    func claimDue(limit: Int, now: Date) throws(StoreError) -> [QueueItem]
    /// Items a stopped janitor left `running` (a crash), with what they had recorded; with a
    /// shared store, only those whose claim's lease has run out.
    func interrupted() throws(StoreError) -> [InterruptedItem]
    /// Applies several queue transitions in one transaction (one commit for a whole batch).
    /// Returns, per transition, the state a `fail` left the item in; for `acting`, `.running`
    /// when this janitor still holds the item and its intent is recorded, nil when it lost the
    /// item (its lease ran out and another janitor took it over): then it must not act.
    @discardableResult
    func apply(_ transitions: [QueueTransition], maxAttempts: Int, backoff: Backoff, now: Date) throws(StoreError) -> [QueueState?]
    /// Queue totals.
    func queueStats() throws(StoreError) -> QueueStats
    /// How many items a run starting at `now` finds due (pending, `not_before` passed).
    func dueCount(now: Date) throws(StoreError) -> Int
    /// Items in a state (all when nil), newest first.
    func queueItems(state: QueueState?, limit: Int) throws(StoreError) -> [QueueItem]
    /// Items by id.
    func queueItems(ids: [Int64]) throws(StoreError) -> [QueueItem]
    /// Dead items back to pending (all dead ones when `ids` is nil); returns how many.
    func retry(ids: [Int64]?, now: Date) throws(StoreError) -> Int
    /// Drops pending or dead items (all of them when `ids` is nil); returns how many.
    func drop(ids: [Int64]?) throws(StoreError) -> Int
    /// The decision recorded for an event id.
    func decision(forEvent id: String) throws(StoreError) -> (decision: String, reason: String)?

    // MARK: Removals and quarantine

    /// Removals since a date, oldest first.
    func removals(since date: Date) throws(StoreError) -> [RemovalRecord]
    /// Removals, newest first; only those still in quarantine when `restorableOnly`.
    func removals(restorableOnly: Bool, limit: Int) throws(StoreError) -> [RemovalRecord]
    /// Quarantined removals matching an id, a path or a date.
    func restorable(id: Int64?, path: String?, since: Date?) throws(StoreError) -> [RemovalRecord]
    /// Quarantined removals older than a date.
    func purgeable(before date: Date) throws(StoreError) -> [RemovalRecord]
    /// Marks a removal restored.
    func markRestored(_ id: Int64, now: Date) throws(StoreError)
    /// Marks a quarantined removal purged.
    func markPurged(_ id: Int64, now: Date) throws(StoreError)

    // MARK: Retention

    /// Starts a retention run owned by `owner` (`host:pid`); returns its id.
    func startRetention(owner: String, now: Date) throws(StoreError) -> Int64
    /// Journals the rows a run is about to change; returns them with their ids.
    func journal(_ entries: [RetentionJournalEntry], run: Int64) throws(StoreError) -> [RetentionJournalEntry]
    /// Settles journalled rows in one transaction: applied (their files queued with `items`),
    /// failed (with the database's reason) or void. Returns how many items were queued.
    func settleRetention(
        run: Int64, applied: [Int64], failed: [(id: Int64, error: String)], void: [Int64], items: [NewQueueItem], now: Date
    ) throws(StoreError) -> Int
    /// Ends a run: `done`, or `recovered` when another process settled it after a crash.
    func endRetention(run: Int64, recovered: Bool, now: Date) throws(StoreError)
    /// Runs left `applying` whose owner `isAbandoned` says is gone, with their entries still
    /// `planned`. A run another live process is applying is never returned.
    func abandonedRetention(isAbandoned: (_ owner: String, _ startedAt: Date) -> Bool) throws(StoreError) -> [(run: Int64, entries: [RetentionJournalEntry])]
    /// Files the queue removed for a run's rows, and their bytes.
    func retentionRemovals(run: Int64) throws(StoreError) -> (files: Int, bytes: Int64)
    /// Archived rows, newest first.
    func archivedRows(id: Int64?, className: String?, includeRestored: Bool, limit: Int) throws(StoreError) -> [ArchiveRecord]
    /// Marks an archived row restored.
    func markArchiveRestored(_ id: Int64, now: Date) throws(StoreError)

    // MARK: First-seen times and audits

    /// Records when the watcher first saw files (a path seen before keeps its first time) and
    /// forgets times older than `forgetBefore`.
    func recordSeen(_ files: [(path: String, seen: Date)], forgetBefore: Date) throws(StoreError)
    /// Files first seen since a date.
    func seen(since date: Date) throws(StoreError) -> [String: Date]
    /// Records an audit's summary; `classes` names the classes it covered (empty: all).
    @discardableResult
    func recordAudit(_ report: ScanReport, classes: [String]) throws(StoreError) -> Int64
    /// Past audits, newest first, at most `limit`.
    func audits(limit: Int) throws(StoreError) -> [AuditRecord]

    // MARK: Several janitors

    /// Runs `body` unless another janitor on this store is running a job of the same `name`
    /// (a scheduled sweep); returns nil when it was skipped. A store only one janitor uses
    /// always runs it.
    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T?
}

// Defaults, and the transitions of one item.
extension StateStore {
    public func record(_ decisions: [EventDecision], source: String) throws(StoreError) -> [EventRecording] {
        try record(decisions, source: source, now: Date())
    }

    /// Records one event's decision and its queue items; see `record(_:source:now:)`.
    public func record(
        _ event: ChangeEvent, source: String, decision: String, reason: String, queue items: [NewQueueItem], now: Date = Date()
    ) throws(StoreError) -> EventRecording {
        try record([EventDecision(event: event, decision: decision, reason: reason, items: items)], source: source, now: now)[0]
    }

    public func recordRejected(_ rejections: [(eventId: String?, field: String?, reason: String)], source: String) throws(StoreError) {
        try recordRejected(rejections, source: source, now: Date())
    }

    public func enqueue(_ items: [NewQueueItem], source: String) throws(StoreError) -> [Int64] {
        try enqueue(items, source: source, now: Date())
    }

    public func claimDue(limit: Int) throws(StoreError) -> [QueueItem] {
        try claimDue(limit: limit, now: Date())
    }

    /// Applies transitions that need no retry policy (no `fail` among them).
    @discardableResult
    public func apply(_ transitions: [QueueTransition], now: Date = Date()) throws(StoreError) -> [QueueState?] {
        try apply(transitions, maxAttempts: 5, backoff: Backoff(), now: now)
    }

    /// Records, before acting, what is about to be done to an item's file: the file's identity
    /// and destination, so that a crash between the act and its record can be resolved.
    public func markActing(_ id: Int64, stage: String, device: Int64, inode: Int64, changeTime: Int64, bytes: Int64, quarantinePath: String?) throws(StoreError) {
        try apply([.acting(id: id, stage: stage, device: device, inode: inode, changeTime: changeTime, bytes: bytes, quarantinePath: quarantinePath)])
    }

    /// Finishes an item: `done` with its outcome and, when a file went, its removal record
    /// (unique per item: a removal is recorded exactly once).
    public func finish(_ item: QueueItem, outcome: String, removedBytes: Int64?, quarantinePath: String?, now: Date = Date()) throws(StoreError) {
        try apply([.finish(item, outcome: outcome, removedBytes: removedBytes, quarantinePath: quarantinePath)], now: now)
    }

    /// Puts a claimed item back to pending without counting an attempt (nothing was tried).
    public func release(_ id: Int64) throws(StoreError) {
        try apply([.release(id: id)])
    }

    /// Records a failed attempt: back to pending after the backoff, or dead after `maxAttempts`.
    @discardableResult
    public func fail(_ id: Int64, error: String, maxAttempts: Int, backoff: Backoff, now: Date = Date()) throws(StoreError) -> QueueState {
        try apply([.fail(id: id, error: error)], maxAttempts: maxAttempts, backoff: backoff, now: now)[0] ?? .pending
    }

    /// Dead-letters an item at once: a safety rule refused it, and retrying cannot help.
    public func refuse(_ id: Int64, reason: String, now: Date = Date()) throws(StoreError) {
        try apply([.refuse(id: id, reason: reason)], now: now)
    }

    public func retry(ids: [Int64]?) throws(StoreError) -> Int { try retry(ids: ids, now: Date()) }

    public func removals(restorableOnly: Bool) throws(StoreError) -> [RemovalRecord] {
        try removals(restorableOnly: restorableOnly, limit: 1000)
    }

    public func restorable(id: Int64? = nil, path: String? = nil) throws(StoreError) -> [RemovalRecord] {
        try restorable(id: id, path: path, since: nil)
    }

    public func markRestored(_ id: Int64) throws(StoreError) { try markRestored(id, now: Date()) }

    public func markPurged(_ id: Int64) throws(StoreError) { try markPurged(id, now: Date()) }

    public func startRetention(owner: String) throws(StoreError) -> Int64 { try startRetention(owner: owner, now: Date()) }

    public func settleRetention(
        run: Int64, applied: [Int64], failed: [(id: Int64, error: String)], void: [Int64], items: [NewQueueItem]
    ) throws(StoreError) -> Int {
        try settleRetention(run: run, applied: applied, failed: failed, void: void, items: items, now: Date())
    }

    public func endRetention(run: Int64, recovered: Bool = false) throws(StoreError) {
        try endRetention(run: run, recovered: recovered, now: Date())
    }

    public func archivedRows(id: Int64? = nil, className: String? = nil, includeRestored: Bool = false) throws(StoreError) -> [ArchiveRecord] {
        try archivedRows(id: id, className: className, includeRestored: includeRestored, limit: 1000)
    }

    public func markArchiveRestored(_ id: Int64) throws(StoreError) { try markArchiveRestored(id, now: Date()) }

    public func audits() throws(StoreError) -> [AuditRecord] { try audits(limit: 50) }
}
