import Foundation

/// How one `row_action` changes the rows retention selected: SQL the app database runs, one
/// row at a time inside a batch transaction. One file per action, each with its examples.
public protocol RowActionKind: Sendable {
    /// Whether the row keeps holding its files afterwards (so they stay referenced and stay).
    var keepsFiles: Bool { get }
    /// Whether the row is saved in the janitor's store before it is changed.
    var archives: Bool { get }
    /// Whether the row is gone afterwards (every column of it stops holding files).
    var removesRow: Bool { get }
    /// Whether the action changes rows at all (`none` does not).
    var changesRows: Bool { get }
    /// The statement for one row in the app database's dialect, its single placeholder (`?` in
    /// SQLite, `$1` in PostgreSQL) bound to the key; nil when rows are left alone.
    func statement(table: String, keyColumn: String, pathColumns: [String], dialect: SQLDialect) -> String?
    /// A condition, in the app database's dialect, on the rows still under retention (rows this
    /// action already handled are done); nil when every row is.
    func pending(pathColumns: [String], dialect: SQLDialect) -> String?
    /// The YAML that triggers the action and what the table holds afterwards.
    static var examples: [RowActionExample] { get }
}

/// A row action's example: run on `setup`'s table with the rows `selected`, `query` returns
/// `expected`, one line per row with values separated by `|` (NULL as `NULL`, booleans as
/// SQLite stores them, `1` and `0`).
public struct RowActionExample: Sendable {
    /// The `retention` lines of the class (`row_action: delete`).
    public var yaml: String
    /// SQL creating and filling table `chat_message` (key `id`, path column `image`).
    public var setup: String
    /// Keys of the rows retention selected.
    public var selected: [String]
    /// A query over the table afterwards.
    public var query: String
    /// Its rows.
    public var expected: [String]
    /// Whether the action changes any row (the triggering example) or not.
    public var triggers: Bool

    /// Creates an example.
    public init(yaml: String, setup: String, selected: [String], query: String, expected: [String], triggers: Bool) {
        self.yaml = yaml
        self.setup = setup
        self.selected = selected
        self.query = query
        self.expected = expected
        self.triggers = triggers
    }

    /// The table every example starts from: three messages, one soft-deleted already. Plain
    /// SQL that SQLite and PostgreSQL both run, so the examples run on both.
    public static let chatTable = """
        CREATE TABLE chat_message (id INTEGER PRIMARY KEY, image TEXT, deleted_at TEXT, hidden BOOLEAN NOT NULL DEFAULT FALSE);
        INSERT INTO chat_message (id, image, deleted_at) VALUES (1, 'chat/1.jpg', NULL), (2, 'chat/2.jpg', NULL), (3, 'chat/3.jpg', '2026-01-01 00:00:00');
        """
}

extension RowAction {
    /// The action's behaviour.
    public var kind: any RowActionKind {
        switch self {
        case .none: NoneRowAction()
        case .delete: DeleteRowAction()
        case .archive: ArchiveRowAction()
        case .setNull: SetNullRowAction()
        case .softDelete(let column): SoftDeleteRowAction(column: column)
        }
    }

    /// Every action's examples, for the generic test.
    public static var allExamples: [(action: String, examples: [RowActionExample])] {
        [
            ("none", NoneRowAction.examples), ("delete", DeleteRowAction.examples), ("archive", ArchiveRowAction.examples),
            ("set_null", SetNullRowAction.examples), ("soft_delete", SoftDeleteRowAction.examples),
        ]
    }
}

/// The SQL of the app's database, which row action statements are written in.
public enum SQLDialect: String, Sendable, Hashable, CaseIterable {
    /// SQLite: `?` placeholders; the key is bound as text and SQLite's column affinity converts it.
    case sqlite
    /// PostgreSQL: `$1` placeholders; the key is bound as untyped text, so the server gives it
    /// the key column's own type (integer, uuid, text) and the key's index serves the lookup.
    case postgres

    /// The placeholder of a statement's single parameter, the key.
    public var keyPlaceholder: String {
        switch self {
        case .sqlite: "?"
        case .postgres: "$1"
        }
    }
}

/// SQL identifier quoting for the statements row actions build.
public enum SQLIdentifier {
    /// Quotes an identifier (`schema.table` becomes `"schema"."table"`).
    public static func quote(_ identifier: String) -> String {
        identifier.split(separator: ".").map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ".")
    }
}
