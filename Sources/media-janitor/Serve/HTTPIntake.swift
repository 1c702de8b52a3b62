import Foundation
import Hummingbird
import JanitorCore
import JanitorReports
import JanitorStore
import NIOCore

/// The HTTP API of `serve` (DESIGN section 5). Every endpoint but `/healthz` wants the bearer
/// token when one is configured; the status page also takes it as `?token=` so a browser can
/// open it. Bodies larger than `serve.max_body` are refused with 413 before they are read in
/// full; a body that is not JSON or NDJSON gets 415; a malformed event gets 400 naming the
/// field.
struct HTTPIntake {
    let sidecar: Sidecar
    /// Decides the events of many requests per batch under load.
    let batcher: IntakeBatcher
    /// What `/healthz` reports about the watcher (nil: not running).
    let watchHealth: @Sendable () -> String?

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.get("/healthz") { _, _ in
            var json = JSONWriter()
            json.beginObject()
            json.field("status", "ok")
            if let watch = watchHealth() {
                json.key("watch")
                json.embed(watch)
            }
            json.endObject()
            return Self.json(json.string + "\n")
        }
        router.post("/v1/events") { request, context in try await guarded(request) { try await events(request) } }
        router.get("/v1/queue/stats") { request, _ in
            try await guarded(request) {
                let stats = try await sidecar.onIntake { try sidecar.store.queueStats() }
                return Self.json(QueueText.statsJSON(stats))
            }
        }
        router.post("/v1/queue/run") { request, _ in
            try await guarded(request) {
                var batchSize = sidecar.config.defaults.batchSize
                if let text = request.uri.queryParameters["batch_size"] {
                    guard let value = Int(text), value > 0 else {
                        return Self.problem(.badRequest, "batch_size must be a positive whole number, not '\(text)'", field: "batch_size")
                    }
                    batchSize = value
                }
                let summary = try await QueueWorker(sidecar: sidecar).drain(batchSize: batchSize)
                return Self.json(QueueText.summary(summary, json: true))
            }
        }
        router.get("/v1/usage") { request, _ in
            try await guarded(request) { Self.json(try await usage()) }
        }
        router.get("/v1/audits/latest") { request, _ in
            try await guarded(request) {
                guard let audit = try await sidecar.onIntake({ try sidecar.store.audits(limit: 1).first }) else {
                    return Self.problem(.notFound, "no audit recorded yet; run 'media-janitor scan' or set schedule.audit", field: nil)
                }
                return Self.json(JSONFormatter().format(HistoryReport(audits: [audit])))
            }
        }
        router.get("/metrics") { request, _ in
            try await guarded(request) {
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: sidecar.metrics.render())))
            }
        }
        router.get("/") { request, _ in
            try await guarded(request, queryToken: true) {
                let page = try await sidecar.onIntake { try StatusPage(sidecar: sidecar).render() }
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
            }
        }
        return router
    }

    // MARK: Endpoints

    private func events(_ request: Request) async throws -> Response {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let type, ["application/json", "application/x-ndjson", "application/ndjson"].contains(type) else {
            return Self.problem(
                .unsupportedMediaType, "send events as application/json (one object or an array) or application/x-ndjson (one object per line), not '\(type ?? "no Content-Type")'",
                field: nil)
        }
        let limit = Int(clamping: sidecar.config.serve.maxBody)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return Self.problem(.contentTooLarge, "the body is \(length) bytes, more than serve.max_body (\(limit) bytes); send fewer events per request", field: nil)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            return Self.problem(.contentTooLarge, "the body is more than serve.max_body (\(limit) bytes); send fewer events per request", field: nil)
        }
        let sidecar = self.sidecar
        let batch = EventDecoder.decode(Array(body.readableBytesView), mediaRoot: sidecar.config.mediaRoot)
        let lines = EventOutput.lines(batch, decided: try await batcher.process(batch.events))
        if !batch.rejected.isEmpty {
            let rejected = batch.rejected.map { ($0.id, $0.error.field, $0.error.message) }
            try await sidecar.onIntake { try sidecar.store.recordRejected(rejected, source: "http") }
        }
        for (decision, group) in Dictionary(grouping: lines, by: \.decision) { sidecar.metrics.event(channel: "http", decision: decision, count: group.count) }
        if lines.contains(where: { $0.queued > 0 }) { sidecar.queueDoorbell.ring() }
        // DESIGN 3: 202 once every accepted event is stored (rejected ones marked in the body);
        // a request with no valid event is 400, or 422 when only the safety rules refused paths.
        let status: HTTPResponse.Status
        if !batch.events.isEmpty {
            status = .accepted
        } else if !batch.rejected.isEmpty, batch.rejected.allSatisfy({ $0.error.kind == .refusedPath }) {
            status = .unprocessableContent
        } else {
            status = .badRequest
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: EventOutput.render(lines, json: true))))
    }

    /// The usage the tracker keeps (loaded by a walk at start, moved by the watcher).
    private func usage() async throws -> String {
        sidecar.usage.json()
    }

    // MARK: Guard and responses

    /// Checks the token, then runs the handler; a failure inside becomes a 500 that says what
    /// failed (and is counted), never a dropped connection.
    private func guarded(_ request: Request, queryToken: Bool = false, _ body: () async throws -> Response) async throws -> Response {
        if let token = sidecar.config.serve.token {
            let header = request.headers[.authorization]
            let given = header.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? (queryToken ? request.uri.queryParameters["token"].map(String.init) : nil)
            guard let given, Self.constantTimeEqual(given, token) else {
                var response = Self.problem(
                    .unauthorized, header == nil ? "this endpoint needs 'Authorization: Bearer TOKEN' (serve.token)" : "the bearer token is not serve.token", field: nil)
                response.headers[.wwwAuthenticate] = "Bearer"
                return response
            }
        }
        do {
            return try await body()
        } catch {
            sidecar.metrics.error("http")
            sidecar.logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            return Self.problem(.internalServerError, "\(error)", field: nil)
        }
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"schema": 1, "error": "...", "field": "..."}` with a status.
    static func problem(_ status: HTTPResponse.Status, _ message: String, field: String?) -> Response {
        var json = JSONWriter()
        json.beginObject()
        json.field("schema", 1)
        json.field("error", message)
        json.field("field", field)
        json.endObject()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json.string + "\n")))
    }

    /// Compares without stopping at the first difference, so timing does not reveal the token.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
