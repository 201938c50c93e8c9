import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// Supervision and performance evaluation (督导、绩效考核): the child offices ranked by their score, each input shown
/// beside it with the counts it comes from, the offices under the coverage threshold flagged, the formula and its
/// weights (data, not code) spelled out.
enum SupervisionPages {
    static func render(_ req: Request, _ r: SupervisionReport, filters f: StatisticsPages.Filters, error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let p = StatisticsFigures.permille
        let mayAssign = t.actor?.role == .supervisor || t.actor?.role == .administrator
        let rows: [HTML] = r.offices.map { e in
            var drill = f
            drill.office = e.office.id
            return """
            <tr class="\(e.flagged ? "flagged" : "")"><td class="num">\(e.rank)</td>
            <th scope="row"><a href="\(WebPath.supervision.href)?\(drill.query)">\(e.office.name)</a></th>
            <td class="num score"><strong>\(p(e.score))</strong></td>
            <td class="num">\(p(e.coverage))<br><span class="muted">\(e.statistics.entitled_received) / \(e.statistics.entitled)</span></td>
            <td class="num">\(p(e.timelyFiling))<br><span class="muted">\(e.figures.filed - e.figures.late) / \(e.figures.expected)</span></td>
            <td class="num">\(p(e.reliefClaimed))<br><span class="muted">\(e.figures.filed - e.figures.not_claimed) / \(e.figures.filed)</span></td>
            <td class="num">\(p(e.noticesOnTime))<br><span class="muted">\(e.noticesTimely) / \(e.notices)</span></td>
            <td>\(e.flagged ? "<strong class=\"flag\">\(t.t("受惠面低于 \(p(r.weights.coverage_threshold_permille))，需督导", "coverage under \(p(r.weights.coverage_threshold_permille)): supervise"))</strong>" as HTML : "")
            \(mayAssign ? " <a class=\"assign-task\" href=\"\(WebPath.tasks.href)?office=\(HTML.query(e.office.id))#task-form\">\(t.t("下达整改任务", "Assign a task"))</a>" as HTML : "")</td></tr>
            """
        }
        let w = r.weights.weights
        let flagged = r.offices.filter(\.flagged).count
        func option(_ v: String, _ text: String, _ current: String) -> HTML { "<option value=\"\(v)\"\(v == current ? " selected" : "")>\(text)</option>" }
        let kinds: [HTML] = ["vat", "eit", "business_income"].map { option($0, MonitoringPages.kindName($0, t.lang), f.kind) }
        return Layout.page(req, title: t.t("督导与绩效考核", "Supervision and performance"), status: status, """
        \(error?.html(t.lang))
        <form method="get" action="\(WebPath.supervision.href)" class="filters">
        <div class="field"><label for="kind">\(t.t("税种", "Tax"))</label> <select name="kind" id="kind">\(kinds)</select></div>
        <div class="field"><label for="period">\(t.t("所属期", "Period"))</label> <input name="period" id="period" value="\(f.period)" size="9"\(Controls.marked("period", error?.input))></div>
        <input type="hidden" name="office" value="\(f.office)">
        <button type="submit" id="show">\(t.t("查看", "Show"))</button></form>
        <p class="lead" id="supervision-summary">\(t.t("\(r.office.name) 下级 \(r.offices.count) 个税务机关，\(Show.returnName("\(r.section):\(r.period)", .zh))；受惠面低于 \(p(r.weights.coverage_threshold_permille)) 需督导的 \(flagged) 个。",
            "\(r.offices.count) offices under \(r.office.name), \(Show.returnName("\(r.section):\(r.period)", .en)); \(flagged) under the coverage threshold of \(p(r.weights.coverage_threshold_permille)), to supervise."))</p>
        \(r.offices.isEmpty ? "<p class=\"muted\" id=\"empty\">\(t.t("没有下级税务机关。", "No office below this one."))</p>" as HTML : """
        <div class="scroll"><table id="ranking"><thead><tr><th scope="col">\(t.t("排名", "Rank"))</th><th scope="col">\(t.t("税务机关", "Office"))</th>
        <th scope="col">\(t.t("考核分", "Score"))</th><th scope="col">\(t.t("受惠面", "Coverage"))</th><th scope="col">\(t.t("按期申报率", "Filed on time"))</th>
        <th scope="col">\(t.t("足额享受率", "Relief claimed"))</th><th scope="col">\(t.t("通知及时率", "Notices on time"))</th><th scope="col">\(t.t("督导", "Supervision"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """ as HTML)
        <h2>\(t.t("考核公式", "How the score is computed"))</h2>
        <p id="formula">\(t.t("考核分 = (受惠面 × \(w["coverage"] ?? 0) + 按期申报率 × \(w["timely_filing"] ?? 0) + 足额享受率 × \(w["relief_claimed"] ?? 0) + 通知及时率 × \(w["notices_on_time"] ?? 0)) ÷ 权重之和；缺少的指标（如无应享户、无通知）不计入。",
            "score = (coverage × \(w["coverage"] ?? 0) + filed on time × \(w["timely_filing"] ?? 0) + relief claimed × \(w["relief_claimed"] ?? 0) + notices on time × \(w["notices_on_time"] ?? 0)) ÷ the sum of the weights; an input that cannot be computed (nobody entitled, no notice) is left out."))</p>
        <dl><dt>\(t.t("受惠面", "Coverage"))</dt><dd>\(t.t("应享受减免且已享受的户数 ÷ 应享户数（见减免统计）。", "entitled taxpayers that received relief ÷ entitled taxpayers (see the statistics)."))</dd>
        <dt>\(t.t("按期申报率", "Filed on time"))</dt><dd>\(t.t("在申报期限内首次申报的户数 ÷ 应申报户数（见申报监控）。", "returns first filed by the deadline ÷ returns expected (see monitoring)."))</dd>
        <dt>\(t.t("足额享受率", "Relief claimed"))</dt><dd>\(t.t("已申报中未出现“可享受减免未足额申报”的户数 ÷ 已申报户数。", "returns filed without relief left unclaimed ÷ returns filed."))</dd>
        <dt>\(t.t("通知及时率", "Notices on time"))</dt><dd>\(t.t("本期筛查发出的税务事项通知中，在申报期限后 \(r.weights.notice_due_working_days) 个工作日内发出的份数 ÷ 发出份数。", "notices of the period's screening issued within \(r.weights.notice_due_working_days) working days after the filing deadline ÷ notices issued."))</dd></dl>
        <p class="muted" id="weights-version">\(t.t("权重与督导阈值取自数据文件 Evaluation/weights.json（版本 \(r.weights.version)），为本项目默认值，各地可自行设定。", "The weights and the threshold come from the data file Evaluation/weights.json (version \(r.weights.version)): the project's defaults, which a deployment sets for itself."))</p>
        """)
    }
}

@Sendable func supervisionPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let s = req.application.platform.services
    let f = statisticsFilters(req)
    do {
        let r = try await s.supervision.report(by: actor, kind: f.kind, period: f.period, office: f.office.isEmpty ? nil : f.office)
        return SupervisionPages.render(req, r, filters: f)
    } catch let ServiceError.invalid(field, zh, en) {
        let r = try await s.supervision.report(by: actor, kind: "vat", period: defaultStatisticsPeriod("vat", req), office: nil)
        return SupervisionPages.render(req, r, filters: f, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}
