import Foundation
import Testing
@testable import HuiqiRules

/// Reform simulation (政策测算, issue 12 §3): a reform file is validated like the parameter files, applied as
/// versions from its date, and compared with the law over a population, with figures worked by hand.
@Suite struct ReformTests {
    static let raise = """
        name: "起征点提高到45万元"
        changes:
          - parameter: vat.qizhengdian.quarterly
            from: 2027-01-01
            value: "450000"
        """

    @Test func aReformIsValidatedLikeTheParameterFiles() throws {
        func problem(_ text: String) -> String {
            do { _ = try Reform.parse(text, file: "r.yaml", against: engine.parameters); return "accepted" } catch { return "\(error)" }
        }
        #expect(problem(Self.raise) == "accepted")
        #expect(problem(Self.raise.replacingOccurrences(of: "vat.qizhengdian.quarterly", with: "vat.no.such")).contains("changes[0].parameter"))
        #expect(problem(Self.raise.replacingOccurrences(of: "2027-01-01", with: "2027-01-15")).contains("first day"))
        #expect(problem(Self.raise.replacingOccurrences(of: "2027-01-01", with: "2028-01-01")).contains("outside"))
        #expect(problem(Self.raise.replacingOccurrences(of: "\"450000\"", with: "\"lots\"")).contains("changes[0].value"))
        #expect(problem("name: x\nchanges: []").contains("no changes"))
        #expect(problem(Self.raise + "\n    colour: red").contains("unknown field colour"))
        // A parameter with keys (湖北 and elsewhere, 2020-03 to 2021-03; one rate for all before and since): without a
        // key the change replaces every key, from any date; one key alone is refused where a rate for every key
        // follows it, since the two would overlap.
        let rate = "name: x\nchanges:\n  - parameter: vat.rate3.special_invoice_rate\n    from: FROM\n    value: \"0.02\"\n"
        #expect(problem(rate.replacingOccurrences(of: "FROM", with: "2021-01-01")) == "accepted")
        #expect(problem(rate.replacingOccurrences(of: "FROM", with: "2021-01-01") + "    key: hubei\n").contains("change it without a key"))
        #expect(problem(rate.replacingOccurrences(of: "FROM", with: "2027-01-01")) == "accepted")
        #expect(problem(rate.replacingOccurrences(of: "FROM", with: "2027-01-01") + "    key: elsewhere\n").contains("change it without a key"))
    }

    @Test func theReformTakesOverFromItsDateOnly() throws {
        let law = engine.parameters
        let reformed = try Reform.parse(Self.raise, file: "r.yaml", against: law).applied(to: law)
        let dec31 = Day(iso: "2026-12-31")!, jan1 = Day(iso: "2027-01-01")!
        #expect(try reformed.version("vat.qizhengdian.quarterly", on: dec31).value == .money(Money(decimal: "300000")!))
        #expect(try reformed.version("vat.qizhengdian.quarterly", on: jan1).value == .money(Money(decimal: "450000")!))
        #expect(try reformed.version("vat.qizhengdian.quarterly", on: jan1).cite.grade == "reform")
        #expect(try law.version("vat.qizhengdian.quarterly", on: jan1).value == .money(Money(decimal: "300000")!), "the law itself is untouched")
    }

    /// Three small-scale enterprises selling goods at 3 % in 2027-Q1 (the 1 % rate in force): 200,000 is under both
    /// thresholds (no tax), 400,000 is over the law's 300,000 (tax 4,000.00) and under the reform's 450,000 (none),
    /// 500,000 is over both (tax 5,000.00). So VAT falls from 9,000.00 to 5,000.00: one pays less, none more.
    @Test func theComparisonAddsUpHandWorkedCases() throws {
        let law = engine
        let reformed = Engine(parameters: try Reform.parse(Self.raise, file: "r.yaml", against: law.parameters).applied(to: law.parameters), register: law.register)
        let quarter = TaxPeriod("2027-Q1")!
        var p = Population()
        for amount in ["200000.00", "400000.00", "500000.00"] {
            p.append(Case(taxpayer: Taxpayer(kind: .enterprise, vatStatus: .smallScale, region: "310115"),
                          vat: VATReturn(period: quarter, sales: [Sale(kind: .goods, amount: Money(decimal: amount)!, rate: Rate(ppm: 30_000))])))
        }
        let a = try BatchEvaluator(engine: law, vatPeriod: quarter, eitYear: 2027).evaluate(p)
        let b = try BatchEvaluator(engine: reformed, vatPeriod: quarter, eitYear: 2027).evaluate(p)
        #expect(a.vatTax == [0, 400_000, 500_000] && b.vatTax == [0, 0, 500_000])
        var c = ReformComparison()
        c.add(p, law: a, reform: b)
        let all = try #require(c.lines["all"])
        #expect(all.taxpayers == 3 && all.refused == 0)
        #expect(all.vatLaw == 900_000 && all.vatReform == 500_000 && all.revenueChange == -400_000)
        #expect(all.payLess == 1 && all.payMore == 0)
        #expect(c.lines["band:30万–45万"]?.payLess == 1 && c.lines["band:45万–100万"]?.vatLaw == 500_000 && c.lines["band:10万–30万"]?.vatLaw == 0)
        #expect(c.lines["kind:enterprise"]?.taxpayers == 3 && c.lines["region:310115"]?.revenueChange == -400_000)
        #expect(c.orderedKeys.first == "all")
    }
}
