import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

/// Turns change events into recorded decisions and queue items: the rule engine decides
/// what may go; the app's database says whether anything still holds it.
struct EventProcessor {
    let config: JanitorConfig
    let store: any StateStore
    let database: any AppDatabase
    let engine: RuleEngine
    let columns: [ReferenceSet.Column]

    init(config: JanitorConfig, store: any StateStore, database: any AppDatabase) {
        self.config = config
        self.store = store
        self.database = database
        engine = RuleEngine(classes: config.classes)
        columns = ReferenceSet.columns(of: config.classes)
    }

    /// One event's outcome.
    struct Outcome {
        var eventId: String
        var decision: String
        var reason: String
        var queued: [Int64]
    }

    func process(_ event: ChangeEvent, source: String, now: Date = Date()) throws(CommandFailure) -> Outcome {
        try process([event], source: source, now: now)[0]
    }

    /// Processes a batch: plans every event, checks every candidate path against the app's
    /// database in one pass per column, and records every decision in one transaction.
    func process(_ events: [ChangeEvent], source: String, now: Date = Date()) throws(CommandFailure) -> [Outcome] {
        var plans: [(event: ChangeEvent, plan: RuleEngine.Plan)] = []
        for var event in events {
            // Outbox rows carry the app's raw values: normalise them as every channel's are.
            var refusal: RuleEngine.Plan?
            for (value, isOld) in [(event.old, true), (event.new, false)] {
                guard let value, !value.isEmpty else { continue }
                switch PathRules.normalise(value, mediaRoot: config.mediaRoot) {
                case .valid(let path):
                    if isOld { event.old = path } else { event.new = path }
                case .invalid(let why, _) where isOld:
                    refusal = .keep(decision: "refused", reason: "old path '\(value)' refused: \(why); nothing is removed")
                case .invalid:
                    break
                }
            }
            plans.append((event, refusal ?? engine.plan(event)))
        }
        let candidates = plans.compactMap { entry -> String? in
            if case .consider(let path, _, _) = entry.plan { return path }
            return nil
        }
        let holders: [String: [RowReference]]
        do {
            holders = try database.rowsHolding(candidates, columns: columns, mediaRoot: config.mediaRoot)
        } catch {
            throw error.failure
        }
        let notBefore = now.addingTimeInterval(config.defaults.delay.timeInterval)
        var finder = DerivativeFinder(root: config.mediaRoot)
        let decisions = plans.map { entry -> EventDecision in
            switch entry.plan {
            case .keep(let decision, let reason):
                return EventDecision(event: entry.event, decision: decision, reason: reason, items: [])
            case .consider(let path, let classIndex, let why):
                if let rows = holders[path], let first = rows.first {
                    let more = rows.count > 1 ? " and \(rows.count - 1) more" : ""
                    return EventDecision(event: entry.event, decision: "kept", reason: "still referenced by \(first.table).\(first.column) key \(first.key)\(more)", items: [])
                }
                let mediaClass = config.classes[classIndex]
                // Only files inside the class's own paths (and not excluded) are ever candidates:
                // an event naming any other file of the tree removes nothing.
                guard mediaClass.claims(path) else {
                    return EventDecision(
                        event: entry.event, decision: "refused",
                        reason: "'\(path)' is outside the paths of class '\(mediaClass.name)' or excluded; nothing is removed", items: [])
                }
                var items = [NewQueueItem(path: path, className: mediaClass.name, reason: why, notBefore: notBefore)]
                for derivative in finder.existing(for: path, patterns: mediaClass.derivatives) where mediaClass.claims(derivative) {
                    items.append(NewQueueItem(path: derivative, className: mediaClass.name, reason: "derivative of \(path)", notBefore: notBefore))
                }
                let reason = items.count == 1 ? why : "\(why); with \(items.count - 1) derivative\(items.count == 2 ? "" : "s")"
                return EventDecision(event: entry.event, decision: "enqueued", reason: reason, items: items)
            }
        }
        do {
            return try zip(decisions, store.record(decisions, source: source, now: now)).map { decision, recording in
                switch recording {
                case .recorded(let queued):
                    return Outcome(eventId: decision.event.id, decision: decision.decision, reason: decision.reason, queued: queued)
                case .duplicate(let previous):
                    return Outcome(eventId: decision.event.id, decision: "duplicate", reason: "duplicate event (first decision: \(previous))", queued: [])
                }
            }
        } catch {
            throw .runtime(error.description)
        }
    }
}
