import JanitorCore
import JanitorPostgres
import PostgresNIO

extension PostgresAppDatabase {
    /// Every ordinary or partitioned table (partitions left out: their parent names their rows),
    /// named as `schema()` names them, with its columns, the ones of a string type (`text`,
    /// `varchar`, `char`, `citext`, domains over them), and its primary key in key order.
    public func inspectTables() throws(SourceError) -> [InspectedTable] {
        let sql = """
            SELECT n.nspname::text, c.relname::text, pg_table_is_visible(c.oid)::text, a.attname::text,
                (t.typcategory = 'S')::text,
                (SELECT array_position(i.indkey::int2[], a.attnum)::text FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_type t ON t.oid = a.atttypid
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY n.nspname, c.relname, a.attnum
            """
        var tables: [InspectedTable] = []
        var keys: [[(Int, String)]] = []
        try stream(sql) { row in
            let values = Self.strings(row)
            let name = values[2] == "true" ? values[1]! : "\(values[0]!).\(values[1]!)"
            if tables.last?.name != name {
                tables.append(InspectedTable(name: name, columns: [], textColumns: [], primaryKey: []))
                keys.append([])
            }
            let column = values[3]!
            tables[tables.count - 1].columns.append(column)
            if values[4] == "true" { tables[tables.count - 1].textColumns.append(column) }
            if let position = values[5].flatMap({ Int($0) }) { keys[keys.count - 1].append((position, column)) }
        }
        for index in tables.indices {
            tables[index].primaryKey = keys[index].sorted { $0.0 < $1.0 }.map(\.1)
        }
        return tables.sorted { $0.name < $1.name }
    }

    /// Up to `limit` non-NULL, non-empty values of one column as text, streamed.
    public func sampleValues(table: String, column: String, limit: Int) throws(SourceError) -> [String] {
        let quoted = SQLIdentifier.quote(column)
        let sql = "SELECT \(quoted)::text FROM \(SQLIdentifier.quote(table)) WHERE \(quoted) IS NOT NULL AND \(quoted)::text <> '' LIMIT $1"
        var values: [String] = []
        try stream(sql, [.int(Int64(limit))]) { row in
            var cells = row.makeIterator()
            values.append(Self.withBytes(cells.next()?.bytes) { String(decoding: $0, as: UTF8.self) })
        }
        return values
    }
}
