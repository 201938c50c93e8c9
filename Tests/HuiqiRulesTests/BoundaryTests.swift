import Testing
@testable import HuiqiRules

/// Every change of a rule is tested on its last old day and its first new day, through the engine's results.
/// (Periods are months, quarters or years, so "day" is the last old period and the first new one.)

func vatCase(_ period: String, kind: String = "enterprise", region: String? = "310115", _ lines: [(String, String, String)],
             special: Bool = false, months: Int? = nil) -> Case {
    let sales = lines.map { Sale(kind: SaleKind(name: $0.0)!, amount: Money(decimal: $0.1)!, rate: Rate(decimal: $0.2)!, specialInvoice: special) }
    return Case(taxpayer: Taxpayer(kind: TaxpayerKind(rawValue: kind), vatStatus: .smallScale, industry: .other, restrictedIndustry: false, region: region),
                vat: VATReturn(period: TaxPeriod(period)!, sales: sales, monthsOperated: months))
}

func vat(_ c: Case) throws -> VATDetermination { try engine.determine(c).vat! }
func refusal(_ c: Case) -> Refusal? { do { _ = try engine.determine(c); return nil } catch { return error } }

@Suite struct VATBoundaryTests {
    /// (last old period, first new period, monthly goods sales, expected tax old, expected tax new)
    @Test(arguments: [
        // 2013-08-01: the 2万 exemption begins for enterprises (财税〔2013〕52号).
        ("2013-07", "2013-08", "20000", "600.00", "0.00"),
        // 2014-10-01: 2万 → 3万 (财税〔2014〕71号).
        ("2014-09", "2014-10", "25000", "750.00", "0.00"),
        // 2019-01-01: 3万 → 10万 (财税〔2019〕13号).
        ("2018-12", "2019-01", "50000", "1500.00", "0.00"),
        // 2020-03-01: 3% → 1% outside Hubei (2020年第13号).
        ("2020-02", "2020-03", "200000", "6000.00", "2000.00"),
        // 2021-04-01: 10万 → 15万 (2021年第11号).
        ("2021-03", "2021-04", "120000", "1200.00", "0.00"),
        // 2022-04-01: 3% sales exempt (2022年第15号).
        ("2022-03", "2022-04", "200000", "2000.00", "0.00"),
        // 2023-01-01: 15万 → 10万, 1% (2023年第1号).
        ("2022-12", "2023-01", "120000", "0.00", "1200.00"),
        // 2024-01-01: 2023年第19号 takes over with the same figures.
        ("2023-12", "2024-01", "100000", "0.00", "0.00"),
        // 2026-01-01: the VAT Law's 起征点, exactly 10万 now taxable (U1).
        ("2025-12", "2026-01", "100000", "0.00", "1000.00"),
    ])
    func monthlyGoods(_ old: String, _ new: String, _ amount: String, _ taxOld: String, _ taxNew: String) throws {
        #expect(try vat(vatCase(old, [("goods", amount, "0.03")])).tax == Money(decimal: taxOld)!)
        #expect(try vat(vatCase(new, [("goods", amount, "0.03")])).tax == Money(decimal: taxNew)!)
    }

    @Test func hubeiFrom2020_03To2021_03() throws {
        let big = [("goods", "200000", "0.03")]
        #expect(try vat(vatCase("2020-02", region: "420102", big)).tax == Money(decimal: "6000")!)
        #expect(try vat(vatCase("2020-03", region: "420102", big)).tax == .zero)
        #expect(try vat(vatCase("2021-03", region: "420102", big)).tax == .zero)
        #expect(try vat(vatCase("2021-04", region: "420102", big)).tax == Money(decimal: "2000")!)
        #expect(refusal(vatCase("2020-03", region: nil, big))?.path == "taxpayer.region")
        #expect(refusal(vatCase("2020-02", region: nil, big)) == nil)
    }

    @Test func twoGroupsFrom2016_05To2018_12() throws {
        let mixed = [("goods", "25000", "0.03"), ("services", "25000", "0.03")]
        #expect(try vat(vatCase("2016-04", mixed)).tax == Money(decimal: "1500")!)
        #expect(try vat(vatCase("2016-05", mixed)).tax == .zero)
        #expect(try vat(vatCase("2018-12", mixed)).tax == .zero)
        // 2019-01: combined 50000 ≤ 100000 also exempt; at 2×60000 the combined test fails.
        let bigger = [("goods", "60000", "0.03"), ("services", "60000", "0.03")]
        #expect(try vat(vatCase("2018-12", bigger)).tax == Money(decimal: "3600")!)
        #expect(try vat(vatCase("2019-01", bigger)).tax == Money(decimal: "3600")!)
    }

    @Test func immovablesBeforeAndAfter2016_05() throws {
        let r = refusal(vatCase("2016-04", [("immovable", "1000", "0.03")]))
        #expect(r?.code == .notSupported && r?.path == "vat.sales[0].kind")
        #expect(refusal(vatCase("2016-05", [("immovable", "1000", "0.05")])) == nil)
        #expect(refusal(vatCase("2016-04", [("goods", "1000", "0.05")]))?.path == "vat.sales[0].rate")
    }

    @Test func secondaryImmovableTestEndsWith2025() throws {
        let lines = [("goods", "70000", "0.03"), ("immovable", "100000", "0.05")]
        let d2025 = try vat(vatCase("2025-12", lines))
        #expect(d2025.exemptSales == Money(decimal: "70000")! && d2025.tax == Money(decimal: "5000")!)
        let d2026 = try vat(vatCase("2026-01", lines))
        #expect(d2026.exemptSales == .zero && d2026.tax == Money(decimal: "5700")!)
        #expect(d2026.explanation.flags.map(\.code).contains("U2"))
    }

    @Test func straddlingQuartersAreRefused() {
        for q in ["2013-Q3", "2016-Q2", "2020-Q1"] {
            let r = refusal(vatCase(q, [("goods", "1000", "0.03")]))
            #expect(r?.code == .notSupported && r?.path == "vat.period" && r?.rule == "§0.2", "\(q)")
        }
        // 2011-Q4 straddles only for individuals (their 起征点 range changed on 2011-11-01).
        #expect(refusal(vatCase("2011-Q4", [("goods", "1000", "0.03")])) == nil)
        #expect(refusal(vatCase("2011-Q4", kind: "individual_business", [("goods", "1000", "0.03")]))?.path == "vat.period")
        for q in ["2013-Q4", "2016-Q3", "2020-Q2", "2021-Q2", "2022-Q2", "2026-Q1"] {
            #expect(refusal(vatCase(q, [("goods", "1000", "0.03")])) == nil, "\(q)")
        }
    }

    @Test func supportedPeriods() {
        #expect(refusal(vatCase("2008-12", [("goods", "1000", "0.03")]))?.code == .noRule)
        #expect(refusal(vatCase("2009-01", [("goods", "1000", "0.03")])) == nil)
        #expect(refusal(vatCase("2027-12", [("goods", "1000", "0.03")])) == nil)
        #expect(refusal(vatCase("2028-01", [("goods", "1000", "0.03")]))?.code == .noRule)
    }

    @Test func partialQuarterProration() throws {
        // 2014-10..2016-04: prorated but recalled (U7 flag); 2016-05..2018-12: prorated (grade B, no flag); 2019+: full limit, U7.
        let d2015 = try vat(vatCase("2015-Q1", [("goods", "50000", "0.03")], months: 1))
        #expect(d2015.threshold == Money(decimal: "30000")! && d2015.tax == Money(decimal: "1500")!)
        #expect(d2015.explanation.flags.map(\.code) == ["U7"])
        let d2018 = try vat(vatCase("2018-Q4", [("goods", "50000", "0.03")], months: 2))
        #expect(d2018.threshold == Money(decimal: "60000")! && d2018.tax == .zero && d2018.explanation.flags.isEmpty)
        let d2019 = try vat(vatCase("2019-Q1", [("goods", "250000", "0.03")], months: 1))
        #expect(d2019.threshold == Money(decimal: "300000")! && d2019.tax == .zero && d2019.explanation.flags.map(\.code) == ["U7"])
        #expect(refusal(vatCase("2014-Q1", [("goods", "50000", "0.03")], months: 2))?.path == "vat.months_operated")
        #expect(try vat(vatCase("2018-Q4", [("goods", "50000", "0.03")])).explanation.flags.map(\.code) == ["U7"])
        #expect(try vat(vatCase("2019-Q1", [("goods", "50000", "0.03")])).explanation.flags.isEmpty)
    }

    @Test func individualsBefore2014_10NeedTheProvincialQizhengdian() throws {
        let r = refusal(vatCase("2014-09", kind: "individual_business", [("goods", "10000", "0.03")]))
        #expect(r?.code == .notSupported && r?.rule == "§1.8")
        #expect(try vat(vatCase("2014-10", kind: "individual_business", [("goods", "10000", "0.03")])).tax == .zero)
        // An enterprise in 2014-09 is under the 2万 exemption.
        #expect(try vat(vatCase("2014-09", [("goods", "10000", "0.03")])).tax == .zero)
    }

    @Test func deductionBefore2016_05IsRefusedAndTestedGrossUntil2018() throws {
        let c = Case(taxpayer: Taxpayer(kind: .enterprise, vatStatus: .smallScale, region: "310115"),
                     vat: VATReturn(period: TaxPeriod("2016-04")!, sales: [Sale(kind: .services, amount: Money(decimal: "40000")!, rate: Rate(decimal: "0.03")!, deduction: Money(decimal: "20000")!)]))
        #expect(refusal(c)?.path == "vat.sales[0].deduction")
        var c2 = c; c2.vat!.period = TaxPeriod("2018-12")!
        let d = try vat(c2)
        #expect(d.tax == Money(decimal: "600")! && d.explanation.flags.map(\.code) == ["U5"])  // 40000 gross > 30000
        var c3 = c; c3.vat!.period = TaxPeriod("2019-01")!
        #expect(try vat(c3).tax == .zero)
    }

    @Test func threshold2026IsStrictlyBelow() throws {
        let at = try vat(vatCase("2026-Q1", [("goods", "300000", "0.03")]))
        #expect(at.tax == Money(decimal: "3000")! && at.explanation.flags.map(\.code) == ["U1"])
        let below = try vat(vatCase("2026-Q1", [("goods", "299999.99", "0.03")]))
        #expect(below.tax == .zero && below.explanation.flags.isEmpty)
        // Immovables keep their rate from 2026 (never reduced to 1%).
        let imm = try vat(vatCase("2026-Q1", [("immovable", "400000", "0.03")]))
        #expect(imm.tax == Money(decimal: "12000")!)
        let imm2025 = try vat(vatCase("2025-Q4", [("immovable", "400000", "0.03")]))
        #expect(imm2025.tax == Money(decimal: "4000")!)
    }
}

func eitCase(_ year: Int, income: String, employees: Int64 = 50, assets: String = "5000000", industry: Industry? = .other) -> Case {
    let q = EITQuarter(employees: (employees, employees), assets: (Money(decimal: assets)!, Money(decimal: assets)!), taxableIncomeYTD: Money(decimal: income)!)
    return Case(taxpayer: Taxpayer(kind: .enterprise, vatStatus: .smallScale, industry: industry, restrictedIndustry: false),
                eit: EITReturn(year: year, quarters: [q]))
}
func eitTax(_ c: Case) throws -> Money { try engine.determine(c).eit!.quarters[0].step.taxRounded }

@Suite struct EITBoundaryTests {
    /// (old year, new year, income, tax old, tax new)
    @Test(arguments: [
        (2009, 2010, "30000", "6000.00", "3000.00"),       // halving begins (财税〔2009〕133号)
        (2011, 2012, "50000", "10000.00", "5000.00"),      // cap 3万 → 6万 (财税〔2011〕117号)
        (2013, 2014, "80000", "16000.00", "8000.00"),      // cap 6万 → 10万 (财税〔2014〕34号)
        (2014, 2015, "150000", "30000.00", "15000.00"),    // cap 10万 → 20万 (财税〔2015〕34号)
        (2016, 2017, "400000", "100000.00", "40000.00"),   // limit and cap 30万 → 50万 (财税〔2017〕43号)
        (2017, 2018, "800000", "200000.00", "80000.00"),   // 50万 → 100万 (财税〔2018〕77号)
        (2018, 2019, "2000000", "500000.00", "150000.00"), // bands, limit 300万 (财税〔2019〕13号)
        (2020, 2021, "2000000", "150000.00", "125000.00"), // band 1 at 12.5% (2021年第12号)
        (2021, 2022, "2000000", "125000.00", "75000.00"),  // band 2 at 25% (2022年第13号)
        (2022, 2023, "3000000", "125000.00", "150000.00"), // flat 5% (2023年第6号, 第12号)
    ])
    func yearChanges(_ old: Int, _ new: Int, _ income: String, _ taxOld: String, _ taxNew: String) throws {
        #expect(try eitTax(eitCase(old, income: income)) == Money(decimal: taxOld)!)
        #expect(try eitTax(eitCase(new, income: income)) == Money(decimal: taxNew)!)
    }

    @Test func industrySplitEndsWith2018() throws {
        #expect(try eitTax(eitCase(2018, income: "100000", employees: 90)) == Money(decimal: "25000")!)
        #expect(try eitTax(eitCase(2018, income: "100000", employees: 90, industry: .industrial)) == Money(decimal: "10000")!)
        #expect(refusal(eitCase(2018, income: "100000", industry: nil))?.path == "taxpayer.industry")
        #expect(refusal(eitCase(2019, income: "100000", industry: nil)) == nil)
    }

    @Test func supportedYearsAndFlags() throws {
        #expect(refusal(eitCase(2007, income: "1"))?.code == .noRule)
        #expect(refusal(eitCase(2028, income: "1"))?.code == .noRule)
        let f2017 = try engine.determine(eitCase(2017, income: "1000")).eit!.explanation.flags.map(\.code)
        #expect(f2017 == ["U10", "U11"])
        let f2018 = try engine.determine(eitCase(2018, income: "1000")).eit!.explanation.flags.map(\.code)
        #expect(f2018 == ["U11"])
        #expect(try engine.determine(eitCase(2019, income: "1000")).eit!.explanation.flags.isEmpty)
    }

    @Test func the2015Apportionment() throws {
        // Q1 with 250000: 20% (the higher cap had not started); Q4 with 250000: refused (U12).
        #expect(try eitTax(eitCase(2015, income: "250000")) == Money(decimal: "50000")!)
        let q = EITQuarter(employees: (50, 50), assets: (Money(decimal: "5000000")!, Money(decimal: "5000000")!), taxableIncomeYTD: Money(decimal: "250000")!)
        let c = Case(taxpayer: Taxpayer(kind: .enterprise, industry: .other, restrictedIndustry: false), eit: EITReturn(year: 2015, startQuarter: 4, quarters: [q]))
        #expect(refusal(c)?.rule == "§3.4")
    }

    @Test func settlementRefundsOverpayment() throws {
        let q = { (y: String) in EITQuarter(employees: (50, 50), assets: (Money(decimal: "1000000")!, Money(decimal: "1000000")!), taxableIncomeYTD: Money(decimal: y)!) }
        let c = Case(taxpayer: Taxpayer(kind: .enterprise, restrictedIndustry: false),
                     eit: EITReturn(year: 2023, quarters: [q("100000"), q("200000"), q("300000"), q("400000")], annualTaxableIncome: Money(decimal: "200000")!))
        let e = try engine.determine(c).eit!
        #expect(e.prepaid == Money(decimal: "20000")!)
        #expect(e.annual!.taxRounded == Money(decimal: "10000")!)
        #expect(e.json["annual"]?["settlement"] == .string("-10000.00"))
    }
}

func biCase(_ year: Int, _ income: String, other: String? = "0") -> Case {
    Case(taxpayer: Taxpayer(kind: .individualBusiness), businessIncome: BusinessIncomeReturn(year: year, taxableIncome: Money(decimal: income)!, otherRelief: other.map { Money(decimal: $0)! }))
}

@Suite struct BusinessIncomeBoundaryTests {
    @Test func yearChanges() throws {
        #expect(refusal(biCase(2018, "80000"))?.code == .noRule)
        #expect(try engine.determine(biCase(2020, "80000")).businessIncome!.relief == .zero)
        #expect(try engine.determine(biCase(2021, "80000")).businessIncome!.relief == Money(decimal: "3250")!)
        // 1500000: 2022 halves the first 100万 only, 2023 all of it.
        #expect(try engine.determine(biCase(2022, "1500000")).businessIncome!.relief == Money(decimal: "142250")!)
        #expect(try engine.determine(biCase(2023, "1500000")).businessIncome!.relief == Money(decimal: "229750")!)
        #expect(try engine.determine(biCase(2027, "1500000")).businessIncome!.relief == Money(decimal: "229750")!)
        #expect(refusal(biCase(2028, "80000"))?.code == .noRule)
    }

    @Test func roundingFromRoundedLines() throws {
        let d = try engine.determine(biCase(2023, "80000.10")).businessIncome!
        #expect(d.taxBeforeRelief == Money(decimal: "6500.01")! && d.relief == Money(decimal: "3250.01")! && d.tax == Money(decimal: "3250.00")!)
        // R × P ÷ I does not terminate: 6000 × 2000000 ÷ 2300000.
        let e = try engine.determine(biCase(2023, "2300000", other: "6000")).businessIncome!
        // T(P) = 634500; share = 5217.3913…; relief = (634500 − 5217.3913…) × 50% = 314641.30434… → 314641.30
        #expect(e.relief == Money(decimal: "314641.30")!)
        #expect(refusal(biCase(2023, "1000", other: nil))?.code == .missingFact)
    }
}
