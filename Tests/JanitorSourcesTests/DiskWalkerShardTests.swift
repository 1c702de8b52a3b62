import Foundation
import JanitorCore
import Testing

@testable import JanitorSources

@Suite("Walking one shard of the media root")
struct DiskWalkerShardTests {
    func entries(_ listing: Listing) -> [String: (Int64, Listing.EntryKind)] {
        var result: [String: (Int64, Listing.EntryKind)] = [:]
        for index in 0..<listing.count { result[listing.paths[index]] = (listing.sizes[index], listing.kinds[index]) }
        return result
    }

    @Test("the shards of a walk list every entry exactly once, with its size and kind, each in the shard its path hashes to")
    func shardsPartitionTheWalk() throws {
        let tmp = TemporaryDirectory()
        for index in 0..<300 {
            tmp.file("media/uploads/\(index % 7)/\(index % 3)/file-\(index).jpg", bytes: index)
        }
        for index in 0..<20 { tmp.file("media/top-\(index).txt", bytes: 1) }
        tmp.file("media/ünï code/é.jpg", bytes: 3)
        tmp.file("outside/secret.txt", bytes: 50)
        for index in 0..<10 { tmp.symlink("media/links/link-\(index)", to: tmp.path + "/outside/secret.txt") }
        tmp.symlink("media/links/to-dir", to: tmp.path + "/outside")
        #expect(mkfifo(tmp.path + "/media/uploads/pipe", 0o600) == 0)

        let walker = DiskWalker(root: tmp.path + "/media")
        let whole = entries(try walker.walk())
        #expect(whole.count == 300 + 20 + 1 + 11 + 1)
        for count in [1, 3, 4] {
            var union: [String: (Int64, Listing.EntryKind)] = [:]
            for index in 1...count {
                let shard = try Shard(index: index, count: count)
                let listed = entries(try walker.walk(shard: shard))
                #expect(!listed.isEmpty)
                for (path, entry) in listed {
                    #expect(shard.contains(path), "\(path) listed in shard \(shard)")
                    #expect(union.updateValue(entry, forKey: path) == nil, "\(path) listed by two shards of \(count)")
                }
            }
            #expect(Set(union.keys) == Set(whole.keys), "\(count) shards")
            for (path, entry) in whole {
                #expect(union[path]?.0 == entry.0 && union[path]?.1 == entry.1, "\(path)")
            }
        }
    }
}
