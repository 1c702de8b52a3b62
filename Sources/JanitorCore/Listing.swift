/// Everything under the media root that is not a directory, from one walk.
///
/// Columnar and compact: a million entries cost their path bytes plus about 50 bytes each.
public struct Listing: Sendable {
    /// What an entry is, from `lstat` (never its target's type).
    public enum EntryKind: UInt8, Sendable {
        /// A regular file: the only kind that can be an orphan.
        case regular
        /// A symbolic link, never followed.
        case symlink
        /// A socket, FIFO or device.
        case other
    }

    /// Root-relative paths; an entry's index is its position here.
    public private(set) var paths: PathList
    /// Bytes from `lstat` (a symlink's own size).
    public private(set) var sizes: [Int64] = []
    /// Modification times in whole seconds since 1970.
    public private(set) var mtimes: [Int64] = []
    /// Entry kinds.
    public private(set) var kinds: [EntryKind] = []
    /// Directories that could not be read, with the reason, so a report can say so.
    public var unreadable: [(path: String, reason: String)] = []

    /// Creates an empty listing sized for about `capacity` entries.
    public init(capacity: Int = 1024) {
        paths = PathList(capacity: capacity)
        sizes.reserveCapacity(capacity)
        mtimes.reserveCapacity(capacity)
        kinds.reserveCapacity(capacity)
    }

    /// The number of entries.
    public var count: Int { sizes.count }

    /// Adds an entry. Paths come from a walk and so are unique.
    public mutating func append(_ path: UnsafeBufferPointer<UInt8>, size: Int64, mtime: Int64, kind: EntryKind) {
        paths.append(path)
        sizes.append(size)
        mtimes.append(mtime)
        kinds.append(kind)
    }

    /// Adds an entry given as a string (tests and small tools).
    public mutating func append(_ path: String, size: Int64, mtime: Int64, kind: EntryKind = .regular) {
        var path = path
        path.withUTF8 { append($0, size: size, mtime: mtime, kind: kind) }
    }
}
