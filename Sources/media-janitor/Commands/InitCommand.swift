import ArgumentParser
import Foundation
import JanitorCore
import JanitorSources

/// `init`: writes a starter janitor.yml from the app database and the media root.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter janitor.yml from the app database and the media root.",
        discussion: """
            Reads the tables of the app database and up to --sample-size non-empty values of each text \
            column (one query per column), walks the media root once, and makes a class of every \
            top-level directory that columns whose values are mostly paths of existing files point \
            into. The file says what was found and what to review; it never configures retention. \
            An existing file is kept unless --force. Exit 2 when no column looks like a media column \
            (nothing is written).
            """)

    @Option(help: ArgumentHelp("The app's database: sqlite:PATH (or a bare path) or postgres://user:password@host:port/database.", valueName: "url"))
    var database: String

    @Option(name: .customLong("media-root"), help: ArgumentHelp("The directory the stored paths are relative to.", valueName: "path"))
    var mediaRoot: String

    @Option(help: ArgumentHelp("Where to write the config ('-' for standard output).", valueName: "file"))
    var output = "janitor.yml"

    @Flag(help: "Replace an existing file.")
    var force = false

    @Option(name: .customLong("sample-size"), help: ArgumentHelp("How many non-empty values to read per text column.", valueName: "n"))
    var sampleSize = 1000

    func run() async throws {
        try await reportingFailures {
            let directory = FileManager.default.currentDirectoryPath
            guard sampleSize > 0 else { throw CommandFailure.usage("--sample-size must be at least 1") }
            let location: DatabaseLocation
            switch ConfigValues.database(database, base: directory) {
            case .success(let value): location = value
            case .failure(let problem): throw CommandFailure.usage("--database: \(problem)")
            }
            let root = FilePath.resolve(mediaRoot, against: directory)
            try Self.checkMediaRoot(root, as: mediaRoot)
            let target = output == "-" ? nil : FilePath.resolve(output, against: directory)
            if let target {
                if case .sqlite(let path) = location, path == target {
                    throw CommandFailure.usage("--output '\(output)' is the app database; name another file")
                }
                try Self.checkOutput(target, as: output, force: force, mediaRoot: root)
            }

            let inspection = try Self.inspect(location, mediaRoot: root, sampleSize: sampleSize)
            let starter = StarterConfig.build(tables: inspection.tables, findings: inspection.findings, listing: inspection.listing)
            guard !starter.classes.isEmpty else {
                throw CommandFailure.usage(Self.nothingFound(starter, location: location, mediaRoot: mediaRoot, sampleSize: sampleSize, files: inspection.listing.count))
            }
            let base = target.map(FilePath.directory(of:)) ?? directory
            let databaseValue: String, databaseShown: String
            switch location {
            case .sqlite(let path):
                databaseValue = "sqlite:" + FilePath.relative(path, from: base)
                databaseShown = databaseValue
            case .postgres(let url):
                databaseValue = database
                databaseShown = url.redacted
            }
            let yaml = starter.yaml(StarterConfig.Target(
                database: databaseValue, databaseShown: databaseShown, mediaRoot: FilePath.relative(root, from: base),
                sampleLimit: sampleSize, entries: inspection.listing.count))
            try Console.write(yaml, to: target)
            let summary = Self.summary(starter, output: output, target: target, location: location)
            if target == nil { Console.error(summary) } else { try Console.write(summary + "\n", to: nil) }
        }
    }

    /// The tables, the samples examined against the media root, and the walk.
    static func inspect(_ location: DatabaseLocation, mediaRoot: String, sampleSize: Int) throws(CommandFailure) -> (tables: [InspectedTable], findings: [ColumnFinding], listing: Listing) {
        do throws(SourceError) {
            let database = try Workspace.appDatabase(location)
            let tables = try database.inspectTables().filter { !StarterConfig.isJanitorTable($0.name) }
            var samples: [ColumnSample] = []
            for table in tables {
                for column in table.textColumns {
                    samples.append(ColumnSample(table: table.name, column: column, values: try database.sampleValues(table: table.name, column: column, limit: sampleSize)))
                }
            }
            let listing = try DiskWalker(root: mediaRoot).walk()
            return (tables, MediaColumnDetector(mediaRoot: mediaRoot).examine(samples, listing: listing), listing)
        } catch {
            if case .databaseMissing(let path) = error {
                throw .usage("the app database 'sqlite:\(path)' does not exist; check --database (sqlite:PATH, or postgres://user:password@host:port/database)")
            }
            throw error.failure
        }
    }

    /// The media root must be a directory (a symlink is not followed, as in every command).
    static func checkMediaRoot(_ root: String, as given: String) throws(CommandFailure) {
        var info = stat()
        guard lstat(root, &info) == 0 else {
            throw .usage("--media-root '\(given)' does not exist; give the directory the stored paths are relative to")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .usage("--media-root '\(given)' is not a directory (a symlink is not followed); give the real directory the stored paths are relative to")
        }
    }

    /// An existing file is kept unless `--force`; the config must live outside the media root,
    /// since its state store and quarantine sit beside it.
    static func checkOutput(_ target: String, as given: String, force: Bool, mediaRoot: String) throws(CommandFailure) {
        if FilePath.isInside(FilePath.directory(of: target), mediaRoot) {
            throw .usage("--output '\(given)' is inside the media root: the janitor's state and quarantine beside it would be served and audited as media; write it elsewhere")
        }
        var info = stat()
        guard lstat(target, &info) == 0 else { return }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            if !force { throw .usage("'\(given)' already exists and was left unchanged; pass --force to replace it, or --output to write elsewhere") }
        case S_IFDIR:
            throw .usage("--output '\(given)' is a directory; name the file to write, e.g. '\(given)/janitor.yml'")
        case S_IFLNK:
            throw .usage("--output '\(given)' is a symlink and was left unchanged; name a regular file")
        default:
            break  // a device or FIFO (`/dev/stdout`) is written straight
        }
    }

    /// Why no file was written, what was inspected, and what to try.
    static func nothingFound(_ starter: StarterConfig, location: DatabaseLocation, mediaRoot: String, sampleSize: Int, files: Int) -> String {
        let inspected = "inspected \(StarterConfig.count(starter.tables, "table")) and \(StarterConfig.count(starter.textColumns, "text column"))"
        let against = "(up to \(sampleSize.grouped) values each) against \(StarterConfig.count(files, "entry", plural: "entries")) under '\(mediaRoot)'"
        var message = "no column of \(location) looks like it holds media paths, so no file was written: \(inspected) \(against). "
        message += "A media column holds paths relative to the media root, such as 'avatars/a.jpg', of files that exist there; "
        message += "check that --media-root is the directory those paths start from and that --database is the app's database"
        let near = starter.findings.compactMap { finding -> String? in
            switch finding.verdict {
            case .notOnDisk: "\(finding.qualifiedName): \(finding.paths.count) of \(finding.sampled) values look like paths, \(finding.existing) exist under the media root"
            case .prefixed(let prefix): "\(finding.qualifiedName): values start with '\(prefix)', which the janitor cannot cut"
            case .media, .none: nil
            }
        } + starter.skipped
        if !near.isEmpty { message += "; closest: " + near.joined(separator: "; ") }
        return message
    }

    /// What was written and what to run next.
    static func summary(_ starter: StarterConfig, output: String, target: String?, location: DatabaseLocation) -> String {
        let classes = starter.classes.map(\.name)
        let columns = starter.referenceColumns
        var lines = ["\(target == nil ? "printed to standard output:" : "wrote \(output):") \(StarterConfig.count(classes.count, "class", plural: "classes")) (\(classes.joined(separator: ", "))) from \(StarterConfig.count(columns.count, "column")) (\(columns.joined(separator: ", ")))"]
        if !starter.leftovers.isEmpty {
            lines.append("\(StarterConfig.count(starter.leftovers.count, "directory", plural: "directories")) that no class claims \(starter.leftovers.count == 1 ? "is" : "are") listed at its end")
        }
        for finding in starter.findings {
            if case .prefixed(let prefix) = finding.verdict {
                lines.append("warning: \(finding.qualifiedName) stores paths behind the prefix '\(prefix)', which the janitor cannot read; see the note at the end of the file")
            }
        }
        if case .postgres(let url) = location, url.password != nil, target != nil {
            lines.append("note: the file holds the database password; keep it out of version control")
        }
        guard let target else { return lines.joined(separator: "\n") }
        let defaultConfig = FilePath.resolve(ProcessInfo.processInfo.environment["MEDIA_JANITOR_CONFIG"] ?? "janitor.yml", against: FileManager.default.currentDirectoryPath)
        let flag = target == defaultConfig ? "" : " --config \(output)"
        lines.append("Review it, then run:")
        lines.append("  media-janitor check\(flag)")
        lines.append("  media-janitor scan\(flag)")
        return lines.joined(separator: "\n")
    }
}
