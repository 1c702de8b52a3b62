import Foundation
import Testing

@testable import JanitorCore

/// Replays what the fuzzers (`scripts/fuzz.sh`) check, without a fuzzer: every input that once
/// crashed or broke an invariant (`FuzzRegressions/<target>/`, one file each, as libFuzzer saved
/// it), and a handful of hostile inputs picked by hand.
@Suite("Fuzz regressions: hostile input never crashes nor names a path outside the media root")
struct FuzzRegressionTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    /// The saved inputs of a target, by file name.
    static func saved(_ target: FuzzInvariants.Target) throws -> [(name: String, bytes: [UInt8])] {
        let directory = corpus.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        return try names.map { name in (name, [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))) }
    }

    @Test("every input a fuzzer broke keeps the invariants", arguments: FuzzInvariants.Target.allCases)
    func savedInputs(target: FuzzInvariants.Target) throws {
        let inputs = try Self.saved(target)
        #expect(!inputs.isEmpty, "FuzzRegressions/\(target.rawValue) holds no input")
        for input in inputs {
            #expect(FuzzInvariants.violations(target, input.bytes) == [], "FuzzRegressions/\(target.rawValue)/\(input.name)")
        }
    }

    static let hostilePaths = [
        "../\u{301}etc/passwd", "/\u{301}etc/passwd", "a/\u{338}../../b", "%2e%2e/%2e%2e/etc/passwd", "..\\..\\etc\\passwd",
        "C:\\Windows\\win.ini", "\\\\server\\share\\a.jpg", "file:///etc/passwd", "a\u{0}b.jpg", "/srv/app/media/../secret",
        "/srv/app/media/\u{301}/a.jpg", ".\u{301}/a.jpg", "a/.\u{200D}./b", String(repeating: "../", count: 5_000) + "x",
        String(repeating: "a/", count: 10_000) + "b", "\u{FEFF}/etc/passwd", "a/b\u{0}/../c",
    ]

    @Test("hostile reference values normalise to clean paths or are refused", arguments: hostilePaths)
    func hostilePath(value: String) {
        #expect(FuzzInvariants.violations(.paths, Array(value.utf8)) == [])
    }

    static let hostileBodies = [
        #"{"id":"e","table":"accounts_user","column":"profile_pic","op":"delete","key":"1","old":"../\u0301etc/passwd"}"#,
        #"{"id":"e","table":"accounts_user","column":"profile_pic","op":"delete","key":"1","old":"/\u0301etc/passwd"}"#,
        #"{"id":"e","table":"accounts_user","column":"profile_pic","op":"replace","key":"1","old":"a/\u0000/b","new":null}"#,
        #"{"id":"e","table":"accounts_user","column":"profile_pic","op":"delete","key":"1","old":"thumbs/\u0338../../x.jpg"}"#,
        #"{"id":"e","table":"accounts_user","column":"profile_pic","op":"delete","key":1e400,"old":"a.jpg"}"#,
        #"{"id":"e","table":"accounts_user","column":"profile_pic","op":"delete","key":"1","old":"\ud800.jpg"}"#,
        String(repeating: "[", count: 100_000), String(repeating: "{\"a\":", count: 50_000),
        String(repeating: "\n", count: 10_000) + "{}", "\u{FEFF}\u{FEFF}{}", "[{}, 1, null, \"x\", []]",
    ]

    @Test("hostile event bodies give decisions on clean paths only", arguments: hostileBodies)
    func hostileBody(body: String) {
        #expect(FuzzInvariants.violations(.events, Array(body.utf8)) == [])
    }

    static let hostileConfigs = [
        minimalConfig.replacingOccurrences(of: "avatars/**", with: "avatars/../\u{301}x/**"),
        minimalConfig + "\ndefaults: {grace: 9223372036854775807s9223372036854775807s}",
        minimalConfig + "\ndefaults: {quarantine_dir: media/\u{301}q}",
        minimalConfig.replacingOccurrences(of: "references:", with: "derivatives: [\"{dir}/../\u{301}x/{stem}\"]\n    references:"),
        "x: &a [" + String(repeating: "*a, ", count: 10) + "]\nclasses: *a",
        String(repeating: "[", count: 100_000), String(repeating: "- ", count: 20_000) + "x",
        "version: 1\0\nmedia_root: \u{0}", "%YAML 1.1\n%TAG ! tag:x,2000:\n--- !<!>\n...\n---\n",
    ]

    @Test("hostile configs load or are refused with diagnostics", arguments: hostileConfigs)
    func hostileConfig(text: String) {
        #expect(FuzzInvariants.violations(.config, Array(text.utf8)) == [])
    }
}
