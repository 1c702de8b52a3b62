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

    /// Creates a finder.
    public init(root: String) { self.root = root }

    /// Existing regular files matching any pattern instantiated for `parent`, sorted. A pattern
    /// whose directory part is literal lists that one directory; otherwise the tree below its
    /// literal part is walked. Symlinks are never followed.
    public func existing(for parent: String, patterns: [DerivativePattern]) -> [String] {
        var found = Set<String>()
        for pattern in patterns {
            guard let glob = pattern.glob(for: parent) else { continue }
            let text = glob.pattern
            let slash = text.lastIndex(of: "/")
            let directoryPart = slash.map { String(text[..<$0]) } ?? ""
            let literal = !directoryPart.contains(where: { "*?[".contains($0) })
            let start = literal ? directoryPart : (glob.literalDirectory ?? "")
            guard let listing = try? DiskWalker(root: start.isEmpty ? root : root + "/" + start).walk(recursive: !literal) else { continue }
            for index in 0..<listing.count where listing.kinds[index] == .regular {
                let path = start.isEmpty ? listing.paths[index] : start + "/" + listing.paths[index]
                if path != parent, glob.matches(path) { found.insert(path) }
            }
        }
        return found.sorted()
    }
}
