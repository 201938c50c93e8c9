import Testing
@testable import HuiqiRules

@Suite struct LocalTaxesTests {
    func localCase(_ period: String, status: VATStatus = .smallScale, kind: TaxpayerKind = .enterprise, region: String? = "310115",
                   vatPaid: String? = "500.00", sales: String? = "250000.00", slpe: Bool? = nil) -> Case {
        Case(taxpayer: Taxpayer(kind: kind, vatStatus: status, region: region),
             localTaxes: LocalTaxesReturn(period: TaxPeriod(period)!, smallLowProfit: slpe, cityTier: .cityDistrict,
                                          vatPaid: vatPaid.flatMap { Money(decimal: $0) }, sales: sales.flatMap { Money(decimal: $0) },
                                          taxes: [LocalTaxLine(tax: .propertyTax, due: Money(decimal: "1200")!, otherRelief: Money(decimal: "200")!)]))
    }
    func items(_ c: Case) throws -> [String: LocalTaxItem] {
        Dictionary(uniqueKeysWithValues: try engine.determine(c).localTaxes!.items.map { ($0.tax, $0) })
    }

    /// RULES §4 illustration (D): 2023-Q2, sales 250000 with VAT 500 paid on a 专票: 城建税 35.00 less 50% = 17.50,
    /// 教育费附加 and 地方教育附加 exempt under 财税〔2016〕12号.
    @Test func rulesIllustration2023() throws {
        let i = try items(localCase("2023-Q2"))
        #expect(i["city_maintenance_tax"]!.due == Money(decimal: "35")! && i["city_maintenance_tax"]!.payable == Money(decimal: "17.50")!)
        #expect(i["education_surcharge"]!.payable == .zero && i["local_education_surcharge"]!.exempt == Money(decimal: "10")!)
        // Other relief first, then 50%: (1200 − 200) × 50% = 500.
        #expect(i["property_tax"]!.reduction == Money(decimal: "500")! && i["property_tax"]!.payable == Money(decimal: "500")!)
    }

    @Test func educationExemptionLimit() throws {
        #expect(try items(localCase("2023-Q2", sales: "300000.00"))["education_surcharge"]!.exempt == Money(decimal: "15")!)
        #expect(try items(localCase("2023-Q2", sales: "300000.01"))["education_surcharge"]!.exempt == .zero)
        // 2016-01: only 财税〔2014〕122号 (9万 a quarter) is in force; from 2016-02 the 10万 a month of 12号.
        #expect(try items(localCase("2016-01", sales: "50000.00"))["education_surcharge"]!.exempt == .zero)
        #expect(try items(localCase("2016-02", sales: "50000.00"))["education_surcharge"]!.exempt == Money(decimal: "15")!)
        let d2026 = try engine.determine(localCase("2026-Q1")).localTaxes!
        #expect(d2026.explanation.flags.map(\.code).contains("U21"))
    }

    @Test func provincialRatiosBefore2023() throws {
        let r = refusal(localCase("2021-Q2"))
        #expect(r?.code == .notSupported && r?.path == "taxpayer.region")
        #expect(try engine.determine(localCase("2021-Q2", region: "150102")).localTaxes!.ratio == Rate(decimal: "0.5")!)
        #expect(refusal(localCase("2021-Q2", region: nil))?.path == "taxpayer.region")
    }

    @Test func beneficiaries() throws {
        // 2021: a general taxpayer gets nothing; 2022+: as a 小型微利企业 (a stated fact) or a 个体工商户.
        #expect(try engine.determine(localCase("2021-Q2", status: .general, region: "150102")).localTaxes!.beneficiary == false)
        #expect(refusal(localCase("2023-Q2", status: .general))?.path == "local_taxes.small_low_profit")
        #expect(try engine.determine(localCase("2023-Q2", status: .general, slpe: true)).localTaxes!.beneficiary)
        #expect(try engine.determine(localCase("2023-Q2", status: .general, kind: .individualBusiness)).localTaxes!.beneficiary)
        #expect(try engine.determine(localCase("2018-Q2")).localTaxes!.beneficiary == false)
    }
}
