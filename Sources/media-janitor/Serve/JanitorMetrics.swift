import Metrics
import Prometheus

/// The sidecar's Prometheus metrics (swift-metrics, exported by swift-prometheus on
/// `GET /metrics`). Names follow Prometheus conventions with a `janitor_` prefix.
struct JanitorMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    /// Creates the registry and makes it the process's metrics backend (only `serve` does).
    static func bootstrap() -> JanitorMetrics {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return JanitorMetrics(registry: registry)
    }

    /// Events taken in, by channel (`http`, `outbox`) and decision (`enqueued`, `kept`, ...).
    func event(channel: String, decision: String, count: Int = 1) {
        Counter(label: "janitor_events_total", dimensions: [("channel", channel), ("decision", decision)]).increment(by: count)
    }

    /// Files removed (unlinked or quarantined) and their bytes.
    func removed(files: Int, bytes: Int64) {
        Counter(label: "janitor_removals_total").increment(by: files)
        Counter(label: "janitor_bytes_freed_total").increment(by: Int(bytes))
    }

    /// Items waiting in the queue.
    func queueDepth(_ pending: Int) {
        Gauge(label: "janitor_queue_depth").record(pending)
    }

    /// A failure in one of the services, by where it happened.
    func error(_ service: String) {
        Counter(label: "janitor_errors_total", dimensions: [("service", service)]).increment()
    }

    /// Watcher queue overflows (each healed by a rescan).
    func watcherOverflow() {
        Counter(label: "janitor_watcher_overflows_total").increment()
    }

    /// Files the watcher reported.
    func watcherFiles(_ count: Int) {
        Counter(label: "janitor_watcher_files_total").increment(by: count)
    }

    /// The exposition text.
    func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
