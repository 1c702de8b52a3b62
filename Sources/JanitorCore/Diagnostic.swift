/// Where in a file something was found: 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Codable {
    /// The file as the user named it (relative paths stay relative).
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// 1-based column number.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
}

/// One thing the user reads: a config error, a world check, a warning.
///
/// Rendered compiler-style:
/// `janitor.yml:12:5: error: unknown policy 'max_agee'; did you mean 'max_age'? [config.unknown-key]`
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How serious a diagnostic is.
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning, note
    }

    /// Error, warning or note.
    public var severity: Severity
    /// Where it was found, when it belongs to a place in a file.
    public var location: SourceLocation?
    /// What is wrong and how to fix it.
    public var message: String
    /// A stable identifier such as `config.unknown-key`, for scripts and documentation.
    public var id: String

    /// Creates a diagnostic.
    public init(_ severity: Severity, _ message: String, id: String, at location: SourceLocation? = nil) {
        self.severity = severity
        self.message = message
        self.id = id
        self.location = location
    }

    /// The compiler-style line.
    public var description: String {
        var prefix = ""
        if let location {
            prefix = "\(location.file):\(location.line):\(location.column): "
        }
        return "\(prefix)\(severity.rawValue): \(message) [\(id)]"
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
}

/// Suggests the closest candidate for a misspelled word, or nil when nothing is close.
public func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(word, candidate)
        let limit = max(1, min(3, candidate.count / 3 + 1))
        guard distance <= limit else { continue }
        if best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    return best?.0
}

/// Levenshtein distance over Unicode scalars.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
