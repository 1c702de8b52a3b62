import Foundation
import Logging

/// The executable's logger: the only place that bootstraps swift-log. Messages go to stderr;
/// `--verbose` shows what is being done and how long it took, `--quiet` only errors. Each
/// message erases the progress line first (`Progress.clearingLine`), so the two never share a line.
enum Log {
    nonisolated(unsafe) private static var bootstrapped = false
    nonisolated(unsafe) static var logger = Logger(label: "media-janitor")

    /// Sets the level from the common options; call once, before any work.
    static func configure(_ options: CommonOptions) {
        if !bootstrapped {
            LoggingSystem.bootstrap { ProgressClearingLogHandler(StreamLogHandler.standardError(label: $0)) }
            bootstrapped = true
        }
        var logger = Logger(label: "media-janitor")
        logger.logLevel = options.verbose ? .debug : options.quiet ? .error : .warning
        Self.logger = logger
        Console.quiet = options.quiet
        Progress.isEnabled = !options.quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
}

/// swift-log's standard-error handler, with the progress line erased before each message.
struct ProgressClearingLogHandler: LogHandler {
    var inner: StreamLogHandler

    init(_ inner: StreamLogHandler) { self.inner = inner }

    func log(event: LogEvent) {
        Progress.clearingLine { inner.log(event: event) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
}

extension Duration {
    /// Seconds with millisecond precision, for log lines.
    var seconds: String {
        let (whole, attoseconds) = components
        return String(format: "%.3fs", Double(whole) + Double(attoseconds) / 1e18)
    }
}
