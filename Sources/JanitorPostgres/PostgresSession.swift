import Foundation
import JanitorCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A value bound to a statement's `$n` placeholder.
public enum PostgresValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])
    case bool(Bool)
    /// Text the server reads as whatever type the statement needs at that placeholder: compared
    /// with an integer, uuid or text key column it becomes that column's type (so the key's
    /// index serves the lookup); inserted into a column, that column's type (read by the type's
    /// own input function, as a literal would be).
    case untyped(String)
}

/// Something PostgreSQL or the way to it refused, worded for the operator: where (host, port,
/// database, never the password), what the server said, and what to check.
public struct PostgresFailure: Error, Sendable, CustomStringConvertible {
    /// `postgres://user@host:port/database`, the password redacted.
    public var location: String
    /// What went wrong, with what to check.
    public var reason: String
    /// The server's SQLSTATE, when the server answered (`23505` a unique violation, ...).
    public var sqlState: String?

    public init(location: String, reason: String, sqlState: String? = nil) {
        self.location = location
        self.reason = reason
        self.sqlState = sqlState
    }

    public var description: String { "PostgreSQL \(location): \(reason)" }

    /// Whether the server refused a statement because another transaction holds what it needs
    /// (a serialization failure or deadlock): worth retrying.
    public var isContention: Bool { sqlState == "40001" || sqlState == "40P01" }
}

/// One PostgreSQL connection used from synchronous code: each call blocks its thread until
/// the server answers, while postgres-nio runs the protocol on NIO's own event loop threads
/// (never on Swift's cooperative pool, so a blocked caller cannot starve it).
///
/// Calls are serialised by a lock, as GRDB's `DatabaseQueue` serialises SQLite: a transaction
/// holds the connection for its whole body, and calls made inside the body join it.
public final class PostgresSession: @unchecked Sendable {
    /// Where this session is connected.
    public let url: PostgresURL
    private let connection: PostgresConnection
    private let lock = NSRecursiveLock()
    private let logger: Logger

    /// Connects, or fails naming the host, the database and what to check.
    public init(_ url: PostgresURL, purpose: String) throws(PostgresFailure) {
        self.url = url
        var logger = Logger(label: "media-janitor.postgres")
        logger.logLevel = .critical
        self.logger = logger
        let tls: PostgresConnection.Configuration.TLS
        if url.requiresTLS {
            do {
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            } catch {
                throw PostgresFailure(location: url.redacted, reason: "cannot set up TLS (\(error)); check the system's certificates or drop sslmode=require")
            }
        } else {
            tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw Self.failure(error, url: url, connecting: true)
        }
        _ = purpose
    }

    deinit {
        try? connection.close().wait()
    }

    /// Runs one statement; returns the number of rows it changed (or returned).
    @discardableResult
    public func execute(_ sql: String, _ values: [PostgresValue] = []) throws(PostgresFailure) -> Int {
        try locked { () throws(PostgresFailure) -> Int in
            let result = try wait(connection.query(Self.query(sql, values), logger: logger))
            return result.metadata.rows ?? result.rows.count
        }
    }

    /// Runs one statement and returns all its rows.
    public func rows(_ sql: String, _ values: [PostgresValue] = []) throws(PostgresFailure) -> [PostgresRow] {
        try locked { () throws(PostgresFailure) -> [PostgresRow] in
            try wait(connection.query(Self.query(sql, values), logger: logger)).rows
        }
    }

    /// Streams a statement's rows to `onRow` as they arrive, without holding them all; an error
    /// thrown by `onRow` stops the stream and is rethrown.
    public func stream(_ sql: String, _ values: [PostgresValue] = [], onRow: (PostgresRow) throws -> Void) throws {
        try lock.withLock {
            try withoutActuallyEscaping(onRow) { onRow in
                // postgres-nio may keep its row callback after the query ends; the callback holds
                // only the sink, whose closure is dropped before `onRow` goes out of scope.
                let sink = RowSink(onRow)
                defer { sink.body = nil }
                do {
                    _ = try watching(connection.query(Self.query(sql, values), logger: logger) { row in try sink.body?(row) })
                } catch let error as PSQLError {
                    throw Self.failure(error, url: url, connecting: false)
                }
            }
        }
    }

    /// Runs several statements separated by `;` (DDL scripts), with no parameters.
    /// postgres-nio speaks only the extended protocol, which takes one statement at a time, so
    /// the script is split at each `;` outside quotes, dollar-quoted bodies and comments.
    public func script(_ sql: String) throws(PostgresFailure) {
        try locked { () throws(PostgresFailure) -> Void in
            for statement in Self.statements(sql) { try execute(statement) }
        }
    }

    /// The statements of a script: split at `;` outside '...', "...", $tag$...$tag$, -- and
    /// /* */ comments; empty statements are dropped.
    static func statements(_ sql: String) -> [String] {
        let bytes = Array(sql.utf8)
        var result: [String] = []
        var start = 0, i = 0
        func flush(_ end: Int) {
            let text = String(decoding: bytes[start..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { result.append(text) }
        }
        func skip(past terminator: [UInt8], from index: Int) -> Int {
            var j = index
            while j + terminator.count <= bytes.count {
                if Array(bytes[j..<j + terminator.count]) == terminator { return j + terminator.count }
                j += 1
            }
            return bytes.count
        }
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "'"): i = skip(past: [UInt8(ascii: "'")], from: i + 1)  // '' re-enters at once
            case UInt8(ascii: "\""): i = skip(past: [UInt8(ascii: "\"")], from: i + 1)
            case UInt8(ascii: "-") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-"):
                i = skip(past: [UInt8(ascii: "\n")], from: i + 2)
            case UInt8(ascii: "/") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*"):
                i = skip(past: Array("*/".utf8), from: i + 2)
            case UInt8(ascii: "$"):
                // $tag$ ... $tag$ (tag empty or an identifier); a lone $1 placeholder is not one.
                var j = i + 1
                while j < bytes.count, bytes[j] == UInt8(ascii: "_") || (bytes[j] >= 0x41 && bytes[j] <= 0x5A) || (bytes[j] >= 0x61 && bytes[j] <= 0x7A) || (j > i + 1 && bytes[j] >= 0x30 && bytes[j] <= 0x39) { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "$") {
                    let tag = Array(bytes[i...j])
                    i = skip(past: tag, from: j + 1)
                } else {
                    i += 1
                }
            case UInt8(ascii: ";"):
                flush(i)
                i += 1
                start = i
            default:
                i += 1
            }
        }
        flush(bytes.count)
        return result
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws
    /// (the error is rethrown as it was).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            try execute("BEGIN")
            let value: T
            do {
                value = try body()
            } catch {
                _ = try? execute("ROLLBACK")
                throw error
            }
            try execute("COMMIT")
            return value
        }
    }

    /// Subscribes to `LISTEN channel`; `onNotify` runs on an event loop thread for each
    /// notification, with its payload.
    public func listen(_ channel: String, onNotify: @escaping @Sendable (String) -> Void) throws(PostgresFailure) {
        connection.addListener(channel: channel) { _, notification in onNotify(notification.payload) }
        try execute("LISTEN \(SQLIdentifier.quote(channel))")
    }

    /// Whether the connection is still open (false after the server went away).
    public var isOpen: Bool { !connection.isClosed }

    private func locked<T>(_ body: () throws(PostgresFailure) -> T) throws(PostgresFailure) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws(PostgresFailure) -> T {
        do {
            return try watching(future)
        } catch {
            throw Self.failure(error, url: url, connecting: false)
        }
    }

    /// Waits for a query, and fails when the connection closes first: postgres-nio never
    /// completes a query sent on a connection the server has just cut (a dropped database, a
    /// terminated backend), and the janitor must end with an error rather than hang.
    private func watching<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        let done = DispatchSemaphore(value: 0)
        future.whenComplete { _ in done.signal() }
        var closedSince: ContinuousClock.Instant?
        while done.wait(timeout: .now() + .milliseconds(250)) == .timedOut {
            guard connection.isClosed else { continue }
            // Closed: a moment for the query to report its own error, then the session's.
            let now = ContinuousClock.now
            closedSince = closedSince ?? now
            guard now - closedSince! > .seconds(1) else { continue }
            throw PostgresFailure(
                location: url.redacted,
                reason: "the server closed the connection (it stopped, or the database was dropped or its sessions ended); check that the server is up, then run the command again")
        }
        return try future.wait()
    }

    static func query(_ sql: String, _ values: [PostgresValue]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .int(let v): binds.append(v)
            case .double(let v): binds.append(v)
            case .text(let v): binds.append(v)
            case .bytes(let v): binds.append(ByteBuffer(bytes: v))
            case .bool(let v): binds.append(v)
            case .untyped(let v): binds.append(UntypedText(text: v))
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// The operator's wording of a postgres-nio error.
    static func failure(_ error: any Error, url: PostgresURL, connecting: Bool) -> PostgresFailure {
        let location = url.redacted
        if let failure = error as? PostgresFailure { return failure }
        guard let error = error as? PSQLError else {
            return PostgresFailure(location: location, reason: connecting ? connectAdvice("\(error)", url) : "\(error)")
        }
        if let info = error.serverInfo, let message = info[.message] {
            let state = info[.sqlState]
            var reason = message
            if let detail = info[.detail] { reason += " (\(detail))" }
            if let hint = info[.hint] { reason += "; \(hint)" }
            switch state {
            case "28P01", "28000":
                reason += "; check the user and password in the URL, and the server's pg_hba.conf"
            case "3D000":
                reason += "; check the database name at the end of the URL, or create it"
            case "42P01", "42703":
                reason += "; check the table and column names in the config"
            default:
                break
            }
            return PostgresFailure(location: location, reason: reason, sqlState: state)
        }
        let underlying = error.underlying.map { "\($0)" } ?? "\(error.code)"
        if connecting || error.code == .connectionError {
            return PostgresFailure(location: location, reason: connectAdvice(underlying, url))
        }
        if error.code == .serverClosedConnection || error.code == .clientClosedConnection {
            return PostgresFailure(location: location, reason: "the connection closed (\(underlying)); check that the server is up, then run the command again")
        }
        return PostgresFailure(location: location, reason: underlying)
    }

    private static func connectAdvice(_ what: String, _ url: PostgresURL) -> String {
        "cannot connect (\(what)); check that the server runs and accepts TCP connections on \(url.host):\(url.port), and the URL's host and port"
    }
}

/// Text bound with no type (OID 0): the server infers the parameter's type from where it is used.
private struct UntypedText: PostgresDynamicTypeEncodable {
    var text: String
    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}

/// Carries a non-escaping closure to postgres-nio's row callback; safe because the caller
/// blocks until the query completes and then clears it, so every call happens while the
/// closure is alive.
private final class RowSink: @unchecked Sendable {
    var body: ((PostgresRow) throws -> Void)?
    init(_ body: @escaping (PostgresRow) throws -> Void) { self.body = body }
}
