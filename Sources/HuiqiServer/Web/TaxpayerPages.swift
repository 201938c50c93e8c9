import HuiqiRules
import HuiqiServices
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

    static func statusName(_ r: TaxpayerListRow, overdue: Bool, _ lang: Lang) -> (String, String) {
        guard r.due_frequency != nil else { return ("none", "—") }
        if r.filed_return == nil { return overdue ? ("overdue", lang.t("逾期未申报", "overdue")) : ("not-filed", lang.t("未申报", "not filed")) }
        if let d = r.declared_tax_fen, let c = r.computed_tax_fen, d != c { return ("differs", lang.t("已申报，申报税额与计算不符", "filed; declared ≠ computed")) }
        return ("filed", lang.t("已申报", "filed"))
    }

    /// The list's filters as query items (search, kind, office, status), to keep them in pagination and export links.
    struct Filters {
        var q = "", kind = "", office = "", status = "all"
        var items: [(String, String)] { [("q", q), ("kind", kind), ("office", office), ("status", status)].filter { !$0.1.isEmpty && !($0.0 == "status" && $0.1 == "all") } }
        func query(page: Int? = nil) -> String {
            let all = items + (page.map { [("page", "\($0)")] } ?? [])
            return all.isEmpty ? "" : "?" + all.map { "\($0.0)=\(HTML.query($0.1))" }.joined(separator: "&")
        }
    }

    static func list(_ req: Request, listing l: TaxpayerListing, filters f: Filters, offices: [String: String], reach: [(id: String, name: String)], error: FormError? = nil) -> Response {
        let t = req.web
        let today = FilingService.chinaDay(req.application.platform.services.now())
        func passed(_ d: String?) -> Bool { d.flatMap(Day.init(iso:)).map { $0 < today } ?? false }
        let items: [HTML] = l.rows.map { r in
            let period = r.due_frequency == "monthly" ? l.monthPeriod : l.quarterPeriod
            let (cls, status) = statusName(r, overdue: passed(r.due_frequency == "monthly" ? l.monthDeadline : l.quarterDeadline), t.lang)
            let statusCell: HTML = r.filed_return.map { "<a href=\"\(WebPath.returnPage(taxpayer: r.id, returnID: $0).href)\">\(status)</a>" as HTML } ?? "\(status)"
            return """
            <tr><td><a href="\(WebPath.taxpayer(r.id).href)">\(r.name)</a><br><span class="muted code">\(r.id)</span></td><td>\(kindName(r.kind, t.lang))</td>
            <td>\(offices[r.office_id] ?? r.office_id)</td><td class="status \(cls)">\(r.due_frequency == nil ? "" : Show.period(period, t.lang) + " ")\(statusCell)</td>
            <td class="num">\(r.relief_fen.map { Show.yuan($0) } ?? "—")</td></tr>
            """
        }
        func option(_ value: String, _ text: String, _ current: String) -> HTML { "<option value=\"\(value)\"\(value == current ? " selected" : "")>\(text)</option>" }
        let kinds: [HTML] = [option("", t.t("全部类型", "all kinds"), f.kind)] + ["enterprise", "unit", "individual_business", "individual"].map { option($0, kindName($0, t.lang), f.kind) }
        let statuses: [HTML] = [("all", t.t("全部", "all")), ("not_filed", t.t("未申报", "not filed")), ("overdue", t.t("逾期未申报", "overdue")),
                                ("differs", t.t("申报税额与计算不符", "declared ≠ computed")), ("filed", t.t("已申报", "filed"))].map { option($0.0, $0.1, f.status) }
        let officeOptions: [HTML] = [option("", t.t("全部税务机关", "all offices"), f.office)] + reach.map { option($0.id, $0.name, f.office) }
        let pages = max(1, (l.total + l.pageSize - 1) / l.pageSize)
        let base = WebPath.taxpayers(search: nil).href
        let nav: HTML = """
        <nav class="pager" aria-label="\(t.t("分页", "Pages"))">\(l.page > 1 ? "<a rel=\"prev\" id=\"prev-page\" href=\"\(base + f.query(page: l.page - 1))\">\(t.t("上一页", "Previous"))</a>" as HTML : "")
        <span>\(t.t("第 \(l.page) / \(pages) 页", "page \(l.page) of \(pages)"))</span>
        \(l.page < pages ? "<a rel=\"next\" id=\"next-page\" href=\"\(base + f.query(page: l.page + 1))\">\(t.t("下一页", "Next"))</a>" as HTML : "")</nav>
        """
        let total = Show.count(l.total)
        let table: HTML = l.rows.isEmpty ? "<p id=\"empty\" class=\"warning\">\(t.t("没有符合条件的纳税人。", "No taxpayer matches."))</p>" : """
        <div class="scroll"><table id="taxpayers"><thead><tr><th scope="col">\(t.t("纳税人", "Taxpayer"))</th><th scope="col">\(t.t("类型", "Kind"))</th><th scope="col">\(t.t("主管税务机关", "Tax office"))</th>
        <th scope="col">\(t.t("本期增值税", "This period's VAT"))</th><th scope="col">\(t.t("减免税额", "Relief"))</th></tr></thead><tbody>\(items)</tbody></table></div>
        \(nav)
        """
        return Layout.page(req, title: t.actor?.role == .taxpayer ? t.t("我的纳税人", "My taxpayers") : t.t("纳税人", "Taxpayers"), """
        \(error?.html(t.lang))
        <form method="get" action="\(base)" role="search" class="filters">
        <div class="field"><label for="q">\(t.t("统一社会信用代码或名称", "Credit code or name"))</label> <input name="q" id="q" value="\(f.q)"></div>
        <div class="field"><label for="kind">\(t.t("类型", "Kind"))</label> <select name="kind" id="kind">\(kinds)</select></div>
        \(reach.count > 1 ? "<div class=\"field\"><label for=\"office\">\(t.t("主管税务机关", "Tax office"))</label> <select name=\"office\" id=\"office\">\(officeOptions)</select></div>" as HTML : "")
        <div class="field"><label for="status">\(t.t("本期增值税申报状态", "This period's VAT return"))</label> <select name="status" id="status">\(statuses)</select></div>
        <button type="submit" id="search">\(t.t("查找", "Search"))</button></form>
        <p id="total">\(t.t("共 \(total) 户", "\(total) taxpayers"))\(t.t("（本期：按月申报为 \(Show.period(l.monthPeriod, .zh))，按季申报为 \(Show.period(l.quarterPeriod, .zh))）", " (this period: \(Show.period(l.monthPeriod, .en)) for monthly filers, \(Show.period(l.quarterPeriod, .en)) for quarterly ones)"))
        · <a id="export" href="\(WebPath.taxpayersCSV.href + f.query())">\(t.t("导出 CSV", "Export CSV"))</a></p>
        \(table)
        """)
    }

    static func detail(_ req: Request, taxpayer r: TaxpayerRow, returns: [ReturnVersionRow], mayFile: Bool, offices: [String: String],
                       account: String = "", registry: Registry? = nil) -> Response {
        let t = req.web
        let facts: [(String, String)] = [(t.t("统一社会信用代码", "Credit code"), r.id), (t.t("类型", "Kind"), kindName(r.kind, t.lang)),
                                         (t.t("增值税身份", "VAT status"), r.vat_status == "small_scale" ? t.t("小规模纳税人", "small-scale") : t.t("一般纳税人", "general")),
                                         (t.t("行业", "Industry"), r.industry == "industrial" ? t.t("工业", "industrial") : t.t("其他", "other")),
                                         (t.t("限制和禁止行业", "Restricted industry"), r.restricted_industry ? t.t("是", "yes") : t.t("否", "no")),
                                         (t.t("行政区划", "Region"), RegionNames.name(r.region, t.lang)), (t.t("主管税务机关", "Tax office"), offices[r.office_id] ?? r.office_id),
                                         (t.t("登记日期", "Registered"), Show.day(r.registered_on, t.lang)), (t.t("注销日期", "Deregistered"), r.deregistered_on.map { Show.day($0, t.lang) } ?? "—")]
        let factRows: [HTML] = facts.map { "<tr><th scope=\"row\">\($0.0)</th><td>\($0.1)</td></tr>" }
        let sorted = returns.sorted { ($0.period, $0.section) > ($1.period, $1.section) }
        let returnRows: [HTML] = sorted.map { v in
            """
            <tr><td><a href="\(WebPath.returnPage(taxpayer: r.id, returnID: v.return_id).href)">\(Show.returnName(v.return_id, t.lang))</a></td><td>\(v.version)</td>
            <td class="num">\(Show.yuan(v.computed_tax_fen))</td><td class="num">\(Show.yuan(v.relief_fen))</td>
            <td class="num">\(v.declared_tax_fen.map { Show.yuan($0) } ?? "—")</td><td>\(Show.beijing(v.filed_at))</td></tr>
            """
        }
        var forms: [WebPath.ReturnForm] = []
        if r.vat_status == "small_scale" { forms.append(.vat) }
        if r.kind == "enterprise" { forms.append(.eit) }
        if r.kind == "individual_business" { forms.append(.businessIncome) }
        let links: [HTML] = forms.map { "<li><a id=\"file-\($0.rawValue)\" href=\"\(WebPath.file(taxpayer: r.id, form: $0).href)\">\(ReturnForms.title($0, t.lang))</a></li>" }
        return Layout.page(req, title: r.name, """
        \(HTML(raw: account))
        \(mayFile && !links.isEmpty ? "<h2>\(t.t("申报", "File a return"))</h2><ul>\(links)</ul>" as HTML : "")
        <h2>\(t.t("申报记录", "Returns"))</h2>
        \(returns.isEmpty ? "<p class=\"muted\">\(t.t("尚无申报记录。", "No return filed yet."))</p>" as HTML : """
        <div class="scroll"><table id="returns"><thead><tr><th scope="col">\(t.t("申报表", "Return"))</th><th scope="col">\(t.t("版本", "Version"))</th><th scope="col">\(t.t("应纳税额", "Tax"))</th><th scope="col">\(t.t("减免税额", "Relief"))</th>
        <th scope="col">\(t.t("申报税额", "Declared"))</th><th scope="col">\(t.t("申报时间（北京时间）", "Filed at (Beijing time)"))</th></tr></thead><tbody>\(returnRows)</tbody></table></div>
        <p><a id="export-returns" href="\(WebPath.returnsCSV(r.id).href)">\(t.t("导出申报记录 CSV", "Export the returns as CSV"))</a></p>
        """ as HTML)
        <h2>\(t.t("登记信息", "Registration"))</h2>
        <table id="facts">\(factRows)</table>
        \(registry.map { registrySections(req, taxpayer: r, $0) })
        """)
    }

    /// What the registry keeps beside the facts: the VAT filing frequency of each year (with the form to record
    /// one) and the history of edits.
    struct Registry {
        let frequencies: [Int: String]
        let history: [TaxpayerVersionRow]
        let mayEdit: Bool
        let offices: [String: String]
    }

    static func registrySections(_ req: Request, taxpayer r: TaxpayerRow, _ g: Registry) -> HTML {
        let t = req.web
        let years: [HTML] = g.frequencies.keys.sorted(by: >).map { y in
            "<tr><td>\(y)</td><td>\(g.frequencies[y] == "monthly" ? t.t("按月", "monthly") : t.t("按季", "quarterly"))</td></tr>"
        }
        let history: [HTML] = g.history.reversed().map { h in
            """
            <tr><td>\(h.version)</td><td>\(Show.beijing(h.changed_at))</td><td>\(h.changed_by ?? "—")</td><td>\(h.reason)</td>
            <td>\(h.name) · \(kindName(h.kind, t.lang)) · \(RegionNames.name(h.region, t.lang)) · \(g.offices[h.office_id] ?? h.office_id)\(h.deregistered_on.map { " · " + t.t("注销 ", "deregistered ") + $0 } ?? "")</td></tr>
            """
        }
        let year = FilingService.chinaDay(req.application.platform.services.now()).year
        let frequencyForm: HTML = g.mayEdit && r.vat_status == "small_scale" ? """
            <form method="post" action="\(WebPath.frequencies(r.id).href)" class="filters" id="frequency-form">\(Controls.csrf(req))
            \(Controls.text("year", t.t("年度", "Year"), ["year": "\(year + (g.frequencies[year] == nil ? 0 : 1))"], invalid: nil, extra: " inputmode=\"numeric\" size=\"6\""))
            \(Controls.select("frequency", t.t("纳税期限", "Filing frequency"), [("quarterly", t.t("按季", "quarterly")), ("monthly", t.t("按月", "monthly"))], [:], invalid: nil))
            <button type="submit" id="set-frequency">\(t.t("登记纳税期限", "Record the frequency"))</button></form>
            """ : ""
        return """
        \(g.mayEdit ? "<p><a id=\"edit-taxpayer\" href=\"\(WebPath.editTaxpayer(r.id).href)\">\(t.t("变更登记信息", "Edit the registration"))</a></p>" as HTML : "")
        <h2 id="frequencies">\(t.t("增值税纳税期限", "VAT filing frequency"))</h2>
        \(years.isEmpty ? "<p class=\"muted\">\(t.t("尚未登记。", "None recorded."))</p>" as HTML : "<table id=\"frequency-table\"><thead><tr><th scope=\"col\">\(t.t("年度", "Year"))</th><th scope=\"col\">\(t.t("纳税期限", "Frequency"))</th></tr></thead><tbody>\(years)</tbody></table>" as HTML)
        \(frequencyForm)
        <h2 id="history">\(t.t("变更记录", "Changes"))</h2>
        \(history.isEmpty ? "<p class=\"muted\">\(t.t("登记以来没有变更。", "No change since registration."))</p>" as HTML : """
        <div class="scroll"><table id="history-table"><thead><tr><th scope="col">\(t.t("版本", "Version"))</th><th scope="col">\(t.t("时间", "When"))</th><th scope="col">\(t.t("变更人", "By"))</th>
        <th scope="col">\(t.t("原因", "Reason"))</th><th scope="col">\(t.t("登记信息", "Registration"))</th></tr></thead><tbody>\(history)</tbody></table></div>
        """ as HTML)
        """
    }
}
