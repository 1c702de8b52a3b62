/// `row_action: delete`: the selected rows are deleted, and their files go once no other row
/// holds them.
///
/// Triggers: `row_action: delete` with row 1 selected (row 1 is gone).
/// Does not trigger: `row_action: delete` with nothing selected.
struct DeleteRowAction: RowActionKind {
    var keepsFiles: Bool { false }
    var archives: Bool { false }
    var removesRow: Bool { true }
    var changesRows: Bool { true }

    func statement(table: String, keyColumn: String, pathColumns: [String], dialect: SQLDialect) -> String? {
        "DELETE FROM \(SQLIdentifier.quote(table)) WHERE \(SQLIdentifier.quote(keyColumn)) = \(dialect.keyPlaceholder)"
    }

    func pending(pathColumns: [String], dialect: SQLDialect) -> String? { nil }

    static let examples = [
        RowActionExample(
            yaml: "row_action: delete", setup: RowActionExample.chatTable, selected: ["1"],
            query: "SELECT id FROM chat_message ORDER BY id", expected: ["2", "3"], triggers: true),
        RowActionExample(
            yaml: "row_action: delete", setup: RowActionExample.chatTable, selected: [],
            query: "SELECT id FROM chat_message ORDER BY id", expected: ["1", "2", "3"], triggers: false),
    ]
}
