import Testing
@testable import HuiqiRules

/// The VAT kernel works out its line checks per line class and runs them after the hot loop (VATKernel.Plan,
/// `firstLineRefusal`). The refusal must still name the first line that breaks a rule, on both paths.
/// The kernel is called directly: the case decoder already refuses rates that are no levy rate at all.
@Suite struct KernelTests {
    let period = TaxPeriod("2023-Q2")!

    func sale(_ kind: SaleKind, ratePPM: Int64) -> Sale {
        Sale(kind: kind, amount: Money(fen: 100_000), rate: Rate(ppm: ratePPM), deduction: .zero, specialInvoice: false)
    }

    /// The path of the refusal for an individual's (其他个人) return of these lines, or nil when it is evaluated.
    func refusalPath(_ sales: [Sale]) throws -> String? {
        let rules = try VATRuleSet.resolve(period, parameters: engine.parameters, individual: true)
        let test = try VATKernel.limitTest(rules, kind: .individual, monthsOperated: nil) { () throws(Refusal) -> Money in .zero }
        let lines = VATLines(sales: sales)
        let outcome = lines.withView { view in
            Result { () throws(Refusal) -> VATOutcome in
                try VATKernel.evaluate(rules, test: test, key: 0, kind: .individual, lines: view, range: 0..<lines.count)
            }
        }
        if case .failure(let refusal) = outcome { return refusal.path }
        return nil
    }

    /// 2023-Q2: 1 % is not a levy rate (RULES §1.3 step 1) and an individual's immovable is outside the limit
    /// (U27). Whichever comes first is reported, whatever follows it.
    @Test func theFirstRefusingLineIsReported() throws {
        #expect(try refusalPath([sale(.goods, ratePPM: 30_000), sale(.goods, ratePPM: 10_000), sale(.immovable, ratePPM: 50_000)]) == "vat.sales[1].rate")
        #expect(try refusalPath([sale(.goods, ratePPM: 30_000), sale(.immovable, ratePPM: 50_000), sale(.goods, ratePPM: 10_000)]) == "vat.sales[1].kind")
        #expect(try refusalPath([sale(.services, ratePPM: 30_000), sale(.goods, ratePPM: 30_000)]) == nil)
    }

    /// The batch refuses the same records, and evaluates the others as the single-case path does.
    @Test func theBatchRefusesTheSameRecords() throws {
        var p = Population()
        for sales in [[sale(.goods, ratePPM: 30_000), sale(.goods, ratePPM: 10_000)], [sale(.immovable, ratePPM: 50_000)],
                      [sale(.goods, ratePPM: 30_000), sale(.services, ratePPM: 30_000)]] {
            p.append(Case(taxpayer: Taxpayer(kind: .individual, vatStatus: .smallScale, industry: nil, restrictedIndustry: nil, region: "310115"),
                          vat: VATReturn(period: period, sales: sales, monthsOperated: nil), eit: nil))
        }
        let batch = try BatchEvaluator(engine: engine, vatPeriod: period, eitYear: 2023).evaluate(p, threads: 1)
        #expect(batch.vatStatus == [BatchResult.refused, BatchResult.refused, BatchResult.ok])
        // 2,000 yuan in the quarter is under the 300,000 limit: all exempt, relief 3 % of it.
        #expect(batch.vatExempt[2] == 200_000 && batch.vatTax[2] == 0 && batch.vatRelief[2] == 6_000)
    }
}
