import Testing
@testable import HuiqiRules

/// 放弃减税: from 2023 a small-scale taxpayer may waive the 1% reduction for a sale and issue a 3% 专票
/// (国家税务总局公告2023年第1号; 2026年第4号 第四条; RULES §1.5). The case says so per line with `waive_reduction`.
@Suite struct WaiverTests {
    func vat(_ period: String, special: String = #""special_invoice":true,"waive_reduction":true"#, kind: String = "goods", rate: String = "0.03") -> String {
        #"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale","region":"310115"},"vat":{"period":"\#(period)","sales":[{"kind":"goods","amount":"200000.00","rate":"0.03"},{"kind":"\#(kind)","amount":"50000.00","rate":"\#(rate)",\#(special)}]}}"#
    }

    /// 250000 in the quarter: the ordinary 200000 stays exempt under the limit; the waived 专票 50000 is taxed at 3%
    /// (1500.00) instead of 1% (500.00). Relief against the case rates: 7500 − 1500 = 6000.
    @Test(arguments: ["2023-Q2", "2026-Q1"])
    func waivedSpecialInvoiceIsTaxedAtThreePercent(_ period: String) throws {
        let d = try engine.determine(CaseDecoder.decode(text: vat(period))).vat!
        #expect(d.tax == Money(decimal: "1500.00")! && d.relief == Money(decimal: "6000.00")!)
        #expect(d.explanation.traceZh.contains { $0.contains("放弃减税") })
        #expect(!d.explanation.traceEn.contains { $0.contains("was not waived") })
        let kept = try engine.determine(CaseDecoder.decode(text: vat(period, special: #""special_invoice":true"#))).vat!
        #expect(kept.tax == Money(decimal: "500.00")!)
    }

    @Test func waiverNeedsASpecialInvoiceAReductionAndAPeriodThatAllowsIt() throws {
        #expect(refusal(text: vat("2026-Q1", special: #""waive_reduction":true"#)).map { ($0.code, $0.path) } ?? (.noRule, "") == (.invalidInput, "vat.sales[1].waive_reduction"))
        // 2022-Q4: the reduction (2022-04..12: exemption of 3% sales) had no waiver on record.
        #expect(refusal(text: vat("2022-Q4")).map { ($0.code, $0.path) } ?? (.noRule, "") == (.notApplicable, "vat.sales[1].waive_reduction"))
        // 2026: a 5% sale is never reduced, so there is nothing to waive.
        #expect(refusal(text: vat("2026-Q1", kind: "immovable", rate: "0.05")).map { ($0.code, $0.path) } ?? (.noRule, "") == (.notApplicable, "vat.sales[1].waive_reduction"))
    }

    func refusal(text: String) -> Refusal? {
        do { _ = try engine.determine(try CaseDecoder.decode(text: text)); return nil } catch let r as Refusal { return r } catch { return nil }
    }
}
