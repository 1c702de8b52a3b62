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
    /// A line on stderr, with the progress line erased first.
    static func error(_ text: String) {
        Progress.clearingLine { FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8)) }
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
            _ = writeAll(STDOUT_FILENO, text)
            return
        }
        var info = stat()
        let exists = lstat(path, &info) == 0
        if exists, (info.st_mode & S_IFMT) != S_IFREG {
            let descriptor = open(path, O_WRONLY)
            guard descriptor >= 0 else {
                throw .runtime("cannot open '\(path)' for writing: \(String(cString: strerror(errno))); check --output")
            }
            defer { close(descriptor) }
            guard writeAll(descriptor, text) else { throw .runtime("cannot write '\(path)': \(String(cString: strerror(errno))); check --output") }
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .runtime("cannot write '\(path)': \(String(cString: strerror(errno))); check --output and that its directory exists")
        }
        let written = writeAll(descriptor, text)
        let reason = String(cString: strerror(errno))
        close(descriptor)
        guard written, rename(temporary, url.path) == 0 else {
            let failure = written ? String(cString: strerror(errno)) : reason
            unlink(temporary)
            throw .runtime("cannot write '\(path)': \(failure); check --output")
        }
    }

    /// Writes the text's UTF-8 bytes in place (a report can be hundreds of megabytes: no copy
    /// into `Data`), retrying short writes and interruptions.
    private static func writeAll(_ descriptor: Int32, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
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
