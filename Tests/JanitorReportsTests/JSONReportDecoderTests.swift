import Foundation
import JanitorCore
import JanitorReports
import Testing

@Suite("Reading a scan's JSON report back, and the shard in every format")
struct JSONReportDecoderTests {
    func decode(_ json: String) throws(ReportDecodingError) -> ScanReport {
        try JSONReportDecoder().scanReport(from: Data(json.utf8))
    }

    func report(findings: [Finding]) -> ScanReport {
        ScanReport(generatedAt: Canonical.generatedAt, mediaRoot: "media", summary: ScanSummary(), classes: [], directories: [], findings: findings)
    }

    func failure(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("formatting then decoding gives back the same report, with and without a shard")
    func roundTrip() throws {
        #expect(try decode(ReportFormat.json.render(Canonical.scan)) == Canonical.scan)
        var sharded = Canonical.scan
        sharded.shard = try Shard(index: 2, count: 3)
        #expect(try decode(ReportFormat.json.render(sharded)) == sharded)
        #expect(try decode(ReportFormat.json.render(report(findings: []))) == report(findings: []))
    }

    @Test("dates far from now come back to the second, from before 1970 to after 9999")
    func dates() throws {
        let seconds: [Int64] = [0, -1, -86_400, -2_208_988_800, 951_782_400, 4_107_542_399, 253_402_300_799, 253_402_300_800, -62_135_596_800, -62_167_219_200 - 86_400]
        let findings = seconds.map { Finding(kind: .orphan, path: "p\($0)", className: "c", bytes: 1, mtime: Date(timeIntervalSince1970: TimeInterval($0))) }
        let decoded = try decode(ReportFormat.json.render(report(findings: findings)))
        #expect(decoded.findings.map(\.mtime) == findings.map(\.mtime))
    }

    @Test("the shard is a JSON object after media_root; a report of the whole tree has none")
    func shardKey() throws {
        var sharded = Canonical.scan
        sharded.shard = try Shard(index: 2, count: 3)
        #expect(ReportFormat.json.render(sharded).hasPrefix(#"{"schema": 1, "generated_at": "2026-11-21T10:00:00Z", "media_root": "media", "shard": {"index": 2, "count": 3},"#))
        #expect(!ReportFormat.json.render(Canonical.scan).contains("shard"))
        #expect(ReportFormat.ndjson.render(sharded).hasPrefix(#"{"type": "summary", "schema": 1, "generated_at": "2026-11-21T10:00:00Z", "media_root": "media", "shard": {"index": 2, "count": 3}, "files": 467"#))
        #expect(!ReportFormat.ndjson.render(Canonical.scan).contains("shard"))
    }

    @Test("text and Markdown say which shard they show in their header; JUnit carries it as a property")
    func shardHeaders() throws {
        var sharded = Canonical.scan
        sharded.shard = try Shard(index: 2, count: 3)
        #expect(ReportFormat.text.render(sharded).hasPrefix("""
            media-janitor scan
              media root    media
              generated at  2026-11-21T10:00:00Z
              shard         2 of 3; 'media-janitor history merge' joins the shards' JSON reports

            """))
        #expect(!ReportFormat.text.render(Canonical.scan).contains("shard"))
        #expect(ReportFormat.markdown.render(sharded).hasPrefix("""
            # media-janitor scan

            Media root `media`, generated at 2026-11-21T10:00:00Z.

            Shard 2 of 3: only the files and references that hash to this shard; `media-janitor history merge` joins the shards' JSON reports.

            """))
        #expect(!ReportFormat.markdown.render(Canonical.scan).contains("Shard"))
        #expect(ReportFormat.junit.render(sharded).contains(#"<property name="shard" value="2/3"/>"#))
        #expect(!ReportFormat.junit.render(Canonical.scan).contains("shard"))
    }

    @Test("what is not a scan report of schema 1 is refused with what to pass instead")
    func refused() throws {
        let valid = ReportFormat.json.render(Canonical.scan)
        #expect(failure("")?.hasPrefix("not one JSON document (") == true)
        #expect(failure("")?.hasSuffix("); pass the report written by 'scan --format json'") == true)
        #expect(failure(ReportFormat.ndjson.render(Canonical.scan))?.hasPrefix("not one JSON document (") == true)
        #expect(failure("[1, 2]") == "not a scan report written by 'scan --format json': it is not a JSON object")
        #expect(failure(try ReportFormat.json.render(Canonical.usage)) == "not a scan report written by 'scan --format json': it has no 'summary'")
        #expect(failure(valid.replacingOccurrences(of: #"{"schema": 1,"#, with: #"{"schema": 2,"#)) == "a report of schema 2, which this version cannot read (it reads schema 1); merge with the media-janitor version that wrote it")
        #expect(failure(valid.replacingOccurrences(of: #""kind": "missing""#, with: #""kind": "lost""#)) == "not a scan report written by 'scan --format json': 'findings[4].kind': unknown kind 'lost'; kinds are orphan, missing, invalid, unclassified, too_young")
        #expect(failure(valid.replacingOccurrences(of: #""mtime": "2026-10-01T08:00:00Z""#, with: #""mtime": "yesterday""#)) == "not a scan report written by 'scan --format json': 'findings[0].mtime': 'yesterday' is not a UTC timestamp like 2026-11-21T10:00:00Z")
        #expect(failure(valid.replacingOccurrences(of: #""table": "forum_post", "column": "image", "key": "7""#, with: #""table": "forum_post", "key": "7""#)) == "not a scan report written by 'scan --format json': it has no 'findings[4].referenced_by[0].column'")
        #expect(failure(valid.replacingOccurrences(of: #""media_root": "media""#, with: #""media_root": 7"#)) == "not a scan report written by 'scan --format json': 'media_root' is not a string")
        #expect(failure(valid.replacingOccurrences(of: #""media_root": "media","#, with: #""media_root": "media", "shard": {"index": 4, "count": 3},"#)) == "not a scan report written by 'scan --format json': 'shard': '4/3' is not one of the 3 shards; shards count from 1, so use 1/3 to 3/3")
    }
}
