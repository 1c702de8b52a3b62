/// Parsers for the scalar forms the config uses: durations, sizes and database locations.
public enum ConfigValues {
    /// Parses `30s`, `15m`, `24h`, `7d`, `2w` and combinations such as `1d12h`; `0` is zero.
    public static func duration(_ text: String) -> Seconds? {
        let text = text.trimmingSpaces()
        if text == "0" { return Seconds(0) }
        var total: Int64 = 0
        var number: Int64?
        var sawUnit = false
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                // Too large for 64 bits is invalid, never a trap: the config may be hostile.
                let (product, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, carry) = product.addingReportingOverflow(Int64(digit))
                guard !overflow, !carry else { return nil }
                number = sum
                continue
            }
            guard let value = number else { return nil }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            let (part, overflow) = value.multipliedReportingOverflow(by: unit)
            let (sum, carry) = total.addingReportingOverflow(part)
            guard !overflow, !carry else { return nil }
            total = sum
            number = nil
            sawUnit = true
        }
        guard number == nil, sawUnit else { return nil }
        return Seconds(total)
    }

    /// Parses `512KB`, `50MB`, `10GB`, `1.5TB` (powers of 1024; `KiB` spellings too) or a
    /// plain number of bytes.
    public static func size(_ text: String) -> Int64? {
        let text = text.trimmingSpaces()
        let digits = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = text.dropFirst(digits.count).trimmingSpaces().uppercased()
        guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1, let number = Double(digits) else {
            return nil
        }
        let multiplier: Double
        switch unit {
        case "", "B": multiplier = 1
        case "KB", "KIB", "K": multiplier = 1024
        case "MB", "MIB", "M": multiplier = 1024 * 1024
        case "GB", "GIB", "G": multiplier = 1024 * 1024 * 1024
        case "TB", "TIB", "T": multiplier = 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let bytes = number * multiplier
        guard bytes < 9.0e18, bytes.rounded() == bytes || unit != "" && unit != "B" else { return nil }
        return Int64(bytes.rounded())
    }

    /// Why a database location cannot be used.
    public enum DatabaseError: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case unsupportedScheme(String)
        case malformedPostgres(String, problem: String)

        public var description: String {
            switch self {
            case .empty:
                "the database location is empty; use sqlite:PATH or postgres://user:password@host:port/database"
            case .unsupportedScheme(let scheme):
                "unsupported database scheme '\(scheme)'; use sqlite:PATH or postgres://user:password@host:port/database"
            case .malformedPostgres(let url, let problem):
                "malformed PostgreSQL URL '\(url)': \(problem); the form is postgres://user:password@host:port/database?sslmode=require"
            }
        }
    }

    /// Parses `sqlite:PATH`, a bare path (SQLite) or `postgres://...`; relative SQLite paths
    /// resolve against `base`.
    public static func database(_ text: String, base: String) -> Result<DatabaseLocation, DatabaseError> {
        let text = text.trimmingSpaces()
        guard !text.isEmpty else { return .failure(.empty) }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return postgres(text).map(DatabaseLocation.postgres)
        }
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { return .failure(.empty) }
            return .success(.sqlite(path: FilePath.resolve(path, against: base)))
        }
        if let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") {
            return .failure(.unsupportedScheme(String(text[..<colon])))
        }
        return .success(.sqlite(path: FilePath.resolve(text, against: base)))
    }

    static func postgres(_ text: String) -> Result<PostgresURL, DatabaseError> {
        let fail = { (problem: String) in Result<PostgresURL, DatabaseError>.failure(.malformedPostgres(redact(text), problem: problem)) }
        var rest = Substring(text[text.range(of: "://")!.upperBound...])
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let at = rest.lastIndex(of: "@") else { return fail("no user: write user@host") }
        let credentials = rest[..<at]
        let location = rest[rest.index(after: at)...]
        let userPart = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let user = percentDecoded(String(userPart[0]))
        guard !user.isEmpty else { return fail("the user name is empty") }
        let password = userPart.count > 1 ? percentDecoded(String(userPart[1])) : nil
        guard let slash = location.firstIndex(of: "/") else { return fail("no database name: end it with /database") }
        let hostPort = location[..<slash]
        let database = percentDecoded(String(location[location.index(after: slash)...]))
        guard !database.isEmpty else { return fail("the database name is empty") }
        var host = String(hostPort)
        var port = 5432
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            host = String(hostPort[..<colon])
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else {
                return fail("the port '\(hostPort[hostPort.index(after: colon)...])' is not a number from 1 to 65535")
            }
            port = number
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return fail("the host is empty") }
        var requiresTLS = false
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[0] == "sslmode" {
                switch parts[1] {
                case "require", "verify-ca", "verify-full": requiresTLS = true
                case "disable", "allow", "prefer": requiresTLS = false
                default: return fail("unknown sslmode '\(parts[1])'; use disable, prefer, require, verify-ca or verify-full")
                }
            }
        }
        return .success(PostgresURL(user: user, password: password, host: host, port: port, database: database, requiresTLS: requiresTLS))
    }

    /// The URL with any password hidden, for messages.
    static func redact(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.lastIndex(of: "@"), scheme.upperBound < at else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Lexical file-path helpers (no file-system access).
public enum FilePath {
    /// Joins a relative path to a base directory and normalises `.`, `..` and repeated slashes.
    public static func resolve(_ path: String, against base: String) -> String {
        normalise(path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// Normalises an absolute path lexically.
    ///
    /// On UTF-8 bytes, as the kernel splits paths: `/` followed by a combining mark is one Swift
    /// `Character` that is not "/", but still a separator on disk.
    public static func normalise(_ path: String) -> String {
        let slash = UInt8(ascii: "/")
        var stack: [ArraySlice<UInt8>] = []
        for component in Array(path.utf8).split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual(".".utf8) { continue }
            if component.elementsEqual("..".utf8) {
                if !stack.isEmpty { stack.removeLast() }
                continue
            }
            stack.append(component)
        }
        return "/" + String(decoding: Array(stack.joined(separator: [slash])), as: UTF8.self)
    }

    /// Whether `path` is `directory` or lies below it (both absolute and normalised), on bytes.
    public static func isInside(_ path: String, _ directory: String) -> Bool {
        path.utf8.elementsEqual(directory.utf8) || path.utf8.starts(with: (directory == "/" ? "/" : directory + "/").utf8)
    }

    /// The directory part of a path (`.` when there is none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars.lastIndex { !$0.properties.isWhitespace }.map { scalars.index(after: $0) } ?? start
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[start..<Swift.max(start, end)])
        return String(out)
    }
}
