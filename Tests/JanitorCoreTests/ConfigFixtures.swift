import JanitorCore

/// Loads configs from an in-memory file system rooted at `/app`.
struct InMemoryConfig {
    var files: [String: String]

    init(_ main: String, extra: [String: String] = [:]) {
        files = ["/app/janitor.yml": main]
        for (path, text) in extra { files["/app/" + path] = text }
    }

    func load(environment: [String: String] = [:]) -> ConfigLoadResult {
        let files = self.files
        let source = ConfigFiles(
            read: { path in
                guard let text = files[path] else { throw Missing(path: path) }
                return text
            },
            glob: { directory, pattern in
                guard let glob = try? Glob(pattern) else { return [] }
                return files.keys.filter { $0.hasPrefix(directory + "/") && glob.matches(String($0.dropFirst(directory.count + 1))) }.sorted()
            })
        return ConfigLoader(files: source, environment: environment).load(path: "janitor.yml", currentDirectory: "/app")
    }

    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String { "no such file '\(path)'" }
    }
}

/// A small valid config; tests change one line of it.
let minimalConfig = """
    version: 1
    media_root: media
    database: sqlite:app.sqlite3
    classes:
      avatars:
        paths: ["avatars/**"]
        references:
          - {table: accounts_user, column: avatar, key: id}
    """
