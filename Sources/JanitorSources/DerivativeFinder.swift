#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JanitorCore

/// Finds the derivatives of a file that exist on disk, for removal with their parent.
public struct DerivativeFinder: Sendable {
    /// The absolute media root.
    public let root: String
    /// Regular files per listed directory (root-relative paths), so that a batch of events
    /// in one directory lists it once.
    private var listings: [String: [String]] = [:]

    /// Creates a finder.
    public init(root: String) { self.root = root }

    /// Existing regular files matching any pattern instantiated for `parent`, sorted. A pattern
    /// whose directory part is literal lists that one directory; otherwise the tree below its
    /// literal part is walked. Symlinks are never followed.
    public mutating func existing(for parent: String, patterns: [DerivativePattern]) -> [String] {
        var found = Set<String>()
        for pattern in patterns {
            guard let glob = pattern.glob(for: parent) else { continue }
            let text = glob.pattern
            let slash = text.lastIndex(of: "/")
            let directoryPart = slash.map { String(text[..<$0]) } ?? ""
            let literal = !directoryPart.contains(where: { "*?[".contains($0) })
            let start = literal ? directoryPart : (glob.literalDirectory ?? "")
            for path in files(under: start, recursive: !literal) where path != parent && glob.matches(path) {
                found.insert(path)
            }
        }
        return found.sorted()
    }

    private mutating func files(under directory: String, recursive: Bool) -> [String] {
        let key = (recursive ? "R:" : "D:") + directory
        if let cached = listings[key] { return cached }
        var paths: [String] = []
        if let listing = try? DiskWalker(root: directory.isEmpty ? root : root + "/" + directory).walk(recursive: recursive) {
            for index in 0..<listing.count where listing.kinds[index] == .regular {
                paths.append(directory.isEmpty ? listing.paths[index] : directory + "/" + listing.paths[index])
            }
        }
        listings[key] = paths
        return paths
    }
}
