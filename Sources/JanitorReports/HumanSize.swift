/// A byte count for people: powers of 1024 with one decimal, `512 B`, `1.5 KiB`, `70.0 MiB`.
///
/// Units go up to `TiB`; larger counts stay in `TiB`. A value that would round to 1024 of a
/// unit is shown in the next unit (`1.0 MiB`, not `1024.0 KiB`). Negative counts (changes
/// between audits) keep their sign: `-1.5 KiB`.
public func humanSize(_ bytes: Int64) -> String {
    let sign = bytes < 0 ? "-" : ""
    let magnitude = bytes.magnitude
    if magnitude < 1_024 { return "\(sign)\(magnitude) B" }
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var unitIndex = 0
    var scaled = Double(magnitude) / 1_024
    while unitIndex < units.count - 1 && (scaled * 10).rounded() >= 10_240 {
        scaled /= 1_024
        unitIndex += 1
    }
    let tenths = UInt64((scaled * 10).rounded())
    return "\(sign)\(tenths / 10).\(tenths % 10) \(units[unitIndex])"
}
