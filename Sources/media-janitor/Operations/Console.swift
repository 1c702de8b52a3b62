import ArgumentParser
import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

/// A failure that ends the command with an exit code and a message that says what to fix.
struct CommandFailure: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { message }

    static func usage(_ message: String) -> CommandFailure { CommandFailure(code: MediaJanitor.Exit.usage, message: message) }
    static func runtime(_ message: String) -> CommandFailure { CommandFailure(code: MediaJanitor.Exit.runtime, message: message) }
}

/// Standard error and output writing.
enum Console {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Set by `--quiet`: warnings are not printed.
    nonisolated(unsafe) static var quiet = false

    /// A warning line on stderr, unless `--quiet`.
    static func warning(_ text: String) {
        if !quiet { error("warning: " + text) }
    }

    static func diagnostics(_ diagnostics: [Diagnostic], quiet: Bool) {
        for diagnostic in diagnostics where !quiet || diagnostic.severity == .error {
            error(diagnostic.description)
        }
    }

    /// Writes output: to stdout, or to `path` (a regular file atomically through a temporary
    /// file and rename; anything else, such as `/dev/null` or a FIFO, straight).
    static func write(_ text: String, to path: String?) throws(CommandFailure) {
        guard let path else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        var info = stat()
        let exists = lstat(path, &info) == 0
        if exists, (info.st_mode & S_IFMT) != S_IFREG {
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw .runtime("cannot open '\(path)' for writing: \(String(cString: strerror(errno))); check --output")
            }
            handle.write(Data(text.utf8))
            try? handle.close()
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(text.utf8).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw CommandFailure.runtime("cannot write '\(path)': \(reason); check --output")
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw .runtime("cannot write '\(path)': \(error.localizedDescription); check --output and that its directory exists")
        }
    }
}

extension AsyncParsableCommand {
    /// Runs a body, turning a `CommandFailure` into its message and exit code.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CommandFailure {
            Console.error("error: \(failure.message)")
            throw ExitCode(failure.code)
        } catch let error as StoreError {
            Console.error("error: \(error)")
            throw ExitCode(MediaJanitor.Exit.runtime)
        } catch let error as SourceError {
            Console.error("error: \(error.failure.message)")
            throw ExitCode(error.failure.code)
        }
    }
}
