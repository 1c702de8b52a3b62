#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JanitorCore

/// Walks the media root once: `getdents` through `readdir` and one `fstatat(AT_SYMLINK_NOFOLLOW)`
/// per entry, relative to an open directory descriptor. Symlinks are listed with their own
/// size and never followed; directories are opened with `O_NOFOLLOW`. Files the janitor set
/// aside while removing them (`SafeRemover.asideName`) are not listed.
public struct DiskWalker: Sendable {
    /// The absolute media root.
    public let root: String

    /// Creates a walker over a root.
    public init(root: String) { self.root = root }

    /// Walks the tree. An unreadable subdirectory is recorded in `Listing.unreadable` and the
    /// walk goes on; an unreadable root throws.
    ///
    /// With a `shard`, only the entries whose path belongs to it are listed, and an entry whose
    /// directory entry already says it is not a directory (`d_type`) is dropped without its
    /// `fstatat`: a shard of N costs the `getdents` of the whole tree but about 1/N of the stats.
    ///
    /// `progress` is told the entries listed and their bytes every `ProgressReporter.stride`
    /// entries, and once more with the totals at the end.
    public func walk(capacityHint: Int = 4096, recursive: Bool = true, shard: Shard? = nil, progress: ProgressReporter? = nil) throws(SourceError) -> Listing {
        var listing = Listing(capacity: capacityHint)
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR || code == ELOOP {
                throw .mediaRootMissing(root, reason: String(cString: strerror(code)))
            }
            let advice = code == EACCES || code == EPERM ? "; run the janitor as a user that may read the media files (README, Security)" : ""
            throw .io(path: root, operation: "reading media_root", reason: String(cString: strerror(code)) + advice)
        }
        var prefix: [UInt8] = []
        prefix.reserveCapacity(4096)
        var tally = progress.map { WalkTally(reporter: $0) }
        walkDirectory(fd, &prefix, &listing, recursive: recursive, shard: shard, &tally)
        tally?.report(listing)
        return listing
    }

    /// Reads one directory (and closes `fd`), appending entries under `prefix`.
    private func walkDirectory(_ fd: Int32, _ prefix: inout [UInt8], _ listing: inout Listing, recursive: Bool, shard: Shard?, _ tally: inout WalkTally?) {
        guard let directory = fdopendir(fd) else {
            close(fd)
            listing.unreadable.append((String(decoding: prefix, as: UTF8.self), String(cString: strerror(errno))))
            return
        }
        defer { closedir(directory) }
        let base = prefix.count
        // The shard hash of `prefix/`, continued over each entry's name.
        var directoryHash = Shard.offsetBasis
        if shard != nil, base > 0 {
            directoryHash = (prefix + [UInt8(ascii: "/")]).withUnsafeBufferPointer { Shard.hash($0) }
        }
        var info = stat()
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 {
                    listing.unreadable.append((String(decoding: prefix, as: UTF8.self), String(cString: strerror(errno))))
                }
                break
            }
            let type = entry.pointee.d_type
            // What to do with the entry: 0 skip, 1 descend into `child`, 2 list with `info`.
            var child: Int32 = -1
            let action: Int = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { cName in
                    let name = UnsafeRawPointer(cName).assumingMemoryBound(to: UInt8.self)
                    if name[0] == UInt8(ascii: "."), name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0) {
                        return 0
                    }
                    let nameBytes = UnsafeBufferPointer(start: name, count: strlen(cName))
                    // A file the janitor set aside while removing it (quarantine off) is not listed.
                    if name[0] == UInt8(ascii: "."), SafeRemover.isAsideName(nameBytes) { return 0 }
                    prefix.removeSubrange(base...)
                    if base > 0 { prefix.append(UInt8(ascii: "/")) }
                    prefix.append(contentsOf: nameBytes)
                    var isDirectory = type == UInt8(DT_DIR)
                    if !isDirectory {
                        let inShard = shard.map { $0.contains(hash: Shard.hash(nameBytes, continuing: directoryHash)) } ?? true
                        // Another shard's file, known from d_type: no stat needed.
                        if !inShard, type != UInt8(DT_UNKNOWN) { return 0 }
                        // Gone between readdir and stat: nothing to list.
                        guard fstatat(dirfd(directory), cName, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return 0 }
                        isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                        if !isDirectory, !inShard { return 0 }
                    }
                    guard isDirectory else { return 2 }
                    child = openat(dirfd(directory), cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if child < 0 {
                        if errno != ENOENT {
                            listing.unreadable.append((String(decoding: prefix, as: UTF8.self), String(cString: strerror(errno))))
                        }
                        return 0
                    }
                    return 1
                }
            }
            switch action {
            case 1:
                if recursive { walkDirectory(child, &prefix, &listing, recursive: true, shard: shard, &tally) } else { close(child) }
            case 2:
                let mode = info.st_mode & S_IFMT
                let kind: Listing.EntryKind = mode == S_IFREG ? .regular : mode == S_IFLNK ? .symlink : .other
                prefix.withUnsafeBufferPointer { path in
                    listing.append(path, size: Int64(info.st_size), mtime: Int64(info.st_mtim.tv_sec), kind: kind)
                }
                if tally != nil, ProgressReporter.isDue(listing.count) { tally!.report(listing) }
            default:
                continue
            }
        }
        prefix.removeSubrange(base...)
    }
}

/// The walk's totals for its `ProgressReporter`: the bytes of the entries listed since the last
/// report are summed at report time, so the loop itself adds nothing per entry.
private struct WalkTally {
    let reporter: ProgressReporter
    var counted = 0
    var bytes: Int64 = 0

    mutating func report(_ listing: Listing) {
        for index in counted..<listing.count { bytes += listing.sizes[index] }
        counted = listing.count
        reporter.report(counted, bytes, 0)
    }
}
