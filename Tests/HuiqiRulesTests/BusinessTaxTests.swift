import Testing
@testable import HuiqiRules

@Suite struct BusinessTaxTests {
    func btCase(_ period: String, _ amount: String, kind: TaxpayerKind = .enterprise, rate: String = "0.05") -> Case {
        Case(taxpayer: Taxpayer(kind: kind, region: "310115"),
             businessTax: BusinessTaxReturn(period: TaxPeriod(period)!, turnover: [.init(amount: Money(decimal: amount)!, rate: Rate(decimal: rate)!)]))
    }
    func bt(_ c: Case) throws -> BusinessTaxDetermination { try engine.determine(c).businessTax! }

    @Test func limitsByPeriod() throws {
        // No exemption for enterprises before 2013-08; 2万 a month from 财税〔2013〕52号; 3万 from 财税〔2014〕71号.
        #expect(try bt(btCase("2013-07", "20000")).tax == Money(decimal: "1000")!)
        #expect(try bt(btCase("2013-08", "20000")).tax == .zero)
        #expect(try bt(btCase("2013-08", "20000.01")).tax == Money(decimal: "1000.00")!)  // a cliff: the whole amount
        #expect(try bt(btCase("2014-09", "25000")).tax == Money(decimal: "1250")!)
        #expect(try bt(btCase("2014-10", "25000")).tax == .zero)
        #expect(try bt(btCase("2016-Q1", "90000")).relief == Money(decimal: "4500")!)
        #expect(try bt(btCase("2016-Q1", "90000")).threshold == Money(decimal: "90000")!)
    }

    @Test func refusals() {
        #expect(refusal(btCase("2016-05", "1000"))?.code == .noRule)
        #expect(refusal(btCase("2013-Q3", "1000"))?.path == "business_tax.period")
        // Individuals: provincial 起征点 until 2014-09 (no values on record), the 3万 exemption from 2014-10.
        #expect(refusal(btCase("2014-09", "1000", kind: .individualBusiness))?.rule == "§2")
        #expect(refusal(btCase("2014-10", "1000", kind: .individualBusiness)) == nil)
    }
}
