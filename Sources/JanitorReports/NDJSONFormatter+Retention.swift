import JanitorCore

extension NDJSONFormatter {
    /// The retention report: a `retention` line (schema, generated_at, dry_run, violations,
    /// applied), then one `class` line per class and one `row` line per selected row, with the
    /// fields of the JSON report.
    public func format(_ report: RetentionReport) -> String {
        var json = JSONWriter(capacity: 1_024 + 320 * report.classes.count + 384 * report.rows.count)
        json.record("retention") {
            $0.field("schema", 1)
            $0.field("generated_at", report.generatedAt)
            $0.field("dry_run", report.dryRun)
            $0.key("violations")
            $0.beginArray()
            for violation in report.violations {
                $0.element()
                $0.value(violation)
            }
            $0.endArray()
            $0.key("applied")
            $0.retentionOutcome(report.applied)
        }
        for plan in report.classes { json.record("class") { $0.retentionClassFields(plan) } }
        for row in report.rows { json.record("row") { $0.plannedRowFields(row) } }
        return json.string
    }
}
