import Dispatch
import Foundation
import JanitorCore
import Synchronization

/// Processes events from many requests together (group commit): while one batch is being
/// decided, the requests that arrive meanwhile wait and go through as the next batch. A batch
/// costs one pass over each reference column and one store transaction, whatever the number
/// of requests in it, so intake keeps up under load without adding latency when idle.
final class IntakeBatcher: Sendable {
    private typealias Waiter = (events: [ChangeEvent], continuation: CheckedContinuation<[EventProcessor.Outcome], Error>)

    private let sidecar: Sidecar
    private let source: String
    private let queue: DispatchQueue
    private let state = Mutex<(waiting: [Waiter], running: Bool)>(([], false))

    init(sidecar: Sidecar, source: String) {
        self.sidecar = sidecar
        self.source = source
        queue = DispatchQueue(label: "media-janitor.intake.\(source)")
    }

    /// Decides `events` (in one batch with whatever else is waiting); one outcome per event.
    func process(_ events: [ChangeEvent]) async throws -> [EventProcessor.Outcome] {
        guard !events.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiting.append((events, continuation))
                if state.running { return false }
                state.running = true
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                let batch = state.waiting
                state.waiting = []
                if batch.isEmpty { state.running = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let processor = EventProcessor(config: sidecar.config, store: sidecar.store, database: sidecar.database)
                var outcomes = try processor.process(batch.flatMap(\.events), source: source)[...]
                for waiter in batch {
                    waiter.continuation.resume(returning: Array(outcomes.prefix(waiter.events.count)))
                    outcomes = outcomes.dropFirst(waiter.events.count)
                }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
