import JanitorCore

/// Newline-delimited JSON: one object per line, each starting with a `"type"` key, for `jq`,
/// log shippers and anything that streams. Fields and their order are those of the JSON report.
///
/// - scan: `summary` (schema, generated_at, media_root, shard when sharded, then the summary fields), then
///   `class`, `directory` and `finding` lines.
/// - usage: `usage` (schema, generated_at, media_root, files, bytes), then `class`,
///   `directory` and `owner` lines.
/// - history: `history` (schema, audits: the count), then one `audit` line per audit, newest first.
/// - check: `check` (schema, ok), then `diagnostic` and `fact` (`text`) lines.
/// - retention: `retention` (schema, generated_at, dry_run, violations, applied), then `class`
///   and `row` lines.
///
/// ```
/// {"type": "summary", "schema": 1, "generated_at": "2026-11-21T10:00:00Z", "media_root": "media", "files": 1200, ...}
/// {"type": "class", "name": "profile_pictures", "files": 300, ...}
/// {"type": "finding", "kind": "orphan", "path": "profile_pics/a.jpg", ...}
/// ```
public struct NDJSONFormatter: Sendable {
    /// Creates the formatter.
    public init() {}

    /// The scan report.
    public func format(_ report: ScanReport) -> String {
        let lines = report.classes.count + report.directories.count + report.findings.count
        var json = JSONWriter(capacity: 1_024 + 160 * lines)
        json.record("summary") {
            $0.field("schema", 1)
            $0.field("generated_at", report.generatedAt)
            $0.field("media_root", report.mediaRoot)
            $0.shard(report.shard)
            $0.summaryFields(report.summary)
        }
        for usage in report.classes { json.record("class") { $0.classUsageFields(usage) } }
        for usage in report.directories { json.record("directory") { $0.directoryUsageFields(usage) } }
        for finding in report.findings { json.record("finding") { $0.findingFields(finding) } }
        return json.string
    }

    /// The usage report.
    public func format(_ report: UsageReport) -> String {
        let lines = report.classes.count + report.directories.count + report.owners.count
        var json = JSONWriter(capacity: 1_024 + 128 * lines)
        json.record("usage") {
            $0.field("schema", 1)
            $0.field("generated_at", report.generatedAt)
            $0.field("media_root", report.mediaRoot)
            $0.field("files", report.files)
            $0.field("bytes", report.bytes)
        }
        for usage in report.classes { json.record("class") { $0.classUsageFields(usage) } }
        for usage in report.directories { json.record("directory") { $0.directoryUsageFields(usage) } }
        for usage in report.owners { json.record("owner") { $0.ownerUsageFields(usage) } }
        return json.string
    }

    /// The audit history.
    public func format(_ report: HistoryReport) -> String {
        var json = JSONWriter(capacity: 1_024 + 512 * report.audits.count)
        json.record("history") {
            $0.field("schema", 1)
            $0.field("audits", report.audits.count)
        }
        for (index, audit) in report.audits.enumerated() {
            json.record("audit") { $0.auditFields(audit, previous: report.audits.olderAudit(than: index)) }
        }
        return json.string
    }

    /// The check report.
    public func format(_ report: CheckReport) -> String {
        var json = JSONWriter(capacity: 1_024 + 256 * report.diagnostics.count + 64 * report.facts.count)
        json.record("check") {
            $0.field("schema", 1)
            $0.field("ok", !report.diagnostics.hasErrors)
        }
        for diagnostic in report.diagnostics { json.record("diagnostic") { $0.diagnosticFields(diagnostic) } }
        for fact in report.facts { json.record("fact") { $0.field("text", fact) } }
        return json.string
    }
}

extension JSONWriter {
    /// One NDJSON line: `{"type": "<type>", <fields>}` and a line break.
    mutating func record(_ type: StaticString, _ fields: (inout JSONWriter) -> Void) {
        beginObject()
        key("type")
        value(type)
        fields(&self)
        endObject()
        endLine()
    }
}
