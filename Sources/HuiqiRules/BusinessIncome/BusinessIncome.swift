import HuiqiDates
/// The 个体工商户 section: tax on business income (经营所得) and the halving (RULES §5).
public struct BusinessIncomeDetermination: Sendable {
    public let year: Int
    public let taxBeforeRelief: Money
    public let relief: Money
    public let tax: Money
    public let explanation: Explanation
    public var json: JSON {
        .object([("year", .number("\(year)")), ("tax_before_relief", taxBeforeRelief.json), ("relief", relief.json), ("tax", tax.json)]
                + explanation.jsonFields)
    }
}

/// The mechanics of RULES §5.2, shared by the single-case and batch paths.
public enum BusinessIncomeKernel {
    /// T(I): PIT table 2 applied to income i (exact; the table's rates have at most two decimals).
    public static func tableTax(_ brackets: [Bracket], _ i: Money) -> Exact {
        guard i > .zero else { return .zero }
        for b in brackets where b.upTo == nil || i <= b.upTo! {
            return Exact.product(i, b.rate) - b.quickDeduction.exact
        }
        return .zero
    }

    /// (tax before relief, relief, tax), each in fen: the first two rounded from exact values, tax from the
    /// rounded figures, as on the return (RULES §0.4 exception).
    public static func compute(brackets: [Bracket], share: Rate, cap: Money?, income i: Money, otherRelief r: Money)
        -> (before: Money, relief: Money, tax: Money) {
        guard i > .zero else { return (.zero, .zero, .zero) }
        let before = tableTax(brackets, i).rounded()
        var relief = Money.zero
        if share != .zero, let cap {
            let p = min(i, cap)
            // [T(P) − R × P ÷ I] × share, carried as one exact quotient over I until its single rounding.
            let numerator = (tableTax(brackets, p).units * Int128(i.fen) - Int128(r.fen) * Int128(p.fen) * Int128(Exact.perFen)) * Int128(share.ppm)
            let rounded = Exact(units: numerator).rounded(dividingBy: Int128(i.fen) * Int128(Rate.scale))
            relief = max(.zero, rounded)
        }
        let tax = Money(fen: max(0, before.fen - r.fen - relief.fen))
        return (before, relief, tax)
    }
}

extension Engine {
    func determineBusinessIncome(_ bi: BusinessIncomeReturn, taxpayer: Taxpayer) throws(Refusal) -> BusinessIncomeDetermination {
        guard let d = Day(year: bi.year, month: 1, day: 1), (try? parameters.version("pit.business.supported_years", on: d)) != nil else {
            throw Refusal(.noRule, "business_income.year", zh: "纳税年度 \(bi.year) 不在规则覆盖范围（2019 至 2027）内",
                          en: "tax year \(bi.year) is outside the years the rules cover (2019 to 2027)", rule: "§0.2")
        }
        guard let kind = taxpayer.kind else {
            throw .missing("taxpayer.kind", zh: "经营所得需要纳税人类型：请填写 taxpayer.kind", en: "business income needs the taxpayer's kind: give taxpayer.kind", rule: "§5.1")
        }
        guard kind == .individualBusiness else {
            throw Refusal(.notApplicable, "taxpayer.kind", zh: "经营所得减半征收仅适用于个体工商户（不含个人独资企业、合伙企业投资者）",
                          en: "the halving is for 个体工商户 only (not investors in sole proprietorships or partnerships)", rule: "§5.1")
        }
        guard let other = bi.otherRelief else {
            throw .missing("business_income.other_relief", zh: "减半计算需要其他政策已减免的税额：请填写 business_income.other_relief（无则填 0）",
                           en: "the halving formula needs the relief already given under other policies: give business_income.other_relief (0 if none)", rule: "§5.2")
        }
        func v(_ n: String) throws(Refusal) -> ParameterVersion {
            do { return try parameters.version(n, on: d) } catch { throw Refusal.noRule("business_income.year", error) }
        }
        let bv = try v("pit.business.brackets"), sv = try v("pit.business.halving_share")
        guard case .brackets(let brackets) = bv.value, case .rate(let share) = sv.value else {
            throw Refusal(.noRule, "business_income.year", zh: "参数类型错误", en: "parameter of the wrong type", rule: "§5")
        }
        var cap: Money?
        var capVersion: ParameterVersion?
        if share != .zero {
            let c = try v("pit.business.halving_cap")
            if case .money(let m) = c.value { cap = m; capVersion = c }
        }
        let r = BusinessIncomeKernel.compute(brackets: brackets, share: share, cap: cap, income: bi.taxableIncome, otherRelief: other)
        var ex = explanation()
        ex.cite(bv.cite)
        let i = bi.taxableIncome
        ex.step(zh: "应纳税所得额 \(i)，按经营所得税率表：税额 = \(r.before)", en: "taxable income \(i); PIT table 2 gives tax before relief \(r.before)")
        if let cap, let capVersion {
            ex.cite(capVersion.cite); ex.cite(sv.cite)
            let p = min(i, cap)
            ex.step(zh: "减半部分 P = min(\(i), \(cap)) = \(p)；减免税额 = [T(P) − 其他减免 \(other) × P ÷ 所得] × \(share.percent) = [\(BusinessIncomeKernel.tableTax(brackets, p).rounded()) − \(other) × \(p) ÷ \(i)] × \(share.percent) = \(r.relief)",
                    en: "halved part P = min(\(i), \(cap)) = \(p); relief = [T(P) − other relief \(other) × P ÷ I] × \(share.percent) = [\(BusinessIncomeKernel.tableTax(brackets, p).rounded()) − \(other) × \(p) ÷ \(i)] × \(share.percent) = \(r.relief) (国家税务总局 formula)")
        } else {
            ex.cite(sv.cite)
            ex.step(zh: "\(bi.year) 年没有个体工商户减半征收政策，减免 0", en: "no halving in \(bi.year): relief 0")
        }
        ex.step(zh: "应纳税额 = \(r.before) − \(other) − \(r.relief) = \(r.tax)", en: "tax = \(r.before) − \(other) − \(r.relief) = \(r.tax) (from the rounded lines)")
        return BusinessIncomeDetermination(year: bi.year, taxBeforeRelief: r.before, relief: r.relief, tax: r.tax, explanation: ex)
    }
}
