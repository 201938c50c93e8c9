// swift-tools-version:6.0
// Huiqi (惠企): small/micro enterprise tax relief, as code and as a platform.
// Layers (see docs/architecture.md): huiqi (CLI) → HuiqiCommands → HuiqiRules, HuiqiCalendar.
// HuiqiStore, HuiqiServices and HuiqiServer will sit between the commands and the pure libraries.
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
                "HuiqiDates", "HuiqiRules", "HuiqiCalendar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "huiqi", dependencies: ["HuiqiCommands"]),
        .testTarget(name: "HuiqiRulesTests", dependencies: ["HuiqiRules", "HuiqiDates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HuiqiCalendarTests", dependencies: ["HuiqiCalendar", "HuiqiDates"]),
        .testTarget(name: "HuiqiCommandsTests", dependencies: ["HuiqiCommands", "HuiqiRules"]),
    ],
    swiftLanguageModes: [.v6]
)
