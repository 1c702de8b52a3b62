import Foundation

/// ISO-8601 UTC timestamps with whole seconds, `2026-11-21T10:00:00Z`, written by hand.
///
/// `ISO8601DateFormatter` costs microseconds per call and a JSON report can carry one date per
/// finding; civil-from-days arithmetic (H. Hinnant's algorithm) is exact and costs nanoseconds.
/// Fractions of a second are dropped (rounded towards the past).
enum ISO8601 {
    /// The timestamp as a string.
    static func string(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the timestamp's UTF-8 bytes.
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        let interval = date.timeIntervalSince1970.rounded(.down)
        // Dates beyond ±2^53 seconds cannot be represented as a civil date with 4-digit years anyway.
        let seconds = Int64(max(min(interval, 9.0e15), -9.0e15))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400

        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        if year < 0 { bytes.append(UInt8(ascii: "-")) }
        let absoluteYear = year.magnitude
        if absoluteYear > 9_999 {
            bytes.append(contentsOf: String(absoluteYear).utf8)
        } else {
            appendDigits(Int64(absoluteYear), width: 4, to: &bytes)
        }
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3_600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses a timestamp as ``append(_:to:)`` writes it (`2026-11-21T10:00:00Z`, a year of four
    /// or more digits, possibly negative); nil for anything else.
    static func date(_ text: String) -> Date? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        guard let yearEnd = bytes.firstIndex(of: UInt8(ascii: "-")), yearEnd - bytes.startIndex >= 4 else { return nil }
        let rest = Array(bytes[yearEnd...])
        // "-MM-DDTHH:MM:SSZ"
        guard rest.count == 16, rest[0] == UInt8(ascii: "-"), rest[3] == UInt8(ascii: "-"), rest[6] == UInt8(ascii: "T"),
            rest[9] == UInt8(ascii: ":"), rest[12] == UInt8(ascii: ":"), rest[15] == UInt8(ascii: "Z"),
            let year = number(bytes[bytes.startIndex..<yearEnd]), let month = number(rest[1..<3]), let day = number(rest[4..<6]),
            let hour = number(rest[7..<9]), let minute = number(rest[10..<12]), let second = number(rest[13..<15]),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        // Days from civil (H. Hinnant), the inverse of `append`.
        let y = (negative ? -year : year) - (month <= 2 ? 1 : 0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    private static func number<Bytes: Collection<UInt8>>(_ digits: Bytes) -> Int64? {
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }

    private static func appendDigits(_ value: Int64, width: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var value = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor))
            value %= divisor
            divisor /= 10
        }
    }
}
