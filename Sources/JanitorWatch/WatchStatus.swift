#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What the reader thread shares with the `FileWatcher` handle: counters for `limits` and
/// `overflows`, and the stop request.
final class WatchStatus: Sendable {
    private struct State {
        var overflows = 0
        var watchedDirectories = 0
        var watches = 0
        var stopRequested = false
        /// Write end of the wake-up pipe, or -1 once the reader thread has closed it.
        var wakeDescriptor: Int32 = -1
    }

    private let state = Mutex(State())
    /// The claim on libinotifytools this watcher holds.
    let claim: InotifyClaim.Token

    init(claim: InotifyClaim.Token) {
        self.claim = claim
    }

    var overflows: Int { state.withLock { $0.overflows } }
    var stopRequested: Bool { state.withLock { $0.stopRequested } }

    var counts: (watchedDirectories: Int, watches: Int) {
        state.withLock { ($0.watchedDirectories, $0.watches) }
    }

    /// Counts one more IN_Q_OVERFLOW and returns the new total.
    func recordOverflow() -> Int {
        state.withLock { state in
            state.overflows += 1
            return state.overflows
        }
    }

    func setCounts(watchedDirectories: Int, watches: Int) {
        state.withLock { state in
            state.watchedDirectories = watchedDirectories
            state.watches = watches
        }
    }

    func setWakeDescriptor(_ descriptor: Int32) {
        state.withLock { $0.wakeDescriptor = descriptor }
    }

    /// Closes the wake-up pipe's write end; called when the session shuts down.
    func closeWakeDescriptor() {
        state.withLock { state in
            if state.wakeDescriptor >= 0 { close(state.wakeDescriptor) }
            state.wakeDescriptor = -1
        }
    }

    /// Asks the reader thread to stop, and wakes it if it is waiting for the kernel.
    func requestStop() {
        let first = state.withLock { state -> Bool in
            guard !state.stopRequested else { return false }
            state.stopRequested = true
            if state.wakeDescriptor >= 0 {
                // Writing to the pipe makes the kernel queue IN_MODIFY on the pipe's watch, which
                // ends the reader's wait at once instead of at its one-second timeout.
                var byte: UInt8 = 1
                _ = write(state.wakeDescriptor, &byte, 1)
            }
            return true
        }
        if first { InotifyClaim.shared.markReleasing(claim) }
    }
}
