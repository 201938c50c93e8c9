import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// Money and time as people read them: thousands separators and 元; instants in Beijing time.
/// The monitoring page (监控申报进度和准确性): one office's filing period at a glance, its child offices with their
/// figures (drill-down to the 税务所 and its taxpayers), first filings per day against the deadline as a
/// server-drawn SVG, and the button that starts screening after the deadline.
enum MonitoringPages {
    static func kindName(_ kind: String, _ lang: Lang) -> String {
        switch kind {
        case "vat": return lang.t("增值税", "VAT")
        case "eit": return lang.t("企业所得税（预缴）", "EIT prepayment")
        default: return lang.t("个体工商户经营所得", "business income")
        }
    }

    static func render(_ req: Request, _ r: MonitoringReport, mayScreen: Bool, error: HTML? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web, e = r.expected, f = r.totals
        func link(_ office: String) -> String { WebPath.monitor(kind: e.section, period: e.period, office: office).href }
        let crumbs: [HTML] = r.path.enumerated().map { i, o in
            i == r.path.count - 1 ? "<span>\(o.name)</span>" : "<a href=\"\(link(o.id))\">\(o.name)</a> › "
        }
        let rows: [HTML] = r.children.map { c in
            let x = c.figures
            return """
            <tr><td><a href="\(link(c.office.id))">\(c.office.name)</a></td><td class="num">\(x.expected)</td><td class="num">\(x.filed)</td>
            <td class="num">\(Show.percent(x.filed, x.expected))</td><td class="num">\(x.notFiled)</td><td class="num">\(x.late)</td>
            <td class="num">\(Show.yuan(x.relief_due_fen))</td><td class="num">\(Show.yuan(x.relief_claimed_fen))</td>
            <td class="num">\(x.not_claimed)</td><td class="num">\(x.not_due)</td><td class="num">\(x.mismatched)</td></tr>
            """
        }
        let header: HTML = """
            <tr><th>\(t.t("税务机关", "Office"))</th><th>\(t.t("应申报", "Expected"))</th><th>\(t.t("已申报", "Filed"))</th><th>\(t.t("申报率", "Rate"))</th>
            <th>\(t.t("未申报", "Not filed"))</th><th>\(t.t("逾期申报", "Late"))</th><th>\(t.t("政策应享减免", "Relief the law gives"))</th>
            <th>\(t.t("已享受减免", "Relief claimed"))</th><th>\(t.t("未足额享受", "Relief not claimed"))</th><th>\(t.t("多享受", "Claimed, not due"))</th>
            <th>\(t.t("申报≠计算", "Declared ≠ computed"))</th></tr>
            """
        let taxpayerRows: [HTML] = r.taxpayers.map { x in
            let late = (x.first_filed_at ?? "") >= e.lateAfter
            let state = x.version == nil ? t.t("未申报", "not filed") : late ? t.t("逾期申报", "filed late") : t.t("已申报", "filed")
            let flag = x.declared_tax_fen.flatMap { d in x.computed_tax_fen.map { c in d > c ? t.t("未足额享受减免", "relief not claimed") : d < c ? t.t("多享受减免", "relief not due") : "" } } ?? ""
            return """
            <tr class="\(x.version == nil ? "missing" : "")"><td><a href="\(WebPath.taxpayer(x.taxpayer_id).href)">\(x.name)</a><br><span class="muted">\(x.taxpayer_id)</span></td>
            <td>\(state)</td><td>\(Show.beijing(x.first_filed_at))</td><td class="num">\(x.computed_tax_fen.map(Show.yuan) ?? "—")</td>
            <td class="num">\(x.declared_tax_fen.map(Show.yuan) ?? "—")</td><td class="num">\(x.relief_fen.map(Show.yuan) ?? "—")</td><td>\(flag)</td></tr>
            """
        }
        let kinds: [HTML] = FilingPeriod.kinds.map { k in "<option value=\"\(k)\"\(HTML(raw: k == e.section ? " selected" : ""))>\(kindName(k, t.lang))</option>" }
        let screenForm: HTML = mayScreen ? """
            <h2>\(t.t("事后筛查", "Screening after the deadline"))</h2>
            <p>\(t.t("对本机关及下级机关的全部申报按现行规则重新计算，查找未享受、多享受的减免和未申报户，并出具税务事项通知书。",
                      "Determines every return of this office and those below it again, finds relief missed, relief not due and returns not filed, and issues the notices."))</p>
            <form method="post" action="\(WebPath.screen.href)"><input type="hidden" name="csrf" value="\(t.csrf ?? "")">
            <input type="hidden" name="kind" value="\(e.section)"><input type="hidden" name="period" value="\(e.period)"><input type="hidden" name="office" value="\(r.office.id)">
            <button type="submit" id="start-screening">\(t.t("开始筛查", "Start screening"))</button></form>
            """ : ""
        let summary = t.t("\(r.office.name)：\(kindName(e.section, t.lang)) \(e.period) 应申报 \(f.expected) 户，已申报 \(f.filed) 户（\(Show.percent(f.filed, f.expected))），未申报 \(f.notFiled) 户；申报期限 \(e.deadline)。",
                          "\(r.office.name): \(f.filed) of \(f.expected) expected \(kindName(e.section, t.lang)) returns for \(e.period) are filed (\(Show.percent(f.filed, f.expected))); \(f.notFiled) are missing; the deadline is \(e.deadline).")
        return Layout.page(req, title: t.t("申报监控", "Filing monitoring"), status: status, """
        <p class="lead" id="summary">\(Show.humanized(summary, t.lang))</p>
        \(r.asOf.map { "<p class=\"muted\">\(t.t("统计时点（北京时间）", "Figures as of (Beijing time)")) \(Show.beijing($0))</p>" as HTML })
        \(error)
        <form method="get" action="\(WebPath.monitor(kind: nil, period: nil, office: nil).href)" class="filters">
        <label>\(t.t("申报种类", "Return")) <select name="kind" id="kind">\(kinds)</select></label>
        <label>\(t.t("所属期", "Period")) <input name="period" id="period" value="\(e.period)" size="8"></label>
        <input type="hidden" name="office" value="\(r.office.id)"><button type="submit" id="show">\(t.t("查看", "Show"))</button></form>
        <nav class="crumbs" id="crumbs">\(crumbs)</nav>
        <table id="totals">\(header)
        <tr><td><strong>\(t.t("合计", "Total"))</strong></td><td class="num" id="expected">\(f.expected)</td><td class="num" id="filed">\(f.filed)</td>
        <td class="num">\(Show.percent(f.filed, f.expected))</td><td class="num" id="not-filed">\(f.notFiled)</td><td class="num" id="late">\(f.late)</td>
        <td class="num">\(Show.yuan(f.relief_due_fen))</td><td class="num">\(Show.yuan(f.relief_claimed_fen))</td>
        <td class="num">\(f.not_claimed)</td><td class="num">\(f.not_due)</td><td class="num">\(f.mismatched)</td></tr></table>
        \(rows.isEmpty ? "" : "<h2>\(t.t("下级机关", "Offices below"))</h2><table id=\"children\">\(header)\(rows)</table>" as HTML)
        <h2>\(t.t("每日申报进度", "Filings by day"))</h2>
        \(chart(r, lang: t.lang))
        \(taxpayerRows.isEmpty ? "" : """
            <h2>\(t.t("本机关管户", "Taxpayers of this office"))</h2>
            <p class="muted">\(t.t("最多显示500户", "at most 500 shown"))</p>
            <table id="office-taxpayers"><tr><th>\(t.t("纳税人", "Taxpayer"))</th><th>\(t.t("状态", "State"))</th><th>\(t.t("首次申报时间（北京时间）", "First filed (Beijing time)"))</th>
            <th>\(t.t("计算税额", "Computed tax"))</th><th>\(t.t("申报税额", "Declared"))</th><th>\(t.t("减免税额", "Relief"))</th><th>\(t.t("提示", "Flag"))</th></tr>
            \(taxpayerRows)</table>
            """ as HTML)
        \(screenForm)
        """)
    }

    /// Cumulative first filings per day from the period's end to a week after the deadline, against the number
    /// expected, with the deadline marked: an SVG drawn on the server (pages carry no script).
    static func chart(_ r: MonitoringReport, lang: Lang) -> HTML {
        guard let end = Day(iso: r.expected.lastDay), let deadline = Day(iso: r.expected.deadline) else { return "" }
        let first = end.adding(days: 1)
        let lastDay = max(deadline.adding(days: 7), r.days.last.flatMap { Day(iso: $0.day) } ?? deadline)
        let span = max(1, lastDay.ordinal - first.ordinal)
        let expected = max(r.totals.expected, 1)
        // Whole SVG user units: integer arithmetic is exact enough for a chart.
        let (w, h, left, top) = (640, 220, 40, 10)
        func x(_ d: Day) -> Int { left + (w - left - 10) * min(max(d.ordinal - first.ordinal, 0), span) / span }
        func y(_ n: Int64) -> Int { top + Int(Int64(h - top - 30) * (expected - n) / expected) }
        var points = "\(x(first)),\(y(0))"
        var running: Int64 = 0
        for d in r.days { if let day = Day(iso: d.day) { points += " \(x(day)),\(y(running))"; running = d.cumulative; points += " \(x(day)),\(y(running))" } }
        points += " \(x(lastDay)),\(y(running))"
        let label = lang.t("截至期限已申报 \(r.days.filter { $0.day <= r.expected.deadline }.last?.cumulative ?? 0) / \(r.totals.expected) 户",
                           "\(r.days.filter { $0.day <= r.expected.deadline }.last?.cumulative ?? 0) of \(r.totals.expected) filed by the deadline")
        let svg = """
        <svg id="progress-chart" role="img" aria-label="\(HTML.escape(label))" viewBox="0 0 \(w) \(h)" width="100%" style="max-width:640px">
        <rect x="\(left)" y="\(top)" width="\(w - left - 10)" height="\(h - top - 30)" fill="#fafafa" stroke="#ccc"/>
        <line x1="\(left)" y1="\(y(r.totals.expected))" x2="\(w - 10)" y2="\(y(r.totals.expected))" stroke="#999" stroke-dasharray="4 3"/>
        <text x="2" y="\(y(r.totals.expected) + 4)" font-size="11">\(r.totals.expected)</text><text x="2" y="\(y(0) + 4)" font-size="11">0</text>
        <line x1="\(x(deadline))" y1="\(top)" x2="\(x(deadline))" y2="\(h - 30)" stroke="#b22" stroke-width="2"/>
        <text x="\(x(deadline) + 3)" y="\(top + 12)" font-size="11" fill="#b22">\(HTML.escape(lang.t("申报期限 ", "deadline ")))\(deadline)</text>
        <polyline fill="none" stroke="#26a" stroke-width="2" points="\(points)"/>
        <text x="\(left)" y="\(h - 12)" font-size="11">\(first)</text><text x="\(w - 80)" y="\(h - 12)" font-size="11">\(lastDay)</text>
        </svg>
        """
        return HTML(raw: svg + "<p class=\"muted\">\(HTML.escape(label))</p>")
    }
}

/// A screening job's page: progress while it runs (the page reloads itself every two seconds, without script),
/// then the counts and the findings.
enum JobPage {
    static func render(_ req: Request, job: JobRow, args: ScreeningArguments, findings: [FindingRow], names: [String: String]) -> Response {
        let t = req.web
        let running = job.state == .queued || job.state == .running
        let summary = job.result.flatMap { try? JSONDecoder().decode(ScreeningSummary.self, from: Data($0.utf8)) }
        let stateText: String
        switch job.state {
        case .queued: stateText = t.t("排队中", "queued")
        case .running: stateText = t.t("运行中", "running")
        case .succeeded: stateText = t.t("已完成", "finished")
        case .failed: stateText = t.t("失败", "failed")
        case .abandoned: stateText = t.t("已中断（请重新筛查以完成）", "interrupted (screen again to finish)")
        }
        let counts: [HTML] = FindingRow.Kind.allCases.map { k in
            "<tr><td>\(findingName(k, t.lang))</td><td class=\"num\" id=\"count-\(k.rawValue)\">\(summary?.counts[k.rawValue] ?? 0)</td><td class=\"num\">\(Show.yuan(summary?.amounts[k.rawValue] ?? 0))</td></tr>"
        }
        let rows: [HTML] = findings.map { f in
            """
            <tr class="finding \(f.kind.rawValue)"><td><a href="\(WebPath.taxpayer(f.taxpayer_id).href)">\(names[f.taxpayer_id] ?? f.taxpayer_id)</a><br><span class="muted">\(f.taxpayer_id)</span></td>
            <td>\(findingName(f.kind, t.lang))</td><td class="num">\(f.declared_fen.map(Show.yuan) ?? "—")</td><td class="num">\(f.law_tax_fen.map(Show.yuan) ?? "—")</td>
            <td class="num">\(Show.yuan(f.amount_fen))</td><td>\(f.missing ?? "")</td></tr>
            """
        }
        let response = Layout.page(req, title: t.t("筛查任务", "Screening job"), """
        <p class="lead" id="summary">\(Show.returnName("\(args.kind):\(args.period)", t.lang)) · \(t.t("状态", "state")): <strong id="job-state">\(stateText)</strong> ·
        \(t.t("进度", "progress")) <span id="job-progress">\(job.done) / \(job.total)</span></p>
        <progress id="job-bar" max="\(max(job.total, 1))" value="\(job.done)">\(job.done) / \(job.total)</progress>
        \(job.error.map { FormError(input: nil, label: nil, message: t.t("筛查未完成：", "The screening did not finish: ") + $0).html(t.lang) })
        \(running ? "<p class=\"muted\">\(t.t("页面每2秒自动刷新。", "This page reloads every 2 seconds."))</p>" as HTML : "")
        <table id="counts"><tr><th>\(t.t("发现", "Finding"))</th><th>\(t.t("户数", "Count"))</th><th>\(t.t("金额", "Amount"))</th></tr>\(counts)</table>
        \(rows.isEmpty ? "" : """
            <h2>\(t.t("筛查结果", "Findings"))</h2><p class="muted">\(t.t("最多显示1000条", "at most 1,000 shown"))</p>
            <div class="scroll"><table id="findings"><tr><th>\(t.t("纳税人", "Taxpayer"))</th><th>\(t.t("发现", "Finding"))</th><th>\(t.t("申报税额", "Declared"))</th>
            <th>\(t.t("按政策应纳", "The law's tax"))</th><th>\(t.t("金额", "Amount"))</th><th>\(t.t("缺少的信息", "Missing"))</th></tr>\(rows)</table></div>
            """ as HTML)
        <details><summary>\(t.t("技术细节", "Technical details"))</summary><p>job \(job.id) · \(t.t("参数版本", "parameter versions")): \(summary?.parameters.joined(separator: ", ") ?? "—")</p></details>
        <p><a href="\(WebPath.monitor(kind: args.kind, period: args.period, office: args.office).href)">\(t.t("返回申报监控", "Back to monitoring"))</a></p>
        """)
        if running { response.headers.replaceOrAdd(name: "Refresh", value: "2") }
        return response
    }

    static func findingName(_ k: FindingRow.Kind, _ lang: Lang) -> String {
        switch k {
        case .overpaid: return lang.t("多缴（未享受减免）", "overpaid (relief missed)")
        case .underpaid: return lang.t("少缴（多享受减免）", "underpaid (relief not due)")
        case .notFiled: return lang.t("未申报", "not filed")
        case .undetermined: return lang.t("无法判定", "undetermined")
        }
    }
}
