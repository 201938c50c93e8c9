import HuiqiDates
import Dispatch
import Foundation
import Synchronization

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
        evaluate(p, into: &out, threads: threads)
        return out
    }

    /// Evaluates into existing result columns (resized if needed), so repeated chunks reuse their memory.
    public func evaluate(_ p: Population, into out: inout BatchResult, threads: Int = 2) {
        out.resize(p.count)
        // Kinds and months index the plans by address below: a value out of range would read past them. Every value
        // is below 4 exactly when their bitwise OR is (4 and above set a higher bit); an OR over the column has no
        // early exit, so it is vectorised (`allSatisfy` took about 1 ms a million records, inside the timed region).
        func orOfAll(_ column: [UInt8]) -> UInt8 { column.withUnsafeBufferPointer { $0.reduce(0, |) } }
        precondition(orOfAll(p.kind) | orOfAll(p.monthsOperated) < 4, "population kind or months operated out of range")
        // The limit test depends only on kind and months operated: resolve the 4 × 4 combinations once, with their
        // plans; the line tables depend only on the rule set and the region key (2 × 2).
        var plans: [VATKernel.Plan] = [], usable: [Bool] = []
        for k in TaxpayerKind.allCases {
            let rules = k == .individual || k == .individualBusiness ? vatRulesIndividual : vatRules
            for m in 0...3 {
                let test = try? VATKernel.limitTest(rules, kind: k, monthsOperated: m == 0 ? nil : m) { () throws(Refusal) -> Money in
                    throw Refusal(.notSupported, "taxpayer.region", zh: "", en: "provincial 起征点 not on record", rule: "§1.8")
                }
                usable.append(test != nil)
                plans.append(VATKernel.Plan(rules, test: test ?? VATLimitTest(regime: .noLimit, limit: nil, comparison: .le, months: 3, flagU7: false, monthsAssumed: false), kind: k))
            }
        }
        let rules = [vatRules, vatRulesIndividual]
        let tables = [VATKernel.LineTable(vatRules, key: 0), VATKernel.LineTable(vatRules, key: 1),
                      VATKernel.LineTable(vatRulesIndividual, key: 0), VATKernel.LineTable(vatRulesIndividual, key: 1)]
        let vat = VATPlans(rules: rules, tables: tables, plans: plans, usable: usable)
        // EIT's size limits by industry: index 0 industrial, 1 other (the only limits before industries differed).
        let eitLimits = (EITKernel.Limits(eitRules, industry: 0), EITKernel.Limits(eitRules, industry: 1))
        let n = p.count
        let workers = max(1, min(threads, n))
        // The records are taken in blocks from a shared counter rather than split in equal halves: on a shared machine
        // one worker is often held up, and with fixed halves the other would then wait for it at the end.
        let blocks = (n + Self.blockSize - 1) / Self.blockSize
        let nextBlock = BlockCounter()
        let hubei = vatRules.hubeiPrefix.flatMap { Int32($0) }
        p.withView { pv in
        p.lines.withView { view in
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
            // One thread per worker but the first, which runs here. (concurrentPerform was measured to run its
            // iterations one after another on this Linux build of Dispatch.)
            let work: @Sendable () -> Void = {
                vat.withPointers { vat in
                    while true {
                        let b = nextBlock.take()
                        guard b < blocks else { return }
                        let lo = b * Self.blockSize, hi = min(n, lo + Self.blockSize)
                        // VAT, then EIT: two passes over the block, each with fewer columns, registers and branches.
                        for i in lo..<hi { vatOne(pv, view, i, vat: vat, hubei: hubei, sink: sink) }
                        // The year's schedule is chosen here, once, so each loop is compiled for one schedule.
                        switch eitRules.schedule {
                        case .flat: eitChunk(pv, lo..<hi, EITKernel.FlatSchedule.self, limits: eitLimits, sink: sink)
                        case .wholeAmountCap: eitChunk(pv, lo..<hi, EITKernel.WholeAmountCapSchedule.self, limits: eitLimits, sink: sink)
                        case .bands: eitChunk(pv, lo..<hi, EITKernel.BandsSchedule.self, limits: eitLimits, sink: sink)
                        case .flatInclusion: eitChunk(pv, lo..<hi, EITKernel.FlatInclusionSchedule.self, limits: eitLimits, sink: sink)
                        }
                    }
                }
            }
            let group = DispatchGroup()
            for _ in 1..<workers {
                group.enter()
                Thread.detachNewThread { work(); group.leave() }
            }
            work()
            group.wait()
        }}}}}}}}}}}
    }

    /// Records per block taken from the shared counter: large enough that taking one costs nothing measurable, small
    /// enough that a held-up worker leaves little for the other to wait on.
    static let blockSize = 16_384

    /// The next block to evaluate, shared by the workers of one evaluation.
    final class BlockCounter: Sendable {
        private let next = Atomic<Int>(0)
        func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
    }

    struct Sink: @unchecked Sendable {
        let vs: UnsafeMutableBufferPointer<UInt8>, ve: UnsafeMutableBufferPointer<Int64>
        let vt: UnsafeMutableBufferPointer<Int64>, vr: UnsafeMutableBufferPointer<Int64>
        let es: UnsafeMutableBufferPointer<UInt8>, et: UnsafeMutableBufferPointer<Int64>
        let er: UnsafeMutableBufferPointer<Int64>, ep: UnsafeMutableBufferPointer<Int64>
        let eq: UnsafeMutableBufferPointer<Bool>
    }

    /// The rule sets, line tables and plans of one evaluation, which every record chooses among by index.
    struct VATPlans: Sendable {
        let rules: [VATRuleSet], tables: [VATKernel.LineTable], plans: [VATKernel.Plan], usable: [Bool]
        /// The same, by address, for the loop: no record copies a rule set, table or plan.
        struct Pointers {
            let rules: UnsafePointer<VATRuleSet>, tables: UnsafePointer<VATKernel.LineTable>
            let plans: UnsafePointer<VATKernel.Plan>, usable: UnsafePointer<Bool>
        }
        func withPointers(_ body: (Pointers) -> Void) {
            rules.withUnsafeBufferPointer { r in tables.withUnsafeBufferPointer { t in
                plans.withUnsafeBufferPointer { p in usable.withUnsafeBufferPointer { u in
                    body(Pointers(rules: r.baseAddress!, tables: t.baseAddress!, plans: p.baseAddress!, usable: u.baseAddress!))
                }}
            }}
        }
    }

    /// VAT of one record. Every result column is written exactly once: the buffers are reused between chunks.
    @inline(__always)
    func vatOne(_ p: PopulationView, _ lines: VATLinesView, _ i: Int, vat plans: VATPlans.Pointers, hubei: Int32?, sink: Sink) {
        // The record's plan is chosen by kind and months operated, its rule set and line table by whether it is an
        // individual's (kinds 2 and 3) and by region key.
        let kindIndex = Int(p.kind[i])
        let lo = Int(p.lineStart[i]), hi = Int(p.lineStart[i + 1])
        var vat: (Int64, Int64, Int64)?
        var key = 0
        let regionKnown = hubei == nil || p.region[i] != 0
        if let hubei { key = p.region[i] / 10_000 == hubei ? 1 : 0 }
        let plan = kindIndex * 4 + Int(p.monthsOperated[i])
        if regionKnown && plans.usable[plan] {
            if lo == hi { vat = (0, 0, 0) }  // no sales: nothing exempt, no tax, no relief
            else {
                let individual = kindIndex >> 1
                if let o = try? VATKernel.evaluate(plans.rules + individual, plans.tables + (2 * individual + key), plans.plans + plan,
                                                   lines: lines, range: lo..<hi) {
                    vat = (o.exemptFen, o.tax.rounded().fen, o.relief.rounded().fen)
                }
            }
        }
        sink.vs[i] = vat == nil ? BatchResult.refused : BatchResult.ok
        sink.ve[i] = vat?.0 ?? 0; sink.vt[i] = vat?.1 ?? 0; sink.vr[i] = vat?.2 ?? 0
    }

    /// EIT of records `range`, with the quarter's step compiled for the year's schedule `S`.
    func eitChunk<S: EITKernel.Schedule>(_ p: PopulationView, _ range: Range<Int>, _ schedule: S.Type,
                                         limits eitLimits: (EITKernel.Limits, EITKernel.Limits), sink: Sink) {
        for i in range { eitOne(p, i, schedule, limits: eitLimits, sink: sink) }
    }

    /// EIT of one record.
    @inline(__always)
    func eitOne<S: EITKernel.Schedule>(_ p: PopulationView, _ i: Int, _ schedule: S.Type, limits eitLimits: (EITKernel.Limits, EITKernel.Limits), sink: Sink) {
        let enterprise = p.kind[i] == 0  // TaxpayerKind index 0
        // EIT: enterprises only (RULES §3.1); a quarter needing the 2015 apportionment refuses the record.
        let qlo = Int(p.quarterStart[i]), qhi = Int(p.quarterStart[i + 1])
        var status = qhi > qlo && !enterprise ? BatchResult.refused : BatchResult.ok
        var running = EITKernel.Running()
        var last = EITStepResult()
        if status == BatchResult.ok && qhi > qlo {
            let limits = eitRules.needsIndustry && p.industrial[i] ? eitLimits.0 : eitLimits.1
            for q in qlo..<qhi {
                last = EITKernel.step(eitRules, schedule, running: &running, limits: limits, restricted: p.restricted[i],
                                      employees: (p.employeesStart[q], p.employeesEnd[q]), assetsFen: (p.assetsStart[q], p.assetsEnd[q]),
                                      income: Money(fen: p.incomeYTD[q]), late: q - qlo == 3)
                if last.needsApportionment { status = BatchResult.refused; break }
            }
        }
        let ok = status == BatchResult.ok && qhi > qlo
        sink.es[i] = status
        sink.et[i] = ok ? last.taxRounded.fen : 0
        sink.er[i] = ok ? last.relief.rounded().fen : 0
        sink.ep[i] = ok ? running.prepaid.fen : 0
        sink.eq[i] = ok && last.qualifies
    }
}
