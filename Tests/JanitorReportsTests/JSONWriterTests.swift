import Foundation
import Testing

@testable import JanitorReports

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("strings escape quotes, backslashes and control characters and keep non-ASCII as UTF-8")
    func escaping() throws {
        var json = JSONWriter()
        json.value("say \"hi\" C:\\temp\n\t\r\u{1}\u{1F}\u{7F} é 😀 /")
        #expect(json.string == #""say \"hi\" C:\\temp\n\t\r\u0001\u001f"# + "\u{7F} é 😀 /\"")
    }

    @Test("every control character round-trips through a JSON parser")
    func controlCharacters() throws {
        let text = String(String.UnicodeScalarView((0...0x7F).compactMap(Unicode.Scalar.init))) + "ü\u{2028}𝄞"
        var json = JSONWriter()
        json.beginArray()
        json.value(text)
        json.endArray()
        let parsed = try JSONSerialization.jsonObject(with: Data(json.string.utf8)) as? [String]
        #expect(parsed == [text])
        #expect(!json.bytes.contains { $0 < 0x20 })
    }

    @Test("integers are written exactly, extremes included")
    func integers() {
        var json = JSONWriter()
        json.beginArray()
        for number: Int64 in [0, 7, 10, -1, 1_234_567_890, .max, .min] {
            json.element()
            json.value(number)
        }
        json.endArray()
        #expect(json.string == "[0, 7, 10, -1, 1234567890, 9223372036854775807, -9223372036854775808]")
    }

    @Test("objects separate keys with commas and omit nil fields")
    func objects() {
        var json = JSONWriter()
        json.beginObject()
        json.field("a", 1)
        json.field("b", nil as String?)
        json.field("c", "x")
        json.field("d", true)
        json.key("e")
        json.null()
        json.endObject()
        #expect(json.string == #"{"a": 1, "c": "x", "d": true, "e": null}"#)
    }

    @Test(
        "dates are ISO-8601 UTC with whole seconds",
        arguments: [
            (0.0, "1970-01-01T00:00:00Z"),
            (1_795_255_200, "2026-11-21T10:00:00Z"),
            (1_795_255_200.999, "2026-11-21T10:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (1_709_208_000, "2024-02-29T12:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ])
    func dates(seconds: Double, expected: String) {
        #expect(ISO8601.string(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("dates agree with Foundation's ISO-8601 formatter across four centuries")
    func datesAgreeWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var seconds: Int64 = -2_208_988_800  // 1900-01-01
        while seconds < 10_413_792_000 {  // 2300-01-01
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            #expect(ISO8601.string(date) == formatter.string(from: date))
            seconds += 7_919_993  // about three months, a prime so the time of day varies
        }
    }
}
