import ArgumentParser
import Foundation
import Hummingbird
import JanitorCore
import JanitorSources
import Logging
import ServiceLifecycle

/// `serve`: the sidecar. One process, one `ServiceGroup`: HTTP intake, outbox drain, file
/// watcher, queue worker, scheduler, webhooks. SIGTERM or SIGINT finishes the batch in hand
/// and exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sidecar: HTTP API, outbox drain, file watcher, queue worker and scheduled sweeps.",
        discussion: "Prints 'listening on http://HOST:PORT' to standard error once the HTTP API is up (port 0 picks a free port). SIGTERM or SIGINT finishes the batch in hand and exits 0.")

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Listen on HOST:PORT instead of serve.listen (port 0 picks a free one).", valueName: "host:port"))
    var listen: String?

    @Flag(name: .customLong("no-watch"), help: "Do not watch the media directories (usage then moves only with removals).")
    var noWatch = false

    /// Whether only this machine can reach the address (127.0.0.0/8, ::1, localhost).
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func run() async throws {
        try await reportingFailures {
            let workspace = try Workspace.load(common)
            let config = workspace.config
            let address = listen ?? config.serve.listen
            guard let (host, port) = Self.parse(address) else {
                throw CommandFailure.usage("invalid listen address '\(address)'; write HOST:PORT, e.g. 127.0.0.1:8787 (port 0 picks a free one)")
            }
            if config.serve.token == nil, !Self.isLoopback(host) {
                throw CommandFailure.usage(
                    "serve would listen on '\(address)', which other machines can reach, with no serve.token: anyone who reaches it could queue removals; "
                        + "set 'serve.token' (e.g. token: ${MEDIA_JANITOR_TOKEN}, with a long random value in the environment) or listen on 127.0.0.1")
            }
            let database = try workspace.openAppDatabase()
            let store = try workspace.openStore()
            let hooks = try HooksCommand.open(workspace)
            let writer = try workspace.openRowWriter()
            var logger = Log.logger
            logger.logLevel = common.verbose ? .debug : common.quiet ? .error : .info
            let sidecar = Sidecar(config: config, store: store, database: database, metrics: JanitorMetrics.bootstrap(), logger: logger)
            let caps = CapTrigger(classes: config.classes)
            let watcher = WatcherService(sidecar: sidecar, watch: !noWatch, caps: caps)
            let intake = HTTPIntake(sidecar: sidecar, batcher: IntakeBatcher(sidecar: sidecar, source: "http"), watchHealth: { watcher.health() })
            let application = Application(
                router: intake.router(),
                configuration: .init(address: .hostname(host, port: port), serverName: "media-janitor"),
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? port
                    let shown = host.contains(":") ? "[\(host)]" : host
                    FileHandle.standardError.write(Data("listening on http://\(shown):\(bound)\n".utf8))
                },
                logger: logger)
            var services: [any Service] = [
                application, QueueWorker(sidecar: sidecar), OutboxDrain(sidecar: sidecar, hooks: hooks), Scheduler(sidecar: sidecar, writer: writer, caps: caps), watcher,
            ]
            if let webhooks = sidecar.webhooks { services.append(webhooks) }
            let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                throw CommandFailure.runtime("the sidecar stopped: \(error)")
            }
        }
    }

    /// `HOST:PORT`, `[IPv6]:PORT`.
    static func parse(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }
}
