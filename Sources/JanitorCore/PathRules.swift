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
        // Every check is on UTF-8 bytes, as the kernel reads a path: `/` followed by a combining
        // mark is one Swift `Character` that is not "/" (so `split`, `hasPrefix` and `contains`
        // on Characters miss it), yet a separator on disk: `../\u{301}etc` would escape the root.
        let slash = UInt8(ascii: "/")
        if value.utf8.contains(0) { return .invalid(reason: "contains a NUL byte", protecting: nil) }
        if value.utf8.firstRange(of: "://".utf8) != nil { return .invalid(reason: "a URL, not a path under media_root", protecting: nil) }
        let posix = value.utf8.contains(UInt8(ascii: "\\")) ? value.replacingBackslashes() : value
        let bytes = Array(posix.utf8)
        if isDrivePath(bytes) { return .invalid(reason: "an absolute Windows path", protecting: nil) }
        if bytes.first == slash {
            var inside: String?
            if let rest = belowRoot(bytes[...], mediaRoot: mediaRoot), case .valid(let relative) = resolve(rest) {
                inside = relative
            }
            return .invalid(reason: "absolute path; stored paths are relative to media_root", protecting: inside)
        }
        if bytes.last == slash { return .invalid(reason: "names a directory, not a file", protecting: nil) }
        if bytes.split(separator: slash).contains(where: { $0.elementsEqual("..".utf8) }) {
            switch resolve(bytes[...]) {
            case .valid(let inside):
                return .invalid(reason: "contains '..'", protecting: inside)
            case .invalid(let reason, _):
                return .invalid(reason: reason, protecting: nil)
            }
        }
        let outcome = resolve(bytes[...])
        // `./C:/a.jpg` resolves to `C:/a.jpg`, refused as a Windows path: refuse both, so that
        // normalising a valid result gives it back.
        if case .valid(let path) = outcome, isDrivePath(Array(path.utf8)) {
            return .invalid(reason: "an absolute Windows path", protecting: nil)
        }
        return outcome
    }

    /// `C:/...`: a drive letter, a colon and a slash.
    static func isDrivePath(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[1] == UInt8(ascii: ":") && bytes[2] == UInt8(ascii: "/")
            && ((0x41...0x5A).contains(bytes[0]) || (0x61...0x7A).contains(bytes[0]))
    }

    /// Drops empty and `.` components and resolves `..`; fails when the path leaves the root.
    static func resolve(_ path: ArraySlice<UInt8>) -> Outcome {
        guard let resolved = resolvedBytes(path) else { return .invalid(reason: "escapes media_root", protecting: nil) }
        guard !resolved.isEmpty else { return .invalid(reason: "empty path", protecting: nil) }
        // Cut only at ASCII `/`, so the bytes are still the UTF-8 of the value.
        return .valid(String(decoding: resolved, as: UTF8.self))
    }

    /// `resolve` on bytes of any encoding: the components joined by `/`, empty when none is
    /// left; nil when `..` leaves the root.
    static func resolvedBytes(_ path: ArraySlice<UInt8>) -> [UInt8]? {
        var stack: [ArraySlice<UInt8>] = []
        for component in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if component.elementsEqual(".".utf8) { continue }
            if component.elementsEqual("..".utf8) {
                guard !stack.isEmpty else { return nil }
                stack.removeLast()
                continue
            }
            stack.append(component)
        }
        return Array(stack.joined(separator: [UInt8(ascii: "/")]))
    }

    /// What follows the media root in an absolute path, or nil when the path is not below it.
    static func belowRoot(_ bytes: ArraySlice<UInt8>, mediaRoot: String) -> ArraySlice<UInt8>? {
        let slash = UInt8(ascii: "/")
        let root = Array(mediaRoot.utf8).last == slash ? Array(mediaRoot.utf8) : Array(mediaRoot.utf8) + [slash]
        return bytes.starts(with: root) ? bytes.dropFirst(root.count) : nil
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
