import Yams

extension NodeReader {
    /// Reads a `classes` mapping, appending to `classes`; a class defined twice is an error.
    mutating func classes(
        _ node: Node, defaults: Defaults, into classes: inout [MediaClass], origins: inout [String: Node],
        files: inout [String: String]
    ) {
        guard let fields = mapping(node, "'classes'") else { return }
        for entry in fields.entries {
            if let first = origins[entry.key] {
                let line = first.mark.map { ":\($0.line)" } ?? ""
                error("class '\(entry.key)' is defined twice (first in \(files[entry.key] ?? file)\(line)); rename one or remove it", id: "config.duplicate-class", at: entry.keyNode)
                continue
            }
            origins[entry.key] = entry.keyNode
            files[entry.key] = file
            if let mediaClass = mediaClass(entry, defaults: defaults) { classes.append(mediaClass) }
        }
    }

    private mutating func mediaClass(_ entry: Fields.Entry, defaults: Defaults) -> MediaClass? {
        let name = entry.key
        guard let fields = mapping(entry.value, "class '\(name)'") else { return nil }
        checkKeys(fields, allowed: ConfigLoader.classKeys, what: "class key")
        let errorsBefore = diagnostics.filter { $0.severity == .error }.count

        var paths: [Glob] = []
        if let v = fields["paths"], let list = stringList(v.value, "paths") {
            paths = globs(list, "paths")
        }
        var exclude: [Glob] = []
        if let v = fields["exclude"], let list = stringList(v.value, "exclude") {
            exclude = globs(list, "exclude")
        }
        var references: [ReferenceColumn] = []
        if let v = fields["references"], let items = sequence(v.value, "references") {
            for item in items {
                if let reference = reference(item) { references.append(reference) }
            }
            if items.isEmpty {
                error("class '\(name)' has an empty 'references' list; list every column that may hold a path of this class", id: "config.no-references", at: v.value)
            }
        } else if fields["references"] == nil {
            error("class '\(name)' has no 'references': every file would look unused; list every column that may hold a path of this class, e.g. '- {table: accounts_user, column: avatar, key: id}'", id: "config.no-references", at: entry.keyNode)
        }
        if !paths.isEmpty, !references.isEmpty, !references.contains(where: { $0.column != nil }) {
            error("class '\(name)' has 'paths' but no reference with a 'column': every file would look unused; add the column that holds its paths", id: "config.no-references", at: entry.keyNode)
        }
        var onReplace = ReplaceAction.deleteOld
        if let v = fields["on_replace"], let value = choice(v.value, "on_replace", ReplaceAction.self) { onReplace = value }
        var onDelete = DeleteAction.delete
        if let v = fields["on_delete"], let value = choice(v.value, "on_delete", DeleteAction.self) { onDelete = value }
        var derivatives: [DerivativePattern] = []
        if let v = fields["derivatives"], let list = stringList(v.value, "derivatives") {
            for (text, node) in list {
                do {
                    derivatives.append(try DerivativePattern(text))
                } catch {
                    self.error("derivative pattern '\(text)': \(error)", id: "config.derivative", at: node)
                }
            }
        }
        var grace = defaults.grace
        if let v = fields["grace"], let value = duration(v.value, "grace") { grace = value }
        var retention: RetentionRules?
        if let v = fields["retention"] {
            retention = retentionRules(v.value, className: name, references: references)
        }
        let errorsAfter = diagnostics.filter { $0.severity == .error }.count
        guard errorsAfter == errorsBefore else { return nil }
        return MediaClass(
            name: name, paths: paths, exclude: exclude, references: references, onReplace: onReplace,
            onDelete: onDelete, derivatives: derivatives, retention: retention, grace: grace,
            location: location(entry.keyNode))
    }

    private mutating func globs(_ list: [(String, Node)], _ key: String) -> [Glob] {
        var result: [Glob] = []
        for (text, node) in list {
            do {
                result.append(try Glob(text))
            } catch {
                self.error("invalid glob '\(text)' in '\(key)': \(error)", id: "config.glob", at: node)
            }
        }
        return result
    }

    private mutating func reference(_ node: Node) -> ReferenceColumn? {
        guard let fields = mapping(node, "a reference") else { return nil }
        checkKeys(fields, allowed: ConfigLoader.referenceKeys, what: "reference key")
        guard let tableEntry = fields["table"] else {
            error("a reference needs 'table', e.g. '{table: accounts_user, column: avatar, key: id}'", id: "config.missing-key", at: node)
            return nil
        }
        guard let table = identifier(tableEntry.value, "table") else { return nil }
        func optional(_ key: String) -> String? {
            fields[key].flatMap { identifier($0.value, key) }
        }
        let column = optional("column")
        let key = optional("key") ?? "id"
        let size = fields["size"].flatMap { scalar($0.value, "size") }
        return ReferenceColumn(
            table: table, column: column, key: key, created: optional("created"), owner: optional("owner"),
            group: optional("group"), size: size, location: location(node))
    }

    private mutating func retentionRules(_ node: Node, className: String, references: [ReferenceColumn]) -> RetentionRules? {
        guard let fields = mapping(node, "'retention'") else { return nil }
        checkKeys(fields, allowed: ConfigLoader.retentionKeys, what: "policy")
        var rules = RetentionRules()
        if let v = fields["max_age"] { rules.maxAge = duration(v.value, "max_age") }
        if let v = fields["max_age_per_owner"], let ttl = mapping(v.value, "'max_age_per_owner'") {
            checkKeys(ttl, allowed: ConfigLoader.ownerTTLKeys, what: "max_age_per_owner key")
            let table = ttl["table"].flatMap { identifier($0.value, "max_age_per_owner.table") }
            let key = ttl["key"].flatMap { identifier($0.value, "max_age_per_owner.key") }
            let column = ttl["column"].flatMap { identifier($0.value, "max_age_per_owner.column") }
            var unit = OwnerTTL.Unit.hours
            if let u = ttl["unit"], let value = choice(u.value, "unit", OwnerTTL.Unit.self) { unit = value }
            if let table, let key, let column {
                rules.maxAgePerOwner = OwnerTTL(table: table, key: key, column: column, unit: unit)
            } else {
                let missing = [("table", table), ("key", key), ("column", column)].filter { $0.1 == nil && ttl[$0.0] == nil }.map { "'\($0.0)'" }
                if !missing.isEmpty {
                    error("'max_age_per_owner' needs \(missing.joined(separator: ", ")): the table, its owner key column and the TTL column", id: "config.missing-key", at: v.value)
                }
            }
            if !references.contains(where: { $0.owner != nil }) {
                error("'max_age_per_owner' in class '\(className)' needs a reference with an 'owner' column", id: "config.policy-needs-column", at: v.keyNode)
            }
        }
        if let v = fields["keep_latest_per_owner"] {
            rules.keepLatestPerOwner = positiveInt(v.value, "keep_latest_per_owner")
            if !references.contains(where: { $0.owner != nil }) {
                error("'keep_latest_per_owner' in class '\(className)' needs a reference with an 'owner' column", id: "config.policy-needs-column", at: v.keyNode)
            }
        }
        if let v = fields["max_count_per_group"] {
            rules.maxCountPerGroup = positiveInt(v.value, "max_count_per_group")
            if !references.contains(where: { $0.group != nil }) {
                error("'max_count_per_group' in class '\(className)' needs a reference with a 'group' column", id: "config.policy-needs-column", at: v.keyNode)
            }
        }
        if let v = fields["max_total_size"] { rules.maxTotalSize = size(v.value, "max_total_size") }
        if let v = fields["row_action"], let text = scalar(v.value, "row_action") {
            switch text {
            case "none": rules.rowAction = .none
            case "delete": rules.rowAction = .delete
            case "archive": rules.rowAction = .archive
            case "set_null": rules.rowAction = .setNull
            default:
                if text.hasPrefix("soft_delete:") {
                    let column = String(text.dropFirst("soft_delete:".count))
                    if NodeReader.isIdentifier(column) {
                        rules.rowAction = .softDelete(column: column)
                    } else {
                        error("'row_action: soft_delete:COLUMN' needs a column name, not '\(column)'", id: "config.invalid-value", at: v.value)
                    }
                } else {
                    let names = ["none", "delete", "archive", "set_null", "soft_delete:COLUMN"]
                    let hint = didYouMean(text, in: names).map { "did you mean '\($0)'?" } ?? "use one of: \(names.joined(separator: ", "))"
                    error("unknown row action '\(text)'; \(hint)", id: "config.unknown-value", at: v.value)
                }
            }
        }
        if fields["row_action"] == nil {
            warning(
                "retention in class '\(className)' has no 'row_action', so 'retention' only reports: rows stay, and so do the files they hold; set 'row_action' (delete, archive, set_null or soft_delete:COLUMN), or 'row_action: none' to keep it report-only",
                id: "config.retention-report-only", at: node)
        }
        if rules.rowAction == .setNull, !references.contains(where: { $0.column != nil }) {
            error("'row_action: set_null' in class '\(className)' needs a reference with a 'column' to set NULL; use 'delete' or 'archive' for rows without files", id: "config.policy-needs-column", at: fields["row_action"]?.value)
        }
        return rules
    }
}
