// serve-load: the load generator of the serve benchmark (Benchmarks/serve-bench.sh). Not a
// test; not shipped.
//
//   serve-load --url http://127.0.0.1:PORT --events FILE --store STATE.sqlite3
//              [--token T] [--batch B] [--connections C] [--max-seconds S] [--run-id ID]
//              [--summary FILE] [--quiet]
//
//   --events FILE     one event per line: TABLE<TAB>COLUMN<TAB>PATH; each becomes
//                     {"id": "load-ID-I", "table", "column", "op": "delete", "key": "I",
//                      "old": PATH, "new": null}
//   --store FILE      the janitor's store (the config's `state:`), read with GRDB at the end
//   --batch B         events per POST (default 1: one JSON object; more: a JSON array)
//   --connections C   concurrent HTTP/1.1 keep-alive connections (default 4)
//   --max-seconds S   wall-clock cap on the whole run, sending and draining (default 120)
//   --summary FILE    also write the figures as key=value lines (for the script)
//
// What it does: C threads, each with its own connection, take the next batch from a shared
// counter, stamp every event of it with the time just before the request's first byte is
// written (CLOCK_REALTIME, the clock the store's `removed_at` comes from), write the request
// and read the whole response; a 202 counts the batch as accepted. Sending stops at the cap.
// Then it polls `GET /v1/queue/stats` every 20 ms until `total_pending` is 0 (or the cap),
// reads `removal (path, removed_at)` from the store and computes, per event, removal latency
// = removed_at - send time.
//
// The client: plain blocking Glibc sockets, one OS thread per connection, a hand-written
// HTTP/1.1 request and response parser (Content-Length and chunked). Chosen over URLSession
// because swift-corelibs-foundation's URLSession (libcurl underneath, every callback hopping
// through its own queues) spends far more CPU per small request than the server under test,
// on a machine where both share two cores, and it does not say which connection a request
// went over or when its bytes left; a raw socket gives exact send times, exactly C
// keep-alive connections, and a client that costs a few microseconds per request.
//
// Exit status: 0 when every event was accepted and every file has a removal record; 1
// otherwise (the figures are still printed); 2 on a usage error or an unusable server/store.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB

// MARK: - Helpers

func printError(_ message: String) {
    var line = "serve-load: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    printError(message)
    exit(code)
}

/// Unix time in seconds (CLOCK_REALTIME): comparable with the store's `removed_at`.
func wallNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Appends `text` as the body of a JSON string (without the quotes).
func appendJSONString(_ text: Substring, to out: inout [UInt8]) {
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0..<0x20: out.append(contentsOf: Array(String(format: "\\u%04x", Int(byte)).utf8))
        default: out.append(byte)
        }
    }
}

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

func fmt(_ value: Double, _ digits: Int = 1) -> String {
    value.isFinite ? String(format: "%.\(digits)f", value) : "n/a"
}

// MARK: - Options

struct Options {
    var host = "127.0.0.1"
    var port: UInt16 = 0
    var eventsFile = ""
    var store = ""
    var token: String?
    var batch = 1
    var connections = 4
    var maxSeconds = 120.0
    var runId = "\(getpid())-\(Int(wallNow()))"
    var summary: String?
    var quiet = false
}

func parseOptions() -> Options {
    var options = Options()
    var url: String?
    var arguments = CommandLine.arguments.dropFirst()
    func value(_ name: String) -> String {
        guard let next = arguments.popFirst() else { fail("\(name) needs a value") }
        return next
    }
    func positive(_ name: String, _ text: String) -> Int {
        guard let number = Int(text), number > 0 else { fail("\(name) must be a positive integer, not '\(text)'") }
        return number
    }
    while let argument = arguments.popFirst() {
        switch argument {
        case "--url": url = value(argument)
        case "--events": options.eventsFile = value(argument)
        case "--store": options.store = value(argument)
        case "--token": options.token = value(argument)
        case "--batch": options.batch = positive(argument, value(argument))
        case "--connections": options.connections = positive(argument, value(argument))
        case "--max-seconds":
            let text = value(argument)
            guard let seconds = Double(text), seconds > 0 else { fail("--max-seconds must be a positive number, not '\(text)'") }
            options.maxSeconds = seconds
        case "--run-id": options.runId = value(argument)
        case "--summary": options.summary = value(argument)
        case "--quiet": options.quiet = true
        case "-h", "--help":
            print("usage: serve-load --url http://HOST:PORT --events FILE --store STATE.sqlite3 [--token T] [--batch B] [--connections C] [--max-seconds S] [--run-id ID] [--summary FILE] [--quiet]")
            exit(0)
        default: fail("unknown argument '\(argument)' (see --help)")
        }
    }
    guard let url else { fail("--url is required") }
    guard !options.eventsFile.isEmpty else { fail("--events is required") }
    guard !options.store.isEmpty else { fail("--store is required") }
    // http://HOST:PORT[/]: the loopback benchmark needs nothing more.
    guard url.hasPrefix("http://") else { fail("--url must start with http:// (got '\(url)')") }
    let authority = url.dropFirst("http://".count).prefix { $0 != "/" }
    guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...]), port > 0 else {
        fail("--url must be http://HOST:PORT (got '\(url)')")
    }
    options.host = String(authority[..<colon])
    if options.host == "localhost" { options.host = "127.0.0.1" }
    options.port = port
    return options
}

// MARK: - A minimal HTTP/1.1 client over a blocking socket

struct HTTPError: Error, CustomStringConvertible {
    var description: String
}

struct HTTPResponse {
    var status: Int
    var body: [UInt8]
    var close: Bool
}

final class Connection {
    let host: String
    let port: UInt16
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65536)
    private(set) var opened = 0

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
    }

    private func open() throws {
        #if canImport(Glibc)
        let socketType = Int32(SOCK_STREAM.rawValue)
        #else
        let socketType = SOCK_STREAM
        #endif
        let descriptor = socket(AF_INET, socketType, 0)
        guard descriptor >= 0 else { throw HTTPError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(descriptor)
            throw HTTPError(description: "'\(host)' is not an IPv4 address")
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw HTTPError(description: "connect to \(host):\(port): \(reason)")
        }
        fd = descriptor
        opened += 1
    }

    /// Writes the whole request (opening the connection first if needed). `beforeWrite` runs
    /// just before the first byte is written.
    func send(_ request: [UInt8], beforeWrite: () -> Void = {}) throws {
        if fd < 0 { try open() }
        beforeWrite()
        var offset = 0
        while offset < request.count {
            let written = request.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close()
                throw HTTPError(description: "send: \(reason)")
            }
            offset += written
        }
    }

    private func fill() throws {
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return
            }
            if count == 0 {
                close()
                throw HTTPError(description: "the server closed the connection")
            }
            if errno == EINTR { continue }
            let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "no response within 30 s" : String(cString: strerror(errno))
            close()
            throw HTTPError(description: "recv: \(reason)")
        }
    }

    private func find(_ pattern: [UInt8], from start: Int = 0) -> Int? {
        guard buffer.count >= pattern.count + start else { return nil }
        var index = start
        while index + pattern.count <= buffer.count {
            if buffer[index] == pattern[0] && Array(buffer[index..<index + pattern.count]) == pattern { return index }
            index += 1
        }
        return nil
    }

    /// Reads one response (status line, headers, a Content-Length or chunked body).
    func receive() throws -> HTTPResponse {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10], crlf: [UInt8] = [13, 10]
        var headerEnd = find(crlfcrlf)
        while headerEnd == nil {
            try fill()
            headerEnd = find(crlfcrlf)
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        buffer.removeFirst(headerEnd! + 4)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            close()
            throw HTTPError(description: "not an HTTP/1.x status line: '\(lines.first ?? "")'")
        }
        var length: Int?
        var chunked = false
        var closeAfter = statusParts[0] == "HTTP/1.0"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "content-length": length = Int(value)
            case "transfer-encoding": chunked = value.contains("chunked")
            case "connection": closeAfter = value.contains("close") ? true : (value.contains("keep-alive") ? false : closeAfter)
            default: break
            }
        }
        var body: [UInt8] = []
        if chunked {
            while true {
                var lineEnd = find(crlf)
                while lineEnd == nil {
                    try fill()
                    lineEnd = find(crlf)
                }
                let sizeText = String(decoding: buffer[0..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    close()
                    throw HTTPError(description: "bad chunk size '\(sizeText)'")
                }
                buffer.removeFirst(lineEnd! + 2)
                if size == 0 {
                    // Trailers (none expected), then the final CRLF.
                    var end = find(crlf)
                    while end == nil {
                        try fill()
                        end = find(crlf)
                    }
                    buffer.removeFirst(end! + 2)
                    break
                }
                while buffer.count < size + 2 { try fill() }
                body.append(contentsOf: buffer[0..<size])
                buffer.removeFirst(size + 2)
            }
        } else if let length {
            while buffer.count < length { try fill() }
            body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        } else {
            // No length: the body runs to the end of the connection.
            while true {
                do { try fill() } catch { break }
            }
            body = buffer
            buffer.removeAll()
            closeAfter = true
        }
        if closeAfter { close() }
        return HTTPResponse(status: status, body: body, close: closeAfter)
    }
}

func request(method: String, path: String, host: String, port: UInt16, token: String?, contentType: String? = nil, body: [UInt8] = []) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: serve-load\r\nAccept: application/json\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    if let contentType { head += "Content-Type: \(contentType)\r\n" }
    if method == "POST" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
    head += "\r\n"
    return Array(head.utf8) + body
}

// MARK: - Shared state of the senders

/// What the sender threads share. @unchecked: `sendTimes` is written at disjoint indices
/// (each batch belongs to one thread) and read only after every thread finished; everything
/// else is under `lock`.
final class Shared: @unchecked Sendable {
    let lock = NSLock()
    var nextBatch = 0
    var accepted = 0
    var enqueued = 0
    var requests = 0
    var statuses: [Int: Int] = [:]
    var errors: [String] = []
    var transportErrors = 0
    var connectionsOpened = 0
    var ackMillis: [Double] = []
    var lastResponse = 0.0
    var stoppedByCap = false
    let sendTimes: UnsafeMutableBufferPointer<Double>

    init(count: Int) {
        sendTimes = .allocate(capacity: count)
        sendTimes.initialize(repeating: .nan)
    }

    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let batch = nextBatch
        nextBatch += 1
        return batch
    }

    func note(_ error: String) {
        lock.lock()
        if errors.count < 5 { errors.append(error) }
        lock.unlock()
    }
}

// MARK: - Main

let options = parseOptions()

// The events: TABLE<TAB>COLUMN<TAB>PATH per line.
guard let listing = try? String(contentsOfFile: options.eventsFile, encoding: .utf8) else { fail("cannot read --events \(options.eventsFile)") }
var events: [(table: Substring, column: Substring, path: Substring)] = []
for (number, line) in listing.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
    let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
    guard fields.count == 3, !fields[2].isEmpty else { fail("\(options.eventsFile):\(number + 1): not TABLE<TAB>COLUMN<TAB>PATH") }
    events.append((fields[0], fields[1], fields[2]))
}
guard !events.isEmpty else { fail("\(options.eventsFile) lists no events") }
let load = Load(options: options, events: events)
let total = load.total
let batches = load.batches

/// The run's fixed inputs: what the sender threads read.
struct Load: Sendable {
    let options: Options
    let events: [(table: Substring, column: Substring, path: Substring)]
    var total: Int { events.count }
    var batches: Int { (events.count + options.batch - 1) / options.batch }

    func range(ofBatch index: Int) -> Range<Int> {
        (index * options.batch)..<min((index + 1) * options.batch, total)
    }

    /// The JSON body of batch `index`: one object when --batch is 1, else an array.
    func body(ofBatch index: Int) -> [UInt8] {
        let range = range(ofBatch: index)
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 200)
        if options.batch > 1 { out.append(UInt8(ascii: "[")) }
        for i in range {
            if i > range.lowerBound { out.append(contentsOf: Array(",\n".utf8)) }
            let event = events[i]
            out.append(contentsOf: Array("{\"id\": \"load-\(options.runId)-\(i)\", \"table\": \"".utf8))
            appendJSONString(event.table, to: &out)
            out.append(contentsOf: Array("\", \"column\": \"".utf8))
            appendJSONString(event.column, to: &out)
            out.append(contentsOf: Array("\", \"op\": \"delete\", \"key\": \"\(i + 1)\", \"old\": \"".utf8))
            appendJSONString(event.path, to: &out)
            out.append(contentsOf: Array("\", \"new\": null}".utf8))
        }
        if options.batch > 1 { out.append(UInt8(ascii: "]")) }
        return out
    }
}

/// Occurrences of `"decision": "enqueued"` (any spacing) in a response body.
@Sendable func enqueuedCount(_ body: [UInt8]) -> Int {
    let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: " ", with: "")
    return text.components(separatedBy: "\"decision\":\"enqueued\"").count - 1
}

/// One sender: its own connection; batches from the shared counter until none is left or
/// the deadline passed.
@Sendable func sender(_ load: Load, _ shared: Shared, deadline: Double) {
    let options = load.options
    let connection = Connection(host: options.host, port: options.port)
    var acks: [Double] = []
    var statuses: [Int: Int] = [:]
    var accepted = 0, enqueued = 0, requests = 0, transportErrors = 0, last = 0.0, capped = false
    while true {
        let index = shared.take()
        if index >= load.batches { break }
        if wallNow() >= deadline {
            capped = true
            break
        }
        let range = load.range(ofBatch: index)
        let payload = request(
            method: "POST", path: "/v1/events", host: options.host, port: options.port, token: options.token,
            contentType: "application/json", body: load.body(ofBatch: index))
        // A transport failure (the server closed a keep-alive connection) is retried on a new
        // connection, up to 3 times; event ids make a repeated event a no-op for the server.
        var attempt = 0
        while true {
            attempt += 1
            var sent = 0.0
            do {
                try connection.send(payload) {
                    sent = wallNow()
                    if attempt == 1 { for i in range { shared.sendTimes[i] = sent } }
                }
                let response = try connection.receive()
                let now = wallNow()
                last = now
                requests += 1
                acks.append((now - sent) * 1000)
                statuses[response.status, default: 0] += 1
                if response.status == 202 {
                    accepted += range.count
                    enqueued += enqueuedCount(response.body)
                } else {
                    shared.note("HTTP \(response.status) for batch \(index): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                }
                break
            } catch {
                transportErrors += 1
                shared.note("batch \(index), attempt \(attempt): \(error)")
                if attempt >= 3 || wallNow() >= deadline { break }
            }
        }
    }
    shared.lock.lock()
    shared.accepted += accepted
    shared.enqueued += enqueued
    shared.requests += requests
    shared.transportErrors += transportErrors
    shared.connectionsOpened += connection.opened
    shared.ackMillis += acks
    for (status, count) in statuses { shared.statuses[status, default: 0] += count }
    shared.lastResponse = max(shared.lastResponse, last)
    if capped { shared.stoppedByCap = true }
    shared.lock.unlock()
    connection.close()
}

// Is the server up and the token right? One stats request before the clock starts.
func queueStats(_ connection: Connection) throws -> [String: Any] {
    try connection.send(request(method: "GET", path: "/v1/queue/stats", host: options.host, port: options.port, token: options.token))
    let response = try connection.receive()
    guard response.status == 200 else {
        throw HTTPError(description: "GET /v1/queue/stats: HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
    }
    guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
        throw HTTPError(description: "GET /v1/queue/stats: not a JSON object: \(String(decoding: response.body.prefix(300), as: UTF8.self))")
    }
    return object
}
func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue ?? (value as? Int) }

let statsConnection = Connection(host: options.host, port: options.port)
let before: [String: Any]
do { before = try queueStats(statsConnection) } catch { fail("the server is not answering: \(error)") }
guard int(before["total_pending"]) != nil else { fail("GET /v1/queue/stats has no total_pending: \(before)") }

if !options.quiet {
    printError("sending \(total) delete events in \(batches) requests of up to \(options.batch) over \(options.connections) connections (cap \(fmt(options.maxSeconds, 0)) s)")
}

let shared = Shared(count: total)
let start = wallNow()
let deadline = start + options.maxSeconds
let group = DispatchGroup()
for _ in 0..<options.connections {
    group.enter()
    let thread = Thread { [load, shared, deadline] in
        sender(load, shared, deadline: deadline)
        group.leave()
    }
    thread.stackSize = 1 << 20
    thread.start()
}
group.wait()
let sendEnd = shared.lastResponse > 0 ? shared.lastResponse : wallNow()
let sent = (0..<total).filter { !shared.sendTimes[$0].isNaN }.count

// Drain: total_pending == 0, or the cap.
var drainObserved: Double?
var lastStats: [String: Any] = [:]
var statsErrors = 0
while true {
    do {
        lastStats = try queueStats(statsConnection)
        if int(lastStats["total_pending"]) == 0 {
            drainObserved = wallNow()
            break
        }
    } catch {
        statsErrors += 1
        if statsErrors > 20 { fail("GET /v1/queue/stats keeps failing: \(error)") }
    }
    if wallNow() >= deadline { break }
    usleep(20_000)
}
let drainCapped = drainObserved == nil

// The store's removal records.
var readOnly = Configuration()
readOnly.readonly = true
readOnly.busyMode = .timeout(10)
var removedAt: [String: Double] = [:]
var removalRows = 0
do {
    let store = try DatabaseQueue(path: options.store, configuration: readOnly)
    try store.read { db in
        let rows = try Row.fetchCursor(db, sql: "SELECT path, removed_at FROM removal")
        while let row = try rows.next() {
            removalRows += 1
            let path: String = row[0]
            let time: Double = row[1]
            // The first removal of a path counts (a path is removed once per run).
            if let earlier = removedAt[path] { removedAt[path] = min(earlier, time) } else { removedAt[path] = time }
        }
    }
} catch {
    fail("cannot read the removal table of \(options.store): \(error)")
}

var latencies: [Double] = []
latencies.reserveCapacity(total)
var notRemoved = 0, negative = 0
var firstRemoval = Double.infinity, lastRemoval = -Double.infinity
for (i, event) in events.enumerated() {
    let sentAt = shared.sendTimes[i]
    guard let at = removedAt[String(event.path)] else {
        notRemoved += 1
        continue
    }
    firstRemoval = min(firstRemoval, at)
    lastRemoval = max(lastRemoval, at)
    if sentAt.isNaN { continue }
    let latency = (at - sentAt) * 1000
    if latency < 0 { negative += 1 }
    latencies.append(latency)
}
latencies.sort()
let removed = total - notRemoved

/// Events (or removals) per second over the first and the last quarter of `times`: a rate that
/// falls as the run goes on shows a cost that grows with what the store already holds.
func quarterRates(_ unsorted: [Double]) -> (first: Double, last: Double) {
    let times = unsorted.filter { $0.isFinite }.sorted()
    let quarter = times.count / 4
    guard quarter >= 2 else { return (.nan, .nan) }
    let first = times[quarter - 1] - times[0], last = times[times.count - 1] - times[times.count - quarter]
    return (first > 0 ? Double(quarter - 1) / first : .nan, last > 0 ? Double(quarter - 1) / last : .nan)
}
let sendRates = quarterRates(Array(shared.sendTimes))
let removalRates = quarterRates(Array(removedAt.values))
let sendSeconds = sendEnd - start
let removalSpan = lastRemoval.isFinite ? lastRemoval - start : .nan
let eventsPerSecond = sendSeconds > 0 ? Double(shared.accepted) / sendSeconds : .nan
let removalsPerSecond = removalSpan > 0 ? Double(removed) / removalSpan : .nan
let acks = shared.ackMillis.sorted()
let statusText = shared.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")

let report: [(String, String)] = [
    ("events", "\(total)"),
    ("batch", "\(options.batch)"),
    ("connections", "\(options.connections)"),
    ("max_seconds", fmt(options.maxSeconds, 0)),
    ("requests", "\(shared.requests)"),
    ("events_sent", "\(sent)"),
    ("accepted", "\(shared.accepted)"),
    ("enqueued", "\(shared.enqueued)"),
    ("http_statuses", statusText.isEmpty ? "none" : statusText),
    ("transport_errors", "\(shared.transportErrors)"),
    ("connections_opened", "\(shared.connectionsOpened)"),
    ("send_capped", shared.stoppedByCap ? "yes" : "no"),
    ("send_seconds", fmt(sendSeconds, 3)),
    ("events_per_second", fmt(eventsPerSecond, 0)),
    ("ack_ms_p50", fmt(percentile(acks, 50), 2)),
    ("ack_ms_p99", fmt(percentile(acks, 99), 2)),
    ("ack_ms_max", fmt(acks.last ?? .nan, 2)),
    ("removed", "\(removed)"),
    ("not_removed", "\(notRemoved)"),
    ("removal_rows", "\(removalRows)"),
    ("removal_seconds", fmt(removalSpan, 3)),
    ("events_per_second_first_quarter", fmt(sendRates.first, 0)),
    ("events_per_second_last_quarter", fmt(sendRates.last, 0)),
    ("removals_per_second_first_quarter", fmt(removalRates.first, 0)),
    ("removals_per_second_last_quarter", fmt(removalRates.last, 0)),
    ("removals_per_second", fmt(removalsPerSecond, 0)),
    ("drain_capped", drainCapped ? "yes" : "no"),
    ("drain_observed_seconds", drainObserved.map { fmt($0 - start, 3) } ?? "n/a"),
    ("last_removed_at_seconds", fmt(removalSpan, 3)),
    ("latency_ms_p50", fmt(percentile(latencies, 50))),
    ("latency_ms_p90", fmt(percentile(latencies, 90))),
    ("latency_ms_p99", fmt(percentile(latencies, 99))),
    ("latency_ms_max", fmt(latencies.last ?? .nan)),
    ("latency_negative", "\(negative)"),
    ("stats_total_pending", "\(int(lastStats["total_pending"]).map(String.init) ?? "?")"),
    ("stats_done", "\(int(lastStats["done"]).map(String.init) ?? "?")"),
    ("stats_dead", "\(int(lastStats["dead"]).map(String.init) ?? "?")"),
]

if let summary = options.summary {
    let text = report.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\n"
    do { try text.write(toFile: summary, atomically: true, encoding: .utf8) } catch { fail("cannot write --summary \(summary): \(error)") }
}

let value = Dictionary(report, uniquingKeysWith: { a, _ in a })
print("""
    serve-load: \(total) delete events, batch \(options.batch), \(options.connections) keep-alive connections (raw-socket HTTP/1.1), cap \(fmt(options.maxSeconds, 0)) s
      sent       \(sent) events in \(shared.requests) requests over \(shared.connectionsOpened) connections; accepted (HTTP 202) \(shared.accepted), enqueued \(shared.enqueued); statuses \(value["http_statuses"]!); transport errors \(shared.transportErrors)\(shared.stoppedByCap ? "; SENDING STOPPED AT THE CAP" : "")
      intake     \(value["events_per_second"]!) events/s sustained (accepted / \(value["send_seconds"]!) s from the first send to the last response); response time p50 \(value["ack_ms_p50"]!) ms, p99 \(value["ack_ms_p99"]!) ms, max \(value["ack_ms_max"]!) ms
      removal    \(removed) removed (\(notRemoved) without a removal record), \(value["removals_per_second"]!) removals/s (removed / \(value["removal_seconds"]!) s from the first send to the last removed_at); total_pending 0 seen at \(value["drain_observed_seconds"]!) s\(drainCapped ? " (DRAIN STOPPED AT THE CAP)" : "")
      quarters   events/s first quarter \(value["events_per_second_first_quarter"]!), last quarter \(value["events_per_second_last_quarter"]!); removals/s first quarter \(value["removals_per_second_first_quarter"]!), last quarter \(value["removals_per_second_last_quarter"]!)
      latency    removed_at - send time: p50 \(value["latency_ms_p50"]!) ms, p90 \(value["latency_ms_p90"]!) ms, p99 \(value["latency_ms_p99"]!) ms, max \(value["latency_ms_max"]!) ms\(negative > 0 ? " (\(negative) NEGATIVE)" : "")
      store      removal rows \(removalRows); queue stats total_pending \(value["stats_total_pending"]!), done \(value["stats_done"]!), dead \(value["stats_dead"]!)
    """)
for error in shared.errors { printError("error: \(error)") }

let complete = shared.accepted == total && notRemoved == 0 && !shared.stoppedByCap && !drainCapped
exit(complete ? 0 : 1)
