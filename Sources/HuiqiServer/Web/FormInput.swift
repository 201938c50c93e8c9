import Foundation
import HuiqiRules
import HuiqiServices

/// Input as people type it, made into what the case decoder reads: full-width digits and punctuation from a
/// Chinese keyboard, surrounding spaces (the ideographic space too), thousands separators and a trailing 元.
enum FormInput {
    /// Full-width ASCII (U+FF01–FF5E) to ASCII, the ideographic space to a space, then trimmed.
    static func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            switch s.value {
            case 0xFF01...0xFF5E: scalars.append(Unicode.Scalar(s.value - 0xFEE0)!)
            case 0x3000: scalars.append(" ")
            default: scalars.append(s)
            }
        }
        return String(scalars).trimmingCharacters(in: .whitespaces)
    }

    /// An amount: normalized, 。 as the decimal point, a trailing 元 dropped, and thousands separators removed when
    /// they group digits by three (`1,234,567.00`). Anything else is left for the decoder to refuse, naming the field.
    static func amount(_ text: String) -> String {
        var s = normalized(text).replacingOccurrences(of: "。", with: ".")
        if s.hasSuffix("元") { s = String(s.dropLast()).trimmingCharacters(in: .whitespaces) }
        if s.contains(","), s.range(of: #"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"#, options: .regularExpression) != nil {
            s = s.replacingOccurrences(of: ",", with: "")
        }
        return s
    }

    /// A period as typed: `2026-q3` → `2026-Q3`.
    static func period(_ text: String) -> String { normalized(text).uppercased() }

    /// A whole number (years, quarters, head counts), normalized.
    static func integer(_ text: String) -> Int? { Int(normalized(text).replacingOccurrences(of: ",", with: "")) }
}

/// A form error for people: the field as the form labels it, the message in the page's language without internal
/// paths or register codes, and those kept in a "technical details" disclosure.
struct FormError: Sendable {
    /// The form input's id (to mark it and move focus to it); nil when the error is about the whole form.
    let input: String?
    let label: String?
    let message: String
    let technical: String
    /// A way out the error offers (本期已申报 → 更正申报): the link and its text.
    var link: (href: String, text: String)? = nil

    /// An error from the engine or a service, for the field `path` (a case path such as `vat.sales[1].amount`, or a
    /// form field name), on `form`.
    init(path: String, zh: String, en: String, form: WebPath.ReturnForm?, lang: Lang) {
        let field = FieldLabels.field(path, form: form, lang: lang)
        input = field?.input
        label = field?.label
        var text = lang.t(zh, en)
        // The label comes first; the message need not repeat the path (or name it in internal form).
        if field != nil, !path.isEmpty { text = text.replacingOccurrences(of: path, with: "").trimmingCharacters(in: CharacterSet(charactersIn: " ：:，,")) }
        message = FieldLabels.scrubbed(text)
        technical = "\(path.isEmpty ? "—" : path): \(en)"
    }

    init(input: String?, label: String?, message: String, technical: String = "") {
        self.input = input; self.label = label; self.message = message; self.technical = technical
    }

    func html(_ lang: Lang) -> HTML {
        let name: HTML = label.map { l in input.map { "<a href=\"#\($0)\">\(l)</a>：" as HTML } ?? "\(l)：" } ?? ""
        let details: HTML = technical.isEmpty ? "" : "<details class=\"technical\"><summary>\(lang.t("技术详情", "Technical details"))</summary><code>\(technical)</code></details>"
        let action: HTML = link.map { "<p><a id=\"error-action\" href=\"\($0.href)\">\($0.text)</a></p>" } ?? ""
        return "<div class=\"error\" role=\"alert\" id=\"error\"><p>\(name)\(message)</p>\(action)\(details)</div>"
    }
}

/// The labels of the return forms' fields, and how an engine path (`vat.sales[1].amount`) finds its input.
enum FieldLabels {
    static func lineLabel(_ i: Int, _ column: (String, String), _ lang: Lang) -> String {
        lang.t("第 \(i + 1) 行 \(column.0)", "line \(i + 1), \(column.1)")
    }

    static let columns: [String: (String, String)] = [
        "kind": ("项目", "kind"), "amount": ("不含税销售额", "sales excl. VAT"), "rate": ("征收率", "levy rate"),
        "deduction": ("差额扣除额", "deduction"), "special": ("开具专票", "special invoice"), "waive": ("放弃减税", "waive the reduction"),
    ]

    static let inputs: [String: (String, String)] = [
        "period": ("所属期", "period"), "declared_tax": ("申报税额", "tax declared"), "confirm": ("确认申报", "confirmation"),
        "confirm_difference": ("确认差额", "confirmation of the difference"),
        "start_quarter": ("开始经营的季度", "quarter operations began"), "employees_start": ("季初从业人数", "head count at quarter start"),
        "employees_end": ("季末从业人数", "head count at quarter end"), "assets_start": ("季初资产总额", "total assets at quarter start"),
        "assets_end": ("季末资产总额", "total assets at quarter end"), "taxable_income_ytd": ("本年累计应纳税所得额", "taxable income of the year to date"),
        "taxable_income": ("应纳税所得额", "taxable income"), "other_relief": ("已享受的其他减免税额", "relief already given under other policies"),
        "amount": ("金额", "amount"), "tax": ("税种", "tax"),
    ]

    /// The input and its label for a path or a form field name; nil when the error concerns the whole return.
    static func field(_ path: String, form: WebPath.ReturnForm?, lang: Lang) -> (input: String, label: String)? {
        func named(_ input: String) -> (String, String)? { inputs[input].map { (input, lang.t($0.0, $0.1)) } }
        // A form field name, as the form posts it (amount0, kind1, …).
        if let m = path.firstMatch(of: /^(kind|amount|rate|deduction|special|waive)([0-9]+)$/), let i = Int(m.2), let c = columns[String(m.1)] {
            return (path, lineLabel(i, c, lang))
        }
        if let n = named(path) { return n }
        // VAT lines: vat.sales[1].amount → amount1.
        if let m = path.firstMatch(of: /^vat\.sales\[([0-9]+)\]\.([a-z_]+)$/), let i = Int(m.1) {
            let key: String
            switch String(m.2) {
            case "special_invoice": key = "special"
            case "waive_reduction": key = "waive"
            default: key = String(m.2)
            }
            if let c = columns[key], i < ReturnForms.salesLines { return ("\(key)\(i)", lineLabel(i, c, lang)) }
            return ("amount0", lang.t("第 \(i + 1) 行", "line \(i + 1)"))
        }
        if path == "vat.sales" { return ("amount0", lang.t("销售额", "sales")) }
        if path == "vat.period" || path == "eit.year" || path == "business_income.year" || path == "eit.quarters" { return named("period") }
        // EIT quarters: the form holds the last quarter; earlier ones come from filed returns.
        if path.hasPrefix("eit.quarters[") {
            if path.hasSuffix("employees[0]") { return named("employees_start") }
            if path.hasSuffix("employees[1]") || path.hasSuffix("employees") { return named("employees_end") }
            if path.hasSuffix("assets[0]") { return named("assets_start") }
            if path.hasSuffix("assets[1]") || path.hasSuffix("assets") { return named("assets_end") }
            if path.hasSuffix("taxable_income_ytd") { return named("taxable_income_ytd") }
        }
        if path == "eit.start_quarter" { return named("start_quarter") }
        if path == "business_income.taxable_income" { return named("taxable_income") }
        if path == "business_income.other_relief" { return named("other_relief") }
        if path == "declared_tax" || path == "Huiqi-Declared-Tax" { return named("declared_tax") }
        return nil
    }

    /// A message without register codes (U3), rule references (RULES §3.1, §5.2) or case paths.
    static func scrubbed(_ text: String) -> String {
        var s = text
        for pattern in [#"[（(]U[0-9]+[）)]"#, #"[（(]?RULES\s*§[0-9.]+[）)]?"#, #"[（(]§[0-9.]+[）)]"#,
                        #"\b(vat|eit|business_income|taxpayer)(\.[a-z_]+(\[[0-9]*\])?)+"#] {
            s = s.replacingOccurrences(of: pattern, with: "", options: .regularExpression)
        }
        return s.replacingOccurrences(of: "  ", with: " ").trimmingCharacters(in: .whitespaces)
    }
}
