import Foundation
import JanitorCore
import JanitorReports
import Synchronization

/// Bytes and counts by class, kept current as files come and go: loaded by one walk at start,
/// then moved by the watcher's events and the queue's removals, so `GET /v1/usage` needs no
/// audit. Paths are kept in an arena (`PathSet`), about 40 bytes a file.
final class UsageTracker: Sendable {
    private struct State {
        var paths = PathSet(capacity: 1 << 12)
        var classOf: [Int32] = []
        var bytes: [Int64] = []
        var files: [Int]
        var totals: [Int64]
        var unclassified = 0
        var unclassifiedBytes: Int64 = 0
        var loaded = false
    }

    let classes: [MediaClass]
    private let state: Mutex<State>

    init(classes: [MediaClass]) {
        self.classes = classes
        state = Mutex(State(files: Array(repeating: 0, count: classes.count), totals: Array(repeating: 0, count: classes.count)))
    }

    /// Whether the first walk has been loaded.
    var isLoaded: Bool { state.withLock { $0.loaded } }

    /// Loads the first walk's regular files.
    func load(_ listing: Listing) {
        for index in 0..<listing.count where listing.kinds[index] == .regular {
            file(listing.paths[index], bytes: listing.sizes[index])
        }
        state.withLock { $0.loaded = true }
    }

    /// A regular file appeared or changed size. Returns its class, or nil when unclassified.
    @discardableResult
    func file(_ path: String, bytes: Int64) -> Int? {
        let owner = classes.firstIndex { $0.claims(path) }
        state.withLock { state in
            let (index, inserted) = state.paths.insert(path)
            if inserted {
                state.classOf.append(Int32(owner ?? -1))
                state.bytes.append(-1)
            }
            let old = state.bytes[index]
            state.bytes[index] = bytes
            if let owner {
                if old < 0 { state.files[owner] += 1 }
                state.totals[owner] += bytes - max(old, 0)
            } else {
                if old < 0 { state.unclassified += 1 }
                state.unclassifiedBytes += bytes - max(old, 0)
            }
        }
        return owner
    }

    /// A file went away (removed by the app, or by the queue).
    func removed(_ path: String) {
        state.withLock { state in
            guard let index = state.paths.index(of: path), state.bytes[index] >= 0 else { return }
            let owner = Int(state.classOf[index])
            if owner >= 0 {
                state.files[owner] -= 1
                state.totals[owner] -= state.bytes[index]
            } else {
                state.unclassified -= 1
                state.unclassifiedBytes -= state.bytes[index]
            }
            state.bytes[index] = -1
        }
    }

    /// Files and bytes of one class.
    func totals(ofClass index: Int) -> (files: Int, bytes: Int64) {
        state.withLock { ($0.files[index], $0.totals[index]) }
    }

    /// `{"schema": 1, "loaded": true, "classes": [{"name", "files", "bytes"}], "unclassified": {"files", "bytes"}}`.
    func json() -> String {
        let snapshot = state.withLock { ($0.files, $0.totals, $0.unclassified, $0.unclassifiedBytes, $0.loaded) }
        var json = JSONWriter()
        json.beginObject()
        json.field("schema", 1)
        json.field("loaded", snapshot.4)
        json.key("classes")
        json.beginArray()
        for (index, mediaClass) in classes.enumerated() {
            json.element()
            json.beginObject()
            json.field("name", mediaClass.name)
            json.field("files", snapshot.0[index])
            json.field("bytes", snapshot.1[index])
            json.endObject()
        }
        json.endArray()
        json.key("unclassified")
        json.beginObject()
        json.field("files", snapshot.2)
        json.field("bytes", snapshot.3)
        json.endObject()
        json.endObject()
        return json.string + "\n"
    }
}
