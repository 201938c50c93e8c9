// swift-tools-version:6.0
// Huiqi (惠企): small/micro enterprise tax relief, as code and as a platform.
// Layers (see docs/architecture.md): huiqi (CLI) → HuiqiCommands → HuiqiRules, HuiqiCalendar.
// HuiqiServer (HTTP) → HuiqiServices (filing, access) → HuiqiStore (schema, SQL) sit between them.
import PackageDescription

let package = Package(
    name: "Huiqi",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "huiqi", targets: ["huiqi"]),
        .library(name: "HuiqiRules", targets: ["HuiqiRules"]),
        .library(name: "HuiqiCalendar", targets: ["HuiqiCalendar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/vapor/vapor", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver", from: "2.14.0"),
        .package(url: "https://github.com/vapor/async-kit", from: "1.22.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),  // TLS to PostgreSQL with a CA file
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),  // `serve`: tasks on the event loops
    ],
    targets: [
        // Civil days and tax periods, shared by the law and the calendar.
        .target(name: "HuiqiDates"),
        // The law: money, periods, parameters, preferences, determinations, traces. Pure: no I/O but its bundled data.
        .target(
            name: "HuiqiRules",
            dependencies: ["HuiqiDates", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Parameters"), .copy("Register")]
        ),
        // Official rest days and 调休, working-day arithmetic, filing deadlines. Pure.
        .target(
            name: "HuiqiCalendar",
            dependencies: ["HuiqiDates"],
            resources: [.copy("Data")]
        ),
        // The command line's work: calc, rules, calendar, bench.
        .target(
            name: "HuiqiCommands",
            dependencies: [
                "HuiqiDates", "HuiqiRules", "HuiqiCalendar", "HuiqiServer", "HuiqiServices", "HuiqiStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Chinese word segmentation (jieba's lexicon, MIT) and BM25 for the knowledge base. Pure: its bundled lexicon only.
        .target(name: "HuiqiSearch", resources: [.copy("Lexicon")]),
        .target(name: "HuiqiStore", dependencies: [
            "HuiqiRules", "HuiqiSearch",  // the search index's impacts (BM25)
            .product(name: "Fluent", package: "fluent"),
            .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
            .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "HuiqiServices", dependencies: [
            "HuiqiStore", "HuiqiRules", "HuiqiCalendar", "HuiqiSearch",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Yams", package: "Yams"),  // the knowledge base's seed content
            .product(name: "Vapor", package: "vapor"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "CSV", package: "CSV.swift"),  // other departments' registry files
            .product(name: "Metrics", package: "swift-metrics"),  // DomainMetrics (a no-op until the server bootstraps a backend)
        ], resources: [.copy("Evaluation"), .copy("Knowledge"), .copy("Population/divisions.tsv")]),
        .target(name: "HuiqiServer", dependencies: [
            "HuiqiServices", "HuiqiStore", "HuiqiRules", "HuiqiCalendar",
            .product(name: "Vapor", package: "vapor"),
            .product(name: "AsyncKit", package: "async-kit"),  // its pool's timeout error, answered as 503
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], resources: [.copy("Resources/openapi.json"), .copy("Resources/cases")]),
        .executableTarget(name: "huiqi", dependencies: ["HuiqiCommands"]),
        .testTarget(name: "HuiqiRulesTests", dependencies: ["HuiqiRules", "HuiqiDates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HuiqiCalendarTests", dependencies: ["HuiqiCalendar", "HuiqiDates"]),
        .testTarget(name: "HuiqiSearchTests", dependencies: ["HuiqiSearch"]),
        .testTarget(name: "HuiqiCommandsTests", dependencies: ["HuiqiCommands", "HuiqiRules", "HuiqiServices"]),
        .testTarget(name: "HuiqiServerTests", dependencies: [
            "HuiqiServer", "HuiqiServices", "HuiqiStore", "HuiqiRules", "HuiqiSearch",
            .product(name: "VaporTesting", package: "vapor"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
