import Foundation

/// Turns a request or stdin body into change events (DESIGN section 3), one outcome per item.
///
/// A body is one JSON object, a JSON array of objects, or NDJSON (one object per line, blank
/// lines ignored). Every item is checked on its own: one bad item never drops the good ones.
/// Paths come out normalised (`./a//b.jpg` is `a/b.jpg`); a path the safety rules refuse
/// (DESIGN 6.1) rejects its item, even when it still points inside the media root.
///
/// ```json
/// {"id": "evt-81", "table": "accounts_user", "column": "profile_pic", "op": "replace",
///  "key": "42", "old": "profile_pics/a.jpg", "new": "profile_pics/b.jpg"}
/// ```
public enum EventDecoder {
    /// The fields an event may have, in the order they are checked and listed.
    public static let fields = ["id", "table", "column", "op", "key", "old", "new", "tenant", "at"]

    /// The longest `id` and `tenant` accepted, in Unicode scalars.
    public static let maxIdentifierLength = 200

    /// Decodes a body.
    ///
    /// - Parameters:
    ///   - body: the raw bytes, UTF-8.
    ///   - mediaRoot: the absolute, normalised media root, passed to `PathRules.normalise`.
    public static func decode(_ body: [UInt8], mediaRoot: String) -> EventBatch {
        var validator = Validator(mediaRoot: mediaRoot)
        var bytes = body[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let first = bytes.first(where: { !isJSONSpace($0) }) else { return .refused(.malformed("the body holds no event")) }
        // A body that does not even start like JSON gets told which shapes are accepted.
        let hint = first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? "" : "; \(shapes)"
        switch parse(bytes) {
        case .success(let object as [String: Any]):
            return EventBatch(items: [validator.item(object, index: 0)])
        case .success(let values as [Any]):
            guard !values.isEmpty else { return .refused(.malformed("the body holds no event")) }
            return EventBatch(
                items: values.enumerated().map { index, value in
                    guard let object = value as? [String: Any] else {
                        return .rejected(
                            index: index, id: nil,
                            error: .malformed(
                                "item at index \(index) is \(jsonTypeName(value)), not an event object"))
                    }
                    return validator.item(object, index: index)
                })
        case .success(let value):
            return .refused(.malformed("the body is \(jsonTypeName(value)), not an event; \(shapes)"))
        case .failure(let reason) where first == UInt8(ascii: "["):
            return .refused(.malformed("the body is not valid JSON: \(reason)"))
        case .failure(let reason):
            // Not one JSON document: NDJSON, or one object broken somewhere.
            return decodeLines(bytes, bodyError: .malformed("the body is not valid JSON: \(reason)\(hint)"), validator: &validator)
        }
    }

    /// Decodes a body.
    ///
    /// - Parameters:
    ///   - body: the raw bytes, UTF-8.
    ///   - mediaRoot: the absolute, normalised media root, passed to `PathRules.normalise`.
    public static func decode(_ body: Data, mediaRoot: String) -> EventBatch {
        decode([UInt8](body), mediaRoot: mediaRoot)
    }

    private static let shapes = "send one event object, an array of them, or NDJSON (one object per line)"

    /// NDJSON: one item per non-blank line, indexed by its 0-based line number.
    private static func decodeLines(_ bytes: ArraySlice<UInt8>, bodyError: EventError, validator: inout Validator) -> EventBatch {
        var lines: [(index: Int, bytes: ArraySlice<UInt8>, parsed: Result<Any, ParseFailure>)] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where line.contains(where: { !isJSONSpace($0) }) {
            lines.append((index, line, parse(line)))
        }
        // A single line, or a pretty-printed object broken somewhere (no line parses and the
        // first is not a whole object), is one malformed body: per-line errors would only confuse.
        let noLineParses = lines.allSatisfy { if case .failure = $0.parsed { true } else { false } }
        let firstLineIsOpen = lines.first.map { $0.bytes.last(where: { !isJSONSpace($0) }) != UInt8(ascii: "}") } ?? true
        if lines.count == 1 || (noLineParses && firstLineIsOpen) { return .refused(bodyError) }
        return EventBatch(
            items: lines.map { line in
                switch line.parsed {
                case .success(let object as [String: Any]):
                    return validator.item(object, index: line.index)
                case .success(let value):
                    return .rejected(
                        index: line.index, id: nil,
                        error: .malformed(
                            "line \(line.index + 1) is \(jsonTypeName(value)), not an event object"))
                case .failure(let reason):
                    return .rejected(
                        index: line.index, id: nil,
                        error: .malformed(
                            "line \(line.index + 1) is not valid JSON: \(reason)"))
                }
            })
    }

    private struct ParseFailure: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    private static func parse(_ bytes: ArraySlice<UInt8>) -> Result<Any, ParseFailure> {
        do {
            return .success(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]))
        } catch {
            // Foundation puts the position in the debug description ("Invalid value around
            // character 7."); its localized description only says the format is wrong.
            let debug = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            var reason = debug ?? error.localizedDescription
            if reason.hasSuffix(".") { reason.removeLast() }
            if let first = reason.first, first.isUppercase { reason = first.lowercased() + reason.dropFirst() }
            return .failure(ParseFailure(reason: reason))
        }
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// The outcome of decoding one body: one item per event given, in order.
public struct EventBatch: Sendable, Hashable {
    /// Every item, in the order of the body.
    public var items: [EventItem]

    /// Creates a batch.
    public init(items: [EventItem]) { self.items = items }

    /// The events that passed every check, in order.
    public var events: [ChangeEvent] {
        items.compactMap { if case .valid(let event) = $0 { event } else { nil } }
    }

    /// The items that were refused, in order, with their position in the body.
    public var rejected: [(index: Int, id: String?, error: EventError)] {
        items.compactMap { if case .rejected(let index, let id, let error) = $0 { (index, id, error) } else { nil } }
    }

    /// A body refused whole, at index 0.
    static func refused(_ error: EventError) -> EventBatch {
        EventBatch(items: [.rejected(index: 0, id: nil, error: error)])
    }
}

/// One item of a body: an event ready for the rule engine, or the reason it was refused.
public enum EventItem: Sendable, Hashable {
    /// An event that passed every check, its paths normalised.
    case valid(ChangeEvent)
    /// A refused item. `index` is its 0-based position in the array, or its 0-based line for
    /// NDJSON (blank lines count), 0 for a single object or a body refused whole; `id` is its
    /// event id when it had a valid one.
    case rejected(index: Int, id: String?, error: EventError)
}

/// Why an event was refused, naming the field at fault and how to fix it.
public struct EventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of fault; `refusedPath` is answered with HTTP 422, the others with 400.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Not JSON, or not an object where an event was expected.
        case malformed
        /// A required field is absent.
        case missingField = "missing_field"
        /// A field holds the wrong JSON type.
        case wrongType = "wrong_type"
        /// A field has the right type but a value that is not allowed.
        case invalidValue = "invalid_value"
        /// A path refused by the safety rules: absolute, `..`, NUL byte, URL, escaping the root.
        case refusedPath = "refused_path"
    }

    /// The JSON field at fault, or nil for a malformed body or line.
    public var field: String?
    /// What kind of fault.
    public var kind: Kind
    /// What is wrong and how to fix it, e.g. `missing field 'table'`.
    public var message: String

    /// Creates an error.
    public init(field: String?, kind: Kind, message: String) {
        self.field = field
        self.kind = kind
        self.message = message
    }

    /// Whether the safety rules refused a path (HTTP 422) rather than the event being malformed (400).
    public var isSafetyRefusal: Bool { kind == .refusedPath }

    /// The message.
    public var description: String { message }

    /// The error as a diagnostic, e.g. for `events FILE` with the file and line as location.
    public func diagnostic(at location: SourceLocation? = nil) -> Diagnostic {
        Diagnostic(.error, message, id: "event." + kind.rawValue.replacingOccurrences(of: "_", with: "-"), at: location)
    }

    static func malformed(_ message: String) -> EventError {
        EventError(field: nil, kind: .malformed, message: message)
    }
}

// MARK: - Checking one object

/// Checks objects one by one and remembers the ids accepted so far, to refuse duplicates.
private struct Validator {
    let mediaRoot: String
    var acceptedIDs: Set<String> = []

    init(mediaRoot: String) { self.mediaRoot = mediaRoot }

    mutating func item(_ object: [String: Any], index: Int) -> EventItem {
        let id = (object["id"] as? String).flatMap { (try? Self.identifier("id", $0)) ?? nil }
        do throws(EventError) {
            let event = try event(object)
            // Idempotency across batches is the store's job; within one batch a repeated id is
            // a client bug, and the first one wins.
            guard acceptedIDs.insert(event.id).inserted else {
                throw EventError(field: "id", kind: .invalidValue, message: "duplicate event id \(quoted(event.id)) in this batch")
            }
            return .valid(event)
        } catch {
            return .rejected(index: index, id: id, error: error)
        }
    }

    func event(_ object: [String: Any]) throws(EventError) -> ChangeEvent {
        // Unknown fields first: a misspelled `old` must be named as such, never reported as a
        // missing `old` or, worse, silently dropped.
        if let unknown = object.keys.filter({ !EventDecoder.fields.contains($0) }).min() {
            let hint =
                didYouMean(unknown, in: EventDecoder.fields).map { "did you mean '\($0)'?" }
                ?? "fields are \(EventDecoder.fields.joined(separator: ", "))"
            throw EventError(field: unknown, kind: .invalidValue, message: "unknown field \(quoted(unknown)); \(hint)")
        }
        guard let id = try Self.identifier("id", requiredString("id", object)) else {
            throw EventError(field: "id", kind: .invalidValue, message: "field 'id' must not be empty")
        }
        let table = try sqlName(
            "table", requiredString("table", object), allowsSchema: true, example: "'accounts_user' or 'public.accounts_user'")
        let column = try sqlName("column", requiredString("column", object), allowsSchema: false, example: "'profile_pic'")
        let opText = try requiredString("op", object)
        guard let op = ChangeEvent.Operation(rawValue: opText) else {
            let choices = ChangeEvent.Operation.allCases.map(\.rawValue).joined(separator: ", ")
            throw EventError(field: "op", kind: .invalidValue, message: "field 'op' must be one of \(choices), not \(quoted(opText))")
        }
        let key = try key(object)
        var old = try optionalString("old", object, expected: "a string or null")
        var new = try optionalString("new", object, expected: "a string or null")
        let tenant = try Self.identifier("tenant", optionalString("tenant", object, expected: "a string or null"))
        let at = try timestamp(object)

        switch op {
        case .replace:
            try require(
                old, "old", object, because: "a replace names the path it superseded in 'old' (use op 'create' when the row held no file)")
        case .delete:
            try require(old, "old", object, because: "a delete names the deleted row's path in 'old'")
            if new != nil {
                throw EventError(
                    field: "new", kind: .invalidValue, message: "field 'new' must be null for op 'delete'; a deleted row holds no file")
            }
        case .create:
            try require(new, "new", object, because: "a create names the path put on the row in 'new'")
            if old != nil {
                throw EventError(
                    field: "old", kind: .invalidValue,
                    message: "field 'old' must be null for op 'create'; use op 'replace' when the row held a file before")
            }
        }
        if let value = old { old = try path("old", value) }
        if let value = new { new = try path("new", value) }
        return ChangeEvent(id: id, table: table, column: column, op: op, key: key, old: old, new: new, tenant: tenant, at: at)
    }

    // MARK: Fields

    func requiredString(_ field: String, _ object: [String: Any]) throws(EventError) -> String {
        guard let value = object[field] else {
            throw EventError(field: field, kind: .missingField, message: "missing field '\(field)'")
        }
        guard let string = value as? String else {
            throw EventError(field: field, kind: .wrongType, message: "field '\(field)' must be a string, not \(jsonTypeName(value))")
        }
        return string
    }

    /// A string, or nil when absent, null or empty (`''` means no file, as in a reference column).
    func optionalString(_ field: String, _ object: [String: Any], expected: String) throws(EventError) -> String? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let string = value as? String else {
            throw EventError(field: field, kind: .wrongType, message: "field '\(field)' must be \(expected), not \(jsonTypeName(value))")
        }
        return string.isEmpty ? nil : string
    }

    /// An `id` or `tenant`: no NUL, at most `maxIdentifierLength`; nil when empty.
    static func identifier(_ field: String, _ value: String?) throws(EventError) -> String? {
        guard let value, !value.isEmpty else { return nil }
        if value.utf8.contains(0) {
            throw EventError(field: field, kind: .invalidValue, message: "field '\(field)' must not contain a NUL byte")
        }
        let length = value.unicodeScalars.count
        if length > EventDecoder.maxIdentifierLength {
            throw EventError(
                field: field, kind: .invalidValue,
                message: "field '\(field)' must be at most \(EventDecoder.maxIdentifierLength) characters, not \(length)")
        }
        return value
    }

    /// A SQL identifier `[A-Za-z_][A-Za-z0-9_$]*`, or `schema.table` when allowed.
    func sqlName(_ field: String, _ value: String, allowsSchema: Bool, example: String) throws(EventError) -> String {
        if value.utf8.contains(0) {
            throw EventError(field: field, kind: .invalidValue, message: "field '\(field)' must not contain a NUL byte")
        }
        let parts = Array(value.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 1 || (allowsSchema && parts.count == 2), parts.allSatisfy(isSQLIdentifier) else {
            throw EventError(
                field: field, kind: .invalidValue,
                message: "field '\(field)' must be a SQL identifier such as \(example), not \(quoted(value))")
        }
        return value
    }

    func key(_ object: [String: Any]) throws(EventError) -> String {
        guard let value = object["key"] else {
            throw EventError(field: "key", kind: .missingField, message: "missing field 'key'")
        }
        if let string = value as? String {
            if string.isEmpty {
                throw EventError(field: "key", kind: .invalidValue, message: "field 'key' must not be empty")
            }
            if string.utf8.contains(0) {
                throw EventError(field: "key", kind: .invalidValue, message: "field 'key' must not contain a NUL byte")
            }
            return string
        }
        guard let number = value as? NSNumber, !isBoolean(number) else {
            throw EventError(
                field: "key", kind: .wrongType, message: "field 'key' must be a string or a number, not \(jsonTypeName(value))")
        }
        // Only integers that Foundation read exactly: `4.5`, `1e3` or a 30-digit number would
        // name some other row once rounded.
        switch UInt8(truncatingIfNeeded: number.objCType.pointee) {
        case UInt8(ascii: "q"), UInt8(ascii: "l"), UInt8(ascii: "i"), UInt8(ascii: "s"):
            return String(number.int64Value)
        case UInt8(ascii: "Q"), UInt8(ascii: "L"), UInt8(ascii: "I"), UInt8(ascii: "S"):
            return String(number.uint64Value)
        default:
            throw EventError(
                field: "key", kind: .invalidValue,
                message: "field 'key' must be a whole number of at most 64 bits, not \(number.doubleValue); send the key as a string")
        }
    }

    func timestamp(_ object: [String: Any]) throws(EventError) -> Date? {
        let example = "'2026-11-21T10:00:00Z' or '2026-11-21T11:00:00.250+01:00'"
        guard let text = try optionalString("at", object, expected: "an ISO-8601 time string such as \(example)") else { return nil }
        guard let date = ISO8601Time.parse(text) else {
            throw EventError(
                field: "at", kind: .invalidValue,
                message: "field 'at' must be an ISO-8601 time with a zone such as \(example), not \(quoted(text))")
        }
        return date
    }

    func require(_ value: String?, _ field: String, _ object: [String: Any], because why: String) throws(EventError) {
        guard value == nil else { return }
        if object[field] == nil {
            throw EventError(field: field, kind: .missingField, message: "missing field '\(field)'; \(why)")
        }
        let given = object[field] is NSNull ? "null" : "empty"
        throw EventError(field: field, kind: .invalidValue, message: "field '\(field)' must not be \(given); \(why)")
    }

    func path(_ field: String, _ value: String) throws(EventError) -> String {
        switch PathRules.normalise(value, mediaRoot: mediaRoot) {
        case .valid(let path):
            return path
        case .invalid(let reason, _):
            // Even a value that still points inside the root (`a/../b.jpg`) is refused: an
            // event path must be clean, and guessing what the sender meant could delete a file.
            throw EventError(
                field: field, kind: .refusedPath,
                message: "field '\(field)' refused: \(reason); give a path relative to media_root with no '..'")
        }
    }
}

// MARK: - Helpers

private func isSQLIdentifier(_ bytes: ArraySlice<UInt8>) -> Bool {
    guard let first = bytes.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
    return bytes.dropFirst().allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "$") || isLetter($0) || isDigit($0) }
}

private func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
private func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

/// Foundation reads JSON `true` and `false` as NSNumbers whose type is `char`; no JSON number is.
private func isBoolean(_ number: NSNumber) -> Bool {
    UInt8(truncatingIfNeeded: number.objCType.pointee) == UInt8(ascii: "c")
}

private func jsonTypeName(_ value: Any) -> String {
    switch value {
    case is NSNull: "null"
    case is String: "a string"
    case let number as NSNumber: isBoolean(number) ? "a boolean" : "a number"
    case is [Any]: "an array"
    case is [String: Any]: "an object"
    default: "an unknown value"
    }
}

/// A value quoted for a message: control characters escaped, long values cut.
private func quoted(_ value: String) -> String {
    var text = ""
    for scalar in value.unicodeScalars.prefix(80) {
        switch scalar {
        case "\0": text += "\\0"
        case "\n": text += "\\n"
        case "\t": text += "\\t"
        case "'": text += "\\'"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            text += "\\u{\(String(scalar.value, radix: 16))}"
        default: text.unicodeScalars.append(scalar)
        }
    }
    return "'" + text + (value.unicodeScalars.count > 80 ? "…'" : "'")
}

/// RFC 3339 / ISO-8601 times with a zone: `2026-11-21T10:00:00Z`, `2026-11-21T11:00:00.250+01:00`.
///
/// Also `t`/`z` in lower case, a space for `T` and `+hhmm` or `+hh` zones, as PostgreSQL prints
/// `timestamptz` as text. A time with no zone is refused: its instant depends on the sender.
enum ISO8601Time {
    static func parse(_ text: String) -> Date? {
        var scanner = ByteScanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), scanner.skip(anyOf: "Tt "), let hour = scanner.digits(2), scanner.skip(":"),
            let minute = scanner.digits(2), scanner.skip(":"), let second = scanner.digits(2)
        else { return nil }
        var fraction = 0.0
        if scanner.skip(".") {
            var scale = 0.1
            var count = 0
            while let digit = scanner.digits(1) {
                fraction += Double(digit) * scale
                scale /= 10
                count += 1
            }
            guard count > 0 else { return nil }
        }
        var offset = 0
        if scanner.skip(anyOf: "Zz") {
            offset = 0
        } else if let sign = scanner.sign(), let hours = scanner.digits(2) {
            _ = scanner.skip(":")
            let minutes = scanner.digits(2) ?? 0
            guard hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard scanner.atEnd, (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private struct ByteScanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        mutating func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<position + count] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            position += count
            return value
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool { skip(anyOf: String(character)) }

        mutating func skip(anyOf characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }

        mutating func sign() -> Int? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
