import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources
import JanitorStore

/// `hooks`: database triggers that write every change of a reference column into an outbox.
struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Install, inspect and drain the database hooks (triggers and outbox).",
        subcommands: [Install.self, Uninstall.self, Status.self, Drain.self])

    static func open(_ workspace: Workspace) throws(CommandFailure) -> any AppHooks {
        try workspace.openHooks()
    }

    static func columns(_ workspace: Workspace) -> [ReferenceColumn] {
        ReferenceSet.columns(of: workspace.config.classes).map(\.reference)
    }

    static func render(_ status: HooksStatus) -> String {
        var lines = ["outbox: \(status.outboxExists ? "present, \(status.pendingRows) pending" : "missing")"]
        lines += status.columns.map { "\($0.name): \($0.state.rawValue)" }
        lines += status.extraTriggers.map { "extra trigger: \($0)" }
        lines.append(status.isCurrent ? "hooks are installed and current" : "hooks are not current")
        lines += status.advice
        return lines.joined(separator: "\n") + "\n"
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the outbox table and the triggers for every reference column (idempotent).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await reportingFailures {
                let workspace = try Workspace.load(common)
                do {
                    let status = try HooksCommand.open(workspace).install(HooksCommand.columns(workspace))
                    try Console.write(HooksCommand.render(status), to: nil)
                } catch let error as SourceError {
                    throw error.failure
                }
            }
        }
    }

    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop the triggers and the outbox (idempotent; refuses while events wait unless --force).")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Drop the outbox even if it still holds events.") var force = false

        func run() async throws {
            try await reportingFailures {
                do {
                    try HooksCommand.open(try Workspace.load(common)).uninstall(force: force)
                    try Console.write("hooks uninstalled\n", to: nil)
                } catch let error as SourceError {
                    throw error.failure
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether the outbox and every trigger are installed and current; exit 1 when not.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await reportingFailures {
                let workspace = try Workspace.load(common)
                do {
                    let status = try HooksCommand.open(workspace).status(HooksCommand.columns(workspace))
                    try Console.write(HooksCommand.render(status), to: nil)
                    if !status.isCurrent { throw ExitCode(MediaJanitor.Exit.findings) }
                } catch let error as SourceError {
                    throw error.failure
                }
            }
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process the outbox once: each row becomes an event, its decision is recorded, then the row is deleted.",
            discussion: "At-least-once and idempotent: a row processed but not yet deleted when the process stops is seen again and recognised as a duplicate.")
        @OptionGroup var common: CommonOptions
        @Option(name: .customLong("batch-size"), help: "Outbox rows per batch.") var batchSize = 500

        func run() async throws {
            try await reportingFailures {
                let workspace = try Workspace.load(common)
                let hooks = try HooksCommand.open(workspace)
                let processor = EventProcessor(config: workspace.config, store: try workspace.openStore(), database: try workspace.openAppDatabase())
                var counts: [String: Int] = [:]
                do {
                    while true {
                        let rows = try hooks.pending(limit: batchSize)
                        if rows.isEmpty { break }
                        for outcome in try processor.process(rows.map(\.event), source: "outbox") {
                            counts[outcome.decision, default: 0] += 1
                        }
                        // Deleted only after every decision is stored: a crash before this
                        // line replays the rows, and their ids make the replay a no-op.
                        try hooks.acknowledge(rows.map(\.id))
                    }
                } catch let error as SourceError {
                    throw error.failure
                }
                let total = counts.values.reduce(0, +)
                let detail = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                try Console.write("\(total) outbox event\(total == 1 ? "" : "s")\(total > 0 ? ": " + detail : "")\n", to: nil)
            }
        }
    }
}
