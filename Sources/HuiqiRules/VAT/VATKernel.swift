/// Sales lines in columns, so one case and a population of millions go through the same code without
/// allocating per record. A case is a population of one (`VATLines(sales:)`). Lines are only appended, through
/// `append`, which also records each line's class: the columns cannot disagree.
public struct VATLines: Sendable {
    public private(set) var kind: [UInt8] = []
    public private(set) var amount: [Int64] = []       // fen
    public private(set) var deduction: [Int64] = []    // fen
    public private(set) var ratePPM: [Int64] = []
    public private(set) var special: [Bool] = []
    /// A 专票 line whose 1% reduction the taxpayer waived: taxed at its levy rate.
    public private(set) var waived: [Bool] = []
    /// Each line's class (`VATKernel.lineClass`), worked out once when the line is added rather than at every
    /// evaluation: a population is evaluated under many rule sets (baseline, reforms, periods), its lines never change.
    public private(set) var lineClass: [UInt8] = []
    public init() {}
    public init(sales: [Sale]) {
        reserve(sales.count)
        for s in sales { append(s) }
    }
    public mutating func reserve(_ n: Int) {
        kind.reserveCapacity(n); amount.reserveCapacity(n); deduction.reserveCapacity(n); ratePPM.reserveCapacity(n); special.reserveCapacity(n)
        waived.reserveCapacity(n); lineClass.reserveCapacity(n)
    }
    public mutating func append(_ s: Sale) {
        append(kind: s.kind.rawValue, amountFen: s.amount.fen, deductionFen: s.deduction.fen, ratePPM: s.rate.ppm,
               special: s.specialInvoice, waived: s.waiveReduction)
    }
    /// One line from its facts in column form (a kind's raw value, fen, ppm).
    public mutating func append(kind k: UInt8, amountFen: Int64, deductionFen: Int64, ratePPM r: Int64, special s: Bool, waived w: Bool) {
        kind.append(k); amount.append(amountFen); deduction.append(deductionFen); ratePPM.append(r); special.append(s); waived.append(w)
        lineClass.append(UInt8(VATKernel.lineClass(kind: k, special: s, waived: w, ratePPM: r)))
    }
    public mutating func removeAll() {
        kind.removeAll(keepingCapacity: true); amount.removeAll(keepingCapacity: true); deduction.removeAll(keepingCapacity: true)
        ratePPM.removeAll(keepingCapacity: true); special.removeAll(keepingCapacity: true); waived.removeAll(keepingCapacity: true)
        lineClass.removeAll(keepingCapacity: true)
    }
    /// Drops the lines from `count` on (a record whose compact form turned out unreadable).
    public mutating func truncate(to count: Int) {
        let n = self.count - count
        kind.removeLast(n); amount.removeLast(n); deduction.removeLast(n); ratePPM.removeLast(n); special.removeLast(n)
        waived.removeLast(n); lineClass.removeLast(n)
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
    public let lineClass: UnsafeBufferPointer<UInt8>
}

extension VATLines {
    public func withView<R>(_ body: (VATLinesView) throws -> R) rethrows -> R {
        try kind.withUnsafeBufferPointer { k in
            try amount.withUnsafeBufferPointer { a in
                try deduction.withUnsafeBufferPointer { d in
                    try ratePPM.withUnsafeBufferPointer { r in
                        try special.withUnsafeBufferPointer { s in
                            try waived.withUnsafeBufferPointer { w in
                                try lineClass.withUnsafeBufferPointer { c in
                                    try body(VATLinesView(kind: k, amount: a, deduction: d, ratePPM: r, special: s, waived: w, lineClass: c))
                                }
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
    static func group(_ scope: VATRuleSet.Scope, _ kind: UInt8) -> Int {
        guard scope == .twoGroups else { return 0 }
        switch SaleKind(rawValue: kind) ?? .goods {
        case .goods, .processing: return 0
        case .services, .intangibles: return 1
        case .immovable: return 2
        }
    }

    @inline(__always) static func bit(_ b: Bool) -> UInt8 { unsafeBitCast(b, to: UInt8.self) }
    @inline(__always) static func mask(_ b: Bool) -> Int64 { 0 &- Int64(unsafeBitCast(b, to: UInt8.self)) }

    /// Whether the 3% treatment (RULES §1.5) reaches a line: a 3% line of a kind the period does not exclude.
    static func isReducible(_ excludedKindsMask: UInt8, kind: UInt8, ratePPM: Int64) -> Bool {
        ratePPM == VATRuleSet.rate3.ppm && (excludedKindsMask >> kind) & 1 == 0
    }

    static func passes(_ t: Int64, _ limit: Int64, _ cmp: VATRuleSet.Comparison) -> Bool {
        cmp == .le ? t <= limit : t < limit
    }

    /// A line's class: what of the line decides its fate. Kind (0…4) + 5 × (专票 + 2 × (waived + 2 × rate code)),
    /// rate code 1 for 3 %, 2 for 5 %, 0 for any other rate: 60 classes. Computed without branches, because line
    /// kinds and rates are random in a population and a branch on them would mispredict.
    @inline(__always)
    static func lineClass(kind: UInt8, special: Bool, waived: Bool, ratePPM: Int64) -> Int {
        let rateCode = Int(bit(ratePPM == 30_000)) | Int(bit(ratePPM == 50_000)) << 1
        return (Int(kind) &+ 5 &* (Int(bit(special)) &+ 2 &* (Int(bit(waived)) &+ 2 &* rateCode))) & 63
    }

    /// One line class, described: the representative of each of the 60 classes, for building tables and plans.
    struct LineClassInfo: Sendable {
        let index: Int, kind: SaleKind, special: Bool, waived: Bool
        /// 30,000 or 50,000 for rate codes 1 and 2; 0 stands for "another rate" (code 0).
        let ratePPM: Int64
    }

    /// Every line class once, built once for the process (tables and plans are built per case on the single path).
    static let allClasses: [LineClassInfo] = SaleKind.allCases.flatMap { kind in
        [false, true].flatMap { special in
            [false, true].flatMap { waived in
                [Int64(0), 30_000, 50_000].map { ratePPM in
                    LineClassInfo(index: lineClass(kind: kind.rawValue, special: special, waived: waived, ratePPM: ratePPM),
                                  kind: kind, special: special, waived: waived, ratePPM: ratePPM)
                }
            }
        }
    }

    /// What the mechanics need to know of a line class under one rule set and region key (RULES §1.3-§1.5),
    /// worked out once per rule set instead of once per line. Depends on neither the taxpayer nor the limit test.
    struct LineTable: Sendable {
        static let group0: UInt16 = 1 << 1        // counted in the tested total of group 0
        static let group1: UInt16 = 1 << 2        // counted in the tested total of group 1 (two-group periods)
        static let immovableCounted: UInt16 = 1 << 3
        static let goods: UInt16 = 1 << 4, processing: UInt16 = 1 << 5
        static let otherExemptible: UInt16 = 1 << 6   // not an immovable, not on a 专票
        static let special: UInt16 = 1 << 7
        /// Per class: the bits above.
        var info = InlineArray<64, UInt16>(repeating: 0)
        /// Per class: the rate (ppm) of a line the limit leaves taxable, after the 3% treatment: −1 = exempt under
        /// §1.5; `Int64.min` = the line's own rate (a rate other than 3 % and 5 %).
        var rate = InlineArray<64, Int64>(repeating: Int64.min)
        /// Per state of the limit test (passed group 0, passed group 1, secondary test applied: 3 bits), the classes the
        /// limit exempts: not on a 专票, and in a group that passed, or not an immovable when the secondary test applied.
        var exemptByLimit = InlineArray<8, UInt64>(repeating: 0)

        init(_ rules: VATRuleSet, key: VATRuleSet.RegionKey) {
            let f = rules.flat
            let exempt3 = key == 1 ? f.treatmentExempt.1 : f.treatmentExempt.0
            let ordinaryPPM: Int64 = exempt3 ? -1 : (key == 1 ? f.treatmentPPM.1 : f.treatmentPPM.0)
            let specialPPM = key == 1 ? f.specialPPM.1 : f.specialPPM.0
            for line in VATKernel.allClasses {
                let c = line.index, kind = line.kind, special = line.special
                let counted = rules.specialCountsInTotal || !special
                let g = group(rules.scope, kind.rawValue)
                var bits: UInt16 = 0
                if counted && g == 0 { bits |= LineTable.group0 }
                if counted && g == 1 { bits |= LineTable.group1 }
                if counted && kind == .immovable { bits |= LineTable.immovableCounted }
                if kind == .goods { bits |= LineTable.goods }
                if kind == .processing { bits |= LineTable.processing }
                if kind != .immovable && !special { bits |= LineTable.otherExemptible }
                if special { bits |= LineTable.special }
                info[c] = bits
                let reducible = isReducible(rules.excludedKindsMask, kind: kind.rawValue, ratePPM: line.ratePPM) && !line.waived
                rate[c] = reducible ? (special ? specialPPM : ordinaryPPM) : line.ratePPM == 0 ? Int64.min : line.ratePPM
                for state in 0..<8 {
                    let groupPassed = g < 2 && (state >> g) & 1 == 1
                    let secondary = state & 4 != 0 && kind != .immovable
                    if !special && (groupPassed || secondary) { exemptByLimit[state] |= 1 << UInt64(c) }
                }
            }
        }
    }

    /// What depends on the taxpayer and its limit test, worked out once per (rule set, kind, months operated): which
    /// line classes must go through the full line checks (`lineRefusal`), and the scalars of the rule set that the
    /// kernel reads, so that a record touches no array of the rule set.
    struct Plan: Sendable {
        let test: VATLimitTest
        let kind: TaxpayerKind
        /// Classes checked line by line: a rate not (known to be) allowed, an individual's immovable, or every
        /// class in the periods whose checks depend on more than the class (strict).
        let checked: UInt64
        /// 0 when the limit tests gross amounts (before 差额), all ones when it tests the net base.
        let netMask: Int64
        let gross: Bool, twoGroups: Bool, allCombined: Bool
        let secondary: VATRuleSet.Secondary

        init(_ rules: VATRuleSet, test: VATLimitTest, kind: TaxpayerKind) {
            let strict = !rules.immovableInScope || rules.netMode == .refuse || test.regime == .provincialQizhengdian
            var checked: UInt64 = 0
            for line in VATKernel.allClasses {
                let rateOK = (line.ratePPM == 30_000 && rules.flat.allows3) || (line.ratePPM == 50_000 && rules.flat.allows5)
                if strict || !rateOK || (kind == .individual && line.kind == .immovable) { checked |= 1 << UInt64(line.index) }
            }
            self.test = test
            self.kind = kind
            self.checked = checked
            gross = rules.netMode == .grossTest
            netMask = gross ? 0 : ~0
            twoGroups = rules.scope == .twoGroups
            allCombined = rules.scope == .allCombined
            secondary = rules.secondary
        }
    }

    /// The mechanics for lines `range` of `lines`, under `test`, for a taxpayer of region key `key`.
    /// Refuses the return when a line breaks RULES §1.3 step 1, §1.4 or §1.8 (the first such line, in order).
    public static func evaluate(_ rules: VATRuleSet, test: VATLimitTest, key: VATRuleSet.RegionKey, kind: TaxpayerKind,
                                lines: VATLinesView, range: Range<Int>) throws(Refusal) -> VATOutcome {
        var rules = rules, table = LineTable(rules, key: key), plan = Plan(rules, test: test, kind: kind)
        return try evaluate(&rules, &table, &plan, lines: lines, range: range)
    }

    /// `evaluate` with the line table and plan worked out beforehand (the batch path keeps one per combination).
    /// Everything is passed by address: a copy per record would cost more than the record. Inlined into the batch
    /// loop, so that the outcome's fields the batch does not read are never computed.
    @inline(__always)
    static func evaluate(_ rules: UnsafePointer<VATRuleSet>, _ table: UnsafePointer<LineTable>, _ plan: UnsafePointer<Plan>,
                         lines: VATLinesView, range: Range<Int>) throws(Refusal) -> VATOutcome {
        precondition(range.upperBound <= lines.lineClass.count && range.lowerBound >= 0, "line range outside the columns")
        var o = VATOutcome()
        // What the lines share, accumulated as bits (no branch on line data), and the tested totals.
        var seen: UInt16 = 0, anyDeduction: UInt8 = 0, anyOtherExemptible: UInt8 = 0
        var totalNet: Int64 = 0, tested0: Int64 = 0, tested1: Int64 = 0, immovableTested: Int64 = 0
        var withoutRelief: Int128 = 0
        let checked = plan.pointee.checked, netMask = plan.pointee.netMask
        var anyChecked: UInt64 = 0
        for i in range {
            let ppm = lines.ratePPM[i]
            let c = Int(lines.lineClass[i])
            let info = table.pointee.info[c]
            seen |= info
            anyChecked |= checked >> UInt64(c)
            let amount = lines.amount[i], deduction = lines.deduction[i]
            let base = amount - deduction
            totalNet += base
            withoutRelief &+= Int128(base) &* Int128(ppm)
            anyDeduction |= bit(deduction > 0)
            anyOtherExemptible |= bit(info & LineTable.otherExemptible != 0) & bit(base > 0)
            let tested = amount - (deduction & netMask)
            tested0 += tested & mask(info & LineTable.group0 != 0)
            tested1 += tested & mask(info & LineTable.group1 != 0)
            immovableTested += tested & mask(info & LineTable.immovableCounted != 0)
        }
        // The full line checks, for the returns that have a line of a checked class (the loop above calls nothing,
        // so that its accumulators stay in registers). The first refusing line is the one reported, as before.
        if anyChecked & 1 != 0, let refusal = firstLineRefusal(rules, plan, lines: lines, range: range) { throw refusal }
        o.totalNet = totalNet
        o.taxWithoutRelief.units = withoutRelief
        o.tested = (tested0, tested1)
        o.immovableTested = immovableTested
        limitTest(&o, plan, seen: seen, anyDeduction: anyDeduction == 1, anyOtherExemptible: anyOtherExemptible == 1)
        let exemptClasses = table.pointee.exemptByLimit[state(o)]
        var exemptFen: Int64 = 0, tax: Int128 = 0
        for i in range {
            let ppm = lines.ratePPM[i]
            let c = Int(lines.lineClass[i])
            let base = lines.amount[i] - lines.deduction[i]
            let (exempt, rate) = lineRateMasked(table, exemptClasses, c, ratePPM: ppm)
            exemptFen += base & exempt
            tax &+= Int128(base) &* Int128(rate & ~exempt)
        }
        o.exemptFen = exemptFen
        o.tax.units = tax
        return o
    }

    /// The first line of `range` that RULES §1.3 step 1, §1.4 or §1.8 refuses, in order; categories (goods and
    /// processing) are those of the lines up to and including the one checked.
    @inline(never)
    static func firstLineRefusal(_ rules: UnsafePointer<VATRuleSet>, _ plan: UnsafePointer<Plan>,
                                 lines: VATLinesView, range: Range<Int>) -> Refusal? {
        var goods = false, processing = false
        for i in range {
            let lineKind = SaleKind(rawValue: lines.kind[i]) ?? .goods
            goods = goods || lineKind == .goods
            processing = processing || lineKind == .processing
            let c = Int(lines.lineClass[i])
            guard (plan.pointee.checked >> UInt64(c)) & 1 != 0 else { continue }
            if let refusal = lineRefusal(rules.pointee, kind: plan.pointee.kind, lineKind: lineKind, ratePPM: lines.ratePPM[i],
                                         deduction: lines.deduction[i], index: i - range.lowerBound,
                                         regime: plan.pointee.test.regime, mixesCategories: goods && processing) {
                return refusal
            }
        }
        return nil
    }

    /// The limit test on the tested totals, and the flags the lines raise (RULES §1.3 steps 3-4, §8.4).
    @inline(__always)
    static func limitTest(_ o: inout VATOutcome, _ plan: UnsafePointer<Plan>, seen: UInt16, anyDeduction: Bool, anyOtherExemptible: Bool) {
        let test = plan.pointee.test, twoGroups = plan.pointee.twoGroups
        let anyImmovableLine = seen & LineTable.immovableCounted != 0
        if seen & LineTable.special != 0 { o.flags |= VATOutcome.flagU3 }
        if plan.pointee.gross && anyDeduction { o.flags |= VATOutcome.flagU5 }
        if twoGroups && anyImmovableLine { o.flags |= VATOutcome.flagU4 }
        if test.flagU7 { o.flags |= VATOutcome.flagU7 }
        if let limit = test.limit?.fen {
            o.passed.0 = passes(o.tested.0, limit, test.comparison)
            o.passed.1 = twoGroups && passes(o.tested.1, limit, test.comparison)
            if test.comparison == .lt && (o.tested.0 == limit || (twoGroups && o.tested.1 == limit)) { o.flags |= VATOutcome.flagU1 }
            if !o.passed.0 && anyImmovableLine && plan.pointee.allCombined && test.regime == .smallBusiness {
                let alternative = passes(o.tested.0 - o.immovableTested, limit, test.comparison)
                if plan.pointee.secondary == .yes { o.secondaryApplied = alternative }
                // RULES §8.4: U2 only when the alternative would exempt a line that the literal test leaves taxable.
                else if plan.pointee.secondary == .unknown && alternative && anyOtherExemptible { o.secondaryAlternative = true; o.flags |= VATOutcome.flagU2 }
            }
        }
    }

    /// The limit test's outcome as an index into `LineTable.exemptByLimit`.
    @inline(__always) static func state(_ o: VATOutcome) -> Int {
        Int(bit(o.passed.0)) | Int(bit(o.passed.1)) << 1 | Int(bit(o.secondaryApplied)) << 2
    }

    /// One line after the limit test and the 3% treatment (RULES §1.3 steps 5-6): `exempt` is all ones when the line
    /// is exempt (by the limit or under §1.5) and zero otherwise, and `ratePPM` the rate it is taxed at otherwise
    /// (−1 = exempt under §1.5). Both are selected with masks, not branches: whether a line is exempt is as random as
    /// its kind, so a branch on it would mispredict.
    @inline(__always)
    static func lineRateMasked(_ table: UnsafePointer<LineTable>, _ exemptClasses: UInt64, _ c: Int, ratePPM: Int64) -> (exempt: Int64, ratePPM: Int64) {
        let limitExempt = Int64(bitPattern: (exemptClasses >> UInt64(c)) & 1)
        let treated = table.pointee.rate[c]
        let own = mask(treated == Int64.min)
        let rate = (ratePPM & own) | (treated & ~own)
        // A negative rate (−1) means exempt under §1.5: its sign bit, as 0 or 1.
        let treatmentExempt = Int64(bitPattern: UInt64(bitPattern: rate) >> 63)
        return (0 &- (limitExempt | treatmentExempt), rate)
    }

    /// One line's fate, for the trace: the same computation as the kernel's loop, with the return's line table
    /// (`LineTable(rules, key:)`, built once per return).
    static func fate(_ table: LineTable, _ o: VATOutcome, kind: UInt8, special: Bool, waived: Bool, ratePPM: Int64) -> VATLineFate {
        let c = lineClass(kind: kind, special: special, waived: waived, ratePPM: ratePPM)
        let exemptClasses = table.exemptByLimit[state(o)]
        if (exemptClasses >> UInt64(c)) & 1 == 1 { return .exemptByLimit }
        let (_, rate) = withUnsafePointer(to: table) { lineRateMasked($0, exemptClasses, c, ratePPM: ratePPM) }
        return rate < 0 ? .exemptByTreatment : .taxed(Rate(ppm: rate))
    }
}
