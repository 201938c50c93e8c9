import Foundation
import Testing
@testable import HuiqiRules

/// Parameter versions that have shipped are append-only (docs/parameters.md): a filed return cites them, so a
/// wrong value is corrected by a new version with an erratum note, never by editing the old one. The lock file
/// lists every shipped version as name, key, first day and value; this test fails when one changes or vanishes,
/// and when a new version is not yet in the lock (add its row in the same change that ships it).
@Suite struct ShippedParameterTests {
    static func rows(_ p: ParameterSet) -> [String] {
        p.definitions.values.flatMap { $0.versions + $0.withdrawn }.map { "\($0.name)\t\($0.key ?? "")\t\($0.from)\t\($0.value)" }.sorted()
    }

    @Test func shippedVersionsNeverChange() throws {
        let current = Self.rows(try ParameterSet.bundled())
        // HUIQI_WRITE_PARAMETER_LOCK=path writes the lock from the bundled files (for a release, after review).
        if let out = ProcessInfo.processInfo.environment["HUIQI_WRITE_PARAMETER_LOCK"] {
            let header = "# Shipped parameter versions: name, key, first day, value (ShippedParameterTests). Append only.\n"
            try (header + current.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
            return
        }
        let url = try #require(Bundle.module.url(forResource: "shipped-parameters", withExtension: "tsv", subdirectory: "Fixtures"))
        let locked = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        let changed = Set(locked).subtracting(current).sorted()
        #expect(changed.isEmpty, "shipped versions changed or removed (add a new version with an erratum note instead): \(changed)")
        let unlisted = Set(current).subtracting(locked).sorted()
        #expect(unlisted.isEmpty, "versions not in Fixtures/shipped-parameters.tsv (add their rows when they ship): \(unlisted)")
        #expect(locked.count == current.count)
    }
}
