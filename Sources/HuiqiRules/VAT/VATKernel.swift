/// Sales lines in columns, so one case and a population of millions go through the same code without
/// allocating per record. A case is a population of one (`VATLines(sales:)`).
public struct VATLines: Sendable {
    public var kind: [UInt8] = []
    public var amount: [Int64] = []       // fen
    public var deduction: [Int64] = []    // fen
    public var ratePPM: [Int64] = []
    public var special: [Bool] = []
    /// A 专票 line whose 1% reduction the taxpayer waived: taxed at its levy rate.
    public var waived: [Bool] = []
    public init() {}
    public init(sales: [Sale]) {
        reserve(sales.count)
        for s in sales { append(s) }
    }
    public mutating func reserve(_ n: Int) {
        kind.reserveCapacity(n); amount.reserveCapacity(n); deduction.reserveCapacity(n); ratePPM.reserveCapacity(n); special.reserveCapacity(n)
        waived.reserveCapacity(n)
    }
    public mutating func append(_ s: Sale) {
        kind.append(s.kind.rawValue); amount.append(s.amount.fen); deduction.append(s.deduction.fen)
        ratePPM.append(s.rate.ppm); special.append(s.specialInvoice); waived.append(s.waiveReduction)
    }
    public mutating func removeAll() {
        kind.removeAll(keepingCapacity: true); amount.removeAll(keepingCapacity: true); deduction.removeAll(keepingCapacity: true)
        ratePPM.removeAll(keepingCapacity: true); special.removeAll(keepingCapacity: true); waived.removeAll(keepingCapacity: true)
    }
    public var count: Int { kind.count }
}

/// A read-only view of `VATLines` without bounds checks or array indirection, for the kernel's hot loops.
/// Valid only inside `VATLines.withView`.
public struct VATLinesView: @unchecked Sendable {
    public let kind: UnsafeBufferPointer<UInt8>
    public let amount: UnsafeBufferPointer<Int64>
    public let deduction: UnsafeBufferPointer<Int64>
    public let ratePPM: UnsafeBufferPointer<Int64>
    public let special: UnsafeBufferPointer<Bool>
    public let waived: UnsafeBufferPointer<Bool>
}

extension VATLines {
    public func withView<R>(_ body: (VATLinesView) throws -> R) rethrows -> R {
        try kind.withUnsafeBufferPointer { k in
            try amount.withUnsafeBufferPointer { a in
                try deduction.withUnsafeBufferPointer { d in
                    try ratePPM.withUnsafeBufferPointer { r in
                        try special.withUnsafeBufferPointer { s in
                            try waived.withUnsafeBufferPointer { w in
                                try body(VATLinesView(kind: k, amount: a, deduction: d, ratePPM: r, special: s, waived: w))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Which limit applies to one taxpayer in one period (RULES §1.2, §1.4, §1.7, §1.8).
public struct VATLimitTest: Sendable {
    public enum Regime: Sendable { case noLimit, smallBusiness, provincialQizhengdian }
    public let regime: Regime
    /// The limit after any partial-quarter proration; nil when no limit applies.
    public let limit: Money?
    public let comparison: VATRuleSet.Comparison
    /// Months operated used for the limit (3 when assumed).
    public let months: Int
    /// FLAG U7 applies (RULES §1.7).
    public let flagU7: Bool
    public let monthsAssumed: Bool
}

/// What the VAT mechanics found for one return. Amounts in fen, tax and relief exact until reported.
public struct VATOutcome: Sendable {
    public var totalNet: Int64 = 0
    /// Tested totals: index 0 = all lines (or goods + processing in the two-group regime), 1 = services + intangibles.
    public var tested: (Int64, Int64) = (0, 0)
    public var immovableTested: Int64 = 0
    public var passed: (Bool, Bool) = (false, false)
    public var secondaryApplied = false
    /// 2026+: the 销售不动产 secondary test, not applied, would have exempted more (U2).
    public var secondaryAlternative = false
    public var exemptFen: Int64 = 0
    public var tax = Exact.zero
    /// Σ base × case rate over all lines: the tax without any relief.
    public var taxWithoutRelief = Exact.zero
    public var flags: UInt32 = 0
    public var relief: Exact { taxWithoutRelief - tax }

    public static let flagU1: UInt32 = 1 << 1, flagU2: UInt32 = 1 << 2, flagU3: UInt32 = 1 << 3
    public static let flagU4: UInt32 = 1 << 4, flagU5: UInt32 = 1 << 5, flagU7: UInt32 = 1 << 7
}

/// The fate of one line after the limit test and the 3% treatment.
public enum VATLineFate: Equatable, Sendable {
    case exemptByLimit
    case exemptByTreatment
    case taxed(Rate)
}

/// The VAT mechanics of RULES §1.3, §1.4, §1.5 and §8.4, shared by the single-case path and the batch path.
public enum VATKernel {
    /// The limit test for one taxpayer: refuses what RULES tells the engine to refuse.
    public static func limitTest(_ rules: VATRuleSet, kind: TaxpayerKind, monthsOperated: Int?,
                                 provincialLimit: () throws(Refusal) -> Money) throws(Refusal) -> VATLimitTest {
        let individual = kind == .individual || kind == .individualBusiness
        if individual && rules.individualsUseQizhengdian && !(rules.limitKind != .none && rules.eligibleKinds.contains(kind)) {
            guard !rules.period.isQuarterly else {
                throw Refusal.shape("vat.period", zh: "2014年10月以前个人适用按月的省定起征点，按季案例未经研究：请按月提供",
                              en: "before 2014-10 individuals have a monthly provincial 起征点; quarterly cases were not researched: file by month", rule: "§1.8")
            }
            return VATLimitTest(regime: .provincialQizhengdian, limit: try provincialLimit(), comparison: .lt, months: 1, flagU7: false, monthsAssumed: false)
        }
        guard rules.limitKind != .none, rules.eligibleKinds.contains(kind), let base = rules.limit else {
            return VATLimitTest(regime: .noLimit, limit: nil, comparison: .le, months: 3, flagU7: false, monthsAssumed: false)
        }
        guard rules.period.isQuarterly, let monthly = rules.monthlyLimit else {
            return VATLimitTest(regime: .smallBusiness, limit: base, comparison: rules.comparison, months: 1, flagU7: false, monthsAssumed: false)
        }
        switch (rules.proration, monthsOperated) {
        case (.fullLimit, let m?):
            return VATLimitTest(regime: .smallBusiness, limit: base, comparison: rules.comparison, months: m, flagU7: m < 3, monthsAssumed: false)
        case (.fullLimit, nil):
            return VATLimitTest(regime: .smallBusiness, limit: base, comparison: rules.comparison, months: 3, flagU7: false, monthsAssumed: false)
        case (_, nil):
            return VATLimitTest(regime: .smallBusiness, limit: base, comparison: rules.comparison, months: 3, flagU7: true, monthsAssumed: true)
        case (.refusePartial, let m?) where m < 3:
            throw Refusal.shape("vat.months_operated", zh: "2013年8月至2014年9月按季纳税不足一个季度的销售额度未经研究",
                          en: "the limit for a partial quarter in 2013-08..2014-09 was not researched", rule: "§1.7")
        case (.prorateUnconfirmed, let m?):
            return VATLimitTest(regime: .smallBusiness, limit: monthly * Int64(m), comparison: rules.comparison, months: m, flagU7: m < 3, monthsAssumed: false)
        case (_, let m?):
            return VATLimitTest(regime: .smallBusiness, limit: monthly * Int64(m), comparison: rules.comparison, months: m, flagU7: false, monthsAssumed: false)
        }
    }

    /// Why line `i` (counted from the first line of the return) is refused (RULES §1.3 step 1, §1.4, §1.8):
    /// built only on the cold path.
    @inline(never)
    static func lineRefusal(_ rules: VATRuleSet, kind: TaxpayerKind, lineKind: SaleKind, ratePPM: Int64, deduction: Int64,
                            index i: Int, regime: VATLimitTest.Regime, mixesCategories: Bool) -> Refusal? {
        if !rules.allowedRates.contains(Rate(ppm: ratePPM)) { return rateRefusal(rules.period, allowed: rules.allowedRates, index: i) }
        if lineKind == .immovable && kind == .individual {
            return .shape("vat.sales[\(i)].kind",
                           zh: "其他个人销售不动产按现行规定征免增值税，不适用小规模纳税人月（季）销售额免税/起征点",
                           en: "an individual's sale of an immovable is exempt or taxed under the housing rules, outside the small-scale limit (U27)", rule: "§1.3")
        }
        if lineKind == .immovable && !rules.immovableInScope {
            return Refusal(.notSupported, "vat.sales[\(i)].kind", zh: "2016年5月1日以前销售不动产缴纳营业税，不属于增值税",
                           en: "before 2016-05-01 sales of immovables were under business tax, not VAT", rule: "§1.4")
        }
        if deduction > 0 && rules.netMode == .refuse {
            return Refusal(.notSupported, "vat.sales[\(i)].deduction", zh: "2016年5月以前差额征税的处理未经研究（U31）",
                           en: "差额 treatment before 2016-05 not researched (U31)", rule: "§1.4")
        }
        if regime == .provincialQizhengdian {
            if lineKind == .services || lineKind == .intangibles {
                return Refusal(.notSupported, "vat.sales[\(i)].kind", zh: "服务、无形资产没有收录的起征点",
                               en: "services and intangibles have no 起征点 on record", rule: "§1.8")
            }
            if mixesCategories {
                return Refusal(.notSupported, "vat.sales", zh: "货物与劳务起征点合并判断未经研究（U29）",
                               en: "test of combined 起征点 categories (goods and labour) not researched (U29)", rule: "§1.8")
            }
        }
        return nil
    }

    /// A levy rate not in force for the period (CASES.md "Errors", step 3).
    static func rateRefusal(_ period: TaxPeriod, allowed: [Rate], index i: Int) -> Refusal {
        let list = allowed.sorted().map(\.description)
        return Refusal(.invalidInput, "vat.sales[\(i)].rate", zh: "\(period) 的法定征收率只有 \(list.joined(separator: "、"))",
                       en: "the statutory levy rates for \(period) are \(list.joined(separator: ", "))", rule: "§1.3", step: .periodInput)
    }

    /// Group of a sale kind for the limit test: 0, 1, or 2 (in no group: immovables in 2016-05..2018-12).
    /// Read from a 2-bit-per-kind table so that random line kinds cost no branch.
    @inline(__always) static func group(_ scope: VATRuleSet.Scope, _ kind: UInt8) -> Int {
        // goods 0, processing 0, services 1, intangibles 1, immovable 2
        let twoGroups: UInt64 = 0b10_01_01_00_00
        return scope == .twoGroups ? Int((twoGroups >> (2 * UInt64(kind))) & 3) : 0
    }

    @inline(__always) static func bit(_ b: Bool) -> UInt8 { b ? 1 : 0 }

    /// Whether the 3% treatment (RULES §1.5) reaches a line: a 3% line of a kind the period does not exclude.
    @inline(__always) static func isReducible(_ excludedKindsMask: UInt8, kind: UInt8, ratePPM: Int64) -> Bool {
        (bit(ratePPM == VATRuleSet.rate3.ppm) & ((excludedKindsMask >> kind) & 1 ^ 1)) == 1
    }

    @inline(__always) static func passes(_ t: Int64, _ limit: Int64, _ cmp: VATRuleSet.Comparison) -> Bool {
        cmp == .le ? t <= limit : t < limit
    }

    /// The mechanics for lines `range` of `lines`, under `test`, for a taxpayer of region key `key`.
    /// Refuses the return when a line breaks RULES §1.3 step 1, §1.4 or §1.8 (checked in the same pass).
    public static func evaluate(_ rules: VATRuleSet, test: VATLimitTest, key: VATRuleSet.RegionKey, kind: TaxpayerKind,
                                lines: VATLinesView, range: Range<Int>) throws(Refusal) -> VATOutcome {
        precondition(range.upperBound <= lines.kind.count && range.lowerBound >= 0, "line range outside the columns")
        var o = VATOutcome()
        let gross = rules.netMode == .grossTest
        let f = rules.flat
        let individual = kind == .individual
        let strict = !rules.immovableInScope || rules.netMode == .refuse || test.regime == .provincialQizhengdian
        // Flags are accumulated as bits: line kinds are random in a population, so branches on them mispredict.
        var anyDeduction: UInt8 = 0, anySpecial: UInt8 = 0, anyImmovable: UInt8 = 0, categories: UInt8 = 0
        // A non-immovable line off a 专票 with a base: the only kind the 销售不动产 secondary test could exempt.
        var anyOtherExemptible: UInt8 = 0
        let allows = (bit(f.allows3), bit(f.allows5))
        let countsSpecial = bit(rules.specialCountsInTotal)

        for i in range {
            let k = lines.kind[i], ppm = lines.ratePPM[i]
            let rateOK = (bit(ppm == 30_000) & allows.0) | (bit(ppm == 50_000) & allows.1)
            let immovable = bit(k == SaleKind.immovable.rawValue)
            categories |= UInt8(truncatingIfNeeded: (0b10_01 as UInt64) >> (2 * UInt64(k))) & 3  // goods 1, processing 2
            if (rateOK ^ 1) | (bit(individual) & immovable) | bit(strict) != 0,
               let refusal = lineRefusal(rules, kind: kind, lineKind: SaleKind(rawValue: k) ?? .goods, ratePPM: ppm,
                                         deduction: lines.deduction[i], index: i - range.lowerBound, regime: test.regime,
                                         mixesCategories: categories == 3) {
                throw refusal
            }
            let amount = lines.amount[i], deduction = lines.deduction[i]
            let base = amount - deduction
            o.totalNet += base
            o.taxWithoutRelief.units &+= Int128(base) &* Int128(ppm)
            let special = bit(lines.special[i])
            anyDeduction |= bit(deduction > 0)
            anySpecial |= special
            anyOtherExemptible |= (immovable ^ 1) & (special ^ 1) & bit(base > 0)
            let counted = countsSpecial | (special ^ 1)
            let tested = counted == 1 ? (gross ? amount : base) : 0
            anyImmovable |= immovable & counted
            o.immovableTested += immovable == 1 ? tested : 0
            let g = group(rules.scope, k)
            o.tested.0 += g == 0 ? tested : 0
            o.tested.1 += g == 1 ? tested : 0
        }
        let anySpecialLine = anySpecial == 1, anyImmovableLine = anyImmovable == 1, anyDeductionLine = anyDeduction == 1
        if anySpecialLine { o.flags |= VATOutcome.flagU3 }
        if gross && anyDeductionLine { o.flags |= VATOutcome.flagU5 }
        if rules.scope == .twoGroups && anyImmovableLine { o.flags |= VATOutcome.flagU4 }
        if test.flagU7 { o.flags |= VATOutcome.flagU7 }
        if let limit = test.limit?.fen {
            o.passed.0 = passes(o.tested.0, limit, test.comparison)
            o.passed.1 = rules.scope == .twoGroups && passes(o.tested.1, limit, test.comparison)
            if test.comparison == .lt && (o.tested.0 == limit || (rules.scope == .twoGroups && o.tested.1 == limit)) { o.flags |= VATOutcome.flagU1 }
            if !o.passed.0 && anyImmovableLine && rules.scope == .allCombined && test.regime == .smallBusiness {
                let alternative = passes(o.tested.0 - o.immovableTested, limit, test.comparison)
                if rules.secondary == .yes { o.secondaryApplied = alternative }
                // RULES §8.4: U2 only when the alternative would exempt a line that the literal test leaves taxable.
                else if rules.secondary == .unknown && alternative && anyOtherExemptible == 1 { o.secondaryAlternative = true; o.flags |= VATOutcome.flagU2 }
            }
        }
        let treatment = Treatment3(rules, key: key)
        for i in range {
            let base = lines.amount[i] - lines.deduction[i]
            let (limitExempt, rate) = lineRate(rules, o, treatment, kind: lines.kind[i], special: lines.special[i], waived: lines.waived[i],
                                               ratePPM: lines.ratePPM[i])
            let exempt = limitExempt || rate < 0
            o.exemptFen += exempt ? base : 0
            o.tax.units &+= Int128(base) &* Int128(exempt ? 0 : rate)
        }
        return o
    }

    /// The 3% treatment of one region key (RULES §1.5), hoisted out of the per-line loop.
    public struct Treatment3: Sendable {
        /// Rate in ppm of a 3% line that the limit left taxable; −1 = exempt (Hubei 2020-2021, everyone 2022-04..12).
        let ordinaryPPM: Int64
        let specialPPM: Int64
        let excludedKindsMask: UInt8
        init(_ rules: VATRuleSet, key: VATRuleSet.RegionKey) {
            let f = rules.flat
            let exempt = key == 1 ? f.treatmentExempt.1 : f.treatmentExempt.0
            ordinaryPPM = exempt ? -1 : (key == 1 ? f.treatmentPPM.1 : f.treatmentPPM.0)
            specialPPM = key == 1 ? f.specialPPM.1 : f.specialPPM.0
            excludedKindsMask = rules.excludedKindsMask
        }
    }

    /// One line after the limit test and the 3% treatment (RULES §1.3 steps 5-6): whether the limit exempts it,
    /// and the rate it is taxed at otherwise (−1 = exempt under §1.5). Written without branches on line data.
    @inline(__always)
    static func lineRate(_ rules: VATRuleSet, _ o: VATOutcome, _ t: Treatment3,
                         kind: UInt8, special: Bool, waived: Bool, ratePPM: Int64) -> (limitExempt: Bool, ratePPM: Int64) {
        let g = group(rules.scope, kind)
        let passedBits = bit(o.passed.0) | (bit(o.passed.1) << 1)
        let groupPassed = (passedBits >> UInt8(g)) & 1
        let secondary = bit(o.secondaryApplied) & bit(kind != SaleKind.immovable.rawValue)
        let limitExempt = (bit(!special) & (groupPassed | secondary)) == 1
        return (limitExempt, treatedRate(t, kind: kind, special: special, waived: waived, ratePPM: ratePPM))
    }

    /// The rate of a line the limit did not exempt (RULES §1.5): the 3% treatment, or the case rate; −1 = exempt.
    /// A 专票 whose reduction was waived keeps the case rate.
    @inline(__always)
    static func treatedRate(_ t: Treatment3, kind: UInt8, special: Bool, waived: Bool, ratePPM: Int64) -> Int64 {
        let reduced = (bit(isReducible(t.excludedKindsMask, kind: kind, ratePPM: ratePPM)) & bit(!waived)) == 1
        return reduced ? (special ? t.specialPPM : t.ordinaryPPM) : ratePPM
    }

    /// One line's fate, for the trace: the same computation as the kernel's loop.
    public static func fate(_ rules: VATRuleSet, _ o: VATOutcome, key: VATRuleSet.RegionKey,
                            kind: UInt8, special: Bool, waived: Bool, ratePPM: Int64) -> VATLineFate {
        let (limitExempt, rate) = lineRate(rules, o, Treatment3(rules, key: key), kind: kind, special: special, waived: waived, ratePPM: ratePPM)
        if limitExempt { return .exemptByLimit }
        return rate < 0 ? .exemptByTreatment : .taxed(Rate(ppm: rate))
    }
}
