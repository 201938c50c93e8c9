import HuiqiDates
/// Turns a JSON document into a `Case`, refusing anything unknown or malformed with the path of the field
/// (CASES.md "Validation"). Checks that need the rules (periods, kinds per period) are the engine's.
/// Every number has a documented range (docs/case-format.md "Limits"), so that no input can overflow a sum.
public enum CaseDecoder {
    /// Head counts (从业人数): 0 to ten million, above any employer's.
    public static let maxEmployees: Int64 = 10_000_000
    /// Tax years are four-digit years, as in periods; a year the rules do not cover is `no_rule`, not a format error.
    public static let years: ClosedRange<Int64> = 1000...9999
    /// The field named by an error about the document as a whole (not JSON, not an object): JSONPath's root.
    public static let documentPath = "$"
    /// The free-text `name`, in characters.
    public static let maxNameLength = 200

    public static func decode(text: String) throws(Refusal) -> Case {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch {
            throw .invalid(documentPath, zh: "不是有效的JSON：第\(error.offset)字节，\(error.problem)", en: "not valid JSON: \(error.description)")
        }
        return try decode(json)
    }

    public static func decode(_ json: JSON) throws(Refusal) -> Case {
        var root = try Fields(json, path: "")
        let name = try root.string("name")
        if let name, name.count > maxNameLength {
            throw .invalid("name", zh: "name 最多 \(maxNameLength) 个字符", en: "name must have at most \(maxNameLength) characters")
        }
        guard let tpJSON = root.take("taxpayer") else {
            throw .invalid("taxpayer", zh: "缺少 taxpayer", en: "taxpayer is required")
        }
        let taxpayer = try decodeTaxpayer(tpJSON)
        // Sections in the order of CASES.md "Errors": vat, business_tax, eit, business_income, local_taxes.
        let vat = try root.take("vat").map { j throws(Refusal) in try decodeVAT(j) }
        let bt = try root.take("business_tax").map { j throws(Refusal) in try decodeBusinessTax(j) }
        let eit = try root.take("eit").map { j throws(Refusal) in try decodeEIT(j) }
        let bi = try root.take("business_income").map { j throws(Refusal) in try decodeBusinessIncome(j) }
        let lt = try root.take("local_taxes").map { j throws(Refusal) in try decodeLocalTaxes(j) }
        try root.finish()
        return Case(name: name, taxpayer: taxpayer, vat: vat, eit: eit, businessIncome: bi, localTaxes: lt, businessTax: bt)
    }

    static func checkLineCount(_ items: [JSON], _ path: String) throws(Refusal) {
        guard items.count <= Money.maxLines else {
            throw .invalid(path, zh: "\(path) 最多 \(Money.maxLines) 行", en: "\(path) must have at most \(Money.maxLines) lines")
        }
    }

    static func taxYear(_ f: inout Fields, _ key: String) throws(Refusal) -> Int {
        guard let y = try f.integer(key) else { throw .invalid(f.at(key), zh: "缺少纳税年度", en: "year is required") }
        guard years.contains(y) else {
            throw .invalid(f.at(key), zh: "\(f.at(key)) 应为四位数的年度", en: "\(f.at(key)) must be a four-digit year")
        }
        return Int(y)
    }

    static func decodeTaxpayer(_ j: JSON) throws(Refusal) -> Taxpayer {
        var f = try Fields(j, path: "taxpayer")
        var t = Taxpayer()
        if let id = try f.string("id") {
            guard CreditCode.isValid(id) else {
                throw .invalid("taxpayer.id", zh: "统一社会信用代码 \(id) 无效（GB 32100-2015 校验码不符）",
                               en: "unified social credit code \(id) is invalid (GB 32100-2015 check character)")
            }
            t.id = id
        }
        t.kind = try f.enumeration("kind", TaxpayerKind.init(rawValue:), options: "enterprise, unit, individual_business, individual")
        t.vatStatus = try f.enumeration("vat_status", VATStatus.init(rawValue:), options: "small_scale, general")
        t.industry = try f.enumeration("industry", Industry.init(rawValue:), options: "industrial, other")
        t.restrictedIndustry = try f.bool("restricted_industry")
        if let r = try f.string("region") {
            guard r.count == 6, r.allSatisfy(\.isASCIIDigit) else {
                throw .invalid("taxpayer.region", zh: "地区代码应为六位数字（GB/T 2260）", en: "region must be a six-digit GB/T 2260 code")
            }
            t.region = r
        }
        try f.finish()
        return t
    }

    static func decodeVAT(_ j: JSON) throws(Refusal) -> VATReturn {
        var f = try Fields(j, path: "vat")
        let period = try f.period("period", required: true)!
        guard case .array(let items)? = f.take("sales") else {
            throw .invalid("vat.sales", zh: "vat.sales 应为销售明细数组", en: "vat.sales must be an array of sales lines")
        }
        try checkLineCount(items, "vat.sales")
        var sales: [Sale] = []
        for (i, item) in items.enumerated() {
            let p = "vat.sales[\(i)]"
            var s = try Fields(item, path: p)
            guard let kindName = try s.string("kind") else { throw .invalid("\(p).kind", zh: "缺少销售类型", en: "kind is required") }
            guard let kind = SaleKind(name: kindName) else {
                throw .invalid("\(p).kind", zh: "销售类型应为 goods、processing、services、intangibles 或 immovable",
                               en: "kind must be goods, processing, services, intangibles or immovable")
            }
            guard let amount = try s.money("amount") else { throw .invalid("\(p).amount", zh: "缺少销售额", en: "amount is required") }
            guard amount >= .zero else {
                throw .invalid("\(p).amount", zh: "销售额不能为负数（红字发票、销售折让不在范围内）", en: "amount must not be negative (red-letter lines are out of scope)")
            }
            guard let rateText = try s.decimalText("rate") else { throw .invalid("\(p).rate", zh: "缺少征收率", en: "rate is required") }
            guard let rate = Rate(decimal: rateText), rate == Rate(ppm: 30_000) || rate == Rate(ppm: 50_000) else {
                throw .invalid("\(p).rate", zh: "征收率应为法定征收率 0.03 或 0.05（减按后的税率如 0.01 不接受）",
                               en: "rate must be a statutory levy rate, 0.03 or 0.05 (a reduced rate such as 0.01 is not accepted)", rule: "§1.3")
            }
            let deduction = try s.money("deduction") ?? .zero
            guard deduction >= .zero, deduction <= amount else {
                throw .invalid("\(p).deduction", zh: "差额扣除额应在 0 与销售额之间", en: "deduction must be between 0 and amount")
            }
            let special = try s.bool("special_invoice") ?? false
            let waive = try s.bool("waive_reduction") ?? false
            if waive && !special {
                throw .invalid("\(p).waive_reduction", zh: "只有开具专用发票的销售可以放弃减税（按3%开票）",
                               en: "only a sale invoiced on a 专票 can waive the reduction (to invoice it at 3%)")
            }
            try s.finish()
            sales.append(Sale(kind: kind, amount: amount, rate: rate, deduction: deduction, specialInvoice: special, waiveReduction: waive))
        }
        var months: Int?
        if let m = try f.integer("months_operated") {
            guard period.isQuarterly, (1...3).contains(m) else {
                throw .invalid("vat.months_operated", zh: "实际经营月份仅适用于按季申报，取值 1、2 或 3",
                               en: "months_operated applies to quarterly periods only and must be 1, 2 or 3")
            }
            months = Int(m)
        }
        try f.finish()
        return VATReturn(period: period, sales: sales, monthsOperated: months)
    }

    static func decodeEIT(_ j: JSON) throws(Refusal) -> EITReturn {
        var f = try Fields(j, path: "eit")
        let year = try taxYear(&f, "year")
        let start = try f.integer("start_quarter") ?? 1
        guard (1...4).contains(start) else {
            throw .invalid("eit.start_quarter", zh: "开始经营季度应为 1 至 4", en: "start_quarter must be 1 to 4")
        }
        guard case .array(let items)? = f.take("quarters") else {
            throw .invalid("eit.quarters", zh: "eit.quarters 应为季度数组", en: "eit.quarters must be an array")
        }
        var quarters: [EITQuarter] = []
        for (i, item) in items.enumerated() {
            let p = "eit.quarters[\(i)]"
            var q = try Fields(item, path: p)
            let emp = try q.pair("employees", zh: "从业人数应为 0 至 \(maxEmployees) 的整数", en: "head count must be a whole number from 0 to \(maxEmployees)") {
                Int64($0).flatMap { (0...maxEmployees).contains($0) ? $0 : nil }
            }
            let assets = try q.pair("assets", zh: "资产总额应为 0 至 \(Money.inputLimit) 元的金额，最多两位小数",
                                    en: "assets must be an amount from 0 to \(Money.inputLimit) yuan with at most two decimals") {
                Money(decimal: $0).flatMap { $0 >= .zero ? $0 : nil }
            }
            guard let income = try q.money("taxable_income_ytd") else {
                throw .invalid("\(p).taxable_income_ytd", zh: "缺少累计应纳税所得额", en: "taxable_income_ytd is required")
            }
            try q.finish()
            quarters.append(EITQuarter(employees: emp, assets: assets, taxableIncomeYTD: income))
        }
        var annual: Money?
        if let a = f.take("annual") {
            var af = try Fields(a, path: "eit.annual")
            guard let y = try af.money("taxable_income") else {
                throw .invalid("eit.annual.taxable_income", zh: "缺少年度应纳税所得额", en: "annual.taxable_income is required")
            }
            try af.finish()
            annual = y
        }
        let maxQuarters = 5 - Int(start)
        guard !quarters.isEmpty, quarters.count <= maxQuarters, annual == nil || quarters.count == maxQuarters else {
            throw .invalid("eit.quarters", zh: "季度数应为 1 至 \(maxQuarters)\(annual != nil ? "，汇算清缴须列出全部经营季度" : "")",
                           en: "quarters must have 1 to \(maxQuarters) entries\(annual != nil ? "; with annual, every operated quarter up to Q4" : "")")
        }
        try f.finish()
        return EITReturn(year: year, startQuarter: Int(start), quarters: quarters, annualTaxableIncome: annual)
    }

    static func decodeBusinessIncome(_ j: JSON) throws(Refusal) -> BusinessIncomeReturn {
        var f = try Fields(j, path: "business_income")
        let year = try taxYear(&f, "year")
        guard let income = try f.money("taxable_income") else {
            throw .invalid("business_income.taxable_income", zh: "缺少应纳税所得额", en: "taxable_income is required")
        }
        let other = try f.money("other_relief")
        if let other, other < .zero {
            throw .invalid("business_income.other_relief", zh: "其他减免税额不能为负数", en: "other_relief must not be negative")
        }
        try f.finish()
        return BusinessIncomeReturn(year: year, taxableIncome: income, otherRelief: other)
    }

    static func decodeBusinessTax(_ j: JSON) throws(Refusal) -> BusinessTaxReturn {
        var f = try Fields(j, path: "business_tax")
        let period = try f.period("period", required: true)!
        guard case .array(let items)? = f.take("turnover") else {
            throw .invalid("business_tax.turnover", zh: "business_tax.turnover 应为营业额明细数组", en: "business_tax.turnover must be an array")
        }
        try checkLineCount(items, "business_tax.turnover")
        var lines: [BusinessTaxReturn.Line] = []
        for (i, item) in items.enumerated() {
            let p = "business_tax.turnover[\(i)]"
            var g = try Fields(item, path: p)
            guard let amount = try g.money("amount"), amount >= .zero else {
                throw .invalid("\(p).amount", zh: "营业额必填且不能为负数", en: "amount is required and must not be negative")
            }
            guard let rt = try g.decimalText("rate"), let rate = Rate(decimal: rt), rate > .zero, rate <= Rate(ppm: 200_000) else {
                throw .invalid("\(p).rate", zh: "营业税税率应在 0 与 0.20 之间（如 0.03、0.05）", en: "rate must be a business tax rate above 0 and at most 0.20 (such as 0.03, 0.05)")
            }
            try g.finish()
            lines.append(.init(amount: amount, rate: rate))
        }
        try f.finish()
        return BusinessTaxReturn(period: period, turnover: lines)
    }

    static func decodeLocalTaxes(_ j: JSON) throws(Refusal) -> LocalTaxesReturn {
        var f = try Fields(j, path: "local_taxes")
        let period = try f.period("period", required: true)!
        var r = LocalTaxesReturn(period: period)
        r.smallLowProfit = try f.bool("small_low_profit")
        r.cityTier = try f.enumeration("city_tier", CityTier.init(rawValue:), options: "city_district, county_town, other")
        r.vatPaid = try f.money("vat_paid")
        r.sales = try f.money("sales")
        for (name, v) in [("vat_paid", r.vatPaid), ("sales", r.sales)] where (v ?? .zero) < .zero {
            throw .invalid("local_taxes.\(name)", zh: "金额不能为负数", en: "\(name) must not be negative")
        }
        if let t = f.take("taxes") {
            guard case .array(let items) = t else { throw .invalid("local_taxes.taxes", zh: "应为数组", en: "must be an array") }
            try checkLineCount(items, "local_taxes.taxes")
            for (i, item) in items.enumerated() {
                let p = "local_taxes.taxes[\(i)]"
                var g = try Fields(item, path: p)
                guard let taxName = try g.string("tax"), let tax = LocalTax(rawValue: taxName) else {
                    throw .invalid("\(p).tax", zh: "税种应为 resource_tax、property_tax、urban_land_use_tax、stamp_duty 或 farmland_occupation_tax",
                                   en: "tax must be resource_tax, property_tax, urban_land_use_tax, stamp_duty or farmland_occupation_tax")
                }
                guard let due = try g.money("due"), due >= .zero else {
                    throw .invalid("\(p).due", zh: "应纳税额必填且不能为负数", en: "due is required and must not be negative")
                }
                let other = try g.money("other_relief") ?? .zero
                guard other >= .zero, other <= due else {
                    throw .invalid("\(p).other_relief", zh: "其他减免税额应在 0 与应纳税额之间", en: "other_relief must be between 0 and due")
                }
                try g.finish()
                r.taxes.append(LocalTaxLine(tax: tax, due: due, otherRelief: other))
            }
        }
        try f.finish()
        return r
    }
}

/// The fields of one JSON object, read one by one; `finish()` rejects whatever was not read (unknown fields).
struct Fields {
    let path: String
    private var rest: [(String, JSON)]

    init(_ json: JSON, path: String) throws(Refusal) {
        guard case .object(let kv) = json else {
            throw .invalid(path.isEmpty ? CaseDecoder.documentPath : path, zh: "\(path.isEmpty ? "案例" : path) 应为JSON对象", en: "\(path.isEmpty ? "the case" : path) must be a JSON object")
        }
        self.path = path; rest = kv
    }
    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func take(_ key: String) -> JSON? {
        guard let i = rest.firstIndex(where: { $0.0 == key }) else { return nil }
        let v = rest.remove(at: i).1
        return v == .null ? nil : v
    }
    func finish() throws(Refusal) {
        if let (k, _) = rest.first {
            throw .invalid(at(k), zh: "未知字段 \(at(k))", en: "unknown field \(at(k))")
        }
    }
    mutating func string(_ key: String) throws(Refusal) -> String? {
        guard let v = take(key) else { return nil }
        guard case .string(let s) = v else { throw .invalid(at(key), zh: "\(at(key)) 应为字符串", en: "\(at(key)) must be a string") }
        return s
    }
    mutating func bool(_ key: String) throws(Refusal) -> Bool? {
        guard let v = take(key) else { return nil }
        guard case .bool(let b) = v else { throw .invalid(at(key), zh: "\(at(key)) 应为 true 或 false", en: "\(at(key)) must be true or false") }
        return b
    }
    mutating func integer(_ key: String) throws(Refusal) -> Int64? {
        guard let v = take(key) else { return nil }
        guard case .number(let n) = v, let i = Int64(n) else { throw .invalid(at(key), zh: "\(at(key)) 应为整数", en: "\(at(key)) must be an integer") }
        return i
    }
    mutating func enumeration<T>(_ key: String, _ make: (String) -> T?, options: String) throws(Refusal) -> T? {
        guard let s = try string(key) else { return nil }
        guard let t = make(s) else { throw .invalid(at(key), zh: "\(at(key)) 应为 \(options) 之一", en: "\(at(key)) must be one of \(options)") }
        return t
    }
    /// A decimal given as a string or a plain JSON number, kept as text.
    mutating func decimalText(_ key: String) throws(Refusal) -> String? {
        guard let v = take(key) else { return nil }
        switch v {
        case .string(let s), .number(let s): return s
        default: throw .invalid(at(key), zh: "\(at(key)) 应为十进制数字字符串", en: "\(at(key)) must be a decimal string")
        }
    }
    mutating func money(_ key: String) throws(Refusal) -> Money? {
        guard let s = try decimalText(key) else { return nil }
        switch Money.parse(s) {
        case .success(let m): return m
        case .failure(.tooLarge):
            throw .invalid(at(key), zh: "\(at(key)) 过大：金额的绝对值不得超过 \(Money.inputLimit) 元",
                           en: "\(at(key)) is too large: an amount must be at most \(Money.inputLimit) yuan in absolute value")
        case .failure(.malformed):
            throw .invalid(at(key), zh: "\(at(key)) 应为最多两位小数的金额（元），如 \"300000.00\"",
                           en: "\(at(key)) must be an amount in yuan with at most two decimals, such as \"300000.00\"")
        }
    }
    mutating func period(_ key: String, required: Bool) throws(Refusal) -> TaxPeriod? {
        guard let s = try string(key) else {
            if required { throw .invalid(at(key), zh: "缺少税款所属期", en: "\(at(key)) is required") }
            return nil
        }
        guard let p = TaxPeriod(s) else {
            throw .invalid(at(key), zh: "税款所属期应为 YYYY-MM 或 YYYY-Qn", en: "\(at(key)) must be YYYY-MM or YYYY-Qn")
        }
        return p
    }
    /// [start, end]: two values (strings or plain numbers) that `parse` accepts; otherwise the element is named.
    mutating func pair<T>(_ key: String, zh: String, en: String, _ parse: (String) -> T?) throws(Refusal) -> (T, T) {
        let p = at(key)
        guard case .array(let a)? = take(key), a.count == 2 else {
            throw .invalid(p, zh: "\(p) 应为 [期初, 期末] 两个数", en: "\(p) must be [start, end]")
        }
        var out: [T] = []
        for (i, v) in a.enumerated() {
            switch v {
            case .number(let text), .string(let text):
                if let value = parse(text) { out.append(value); continue }
            default: break
            }
            throw .invalid("\(p)[\(i)]", zh: zh, en: en)
        }
        return (out[0], out[1])
    }
}
