import Testing
@testable import HuiqiRules

/// The batch path must give exactly the single-case path's figures (ARCHITECTURE.md "Determinations").
@Suite struct BatchTests {
    struct Rng { var s: UInt64; mutating func next(_ n: UInt64) -> Int64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return Int64((s >> 33) % n) } }

    func randomCase(_ r: inout Rng, period: TaxPeriod, year: Int) -> Case {
        let kinds: [TaxpayerKind] = [.enterprise, .enterprise, .unit, .individualBusiness, .individual]
        let kind = kinds[Int(r.next(5))]
        let regions = ["310115", "420102", "440305"]
        var sales: [Sale] = []
        for _ in 0..<(1 + Int(r.next(4))) {
            let k = SaleKind(rawValue: UInt8(r.next(kind == .individual ? 4 : 5)))!
            let amount = Money(fen: r.next(4) == 0 ? r.next(60_000_000) : r.next(15_000_000))
            let ded = k == .services && r.next(3) == 0 ? Money(fen: amount.fen / 3) : .zero
            sales.append(Sale(kind: k, amount: amount, rate: Rate(ppm: k == .immovable ? 50_000 : 30_000), deduction: ded, specialInvoice: r.next(6) == 0))
        }
        var quarters: [EITQuarter] = []
        var income: Int64 = 0
        for _ in 0..<(kind == .enterprise ? 1 + Int(r.next(4)) : 0) {
            income += r.next(150_000_000) - 20_000_000
            let e0 = r.next(420), e1 = r.next(420)
            quarters.append(EITQuarter(employees: (e0, e1), assets: (Money(fen: r.next(7_000_000_000)), Money(fen: r.next(7_000_000_000))), taxableIncomeYTD: Money(fen: income)))
        }
        let months: Int? = period.isQuarterly && r.next(4) == 0 ? 1 + Int(r.next(3)) : nil
        return Case(taxpayer: Taxpayer(kind: kind, vatStatus: .smallScale, industry: r.next(2) == 0 ? .industrial : .other,
                                       restrictedIndustry: r.next(10) == 0, region: regions[Int(r.next(3))]),
                    vat: VATReturn(period: period, sales: sales, monthsOperated: months),
                    eit: quarters.isEmpty ? nil : EITReturn(year: year, quarters: quarters))
    }

    /// The years reach every EIT schedule, which the batch compiles a step for each (flat 2009, the whole-amount
    /// cap 2012–2017 with 2015's change of cap, bands 2020 and 2022, flat inclusion 2023 and 2026).
    @Test(arguments: [("2023-Q2", 2023), ("2020-07", 2020), ("2017-Q3", 2017), ("2022-05", 2022), ("2026-Q1", 2026), ("2014-11", 2014), ("2012-Q2", 2012),
                      ("2009-05", 2009), ("2015-Q3", 2015)])
    func batchEqualsSingleCase(_ periodText: String, _ year: Int) throws {
        let period = TaxPeriod(periodText)!
        var r = Rng(s: UInt64(year) * 7919)
        let cases = (0..<3000).map { _ in randomCase(&r, period: period, year: year) }
        var p = Population()
        for c in cases { p.append(c) }
        let batch = try BatchEvaluator(engine: engine, vatPeriod: period, eitYear: year).evaluate(p, threads: 2)
        var compared = 0
        for (i, c) in cases.enumerated() {
            var vatOnly = c; vatOnly.eit = nil
            switch Result(catching: { () throws(Refusal) in try engine.determine(vatOnly) }) {
            case .success(let d):
                #expect(batch.vatStatus[i] == BatchResult.ok, "case \(i)")
                #expect(batch.vatTax[i] == d.vat!.tax.fen && batch.vatRelief[i] == d.vat!.relief.fen && batch.vatExempt[i] == d.vat!.exemptSales.fen, "case \(i)")
                compared += 1
            case .failure: #expect(batch.vatStatus[i] == BatchResult.refused, "case \(i)")
            }
            guard c.eit != nil else { continue }
            var eitOnly = c; eitOnly.vat = nil
            switch Result(catching: { () throws(Refusal) in try engine.determine(eitOnly) }) {
            case .success(let d):
                let last = d.eit!.quarters.last!.step
                #expect(batch.eitStatus[i] == BatchResult.ok)
                #expect(batch.eitTaxYTD[i] == last.taxRounded.fen && batch.eitReliefYTD[i] == last.relief.rounded().fen && batch.eitPrepaid[i] == d.eit!.prepaid.fen, "case \(i)")
                #expect(batch.eitQualifies[i] == last.qualifies)
            case .failure: #expect(batch.eitStatus[i] == BatchResult.refused, "case \(i)")
            }
        }
        #expect(compared > 500)
    }

    /// Result columns reused over chunks of different sizes (as `huiqi bench engine`, screening and simulation reuse
    /// them) hold exactly a fresh evaluation's figures: a shorter chunk keeps the memory, not the old values.
    @Test func reusedResultColumnsEqualFreshOnes() throws {
        let period = TaxPeriod("2023-Q2")!
        let evaluator = try BatchEvaluator(engine: engine, vatPeriod: period, eitYear: 2023)
        var r = Rng(s: 42)
        var reused = BatchResult(count: 2000)
        for size in [2000, 700, 1500, 0, 1] {
            var p = Population()
            for _ in 0..<size { p.append(randomCase(&r, period: period, year: 2023)) }
            evaluator.evaluate(p, into: &reused, threads: 2)
            let fresh = evaluator.evaluate(p, threads: 2)
            #expect(reused.vatStatus.count == size && reused.eitQualifies.count == size)
            #expect(reused.vatStatus == fresh.vatStatus && reused.vatExempt == fresh.vatExempt && reused.vatTax == fresh.vatTax
                    && reused.vatRelief == fresh.vatRelief && reused.eitStatus == fresh.eitStatus && reused.eitTaxYTD == fresh.eitTaxYTD
                    && reused.eitReliefYTD == fresh.eitReliefYTD && reused.eitPrepaid == fresh.eitPrepaid
                    && reused.eitQualifies == fresh.eitQualifies, "chunk of \(size)")
            #expect(size < 700 || reused.totalRelief > 0)
        }
    }
}
