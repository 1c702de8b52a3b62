/// Root-relative POSIX paths as the watcher reports them: no leading or trailing slash, "" for the root.
enum WatchPath {
    /// `directory/name`, or `name` at the root.
    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    /// The absolute path of `relative` under `root` (an absolute path without a trailing slash).
    static func absolute(root: String, _ relative: String) -> String {
        if relative.isEmpty { return root }
        return root == "/" ? "/" + relative : root + "/" + relative
    }

    /// Whether `path` is `subtree` itself or lies below it.
    static func isWithin(_ path: String, subtree: String) -> Bool {
        subtree.isEmpty || path == subtree || path.hasPrefix(subtree + "/")
    }

    /// `relative` with `./`, empty components and trailing slashes removed; nil when it is absolute or climbs with `..`.
    static func normalised(_ relative: String) -> String? {
        if relative.hasPrefix("/") { return nil }
        var components: [Substring] = []
        for component in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { return nil }
            components.append(component)
        }
        return components.joined(separator: "/")
    }

    /// `subtrees` without duplicates and without any that lie inside another, in a stable order.
    static func outermost(_ subtrees: [String]) -> [String] {
        let unique = Array(Set(subtrees)).sorted()
        return unique.filter { candidate in
            !unique.contains { other in other != candidate && isWithin(candidate, subtree: other) }
        }
    }
}
