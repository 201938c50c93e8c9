import Dispatch

/// The batch path: one VAT period and one EIT year over a whole population, with the same kernels as the
/// single-case path (`VATKernel`, `EITKernel`), so both give the same figures by construction; a test checks it.
public struct BatchEvaluator: Sendable {
    public let vatRules: VATRuleSet
    public let vatRulesIndividual: VATRuleSet
    public let eitRules: EITRuleSet

    public init(engine: Engine, vatPeriod: TaxPeriod, eitYear: Int) throws(Refusal) {
        vatRules = try VATRuleSet.resolve(vatPeriod, parameters: engine.parameters, individual: false)
        vatRulesIndividual = try VATRuleSet.resolve(vatPeriod, parameters: engine.parameters, individual: true)
        eitRules = try EITRuleSet.resolve(year: eitYear, parameters: engine.parameters)
    }

    /// Evaluates every taxpayer, split over `threads` workers writing disjoint ranges of the result columns.
    public func evaluate(_ p: Population, threads: Int = 2) -> BatchResult {
        var out = BatchResult(count: p.count)
        // The limit test depends only on kind and months operated: resolve the 4 × 4 combinations once.
        var tests: [VATLimitTest?] = []
        for k in TaxpayerKind.allCases {
            let individual = k == .individual || k == .individualBusiness
            for m in 0...3 {
                tests.append(try? VATKernel.limitTest(individual ? vatRulesIndividual : vatRules, kind: k, monthsOperated: m == 0 ? nil : m) { () throws(Refusal) -> Money in
                    throw Refusal(.notSupported, "taxpayer.region", zh: "", en: "provincial 起征点 not on record", rule: "§1.8")
                })
            }
        }
        let limitTests = tests
        let n = p.count
        let chunks = max(1, min(threads, n))
        let size = (n + chunks - 1) / max(chunks, 1)
        let hubei = vatRules.hubeiPrefix.flatMap { Int32($0) }
        out.vatStatus.withUnsafeMutableBufferPointer { vs in
        out.vatExempt.withUnsafeMutableBufferPointer { ve in
        out.vatTax.withUnsafeMutableBufferPointer { vt in
        out.vatRelief.withUnsafeMutableBufferPointer { vr in
        out.eitStatus.withUnsafeMutableBufferPointer { es in
        out.eitTaxYTD.withUnsafeMutableBufferPointer { et in
        out.eitReliefYTD.withUnsafeMutableBufferPointer { er in
        out.eitPrepaid.withUnsafeMutableBufferPointer { ep in
        out.eitQualifies.withUnsafeMutableBufferPointer { eq in
            let sink = Sink(vs: vs, ve: ve, vt: vt, vr: vr, es: es, et: et, er: er, ep: ep, eq: eq)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * size, hi = min(n, lo + size)
                guard lo < hi else { return }
                for i in lo..<hi { evaluateOne(p, i, tests: limitTests, hubei: hubei, sink: sink) }
            }
        }}}}}}}}}
        return out
    }

    struct Sink: @unchecked Sendable {
        let vs: UnsafeMutableBufferPointer<UInt8>, ve: UnsafeMutableBufferPointer<Int64>
        let vt: UnsafeMutableBufferPointer<Int64>, vr: UnsafeMutableBufferPointer<Int64>
        let es: UnsafeMutableBufferPointer<UInt8>, et: UnsafeMutableBufferPointer<Int64>
        let er: UnsafeMutableBufferPointer<Int64>, ep: UnsafeMutableBufferPointer<Int64>
        let eq: UnsafeMutableBufferPointer<Bool>
    }

    @inline(__always)
    func evaluateOne(_ p: Population, _ i: Int, tests: [VATLimitTest?], hubei: Int32?, sink: Sink) {
        let kindIndex = Int(p.kind[i])
        let kind = TaxpayerKind.allCases[kindIndex]
        // VAT
        let lo = Int(p.lineStart[i]), hi = Int(p.lineStart[i + 1])
        let rules = kind == .individual || kind == .individualBusiness ? vatRulesIndividual : vatRules
        var key = 0
        var vatOK = true
        if let hubei {
            if p.region[i] == 0 { vatOK = false } else { key = p.region[i] / 10_000 == hubei ? 1 : 0 }
        }
        if vatOK, let test = tests[kindIndex * 4 + Int(p.monthsOperated[i])] {
            do {
                try VATKernel.checkLines(rules, kind: kind, lines: p.lines, range: lo..<hi, regime: test.regime)
                let o = VATKernel.evaluate(rules, test: test, key: key, lines: p.lines, range: lo..<hi)
                sink.ve[i] = o.exemptFen
                sink.vt[i] = o.tax.rounded().fen
                sink.vr[i] = o.relief.rounded().fen
            } catch { vatOK = false }
        } else { vatOK = false }
        sink.vs[i] = vatOK ? BatchResult.ok : BatchResult.refused
        // EIT: enterprises only (RULES §3.1); a quarter needing the 2015 apportionment refuses the record.
        let qlo = Int(p.quarterStart[i]), qhi = Int(p.quarterStart[i + 1])
        guard qhi > qlo else { return }
        guard kind == .enterprise else { sink.es[i] = BatchResult.refused; return }
        var running = EITKernel.Running()
        var last = EITStepResult()
        let industry = eitRules.needsIndustry ? (p.industrial[i] ? 0 : 1) : 1
        for q in qlo..<qhi {
            last = EITKernel.step(eitRules, running: &running, industry: industry, restricted: p.restricted[i],
                                  employees: (p.employeesStart[q], p.employeesEnd[q]), assetsFen: (p.assetsStart[q], p.assetsEnd[q]),
                                  income: Money(fen: p.incomeYTD[q]), late: q - qlo == 3)
            if last.needsApportionment { sink.es[i] = BatchResult.refused; return }
        }
        sink.et[i] = last.taxRounded.fen
        sink.er[i] = last.relief.rounded().fen
        sink.ep[i] = running.prepaid.fen
        sink.eq[i] = last.qualifies
    }
}
