import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

@Suite("Safe removal (DESIGN 6.1 and 6.6)")
struct SafeRemoverTests {
    func setUp() -> (TemporaryDirectory, SafeRemover) {
        let tmp = TemporaryDirectory()
        try! FileManager.default.createDirectory(atPath: tmp.path + "/media", withIntermediateDirectories: true)
        return (tmp, SafeRemover(root: tmp.path + "/media"))
    }

    @Test("paths that are not clean and relative are refused before anything is opened", arguments: ["../x.jpg", "/etc/passwd", "a/../b.jpg", "./a.jpg", "a//b.jpg", "a\u{0}b"])
    func uncleanPaths(path: String) {
        let (_, remover) = setUp()
        #expect(throws: SafeRemover.RemovalError.self) { try remover.inspect(path) }
    }

    @Test("a symlink anywhere in the path is refused; the target is untouched")
    func symlinks() throws {
        let (tmp, remover) = setUp()
        tmp.file("outside/x.jpg")
        tmp.symlink("media/dir", to: tmp.path + "/outside")
        tmp.symlink("media/file.jpg", to: tmp.path + "/outside/x.jpg")
        #expect(throws: SafeRemover.RemovalError.refused("'dir/x.jpg' has a symlink or a file where a directory should be ('dir')")) { try remover.inspect("dir/x.jpg") }
        #expect(throws: SafeRemover.RemovalError.refused("'file.jpg' is a symlink; only regular files are removed")) { try remover.inspect("file.jpg") }
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/outside/x.jpg"))
    }

    @Test("a file replaced since it was inspected is not removed")
    func identityChecked() throws {
        let (tmp, remover) = setUp()
        tmp.file("media/a.jpg", bytes: 3)
        let identity = try #require(try remover.inspect("a.jpg"))
        // The app uploads a new file to the same path (written aside, renamed over the old one).
        tmp.file("media/.upload", bytes: 3)
        #expect(rename(tmp.path + "/media/.upload", tmp.path + "/media/a.jpg") == 0)
        #expect(throws: SafeRemover.RemovalError.self) { try remover.unlink("a.jpg", expected: identity) }
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/media/a.jpg"))
    }

    @Test("quarantine moves the file; restore puts it back byte-identical and never overwrites")
    func quarantineAndRestore() throws {
        let (tmp, remover) = setUp()
        tmp.file("media/d/e/a.jpg", bytes: 1234)
        let original = try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/e/a.jpg"))
        let identity = try #require(try remover.inspect("d/e/a.jpg"))
        let destination = tmp.path + "/quarantine/2026-11-21/1-a.jpg"
        #expect(try remover.quarantine("d/e/a.jpg", expected: identity, to: destination))
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/media/d/e/a.jpg"))
        remover.removeEmptyParents(of: "d/e/a.jpg", keep: ["d"])
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/media/d/e"))
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/media/d"))

        tmp.file("media/d/e/a.jpg", bytes: 1)
        #expect(throws: SafeRemover.RemovalError.self) { try remover.restore(from: destination, to: "d/e/a.jpg") }
        try FileManager.default.removeItem(atPath: tmp.path + "/media/d/e/a.jpg")
        try remover.restore(from: destination, to: "d/e/a.jpg")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/e/a.jpg")) == original)
        #expect(!FileManager.default.fileExists(atPath: destination))
    }

    @Test("set aside is a rename in the file's own directory, refused for a replaced file; put back never overwrites")
    func setAsideAndPutBack() throws {
        let (tmp, remover) = setUp()
        tmp.file("media/d/a.jpg", bytes: 321)
        let original = try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/a.jpg"))
        let identity = try #require(try remover.inspect("d/a.jpg"))
        let aside = SafeRemover.asideName(forItem: 42)
        #expect(aside == ".media-janitor-42.removing")
        #expect(try remover.setAside("d/a.jpg", expected: identity, as: aside))
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/media/d/a.jpg"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/" + aside)) == original)
        #expect(try remover.setAside("d/a.jpg", expected: identity, as: aside) == false, "gone: nothing to set aside")

        // A new file took the name: the one set aside does not go back over it.
        tmp.file("media/d/a.jpg", bytes: 7)
        #expect(throws: SafeRemover.RemovalError.refused("'d/a.jpg' exists again; the file set aside was not put back over it")) {
            try remover.putBack(aside, to: "d/a.jpg")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/a.jpg")).count == 7)
        try FileManager.default.removeItem(atPath: tmp.path + "/media/d/a.jpg")
        #expect(try remover.putBack(aside, to: "d/a.jpg"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/a.jpg")) == original)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/media/d/" + aside))
        #expect(try remover.putBack(aside, to: "d/a.jpg") == false, "nothing set aside any more")

        // Replaced between the look and the rename: refused, the new file stays where it is.
        tmp.file("media/d/.upload", bytes: 9)
        #expect(rename(tmp.path + "/media/d/.upload", tmp.path + "/media/d/a.jpg") == 0)
        #expect(throws: SafeRemover.RemovalError.refused("'d/a.jpg' was replaced by another file since it was queued")) {
            try remover.setAside("d/a.jpg", expected: identity, as: aside)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/d/a.jpg")).count == 9)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/media/d/" + aside))
    }

    @Test("discard unlinks only the file set aside, and says when there was none")
    func discard() throws {
        let (tmp, remover) = setUp()
        tmp.file("media/d/a.jpg", bytes: 5)
        tmp.file("media/d/b.jpg", bytes: 5)
        let identity = try #require(try remover.inspect("d/a.jpg"))
        let aside = SafeRemover.asideName(forItem: 7)
        #expect(try remover.setAside("d/a.jpg", expected: identity, as: aside))
        #expect(try remover.discard(aside, nextTo: "d/a.jpg"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path + "/media/d") == ["b.jpg"])
        #expect(try remover.discard(aside, nextTo: "d/a.jpg") == false)
        #expect(try remover.discard(aside, nextTo: "gone/a.jpg") == false)
        tmp.symlink("media/link", to: tmp.path + "/media/d")
        #expect(throws: SafeRemover.RemovalError.self) { try remover.discard("b.jpg", nextTo: "link/a.jpg") }
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/media/d/b.jpg"))
    }

    @Test("across file systems a quarantine copies, syncs and unlinks; restore copies back byte-identical",
          .enabled(if: Self.otherFileSystem != nil, "needs a tmpfs at /dev/shm on another device"))
    func acrossFileSystems() throws {
        let (tmp, remover) = setUp()
        tmp.file("media/x/big.bin", bytes: 300_000)
        let original = try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/x/big.bin"))
        let quarantine = Self.otherFileSystem! + "/janitor-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: quarantine) }
        let identity = try #require(try remover.inspect("x/big.bin"))
        #expect(try remover.quarantine("x/big.bin", expected: identity, to: quarantine + "/day/1-big.bin"))
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/media/x/big.bin"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: quarantine + "/day/1-big.bin")) == original)
        #expect(!FileManager.default.fileExists(atPath: quarantine + "/day/1-big.bin.partial"))
        try remover.restore(from: quarantine + "/day/1-big.bin", to: "x/big.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/media/x/big.bin")) == original)
        #expect(!FileManager.default.fileExists(atPath: quarantine + "/day/1-big.bin"))
    }

    /// `/dev/shm` when it is a different device from the temporary directory.
    static let otherFileSystem: String? = {
        var shm = stat(), tmp = stat()
        guard stat("/dev/shm", &shm) == 0, stat(FileManager.default.temporaryDirectory.path, &tmp) == 0, shm.st_dev != tmp.st_dev else { return nil }
        return "/dev/shm"
    }()

    @Test("the media root is never removed, even when emptied")
    func mediaRootStays() throws {
        let (tmp, remover) = setUp()
        tmp.file("media/only.jpg")
        let identity = try #require(try remover.inspect("only.jpg"))
        #expect(try remover.unlink("only.jpg", expected: identity))
        remover.removeEmptyParents(of: "only.jpg", keep: [])
        remover.removeEmptyParents(of: "x/only.jpg", keep: [])
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/media"))
    }

    @Test("a directory, a FIFO or a missing file is never removed")
    func onlyRegularFiles() throws {
        let (tmp, remover) = setUp()
        try FileManager.default.createDirectory(atPath: tmp.path + "/media/dir", withIntermediateDirectories: true)
        #expect(mkfifo(tmp.path + "/media/fifo", 0o600) == 0)
        #expect(throws: SafeRemover.RemovalError.self) { try remover.inspect("dir") }
        #expect(throws: SafeRemover.RemovalError.self) { try remover.inspect("fifo") }
        #expect(try remover.inspect("missing.jpg") == nil)
        #expect(try remover.inspect("no/such/dir/missing.jpg") == nil)
    }
}
