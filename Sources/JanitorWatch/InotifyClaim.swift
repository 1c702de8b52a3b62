import Foundation

/// The process-wide claim on libinotifytools.
///
/// libinotifytools keeps its inotify descriptor, watch tables and read buffer in C globals, so
/// exactly one `FileWatcher` may hold them at a time. A watcher whose iteration has ended is
/// `releasing` until its thread has called `inotifytools_cleanup`; a new watcher waits for that
/// (it takes milliseconds) instead of failing, so a service can restart its watcher at once.
final class InotifyClaim: @unchecked Sendable {
    // @unchecked Sendable is safe: `state` and `generation` are only read or written while
    // `condition` is locked, and NSCondition itself is thread-safe.
    private let condition = NSCondition()
    private var state = State.free
    private var generation: UInt64 = 0

    private enum State: Equatable {
        case free
        case held(Token)
        case releasing(Token)
    }

    /// Names one holder, so a late stop request from an old watcher cannot touch a newer one.
    struct Token: Sendable, Equatable {
        fileprivate let generation: UInt64
    }

    static let shared = InotifyClaim()

    /// Takes the claim, waiting up to `timeout` seconds for a releasing watcher; nil while another watcher holds it.
    func acquire(timeout: TimeInterval = 3) -> Token? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while case .releasing = state {
            if !condition.wait(until: deadline) { break }
        }
        guard state == .free else { return nil }
        generation += 1
        let token = Token(generation: generation)
        state = .held(token)
        return token
    }

    /// The holder has been asked to stop and will call `release` shortly.
    func markReleasing(_ token: Token) {
        condition.lock()
        defer { condition.unlock() }
        if state == .held(token) { state = .releasing(token) }
    }

    /// The holder has called `inotifytools_cleanup`.
    func release(_ token: Token) {
        condition.lock()
        defer { condition.unlock() }
        guard state == .held(token) || state == .releasing(token) else { return }
        state = .free
        condition.broadcast()
    }
}
