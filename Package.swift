// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "streamscore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "streamscore", targets: ["streamscore"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-numerics.git", from: "1.1.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Only the HTTP/1 server for /metrics and /health: no swift-configuration, no full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    ],
    targets: [
        // C libraries: module map and shim header only (STYLE.md, "Layers").
        .systemLibrary(
            name: "Crdkafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Named threads, locks with waiting, event counts, `Duration` units: what every
        // threaded target shares (STYLE.md, "Concurrency").
        .target(name: "Concurrency"),
        // The only Swift code that touches librdkafka.
        .target(
            name: "KafkaBridge",
            dependencies: ["Crdkafka", "Concurrency"]
        ),
        // Models and kernels. Pure: no I/O threads, no C.
        .systemLibrary(
            name: "Chiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // The only Swift code that touches hiredis: the Redis client (URL, connection,
        // pipelined commands, replies, resolver, server info).
        .target(
            name: "RedisBridge",
            dependencies: ["Chiredis", "Concurrency"],
            // Optimised in debug builds too, like Inference: the tests check the command
            // encoding that runs in production (no allocation per key).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // AVX2 gather wrappers for the tree walk (clang's gathers are macros Swift cannot import).
        .target(name: "CSIMD"),
        .target(
            name: "Inference",
            dependencies: ["CSIMD", "Concurrency", .product(name: "RealModule", package: "swift-numerics")],
            // Optimised in debug builds too: the tests then check the code that scores in
            // production (bit-identical batches, no allocation per call); unoptimised
            // generic loops allocate and run ~100× slower.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // Event bytes to feature rows, with typed errors.
        .target(
            name: "Features",
            // Optimised in debug builds too, like Inference: the tests check the decoding
            // that runs in production (no allocation per event).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // The score cache: keys, the in-process tier, lookups and writes over Redis, the
        // batcher's cache step, the write-back after acknowledgement, the start-up probe.
        .target(
            name: "ScoreCache",
            dependencies: [
                "RedisBridge", "Concurrency", "Inference", "Features",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            // Optimised in debug builds too, like Inference: the tests check the local tier
            // that runs in production (no allocation per lookup or insert once full).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // The synthetic transaction stream and its rate-paced producer: `produce`, the demo
        // and the benches.
        .target(name: "Workload", dependencies: ["KafkaBridge", "Concurrency"]),
        // The scoring pipeline: its stages (poll → intake → decode → batch → cache → score →
        // produce → delivery → commit), offset tracking, records, stats, the service.
        .target(
            name: "Pipeline",
            dependencies: [
                "ScoreCache", "RedisBridge", "Concurrency",
                "KafkaBridge", "Inference", "Features",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The executable: CLI, config loading, logging bootstrap; model tools use Inference.
        .executableTarget(
            name: "streamscore",
            dependencies: [
                "Pipeline", "Inference", "RedisBridge", "ScoreCache", "Workload", "Concurrency", "Features", "KafkaBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The demo's model, compiled into the binary so `streamscore demo` needs no files
            // (a link to Models/fraud-xgb.json, which scripts/make_model_fixtures.py writes).
            resources: [.embedInCode("Resources/fraud-xgb.json")]
        ),
        // The decoder's libFuzzer target (`make fuzz`); built normally, a corpus replayer.
        .executableTarget(name: "streamscore-fuzz", dependencies: ["Features"]),
        // Test-only: counts heap allocations per thread (interposes the allocator).
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(
            name: "StreamScoreTests",
            dependencies: [
                "KafkaBridge", "Inference", "Features", "Pipeline", "RedisBridge", "ScoreCache", "Workload", "Concurrency", "streamscore", "streamscore-fuzz", "AllocationCounter",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
