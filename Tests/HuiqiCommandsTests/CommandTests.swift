import Foundation
import Testing
@testable import HuiqiCommands
import HuiqiRules
import HuiqiServices

/// The command line as a user runs it: the built `huiqi` binary, its output and exit status.
func runHuiqi(_ args: [String], stdin: String? = nil) async throws -> (status: Int32, out: String, err: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [".build/debug/huiqi", ".build/release/huiqi"].map { root.appendingPathComponent($0) }
    guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile)
    }
    // Awaited on threads of its own (ChildProcess): a test waiting here must not hold a cooperative thread.
    let r = try await ChildProcess.run(exe.path, args, stdin: stdin.map { Data($0.utf8) })
    return (r.status, r.text, r.errorText)
}

@Suite struct CommandTests {
    let hubeiCase = #"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale","region":"420102"},"vat":{"period":"2020-Q3","sales":[{"kind":"goods","amount":"400000.00","rate":"0.03"}]}}"#

    @Test func calcPrintsTheDetermination() async throws {
        let r = try await runHuiqi(["calc", "-"], stdin: hubeiCase)
        #expect(r.status == 0)
        let j = try JSONParser.parse(r.out)
        #expect(j["vat"]?["tax"] == .string("0.00") && j["vat"]?["relief"] == .string("12000.00"))
        #expect(j["vat"]?["rules"].map { $0.serialized().contains("2020年第13号") } == true)
    }

    @Test func calcExplains() async throws {
        let r = try await runHuiqi(["calc", "--explain", "-"], stdin: hubeiCase)
        #expect(r.status == 0 && r.out.contains("免征") && r.out.contains("exempt"))
    }

    @Test func invalidInputExitsTwoAndNamesTheField() async throws {
        let r = try await runHuiqi(["calc", "-"], stdin: #"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale"},"vat":{"period":"2023-Q2","sales":[{"kind":"goods","amount":"1","rate":"0.01"}]}}"#)
        #expect(r.status == 2)
        #expect(try JSONParser.parse(r.out)["error"]?["field"] == .string("vat.sales[0].rate"))
        #expect(r.err.contains("vat.sales[0].rate"))
    }

    /// A file that cannot be read still gets the one error object on standard output, naming the document.
    @Test func unreadableFileGetsTheErrorObject() async throws {
        let r = try await runHuiqi(["calc", "/nonexistent/case.json"])
        #expect(r.status == 2)
        let j = try JSONParser.parse(r.out)
        #expect(j["error"]?["code"] == .string("invalid_input") && j["error"]?["field"] == .string("$"))
        #expect(r.err.contains("/nonexistent/case.json"))
    }

    @Test func otherRefusalsExitOne() async throws {
        let r = try await runHuiqi(["calc", "-"], stdin: #"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale"},"vat":{"period":"2028-01","sales":[]}}"#)
        let j = try JSONParser.parse(r.out)
        #expect(r.status == 1)
        #expect(j["error"]?["code"] == .string("no_rule"))
    }

    @Test func calendarCommands() async throws {
        #expect(try await runHuiqi(["calendar", "deadline", "2026-10"]).out == "2026-10-26\n")
        #expect(try await runHuiqi(["calendar", "add-working-days", "2025-09-30", "3"]).out == "2025-10-11\n")
        let r = try await runHuiqi(["calendar", "deadline", "2027-01"])
        #expect(r.status == 1 && r.err.contains("2027"))
    }

    @Test func rulesListsParametersWithCitations() async throws {
        let r = try await runHuiqi(["rules", "--date", "2024-05-01"])
        #expect(r.status == 0)
        #expect(r.out.contains("vat.exemption.limit.quarterly = 300000.00") && r.out.contains("2023年第19号"))
        #expect(r.out.contains("vat.rate3.treatment = 0.01"))
        #expect(try await runHuiqi(["rules", "--date", "2024-13-01"]).status == 2)
    }

    /// `huiqi import` on a new SQLite file: the sample file imported, the same file again changes nothing, a file
    /// with bad rows exits 2 and prints every bad row with its number.
    @Test func importAndCompare() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-import-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: db) }
        let market = root.appendingPathComponent("examples/registry-market.csv").path
        let first = try await runHuiqi(["import", "market", market, "--database", db])
        #expect(first.status == 0 && first.out.contains("6 rows") && first.out.contains("6 new or changed"), "\(first.err)")
        let again = try await runHuiqi(["import", "market", market, "--database", db])
        #expect(again.status == 0 && again.out.contains("already imported"))
        let bad = try await runHuiqi(["import", "market", root.appendingPathComponent("examples/registry-market-bad.csv").path, "--database", db])
        #expect(bad.status == 2 && bad.err.contains("第 3 行") && bad.err.contains("第 4 行") && bad.err.contains("第 5 行") && bad.err.contains("3 bad rows"))
        #expect(try await runHuiqi(["import", "other", market, "--database", db]).status == 2)
        // This database has no tax offices yet, so there is nothing to compare under: said, exit 2.
        let counts = try await runHuiqi(["compare", "--database", db, "--year", "2025"])
        #expect(counts.status == 2 && counts.err.contains("没有这个税务机关"), "\(counts.err)")
    }
}
