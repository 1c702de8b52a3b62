import Foundation

/// The rules that keep every path inside the media root (DESIGN section 6.1).
///
/// Stored values are normalised to root-relative POSIX paths before any comparison:
/// `./a//b.jpg` is `a/b.jpg`, and `a\b.jpg` is `a/b.jpg`. A value that cannot be a media path
/// is refused with a reason, and never used to delete.
public enum PathRules {
    /// The outcome of normalising a stored value.
    public enum Outcome: Sendable, Hashable {
        /// A root-relative path, safe to compare and to act on.
        case valid(String)
        /// Not a media path. `protecting` is the root-relative path it still points at, when it
        /// points inside the media root (an absolute path under the root, or `a/../b.jpg`): that
        /// file is kept, because a row names it, but the value is reported.
        case invalid(reason: String, protecting: String?)
    }

    /// Normalises a reference value.
    ///
    /// - Parameters:
    ///   - value: the column's value, not NULL and not empty.
    ///   - mediaRoot: the absolute, normalised media root, to recognise absolute values under it.
    public static func normalise(_ value: String, mediaRoot: String) -> Outcome {
        if value.utf8.contains(0) { return .invalid(reason: "contains a NUL byte", protecting: nil) }
        if value.contains("://") { return .invalid(reason: "a URL, not a path under media_root", protecting: nil) }
        let posix = value.contains("\\") ? value.replacingBackslashes() : value
        let head = Array(posix.utf8.prefix(3))
        let isDrivePath = head.count == 3 && head[1] == UInt8(ascii: ":") && head[2] == UInt8(ascii: "/")
            && ((0x41...0x5A).contains(head[0]) || (0x61...0x7A).contains(head[0]))
        if isDrivePath { return .invalid(reason: "an absolute Windows path", protecting: nil) }
        if posix.hasPrefix("/") {
            let root = mediaRoot.hasSuffix("/") ? mediaRoot : mediaRoot + "/"
            var inside: String?
            if posix.hasPrefix(root), case .valid(let relative) = resolve(String(posix.dropFirst(root.count))) {
                inside = relative
            }
            return .invalid(reason: "absolute path; stored paths are relative to media_root", protecting: inside)
        }
        if posix.hasSuffix("/") { return .invalid(reason: "names a directory, not a file", protecting: nil) }
        let components = posix.split(separator: "/", omittingEmptySubsequences: true)
        if components.contains("..") {
            switch resolve(posix) {
            case .valid(let inside):
                return .invalid(reason: "contains '..'", protecting: inside)
            case .invalid(let reason, _):
                return .invalid(reason: reason, protecting: nil)
            }
        }
        return resolve(posix)
    }

    /// Drops empty and `.` components and resolves `..`; fails when the path leaves the root.
    static func resolve(_ path: String) -> Outcome {
        var stack: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                guard !stack.isEmpty else { return .invalid(reason: "escapes media_root", protecting: nil) }
                stack.removeLast()
            default: stack.append(component)
            }
        }
        guard !stack.isEmpty else { return .invalid(reason: "empty path", protecting: nil) }
        return .valid(stack.joined(separator: "/"))
    }

    /// Checks a path given on the command line or in an event: it must already be relative,
    /// inside the root, and free of `..` and NUL. Returns the normalised path or the reason.
    public static func checkedRelativePath(_ value: String, mediaRoot: String) -> Result<String, PathRuleError> {
        switch normalise(value, mediaRoot: mediaRoot) {
        case .valid(let path): .success(path)
        case .invalid(let reason, _): .failure(PathRuleError(value: value, reason: reason))
        }
    }
}

/// A path refused by the path rules.
public struct PathRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The value as given.
    public var value: String
    /// Why it was refused.
    public var reason: String

    /// Creates the error.
    public init(value: String, reason: String) {
        self.value = value
        self.reason = reason
    }

    /// The message the user reads.
    public var description: String {
        "path '\(value.replacingOccurrences(of: "\0", with: "\\0"))' refused: \(reason); give a path relative to media_root with no '..'"
    }
}

extension String {
    fileprivate func replacingBackslashes() -> String {
        String(decoding: utf8.map { $0 == UInt8(ascii: "\\") ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
    }
}
