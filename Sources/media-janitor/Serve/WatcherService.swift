import Foundation
import JanitorCore
import JanitorSources
import Logging
import ServiceLifecycle
import Synchronization

/// Knows the media tree as it changes: one walk at start loads the usage counters, then (with
/// the watcher) every new file is recorded as it appears.
final class WatcherService: Service, Sendable {
    let sidecar: Sidecar
    let watch: Bool
    private let status = Mutex<String?>(nil)

    init(sidecar: Sidecar, watch: Bool) {
        self.sidecar = sidecar
        self.watch = watch
    }

    /// The watcher's part of `/healthz` (a JSON object), nil when it is not running.
    func health() -> String? { status.withLock { $0 } }

    func run() async throws {
        let sidecar = self.sidecar
        do {
            let listing = try await sidecar.onWorker { try DiskWalker(root: sidecar.config.mediaRoot).walk(capacityHint: 1 << 14) }
            sidecar.usage.load(listing)
        } catch {
            sidecar.metrics.error("watcher")
            sidecar.logger.error("the first walk of the media root failed; usage stays empty", metadata: ["error": "\(error)"])
        }
        try await gracefulShutdown()
    }
}
