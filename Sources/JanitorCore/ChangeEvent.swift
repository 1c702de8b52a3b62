import Foundation

/// One change notification, whatever the channel (database trigger, HTTP, NDJSON):
/// "field `column` of row `key` of `table` went from `old` to `new`", or "row `key` was deleted".
public struct ChangeEvent: Sendable, Hashable {
    /// What happened to the row's field.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        /// The field changed from one file to another, or was cleared (`new` is nil).
        case replace
        /// The row was deleted (`new` is nil).
        case delete
        /// A file was put on a row that had none.
        case create
    }

    /// Makes delivery idempotent: an id seen before is a duplicate.
    public var id: String
    /// The table.
    public var table: String
    /// The column holding the path.
    public var column: String
    /// What happened.
    public var op: Operation
    /// The row's key, as text.
    public var key: String
    /// The path before the change (nil or empty: none).
    public var old: String?
    /// The path after the change (nil for `delete` and for a cleared field).
    public var new: String?
    /// The tenant, carried into the queue and reports.
    public var tenant: String?
    /// When the change happened.
    public var at: Date?

    /// Creates an event.
    public init(
        id: String, table: String, column: String, op: Operation, key: String, old: String?, new: String?,
        tenant: String? = nil, at: Date? = nil
    ) {
        self.id = id
        self.table = table
        self.column = column
        self.op = op
        self.key = key
        self.old = old
        self.new = new
        self.tenant = tenant
        self.at = at
    }
}
