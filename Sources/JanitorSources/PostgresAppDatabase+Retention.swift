import Foundation
import JanitorCore
import JanitorPostgres
import NIOCore
import PostgresNIO

extension PostgresAppDatabase {
    /// Every row of a class's reference tables still under retention, one streamed query per
    /// reference, merged by table and key so that a row with two path columns is one row
    /// holding two files. Rows the row action already handled (soft-deleted, set NULL) are left
    /// out, and so are invalid path values (the audit reports them). Results match
    /// `SQLiteAppDatabase` for the same values: keys, owners and groups as text, `created` in
    /// UTC to the millisecond.
    public func retentionRows(of mediaClass: MediaClass, mediaRoot: String) throws(SourceError) -> [StoredRetentionRow] {
        var rows: [StoredRetentionRow] = []
        var index: [String: [String: Int]] = [:]
        var columnsOf: [String: [PostgresColumn]] = [:]
        for reference in mediaClass.references {
            if columnsOf[reference.table] == nil { columnsOf[reference.table] = try columns(of: reference.table) }
            let created = CreatedTime(reference.created, type: columnsOf[reference.table]?.first { $0.name == reference.created })
            func text(_ name: String?) -> String { name.map { "\(SQLIdentifier.quote($0))::text" } ?? "NULL::text" }
            let size = reference.size.map { "COALESCE(trunc((\($0))::numeric)::bigint, 0)" } ?? "0::bigint"
            let pathColumns = mediaClass.references.filter { $0.table == reference.table }.compactMap(\.column)
            let pending =
                mediaClass.retention?.rowAction.kind.pending(pathColumns: pathColumns, dialect: .postgres).map { " WHERE \($0)" } ?? ""
            let sql =
                "SELECT \(text(reference.key)), \(text(reference.column)), \(created.expression), \(text(reference.owner)), \(text(reference.group)), \(size) FROM \(SQLIdentifier.quote(reference.table))\(pending)"
            var keys = index.removeValue(forKey: reference.table) ?? [:]
            var failure: SourceError?
            try stream(sql) { row in
                guard failure == nil else { return }
                let cells = row.makeRandomAccess()
                let key = Self.string(cells[0])
                let time = created.date(cells[2])
                let owner = Self.optionalString(cells[3]), group = Self.optionalString(cells[4])
                let bytes: Int64
                do {
                    bytes = try cells[5].decode(Int64.self)
                } catch {
                    failure = .database(
                        location: location, reason: "the size expression of table '\(reference.table)' did not give a number: \(error)")
                    return
                }
                let position: Int
                if let existing = keys[key] {
                    position = existing
                    // A second reference on the same row fills what the first did not name.
                    if rows[position].created == nil { rows[position].created = time }
                    if rows[position].owner == nil { rows[position].owner = owner }
                    if rows[position].group == nil { rows[position].group = group }
                    if rows[position].rowBytes == 0 { rows[position].rowBytes = bytes }
                } else {
                    position = rows.count
                    keys[key] = position
                    rows.append(
                        StoredRetentionRow(
                            table: reference.table, keyColumn: reference.key, key: key, created: time,
                            owner: owner, group: group, rowBytes: bytes, paths: []))
                }
                guard let value = Self.optionalString(cells[1]), !value.isEmpty else { return }
                if case .valid(let path) = PathRules.normalise(value, mediaRoot: mediaRoot), !rows[position].paths.contains(path) {
                    rows[position].paths.append(path)
                }
            }
            if let failure { throw failure }
            index[reference.table] = keys
        }
        return rows
    }

    /// Each owner's own age limit from `max_age_per_owner`; owners with no row or a NULL value
    /// are absent (they fall back to `max_age`), and so are values that are not a number, are
    /// negative or exceed 1,000 years: those are counted in `invalid` (the caller says so) so
    /// a typo in one profile never expires all of that owner's rows at once. As in SQLite, only
    /// a numeric column holds numbers: every value of a text (or interval) column is invalid.
    public func ownerLimits(_ ttl: OwnerTTL) throws(SourceError) -> (limits: [String: Seconds], invalid: Int) {
        let column = try columns(of: ttl.table).first { $0.name == ttl.column }
        let numeric = column?.category == "N"
        let value = numeric ? "\(SQLIdentifier.quote(ttl.column))::float8" : "NULL::float8"
        let sql =
            "SELECT \(SQLIdentifier.quote(ttl.key))::text, \(value) FROM \(SQLIdentifier.quote(ttl.table)) WHERE \(SQLIdentifier.quote(ttl.column)) IS NOT NULL"
        var limits: [String: Seconds] = [:]
        var invalid = 0
        let ceiling = 1_000 * 366 * 86_400.0
        try stream(sql) { row in
            let cells = row.makeRandomAccess()
            let value = cells[1].bytes == nil ? nil : try? cells[1].decode(Double.self)
            let seconds = value.map { $0 * Double(ttl.unit.seconds) } ?? -1
            guard seconds >= 0, seconds <= ceiling else {
                invalid += 1
                return
            }
            limits[Self.string(cells[0])] = Seconds(Int64(seconds.rounded()))
        }
        return (limits, invalid)
    }

    /// The whole stored rows of `keys` in `table` (keys with no row are absent): for settling a
    /// retention run a crash interrupted, so never on the hot path.
    public func storedRows(table: String, keyColumn: String, keys: [String]) throws(SourceError) -> [String: ArchivedRow] {
        guard !keys.isEmpty else { return [:] }
        do {
            return try PostgresRowWriter.rows(session, table: table, keyColumn: keyColumn, keys: keys, locking: false)
        } catch {
            throw Self.sourceError(error, url: url)
        }
    }

    /// What makes retention unsafe on this database, one message per problem, each naming the
    /// fix: a key column that is not unique (one key would name several rows, and the row
    /// action would change them all), and for `row_action: archive` a foreign key whose
    /// `ON DELETE` would change rows the archive does not save. Read from `pg_index` and
    /// `pg_constraint`, whatever schema the tables are in.
    public func retentionProblems(_ classes: [MediaClass]) throws(SourceError) -> [String] {
        var problems: [String] = []
        var checked = Set<String>()
        for mediaClass in classes {
            guard let rules = mediaClass.retention, rules.rowAction.kind.changesRows else { continue }
            for reference in mediaClass.references where checked.insert("\(mediaClass.name)\u{0}\(reference.table)").inserted {
                if try !isUnique(table: reference.table, column: reference.key) {
                    problems.append(
                        "class '\(mediaClass.name)': key '\(reference.key)' of table '\(reference.table)' is not a PRIMARY KEY or UNIQUE column, so one key may name several rows and the row action would change them all; point 'key' at a unique column"
                    )
                }
                guard rules.rowAction == .archive else { continue }
                let sql = """
                    SELECT conrelid::regclass::text, confdeltype::text FROM pg_constraint
                    WHERE contype = 'f' AND confrelid = to_regclass($1) AND confdeltype NOT IN ('a', 'r') AND conparentid = 0
                    ORDER BY conrelid::regclass::text, conname
                    """
                for row in try rows(sql, [.text(SQLIdentifier.quote(reference.table))]) {
                    let values = Self.strings(row)
                    let action = ["c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"][values[1] ?? ""] ?? (values[1] ?? "")
                    problems.append(
                        "class '\(mediaClass.name)': table '\(values[0] ?? "")' references '\(reference.table)' with ON DELETE \(action), so deleting an archived row would change rows of '\(values[0] ?? "")' the archive does not save; use 'row_action: delete' (and keep backups), 'set_null' or 'soft_delete:COLUMN'"
                    )
                }
            }
        }
        return problems
    }

    /// Whether `column` alone is the table's primary key or has a unique index of its own (not
    /// partial, not on an expression).
    func isUnique(table: String, column: String) throws(SourceError) -> Bool {
        let sql = """
            SELECT count(*)::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2
            """
        let found = try rows(sql, [.text(SQLIdentifier.quote(table)), .text(column)]).first.map { Self.strings($0)[0] ?? "0" } ?? "0"
        return found != "0"
    }

    /// The columns of a table (or view) in table order, with their types; empty when there is
    /// no such table. `table` is resolved as a query would resolve it (`search_path`, or a
    /// schema-qualified name).
    func columns(of table: String) throws(SourceError) -> [PostgresColumn] {
        try PostgresColumn.read(table: table, session: session)
    }

    static func string(_ cell: PostgresCell) -> String {
        cell.bytes.map { String(buffer: $0) } ?? ""
    }

    static func optionalString(_ cell: PostgresCell) -> String? {
        cell.bytes.map { String(buffer: $0) }
    }
}

/// A column of an app table as the catalog describes it.
struct PostgresColumn: Sendable, Hashable {
    /// The column's name.
    var name: String
    /// Its type (a domain's base type), as `format_type` spells it: `integer`,
    /// `timestamp with time zone`, `character varying`.
    var type: String
    /// `pg_type.typcategory`: `N` numeric, `S` string, `D` date/time, `B` boolean...
    var category: String
    /// Whether it is generated (`GENERATED ALWAYS AS (...) STORED`): it cannot be inserted.
    var generated: Bool

    /// The columns of `table` (none when there is no such table).
    static func read(table: String, session: PostgresSession) throws(SourceError) -> [PostgresColumn] {
        let sql = """
            SELECT a.attname::text, format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END, NULL), t.typcategory::text, (a.attgenerated <> '')::text
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """
        let rows: [PostgresRow]
        do {
            rows = try session.rows(sql, [.text(SQLIdentifier.quote(table))])
        } catch {
            throw .database(location: session.url.redacted, reason: error.reason)
        }
        return rows.map { row in
            let values = PostgresAppDatabase.strings(row)
            return PostgresColumn(name: values[0] ?? "", type: values[1] ?? "", category: values[2] ?? "", generated: values[3] == "true")
        }
    }
}

/// How a `created` column becomes a time, by its type: a timestamp or date column through
/// `extract(epoch ...)` (a `timestamp` without time zone read as UTC, as Django and Rails
/// store it), a number as Unix seconds, text parsed as SQLite's `julianday` parses it.
enum CreatedTime {
    /// No `created` column, or one whose type holds no time.
    case none
    /// Seconds since 1970 computed by the server, as `float8`.
    case seconds(String)
    /// Text, parsed here.
    case text(String)

    /// The reading of column `name` of the given type (a column the catalog does not know is
    /// read as text, so the query fails naming it, as SQLite's does).
    init(_ name: String?, type column: PostgresColumn?) {
        guard let name else {
            self = .none
            return
        }
        let quoted = SQLIdentifier.quote(name)
        guard let column else {
            self = .text("\(quoted)::text")
            return
        }
        switch column.type {
        case "timestamp with time zone", "timestamp without time zone", "date":
            self = .seconds("extract(epoch FROM \(quoted))::float8")
        default:
            switch column.category {
            case "N": self = .seconds("\(quoted)::float8")
            case "S": self = .text("\(quoted)::text")
            default: self = .none
            }
        }
    }

    /// The select-list expression.
    var expression: String {
        switch self {
        case .none: "NULL::text"
        case .seconds(let sql), .text(let sql): sql
        }
    }

    /// The cell's time, to the millisecond (SQLite's `julianday` carries milliseconds).
    func date(_ cell: PostgresCell) -> Date? {
        guard cell.bytes != nil else { return nil }
        let seconds: Double?
        switch self {
        case .none: return nil
        case .seconds: seconds = try? cell.decode(Double.self)
        case .text: seconds = PostgresAppDatabase.withBytes(cell.bytes) { TextTime.unixSeconds($0) }
        }
        guard let seconds, seconds.isFinite else { return nil }
        return Date(timeIntervalSince1970: (seconds * 1000).rounded() / 1000)
    }
}

/// Text times as SQLite's date functions read them (`julianday`, which `SQLiteAppDatabase`
/// uses for text `created` columns): `YYYY-MM-DD`, then optionally `HH:MM`, `:SS`, `.fraction`
/// after a space or `T`, then optionally `Z` or an offset, all UTC unless an offset says
/// otherwise. Day overflow is SQLite's too (`2026-02-30` is 2 March). Offsets may also be
/// written `+HH` or `+HHMM`, as PostgreSQL prints them, which SQLite does not read. What
/// SQLite reads besides, and no app stores as a creation time (`now`, a time with no date, a
/// Julian day number), is not a time here.
enum TextTime {
    /// Seconds since 1970 (whole milliseconds), or nil when the text is not such a time.
    static func unixSeconds(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var scanner = Scanner(text)
        guard let year = scanner.digits(4), scanner.take("-"), let month = scanner.digits(2), (1...12).contains(month),
            scanner.take("-"), let day = scanner.digits(2), (1...31).contains(day)
        else { return nil }
        var milliseconds: Int64 = 0
        var offsetMinutes: Int64 = 0
        while scanner.skipSpace() || scanner.take("T") {}
        if !scanner.atEnd {
            guard let hour = scanner.digits(2), hour <= 24, scanner.take(":"), let minute = scanner.digits(2), minute <= 59 else {
                return nil
            }
            var seconds = 0.0
            if scanner.take(":") {
                guard let whole = scanner.digits(2), whole <= 59 else { return nil }
                seconds = Double(whole)
                if scanner.peek("."), scanner.isDigit(at: 1) {
                    _ = scanner.take(".")
                    var fraction = 0.0, scale = 1.0
                    while let digit = scanner.digit() {
                        fraction = fraction * 10 + Double(digit)
                        scale *= 10
                    }
                    seconds += fraction / scale
                }
            }
            milliseconds = Int64(hour) * 3_600_000 + Int64(minute) * 60_000 + Int64(seconds * 1000 + 0.5)
            scanner.skipSpaces()
            if scanner.take("Z") || scanner.take("z") {
            } else if let sign = scanner.sign() {
                guard let hours = scanner.digits(2), hours <= 14 else { return nil }
                var minutes = 0
                if scanner.take(":") {
                    guard let m = scanner.digits(2), m <= 59 else { return nil }
                    minutes = m
                } else if let m = scanner.digits(2) {
                    guard m <= 59 else { return nil }
                    minutes = m
                }
                offsetMinutes = Int64(sign * (hours * 60 + minutes))
            }
            scanner.skipSpaces()
            guard scanner.atEnd else { return nil }
        }
        // SQLite's computeJD, in milliseconds of Julian day.
        var y = Int64(year), m = Int64(month)
        if m <= 2 {
            y -= 1
            m += 12
        }
        let a = y / 100
        let b = 2 - a + a / 4
        let x1 = 36525 * (y + 4716) / 100
        let x2 = 306001 * (m + 1) / 10000
        let julianMilliseconds = Int64((Double(x1 + x2 + Int64(day) + b) - 1524.5) * 86_400_000)
        let unix = julianMilliseconds + milliseconds - offsetMinutes * 60_000 - 210_866_760_000_000
        return Double(unix) / 1000
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }

        func peek(_ character: Character) -> Bool { !atEnd && bytes[position] == character.asciiValue! }

        func isDigit(at offset: Int) -> Bool {
            position + offset < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position + offset])
        }

        mutating func take(_ character: Character) -> Bool {
            guard peek(character) else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int? {
            guard isDigit(at: 0) else { return nil }
            defer { position += 1 }
            return Int(bytes[position] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            guard (0..<count).allSatisfy({ isDigit(at: $0) }) else { return nil }
            var value = 0
            for _ in 0..<count { value = value * 10 + digit()! }
            return value
        }

        mutating func sign() -> Int? {
            if take("+") { return 1 }
            if take("-") { return -1 }
            return nil
        }

        /// Skips one of C's `isspace` characters.
        mutating func skipSpace() -> Bool {
            guard !atEnd, [9, 10, 11, 12, 13, 32].contains(bytes[position]) else { return false }
            position += 1
            return true
        }

        mutating func skipSpaces() {
            while skipSpace() {}
        }
    }
}
