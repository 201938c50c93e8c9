import HuiqiRules
import HuiqiServices

/// Shows what the engine determined for one return: the relief and the amounts, the legal sources it rests on
/// (文号), the steps in words an officer can check, and the rules it relied on that are not yet confirmed.
enum DeterminationView {
    static func render(_ determination: JSON, _ lang: Lang) -> HTML {
        guard case .object(let sections) = determination, let (name, section) = sections.first else { return "" }
        var rows: [(String, String)] = []
        switch name {
        case "vat":
            rows = [(lang.t("起征点/免税标准", "exemption threshold"), text(section["threshold"]) ?? lang.t("无", "none")),
                    (lang.t("销售额合计", "total sales"), text(section["total_sales"]) ?? ""),
                    (lang.t("免税销售额", "exempt sales"), text(section["exempt_sales"]) ?? ""),
                    (lang.t("应税销售额", "taxable sales"), text(section["taxable_sales"]) ?? ""),
                    (lang.t("应纳税额", "tax due"), text(section["tax"]) ?? ""),
                    (lang.t("减免税额", "relief"), text(section["relief"]) ?? "")]
        case "eit":
            if case .array(let quarters)? = section["quarters"], let q = quarters.last {
                rows = [(lang.t("季度", "quarter"), text(q["quarter"]) ?? ""),
                        (lang.t("从业人数季度平均值", "average head count"), text(q["employees_avg"]) ?? ""),
                        (lang.t("资产总额季度平均值", "average total assets"), text(q["assets_avg"]) ?? ""),
                        (lang.t("小型微利企业", "small low-profit enterprise"), q["small_low_profit"] == .bool(true) ? lang.t("是", "yes") : lang.t("否", "no")),
                        (lang.t("累计应纳所得税额", "tax to date"), text(q["tax_ytd"]) ?? ""),
                        (lang.t("累计减免所得税额", "relief to date"), text(q["relief_ytd"]) ?? ""),
                        (lang.t("本期应补（退）所得税额", "payable this quarter"), text(q["payable"]) ?? ""),
                        (lang.t("多预缴税额（结转以后季度）", "overpaid, carried forward"), text(q["overpaid"]) ?? "")]
            }
        case "business_income":
            rows = [(lang.t("减免前应纳税额", "tax before relief"), text(section["tax_before_relief"]) ?? ""),
                    (lang.t("减半征收减免税额", "relief (halving)"), text(section["relief"]) ?? ""),
                    (lang.t("应纳税额", "tax due"), text(section["tax"]) ?? "")]
        default: break
        }
        let table: [HTML] = rows.map { "<tr><th>\($0.0)</th><td class=\"num\">\($0.1)</td></tr>" }
        let rules: [HTML] = strings(section["rules"]).map { "<li>\($0)</li>" }
        let trace: [HTML] = strings(section[lang == .zh ? "trace_zh" : "trace"]).map { "<li>\($0)</li>" }
        var flags: [HTML] = []
        if case .array(let list)? = section["flags"] {
            flags = list.map { "<li><strong>\(text($0["code"]) ?? "")</strong> \(text($0[lang == .zh ? "message_zh" : "message_en"]) ?? "")</li>" }
        }
        return """
        <section class="relief" id="determination">
        <h2>\(lang.t("按政策计算的结果", "What the law gives"))</h2>
        <table>\(table)</table>
        <h3>\(lang.t("政策依据", "Legal sources"))</h3><ul id="rules">\(rules)</ul>
        <details open><summary>\(lang.t("计算过程", "How it was computed"))</summary><ol>\(trace)</ol></details>
        \(flags.isEmpty ? "" : "<h3>\(lang.t("未经确认的规则", "Unconfirmed rules relied on"))</h3><ul>\(flags)</ul>" as HTML)
        </section>
        """
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
