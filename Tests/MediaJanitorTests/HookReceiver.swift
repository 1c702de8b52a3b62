import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A one-purpose HTTP receiver for webhook tests: listens on a loopback port, answers every
/// request `200 OK` (or the first `failures` of them `503`), and keeps each request's headers
/// and body.
final class HookReceiver: @unchecked Sendable {
    // @unchecked: `received` is only touched under `lock`; the socket is owned by the thread.
    struct Request {
        var headers: [String: String]
        var body: Data
    }

    let port: Int
    private let socket: Int32
    private let lock = NSLock()
    private var received: [Request] = []
    private var failures: Int

    init(failures: Int = 0) throws {
        self.failures = failures
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.socket = socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        guard bound == 0, listen(socket, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit { close(socket) }

    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    private func serve() {
        while true {
            let connection = accept(socket, nil, nil)
            if connection < 0 { return }
            var buffer = Data()
            var chunk = [UInt8](repeating: 0, count: 65_536)
            var request: Request?
            while request == nil {
                let count = recv(connection, &chunk, chunk.count, 0)
                if count <= 0 { break }
                buffer.append(contentsOf: chunk[0..<count])
                guard let end = buffer.range(of: Data("\r\n\r\n".utf8)) else { continue }
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n").dropFirst()
                var headers: [String: String] = [:]
                for line in head {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if buffer.count - end.upperBound >= length {
                    request = Request(headers: headers, body: Data(buffer[end.upperBound..<(end.upperBound + length)]))
                }
            }
            lock.lock()
            if let request { received.append(request) }
            let fail = failures > 0
            if fail { failures -= 1 }
            lock.unlock()
            let reply = fail ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            _ = reply.withCString { send(connection, $0, strlen($0), 0) }
            close(connection)
        }
    }
}
