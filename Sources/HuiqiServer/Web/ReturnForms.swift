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

    /// The form's fields as HTML inputs, filled with `v`.
    static func fields(_ form: WebPath.ReturnForm, _ v: [String: String], _ lang: Lang) -> HTML {
        func input(_ name: String, _ zh: String, _ en: String, hint: String = "") -> HTML {
            "<label>\(lang.t(zh, en)) <input name=\"\(name)\" id=\"\(name)\" value=\"\(v[name] ?? "")\" placeholder=\"\(hint)\"></label>"
        }
        switch form {
        case .vat:
            let kinds: [(String, String, String)] = [("goods", "货物", "goods"), ("processing", "加工修理修配劳务", "processing and repairs"),
                                                     ("services", "服务", "services"), ("intangibles", "无形资产", "intangibles"),
                                                     ("immovable", "不动产", "immovable property")]
            var lines: [HTML] = []
            for i in 0..<salesLines {
                let options: [HTML] = kinds.map { k in
                    "<option value=\"\(k.0)\"\(v["kind\(i)"] == k.0 ? " selected" : "")>\(lang.t(k.1, k.2))</option>"
                }
                let rates: [HTML] = ["0.03", "0.05"].map { r in "<option value=\"\(r)\"\(v["rate\(i)"] == r ? " selected" : "")>\(r)</option>" }
                lines.append("""
                <tr><td>\(i + 1)</td><td><select name="kind\(i)" id="kind\(i)">\(options)</select></td>
                <td><input name="amount\(i)" id="amount\(i)" value="\(v["amount\(i)"] ?? "")" size="12"></td>
                <td><select name="rate\(i)" id="rate\(i)">\(rates)</select></td>
                <td><input name="deduction\(i)" id="deduction\(i)" value="\(v["deduction\(i)"] ?? "")" size="10"></td>
                <td><input type="checkbox" name="special\(i)" id="special\(i)"\(v["special\(i)"] != nil ? " checked" : "")></td>
                <td><input type="checkbox" name="waive\(i)" id="waive\(i)"\(v["waive\(i)"] != nil ? " checked" : "")></td></tr>
                """)
            }
            return """
            \(input("period", "所属期", "Period", hint: "2026-Q1 / 2026-03"))
            <table><tr><th>#</th><th>\(lang.t("项目", "Kind"))</th><th>\(lang.t("不含税销售额（元）", "Sales excl. VAT (yuan)"))</th>
            <th>\(lang.t("征收率", "Levy rate"))</th><th>\(lang.t("差额扣除（元）", "Deduction (yuan)"))</th><th>\(lang.t("开具专票", "Special invoice"))</th>
            <th>\(lang.t("放弃减税（专票按3%开具）", "Waive the reduction (专票 at 3%)"))</th></tr>
            \(lines)</table>
            """
        case .eit:
            return """
            \(input("year", "年度", "Year")) \(input("quarter", "季度（1-4）", "Quarter (1-4)"))
            \(input("start_quarter", "开始经营的季度（当年开业时填写）", "Quarter operations began (first year only)", hint: "1"))
            \(input("employees_start", "季初从业人数", "Head count at quarter start")) \(input("employees_end", "季末从业人数", "Head count at quarter end"))
            \(input("assets_start", "季初资产总额（元）", "Total assets at quarter start (yuan)")) \(input("assets_end", "季末资产总额（元）", "Total assets at quarter end (yuan)"))
            \(input("taxable_income_ytd", "本年累计应纳税所得额（元）", "Taxable income of the year to date (yuan)"))
            <p class="muted">\(lang.t("本年度以前季度的数据取自已申报的预缴申报表。", "The year's earlier quarters come from the prepayment returns already filed."))</p>
            """
        case .businessIncome:
            return """
            \(input("year", "年度", "Year")) \(input("taxable_income", "应纳税所得额（元）", "Taxable income (yuan)"))
            \(input("other_relief", "已享受的其他减免税额（元）", "Relief already given under other policies (yuan)", hint: "0"))
            """
        }
    }

    /// The posted form as a case body. Unparseable numbers are refused here, naming the case field.
    static func caseJSON(_ form: WebPath.ReturnForm, _ v: [String: String], taxpayer: String, actor: Actor,
                         filing: FilingService) async throws -> String {
        func value(_ name: String) -> String { (v[name] ?? "").trimmingCharacters(in: .whitespaces) }
        func amount(_ name: String, _ field: String) throws -> JSON {
            let text = value(name)
            guard !text.isEmpty else { throw ServiceError.invalid(field: field, zh: "请填写金额", en: "give an amount") }
            return .string(text)
        }
        func integer(_ name: String, _ field: String) throws -> Int {
            guard let n = Int(value(name)) else { throw ServiceError.invalid(field: field, zh: "应为整数", en: "must be a whole number") }
            return n
        }
        switch form {
        case .vat:
            var sales: [JSON] = []
            for i in 0..<salesLines where !value("amount\(i)").isEmpty {
                var line: [(String, JSON)] = [("kind", .string(value("kind\(i)"))), ("amount", .string(value("amount\(i)"))),
                                              ("rate", .string(value("rate\(i)").isEmpty ? "0.03" : value("rate\(i)")))]
                if !value("deduction\(i)").isEmpty { line.append(("deduction", .string(value("deduction\(i)")))) }
                if v["special\(i)"] != nil { line.append(("special_invoice", .bool(true))) }
                if v["waive\(i)"] != nil { line.append(("waive_reduction", .bool(true))) }
                sales.append(.object(line))
            }
            return JSON.object([("vat", .object([("period", .string(value("period"))), ("sales", .array(sales))]))]).serialized(indent: nil)
        case .eit:
            let year = try integer("year", "eit.year"), quarter = try integer("quarter", "eit.quarters")
            let start = value("start_quarter").isEmpty ? 1 : try integer("start_quarter", "eit.start_quarter")
            func money(_ name: String, _ field: String) throws -> Money {
                guard let m = Money(decimal: value(name)) else {
                    throw ServiceError.invalid(field: field, zh: "应为最多两位小数的金额", en: "must be an amount with at most two decimals")
                }
                return m
            }
            let figures = EITQuarterFigures(
                employees: (Int64(try integer("employees_start", "eit.quarters[].employees[0]")), Int64(try integer("employees_end", "eit.quarters[].employees[1]"))),
                assets: (try money("assets_start", "eit.quarters[].assets[0]"), try money("assets_end", "eit.quarters[].assets[1]")),
                taxableIncomeYTD: try money("taxable_income_ytd", "eit.quarters[].taxable_income_ytd"))
            return try await filing.eitCaseJSON(by: actor, taxpayerID: taxpayer, year: year, quarter: quarter, startQuarter: start, figures: figures)
        case .businessIncome:
            var bi: [(String, JSON)] = [("year", .number("\(try integer("year", "business_income.year"))")),
                                        ("taxable_income", try amount("taxable_income", "business_income.taxable_income"))]
            if !value("other_relief").isEmpty { bi.append(("other_relief", .string(value("other_relief")))) }
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
            v["year"] = "\(e.year)"; v["quarter"] = "\(e.startQuarter + e.quarters.count - 1)"; v["start_quarter"] = "\(e.startQuarter)"
            v["employees_start"] = "\(q.employeesStart)"; v["employees_end"] = "\(q.employeesEnd)"
            v["assets_start"] = q.assetsStart.description; v["assets_end"] = q.assetsEnd.description
            v["taxable_income_ytd"] = q.taxableIncomeYTD.description
        }
        if let b = c.businessIncome {
            v["year"] = "\(b.year)"; v["taxable_income"] = b.taxableIncome.description
            v["other_relief"] = b.otherRelief?.description ?? ""
        }
        return v
    }
}
