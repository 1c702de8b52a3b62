// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "media-janitor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "media-janitor", targets: ["media-janitor"]),
        .library(name: "JanitorCore", targets: ["JanitorCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "JanitorCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "JanitorReports",
            dependencies: ["JanitorCore"]
        ),
        // One blocking PostgreSQL connection over postgres-nio, shared by the store and the
        // app-database readers. JanitorStore and JanitorSources decode its rows with PostgresNIO.
        .target(
            name: "JanitorPostgres",
            dependencies: [
                "JanitorCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "JanitorStore",
            dependencies: [
                "JanitorCore", "JanitorPostgres", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .target(
            name: "JanitorSources",
            dependencies: [
                "JanitorCore",
                "JanitorPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libinotifytools (Debian: libinotifytools0-dev); only JanitorWatch imports it.
        .systemLibrary(name: "CInotifyTools", pkgConfig: nil, providers: [.apt(["libinotifytools0-dev"])]),
        .target(
            name: "JanitorWatch",
            dependencies: ["CInotifyTools", "JanitorCore", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "media-janitor",
            dependencies: [
                "JanitorCore", "JanitorReports", "JanitorStore", "JanitorSources", "JanitorWatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(name: "scan-fixture", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], path: "Benchmarks/ScanFixture"),
        .executableTarget(name: "serve-load", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], path: "Benchmarks/ServeLoad"),
        // What the test targets share: the PostgreSQL server of the run, one database per test.
        .target(name: "JanitorTestSupport", dependencies: ["JanitorCore", "JanitorPostgres"], path: "Tests/JanitorTestSupport"),
        .testTarget(
            name: "JanitorCoreTests",
            dependencies: ["JanitorCore"],
            // Inputs the fuzzers (Fuzz/, scripts/fuzz.sh) broke, replayed via #filePath.
            exclude: ["FuzzRegressions"]
        ),
        .testTarget(
            name: "JanitorReportsTests",
            dependencies: ["JanitorReports", "JanitorCore"],
            // Golden files are read and (with RECORD=1) rewritten in the source tree via #filePath.
            exclude: ["Expected"]
        ),
        .testTarget(name: "JanitorStoreTests", dependencies: ["JanitorStore", "JanitorCore", "JanitorPostgres", "JanitorTestSupport"]),
        .testTarget(
            name: "JanitorSourcesTests",
            dependencies: ["JanitorSources", "JanitorCore", "JanitorPostgres", "JanitorTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "JanitorWatchTests", dependencies: ["JanitorWatch", "JanitorCore"]),
        .testTarget(
            name: "MediaJanitorTests",
            dependencies: [
                "media-janitor", "JanitorCore", "JanitorSources", "JanitorPostgres", "JanitorTestSupport", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The recorded --help output, read in the source tree via Janitor.repository.
            exclude: ["Expected"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
