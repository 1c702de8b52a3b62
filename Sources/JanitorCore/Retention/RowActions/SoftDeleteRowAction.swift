/// `row_action: soft_delete:<column>`: the column is set on each selected row, to 1 when its
/// declared type is an integer or boolean, otherwise to the current UTC time as
/// `YYYY-MM-DD HH:MM:SS.SSS` (what Django and Rails store). The row stays and still holds its
/// files, so they stay until the app deletes the row for good (DESIGN 6.2); rows already
/// marked are done and no longer under retention.
///
/// Triggers: `row_action: soft_delete:deleted_at` with row 1 selected (deleted_at is set).
/// Does not trigger: row 3, already marked, is not under retention.
struct SoftDeleteRowAction: RowActionKind {
    let column: String

    var keepsFiles: Bool { true }
    var archives: Bool { false }
    var removesRow: Bool { false }
    var changesRows: Bool { true }

    func statement(table: String, keyColumn: String, pathColumns: [String]) -> String? {
        let quoted = SQLIdentifier.quote(column)
        let declared = "(SELECT upper(type) FROM pragma_table_info('\(table.replacingOccurrences(of: "'", with: "''"))') WHERE name = '\(column.replacingOccurrences(of: "'", with: "''"))')"
        return """
            UPDATE \(SQLIdentifier.quote(table)) SET \(quoted) = CASE WHEN \(declared) LIKE '%INT%' OR \(declared) LIKE '%BOOL%' THEN 1 \
            ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END WHERE \(SQLIdentifier.quote(keyColumn)) = ?
            """
    }

    func pending(pathColumns: [String]) -> String? {
        let quoted = SQLIdentifier.quote(column)
        return "(\(quoted) IS NULL OR \(quoted) = 0 OR \(quoted) = '')"
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
