import Foundation
import JanitorCore
import JanitorReports
import Testing

@Suite("JSON and NDJSON")
struct JSONFormatterTests {
    @Test("the scan JSON starts with schema 1 and keeps the documented key order")
    func keyOrder() throws {
        let json = ReportFormat.json.render(Canonical.scan)
        #expect(json.hasPrefix(#"{"schema": 1, "generated_at": "2026-11-21T10:00:00Z", "media_root": "media","#))
        expectInOrder(json, ["schema", "generated_at", "media_root", "summary", "classes", "directories", "findings"])
        let lines = json.split(separator: "\n")
        let summary = try #require(lines.first { $0.hasPrefix(#" "summary""#) })
        expectInOrder(
            summary,
            [
                "files", "bytes", "referenced", "orphans", "orphan_bytes", "missing", "unclassified", "invalid",
                "too_young", "excluded",
            ])
        let classLine = try #require(lines.first { $0.contains(#""name": "forum_images""#) })
        expectInOrder(classLine, ["name", "files", "bytes", "orphans", "orphan_bytes", "missing"])
        let directoryLine = try #require(lines.first { $0.contains(#""path": "tmp""#) })
        expectInOrder(directoryLine, ["path", "files", "bytes", "orphans", "orphan_bytes"])
    }

    @Test("a finding writes its keys in documented order and omits nil values and empty referenced_by")
    func findingKeys() throws {
        let full = Finding(
            kind: .invalid, path: "p", value: "v", className: "c", bytes: 1, mtime: Canonical.generatedAt,
            reason: "r", referencedBy: [RowReference(table: "t", column: "col", key: "k")])
        let bare = Finding(kind: .orphan, path: "profile_pics/a.jpg")
        let json = ReportFormat.json.render(scan(findings: [full, bare]))
        let lines = json.split(separator: "\n")
        #expect(
            lines.contains(
                #"  {"kind": "invalid", "path": "p", "value": "v", "class": "c", "bytes": 1, "mtime": "2026-11-21T10:00:00Z", "reason": "r", "referenced_by": [{"table": "t", "column": "col", "key": "k"}]},"#
            ))
        #expect(lines.contains(#"  {"kind": "orphan", "path": "profile_pics/a.jpg"}"#))
    }

    @Test("an empty scan is valid JSON with empty arrays")
    func emptyScan() throws {
        let json = ReportFormat.json.render(scan(findings: []))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((object["findings"] as? [Any])?.isEmpty == true)
        #expect(json.contains(#""classes": [],"#))
        #expect(json.hasSuffix("]}\n"))
    }

    @Test("200,000 findings render as one valid JSON document with one line per finding")
    func largeReport() throws {
        let count = 200_000
        var findings: [Finding] = []
        findings.reserveCapacity(count)
        for index in 0..<count {
            findings.append(
                Finding(
                    kind: .orphan, path: "chat/\(index / 1_000)/médía-\(index).jpg", className: "chat_media",
                    bytes: Int64(index), mtime: Date(timeIntervalSince1970: 1_790_000_000 + Double(index))))
        }
        let json = ReportFormat.json.render(scan(findings: findings))

        // Header line, summary, empty classes and directories, "findings": [, the findings, "]}".
        let lines = json.split(separator: "\n")
        #expect(lines.count == 5 + count + 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let parsed = try #require(object["findings"] as? [[String: Any]])
        #expect(parsed.count == count)
        #expect(parsed.last?["path"] as? String == "chat/199/médía-199999.jpg")
        #expect(parsed.last?["bytes"] as? Int == count - 1)
    }

    @Test("every NDJSON line is one JSON object whose first key is its type")
    func ndjsonLines() throws {
        let outputs = [
            ReportFormat.ndjson.render(Canonical.scan),
            try ReportFormat.ndjson.render(Canonical.usage),
            try ReportFormat.ndjson.render(Canonical.history),
            try ReportFormat.ndjson.render(Canonical.check),
            ReportFormat.ndjson.render(Canonical.retention),
        ]
        for output in outputs {
            #expect(output.hasSuffix("\n"))
            for line in output.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                #expect(line.hasPrefix(#"{"type": ""#))
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["type"] is String)
            }
        }
    }

    @Test("the scan NDJSON is a summary line, then classes, directories and findings")
    func ndjsonScanShape() throws {
        let lines = ReportFormat.ndjson.render(Canonical.scan).split(separator: "\n")
        let types = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["type"] as? String
        }
        let report = Canonical.scan
        #expect(
            types == ["summary"] + Array(repeating: "class", count: report.classes.count)
                + Array(repeating: "directory", count: report.directories.count)
                + Array(repeating: "finding", count: report.findings.count))
        #expect(lines[0].hasPrefix(#"{"type": "summary", "schema": 1, "generated_at": "2026-11-21T10:00:00Z""#))
    }

    @Test("each audit's change is the difference from the next older audit, and null for the oldest")
    func historyChange() throws {
        let json = try ReportFormat.json.render(Canonical.history)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let audits = try #require(object["audits"] as? [[String: Any]])
        #expect(audits.count == 3)
        let newest = try #require(audits[0]["change"] as? [String: Int])
        #expect(newest["orphans"] == -5)
        #expect(newest["bytes"] == -2_097_152)
        #expect(newest["missing"] == 0)
        #expect(audits[2]["change"] is NSNull)
    }

    @Test("check JSON is ok when there are warnings but no errors")
    func checkOK() throws {
        let report = CheckReport(
            diagnostics: [Diagnostic(.warning, "hooks are not installed", id: "hooks.absent")], facts: [])
        let json = try ReportFormat.json.render(report)
        #expect(json.hasPrefix(#"{"schema": 1, "ok": true,"#))
        #expect(json.contains(#"{"severity": "warning", "message": "hooks are not installed", "id": "hooks.absent"}"#))
        #expect(try ReportFormat.json.render(Canonical.check).hasPrefix(#"{"schema": 1, "ok": false,"#))
    }

    @Test("the retention JSON writes every documented key, null when absent")
    func retentionStructure() throws {
        let report = RetentionReport(
            generatedAt: Canonical.generatedAt, dryRun: true,
            classes: [
                RetentionClassPlan(
                    name: "avatars", rowAction: "set_null", rows: 10, files: 9, bytes: 900, selectedRows: 1,
                    freedFiles: 0, freedFileBytes: 0, freedRowBytes: 0, keptFiles: 1,
                    byPolicy: [PolicyCount(policy: "keep_latest_per_owner", rows: 1)])
            ],
            rows: [
                PlannedRow(
                    className: "avatars", table: "accounts_user", key: "42", policy: "keep_latest_per_owner",
                    reason: "keep_latest_per_owner (1)", created: nil, owner: nil, group: nil, rowBytes: 0,
                    files: [
                        PlannedFile(
                            path: "avatars/42.png", bytes: 100, fate: .shared,
                            heldBy: RowReference(table: "accounts_user", column: "avatar", key: "43"))
                    ])
            ])
        let expected = """
            {"schema": 1, "generated_at": "2026-11-21T10:00:00Z", "dry_run": true,
             "classes": [{"name": "avatars", "row_action": "set_null", "rows": 10, "files": 9, "bytes": 900,
               "selected_rows": 1, "freed_files": 0, "freed_file_bytes": 0, "freed_row_bytes": 0, "kept_files": 1,
               "by_policy": {"keep_latest_per_owner": 1}}],
             "rows": [{"class": "avatars", "table": "accounts_user", "key": "42", "policy": "keep_latest_per_owner",
               "reason": "keep_latest_per_owner (1)", "created": null, "owner": null, "group": null, "row_bytes": 0,
               "files": [{"path": "avatars/42.png", "bytes": 100, "fate": "shared",
                 "held_by": {"table": "accounts_user", "column": "avatar", "key": "43"}}]}],
             "violations": [],
             "applied": null}
            """
        let json = ReportFormat.json.render(report)
        #expect(try canonicalJSON(json) == canonicalJSON(expected))
        #expect(json.hasPrefix(#"{"schema": 1, "generated_at": "2026-11-21T10:00:00Z", "dry_run": true,"#))
        expectInOrder(json, ["schema", "generated_at", "dry_run", "classes", "rows", "violations", "applied"])
    }

    @Test("the retention JSON keeps policies in policy order and reports what a real run applied")
    func retentionApplied() throws {
        let json = ReportFormat.json.render(Canonical.retention)
        let lines = json.split(separator: "\n")
        let chat = try #require(lines.first { $0.contains(#""name": "chat_media""#) })
        expectInOrder(chat, ["max_age", "max_age_per_owner"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let applied = try #require(object["applied"] as? [String: Any])
        #expect(applied["rows_changed"] as? Int == 6)
        #expect((applied["failures"] as? [String])?.count == 1)
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == Canonical.retention.rows.count)
    }

    @Test("the retention NDJSON is a retention line, then classes, then rows")
    func ndjsonRetentionShape() throws {
        let lines = ReportFormat.ndjson.render(Canonical.retention).split(separator: "\n")
        let types = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["type"] as? String
        }
        let report = Canonical.retention
        #expect(
            types == ["retention"] + Array(repeating: "class", count: report.classes.count)
                + Array(repeating: "row", count: report.rows.count))
        #expect(lines[0].hasPrefix(#"{"type": "retention", "schema": 1, "generated_at": "2026-11-21T10:00:00Z", "dry_run": false"#))
    }

    private func scan(findings: [Finding]) -> ScanReport {
        ScanReport(
            generatedAt: Canonical.generatedAt, mediaRoot: "media", summary: ScanSummary(), classes: [],
            directories: [], findings: findings)
    }

    /// Expects each `"key":` to appear, each after the previous one.
    private func expectInOrder(
        _ text: some StringProtocol, _ keys: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        var searchFrom = text.startIndex
        for key in keys {
            guard let range = text.range(of: "\"\(key)\":", range: searchFrom..<text.endIndex) else {
                Issue.record("key \"\(key)\" missing or out of order", sourceLocation: sourceLocation)
                return
            }
            searchFrom = range.upperBound
        }
    }
}
