import Foundation

/// A small JSON writer that appends UTF-8 bytes into one buffer.
///
/// Reports can hold hundreds of thousands of findings, so output is written straight into a
/// `[UInt8]` with no intermediate objects (JSONEncoder and JSONSerialization build a tree
/// first and do not keep key order). The writer tracks only whether the next value needs a
/// separator; layout (line breaks, indentation) is the formatter's choice.
///
/// Separators are `", "` and `": "`, the style the DESIGN example shows, so every JSON
/// report starts with `{"schema": 1`. Strings escape `"` and `\`, write `\n`, `\r` and `\t`
/// in their short forms and every other control character as `\u00xx` (lowercase hex);
/// everything else, non-ASCII included, stays as UTF-8.
public struct JSONWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// Whether the next key or array element needs a `", "` before it.
    private var needsSeparator = false

    /// Creates a writer that reserves room for about `capacity` bytes.
    public init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// The output as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Structure

    /// Writes `{`.
    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsSeparator = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsSeparator = true
    }

    /// Writes `[`.
    public mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        needsSeparator = false
    }

    /// Writes `]`, after a line break and `indent` spaces when `indent` is given.
    public mutating func endArray(lineBreakIndent indent: Int? = nil) {
        if let indent { lineBreak(indent: indent) }
        bytes.append(UInt8(ascii: "]"))
        needsSeparator = true
    }

    /// Writes `", "` when a value came before, so that an array element can follow.
    public mutating func element() {
        if needsSeparator { raw(", ") }
        needsSeparator = false
    }

    /// Writes `,` when a value came before, then a line break and `indent` spaces, so that the
    /// next key or array element starts a line.
    public mutating func elementOnNewLine(indent: Int) {
        if needsSeparator { bytes.append(UInt8(ascii: ",")) }
        lineBreak(indent: indent)
        needsSeparator = false
    }

    /// Writes `"name": `, after `", "` when a value came before.
    public mutating func key(_ name: StaticString) {
        if needsSeparator { raw(", ") }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\": ")
        needsSeparator = false
    }

    /// A whole document `{"schema": 1, "<key>": [{...}, ...]}` with one object per item.
    public static func document<Item>(listing key: StaticString, _ items: [Item], _ fields: (inout JSONWriter, Item) -> Void) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("schema", 1)
        json.key(key)
        json.beginArray()
        for item in items {
            json.element()
            json.beginObject()
            fields(&json, item)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.string + "\n"
    }

    /// Writes `"name": ` for a key known only at run time, escaped like any string.
    public mutating func key(_ name: String) {
        if needsSeparator { raw(", ") }
        needsSeparator = false
        value(name)
        raw(": ")
        needsSeparator = false
    }

    private mutating func lineBreak(indent: Int) {
        bytes.append(UInt8(ascii: "\n"))
        if indent > 0 { bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent)) }
    }

    // MARK: Values

    /// Writes a string value with JSON escaping.
    public mutating func value(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    /// Writes a JSON value made elsewhere (an object or array written by another `JSONWriter`).
    public mutating func embed(_ json: String) {
        bytes.append(contentsOf: json.utf8)
        needsSeparator = true
    }

    /// Writes a string value known at compile time to need no escaping.
    public mutating func value(_ text: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(text)
        bytes.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    /// Writes an integer value.
    public mutating func value(_ number: Int64) {
        appendDecimal(number)
        needsSeparator = true
    }

    /// Writes an integer value.
    public mutating func value(_ number: Int) {
        appendDecimal(Int64(number))
        needsSeparator = true
    }

    /// Writes `true` or `false`.
    public mutating func value(_ flag: Bool) {
        raw(flag ? "true" : "false")
        needsSeparator = true
    }

    /// Writes a date as an ISO-8601 UTC string with seconds.
    public mutating func value(_ date: Date) {
        bytes.append(UInt8(ascii: "\""))
        ISO8601.append(date, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    /// Writes `null`.
    public mutating func null() {
        raw("null")
        needsSeparator = true
    }

    // MARK: Fields

    /// Writes `"name": "value"`.
    public mutating func field(_ name: StaticString, _ string: String) {
        key(name)
        value(string)
    }

    /// Writes `"name": "value"`, or nothing when the value is nil.
    public mutating func field(_ name: StaticString, _ string: String?) {
        guard let string else { return }
        field(name, string)
    }

    /// Writes `"name": number`.
    public mutating func field(_ name: StaticString, _ number: Int64) {
        key(name)
        value(number)
    }

    /// Writes `"name": number`, or nothing when the value is nil.
    public mutating func field(_ name: StaticString, _ number: Int64?) {
        guard let number else { return }
        field(name, number)
    }

    /// Writes `"name": number`.
    public mutating func field(_ name: StaticString, _ number: Int) {
        key(name)
        value(number)
    }

    /// Writes `"name": true|false`.
    public mutating func field(_ name: StaticString, _ flag: Bool) {
        key(name)
        value(flag)
    }

    /// Writes `"name": "date"`, or nothing when the date is nil.
    public mutating func field(_ name: StaticString, _ date: Date?) {
        guard let date else { return }
        key(name)
        value(date)
    }

    /// Writes a line break: the end of one NDJSON record.
    public mutating func endLine() {
        bytes.append(UInt8(ascii: "\n"))
        needsSeparator = false
    }

    // MARK: Bytes

    private mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendDecimal(_ number: Int64) {
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        // The magnitude is unsigned so that Int64.min does not overflow.
        var magnitude = number.magnitude
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            while magnitude > 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            bytes.append(contentsOf: buffer[start...])
        }
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            // Bytes of multi-byte UTF-8 sequences are all >= 0x80 and pass through unchanged.
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if runStart < index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            }
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            default:
                raw("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            }
            index += 1
            runStart = index
        }
        if runStart < utf8.count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
