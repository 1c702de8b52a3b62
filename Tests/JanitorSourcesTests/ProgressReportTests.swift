import Foundation
import JanitorCore
import Synchronization
import Testing

@testable import JanitorSources

/// What the walk and the reference read tell a `ProgressReporter`: every
/// `ProgressReporter.stride` items, and the walk once more with its totals.
@Suite("Progress reports of the walk and the reference read")
struct ProgressReportTests {
    /// The reports a reporter received, in order.
    final class Received: Sendable {
        let reports = Mutex<[[Int64]]>([])
        var reporter: ProgressReporter {
            ProgressReporter { count, bytes, stage in self.reports.withLock { $0.append([Int64(count), bytes, Int64(stage)]) } }
        }
    }

    @Test("the walk reports its entries and bytes every 4,096 entries, then its totals")
    func walk() throws {
        let tmp = TemporaryDirectory()
        for directory in 0..<5 {
            for file in 0..<1000 { tmp.file("media/d\(directory)/f\(file).jpg", bytes: 3) }
        }
        let received = Received()
        let listing = try DiskWalker(root: tmp.path + "/media").walk(progress: received.reporter)
        #expect(listing.count == 5000)
        let expected: [[Int64]] = [[4096, 12_288, 0], [5000, 15_000, 0]]
        #expect(received.reports.withLock { $0 } == expected)
    }

    @Test("the reference set reports the rows read every 4,096 rows, with the column being read")
    func references() throws {
        let classes = [
            MediaClass(
                name: "avatars", paths: [try Glob("avatars/**")],
                references: [
                    ReferenceColumn(table: "accounts_user", column: "avatar", key: "id"),
                    ReferenceColumn(table: "accounts_user", column: "banner", key: "id"),
                ])
        ]
        let received = Received()
        var references = ReferenceSet(classes: classes, mediaRoot: "/media")
        references.progress = received.reporter
        for row in 0..<3000 { references.add(value: "avatars/a\(row).jpg", column: 0, key: "\(row)") }
        for row in 0..<6000 { references.add(value: row % 2 == 0 ? "avatars/b\(row).jpg" : "", column: 1, key: "\(row)") }
        // Rows count whether or not they hold a path: 4,096 is row 1,096 of the second column.
        let expected: [[Int64]] = [[4096, 0, 1], [8192, 0, 1]]
        #expect(received.reports.withLock { $0 } == expected)
    }
}
