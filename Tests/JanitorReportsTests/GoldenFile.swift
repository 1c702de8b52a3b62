import Foundation
import Testing

/// Golden files in `Expected/` next to this file, read and written in the source tree.
///
/// `RECORD=1 swift test --filter JanitorReportsTests` rewrites them from the current output;
/// review the diff before committing.
enum GoldenFile {
    /// `Tests/JanitorReportsTests/Expected`, found from this file's path so that RECORD writes
    /// into the source tree rather than a build bundle.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Expected", isDirectory: true)

    /// Whether this run records instead of comparing.
    static var isRecording: Bool { ProcessInfo.processInfo.environment["RECORD"] == "1" }

    /// The expected text for `name`; when recording, first writes `actual` as the new expectation.
    static func expected(_ name: String, actual: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        if isRecording {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url, options: .atomic)
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record(
                "no golden file Expected/\(name); record it with RECORD=1 swift test --filter JanitorReportsTests")
            return ""
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// JSON re-serialised with sorted keys, so two documents compare by content, not layout.
func canonicalJSON(_ text: some StringProtocol) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    return String(decoding: data, as: UTF8.self)
}
