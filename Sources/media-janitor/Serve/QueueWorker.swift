import Foundation
import JanitorCore
import JanitorStore
import Logging
import ServiceLifecycle

/// Runs the deferred-deletion queue: at once when events queue something (the doorbell), and
/// at least every second for items whose delay or backoff has passed. On SIGTERM it finishes
/// the batch in hand and returns.
struct QueueWorker: Service {
    let sidecar: Sidecar
    let stop = StopFlag()

    func run() async throws {
        await withGracefulShutdownHandler {
            // Cancelled (another service failed and the group is stopping): leave too.
            while !stop.isSet && !Task.isCancelled {
                do {
                    _ = try await drain(batchSize: sidecar.config.defaults.batchSize)
                } catch {
                    sidecar.metrics.error("queue")
                    sidecar.logger.error("queue run failed", metadata: ["error": "\(error)"])
                }
                await sidecar.queueDoorbell.wait(upTo: .seconds(1))
            }
        } onGracefulShutdown: {
            stop.set()
            sidecar.queueDoorbell.ring()
        }
    }

    /// One queue run now (also `POST /v1/queue/run`); updates the metrics and the usage.
    func drain(batchSize: Int) async throws -> QueueRunner.Summary {
        let sidecar = self.sidecar, stop = self.stop
        let since = Date()
        let (summary, pending, removed) = try await sidecar.onWorker { () throws -> (QueueRunner.Summary, Int, [RemovalRecord]) in
            let runner = QueueRunner(config: sidecar.config, store: sidecar.store, database: sidecar.database)
            let summary = try runner.run(batchSize: batchSize, shouldStop: { stop.isSet })
            let removed = summary.removed + summary.quarantined > 0
                ? try sidecar.store.removals(since: since).filter { summary.finishedIds.contains($0.queueItemId) } : []
            return (summary, try sidecar.store.queueStats().totalPending, removed)
        }
        sidecar.metrics.queueDepth(pending)
        if summary.removed + summary.quarantined > 0 {
            sidecar.metrics.removed(files: summary.removed + summary.quarantined, bytes: summary.bytes)
            for record in removed { sidecar.usage.removed(record.path) }
            sidecar.webhooks?.notify(removed)
            sidecar.logger.info("queue run", metadata: [
                "queue.removed": "\(summary.removed)", "queue.quarantined": "\(summary.quarantined)", "queue.bytes": "\(summary.bytes)", "queue.pending": "\(pending)",
            ])
        }
        if summary.failed + summary.dead > 0 { sidecar.metrics.error("queue") }
        return summary
    }
}
