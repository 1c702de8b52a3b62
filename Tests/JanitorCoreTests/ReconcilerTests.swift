import Foundation
import Testing

@testable import JanitorCore

/// A small world: classes, files on disk, and rows, reconciled at a fixed time.
struct World {
    var classes: [MediaClass]
    var listing = Listing()
    var references: ReferenceSet
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var old: Int64 { Int64(now.timeIntervalSince1970) - 86_400 }

    init(_ classes: [MediaClass]) {
        self.classes = classes
        references = ReferenceSet(classes: classes, mediaRoot: "/media", keepsOwners: true)
    }

    mutating func file(_ path: String, bytes: Int64 = 100, age: Int64 = 86_400, kind: Listing.EntryKind = .regular) {
        listing.append(path, size: bytes, mtime: Int64(now.timeIntervalSince1970) - age, kind: kind)
    }

    /// Adds a row: `column` numbers the path-holding columns in config order.
    mutating func row(_ column: Int, key: String, _ value: String, owner: String? = nil) {
        references.add(value: value, column: column, key: key, owner: owner)
    }

    func reconcile(selected: Set<Int>? = nil) -> Reconciler.Result {
        Reconciler(classes: classes, mediaRootSetting: "media", selectedClasses: selected).reconcile(listing, references, now: now)
    }

    func paths(_ kind: FindingKind, _ result: Reconciler.Result) -> [String] {
        result.report.findings.filter { $0.kind == kind }.map(\.subject)
    }
}

func mediaClass(_ name: String, _ paths: [String], columns: [String], exclude: [String] = [], derivatives: [String] = []) -> MediaClass {
    MediaClass(
        name: name, paths: paths.map { try! Glob($0) }, exclude: exclude.map { try! Glob($0) },
        references: columns.map { ReferenceColumn(table: String($0.split(separator: ".")[0]), column: String($0.split(separator: ".")[1]), key: "id", owner: "user_id") },
        derivatives: derivatives.map { try! DerivativePattern($0) })
}

@Suite("Reconciling disk and references")
struct ReconcilerTests {
    let profile = mediaClass("profile_pictures", ["profile_pics/**"], columns: ["accounts_user.profile_pic", "accounts_user.signature"],
                             exclude: ["profile_pics/default.png"], derivatives: ["{dir}/thumbs/{stem}_*.{ext}", "{dir}/{stem}.webp"])
    let forum = mediaClass("forum_images", ["forum_images/**"], columns: ["forum_post.image"])

    @Test("a file shared by two rows or two fields is not an orphan while one holds it")
    func sharedFile() {
        var world = World([profile, forum])
        world.file("profile_pics/shared.jpg")
        world.file("profile_pics/two-fields.jpg")
        world.file("profile_pics/gone.jpg")
        world.row(0, key: "1", "profile_pics/shared.jpg")
        world.row(0, key: "2", "profile_pics/shared.jpg")
        world.row(0, key: "3", "profile_pics/two-fields.jpg")
        world.row(1, key: "3", "profile_pics/two-fields.jpg")
        let result = world.reconcile()
        #expect(world.paths(.orphan, result) == ["profile_pics/gone.jpg"])
        #expect(result.report.summary.referenced == 2)
    }

    @Test("a name in another encoding than UTF-8, written untidily in its row, still protects its file", arguments: [
        "forum_images//caf\u{E9}.jpg", "./forum_images/caf\u{E9}.jpg", "forum_images/x/../caf\u{E9}.jpg", "/media/forum_images/caf\u{E9}.jpg",
    ])
    func latin1Name(stored: String) {
        var world = World([profile, forum])
        // Latin-1 bytes: "é" is the single byte 0xE9, not valid UTF-8.
        let onDisk: [UInt8] = Array("forum_images/caf".utf8) + [0xE9] + Array(".jpg".utf8)
        let value = stored.unicodeScalars.map { UInt8($0.value) }
        onDisk.withUnsafeBufferPointer { world.listing.append($0, size: 10, mtime: 0, kind: .regular) }
        value.withUnsafeBufferPointer { v in
            Array("1".utf8).withUnsafeBufferPointer { k in world.references.add(value: v, column: 2, key: k) }
        }
        let result = world.reconcile()
        #expect(result.report.summary.orphans == 0)
        #expect(result.report.summary.referenced == 1)
        #expect(result.report.summary.invalid == 0)
    }

    @Test("an orphan whose name is not UTF-8 is shown repaired and marked so that nothing acts on it; a name holding U+FFFD itself is not")
    func repairedOrphanName() {
        var world = World([profile, forum])
        let latin1: [UInt8] = Array("forum_images/caf".utf8) + [0xE9] + Array(".jpg".utf8)
        latin1.withUnsafeBufferPointer { world.listing.append($0, size: 10, mtime: world.old, kind: .regular) }
        world.file("forum_images/caf\u{FFFD}-real.jpg")
        let orphans = world.reconcile().report.findings.filter { $0.kind == .orphan }
        #expect(orphans.map(\.subject) == ["forum_images/caf\u{FFFD}.jpg", "forum_images/caf\u{FFFD}-real.jpg"])
        #expect(orphans.map(\.pathIsRepaired) == [true, false])
        #expect(orphans.first?.reason == Finding.repairedNameReason)
    }

    @Test("a column of another class protects a file")
    func crossClass() {
        var world = World([profile, forum])
        world.file("forum_images/used-as-avatar.jpg")
        world.row(0, key: "7", "forum_images/used-as-avatar.jpg")
        #expect(world.paths(.orphan, world.reconcile()).isEmpty)
        // ... even when the audit is limited to the file's own class.
        #expect(world.paths(.orphan, world.reconcile(selected: [1])).isEmpty)
    }

    @Test("derivatives of a referenced file are not orphans; those of an orphan are")
    func derivatives() {
        var world = World([profile])
        for path in ["profile_pics/a.jpg", "profile_pics/thumbs/a_64x64.jpg", "profile_pics/a.webp",
                     "profile_pics/b.jpg", "profile_pics/thumbs/b_64x64.jpg", "profile_pics/b.webp"] {
            world.file(path)
        }
        world.row(0, key: "1", "profile_pics/a.jpg")
        let result = world.reconcile()
        #expect(world.paths(.orphan, result) == ["profile_pics/b.jpg", "profile_pics/b.webp", "profile_pics/thumbs/b_64x64.jpg"])
        #expect(result.report.summary.referenced == 3)
    }

    @Test("an unreferenced file inside grace is too_young, not an orphan")
    func grace() {
        var world = World([profile])
        world.file("profile_pics/new.jpg", age: 60)
        world.file("profile_pics/edge.jpg", age: 900)
        let result = world.reconcile()
        #expect(world.paths(.tooYoung, result) == ["profile_pics/new.jpg"])
        #expect(world.paths(.orphan, result) == ["profile_pics/edge.jpg"])
    }

    @Test("a symlink is unclassified with its own size, never an orphan, even when a row names it")
    func symlink() {
        var world = World([profile])
        world.file("profile_pics/link.jpg", bytes: 17, kind: .symlink)
        world.file("profile_pics/fifo", bytes: 0, kind: .other)
        world.row(0, key: "1", "profile_pics/link.jpg")
        let result = world.reconcile()
        #expect(world.paths(.orphan, result).isEmpty)
        #expect(world.paths(.unclassified, result) == ["profile_pics/fifo", "profile_pics/link.jpg"])
        #expect(result.report.findings.first { $0.subject == "profile_pics/link.jpg" }?.bytes == 17)
        #expect(result.report.summary.bytes == 17)
    }

    @Test("'..' and absolute reference values are invalid; one inside the root still protects its file")
    func invalidValues() {
        var world = World([profile])
        world.file("profile_pics/a.jpg")
        world.file("profile_pics/b.jpg")
        world.row(0, key: "1", "../../etc/passwd")
        world.row(0, key: "2", "/etc/passwd")
        world.row(0, key: "3", "/media/profile_pics/a.jpg")
        world.row(0, key: "4", "profile_pics/x/../b.jpg")
        let result = world.reconcile()
        #expect(world.paths(.invalid, result) == ["../../etc/passwd", "/etc/passwd", "/media/profile_pics/a.jpg", "profile_pics/x/../b.jpg"])
        #expect(result.report.findings.first { $0.subject == "/etc/passwd" }?.referencedBy == [RowReference(table: "accounts_user", column: "profile_pic", key: "2")])
        #expect(world.paths(.orphan, result).isEmpty)
        #expect(world.paths(.missing, result).isEmpty)
    }

    @Test("values are normalised before comparison")
    func normalisedValues() {
        var world = World([forum])
        world.file("forum_images/2024/a.jpg")
        world.row(0, key: "1", "./forum_images//2024/a.jpg")
        let result = world.reconcile()
        #expect(result.report.summary.referenced == 1)
        #expect(result.report.findings.isEmpty)
    }

    @Test("missing files list every row that references them")
    func missing() {
        var world = World([profile, forum])
        world.row(0, key: "1", "profile_pics/gone.jpg")
        world.row(1, key: "1", "profile_pics/gone.jpg")
        let result = world.reconcile()
        let finding = result.report.findings.first { $0.kind == .missing }
        #expect(finding?.path == "profile_pics/gone.jpg")
        #expect(finding?.className == "profile_pictures")
        #expect(finding?.referencedBy == [RowReference(table: "accounts_user", column: "profile_pic", key: "1"), RowReference(table: "accounts_user", column: "signature", key: "1")])
        #expect(result.report.classes[0].missing == 1)
    }

    @Test("excluded and unclaimed files are never orphans")
    func excludedAndUnclassified() {
        var world = World([profile])
        world.file("profile_pics/default.png")
        world.file("tmp/upload.part")
        world.file("README.txt")
        let result = world.reconcile()
        #expect(world.paths(.orphan, result).isEmpty)
        #expect(world.paths(.unclassified, result) == ["README.txt", "tmp/upload.part"])
        #expect(result.report.summary.excluded == 1)
    }

    @Test("totals add up by class and directory, largest orphan directory first")
    func totals() {
        var world = World([profile, forum])
        world.file("profile_pics/a.jpg", bytes: 10)
        world.file("profile_pics/b.jpg", bytes: 20)
        world.file("forum_images/2024/01/c.jpg", bytes: 300)
        world.file("forum_images/2024/02/d.jpg", bytes: 4000)
        world.file("top.txt", bytes: 5)
        world.row(0, key: "1", "profile_pics/a.jpg", owner: "u1")
        world.row(2, key: "9", "forum_images/2024/02/d.jpg", owner: "u1")
        let result = world.reconcile()
        let s = result.report.summary
        #expect((s.files, s.bytes, s.referenced, s.orphans, s.orphanBytes, s.unclassified) == (5, 4335, 2, 2, 320, 1))
        #expect(result.report.classes.map { [$0.name, "\($0.files)", "\($0.bytes)", "\($0.orphans)", "\($0.orphanBytes)"] } == [
            ["profile_pictures", "2", "30", "1", "20"], ["forum_images", "2", "4300", "1", "300"],
        ])
        #expect(result.report.directories.map(\.path) == ["forum_images/2024", "profile_pics", "."])
        #expect(result.report.directories.first?.orphanBytes == 300)
        #expect(result.owners.map { "\($0.className) \($0.owner) \($0.files) \($0.bytes)" } == ["forum_images u1 1 4000", "profile_pictures u1 1 10"])
    }

    @Test("findings are ordered by kind, then path")
    func ordering() {
        var world = World([profile])
        world.file("profile_pics/z.jpg")
        world.file("profile_pics/a.jpg")
        world.file("zz.txt")
        world.row(0, key: "1", "profile_pics/missing.jpg")
        let kinds = world.reconcile().report.findings.map { "\($0.kind.rawValue) \($0.subject)" }
        #expect(kinds == ["orphan profile_pics/a.jpg", "orphan profile_pics/z.jpg", "missing profile_pics/missing.jpg", "unclassified zz.txt"])
    }
}

@Suite("Path sets")
struct PathSetTests {
    @Test("paths keep their index and are found again after growth")
    func growth() {
        var set = PathSet(capacity: 4)
        for i in 0..<10_000 { set.insert("dir\(i % 97)/file-\(i).jpg") }
        #expect(set.count == 10_000)
        #expect(set.index(of: "dir5/file-5.jpg") == 5)
        #expect(set.insert("dir5/file-5.jpg").inserted == false)
        #expect(!set.contains("dir5/file-5.jpeg"))
        #expect(set[9_999] == "dir9999/file-9999.jpg".replacingOccurrences(of: "dir9999", with: "dir\(9_999 % 97)"))
    }
}
