import Testing
@testable import HuiqiRules

/// The refusal a JSON case gets, as `huiqi calc` and the API see it (decoder and engine).
func refused(_ json: String) -> Refusal? {
    do { _ = try engine.determine(json: json); return nil } catch { return error }
}
func determined(_ json: String) throws -> Determination { try engine.determine(json: json) }

/// CASES.md "Errors": when a case has several problems the engine reports the one of the lowest step (1 format,
/// 2 no_rule, 3 invalid for the period, 4 not_applicable, 5 shape, 6 missing_fact, 7 value-dependent), and
/// within a step taxpayer, section fields, lines; sections in the order vat, business_tax, eit, business_income,
/// local_taxes. One case at each boundary between two steps, for each section (issue 13).
@Suite struct ErrorOrderTests {
    func expectRefusal(_ json: String, _ code: Refusal.Code, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let r = refused(json)
        #expect(r?.code == code && r?.path == path, "got \(r.map { "\($0.code.rawValue) \($0.path)" } ?? "a determination")",
                sourceLocation: sourceLocation)
    }

    @Test func vat() {
        let small = #""taxpayer":{"kind":"enterprise","vat_status":"small_scale"}"#
        // 1 | 2: a format error in a period without rules.
        expectRefusal(#"{\#(small),"vat":{"period":"2008-12","sales":[{"kind":"goods","amount":"1.234","rate":"0.03"}]}}"#,
                      .invalidInput, "vat.sales[0].amount")
        // 2 | 3: a 5% rate in 2008-12 is no_rule on the period, not an invalid rate.
        expectRefusal(#"{\#(small),"vat":{"period":"2008-12","sales":[{"kind":"goods","amount":"1","rate":"0.05"}]}}"#,
                      .noRule, "vat.period")
        // 3 | 4: a rate not in force (5% before 2016-05) beats a general taxpayer.
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","vat_status":"general"},"vat":{"period":"2015-01","sales":[{"kind":"goods","amount":"1","rate":"0.05"}]}}"#,
                      .invalidInput, "vat.sales[0].rate")
        // A rate in force in part of a straddled quarter is not invalid: the quarter is refused as a shape.
        expectRefusal(#"{\#(small),"vat":{"period":"2016-Q2","sales":[{"kind":"goods","amount":"1","rate":"0.05"}]}}"#,
                      .notSupported, "vat.period")
        // 4 | 5: a general taxpayer in a straddled quarter.
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","vat_status":"general"},"vat":{"period":"2013-Q3","sales":[{"kind":"goods","amount":"1","rate":"0.03"}]}}"#,
                      .notApplicable, "taxpayer.vat_status")
        // 5 | 6: a straddled quarter without vat_status or kind.
        expectRefusal(#"{"taxpayer":{},"vat":{"period":"2013-Q3","sales":[{"kind":"goods","amount":"1","rate":"0.03"}]}}"#,
                      .notSupported, "vat.period")
        // …but 2011-Q4 straddles only for individuals: with the kind unknown, the kind is missing.
        expectRefusal(#"{"taxpayer":{"vat_status":"small_scale"},"vat":{"period":"2011-Q4","sales":[{"kind":"goods","amount":"1","rate":"0.03"}]}}"#,
                      .missingFact, "taxpayer.kind")
        // 5 | 6: a quarterly individual before 2014-10 without a region.
        expectRefusal(#"{"taxpayer":{"kind":"individual_business","vat_status":"small_scale"},"vat":{"period":"2012-Q2","sales":[{"kind":"goods","amount":"1","rate":"0.03"}]}}"#,
                      .notSupported, "vat.period")
        // 6 | 7: a missing status beats an immovable before 2016-05 (a line kind refused for the period).
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"vat":{"period":"2015-01","sales":[{"kind":"immovable","amount":"1","rate":"0.03"}]}}"#,
                      .missingFact, "taxpayer.vat_status")
        // Within step 6, taxpayer fields in their order: kind before vat_status.
        expectRefusal(#"{"taxpayer":{},"vat":{"period":"2015-01","sales":[{"kind":"goods","amount":"1","rate":"0.03"}]}}"#,
                      .missingFact, "taxpayer.kind")
        // Step 7, taxpayer before lines: a province without a 起征点 on record before a service line.
        expectRefusal(#"{"taxpayer":{"kind":"individual_business","vat_status":"small_scale","region":"310115"},"vat":{"period":"2012-05","sales":[{"kind":"services","amount":"1","rate":"0.03"}]}}"#,
                      .notSupported, "taxpayer.region")
    }

    @Test func businessTax() {
        // 1 | 2
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"business_tax":{"period":"2017-01","turnover":[{"amount":"x","rate":"0.05"}]}}"#,
                      .invalidInput, "business_tax.turnover[0].amount")
        // 2 | 6: after 营改增 with the kind missing.
        expectRefusal(#"{"taxpayer":{},"business_tax":{"period":"2016-05","turnover":[{"amount":"1","rate":"0.05"}]}}"#,
                      .noRule, "business_tax.period")
        // 5 | 6: 2013-Q3 straddles for everyone.
        expectRefusal(#"{"taxpayer":{},"business_tax":{"period":"2013-Q3","turnover":[{"amount":"1","rate":"0.05"}]}}"#,
                      .notSupported, "business_tax.period")
        // 2011-Q4 straddles only for individuals (their 起征点 changed on 2011-11-01).
        expectRefusal(#"{"taxpayer":{},"business_tax":{"period":"2011-Q4","turnover":[{"amount":"1","rate":"0.05"}]}}"#,
                      .missingFact, "taxpayer.kind")
        expectRefusal(#"{"taxpayer":{"kind":"individual_business","region":"310115"},"business_tax":{"period":"2011-Q4","turnover":[{"amount":"1","rate":"0.05"}]}}"#,
                      .notSupported, "business_tax.period")
        // 6 | 7: an individual before 2014-10: without a region the region is missing; with one it is not on record.
        expectRefusal(#"{"taxpayer":{"kind":"individual_business"},"business_tax":{"period":"2012-05","turnover":[{"amount":"1000.00","rate":"0.05"}]}}"#,
                      .missingFact, "taxpayer.region")
        expectRefusal(#"{"taxpayer":{"kind":"individual_business","region":"310115"},"business_tax":{"period":"2012-05","turnover":[{"amount":"1000.00","rate":"0.05"}]}}"#,
                      .notSupported, "taxpayer.region")
    }

    /// Issue 13: an enterprise's 2011-Q4 is computed (the 2011-11-01 change is the individuals' 起征点 only).
    @Test func businessTax2011Q4ForAnEnterprise() throws {
        for kind in ["enterprise", "unit"] {
            let d = try determined(#"{"taxpayer":{"kind":"\#(kind)"},"business_tax":{"period":"2011-Q4","turnover":[{"amount":"50000.00","rate":"0.05"}]}}"#).businessTax!
            #expect(d.tax == Money(decimal: "2500.00")! && d.relief == .zero && d.threshold == nil)
        }
    }

    @Test func eit() {
        let q = #""quarters":[{"employees":[10,10],"assets":["100","100"],"taxable_income_ytd":"1000"}]"#
        // 1 | 2
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"eit":{"year":2007,"quarters":[{"employees":[-1,10],"assets":["100","100"],"taxable_income_ytd":"1000"}]}}"#,
                      .invalidInput, "eit.quarters[0].employees[0]")
        // 2 | 4
        expectRefusal(#"{"taxpayer":{"kind":"individual_business"},"eit":{"year":2007,\#(q)}}"#, .noRule, "eit.year")
        // 4 | 6
        expectRefusal(#"{"taxpayer":{"kind":"individual_business"},"eit":{"year":2020,\#(q)}}"#, .notApplicable, "taxpayer.kind")
        // 5 | 6: no fact makes a non-enterprise unit computable.
        expectRefusal(#"{"taxpayer":{"kind":"unit"},"eit":{"year":2020,\#(q)}}"#, .notSupported, "taxpayer.kind")
        // Step 6 in the taxpayer's order: industry before restricted_industry (2017 limits differ by industry).
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"eit":{"year":2017,\#(q)}}"#, .missingFact, "taxpayer.industry")
        // 6 | 7: a missing fact before the unverified 2015 apportionment (U12).
        let u12 = #""eit":{"year":2015,"start_quarter":4,"quarters":[{"employees":[10,10],"assets":["100","100"],"taxable_income_ytd":"250000"}]}"#
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","industry":"other"},\#(u12)}"#, .missingFact, "taxpayer.restricted_industry")
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","industry":"other","restricted_industry":false},\#(u12)}"#,
                      .notSupported, "eit.quarters[0].taxable_income_ytd")
    }

    @Test func businessIncome() {
        // 1 | 2
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"business_income":{"year":2018,"taxable_income":"x"}}"#,
                      .invalidInput, "business_income.taxable_income")
        // 2 | 4
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"business_income":{"year":2018,"taxable_income":"1"}}"#, .noRule, "business_income.year")
        // 4 | 6
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"business_income":{"year":2023,"taxable_income":"1"}}"#,
                      .notApplicable, "taxpayer.kind")
        // Step 6: kind, then the section's other_relief.
        expectRefusal(#"{"taxpayer":{},"business_income":{"year":2023,"taxable_income":"1"}}"#, .missingFact, "taxpayer.kind")
        expectRefusal(#"{"taxpayer":{"kind":"individual_business"},"business_income":{"year":2023,"taxable_income":"1"}}"#,
                      .missingFact, "business_income.other_relief")
    }

    @Test func localTaxes() {
        let small = #""taxpayer":{"kind":"enterprise","vat_status":"small_scale","region":"310115"}"#
        // 1 | 2
        expectRefusal(#"{\#(small),"local_taxes":{"period":"2028-01","vat_paid":"-1"}}"#, .invalidInput, "local_taxes.vat_paid")
        // 2 | 6: after the last announced rule, with vat_paid missing.
        expectRefusal(#"{\#(small),"local_taxes":{"period":"2028-01"}}"#, .noRule, "local_taxes.period")
        expectRefusal(#"{\#(small),"local_taxes":{"period":"2008-12","vat_paid":"0"}}"#, .noRule, "local_taxes.period")
        // 5 | 6: 2016-Q1 straddles the 财税〔2016〕12号 limit (2016-02-01), with vat_paid missing.
        expectRefusal(#"{\#(small),"local_taxes":{"period":"2016-Q1"}}"#, .notSupported, "local_taxes.period")
        // 6 | 7: a missing city tier before a province whose 2021 ratio is not on record.
        expectRefusal(#"{\#(small),"local_taxes":{"period":"2021-Q2","vat_paid":"100","sales":"1000"}}"#, .missingFact, "local_taxes.city_tier")
        expectRefusal(#"{\#(small),"local_taxes":{"period":"2021-Q2","vat_paid":"100","sales":"1000","city_tier":"other"}}"#,
                      .notSupported, "taxpayer.region")
    }

    @Test func acrossSections() {
        // A missing fact in eit (6) beats a value-dependent refusal in vat (7).
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale"},"vat":{"period":"2015-01","sales":[{"kind":"immovable","amount":"1","rate":"0.03"}]},"eit":{"year":2020,"quarters":[{"employees":[10,10],"assets":["100","100"],"taxable_income_ytd":"1000"}]}}"#,
                      .missingFact, "taxpayer.restricted_industry")
        // Equal steps: business_tax before eit, vat before business_tax, whatever the order in the document.
        expectRefusal(#"{"taxpayer":{"kind":"enterprise"},"eit":{"year":2007,"quarters":[{"employees":[10,10],"assets":["100","100"],"taxable_income_ytd":"1000"}]},"business_tax":{"period":"2017-01","turnover":[{"amount":"1","rate":"0.05"}]}}"#,
                      .noRule, "business_tax.period")
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale"},"business_tax":{"period":"2017-01","turnover":[{"amount":"1","rate":"0.05"}]},"vat":{"period":"2008-01","sales":[]}}"#,
                      .noRule, "vat.period")
        // Format errors of any section come first: eit's bad head count before vat's no_rule.
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale"},"vat":{"period":"2008-01","sales":[]},"eit":{"year":2020,"quarters":[{"employees":[1.5,10],"assets":["100","100"],"taxable_income_ytd":"1000"}]}}"#,
                      .invalidInput, "eit.quarters[0].employees[0]")
        // A local_taxes section that would take vat_paid from a refused VAT section waits for that refusal.
        expectRefusal(#"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale","region":"310115"},"vat":{"period":"2015-01","sales":[{"kind":"immovable","amount":"1","rate":"0.03"}]},"local_taxes":{"period":"2015-01"}}"#,
                      .notSupported, "vat.sales[0].kind")
    }

    /// RULES §1.3: a `deduction` of 0 is the same as none: no refusal before 2016-05, no U5/U31 flag.
    @Test func zeroDeductionIsNone() throws {
        let small = #""taxpayer":{"kind":"enterprise","vat_status":"small_scale"}"#
        let d2015 = try determined(#"{\#(small),"vat":{"period":"2015-01","sales":[{"kind":"goods","amount":"40000","rate":"0.03","deduction":"0.00"}]}}"#).vat!
        #expect(d2015.tax == Money(decimal: "1200.00")! && d2015.explanation.flags.isEmpty)
        #expect(refused(#"{\#(small),"vat":{"period":"2015-01","sales":[{"kind":"goods","amount":"40000","rate":"0.03","deduction":"0.01"}]}}"#)?.code == .notSupported)
        let d2017 = try determined(#"{\#(small),"vat":{"period":"2017-Q1","sales":[{"kind":"services","amount":"100000","rate":"0.03","deduction":"0"}]}}"#).vat!
        #expect(!d2017.explanation.flags.map(\.code).contains("U5"))
        let u5 = try determined(#"{\#(small),"vat":{"period":"2017-Q1","sales":[{"kind":"services","amount":"100000","rate":"0.03","deduction":"1"}]}}"#).vat!
        #expect(u5.explanation.flags.map(\.code).contains("U5"))
    }
}
