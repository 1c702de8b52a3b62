import Crypto
import Foundation
import JanitorCore
import JanitorReports
import Logging
import ServiceLifecycle

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Outgoing webhooks: after each removal batch, one JSON notification per configured URL, the
/// removals grouped by class and tenant, signed with HMAC-SHA256 of the body under the
/// webhook's secret (`X-Janitor-Signature: sha256=HEX`), and retried with a doubling backoff
/// (1 s, 2 s, 4 s, 8 s) before it is logged as lost.
final class Webhooks: Service, Sendable {
    let hooks: [Webhook]
    let logger: Logger
    let metrics: JanitorMetrics
    private let stream: AsyncStream<[RemovalRecord]>
    private let continuation: AsyncStream<[RemovalRecord]>.Continuation

    init(_ hooks: [Webhook], logger: Logger, metrics: JanitorMetrics) {
        self.hooks = hooks
        self.logger = logger
        self.metrics = metrics
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(1000))
    }

    /// Queues one notification of these removals (nothing when empty).
    func notify(_ removals: [RemovalRecord]) {
        guard !removals.isEmpty else { return }
        continuation.yield(removals)
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            for await removals in stream {
                let body = Self.body(removals, now: Date())
                for hook in hooks { await deliver(body, to: hook) }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func deliver(_ body: String, to hook: Webhook) async {
        guard let url = URL(string: hook.url) else { return }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let secret = hook.secret { request.setValue("sha256=" + Self.signature(body, secret: secret), forHTTPHeaderField: "X-Janitor-Signature") }
        request.timeoutInterval = 10
        var delay = Duration.seconds(1)
        for attempt in 1...5 {
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if (200..<300).contains(status) { return }
                logger.warning("webhook refused", metadata: ["webhook.url": "\(hook.url)", "http.status": "\(status)", "webhook.attempt": "\(attempt)"])
            } catch {
                logger.warning("webhook failed", metadata: ["webhook.url": "\(hook.url)", "error": "\(error)", "webhook.attempt": "\(attempt)"])
            }
            if attempt == 5 { break }
            try? await Task.sleep(for: delay)
            delay *= 2
        }
        metrics.error("webhook")
        logger.error("webhook notification lost after 5 attempts", metadata: ["webhook.url": "\(hook.url)"])
    }

    /// Hex HMAC-SHA256 of the body under the secret.
    static func signature(_ body: String, secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    /// `{"schema": 1, "event": "removed", "sent_at", "files", "bytes", "groups": [{"class",
    /// "tenant", "files", "bytes", "removals": [{"id", "path", "bytes", "reason", "quarantined"}]}]}`.
    static func body(_ removals: [RemovalRecord], now: Date) -> String {
        let groups = Dictionary(grouping: removals) { "\($0.className)\u{0}\($0.tenant ?? "")" }.sorted { $0.key < $1.key }
        var json = JSONWriter()
        json.beginObject()
        json.field("schema", 1)
        json.field("event", "removed")
        json.field("sent_at", now)
        json.field("files", removals.count)
        json.field("bytes", removals.reduce(Int64(0)) { $0 + $1.bytes })
        json.key("groups")
        json.beginArray()
        for (_, records) in groups {
            json.element()
            json.beginObject()
            json.field("class", records[0].className)
            json.field("tenant", records[0].tenant)
            json.field("files", records.count)
            json.field("bytes", records.reduce(Int64(0)) { $0 + $1.bytes })
            json.key("removals")
            json.beginArray()
            for record in records {
                json.element()
                json.beginObject()
                json.field("id", record.id)
                json.field("path", record.path)
                json.field("bytes", record.bytes)
                json.field("reason", record.reason)
                json.field("quarantined", record.quarantinePath != nil)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.string
    }
}
