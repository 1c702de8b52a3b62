/// `row_action: none` (the default): retention only reports. Rows stay, so their files stay
/// referenced and nothing is removed (DESIGN 6.2); `check` warns about it.
///
/// Triggers: never. Does not trigger: `row_action: none` with rows selected.
struct NoneRowAction: RowActionKind {
    var keepsFiles: Bool { true }
    var archives: Bool { false }
    var removesRow: Bool { false }
    var changesRows: Bool { false }

    func statement(table: String, keyColumn: String, pathColumns: [String], dialect: SQLDialect) -> String? { nil }

    func pending(pathColumns: [String], dialect: SQLDialect) -> String? { nil }

    static let examples = [
        RowActionExample(
            yaml: "row_action: none", setup: RowActionExample.chatTable, selected: ["1"],
            query: "SELECT id, image FROM chat_message ORDER BY id", expected: ["1|chat/1.jpg", "2|chat/2.jpg", "3|chat/3.jpg"], triggers: false)
    ]
}
