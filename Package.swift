// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "topcoins",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "price-fetcher", targets: ["price-fetcher"]),
        .executable(name: "rank-fetcher", targets: ["rank-fetcher"]),
        .executable(name: "merger", targets: ["merger"]),
        .executable(name: "spread-monitor", targets: ["spread-monitor"]),
        .executable(name: "http-api", targets: ["http-api"]),
        .executable(name: "history-fetcher", targets: ["history-fetcher"]),
        .executable(name: "book-fetcher", targets: ["book-fetcher"]),
        .executable(name: "exchange-fetcher", targets: ["exchange-fetcher"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "TopCoins",
            dependencies: [
                "CHiredis",
                "CCurl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The executables' command lines (ArgumentParser), kept out of the library.
        .target(
            name: "TopCoinsCommandLine",
            dependencies: ["TopCoins", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "price-fetcher", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "rank-fetcher", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "merger", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "spread-monitor", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "http-api", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "history-fetcher", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "book-fetcher", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .executableTarget(name: "exchange-fetcher", dependencies: ["TopCoinsCommandLine"], swiftSettings: swiftSettings),
        // Writes a day of minute history for the demo (scripts/demo), as the merger would.
        .executableTarget(name: "demo-history", dependencies: ["TopCoins"], swiftSettings: swiftSettings),
        // Release-mode measurements of the inner loops, run by scripts/bench.
        .executableTarget(
            name: "topcoins-bench", dependencies: ["TopCoins", .product(name: "Logging", package: "swift-log")], path: "Benchmarks/topcoins-bench",
            swiftSettings: swiftSettings),
        // Replays the shipped upstream payloads (and scripted faults) for the demo and the tests.
        .executableTarget(
            name: "fake-upstream",
            dependencies: [
                "TopCoins",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TopCoinsTests", dependencies: ["TopCoins", "TopCoinsCommandLine"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TopCoins",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
