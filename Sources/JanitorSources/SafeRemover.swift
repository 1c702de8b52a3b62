#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JanitorCore

/// Removes and restores files under the media root without ever following a symlink:
/// every component is opened with `openat(O_NOFOLLOW)` from the root's descriptor, the file
/// is checked with `fstatat(AT_SYMLINK_NOFOLLOW)`, and acted on relative to its parent's
/// descriptor (DESIGN 6.1). Quarantine is a `rename` on one file system, and copy + `fsync` +
/// unlink across two.
public struct SafeRemover: Sendable {
    /// The absolute media root.
    public let root: String

    /// Creates a remover for a root.
    public init(root: String) { self.root = root }

    /// What a file is, from `lstat`: enough to recognise it again after a crash.
    public struct Identity: Sendable, Hashable {
        /// Device number.
        public var device: Int64
        /// Inode number.
        public var inode: Int64
        /// Bytes.
        public var bytes: Int64
        /// Status-change time in nanoseconds: tells a new file from an old one whose inode
        /// number the file system reused.
        public var changeTime: Int64

        /// Creates an identity.
        public init(device: Int64, inode: Int64, bytes: Int64, changeTime: Int64) {
            self.device = device
            self.inode = inode
            self.bytes = bytes
            self.changeTime = changeTime
        }

        /// Whether another identity is the same file (size aside: a file may grow).
        public func isSameFile(as other: Identity) -> Bool {
            device == other.device && inode == other.inode && changeTime == other.changeTime
        }
    }

    /// Why a path was refused or failed.
    public enum RemovalError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A safety rule refused the path: never retried.
        case refused(String)
        /// The operating system refused; may succeed later (retried with backoff).
        case failed(operation: String, errno: Int32)

        /// The message recorded and shown.
        public var description: String {
            switch self {
            case .refused(let reason): "refused: \(reason)"
            case .failed(let operation, let code): "\(operation) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    /// The file at a root-relative path: nil when absent; refused when the path is not clean,
    /// a component is a symlink, or the entry is not a regular file. Refused too when the path
    /// holds U+FFFD: text repaired from bytes that are not UTF-8 (a Latin-1 row value, a name
    /// in a scan's report) has U+FFFD in their place, and then names another file or none.
    public func inspect(_ path: String) throws(RemovalError) -> Identity? {
        if path.unicodeScalars.contains("\u{FFFD}") {
            throw .refused("'\(path)' holds U+FFFD, which stands in for bytes that are not UTF-8, so it may not be the file's own name; remove the file by hand")
        }
        let (parent, name) = try openParent(path, create: false)
        guard let parent else { return nil }
        defer { close(parent) }
        return try lstatRegular(parent, name, path)
    }

    /// Moves a file into the quarantine at `destination` (absolute), after checking that it is
    /// still the file `expected` identifies. Returns false when the file was already gone.
    public func quarantine(_ path: String, expected: Identity, to destination: String) throws(RemovalError) -> Bool {
        guard let (parent, name) = try openStill(path, expected) else { return false }
        defer { close(parent) }
        if renameat(parent, name, AT_FDCWD, destination) == 0 { return true }
        if errno == ENOENT {
            // The destination's directory does not exist yet (once per day and quarantine).
            try makeDirectories(FilePath.directory(of: destination))
            if renameat(parent, name, AT_FDCWD, destination) == 0 { return true }
        }
        guard errno == EXDEV else { throw .failed(operation: "rename into the quarantine", errno: errno) }
        try makeDirectories(FilePath.directory(of: destination))
        try copy(parent, name, to: destination)
        guard unlinkat(parent, name, 0) == 0 else {
            let code = errno
            // The file stays where it was, and the queue will try again: no second copy left behind.
            _ = Glibc.unlink(destination)
            throw .failed(operation: "unlink after copying into the quarantine", errno: code)
        }
        return true
    }

    /// Unlinks a file after checking it is still the file `expected` identifies. Returns false
    /// when the file was already gone.
    public func unlink(_ path: String, expected: Identity) throws(RemovalError) -> Bool {
        guard let (parent, name) = try openStill(path, expected) else { return false }
        defer { close(parent) }
        guard unlinkat(parent, name, 0) == 0 else { throw .failed(operation: "unlink", errno: errno) }
        return true
    }

    /// The name a file is set aside under, in its own directory, while the janitor removes it
    /// with quarantine off: hidden, and the queue item's id keeps it unique.
    public static func asideName(forItem id: Int64) -> String { asidePrefix + String(id) + asideSuffix }

    private static let asidePrefix = ".media-janitor-", asideSuffix = ".removing"

    /// Whether a file name is one `asideName` makes: such a file is in the middle of its
    /// removal, so a walk of the tree does not list it.
    public static func isAsideName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let prefix = asidePrefix.utf8, suffix = asideSuffix.utf8
        guard name.count > prefix.count + suffix.count, name.starts(with: prefix), name.reversed().starts(with: suffix.reversed()) else { return false }
        return name[prefix.count..<(name.count - suffix.count)].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Renames a file to `aside` (a name in its own directory) after checking that it is still
    /// the file `expected` identifies: to the app the file is gone, yet a rename on one
    /// directory can still be undone. Returns false when the file was already gone.
    public func setAside(_ path: String, expected: Identity, as aside: String) throws(RemovalError) -> Bool {
        guard let (parent, name) = try openStill(path, expected) else { return false }
        defer { close(parent) }
        guard renameat(parent, name, parent, aside) == 0 else { throw .failed(operation: "rename aside before unlinking", errno: errno) }
        return true
    }

    /// Puts a file set aside back at its path; refuses to overwrite anything (link() never
    /// replaces a name). Returns false when nothing was set aside under `aside`.
    public func putBack(_ aside: String, to path: String) throws(RemovalError) -> Bool {
        let (parentFD, name) = try openParent(path, create: false)
        guard let parent = parentFD else { return false }
        defer { close(parent) }
        guard linkat(parent, aside, parent, name, 0) == 0 else {
            if errno == ENOENT { return false }
            if errno == EEXIST { throw .refused("'\(path)' exists again; the file set aside was not put back over it") }
            throw .failed(operation: "link back the file set aside", errno: errno)
        }
        _ = unlinkat(parent, aside, 0)
        return true
    }

    /// Unlinks a file set aside next to `path`. Returns false when it was not there.
    public func discard(_ aside: String, nextTo path: String) throws(RemovalError) -> Bool {
        let (parentFD, _) = try openParent(path, create: false)
        guard let parent = parentFD else { return false }
        defer { close(parent) }
        guard unlinkat(parent, aside, 0) == 0 else {
            if errno == ENOENT { return false }
            throw .failed(operation: "unlink", errno: errno)
        }
        return true
    }

    /// Removes the emptied directories above a removed file, deepest first, stopping at the
    /// first that is not empty and never removing the media root or a directory in `keep`.
    public func removeEmptyParents(of path: String, keep: Set<String>) {
        var directory = FilePath.directory(of: path)
        while directory != "." && !directory.isEmpty && !keep.contains(directory) {
            guard let (parentFD, name) = try? openParent(directory, create: false), let parent = parentFD else { return }
            let removed = unlinkat(parent, name, AT_REMOVEDIR) == 0
            close(parent)
            guard removed else { return }
            directory = FilePath.directory(of: directory)
        }
    }

    /// Puts a quarantined file back at its root-relative path; refuses to overwrite anything.
    public func restore(from quarantined: String, to path: String) throws(RemovalError) {
        let (parentFD, name) = try openParent(path, create: true)
        guard let parent = parentFD else { throw .failed(operation: "open the parent directory", errno: ENOENT) }
        defer { close(parent) }
        var info = stat()
        if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            throw .refused("'\(path)' exists again; move it away first, or restore elsewhere by hand")
        }
        // link() never replaces an existing name, so a file that appeared meanwhile is kept.
        if linkat(AT_FDCWD, quarantined, parent, name, 0) == 0 {
            _ = Glibc.unlink(quarantined)
            return
        }
        if errno == EEXIST { throw .refused("'\(path)' exists again; move it away first, or restore elsewhere by hand") }
        guard errno == EXDEV else { throw .failed(operation: "link back from the quarantine", errno: errno) }
        let source = open(quarantined, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard source >= 0 else { throw .failed(operation: "open the quarantined file", errno: errno) }
        defer { close(source) }
        let target = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard target >= 0 else {
            if errno == EEXIST { throw .refused("'\(path)' exists again; move it away first") }
            throw .failed(operation: "create the restored file", errno: errno)
        }
        defer { close(target) }
        try pump(source, target)
        _ = Glibc.unlink(quarantined)
    }

    // MARK: Safe path walking

    /// Opens the directory that holds the last component, component by component with
    /// `O_NOFOLLOW`; nil when a directory on the way does not exist (and `create` is false).
    private func openParent(_ path: String, create: Bool) throws(RemovalError) -> (Int32?, String) {
        guard case .valid(let clean) = PathRules.normalise(path, mediaRoot: root), clean == path else {
            throw .refused("'\(path)' is not a clean path relative to media_root")
        }
        var components = clean.split(separator: "/").map(String.init)
        let name = components.removeLast()
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .failed(operation: "open media_root", errno: errno) }
        for component in components {
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, create {
                if mkdirat(fd, component, 0o755) != 0, errno != EEXIST {
                    let code = errno
                    close(fd)
                    throw .failed(operation: "create directory '\(component)'", errno: code)
                }
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let code = errno
            close(fd)
            if next < 0 {
                if code == ENOENT { return (nil, name) }
                if code == ELOOP || code == ENOTDIR { throw .refused("'\(path)' has a symlink or a file where a directory should be ('\(component)')") }
                throw .failed(operation: "open directory '\(component)'", errno: code)
            }
            fd = next
        }
        return (fd, name)
    }

    /// Opens the parent directory of a file that must still be the one `expected` identifies;
    /// nil when the file is gone. The caller closes the descriptor.
    private func openStill(_ path: String, _ expected: Identity) throws(RemovalError) -> (parent: Int32, name: String)? {
        let (parentFD, name) = try openParent(path, create: false)
        guard let parent = parentFD else { return nil }
        let identity: Identity?
        do throws(RemovalError) {
            identity = try lstatRegular(parent, name, path)
        } catch {
            close(parent)
            throw error
        }
        guard let identity else {
            close(parent)
            return nil
        }
        guard identity.isSameFile(as: expected) else {
            close(parent)
            throw .refused("'\(path)' was replaced by another file since it was queued")
        }
        return (parent, name)
    }

    private func lstatRegular(_ parent: Int32, _ name: String, _ path: String) throws(RemovalError) -> Identity? {
        var info = stat()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw .failed(operation: "lstat", errno: errno)
        }
        let mode = info.st_mode & S_IFMT
        guard mode == S_IFREG else {
            throw .refused("'\(path)' is \(mode == S_IFLNK ? "a symlink" : mode == S_IFDIR ? "a directory" : "not a regular file"); only regular files are removed")
        }
        let changeTime = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        return Identity(device: Int64(info.st_dev), inode: Int64(info.st_ino), bytes: Int64(info.st_size), changeTime: changeTime)
    }

    private func makeDirectories(_ directory: String) throws(RemovalError) {
        var path = ""
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0, errno != EEXIST { throw .failed(operation: "create quarantine directory '\(path)'", errno: errno) }
        }
    }

    /// Copies to `destination.partial`, syncs, and renames into place, so a crash never
    /// leaves a truncated file under the final name.
    private func copy(_ parent: Int32, _ name: String, to destination: String) throws(RemovalError) {
        let source = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard source >= 0 else { throw .failed(operation: "open for copying", errno: errno) }
        defer { close(source) }
        let partial = destination + ".partial"
        let target = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard target >= 0 else { throw .failed(operation: "create in the quarantine", errno: errno) }
        do throws(RemovalError) {
            try pump(source, target)
            guard fsync(target) == 0 else { throw RemovalError.failed(operation: "fsync in the quarantine", errno: errno) }
        } catch {
            close(target)
            _ = Glibc.unlink(partial)
            guard case .failed(let operation, let code) = error else { throw error }
            throw .failed(operation: "copy into the quarantine (\(operation))", errno: code)
        }
        close(target)
        guard rename(partial, destination) == 0 else { throw .failed(operation: "rename in the quarantine", errno: errno) }
        let directory = open(FilePath.directory(of: destination), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private func pump(_ source: Int32, _ target: Int32) throws(RemovalError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failed(operation: "read", errno: errno)
            }
            if count == 0 { return }
            var written = 0
            while written < count {
                let n = buffer.withUnsafeBytes { write(target, $0.baseAddress! + written, count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .failed(operation: "write", errno: errno)
                }
                written += n
            }
        }
    }
}
