import HuiqiDates
/// The VAT section of a determination (CASES.md "Output").
public struct VATDetermination: Sendable {
    public let period: TaxPeriod
    /// The limit in force after proration (per group 2016-05..2018-12); nil where no limit applies.
    public let threshold: Money?
    public let totalSales: Money
    public let exemptSales: Money
    public let taxableSales: Money
    public let tax: Money
    /// 减免税额, measured against the case rates.
    public let relief: Money
    public let explanation: Explanation

    public var json: JSON {
        .object([("period", .string(period.description)), ("threshold", threshold.map { $0.json } ?? .null),
                 ("total_sales", totalSales.json), ("exempt_sales", exemptSales.json), ("taxable_sales", taxableSales.json),
                 ("tax", tax.json), ("relief", relief.json)] + explanation.jsonFields)
    }
}

extension Engine {
    /// RULES §1: one VAT return of a small-scale taxpayer.
    /// Checks run in the order of CASES.md "Errors" (period, rates of the period, applicability, shape, missing
    /// facts, value-dependent refusals); the kernel refuses only what is left, lines in order.
    func determineVAT(_ vat: VATReturn, taxpayer: Taxpayer) throws(Refusal) -> VATDetermination {
        try VATRuleSet.checkCovered(vat.period, parameters: parameters)
        let individual = taxpayer.kind == .individual || taxpayer.kind == .individualBusiness
        let periodRules = vatPeriods.rules(vat.period, individual: individual, parameters: parameters)
        let rates = periodRules.levyRates
        if let i = vat.sales.firstIndex(where: { !rates.contains($0.rate) }) {
            throw VATKernel.rateRefusal(vat.period, allowed: Array(rates), index: i)
        }
        if taxpayer.vatStatus == .general {
            throw Refusal(.notApplicable, "taxpayer.vat_status", zh: "一般纳税人的增值税需要进项税额，不在本引擎范围内（小规模纳税人优惠不适用）",
                          en: "general taxpayer VAT is out of scope (it needs input tax); small-scale reliefs do not apply", rule: "§1.3")
        }
        let rules = try periodRules.rules.get()
        // 放弃减税: only where the law allows it (from 2023) and only for a line the 1% reduction would reach.
        for (i, s) in vat.sales.enumerated() where s.waiveReduction {
            let waivable = rules.reductionWaivable
            guard waivable && VATKernel.isReducible(rules.excludedKindsMask, kind: s.kind.rawValue, ratePPM: s.rate.ppm) else {
                throw Refusal(.notApplicable, "vat.sales[\(i)].waive_reduction",
                              zh: waivable ? "该销售不适用减按1%征收，无减税可放弃" : "\(vat.period) 没有可放弃的减按1%征收政策（自2023年起）",
                              en: waivable ? "this sale is not under the 1% reduction: there is nothing to waive" : "there is no 1% reduction to waive in \(vat.period) (from 2023 only)",
                              rule: "§1.5")
            }
        }
        // Shapes: a straddled quarter (for an unknown kind, only what straddles for everyone), then what needs the kind.
        if let refusal = periodRules.straddle { throw refusal }
        guard let kind = taxpayer.kind else {
            throw .missing("taxpayer.kind", zh: "增值税需要纳税人类型：请填写 taxpayer.kind", en: "VAT needs the taxpayer's kind: give taxpayer.kind", rule: "§1.3")
        }
        if kind == .individual, let i = vat.sales.firstIndex(where: { $0.kind == .immovable }) {
            throw .shape("vat.sales[\(i)].kind", zh: "其他个人销售不动产按现行规定征免增值税，不适用小规模纳税人月（季）销售额免税/起征点",
                         en: "an individual's sale of an immovable is exempt or taxed under the housing rules, outside the small-scale limit (U27)", rule: "§1.3")
        }
        // Missing facts and the provincial 起征点 are recorded, so that a shape refusal of the limit test comes first.
        var found = Refusals()
        var provincialVersion: ParameterVersion?
        let test = try VATKernel.limitTest(rules, kind: kind, monthsOperated: vat.monthsOperated) { () -> Money in
            guard let province = taxpayer.province else {
                found.add(.missing("taxpayer.region", zh: "2014年10月以前个人适用省定起征点，需要所在地区：请填写 taxpayer.region",
                                   en: "before 2014-10 an individual's 起征点 is set by the province: give taxpayer.region", rule: "§1.8"))
                return .zero
            }
            let category = vat.sales.contains { $0.kind == .processing } ? "labour" : "goods"
            guard let v = try? parameters.version("vat.individual.qizhengdian.\(category)", on: vat.period.firstDay, key: province),
                  case .money(let m) = v.value else {
                found.add(Refusal(.notSupported, "taxpayer.region",
                                  zh: "省份 \(province) 的增值税起征点（\(category == "goods" ? "销售货物" : "应税劳务")）未收录（U8），本引擎不推定",
                                  en: "the 起征点 of province \(province) for \(category) is not on record (U8); the engine does not guess", rule: "§1.8"))
                return .zero
            }
            provincialVersion = v
            return m
        }
        guard taxpayer.vatStatus != nil else {
            throw .missing("taxpayer.vat_status", zh: "增值税需要纳税人身份（小规模或一般纳税人）：请填写 taxpayer.vat_status",
                           en: "VAT needs the taxpayer's status (small-scale or general): give taxpayer.vat_status", rule: "§1.3")
        }
        var key: VATRuleSet.RegionKey = 0
        if let k = rules.regionKey(region: taxpayer.region) { key = k } else {
            found.add(.missing("taxpayer.region", zh: "2020年3月至2021年3月的期间需要纳税人所在地区（湖北省适用不同规则）：请填写 taxpayer.region",
                               en: "periods 2020-03..2021-03 need the taxpayer's region (Hubei has its own rule): give taxpayer.region", rule: "§1.3"))
        }
        try found.check()
        let lines = VATLines(sales: vat.sales)
        let evaluated = lines.withView { view in
            Result { () throws(Refusal) -> VATOutcome in try VATKernel.evaluate(rules, test: test, key: key, kind: kind, lines: view, range: 0..<lines.count) }
        }
        let o = try evaluated.get()

        var ex = explanation()
        explainVAT(&ex, vat: vat, rules: rules, test: test, key: key, kind: kind, outcome: o, provincial: provincialVersion)
        let tax = o.tax.rounded()
        return VATDetermination(period: vat.period, threshold: test.limit, totalSales: Money(fen: o.totalNet),
                                exemptSales: Money(fen: o.exemptFen), taxableSales: Money(fen: o.totalNet - o.exemptFen),
                                tax: tax, relief: o.relief.rounded(), explanation: ex)
    }

    private func explainVAT(_ ex: inout Explanation, vat: VATReturn, rules: VATRuleSet, test: VATLimitTest, key: Int,
                            kind: TaxpayerKind, outcome o: VATOutcome, provincial: ParameterVersion?) {
        let v = rules.versions
        let cmpZh = test.comparison == .le ? "不超过（≤）" : "未达到（<）"
        let cmpEn = test.comparison == .le ? "≤ (不超过)" : "< (未达到)"
        ex.step(zh: "税款所属期 \(vat.period)（\(vat.period.frequencyZh)），适用 \(vat.period.firstDay) 起有效的规则",
                en: "Period \(vat.period) (\(vat.period.isQuarterly ? "quarterly" : "monthly") filer): rules in force on \(vat.period.firstDay)")
        switch test.regime {
        case .noLimit:
            if rules.limitKind == .none {
                ex.step(zh: "\(vat.period.firstDay) 前企业和非企业性单位没有小微企业免征增值税政策，全部销售额按征收率计税",
                        en: "before 2013-08-01 enterprises and units have no small-business exemption: every line is taxed at its rate")
                if let c = v["vat.threshold.kind"]?.cite { ex.cite(c) }
            } else {
                ex.step(zh: "纳税人类型 \(kind.rawValue) 不在本期免税范围内", en: "taxpayer kind \(kind.rawValue) is not covered by this period's limit")
                if let c = v["vat.exemption.eligible_kinds"]?.cite { ex.cite(c) }
            }
        case .provincialQizhengdian:
            if let p = provincial {
                ex.step(zh: "个人适用省定起征点 \(p.value)（\(p.cite)），销售额未达到起征点免征，达到起征点全额计税",
                        en: "individual under the provincial 起征点 \(p.value) (\(p.cite)): below it exempt, reaching it taxed in full")
                ex.cite(p.cite)
            }
        case .smallBusiness:
            let limitName = rules.limitKind == .qizhengdian ? "vat.qizhengdian" : "vat.exemption.limit"
            let lv = v["\(limitName).\(vat.period.isQuarterly ? "quarterly" : "monthly")"]
            if let lv {
                ex.cite(lv.cite)
                ex.step(zh: "\(rules.limitKind == .qizhengdian ? "起征点" : "免税标准")：\(vat.period.isQuarterly ? "季度" : "月") \(lv.value) 元（\(lv.cite)），销售额\(cmpZh)标准的免征",
                        en: "\(rules.limitKind == .qizhengdian ? "起征点" : "exemption limit"): \(lv.value) per \(vat.period.isQuarterly ? "quarter" : "month") (\(lv.cite)); sales \(cmpEn) the limit are exempt")
            }
            if let c = v["vat.threshold.scope"]?.cite { ex.cite(c) }
            if vat.period.isQuarterly, let m = rules.monthlyLimit {
                if test.monthsAssumed {
                    ex.flag("U7", zh: "未提供实际经营月份，按3个月计算；不足一个季度的按月折算（国家税务总局公告2016年第23号第六条（三））未适用",
                            en: "partial-quarter proration (国家税务总局公告2016年第23号 第六条（三）) not applied: months operated unknown, 3 assumed")
                } else if test.months < 3 {
                    if rules.proration == .fullLimit {
                        ex.flag("U7", zh: "实际经营 \(test.months) 个月，2019年起仍按季度全额标准 \(test.limit!) 判断", en: "operated \(test.months) months; from 2019 the full quarterly limit \(test.limit!) still applies")
                    } else {
                        ex.step(zh: "实际经营 \(test.months) 个月：销售额度 = \(m) × \(test.months) = \(test.limit!)（\(v["vat.exemption.quarterly_proration"]!.cite)）",
                                en: "operated \(test.months) months: limit = \(m) × \(test.months) = \(test.limit!) (\(v["vat.exemption.quarterly_proration"]!.cite))")
                        ex.cite(v["vat.exemption.quarterly_proration"]!.cite)
                        if test.flagU7 { ex.flag("U7", zh: "2014年10月至2016年4月按实际经营月份折算（凭记忆引用国家税务总局公告2014年第57号）", en: "proration in 2014-10..2016-04 rests on a recalled 国家税务总局公告2014年第57号") }
                    }
                }
            }
        }
        for i in vat.sales.indices {
            let s = vat.sales[i]
            let d = s.deduction > .zero ? " − 差额 \(s.deduction) = \(s.base)" : ""
            let de = s.deduction > .zero ? " − deduction \(s.deduction) = \(s.base)" : ""
            ex.step(zh: "第 \(i + 1) 行：\(s.kind.zh) \(s.amount)\(d)，征收率 \(s.rate.percent)\(s.specialInvoice ? "，开具专用发票" : "")",
                    en: "line \(i + 1): \(s.kind.name) \(s.amount)\(de) at \(s.rate.percent)\(s.specialInvoice ? ", on a special VAT invoice (专票)" : "")")
            if rules.scope == .vatItemsCombined && (s.kind == .services || s.kind == .intangibles) {
                ex.assume("U24", zh: "第 \(i + 1) 行视为营改增试点应税服务", en: "line \(i + 1) taken as a 营改增 pilot service")
            }
            if s.kind == .immovable && kind == .individualBusiness {
                ex.assume("U28", zh: "第 \(i + 1) 行不动产不是个体工商户购买的住房", en: "line \(i + 1) is not purchased housing of an individual business")
            }
            if rules.excludedKindsMask != 0 && s.rate == VATRuleSet.rate3 && (s.kind == .services || s.kind == .intangibles) {
                ex.assume("U26", zh: "第 \(i + 1) 行不是不动产租赁或土地使用权转让", en: "line \(i + 1) is not a lease of immovables or a transfer of land-use rights")
            }
        }
        if rules.netMode == .grossTest && vat.sales.contains(where: { $0.deduction > .zero }) {
            ex.flag("U5", zh: "按差额扣除前的销售额判断是否免税，报告数按扣除后", en: "limit tested on the amount before deduction; reported figures net")
        }
        if let limit = test.limit {
            if rules.scope == .twoGroups && test.regime == .smallBusiness {
                ex.step(zh: "分别判断：货物及劳务 \(Money(fen: o.tested.0)) \(o.passed.0 ? "" : "不")满足\(cmpZh) \(limit)；服务及无形资产 \(Money(fen: o.tested.1)) \(o.passed.1 ? "" : "不")满足\(cmpZh) \(limit)",
                        en: "tested separately: goods + processing \(Money(fen: o.tested.0)) \(o.passed.0 ? "within" : "above") \(limit); services + intangibles \(Money(fen: o.tested.1)) \(o.passed.1 ? "within" : "above") \(limit)")
                if o.flags & VATOutcome.flagU4 != 0 {
                    ex.flag("U4", zh: "销售不动产不计入任何一组，按其征收率计税", en: "immovables counted in neither group and taxed at their rate")
                }
            } else {
                ex.step(zh: "合计销售额 \(Money(fen: o.tested.0)) \(o.passed.0 ? "" : "不")满足\(cmpZh) \(limit)\(o.passed.0 ? "：免征" : "：全额计税（不是超过部分）")",
                        en: "combined sales \(Money(fen: o.tested.0)) \(o.passed.0 ? "are" : "are not") \(cmpEn) \(limit)\(o.passed.0 ? ": exempt" : ": the whole amount is taxable, not only the excess")")
            }
            if o.secondaryApplied {
                ex.step(zh: "扣除本期销售不动产 \(Money(fen: o.immovableTested)) 后的销售额 \(Money(fen: o.tested.0 - o.immovableTested)) 满足\(cmpZh) \(limit)：除不动产外免征，不动产照常计税（\(v["vat.threshold.immovable_secondary_test"]!.cite)）",
                        en: "without this period's immovables (\(Money(fen: o.immovableTested))) sales are \(Money(fen: o.tested.0 - o.immovableTested)) \(cmpEn) \(limit): all but the immovables exempt, immovables taxed normally (\(v["vat.threshold.immovable_secondary_test"]!.cite))")
                ex.cite(v["vat.threshold.immovable_secondary_test"]!.cite)
            }
            if o.secondaryAlternative {
                ex.flag("U2", zh: "若保留销售不动产二次判断（\(Money(fen: o.tested.0 - o.immovableTested)) 满足\(cmpZh) \(limit)），不动产以外的销售额将免征；本结果未适用",
                        en: "with the 销售不动产 secondary test (\(Money(fen: o.tested.0 - o.immovableTested)) \(cmpEn) \(limit)) the non-immovable lines would be exempt; not applied here")
            }
            if o.flags & VATOutcome.flagU1 != 0 {
                ex.flag("U1", zh: "销售额恰好等于起征点 \(limit)，按增值税法第二十三条字面解释视为“达到”，全额计税",
                        en: "sales exactly at the 起征点 \(limit): taxed in full under the literal reading of 增值税法 第二十三条")
                ex.cite("增值税法 第二十三条")
            }
        }
        let table = VATKernel.LineTable(rules, key: key)
        for i in vat.sales.indices {
            let s = vat.sales[i]
            let f = VATKernel.fate(table, o, kind: s.kind.rawValue, special: s.specialInvoice, waived: s.waiveReduction, ratePPM: s.rate.ppm)
            let tv = v[key == 1 ? "vat.rate3.treatment#hubei" : "vat.rate3.treatment#elsewhere"]
            let sv = v[key == 1 ? "vat.rate3.special_invoice_rate#hubei" : "vat.rate3.special_invoice_rate#elsewhere"]
            switch f {
            case .exemptByLimit:
                ex.step(zh: "第 \(i + 1) 行免征：\(s.base) × \(s.rate.percent) = \(Exact.product(s.base, s.rate).rounded()) 减免", en: "line \(i + 1) exempt under the limit: relief \(s.base) × \(s.rate.percent) = \(Exact.product(s.base, s.rate).rounded())")
            case .exemptByTreatment:
                ex.step(zh: "第 \(i + 1) 行 3% 销售免征（\(tv!.cite)）", en: "line \(i + 1): 3% sales exempt (\(tv!.cite))")
                ex.cite(tv!.cite)
            case .taxed(let r):
                ex.step(zh: "第 \(i + 1) 行计税：\(s.base) × \(r.percent) = \(Exact.product(s.base, r).rounded().description)", en: "line \(i + 1) taxed: \(s.base) × \(r.percent) = \(Exact.product(s.base, r).rounded().description)")
                if s.specialInvoice {
                    ex.flag("U3", zh: "第 \(i + 1) 行开具专票，不免税，按 \(r.percent) 计税（\(sv!.cite)）", en: "line \(i + 1) is on a 专票: never exempt, taxed at \(r.percent) (\(sv!.cite))")
                    if r != s.rate { ex.cite(sv!.cite) }
                    if rules.reductionWaivable, let w = v["vat.rate3.reduction_waivable"] {
                        if s.waiveReduction {
                            ex.step(zh: "第 \(i + 1) 行：纳税人放弃减税，按 \(r.percent) 开具专用发票（\(w.cite)）", en: "line \(i + 1): the taxpayer waived the reduction and invoices at \(r.percent) (\(w.cite))")
                            ex.cite(w.cite)
                        } else {
                            ex.assume("U3", zh: "纳税人未放弃减按1%征收", en: "the 1% reduction was not waived for this 专票")
                        }
                    }
                } else if r != s.rate, let tv { ex.cite(tv.cite) }
            }
        }
        if o.flags & VATOutcome.flagU3 != 0 && !ex.flags.contains(where: { $0.code == "U3" }) {
            ex.flag("U3", zh: "专票销售计入合计销售额", en: "the 专票 sale counts in the combined total")
        }
        ex.step(zh: "合计：销售额 \(Money(fen: o.totalNet))，免征 \(Money(fen: o.exemptFen))，应税 \(Money(fen: o.totalNet - o.exemptFen))，应纳税额 \(o.tax.rounded())，减免税额 = \(o.taxWithoutRelief.rounded()) − \(o.tax.rounded()) = \(o.relief.rounded())",
                en: "totals: sales \(Money(fen: o.totalNet)), exempt \(Money(fen: o.exemptFen)), taxable \(Money(fen: o.totalNet - o.exemptFen)), tax \(o.tax.rounded()), relief = \(o.taxWithoutRelief.rounded()) − \(o.tax.rounded()) = \(o.relief.rounded()) (rounded once, half-up)")
        if ex.rules.isEmpty, let c = v["vat.rate3.treatment#elsewhere"]?.cite { ex.cite(c) }
    }
}
