import JanitorCore

/// libFuzzer's entry point: one input through the events invariants; any violation aborts, so
/// that libFuzzer saves the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let problems = FuzzInvariants.violations(.events, input)
    if !problems.isEmpty { fatalError("invariant broken: " + problems.joined(separator: "; ")) }
    return 0
}
