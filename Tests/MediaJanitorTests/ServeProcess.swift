import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `media-janitor serve` running as a real process on a loopback port, with a small HTTP
/// client for it. The port comes from the `listening on http://HOST:PORT` line on stderr.
final class ServeProcess: @unchecked Sendable {
    // @unchecked: `stderrText` is only touched under `lock`; `base` is set once in init, before
    // the object is shared.
    let process = Process()
    private(set) var base = URL(string: "http://127.0.0.1")!
    private let lock = NSLock()
    private var stderrText = ""

    init(in directory: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Janitor.executable)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "MEDIA_JANITOR_CONFIG")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        let reader = Thread { [lock] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.lock()
                self.stderrText += String(decoding: data, as: UTF8.self)
                lock.unlock()
            }
        }
        reader.start()
        let deadline = Date().addingTimeInterval(30)
        var found: URL?
        while found == nil, Date() < deadline, process.isRunning {
            lock.lock()
            let text = stderrText
            lock.unlock()
            if let range = text.range(of: "listening on http://") {
                let rest = text[range.upperBound...].prefix { $0 != "\n" }
                if text[range.upperBound...].contains("\n") { found = URL(string: "http://" + rest) }
            }
            if found == nil { usleep(20_000) }
        }
        guard let found else {
            process.terminate()
            throw ServeFailure(message: "serve did not start: \(stderr)")
        }
        base = found
    }

    struct ServeFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return stderrText
    }

    /// Sends SIGTERM and waits for the exit status.
    func terminate() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    struct Reply {
        var status: Int
        var body: String
        var headers: [String: String]

        func json() throws -> [String: Any] { try MediaJanitorTests.json(body) }
    }

    /// One request; `body` is sent as is.
    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: fields)
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass.
    static func eventually(_ seconds: Double = 15, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}
