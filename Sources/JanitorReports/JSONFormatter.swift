import JanitorCore

/// The stable JSON reports (DESIGN section 4): `"schema": 1` first, keys in documented order,
/// nil values omitted, dates ISO-8601 UTC with seconds.
///
/// Each class, directory, owner, finding, audit and diagnostic sits on its own line so that
/// two reports diff line by line; the document as a whole is one valid JSON value.
///
/// Scan:
/// ```json
/// {"schema": 1, "generated_at": "2026-11-21T10:00:00Z", "media_root": "media",
///  "summary": {"files": 1200, "bytes": 73400320, "referenced": 1100, "orphans": 80, ...},
///  "classes": [
///   {"name": "profile_pictures", "files": 300, "bytes": 9437184, "orphans": 20, ...}
///  ],
///  "directories": [
///   {"path": "profile_pics", "files": 300, "bytes": 9437184, "orphans": 20, "orphan_bytes": 1048576}
///  ],
///  "findings": [
///   {"kind": "orphan", "path": "profile_pics/a.jpg", "class": "profile_pictures", "bytes": 52311, ...}
///  ]}
/// ```
public struct JSONFormatter: Sendable {
    /// Creates the formatter.
    public init() {}

    /// The scan report: `schema, generated_at, media_root, shard, summary, classes, directories,
    /// findings`; `shard` (`{"index": 2, "count": 3}`) only in the report of `scan --shard 2/3`.
    public func format(_ report: ScanReport) -> String {
        // About 160 bytes per finding; reserving up front avoids repeated regrowth of a large buffer.
        let usageLines = report.classes.count + report.directories.count
        var json = JSONWriter(capacity: 1_024 + 128 * usageLines + 160 * report.findings.count)
        json.beginObject()
        json.field("schema", 1)
        json.field("generated_at", report.generatedAt)
        json.field("media_root", report.mediaRoot)
        json.shard(report.shard)
        json.elementOnNewLine(indent: 1)
        json.key("summary")
        json.summary(report.summary)
        json.elementOnNewLine(indent: 1)
        json.key("classes")
        json.lines(report.classes) { $0.classUsage($1) }
        json.elementOnNewLine(indent: 1)
        json.key("directories")
        json.lines(report.directories) { $0.directoryUsage($1) }
        json.elementOnNewLine(indent: 1)
        json.key("findings")
        json.lines(report.findings) { $0.finding($1) }
        json.endObject()
        json.endLine()
        return json.string
    }

    /// The usage report: `schema, generated_at, media_root, files, bytes, classes, directories, owners`.
    public func format(_ report: UsageReport) -> String {
        let lines = report.classes.count + report.directories.count + report.owners.count
        var json = JSONWriter(capacity: 1_024 + 128 * lines)
        json.beginObject()
        json.field("schema", 1)
        json.field("generated_at", report.generatedAt)
        json.field("media_root", report.mediaRoot)
        json.field("files", report.files)
        json.field("bytes", report.bytes)
        json.elementOnNewLine(indent: 1)
        json.key("classes")
        json.lines(report.classes) { $0.classUsage($1) }
        json.elementOnNewLine(indent: 1)
        json.key("directories")
        json.lines(report.directories) { $0.directoryUsage($1) }
        json.elementOnNewLine(indent: 1)
        json.key("owners")
        json.lines(report.owners) { $0.ownerUsage($1) }
        json.endObject()
        json.endLine()
        return json.string
    }

    /// The audit history, newest first: `schema, audits`; each audit carries `id, generated_at,
    /// media_root, summary, change`, where `change` holds each summary field minus the same field
    /// of the next older audit, and is `null` for the oldest.
    public func format(_ report: HistoryReport) -> String {
        var json = JSONWriter(capacity: 1_024 + 512 * report.audits.count)
        json.beginObject()
        json.field("schema", 1)
        json.elementOnNewLine(indent: 1)
        json.key("audits")
        json.beginArray()
        for (index, audit) in report.audits.enumerated() {
            json.elementOnNewLine(indent: 2)
            json.audit(audit, previous: report.audits.olderAudit(than: index))
        }
        json.endArray(lineBreakIndent: report.audits.isEmpty ? nil : 1)
        json.endObject()
        json.endLine()
        return json.string
    }

    /// The check report: `schema, ok, diagnostics, facts`; `ok` is false when any diagnostic is
    /// an error. A diagnostic without a location has no `file`, `line` and `column` keys.
    public func format(_ report: CheckReport) -> String {
        var json = JSONWriter(capacity: 1_024 + 256 * report.diagnostics.count + 64 * report.facts.count)
        json.beginObject()
        json.field("schema", 1)
        json.field("ok", !report.diagnostics.hasErrors)
        json.elementOnNewLine(indent: 1)
        json.key("diagnostics")
        json.lines(report.diagnostics) { $0.diagnostic($1) }
        json.elementOnNewLine(indent: 1)
        json.key("facts")
        json.lines(report.facts) { $0.value($1) }
        json.endObject()
        json.endLine()
        return json.string
    }
}

// The objects every JSON format shares, written in the documented key order. NDJSON writes the
// same fields after its `"type"` key.
extension JSONWriter {
    /// An array with one element per line, `[]` when empty.
    mutating func lines<Item>(_ items: [Item], _ write: (inout JSONWriter, Item) -> Void) {
        beginArray()
        for item in items {
            elementOnNewLine(indent: 2)
            write(&self, item)
        }
        endArray(lineBreakIndent: items.isEmpty ? nil : 1)
    }

    /// `{"files", "bytes", "referenced", "orphans", "orphan_bytes", "missing", "unclassified",
    /// "invalid", "too_young", "excluded"}`.
    mutating func summary(_ summary: ScanSummary) {
        beginObject()
        summaryFields(summary)
        endObject()
    }

    /// The summary's fields, without braces.
    mutating func summaryFields(_ summary: ScanSummary) {
        field("files", summary.files)
        field("bytes", summary.bytes)
        field("referenced", summary.referenced)
        field("orphans", summary.orphans)
        field("orphan_bytes", summary.orphanBytes)
        field("missing", summary.missing)
        field("unclassified", summary.unclassified)
        field("invalid", summary.invalid)
        field("too_young", summary.tooYoung)
        field("excluded", summary.excluded)
    }

    /// The difference of every summary field, `newer - older`, with the summary's keys.
    mutating func summaryChange(_ newer: ScanSummary, since older: ScanSummary) {
        beginObject()
        field("files", newer.files - older.files)
        field("bytes", newer.bytes - older.bytes)
        field("referenced", newer.referenced - older.referenced)
        field("orphans", newer.orphans - older.orphans)
        field("orphan_bytes", newer.orphanBytes - older.orphanBytes)
        field("missing", newer.missing - older.missing)
        field("unclassified", newer.unclassified - older.unclassified)
        field("invalid", newer.invalid - older.invalid)
        field("too_young", newer.tooYoung - older.tooYoung)
        field("excluded", newer.excluded - older.excluded)
        endObject()
    }

    /// `"shard": {"index", "count"}`, or nothing for a report of the whole tree.
    mutating func shard(_ shard: Shard?) {
        guard let shard else { return }
        key("shard")
        beginObject()
        field("index", shard.index)
        field("count", shard.count)
        endObject()
    }

    /// `{"name", "files", "bytes", "orphans", "orphan_bytes", "missing"}`.
    mutating func classUsage(_ usage: ClassUsage) {
        beginObject()
        classUsageFields(usage)
        endObject()
    }

    /// The class usage's fields, without braces.
    mutating func classUsageFields(_ usage: ClassUsage) {
        field("name", usage.name)
        field("files", usage.files)
        field("bytes", usage.bytes)
        field("orphans", usage.orphans)
        field("orphan_bytes", usage.orphanBytes)
        field("missing", usage.missing)
    }

    /// `{"path", "files", "bytes", "orphans", "orphan_bytes"}`.
    mutating func directoryUsage(_ usage: DirectoryUsage) {
        beginObject()
        directoryUsageFields(usage)
        endObject()
    }

    /// The directory usage's fields, without braces.
    mutating func directoryUsageFields(_ usage: DirectoryUsage) {
        field("path", usage.path)
        field("files", usage.files)
        field("bytes", usage.bytes)
        field("orphans", usage.orphans)
        field("orphan_bytes", usage.orphanBytes)
    }

    /// `{"class", "owner", "files", "bytes"}`.
    mutating func ownerUsage(_ usage: OwnerUsage) {
        beginObject()
        ownerUsageFields(usage)
        endObject()
    }

    /// The owner usage's fields, without braces.
    mutating func ownerUsageFields(_ usage: OwnerUsage) {
        field("class", usage.className)
        field("owner", usage.owner)
        field("files", usage.files)
        field("bytes", usage.bytes)
    }

    /// `{"kind", "path", "value", "class", "bytes", "mtime", "reason", "referenced_by"}`, nil
    /// values and an empty `referenced_by` omitted.
    mutating func finding(_ finding: Finding) {
        beginObject()
        findingFields(finding)
        endObject()
    }

    /// The finding's fields, without braces.
    mutating func findingFields(_ finding: Finding) {
        field("kind", finding.kind.rawValue)
        field("path", finding.path)
        field("value", finding.value)
        field("class", finding.className)
        field("bytes", finding.bytes)
        field("mtime", finding.mtime)
        field("reason", finding.reason)
        guard !finding.referencedBy.isEmpty else { return }
        key("referenced_by")
        beginArray()
        for reference in finding.referencedBy {
            element()
            beginObject()
            field("table", reference.table)
            field("column", reference.column)
            field("key", reference.key)
            endObject()
        }
        endArray()
    }

    /// `{"id", "generated_at", "media_root", "summary", "change"}`.
    mutating func audit(_ audit: AuditRecord, previous: AuditRecord?) {
        beginObject()
        auditFields(audit, previous: previous)
        endObject()
    }

    /// The audit's fields, without braces.
    mutating func auditFields(_ audit: AuditRecord, previous: AuditRecord?) {
        field("id", audit.id)
        field("generated_at", audit.generatedAt)
        field("media_root", audit.mediaRoot)
        key("summary")
        summary(audit.summary)
        key("change")
        if let previous {
            summaryChange(audit.summary, since: previous.summary)
        } else {
            null()
        }
    }

    /// `{"severity", "file", "line", "column", "message", "id"}`, location keys omitted when the
    /// diagnostic has no location.
    mutating func diagnostic(_ diagnostic: Diagnostic) {
        beginObject()
        diagnosticFields(diagnostic)
        endObject()
    }

    /// The diagnostic's fields, without braces.
    mutating func diagnosticFields(_ diagnostic: Diagnostic) {
        field("severity", diagnostic.severity.rawValue)
        if let location = diagnostic.location {
            field("file", location.file)
            field("line", location.line)
            field("column", location.column)
        }
        field("message", diagnostic.message)
        field("id", diagnostic.id)
    }
}
