import Foundation
import JanitorCore
import JanitorPostgres
import JanitorTestSupport
import Testing

/// File systems the fault tests make: read-only bind mounts and small tmpfs mounts. They need
/// root (or CAP_SYS_ADMIN); where the machine forbids mounting, the tests that need them say
/// so and do not run.
enum Mounts {
    /// Whether this process may mount, found by trying once.
    static let allowed: Bool = {
        guard geteuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("janitor-mount-probe-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? run(["-t", "tmpfs", "-o", "size=16k", "tmpfs", probe])) == 0 else { return false }
        unmount(probe)
        return true
    }()

    /// Makes `path` read-only in place (a read-only bind mount of itself).
    static func bindReadOnly(_ path: String) throws {
        #expect(try run(["--bind", path, path]) == 0)
        #expect(try run(["-o", "remount,ro,bind", path]) == 0)
    }

    /// Mounts an empty tmpfs of `bytes` on `path`.
    static func tmpfs(_ path: String, bytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(try run(["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path]) == 0)
    }

    static func unmount(_ path: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = [path]
        try? process.run()
        process.waitUntilExit()
    }

    private static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/mount")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension AppFixture {
    /// Runs the janitor with the `MEDIA_JANITOR_PAUSE_AT` seam: when it reaches `point`
    /// (`STAGE:N`) it waits while `meanwhile` changes the world, then goes on.
    func run(_ arguments: [String], pausingAt point: String, meanwhile: () throws -> Void, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Janitor.Outcome {
        let flag = path + "/paused-\(UUID().uuidString)"
        let run = BackgroundRun { [path] in try Janitor.run(arguments, in: path, environment: ["MEDIA_JANITOR_PAUSE_AT": "\(point):\(flag)"]) }
        let deadline = Date().addingTimeInterval(120)
        while access(flag, F_OK) != 0 && !run.isFinished && Date() < deadline { usleep(5_000) }
        let reached = access(flag, F_OK) == 0
        #expect(reached, "the janitor never reached \(point)", sourceLocation: sourceLocation)
        if reached {
            defer { unlink(flag) }
            try meanwhile()
        }
        return try run.wait()
    }
}

/// A janitor run on its own thread.
final class BackgroundRun: @unchecked Sendable {
    private var result: Result<Janitor.Outcome, any Error>?
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()

    init(_ body: @escaping @Sendable () throws -> Janitor.Outcome) {
        Thread { [self] in
            let result = Result { try body() }
            lock.withLock { self.result = result }
            done.signal()
        }.start()
    }

    var isFinished: Bool { lock.withLock { result != nil } }

    func wait() throws -> Janitor.Outcome {
        done.wait()
        return try lock.withLock { result! }.get()
    }
}

/// A second process holding an exclusive lock on an SQLite file (the `sqlite3` shell in a
/// `BEGIN EXCLUSIVE` transaction), as an app's long write or migration does.
final class SQLiteLockHolder {
    private let process = Process()
    private let input = Pipe()

    init(_ path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("PRAGMA journal_mode = DELETE;\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n".utf8))
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("locked") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
    }

    func release() {
        input.fileHandleForWriting.write(Data("COMMIT;\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

extension AppDB {
    /// Makes the app's database vanish under a running janitor: the PostgreSQL database is
    /// dropped (its sessions are cut), the SQLite file is overwritten with garbage in place.
    func vanish(directory: String) throws {
        switch backend {
        case .sqlite:
            let handle = try #require(FileHandle(forWritingAtPath: directory + "/app.sqlite3"))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(repeating: 0x5A, count: 8192))
            try handle.close()
        case .postgres:
            let name = String(configValue.split(separator: "/").last!)
            let admin = try PostgresSession(try TestPostgres.server(), purpose: "tests")
            try admin.execute("DROP DATABASE \(SQLIdentifier.quote(name)) WITH (FORCE)")
        }
    }
}
