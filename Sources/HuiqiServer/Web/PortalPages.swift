import Foundation
import HuiqiDates
import HuiqiRules
import HuiqiServices
import Vapor

/// The public portal (宣传, issue 11 §3), no login: what each preference gives today, explained from the parameter
/// files (who, how much, since when, 文号), typical cases worked by the engine, the latest changes of the law, the
/// knowledge-base search, and a self-check (自测) where a small business sees its relief for a few figures.
enum PortalPages {
    /// A preference as the portal explains it: a plain sentence written for the project (no figures: every value
    /// comes from the parameter files, in the table), and the parameters whose values today the page shows.
    struct Preference {
        let id: String, zh: String, en: String, whoZh: String, whoEn: String, parameters: [String]
    }
    static let preferences: [Preference] = [
        Preference(id: "vat", zh: "增值税小规模纳税人免征增值税和3%减按1%", en: "VAT: small-scale exemption and the 1% rate",
                   whoZh: "增值税小规模纳税人（含个体工商户）。销售额未达到起征点（2025年以前为不超过免税标准）的免征；超过的全部销售额计税，3%征收率的销售额按下表减征。",
                   whoEn: "Small-scale VAT taxpayers, 个体工商户 included. Sales below the 起征点 (up to 2025: within the limit) are exempt; above it all sales are taxed, the 3% sales at the reduced rate of the table below.",
                   parameters: ["vat.qizhengdian.monthly", "vat.qizhengdian.quarterly", "vat.exemption.limit.monthly", "vat.exemption.limit.quarterly", "vat.rate3.treatment"]),
        Preference(id: "eit", zh: "小型微利企业所得税优惠", en: "Enterprise income tax: small low-profit enterprises",
                   whoZh: "从事国家非限制和禁止行业，年度应纳税所得额、从业人数、资产总额均不超过标准的企业，按下表的计算方式减征。",
                   whoEn: "Enterprises in unrestricted industries whose taxable income, head count and total assets are all within the limits, taxed as the table below says.",
                   parameters: ["eit.slpe.income_limit", "eit.slpe.employees_limit", "eit.slpe.assets_limit", "eit.slpe.schedule"]),
        Preference(id: "pit", zh: "个体工商户经营所得减半征收个人所得税", en: "个体工商户: half the income tax on business income",
                   whoZh: "个体工商户年应纳税所得额不超过上限的部分，在其他优惠基础上减半征收个人所得税。",
                   whoEn: "The part of a 个体工商户's annual business income up to the cap pays half the income tax, on top of other reliefs.",
                   parameters: ["pit.business.halving_cap", "pit.business.halving_share"]),
        Preference(id: "local", zh: "六税两费减半征收", en: "六税两费: the six local taxes and two fees halved",
                   whoZh: "增值税小规模纳税人、小型微利企业和个体工商户的资源税、城市维护建设税、房产税、城镇土地使用税、印花税、耕地占用税和教育费附加、地方教育附加减征。",
                   whoEn: "Small-scale VAT taxpayers, small low-profit enterprises and 个体工商户 pay less of six local taxes and two education fees.",
                   parameters: ["sltf.ratio", "sltf.beneficiaries"]),
        Preference(id: "fee", zh: "教育费附加、地方教育附加免征", en: "Education surcharges exempt for small sales",
                   whoZh: "月（季度）销售额不超过下表标准的缴纳义务人，一般纳税人也适用。",
                   whoEn: "Payers whose monthly (quarterly) sales are within the limits below, general taxpayers included.",
                   parameters: ["fee.exemption.education.limit.monthly", "fee.exemption.education.limit.quarterly"]),
    ]

    static func shortDescription(_ d: ParameterDefinition) -> String { d.description.components(separatedBy: " / ").first ?? d.description }

    static func page(_ req: Request, engine: Engine, today: Day) -> Response {
        let t = req.web
        let p = engine.parameters
        let sections: [HTML] = preferences.map { pref in
            let rows: [HTML] = pref.parameters.compactMap { name -> HTML? in
                guard let def = p.definitions[name] else { return nil }
                let current = def.versions.filter { $0.covers(today) }
                guard !current.isEmpty else { return nil }
                return HTML(raw: current.map { v in
                    "<tr><td>\(HTML.escape(shortDescription(def)))\(v.key.map { "（\(HTML.escape($0))）" } ?? "")</td><td class=\"num\">\(HTML.escape(v.value.description))</td><td>\(HTML.escape(v.from.description))\(v.to.map { " – " + HTML.escape($0.description) } ?? "")</td><td>\(HTML.escape(v.cite.description))</td></tr>"
                }.joined())
            }
            return """
            <section class="preference" id="pref-\(pref.id)" aria-labelledby="pref-\(pref.id)-title"><h2 id="pref-\(pref.id)-title">\(t.lang == .zh ? pref.zh : pref.en)</h2>
            <p>\(t.lang == .zh ? pref.whoZh : pref.whoEn)</p>
            \(rows.isEmpty ? "<p class=\"muted\">\(t.t("今天没有在施行的规定。", "No rule in force today."))</p>" as HTML : """
            <div class="scroll"><table><caption>\(t.t("今天施行的规定（\(today)）", "In force today (\(today))"))</caption><thead><tr><th scope="col">\(t.t("项目", "Item"))</th><th scope="col">\(t.t("标准", "Value"))</th><th scope="col">\(t.t("施行期间", "In force"))</th><th scope="col">\(t.t("文号", "Source"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """ as HTML)
            </section>
            """
        }
        // The latest changes: the parameter versions that began most recently, up to today.
        var all: [(ParameterDefinition, ParameterVersion)] = []
        for d in p.definitions.values { for v in d.versions where v.from <= today { all.append((d, v)) } }
        all.sort { a, b in a.1.from != b.1.from ? a.1.from > b.1.from : a.0.name < b.0.name }
        let changeRows: [HTML] = all.prefix(10).map { d, v in
            let key = v.key.map { "（\($0)）" } ?? ""
            return "<li>\(v.from.description)：\(shortDescription(d))\(key) → \(v.value.description)（\(v.cite.description)）</li>"
        }
        let cases: [HTML] = typicalCases(engine).map { c in
            """
            <li class="case"><h3>\(t.lang == .zh ? c.zh : c.en)</h3><p>\(c.summary(t.lang))</p><details><summary>\(t.t("计算过程与依据", "How it is computed"))</summary>\(c.view(t.lang))</details></li>
            """
        }
        return Layout.page(req, title: t.t("小微企业税收优惠", "Tax relief for small businesses"), """
        <p class="lead">\(t.t("以下内容由惠企规则引擎所用的政策参数生成，每项都注明文号。想知道自己能享受多少？请用", "Generated from the law's data the engine uses, each item with its source. To see what you get, use the"))
        <a href="\(WebPath.portalCheck.href)" id="to-check">\(t.t("优惠自测", "self-check"))</a>\(t.t("。", "."))</p>
        <form method="get" action="\(WebPath.kb(query: nil).href)" role="search" id="portal-search"><div class="field"><label for="q">\(t.t("搜索12366知识库", "Search the 12366 knowledge base"))</label> <input type="search" name="q" id="q" size="30"></div> <button type="submit">\(t.t("搜索", "Search"))</button></form>
        \(sections)
        <h2>\(t.t("最近的政策变化", "Latest changes of the law"))</h2><ul id="changes">\(changeRows)</ul>
        <h2>\(t.t("典型案例", "Typical cases"))</h2><ol id="cases">\(cases)</ol>
        """)
    }

    struct TypicalCase {
        let zh: String, en: String
        let determination: JSON?
        let refusal: Refusal?
        func summary(_ lang: Lang) -> String {
            guard case .object(let kv)? = determination, let (name, section) = kv.first else {
                return refusal.map { lang == .zh ? "不予计算：\($0.messageZh)" : "Not computed: \($0.messageEn)" } ?? ""
            }
            return DeterminationView.summary(name, section, lang)
        }
        func view(_ lang: Lang) -> HTML { determination.map { DeterminationView.render($0, lang) } ?? "" }
    }

    static func typicalCases(_ engine: Engine) -> [TypicalCase] {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "json", subdirectory: "cases"),
              let data = try? Data(contentsOf: url), case .array(let index)? = try? JSONParser.parse(String(decoding: data, as: UTF8.self)) else { return [] }
        return index.compactMap { item -> TypicalCase? in
            guard let file = item["file"]?.stringValue, let zh = item["zh"]?.stringValue, let en = item["en"]?.stringValue,
                  let f = Bundle.module.url(forResource: String(file.dropLast(5)), withExtension: "json", subdirectory: "cases"),
                  let text = try? String(contentsOf: f, encoding: .utf8), let input = (try? JSONParser.parse(text))?["input"] else { return nil }
            do { return TypicalCase(zh: zh, en: en, determination: try engine.determine(json: input.serialized(indent: nil)).json, refusal: nil) }
            catch let e as Refusal { return TypicalCase(zh: zh, en: en, determination: nil, refusal: e) }
            catch { return nil }
        }
    }

    // MARK: self-check

    /// The self-check's sections, each computed on its own: the figures given make a CASES.md case; a figure the
    /// law needs and the form lacks comes back from the engine as a refusal naming it (never assumed).
    static func check(_ req: Request, engine: Engine) -> Response {
        let t = req.web
        var v: [String: String] = [:]
        for k in ["kind", "region", "period", "sale_kind", "sales3", "sales3s", "sales5", "eit_year", "profit", "employees", "assets",
                  "restricted", "industry", "bi_year", "bi_income", "bi_other"] {
            if let x = req.query[String.self, at: k] { v[k] = String(x.prefix(40)).trimmingCharacters(in: .whitespaces) }
        }
        let asked = !v.values.allSatisfy(\.isEmpty)
        var results: [HTML] = []
        if asked {
            for (title, c) in cases(v) {
                let out: HTML
                do {
                    out = DeterminationView.render(try engine.determine(json: c.serialized(indent: nil)).json, t.lang)
                } catch {
                    out = """
                    <p class="needs" role="status">\(t.t("无法计算：", "Cannot compute: "))\(t.lang == .zh ? error.messageZh : error.messageEn)\(error.code == .missingFact ? " " + t.t("（请补充：\(error.path)）", "(please give: \(error.path))") : "")</p>
                    """
                }
                results.append("<section class=\"check-result\"><h2>\(t.lang == .zh ? title.0 : title.1)</h2>\(out)</section>")
            }
            if results.isEmpty {
                results.append("<p class=\"needs\" role=\"status\" id=\"check-nothing\">\(t.t("请至少填写一个税种的数字：增值税填所属期和销售额，企业所得税填年度和应纳税所得额，个体工商户填年度和经营所得。", "Give the figures of at least one tax: the period and sales for VAT, the year and taxable income for enterprise income tax, the year and business income for a 个体工商户."))</p>")
            }
        }
        func sel(_ name: String, _ label: String, _ options: [(String, String)]) -> HTML {
            let o: [HTML] = options.map { "<option value=\"\($0.0)\"\(v[name] == $0.0 ? " selected" : "")>\($0.1)</option>" }
            return "<div class=\"field\"><label for=\"\(name)\">\(label)</label> <select name=\"\(name)\" id=\"\(name)\">\(o)</select></div>"
        }
        func field(_ name: String, _ label: String, hint: String = "") -> HTML {
            "<div class=\"field\"><label for=\"\(name)\">\(label)</label> <input type=\"text\" name=\"\(name)\" id=\"\(name)\" value=\"\(v[name] ?? "")\" size=\"14\"\(hint.isEmpty ? "" : HTML(raw: " aria-describedby=\"\(name)-hint\""))>\(hint.isEmpty ? "" : HTML(raw: " <span class=\"hint\" id=\"\(name)-hint\">\(HTML.escape(hint))</span>"))</div>"
        }
        let unknown = ("", t.t("不清楚", "not sure"))
        return Layout.page(req, title: t.t("优惠自测", "Self-check"), """
        <p class="lead">\(t.t("填写几个数字，看看按政策能享受哪些优惠、多少钱。只按您填写的数字计算，缺少的会逐项指出，不会替您假设。结果仅供参考，以申报为准。", "Give a few figures and see which reliefs the law gives and how much. Only your figures are used; anything missing is named, never assumed. For guidance; the return decides."))</p>
        <form method="get" action="\(WebPath.portalCheck.href)" id="check-form">
        <fieldset><legend>\(t.t("纳税人", "Taxpayer"))</legend>
        \(sel("kind", t.t("类型", "Kind"), [("enterprise", t.t("企业", "enterprise")), ("individual_business", t.t("个体工商户", "个体工商户")), ("unit", t.t("非企业性单位", "non-enterprise unit")), ("individual", t.t("其他个人", "individual"))]))
        \(field("region", t.t("行政区划代码（6位，可空）", "Region code (6 digits, optional)"), hint: t.t("2020–2021年判断是否湖北时需要", "needed for 2020–2021 (Hubei)")))
        </fieldset>
        <fieldset><legend>\(t.t("增值税（小规模纳税人）", "VAT (small-scale)"))</legend>
        \(field("period", t.t("所属期", "Period"), hint: t.t("按季如 2026-Q3，按月如 2026-09", "quarter 2026-Q3 or month 2026-09")))
        \(sel("sale_kind", t.t("3%销售的类型", "Kind of the 3% sales"), [("goods", t.t("货物、加工修理修配", "goods, processing")), ("services", t.t("服务、无形资产", "services, intangibles"))]))
        \(field("sales3", t.t("3%征收率销售额（未开专票）", "3% sales, no special invoice")))
        \(field("sales3s", t.t("3%征收率销售额（开具专票）", "3% sales on special invoices")))
        \(field("sales5", t.t("5%征收率销售额（如出租不动产）", "5% sales (e.g. property rental)")))
        </fieldset>
        <fieldset><legend>\(t.t("企业所得税（企业）", "Enterprise income tax (enterprises)"))</legend>
        <p class="hint">\(t.t("按全年（或截至本期）的数字填写，按一期预缴的口径计算。", "Give the year's figures (or those to date); computed as one prepayment."))</p>
        \(field("eit_year", t.t("年度", "Year")))
        \(field("profit", t.t("应纳税所得额", "Taxable income")))
        \(field("employees", t.t("从业人数", "Head count")))
        \(field("assets", t.t("资产总额", "Total assets")))
        \(sel("restricted", t.t("是否从事国家限制或禁止行业", "In a restricted or prohibited industry"), [unknown, ("no", t.t("否", "no")), ("yes", t.t("是", "yes"))]))
        \(sel("industry", t.t("行业（2019年以前需要）", "Industry (needed before 2019)"), [unknown, ("other", t.t("其他企业", "other")), ("industrial", t.t("工业企业", "industrial"))]))
        </fieldset>
        <fieldset><legend>\(t.t("个人所得税（个体工商户经营所得）", "Income tax (个体工商户)"))</legend>
        \(field("bi_year", t.t("年度", "Year")))
        \(field("bi_income", t.t("年应纳税所得额", "Annual taxable income")))
        \(field("bi_other", t.t("其他政策减免税额（没有填0）", "Other relief (0 if none)")))
        </fieldset>
        <button type="submit" id="check-go">\(t.t("计算", "Compute"))</button></form>
        <div id="check-results" aria-live="polite">\(results)</div>
        <p><a href="\(WebPath.portal.href)">\(t.t("返回政策说明", "Back to the reliefs"))</a></p>
        """)
    }

    /// The cases of the figures given: (title, case JSON) per section with figures.
    static func cases(_ v: [String: String]) -> [((String, String), JSON)] {
        func has(_ k: String) -> Bool { !(v[k] ?? "").isEmpty }
        func amount(_ k: String) -> JSON { .string(FormInput.amount(v[k] ?? "")) }
        var taxpayer: [(String, JSON)] = [("kind", .string(v["kind"] ?? "enterprise")), ("vat_status", .string("small_scale"))]
        if has("region") { taxpayer.append(("region", .string(v["region"]!))) }
        if v["restricted"] == "yes" || v["restricted"] == "no" { taxpayer.append(("restricted_industry", .bool(v["restricted"] == "yes"))) }
        if has("industry") { taxpayer.append(("industry", .string(v["industry"]!))) }
        var out: [((String, String), JSON)] = []
        if has("period") || has("sales3") || has("sales3s") || has("sales5") {
            var lines: [JSON] = []
            let kind = v["sale_kind"] == "services" ? "services" : "goods"
            if has("sales3") { lines.append(.object([("kind", .string(kind)), ("amount", amount("sales3")), ("rate", .string("0.03"))])) }
            if has("sales3s") { lines.append(.object([("kind", .string(kind)), ("amount", amount("sales3s")), ("rate", .string("0.03")), ("special_invoice", .bool(true))])) }
            if has("sales5") { lines.append(.object([("kind", .string("services")), ("amount", amount("sales5")), ("rate", .string("0.05"))])) }
            out.append((("增值税", "VAT"), .object([("taxpayer", .object(taxpayer)),
                                                 ("vat", .object([("period", .string(FormInput.period(v["period"] ?? ""))), ("sales", .array(lines))]))])))
        }
        if has("eit_year") || has("profit") {
            var q: [(String, JSON)] = []
            if has("employees") { q.append(("employees", .array([.number(FormInput.amount(v["employees"]!)), .number(FormInput.amount(v["employees"]!))]))) }
            if has("assets") { q.append(("assets", .array([amount("assets"), amount("assets")]))) }
            let quarters: [JSON] = [.object(q + (has("profit") ? [("taxable_income_ytd", amount("profit"))] : []))]
            out.append((("企业所得税", "Enterprise income tax"), .object([("taxpayer", .object(taxpayer)),
                ("eit", .object([("year", .number(String(Int(v["eit_year"] ?? "") ?? 0))), ("quarters", .array(quarters))]))])))
        }
        if has("bi_year") || has("bi_income") {
            var b: [(String, JSON)] = [("year", .number(String(Int(v["bi_year"] ?? "") ?? 0)))]
            if has("bi_income") { b.append(("taxable_income", amount("bi_income"))) }
            if has("bi_other") { b.append(("other_relief", amount("bi_other"))) }
            out.append((("个人所得税（经营所得）", "Income tax on business income"), .object([("taxpayer", .object(taxpayer)), ("business_income", .object(b))])))
        }
        return out
    }
}

@Sendable func portalPage(_ req: Request) async throws -> Response {
    let p = req.application.platform
    return PortalPages.page(req, engine: p.engine, today: FilingService.chinaDay(p.services.now()))
}

@Sendable func portalCheckPage(_ req: Request) async throws -> Response {
    PortalPages.check(req, engine: req.application.platform.engine)
}
