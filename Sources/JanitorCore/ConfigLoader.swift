import Yams

/// How the loader reads files: passed in, so the core does no I/O of its own.
public struct ConfigFiles: Sendable {
    /// Reads a file's text at an absolute path; throws when it cannot.
    public var read: @Sendable (String) throws -> String
    /// Lists files matching a glob relative to a directory, as absolute paths, sorted.
    public var glob: @Sendable (_ directory: String, _ pattern: String) -> [String]

    /// Creates a file reader.
    public init(read: @escaping @Sendable (String) throws -> String, glob: @escaping @Sendable (String, String) -> [String]) {
        self.read = read
        self.glob = glob
    }
}

/// The outcome of loading: a config when there were no errors, and every diagnostic.
public struct ConfigLoadResult: Sendable {
    /// The config, nil when any diagnostic is an error.
    public var config: JanitorConfig?
    /// Errors, warnings and notes in file order.
    public var diagnostics: [Diagnostic]
}

/// Loads `janitor.yml` (and its includes) into a `JanitorConfig`, reporting everything wrong
/// compiler-style. Unknown keys are errors: a misspelled safety limit must never be ignored.
public struct ConfigLoader: Sendable {
    let files: ConfigFiles
    let environment: [String: String]

    static let topKeys = ["version", "media_root", "database", "state", "include", "defaults", "safety", "classes", "serve", "schedule"]
    static let includeKeys = ["classes"]
    static let defaultsKeys = ["grace", "delay", "quarantine", "quarantine_dir", "max_attempts", "batch_size", "lease"]
    static let safetyKeys = ["max_delete_fraction", "max_delete_bytes", "refuse_empty_references"]
    static let classKeys = ["paths", "exclude", "references", "on_replace", "on_delete", "derivatives", "retention", "grace"]
    static let referenceKeys = ["table", "column", "key", "created", "owner", "group", "size"]
    static let retentionKeys = ["max_age", "max_age_per_owner", "keep_latest_per_owner", "max_count_per_group", "max_total_size", "row_action"]
    static let ownerTTLKeys = ["table", "key", "column", "unit"]
    static let serveKeys = ["listen", "token", "max_body", "webhooks"]
    static let webhookKeys = ["url", "secret"]
    static let scheduleKeys = ["retention", "audit", "quarantine_purge"]

    /// Creates a loader.
    public init(files: ConfigFiles, environment: [String: String] = [:]) {
        self.files = files
        self.environment = environment
    }

    /// Loads the config at `path` (as the user named it), resolving relative paths against
    /// `currentDirectory`.
    public func load(path: String, currentDirectory: String) -> ConfigLoadResult {
        let absolute = FilePath.resolve(path, against: currentDirectory)
        let base = FilePath.directory(of: absolute)
        var reader = NodeReader(file: path, environment: environment)
        let text: String
        do {
            text = try files.read(absolute)
        } catch {
            reader.error("cannot read the config file: \(error); pass --config PATH or set MEDIA_JANITOR_CONFIG", id: "config.unreadable", at: nil)
            return ConfigLoadResult(config: nil, diagnostics: reader.diagnostics)
        }
        guard let root = reader.parse(text) else { return ConfigLoadResult(config: nil, diagnostics: reader.diagnostics) }
        guard let top = reader.mapping(root, "the config file") else {
            return ConfigLoadResult(config: nil, diagnostics: reader.diagnostics)
        }
        // A misspelled required key is reported once, as unknown with its suggestion.
        let misspelled = reader.checkKeys(top, allowed: Self.topKeys, what: "key")

        // version
        if let version = top["version"] {
            if let number = reader.int(version.value, "version"), number != 1 {
                reader.error("unsupported version \(number); this media-janitor reads version 1", id: "config.version", at: version.value)
            }
        } else if !misspelled.contains("version") {
            reader.error("missing 'version'; add 'version: 1' at the top", id: "config.missing-key", at: root)
        }

        // media_root
        var mediaRootSetting = ""
        var mediaRoot = ""
        if let entry = top["media_root"] {
            if let value = reader.string(entry.value, "media_root"), !value.isEmpty {
                mediaRootSetting = value
                mediaRoot = FilePath.resolve(value, against: base)
            } else if reader.diagnostics.isEmpty || !reader.diagnostics.hasErrors {
                reader.error("'media_root' is empty; give the directory that stored paths are relative to", id: "config.invalid-value", at: entry.value)
            }
        } else if !misspelled.contains("media_root") {
            reader.error("missing 'media_root'; add the directory that stored paths are relative to, e.g. 'media_root: media'", id: "config.missing-key", at: root)
        }

        // database and state
        var database: DatabaseLocation?
        if let entry = top["database"] {
            database = reader.database(entry.value, "database", base: base)
        } else if !misspelled.contains("database") {
            reader.error("missing 'database'; add the app's database, e.g. 'database: sqlite:app.sqlite3'", id: "config.missing-key", at: root)
        }
        var state = DatabaseLocation.sqlite(path: FilePath.resolve(".janitor/state.sqlite3", against: base))
        if let entry = top["state"], let location = reader.database(entry.value, "state", base: base) {
            state = location
        }

        // defaults, safety
        var defaults = Defaults()
        defaults.quarantineDirectory = FilePath.resolve(".janitor/quarantine", against: base)
        var quarantineNode: Node?
        if let entry = top["defaults"], let mapping = reader.mapping(entry.value, "defaults") {
            reader.checkKeys(mapping, allowed: Self.defaultsKeys, what: "default")
            if let v = mapping["grace"], let d = reader.duration(v.value, "defaults.grace") { defaults.grace = d }
            if let v = mapping["delay"], let d = reader.duration(v.value, "defaults.delay") { defaults.delay = d }
            if let v = mapping["quarantine"], let d = reader.duration(v.value, "defaults.quarantine") { defaults.quarantine = d }
            if let v = mapping["quarantine_dir"], let s = reader.string(v.value, "defaults.quarantine_dir"), !s.isEmpty {
                defaults.quarantineDirectory = FilePath.resolve(s, against: base)
                quarantineNode = v.value
            }
            if let v = mapping["max_attempts"], let n = reader.positiveInt(v.value, "defaults.max_attempts") { defaults.maxAttempts = n }
            if let v = mapping["batch_size"], let n = reader.positiveInt(v.value, "defaults.batch_size") { defaults.batchSize = n }
            if let v = mapping["lease"], let d = reader.duration(v.value, "defaults.lease") {
                if d.value > 0 { defaults.lease = d } else { reader.error("defaults.lease must be longer than 0s; a claim needs time to finish its batch (the default is 60s)", id: "config.invalid-value", at: v.value) }
            }
        }
        var safety = Safety()
        if let entry = top["safety"], let mapping = reader.mapping(entry.value, "safety") {
            reader.checkKeys(mapping, allowed: Self.safetyKeys, what: "safety limit")
            if let v = mapping["max_delete_fraction"], let f = reader.double(v.value, "safety.max_delete_fraction") {
                if f > 0, f <= 1 {
                    safety.maxDeleteFraction = f
                } else {
                    reader.error("'max_delete_fraction' must be greater than 0 and at most 1 (a share, e.g. 0.25), not \(v.value.scalarText)", id: "config.invalid-value", at: v.value)
                }
            }
            if let v = mapping["max_delete_bytes"], let s = reader.size(v.value, "safety.max_delete_bytes") { safety.maxDeleteBytes = s }
            if let v = mapping["refuse_empty_references"], let b = reader.bool(v.value, "safety.refuse_empty_references") {
                safety.refuseEmptyReferences = b
            }
        }

        // classes, from the main file then from includes in glob order
        var classes: [MediaClass] = []
        var classOrigins: [String: Node] = [:]
        var classFiles: [String: String] = [:]
        if let entry = top["classes"] {
            reader.classes(entry.value, defaults: defaults, into: &classes, origins: &classOrigins, files: &classFiles)
        }
        if let entry = top["include"], let patterns = reader.stringList(entry.value, "include") {
            for (pattern, node) in patterns {
                let matches = files.glob(base, pattern)
                if matches.isEmpty {
                    reader.warning("include pattern '\(pattern)' matches no file", id: "config.include-empty", at: node)
                }
                for match in matches where match != absolute {
                    let shown = match.hasPrefix(base + "/") ? String(match.dropFirst(base.count + 1)) : match
                    var included = NodeReader(file: shown, environment: environment)
                    do {
                        let includedText = try files.read(match)
                        if let root = included.parse(includedText), let mapping = included.mapping(root, "an included file") {
                            included.checkKeys(mapping, allowed: Self.includeKeys, what: "key in an included file")
                            if let classesEntry = mapping["classes"] {
                                included.classes(classesEntry.value, defaults: defaults, into: &classes, origins: &classOrigins, files: &classFiles)
                            }
                        }
                    } catch {
                        included.error("cannot read included file: \(error)", id: "config.unreadable", at: nil)
                    }
                    reader.diagnostics += included.diagnostics
                }
            }
        }
        if classes.isEmpty, !reader.diagnostics.hasErrors, !misspelled.contains("classes") {
            reader.error("no classes are defined; add a 'classes' mapping or an 'include' of rule files", id: "config.no-classes", at: top["classes"]?.value ?? root)
        }

        // serve, schedule
        var serve = ServeSettings()
        if let entry = top["serve"], let mapping = reader.mapping(entry.value, "serve") {
            reader.checkKeys(mapping, allowed: Self.serveKeys, what: "serve setting")
            if let v = mapping["listen"], let s = reader.string(v.value, "serve.listen") {
                if Self.isHostPort(s) { serve.listen = s } else {
                    reader.error("'serve.listen' must be HOST:PORT with a port from 0 to 65535, not '\(s)'", id: "config.invalid-value", at: v.value)
                }
            }
            if let v = mapping["token"] { serve.token = reader.expandedString(v.value, "serve.token") }
            if let v = mapping["max_body"], let s = reader.size(v.value, "serve.max_body") { serve.maxBody = s }
            if let v = mapping["webhooks"], let list = reader.sequence(v.value, "serve.webhooks") {
                for item in list {
                    guard let hook = reader.mapping(item, "a webhook") else { continue }
                    reader.checkKeys(hook, allowed: Self.webhookKeys, what: "webhook key")
                    guard let url = hook["url"].flatMap({ reader.string($0.value, "webhook url") }) else {
                        reader.error("a webhook needs 'url'", id: "config.missing-key", at: item)
                        continue
                    }
                    guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                        reader.error("webhook url '\(url)' must start with http:// or https://", id: "config.invalid-value", at: hook["url"]!.value)
                        continue
                    }
                    serve.webhooks.append(Webhook(url: url, secret: hook["secret"].flatMap { reader.expandedString($0.value, "webhook secret") }))
                }
            }
        }
        var schedule = Schedule()
        if let entry = top["schedule"], let mapping = reader.mapping(entry.value, "schedule") {
            reader.checkKeys(mapping, allowed: Self.scheduleKeys, what: "schedule")
            func interval(_ key: String) -> Seconds? {
                guard let v = mapping[key], let d = reader.duration(v.value, "schedule.\(key)"), d.value > 0 else { return nil }
                return d
            }
            schedule.retention = interval("retention")
            schedule.audit = interval("audit")
            schedule.quarantinePurge = interval("quarantine_purge")
        }

        // Places that must stay out of the media root: a web server may serve it.
        if !mediaRoot.isEmpty {
            if FilePath.isInside(defaults.quarantineDirectory, mediaRoot) {
                reader.error("quarantine_dir '\(defaults.quarantineDirectory)' is inside media_root: quarantined files would stay downloadable; move it outside '\(mediaRootSetting)'", id: "config.quarantine-inside-media", at: quarantineNode ?? top["media_root"]?.value)
            }
            if case .sqlite(let path) = state, FilePath.isInside(path, mediaRoot) {
                reader.error("state store '\(path)' is inside media_root: it would be downloadable and audited as a file; move it outside '\(mediaRootSetting)'", id: "config.state-inside-media", at: top["state"]?.value ?? top["media_root"]?.value)
            }
        }

        guard !reader.diagnostics.hasErrors, let database else {
            return ConfigLoadResult(config: nil, diagnostics: reader.diagnostics)
        }
        let config = JanitorConfig(
            file: path, baseDirectory: base, mediaRootSetting: mediaRootSetting, mediaRoot: mediaRoot,
            database: database, state: state, defaults: defaults, safety: safety, classes: classes,
            serve: serve, schedule: schedule)
        return ConfigLoadResult(config: config, diagnostics: reader.diagnostics)
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else { return false }
        guard let port = Int(text[text.index(after: colon)...]) else { return false }
        return (0...65535).contains(port)
    }
}
