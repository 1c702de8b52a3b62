/// One part of a sharded audit: `scan --shard I/N` audits the files whose path hashes to shard
/// I of N, so that N machines can audit one tree and `history merge` can put their reports
/// back together.
///
/// The hash is FNV-1a 64 over the UTF-8 bytes of the path relative to the media root, in the
/// normalised form the walk and the reference set share (`a/b.jpg`: no `./`, no doubled or
/// trailing `/`), and a path belongs to shard I when `hash % N == I - 1`. FNV-1a is fixed by its
/// definition, so the split is the same on every machine, in every process and with every
/// Swift version; Swift's `Hasher` is seeded per process and would split each run differently.
/// Tests pin the hash of a few paths, so an accidental change fails them.
///
/// Every finding lands in exactly one shard: a file (referenced, orphan, too young,
/// unclassified, excluded) by its path, a missing reference by the referenced path, an invalid
/// reference by its raw value.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// The shard's number, from 1 to `count`.
    public let index: Int
    /// How many shards the audit is split into.
    public let count: Int

    /// A shard; `index` counts from 1.
    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1 else { throw .noShards(text: "\(index)/\(count)") }
        guard index >= 1 else { throw .indexBelowOne(text: "\(index)/\(count)", count: count) }
        guard index <= count else { throw .indexAboveCount(text: "\(index)/\(count)", count: count) }
        self.index = index
        self.count = count
    }

    /// A shard whose index the caller took from `1...count`.
    init(validIndex index: Int, count: Int) {
        precondition(count >= 1 && (1...count).contains(index))
        self.index = index
        self.count = count
    }

    /// Parses `I/N` as written after `--shard`: two decimal numbers and a slash, nothing else.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        func number(_ part: Substring) -> Int? {
            let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
            guard !part.isEmpty, part.count <= 9, part.utf8.allSatisfy(isDigit) else { return nil }
            return Int(part)
        }
        guard parts.count == 2, let index = number(parts[0]), let count = number(parts[1]) else {
            throw .malformed(text: text)
        }
        guard count >= 1 else { throw .noShards(text: text) }
        guard index >= 1 else { throw .indexBelowOne(text: text, count: count) }
        guard index <= count else { throw .indexAboveCount(text: text, count: count) }
        self.index = index
        self.count = count
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }

    /// Whether a root-relative path belongs to this shard.
    @inline(__always)
    public func contains(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        contains(hash: Self.hash(path))
    }

    /// Whether a root-relative path (or, for an invalid reference, its raw value) belongs to
    /// this shard.
    public func contains(_ path: String) -> Bool {
        contains(hash: Self.hash(path))
    }

    /// Whether a path whose ``hash(_:)-swift.type.method`` is `hash` belongs to this shard.
    @inline(__always)
    public func contains(hash: UInt64) -> Bool {
        hash % UInt64(count) == UInt64(index - 1)
    }

    // MARK: FNV-1a 64

    /// FNV-1a 64's offset basis: the hash of no bytes.
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// FNV-1a 64's prime.
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a 64 of the bytes.
    @inline(__always)
    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        hash(bytes, continuing: offsetBasis)
    }

    /// FNV-1a 64 of the string's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash($0) }
    }

    /// Continues a hash over more bytes: `hash(b, continuing: hash(a))` is the hash of `a`
    /// followed by `b`, so a walk hashes a directory's path once for all of its entries.
    @inline(__always)
    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>, continuing state: UInt64) -> UInt64 {
        var hash = state
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* prime
        }
        return hash
    }
}

/// Why a `--shard` value was refused; each message says what to write instead.
public enum ShardError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not two decimal numbers around a slash.
    case malformed(text: String)
    /// `N` is 0.
    case noShards(text: String)
    /// `I` is 0.
    case indexBelowOne(text: String, count: Int)
    /// `I` is above `N`.
    case indexAboveCount(text: String, count: Int)

    /// The message for the user, with the values that work.
    public var description: String {
        switch self {
        case .malformed(let text):
            "'\(text)' is not I/N; write the shard's number, a slash and the number of shards, e.g. 1/3"
        case .noShards(let text):
            "'\(text)' splits the audit into no shards; the number after the slash must be at least 1, e.g. 1/3"
        case .indexBelowOne(let text, let count), .indexAboveCount(let text, let count):
            "'\(text)' is not one of the \(count) shard\(count == 1 ? "" : "s"); shards count from 1, so use \(count == 1 ? "1/1" : "1/\(count) to \(count)/\(count)")"
        }
    }
}
