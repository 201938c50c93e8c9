import HuiqiRules
import HuiqiStore
import Vapor

/// The taxpayer list (a taxpayer user's own; an officer's offices, searchable by credit code or name) and one
/// taxpayer's page: registry facts, returns, and the forms to file.
enum TaxpayerPages {
    static func kindName(_ kind: String, _ lang: Lang) -> String {
        switch kind {
        case "enterprise": return lang.t("企业", "enterprise")
        case "unit": return lang.t("非企业性单位", "non-enterprise unit")
        case "individual_business": return lang.t("个体工商户", "individual business")
        default: return lang.t("其他个人", "individual")
        }
    }

    static func list(_ req: Request, rows: [TaxpayerRow], search: String, offices: [String: String]) -> Response {
        let t = req.web
        let items: [HTML] = rows.map { r in
            "<tr><td><a href=\"\(WebPath.taxpayer(r.id).href)\">\(r.id)</a></td><td>\(r.name)</td><td>\(kindName(r.kind, t.lang))</td><td>\(offices[r.office_id] ?? r.office_id)</td></tr>"
        }
        return Layout.page(req, title: t.t("纳税人", "Taxpayers"), """
        <form method="get" action="\(WebPath.taxpayers(search: nil).href)" role="search">
        <label>\(t.t("按统一社会信用代码或名称查找", "Search by credit code or name")) <input name="q" id="q" value="\(search)"></label>
        <button type="submit" id="search">\(t.t("查找", "Search"))</button></form>
        <p class="muted">\(t.t("共 \(rows.count) 户（最多显示100户）", "\(rows.count) shown (at most 100)"))</p>
        <table id="taxpayers"><tr><th>\(t.t("统一社会信用代码", "Credit code"))</th><th>\(t.t("名称", "Name"))</th><th>\(t.t("类型", "Kind"))</th><th>\(t.t("主管税务机关", "Tax office"))</th></tr>
        \(items)</table>
        """)
    }

    static func detail(_ req: Request, taxpayer r: TaxpayerRow, returns: [ReturnVersionRow], mayFile: Bool, offices: [String: String],
                       account: String = "") -> Response {
        let t = req.web
        let facts: [(String, String)] = [(t.t("统一社会信用代码", "Credit code"), r.id), (t.t("类型", "Kind"), kindName(r.kind, t.lang)),
                                         (t.t("增值税身份", "VAT status"), r.vat_status == "small_scale" ? t.t("小规模纳税人", "small-scale") : t.t("一般纳税人", "general")),
                                         (t.t("行业", "Industry"), r.industry == "industrial" ? t.t("工业", "industrial") : t.t("其他", "other")),
                                         (t.t("限制和禁止行业", "Restricted industry"), r.restricted_industry ? t.t("是", "yes") : t.t("否", "no")),
                                         (t.t("行政区划", "Region"), r.region), (t.t("主管税务机关", "Tax office"), offices[r.office_id].map { "\($0) (\(r.office_id))" } ?? r.office_id),
                                         (t.t("登记日期", "Registered"), r.registered_on), (t.t("注销日期", "Deregistered"), r.deregistered_on ?? "—")]
        let factRows: [HTML] = facts.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" }
        let returnRows: [HTML] = returns.map { v in
            """
            <tr><td><a href="\(WebPath.returnPage(taxpayer: r.id, returnID: v.return_id).href)">\(v.return_id)</a></td><td>\(v.version)</td>
            <td class="num">\(Money(fen: v.computed_tax_fen))</td><td class="num">\(Money(fen: v.relief_fen))</td>
            <td class="num">\(v.declared_tax_fen.map { Money(fen: $0).description } ?? "—")</td><td>\(v.filed_at)</td></tr>
            """
        }
        var forms: [WebPath.ReturnForm] = []
        if r.vat_status == "small_scale" { forms.append(.vat) }
        if r.kind == "enterprise" { forms.append(.eit) }
        if r.kind == "individual_business" { forms.append(.businessIncome) }
        let links: [HTML] = forms.map { "<li><a id=\"file-\($0.rawValue)\" href=\"\(WebPath.file(taxpayer: r.id, form: $0).href)\">\(ReturnForms.title($0, t.lang))</a></li>" }
        return Layout.page(req, title: r.name, """
        \(HTML(raw: account))
        <h2>\(t.t("登记信息", "Registration"))</h2>
        <table id="facts">\(factRows)</table>
        \(mayFile && !links.isEmpty ? "<h2>\(t.t("申报", "File a return"))</h2><ul>\(links)</ul>" as HTML : "")
        <h2>\(t.t("申报记录", "Returns"))</h2>
        <table id="returns"><tr><th>\(t.t("申报表", "Return"))</th><th>\(t.t("版本", "Version"))</th><th>\(t.t("应纳税额", "Tax"))</th><th>\(t.t("减免税额", "Relief"))</th>
        <th>\(t.t("申报税额", "Declared"))</th><th>\(t.t("申报时间", "Filed at"))</th></tr>\(returnRows)</table>
        """)
    }
}
