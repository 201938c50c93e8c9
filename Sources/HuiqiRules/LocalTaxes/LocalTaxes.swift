import HuiqiDates
/// One line of the local-taxes section: a surcharge or one of the other 六税两费.
public struct LocalTaxItem: Sendable {
    public let tax: String
    public let base: Money?
    public let rate: Rate?
    public let due: Money
    /// Exempt under 财税〔2016〕12号 (the education surcharges).
    public let exempt: Money
    /// Relief already given under other policies (entered with the tax); the 六税两费 reduction comes after it.
    public let otherRelief: Money
    /// The 六税两费 reduction: (due − exempt − other relief) × ratio.
    public let reduction: Money
    public var payable: Money { due - exempt - otherRelief - reduction }
    var json: JSON {
        var kv: [(String, JSON)] = [("tax", .string(tax))]
        if let base { kv.append(("base", base.json)) }
        if let rate { kv.append(("rate", .string(rate.description))) }
        kv += [("due", due.json), ("exempt", exempt.json), ("other_relief", otherRelief.json), ("reduction", reduction.json), ("payable", payable.json)]
        return .object(kv)
    }
}

/// The 六税两费 reduction and the surcharge exemption for one period (RULES §4, §6).
public struct LocalTaxesDetermination: Sendable {
    public let period: TaxPeriod
    public let beneficiary: Bool
    public let ratio: Rate
    public let items: [LocalTaxItem]
    public let explanation: Explanation
    /// Relief given here: the 财税〔2016〕12号 exemption and the 六税两费 reduction (not the other relief entered).
    public var relief: Money { items.reduce(.zero) { $0 + $1.exempt + $1.reduction } }
    public var json: JSON {
        .object([("period", .string(period.description)), ("beneficiary", .bool(beneficiary)), ("ratio", .string(ratio.description)),
                 ("items", .array(items.map(\.json))), ("relief", relief.json),
                 ("payable", items.reduce(Money.zero) { $0 + $1.payable }.json)] + explanation.jsonFields)
    }
}

extension Engine {
    /// RULES §4 and §6. Checks in the order of CASES.md "Errors": the period (no_rule), a straddled quarter, the
    /// missing facts (taxpayer first, then the section's fields), a province whose ratio is not on record.
    func determineLocalTaxes(_ lt: LocalTaxesReturn, taxpayer: Taxpayer, vat: VATDetermination?) throws(Refusal) -> LocalTaxesDetermination {
        for (year, month) in lt.period.months where (try? parameters.version("sltf.supported_periods", on: Day.firstOf(year: year, month: month))) == nil {
            throw Refusal(.noRule, "local_taxes.period", zh: "税款所属期 \(lt.period) 不在规则覆盖范围（2009-01 至 2027-12）内，本引擎不推定规则",
                          en: "period \(lt.period) is outside the periods the rules cover (2009-01 to 2027-12); no rule is assumed", rule: "§0.2")
        }
        let d = lt.period.firstDay
        // The city tax's move from the 1985 暂行条例 to the 2021 law (2021-09-01) kept its rates, so it is not consulted here.
        let consulted = ["sltf.beneficiaries", "sltf.ratio", "fee.exemption.education.limit.monthly", "fee.exemption.education.in_force",
                         "fee.exemption.education.confirmed"]
        if let changed = parameters.firstChange(of: consulted, keys: [nil, taxpayer.province], in: lt.period) {
            throw Refusal.shape("local_taxes.period", zh: "\(lt.period) 季度内规则于 \(changed) 发生变化：请按月提供",
                                en: "the rules change on \(changed), inside \(lt.period): give the period month by month", rule: "§0.2")
        }
        func v(_ n: String, key: String? = nil) throws(Refusal) -> ParameterVersion {
            do { return try parameters.version(n, on: d, key: key) } catch { throw Refusal.noRule("local_taxes.period", error) }
        }
        var ex = explanation()
        // Who benefits (RULES §4): small-scale VAT status, or (from 2022) 小型微利企业 or 个体工商户. Before 2019
        // there is no 六税两费 reduction, so no version is in force.
        var beneficiaries: [String] = []
        if case .list(let l)? = try? parameters.version("sltf.beneficiaries", on: d).value { beneficiaries = l }
        var beneficiary = false
        var basis = ""
        if !beneficiaries.isEmpty {
            guard let status = taxpayer.vatStatus else {
                throw .missing("taxpayer.vat_status", zh: "“六税两费”减征需要增值税纳税人身份", en: "the 六税两费 reduction needs the VAT status: give taxpayer.vat_status", rule: "§4")
            }
            if status == .smallScale && beneficiaries.contains("small_scale") { beneficiary = true; basis = "small_scale" }
            else if taxpayer.kind == .individualBusiness && beneficiaries.contains("individual_business") { beneficiary = true; basis = "individual_business" }
            else if beneficiaries.contains("small_low_profit") {
                guard let slpe = lt.smallLowProfit else {
                    throw .missing("local_taxes.small_low_profit", zh: "一般纳税人需说明是否为小型微利企业（以最近一次汇算清缴结果为准）：请填写 local_taxes.small_low_profit",
                                   en: "a general taxpayer benefits only as a 小型微利企业 (by its latest settlement): give local_taxes.small_low_profit", rule: "§4")
                }
                beneficiary = slpe
                basis = slpe ? "small_low_profit" : ""
                ex.assume("U16", zh: "小型微利企业身份取自案例", en: "SLPE status taken from the case")
            }
        }
        var ratio = Rate.zero
        var unknownRatio: Refusal?
        if beneficiary {
            let keyed = parameters.isKeyed("sltf.ratio", on: d) && (try? parameters.version("sltf.ratio", on: d)) == nil
            if keyed {
                guard let province = taxpayer.province else {
                    throw .missing("taxpayer.region", zh: "2019—2022年减征比例由各省确定：请填写 taxpayer.region", en: "2019–2022 ratios are set by each province: give taxpayer.region", rule: "§4")
                }
                if let rv = try? parameters.version("sltf.ratio", on: d, key: province), case .rate(let r) = rv.value {
                    ratio = r; ex.cite(rv.cite)
                } else {
                    // Value-dependent (step 7): reported only if no missing fact of the surcharges comes first.
                    unknownRatio = Refusal(.notSupported, "taxpayer.region", zh: "省份 \(province) 在 \(d.year) 年的“六税两费”减征比例未收录（U15），本引擎不推定",
                                           en: "the 六税两费 ratio of province \(province) for \(d.year) is not on record (U15); the engine does not guess", rule: "§4")
                }
            } else {
                let rv = try v("sltf.ratio")
                if case .rate(let r) = rv.value { ratio = r }
                ex.cite(rv.cite)
            }
            ex.cite(try v("sltf.beneficiaries").cite)
            ex.step(zh: "适用“六税两费”减征（\(basis)），减征比例 \(ratio.percent)", en: "六税两费 reduction applies (\(basis)), ratio \(ratio.percent)")
        } else {
            ex.step(zh: "不适用“六税两费”减征", en: "no 六税两费 reduction for this taxpayer and period")
        }
        var items: [LocalTaxItem] = []
        func reduce(_ due: Money, _ exempt: Money) -> Money { Exact.product(due - exempt, ratio).rounded() }
        // Surcharges on the VAT paid (城建税, 教育费附加, 地方教育附加).
        // Unknown is not zero: without vat_paid, or a VAT section of the same period, the surcharges cannot be computed.
        guard let vatPaid = lt.vatPaid ?? (vat?.period == lt.period ? vat?.tax : nil) else {
            throw .missing("local_taxes.vat_paid", zh: "附加税费以本期实际缴纳的增值税为计税依据：请填写 local_taxes.vat_paid（未缴纳则填 0），或提供同一期间的 vat",
                           en: "the surcharges are levied on the VAT paid in the period: give local_taxes.vat_paid (0 if none), or a vat section of the same period",
                           rule: "§4")
        }
        if vatPaid > .zero {
            guard let tier = lt.cityTier else {
                throw .missing("local_taxes.city_tier", zh: "城市维护建设税税率取决于所在地：请填写 local_taxes.city_tier", en: "the city tax rate depends on the location: give local_taxes.city_tier", rule: "§4")
            }
            guard let sales = lt.sales ?? (vat?.period == lt.period ? vat?.totalSales : nil) else {
                throw .missing("local_taxes.sales", zh: "教育费附加免征判断需要本期销售额：请填写 local_taxes.sales", en: "the surcharge exemption test needs the period's total sales: give local_taxes.sales", rule: "§6")
            }
            let cv = try v("surcharge.city_tax_rate", key: tier.rawValue)
            guard case .rate(let cityRate) = cv.value else { throw Refusal.noRule("local_taxes.period", ParameterLookupError(name: "surcharge.city_tax_rate", day: d, key: tier.rawValue)) }
            ex.cite(cv.cite)
            let cityDue = Exact.product(vatPaid, cityRate).rounded()
            items.append(LocalTaxItem(tax: "city_maintenance_tax", base: vatPaid, rate: cityRate, due: cityDue, exempt: .zero, otherRelief: .zero, reduction: reduce(cityDue, .zero)))
            ex.step(zh: "城市维护建设税 = \(vatPaid) × \(cityRate.percent) = \(cityDue)", en: "city maintenance tax = \(vatPaid) × \(cityRate.percent) = \(cityDue)")
            var exemptEducation = false
            if case .flag(true) = try v("fee.exemption.education.in_force").value {
                let lv = try v("fee.exemption.education.limit.\(lt.period.isQuarterly ? "quarterly" : "monthly")")
                if case .money(let limit) = lv.value, sales <= limit {
                    exemptEducation = true
                    ex.cite(lv.cite)
                    ex.step(zh: "本期销售额 \(sales) ≤ \(limit)：免征教育费附加、地方教育附加（\(lv.cite)）", en: "sales \(sales) ≤ \(limit): education surcharges exempt (\(lv.cite))")
                    if case .flag(false) = try v("fee.exemption.education.confirmed").value {
                        ex.flag("U21", zh: "增值税法施行后继续适用财税〔2016〕12号", en: "财税〔2016〕12号 still applied after the VAT Law")
                    }
                }
            }
            for (name, param) in [("education_surcharge", "surcharge.education_rate"), ("local_education_surcharge", "surcharge.local_education_rate")] {
                let rv = try v(param)
                guard case .rate(let r) = rv.value else { continue }
                ex.cite(rv.cite)
                let due = Exact.product(vatPaid, r).rounded()
                let exempt = exemptEducation ? due : .zero
                items.append(LocalTaxItem(tax: name, base: vatPaid, rate: r, due: due, exempt: exempt, otherRelief: .zero, reduction: reduce(due, exempt)))
                if name == "local_education_surcharge" { ex.step(zh: "地方教育附加率 \(r.percent)（U17，各省确定）", en: "local education surcharge at \(r.percent) (U17, set by provinces)") }
            }
        } else {
            ex.step(zh: "本期未缴纳增值税：城建税和教育费附加的计税依据为 0", en: "no VAT paid in the period: the surcharges' base is 0")
        }
        for line in lt.taxes {
            let red = reduce(line.due, line.otherRelief)
            items.append(LocalTaxItem(tax: line.tax.rawValue, base: nil, rate: nil, due: line.due, exempt: .zero, otherRelief: line.otherRelief, reduction: red))
            ex.step(zh: "\(line.tax.zh)：应纳 \(line.due)，其他减免 \(line.otherRelief)，减征 (\(line.due) − \(line.otherRelief)) × \(ratio.percent) = \(red)",
                    en: "\(line.tax.rawValue): due \(line.due), other relief \(line.otherRelief), reduction (\(line.due) − \(line.otherRelief)) × \(ratio.percent) = \(red)")
        }
        if let unknownRatio { throw unknownRatio }
        // U14 is about how a reduction is computed: flagged only where something was reduced.
        if items.contains(where: { $0.reduction > .zero }) {
            ex.flag("U14", zh: "减征额 =（应纳税额 − 其他减免）× 减征比例", en: "reduction = (due − other relief) × ratio")
        }
        return LocalTaxesDetermination(period: lt.period, beneficiary: beneficiary, ratio: ratio, items: items, explanation: ex)
    }
}
