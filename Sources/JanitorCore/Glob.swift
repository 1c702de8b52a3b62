/// A path glob relative to the media root: `*` (within one segment), `**` (any number of
/// segments), `?` (one byte but `/`) and `[abc]`/`[a-z]`/`[!a]` classes. Matching is on
/// bytes, so names that are not UTF-8 still match.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case literal([UInt8])
        case star
        /// `**/`: zero or more whole segments.
        case anySegments
        /// `**` at the end or next to other text: anything, slashes included.
        case anything
        case one
        case set(negated: Bool, ranges: [ClosedRange<UInt8>])
    }

    /// The pattern as written.
    public let pattern: String
    let tokens: [Token]
    /// The literal bytes every match starts with, checked first.
    let prefix: [UInt8]

    /// Why a pattern cannot be compiled.
    public enum CompileError: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case absolute
        case unclosedBracket
        case braces
        case parentSegment

        public var description: String {
            switch self {
            case .empty: "a glob cannot be empty"
            case .absolute: "globs are relative to media_root; remove the leading '/'"
            case .unclosedBracket: "'[' has no closing ']'"
            case .braces: "'{a,b}' alternatives are not supported; list each pattern separately"
            case .parentSegment: "'..' cannot appear in a glob: classes live inside media_root"
            }
        }
    }

    /// Compiles a pattern.
    public init(_ pattern: String) throws(CompileError) {
        self.pattern = pattern
        let bytes = Array(pattern.utf8)
        guard !bytes.isEmpty else { throw .empty }
        guard bytes[0] != UInt8(ascii: "/") else { throw .absolute }
        if bytes.contains(UInt8(ascii: "{")) { throw .braces }
        // On bytes: `../\u{301}x` splits into no `..` Character-wise, but walks out of the root.
        if bytes.split(separator: UInt8(ascii: "/")).contains(where: { $0.elementsEqual("..".utf8) }) { throw .parentSegment }
        var tokens: [Token] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)); literal = [] }
        }
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "*"):
                flush()
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") {
                    let atSegmentStart = i == 0 || bytes[i - 1] == UInt8(ascii: "/")
                    if atSegmentStart, i + 2 < bytes.count, bytes[i + 2] == UInt8(ascii: "/") {
                        tokens.append(.anySegments)
                        i += 3
                    } else {
                        tokens.append(.anything)
                        i += 2
                    }
                } else {
                    tokens.append(.star)
                    i += 1
                }
            case UInt8(ascii: "?"):
                flush()
                tokens.append(.one)
                i += 1
            case UInt8(ascii: "["):
                flush()
                var j = i + 1
                var negated = false
                if j < bytes.count, bytes[j] == UInt8(ascii: "!") || bytes[j] == UInt8(ascii: "^") {
                    negated = true
                    j += 1
                }
                var ranges: [ClosedRange<UInt8>] = []
                var first = true
                while j < bytes.count, bytes[j] != UInt8(ascii: "]") || first {
                    first = false
                    let low = bytes[j]
                    if j + 2 < bytes.count, bytes[j + 1] == UInt8(ascii: "-"), bytes[j + 2] != UInt8(ascii: "]") {
                        let high = bytes[j + 2]
                        ranges.append(min(low, high)...max(low, high))
                        j += 3
                    } else {
                        ranges.append(low...low)
                        j += 1
                    }
                }
                guard j < bytes.count else { throw .unclosedBracket }
                tokens.append(.set(negated: negated, ranges: ranges))
                i = j + 1
            default:
                literal.append(byte)
                i += 1
            }
        }
        flush()
        self.tokens = tokens
        if case .literal(let bytes)? = tokens.first { prefix = bytes } else { prefix = [] }
    }

    /// The pattern as written.
    public var description: String { pattern }

    /// The directory part every match lies under (`profile_pics` for `profile_pics/**`), if any.
    public var literalDirectory: String? {
        guard let slash = prefix.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(decoding: prefix[..<slash], as: UTF8.self)
    }

    /// Whether a root-relative path matches.
    public func matches(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { matches($0) }
    }

    /// Whether a root-relative path, as bytes, matches.
    public func matches(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard path.count >= prefix.count else { return false }
        for i in 0..<prefix.count where path[i] != prefix[i] { return false }
        return match(tokenIndex: 0, path: path, at: 0)
    }

    private func match(tokenIndex: Int, path: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        var t = tokenIndex
        var p = start
        let slash = UInt8(ascii: "/")
        while t < tokens.count {
            switch tokens[t] {
            case .literal(let bytes):
                guard path.count - p >= bytes.count else { return false }
                for k in 0..<bytes.count where path[p + k] != bytes[k] { return false }
                p += bytes.count
                t += 1
            case .one:
                guard p < path.count, path[p] != slash else { return false }
                p += 1
                t += 1
            case .set(let negated, let ranges):
                guard p < path.count, path[p] != slash else { return false }
                let hit = ranges.contains { $0.contains(path[p]) }
                guard hit != negated else { return false }
                p += 1
                t += 1
            case .star:
                if t == tokens.count - 1 {
                    // Trailing `*`: the rest must be one segment.
                    return !path[p...].contains(slash)
                }
                var q = p
                while true {
                    if match(tokenIndex: t + 1, path: path, at: q) { return true }
                    guard q < path.count, path[q] != slash else { return false }
                    q += 1
                }
            case .anything:
                if t == tokens.count - 1 { return p < path.count || p > 0 }
                for q in p...path.count where match(tokenIndex: t + 1, path: path, at: q) { return true }
                return false
            case .anySegments:
                // Zero segments, or skip up to and including each later `/`.
                if match(tokenIndex: t + 1, path: path, at: p) { return true }
                var q = p
                while q < path.count {
                    if path[q] == slash, match(tokenIndex: t + 1, path: path, at: q + 1) { return true }
                    q += 1
                }
                return false
            }
        }
        return p == path.count
    }
}
