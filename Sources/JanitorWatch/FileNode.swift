#if canImport(Glibc)
import Glibc
#endif

/// A directory's identity; the kernel keeps one inotify watch per inode.
struct InodeKey: Hashable {
    let device: UInt64
    let inode: UInt64
}

/// What lstat says about one path. Symlinks are never followed: a symlink is `.symlink`, whatever it points to.
struct FileNode {
    enum Kind {
        case directory
        case regularFile
        case symlink
        case other
    }

    let kind: Kind
    let bytes: Int64
    let key: InodeKey

    /// lstat of an absolute path; nil when it does not exist (any more).
    init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// fstatat without following symlinks, relative to an open directory.
    init?(directory: Int32, name: UnsafePointer<CChar>) {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        self.init(info)
    }

    private init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .regularFile
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        bytes = Int64(info.st_size)
        key = InodeKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// One entry of a directory listing.
struct DirectoryEntry {
    /// The entry's name, or nil when it is not valid UTF-8 (the watcher cannot report such a path).
    let name: String?
    /// The raw name as the kernel gave it, for log lines.
    let rawName: String
    let node: FileNode?
}

/// Lists `path` without following a symlink that replaced it; returns 0, or the errno that kept it from being opened.
/// Entries whose type the directory already tells (a symlink, a socket) are skipped without a stat.
func listDirectory(_ path: String, _ visit: (DirectoryEntry) -> Void) -> Int32 {
    let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard descriptor >= 0 else { return errno }
    guard let stream = fdopendir(descriptor) else {
        let code = errno
        close(descriptor)
        return code
    }
    defer { closedir(stream) }
    while let entry = readdir(stream) {
        let type = Int32(entry.pointee.d_type)
        withUnsafePointer(to: &entry.pointee.d_name) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { name in
                if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { return }
                let node: FileNode?
                switch type {
                case Int32(DT_DIR), Int32(DT_REG), Int32(DT_UNKNOWN):
                    node = FileNode(directory: descriptor, name: name)
                default:
                    return
                }
                visit(DirectoryEntry(name: String(validatingCString: name), rawName: String(cString: name), node: node))
            }
        }
    }
    return 0
}
