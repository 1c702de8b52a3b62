import Dispatch
import Foundation
import JanitorCore
import JanitorSources
import JanitorStore
import Logging
import Synchronization

/// What the services of `serve` share. Every member is immutable or guards its own state, so
/// the whole is `Sendable`.
final class Sidecar: Sendable {
    let config: JanitorConfig
    let store: any StateStore
    let database: any AppDatabase
    let metrics: JanitorMetrics
    let usage: UsageTracker
    /// Outgoing webhooks, when `serve.webhooks` has any.
    let webhooks: Webhooks?
    let logger: Logger
    /// Rung when queue items may have become due (events processed, retention applied).
    let queueDoorbell = Doorbell()
    /// Blocking work (SQLite, the file system) runs here, off the cooperative thread pool.
    private let intake = DispatchQueue(label: "media-janitor.intake")
    private let worker = DispatchQueue(label: "media-janitor.worker")

    init(config: JanitorConfig, store: any StateStore, database: any AppDatabase, metrics: JanitorMetrics, logger: Logger) {
        self.config = config
        self.store = store
        self.database = database
        self.metrics = metrics
        self.logger = logger
        usage = UsageTracker(classes: config.classes)
        webhooks = config.serve.webhooks.isEmpty ? nil : Webhooks(config.serve.webhooks, logger: logger, metrics: metrics)
    }

    /// Runs `body` on the intake queue (events from HTTP and the outbox).
    func onIntake<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(on: intake, body)
    }

    /// Runs `body` on the worker queue (queue runs, sweeps): one at a time.
    func onWorker<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(on: worker, body)
    }

    private func run<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Wakes one waiting service early; a ring with nobody waiting is kept for the next wait.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var next = 0
        var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var cancelled = Set<Int>()
    }

    private let state = Mutex(State())

    /// Rings: wakes the waiter now, or the next one at once.
    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Waits for a ring, at most `timeout`; returns at once when cancelled.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing() async {
        let id = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.rung || state.cancelled.remove(id) != nil {
                        state.rung = false
                        return true
                    }
                    state.waiter = (id, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter, waiter.id == id else {
                    state.cancelled.insert(id)
                    return nil
                }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume()
        }
    }
}

/// Set once a service is asked to shut down gracefully (SIGTERM, SIGINT): its long work
/// stops between batches. One per service: the group shuts services down one at a time.
final class StopFlag: Sendable {
    private let state = Mutex(false)

    var isSet: Bool { state.withLock { $0 } }

    func set() { state.withLock { $0 = true } }
}
