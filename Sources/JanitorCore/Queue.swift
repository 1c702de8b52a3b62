import Foundation

/// The state of a queue item.
public enum QueueState: String, Sendable, Hashable, CaseIterable {
    /// Waiting for its `not_before`.
    case pending
    /// Claimed by a run; `stage` says how far it got (for recovery after a crash).
    case running
    /// Finished: removed, quarantined, or found to need nothing.
    case done
    /// Dead-lettered after `max_attempts`, or refused by a safety rule.
    case dead
}

/// A file waiting in (or gone through) the deferred-deletion queue.
public struct QueueItem: Sendable, Hashable {
    /// The store's id.
    public var id: Int64
    /// Root-relative path.
    public var path: String
    /// The class it belongs to.
    public var className: String
    /// The tenant of the event that queued it.
    public var tenant: String?
    /// Why it was queued (`replaced`, `row deleted`, `orphan`, `derivative of ...`).
    public var reason: String
    /// Where it came from (`event`, `outbox`, `http`, `clean`).
    public var source: String
    /// The event that queued it.
    public var eventId: String?
    /// When it was queued.
    public var queuedAt: Date
    /// Not removed before this time (delay and backoff).
    public var notBefore: Date
    /// Failed attempts so far.
    public var attempts: Int
    /// The last failure.
    public var lastError: String?
    /// Its state.
    public var state: QueueState
    /// How far a running item got: `claimed`, `moving`, `setting-aside` (`unlinking` from
    /// earlier versions, which unlinked at once).
    public var stage: String?
    /// What happened, once done (`quarantined`, `removed`, `kept: ...`).
    public var outcome: String?

    /// Creates an item value.
    public init(
        id: Int64, path: String, className: String, tenant: String?, reason: String, source: String, eventId: String?,
        queuedAt: Date, notBefore: Date, attempts: Int, lastError: String?, state: QueueState, stage: String?, outcome: String?
    ) {
        self.id = id
        self.path = path
        self.className = className
        self.tenant = tenant
        self.reason = reason
        self.source = source
        self.eventId = eventId
        self.queuedAt = queuedAt
        self.notBefore = notBefore
        self.attempts = attempts
        self.lastError = lastError
        self.state = state
        self.stage = stage
        self.outcome = outcome
    }
}

/// A file to queue.
public struct NewQueueItem: Sendable, Hashable {
    /// Root-relative path.
    public var path: String
    /// Its class.
    public var className: String
    /// Why.
    public var reason: String
    /// Not removed before this time.
    public var notBefore: Date

    /// Creates a new item.
    public init(path: String, className: String, reason: String, notBefore: Date) {
        self.path = path
        self.className = className
        self.reason = reason
        self.notBefore = notBefore
    }
}

/// Queue totals, as `queue stats` and `GET /v1/queue/stats` show them.
public struct QueueStats: Sendable, Hashable {
    /// Items pending or running.
    public var totalPending: Int
    /// The oldest pending item's queue time.
    public var oldestQueued: Date?
    /// The newest pending item's queue time.
    public var newestQueued: Date?
    /// Pending items by failed attempts so far.
    public var byAttempts: [Int: Int]
    /// Dead-lettered items.
    public var dead: Int
    /// Finished items.
    public var done: Int

    /// Creates stats.
    public init(totalPending: Int, oldestQueued: Date?, newestQueued: Date?, byAttempts: [Int: Int], dead: Int, done: Int) {
        self.totalPending = totalPending
        self.oldestQueued = oldestQueued
        self.newestQueued = newestQueued
        self.byAttempts = byAttempts
        self.dead = dead
        self.done = done
    }
}

/// One removal, as the quarantine manifest records it: nothing is removed unrecorded.
public struct RemovalRecord: Sendable, Hashable {
    /// The store's id (also the quarantine id `quarantine restore` takes).
    public var id: Int64
    /// The queue item that removed it.
    public var queueItemId: Int64
    /// The original root-relative path.
    public var path: String
    /// Bytes removed.
    public var bytes: Int64
    /// Its class.
    public var className: String
    /// Why.
    public var reason: String
    /// Where the removal came from.
    public var source: String
    /// The event, if any.
    public var eventId: String?
    /// The tenant, if any.
    public var tenant: String?
    /// When.
    public var removedAt: Date
    /// Where the file waits, when quarantined (nil: unlinked).
    public var quarantinePath: String?
    /// When it was restored, if it was.
    public var restoredAt: Date?
    /// When its quarantined copy was purged, if it was.
    public var purgedAt: Date?

    /// Creates a record.
    public init(
        id: Int64, queueItemId: Int64, path: String, bytes: Int64, className: String, reason: String, source: String,
        eventId: String?, tenant: String?, removedAt: Date, quarantinePath: String?, restoredAt: Date?, purgedAt: Date?
    ) {
        self.id = id
        self.queueItemId = queueItemId
        self.path = path
        self.bytes = bytes
        self.className = className
        self.reason = reason
        self.source = source
        self.eventId = eventId
        self.tenant = tenant
        self.removedAt = removedAt
        self.quarantinePath = quarantinePath
        self.restoredAt = restoredAt
        self.purgedAt = purgedAt
    }
}

/// Exponential backoff for failed removals: `base * 2^(attempts-1)`, capped.
public struct Backoff: Sendable, Hashable {
    /// The first delay.
    public var base: TimeInterval
    /// The longest delay.
    public var cap: TimeInterval

    /// Creates a backoff.
    public init(base: TimeInterval = 30, cap: TimeInterval = 6 * 3600) {
        self.base = base
        self.cap = cap
    }

    /// The delay after the given number of failed attempts (1 = first failure).
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        guard attempts > 0 else { return 0 }
        return min(cap, base * pow(2, Double(min(attempts - 1, 30))))
    }
}
