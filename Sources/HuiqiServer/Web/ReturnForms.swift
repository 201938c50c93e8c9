import Foundation
import HuiqiRules
import HuiqiServices

/// The three return forms: their fields, how a posted form becomes a CASES.md case body, and how a stored case
/// fills the form again for a correction (更正申报). Field names follow the case paths, so an engine error that
/// names `vat.sales[1].amount` points at the second line's amount.
enum ReturnForms {
    static let salesLines = 4

    static func title(_ form: WebPath.ReturnForm, _ lang: Lang) -> String {
        switch form {
        case .vat: return lang.t("增值税（小规模纳税人）申报", "VAT return (small-scale taxpayer)")
        case .eit: return lang.t("企业所得税季度预缴申报", "Enterprise income tax quarterly prepayment")
        case .businessIncome: return lang.t("个体工商户经营所得年度申报", "Business income of an individual business (annual)")
        }
    }

    /// The form's fields as HTML inputs, filled with `v`. The period is chosen from `periods` (newest first), or
    /// fixed when correcting; `invalid` is the input an error names (marked, and focused on load).
    static func fields(_ form: WebPath.ReturnForm, _ v: [String: String], _ lang: Lang, periods: [FileablePeriod], correcting: String?,
                       invalid: String?) -> HTML {
        func attributes(_ name: String) -> HTML {
            name == invalid ? " aria-invalid=\"true\" aria-describedby=\"error\" autofocus" : ""
        }
        func input(_ name: String, _ zh: String, _ en: String, hint: String = "", mode: String = "decimal") -> HTML {
            """
            <div class="field"><label for="\(name)">\(lang.t(zh, en))</label> <input name="\(name)" id="\(name)" value="\(v[name] ?? "")" placeholder="\(hint)" inputmode="\(mode)"\(attributes(name))></div>
            """
        }
        let period: HTML
        if let correcting, let p = v["period"] {
            period = "<p id=\"period-fixed\">\(lang.t("所属期", "Period"))：<strong>\(Show.period(p, lang))</strong><input type=\"hidden\" name=\"period\" value=\"\(p)\"> <span class=\"muted\">\(lang.t("更正 \(Show.returnName(correcting, lang))", "correcting \(Show.returnName(correcting, lang))"))</span></p>"
        } else if periods.isEmpty {
            period = "<p class=\"error\" id=\"no-periods\">\(lang.t("没有可申报的所属期：所属期须已结束、在登记期间内，增值税还须已登记该年度的纳税期限（按月或按季）。", "No period can be filed: a period must have ended, lie within the registration and, for VAT, the year's filing frequency (monthly or quarterly) must be registered."))</p>"
        } else {
            let chosen = v["period"] ?? periods.first { $0.filedReturn == nil }?.period ?? periods[0].period
            let options: [HTML] = periods.map { p in
                let note = p.filedReturn != nil ? lang.t("（已申报）", " (filed)") : p.deadline.map { lang.t("（申报期限 \(Show.day($0, .zh))）", " (due \(Show.day($0, .en)))") } ?? ""
                return "<option value=\"\(p.period)\"\(p.period == chosen ? " selected" : "")>\(Show.period(p.period, lang))\(note)</option>"
            }
            period = "<div class=\"field\"><label for=\"period\">\(lang.t("所属期", "Period"))</label> <select name=\"period\" id=\"period\"\(attributes("period"))>\(options)</select></div>"
        }
        switch form {
        case .vat:
            let kinds: [(String, String, String)] = [("goods", "货物", "goods"), ("processing", "加工修理修配劳务", "processing and repairs"),
                                                     ("services", "服务", "services"), ("intangibles", "无形资产", "intangibles"),
                                                     ("immovable", "不动产", "immovable property")]
            var lines: [HTML] = []
            for i in 0..<salesLines {
                func label(_ column: String) -> String { FieldLabels.lineLabel(i, FieldLabels.columns[column]!, lang) }
                let options: [HTML] = kinds.map { k in
                    "<option value=\"\(k.0)\"\(v["kind\(i)"] == k.0 ? " selected" : "")>\(lang.t(k.1, k.2))</option>"
                }
                let rates: [HTML] = [("0.03", "3%"), ("0.05", "5%")].map { r in "<option value=\"\(r.0)\"\(v["rate\(i)"] == r.0 ? " selected" : "")>\(r.1)</option>" }
                lines.append("""
                <tr><th scope="row">\(i + 1)</th>
                <td data-label="\(lang.t("项目", "Kind"))"><select name="kind\(i)" id="kind\(i)" aria-label="\(label("kind"))"\(attributes("kind\(i)"))>\(options)</select></td>
                <td data-label="\(lang.t("不含税销售额（元）", "Sales excl. VAT (yuan)"))"><input name="amount\(i)" id="amount\(i)" value="\(v["amount\(i)"] ?? "")" size="14" inputmode="decimal" aria-label="\(label("amount"))"\(attributes("amount\(i)"))></td>
                <td data-label="\(lang.t("征收率", "Levy rate"))"><select name="rate\(i)" id="rate\(i)" aria-label="\(label("rate"))"\(attributes("rate\(i)"))>\(rates)</select></td>
                <td data-label="\(lang.t("差额扣除（元）", "Deduction (yuan)"))"><input name="deduction\(i)" id="deduction\(i)" value="\(v["deduction\(i)"] ?? "")" size="12" inputmode="decimal" aria-label="\(label("deduction"))"\(attributes("deduction\(i)"))></td>
                <td data-label="\(lang.t("开具专票", "Special invoice"))"><input type="checkbox" name="special\(i)" id="special\(i)" aria-label="\(label("special"))"\(v["special\(i)"] != nil ? " checked" : "")\(attributes("special\(i)"))></td>
                <td data-label="\(lang.t("放弃减税", "Waive the reduction"))"><input type="checkbox" name="waive\(i)" id="waive\(i)" aria-label="\(label("waive"))"\(v["waive\(i)"] != nil ? " checked" : "")\(attributes("waive\(i)"))></td></tr>
                """)
            }
            return """
            \(period)
            <div class="scroll"><table class="lines"><caption>\(lang.t("销售明细（不含税，每行一项；空行不计）", "Sales lines (excluding VAT, one per line; empty lines are ignored)"))</caption>
            <thead><tr><th scope="col">#</th><th scope="col">\(lang.t("项目", "Kind"))</th><th scope="col">\(lang.t("不含税销售额（元）", "Sales excl. VAT (yuan)"))</th>
            <th scope="col">\(lang.t("征收率", "Levy rate"))</th><th scope="col">\(lang.t("差额扣除（元）", "Deduction (yuan)"))</th><th scope="col">\(lang.t("开具专票", "Special invoice"))</th>
            <th scope="col">\(lang.t("放弃减税（专票按3%开具）", "Waive the reduction (专票 at 3%)"))</th></tr></thead>
            <tbody>\(lines)</tbody></table></div>
            """
        case .eit:
            return """
            \(period)
            \(input("start_quarter", "开始经营的季度（当年开业时填写，1-4）", "Quarter operations began (first year only, 1-4)", hint: "1", mode: "numeric"))
            \(input("employees_start", "季初从业人数", "Head count at quarter start", mode: "numeric")) \(input("employees_end", "季末从业人数", "Head count at quarter end", mode: "numeric"))
            \(input("assets_start", "季初资产总额（元）", "Total assets at quarter start (yuan)")) \(input("assets_end", "季末资产总额（元）", "Total assets at quarter end (yuan)"))
            \(input("taxable_income_ytd", "本年累计应纳税所得额（元）", "Taxable income of the year to date (yuan)"))
            <p class="muted">\(lang.t("本年度以前季度的数据取自已申报的预缴申报表。", "The year's earlier quarters come from the prepayment returns already filed."))</p>
            """
        case .businessIncome:
            return """
            \(period) \(input("taxable_income", "应纳税所得额（元）", "Taxable income (yuan)"))
            \(input("other_relief", "已享受的其他减免税额（元，无则填 0）", "Relief already given under other policies (yuan, 0 if none)", hint: "0"))
            """
        }
    }

    /// The posted form as a case body, with amounts and numbers read as people type them (`FormInput`).
    /// Unparseable numbers are refused here, naming the form field.
    static func caseJSON(_ form: WebPath.ReturnForm, _ v: [String: String], taxpayer: String, actor: Actor,
                         filing: FilingService) async throws -> String {
        func value(_ name: String) -> String { FormInput.normalized(v[name] ?? "") }
        func amount(_ name: String) -> String { FormInput.amount(v[name] ?? "") }
        func integer(_ name: String) throws -> Int {
            guard !value(name).isEmpty else { throw ServiceError.invalid(field: name, zh: "请填写", en: "required") }
            guard let n = FormInput.integer(v[name] ?? "") else { throw ServiceError.invalid(field: name, zh: "应为整数", en: "must be a whole number") }
            return n
        }
        func money(_ name: String) throws -> Money {
            guard !value(name).isEmpty else { throw ServiceError.invalid(field: name, zh: "请填写金额", en: "give an amount") }
            guard let m = Money(decimal: amount(name)) else {
                throw ServiceError.invalid(field: name, zh: "应为金额，如 1,234,567.00（最多两位小数）", en: "must be an amount such as 1,234,567.00 (at most two decimals)")
            }
            return m
        }
        let period = FormInput.period(v["period"] ?? "")
        guard !period.isEmpty else { throw ServiceError.invalid(field: "period", zh: "请选择所属期", en: "choose the period") }
        switch form {
        case .vat:
            var sales: [JSON] = []
            for i in 0..<salesLines where !value("amount\(i)").isEmpty {
                var line: [(String, JSON)] = [("kind", .string(value("kind\(i)"))), ("amount", .string(amount("amount\(i)"))),
                                              ("rate", .string(value("rate\(i)").isEmpty ? "0.03" : value("rate\(i)")))]
                if !value("deduction\(i)").isEmpty { line.append(("deduction", .string(amount("deduction\(i)")))) }
                if v["special\(i)"] != nil { line.append(("special_invoice", .bool(true))) }
                if v["waive\(i)"] != nil { line.append(("waive_reduction", .bool(true))) }
                sales.append(.object(line))
            }
            if sales.isEmpty { throw ServiceError.invalid(field: "amount0", zh: "请至少填写一行销售额（无销售填 0）", en: "give at least one sales line (0 if there were no sales)") }
            return JSON.object([("vat", .object([("period", .string(period)), ("sales", .array(sales))]))]).serialized(indent: nil)
        case .eit:
            guard let m = period.wholeMatch(of: /([0-9]{4})-Q([1-4])/), let year = Int(m.1), let quarter = Int(m.2) else {
                throw ServiceError.invalid(field: "period", zh: "所属期应为季度，如 2026-Q3", en: "the period must be a quarter such as 2026-Q3")
            }
            let start = value("start_quarter").isEmpty ? 1 : try integer("start_quarter")
            let figures = EITQuarterFigures(employees: (Int64(try integer("employees_start")), Int64(try integer("employees_end"))),
                                            assets: (try money("assets_start"), try money("assets_end")),
                                            taxableIncomeYTD: try money("taxable_income_ytd"))
            return try await filing.eitCaseJSON(by: actor, taxpayerID: taxpayer, year: year, quarter: quarter, startQuarter: start, figures: figures)
        case .businessIncome:
            guard let year = Int(period), period.count == 4 else {
                throw ServiceError.invalid(field: "period", zh: "所属期应为年度，如 2025", en: "the period must be a year such as 2025")
            }
            var bi: [(String, JSON)] = [("year", .number("\(year)")), ("taxable_income", .string(value("taxable_income").isEmpty ? "" : amount("taxable_income")))]
            if value("taxable_income").isEmpty { throw ServiceError.invalid(field: "taxable_income", zh: "请填写金额", en: "give an amount") }
            if !value("other_relief").isEmpty { bi.append(("other_relief", .string(amount("other_relief")))) }
            return JSON.object([("business_income", .object(bi))]).serialized(indent: nil)
        }
    }

    /// The form values of a stored case, to correct it.
    static func values(of c: Case, _ form: WebPath.ReturnForm) -> [String: String] {
        var v: [String: String] = [:]
        if let vat = c.vat {
            v["period"] = vat.period.description
            for (i, s) in vat.sales.prefix(salesLines).enumerated() {
                v["kind\(i)"] = s.kind.name; v["amount\(i)"] = s.amount.description; v["rate\(i)"] = s.rate.description
                if s.deduction != .zero { v["deduction\(i)"] = s.deduction.description }
                if s.specialInvoice { v["special\(i)"] = "on" }
                if s.waiveReduction { v["waive\(i)"] = "on" }
            }
        }
        if let e = c.eit, let q = e.quarters.last {
            v["period"] = "\(e.year)-Q\(e.startQuarter + e.quarters.count - 1)"; v["start_quarter"] = "\(e.startQuarter)"
            v["employees_start"] = "\(q.employeesStart)"; v["employees_end"] = "\(q.employeesEnd)"
            v["assets_start"] = q.assetsStart.description; v["assets_end"] = q.assetsEnd.description
            v["taxable_income_ytd"] = q.taxableIncomeYTD.description
        }
        if let b = c.businessIncome {
            v["period"] = "\(b.year)"; v["taxable_income"] = b.taxableIncome.description
            v["other_relief"] = b.otherRelief?.description ?? ""
        }
        return v
    }
}
