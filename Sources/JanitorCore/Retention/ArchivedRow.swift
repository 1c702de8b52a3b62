import Foundation

/// One SQLite value exactly as stored: its storage class and its bytes, so an archived row
/// goes back byte-identical.
public enum StoredValue: Sendable, Hashable {
    /// NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// A double, kept bit-exact.
    case real(Double)
    /// Text as its raw bytes (SQLite does not check UTF-8, and text may hold NUL).
    case text([UInt8])
    /// A blob.
    case blob([UInt8])
}

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

extension StoredValue {
    /// Bit-exact equality (a NaN is never stored by SQLite, but `-0.0` and `0.0` differ here).
    public static func == (a: StoredValue, b: StoredValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.integer(let x), .integer(let y)): x == y
        case (.real(let x), .real(let y)): x.bitPattern == y.bitPattern
        case (.text(let x), .text(let y)): x == y
        case (.blob(let x), .blob(let y)): x == y
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .integer(let value): hasher.combine(value)
        case .real(let value): hasher.combine(value.bitPattern)
        case .text(let bytes), .blob(let bytes): hasher.combine(bytes)
        }
    }
}

// MARK: - JSON

extension StoredValue {
    /// The value's storage class name and its JSON text: `value` for numbers (as exact
    /// strings) and UTF-8 text, `base64` for blobs and text that is not UTF-8 or holds NUL.
    public var jsonParts: (type: String, value: String?, base64: String?) {
        switch self {
        case .null: ("null", nil, nil)
        case .integer(let value): ("integer", String(value), nil)
        case .real(let value): ("real", "\(value)", nil)
        case .text(let bytes):
            if let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0) {
                ("text", text, nil)
            } else {
                ("text", nil, Data(bytes).base64EncodedString())
            }
        case .blob(let bytes): ("blob", nil, Data(bytes).base64EncodedString())
        }
    }
}

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
    public var json: String {
        let document = Document(table: table, key_column: keyColumn, key: key, columns: columns.map { column in
            let parts = column.value.jsonParts
            return Column(name: column.name, type: parts.type, value: parts.value, base64: parts.base64)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
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
