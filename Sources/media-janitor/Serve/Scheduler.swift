import Foundation
import JanitorCore
import JanitorSources
import Logging
import ServiceLifecycle

/// Runs the sweeps of `schedule`: retention, the orphan audit and the quarantine purge, each
/// every its own interval (the first one interval after start). A sweep above the safety
/// limits changes nothing and is logged as an error: a daemon never passes `--force`.
struct Scheduler: Service {
    let sidecar: Sidecar
    let writer: (any AppRowWriter)?
    let caps: CapTrigger
    let stop = StopFlag()

    private enum Job {
        case retention(Set<Int>?), audit, purge
    }

    func run() async throws {
        let schedule = sidecar.config.schedule
        let intervals: [(Job, Seconds)] = [(.retention(nil), schedule.retention), (.audit, schedule.audit), (.purge, schedule.quarantinePurge)].compactMap { job, every in
            guard let every, every.value > 0 else { return nil }
            return (job, every)
        }
        var due = intervals.map { ($0.0, $0.1, Date().addingTimeInterval($0.1.timeInterval)) }
        await withGracefulShutdownHandler {
            // Cancelled (another service failed and the group is stopping): leave too.
            while !stop.isSet && !Task.isCancelled {
                // A class past its size cap does not wait for the schedule.
                let capped = caps.take()
                if !capped.isEmpty { await perform(.retention(capped)) }
                let wait = due.map(\.2).min().map { $0.timeIntervalSinceNow } ?? 1
                if wait > 0 {
                    await caps.doorbell.wait(upTo: .milliseconds(Int(min(wait, 1) * 1000)))
                    continue
                }
                for index in due.indices where due[index].2 <= Date() {
                    await perform(due[index].0)
                    due[index].2 = Date().addingTimeInterval(due[index].1.timeInterval)
                }
            }
        } onGracefulShutdown: {
            stop.set()
            caps.doorbell.ring()
        }
    }

    private func perform(_ job: Job) async {
        let sidecar = self.sidecar, writer = self.writer
        do {
            switch job {
            case .retention(let classes):
                guard let writer else { return }
                let applied = try await sidecar.onWorker { () throws -> (RetentionOutcome?, [String])? in
                    try sidecar.store.exclusively("retention") { () throws -> (RetentionOutcome?, [String]) in
                        let (report, selections) = try RetentionPlanning(config: sidecar.config, database: sidecar.database).plan(selected: classes, now: Date())
                        guard report.violations.isEmpty else { return (nil, report.violations) }
                        let freed = Set(report.rows.flatMap { $0.files.filter { $0.fate == .removed }.map(\.path) })
                        let applier = RetentionApplier(config: sidecar.config, store: sidecar.store, database: sidecar.database, writer: writer)
                        return (try applier.apply(selections, freed: freed, now: Date()).outcome, [])
                    }
                }
                guard let applied else { return skipped(job) }
                if let outcome = applied.0 {
                    sidecar.logger.info("retention", metadata: ["retention.rows_changed": "\(outcome.rowsChanged)", "retention.files_queued": "\(outcome.filesQueued)"])
                    if outcome.filesQueued > 0 { sidecar.queueDoorbell.ring() }
                    if !outcome.failures.isEmpty { sidecar.metrics.error("retention") }
                } else {
                    sidecar.metrics.error("retention")
                    for violation in applied.1 {
                        sidecar.logger.error("scheduled retention stopped by the safety limits; nothing changed. Check with 'media-janitor retention --dry-run'", metadata: ["safety.violation": "\(violation)"])
                    }
                }
            case .audit:
                let summary = try await sidecar.onWorker { () throws -> ScanSummary? in
                    try sidecar.store.exclusively("audit") { () throws -> ScanSummary in
                        let result = try Audit.run(Workspace(config: sidecar.config, warnings: []), selected: nil, keepOwners: false, depth: 2)
                        _ = try sidecar.store.recordAudit(result.report, classes: [])
                        return result.report.summary
                    }
                }
                guard let summary else { return skipped(job) }
                sidecar.logger.info("audit", metadata: ["audit.files": "\(summary.files)", "audit.orphans": "\(summary.orphans)", "audit.missing": "\(summary.missing)"])
            case .purge:
                let purge = try await sidecar.onWorker {
                    try sidecar.store.exclusively("quarantine-purge") {
                        try QuarantinePurge.run(config: sidecar.config, store: sidecar.store, olderThan: sidecar.config.defaults.quarantine)
                    }
                }
                guard let (purged, bytes) = purge else { return skipped(job) }
                sidecar.logger.info("quarantine purge", metadata: ["purge.files": "\(purged)", "purge.bytes": "\(bytes)"])
            }
        } catch {
            sidecar.metrics.error("scheduler")
            sidecar.logger.error("scheduled sweep failed", metadata: ["sweep": "\(job)", "error": "\(error)"])
        }
    }

    /// Another janitor sharing the store runs this sweep now (it holds the sweep's lock).
    private func skipped(_ job: Job) {
        sidecar.logger.debug("scheduled sweep skipped: another janitor on this store is running it", metadata: ["sweep": "\(job)"])
    }
}
