/// `row_action: archive`: each selected row is saved whole in the janitor's store (every
/// column with its storage class and bytes), then deleted; `archive restore` puts it back.
///
/// Triggers: `row_action: archive` with row 2 selected (row 2 is gone from the table).
/// Does not trigger: `row_action: archive` with nothing selected.
struct ArchiveRowAction: RowActionKind {
    var keepsFiles: Bool { false }
    var archives: Bool { true }
    var removesRow: Bool { true }
    var changesRows: Bool { true }

    func statement(table: String, keyColumn: String, pathColumns: [String], dialect: SQLDialect) -> String? {
        DeleteRowAction().statement(table: table, keyColumn: keyColumn, pathColumns: pathColumns, dialect: dialect)
    }

    func pending(pathColumns: [String], dialect: SQLDialect) -> String? { nil }

    static let examples = [
        RowActionExample(
            yaml: "row_action: archive", setup: RowActionExample.chatTable, selected: ["2"],
            query: "SELECT id FROM chat_message ORDER BY id", expected: ["1", "3"], triggers: true),
        RowActionExample(
            yaml: "row_action: archive", setup: RowActionExample.chatTable, selected: [],
            query: "SELECT id FROM chat_message ORDER BY id", expected: ["1", "2", "3"], triggers: false),
    ]
}
