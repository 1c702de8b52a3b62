import JanitorCore

/// What can go wrong reading the disk or the app's database. Each case says what to fix.
public enum SourceError: Error, Sendable, CustomStringConvertible {
    /// The media root does not exist or is not a directory (a configuration error).
    case mediaRootMissing(String, reason: String)
    /// An I/O failure.
    case io(path: String, operation: String, reason: String)
    /// The SQLite file named by `database` does not exist (a configuration error).
    case databaseMissing(String)
    /// The database could not be opened or read (a runtime error).
    case database(location: String, reason: String)
    /// A configured table or column is not there (a configuration error).
    case schema([Diagnostic])
    /// This build cannot read this kind of database yet.
    case unsupported(String)
    /// An archived row cannot go back into the app's table.
    case restore(table: String, key: String, problem: String)

    /// Whether the error is the user's configuration (exit 2) rather than the world (exit 3).
    public var isConfiguration: Bool {
        switch self {
        case .mediaRootMissing, .databaseMissing, .schema, .unsupported: true
        case .io, .database, .restore: false
        }
    }

    /// The message the user reads.
    public var description: String {
        switch self {
        case .mediaRootMissing(let path, let reason):
            "media_root '\(path)' cannot be used: \(reason); check 'media_root' in the config (it is relative to the config file)"
        case .io(let path, let operation, let reason):
            "\(operation) '\(path)' failed: \(reason)"
        case .databaseMissing(let path):
            "the app database 'sqlite:\(path)' does not exist; check 'database' in the config (relative paths are relative to the config file)"
        case .database(let location, let reason):
            "cannot read the app database '\(location)': \(reason)"
        case .schema(let diagnostics):
            diagnostics.map(\.description).joined(separator: "\n")
        case .unsupported(let what):
            what
        case .restore(let table, let key, let problem):
            "cannot restore \(table) key \(key): \(problem)"
        }
    }
}
