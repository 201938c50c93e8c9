/// One prepayment quarter of the EIT section (CASES.md "Output").
public struct EITQuarterResult: Sendable {
    public let quarter: Int
    public let step: EITStepResult
    /// 截至本期末季度平均值, reported to two decimals (the test itself uses the exact sums).
    public var employeesAverage: Money { Exact(fen: step.employeesSum * 100).rounded(dividingBy: Int128(2 * step.quartersCounted)) }
    public var assetsAverage: Money { Exact(fen: step.assetsSumFen).rounded(dividingBy: Int128(2 * step.quartersCounted)) }
    public var failedCodes: [String] {
        [(EITStepResult.failedIncome, "taxable_income"), (EITStepResult.failedEmployees, "employees"),
         (EITStepResult.failedAssets, "assets"), (EITStepResult.failedIndustry, "industry")]
            .filter { step.failed & $0.0 != 0 }.map(\.1)
    }
    var json: JSON {
        .object([("quarter", .number("\(quarter)")), ("employees_avg", .string(employeesAverage.description)),
                 ("assets_avg", assetsAverage.json), ("small_low_profit", .bool(step.qualifies)),
                 ("failed", .array(failedCodes.map { .string($0) })), ("tax_ytd", step.taxRounded.json),
                 ("relief_ytd", step.relief.rounded().json), ("payable", step.payable.json), ("overpaid", step.overpaid.json)])
    }
}

/// The EIT section: the prepayments and, when the case has it, the annual settlement (汇算清缴, RULES §3.7).
public struct EITDetermination: Sendable {
    public let year: Int
    public let quarters: [EITQuarterResult]
    public let annual: EITStepResult?
    public let prepaid: Money
    public let explanation: Explanation

    public var json: JSON {
        var kv: [(String, JSON)] = [("year", .number("\(year)")), ("quarters", .array(quarters.map(\.json)))]
        if let a = annual {
            let q = EITQuarterResult(quarter: 0, step: a)
            let settlement = a.taxRounded - prepaid
            kv.append(("annual", .object([("employees_avg", .string(q.employeesAverage.description)), ("assets_avg", q.assetsAverage.json),
                                          ("small_low_profit", .bool(a.qualifies)), ("failed", .array(q.failedCodes.map { .string($0) })),
                                          ("tax", a.taxRounded.json), ("relief", a.relief.rounded().json), ("prepaid", prepaid.json),
                                          ("settlement", settlement.json)])))
        }
        return .object(kv + explanation.jsonFields)
    }
}

extension Engine {
    /// RULES §3: 小型微利企业 enterprise income tax, prepayments quarter by quarter and the settlement.
    func determineEIT(_ eit: EITReturn, taxpayer: Taxpayer) throws(Refusal) -> EITDetermination {
        let rules = try EITRuleSet.resolve(year: eit.year, parameters: parameters)
        // CASES.md "Errors": not applicable (4), a unit (5), then the missing facts (6); U12 (7) comes with the figures.
        if taxpayer.kind == .individual || taxpayer.kind == .individualBusiness {
            throw Refusal(.notApplicable, "taxpayer.kind", zh: "个体工商户和其他个人不缴纳企业所得税（经营所得缴纳个人所得税）",
                          en: "individual businesses and individuals pay no EIT (their business income is under PIT)", rule: "§3.1")
        }
        guard let kind = taxpayer.kind else {
            throw .missing("taxpayer.kind", zh: "企业所得税需要纳税人类型：请填写 taxpayer.kind", en: "EIT needs the taxpayer's kind: give taxpayer.kind", rule: "§3.1")
        }
        // No fact makes a non-enterprise unit computable: a shape (5), before the facts it would otherwise need.
        if kind == .unit {
            throw .shape("taxpayer.kind", zh: "非企业性单位能否成为小型微利企业未经研究（U30）",
                         en: "whether a non-enterprise unit can be a 小型微利企业 was not researched (U30)", rule: "§3.1")
        }
        // Missing taxpayer facts in the order of the case: industry, then restricted_industry.
        var industry = 1
        if rules.needsIndustry {
            guard let ind = taxpayer.industry else {
                throw .missing("taxpayer.industry", zh: "\(eit.year) 年小型微利企业标准区分工业企业和其他企业：请填写 taxpayer.industry",
                               en: "the \(eit.year) limits differ for industrial and other enterprises: give taxpayer.industry", rule: "§3.1")
            }
            industry = ind == .industrial ? 0 : 1
        }
        guard let restricted = taxpayer.restrictedIndustry else {
            throw .missing("taxpayer.restricted_industry", zh: "需要说明是否从事国家限制和禁止行业：请填写 taxpayer.restricted_industry（未知不等于否）",
                           en: "whether the enterprise is in a restricted or prohibited industry is unknown: give taxpayer.restricted_industry", rule: "§3.1")
        }
        var running = EITKernel.Running()
        let limits = EITKernel.Limits(rules, industry: industry)
        var results: [EITQuarterResult] = []
        for (i, q) in eit.quarters.enumerated() {
            let number = eit.startQuarter + i
            let r = EITKernel.step(rules, running: &running, limits: limits, restricted: restricted,
                                   employees: (q.employeesStart, q.employeesEnd), assetsFen: (q.assetsStart.fen, q.assetsEnd.fen),
                                   income: q.taxableIncomeYTD, late: number == 4)
            if r.needsApportionment { throw apportionRefusal("eit.quarters[\(i)].taxable_income_ytd") }
            results.append(EITQuarterResult(quarter: number, step: r))
        }
        var annual: EITStepResult?
        if let y = eit.annualTaxableIncome {
            let a = EITKernel.step(rules, running: &running, limits: limits, restricted: restricted,
                                   employees: (0, 0), assetsFen: (0, 0), income: y, late: true, settlement: true)
            if a.needsApportionment { throw apportionRefusal("eit.annual.taxable_income") }
            annual = a
        }
        var ex = explanation()
        explainEIT(&ex, eit: eit, rules: rules, industry: industry, results: results, annual: annual, prepaid: running.prepaid)
        return EITDetermination(year: eit.year, quarters: results, annual: annual, prepaid: running.prepaid, explanation: ex)
    }

    private func apportionRefusal(_ path: String) -> Refusal {
        Refusal(.notSupported, path, zh: "2015年所得额在20万至30万元之间的，第四季度和年度按经营月份分摊（国家税务总局公告2015年第61号），计算方法未经核实（U12）",
                en: "2015 apportionment under 国家税务总局公告2015年第61号 not verified (U12)", rule: "§3.4")
    }

    private func explainEIT(_ ex: inout Explanation, eit: EITReturn, rules: EITRuleSet, industry: Int,
                            results: [EITQuarterResult], annual: EITStepResult?, prepaid: Money) {
        let v = rules.versions
        let ind = rules.needsIndustry ? (industry == 0 ? "工业企业" : "其他企业") : ""
        let indEn = rules.needsIndustry ? (industry == 0 ? " (industrial)" : " (other industry)") : ""
        ex.cite(v["eit.slpe.income_limit"]!.cite)
        if let e = v["eit.slpe.employees_limit#other"] { ex.cite(e.cite) }
        ex.step(zh: "\(eit.year) 年小型微利企业条件\(ind)：应纳税所得额 ≤ \(rules.incomeLimit)，从业人数 ≤ \(rules.employeesLimit[industry])，资产总额 ≤ \(rules.assetsLimit[industry])，非国家限制和禁止行业",
                en: "\(eit.year) 小型微利企业 conditions\(indEn): taxable income ≤ \(rules.incomeLimit), head count ≤ \(rules.employeesLimit[industry]), assets ≤ \(rules.assetsLimit[industry]), not a restricted industry")
        let sched = v["eit.slpe.schedule"]!
        switch rules.schedule {
        case .flat:
            ex.step(zh: "优惠：按 \(rules.slpeRate.percent) 计税（\(sched.cite)）", en: "preference: taxed at \(rules.slpeRate.percent) (\(sched.cite))")
            ex.cite(sched.cite)
        case .wholeAmountCap:
            let c = v["eit.slpe.halving_whole_amount_cap"]!
            ex.cite(c.cite)
            ex.step(zh: "优惠：所得额 ≤ \(rules.capAtStart!) 的，全部所得减半计入、按 \(rules.halvedRate.percent) 计税；超过的，全部按 \(rules.slpeRate.percent)（不分档，\(c.cite)）",
                    en: "preference: income ≤ \(rules.capAtStart!) is wholly halved, \(rules.halvedRate.percent); above it the whole income at \(rules.slpeRate.percent) (a cliff, not a band; \(c.cite))")
        case .bands:
            for n in ["eit.slpe.band1_inclusion", "eit.slpe.band2_inclusion"] { ex.cite(v[n]!.cite) }
            ex.step(zh: "优惠：不超过 \(rules.band1Upper) 的部分按 \(rules.band1Rate.percent)，超过部分按 \(rules.band2Rate.percent)（分档计算）",
                    en: "preference: the part up to \(rules.band1Upper) at \(rules.band1Rate.percent), the part above at \(rules.band2Rate.percent) (marginal bands)")
        case .flatInclusion:
            ex.cite(v["eit.slpe.flat_inclusion"]!.cite)
            ex.step(zh: "优惠：全部所得减按25%计入、按20%计税，实际 \(rules.halvedRate.percent)", en: "preference: the whole income at 25% × 20% = \(rules.halvedRate.percent)")
        }
        ex.cite(v["eit.averaging"]!.cite)
        ex.assume("U13", zh: "查账征收（或核定应税所得率且已算出应纳税所得额）", en: "查账征收 (or a deemed profit rate with the taxable income already computed)")
        if rules.branchesCombined {
            ex.assume("RULES §3.1", zh: "分支机构的数据已与总机构汇总", en: "branch figures already combined with the head office")
        }
        if rules.averagingUnconfirmed { ex.flag("U10", zh: "按季度平均值计算从业人数和资产总额", en: "head count and assets averaged by the quarterly method") }
        if rules.prepaymentUnconfirmed { ex.flag("U11", zh: "按2019年累计方法计算预缴", en: "prepayments computed with the 2019 cumulative method") }
        ex.assume("U33", zh: "已预缴税额为本案以前季度的计算结果", en: "amount prepaid so far = this case's computed payables of earlier quarters")
        var paid = Money.zero
        for q in results {
            let s = q.step
            ex.step(zh: "第\(q.quarter)季度：平均从业人数 \(s.employeesSum)÷\(2 * s.quartersCounted) = \(q.employeesAverage)，平均资产 \(q.assetsAverage)；\(s.qualifies ? "符合小型微利企业条件" : "不符合（\(q.failedCodes.joined(separator: "、"))）")；累计应纳税额 \(s.taxRounded)，减免 \(s.relief.rounded())；已预缴 \(paid)，本期应补 \(s.payable)，多缴 \(s.overpaid)",
                    en: "Q\(q.quarter): average head count \(s.employeesSum)÷\(2 * s.quartersCounted) = \(q.employeesAverage), average assets \(q.assetsAverage); \(s.qualifies ? "qualifies" : "fails (\(q.failedCodes.joined(separator: ", ")))"); tax to date \(s.taxRounded), relief \(s.relief.rounded()); prepaid \(paid), payable \(s.payable), overpaid \(s.overpaid)")
            paid += s.payable
        }
        if let a = annual {
            let q = EITQuarterResult(quarter: 0, step: a)
            ex.step(zh: "汇算清缴：平均从业人数 \(q.employeesAverage)，平均资产 \(q.assetsAverage)，\(a.qualifies ? "符合" : "不符合")；年度应纳税额 \(a.taxRounded)，已预缴 \(prepaid)，应补（退） \(a.taxRounded - prepaid)",
                    en: "settlement: average head count \(q.employeesAverage), assets \(q.assetsAverage), \(a.qualifies ? "qualifies" : "fails"); annual tax \(a.taxRounded), prepaid \(prepaid), settlement \(a.taxRounded - prepaid) (negative: refund, 企业所得税法 第五十四条)")
        }
    }
}
