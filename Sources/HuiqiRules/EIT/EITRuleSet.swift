import HuiqiDates
/// The 小型微利企业 rules of one tax year, resolved once from the parameters (RULES §3).
public struct EITRuleSet: Sendable {
    public enum Schedule: String, Sendable { case flat, wholeAmountCap = "whole_amount_cap", bands, flatInclusion = "flat_inclusion" }

    public let year: Int
    public let standardRate: Rate
    public let slpeRate: Rate
    public let incomeLimit: Money
    /// Head-count and asset limits, indexed by industry: 0 = industrial, 1 = other (equal from 2019).
    public let employeesLimit: [Int64]
    public let assetsLimit: [Money]
    public let needsIndustry: Bool
    public let schedule: Schedule
    /// Whole-amount halving cap at the start and at the end of the year (they differ only in 2015, RULES §3.4).
    public let capAtStart: Money?
    public let capAtEnd: Money?
    /// Effective rates: halved (inclusion × 20%), band 1 and band 2 (2019–2022), flat inclusion (2023–).
    public let halvedRate: Rate
    public let band1Upper: Money
    public let band1Rate: Rate
    public let band2Rate: Rate
    public let averagingUnconfirmed: Bool
    public let prepaymentUnconfirmed: Bool
    /// Branches are tested together with the head office (from 2023, RULES §3.1): traced as an assumption.
    public let branchesCombined: Bool
    public let versions: [String: ParameterVersion]

    public static func resolve(year: Int, parameters: ParameterSet) throws(Refusal) -> EITRuleSet {
        guard let d = Day(year: year, month: 1, day: 1), (try? parameters.version("eit.supported_years", on: d)) != nil else {
            throw Refusal(.noRule, "eit.year", zh: "纳税年度 \(year) 不在规则覆盖范围（2008 至 2027）内，本引擎不推定规则",
                          en: "tax year \(year) is outside the years the rules cover (2008 to 2027); no rule is assumed", rule: "§0.2")
        }
        let end = Day(year: year, month: 12, day: 31)!
        var used: [String: ParameterVersion] = [:]
        func v(_ name: String, key: String? = nil, on day: Day? = nil) throws(Refusal) -> ParameterVersion {
            do {
                let ver = try parameters.version(name, on: day ?? d, key: key)
                used[key.map { "\(name)#\($0)" } ?? name] = ver
                return ver
            } catch { throw Refusal.noRule("eit.year", error) }
        }
        func rate(_ p: ParameterVersion) -> Rate { if case .rate(let r) = p.value { return r }; return .zero }
        func money(_ p: ParameterVersion) -> Money { if case .money(let m) = p.value { return m }; return .zero }
        func int(_ p: ParameterVersion) -> Int64 { if case .integer(let i) = p.value { return i }; return 0 }
        func text(_ p: ParameterVersion) -> String { if case .text(let s) = p.value { return s }; return "" }
        func product(_ a: Rate, _ b: Rate, _ what: String) throws(Refusal) -> Rate {
            guard let r = a.times(b) else {
                throw Refusal(.noRule, "eit.year", zh: "参数 \(what) 的乘积超出六位小数精度", en: "the product for \(what) has more than six decimals", rule: "§0.4")
            }
            return r
        }
        let slpeRate = rate(try v("eit.slpe.rate"))
        let schedule = Schedule(rawValue: text(try v("eit.slpe.schedule")))!
        var capStart: Money?, capEnd: Money?
        var halved = slpeRate, b1Upper = Money.zero, b1 = slpeRate, b2 = slpeRate
        switch schedule {
        case .flat: break
        case .wholeAmountCap:
            capStart = money(try v("eit.slpe.halving_whole_amount_cap"))
            capEnd = money(try v("eit.slpe.halving_whole_amount_cap", on: end))
            if capEnd != capStart { used["eit.slpe.halving_whole_amount_cap@end"] = try? parameters.version("eit.slpe.halving_whole_amount_cap", on: end) }
            halved = try product(rate(try v("eit.slpe.halving_inclusion")), slpeRate, "eit.slpe.halving_inclusion")
        case .bands:
            b1Upper = money(try v("eit.slpe.band1_upper"))
            b1 = try product(rate(try v("eit.slpe.band1_inclusion")), slpeRate, "eit.slpe.band1_inclusion")
            b2 = try product(rate(try v("eit.slpe.band2_inclusion")), slpeRate, "eit.slpe.band2_inclusion")
        case .flatInclusion:
            halved = try product(rate(try v("eit.slpe.flat_inclusion")), slpeRate, "eit.slpe.flat_inclusion")
        }
        let keyed = parameters.isKeyed("eit.slpe.employees_limit", on: d) || parameters.isKeyed("eit.slpe.assets_limit", on: d)
        var emp: [Int64] = [], assets: [Money] = []
        for key in ["industrial", "other"] {
            emp.append(int(try v("eit.slpe.employees_limit", key: key)))
            assets.append(money(try v("eit.slpe.assets_limit", key: key)))
        }
        return EITRuleSet(year: year, standardRate: rate(try v("eit.standard_rate")), slpeRate: slpeRate,
                          incomeLimit: money(try v("eit.slpe.income_limit")), employeesLimit: emp, assetsLimit: assets,
                          needsIndustry: keyed, schedule: schedule, capAtStart: capStart, capAtEnd: capEnd, halvedRate: halved,
                          band1Upper: b1Upper, band1Rate: b1, band2Rate: b2,
                          averagingUnconfirmed: text(try v("eit.averaging")) == "quarterly_unconfirmed",
                          prepaymentUnconfirmed: text(try v("eit.prepayment_method")) == "cumulative_unconfirmed",
                          branchesCombined: try v("eit.slpe.branches_combined").value == .flag(true), versions: used)
    }
}

/// The tests and tax of one prepayment or settlement, from cumulative figures (RULES §3.5, §3.7).
public struct EITStepResult: Sendable {
    public static let failedIncome: UInt8 = 1, failedEmployees: UInt8 = 2, failedAssets: UInt8 = 4, failedIndustry: UInt8 = 8
    public var quartersCounted: Int64 = 0
    /// Σ (start + end) over the quarters to date: the average is this ÷ (2 × quarters), compared exactly.
    public var employeesSum: Int64 = 0
    public var assetsSumFen: Int64 = 0
    public var failed: UInt8 = 0
    public var tax = Exact.zero
    public var relief = Exact.zero
    public var taxRounded = Money.zero
    public var payable = Money.zero
    public var overpaid = Money.zero
    /// 2015 with 200000 < Y ≤ 300000 at Q4 or settlement (RULES §3.4): no number, refuse.
    public var needsApportionment = false
    public var qualifies: Bool { failed == 0 }
}

/// The EIT mechanics shared by the single-case and batch paths: one call per quarter, cumulative state carried.
public enum EITKernel {
    /// The size limits of one industry (RULES §3.1), doubled: averages are compared exactly through the sums of
    /// (start + end), and the doubling is done once per enterprise instead of once per quarter.
    public struct Limits: Sendable {
        public let employeesTwice: Int64, assetsTwiceFen: Int64
        public init(_ r: EITRuleSet, industry: Int) {
            employeesTwice = r.employeesLimit[industry] * 2
            assetsTwiceFen = r.assetsLimit[industry].fen * 2
        }
    }

    public struct Running: Sendable {
        public var employeesSum: Int64 = 0, assetsSumFen: Int64 = 0, quarters: Int64 = 0
        /// S: Σ of the earlier quarters' reported (rounded) payable (RULES §3.5 step 4).
        public var prepaid = Money.zero
        public init() {}
    }

    /// Tax on income y under one schedule, for a qualifying enterprise (RULES §3.3). `late` is true for a Q4
    /// prepayment or the settlement (the 2015 cap of the year's end applies). Each schedule is a type, so that the
    /// batch path, which knows the year's schedule before its loop, gets a step compiled for that schedule alone;
    /// `AnySchedule` chooses by the rule set, for the single case.
    protocol Schedule { static func tax(_ r: borrowing EITRuleSet, _ y: Money, late: Bool, apportion: inout Bool) -> Exact }

    enum FlatSchedule: Schedule {
        @inline(__always) static func tax(_ r: borrowing EITRuleSet, _ y: Money, late: Bool, apportion: inout Bool) -> Exact {
            Exact.product(y, r.slpeRate)
        }
    }
    enum WholeAmountCapSchedule: Schedule {
        @inline(__always) static func tax(_ r: borrowing EITRuleSet, _ y: Money, late: Bool, apportion: inout Bool) -> Exact {
            let start = r.capAtStart!, end = r.capAtEnd!
            if y <= start { return Exact.product(y, r.halvedRate) }
            if start != end && y <= end && late { apportion = true }
            return Exact.product(y, r.slpeRate)
        }
    }
    enum BandsSchedule: Schedule {
        @inline(__always) static func tax(_ r: borrowing EITRuleSet, _ y: Money, late: Bool, apportion: inout Bool) -> Exact {
            let b1 = min(y, r.band1Upper)
            return Exact.product(b1, r.band1Rate) + Exact.product(y - b1, r.band2Rate)
        }
    }
    enum FlatInclusionSchedule: Schedule {
        @inline(__always) static func tax(_ r: borrowing EITRuleSet, _ y: Money, late: Bool, apportion: inout Bool) -> Exact {
            Exact.product(y, r.halvedRate)
        }
    }
    enum AnySchedule: Schedule {
        @inline(__always) static func tax(_ r: borrowing EITRuleSet, _ y: Money, late: Bool, apportion: inout Bool) -> Exact {
            switch r.schedule {
            case .flat: FlatSchedule.tax(r, y, late: late, apportion: &apportion)
            case .wholeAmountCap: WholeAmountCapSchedule.tax(r, y, late: late, apportion: &apportion)
            case .bands: BandsSchedule.tax(r, y, late: late, apportion: &apportion)
            case .flatInclusion: FlatInclusionSchedule.tax(r, y, late: late, apportion: &apportion)
            }
        }
    }

    /// One quarter (or, with `settlement`, the year): adds the quarter's figures to the running averages, runs the
    /// four tests, and computes tax, relief, payable and overpaid.
    @inline(__always)
    public static func step(_ r: borrowing EITRuleSet, running s: inout Running, limits: Limits, restricted: Bool,
                            employees: (Int64, Int64), assetsFen: (Int64, Int64), income y: Money,
                            late: Bool, settlement: Bool = false) -> EITStepResult {
        step(r, AnySchedule.self, running: &s, limits: limits, restricted: restricted, employees: employees, assetsFen: assetsFen,
             income: y, late: late, settlement: settlement)
    }

    /// `step` under a schedule known beforehand (`S`), the same mechanics.
    @inline(__always)
    static func step<S: Schedule>(_ r: borrowing EITRuleSet, _ schedule: S.Type, running s: inout Running, limits: Limits, restricted: Bool,
                                  employees: (Int64, Int64), assetsFen: (Int64, Int64), income y: Money,
                                  late: Bool, settlement: Bool = false) -> EITStepResult {
        if !settlement {
            s.employeesSum += employees.0 + employees.1
            s.assetsSumFen += assetsFen.0 + assetsFen.1
            s.quarters += 1
        }
        var o = EITStepResult()
        o.quartersCounted = s.quarters; o.employeesSum = s.employeesSum; o.assetsSumFen = s.assetsSumFen
        // The four tests as bits (a population's figures are random: branches on them would mispredict).
        // Averages are compared exactly through the sums: Σ(start + end) ≤ limit × 2 × quarters (RULES §0.4).
        func bit(_ b: Bool, _ v: UInt8) -> UInt8 { b ? v : 0 }
        o.failed = bit(y > r.incomeLimit, EITStepResult.failedIncome)
            | bit(s.employeesSum > limits.employeesTwice * s.quarters, EITStepResult.failedEmployees)
            | bit(s.assetsSumFen > limits.assetsTwiceFen * s.quarters, EITStepResult.failedAssets)
            | bit(restricted, EITStepResult.failedIndustry)
        let yPlus = max(y, .zero)
        let full = Exact.product(yPlus, r.standardRate)
        var apportion = false
        let preferential = S.tax(r, yPlus, late: late, apportion: &apportion)
        o.needsApportionment = apportion && o.failed == 0
        o.tax = o.failed == 0 ? preferential : full
        o.relief = full - o.tax
        o.taxRounded = o.tax.rounded()
        if !settlement {
            o.payable = Money(fen: max(0, o.taxRounded.fen - s.prepaid.fen))
            o.overpaid = Money(fen: max(0, s.prepaid.fen - o.taxRounded.fen))
            s.prepaid += o.payable
        }
        return o
    }
}
