import Dispatch
import Foundation
import JanitorCore
import JanitorSources
import JanitorStore

/// The audit pipeline shared by `scan` and `usage`: one walk and one pass over the
/// references, run side by side, then one reconciliation.
enum Audit {
    /// With `showingProgress`, the walk and the reference read are shown side by side on the
    /// progress line (on a terminal only), erased before this returns.
    static func run(
        _ workspace: Workspace, selected: Set<Int>?, keepOwners: Bool, depth: Int, shard: Shard? = nil, now: Date = Date(), showingProgress: Bool = false
    ) throws(CommandFailure) -> Reconciler.Result {
        let config = workspace.config
        let clock = ContinuousClock()
        let started = clock.now
        let database = try workspace.openAppDatabase()
        let walker = DiskWalker(root: config.mediaRoot)
        let walking = showingProgress ? Progress.walking(config, shard: shard) : nil
        let reading = showingProgress ? Progress.readingReferences(ReferenceSet.columns(of: config.classes)) : nil
        defer { if showingProgress { Progress.end() } }

        // The walk and the reference read touch different files: the walk runs on a second
        // thread while this one reads the references (a blocked pool thread would delay it).
        nonisolated(unsafe) var listingResult: Result<Listing, SourceError>?
        nonisolated(unsafe) var walkTime = Duration.zero
        let walked = DispatchSemaphore(value: 0)
        let walkThread = Thread {
            let start = clock.now
            listingResult = Result { () throws(SourceError) in try walker.walk(capacityHint: 1 << 16, shard: shard, progress: walking?.reporter) }
            walkTime = clock.now - start
            walking?.finish()
            walked.signal()
        }
        walkThread.stackSize = 8 << 20
        walkThread.start()
        let readStart = clock.now
        FaultPoint.fromEnvironment?.check("references", 1)
        let referencesResult = Result { () throws(SourceError) in
            var references = ReferenceSet(classes: config.classes, mediaRoot: config.mediaRoot, keepsOwners: keepOwners, capacity: 1 << 16)
            references.progress = reading?.reporter
            try database.readReferences(into: &references)
            reading?.finish(count: references.rowsPerColumn.reduce(0, +))
            return references
        }
        let readTime = clock.now - readStart
        walked.wait()
        let listing: Listing
        let references: ReferenceSet
        do {
            listing = try listingResult!.get()
            references = try referencesResult.get()
        } catch {
            throw error.failure
        }
        Log.logger.debug("walked media root", metadata: ["walk.entries": "\(listing.count)", "walk.time": "\(walkTime.seconds)"])
        Log.logger.debug("read references", metadata: ["references.rows": "\(references.occurrenceCount)", "references.paths": "\(references.paths.count)", "references.time": "\(readTime.seconds)"])
        for (path, reason) in listing.unreadable {
            Console.warning("could not read directory '\(path.isEmpty ? "." : path)' under media_root: \(reason); its files are not in this audit")
        }
        emptyReferenceWarnings(config, references)
        let reconciler = Reconciler(classes: config.classes, mediaRootSetting: config.mediaRootSetting, directoryDepth: depth, selectedClasses: selected, shard: shard)
        let reconcileStart = clock.now
        var result = reconciler.reconcile(listing, references, now: now, firstSeen: Self.recentlySeen(config, now: now))
        let rows = references.rowsPerClass
        result.rowsPerClass = config.classes.indices.map { $0 < rows.count ? rows[$0] : 0 }
        result.unreadable = listing.unreadable.map { (path: $0.0, reason: $0.1) }
        Log.logger.debug("reconciled", metadata: ["reconcile.time": "\((clock.now - reconcileStart).seconds)", "audit.time": "\((clock.now - started).seconds)"])
        return result
    }

    /// Ends a command with exit 3 when the walk could not read part of the media root: the
    /// report was written, but it is missing those files, and a script must not take it for
    /// a whole audit.
    static func requireComplete(_ result: Reconciler.Result) throws(CommandFailure) {
        guard let (path, reason) = result.unreadable.first else { return }
        let count = result.unreadable.count
        let directories = count == 1 ? "1 directory" : "\(count) directories"
        throw .runtime(
            "\(directories) under media_root could not be read (first: '\(path.isEmpty ? "." : path)': \(reason)), so their files are missing from this audit; "
                + "run the janitor as a user that can read every directory of the media root (README, Security)")
    }

    /// Files the sidecar's watcher first saw within the longest grace, from the store when there
    /// is one (an audit never creates the store just to read it).
    static func recentlySeen(_ config: JanitorConfig, now: Date) -> [String: Date] {
        if case .sqlite(let path) = config.state, !FileManager.default.fileExists(atPath: path) { return [:] }
        let longest = config.classes.map(\.grace.timeInterval).max() ?? 0
        guard longest > 0 else { return [:] }
        do {
            return try Workspace.store(config).seen(since: now.addingTimeInterval(-longest))
        } catch {
            Console.warning("cannot read first-seen times from the store: \(error); grace counts from mtimes only")
            return [:]
        }
    }

    /// A class whose columns hold no path at all usually means a wrong column: say so.
    static func emptyReferenceWarnings(_ config: JanitorConfig, _ references: ReferenceSet) {
        let rows = references.rowsPerClass
        for (index, mediaClass) in config.classes.enumerated() where !mediaClass.paths.isEmpty {
            if index >= rows.count || rows[index] == 0 {
                Console.warning("no row of class '\(mediaClass.name)' references a file (\(mediaClass.references.map(\.qualifiedName).joined(separator: ", "))); every file of the class looks unused — check the reference columns. A sweep of this class is refused while this holds.")
            }
        }
    }
}
