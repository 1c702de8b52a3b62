import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

/// Turns change events into recorded decisions and queue items: the rule engine decides
/// what may go; the app's database says whether anything still holds it.
struct EventProcessor {
    let config: JanitorConfig
    let store: StateStore
    let database: SQLiteAppDatabase
    let engine: RuleEngine
    let columns: [ReferenceSet.Column]

    init(config: JanitorConfig, store: StateStore, database: SQLiteAppDatabase) {
        self.config = config
        self.store = store
        self.database = database
        engine = RuleEngine(classes: config.classes)
        columns = ReferenceSet(classes: config.classes, mediaRoot: config.mediaRoot).columns
    }

    /// One event's outcome.
    struct Outcome {
        var eventId: String
        var decision: String
        var reason: String
        var queued: [Int64]
    }

    func process(_ event: ChangeEvent, source: String, now: Date = Date()) throws(CommandFailure) -> Outcome {
        var decision: String
        var reason: String
        var items: [NewQueueItem] = []
        // Outbox rows carry the app's raw values: normalise them as every channel's are.
        var event = event
        var plan: RuleEngine.Plan?
        for (value, isOld) in [(event.old, true), (event.new, false)] {
            guard let value, !value.isEmpty else { continue }
            switch PathRules.normalise(value, mediaRoot: config.mediaRoot) {
            case .valid(let path):
                if isOld { event.old = path } else { event.new = path }
            case .invalid(let why, _) where isOld:
                plan = .keep(decision: "refused", reason: "old path '\(value)' refused: \(why); nothing is removed")
            case .invalid:
                break
            }
        }
        switch plan ?? engine.plan(event) {
        case .keep(let keepDecision, let keepReason):
            decision = keepDecision
            reason = keepReason
        case .consider(let path, let classIndex, let why):
            let holders: [RowReference]
            do {
                holders = try database.rowsHolding([path], columns: columns, mediaRoot: config.mediaRoot)[path] ?? []
            } catch {
                throw error.failure
            }
            if let first = holders.first {
                decision = "kept"
                reason = "still referenced by \(first.table).\(first.column) key \(first.key)" + (holders.count > 1 ? " and \(holders.count - 1) more" : "")
            } else {
                let mediaClass = config.classes[classIndex]
                let notBefore = now.addingTimeInterval(config.defaults.delay.timeInterval)
                items.append(NewQueueItem(path: path, className: mediaClass.name, reason: why, notBefore: notBefore))
                for derivative in DerivativeFinder(root: config.mediaRoot).existing(for: path, patterns: mediaClass.derivatives) {
                    items.append(NewQueueItem(path: derivative, className: mediaClass.name, reason: "derivative of \(path)", notBefore: notBefore))
                }
                decision = "enqueued"
                reason = items.count == 1 ? why : "\(why); with \(items.count - 1) derivative\(items.count == 2 ? "" : "s")"
            }
        }
        do {
            switch try store.record(event, source: source, decision: decision, reason: reason, queue: items, now: now) {
            case .recorded(let queued):
                return Outcome(eventId: event.id, decision: decision, reason: reason, queued: queued)
            case .duplicate(let previous):
                return Outcome(eventId: event.id, decision: "duplicate", reason: "duplicate event (first decision: \(previous))", queued: [])
            }
        } catch {
            throw .runtime(error.description)
        }
    }
}
