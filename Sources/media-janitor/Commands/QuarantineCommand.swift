import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources
import JanitorStore

/// `quarantine`: removed files waiting to be purged, and their manifest.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List, restore and purge quarantined files.",
        subcommands: [List.self, Restore.self, Purge.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quarantined files that can still be restored, newest first (--all: every recorded removal).")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Every recorded removal, restored, purged and unlinked ones included.") var all = false
        @Option(help: "At most this many records, newest first.") var limit = 1000
        @Option(help: "text or json.") var format: SimpleFormat = .text

        func run() async throws {
            try await reportingFailures {
                let records = try Workspace.load(common).openStore().removals(restorableOnly: !all, limit: limit)
                try Console.write(format == .json ? RemovalOutput.json(records) : RemovalOutput.text(records), to: nil)
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put quarantined files back: by id, by original path, or all removed since a time.",
            discussion: "A file that exists again at the original path is never overwritten.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "A quarantine id (from 'quarantine list').") var id: Int64?
        @Option(help: "The original path, relative to media_root (the latest removal of it).") var path: String?
        @Option(help: "Every file removed at or after this time (ISO 8601, e.g. 2026-11-21T10:00:00Z) or this long ago (e.g. 2h).") var since: String?

        func run() async throws {
            try await reportingFailures {
                let chosen = [id != nil, path != nil, since != nil].filter { $0 }.count
                guard chosen == 1 else { throw CommandFailure.usage("give exactly one of: an id, --path PATH, --since TIME") }
                let workspace = try Workspace.load(common)
                let store = try workspace.openStore()
                var records: [RemovalRecord]
                if let path {
                    guard case .valid(let clean) = PathRules.normalise(path, mediaRoot: workspace.config.mediaRoot) else {
                        throw CommandFailure.usage("path '\(path)' refused: give a path relative to media_root with no '..'")
                    }
                    records = try store.restorable(path: clean)
                } else if let since {
                    guard let date = Self.time(since) else {
                        throw CommandFailure.usage("invalid time '\(since)' for --since; write 2026-11-21T10:00:00Z or a duration such as 2h")
                    }
                    records = try store.restorable(id: nil, path: nil, since: date)
                } else {
                    records = try store.restorable(id: id)
                }
                guard !records.isEmpty else { throw CommandFailure.usage("nothing restorable matches; see 'media-janitor quarantine list'") }
                let remover = SafeRemover(root: workspace.config.mediaRoot)
                var failures = 0
                for record in records {
                    guard let stored = record.quarantinePath else { continue }
                    do {
                        try remover.restore(from: stored, to: record.path)
                        try store.markRestored(record.id)
                        try Console.write("restored \(record.id): \(record.path)\n", to: nil)
                    } catch let error as SafeRemover.RemovalError {
                        failures += 1
                        Console.error("error: cannot restore \(record.id) (\(record.path)): \(error)")
                    }
                }
                if failures > 0 { throw ExitCode(MediaJanitor.Exit.runtime) }
            }
        }

        static func time(_ text: String) -> Date? {
            if let span = ConfigValues.duration(text) { return Date().addingTimeInterval(-span.timeInterval) }
            let formatter = ISO8601DateFormatter()
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.date(from: text)
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete quarantined files for good once they are older than a duration (default: defaults.quarantine).")
        @OptionGroup var common: CommonOptions
        @Option(name: .customLong("older-than"), help: "Purge files quarantined longer ago than this (e.g. 7d).") var olderThan: String?

        func run() async throws {
            try await reportingFailures {
                let workspace = try Workspace.load(common)
                var age = workspace.config.defaults.quarantine
                if let olderThan {
                    guard let span = ConfigValues.duration(olderThan) else {
                        throw CommandFailure.usage("invalid duration '\(olderThan)' for --older-than; write e.g. 7d or 12h")
                    }
                    age = span
                }
                let (purged, bytes) = try QuarantinePurge.run(config: workspace.config, store: try workspace.openStore(), olderThan: age)
                try Console.write("\(purged) purged, \(humanSize(bytes))\n", to: nil)
            }
        }
    }
}

/// Renderings of removal records.
enum RemovalOutput {
    static func text(_ records: [RemovalRecord]) -> String {
        guard !records.isEmpty else { return "nothing in the quarantine\n" }
        return records.map { record in
            var line = "\(record.id)  \(record.removedAt.iso8601)  \(record.path)  \(humanSize(record.bytes))  [\(record.className)]  \(record.reason)"
            if record.quarantinePath == nil { line += "  (unlinked)" }
            if let restored = record.restoredAt { line += "  restored \(restored.iso8601)" }
            if let purged = record.purgedAt { line += "  purged \(purged.iso8601)" }
            return line
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ records: [RemovalRecord]) -> String {
        JSONWriter.document(listing: "removals", records) { json, record in
            json.field("id", record.id)
            json.field("path", record.path)
            json.field("bytes", record.bytes)
            json.field("class", record.className)
            json.field("reason", record.reason)
            json.field("source", record.source)
            json.field("event_id", record.eventId)
            json.field("tenant", record.tenant)
            json.field("removed_at", record.removedAt)
            json.field("quarantine_path", record.quarantinePath)
            json.field("restored_at", record.restoredAt)
            json.field("purged_at", record.purgedAt)
        }
    }
}

/// Deletes quarantined files for good once they are older than an age: only files inside the
/// quarantine directory, each marked purged in the manifest. Shared by `quarantine purge` and
/// the scheduler of `serve`.
enum QuarantinePurge {
    static func run(config: JanitorConfig, store: any StateStore, olderThan age: Seconds, now: Date = Date()) throws(CommandFailure) -> (purged: Int, bytes: Int64) {
        var purged = 0
        var bytes: Int64 = 0
        do {
            for record in try store.purgeable(before: now.addingTimeInterval(-age.timeInterval)) {
                guard let stored = record.quarantinePath else { continue }
                // Only files inside the quarantine directory are ever purged.
                guard FilePath.isInside(FilePath.normalise(stored), config.defaults.quarantineDirectory) else { continue }
                if unlink(stored) == 0 || errno == ENOENT {
                    try store.markPurged(record.id)
                    purged += 1
                    bytes += record.bytes
                } else {
                    Console.error("error: cannot purge '\(stored)': \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            throw .runtime(error.description)
        }
        return (purged, bytes)
    }
}
