/// How far a long pass has got (the media walk, the reference read), told to whoever shows
/// it: the executable's progress line. Library code reports; it never draws.
///
/// A hot loop reports every ``stride`` items (`if let progress, ProgressReporter.isDue(count)`),
/// so progress costs it one test per item and one call per few thousand.
public struct ProgressReporter: Sendable {
    /// Receives the items done so far, their bytes (0 when not counted) and a stage: an index
    /// the two sides agree on (the reference column being read; 0 when there is one stage).
    public let report: @Sendable (_ count: Int, _ bytes: Int64, _ stage: Int) -> Void

    /// Creates a reporter.
    public init(_ report: @escaping @Sendable (_ count: Int, _ bytes: Int64, _ stage: Int) -> Void) {
        self.report = report
    }

    /// Items between two reports of a hot loop: a power of two.
    @inlinable public static var stride: Int { 4096 }

    /// Whether a hot loop that has done `count` items reports now.
    @inlinable public static func isDue(_ count: Int) -> Bool { count & (stride - 1) == 0 }
}
