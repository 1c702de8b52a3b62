import Foundation
import JanitorCore
import JanitorSources
import Logging
import ServiceLifecycle

/// Turns the app's outbox (written by the database triggers inside the app's own transactions)
/// into events. Every 50 ms it asks the hooks' change count, and reads the outbox when the
/// count moved and at least every 2 seconds whatever it says. The count is cheap on both
/// databases: SQLite's `PRAGMA data_version` is one read with no table scan, and PostgreSQL's
/// is the number of `pg_notify` notifications a listening connection has received, kept in
/// memory (a reconnect after a dropped connection counts as a change). Rows are deleted only
/// after their decisions are stored, so a stop at any point replays them as duplicates, never
/// loses them.
struct OutboxDrain: Service {
    let sidecar: Sidecar
    let hooks: any AppHooks
    let stop = StopFlag()

    func run() async throws {
        await withGracefulShutdownHandler {
            var seen = -1
            var lastDrain = ContinuousClock.now
            var warned = false
            // Cancelled (another service failed and the group is stopping): leave too.
            while !stop.isSet && !Task.isCancelled {
                do {
                    let version = try await sidecar.onIntake { try hooks.changeCount() }
                    if version != seen || ContinuousClock.now - lastDrain > .seconds(2) {
                        seen = version
                        lastDrain = ContinuousClock.now
                        if try await sidecar.onIntake({ try hooks.hasOutbox() }) {
                            try await drainOnce()
                        } else if !warned {
                            warned = true
                            sidecar.logger.warning("no outbox: database changes are not seen until 'media-janitor hooks install' is run", metadata: ["outbox.table": "janitor_outbox"])
                        }
                    }
                } catch {
                    sidecar.metrics.error("outbox")
                    sidecar.logger.error("outbox drain failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        } onGracefulShutdown: {
            stop.set()
        }
    }

    private func drainOnce() async throws {
        let sidecar = self.sidecar, hooks = self.hooks, stop = self.stop
        // Janitors sharing a store take turns: one drains the outbox while the others skip.
        let counts = try await sidecar.onIntake { () throws -> [String: Int] in
            try sidecar.store.exclusively("outbox-drain") { () throws -> [String: Int] in
                let processor = EventProcessor(config: sidecar.config, store: sidecar.store, database: sidecar.database)
                var counts: [String: Int] = [:]
                while !stop.isSet {
                    let rows = try hooks.pending(limit: 500)
                    if rows.isEmpty { break }
                    for outcome in try processor.process(rows.map(\.event), source: "outbox") { counts[outcome.decision, default: 0] += 1 }
                    // Deleted only after every decision is stored: a stop before this line
                    // replays the rows, and their ids make the replay a no-op.
                    try hooks.acknowledge(rows.map(\.id))
                }
                return counts
            } ?? [:]
        }
        for (decision, count) in counts { sidecar.metrics.event(channel: "outbox", decision: decision, count: count) }
        if counts["enqueued", default: 0] > 0 { sidecar.queueDoorbell.ring() }
    }
}
