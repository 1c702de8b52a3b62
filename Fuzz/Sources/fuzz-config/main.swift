import JanitorCore

/// libFuzzer's entry point: one input through the config invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzInvariants.enforce(.config, start, count)
    return 0
}
