import Foundation
import Testing

/// `scan --shard I/N` and `history merge` on the sample app, which has orphans, missing files,
/// invalid references, unclassified files and symlinks, a file inside grace and an excluded file.
@Suite("scan --shard and history merge", .serialized)
struct ShardCommandTests {
    /// The generation time removed from every format: the one thing a merge cannot reproduce.
    func withoutTime(_ text: String) -> String {
        text.replacing(/("generated_at": "|generated at  ?|timestamp=")-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\dZ?/) { "\($0.output.1)<time>" }
    }

    /// Writes the JSON reports of shards 1...count into `directory` and returns their paths.
    func shardReports(_ count: Int, into directory: String, in sample: String = Sample.directory) throws -> [String] {
        try (1...count).map { index in
            let path = "\(directory)/shard-\(index)-of-\(count).json"
            let outcome = try Janitor.run(["scan", "--shard", "\(index)/\(count)", "--format", "json", "--output", path], in: sample)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return path
        }
    }

    func kinds(_ report: [String: Any]) -> Set<String> {
        Set((report["findings"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
    }

    @Test("the merged JSON of 3 shards equals the unsharded scan's byte for byte, but for generated_at")
    func mergedEqualsUnsharded() throws {
        let scratch = Scratch()
        let whole = try Janitor.run(["scan", "--format", "json", "--no-record"], in: Sample.directory)
        #expect(whole.status == 0, "\(whole.stderr)")
        let report = try json(whole.stdout)
        // The sample has every kind of finding, and excluded files, for the shards to split.
        #expect(kinds(report) == ["orphan", "missing", "invalid", "unclassified", "too_young"])
        #expect((report["summary"] as? [String: Any])?["excluded"] as? Int == 1)

        let shards = try shardReports(3, into: scratch.path)
        let merged = try Janitor.run(["history", "merge", shards[2], shards[0], shards[1], "--format", "json"], in: Sample.directory)
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stderr.isEmpty)
        #expect(withoutTime(merged.stdout) == withoutTime(whole.stdout))
        #expect(withoutTime(merged.stdout) != merged.stdout, "the time was not found")
        #expect(!merged.stdout.contains("shard"))
    }

    @Test("the merged report prints in every format as the unsharded scan does")
    func everyFormat() throws {
        let scratch = Scratch()
        let shards = try shardReports(3, into: scratch.path)
        for format in ["text", "ndjson", "markdown", "junit"] {
            let whole = try Janitor.run(["scan", "--format", format, "--no-record", "--top", "1000"], in: Sample.directory)
            let merged = try Janitor.run(["history", "merge", "--format", format, "--top", "1000"] + shards, in: Sample.directory)
            #expect(merged.status == 0, "\(format): \(merged.stderr)")
            #expect(withoutTime(merged.stdout) == withoutTime(whole.stdout), "\(format)")
            #expect(withoutTime(merged.stdout) != merged.stdout, "\(format): the time was not found")
        }
    }

    @Test("every file and every finding is in exactly one shard; the shards' totals add up to the whole")
    func shardsPartitionTheScan() throws {
        let scratch = Scratch()
        let whole = try json(try Janitor.run(["scan", "--format", "json", "--no-record"], in: Sample.directory).stdout)
        let wholeFindings = (whole["findings"] as? [[String: Any]] ?? []).map { "\($0["kind"]!) \(($0["path"] ?? $0["value"])!)" }
        var findings: [String] = []
        var summaries: [String: Int] = [:]
        var directories: [String: Int] = [:]
        for (index, path) in try shardReports(4, into: scratch.path).enumerated() {
            let shard = try json(try String(contentsOfFile: path, encoding: .utf8))
            #expect(shard["shard"] as? [String: Int] == ["index": index + 1, "count": 4])
            findings += (shard["findings"] as? [[String: Any]] ?? []).map { "\($0["kind"]!) \(($0["path"] ?? $0["value"])!)" }
            for (key, value) in shard["summary"] as? [String: Int] ?? [:] { summaries[key, default: 0] += value }
            for directory in shard["directories"] as? [[String: Any]] ?? [] {
                directories[directory["path"] as! String, default: 0] += directory["files"] as! Int
            }
        }
        #expect(findings.count == wholeFindings.count)
        #expect(Set(findings) == Set(wholeFindings))
        #expect(summaries == whole["summary"] as? [String: Int])
        let wholeDirectories = (whole["directories"] as? [[String: Any]] ?? []).reduce(into: [String: Int]()) { $0[$1["path"] as! String] = $1["files"] as? Int }
        #expect(directories == wholeDirectories)
    }

    @Test("text and Markdown name the shard in their header")
    func headers() throws {
        let text = try Janitor.run(["scan", "--shard", "2/3", "--no-record"], in: Sample.directory)
        #expect(text.status == 0)
        #expect(text.stdout.contains("\n  shard         2 of 3; 'media-janitor history merge' joins the shards' JSON reports\n"))
        let markdown = try Janitor.run(["scan", "--shard", "2/3", "--format", "markdown"], in: Sample.directory)
        #expect(markdown.stdout.contains("\n\nShard 2 of 3: only the files and references that hash to this shard; `media-janitor history merge` joins the shards' JSON reports.\n\n"))
    }

    @Test("a sharded scan is not recorded; history merge --record records the whole audit, and history alone still lists it")
    func record() throws {
        let scratch = Scratch()
        try Sample.copy(to: scratch.path)
        let reports = Scratch()
        let shards = try shardReports(2, into: reports.path, in: scratch.path)
        let empty = try json(try Janitor.run(["history", "--format", "json"], in: scratch.path).stdout)
        #expect((empty["audits"] as? [Any])?.count == 0)

        let merged = try Janitor.run(["history", "merge", "--record", "--format", "json"] + shards, in: scratch.path)
        #expect(merged.status == 0, "\(merged.stderr)")
        let summary = try #require(try json(merged.stdout)["summary"] as? [String: Int])
        for arguments in [["history", "--format", "json"], ["history", "list", "--format", "json", "--limit", "5"]] {
            let history = try json(try Janitor.run(arguments, in: scratch.path).stdout)
            let audits = try #require(history["audits"] as? [[String: Any]])
            #expect(audits.count == 1, "\(arguments)")
            #expect(audits.first?["summary"] as? [String: Int] == summary, "\(arguments)")
        }
        // The same config with another media root is not the tree the shards audited.
        let config = try String(contentsOfFile: scratch.path + "/janitor.yml", encoding: .utf8)
        try config.replacingOccurrences(of: "media_root: out/media", with: "media_root: out/media/profile_pics").write(toFile: scratch.path + "/other.yml", atomically: true, encoding: .utf8)
        let elsewhere = try Janitor.run(["history", "merge", "--record", "--config", "other.yml", "--output", "/dev/null"] + shards, in: scratch.path)
        #expect(elsewhere.status == 2)
        #expect(elsewhere.stderr.hasSuffix("error: the shards audit media root 'out/media' but other.yml has media_root 'out/media/profile_pics'; pass the --config the shards were scanned with\n"))
    }

    @Test("--fail-on applies to the merged report")
    func failOn() throws {
        let scratch = Scratch()
        let shards = try shardReports(2, into: scratch.path)
        #expect(try Janitor.run(["history", "merge", "--output", "/dev/null"] + shards, in: Sample.directory).status == 0)
        #expect(try Janitor.run(["history", "merge", "--fail-on", "orphans", "--output", "/dev/null"] + shards, in: Sample.directory).status == 1)
    }

    @Test("a --shard that is not I/N with 1 <= I <= N is a usage error that says what to write")
    func badShard() throws {
        let scratch = Scratch()
        let cases = [
            "0/3": "error: --shard '0/3' is not one of the 3 shards; shards count from 1, so use 1/3 to 3/3\n",
            "4/3": "error: --shard '4/3' is not one of the 3 shards; shards count from 1, so use 1/3 to 3/3\n",
            "a/b": "error: --shard 'a/b' is not I/N; write the shard's number, a slash and the number of shards, e.g. 1/3\n",
            "1/0": "error: --shard '1/0' splits the audit into no shards; the number after the slash must be at least 1, e.g. 1/3\n",
        ]
        for (value, message) in cases {
            // Refused before the config is even read: the scratch directory has none.
            let outcome = try Janitor.run(["scan", "--shard", value], in: scratch.path)
            #expect(outcome.status == 2, "\(value)")
            #expect(outcome.stderr == message, "\(value)")
            #expect(outcome.stdout.isEmpty)
        }
    }

    @Test("history merge refuses shards that are not 1..N of one split of one tree, naming the shard and the file")
    func mergeErrors() throws {
        let scratch = Scratch()
        let three = try shardReports(3, into: scratch.path)
        let two = try shardReports(2, into: scratch.path)
        func merge(_ files: [String]) throws -> Janitor.Outcome {
            try Janitor.run(["history", "merge"] + files, in: scratch.path)
        }
        let name = { (path: String) in (path as NSString).lastPathComponent }
        var outcome = try merge([three[0], three[2]].map(name))
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: shard 2/3 is missing (got 1/3 from 'shard-1-of-3.json', 3/3 from 'shard-3-of-3.json'); add the report of 'scan --shard 2/3 --format json'\n")
        #expect(outcome.stdout.isEmpty)
        outcome = try merge((three + [three[1]]).map(name))
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: shard 2/3 is given twice, in 'shard-2-of-3.json' and in 'shard-2-of-3.json'; pass each shard's report once\n")
        outcome = try merge([three[0], two[1], three[2]].map(name))
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: 'shard-2-of-2.json' is shard 2/2 but 'shard-1-of-3.json' is shard 1/3; merge the shards of one split, all with the same N\n")

        let moved = try String(contentsOfFile: three[1], encoding: .utf8).replacingOccurrences(of: #""media_root": "out/media""#, with: #""media_root": "elsewhere""#)
        try moved.write(toFile: scratch.path + "/moved.json", atomically: true, encoding: .utf8)
        outcome = try merge([name(three[0]), "moved.json", name(three[2])])
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: 'moved.json' audits media root 'elsewhere' but 'shard-1-of-3.json' audits 'out/media'; merge the shards of one media root\n")

        let whole = try Janitor.run(["scan", "--format", "json", "--no-record", "--output", scratch.path + "/whole.json"], in: Sample.directory)
        #expect(whole.status == 0)
        outcome = try merge(["whole.json"] + three.map(name))
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: 'whole.json' is not the report of a shard (it has no 'shard'); merge the JSON reports written by 'scan --shard I/N --format json', one per shard\n")

        let ndjson = try Janitor.run(["scan", "--shard", "1/1", "--format", "ndjson", "--output", scratch.path + "/shard.ndjson"], in: Sample.directory)
        #expect(ndjson.status == 0)
        outcome = try merge(["shard.ndjson"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasPrefix("error: 'shard.ndjson' is not one JSON document ("))
        #expect(outcome.stderr.hasSuffix("); pass the report written by 'scan --format json'\n"))

        outcome = try merge(["no-such.json"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "error: cannot read 'no-such.json': No such file or directory; pass the JSON reports written by 'scan --shard I/N --format json'\n")

        outcome = try merge([])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("Missing expected argument '<file> ...'"))
    }

    @Test("a single shard of one merges on its own")
    func oneShard() throws {
        let scratch = Scratch()
        let shard = try shardReports(1, into: scratch.path)
        let whole = try Janitor.run(["scan", "--format", "json", "--no-record"], in: Sample.directory)
        let merged = try Janitor.run(["history", "merge", "--format", "json"] + shard, in: Sample.directory)
        #expect(withoutTime(merged.stdout) == withoutTime(whole.stdout))
    }
}
