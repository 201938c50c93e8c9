import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// The statistics page (统计核算): one sentence, the lines (child offices with drill-down, or regions, industries,
/// kinds) with the previous year beside them, a bar chart drawn on the server, the definitions, and the CSV.
enum StatisticsPages {
    struct Filters {
        var kind = "vat", period = "", office = "", by = "office"
        var query: String {
            [("kind", kind), ("period", period), ("office", office), ("by", by)].filter { !$0.1.isEmpty }
                .map { "\($0.0)=\(HTML.query($0.1))" }.joined(separator: "&")
        }
    }

    static func render(_ req: Request, _ r: StatisticsReport, filters f: Filters, error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let total = r.total
        let returnName = Show.returnName("\(r.section):\(r.period)", t.lang)
        let change = StatisticsFigures.changePermille(total.relief_fen, r.previousTotal?.relief_fen)
        let sentence = t.t(
            "\(r.office.name)，\(returnName)：按政策应享受减免 \(Show.count(Int(total.entitled))) 户，其中已享受 \(Show.count(Int(total.entitled_received))) 户，受惠面 \(StatisticsFigures.permille(StatisticsFigures.coveragePermille(total)))；减免金额 \(Show.yuan(total.relief_fen))\(change.map { "，比上年同期\($0 >= 0 ? "增加" : "减少") \(StatisticsFigures.permille(abs($0)))" } ?? "")。",
            "\(r.office.name), \(returnName): \(Show.count(Int(total.entitled))) taxpayers are entitled to relief, \(Show.count(Int(total.entitled_received))) of them received it (coverage \(StatisticsFigures.permille(StatisticsFigures.coveragePermille(total)))); relief received \(Show.yuan(total.relief_fen))\(change.map { ", \($0 >= 0 ? "up" : "down") \(StatisticsFigures.permille(abs($0))) on the same period last year" } ?? "").")
        func cells(_ row: StatisticsRow, previous: StatisticsRow?) -> HTML {
            """
            <td class="num">\(Show.count(Int(row.returns)))</td><td class="num">\(Show.count(Int(row.entitled)))</td><td class="num">\(Show.count(Int(row.beneficiaries)))</td>
            <td class="num">\(StatisticsFigures.permille(StatisticsFigures.coveragePermille(row)))</td><td class="num">\(Show.yuan(row.relief_fen))</td>
            <td class="num">\(Show.yuan(row.law_relief_fen))</td><td class="num">\(StatisticsFigures.averageFen(row).map { Show.yuan($0) } ?? "—")</td>
            <td class="num">\(previous.map { Show.yuan($0.relief_fen) } ?? "—")</td><td class="num">\(StatisticsFigures.permille(StatisticsFigures.changePermille(row.relief_fen, previous?.relief_fen)))</td>
            """
        }
        let lines: [HTML] = r.lines.map { line in
            let name = StatisticsFigures.name(line.row.key, line.name, r.dimension, t.lang)
            var drill = f
            drill.office = line.row.key
            let label: HTML = r.dimension == .office && line.row.key != r.office.id
                ? "<a href=\"\(WebPath.statistics.href)?\(drill.query)\">\(name)</a>"
                : "\(r.dimension == .office ? t.t("本级直管", "registered here") + "：" + name : name)"
            return "<tr><th scope=\"row\">\(label)</th>\(cells(line.row, previous: r.previousLines[line.row.key]))</tr>"
        }
        func option(_ v: String, _ text: String, _ current: String) -> HTML { "<option value=\"\(v)\"\(v == current ? " selected" : "")>\(text)</option>" }
        let kinds: [HTML] = ["vat", "eit", "business_income"].map { option($0, MonitoringPages.kindName($0, t.lang), f.kind) }
        let dims: [HTML] = [("office", t.t("下级税务机关", "child offices")), ("region", t.t("行政区划", "region")), ("industry", t.t("行业", "industry")),
                            ("kind", t.t("纳税人类型", "taxpayer kind")), ("preference", t.t("优惠政策（文号）", "preference (its 文号)")),
                            ("size", t.t("企业规模（工信划型）", "enterprise size (工信 classification)"))].map { option($0.0, $0.1, f.by) }
        let definitions: [(String, String)] = [
            (t.t("统计范围", "What counts"), t.t("所属期内各申报表的现行版本（更正申报后以最新版本为准）；季度增值税含按月申报纳税人的三个月；年度增值税含全年各期；企业所得税为该季度预缴申报的本年累计数；经营所得为年度申报。",
                                                "the current version of every return of the period (a correction replaces the figures); a quarter's VAT includes the monthly filers' three months, a year's VAT every period of the year; EIT is the year-to-date figure of that quarter's prepayment return; business income the annual return.")),
            (t.t("应享户数", "Entitled"), t.t("按申报数据由规则引擎计算、依法应享受减免（减免税额大于0）的纳税人户数。", "taxpayers whose relief computed by the rules engine on the filed figures is above zero.")),
            (t.t("享受户数", "Beneficiaries"), t.t("实际享受减免的纳税人户数：应纳税额加减免税额后减去申报税额大于0。", "taxpayers that received relief: tax plus the law's relief, less the tax declared, above zero.")),
            (t.t("受惠面", "Coverage"), t.t("应享户数中实际享受的户数 ÷ 应享户数，保留一位小数（四舍五入）。", "entitled taxpayers that received relief ÷ entitled taxpayers, one decimal, half up.")),
            (t.t("减免金额", "Relief received"), t.t("各申报表实际享受的减免之和（应纳税额 + 按政策减免 − 申报税额，为正数时）。", "the relief received, summed: tax + the law's relief − the tax declared, where positive.")),
            (t.t("按政策减免", "Relief the law gives"), t.t("规则引擎按申报数据计算的减免税额之和。", "the relief the rules engine computes on the filed figures, summed.")),
            (t.t("户均减免", "Average"), t.t("减免金额 ÷ 享受户数，四舍五入到分。", "relief received ÷ beneficiaries, to the fen, half up.")),
            (t.t("同比", "On last year"), t.t("减免金额与上年同期相比的增减百分比。", "the change of relief received on the same period of the previous year.")),
        ]
        let defs: [HTML] = definitions.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }
        return Layout.page(req, title: t.t("减免统计", "Relief statistics"), status: status, """
        \(error?.html(t.lang))
        <form method="get" action="\(WebPath.statistics.href)" class="filters" id="statistics-form">
        <div class="field"><label for="kind">\(t.t("税种", "Tax"))</label> <select name="kind" id="kind">\(kinds)</select></div>
        <div class="field"><label for="period">\(t.t("所属期", "Period"))</label> <input name="period" id="period" value="\(f.period)" size="9" placeholder="2026-Q3"\(Controls.marked("period", error?.input))></div>
        <div class="field"><label for="by">\(t.t("分组", "Lines"))</label> <select name="by" id="by">\(dims)</select></div>
        <input type="hidden" name="office" value="\(f.office)">
        <button type="submit" id="show">\(t.t("统计", "Show"))</button></form>
        <p class="lead" id="statistics-summary">\(sentence)</p>
        \(r.asOf.map { "<p class=\"muted\" id=\"as-of\">\(t.t("数据截至", "Figures as of")) \(Show.beijing($0))</p>" as HTML })
        \(chart(r, t.lang))
        <div class="scroll"><table id="statistics"><thead><tr><th scope="col">\(r.dimension == .office ? t.t("税务机关", "Office") : t.t("分组", "Group"))</th>
        <th scope="col">\(t.t("申报表数", "Returns"))</th><th scope="col">\(t.t("应享户数", "Entitled"))</th><th scope="col">\(t.t("享受户数", "Beneficiaries"))</th>
        <th scope="col">\(t.t("受惠面", "Coverage"))</th><th scope="col">\(t.t("减免金额", "Relief received"))</th><th scope="col">\(t.t("按政策减免", "Relief the law gives"))</th>
        <th scope="col">\(t.t("户均减免", "Average"))</th><th scope="col">\(t.t("上年同期减免", "Same period last year"))</th><th scope="col">\(t.t("同比", "Change"))</th></tr></thead>
        <tbody>\(lines)</tbody>
        <tfoot><tr id="statistics-total"><th scope="row">\(t.t("合计", "Total"))</th>\(cells(total, previous: r.previousTotal))</tr></tfoot></table></div>
        <p><a id="statistics-csv" href="\(WebPath.statisticsCSV.href)?\(f.query)">\(t.t("导出 CSV", "Export CSV"))</a></p>
        <h2>\(t.t("指标说明", "What each figure means"))</h2><dl id="definitions">\(defs)</dl>
        """)
    }

    /// Relief received per line as horizontal bars, drawn on the server (no script), with a text alternative.
    static func chart(_ r: StatisticsReport, _ lang: Lang) -> HTML {
        let rows = r.lines.filter { $0.row.relief_fen > 0 }.prefix(30)
        guard let top = rows.map(\.row.relief_fen).max(), top > 0 else { return "" }
        let barHeight = 22, labelWidth = 220, barWidth = 420, width = labelWidth + barWidth + 150
        let height = rows.count * barHeight + 10
        var parts: [HTML] = []
        for (i, line) in rows.enumerated() {
            let y = 5 + i * barHeight
            let w = max(1, Int(line.row.relief_fen * Int64(barWidth) / top))
            let name = StatisticsFigures.name(line.row.key, line.name, r.dimension, lang)
            parts.append("""
            <text x="\(labelWidth - 6)" y="\(y + 15)" text-anchor="end" font-size="12">\(name)</text>
            <rect x="\(labelWidth)" y="\(y + 3)" width="\(w)" height="\(barHeight - 6)" fill="#1a5fb4"><title>\(name): \(Show.yuan(line.row.relief_fen))</title></rect>
            <text x="\(labelWidth + w + 6)" y="\(y + 15)" font-size="12">\(Show.yuan(line.row.relief_fen))</text>
            """)
        }
        return """
        <figure class="scroll"><svg id="statistics-chart" role="img" aria-labelledby="chart-title" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" xmlns="http://www.w3.org/2000/svg">
        <title id="chart-title">\(lang.t("各组减免金额", "Relief received by line"))</title>\(parts)</svg>
        <figcaption class="muted">\(lang.t("减免金额（元）", "Relief received (yuan)"))</figcaption></figure>
        """
    }
}

func statisticsFilters(_ req: Request) -> StatisticsPages.Filters {
    func q(_ k: String) -> String { FormInput.normalized(req.query[String.self, at: k] ?? "") }
    var f = StatisticsPages.Filters(kind: q("kind").isEmpty ? "vat" : q("kind"), period: FormInput.period(q("period")), office: q("office"), by: q("by").isEmpty ? "office" : q("by"))
    if f.period.isEmpty { f.period = defaultStatisticsPeriod(f.kind, req) }
    return f
}

/// By default the last ended quarter (VAT, EIT) or year (business income).
func defaultStatisticsPeriod(_ kind: String, _ req: Request) -> String {
    let today = FilingService.chinaDay(req.application.platform.services.now())
    let qi = (today.month - 1) / 3
    return kind == "business_income" ? "\(today.year - 1)" : qi == 0 ? "\(today.year - 1)-Q4" : "\(today.year)-Q\(qi)"
}

@Sendable func statisticsPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let s = req.application.platform.services
    let f = statisticsFilters(req)
    do {
        let r = try await s.statistics.report(by: actor, kind: f.kind, period: f.period, office: f.office.isEmpty ? nil : f.office, dimension: f.by)
        return StatisticsPages.render(req, r, filters: f)
    } catch let ServiceError.invalid(field, zh, en) {
        let r = try await s.statistics.report(by: actor, kind: "vat", period: defaultStatisticsPeriod("vat", req), office: nil, dimension: "office")
        return StatisticsPages.render(req, r, filters: f, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func statisticsCSV(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let f = statisticsFilters(req)
    let r = try await req.application.platform.services.statistics.report(by: actor, kind: f.kind, period: f.period,
                                                                           office: f.office.isEmpty ? nil : f.office, dimension: f.by)
    func line(_ name: String, _ key: String, _ row: StatisticsRow, _ previous: StatisticsRow?) -> [String] {
        [key, name, "\(row.returns)", "\(row.entitled)", "\(row.beneficiaries)", "\(row.entitled_received)",
         StatisticsFigures.coveragePermille(row).map { StatisticsFigures.permille($0) } ?? "", CSVExport.amount(row.relief_fen),
         CSVExport.amount(row.law_relief_fen), CSVExport.amount(StatisticsFigures.averageFen(row)), CSVExport.amount(previous?.relief_fen)]
    }
    let rows = r.lines.map { line(StatisticsFigures.name($0.row.key, $0.name, r.dimension, .zh), $0.row.key, $0.row, r.previousLines[$0.row.key]) }
        + [line("合计", r.office.id, r.total, r.previousTotal)]
    let header = ["代码", "名称", "申报表数", "应享户数", "享受户数", "应享且享受户数", "受惠面", "减免金额（元）", "按政策减免（元）", "户均减免（元）", "上年同期减免（元）"]
    return CSVExport.response(CSVExport.document(header: header, rows: rows), filename: "statistics-\(r.section)-\(r.period).csv")
}
