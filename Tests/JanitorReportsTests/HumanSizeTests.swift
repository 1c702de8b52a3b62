import JanitorReports
import Testing

@Suite("human sizes")
struct HumanSizeTests {
    static let examples: [(Int64, String)] = [
        (0, "0 B"),
        (512, "512 B"),
        (1_023, "1023 B"),
        (1_024, "1.0 KiB"),
        (1_536, "1.5 KiB"),
        (52_311, "51.1 KiB"),
        (73_400_320, "70.0 MiB"),
        (5 * 1_024 * 1_024 * 1_024 / 2, "2.5 GiB"),
        (1_024 * 1_024 * 1_024 * 1_024, "1.0 TiB"),
        (1_024 * 1_024 * 1_024 * 1_024 * 1_024, "1024.0 TiB"),
    ]

    @Test("sizes use powers of 1024 with one decimal from KiB up", arguments: examples)
    func sizes(bytes: Int64, expected: String) {
        #expect(humanSize(bytes) == expected)
    }

    @Test("a size that rounds up to 1024 of a unit is shown in the next unit")
    func roundingCarriesOver() {
        #expect(humanSize(1_024 * 1_024 - 1) == "1.0 MiB")
        #expect(humanSize(1_024 * 1_024 - 60) == "1023.9 KiB")
    }

    @Test("negative sizes keep their sign")
    func negative() {
        #expect(humanSize(-1_536) == "-1.5 KiB")
        #expect(humanSize(-5) == "-5 B")
        #expect(humanSize(.min).hasPrefix("-"))
    }
}
