/// A set of byte strings (paths) in one arena, with stable indices in insertion order.
///
/// A million paths held as Swift `String`s in a `Set` cost about 100 MB; here they cost
/// their bytes plus about 24 bytes each, and lookups hash the bytes without allocating.
public struct PathSet: Sendable {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Open addressing: each slot holds an index + 1, 0 when empty.
    private var slots: [Int32]
    private var mask: Int

    /// Creates an empty set sized for about `capacity` paths.
    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        arena.reserveCapacity(capacity * 32)
        starts.reserveCapacity(capacity + 1)
        hashes.reserveCapacity(capacity)
    }

    /// The number of paths.
    public var count: Int { hashes.count }

    /// Inserts a path; returns its index and whether it was new.
    @discardableResult
    public mutating func insert(_ path: UnsafeBufferPointer<UInt8>) -> (index: Int, inserted: Bool) {
        let hash = Self.hash(path)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            if hashes[entry - 1] == hash, equals(entry - 1, path) { return (entry - 1, false) }
            slot = (slot + 1) & mask
        }
        let index = hashes.count
        arena.append(contentsOf: path)
        starts.append(arena.count)
        hashes.append(hash)
        slots[slot] = Int32(index + 1)
        if hashes.count * 2 > slots.count { grow() }
        return (index, true)
    }

    /// Inserts a path given as a string.
    @discardableResult
    public mutating func insert(_ path: String) -> (index: Int, inserted: Bool) {
        var path = path
        return path.withUTF8 { insert($0) }
    }

    /// The index of a path, if present.
    public func index(of path: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(path)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if hashes[entry - 1] == hash, equals(entry - 1, path) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// The index of a path given as a string, if present.
    public func index(of path: String) -> Int? {
        var path = path
        return path.withUTF8 { index(of: $0) }
    }

    /// Whether the set holds a path.
    public func contains(_ path: String) -> Bool { index(of: path) != nil }

    /// Calls `body` with the bytes of the path at an index.
    public func withBytes<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { buffer in
            try body(UnsafeBufferPointer(rebasing: buffer[starts[index]..<starts[index + 1]]))
        }
    }

    /// The path at an index, as a string (invalid UTF-8 is repaired for display).
    public subscript(index: Int) -> String {
        withBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    private func equals(_ index: Int, _ path: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[index], end = starts[index + 1]
        guard end - start == path.count else { return false }
        return arena.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, let other = path.baseAddress else { return path.isEmpty }
            return memcmp(base + start, other, path.count) == 0
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        for (index, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    /// A 64-bit hash that reads eight bytes at a time, with a final avalanche so that similar
    /// paths spread over the slots.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        let count = bytes.count
        while offset + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word) &* 0xff51_afd7_ed55_8ccd
            hash ^= hash >> 29
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(base[offset]) << shift
                shift += 8
                offset += 1
            }
            hash = (hash ^ tail) &* 0xc4ce_b9fe_1a85_ec53
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}

/// Byte strings (paths) in one arena, in insertion order, without a lookup table: what a walk
/// produces, where every path is unique by construction.
public struct PathList: Sendable {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]

    /// Creates an empty list sized for about `capacity` paths.
    public init(capacity: Int = 1024) {
        arena.reserveCapacity(capacity * 32)
        starts.reserveCapacity(capacity + 1)
    }

    /// The number of paths.
    public var count: Int { starts.count - 1 }

    /// Appends a path.
    public mutating func append(_ path: UnsafeBufferPointer<UInt8>) {
        arena.append(contentsOf: path)
        starts.append(arena.count)
    }

    /// Calls `body` with the bytes of the path at an index.
    public func withBytes<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { buffer in
            try body(UnsafeBufferPointer(rebasing: buffer[starts[index]..<starts[index + 1]]))
        }
    }

    /// Calls `body` with the whole arena and the start offsets, for loops over every path.
    public func withStorage<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { bytes in
            try starts.withUnsafeBufferPointer { starts in try body(bytes, starts) }
        }
    }

    /// The path at an index, as a string (invalid UTF-8 is repaired for display).
    public subscript(index: Int) -> String {
        withBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether the path at `a` sorts before the path at `b`, bytewise.
    public func precedes(_ a: Int, _ b: Int) -> Bool {
        withStorage { bytes, starts in
            let la = starts[a + 1] - starts[a], lb = starts[b + 1] - starts[b]
            let common = Swift.min(la, lb)
            if common > 0 {
                let order = memcmp(bytes.baseAddress! + starts[a], bytes.baseAddress! + starts[b], common)
                if order != 0 { return order < 0 }
            }
            return la < lb
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
