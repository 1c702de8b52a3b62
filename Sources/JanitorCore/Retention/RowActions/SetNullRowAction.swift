/// `row_action: set_null`: the class's path columns of each selected row are set to NULL; the
/// row stays (records pointing at it survive) and its files go once nothing else holds them.
/// Rows whose path columns are all empty are done and no longer under retention.
///
/// Triggers: `row_action: set_null` with row 1 selected (its image is NULL).
/// Does not trigger: a row whose image is already NULL is not under retention.
struct SetNullRowAction: RowActionKind {
    var keepsFiles: Bool { false }
    var archives: Bool { false }
    var removesRow: Bool { false }
    var changesRows: Bool { true }

    func statement(table: String, keyColumn: String, pathColumns: [String], dialect: SQLDialect) -> String? {
        guard !pathColumns.isEmpty else { return nil }
        let assignments = pathColumns.map { "\(SQLIdentifier.quote($0)) = NULL" }.joined(separator: ", ")
        return "UPDATE \(SQLIdentifier.quote(table)) SET \(assignments) WHERE \(SQLIdentifier.quote(keyColumn)) = \(dialect.keyPlaceholder)"
    }

    /// The same in both dialects: path columns hold text.
    func pending(pathColumns: [String], dialect: SQLDialect) -> String? {
        guard !pathColumns.isEmpty else { return nil }
        return "(" + pathColumns.map { "(\(SQLIdentifier.quote($0)) IS NOT NULL AND \(SQLIdentifier.quote($0)) <> '')" }.joined(separator: " OR ") + ")"
    }

    static let examples = [
        RowActionExample(
            yaml: "row_action: set_null", setup: RowActionExample.chatTable, selected: ["1"],
            query: "SELECT id, image FROM chat_message ORDER BY id", expected: ["1|NULL", "2|chat/2.jpg", "3|chat/3.jpg"], triggers: true),
        RowActionExample(
            yaml: "row_action: set_null", setup: RowActionExample.chatTable + "UPDATE chat_message SET image = NULL WHERE id = 2;", selected: [],
            query: "SELECT id, image FROM chat_message ORDER BY id", expected: ["1|chat/1.jpg", "2|NULL", "3|chat/3.jpg"], triggers: false),
    ]
}
