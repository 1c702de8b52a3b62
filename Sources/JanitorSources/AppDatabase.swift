import Foundation
import JanitorCore

/// The app's database as the janitor reads it: SQLite (`SQLiteAppDatabase`) or PostgreSQL
/// (`PostgresAppDatabase`). Every read streams whole columns (never one query per file), and
/// nothing here writes.
public protocol AppDatabase: Sendable {
    /// `sqlite:PATH` or `postgres://user@host:port/database`, for messages.
    var location: String { get }
    /// Table names and their columns, for schema checks and `init`.
    func schema() throws(SourceError) -> [String: [String]]
    /// Every table (views left out: they repeat their tables' columns and take no triggers) with
    /// its columns, the ones that can hold text, and its primary key, for `init`.
    func inspectTables() throws(SourceError) -> [InspectedTable]
    /// Up to `limit` non-NULL, non-empty values of one column as text, for `init`: one query
    /// that stops at the limit, its rows streamed.
    func sampleValues(table: String, column: String, limit: Int) throws(SourceError) -> [String]
    /// Streams every path-holding column into `references`.
    func readReferences(into references: inout ReferenceSet) throws(SourceError)
    /// The rows that still hold each of `paths`, across every given column: one streaming pass
    /// over each column for the whole set. Values are normalised before comparing, so
    /// `./a//b.jpg` and an absolute path inside the root protect `a/b.jpg`.
    func rowsHolding(_ paths: [String], columns: [ReferenceSet.Column], mediaRoot: String) throws(SourceError) -> [String: [RowReference]]
    /// Every row of a class's reference tables still under retention, with what the policies
    /// need: key, created time, owner, group and the files it holds.
    func retentionRows(of mediaClass: MediaClass, mediaRoot: String) throws(SourceError) -> [StoredRetentionRow]
    /// Per-owner limits of `max_age_per_owner`, and how many values were not valid limits.
    func ownerLimits(_ ttl: OwnerTTL) throws(SourceError) -> (limits: [String: Seconds], invalid: Int)
    /// The whole stored rows of `keys`, as `archive` saves them.
    func storedRows(table: String, keyColumn: String, keys: [String]) throws(SourceError) -> [String: ArchivedRow]
    /// Why retention cannot run on these classes as configured (a key that is not unique,
    /// `archive` under a cascading foreign key); empty when it can.
    func retentionProblems(_ classes: [MediaClass]) throws(SourceError) -> [String]
}

extension AppDatabase {
    /// Checks that every table and column the classes name exists; one diagnostic per
    /// problem, at the reference's place in the config, listing what exists.
    public func checkSchema(_ classes: [MediaClass]) throws(SourceError) -> [Diagnostic] {
        SchemaCheck.diagnose(classes, tables: try schema(), location: location)
    }
}

/// Changes the app's rows for retention (`row_action`) and puts archived rows back, with the
/// app's foreign keys enforced.
public protocol AppRowWriter: Sendable {
    /// The SQL this database speaks: row action statements are written in it.
    var dialect: SQLDialect { get }
    /// Runs `body` in one transaction of the app's database that no other writer can change
    /// what it read in before it commits; a throw rolls every change back.
    func inTransaction<T>(_ body: (any RowTransaction) throws -> T) throws -> T
    /// Puts an archived row back with every value bound as it was stored, unless a row
    /// already holds its key.
    func restore(_ row: ArchivedRow) throws(SourceError) -> Restoration
}

/// What `AppRowWriter.restore` found.
public enum Restoration: Sendable, Hashable {
    /// The row is back.
    case restored
    /// A row with that key holds exactly the archived values (restored before).
    case alreadyThere
    /// A different row holds that key; nothing was written.
    case conflict
}

/// The app's database inside an `AppRowWriter` transaction.
public protocol RowTransaction {
    /// The whole stored rows of `keys`, as `archive` saves them.
    func rows(table: String, keyColumn: String, keys: [String]) throws -> [String: ArchivedRow]
    /// Runs a row action's statement (`RowActionKind.statement`, its single `?` bound to the
    /// key) for one key; returns how many rows it changed (0: the row is gone).
    func execute(_ sql: String, key: String) throws -> Int
}

/// The hooks of an app database: an outbox table written by triggers on every reference
/// column inside the app's own transactions, and what `serve` needs to drain it.
public protocol AppHooks: Sendable {
    /// Creates the outbox and the triggers of every reference column, replaces stale ones and
    /// drops those of columns no longer configured; returns the status afterwards. Idempotent,
    /// in one transaction.
    func install(_ columns: [ReferenceColumn]) throws(SourceError) -> HooksStatus
    /// Drops the triggers and, unless rows are pending (or `force`), the outbox.
    func uninstall(force: Bool) throws(SourceError)
    /// What is installed, against what the config expects.
    func status(_ columns: [ReferenceColumn]) throws(SourceError) -> HooksStatus
    /// A number that moves whenever the app may have written the outbox: SQLite's
    /// `PRAGMA data_version`, or the count of `pg_notify` notifications received. Cheap:
    /// `serve` asks it every 50 ms.
    func changeCount() throws(SourceError) -> Int
    /// Whether the outbox table exists (the hooks were installed).
    func hasOutbox() throws(SourceError) -> Bool
    /// Up to `limit` outbox rows, oldest first.
    func pending(limit: Int) throws(SourceError) -> [OutboxRow]
    /// Deletes outbox rows whose events were recorded.
    func acknowledge(_ ids: [Int64]) throws(SourceError)
}
