/// A file that belongs to a parent file, such as a thumbnail: `{dir}/thumbs/{stem}_*.{ext}`.
///
/// Placeholders: `{dir}` the parent's directory (empty at the media root), `{stem}` its name
/// without the last extension, `{ext}` that extension, `{name}` the whole file name; `*` is
/// any text within one segment. A derivative belongs to its parent: it is referenced while
/// the parent is, and goes with it.
public struct DerivativePattern: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case literal([UInt8])
        /// `{dir}/`: zero or more whole segments.
        case directory
        case stem
        case ext
        case name
        case star
    }

    /// The parent a derivative points back at.
    public enum Parent: Sendable, Hashable {
        /// The parent's full path.
        case path(String)
        /// The parent's directory and stem (`a/b` for `a/b.jpg`) when the pattern has no `{ext}`.
        case stem(String)
    }

    /// The pattern as written.
    public let pattern: String
    let tokens: [Token]
    /// Whether the parent is found by stem only (no `{ext}` and no `{name}`).
    public let matchesByStem: Bool

    /// Why a derivative pattern cannot be compiled.
    public enum CompileError: Error, Sendable, Hashable, CustomStringConvertible {
        case unknownPlaceholder(String, suggestion: String?)
        case needsDirectory
        case needsStemOrName
        case directoryNotASegment
        case unclosedPlaceholder
        /// An empty, `.` or `..` segment: the pattern would name a place that no cleaned path
        /// has, so it would never match and its files would be orphans.
        case segmentNotAName(String)

        public var description: String {
            switch self {
            case .unknownPlaceholder(let name, let suggestion):
                "unknown placeholder '{\(name)}'" + (suggestion.map { "; did you mean '{\($0)}'?" } ?? "; use {dir}, {stem}, {ext} or {name}")
            case .needsDirectory: "a derivative pattern starts from its parent's directory: begin it with '{dir}/'"
            case .needsStemOrName: "a derivative pattern must contain '{stem}' or '{name}' to name its parent"
            case .directoryNotASegment: "'{dir}' must be followed by '/'"
            case .unclosedPlaceholder: "'{' has no closing '}'"
            case .segmentNotAName(let segment):
                segment.isEmpty
                    ? "a derivative pattern has an empty segment ('//', or '/' at its start or end): write one '/' between names"
                    : "a derivative pattern cannot step with '\(segment)': derivatives live in or below their parent's directory; name the directory instead"
            }
        }
    }

    /// Compiles a pattern.
    public init(_ pattern: String) throws(CompileError) {
        self.pattern = pattern
        let bytes = Array(pattern.utf8)
        var tokens: [Token] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)); literal = [] }
        }
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                guard let close = bytes[i...].firstIndex(of: UInt8(ascii: "}")) else { throw .unclosedPlaceholder }
                flush()
                let name = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                switch name {
                case "dir":
                    guard close + 1 < bytes.count, bytes[close + 1] == UInt8(ascii: "/") else {
                        throw .directoryNotASegment
                    }
                    tokens.append(.directory)
                    i = close + 2
                    continue
                case "stem": tokens.append(.stem)
                case "ext": tokens.append(.ext)
                case "name": tokens.append(.name)
                default:
                    throw .unknownPlaceholder(name, suggestion: didYouMean(name, in: ["dir", "stem", "ext", "name"]))
                }
                i = close + 1
            case UInt8(ascii: "*"):
                flush()
                tokens.append(.star)
                i += 1
            default:
                literal.append(bytes[i])
                i += 1
            }
        }
        flush()
        guard tokens.contains(.directory) else { throw .needsDirectory }
        // Paths are cleaned before they are matched, so these segments could never match.
        for segment in pattern.split(separator: "/", omittingEmptySubsequences: false) where ["", ".", ".."].contains(segment) {
            throw .segmentNotAName(String(segment))
        }
        guard tokens.contains(.stem) || tokens.contains(.name) else { throw .needsStemOrName }
        self.tokens = tokens
        matchesByStem = !tokens.contains(.name) && !tokens.contains(.ext)
    }

    /// The pattern as written.
    public var description: String { pattern }

    /// Every parent the path could be a derivative of (a path can match a pattern in more
    /// than one way: `a_b_64x64.jpg` against `{stem}_*.{ext}` has stems `a` and `a_b`).
    public func parents(of path: UnsafeBufferPointer<UInt8>) -> [Parent] {
        var results: [Parent] = []
        var bindings = Bindings()
        collect(0, path, 0, &bindings, &results)
        return results
    }

    /// `parents(of:)` for a string path.
    public func parents(of path: String) -> [Parent] {
        var path = path
        return path.withUTF8 { parents(of: $0) }
    }

    /// A glob that lists this pattern's derivatives of a parent path (for removal).
    public func glob(for parent: String) -> Glob? {
        let slash = parent.lastIndex(of: "/")
        let directory = slash.map { String(parent[..<$0]) } ?? ""
        let name = slash.map { String(parent[parent.index(after: $0)...]) } ?? parent
        let dot = name.lastIndex(of: ".")
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[name.index(after: $0)...]) } ?? ""
        if tokens.contains(.ext), ext.isEmpty { return nil }
        var text = ""
        for token in tokens {
            switch token {
            case .literal(let bytes): text += Self.escaped(String(decoding: bytes, as: UTF8.self))
            case .directory: if !directory.isEmpty { text += Self.escaped(directory) + "/" }
            case .stem: text += Self.escaped(stem)
            case .ext: text += Self.escaped(ext)
            case .name: text += Self.escaped(name)
            case .star: text += "*"
            }
        }
        return try? Glob(text)
    }

    private static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "*", "?", "[", "]", "{", "}": out += "[\(character)]"
            default: out.append(character)
            }
        }
        return out
    }

    private struct Bindings {
        var directory: Range<Int>?
        var stem: Range<Int>?
        var ext: Range<Int>?
        var name: Range<Int>?
    }

    private func collect(
        _ t: Int, _ path: UnsafeBufferPointer<UInt8>, _ p: Int, _ bindings: inout Bindings, _ results: inout [Parent]
    ) {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard t < tokens.count else {
            if p == path.count, let parent = parent(from: bindings, path) { results.append(parent) }
            return
        }
        switch tokens[t] {
        case .literal(let bytes):
            guard path.count - p >= bytes.count else { return }
            for k in 0..<bytes.count where path[p + k] != bytes[k] { return }
            collect(t + 1, path, p + bytes.count, &bindings, &results)
        case .directory:
            // Zero segments, then each longer run of whole segments.
            bindings.directory = p..<p
            collect(t + 1, path, p, &bindings, &results)
            var q = p
            while q < path.count {
                if path[q] == slash {
                    bindings.directory = p..<q
                    collect(t + 1, path, q + 1, &bindings, &results)
                }
                q += 1
            }
            bindings.directory = nil
        case .stem, .name, .ext, .star:
            let token = tokens[t]
            var q = p
            if token == .star { collect(t + 1, path, q, &bindings, &results) }
            while q < path.count, path[q] != slash, !(token == .ext && path[q] == dot) {
                q += 1
                switch token {
                case .stem: bindings.stem = p..<q
                case .name: bindings.name = p..<q
                case .ext: bindings.ext = p..<q
                default: break
                }
                collect(t + 1, path, q, &bindings, &results)
            }
        }
    }

    private func parent(from bindings: Bindings, _ path: UnsafeBufferPointer<UInt8>) -> Parent? {
        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: path[range]), as: UTF8.self)
        }
        guard let directoryRange = bindings.directory else { return nil }
        let directory = text(directoryRange)
        let prefix = directory.isEmpty ? "" : directory + "/"
        if let name = bindings.name { return .path(prefix + text(name)) }
        guard let stem = bindings.stem else { return nil }
        if let ext = bindings.ext { return .path(prefix + text(stem) + "." + text(ext)) }
        return .stem(prefix + text(stem))
    }
}
