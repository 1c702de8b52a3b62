import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorStore

/// `text` or `json` for the queue, quarantine, events and hooks commands.
enum SimpleFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `queue`: the deferred-deletion queue.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and drain the deferred-deletion queue.",
        subcommands: [Stats.self, List.self, Run.self, Retry.self, Drop.self])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pending, oldest and newest queued, pending by attempts, dead.")
        @OptionGroup var common: CommonOptions
        @Option(help: "text or json.") var format: SimpleFormat = .text

        func run() async throws {
            try await reportingFailures {
                let store = try Workspace.load(common).openStore()
                let stats = try store.queueStats()
                if format == .json {
                    try Console.write(QueueText.statsJSON(stats), to: nil)
                } else {
                    var lines = ["pending  \(stats.totalPending)", "dead     \(stats.dead)", "done     \(stats.done)"]
                    if let oldest = stats.oldestQueued { lines.append("oldest   \(oldest.iso8601)") }
                    if let newest = stats.newestQueued { lines.append("newest   \(newest.iso8601)") }
                    for (attempts, count) in stats.byAttempts.sorted(by: { $0.key < $1.key }) {
                        lines.append("pending after \(attempts) failed attempt\(attempts == 1 ? "" : "s"): \(count)")
                    }
                    try Console.write(lines.joined(separator: "\n") + "\n", to: nil)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queue items, newest first.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only items in this state: pending, running, done or dead.") var state: String?
        @Option(help: "At most this many items.") var limit = 100
        @Option(help: "text or json.") var format: SimpleFormat = .text

        func run() async throws {
            try await reportingFailures {
                var selected: QueueState?
                if let state {
                    guard let value = QueueState(rawValue: state) else {
                        throw CommandFailure.usage("unknown state '\(state)' in --state; use pending, running, done or dead")
                    }
                    selected = value
                }
                let items = try Workspace.load(common).openStore().queueItems(state: selected, limit: limit)
                try Console.write(format == .json ? QueueJSON.items(items) : QueueText.items(items), to: nil)
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove due items: re-check references, quarantine or unlink, record every removal.",
            discussion: "Items a crash left half-done are resolved first. A failure is retried after a backoff that doubles with each attempt; after --max-attempts the item is dead-lettered.")
        @OptionGroup var common: CommonOptions
        @Option(name: .customLong("batch-size"), help: "Items claimed per batch (default: defaults.batch_size).") var batchSize: Int?
        @Option(name: .customLong("max-attempts"), help: "Attempts before an item is dead-lettered (default: defaults.max_attempts).") var maxAttempts: Int?
        @Option(help: "The first retry delay, doubled after each failure (e.g. 30s, 0s).") var backoff = "30s"
        @Option(help: "text or json.") var format: SimpleFormat = .text

        func run() async throws {
            try await reportingFailures {
                guard let base = ConfigValues.duration(backoff) else {
                    throw CommandFailure.usage("invalid duration '\(backoff)' for --backoff; write e.g. 30s, 5m or 0s")
                }
                if let batchSize, batchSize < 1 { throw CommandFailure.usage("--batch-size must be at least 1") }
                if let maxAttempts, maxAttempts < 1 { throw CommandFailure.usage("--max-attempts must be at least 1") }
                let workspace = try Workspace.load(common)
                let runner = QueueRunner(
                    config: workspace.config, store: try workspace.openStore(), database: try workspace.openAppDatabase(),
                    maxAttempts: maxAttempts, backoff: Backoff(base: base.timeInterval))
                let summary = try runner.run(batchSize: batchSize ?? workspace.config.defaults.batchSize, showingProgress: true)
                try Console.write(QueueText.summary(summary, json: format == .json), to: nil)
                try QueueRunner.requireSuccess(summary)
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send dead items back to pending (the given ids, or all with --all).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Queue item ids.") var ids: [Int64] = []
        @Flag(help: "Every dead item.") var all = false

        func run() async throws {
            try await reportingFailures {
                guard all != !ids.isEmpty else { throw CommandFailure.usage("give queue item ids or --all, not both and not neither") }
                let count = try Workspace.load(common).openStore().retry(ids: all ? nil : ids)
                try Console.write("\(count) item\(count == 1 ? "" : "s") back to pending\n", to: nil)
            }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove pending or dead items from the queue (the given ids, or every dead one with --dead).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Queue item ids.") var ids: [Int64] = []
        @Flag(help: "Every dead item.") var dead = false

        func run() async throws {
            try await reportingFailures {
                guard dead != !ids.isEmpty else { throw CommandFailure.usage("give queue item ids or --dead, not both and not neither") }
                let count = try Workspace.load(common).openStore().drop(ids: dead ? nil : ids)
                try Console.write("\(count) item\(count == 1 ? "" : "s") dropped\n", to: nil)
            }
        }
    }
}

/// Text renderings of queue values.
enum QueueText {
    static func items(_ items: [QueueItem]) -> String {
        guard !items.isEmpty else { return "no items\n" }
        return items.map { item in
            var line = "\(item.id)  \(item.state.rawValue)  \(item.path)  [\(item.className)]  \(item.reason)"
            if item.attempts > 0 { line += "  attempts=\(item.attempts)" }
            if let error = item.lastError { line += "  last_error=\(error)" }
            if let outcome = item.outcome { line += "  -> \(outcome)" }
            return line
        }.joined(separator: "\n") + "\n"
    }

    /// `{"schema": 1, "total_pending", "oldest_queued", "newest_queued", "by_attempts", "dead", "done"}`,
    /// as `queue stats --format json` and `GET /v1/queue/stats` give it.
    static func statsJSON(_ stats: QueueStats) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("schema", 1)
        json.field("total_pending", stats.totalPending)
        json.key("oldest_queued")
        if let date = stats.oldestQueued { json.value(date) } else { json.null() }
        json.key("newest_queued")
        if let date = stats.newestQueued { json.value(date) } else { json.null() }
        json.key("by_attempts")
        json.beginObject()
        for (attempts, count) in stats.byAttempts.sorted(by: { $0.key < $1.key }) {
            json.key(String(attempts))
            json.value(count)
        }
        json.endObject()
        json.field("dead", stats.dead)
        json.field("done", stats.done)
        json.endObject()
        return json.string + "\n"
    }

    static func summary(_ summary: QueueRunner.Summary, json: Bool) -> String {
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("schema", 1)
            writer.field("recovered", summary.recovered)
            writer.field("quarantined", summary.quarantined)
            writer.field("removed", summary.removed)
            writer.field("bytes", summary.bytes)
            writer.field("kept", summary.kept)
            writer.field("gone", summary.gone)
            writer.field("retrying", summary.failed)
            writer.field("dead", summary.dead)
            writer.field("refused", summary.refused)
            writer.endObject()
            return writer.string + "\n"
        }
        var parts = ["\(summary.quarantined) quarantined", "\(summary.removed) removed", "\(humanSize(summary.bytes)) freed"]
        if summary.kept > 0 { parts.append("\(summary.kept) kept (referenced again)") }
        if summary.gone > 0 { parts.append("\(summary.gone) already gone") }
        if summary.failed > 0 { parts.append("\(summary.failed) failed, will retry") }
        if summary.dead > 0 { parts.append("\(summary.dead) dead-lettered") }
        if summary.refused > 0 { parts.append("\(summary.refused) refused by safety rules") }
        if summary.recovered > 0 { parts.append("\(summary.recovered) recovered from an interrupted run") }
        return parts.joined(separator: ", ") + "\n"
    }
}

/// JSON renderings of queue values.
enum QueueJSON {
    static func items(_ items: [QueueItem]) -> String {
        JSONWriter.document(listing: "items", items) { json, item in
            json.field("id", Int64(item.id))
            json.field("path", item.path)
            json.field("class", item.className)
            json.field("tenant", item.tenant)
            json.field("reason", item.reason)
            json.field("source", item.source)
            json.field("event_id", item.eventId)
            json.field("queued_at", item.queuedAt)
            json.field("not_before", item.notBefore)
            json.field("attempts", item.attempts)
            json.field("last_error", item.lastError)
            json.field("state", item.state.rawValue)
            json.field("outcome", item.outcome)
        }
    }
}

extension Date {
    /// `2026-11-21T10:00:00Z`.
    var iso8601: String {
        ISO8601DateFormatter.string(from: self, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
    }
}
