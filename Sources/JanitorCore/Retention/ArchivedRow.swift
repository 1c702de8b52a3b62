import Foundation

/// A row saved by `row_action: archive`: its table, key and every stored column in table order.
public struct ArchivedRow: Sendable, Hashable {
    /// The table.
    public var table: String
    /// The key column.
    public var keyColumn: String
    /// The key, as text.
    public var key: String
    /// Every column that holds data (not generated or hidden), with its value, in table order.
    public var columns: [(name: String, value: StoredValue)]

    /// Creates an archived row.
    public init(table: String, keyColumn: String, key: String, columns: [(name: String, value: StoredValue)]) {
        self.table = table
        self.keyColumn = keyColumn
        self.key = key
        self.columns = columns
    }

    public static func == (a: ArchivedRow, b: ArchivedRow) -> Bool {
        a.table == b.table && a.keyColumn == b.keyColumn && a.key == b.key && a.columns.map(\.name) == b.columns.map(\.name)
            && zip(a.columns, b.columns).allSatisfy { $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(table)
        hasher.combine(key)
        for column in columns {
            hasher.combine(column.name)
            hasher.combine(column.value)
        }
    }
}

// MARK: - JSON

/// The JSON form of an archived row, as the store keeps it and `archive list --format json`
/// shows it: `{"table": ..., "key_column": ..., "key": ..., "columns": [{"name": ...,
/// "type": "integer|real|text|blob|null", "value": ...}]}`. Integers and reals are strings
/// (a double's shortest exact form, integers beyond 2^53), text that is not UTF-8 and blobs
/// are base64 under `"base64"`.
extension ArchivedRow {
    private struct Document: Codable {
        var table: String
        var key_column: String
        var key: String
        var columns: [Column]
    }

    private struct Column: Codable {
        var name: String
        var type: String
        var value: String?
        var base64: String?
    }

    /// The JSON text.
    public func json() throws -> String {
        let document = Document(table: table, key_column: keyColumn, key: key, columns: columns.map { column in
            let parts = column.value.jsonParts
            return Column(name: column.name, type: parts.type, value: parts.value, base64: parts.base64)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    /// Reads the JSON form back; nil when it is not one.
    public init?(json: String) {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(json.utf8)) else { return nil }
        var columns: [(name: String, value: StoredValue)] = []
        for column in document.columns {
            let bytes = column.base64.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
            let value: StoredValue
            switch column.type {
            case "null": value = .null
            case "integer":
                guard let number = column.value.flatMap({ Int64($0) }) else { return nil }
                value = .integer(number)
            case "real":
                guard let number = column.value.flatMap({ Double($0) }) else { return nil }
                value = .real(number)
            case "text":
                guard let text = bytes ?? column.value.map({ Array($0.utf8) }) else { return nil }
                value = .text(text)
            case "blob":
                guard let bytes else { return nil }
                value = .blob(bytes)
            default: return nil
            }
            columns.append((column.name, value))
        }
        self.init(table: document.table, keyColumn: document.key_column, key: document.key, columns: columns)
    }
}
