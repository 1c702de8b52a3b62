import Foundation
import JanitorCore
import JanitorReports

/// The reports every format is checked against: a few classes and directories, one finding of
/// every kind, and the names that break naive formatters (a quote, non-ASCII letters, `<` and
/// `&`, a line break).
enum Canonical {
    /// 2026-11-21T10:00:00Z.
    static let generatedAt = Date(timeIntervalSince1970: 1_795_255_200)

    /// The options the golden files are rendered with: lists cut at 3 rows so "and N more" shows.
    static let options = RenderOptions(top: 3, color: false)

    /// A scan with every finding kind.
    static let scan: ScanReport = {
        var summary = ScanSummary()
        summary.files = 467
        summary.bytes = 73_400_320
        summary.referenced = 455
        summary.orphans = 4
        summary.orphanBytes = 3_800_887
        summary.missing = 1
        summary.unclassified = 3
        summary.invalid = 1
        summary.tooYoung = 1
        summary.excluded = 2
        return ScanReport(
            generatedAt: generatedAt, mediaRoot: "media", summary: summary,
            classes: [
                classUsage("profile_pictures", files: 300, bytes: 9_437_184, orphans: 2, orphanBytes: 1_100_887),
                classUsage(
                    "forum_images", files: 120, bytes: 52_428_800, orphans: 1, orphanBytes: 2_400_000, missing: 1),
                classUsage("reçus", files: 44, bytes: 11_534_315, orphans: 1, orphanBytes: 300_000),
            ],
            directories: [
                directoryUsage("forum_images", files: 120, bytes: 52_428_800, orphans: 1, orphanBytes: 2_400_000),
                directoryUsage("profile_pics", files: 300, bytes: 9_437_184, orphans: 2, orphanBytes: 1_100_887),
                directoryUsage("reçus/2026", files: 44, bytes: 11_534_315, orphans: 1, orphanBytes: 300_000),
                directoryUsage("tmp", files: 3, bytes: 21),
                directoryUsage(".", files: 0, bytes: 0),
            ],
            findings: [
                Finding(
                    kind: .orphan, path: "forum_images/old banner.png", className: "forum_images",
                    bytes: 2_400_000, mtime: date(1_790_841_600)),
                Finding(
                    kind: .orphan, path: "profile_pics/a.jpg", className: "profile_pictures", bytes: 52_311,
                    mtime: date(1_790_841_600)),
                Finding(
                    kind: .orphan, path: "profile_pics/say \"cheese\".jpg", className: "profile_pictures",
                    bytes: 1_048_576, mtime: date(1_790_841_600)),
                Finding(
                    kind: .orphan, path: "reçus/2026/reçu-été.pdf", className: "reçus", bytes: 300_000,
                    mtime: date(1_792_576_800)),
                Finding(
                    kind: .missing, path: "forum_images/x.png", className: "forum_images",
                    referencedBy: [
                        RowReference(table: "forum_post", column: "image", key: "7"),
                        RowReference(table: "forum_post", column: "thumbnail", key: "7"),
                    ]),
                Finding(kind: .unclassified, path: "tmp/<upload> & co.part", bytes: 12, mtime: date(1_795_213_800)),
                Finding(kind: .unclassified, path: "tmp/line\nbreak.txt", bytes: 0, mtime: date(1_795_213_800)),
                Finding(kind: .unclassified, path: "tmp/link", bytes: 9, reason: "symbolic link"),
                Finding(
                    kind: .invalid, value: "../../etc/passwd", reason: "escapes media_root",
                    referencedBy: [RowReference(table: "forum_post", column: "image", key: "9")]),
                Finding(
                    kind: .tooYoung, path: "profile_pics/new.jpg", className: "profile_pictures", bytes: 2_048,
                    mtime: date(1_795_213_800)),
            ])
    }()

    /// Usage with classes, directories and more owners than `options.top`.
    static let usage = UsageReport(
        generatedAt: generatedAt, mediaRoot: "media", files: 467, bytes: 73_400_320,
        classes: [
            classUsage("profile_pictures", files: 300, bytes: 9_437_184),
            classUsage("forum_images", files: 120, bytes: 52_428_800),
            classUsage("reçus", files: 44, bytes: 11_534_315),
        ],
        directories: [
            directoryUsage("forum_images", files: 120, bytes: 52_428_800),
            directoryUsage("reçus/2026", files: 44, bytes: 11_534_315),
            directoryUsage("profile_pics", files: 300, bytes: 9_437_184),
            directoryUsage("tmp", files: 3, bytes: 21),
        ],
        owners: [
            ownerUsage("forum_images", "7", files: 80, bytes: 41_943_040),
            ownerUsage("reçus", "Zoë", files: 12, bytes: 3_145_728),
            ownerUsage("profile_pictures", "42", files: 3, bytes: 1_572_864),
            ownerUsage("profile_pictures", "<admin> & co", files: 1, bytes: 512),
        ])

    /// Three audits, newest first: the oldest has no change.
    static let history: HistoryReport = {
        func summary(
            _ files: Int, _ bytes: Int64, _ orphans: Int, _ orphanBytes: Int64, _ missing: Int
        ) -> ScanSummary {
            var summary = ScanSummary()
            summary.files = files
            summary.bytes = bytes
            summary.referenced = files - orphans
            summary.orphans = orphans
            summary.orphanBytes = orphanBytes
            summary.missing = missing
            summary.unclassified = 3
            summary.invalid = 1
            summary.tooYoung = 1
            summary.excluded = 2
            return summary
        }
        return HistoryReport(audits: [
            AuditRecord(
                id: 3, generatedAt: generatedAt, mediaRoot: "media",
                summary: summary(467, 73_400_320, 4, 3_800_887, 1)),
            AuditRecord(
                id: 2, generatedAt: date(1_792_576_800), mediaRoot: "media",
                summary: summary(480, 75_497_472, 9, 5_898_039, 1)),
            AuditRecord(
                id: 1, generatedAt: date(1_789_984_800), mediaRoot: "media",
                summary: summary(480, 75_497_472, 9, 5_898_039, 0)),
        ])
    }()

    /// One diagnostic of each severity, with and without a location, and facts to escape.
    static let check = CheckReport(
        diagnostics: [
            Diagnostic(
                .error, "unknown policy 'max_agee'; did you mean 'max_age'?", id: "config.unknown-key",
                at: SourceLocation(file: "janitor.yml", line: 12, column: 5)),
            Diagnostic(
                .warning, "hooks are installed but outdated (version 1, current 2); run `media-janitor hooks install`",
                id: "hooks.outdated"),
            Diagnostic(
                .note, "class \"reçus\" has no derivatives", id: "config.no-derivatives",
                at: SourceLocation(file: "janitor.yml", line: 30, column: 3)),
        ],
        facts: ["media root: media (exists)", "database: sqlite app.db, tables accounts_user & forum_post"])

    /// A real retention run (`--force`d past one safety limit): a chat media class whose rows
    /// hold files (removed, shared with a row that stays, missing) with more selected rows than
    /// `options.top`, a rows-only class, and one row the database refused to archive.
    static let retention: RetentionReport = {
        func chatRow(
            _ key: String, _ policy: String, _ limit: String, created: TimeInterval, owner: String,
            files: [PlannedFile]
        ) -> PlannedRow {
            PlannedRow(
                className: "chat_media", table: "chat_message", key: key, policy: policy,
                reason: "\(policy) (\(limit))", created: date(created), owner: owner, group: nil, rowBytes: 0,
                files: files)
        }
        return RetentionReport(
            generatedAt: generatedAt, dryRun: false,
            classes: [
                RetentionClassPlan(
                    name: "chat_media", rowAction: "delete", rows: 1_200, files: 1_150, bytes: 73_400_320,
                    selectedRows: 5, freedFiles: 4, freedFileBytes: 1_400_899, freedRowBytes: 0, keptFiles: 1,
                    byPolicy: [PolicyCount(policy: "max_age", rows: 3), PolicyCount(policy: "max_age_per_owner", rows: 2)]
                ),
                RetentionClassPlan(
                    name: "committee_chat", rowAction: "archive", rows: 840, files: 0, bytes: 12_582_912,
                    selectedRows: 2, freedFiles: 0, freedFileBytes: 0, freedRowBytes: 6_144, keptFiles: 0,
                    byPolicy: [
                        PolicyCount(policy: "max_count_per_group", rows: 1), PolicyCount(policy: "max_total_size", rows: 1),
                    ]),
            ],
            rows: [
                chatRow(
                    "101", "max_age", "30d", created: 1_785_576_600, owner: "7",
                    files: [
                        PlannedFile(path: "chat/2026/08/beach.jpg", bytes: 1_048_576, fate: .removed),
                        PlannedFile(path: "chat/2026/08/beach_thumb.jpg", bytes: 52_311, fate: .removed),
                    ]),
                chatRow(
                    "102", "max_age", "30d", created: 1_786_817_100, owner: "Zoë",
                    files: [
                        PlannedFile(
                            path: "chat/2026/08/meme.gif", bytes: 2_400_000, fate: .shared,
                            heldBy: RowReference(table: "chat_message", column: "attachment", key: "240"))
                    ]),
                chatRow(
                    "117", "max_age", "30d", created: 1_788_246_000, owner: "7",
                    files: [PlannedFile(path: "chat/2026/09/voice \"1\".ogg", bytes: 0, fate: .missing)]),
                chatRow(
                    "130", "max_age_per_owner", "14d", created: 1_790_856_000, owner: "<guest> & co",
                    files: [PlannedFile(path: "chat/2026/10/scan.pdf", bytes: 300_000, fate: .removed)]),
                chatRow(
                    "131", "max_age_per_owner", "14d", created: 1_790_942_400, owner: "<guest> & co",
                    files: [PlannedFile(path: "chat/2026/10/line\nbreak.png", bytes: 12, fate: .removed)]),
                PlannedRow(
                    className: "committee_chat", table: "committee_message", key: "9", policy: "max_count_per_group",
                    reason: "max_count_per_group (500)", created: date(1_780_308_000), owner: "12", group: "board & staff",
                    rowBytes: 4_096, files: []),
                PlannedRow(
                    className: "committee_chat", table: "committee_message", key: "15", policy: "max_total_size",
                    reason: "max_total_size (12582912 bytes)", created: date(1_780_480_800), owner: nil,
                    group: "board & staff", rowBytes: 2_048, files: []),
            ],
            violations: [
                "class 'chat_media': 4 of 1150 files (0.3%) would be removed, more than safety.max_delete_fraction (0.1%)"
            ],
            applied: RetentionOutcome(
                rowsChanged: 6, rowsArchived: 1,
                failures: ["committee_message key 9: FOREIGN KEY constraint failed (committee_vote.message_id)"],
                filesQueued: 4, filesRemoved: 4, bytesRemoved: 1_400_899))
    }()

    private static func date(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: seconds) }

    private static func classUsage(
        _ name: String, files: Int, bytes: Int64, orphans: Int = 0, orphanBytes: Int64 = 0, missing: Int = 0
    ) -> ClassUsage {
        var usage = ClassUsage(name: name)
        usage.files = files
        usage.bytes = bytes
        usage.orphans = orphans
        usage.orphanBytes = orphanBytes
        usage.missing = missing
        return usage
    }

    private static func directoryUsage(
        _ path: String, files: Int, bytes: Int64, orphans: Int = 0, orphanBytes: Int64 = 0
    ) -> DirectoryUsage {
        var usage = DirectoryUsage(path: path)
        usage.files = files
        usage.bytes = bytes
        usage.orphans = orphans
        usage.orphanBytes = orphanBytes
        return usage
    }

    private static func ownerUsage(_ className: String, _ owner: String, files: Int, bytes: Int64) -> OwnerUsage {
        var usage = OwnerUsage(className: className, owner: owner)
        usage.files = files
        usage.bytes = bytes
        return usage
    }
}
