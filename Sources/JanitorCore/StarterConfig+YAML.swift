import Yams

extension StarterConfig {
    /// Where the starter config points, as its text will say it.
    public struct Target: Sendable, Hashable {
        /// The `database:` value (an SQLite path relative to the config file, or the URL).
        public var database: String
        /// The database for comments: as `database`, a PostgreSQL password never shown.
        public var databaseShown: String
        /// The `media_root:` value, relative to the config file.
        public var mediaRoot: String
        /// The most values sampled per column.
        public var sampleLimit: Int
        /// Entries under the media root.
        public var entries: Int

        /// Creates a target.
        public init(database: String, databaseShown: String, mediaRoot: String, sampleLimit: Int, entries: Int) {
            self.database = database
            self.databaseShown = databaseShown
            self.mediaRoot = mediaRoot
            self.sampleLimit = sampleLimit
            self.entries = entries
        }
    }

    /// The commented `janitor.yml`: settings with their meaning, one block per class with what
    /// was found, then the columns that were not made classes and what no class claims.
    public func yaml(_ target: Target) -> String {
        let inspected = """
            Inspected: the app database '\(target.databaseShown)' (\(Self.count(tables, "table")), \(Self.count(textColumns, "text column")); \
            up to \(target.sampleLimit.grouped) non-empty values sampled per column) and the media root '\(target.mediaRoot)' \
            (\(Self.count(target.entries, "entry", plural: "entries"))). Columns whose sampled values are mostly paths of files under the \
            media root became classes, one per top-level directory they point into.
            """
        var lines = ["# janitor.yml: a starter config written by 'media-janitor init'. Review it before relying on it.", "#"]
        lines += Self.comment(inspected, indent: "")
        lines += """
            #
            # Review before 'media-janitor clean' removes anything:
            #   - each class: its paths, and that every column that can hold its files is listed
            #     (a file that no listed column holds is an orphan);
            #   - defaults.grace: an unreferenced file younger than this is never an orphan; raise it
            #     if an upload can take longer to get its row committed;
            #   - retention is left out: nothing expires by age or count until you add it to a class.
            # Then run 'media-janitor check' and 'media-janitor scan' (read-only).
            version: 1
            media_root: \(Self.scalar(target.mediaRoot))
            database: \(Self.scalar(target.database))
            state: .janitor/state.sqlite3  # the janitor's own store: queue, audits, quarantine manifest

            defaults:
              grace: 15m  # an unreferenced file younger than this (mtime) is never an orphan
              quarantine: 7d  # removed files stay restorable this long
              quarantine_dir: .janitor/quarantine  # outside media_root: a web server may serve it

            safety:
              max_delete_fraction: 0.25  # a sweep removing more than this share of a class's files stops (exit 4)
              max_delete_bytes: 50GB
              refuse_empty_references: true  # a class with no referenced file is never swept

            classes:
            """.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, mediaClass) in classes.enumerated() {
            if index > 0 { lines.append("") }
            for note in mediaClass.notes { lines += Self.comment(note, indent: "  ") }
            lines.append("  \(mediaClass.name):")
            lines.append("    paths: \(Self.list(mediaClass.paths))")
            if !mediaClass.exclude.isEmpty {
                lines.append("    exclude: \(Self.list(mediaClass.exclude))  # named like a placeholder the app ships: never removed")
            }
            lines.append("    references:")
            for reference in mediaClass.references {
                let note = reference.keyNote.map { "  # \($0)" } ?? ""
                lines.append("      - {table: \(reference.table), column: \(reference.column), key: \(reference.key)}\(note)")
            }
            if !mediaClass.derivatives.isEmpty {
                lines.append("    derivatives:  # files named after a referenced file, which go with it")
                for derivative in mediaClass.derivatives {
                    lines.append("      - \(Self.quoted(derivative.pattern))  # \(Self.count(derivative.files, "file")) named after a sampled path")
                }
            }
            lines.append("    on_replace: delete_old  # a replaced file is removed once nothing references it")
            lines.append("    on_delete: delete  # so is the file of a deleted row")
            let hint = mediaClass.retentionHint.map { " (max_age and per-owner policies need '\($0)' on the reference)" } ?? ""
            lines += Self.comment("retention: left out; nothing expires until you add it\(hint)", indent: "    ")
        }

        let notClasses = findings.compactMap { finding -> [String]? in
            switch finding.verdict {
            case .media, .none:
                return nil
            case .notOnDisk:
                return ["\(finding.qualifiedName): \(finding.paths.count.grouped) of \(finding.sampled.grouped) sampled values look like paths, but \(finding.existing == 0 ? "none" : "only \(finding.existing.grouped)") exist under the media root; if it holds media kept elsewhere, it needs its own media_root"]
            case .prefixed(let prefix):
                return ["WARNING \(finding.qualifiedName): \(finding.prefixed.grouped) of \(finding.sampled.grouped) sampled values name files under the media root once '\(prefix)' is cut; the janitor reads paths relative to media_root and cannot cut a prefix, so a scan would take the files they name for orphans wherever a class claims them: store relative paths before running 'clean'"]
            }
        }.flatMap { $0 } + skipped
        if !notClasses.isEmpty {
            lines.append("")
            lines.append("# Not made classes:")
            for note in notClasses { lines += Self.comment(note, indent: "", bullet: "  ") }
        }
        if !leftovers.isEmpty || specialEntries > 0 {
            lines.append("")
            lines.append("# Under the media root, no class claims these (a scan lists them as unclassified, and nothing removes them):")
            for leftover in leftovers {
                let place = leftover.directory.isEmpty ? "(top of the media root)" : leftover.directory
                lines.append("#   \(place): \(Self.count(leftover.files, "file")) (e.g. \(leftover.example))")
            }
            if specialEntries > 0 {
                lines.append("#   \(Self.count(specialEntries, "symlink or special file", plural: "symlinks or special files")), wherever they are (never followed)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A note as comment lines of at most about 100 columns.
    static func comment(_ text: String, indent: String, bullet: String = "") -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, indent.count + line.count + word.count > 96 {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.enumerated().map { index, text in
            "\(indent)# \(bullet)\(index == 0 || bullet.isEmpty ? "" : "  ")\(text)"
        }
    }

    /// `["a", "b"]`.
    static func list(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ", ") + "]"
    }

    /// A YAML double-quoted string, on one line, as Yams writes one.
    static func quoted(_ text: String) -> String {
        let node = Node.scalar(Node.Scalar(text, Tag(.str), .doubleQuoted))
        let line = (try? Yams.serialize(node: node, width: -1, allowUnicode: true)) ?? "\"\""
        return line.hasSuffix("\n") ? String(line.dropLast()) : line
    }

    /// A value plain when YAML reads it back as the same string, double-quoted otherwise.
    static func scalar(_ text: String) -> String {
        let safe = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_./:@%+=?&~-".contains($0)) }
            && !"-?:@%&".contains(text.first!) && !text.hasSuffix(":")
        return safe ? text : quoted(text)
    }
}
