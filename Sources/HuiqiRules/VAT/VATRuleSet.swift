import HuiqiDates
/// The VAT rules in force for one tax period, resolved once from the parameters so that one case or a whole
/// population is evaluated against plain values. Built by `VATRuleSet.resolve`; mechanics are in `VATKernel`.
public struct VATRuleSet: Sendable {
    public enum LimitKind: String, Sendable { case none, exemption, qizhengdian }
    public enum Comparison: String, Sendable { case le, lt }
    public enum Scope: String, Sendable { case vatItemsCombined = "vat_items_combined", twoGroups = "two_groups", allCombined = "all_combined" }
    public enum Secondary: String, Sendable { case no, yes, unknown }
    public enum NetMode: String, Sendable { case refuse, grossTest = "gross_test", net }
    public enum Proration: String, Sendable { case refusePartial = "refuse_partial", prorateUnconfirmed = "prorate_unconfirmed", prorate, fullLimit = "full_limit" }
    /// What happens to a 3% line that the limit left taxable (RULES §1.5).
    public enum Treatment: Hashable, Sendable { case rate(Rate), exempt }
    /// Region key of the keyed 2020-2021 rules: 0 = elsewhere, 1 = Hubei.
    public typealias RegionKey = Int

    public let period: TaxPeriod
    public let limitKind: LimitKind
    public let eligibleKinds: Set<TaxpayerKind>
    public let limit: Money?
    public let monthlyLimit: Money?
    public let comparison: Comparison
    public let scope: Scope
    public let secondary: Secondary
    public let netMode: NetMode
    public let proration: Proration
    public let specialCountsInTotal: Bool
    public let immovableInScope: Bool
    public let individualsUseQizhengdian: Bool
    public let allowedRates: [Rate]
    public let excludedKindsMask: UInt8      // bit per SaleKind never reduced
    /// Whether a 专票 may waive the 1% reduction (放弃减税, from 2023).
    public let reductionWaivable: Bool
    /// Non-nil when the rate rules differ by region in this period: the GB/T 2260 prefix of Hubei.
    public let hubeiPrefix: String?
    /// Every parameter version consulted, for citations and traces.
    public let versions: [String: ParameterVersion]
    /// The same rules flattened for the per-line hot loop (no arrays, no enums with payloads).
    public private(set) var flat = Flat()
    public struct Flat: Sendable {
        public var allows3 = false, allows5 = false
        public var treatmentPPM: (Int64, Int64) = (0, 0), treatmentExempt: (Bool, Bool) = (false, false)
        public var specialPPM: (Int64, Int64) = (0, 0)
    }

    static let rate3 = Rate(ppm: 30_000)

    /// The parameters a VAT determination consults. A quarter is refused when any of them changes inside it.
    static let consulted = [
        "vat.supported_periods", "vat.levy_rates_allowed", "vat.threshold.kind", "vat.exemption.eligible_kinds",
        "vat.exemption.limit.monthly", "vat.exemption.limit.quarterly", "vat.qizhengdian.monthly", "vat.qizhengdian.quarterly",
        "vat.threshold.comparison", "vat.threshold.scope", "vat.threshold.immovable_secondary_test",
        "vat.threshold.net_of_deduction", "vat.rate3.treatment", "vat.rate3.special_invoice_rate", "vat.rate3.excluded_kinds",
        "vat.exemption.quarterly_proration", "vat.special_invoice.counts_in_total", "vat.immovable.in_scope",
        "vat.individual.uses_qizhengdian", "vat.region.hubei_prefix", "vat.rate3.reduction_waivable",
    ]
    /// Consulted only for 个体工商户 and 其他个人 (their 起征点 changed on 2011-11-01, RULES §0.2).
    static let consultedForIndividuals = ["vat.individual.qizhengdian.goods_monthly_range", "vat.individual.qizhengdian.labour_monthly_range"]

    /// Resolves the rules of `period`. Refuses a period outside the rules (`no_rule`) and a quarter whose
    /// months fall under different versions (`not_supported`, RULES §0.2).
    public static func resolve(_ period: TaxPeriod, parameters: ParameterSet, individual: Bool) throws(Refusal) -> VATRuleSet {
        try checkCovered(period, parameters: parameters)
        if let refusal = straddle(period, parameters: parameters, individual: individual) { throw refusal }
        return try rules(period, parameters: parameters, individual: individual)
    }

    /// Refuses a period outside the periods the rules cover (`no_rule`, RULES §0.2).
    public static func checkCovered(_ period: TaxPeriod, parameters: ParameterSet) throws(Refusal) {
        for (year, month) in period.months {
            do { _ = try parameters.version("vat.supported_periods", on: Day.firstOf(year: year, month: month)) } catch {
                throw Refusal(.noRule, "vat.period", zh: "税款所属期 \(period) 不在规则覆盖范围（2009-01 至 2027-12）内，本引擎不推定规则",
                              en: "period \(period) is outside the periods the rules cover (2009-01 to 2027-12); no rule is assumed", rule: "§0.2")
            }
        }
    }

    /// The refusal of a quarter inside which a consulted parameter changes (RULES §0.2), if it does: a quarterly
    /// case has no date per sale. The individuals' 起征点 ranges count only for individuals.
    public static func straddle(_ period: TaxPeriod, parameters: ParameterSet, individual: Bool) -> Refusal? {
        guard period.isQuarterly,
              let changed = parameters.firstChange(of: consulted + (individual ? consultedForIndividuals : []), keys: ["hubei", "elsewhere"], in: period)
        else { return nil }
        return .shape("vat.period", zh: "\(period) 季度内规则于 \(changed) 发生变化，案例无法区分各月销售额：请按月提供销售额",
                      en: "the rules change on \(changed), inside \(period); a quarterly case has no date per sale: give the sales month by month",
                      rule: "§0.2")
    }

    /// Every statutory levy rate in force in some month of a covered period: a rate outside them is invalid for
    /// the period (CASES.md "Errors", step 3); one in force in only part of a quarter meets the straddle refusal.
    public static func levyRates(in period: TaxPeriod, parameters: ParameterSet) -> Set<Rate> {
        var rates: Set<Rate> = []
        for (year, month) in period.months {
            if case .list(let l)? = try? parameters.version("vat.levy_rates_allowed", on: Day.firstOf(year: year, month: month)).value {
                rates.formUnion(l.compactMap { Rate(decimal: $0) })
            }
        }
        return rates
    }

    /// The rules in force on the first day of a covered period, without the straddle check.
    static func rules(_ period: TaxPeriod, parameters: ParameterSet, individual: Bool) throws(Refusal) -> VATRuleSet {
        let months = period.months.map { Day.firstOf(year: $0.year, month: $0.month) }
        let d = months[0]
        var used: [String: ParameterVersion] = [:]
        func v(_ name: String, key: String? = nil) throws(Refusal) -> ParameterVersion {
            do {
                let ver = try parameters.version(name, on: d, key: key)
                used[key.map { "\(name)#\($0)" } ?? name] = ver
                return ver
            } catch { throw Refusal.noRule("vat.period", error) }
        }
        func opt(_ name: String) -> ParameterVersion? {
            let ver = try? parameters.version(name, on: d)
            if let ver { used[name] = ver }
            return ver
        }
        func text(_ p: ParameterVersion) -> String { if case .text(let s) = p.value { return s }; return "" }
        func flag(_ p: ParameterVersion) -> Bool { if case .flag(let b) = p.value { return b }; return false }
        func list(_ p: ParameterVersion) -> [String] { if case .list(let l) = p.value { return l }; return [] }
        func money(_ p: ParameterVersion?) -> Money? { if let p, case .money(let m) = p.value { return m }; return nil }

        let kind = LimitKind(rawValue: text(try v("vat.threshold.kind")))!
        var limit: Money?, monthly: Money?
        var eligible: Set<TaxpayerKind> = []
        var comparison = Comparison.le, scope = Scope.allCombined, secondary = Secondary.no, proration = Proration.fullLimit
        var specialCounts = true
        if kind != .none {
            eligible = Set(list(try v("vat.exemption.eligible_kinds")).compactMap(TaxpayerKind.init(rawValue:)))
            let prefix = kind == .exemption ? "vat.exemption.limit" : "vat.qizhengdian"
            monthly = money(try v("\(prefix).monthly"))
            limit = period.isQuarterly ? money(try v("\(prefix).quarterly")) : monthly
            comparison = Comparison(rawValue: text(try v("vat.threshold.comparison")))!
            scope = Scope(rawValue: text(try v("vat.threshold.scope")))!
            secondary = Secondary(rawValue: text(try v("vat.threshold.immovable_secondary_test")))!
            proration = Proration(rawValue: text(try v("vat.exemption.quarterly_proration")))!
            specialCounts = flag(try v("vat.special_invoice.counts_in_total"))
        }
        let netMode = NetMode(rawValue: text(try v("vat.threshold.net_of_deduction")))!
        let allowed = list(try v("vat.levy_rates_allowed")).compactMap { Rate(decimal: $0) }
        var treatments: [Treatment] = [], special: [Rate] = []
        for key in ["elsewhere", "hubei"] {
            let t = try v("vat.rate3.treatment", key: key)
            switch t.value { case .rate(let r): treatments.append(.rate(r)); default: treatments.append(.exempt) }
            let s = try v("vat.rate3.special_invoice_rate", key: key)
            if case .rate(let r) = s.value { special.append(r) } else { special.append(rate3) }
        }
        var mask: UInt8 = 0
        for k in list(try v("vat.rate3.excluded_kinds")) { if let sk = SaleKind(name: k) { mask |= 1 << sk.rawValue } }
        let keyed = parameters.isKeyed("vat.rate3.treatment", on: d) || parameters.isKeyed("vat.rate3.special_invoice_rate", on: d)
        var hubei: String?
        if keyed { hubei = text(try v("vat.region.hubei_prefix")) }
        let immovable = flag(try v("vat.immovable.in_scope"))
        let indiv = flag(try v("vat.individual.uses_qizhengdian"))
        if individual { for n in consultedForIndividuals { _ = opt(n) } }
        var set = VATRuleSet(period: period, limitKind: kind, eligibleKinds: eligible, limit: limit, monthlyLimit: monthly,
                          comparison: comparison, scope: scope, secondary: secondary, netMode: netMode, proration: proration,
                          specialCountsInTotal: specialCounts, immovableInScope: immovable, individualsUseQizhengdian: indiv,
                          allowedRates: allowed, excludedKindsMask: mask, reductionWaivable: flag(try v("vat.rate3.reduction_waivable")),
                          hubeiPrefix: hubei, versions: used)
        set.flat.allows3 = allowed.contains(rate3)
        set.flat.allows5 = allowed.contains(Rate(ppm: 50_000))
        func ppm(_ t: Treatment) -> Int64 { if case .rate(let r) = t { return r.ppm }; return 0 }
        set.flat.treatmentPPM = (ppm(treatments[0]), ppm(treatments[1]))
        set.flat.treatmentExempt = (treatments[0] == .exempt, treatments[1] == .exempt)
        set.flat.specialPPM = (special[0].ppm, special[1].ppm)
        return set
    }

    /// The region key for a taxpayer, or nil when the rules of this period need the region and it is unknown.
    public func regionKey(region: String?) -> RegionKey? {
        guard let prefix = hubeiPrefix else { return 0 }
        guard let region else { return nil }
        return region.hasPrefix(prefix) ? 1 : 0
    }
}
