import Foundation
import JanitorCore
import JanitorSources

/// What `explain` found about one path.
struct Explanation {
    var path: String
    var className: String?
    var excludedBy: String?
    var entry: String
    var bytes: Int64?
    var mtime: Date?
    var rows: [RowReference]
    var derivativeOf: [(parent: String, rows: [RowReference])]
    var verdict: String
    var wouldRemove: Bool

    static func make(for argument: String, in workspace: Workspace, now: Date = Date()) throws(CommandFailure) -> Explanation {
        let config = workspace.config
        let relative: String
        switch PathRules.normalise(argument, mediaRoot: config.mediaRoot) {
        case .valid(let path): relative = path
        case .invalid(_, let protecting?) where argument.hasPrefix("/"): relative = protecting
        case .invalid(let reason, _):
            throw .usage("path '\(argument)' refused: \(reason); give a path relative to media_root ('\(config.mediaRootSetting)') with no '..'")
        }
        let database = try workspace.openAppDatabase()
        let columns = ReferenceSet.columns(of: config.classes)
        var explanation = Explanation(path: relative, entry: "absent", rows: [], derivativeOf: [], verdict: "", wouldRemove: false)
        var bytes = Array(relative.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            let path = UnsafeBufferPointer(buffer)
            for mediaClass in config.classes where mediaClass.matchesPaths(path) {
                if let pattern = mediaClass.exclude.first(where: { $0.matches(path) }) {
                    explanation.excludedBy = "\(mediaClass.name) exclude '\(pattern)'"
                    continue
                }
                explanation.className = mediaClass.name
                break
            }
        }
        do {
            let parents = config.classes.flatMap(\.derivatives).flatMap { $0.parents(of: relative) }.compactMap { parent -> String? in
                if case .path(let path) = parent { return path }
                return nil
            }
            let holders = try database.rowsHolding([relative] + parents, columns: columns, mediaRoot: config.mediaRoot)
            explanation.rows = holders[relative] ?? []
            for parent in parents {
                if let rows = holders[parent], !explanation.derivativeOf.contains(where: { $0.parent == parent }) {
                    explanation.derivativeOf.append((parent, rows))
                }
            }
        } catch {
            throw error.failure
        }

        // The file itself, never followed if it is a link.
        var info = stat()
        let full = config.mediaRoot + "/" + relative
        var grace = config.defaults.grace
        if let name = explanation.className, let mediaClass = config.mediaClass(named: name) { grace = mediaClass.grace }
        if lstat(full, &info) == 0 {
            let mode = info.st_mode & S_IFMT
            explanation.entry = mode == S_IFREG ? "regular file" : mode == S_IFLNK ? "symlink (never followed)" : mode == S_IFDIR ? "directory" : "special file"
            explanation.bytes = Int64(info.st_size)
            explanation.mtime = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
        }
        let age = explanation.mtime.map { now.timeIntervalSince($0) } ?? 0
        if explanation.entry == "absent" {
            explanation.verdict = explanation.rows.isEmpty ? "not on disk and not referenced" : "missing: referenced but not on disk"
        } else if explanation.entry != "regular file" {
            explanation.verdict = "kept: only regular files are ever removed (\(explanation.entry))"
        } else if !explanation.rows.isEmpty {
            explanation.verdict = "kept: referenced by \(explanation.rows.count) row\(explanation.rows.count == 1 ? "" : "s")"
        } else if let parent = explanation.derivativeOf.first {
            explanation.verdict = "kept: a derivative of '\(parent.parent)', which is referenced"
        } else if explanation.className == nil {
            explanation.verdict = explanation.excludedBy.map { "kept: excluded by \($0)" } ?? "kept: no class claims it (unclassified)"
        } else if age < grace.timeInterval {
            explanation.verdict = "kept for now: inside grace (\(grace)); an orphan once older"
        } else {
            explanation.verdict = "orphan: a sweep would remove it (unreferenced, older than grace \(grace))"
            explanation.wouldRemove = true
        }
        return explanation
    }

    var text: String {
        var lines = ["path:     \(path)"]
        lines.append("class:    \(className ?? "none")" + (excludedBy.map { " (excluded by \($0))" } ?? ""))
        var entryLine = "on disk:  \(entry)"
        if let bytes { entryLine += ", \(bytes) bytes" }
        if let mtime { entryLine += ", modified \(ISO8601DateFormatter().string(from: mtime))" }
        lines.append(entryLine)
        if rows.isEmpty {
            lines.append("rows:     none")
        } else {
            lines.append("rows:")
            lines += rows.map { "  \($0.table).\($0.column) key \($0.key)" }
        }
        for (parent, parentRows) in derivativeOf {
            lines.append("derivative of \(parent), referenced by \(parentRows.map { "\($0.table).\($0.column) key \($0.key)" }.joined(separator: ", "))")
        }
        lines.append("verdict:  \(verdict)")
        return lines.joined(separator: "\n") + "\n"
    }

    var json: String {
        func quoted(_ text: String) -> String {
            let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
            let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
            return String(array.dropFirst().dropLast())
        }
        func rowsJSON(_ rows: [RowReference]) -> String {
            "[" + rows.map { "{\"table\": \(quoted($0.table)), \"column\": \(quoted($0.column)), \"key\": \(quoted($0.key))}" }.joined(separator: ", ") + "]"
        }
        var fields = ["\"schema\": 1", "\"path\": \(quoted(path))", "\"class\": \(className.map(quoted) ?? "null")"]
        fields.append("\"entry\": \(quoted(entry))")
        if let bytes { fields.append("\"bytes\": \(bytes)") }
        fields.append("\"referenced_by\": \(rowsJSON(rows))")
        fields.append("\"derivative_of\": [" + derivativeOf.map { "{\"path\": \(quoted($0.parent)), \"referenced_by\": \(rowsJSON($0.rows))}" }.joined(separator: ", ") + "]")
        fields.append("\"would_remove\": \(wouldRemove)")
        fields.append("\"verdict\": \(quoted(verdict))")
        return "{" + fields.joined(separator: ", ") + "}\n"
    }
}
