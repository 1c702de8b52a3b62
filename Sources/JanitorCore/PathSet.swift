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

    /// 64-bit FNV-1a with a final avalanche, so that similar paths spread over the slots.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
