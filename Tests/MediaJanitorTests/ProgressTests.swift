import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The progress line of long work (DESIGN section 4, common flags): drawn on standard error
/// when it is a terminal, never when piped or with `--quiet`, erased before the report, and
/// never sharing a line with a `--verbose` log line. Frames are drawn on every update
/// (`MEDIA_JANITOR_PROGRESS_INTERVAL=0`), so a tiny tree shows them every time.
@Suite("Progress on a terminal")
struct ProgressTests {
    static let everyUpdate = ["MEDIA_JANITOR_PROGRESS_INTERVAL": "0"]

    /// 6 files: 5 in the forum (posts 1 to 3 hold three of them) and one avatar held by user 1.
    func forum(store: AppBackend = .sqlite) throws -> ForumApp {
        let app = try ForumApp(store: store)
        for i in 1...5 { app.file("forum/f\(i).jpg") }
        app.file("avatars/me.jpg")
        try app.sql("INSERT INTO forum_post VALUES (1, 'forum/f1.jpg'), (2, 'forum/f2.jpg'), (3, 'forum/f3.jpg')")
        try app.sql("INSERT INTO accounts_user VALUES (1, 'avatars/me.jpg', NULL)")
        return app
    }

    @Test("a scan on a terminal draws the walk and the reference read with their counts, then erases the line")
    func scanOnTerminal() throws {
        let app = try forum()
        let shown = try Terminal.run(["scan", "--no-record"], in: app.path, environment: Self.everyUpdate)
        #expect(shown.status == 0, "\(shown.stderr)")
        let frames = Terminal.frames(shown.stderr)
        #expect(frames.first == "scanning: 0 files, 0 B", "\(frames)")
        #expect(frames.contains { $0.hasPrefix("scanning: 6 files, 146 B · done") }, "\(frames)")
        #expect(frames.contains { $0.hasSuffix(" | references: 4 rows · done") }, "\(frames)")
        // Nothing is left on the line for the shell prompt or the next output.
        #expect(Terminal.leftOnLine(shown.stderr) == "", "\(shown.stderr.debugDescription)")
        let piped = try app.run(["scan", "--no-record"])
        #expect(Self.timeless(shown.stdout) == Self.timeless(piped.stdout))
        #expect(shown.stdout.contains("orphans"))
    }

    @Test("piped or redirected, standard error holds no progress, no carriage return and no escape")
    func pipedIsSilent() throws {
        let app = try forum()
        for arguments in [["scan", "--no-record"], ["usage"], ["clean"], ["queue", "run"]] {
            let piped = try app.run(arguments, environment: Self.everyUpdate)
            #expect(piped.status == 0, "\(arguments): \(piped.stderr)")
            #expect(piped.stderr.isEmpty, "\(arguments): \(piped.stderr.debugDescription)")
        }
        let verbose = try app.run(["scan", "--no-record", "--verbose"], environment: Self.everyUpdate)
        #expect(verbose.stderr.contains(" debug "))
        #expect(
            !verbose.stderr.contains("\r") && !verbose.stderr.contains("\u{1B}") && !verbose.stderr.contains("scanning:"),
            "\(verbose.stderr.debugDescription)")
    }

    @Test("--quiet on a terminal draws nothing")
    func quietOnTerminal() throws {
        let app = try forum()
        for arguments in [["scan", "--no-record", "--quiet"], ["clean", "--quiet"]] {
            let shown = try Terminal.run(arguments, in: app.path, environment: Self.everyUpdate)
            #expect(shown.status == 0)
            #expect(shown.stderr.isEmpty, "\(arguments): \(shown.stderr.debugDescription)")
        }
    }

    @Test("a scan after a recorded audit counts against that audit's file count, with an ETA")
    func scanEstimate() throws {
        let app = try forum()
        try app.ok(["scan"])
        let shown = try Terminal.run(["scan", "--no-record"], in: app.path, environment: Self.everyUpdate)
        let frames = Terminal.frames(shown.stderr)
        #expect(frames.first == "scanning: 0 of ~6 files, 0 B", "\(frames)")
        #expect(frames.contains { $0.hasPrefix("scanning: 6 files, 146 B · done") }, "\(frames)")
    }

    @Test("clean on a terminal draws the scan, then the removals against the items due; its summary is the piped one")
    func cleanOnTerminal() throws {
        let shownApp = try forum(), pipedApp = try forum()
        let shown = try Terminal.run(["clean"], in: shownApp.path, environment: Self.everyUpdate)
        #expect(shown.status == 0, "\(shown.stderr)")
        let frames = Terminal.frames(shown.stderr)
        #expect(frames.contains { $0.hasPrefix("scanning: 6 files") }, "\(frames)")
        #expect(frames.contains { $0 == "removing: 0 of 2 files, 0 B" }, "\(frames)")
        #expect(frames.contains { $0.hasPrefix("removing: 2 of 2 files, 48 B") }, "\(frames)")
        #expect(Terminal.leftOnLine(shown.stderr) == "")
        let piped = try pipedApp.run(["clean"])
        #expect(shown.stdout == piped.stdout)
        #expect(shown.stdout.hasPrefix("2 quarantined"))
    }

    @Test("queue run on a terminal counts the items done against the items due", arguments: AppBackend.allCases)
    func queueOnTerminal(store: AppBackend) throws {
        let app = try forum(store: store)
        var events = ""
        for i in 4...5 {
            events +=
                #"{"id": "d\#(i)", "table": "forum_post", "column": "image", "op": "delete", "key": \#(i), "old": "forum/f\#(i).jpg"}"#
                + "\n"
        }
        app.scratch.write("events.ndjson", events)
        try app.ok(["events", "events.ndjson"])
        let shown = try Terminal.run(["queue", "run"], in: app.path, environment: Self.everyUpdate)
        #expect(shown.status == 0, "\(shown.stderr)")
        let frames = Terminal.frames(shown.stderr)
        #expect(frames.first == "removing: 0 of 2 files, 0 B", "\(frames)")
        #expect(frames.last?.hasPrefix("removing: 2 of 2 files, 48 B") == true, "\(frames)")
        #expect(Terminal.leftOnLine(shown.stderr) == "")
        #expect(shown.stdout.hasPrefix("2 quarantined"))
    }

    @Test("--verbose on a terminal keeps the progress, and every log line starts on a line of its own")
    func verboseOnTerminal() throws {
        let app = try forum()
        let shown = try Terminal.run(["scan", "--no-record", "--verbose"], in: app.path, environment: Self.everyUpdate)
        #expect(Terminal.frames(shown.stderr).contains { $0.hasPrefix("scanning: ") })
        let logLines = shown.stderr.split(separator: "\n").filter { $0.contains(" debug ") }
        #expect(logLines.count >= 3)
        for line in logLines {
            // What stays visible of the line: the last `\r` returns to its start.
            let visible =
                line.split(separator: "\r", omittingEmptySubsequences: false).last.map { $0.replacingOccurrences(of: "\u{1B}[K", with: "") }
                ?? ""
            #expect(
                visible.first?.isNumber == true && visible.contains(" debug "),
                "a log line shares its line with progress: \(line.debugDescription)")
        }
        #expect(Terminal.leftOnLine(shown.stderr) == "")
    }

    @Test("on a narrow terminal every frame fits in the width, so redrawing in place works")
    func narrowTerminal() throws {
        let app = try forum()
        try app.ok(["scan"])
        let shown = try Terminal.run(["scan", "--no-record"], in: app.path, environment: Self.everyUpdate, columns: 30)
        let frames = Terminal.frames(shown.stderr)
        #expect(!frames.isEmpty)
        for frame in frames { #expect(frame.count <= 29, "\(frame.debugDescription)") }
    }

    @Test("retention on a terminal draws planning, the row changes and the removals")
    func retentionOnTerminal() throws {
        let app = try ChatApp()
        try app.plantChat()
        let shown = try Terminal.run(["retention", "--class", "chat_media"], in: app.path, environment: Self.everyUpdate)
        #expect(shown.status == 0, "\(shown.stderr)")
        let frames = Terminal.frames(shown.stderr)
        #expect(frames.first == "planning: 0 of 1 classes", "\(frames)")
        // A frame of work under way may end with a rate, once it has run for a quarter of a second.
        #expect(frames.contains { $0.hasPrefix("planning: 1 of 1 classes") && $0.hasSuffix(" · re-checking references") }, "\(frames)")
        #expect(frames.contains("applying: 0 of 3 rows") && frames.contains { $0.hasPrefix("applying: 3 of 3 rows") }, "\(frames)")
        // Four files queued; b.jpg is kept at the re-check (a forum post holds it), so 1,200 bytes go.
        #expect(
            frames.contains("removing: 0 of 4 files, 0 B") && frames.last?.hasPrefix("removing: 4 of 4 files, 1.2 KiB") == true, "\(frames)"
        )
        #expect(Terminal.leftOnLine(shown.stderr) == "")
    }

    /// A report without its timestamps, which differ between two runs.
    static func timeless(_ text: String) -> String {
        text.replacingOccurrences(of: #"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\dZ?"#, with: "<time>", options: .regularExpression)
    }
}

/// Runs `media-janitor` with its standard error on a pseudo-terminal and its standard output
/// on a pipe: what an operator sees running `media-janitor scan > report.txt` in a terminal.
enum Terminal {
    /// `stderr` is every byte the terminal received, `\r` and escape sequences included.
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:], columns: UInt16 = 200) throws
        -> Janitor.Outcome
    {
        var controller: Int32 = -1, device: Int32 = -1
        var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&controller, &device, nil, nil, &size) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(controller) }
        // Raw: bytes pass as written (no `\n` to `\r\n`).
        var mode = termios()
        tcgetattr(device, &mode)
        cfmakeraw(&mode)
        tcsetattr(device, TCSANOW, &mode)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Janitor.executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "MEDIA_JANITOR_CONFIG")
        env["NO_COLOR"] = "1"
        env["TERM"] = "xterm"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(fileDescriptor: device, closeOnDealloc: false)
        do {
            try process.run()
        } catch {
            close(device)
            throw error
        }
        // Only the child holds the terminal now: reading it ends (EIO) when the child exits.
        close(device)
        nonisolated(unsafe) var received: [UInt8] = []
        let terminal = controller
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(terminal, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                received += buffer[0..<count]
            }
        }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Janitor.Outcome(
            status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: received, as: UTF8.self))
    }

    /// The frames drawn: each text between a `\r` and the erase to the end of the line that follows it.
    static func frames(_ terminal: String) -> [String] {
        terminal.split(separator: "\r", omittingEmptySubsequences: false).dropFirst().compactMap { piece in
            guard let end = piece.range(of: "\u{1B}[K") else { return nil }
            let frame = String(piece[..<end.lowerBound])
            return frame.isEmpty ? nil : frame
        }
    }

    /// What stays visible on the last line when the command has ended.
    static func leftOnLine(_ terminal: String) -> String {
        let last = terminal.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
        let visible = last.split(separator: "\r", omittingEmptySubsequences: false).last ?? ""
        return visible.replacingOccurrences(of: "\u{1B}[K", with: "")
    }
}
