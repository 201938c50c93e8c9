import Foundation
import Testing
@testable import HuiqiRules

@Suite struct ParameterTests {
    func load(_ yaml: String) -> Error? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-params-\(UUID())")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try! yaml.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        do { _ = try ParameterSet.load(directory: dir); return nil } catch { return error }
    }
    let head = "name: t\ndescription: d\nunit: CNY\ntype: money\ncovers: { from: 2020-01-01, to: 2021-12-31 }\nvalues:\n"
    let cite = "    cite: { doc: X, grade: A }\n"

    @Test func bundledParametersLoad() throws {
        let p = try ParameterSet.bundled()
        #expect(p.definitions.count > 40)
        // Every value carries its citation and grade.
        for d in p.definitions.values { for v in d.versions { #expect(!v.cite.document.isEmpty && !v.cite.grade.isEmpty, "\(d.name)") } }
    }

    /// An erratum: the withdrawn version stays (filed returns cite it) but is never applied; its correction is.
    @Test func withdrawnVersionsAreKeptButNotApplied() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-params-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try (head + "  - from: 2020-01-01\n    to: 2021-12-31\n    value: \"1\"\n    withdrawn: \"erratum: the notice says 2\"\n" + cite
             + "  - from: 2020-01-01\n    to: 2021-12-31\n    value: \"2\"\n    note: \"erratum of the first version\"\n" + cite)
            .write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let p = try ParameterSet.load(directory: dir)
        #expect(try p.version("t", on: Day(iso: "2020-06-01")!).value == .money(Money(fen: 200)))
        #expect(p.definitions["t"]?.withdrawn.map(\.value) == [.money(Money(fen: 100))])
    }

    @Test func overlapFailsLoudly() {
        let e = load(head + "  - from: 2020-01-01\n    to: 2021-06-30\n    value: \"1\"\n" + cite + "  - from: 2021-06-01\n    to: 2021-12-31\n    value: \"2\"\n" + cite)
        #expect("\(e!)".contains("overlap"))
    }
    @Test func gapFailsLoudly() {
        let e = load(head + "  - from: 2020-01-01\n    to: 2020-12-31\n    value: \"1\"\n" + cite + "  - from: 2021-02-01\n    to: 2021-12-31\n    value: \"2\"\n" + cite)
        #expect("\(e!)".contains("missing version"))
    }
    @Test func shortCoverageFailsLoudly() {
        let e = load(head + "  - from: 2020-01-01\n    to: 2021-06-30\n    value: \"1\"\n" + cite)
        #expect("\(e!)".contains("missing version"))
    }
    @Test func missingCitationFails() {
        let e = load(head + "  - from: 2020-01-01\n    to: 2021-12-31\n    value: \"1\"\n")
        #expect("\(e!)".contains("citation"))
    }
    @Test func badValueFails() {
        let e = load(head + "  - from: 2020-01-01\n    to: 2021-12-31\n    value: \"1.005\"\n" + cite)
        #expect("\(e!)".contains("amount"))
    }
    @Test func lookupOutsideIsAnError() throws {
        let p = try ParameterSet.bundled()
        #expect(throws: ParameterLookupError.self) { try p.version("vat.exemption.limit.monthly", on: Day(iso: "2013-07-31")!) }
        #expect(try p.version("vat.exemption.limit.monthly", on: Day(iso: "2013-08-01")!).value == .money(Money(decimal: "20000")!))
    }
}
