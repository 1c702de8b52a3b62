import Foundation
import JanitorTestSupport
import Testing

/// Runs the built `media-janitor` executable as a real process.
enum Janitor {
    struct Outcome {
        var status: Int32
        /// Whether the process was killed by a signal (`status` is then the signal number).
        var signaled = false
        var stdout: String
        var stderr: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable: beside the test bundle, or `MEDIA_JANITOR_BIN`.
    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["MEDIA_JANITOR_BIN"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("media-janitor").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug/media-janitor").path
    }

    @discardableResult
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:], asNobody: Bool = false) throws -> Outcome {
        let process = Process()
        if asNobody {
            // The unprivileged user `nobody`, so that the kernel's permission checks apply (root
            // passes them all).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "MEDIA_JANITOR_CONFIG")
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs, so a large report cannot fill a pipe and stall.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Outcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// The demo app of `samples/`, built once per test run into a temporary directory by
/// `samples/make-sample.sh`, with `samples/janitor.yml` beside it.
enum Sample {
    static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("janitor-sample-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let script = Janitor.repository.appendingPathComponent("samples/make-sample.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, path + "/out"]
        process.standardOutput = FileHandle.nullDevice
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "samples/make-sample.sh failed")
        try! FileManager.default.copyItem(atPath: Janitor.repository.appendingPathComponent("samples/janitor.yml").path, toPath: path + "/janitor.yml")
        return path
    }()

    /// Copies the sample (mtimes and symlinks kept, no audit history) into `directory`.
    static func copy(to directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-a", Self.directory + "/out", Self.directory + "/janitor.yml", directory + "/"]
        try process.run()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory + "/out/.janitor")
    }

    /// The sample's rows in a PostgreSQL database of the test server (samples/load-postgres.sh)
    /// and `janitor-pg.yml` beside `janitor.yml` pointing at it: the same media tree, audited
    /// against the app's rows in PostgreSQL.
    static let postgres: Result<Void, any Error> = Result {
        let url = try TestPostgres.freshDatabase("sample")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Janitor.repository.appendingPathComponent("samples/load-postgres.sh").path, directory + "/out", TestPostgres.text(url)]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestPostgres.Unavailable(description: "samples/load-postgres.sh failed") }
        let config = try String(contentsOfFile: directory + "/janitor.yml", encoding: .utf8)
            .replacingOccurrences(of: "database: sqlite:out/app.sqlite3", with: "database: \(TestPostgres.text(url))")
            .replacingOccurrences(of: "state: out/.janitor/state.sqlite3", with: "state: out/.janitor/state-pg.sqlite3")
        try config.write(toFile: directory + "/janitor-pg.yml", atomically: true, encoding: .utf8)
    }

    /// The arguments that pick the sample's config for a backend.
    static func config(_ backend: AppBackend) throws -> [String] {
        switch backend {
        case .sqlite: return []
        case .postgres:
            try postgres.get()
            return ["--config", "janitor-pg.yml"]
        }
    }

    /// `planted.txt`: kind -> paths or values, as the sample script planted them.
    static var planted: [String: Set<String>] {
        let text = try! String(contentsOfFile: directory + "/out/planted.txt", encoding: .utf8)
        var result: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            result[String(parts[0]), default: []].insert(String(parts[1]))
        }
        return result
    }
}

/// A scratch directory for one test, removed afterwards.
final class Scratch {
    let path: String

    init(_ name: String = #function) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("janitor-cli-\(name.filter(\.isLetter))-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) {
        let full = path + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
    }
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}
