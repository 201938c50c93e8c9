import HuiqiDates

/// 营业税 (business tax) until 营改增 (2016-04-30): one return's turnover lines (RULES §2). An extension of the
/// case format (`business_tax`), tested separately from VAT sales as the notices require.
public struct BusinessTaxReturn: Sendable {
    public struct Line: Sendable {
        public var amount: Money
        /// The business tax rate of the item (3% transport and construction, 5% services, up to 20% entertainment).
        public var rate: Rate
        public init(amount: Money, rate: Rate) { self.amount = amount; self.rate = rate }
    }
    public var period: TaxPeriod
    public var turnover: [Line]
    public init(period: TaxPeriod, turnover: [Line]) { self.period = period; self.turnover = turnover }
}

public struct BusinessTaxDetermination: Sendable {
    public let period: TaxPeriod
    public let threshold: Money?
    public let turnover: Money
    public let exempt: Money
    public let tax: Money
    public let relief: Money
    public let explanation: Explanation
    public var json: JSON {
        .object([("period", .string(period.description)), ("threshold", threshold.map { $0.json } ?? .null),
                 ("turnover", turnover.json), ("exempt_turnover", exempt.json), ("taxable_turnover", (turnover - exempt).json),
                 ("tax", tax.json), ("relief", relief.json)] + explanation.jsonFields)
    }
}

extension Engine {
    /// RULES §2: the small-turnover exemption of 2013-08..2016-04 (a cliff: within the limit all exempt, above it
    /// all taxable) and, for individuals before 2014-10, the provincial 起征点.
    func determineBusinessTax(_ bt: BusinessTaxReturn, taxpayer: Taxpayer) throws(Refusal) -> BusinessTaxDetermination {
        let months = bt.period.months.map { Day.firstOf(year: $0.year, month: $0.month) }
        for d in months where (try? parameters.version("bt.supported_periods", on: d)) == nil {
            throw Refusal(.noRule, "business_tax.period", zh: "营业税规则仅覆盖 2009-01 至 2016-04（2016年5月1日起全面营改增）",
                          en: "business tax rules cover 2009-01 to 2016-04 only (replaced by VAT from 2016-05-01)", rule: "§2")
        }
        // The individuals' 起征点 changed on 2011-11-01 (RULES §0.2, §2): a quarter straddles it only for individuals.
        // For an unknown kind, only what straddles for everyone is a shape; the rest waits for the kind.
        let individual = taxpayer.kind == .individual || taxpayer.kind == .individualBusiness
        var names = ["bt.threshold.kind", "bt.exemption.eligible_kinds", "bt.exemption.limit.monthly", "bt.exemption.limit.quarterly"]
        if individual { names += ["bt.individual.uses_qizhengdian", "bt.individual.qizhengdian.monthly_range"] }
        if let changed = parameters.firstChange(of: names, keys: [nil], in: bt.period) {
            throw Refusal.shape("business_tax.period", zh: "\(bt.period) 季度内规则于 \(changed) 发生变化：请按月提供营业额",
                                en: "the rules change on \(changed), inside \(bt.period): give the turnover month by month", rule: "§0.2")
        }
        guard let kind = taxpayer.kind else {
            throw .missing("taxpayer.kind", zh: "营业税需要纳税人类型：请填写 taxpayer.kind", en: "business tax needs the taxpayer's kind: give taxpayer.kind", rule: "§2")
        }
        let d = months[0]
        func v(_ n: String) throws(Refusal) -> ParameterVersion {
            do { return try parameters.version(n, on: d) } catch { throw Refusal.noRule("business_tax.period", error) }
        }
        var ex = explanation()
        let total = bt.turnover.reduce(Money.zero) { $0 + $1.amount }
        let full = bt.turnover.reduce(Exact.zero) { $0 + Exact.product($1.amount, $1.rate) }
        ex.step(zh: "税款所属期 \(bt.period)（\(bt.period.frequencyZh)），营业额合计 \(total)，与增值税销售额分别计算",
                en: "period \(bt.period) (\(bt.period.isQuarterly ? "quarterly" : "monthly")): turnover \(total), tested apart from VAT sales")
        var limit: Money?
        let kindVersion = try v("bt.threshold.kind")
        let eligible: Bool
        if case .text("exemption") = kindVersion.value, case .list(let kinds) = try v("bt.exemption.eligible_kinds").value {
            eligible = kinds.contains(kind.rawValue)
        } else { eligible = false }
        if eligible {
            let lv = try v("bt.exemption.limit.\(bt.period.isQuarterly ? "quarterly" : "monthly")")
            if case .money(let m) = lv.value { limit = m }
            ex.cite(lv.cite)
        } else if individual, case .flag(true) = try v("bt.individual.uses_qizhengdian").value {
            guard taxpayer.province != nil else {
                throw .missing("taxpayer.region", zh: "\(d.year)年个人适用省定营业税起征点，需要所在地区：请填写 taxpayer.region",
                               en: "an individual is under the provincial business tax 起征点: give taxpayer.region", rule: "§2")
            }
            throw Refusal(.notSupported, "taxpayer.region", zh: "\(d.year)年个人适用省定营业税起征点，各省数值未收录，本引擎不推定",
                          en: "an individual is under the provincial business tax 起征点, which is not on record; the engine does not guess", rule: "§2")
        } else {
            ex.cite(kindVersion.cite)
            ex.step(zh: "本期没有适用于该纳税人的小微企业营业税免征政策", en: "no small-turnover exemption applies to this taxpayer in this period")
        }
        var exempt = Money.zero, tax = full
        if let limit {
            if total <= limit {
                exempt = total; tax = .zero
                ex.step(zh: "营业额 \(total) 不超过 \(limit)：全部免征", en: "turnover \(total) ≤ \(limit): all exempt")
            } else {
                ex.step(zh: "营业额 \(total) 超过 \(limit)：全额计税（不是超过部分）", en: "turnover \(total) > \(limit): the whole amount is taxable, not only the excess")
            }
        }
        for (i, l) in bt.turnover.enumerated() {
            ex.step(zh: "第 \(i + 1) 行：\(l.amount) × \(l.rate.percent) = \(Exact.product(l.amount, l.rate).rounded())", en: "line \(i + 1): \(l.amount) × \(l.rate.percent) = \(Exact.product(l.amount, l.rate).rounded())")
        }
        let taxRounded = tax.rounded()
        ex.step(zh: "应纳税额 \(taxRounded)，减免税额 \((full - tax).rounded())", en: "tax \(taxRounded), relief \((full - tax).rounded())")
        return BusinessTaxDetermination(period: bt.period, threshold: limit, turnover: total, exempt: exempt, tax: taxRounded,
                                        relief: (full - tax).rounded(), explanation: ex)
    }
}
