/// The invariants that hostile input must never break, in one place: the fuzzers (`Fuzz/`)
/// call `violations(_:_:)` on every input they generate, and the regression test replays
/// every input they ever broke, so both check exactly the same thing.
///
/// Each target takes raw bytes, runs them through one entry point and returns what went
/// wrong, or `[]`. A trap is never caught here: a crash is the first invariant, and the fuzzer
/// and the test both report it as one.
///
/// The checks are deliberately written on UTF-8 bytes, apart from the code under test, because
/// the file system splits paths on the byte `/`, not on Swift `Character`s: `"/\u{301}"` is one
/// `Character` that is not `"/"`, but two path components to the kernel.
public enum FuzzInvariants {
    /// What a fuzzer exercises.
    public enum Target: String, Sendable, CaseIterable {
        /// `ConfigLoader.load` on YAML text: a config or error diagnostics, never a trap; a
        /// config keeps its globs, quarantine and state where DESIGN 6.1 and 2 say.
        case config
        /// `EventDecoder.decode` on a request body, then `RuleEngine.plan` and derivative globs
        /// for each event: nothing names a path outside the media root.
        case events
        /// `PathRules.normalise` on a reference value: a valid result is a clean relative path
        /// under the root, and normalising it again gives it back.
        case paths
    }

    /// The media root the events and paths targets normalise against.
    public static let mediaRoot = "/srv/app/media"

    /// Runs `input` through `target` and returns every broken invariant.
    public static func violations(_ target: Target, _ input: [UInt8]) -> [String] {
        switch target {
        case .config: configViolations(input)
        case .events: eventViolations(input)
        case .paths: pathViolations(input)
        }
    }

    /// libFuzzer's input through `target`: a broken invariant aborts, so that libFuzzer saves
    /// the input. Each fuzzer's `LLVMFuzzerTestOneInput` is this one call.
    public static func enforce(_ target: Target, _ start: UnsafePointer<UInt8>?, _ count: Int) {
        let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        let problems = violations(target, input)
        if !problems.isEmpty { fatalError("invariant broken: " + problems.joined(separator: "; ")) }
    }

    // MARK: Paths

    static func pathViolations(_ input: [UInt8]) -> [String] {
        let value = String(decoding: input, as: UTF8.self)
        var problems: [String] = []
        // `/` is a normalised root too, and the one where an absolute value can be "inside".
        for root in [mediaRoot, "/"] {
            let outcome = PathRules.normalise(value, mediaRoot: root)
            switch outcome {
            case .valid(let path):
                problems += pathProblems(path, root: root).map { "normalise(\(shown(value))) under \(root) = \(shown(path)): \($0)" }
                let again = PathRules.normalise(path, mediaRoot: root)
                if again != .valid(path) {
                    problems.append("normalise is not idempotent under \(root): \(shown(value)) -> \(shown(path)) -> \(again)")
                }
            case .invalid(_, let protecting?):
                problems += pathProblems(protecting, root: root).map { "normalise(\(shown(value))) under \(root) protects \(shown(protecting)): \($0)" }
            case .invalid(_, nil):
                break
            }
            switch (outcome, PathRules.checkedRelativePath(value, mediaRoot: root)) {
            case (.valid(let a), .success(let b)) where a == b: break
            case (.invalid, .failure): break
            case (_, let checked): problems.append("checkedRelativePath(\(shown(value))) = \(checked) disagrees with normalise = \(outcome)")
            }
        }
        // References take a byte-level fast path when they need no normalisation; it must agree.
        var bytes = input
        let plain = bytes.withUnsafeMutableBufferPointer { ReferenceSet.isPlainRelativePath(UnsafeBufferPointer($0)) }
        if plain, Array(value.utf8) == input, PathRules.normalise(value, mediaRoot: mediaRoot) != .valid(value) {
            problems.append("\(shown(value)) takes the plain fast path but normalises to \(PathRules.normalise(value, mediaRoot: mediaRoot))")
        }
        return problems
    }

    /// Why `path` is not a clean root-relative path that stays under `root`, or `[]`.
    ///
    /// `clean: false` only asks that it stay under the root (a glob's literal directory: `a//b`
    /// matches nothing, which is harmless).
    public static func pathProblems(_ path: String, root: String, clean: Bool = true) -> [String] {
        let bytes = Array(path.utf8)
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var problems: [String] = []
        if bytes.isEmpty { return ["is empty"] }
        if bytes.first == slash { problems.append("starts with '/'") }
        if bytes.contains(0) { problems.append("contains NUL") }
        if clean, bytes.contains(UInt8(ascii: "\\")) { problems.append("contains a backslash") }
        for component in bytes.split(separator: slash, omittingEmptySubsequences: false) {
            if clean, component.isEmpty { problems.append("has an empty component"); break }
            if clean, component.elementsEqual([dot]) { problems.append("has a '.' component"); break }
            if component.elementsEqual([dot, dot]) { problems.append("has a '..' component"); break }
        }
        // Join as the kernel would resolve it, lexically, on bytes.
        let joined = resolvedBytes(Array(root.utf8) + [slash] + bytes)
        let rootBytes = resolvedBytes(Array(root.utf8))
        let prefix = rootBytes == [slash] ? rootBytes : rootBytes + [slash]
        let atRoot = !clean && joined == rootBytes
        if !atRoot, !(joined.count > prefix.count && joined.starts(with: prefix)) {
            problems.append("joined to the root it is '\(String(decoding: joined, as: UTF8.self))', not below it")
        }
        return problems
    }

    /// An absolute path resolved lexically on bytes: empty and `.` components dropped, `..` popped.
    static func resolvedBytes(_ path: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var stack: [ArraySlice<UInt8>] = []
        for component in path.split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual([dot]) { continue }
            if component.elementsEqual([dot, dot]) {
                if !stack.isEmpty { stack.removeLast() }
                continue
            }
            stack.append(component)
        }
        return [slash] + Array(stack.joined(separator: [slash]))
    }

    /// Whether `path` is `directory` or below it, on bytes, both resolved lexically.
    static func isInsideBytes(_ path: String, _ directory: String) -> Bool {
        let slash = UInt8(ascii: "/")
        let path = resolvedBytes(Array(path.utf8)), directory = resolvedBytes(Array(directory.utf8))
        return path == directory || directory == [slash] || path.starts(with: directory + [slash])
    }

    /// Why a glob could select something outside the media root, or `[]`.
    static func globProblems(_ glob: Glob) -> [String] {
        let bytes = Array(glob.pattern.utf8)
        var problems: [String] = []
        if bytes.first == UInt8(ascii: "/") { problems.append("glob \(shown(glob.pattern)) is absolute") }
        if bytes.split(separator: UInt8(ascii: "/")).contains(where: { $0.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) }) {
            problems.append("glob \(shown(glob.pattern)) has a '..' component")
        }
        if let directory = glob.literalDirectory, !directory.isEmpty {
            problems += pathProblems(directory, root: mediaRoot, clean: false).map { "glob \(shown(glob.pattern)) starts its walk at \(shown(directory)): \($0)" }
        }
        return problems
    }

    // MARK: Events

    /// The classes events are planned against: two with derivatives, so that a decision's
    /// derivative globs are checked too.
    static let engine: RuleEngine = {
        let yaml = """
            version: 1
            media_root: media
            database: sqlite:app.sqlite3
            classes:
              profile_pictures:
                paths: ["profile_pics/**"]
                references:
                  - {table: accounts_user, column: profile_pic, key: id}
                  - {table: accounts_user, column: signature, key: id}
                derivatives: ["{dir}/thumbs/{stem}_*.{ext}", "{dir}/{stem}.webp", "{dir}/{name}.meta"]
              chat_media:
                paths: ["**"]
                references:
                  - {table: chat_message, column: image, key: id}
                on_replace: keep
                derivatives: ["{dir}/{stem}*"]
            """
        let result = load(yaml)
        guard let config = result.config else { preconditionFailure("the fuzz event config does not load: \(result.diagnostics)") }
        return RuleEngine(classes: config.classes)
    }()

    static func eventViolations(_ input: [UInt8]) -> [String] {
        let batch = EventDecoder.decode(input, mediaRoot: mediaRoot)
        var problems: [String] = []
        if batch.items.isEmpty { problems.append("a body gave no item, not even a rejection") }
        for (position, item) in batch.items.enumerated() {
            switch item {
            case .rejected(let index, let id, let error):
                if index < 0 { problems.append("item \(position) has index \(index)") }
                if let id, id.utf8.contains(0) { problems.append("rejected item \(position) carries an id with NUL") }
                if error.message.isEmpty { problems.append("item \(position) is rejected with no message") }
            case .valid(let event):
                problems += eventProblems(event).map { "event \(shown(event.id)): \($0)" }
            }
        }
        return problems
    }

    static func eventProblems(_ event: ChangeEvent) -> [String] {
        var problems: [String] = []
        for (field, value) in [("old", event.old), ("new", event.new)] {
            guard let value else { continue }
            problems += pathProblems(value, root: mediaRoot).map { "'\(field)' \(shown(value)) \($0)" }
        }
        for (field, value) in [("id", event.id), ("key", event.key), ("tenant", event.tenant ?? "-")] {
            if value.isEmpty || value.utf8.contains(0) { problems.append("'\(field)' \(shown(value)) is empty or holds NUL") }
        }
        for (field, value) in [("table", event.table), ("column", event.column)] where !isSQLName(value) {
            problems.append("'\(field)' \(shown(value)) is not a SQL name")
        }
        switch event.op {
        case .delete where event.new != nil: problems.append("a delete carries 'new'")
        case .create where event.old != nil: problems.append("a create carries 'old'")
        case .replace, .delete: if event.old == nil { problems.append("a \(event.op) has no 'old'") }
        default: break
        }
        guard case .consider(let path, let classIndex, _) = engine.plan(event) else { return problems }
        if path != event.old { problems.append("the plan removes \(shown(path)), not the event's 'old'") }
        problems += pathProblems(path, root: mediaRoot).map { "the plan removes \(shown(path)), which \($0)" }
        for pattern in engine.classes[classIndex].derivatives {
            guard let glob = pattern.glob(for: path) else { continue }
            problems += globProblems(glob).map { "derivatives of \(shown(path)) by '\(pattern)': \($0)" }
        }
        return problems
    }

    static func isSQLName(_ text: String) -> Bool {
        let parts = Array(text.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, first == UInt8(ascii: "_") || isASCIILetter(first) else { return false }
            return part.allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "$") || isASCIILetter($0) || (0x30...0x39).contains($0) }
        }
    }

    static func isASCIILetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }

    // MARK: Config

    /// Loads `text` as `/app/janitor.yml`; `rules/extra.yml` holds the same text, so that an
    /// `include` of it reads the input as an included file too.
    static func load(_ text: String) -> ConfigLoadResult {
        let files = ["/app/janitor.yml": text, "/app/rules/extra.yml": text]
        let source = ConfigFiles(
            read: { path in
                guard let text = files[path] else { throw MissingFile() }
                return text
            },
            glob: { directory, pattern in
                guard let glob = try? Glob(pattern) else { return [] }
                return files.keys.filter { $0.hasPrefix(directory + "/") && glob.matches(String($0.dropFirst(directory.count + 1))) }.sorted()
            })
        let environment = ["MEDIA_JANITOR_TOKEN": "token", "HOOK_SECRET": "secret"]
        return ConfigLoader(files: source, environment: environment).load(path: "janitor.yml", currentDirectory: "/app")
    }

    struct MissingFile: Error {}

    static func configViolations(_ input: [UInt8]) -> [String] {
        let result = load(String(decoding: input, as: UTF8.self))
        var problems: [String] = []
        for diagnostic in result.diagnostics {
            if diagnostic.message.isEmpty { problems.append("a diagnostic has no message: \(diagnostic)") }
            if let location = diagnostic.location, location.line < 1 || location.column < 1 {
                problems.append("a diagnostic points at line \(location.line), column \(location.column): \(diagnostic)")
            }
        }
        guard let config = result.config else {
            if !result.diagnostics.hasErrors { problems.append("no config and no error diagnostic") }
            return problems
        }
        if result.diagnostics.hasErrors { problems.append("a config despite errors: \(result.diagnostics)") }
        if resolvedBytes(Array(config.mediaRoot.utf8)) != Array(config.mediaRoot.utf8) {
            problems.append("media_root \(shown(config.mediaRoot)) is not absolute and normalised")
        }
        if isInsideBytes(config.defaults.quarantineDirectory, config.mediaRoot) {
            problems.append("quarantine_dir \(shown(config.defaults.quarantineDirectory)) is inside media_root \(shown(config.mediaRoot))")
        }
        if case .sqlite(let path) = config.state, isInsideBytes(path, config.mediaRoot) {
            problems.append("the state store \(shown(path)) is inside media_root \(shown(config.mediaRoot))")
        }
        for mediaClass in config.classes {
            for glob in mediaClass.paths + mediaClass.exclude {
                problems += globProblems(glob).map { "class \(shown(mediaClass.name)): \($0)" }
            }
            for pattern in mediaClass.derivatives {
                for parent in ["a.jpg", "profile_pics/a/b.tar.gz"] {
                    guard let glob = pattern.glob(for: parent) else { continue }
                    problems += globProblems(glob).map { "class \(shown(mediaClass.name)), derivatives of \(parent) by '\(pattern)': \($0)" }
                }
            }
        }
        return problems
    }

    /// A value for a message: escaped, so that NUL and control characters stay visible.
    static func shown(_ value: String) -> String {
        var text = "'"
        for scalar in value.unicodeScalars.prefix(120) {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x300...0x36F).contains(scalar.value) || scalar == "'" || scalar == "\\" {
                text += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text + (value.unicodeScalars.count > 120 ? "…'" : "'")
    }
}
