import Foundation
import Testing

@testable import JanitorCore

@Suite("Event decoding (DESIGN 3 and 6.1)")
struct EventDecoderTests {
    let root = "/srv/app/media"

    /// The event of DESIGN section 3, with fields replaced (raw JSON) or removed (nil).
    func event(_ changes: [String: String?] = [:]) -> String {
        var fields: [(String, String?)] = [
            ("id", #""evt-81""#), ("table", #""accounts_user""#), ("column", #""profile_pic""#), ("op", #""replace""#),
            ("key", #""42""#), ("old", #""profile_pics/a.jpg""#), ("new", #""profile_pics/b.jpg""#),
        ]
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) {
            if let index = fields.firstIndex(where: { $0.0 == name }) {
                fields[index].1 = value
            } else {
                fields.append((name, value))
            }
        }
        let members = fields.compactMap { name, value in value.map { "\"\(name)\": \($0)" } }
        return "{" + members.joined(separator: ", ") + "}"
    }

    func decode(_ body: String) -> EventBatch {
        EventDecoder.decode(Array(body.utf8), mediaRoot: root)
    }

    /// The one error of a body holding one refused item.
    func onlyError(_ body: String) -> EventError? {
        let batch = decode(body)
        guard batch.items.count == 1, case .rejected(_, _, let error) = batch.items[0] else { return nil }
        return error
    }

    // MARK: Shapes

    @Test("one object is one event, every field carried")
    func singleObject() {
        let batch = decode(event(["tenant": #""acme""#, "at": #""2026-11-21T10:00:00Z""#]))
        #expect(
            batch.items == [
                .valid(
                    ChangeEvent(
                        id: "evt-81", table: "accounts_user", column: "profile_pic", op: .replace, key: "42",
                        old: "profile_pics/a.jpg", new: "profile_pics/b.jpg", tenant: "acme",
                        at: Date(timeIntervalSince1970: 1_795_255_200)))
            ])
        #expect(batch.rejected.isEmpty)
    }

    @Test("an array is one event per item, in order")
    func array() {
        let batch = decode("[" + event(["id": #""a""#]) + ",\n " + event(["id": #""b""#, "op": #""delete""#, "new": "null"]) + "]")
        #expect(batch.events.map(\.id) == ["a", "b"])
        #expect(batch.events.map(\.op) == [.replace, .delete])
        #expect(batch.events[1].new == nil)
    }

    @Test("NDJSON is one event per line; blank lines and CRLF are fine")
    func ndjson() {
        let body = event(["id": #""a""#]) + "\r\n\n   \n" + event(["id": #""b""#]) + "\n" + event(["id": #""c""#, "op": "7"]) + "\n"
        let batch = decode(body)
        #expect(batch.events.map(\.id) == ["a", "b"])
        #expect(batch.rejected.count == 1)
        #expect(batch.rejected.first?.index == 4, "the index of an NDJSON item is its 0-based line, blank lines counted")
        #expect(batch.rejected.first?.id == "c")
    }

    @Test("a UTF-8 byte order mark before the body is ignored")
    func byteOrderMark() {
        #expect(decode("\u{FEFF}" + event()).events.count == 1)
    }

    @Test("Data and byte arrays decode the same")
    func dataOverload() {
        let body = event()
        #expect(EventDecoder.decode(Data(body.utf8), mediaRoot: root) == decode(body))
    }

    // MARK: Bodies that hold no event

    @Test("an empty body, a blank body and an empty array hold no event", arguments: ["", "  \n\t", "[]", " [ ] "])
    func emptyBody(body: String) {
        #expect(onlyError(body) == EventError(field: nil, kind: .malformed, message: "the body holds no event"))
    }

    @Test("a body that is not JSON at all is malformed and says what to send")
    func notJSON() throws {
        let error = try #require(onlyError("hello world"))
        #expect(error.kind == .malformed)
        #expect(error.field == nil)
        #expect(error.message.hasPrefix("the body is not valid JSON: "))
        #expect(error.message.hasSuffix("; send one event object, an array of them, or NDJSON (one object per line)"))
    }

    @Test(
        "a JSON scalar is not an event",
        arguments: [
            ("42", "a number"), (#""evt-81""#, "a string"), ("null", "null"), ("true", "a boolean"),
        ])
    func scalar(body: String, type: String) {
        #expect(
            onlyError(body)
                == EventError(
                    field: nil, kind: .malformed,
                    message: "the body is \(type), not an event; send one event object, an array of them, or NDJSON (one object per line)"))
    }

    @Test("a broken single-line object is one malformed body")
    func brokenObject() throws {
        let error = try #require(onlyError(#"{"id": "evt-81", "table": }"#))
        #expect(error.kind == .malformed)
        #expect(error.message.hasPrefix("the body is not valid JSON: "))
    }

    @Test("a broken pretty-printed object is one malformed body, not one error per line")
    func brokenPrettyObject() throws {
        let error = try #require(onlyError("{\n  \"id\": \"evt-81\",\n  \"table\": \"accounts_user\"\n  \"column\": \"x\"\n}\n"))
        #expect(error.kind == .malformed)
        #expect(error.message.hasPrefix("the body is not valid JSON: "))
    }

    @Test("a broken array is one malformed body")
    func brokenArray() throws {
        let error = try #require(onlyError("[" + event()))
        #expect(error.kind == .malformed)
        #expect(error.message.hasPrefix("the body is not valid JSON: "))
    }

    // MARK: One bad item never drops the good ones

    @Test("a mixed array keeps every good item and marks each bad one with its index and id")
    func mixedArray() {
        let body =
            "["
            + [
                event(["id": #""a""#]),
                event(["id": #""b""#, "op": #""remove""#]),
                #""not an object""#,
                event(["id": #""d""#, "old": #""../../etc/passwd""#]),
                event(["id": #""e""#, "op": #""create""#, "old": "null"]),
            ].joined(separator: ",") + "]"
        let batch = decode(body)
        #expect(batch.items.count == 5)
        #expect(batch.events.map(\.id) == ["a", "e"])
        guard case .valid = batch.items[0], case .valid = batch.items[4] else {
            Issue.record("good items must stay in place: \(batch.items)")
            return
        }
        #expect(batch.rejected.map(\.index) == [1, 2, 3])
        #expect(batch.rejected.map(\.id) == ["b", nil, "d"])
        #expect(
            batch.rejected.map(\.error.message) == [
                "field 'op' must be one of replace, delete, create, not 'remove'",
                "item at index 2 is a string, not an event object",
                "field 'old' refused: escapes media_root; give a path relative to media_root with no '..'",
            ])
        #expect(batch.rejected.map(\.error.isSafetyRefusal) == [false, false, true])
    }

    @Test("an NDJSON line that is not JSON, or not an object, is rejected by its line number")
    func mixedNDJSON() {
        let body = [event(["id": #""a""#]), "", #"{"id": "b", oops}"#, "[1, 2]", event(["id": #""c""#])].joined(separator: "\n")
        let batch = decode(body)
        #expect(batch.events.map(\.id) == ["a", "c"])
        #expect(batch.rejected.map(\.index) == [2, 3])
        #expect(batch.rejected.map(\.id) == [nil, nil])
        #expect(batch.rejected[0].error.message.hasPrefix("line 3 is not valid JSON: "))
        #expect(batch.rejected[0].error.kind == .malformed)
        #expect(batch.rejected[1].error == EventError(field: nil, kind: .malformed, message: "line 4 is an array, not an event object"))
    }

    @Test("NDJSON whose first line is not JSON still keeps the good lines after it")
    func ndjsonBrokenFirstLine() {
        let batch = decode("oops\n" + event(["id": #""a""#]) + "\n" + event(["id": #""b""#]))
        #expect(batch.events.map(\.id) == ["a", "b"])
        #expect(batch.rejected.map(\.index) == [0])
        #expect(batch.rejected.first?.error.message.hasPrefix("line 1 is not valid JSON: ") == true)
    }

    @Test("a repeated id in one batch is refused; the first one stands")
    func duplicateID() {
        let batch = decode("[" + event(["id": #""x""#]) + "," + event(["id": #""x""#, "key": "7"]) + "]")
        #expect(batch.events.map(\.key) == ["42"])
        #expect(batch.rejected.map(\.index) == [1])
        #expect(batch.rejected.map(\.id) == ["x"])
        #expect(
            batch.rejected.first?.error == EventError(field: "id", kind: .invalidValue, message: "duplicate event id 'x' in this batch"))
    }

    @Test("a refused item with the same id as an earlier refused item is not a duplicate")
    func duplicateOfRejected() {
        let batch = decode("[" + event(["id": #""x""#, "op": #""nope""#]) + "," + event(["id": #""x""#]) + "]")
        #expect(batch.events.map(\.id) == ["x"])
        #expect(batch.rejected.map(\.index) == [0])
    }

    // MARK: Field errors, each with its exact message

    @Test(
        "each fault names its field, its kind and the fix",
        arguments: [
            (["table": nil], "table", EventError.Kind.missingField, "missing field 'table'"),
            (["id": nil], "id", .missingField, "missing field 'id'"),
            (["key": nil], "key", .missingField, "missing field 'key'"),
            (["op": #""remove""#], "op", .invalidValue, "field 'op' must be one of replace, delete, create, not 'remove'"),
            (["op": #""REPLACE""#], "op", .invalidValue, "field 'op' must be one of replace, delete, create, not 'REPLACE'"),
            (["op": "1"], "op", .wrongType, "field 'op' must be a string, not a number"),
            (["table": "7"], "table", .wrongType, "field 'table' must be a string, not a number"),
            (["column": "null"], "column", .wrongType, "field 'column' must be a string, not null"),
            (["id": "81"], "id", .wrongType, "field 'id' must be a string, not a number"),
            (["key": "[1]"], "key", .wrongType, "field 'key' must be a string or a number, not an array"),
            (["key": #"{"id": 1}"#], "key", .wrongType, "field 'key' must be a string or a number, not an object"),
            (["key": "true"], "key", .wrongType, "field 'key' must be a string or a number, not a boolean"),
            (["key": "null"], "key", .wrongType, "field 'key' must be a string or a number, not null"),
            (
                ["key": "4.5"], "key", .invalidValue,
                "field 'key' must be a whole number of at most 64 bits, not 4.5; send the key as a string"
            ),
            (
                ["key": "1e3"], "key", .invalidValue,
                "field 'key' must be a whole number of at most 64 bits, not 1000.0; send the key as a string"
            ),
            (["key": #""""#], "key", .invalidValue, "field 'key' must not be empty"),
            (["key": #""4\u00002""#], "key", .invalidValue, "field 'key' must not contain a NUL byte"),
            (["old": "12"], "old", .wrongType, "field 'old' must be a string or null, not a number"),
            (["new": "false"], "new", .wrongType, "field 'new' must be a string or null, not a boolean"),
            (["id": #""""#], "id", .invalidValue, "field 'id' must not be empty"),
            (["id": #""evt\u0000""#], "id", .invalidValue, "field 'id' must not contain a NUL byte"),
            (
                ["id": "\"\(String(repeating: "x", count: 201))\""], "id", .invalidValue,
                "field 'id' must be at most 200 characters, not 201"
            ),
            (["table": #""accounts\u0000user""#], "table", .invalidValue, "field 'table' must not contain a NUL byte"),
            (["column": #""profile\u0000pic""#], "column", .invalidValue, "field 'column' must not contain a NUL byte"),
            (
                ["table": #""accounts user""#], "table", .invalidValue,
                "field 'table' must be a SQL identifier such as 'accounts_user' or 'public.accounts_user', not 'accounts user'"
            ),
            (
                ["table": #""a.b.c""#], "table", .invalidValue,
                "field 'table' must be a SQL identifier such as 'accounts_user' or 'public.accounts_user', not 'a.b.c'"
            ),
            (["column": #""1pic""#], "column", .invalidValue, "field 'column' must be a SQL identifier such as 'profile_pic', not '1pic'"),
            (
                ["column": #""app.pic""#], "column", .invalidValue,
                "field 'column' must be a SQL identifier such as 'profile_pic', not 'app.pic'"
            ),
            (
                ["tenant": "\"\(String(repeating: "t", count: 201))\""], "tenant", .invalidValue,
                "field 'tenant' must be at most 200 characters, not 201"
            ),
            (["tenant": "3"], "tenant", .wrongType, "field 'tenant' must be a string or null, not a number"),
            (
                ["at": #""yesterday""#], "at", .invalidValue,
                "field 'at' must be an ISO-8601 time with a zone such as '2026-11-21T10:00:00Z' or '2026-11-21T11:00:00.250+01:00', not 'yesterday'"
            ),
            (
                ["at": "1795255200"], "at", .wrongType,
                "field 'at' must be an ISO-8601 time string such as '2026-11-21T10:00:00Z' or '2026-11-21T11:00:00.250+01:00', not a number"
            ),
            (["olde": #""profile_pics/c.jpg""#], "olde", .invalidValue, "unknown field 'olde'; did you mean 'old'?"),
            (["tennant": #""acme""#], "tennant", .invalidValue, "unknown field 'tennant'; did you mean 'tenant'?"),
            (
                ["priority": "1"], "priority", .invalidValue,
                "unknown field 'priority'; fields are id, table, column, op, key, old, new, tenant, at"
            ),
            (
                ["old": nil], "old", .missingField,
                "missing field 'old'; a replace names the path it superseded in 'old' (use op 'create' when the row held no file)"
            ),
            (
                ["old": "null"], "old", .invalidValue,
                "field 'old' must not be null; a replace names the path it superseded in 'old' (use op 'create' when the row held no file)"
            ),
            (
                ["old": #""""#], "old", .invalidValue,
                "field 'old' must not be empty; a replace names the path it superseded in 'old' (use op 'create' when the row held no file)"
            ),
            (["op": #""delete""#], "new", .invalidValue, "field 'new' must be null for op 'delete'; a deleted row holds no file"),
            (
                ["op": #""delete""#, "new": nil, "old": nil], "old", .missingField,
                "missing field 'old'; a delete names the deleted row's path in 'old'"
            ),
            (
                ["op": #""create""#], "old", .invalidValue,
                "field 'old' must be null for op 'create'; use op 'replace' when the row held a file before"
            ),
            (
                ["op": #""create""#, "old": nil, "new": nil], "new", .missingField,
                "missing field 'new'; a create names the path put on the row in 'new'"
            ),
            (
                ["op": #""create""#, "old": nil, "new": "null"], "new", .invalidValue,
                "field 'new' must not be null; a create names the path put on the row in 'new'"
            ),
        ] as [([String: String?], String, EventError.Kind, String)])
    func fieldError(changes: [String: String?], field: String, kind: EventError.Kind, message: String) {
        #expect(onlyError(event(changes)) == EventError(field: field, kind: kind, message: message))
        #expect(EventError(field: field, kind: kind, message: message).isSafetyRefusal == false)
    }

    @Test("a misspelled 'old' is named as unknown, never read as a replace with no old path")
    func misspelledOld() {
        #expect(onlyError(event(["old": nil, "olde": #""profile_pics/a.jpg""#]))?.message == "unknown field 'olde'; did you mean 'old'?")
    }

    @Test("a rejected item carries its id when the id is readable, and nil otherwise")
    func rejectedID() {
        #expect(decode(event(["op": #""x""#])).rejected.first?.id == "evt-81")
        #expect(decode(event(["op": #""x""#, "id": "81"])).rejected.first.map { $0.id == nil } == true)
        #expect(decode(event(["op": #""x""#, "id": #""""#])).rejected.first.map { $0.id == nil } == true)
    }

    // MARK: Paths (DESIGN 6.1)

    @Test(
        "paths come out normalised",
        arguments: [
            ("./a//b.jpg", "a/b.jpg"),
            ("profile_pics/./a.jpg", "profile_pics/a.jpg"),
            ("profile_pics\\\\a.jpg", "profile_pics/a.jpg"),
        ])
    func normalised(value: String, expected: String) {
        let events = decode(event(["old": "\"\(value)\"", "new": "\"\(value)\""])).events
        #expect(events.map(\.old) == [expected])
        #expect(events.map(\.new) == [expected])
    }

    @Test(
        "a path the safety rules refuse rejects its event as a safety refusal (422)",
        arguments: [
            (#""../../etc/passwd""#, "escapes media_root"),
            (#""a/../b.jpg""#, "contains '..'"),
            (#""/etc/passwd""#, "absolute path; stored paths are relative to media_root"),
            (#""/srv/app/media/profile_pics/a.jpg""#, "absolute path; stored paths are relative to media_root"),
            (#""profile_pics/a.jpg\u0000.png""#, "contains a NUL byte"),
            (#""https://cdn.example.com/a.jpg""#, "a URL, not a path under media_root"),
            (#""C:\\media\\a.jpg""#, "an absolute Windows path"),
            (#""profile_pics/""#, "names a directory, not a file"),
        ])
    func refusedPath(json: String, reason: String) {
        for field in ["old", "new"] {
            let error = onlyError(event([field: json]))
            #expect(
                error
                    == EventError(
                        field: field, kind: .refusedPath,
                        message: "field '\(field)' refused: \(reason); give a path relative to media_root with no '..'"))
            #expect(error?.isSafetyRefusal == true)
        }
    }

    // MARK: Values

    @Test(
        "an integer key is stored as text without decimals",
        arguments: [
            ("42", "42"), ("-7", "-7"), ("0", "0"), ("9223372036854775807", "9223372036854775807"),
            ("12345678901234567890", "12345678901234567890"), (#""a-uuid""#, "a-uuid"),
        ])
    func integerKey(json: String, expected: String) {
        #expect(decode(event(["key": json])).events.map(\.key) == [expected])
    }

    @Test("a number too large for 64 bits is refused, never rounded onto another row")
    func hugeKey() {
        #expect(
            onlyError(event(["key": "99999999999999999999999"]))
                == EventError(
                    field: "key", kind: .invalidValue,
                    message: "field 'key' must be a whole number of at most 64 bits, not 1e+23; send the key as a string"))
    }

    @Test(
        "'at' accepts ISO-8601 with or without fractional seconds, Z or an offset",
        arguments: [
            ("2026-11-21T10:00:00Z", 1_795_255_200.0),
            ("2026-11-21t10:00:00z", 1_795_255_200.0),
            ("2026-11-21T10:00:00.250Z", 1_795_255_200.25),
            ("2026-11-21T11:00:00+01:00", 1_795_255_200.0),
            ("2026-11-21T05:30:00-04:30", 1_795_255_200.0),
            ("2026-11-21T11:00:00.5+0100", 1_795_255_200.5),
            ("2026-11-21 10:00:00.000000+00", 1_795_255_200.0),
            ("2024-02-29T23:59:59Z", 1_709_251_199.0),
            ("1969-12-31T00:00:00Z", -86_400.0),
        ])
    func timestamps(text: String, seconds: Double) throws {
        let at = try #require(decode(event(["at": "\"\(text)\""])).events.first?.at)
        #expect(abs(at.timeIntervalSince1970 - seconds) < 0.000_1)
    }

    @Test(
        "'at' without a zone, or with an impossible date, is refused",
        arguments: [
            "2026-11-21T10:00:00", "2026-11-21", "2026-02-29T10:00:00Z", "2026-13-01T10:00:00Z", "2026-11-21T24:00:00Z",
            "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00+25:00", "2026-11-21T10:00:00Zjunk", "",
        ])
    func badTimestamps(text: String) {
        if text.isEmpty {
            // An empty 'at' is no time, like null.
            #expect(decode(event(["at": #""""#])).events.first.map { $0.at == nil } == true)
        } else {
            #expect(onlyError(event(["at": "\"\(text)\""]))?.field == "at")
        }
    }

    @Test("null, absent and empty optional fields mean none")
    func optionalFields() {
        #expect(
            decode(event(["new": "null", "tenant": "null", "at": "null"])).events
                == [
                    ChangeEvent(
                        id: "evt-81", table: "accounts_user", column: "profile_pic", op: .replace, key: "42",
                        old: "profile_pics/a.jpg", new: nil)
                ])
        #expect(decode(event(["new": nil, "tenant": #""""#])).events.map(\.new) == [nil])
    }

    @Test(
        "op-specific shapes that are allowed",
        arguments: [
            ["op": #""delete""#, "new": nil],
            ["op": #""delete""#, "new": "null"],
            ["op": #""delete""#, "new": #""""#],
            ["op": #""create""#, "old": nil],
            ["op": #""create""#, "old": "null"],
            ["op": #""create""#, "old": #""""#],
            ["op": #""replace""#, "new": "null"],
        ] as [[String: String?]])
    func allowedShapes(changes: [String: String?]) {
        let events = decode(event(changes)).events
        #expect(events.count == 1)
        #expect(events.first.map { $0.op == .delete ? $0.new == nil && $0.old != nil : true } == true)
        #expect(events.first.map { $0.op == .create ? $0.old == nil && $0.new != nil : true } == true)
    }

    @Test("a schema-qualified table is a valid table name")
    func schemaTable() {
        #expect(
            decode(event(["table": #""public.accounts_user""#, "column": #""pic$1""#])).events.map(\.table) == ["public.accounts_user"])
    }

    @Test("an error renders as a compiler-style diagnostic with a stable id")
    func diagnostic() throws {
        let error = try #require(onlyError(event(["table": nil])))
        let location = JanitorCore.SourceLocation(file: "events.ndjson", line: 3, column: 1)
        #expect(error.diagnostic(at: location).description == "events.ndjson:3:1: error: missing field 'table' [event.missing-field]")
        #expect(error.description == "missing field 'table'")
    }

    @Test("values echoed in messages are escaped and cut short")
    func quotedValues() {
        #expect(
            onlyError(event(["op": #""re\u0000place\n""#]))?.message
                == "field 'op' must be one of replace, delete, create, not 're\\0place\\n'")
        let long = String(repeating: "z", count: 100)
        #expect(
            onlyError(event(["op": "\"\(long)\""]))?.message
                == "field 'op' must be one of replace, delete, create, not '\(String(repeating: "z", count: 80))…'")
    }
}
