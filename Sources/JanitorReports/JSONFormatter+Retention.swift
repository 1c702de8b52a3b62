import JanitorCore

extension JSONFormatter {
    /// The retention report: `schema, generated_at, dry_run, classes, rows, violations, applied`.
    ///
    /// Unlike the scan, every key is always written, `null` when absent (`created`, `owner`,
    /// `group`, `held_by`, `applied`), so that a consumer can tell a dry run (`applied: null`)
    /// from a run that changed nothing. `by_policy` maps each policy to its rows, in policy order.
    ///
    /// ```json
    /// {"schema": 1, "generated_at": "2026-11-21T10:00:00Z", "dry_run": true,
    ///  "classes": [
    ///   {"name": "chat_media", "row_action": "delete", "rows": 1200, ..., "by_policy": {"max_age": 3}}
    ///  ],
    ///  "rows": [
    ///   {"class": "chat_media", "table": "chat_message", "key": "101", "policy": "max_age", ...,
    ///    "files": [{"path": "chat/a.jpg", "bytes": 1048576, "fate": "removed", "held_by": null}]}
    ///  ],
    ///  "violations": [],
    ///  "applied": null}
    /// ```
    public func format(_ report: RetentionReport) -> String {
        let files = report.rows.reduce(0) { $0 + $1.files.count }
        var json = JSONWriter(capacity: 1_024 + 320 * report.classes.count + 256 * report.rows.count + 160 * files)
        json.beginObject()
        json.field("schema", 1)
        json.field("generated_at", report.generatedAt)
        json.field("dry_run", report.dryRun)
        json.elementOnNewLine(indent: 1)
        json.key("classes")
        json.lines(report.classes) { $0.retentionClass($1) }
        json.elementOnNewLine(indent: 1)
        json.key("rows")
        json.lines(report.rows) { $0.plannedRow($1) }
        json.elementOnNewLine(indent: 1)
        json.key("violations")
        json.lines(report.violations) { $0.value($1) }
        json.elementOnNewLine(indent: 1)
        json.key("applied")
        json.retentionOutcome(report.applied)
        json.endObject()
        json.endLine()
        return json.string
    }
}

// The retention objects JSON and NDJSON share, in the documented key order.
extension JSONWriter {
    /// `{"name", "row_action", "rows", "files", "bytes", "selected_rows", "freed_files",
    /// "freed_file_bytes", "freed_row_bytes", "kept_files", "by_policy"}`.
    mutating func retentionClass(_ plan: RetentionClassPlan) {
        beginObject()
        retentionClassFields(plan)
        endObject()
    }

    /// The class plan's fields, without braces.
    mutating func retentionClassFields(_ plan: RetentionClassPlan) {
        field("name", plan.name)
        field("row_action", plan.rowAction)
        field("rows", plan.rows)
        field("files", plan.files)
        field("bytes", plan.bytes)
        field("selected_rows", plan.selectedRows)
        field("freed_files", plan.freedFiles)
        field("freed_file_bytes", plan.freedFileBytes)
        field("freed_row_bytes", plan.freedRowBytes)
        field("kept_files", plan.keptFiles)
        key("by_policy")
        beginObject()
        for count in plan.byPolicy {
            key(count.policy)
            value(count.rows)
        }
        endObject()
    }

    /// `{"class", "table", "key", "policy", "reason", "created", "owner", "group", "row_bytes",
    /// "files"}`; each file is `{"path", "bytes", "fate", "held_by"}`, `held_by` a
    /// `{"table", "column", "key"}` object or `null`.
    mutating func plannedRow(_ row: PlannedRow) {
        beginObject()
        plannedRowFields(row)
        endObject()
    }

    /// The planned row's fields, without braces.
    mutating func plannedRowFields(_ row: PlannedRow) {
        field("class", row.className)
        field("table", row.table)
        field("key", row.key)
        field("policy", row.policy)
        field("reason", row.reason)
        key("created")
        if let created = row.created { value(created) } else { null() }
        key("owner")
        if let owner = row.owner { value(owner) } else { null() }
        key("group")
        if let group = row.group { value(group) } else { null() }
        field("row_bytes", row.rowBytes)
        key("files")
        beginArray()
        for file in row.files {
            element()
            beginObject()
            field("path", file.path)
            field("bytes", file.bytes)
            field("fate", file.fate.rawValue)
            key("held_by")
            if let reference = file.heldBy {
                beginObject()
                field("table", reference.table)
                field("column", reference.column)
                field("key", reference.key)
                endObject()
            } else {
                null()
            }
            endObject()
        }
        endArray()
    }

    /// `{"rows_changed", "rows_archived", "failures", "files_queued", "files_removed",
    /// "bytes_removed"}`, or `null` when nothing was applied.
    mutating func retentionOutcome(_ outcome: RetentionOutcome?) {
        guard let outcome else {
            null()
            return
        }
        beginObject()
        field("rows_changed", outcome.rowsChanged)
        field("rows_archived", outcome.rowsArchived)
        key("failures")
        beginArray()
        for failure in outcome.failures {
            element()
            value(failure)
        }
        endArray()
        field("files_queued", outcome.filesQueued)
        field("files_removed", outcome.filesRemoved)
        field("bytes_removed", outcome.bytesRemoved)
        endObject()
    }
}
