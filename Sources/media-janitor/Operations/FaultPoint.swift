import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Fault-injection seams for the crash, race and fault tests; unset in production.
///
/// - `MEDIA_JANITOR_CRASH_AT=STAGE:N` kills the process with SIGKILL when the N-th item of a
///   run reaches STAGE.
/// - `MEDIA_JANITOR_PAUSE_AT=STAGE:N:FILE` creates FILE there and waits until the test
///   removes it (at most a minute), so the test can change the world at that exact point.
///
/// Stages: `claimed`, `acting`, `acted`, `done` (per queue item), `verify` (the look at the
/// references after a round of removals, N = 1), `references` (a scan, after the walk and
/// before reading the app database, N = 1), `retention-applied` and `retention-recorded`
/// (per retention batch).
struct FaultPoint {
    let stage: String
    let ordinal: Int
    /// The file a pause announces itself with; nil to kill.
    let pauseFile: String?

    /// The seam the environment asks for, if any.
    static var fromEnvironment: FaultPoint? {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["MEDIA_JANITOR_CRASH_AT"] { return FaultPoint(text, pausing: false) }
        if let text = environment["MEDIA_JANITOR_PAUSE_AT"] { return FaultPoint(text, pausing: true) }
        return nil
    }

    private init?(_ text: String, pausing: Bool) {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count >= 2, let ordinal = Int(parts[1]), !pausing || parts.count == 3 else { return nil }
        stage = parts[0]
        self.ordinal = ordinal
        pauseFile = pausing ? parts[2] : nil
    }

    func check(_ stage: String, _ ordinal: Int) {
        guard stage == self.stage && ordinal == self.ordinal else { return }
        guard let pauseFile else {
            kill(getpid(), SIGKILL)
            return
        }
        _ = FileManager.default.createFile(atPath: pauseFile, contents: nil)
        let deadline = Date().addingTimeInterval(60)
        while access(pauseFile, F_OK) == 0 && Date() < deadline { usleep(10_000) }
    }
}
