import Foundation
import HuiqiRules
import Testing
import Vapor

/// The prompts (提示、提醒) that compare a return with the taxpayer's earlier returns of the year.
@Suite struct PromptTests {
    static func eit(_ year: Int, _ ytd: [String], employees: Int = 10) -> String {
        let quarters = ytd.map { #"{"employees":[\#(employees),\#(employees)],"assets":["1000000","1000000"],"taxable_income_ytd":"\#($0)"}"# }
        return #"{"eit":{"year":\#(year),"quarters":[\#(quarters.joined(separator: ","))]}}"#
    }

    static func codes(_ r: Reply) -> [String] {
        guard case .array(let list)? = r.json?["prompts"] else { return [] }
        return list.compactMap { if case .string(let c)? = $0["code"] { return c }; return nil }
    }

    @Test(arguments: Backend.allCases)
    func eitPrepaymentsAreCheckedAgainstEarlierQuarters(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let t = try await token(app, "company", "huiqi-taxpayer")
            let path = "/api/v1/taxpayers/91310115MA0000001Y/returns"
            // Q3 of 2023 with Q1 and Q2 never filed, and income to date going backwards.
            let q3 = try await call(app, .POST, path, token: t, body: Self.eit(2023, ["100000", "300000", "250000"]))
            #expect(q3.status == .created)
            #expect(Self.codes(q3).contains("earlier_return_missing") && q3.body.contains("2023-Q1, 2023-Q2"))
            #expect(Self.codes(q3).contains("cumulative_income_decreased"))
            // Q1 filed; a Q2 return that restates Q1 differently is flagged.
            _ = try await call(app, .POST, path, token: t, body: Self.eit(2023, ["100000"]))
            let restated = try await call(app, .POST, path, token: t, body: Self.eit(2023, ["120000", "300000"]))
            #expect(Self.codes(restated).contains("inconsistent_with_earlier_return"), "\(restated.body)")
            #expect(!Self.codes(restated).contains("earlier_return_missing"))
            // Income to date falls in Q2: Q1 prepaid 100000 × 5% = 5000, the tax to date is 50000 × 5% = 2500; the
            // overpayment of 2500 is carried to later quarters (财政部 税务总局公告2023年第6号: 25% × 20% on the first 100万).
            let loss = try await call(app, .POST, path, token: t, body: Self.eit(2023, ["100000", "50000"]))
            #expect(loss.json?["return"]?["tax"] == .string("0.00"))
            #expect(loss.json?["return"]?["determination"]?["eit"]?["quarters"]?[1]?["overpaid"] == .string("2500.00"), "\(loss.body)")
            #expect(Self.codes(loss).contains("overpayment_carried") && Self.codes(loss).contains("cumulative_income_decreased"))
            #expect(loss.json?["return"]?["version"] == .number("2"))
            // The settlement (汇算清缴) is not a prepayment return: refused, naming the field.
            let settlement = try await call(app, .POST, path, token: t, body: Self.eit(2023, ["1", "2", "3", "4"]).replacingOccurrences(of: "]}}", with: #"],"annual":{"taxable_income":"4"}}}"#))
            #expect(settlement.status == .badRequest && settlement.json?["error"]?["field"] == .string("eit.annual"), "\(settlement.body)")
        }
    }

    /// On the web form only this quarter is entered; the earlier quarters come from the returns as filed, so a
    /// missing one leaves the return undetermined and the page names it.
    @Test(arguments: Backend.allCases)
    func webEITFormNeedsEarlierQuarters(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var web = WebClient(app: app)
            let csrf = try await web.login("company", "huiqi-taxpayer")
            let fields = [("employees_start", "10"), ("employees_end", "10"), ("assets_start", "1000000"), ("assets_end", "1000000"),
                          ("action", "preview"), ("csrf", csrf)]
            let missing = try await web.request(.POST, "/taxpayers/91310115MA0000001Y/file/eit",
                                                form: [("period", "2026-Q1"), ("start_quarter", "1"), ("taxable_income_ytd", "300000")] + fields)
            #expect(missing.status == .ok, "\(missing.body.prefix(400))")
            let gap = try await web.request(.POST, "/taxpayers/91310115MA0000001Y/file/eit",
                                            form: [("period", "2022-Q2"), ("taxable_income_ytd", "300000")] + fields)
            #expect(gap.status == .badRequest && gap.body.contains("2022 年第1季度") && gap.body.contains("eit.quarters"), "\(gap.body.prefix(600))")
            // 2025 has all four quarters in the demo: Q4 builds on them (the averages use all four).
            let q4 = try await web.request(.POST, "/taxpayers/91310115MA0000001Y/file/eit",
                                           form: [("period", "2025-Q4"), ("correcting", "eit:2025-Q4"), ("taxable_income_ytd", "900000")] + fields)
            #expect(q4.status == .ok && q4.body.contains("id=\"computed-tax\""), "\(q4.body.prefix(400))")
        }
    }
}
