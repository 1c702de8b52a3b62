import Yams

/// A YAML mapping's entries in file order, looked up by key.
struct Fields {
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    var entries: [Entry]

    subscript(key: String) -> Entry? { entries.first { $0.key == key } }
}

extension Node {
    /// The scalar's text, or a short description of the node for messages.
    var scalarText: String {
        switch self {
        case .scalar(let scalar): scalar.string
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// What kind of YAML value this is, for "expected X, found Y" messages.
    var kindName: String {
        switch self {
        case .scalar(let scalar): scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) ? "null" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// Reads typed values out of YAML nodes and records a diagnostic, with its line and column,
/// for everything that is not what the config format expects.
struct NodeReader {
    let file: String
    let environment: [String: String]
    var diagnostics: [Diagnostic] = []

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    func location(_ node: Node?) -> SourceLocation? {
        guard let mark = node?.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    mutating func error(_ message: String, id: String, at node: Node?) {
        diagnostics.append(Diagnostic(.error, message, id: id, at: location(node)))
    }

    mutating func warning(_ message: String, id: String, at node: Node?) {
        diagnostics.append(Diagnostic(.warning, message, id: id, at: location(node)))
    }

    mutating func parse(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                diagnostics.append(Diagnostic(.error, "the file is empty; start it with 'version: 1'", id: "config.empty", at: SourceLocation(file: file, line: 1, column: 1)))
                return nil
            }
            return node
        } catch let error as YamlError {
            if case .duplicatedKeysInMapping(let duplicates, let context) = error {
                duplicateKeys(duplicates, in: text, mappingAt: context.mark)
                return nil
            }
            let (problem, mark) = Self.describe(error)
            let at = mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) } ?? SourceLocation(file: file, line: 1, column: 1)
            diagnostics.append(Diagnostic(.error, "YAML syntax error: \(problem); check indentation, quotes and ':' around here", id: "config.yaml-syntax", at: at))
            return nil
        } catch {
            diagnostics.append(Diagnostic(.error, "YAML error: \(error)", id: "config.yaml-syntax", at: SourceLocation(file: file, line: 1, column: 1)))
            return nil
        }
    }

    /// Yams reports duplicate keys at the mapping; find each repeat's own line in the text.
    private mutating func duplicateKeys(_ names: [String], in text: String, mappingAt mark: Mark) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for name in names.sorted() {
            var first: Int?
            for (index, line) in lines.enumerated() where index + 1 >= mark.line {
                let indent = line.prefix { $0 == " " }.count
                guard indent + 1 == mark.column else { continue }
                let rest = line.dropFirst(indent)
                guard rest.hasPrefix(name + ":") || rest.hasPrefix("\"\(name)\":") else { continue }
                if let first {
                    diagnostics.append(Diagnostic(.error, "duplicate key '\(name)' (first on line \(first)); keep one", id: "config.duplicate-key", at: SourceLocation(file: file, line: index + 1, column: indent + 1)))
                    break
                }
                first = index + 1
            }
            if first == nil || !diagnostics.contains(where: { $0.id == "config.duplicate-key" && $0.message.contains("'\(name)'") }) {
                diagnostics.append(Diagnostic(.error, "duplicate key '\(name)'; keep one", id: "config.duplicate-key", at: SourceLocation(file: file, line: mark.line, column: mark.column)))
            }
        }
    }

    static func describe(_ error: YamlError) -> (String, Mark?) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let text = context.map { "\($0.text): \(problem)" } ?? problem
            return (text, mark)
        case .reader(let problem, _, _, _): return (problem, nil)
        default: return ("\(error)", nil)
        }
    }

    // MARK: Structure

    mutating func mapping(_ node: Node, _ what: String) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error("\(what) must be a mapping of 'key: value' lines, found \(node.kindName)", id: "config.type", at: node)
            return nil
        }
        var fields = Fields(entries: [])
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error("keys must be plain names, found \(keyNode.kindName)", id: "config.type", at: keyNode)
                continue
            }
            if let first = fields[scalar.string] {
                let line = first.keyNode.mark.map { " (first on line \($0.line))" } ?? ""
                error("duplicate key '\(scalar.string)'\(line); keep one", id: "config.duplicate-key", at: keyNode)
                continue
            }
            fields.entries.append(Fields.Entry(key: scalar.string, keyNode: keyNode, value: value))
        }
        return fields
    }

    mutating func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error("'\(what)' must be a list, found \(node.kindName)", id: "config.type", at: node)
            return nil
        }
        return Array(sequence)
    }

    @discardableResult
    mutating func checkKeys(_ fields: Fields, allowed: [String], what: String) -> Set<String> {
        var suggested = Set<String>()
        for entry in fields.entries where !allowed.contains(entry.key) && !entry.key.hasPrefix("x-") {
            let suggestion = didYouMean(entry.key, in: allowed)
            if let suggestion { suggested.insert(suggestion) }
            let hint = suggestion.map { "did you mean '\($0)'?" }
                ?? "expected one of: \(allowed.joined(separator: ", ")) (or an 'x-' note)"
            error("unknown \(what) '\(entry.key)'; \(hint)", id: "config.unknown-key", at: entry.keyNode)
        }
        return suggested
    }

    // MARK: Scalars

    mutating func scalar(_ node: Node, _ key: String) -> String? {
        guard case .scalar(let scalar) = node, node.kindName != "null" else {
            error("'\(key)' must be a single value, found \(node.kindName)", id: "config.type", at: node)
            return nil
        }
        return scalar.string
    }

    mutating func string(_ node: Node, _ key: String) -> String? {
        scalar(node, key)
    }

    /// A string with `${VAR}` read from the environment; an unset variable gives nil and a warning.
    mutating func expandedString(_ node: Node, _ key: String) -> String? {
        guard let text = scalar(node, key) else { return nil }
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                error("'\(key)': '${' has no closing '}'", id: "config.invalid-value", at: node)
                return nil
            }
            let name = String(rest[open.upperBound..<close])
            guard let value = environment[name], !value.isEmpty else {
                warning("'\(key)': environment variable '\(name)' is not set; the setting is left empty", id: "config.env-unset", at: node)
                return nil
            }
            result += value
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return result
    }

    mutating func int(_ node: Node, _ key: String) -> Int? {
        guard let text = scalar(node, key) else { return nil }
        guard let value = Int(text) else {
            error("'\(key)' must be a whole number, not '\(text)'", id: "config.type", at: node)
            return nil
        }
        return value
    }

    mutating func positiveInt(_ node: Node, _ key: String) -> Int? {
        guard let value = int(node, key) else { return nil }
        guard value > 0 else {
            error("'\(key)' must be at least 1, not \(value)", id: "config.invalid-value", at: node)
            return nil
        }
        return value
    }

    mutating func double(_ node: Node, _ key: String) -> Double? {
        guard let text = scalar(node, key) else { return nil }
        guard let value = Double(text), value.isFinite else {
            error("'\(key)' must be a number, not '\(text)'", id: "config.type", at: node)
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ key: String) -> Bool? {
        guard let text = scalar(node, key) else { return nil }
        switch text {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        default:
            error("'\(key)' must be true or false, not '\(text)'", id: "config.type", at: node)
            return nil
        }
    }

    mutating func duration(_ node: Node, _ key: String) -> Seconds? {
        guard let text = scalar(node, key) else { return nil }
        guard let value = ConfigValues.duration(text) else {
            error("invalid duration '\(text)' for '\(key)'; write a number and a unit: 30s, 15m, 24h, 7d, 2w, or combined like 1d12h", id: "config.duration", at: node)
            return nil
        }
        return value
    }

    mutating func size(_ node: Node, _ key: String) -> Int64? {
        guard let text = scalar(node, key) else { return nil }
        guard let value = ConfigValues.size(text) else {
            error("invalid size '\(text)' for '\(key)'; write a number and a unit: 512KB, 50MB, 10GB (powers of 1024)", id: "config.size", at: node)
            return nil
        }
        return value
    }

    mutating func database(_ node: Node, _ key: String, base: String) -> DatabaseLocation? {
        guard let text = scalar(node, key) else { return nil }
        switch ConfigValues.database(text, base: base) {
        case .success(let location): return location
        case .failure(let problem):
            error("'\(key)': \(problem)", id: "config.database", at: node)
            return nil
        }
    }

    /// A single string or a list of strings, each with its node.
    mutating func stringList(_ node: Node, _ key: String) -> [(String, Node)]? {
        if case .scalar = node, node.kindName != "null" { return [(node.scalarText, node)] }
        guard let items = sequence(node, key) else { return nil }
        var result: [(String, Node)] = []
        for item in items {
            if let text = scalar(item, key) { result.append((text, item)) }
        }
        return result
    }

    mutating func identifier(_ node: Node, _ key: String) -> String? {
        guard let text = scalar(node, key) else { return nil }
        guard Self.isIdentifier(text) else {
            error("'\(key)' must be a table or column name (letters, digits, '_', optionally 'schema.table'), not '\(text)'", id: "config.identifier", at: node)
            return nil
        }
        return text
    }

    static func isIdentifier(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || $0 == "$" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ key: String, _ type: T.Type) -> T? where T.RawValue == String {
        guard let text = scalar(node, key) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        let hint = didYouMean(text, in: names).map { "did you mean '\($0)'?" } ?? "use one of: \(names.joined(separator: ", "))"
        error("unknown value '\(text)' for '\(key)'; \(hint)", id: "config.unknown-value", at: node)
        return nil
    }
}
