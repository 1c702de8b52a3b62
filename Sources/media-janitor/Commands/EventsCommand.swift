import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources
import JanitorStore

/// `events [FILE|-]`: processes NDJSON change events once.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Process change events (NDJSON, a JSON array or one object) once.",
        discussion: "Each event's decision is recorded; an event id seen before is a duplicate. Invalid events are reported with their position and reason and the valid ones are still processed; the exit code is then 2.")

    @OptionGroup var common: CommonOptions
    @Argument(help: "A file of events, or - for standard input.") var file = "-"
    @Option(help: "text or json.") var format: SimpleFormat = .text
    @Flag(name: .customLong("run-queue"), help: "Run the queue afterwards (items past their delay are removed at once).") var runQueue = false

    func run() async throws {
        try await reportingFailures {
            let workspace = try Workspace.load(common)
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure.usage("cannot read events file '\(file)'; give a readable file or - for standard input")
                }
                data = contents
            }
            let batch = EventDecoder.decode(data, mediaRoot: workspace.config.mediaRoot)
            let processor = EventProcessor(config: workspace.config, store: try workspace.openStore(), database: try workspace.openAppDatabase())
            let outcomes = EventOutput.lines(batch, decided: try processor.process(batch.events, source: "events"))
            try processor.store.recordRejected(batch.rejected.map { ($0.id, $0.error.field, $0.error.message) }, source: "events")
            try Console.write(EventOutput.render(outcomes, json: format == .json), to: nil)
            if runQueue {
                let runner = QueueRunner(config: workspace.config, store: processor.store, database: processor.database)
                let summary = try runner.run(batchSize: workspace.config.defaults.batchSize, showingProgress: true)
                if format == .text { try Console.write(QueueText.summary(summary, json: false), to: nil) }
                try QueueRunner.requireSuccess(summary)
            }
            if outcomes.contains(where: { $0.decision == "rejected" }) { throw ExitCode(MediaJanitor.Exit.usage) }
        }
    }
}

/// Renderings of per-event outcomes.
enum EventOutput {
    struct Line {
        var id: String?
        var decision: String
        var reason: String
        /// For a rejected event, the field at fault.
        var field: String? = nil
        var queued: Int
    }

    /// One line per item of the batch, in body order: the decided events' outcomes (`decided`,
    /// in the order of `batch.events`) and the rejected ones, each naming where and which field.
    static func lines(_ batch: EventBatch, decided: [EventProcessor.Outcome]) -> [Line] {
        var decided = decided.makeIterator()
        return batch.items.map { item in
            switch item {
            case .valid(let event):
                let outcome = decided.next()!
                return Line(id: event.id, decision: outcome.decision, reason: outcome.reason, queued: outcome.queued.count)
            case .rejected(let index, let id, let error):
                let message = "\(error)"
                let place = message.hasPrefix("line ") || message.hasPrefix("item ") ? "" : "event \(index + 1): "
                return Line(id: id, decision: "rejected", reason: place + message, field: error.field, queued: 0)
            }
        }
    }

    static func render(_ lines: [Line], json: Bool) -> String {
        if json {
            return JSONWriter.document(listing: "events", lines) { writer, line in
                writer.field("id", line.id)
                writer.field("decision", line.decision)
                writer.field("reason", line.reason)
                writer.field("field", line.field)
                writer.field("queued", line.queued)
            }
        }
        guard !lines.isEmpty else { return "no events\n" }
        return lines.map { "\($0.id ?? "-")  \($0.decision)  \($0.reason)" }.joined(separator: "\n") + "\n"
    }
}
