import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// Reports up the hierarchy (逐级上报) in the pages: an office's figures for a period and the submission that freezes
/// them, its versions, and its child offices' latest reports with their aggregate and the overdue ones.
enum ReportPages {
    /// One report's figures, one row per figure; used for the draft, a frozen version and the children's aggregate.
    static func figures(_ b: OfficeReportBody, _ lang: Lang, id: String) -> HTML {
        var rows: [HTML] = []
        for s in b.sections {
            let tax = MonitoringPages.kindName(s.kind, lang)
            let m = s.monitoring, st = s.statistics
            rows += [
                "<tr><th scope=\"row\">\(tax) · \(lang.t("应申报 / 已申报 / 逾期", "expected / filed / late"))</th><td class=\"num\">\(Show.count(Int(m.expected))) / \(Show.count(Int(m.filed))) / \(Show.count(Int(m.late)))</td></tr>",
                "<tr><th scope=\"row\">\(tax) · \(lang.t("应享户数 / 享受户数", "entitled / beneficiaries"))</th><td class=\"num\">\(Show.count(Int(st.entitled))) / \(Show.count(Int(st.beneficiaries)))</td></tr>",
                "<tr><th scope=\"row\">\(tax) · \(lang.t("受惠面", "coverage"))</th><td class=\"num\">\(StatisticsFigures.permille(StatisticsFigures.coveragePermille(st)))</td></tr>",
                "<tr><th scope=\"row\">\(tax) · \(lang.t("减免金额", "relief received"))</th><td class=\"num\">\(Show.yuan(st.relief_fen))</td></tr>",
                "<tr><th scope=\"row\">\(tax) · \(lang.t("未足额享受", "relief not claimed"))</th><td class=\"num\">\(Show.count(Int(m.not_claimed)))</td></tr>",
            ]
        }
        for n in b.notices {
            let what = n.kind == "overpayment" ? lang.t("多缴税款通知", "overpayment notices") : lang.t("更正申报提醒", "correction notices")
            rows.append("<tr><th scope=\"row\">\(what)</th><td class=\"num\">\(Show.count(Int(n.count))) · \(Show.yuan(n.amount_fen))</td></tr>")
        }
        rows.append("<tr><th scope=\"row\">\(lang.t("本期抵顶税款", "credits offset in the period"))</th><td class=\"num\">\(Show.yuan(b.offset_fen))</td></tr>")
        rows.append("<tr><th scope=\"row\">\(lang.t("本期退税", "refunds in the period"))</th><td class=\"num\">\(Show.yuan(b.refund_fen))</td></tr>")
        return "<table id=\"\(id)\" class=\"figures\"><tbody>\(rows)</tbody></table>"
    }

    static func render(_ req: Request, _ o: ReportOverview, error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let versions: [HTML] = o.versions.map { v in
            "<li><a href=\"\(WebPath.reportVersion(office: o.office.id, period: o.period, version: v.version).href)\">\(t.t("第 \(v.version) 版", "version \(v.version)"))</a> · \(Show.beijing(v.submitted_at)) · \(v.submitted_by)\(v.note.isEmpty ? "" : " · \(v.note)")</li>"
        }
        let children: [HTML] = o.children.map { c in
            let state: HTML
            if let r = c.latest {
                state = "<a href=\"\(WebPath.reportVersion(office: c.office.id, period: o.period, version: r.version).href)\">\(t.t("已报送第 \(r.version) 版", "version \(r.version) submitted"))</a> · \(Show.beijing(r.submitted_at))"
            } else {
                state = c.overdue ? "<strong class=\"flag\">\(t.t("逾期未报送", "overdue"))</strong>" : "\(t.t("未报送", "not submitted"))"
            }
            let vat = c.body?.sections.first { $0.kind == "vat" }
            return """
            <tr class="\(c.overdue ? "overdue" : "")"><th scope="row"><a href="\(WebPath.reports(period: o.period, office: c.office.id).href)">\(c.office.name)</a></th><td>\(state)</td>
            <td class="num">\(vat.map { "\(Show.count(Int($0.monitoring.filed))) / \(Show.count(Int($0.monitoring.expected)))" } ?? "—")</td>
            <td class="num">\(vat.map { StatisticsFigures.permille(StatisticsFigures.coveragePermille($0.statistics)) } ?? "—")</td>
            <td class="num">\(vat.map { Show.yuan($0.statistics.relief_fen) } ?? "—")</td></tr>
            """
        }
        let overdue = o.children.filter(\.overdue).count, submitted = o.children.filter { $0.latest != nil }.count
        let submit: HTML = o.maySubmit ? """
            <form method="post" action="\(WebPath.reports(period: nil, office: nil).href)" id="report-form">\(Controls.csrf(req))
            <input type="hidden" name="office" value="\(o.office.id)"><input type="hidden" name="period" value="\(o.period)">
            <div class="field"><label for="note">\(t.t("报送说明（可选）", "Note (optional)"))</label> <textarea name="note" id="note" rows="2" cols="60"\(Controls.marked("note", error?.input))></textarea></div>
            <button type="submit" id="submit-report">\(o.versions.isEmpty ? t.t("报送上级", "Submit to the office above") : t.t("更正后重新报送", "Submit a corrected version"))</button></form>
            """ : ""
        return Layout.page(req, title: t.t("逐级上报", "Reports up the hierarchy"), status: status, """
        \(error?.html(t.lang))
        <form method="get" action="\(WebPath.reports(period: nil, office: nil).href)" class="filters">
        <div class="field"><label for="period">\(t.t("所属期（月或季度）", "Period (month or quarter)"))</label> <input name="period" id="period" value="\(o.period)" size="9"\(Controls.marked("period", error?.input))></div>
        <input type="hidden" name="office" value="\(o.office.id)"><button type="submit" id="show">\(t.t("查看", "Show"))</button></form>
        <p class="lead" id="reports-summary">\(t.t("\(o.office.name) \(o.period) 报表，报送期限 \(Show.day(o.due, .zh))。下级 \(o.children.count) 个机关已报送 \(submitted) 个，逾期 \(overdue) 个。",
            "\(o.office.name), \(o.period): reports due \(Show.day(o.due, .en)). \(submitted) of \(o.children.count) offices below have submitted, \(overdue) overdue."))</p>
        <h2>\(t.t("本机关报表（当前数据）", "This office's figures now"))</h2>
        \(figures(o.draft, t.lang, id: "draft"))
        \(submit)
        \(versions.isEmpty ? "<p class=\"muted\" id=\"no-versions\">\(t.t("本期尚未报送。", "Not submitted for this period."))</p>" as HTML : "<h3>\(t.t("已报送的版本", "Submitted versions"))</h3><ol id=\"versions\" reversed>\(versions)</ol>" as HTML)
        <h2>\(t.t("下级机关报送情况", "Offices below"))</h2>
        \(children.isEmpty ? "<p class=\"muted\">\(t.t("没有下级机关。", "No office below."))</p>" as HTML : """
        <div class="scroll"><table id="children"><thead><tr><th scope="col">\(t.t("税务机关", "Office"))</th><th scope="col">\(t.t("报送", "Report"))</th>
        <th scope="col">\(t.t("增值税已申报 / 应申报", "VAT filed / expected"))</th><th scope="col">\(t.t("受惠面", "Coverage"))</th><th scope="col">\(t.t("减免金额", "Relief"))</th></tr></thead>
        <tbody>\(children)</tbody></table></div>
        <h3>\(t.t("已报送报表合计", "Sum of the submitted reports"))</h3>
        \(submitted == 0 ? "<p class=\"muted\" id=\"no-aggregate\">\(t.t("下级机关尚未报送。", "No office below has submitted yet."))</p>" as HTML
            : figures(o.childrenAggregate, t.lang, id: "aggregate"))
        <p><a id="reports-csv" href="\(WebPath.reportsCSV(period: o.period, office: o.office.id).href)">\(t.t("导出 CSV", "Export CSV"))</a></p>
        """ as HTML)
        <p class="muted">\(t.t("报表报送后即冻结；数据更正后再次报送形成新版本，原版本保留。报送期限为申报期限后若干个工作日（按官方节假日安排），见考核数据文件。",
            "A submitted report is frozen; after corrections, submitting again makes a new version and keeps the old one. Reports are due some working days after the filing deadline (official calendar), as the evaluation data file sets."))</p>
        """)
    }

    static func version(_ req: Request, _ row: OfficeReportRow, _ body: OfficeReportBody) -> Response {
        let t = req.web
        return Layout.page(req, title: t.t("\(body.office_name) \(row.period) 报表 第 \(row.version) 版", "\(body.office_name) \(row.period) report, version \(row.version)"), """
        <p class="lead" id="report-version">\(t.t("\(Show.beijing(row.submitted_at)) 由 \(row.submitted_by) 报送；数据截至报送时。", "Submitted \(Show.beijing(row.submitted_at)) by \(row.submitted_by); figures as of submission."))</p>
        \(row.note.isEmpty ? "" : "<p id=\"report-note\">\(row.note)</p>" as HTML)
        \(figures(body, t.lang, id: "frozen"))
        <p><a href="\(WebPath.reports(period: row.period, office: row.office_id).href)">\(t.t("返回报表", "Back to the reports"))</a></p>
        """)
    }
}

func reportPeriod(_ req: Request) -> String {
    req.query[String.self, at: "period"].map { FormInput.period($0) } ?? defaultStatisticsPeriod("vat", req)
}

@Sendable func reportsPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let s = req.application.platform.services
    let office = req.query[String.self, at: "office"].flatMap { $0.isEmpty ? nil : $0 }
    do {
        return ReportPages.render(req, try await s.reports.overview(by: actor, office: office, period: reportPeriod(req)))
    } catch let ServiceError.invalid(field, zh, en) {
        let o = try await s.reports.overview(by: actor, office: office, period: defaultStatisticsPeriod("vat", req))
        return ReportPages.render(req, o, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func submitReportSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let s = req.application.platform.services
    let office = v["office"] ?? "", period = v["period"] ?? ""
    if v["action"] == "relang" { return ReportPages.render(req, try await s.reports.overview(by: actor, office: office, period: period)) }
    do {
        let row = try await s.reports.submit(by: actor, office: office, period: period, note: v["note"] ?? "", remote: req.clientAddress)
        return req.redirect(to: WebPath.reportVersion(office: row.office_id, period: row.period, version: row.version).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return ReportPages.render(req, try await s.reports.overview(by: actor, office: office, period: defaultStatisticsPeriod("vat", req)),
                                  error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func reportVersionPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    guard let version = req.parameters.get("version").flatMap(Int.init) else { throw Abort(.notFound) }
    let (row, body) = try await req.application.platform.services.reports.version(by: actor, office: req.parameters.get("office") ?? "",
                                                                                 period: req.parameters.get("period") ?? "", version: version)
    return ReportPages.version(req, row, body)
}

@Sendable func reportsCSV(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let o = try await req.application.platform.services.reports.overview(by: actor, office: req.query[String.self, at: "office"], period: reportPeriod(req))
    func line(_ name: String, _ id: String, _ state: String, _ b: OfficeReportBody?) -> [String] {
        let vat = b?.sections.first { $0.kind == "vat" }
        return [id, name, state, vat.map { "\($0.monitoring.expected)" } ?? "", vat.map { "\($0.monitoring.filed)" } ?? "", vat.map { "\($0.monitoring.late)" } ?? "",
                vat.map { "\($0.statistics.entitled)" } ?? "", vat.map { "\($0.statistics.beneficiaries)" } ?? "",
                vat.flatMap { StatisticsFigures.coveragePermille($0.statistics).map { StatisticsFigures.permille($0) } } ?? "",
                CSVExport.amount(vat?.statistics.relief_fen), CSVExport.amount(b?.offset_fen), CSVExport.amount(b?.refund_fen)]
    }
    let rows = o.children.map { c in
        line(c.office.name, c.office.id, c.latest.map { "已报送第\($0.version)版 \($0.submitted_at)" } ?? (c.overdue ? "逾期未报送" : "未报送"), c.body)
    } + [line("已报送合计", o.office.id, "", o.childrenAggregate)]
    let header = ["代码", "税务机关", "报送", "增值税应申报", "已申报", "逾期", "应享户数", "享受户数", "受惠面", "减免金额（元）", "抵顶（元）", "退税（元）"]
    return CSVExport.response(CSVExport.document(header: header, rows: rows), filename: "reports-\(o.office.id)-\(o.period).csv")
}
