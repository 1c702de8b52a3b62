/// `row_action: soft_delete:<column>`: the column is set on each selected row, to 1 (true) when
/// its declared type is an integer or boolean, otherwise to the current UTC time: a timestamp
/// in a timestamp or date column, and text `YYYY-MM-DD HH:MM:SS.SSS` (what Django and Rails
/// store) in a text column. The row stays and still holds its files, so they stay until the
/// app deletes the row for good (DESIGN 6.2); rows already marked are done and no longer under
/// retention.
///
/// Triggers: `row_action: soft_delete:deleted_at` with row 1 selected (deleted_at is set).
/// Does not trigger: row 3, already marked, is not under retention.
struct SoftDeleteRowAction: RowActionKind {
    let column: String

    var keepsFiles: Bool { true }
    var archives: Bool { false }
    var removesRow: Bool { false }
    var changesRows: Bool { true }

    func statement(table: String, keyColumn: String, pathColumns: [String], dialect: SQLDialect) -> String? {
        let quoted = SQLIdentifier.quote(column)
        switch dialect {
        case .sqlite:
            let declared = "(SELECT upper(type) FROM pragma_table_info('\(table.replacingOccurrences(of: "'", with: "''"))') WHERE name = '\(column.replacingOccurrences(of: "'", with: "''"))')"
            return """
                UPDATE \(SQLIdentifier.quote(table)) SET \(quoted) = CASE WHEN \(declared) LIKE '%INT%' OR \(declared) LIKE '%BOOL%' THEN 1 \
                ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END WHERE \(SQLIdentifier.quote(keyColumn)) = ?
                """
        case .postgres:
            // PostgreSQL types every expression when it parses the statement, so no CASE can
            // yield 1 for one column type and a time for another. The value is chosen as text by
            // the column's type, which the parser already knows (`pg_typeof`: no catalog query
            // at all, per row or otherwise), and `jsonb_populate_record` reads that text with the
            // column type's own input function: '1' is true or 1, the time a timestamp, a
            // timestamptz (the "+00" says UTC) or a date, and Django-style text for a text column.
            let type = "pg_typeof(\(quoted))"
            let name = column.replacingOccurrences(of: "'", with: "''")
            let now = "now() AT TIME ZONE 'UTC'"
            return """
                UPDATE \(SQLIdentifier.quote(table)) SET \(quoted) = (jsonb_populate_record(NULL::\(SQLIdentifier.quote(table)), jsonb_build_object('\(name)', CASE \
                WHEN \(type) IN ('boolean'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype) THEN '1' \
                WHEN \(type) IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype) THEN to_char(\(now), 'YYYY-MM-DD HH24:MI:SS.MS') \
                ELSE to_char(\(now), 'YYYY-MM-DD HH24:MI:SS.US"+00"') END))).\(quoted) WHERE \(SQLIdentifier.quote(keyColumn)) = $1
                """
        }
    }

    func pending(pathColumns: [String], dialect: SQLDialect) -> String? {
        let quoted = SQLIdentifier.quote(column)
        switch dialect {
        case .sqlite:
            return "(\(quoted) IS NULL OR \(quoted) = 0 OR \(quoted) = '')"
        case .postgres:
            // As text, so one condition fits every column type: 0, false and '' are unmarked.
            return "(\(quoted) IS NULL OR \(quoted)::text IN ('0', 'false', ''))"
        }
    }

    static let examples = [
        RowActionExample(
            yaml: "row_action: soft_delete:deleted_at", setup: RowActionExample.chatTable, selected: ["1"],
            query: "SELECT id, deleted_at IS NOT NULL, image FROM chat_message ORDER BY id", expected: ["1|1|chat/1.jpg", "2|0|chat/2.jpg", "3|1|chat/3.jpg"], triggers: true),
        RowActionExample(
            yaml: "row_action: soft_delete:hidden", setup: RowActionExample.chatTable, selected: ["2"],
            query: "SELECT id, hidden FROM chat_message ORDER BY id", expected: ["1|0", "2|1", "3|0"], triggers: true),
        RowActionExample(
            yaml: "row_action: soft_delete:deleted_at", setup: RowActionExample.chatTable, selected: [],
            query: "SELECT id, deleted_at FROM chat_message ORDER BY id", expected: ["1|NULL", "2|NULL", "3|2026-01-01 00:00:00"], triggers: false),
    ]
}
