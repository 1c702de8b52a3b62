import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("scan on the sample app", .serialized)
struct ScanCommandTests {
    func findings(_ report: [String: Any], _ kind: String) -> Set<String> {
        let all = report["findings"] as? [[String: Any]] ?? []
        return Set(all.filter { $0["kind"] as? String == kind }.compactMap { ($0["path"] ?? $0["value"]) as? String })
    }

    @Test("finds exactly the orphans, missing files, unclassified files and invalid references the sample script planted", arguments: AppBackend.allCases)
    func exactSets(backend: AppBackend) throws {
        let outcome = try Janitor.run(["scan"] + Sample.config(backend) + ["--format", "json", "--no-record"], in: Sample.directory)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try json(outcome.stdout)
        let planted = Sample.planted
        #expect(planted["orphan"]?.count == 45)
        for kind in ["orphan", "missing", "unclassified", "invalid", "too_young"] {
            #expect(findings(report, kind) == planted[kind] ?? [], "\(kind)")
        }
        // What must not be a finding of any kind.
        let everything = ["orphan", "missing", "unclassified", "invalid", "too_young"].reduce(into: Set<String>()) { $0.formUnion(findings(report, $1)) }
        for kind in ["shared", "cross_class", "derivative", "excluded"] {
            let kept = try #require(planted[kind])
            #expect(everything.isDisjoint(with: kept), "\(kind) reported: \(everything.intersection(kept))")
        }
        let summary = try #require(report["summary"] as? [String: Any])
        #expect(summary["orphans"] as? Int == 45)
        #expect(summary["missing"] as? Int == 6)
        #expect(summary["invalid"] as? Int == 3)
        #expect(summary["excluded"] as? Int == 1)
    }

    @Test("byte totals equal the sum of lstat sizes, overall, per class and per directory", arguments: AppBackend.allCases)
    func byteTotals(backend: AppBackend) throws {
        let report = try json(try Janitor.run(["scan"] + Sample.config(backend) + ["--format", "json", "--no-record"], in: Sample.directory).stdout)
        let media = Sample.directory + "/out/media"
        var total: Int64 = 0
        var count = 0
        let enumerator = FileManager.default.enumerator(atPath: media)!
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            #expect(lstat(media + "/" + relative, &info) == 0)
            if (info.st_mode & S_IFMT) != S_IFDIR {
                total += Int64(info.st_size)
                count += 1
            }
        }
        let summary = try #require(report["summary"] as? [String: Any])
        #expect(summary["bytes"] as? Int64 == total)
        #expect(summary["files"] as? Int == count)
        let expected = try String(contentsOfFile: Sample.directory + "/out/expected-bytes.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect("\(total)" == expected)
        let directories = try #require(report["directories"] as? [[String: Any]])
        #expect(directories.compactMap { $0["bytes"] as? Int64 }.reduce(0, +) == total)
        let orphanBytes = (report["findings"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "orphan" }.compactMap { $0["bytes"] as? Int64 }.reduce(0, +)
        #expect(summary["orphan_bytes"] as? Int64 == orphanBytes)
        let classes = try #require(report["classes"] as? [[String: Any]])
        #expect(classes.compactMap { $0["orphan_bytes"] as? Int64 }.reduce(0, +) == orphanBytes)
    }

    @Test("--fail-on turns findings into exit 1; without it findings exit 0")
    func failOn() throws {
        #expect(try Janitor.run(["scan", "--no-record", "--output", "/dev/null"], in: Sample.directory).status == 0)
        for kind in ["orphans", "missing", "invalid", "any"] {
            #expect(try Janitor.run(["scan", "--no-record", "--fail-on", kind, "--output", "/dev/null"], in: Sample.directory).status == 1, "\(kind)")
        }
        // committee_chat has no files: nothing to fail on.
        #expect(try Janitor.run(["scan", "--no-record", "--class", "committee_chat", "--fail-on", "any", "--output", "/dev/null"], in: Sample.directory).status == 0)
    }

    @Test("--class limits the report but every class's references still protect files")
    func classFilter() throws {
        let report = try json(try Janitor.run(["scan", "--format", "json", "--no-record", "--class", "profile_pictures"], in: Sample.directory).stdout)
        #expect((report["classes"] as? [[String: Any]])?.map { $0["name"] as? String } == ["profile_pictures"])
        let orphans = findings(report, "orphan")
        #expect(orphans == Sample.planted["orphan"]!.filter { $0.hasPrefix("profile_pics/") })
        // Referenced only by accounts_user.signature, a column of the signatures class.
        #expect(!orphans.contains(Sample.planted["cross_class"]!.first!))
        let unknown = try Janitor.run(["scan", "--class", "profile_picture"], in: Sample.directory)
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "error: unknown class 'profile_picture' in --class; did you mean 'profile_pictures'? classes are: profile_pictures, signatures, forum_images, receipts, qr_codes, chat_media, committee_chat\n")
    }

    @Test("every format renders the sample: JSON and NDJSON parse, JUnit is well-formed XML, text and Markdown name the totals")
    func formats() throws {
        let ndjson = try Janitor.run(["scan", "--format", "ndjson", "--no-record"], in: Sample.directory).stdout
        let lines = ndjson.split(separator: "\n")
        #expect(lines.count == 1 + 7 + 12 + 60)
        for line in lines { _ = try json(String(line)) }
        let junit = try Janitor.run(["scan", "--format", "junit", "--no-record"], in: Sample.directory).stdout
        let parser = XMLParser(data: Data(junit.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(junit.contains("failures=\"59\""))
        let text = try Janitor.run(["scan", "--no-record"], in: Sample.directory).stdout
        #expect(text.contains("orphans         45  108.5 KiB  reclaimable"))
        let markdown = try Janitor.run(["scan", "--format", "markdown", "--no-record"], in: Sample.directory).stdout
        #expect(markdown.hasPrefix("# "))
    }

    @Test("--output writes a regular file atomically and writes straight into a device")
    func output() throws {
        let scratch = Scratch()
        let target = scratch.path + "/report.json"
        let outcome = try Janitor.run(["scan", "--format", "json", "--no-record", "--output", target], in: Sample.directory)
        #expect(outcome.status == 0)
        #expect(outcome.stdout.isEmpty)
        #expect(try json(String(contentsOfFile: target, encoding: .utf8))["schema"] as? Int == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["report.json"])
        #expect(try Janitor.run(["scan", "--no-record", "--output", "/dev/null"], in: Sample.directory).status == 0)
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
        let missingDirectory = try Janitor.run(["scan", "--no-record", "--output", scratch.path + "/no/such/dir/r.txt"], in: Sample.directory)
        #expect(missingDirectory.status == 3)
        #expect(missingDirectory.stderr.hasPrefix("error: cannot write '\(scratch.path)/no/such/dir/r.txt': "))
    }

    @Test("each scan is recorded; history shows the change since the previous audit")
    func history() throws {
        let scratch = Scratch()
        try Sample.copy(to: scratch.path)
        #expect(try Janitor.run(["scan", "--output", "/dev/null"], in: scratch.path).status == 0)
        // Two more orphans appear before the next audit.
        for name in ["late-1.pdf", "late-2.pdf"] {
            _ = FileManager.default.createFile(atPath: scratch.path + "/out/media/receipts/\(name)", contents: Data(count: 100), attributes: [.modificationDate: Date(timeIntervalSince1970: 1_700_000_000)])
        }
        #expect(try Janitor.run(["scan", "--output", "/dev/null"], in: scratch.path).status == 0)
        let history = try json(try Janitor.run(["history", "--format", "json"], in: scratch.path).stdout)
        let audits = try #require(history["audits"] as? [[String: Any]])
        #expect(audits.count == 2)
        #expect((audits[0]["summary"] as? [String: Any])?["orphans"] as? Int == 47)
        #expect((audits[0]["change"] as? [String: Any])?["orphans"] as? Int == 2)
        #expect((audits[0]["change"] as? [String: Any])?["orphan_bytes"] as? Int == 200)
    }

    @Test("usage shows bytes by class, directory and owner")
    func usage() throws {
        let report = try json(try Janitor.run(["usage", "--format", "json"], in: Sample.directory).stdout)
        #expect(report["schema"] as? Int == 1)
        let owners = try #require(report["owners"] as? [[String: Any]])
        #expect(!owners.isEmpty)
        #expect(Set(owners.compactMap { $0["class"] as? String }).isSubset(of: ["forum_images", "receipts", "qr_codes", "chat_media"]))
        let junit = try Janitor.run(["usage", "--format", "junit"], in: Sample.directory)
        #expect(junit.status == 2)
        #expect(junit.stderr == "error: the usage report cannot be written as junit; use --format text, json, ndjson or markdown\n")
    }
}
