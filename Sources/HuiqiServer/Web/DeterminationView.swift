import HuiqiRules
import HuiqiServices

/// Shows what the engine determined for one return, in the order people read it: one plain sentence, the
/// amounts, the legal sources (each 文号 once), the steps; the rules it relied on that are not yet confirmed (with
/// their register codes) only under "technical details".
enum DeterminationView {
    static func render(_ determination: JSON, _ lang: Lang) -> HTML {
        guard case .object(let sections) = determination, let (name, section) = sections.first else { return "" }
        func money(_ key: String, in j: JSON? = nil) -> String {
            guard let s = text((j ?? section)[key]) else { return "—" }
            return Money(decimal: s).map { Show.yuan($0) } ?? s
        }
        var rows: [(String, String)] = []
        switch name {
        case "vat":
            rows = [(lang.t("起征点/免税标准", "exemption threshold"), section["threshold"] == .null || section["threshold"] == nil ? lang.t("无", "none") : money("threshold")),
                    (lang.t("销售额合计", "total sales"), money("total_sales")),
                    (lang.t("免税销售额", "exempt sales"), money("exempt_sales")),
                    (lang.t("应税销售额", "taxable sales"), money("taxable_sales")),
                    (lang.t("应纳税额", "tax due"), money("tax")),
                    (lang.t("减免税额", "relief"), money("relief"))]
        case "eit":
            if case .array(let quarters)? = section["quarters"], let q = quarters.last {
                rows = [(lang.t("季度", "quarter"), text(q["quarter"]) ?? ""),
                        (lang.t("从业人数季度平均值", "average head count"), text(q["employees_avg"]) ?? ""),
                        (lang.t("资产总额季度平均值", "average total assets"), money("assets_avg", in: q)),
                        (lang.t("小型微利企业", "small low-profit enterprise"), q["small_low_profit"] == .bool(true) ? lang.t("是", "yes") : lang.t("否", "no")),
                        (lang.t("累计应纳所得税额", "tax to date"), money("tax_ytd", in: q)),
                        (lang.t("累计减免所得税额", "relief to date"), money("relief_ytd", in: q)),
                        (lang.t("本期应补（退）所得税额", "payable this quarter"), money("payable", in: q)),
                        (lang.t("多预缴税额（结转以后季度）", "overpaid, carried forward"), money("overpaid", in: q))]
            }
        case "business_income":
            rows = [(lang.t("减免前应纳税额", "tax before relief"), money("tax_before_relief")),
                    (lang.t("减半征收减免税额", "relief (halving)"), money("relief")),
                    (lang.t("应纳税额", "tax due"), money("tax"))]
        default: break
        }
        let table: [HTML] = rows.map { "<tr><th scope=\"row\">\($0.0)</th><td class=\"num\">\($0.1)</td></tr>" }
        let rules: [HTML] = sources(strings(section["rules"])).map { "<li>\($0)</li>" }
        let trace: [HTML] = strings(section[lang == .zh ? "trace_zh" : "trace"]).map { "<li>\(Show.humanized(FieldLabels.scrubbed($0), lang))</li>" }
        var flags: [HTML] = []
        if case .array(let list)? = section["flags"] {
            flags = list.map { "<li><code>\(text($0["code"]) ?? "")</code> \(text($0[lang == .zh ? "message_zh" : "message_en"]) ?? "")</li>" }
        }
        return """
        <section class="relief" id="determination" aria-labelledby="determination-title">
        <h2 id="determination-title">\(lang.t("按政策计算的结果", "What the law gives"))</h2>
        <p class="lead" id="summary-sentence">\(summary(name, section, lang))</p>
        <table>\(table)</table>
        <h3>\(lang.t("政策依据", "Legal basis"))</h3><ul id="rules">\(rules)</ul>
        <details open><summary>\(lang.t("计算过程", "How it was computed"))</summary><ol id="trace">\(trace)</ol></details>
        \(flags.isEmpty ? "" : "<details class=\"technical\"><summary>\(lang.t("技术详情：尚待确认的规则", "Technical details: rules not yet confirmed"))</summary><ul>\(flags)</ul></details>" as HTML)
        </section>
        """
    }

    /// One sentence that says what the result means, e.g. 本季度销售额25万元，未超过30万元，免征增值税7,500.00元。
    static func summary(_ name: String, _ s: JSON, _ lang: Lang) -> String {
        func m(_ key: String, _ j: JSON? = nil) -> Money? { text((j ?? s)[key]).flatMap { Money(decimal: $0) } }
        switch name {
        case "vat":
            guard let total = m("total_sales"), let tax = m("tax"), let relief = m("relief") else { return "" }
            let quarterly = text(s["period"])?.contains("Q") ?? false
            let this = quarterly ? lang.t("本季度", "This quarter's") : lang.t("本月", "This month's")
            if let threshold = m("threshold"), total <= threshold {
                let taxable = m("taxable_sales") ?? .zero
                let special = taxable > .zero
                    ? lang.t("，开具专用发票的 \(Show.yuan(taxable)) 照常计税，应纳增值税 \(Show.yuan(tax))", "; the \(Show.yuan(taxable)) invoiced on 专票 is taxed as usual, \(Show.yuan(tax)) due")
                    : ""
                return lang.t("\(this)销售额 \(Show.yuan(total))，未超过 \(Show.yuan(threshold))，免征增值税 \(Show.yuan(relief))\(special)。",
                              "\(this) sales of \(Show.yuan(total)) do not exceed \(Show.yuan(threshold)): VAT of \(Show.yuan(relief)) is exempt\(special).")
            }
            if let threshold = m("threshold") {
                return lang.t("\(this)销售额 \(Show.yuan(total))，超过 \(Show.yuan(threshold))，应纳增值税 \(Show.yuan(tax))\(relief > .zero ? "，减征 \(Show.yuan(relief))" : "")。",
                              "\(this) sales of \(Show.yuan(total)) exceed \(Show.yuan(threshold)): VAT due is \(Show.yuan(tax))\(relief > .zero ? ", reduced by \(Show.yuan(relief))" : "").")
            }
            return lang.t("\(this)销售额 \(Show.yuan(total))，应纳增值税 \(Show.yuan(tax))\(relief > .zero ? "，减征 \(Show.yuan(relief))" : "")。",
                          "\(this) sales of \(Show.yuan(total)): VAT due is \(Show.yuan(tax))\(relief > .zero ? ", reduced by \(Show.yuan(relief))" : "").")
        case "eit":
            guard case .array(let quarters)? = s["quarters"], let q = quarters.last, let payable = m("payable", q) else { return "" }
            let relief = m("relief_ytd", q) ?? .zero
            if q["small_low_profit"] == .bool(true) {
                return lang.t("符合小型微利企业条件，本年累计减免企业所得税 \(Show.yuan(relief))，本期应预缴 \(Show.yuan(payable))。",
                              "A small low-profit enterprise: \(Show.yuan(relief)) of enterprise income tax relieved in the year to date; \(Show.yuan(payable)) to prepay this quarter.")
            }
            return lang.t("不符合小型微利企业条件，本期应预缴企业所得税 \(Show.yuan(payable))。",
                          "Not a small low-profit enterprise: \(Show.yuan(payable)) of enterprise income tax to prepay this quarter.")
        case "business_income":
            guard let before = m("tax_before_relief"), let relief = m("relief"), let tax = m("tax") else { return "" }
            return lang.t("减免前应纳税额 \(Show.yuan(before))，个体工商户减半征收减免 \(Show.yuan(relief))，应纳税额 \(Show.yuan(tax))。",
                          "Tax before relief \(Show.yuan(before)); the halving for individual businesses relieves \(Show.yuan(relief)); tax due \(Show.yuan(tax)).")
        default: return ""
        }
    }

    /// The legal sources, each once: an entry citing two documents (`A; B`) is split, duplicates dropped.
    static func sources(_ rules: [String]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for r in rules {
            for part in r.components(separatedBy: "; ") where !part.isEmpty && seen.insert(part).inserted { out.append(part) }
        }
        return out
    }

    static func text(_ j: JSON?) -> String? {
        switch j {
        case .string(let s)?: return s
        case .number(let n)?: return n
        case .bool(let b)?: return b ? "true" : "false"
        default: return nil
        }
    }

    static func strings(_ j: JSON?) -> [String] {
        guard case .array(let list)? = j else { return [] }
        return list.compactMap { text($0) }
    }
}
