import ArgumentParser
import Foundation
import JanitorCore
import JanitorReports
import JanitorSources
import JanitorStore

/// `retention`: applies the classes' retention policies to their rows and files.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Apply retention policies: change the selected rows (row_action), then remove the files they freed (--dry-run: print the plan only).",
        discussion: """
            The plan lists, per class, the rows selected and the policy that selected each, and every file with its fate: removed, shared (another row still holds it), row_kept (row_action none or soft_delete keeps the row) or missing. A run above the safety limits (share of a class's rows or files, bytes) changes nothing and exits 4, unless --force. Rows the app database refuses to change (a foreign key, a trigger) are listed and the run exits 3; the others are applied.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var classOptions: ClassOptions

    @OptionGroup var sweep: SweepOptions

    func run() async throws {
        try await reportingFailures {
            let workspace = try Workspace.load(common)
            let selected = try workspace.selectedClasses(classOptions.classes)
            let config = workspace.config
            if let selected, selected.allSatisfy({ config.classes[$0].retention == nil }) {
                let named = config.classes.filter { $0.retention != nil }.map(\.name)
                throw CommandFailure.usage("no selected class has 'retention' rules; " + (named.isEmpty ? "add a 'retention' block to a class first" : "classes with retention: \(named.joined(separator: ", "))"))
            }
            let database = try workspace.openAppDatabase()
            let now = Date()
            var (report, selections) = try RetentionPlanning(config: config, database: database).plan(selected: selected, now: now, showingProgress: true)
            report.dryRun = sweep.dryRun
            if sweep.dryRun {
                selections.removeAll()  // The plan is all a dry run prints: free the rows before rendering it.
                try Console.write(output.format.render(report, options: output.renderOptions), to: output.output)
                if !report.violations.isEmpty {
                    let count = report.violations.count
                    Console.warning("the plan crosses \(count) safety limit\(count == 1 ? "" : "s") (listed in the plan); a real run stops there (exit 4) unless --force")
                }
                return
            }
            if !report.violations.isEmpty && !sweep.force {
                try Console.write(output.format.render(report, options: output.renderOptions), to: output.output)
            }
            try sweep.stopUnlessForced(report.violations, stopped: "retention was stopped by the safety limits and changed nothing; check with 'retention --dry-run'")
            let store = try workspace.openStore()
            let writer = try workspace.openRowWriter()
            let freed = Set(report.rows.flatMap { $0.files.filter { $0.fate == .removed }.map(\.path) })
            var (outcome, run) = try RetentionApplier(config: config, store: store, database: database, writer: writer).apply(selections, freed: freed, now: now, showingProgress: true)
            selections.removeAll()  // Done with: free the rows before the queue run and the report.
            // Must run after the row changes: they are what frees the files.
            let queued = try QueueRunner(config: config, store: store, database: database).run(batchSize: config.defaults.batchSize, showingProgress: true)
            if let run {
                (outcome.filesRemoved, outcome.bytesRemoved) = try store.retentionRemovals(run: run)
            }
            report.applied = outcome
            try Console.write(output.format.render(report, options: output.renderOptions), to: output.output)
            for failure in outcome.failures { Console.error("error: row not changed: \(failure)") }
            if !outcome.failures.isEmpty {
                Console.error("error: \(outcome.failures.count) row\(outcome.failures.count == 1 ? " was" : "s were") refused by the app database and left as \(outcome.failures.count == 1 ? "it was" : "they were"); a foreign key usually means other rows point at them: delete those first, or use 'row_action: set_null' or 'soft_delete:COLUMN' for this class")
                throw ExitCode(MediaJanitor.Exit.runtime)
            }
            try QueueRunner.requireSuccess(queued)
        }
    }
}

/// `archive`: rows `row_action: archive` saved before deleting them.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "List and restore rows saved by 'row_action: archive'.",
        subcommands: [List.self, Restore.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Archived rows not yet restored, oldest first (--all: restored ones too).")
        @OptionGroup var common: CommonOptions
        @OptionGroup var classOptions: ClassOptions
        @Flag(help: "Restored rows too.") var all = false
        @Option(help: "At most this many rows.") var limit = 1000
        @Option(help: "text or json.") var format: SimpleFormat = .text

        func run() async throws {
            try await reportingFailures {
                let workspace = try Workspace.load(common)
                _ = try workspace.selectedClasses(classOptions.classes)
                let store = try workspace.openStore()
                var records: [ArchiveRecord] = []
                for name in classOptions.classes.isEmpty ? [nil] : classOptions.classes.map(Optional.some) {
                    records += try store.archivedRows(id: nil, className: name, includeRestored: all, limit: limit)
                }
                try Console.write(format == .json ? ArchiveOutput.json(records) : ArchiveOutput.text(records), to: nil)
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put archived rows back into the app's tables, byte-identical: by id, by class, or all.",
            discussion: "A row whose key is taken by a different row is never overwritten. Files the row held were removed through the queue: 'quarantine restore --path PATH' brings each back while it is in the quarantine.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "An archive id (from 'archive list').") var id: Int64?
        @Option(name: .customLong("class"), help: ArgumentHelp("Every archived row of this class.", valueName: "name")) var className: String?
        @Flag(help: "Every archived row.") var all = false

        func run() async throws {
            try await reportingFailures {
                let chosen = [id != nil, className != nil, all].filter { $0 }.count
                guard chosen == 1 else { throw CommandFailure.usage("give exactly one of: an id, --class NAME, --all") }
                let workspace = try Workspace.load(common)
                if let className { _ = try workspace.selectedClasses([className]) }
                let store = try workspace.openStore()
                let records = try store.archivedRows(id: id, className: className, includeRestored: false, limit: Int.max)
                guard !records.isEmpty else { throw CommandFailure.usage("no archived row matches; see 'media-janitor archive list'") }
                let writer = try workspace.openRowWriter()
                var failures = 0
                for record in records {
                    guard let row = record.row else {
                        failures += 1
                        Console.error("error: cannot restore \(record.id): its saved copy of \(record.table) key \(record.key) in the store cannot be read; nothing was written (the store may be damaged: keep a copy of it)")
                        continue
                    }
                    do {
                        switch try writer.restore(row) {
                        case .restored, .alreadyThere:
                            try store.markArchiveRestored(record.id)
                            let files = Self.paths(of: row, className: record.className, in: workspace.config)
                            let hint = files.isEmpty ? "" : "; its files: \(files.joined(separator: ", ")) ('quarantine restore --path PATH' brings each back)"
                            try Console.write("restored \(record.id): \(row.table) key \(row.key)\(hint)\n", to: nil)
                        case .conflict:
                            failures += 1
                            Console.error("error: cannot restore \(record.id): table '\(row.table)' already has a different row with \(row.keyColumn) = \(row.key); it was not overwritten. Move that row away, then run 'archive restore \(record.id)' again")
                        }
                    } catch let error as SourceError {
                        failures += 1
                        Console.error("error: \(record.id): \(error)")
                    }
                }
                if failures > 0 { throw ExitCode(MediaJanitor.Exit.runtime) }
            }
        }

        /// The paths the row's reference columns of its class hold.
        static func paths(of row: ArchivedRow, className: String, in config: JanitorConfig) -> [String] {
            let columns = config.classes.first { $0.name == className }?.references.filter { $0.table == row.table }.compactMap(\.column) ?? []
            return row.columns.compactMap { column in
                guard columns.contains(column.name), case .text(let bytes) = column.value, !bytes.isEmpty else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }
}

enum ArchiveOutput {
    static func text(_ records: [ArchiveRecord]) -> String {
        guard !records.isEmpty else { return "no archived rows\n" }
        return records.map { record in
            var line = "\(record.id)  \(record.archivedAt.iso8601)  \(record.table) key \(record.key)  [\(record.className)]  \(record.policy)  "
                + (record.row.map { "\($0.columns.count) columns" } ?? "unreadable: the saved copy in the store cannot be read")
            if let restored = record.restoredAt { line += "  restored \(restored.iso8601)" }
            return line
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ records: [ArchiveRecord]) -> String {
        JSONWriter.document(listing: "archived_rows", records) { json, record in
            json.field("id", record.id)
            json.field("class", record.className)
            json.field("table", record.table)
            json.field("key_column", record.row?.keyColumn)
            json.field("key", record.key)
            json.field("policy", record.policy)
            json.field("archived_at", record.archivedAt)
            json.field("restored_at", record.restoredAt)
            json.key("columns")
            guard let row = record.row else {
                json.null()
                return
            }
            json.beginArray()
            for column in row.columns {
                json.element()
                json.beginObject()
                let parts = column.value.jsonParts
                json.field("name", column.name)
                json.field("type", parts.type)
                if let base64 = parts.base64 { json.field("base64", base64) } else { json.field("value", parts.value) }
                json.endObject()
            }
            json.endArray()
        }
    }
}
