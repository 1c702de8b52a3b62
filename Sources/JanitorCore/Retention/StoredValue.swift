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
