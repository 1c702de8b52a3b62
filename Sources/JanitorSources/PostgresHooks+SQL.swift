import Foundation
import JanitorCore
import JanitorPostgres
import PostgresNIO

/// Where the hooks' objects live in one database: the outbox and the trigger function, in the
/// schema PostgreSQL creates the janitor user's unqualified tables in.
struct PostgresHookNames: Sendable, Hashable {
    /// The first existing schema of the user's `search_path`.
    var schema: String

    /// The trigger function every janitor trigger calls.
    static let function = "janitor_record_change"

    /// The outbox, schema-qualified: the triggers run with the app's `search_path`, not ours.
    var outbox: String { "\(PostgresHookSQL.quote(schema)).\(PostgresHookSQL.quote(PostgresHooks.outboxTable))" }
    /// The trigger function, schema-qualified.
    var function: String { "\(PostgresHookSQL.quote(schema)).\(PostgresHookSQL.quote(Self.function))" }
}

/// The SQL of the PostgreSQL hooks: what `install` creates, and the catalog reads `status`
/// compares with it.
///
/// Staleness is decided without predicting how PostgreSQL prints a trigger: `install` stores in
/// each trigger's comment a hash of the SQL it ran and an md5 of `pg_get_triggerdef` right
/// after; a trigger is current while both still match (another janitor version, a trigger
/// rewritten by hand or by `CREATE OR REPLACE TRIGGER`, a renamed column all change one). The
/// function is compared by its exact source (`prosrc`), `SECURITY DEFINER` and settings.
enum PostgresHookSQL {
    /// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1 bytes).
    static let maxIdentifierBytes = 63

    /// The first line of the function body; `uninstall` drops only functions that carry it.
    static let marker = "-- media-janitor hooks"

    // MARK: Naming and quoting

    /// Quotes one identifier; a dot stays part of the name.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A string literal (`standard_conforming_strings` is on since PostgreSQL 9.1).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// One reference column the hooks watch, with the base of its triggers' names.
    struct Watched {
        var reference: ReferenceColumn
        var column: String
        /// `janitor_<table>_<column>`, plus a hash when sanitising, a collision or the length
        /// limit made it ambiguous.
        var base: String
        var qualifiedName: String { "\(reference.table).\(column)" }
    }

    /// Reference columns that hold paths, once each, in order. PostgreSQL names are exact, so
    /// `Photo` and `photo` are two tables.
    static func watched(_ columns: [ReferenceColumn]) -> [Watched] {
        var seen: Set<String> = []
        var unique: [(ReferenceColumn, String)] = []
        for reference in columns {
            guard let column = reference.column else { continue }
            guard seen.insert("\(reference.table)\u{0}\(column)").inserted else { continue }
            unique.append((reference, column))
        }
        let bases = unique.map { baseName($0.0.table, $0.1) }
        var uses: [String: Int] = [:]
        for base in bases { uses[base.name, default: 0] += 1 }
        // `_update` and `_delete` are both 7 bytes.
        let limit = maxIdentifierBytes - "_update".utf8.count
        return unique.enumerated().map { index, pair in
            var name = bases[index].name
            // `a_b.c` and `a.b_c` would share a name, `Photo` and `photo` too, and PostgreSQL
            // would silently cut a long one: a hash of the exact names keeps them apart.
            if bases[index].altered || uses[name, default: 0] > 1 || name.utf8.count > limit {
                name = String(name.prefix(limit - 9)) + "_" + fnv1a32("\(pair.0.table)\u{0}\(pair.1)")
            }
            return Watched(reference: pair.0, column: pair.1, base: name)
        }
    }

    private static func baseName(_ table: String, _ column: String) -> (name: String, altered: Bool) {
        var altered = false
        func sanitise(_ text: String) -> String {
            String(
                text.lowercased().unicodeScalars.map { scalar -> Character in
                    if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" { return Character(scalar) }
                    altered = true
                    return "_"
                })
        }
        return ("janitor_\(sanitise(table))_\(sanitise(column))", altered)
    }

    static func fnv1a32(_ text: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: Transactions

    /// Serialises janitors installing at once, and gives up on a table the app keeps locked
    /// instead of queueing every app write behind `CREATE TRIGGER`'s lock.
    static func lockForChanges(_ session: PostgresSession) throws {
        try session.execute("SET LOCAL lock_timeout = '10s'")
        // 'janitor' in ASCII: one lock for every janitor process on this database.
        try session.execute("SELECT pg_advisory_xact_lock(\(0x6A61_6E69_746F_72))")
    }

    /// Makes every name the catalog prints schema-qualified, so `pg_get_triggerdef` reads the
    /// same whatever the user's `search_path`; everything after this names its schema.
    static func pinSearchPath(_ session: PostgresSession) throws {
        try session.execute("SET LOCAL search_path = pg_catalog, pg_temp")
    }

    // MARK: Tables

    /// A table (or view) of the app, as the catalog has it.
    struct Relation {
        var oid: Int64
        var schema: String
        var name: String
        /// `pg_class.relkind`: `r` a table, `p` partitioned, `v` a view, ...
        var kind: String
        /// Its columns in order, with their numbers.
        var columns: [(name: String, number: Int)]

        var qualified: String { "\(PostgresHookSQL.quote(schema)).\(PostgresHookSQL.quote(name))" }

        func number(of column: String) -> Int? { columns.first { $0.name == column }?.number }
    }

    /// The relation each watched table names, by configured name; absent when there is none.
    /// `table` finds the first of the `search_path` (as the app's queries do), `schema.table` that one.
    static func relations(of watched: [Watched], in session: PostgresSession) throws -> [String: Relation] {
        var result: [String: Relation] = [:]
        for table in Set(watched.map(\.reference.table)) {
            let parts = table.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let select = "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
            let rows: [PostgresRow]
            switch parts.count {
            case 1: rows = try session.rows(select + " AND c.relname = $1 AND pg_catalog.pg_table_is_visible(c.oid)", [.text(table)])
            case 2: rows = try session.rows(select + " AND n.nspname = $1 AND c.relname = $2", [.text(parts[0]), .text(parts[1])])
            default: continue
            }
            guard let row = rows.first else { continue }
            let (oid, schema, name, kind) = try row.decode((Int64, String, String, String).self)
            let columns = try session.rows(
                "SELECT attname::text, attnum::int8 FROM pg_catalog.pg_attribute WHERE attrelid = $1::int8::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                [.int(oid)]
            ).map { row in
                let (name, number) = try row.decode((String, Int64).self)
                return (name: name, number: Int(number))
            }
            result[table] = Relation(oid: oid, schema: schema, name: name, kind: kind, columns: columns)
        }
        return result
    }

    /// One error per watched table or column that does not exist or cannot carry triggers,
    /// listing what does, worded as `SQLiteHooks` words them.
    static func validate(_ watched: [Watched], relations: [String: Relation], in session: PostgresSession) throws -> [Diagnostic] {
        var tableNames: [String]?
        var problems: [Diagnostic] = []
        for item in watched {
            let reference = item.reference
            guard let relation = relations[reference.table] else {
                if tableNames == nil { tableNames = try Self.tableNames(in: session) }
                let names = tableNames ?? []
                let hint = didYouMean(reference.table, in: names).map { "did you mean '\($0)'? " } ?? ""
                problems.append(Diagnostic(.error, "cannot install hooks: table '\(reference.table)' does not exist; \(hint)tables are: \(names.joined(separator: ", "))", id: "world.missing-table", at: reference.location))
                continue
            }
            switch relation.kind {
            case "r":
                break
            case "v", "m":
                problems.append(Diagnostic(.error, "cannot install hooks: '\(reference.table)' is a view; name the table it reads from", id: "world.missing-table", at: reference.location))
                continue
            case "p":
                // Row triggers are cloned onto each partition with the parent's arguments, and a
                // partition's column numbers may differ from its parent's.
                problems.append(Diagnostic(.error, "cannot install hooks: '\(reference.table)' is a partitioned table, and the hooks support plain tables only", id: "world.missing-table", at: reference.location))
                continue
            default:
                problems.append(Diagnostic(.error, "cannot install hooks: '\(reference.table)' is a foreign table; install the hooks in the database that holds it", id: "world.missing-table", at: reference.location))
                continue
            }
            let names = relation.columns.map(\.name)
            for (role, name) in [("key", reference.key), ("column", item.column)] where relation.number(of: name) == nil {
                let hint = didYouMean(name, in: names).map { "did you mean '\($0)'? " } ?? ""
                problems.append(Diagnostic(.error, "cannot install hooks: table '\(reference.table)' has no column '\(name)' (\(role)); \(hint)columns are: \(names.joined(separator: ", "))", id: "world.missing-column", at: reference.location))
            }
        }
        return problems
    }

    /// The app's tables and views, as an unqualified name where the `search_path` finds them.
    private static func tableNames(in session: PostgresSession) throws -> [String] {
        try session.rows(
            """
            SELECT CASE WHEN pg_catalog.pg_table_is_visible(c.oid) THEN c.relname::text ELSE n.nspname::text || '.' || c.relname::text END
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg\\_%' AND c.relname <> $1
            """,
            [.text(PostgresHooks.outboxTable)]
        ).map { try $0.decode(String.self) }.sorted()
    }

    // MARK: What install writes

    /// One statement each: postgres-nio sends every statement on its own (extended protocol).
    static func outboxSQL(_ names: PostgresHookNames) -> [String] {
        [
            """
            CREATE TABLE IF NOT EXISTS \(names.outbox) (
                id bigserial PRIMARY KEY,
                table_name text NOT NULL,
                column_name text NOT NULL,
                op text NOT NULL,
                row_key text,
                old_path text,
                new_path text,
                at timestamptz(3) NOT NULL DEFAULT clock_timestamp()
            )
            """,
            "COMMENT ON TABLE \(names.outbox) IS 'Changes of media reference columns, written by the triggers of ''media-janitor hooks install'' and drained by ''media-janitor serve'' or ''hooks drain''.'",
        ]
    }

    /// The body of the trigger function. Compared with `prosrc` character for character: change
    /// it and every installed trigger reads as stale until `install` runs again.
    ///
    /// Columns are found by number (TG_ARGV[2] the path column, TG_ARGV[3] the key), so a
    /// renamed column keeps working; TG_ARGV[0] and [1] are the table and column as configured,
    /// which is what the events must name. `to_jsonb` reads a column by a name known only at run
    /// time, and runs only for rows the trigger's WHEN let through: real file changes.
    static func functionBody(_ names: PostgresHookNames) -> String {
        """

        \(marker), version 1: records one change of a reference column in the outbox.
        DECLARE
            old_row jsonb := to_jsonb(OLD);
            path_column text;
            key_column text;
            before_path text;
        BEGIN
            SELECT max(attname::text) FILTER (WHERE attnum = TG_ARGV[2]::int2),
                   max(attname::text) FILTER (WHERE attnum = TG_ARGV[3]::int2)
              INTO path_column, key_column
              FROM pg_attribute
             WHERE attrelid = TG_RELID AND attnum IN (TG_ARGV[2]::int2, TG_ARGV[3]::int2);
            before_path := NULLIF(old_row ->> path_column, '');
            IF TG_OP = 'DELETE' THEN
                INSERT INTO \(names.outbox) (table_name, column_name, op, row_key, old_path, new_path)
                VALUES (TG_ARGV[0], TG_ARGV[1], 'delete', old_row ->> key_column, before_path, NULL);
            ELSE
                INSERT INTO \(names.outbox) (table_name, column_name, op, row_key, old_path, new_path)
                VALUES (TG_ARGV[0], TG_ARGV[1], CASE WHEN before_path IS NULL THEN 'create' ELSE 'replace' END,
                        old_row ->> key_column, before_path, NULLIF(to_jsonb(NEW) ->> path_column, ''));
            END IF;
            -- One notification per transaction reaches the listener: identical ones fold.
            PERFORM pg_notify('\(PostgresHooks.channel)', '');
            RETURN NULL;
        END;

        """
    }

    /// `SECURITY DEFINER`: the app's own role needs no privilege on the outbox. Its
    /// `search_path` is pinned, as for any definer function, and the body names its schema.
    static let functionSettings = "search_path=pg_catalog, pg_temp"

    static func functionSQL(_ names: PostgresHookNames) -> String {
        let body = functionBody(names)
        var tag = "$janitor$"
        while body.contains(tag) { tag = "$" + tag.dropFirst().dropLast() + "_$" }
        return "CREATE OR REPLACE FUNCTION \(names.function)() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \(tag)\(body)\(tag)"
    }

    /// One trigger as `install` creates it.
    struct ExpectedTrigger {
        enum Kind { case update, delete }
        var name: String
        var kind: Kind
        /// The index of its column in the watched list.
        var column: Int
        /// `table.column`, as configured.
        var columnName: String
        /// The table as configured.
        var table: String
        var relation: Relation?
        /// nil when the table, the column or the key is not there.
        var sql: String?

        func matches(_ trigger: InstalledTrigger) -> Bool {
            trigger.name == name && trigger.relation == relation?.oid
        }
    }

    /// The triggers `install` creates, two per watched column, update before delete.
    static func expected(_ watched: [Watched], relations: [String: Relation], names: PostgresHookNames) -> [ExpectedTrigger] {
        var triggers: [ExpectedTrigger] = []
        for (index, item) in watched.enumerated() {
            let relation = relations[item.reference.table]
            for kind in [ExpectedTrigger.Kind.update, .delete] {
                let name = item.base + (kind == .update ? "_update" : "_delete")
                var sql: String?
                if let relation, relation.kind == "r", let column = relation.number(of: item.column), let key = relation.number(of: item.reference.key) {
                    sql = triggerSQL(name, kind, item, relation: relation, columnNumber: column, keyNumber: key, names: names)
                }
                triggers.append(ExpectedTrigger(
                    name: name, kind: kind, column: index, columnName: item.qualifiedName, table: item.reference.table,
                    relation: relation, sql: sql))
            }
        }
        return triggers
    }

    // The WHEN clause keeps rows whose file did not change out of the after-trigger queue (and
    // the function uncalled). `::text` compares paths exactly, whatever the column's type.
    private static func triggerSQL(
        _ name: String, _ kind: ExpectedTrigger.Kind, _ item: Watched, relation: Relation, columnNumber: Int, keyNumber: Int,
        names: PostgresHookNames
    ) -> String {
        let old = "OLD.\(quote(item.column))::text", new = "NEW.\(quote(item.column))::text"
        let call = "EXECUTE FUNCTION \(names.function)(\(literal(item.reference.table)), \(literal(item.column)), '\(columnNumber)', '\(keyNumber)')"
        switch kind {
        case .update:
            return "CREATE TRIGGER \(quote(name)) AFTER UPDATE OF \(quote(item.column)) ON \(relation.qualified) FOR EACH ROW"
                + " WHEN (\(old) IS DISTINCT FROM \(new) AND (COALESCE(\(old), '') <> '' OR COALESCE(\(new), '') <> '')) \(call)"
        case .delete:
            return "CREATE TRIGGER \(quote(name)) AFTER DELETE ON \(relation.qualified) FOR EACH ROW WHEN (COALESCE(\(old), '') <> '') \(call)"
        }
    }

    /// Creates one trigger and records in its comment what `status` later checks.
    static func create(_ trigger: ExpectedTrigger, replacing: Bool, in session: PostgresSession) throws {
        guard let sql = trigger.sql, let relation = trigger.relation else { return }
        if replacing {
            try session.execute("DROP TRIGGER IF EXISTS \(quote(trigger.name)) ON \(relation.qualified)")
        }
        try session.execute(sql)
        let hash = try session.rows(
            "SELECT md5(pg_get_triggerdef(oid)) FROM pg_trigger WHERE tgrelid = $1::int8::oid AND tgname = $2",
            [.int(relation.oid), .text(trigger.name)]
        ).first?.decode(String.self) ?? ""
        try session.execute("COMMENT ON TRIGGER \(quote(trigger.name)) ON \(relation.qualified) IS \(literal(comment(sql: sql, definitionHash: hash)))")
    }

    /// What an installed trigger's comment says when it is exactly what `sql` created.
    static func comment(sql: String, definitionHash: String) -> String {
        "media-janitor hooks: sql \(fnv1a64(sql)), definition \(definitionHash)"
    }

    // MARK: What is installed

    /// A trigger named `janitor_…` on any table of the database.
    struct InstalledTrigger {
        var name: String
        var relation: Int64
        var schema: String
        var table: String
        /// `pg_trigger.tgenabled`: `O` and `A` fire for the app's writes, `D` and `R` do not.
        var enabled: String
        var comment: String
        /// md5 of `pg_get_triggerdef`, read with the search_path pinned.
        var definitionHash: String

        var qualifiedTable: String { "\(PostgresHookSQL.quote(schema)).\(PostgresHookSQL.quote(table))" }
    }

    /// A trigger function carrying the janitor's marker, in any schema.
    struct InstalledFunction {
        var name: String
        var schema: String
        var source: String
        var securityDefiner: Bool
        var settings: String
        var language: String

        var qualifiedName: String { "\(PostgresHookSQL.quote(schema)).\(PostgresHookSQL.quote(name))" }

        func isExpected(_ names: PostgresHookNames) -> Bool {
            name == PostgresHookNames.function && schema == names.schema
        }
    }

    /// Everything of the hooks the database holds.
    struct Snapshot {
        var outboxExists: Bool
        var pendingRows: Int
        var triggers: [InstalledTrigger]
        var functions: [InstalledFunction]

        /// Whether the function is there exactly as `install` writes it.
        func functionIsCurrent(_ names: PostgresHookNames) -> Bool {
            functions.contains { function in
                function.isExpected(names) && function.source == PostgresHookSQL.functionBody(names) && function.securityDefiner
                    && function.settings == PostgresHookSQL.functionSettings && function.language == "plpgsql"
            }
        }
    }

    /// Reads the hooks' objects; the search_path must be pinned.
    static func snapshot(_ names: PostgresHookNames, in session: PostgresSession) throws -> Snapshot {
        let outboxExists = try outboxExists(names, in: session)
        let pending = outboxExists ? try session.rows("SELECT count(*)::int8 FROM \(names.outbox)").first?.decode(Int64.self) ?? 0 : 0
        // Clones of a partitioned table's trigger (tgparentid <> 0) follow their parent.
        let triggers = try session.rows(
            """
            SELECT t.tgname::text, t.tgrelid::int8, n.nspname::text, c.relname::text, t.tgenabled::text,
            COALESCE(d.description, ''), md5(pg_get_triggerdef(t.oid))
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_description d ON d.objoid = t.oid AND d.classoid = 'pg_trigger'::regclass AND d.objsubid = 0
            WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgname LIKE 'janitor\\_%'
            ORDER BY t.tgname, n.nspname, c.relname
            """
        ).map { row in
            let (name, relation, schema, table, enabled, comment, hash) = try row.decode((String, Int64, String, String, String, String, String).self)
            return InstalledTrigger(name: name, relation: relation, schema: schema, table: table, enabled: enabled, comment: comment, definitionHash: hash)
        }
        return Snapshot(outboxExists: outboxExists, pendingRows: Int(pending), triggers: triggers, functions: try functions(in: session))
    }

    static func functions(in session: PostgresSession) throws -> [InstalledFunction] {
        try session.rows(
            """
            SELECT p.proname::text, n.nspname::text, p.prosrc, p.prosecdef, COALESCE(array_to_string(p.proconfig, ';'), ''), l.lanname::text
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
            WHERE p.proname LIKE 'janitor\\_%' AND p.pronargs = 0 AND p.prorettype = 'trigger'::regtype AND strpos(p.prosrc, $1) > 0
            ORDER BY n.nspname, p.proname
            """,
            [.text(marker)]
        ).map { row in
            let (name, schema, source, definer, settings, language) = try row.decode((String, String, String, Bool, String, String).self)
            return InstalledFunction(name: name, schema: schema, source: source, securityDefiner: definer, settings: settings, language: language)
        }
    }

    static func outboxExists(_ names: PostgresHookNames, in session: PostgresSession) throws -> Bool {
        try session.rows(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r')",
            [.text(names.schema), .text(PostgresHooks.outboxTable)]
        ).first?.decode(Bool.self) ?? false
    }

    // MARK: Comparing

    /// One expected trigger against the database.
    enum Verdict: Equatable {
        case current
        /// Not there (never installed, or dropped with its table by a migration).
        case missing
        /// There, but not what this version installs.
        case stale
        /// There and current, but switched off (`ALTER TABLE … DISABLE TRIGGER`).
        case disabled
    }

    static func verdicts(_ expected: [ExpectedTrigger], _ snapshot: Snapshot, names: PostgresHookNames) -> [Verdict] {
        let functionIsCurrent = snapshot.functionIsCurrent(names)
        return expected.map { trigger in
            guard let installed = snapshot.triggers.first(where: trigger.matches) else { return .missing }
            guard let sql = trigger.sql, functionIsCurrent, installed.comment == comment(sql: sql, definitionHash: installed.definitionHash) else {
                return .stale
            }
            return installed.enabled == "O" || installed.enabled == "A" ? .current : .disabled
        }
    }

    static func status(_ expected: [ExpectedTrigger], _ snapshot: Snapshot, names: PostgresHookNames) -> HooksStatus {
        let verdicts = verdicts(expected, snapshot, names: names)
        var columns: [HooksStatus.Column] = []
        var missing = 0, stale = 0, disabled = 0
        for (trigger, verdict) in zip(expected, verdicts) {
            // Both triggers of a column are adjacent: the first opens its entry.
            if trigger.column == columns.count { columns.append(HooksStatus.Column(name: trigger.columnName, state: .installed)) }
            switch verdict {
            case .current:
                break
            case .missing:
                missing += 1
                if columns[trigger.column].state == .installed { columns[trigger.column].state = .missing }
            case .stale:
                stale += 1
                columns[trigger.column].state = .stale
            case .disabled:
                disabled += 1
                columns[trigger.column].state = .stale
            }
        }
        let extraTriggers = snapshot.triggers.filter { installed in !expected.contains { $0.matches(installed) } }.map(\.name)
        let extraFunctions = snapshot.functions.filter { !$0.isExpected(names) }.map { "\($0.schema).\($0.name)()" }
        let extra = Array(Set(extraTriggers + extraFunctions)).sorted()

        // Tables as configured where they are, so the advice names what the operator wrote.
        var configured: [Int64: String] = [:]
        for trigger in expected { if let oid = trigger.relation?.oid { configured[oid] = trigger.table } }
        let tables = Set(snapshot.triggers.map { configured[$0.relation] ?? ($0.schema == names.schema ? $0.table : "\($0.schema).\($0.table)") })

        let advice = HooksAdvice.advice(
            outbox: PostgresHooks.outboxTable, outboxExists: snapshot.outboxExists, remainingTriggers: snapshot.triggers.count, remainingTables: tables.sorted(),
            expectedTriggers: expected.count, columns: columns.count, missing: missing, stale: stale, disabled: disabled, extra: extra)
        return HooksStatus(outboxExists: snapshot.outboxExists, pendingRows: snapshot.pendingRows, columns: columns, extraTriggers: extra, advice: advice)
    }
}
