import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

@Suite("Walking the media root")
struct DiskWalkerTests {
    func entries(_ listing: Listing) -> [String: (Int64, Listing.EntryKind)] {
        var result: [String: (Int64, Listing.EntryKind)] = [:]
        for index in 0..<listing.count { result[listing.paths[index]] = (listing.sizes[index], listing.kinds[index]) }
        return result
    }

    @Test("every entry is listed once with its lstat size; directories are descended, not listed")
    func walksTree() throws {
        let tmp = TemporaryDirectory()
        tmp.file("media/a.jpg", bytes: 5)
        tmp.file("media/x/y/z/b.png", bytes: 1234)
        tmp.file("media/.hidden", bytes: 1)
        tmp.file("media/ünï code.jpg", bytes: 7)
        try FileManager.default.createDirectory(atPath: tmp.path + "/media/empty", withIntermediateDirectories: true)
        let listing = try DiskWalker(root: tmp.path + "/media").walk()
        let found = entries(listing)
        #expect(Set(found.keys) == ["a.jpg", "x/y/z/b.png", ".hidden", "ünï code.jpg"])
        #expect(found["x/y/z/b.png"]?.0 == 1234)
        let total: Int64 = listing.sizes.reduce(0, +)
        #expect(total == 1247)
    }

    @Test("a file the janitor set aside while removing it is not listed; names that only look alike are")
    func asideFilesNotListed() throws {
        let tmp = TemporaryDirectory()
        tmp.file("media/x/" + SafeRemover.asideName(forItem: 12), bytes: 5)
        for name in [".media-janitor-.removing", ".media-janitor-1a.removing", ".media-janitor-3.removing.jpg", "media-janitor-4.removing", ".media-janitor-5.removin"] {
            tmp.file("media/x/" + name, bytes: 1)
        }
        let listing = try DiskWalker(root: tmp.path + "/media").walk()
        #expect(Set(entries(listing).keys) == [
            "x/.media-janitor-.removing", "x/.media-janitor-1a.removing", "x/.media-janitor-3.removing.jpg", "x/media-janitor-4.removing", "x/.media-janitor-5.removin",
        ])
    }

    @Test("symlinks are never followed: a link to a file or a directory outside the root is one entry of its own size")
    func symlinksNotFollowed() throws {
        let tmp = TemporaryDirectory()
        tmp.file("outside/secret.txt", bytes: 4096)
        tmp.file("outside/dir/deep.txt", bytes: 4096)
        tmp.file("media/real.jpg", bytes: 3)
        tmp.symlink("media/link.jpg", to: tmp.path + "/outside/secret.txt")
        tmp.symlink("media/linkdir", to: tmp.path + "/outside/dir")
        tmp.symlink("media/dangling.jpg", to: "nowhere.jpg")
        let found = entries(try DiskWalker(root: tmp.path + "/media").walk())
        #expect(Set(found.keys) == ["real.jpg", "link.jpg", "linkdir", "dangling.jpg"])
        #expect(found["link.jpg"]?.1 == .symlink)
        #expect(found["link.jpg"]?.0 == Int64((tmp.path + "/outside/secret.txt").utf8.count))
        #expect(found["linkdir"]?.1 == .symlink)
        #expect(found["dangling.jpg"]?.0 == 11)
    }

    @Test("a FIFO is listed as a special file, never opened")
    func fifo() throws {
        let tmp = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: tmp.path + "/media", withIntermediateDirectories: true)
        #expect(mkfifo(tmp.path + "/media/pipe", 0o600) == 0)
        let found = entries(try DiskWalker(root: tmp.path + "/media").walk())
        #expect(found["pipe"]?.1 == .other)
    }

    @Test("a media root that is a symlink is refused, not followed")
    func rootSymlink() {
        let tmp = TemporaryDirectory()
        tmp.file("real/a.jpg")
        tmp.symlink("media", to: tmp.path + "/real")
        #expect(throws: SourceError.self) { try DiskWalker(root: tmp.path + "/media").walk() }
    }

    @Test("a missing media root is a configuration error naming the setting")
    func missingRoot() {
        do {
            _ = try DiskWalker(root: "/nonexistent/media").walk()
            Issue.record("walked a missing root")
        } catch {
            #expect(error.isConfiguration)
            #expect(error.description == "media_root '/nonexistent/media' cannot be used: No such file or directory; check 'media_root' in the config (it is relative to the config file)")
        }
    }

    @Test("an unreadable subdirectory is reported and the walk goes on", .enabled(if: getuid() != 0, "root reads every directory"))
    func unreadableDirectory() throws {
        let tmp = TemporaryDirectory()
        tmp.file("media/ok.jpg")
        tmp.file("media/locked/x.jpg")
        chmod(tmp.path + "/media/locked", 0)
        let listing = try DiskWalker(root: tmp.path + "/media").walk()
        #expect(Set(entries(listing).keys) == ["ok.jpg"])
        #expect(listing.unreadable.map(\.path) == ["locked"])
    }
}
