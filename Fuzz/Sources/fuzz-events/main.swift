import JanitorCore

/// libFuzzer's entry point: one input through the events invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzInvariants.enforce(.events, start, count)
    return 0
}
