import Foundation
import Logging

/// The executable's logger: the only place that bootstraps swift-log. Messages go to stderr;
/// `--verbose` shows what is being done and how long it took, `--quiet` only errors.
enum Log {
    nonisolated(unsafe) private static var bootstrapped = false
    nonisolated(unsafe) static var logger = Logger(label: "media-janitor")

    /// Sets the level from the common options; call once, before any work.
    static func configure(_ options: CommonOptions) {
        if !bootstrapped {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            bootstrapped = true
        }
        var logger = Logger(label: "media-janitor")
        logger.logLevel = options.verbose ? .debug : options.quiet ? .error : .warning
        Self.logger = logger
        Console.quiet = options.quiet
    }
}

extension Duration {
    /// Seconds with millisecond precision, for log lines.
    var seconds: String {
        let (whole, attoseconds) = components
        return String(format: "%.3fs", Double(whole) + Double(attoseconds) / 1e18)
    }
}
