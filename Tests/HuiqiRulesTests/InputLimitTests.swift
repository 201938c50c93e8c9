import Testing
@testable import HuiqiRules

/// Issue 7: every number of a case has a documented range, checked by the decoder with an error naming the field,
/// so no input can overflow a sum; and the engine defects the independent reference found.
@Suite struct InputLimitTests {
    let small = #""taxpayer":{"kind":"enterprise","vat_status":"small_scale"}"#

    func sales(_ n: Int, _ amount: String) -> String {
        "[" + Array(repeating: #"{"kind":"goods","amount":"\#(amount)","rate":"0.03"}"#, count: n).joined(separator: ",") + "]"
    }

    /// These three ended the process with an arithmetic overflow before the limits.
    @Test func formerCrashInputsAreRefusedByName() {
        let big = refused(#"{\#(small),"vat":{"period":"2023-Q2","sales":\#(sales(100, "999999999999999.99"))}}"#)
        #expect(big?.code == .invalidInput && big?.path == "vat.sales[0].amount")
        #expect(big?.messageEn.contains("too large") == true && big?.messageEn.contains("9999999999999.99") == true)
        let heads = refused(#"{"taxpayer":{"kind":"enterprise"},"eit":{"year":2023,"quarters":[{"employees":[9223372036854775807,9223372036854775807],"assets":["1","1"],"taxable_income_ytd":"1"}]}}"#)
        #expect(heads?.code == .invalidInput && heads?.path == "eit.quarters[0].employees[0]")
        let year = refused(#"{"taxpayer":{"kind":"individual_business"},"business_income":{"year":9223372036854775807,"taxable_income":"1","other_relief":"0"}}"#)
        #expect(year?.code == .invalidInput && year?.path == "business_income.year")
    }

    /// At the limits everything is computed: 1,000 lines of the largest amount sum to under 10¹⁸ fen.
    @Test func largestInputsAreComputed() throws {
        let d = try determined(#"{\#(small),"vat":{"period":"2023-Q2","sales":\#(sales(1000, "9999999999999.99"))}}"#).vat!
        #expect(d.totalSales == Money(fen: 999_999_999_999_999 * 1000))
        #expect(d.tax == Money(fen: 9_999_999_999_999_990))  // 1% of 9,999,999,999,999,990.00 yuan
        let eit = try determined(#"{"taxpayer":{"kind":"enterprise","restricted_industry":false},"eit":{"year":2023,"quarters":[{"employees":[10000000,10000000],"assets":["9999999999999.99","9999999999999.99"],"taxable_income_ytd":"-9999999999999.99"}]}}"#).eit!
        #expect(eit.quarters[0].step.payable == .zero)
        #expect(refused(#"{\#(small),"vat":{"period":"2023-Q2","sales":\#(sales(1001, "1"))}}"#)?.path == "vat.sales")
        #expect(refused(#"{"taxpayer":{"kind":"enterprise"},"eit":{"year":2023,"quarters":[{"employees":[10000001,1],"assets":["1","1"],"taxable_income_ytd":"1"}]}}"#)?.path
                == "eit.quarters[0].employees[0]")
    }

    @Test func amountLimitIsNamed() {
        #expect(Money(decimal: "9999999999999.99") == Money.inputLimit)
        #expect(Money(decimal: "-9999999999999.99") == Money(fen: -999_999_999_999_999))
        #expect(Money(decimal: "0000000000000009999999999999.99") == Money.inputLimit)  // leading zeros are not digits
        guard case .failure(.tooLarge) = Money.parse("10000000000000.00") else { Issue.record("10^13 accepted"); return }
        let r = refused(#"{\#(small),"vat":{"period":"2023-Q2","sales":[{"kind":"goods","amount":"1000000000000000","rate":"0.03"}]}}"#)
        #expect(r?.path == "vat.sales[0].amount" && r?.messageZh.contains("过大") == true)
    }

    @Test func yearsAreFourDigits() {
        #expect(refused(#"{"taxpayer":{"kind":"individual_business"},"business_income":{"year":10000,"taxable_income":"1","other_relief":"0"}}"#)?.code == .invalidInput)
        #expect(refused(#"{"taxpayer":{"kind":"individual_business"},"business_income":{"year":9999,"taxable_income":"1","other_relief":"0"}}"#)?.code == .noRule)
        #expect(refused(#"{"taxpayer":{"kind":"enterprise"},"eit":{"year":999,"quarters":[]}}"#)?.path == "eit.year")
        #expect(Day(year: 10000, month: 1, day: 1) == nil && Day(year: Int.max, month: 1, day: 1) == nil)
    }

    @Test func documentErrorsNameTheDocument() {
        #expect(refused("not json")?.path == "$")
        #expect(refused("[1]")?.path == "$")
        #expect(refused(#"{"name":"\#(String(repeating: "名", count: 201))","taxpayer":{}}"#)?.path == "name")
    }

    /// RULES §8.3/§8.4: U2 only when the secondary test would exempt a line the literal test leaves taxable.
    @Test func u2OnlyWhenTheAlternativeWouldExempt() throws {
        func flags(_ lines: String) throws -> [String] {
            try determined(#"{\#(small),"vat":{"period":"2026-01","sales":\#(lines)}}"#).vat!.explanation.flags.map(\.code)
        }
        #expect(try !flags(#"[{"kind":"immovable","amount":"100000.01","rate":"0.05"}]"#).contains("U2"))
        #expect(try !flags(#"[{"kind":"immovable","amount":"100000.01","rate":"0.05"},{"kind":"goods","amount":"500","rate":"0.03","special_invoice":true}]"#).contains("U2"))
        #expect(try flags(#"[{"kind":"immovable","amount":"100000.01","rate":"0.05"},{"kind":"goods","amount":"500","rate":"0.03"}]"#).contains("U2"))
    }

    /// Unknown is not zero: surcharges need the VAT paid, from the section or from a VAT section of the period.
    @Test func localTaxesNeedTheVATPaid() throws {
        let tp = #""taxpayer":{"kind":"enterprise","vat_status":"small_scale","region":"310115"}"#
        let none = refused(#"{\#(tp),"local_taxes":{"period":"2023-Q2"}}"#)
        #expect(none?.code == .missingFact && none?.path == "local_taxes.vat_paid")
        let otherPeriod = refused(#"{\#(tp),"vat":{"period":"2023-Q1","sales":[]},"local_taxes":{"period":"2023-Q2"}}"#)
        #expect(otherPeriod?.code == .missingFact && otherPeriod?.path == "local_taxes.vat_paid")
        // 2023-Q2: 500000 of goods at 1% → 5000.00 VAT paid; city tax 7% = 350.00, halved.
        let d = try determined(#"{\#(tp),"vat":{"period":"2023-Q2","sales":[{"kind":"goods","amount":"500000","rate":"0.03"}]},"local_taxes":{"period":"2023-Q2","city_tier":"city_district"}}"#)
        #expect(d.localTaxes!.items.first { $0.tax == "city_maintenance_tax" }?.due == Money(decimal: "350.00")!)
        #expect(refused(#"{\#(tp),"local_taxes":{"period":"2028-01","vat_paid":"0"}}"#)?.code == .noRule)
    }

    /// U14 (the reduction formula) only where something is reduced.
    @Test func u14OnlyWhenSomethingIsReduced() throws {
        let tp = #""taxpayer":{"kind":"enterprise","vat_status":"small_scale","region":"310115"}"#
        let nothing = try determined(#"{\#(tp),"local_taxes":{"period":"2023-Q2","vat_paid":"0"}}"#).localTaxes!
        #expect(nothing.explanation.flags.isEmpty && nothing.items.isEmpty)
        let some = try determined(#"{\#(tp),"local_taxes":{"period":"2023-Q2","vat_paid":"0","taxes":[{"tax":"stamp_duty","due":"100"}]}}"#).localTaxes!
        #expect(some.explanation.flags.map(\.code) == ["U14"] && some.relief == Money(decimal: "50.00")!)
    }
}
