// swift-tools-version: 6.1
// The fuzzers, in a package of their own so that the main package's build and CI never see
// `-sanitize=fuzzer`. Build and run them with `scripts/fuzz.sh` (or `make fuzz`); what each
// one checks is `FuzzInvariants` in JanitorCore, which the regression tests replay too.
import PackageDescription

let package = Package(
    name: "media-janitor-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "media-janitor", path: "..")],
    targets: ["config", "events", "paths"].map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [.product(name: "JanitorCore", package: "media-janitor")]
        )
    },
    swiftLanguageModes: [.v6]
)
