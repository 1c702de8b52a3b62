import Foundation

/// Appends XML 1.0 into one UTF-8 buffer, for reports with hundreds of thousands of test cases.
///
/// `&`, `<` and `>` become entities, and `"` too in attributes (always double-quoted). In
/// attributes, tab, line feed and carriage return become character references so attribute
/// normalisation keeps them. Characters XML 1.0 forbids even as references (the other C0
/// controls, U+FFFE, U+FFFF) are written as visible escapes like `\u{1B}`.
struct XMLWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []

    /// Creates a writer that reserves room for about `capacity` bytes.
    init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// The output as a string.
    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes markup as is.
    mutating func raw(_ markup: StaticString) {
        markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Writes character data, escaped.
    mutating func text(_ text: String) {
        append(text, attribute: false)
    }

    /// Writes an attribute value (without its quotes), escaped.
    mutating func attribute(_ value: String) {
        append(value, attribute: true)
    }

    /// Writes an integer.
    mutating func decimal(_ number: Int) {
        bytes.append(contentsOf: String(number).utf8)
    }

    /// Writes a date as ISO-8601 UTC with seconds.
    mutating func date(_ date: Date) {
        ISO8601.append(date, to: &bytes)
    }

    private mutating func append(_ text: String, attribute: Bool) {
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                let escape: Bool
                switch byte {
                case 0x00..<0x20, UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"): escape = true
                case UInt8(ascii: "\""): escape = attribute
                // U+FFFE and U+FFFF are EF BF BE and EF BF BF.
                case 0xEF: escape = index + 2 < utf8.count && utf8[index + 1] == 0xBF && utf8[index + 2] >= 0xBE
                default: escape = false
                }
                guard escape else {
                    index += 1
                    continue
                }
                if runStart < index {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                }
                switch byte {
                case UInt8(ascii: "&"): raw("&amp;")
                case UInt8(ascii: "<"): raw("&lt;")
                case UInt8(ascii: ">"): raw("&gt;")
                case UInt8(ascii: "\""): raw("&quot;")
                case UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    if attribute {
                        raw("&#")
                        decimal(Int(byte))
                        raw(";")
                    } else {
                        bytes.append(byte)
                    }
                case 0xEF:
                    raw(utf8[index + 2] == 0xBE ? "\\u{FFFE}" : "\\u{FFFF}")
                    index += 2
                default:
                    bytes.append(contentsOf: "\\u{\(String(byte, radix: 16, uppercase: true))}".utf8)
                }
                index += 1
                runStart = index
            }
            if runStart < utf8.count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            }
        }
    }
}
