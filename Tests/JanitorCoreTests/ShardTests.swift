import Foundation
import Testing

@testable import JanitorCore

/// A world with every finding kind, many times over, so that every shard of a few gets some
/// of each: referenced files and their derivatives, orphans, files inside grace, unclassified
/// files and symlinks, excluded files, missing paths (one held by two rows) and invalid values
/// (one held by two rows).
func everyKindWorld() -> World {
    let profile = mediaClass(
        "profile_pictures", ["profile_pics/**"], columns: ["accounts_user.profile_pic", "accounts_user.signature"],
        exclude: ["profile_pics/default*.png"], derivatives: ["{dir}/thumbs/{stem}_*.{ext}"])
    let forum = mediaClass("forum_images", ["forum_images/**"], columns: ["forum_post.image"])
    var world = World([profile, forum])
    for i in 0..<40 {
        world.file("profile_pics/u\(i).jpg", bytes: 1_000 + Int64(i))
        world.file("profile_pics/thumbs/u\(i)_64.jpg", bytes: 64)
        world.row(0, key: "\(i)", "profile_pics/u\(i).jpg", owner: "\(i % 7)")
    }
    for i in 0..<30 { world.file("profile_pics/old/\(i).jpg", bytes: 2_000 + Int64(i)) }
    for i in 0..<20 { world.file("forum_images/2026/new-\(i).png", bytes: 300, age: 60) }
    for i in 0..<20 { world.file("forum_images/2025/old-\(i).png", bytes: 400 + Int64(i)) }
    for i in 0..<20 { world.file("tmp/stray-\(i).txt", bytes: Int64(i)) }
    for i in 0..<5 { world.file("tmp/link-\(i)", bytes: 9, kind: .symlink) }
    for i in 0..<10 { world.file("profile_pics/default\(i).png", bytes: 50) }
    for i in 0..<25 { world.row(2, key: "\(100 + i)", "forum_images/gone-\(i).png") }
    world.row(2, key: "200", "forum_images/gone-0.png")
    for i in 0..<15 { world.row(1, key: "\(300 + i)", "../escape-\(i).jpg") }
    world.row(2, key: "400", "../escape-0.jpg")
    for i in 0..<5 { world.row(2, key: "\(500 + i)", "/etc/passwd-\(i)") }
    return world
}

@Suite("Shards: --shard I/N and merging the shards' reports")
struct ShardTests {
    @Test("I/N parses from 1/1 up; the values that do not parse say what to write")
    func parsing() throws {
        #expect(try Shard(parsing: "1/3") == Shard(index: 1, count: 3))
        #expect(try Shard(parsing: "3/3").index == 3)
        #expect(try Shard(parsing: "1/1").count == 1)
        #expect(try Shard(parsing: "12/100").description == "12/100")
        let refused: [(String, String)] = [
            ("0/3", "'0/3' is not one of the 3 shards; shards count from 1, so use 1/3 to 3/3"),
            ("4/3", "'4/3' is not one of the 3 shards; shards count from 1, so use 1/3 to 3/3"),
            ("2/1", "'2/1' is not one of the 1 shard; shards count from 1, so use 1/1"),
            ("1/0", "'1/0' splits the audit into no shards; the number after the slash must be at least 1, e.g. 1/3"),
            ("a/b", "'a/b' is not I/N; write the shard's number, a slash and the number of shards, e.g. 1/3"),
        ]
        for (text, message) in refused {
            #expect(throws: ShardError.self, "\(text)") { try Shard(parsing: text) }
            do {
                _ = try Shard(parsing: text)
            } catch {
                #expect(error.description == message)
            }
        }
        for text in ["", "1", "1/", "/3", "+1/3", "-1/3", " 1/3", "1/3 ", "1/3/4", "1.0/3", "١/٣", "1/99999999999"] {
            #expect(throws: ShardError.malformed(text: text), "\(text)") { try Shard(parsing: text) }
        }
    }

    @Test("the hash is FNV-1a 64 over the path's UTF-8 bytes, pinned for known paths")
    func pinnedHash() throws {
        // FNV-1a's published test vectors...
        #expect(Shard.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.hash("foobar") == 0x8594_4171_f739_67e8)
        // ...and media paths: changing any of these re-splits every sharded audit.
        #expect(Shard.hash("profile_pics/a.jpg") == 0xd1af_2213_5a68_da8f)
        #expect(Shard.hash("forum_images/2026/11/x.png") == 0xd764_8152_9966_4e6d)
        #expect(Shard.hash("reçus/2026/reçu-été.pdf") == 0x5d1a_befe_1ab2_945d)
        #expect(Shard.hash("../../etc/passwd") == 0x2bef_2c0b_bbde_fdfa)
        func holders(_ path: String, of count: Int) throws -> [Int] {
            try (1...count).filter { try Shard(index: $0, count: count).contains(path) }
        }
        #expect(try holders("profile_pics/a.jpg", of: 3) == [3])
        #expect(try holders("profile_pics/a.jpg", of: 4) == [4])
        #expect(try holders("reçus/2026/reçu-été.pdf", of: 3) == [1])
        #expect(try holders("../../etc/passwd", of: 3) == [2])
    }

    @Test("continuing a hash over more bytes equals hashing them all at once")
    func continuedHash() {
        var directory = Array("profile_pics/2026/".utf8), name = Array("a.jpg".utf8)
        let whole = Shard.hash("profile_pics/2026/a.jpg")
        let continued = directory.withUnsafeMutableBufferPointer { d in
            name.withUnsafeMutableBufferPointer { n in Shard.hash(UnsafeBufferPointer(n), continuing: Shard.hash(UnsafeBufferPointer(d))) }
        }
        #expect(continued == whole)
    }

    @Test("every path is in exactly one shard, and shards are about the same size")
    func exactlyOneShard() throws {
        let paths = (0..<12_000).map { "uploads/images/\($0 % 97)/\($0 % 13)/file-\($0).jpg" }
        for count in 1...8 {
            let shards = try (1...count).map { try Shard(index: $0, count: count) }
            var sizes = [Int](repeating: 0, count: count)
            for path in paths {
                let holders = shards.filter { $0.contains(path) }
                #expect(holders.count == 1, "\(path) in \(holders.count) of \(count) shards")
                sizes[holders[0].index - 1] += 1
            }
            let expected = Double(paths.count) / Double(count)
            #expect(sizes.allSatisfy { abs(Double($0) - expected) < expected * 0.1 }, "\(count) shards: \(sizes)")
        }
    }

    @Test("each shard reports only its files, missing paths and invalid values; every finding is in exactly one shard")
    func shardsPartitionTheAudit() throws {
        let world = everyKindWorld()
        let whole = Reconciler(classes: world.classes, mediaRootSetting: "media").reconcile(world.listing, world.references, now: world.now)
        let kinds = Set(whole.report.findings.map(\.kind))
        #expect(kinds == Set(FindingKind.allCases))
        #expect(whole.report.summary.excluded == 10)
        let shards = try (1...3).map { index in
            let shard = try Shard(index: index, count: 3)
            return (shard, Reconciler(classes: world.classes, mediaRootSetting: "media", shard: shard).reconcile(world.listing, world.references, now: world.now))
        }
        var seen: [Finding: Int] = [:]
        var excluded = 0
        for (shard, result) in shards {
            #expect(result.report.shard == shard)
            // Each shard has some of every kind, and only its own.
            #expect(Set(result.report.findings.map(\.kind)) == kinds, "\(shard)")
            for finding in result.report.findings {
                #expect(shard.contains(finding.subject), "\(finding.subject) in \(shard)")
                seen[finding, default: 0] += 1
            }
            #expect(result.report.summary.files == result.states.count(where: { $0 != .skipped }))
            excluded += result.report.summary.excluded
            #expect(result.report.summary.excluded < 10)
        }
        #expect(excluded == 10)
        #expect(seen.count == whole.report.findings.count)
        #expect(seen.values.allSatisfy { $0 == 1 })
        #expect(Set(seen.keys) == Set(whole.report.findings))
        // Every listing entry is decided by exactly one shard, as the whole audit decides it.
        for entry in 0..<world.listing.count {
            let deciding = shards.filter { $0.1.states[entry] != .skipped }
            #expect(deciding.count == 1, "\(world.listing.paths[entry])")
            #expect(deciding.first?.1.states[entry] == whole.states[entry], "\(world.listing.paths[entry])")
        }
    }

    @Test("merging the shards gives the report of the whole audit, whatever order the shards come in")
    func mergeEqualsWhole() throws {
        let world = everyKindWorld()
        for depth in [1, 2, 3] {
            let whole = Reconciler(classes: world.classes, mediaRootSetting: "media", directoryDepth: depth)
                .reconcile(world.listing, world.references, now: world.now).report
            for count in [1, 2, 3, 5] {
                let shards = try (1...count).map { index in
                    (source: "shard-\(index).json", report: Reconciler(classes: world.classes, mediaRootSetting: "media", directoryDepth: depth, shard: try Shard(index: index, count: count))
                        .reconcile(world.listing, world.references, now: world.now).report)
                }
                let merged = try ScanReport.merging(shards: shards.reversed())
                #expect(merged == whole, "depth \(depth), \(count) shards")
                #expect(merged.shard == nil)
            }
        }
    }

    @Test("merging takes the latest shard's time")
    func mergedTime() throws {
        let world = everyKindWorld()
        var shards = try (1...2).map { index in
            (source: "\(index)", report: Reconciler(classes: world.classes, mediaRootSetting: "media", shard: try Shard(index: index, count: 2))
                .reconcile(world.listing, world.references, now: world.now).report)
        }
        shards[0].report.generatedAt = world.now.addingTimeInterval(3_600)
        #expect(try ScanReport.merging(shards: shards).generatedAt == world.now.addingTimeInterval(3_600))
    }

    @Test("shards that are not one split of one tree are refused, naming the shard and the file")
    func mergeErrors() throws {
        let world = everyKindWorld()
        func shard(_ index: Int, of count: Int, classes: Set<Int>? = nil) throws -> ScanReport {
            try Reconciler(classes: world.classes, mediaRootSetting: "media", selectedClasses: classes, shard: Shard(index: index, count: count))
                .reconcile(world.listing, world.references, now: world.now).report
        }
        func message(_ shards: [(source: String, report: ScanReport)]) -> String? {
            do {
                _ = try ScanReport.merging(shards: shards)
                return nil
            } catch {
                return error.description
            }
        }
        let one = try shard(1, of: 3), two = try shard(2, of: 3), three = try shard(3, of: 3)
        #expect(message([("a.json", one), ("b.json", two), ("c.json", three)]) == nil)
        #expect(message([("a.json", one), ("c.json", three)]) == "shard 2/3 is missing (got 1/3 from 'a.json', 3/3 from 'c.json'); add the report of 'scan --shard 2/3 --format json'")
        #expect(message([("b.json", two)]) == "shards 1/3 and 3/3 are missing (got 2/3 from 'b.json'); add the reports of 'scan --shard 1/3 --format json' and 'scan --shard 3/3 --format json'")
        #expect(message([("a.json", one), ("b.json", two), ("again.json", two), ("c.json", three)]) == "shard 2/3 is given twice, in 'b.json' and in 'again.json'; pass each shard's report once")
        #expect(message([("a.json", one), ("b.json", try shard(2, of: 4))]) == "'b.json' is shard 2/4 but 'a.json' is shard 1/3; merge the shards of one split, all with the same N")
        var elsewhere = two
        elsewhere.mediaRoot = "other/media"
        #expect(message([("a.json", one), ("b.json", elsewhere), ("c.json", three)]) == "'b.json' audits media root 'other/media' but 'a.json' audits 'media'; merge the shards of one media root")
        #expect(message([("a.json", one), ("b.json", try shard(2, of: 3, classes: [1])), ("c.json", three)]) == "'b.json' reports classes 'forum_images' but 'a.json' reports 'profile_pictures', 'forum_images'; run every shard with the same config and the same --class")
        var whole = one
        whole.shard = nil
        #expect(message([("a.json", one), ("whole.json", whole)]) == "'whole.json' is not the report of a shard (it has no 'shard'); merge the JSON reports written by 'scan --shard I/N --format json', one per shard")
        #expect(message([]) == "no reports to merge; pass the JSON report of every 'scan --shard I/N --format json' run")
    }
}
