import Foundation
import HuiqiServices
import HuiqiStore
import Vapor

/// The complaint desk in the pages: the list within reach (overdue ones marked), the form a taxpayer complains
/// with (or an agent records a phone call with), and one complaint with its steps and the next action.
enum ComplaintPages {
    static func categoryName(_ c: String, _ lang: Lang) -> String {
        switch c {
        case "relief_not_received": return lang.t("应享受的优惠未享受", "relief not received")
        case "wrong_answer": return lang.t("答复错误", "wrong answer")
        case "service": return lang.t("服务问题", "service")
        default: return lang.t("其他", "other")
        }
    }
    static func stateName(_ v: ComplaintView, overdue: Bool, _ lang: Lang) -> String {
        if overdue { return lang.t("已逾期", "overdue") }
        switch v.state {
        case "resolved": return lang.t("已办结，待投诉人确认", "resolved, awaiting the complainant")
        case "closed": return lang.t("已确认", "closed")
        default: return lang.t("办理中", "open")
        }
    }
    static func eventName(_ k: String, _ lang: Lang) -> String {
        switch k {
        case "received": return lang.t("受理", "received")
        case "warned": return lang.t("到期提醒", "warning")
        case "escalated": return lang.t("逾期升级", "escalated")
        case "resolved": return lang.t("办结", "resolved")
        case "confirmed": return lang.t("投诉人确认", "confirmed")
        default: return lang.t("重新打开", "reopened")
        }
    }
    static func outcomeName(_ o: String?, _ lang: Lang) -> String {
        switch o {
        case "upheld": return lang.t("投诉属实，已纠正", "upheld")
        case "partly_upheld": return lang.t("部分属实", "partly upheld")
        case "not_upheld": return lang.t("投诉不属实", "not upheld")
        default: return ""
        }
    }
    static func due(_ v: ComplaintView, _ lang: Lang) -> String {
        v.due.map { Show.day($0, lang) } ?? lang.t("待定（该年度节假日安排尚未收录）", "undetermined (that year's official calendar is not on record)")
    }

    static func list(_ req: Request, actor: Actor, views: [ComplaintView], desk: ComplaintService, taxpayers: [TaxpayerRow], names: [String: String],
                     sla: [ComplaintSLA] = [], values v: [String: String] = [:], error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let now = desk.now()
        let rows: [HTML] = views.map { c in
            let overdue = c.overdue(desk.clock, now: now)
            return """
            <tr class="\(overdue ? "overdue" : c.state)"><td><a href="\(WebPath.complaint(c.row.id).href)">\(c.row.id)</a></td><td>\(categoryName(c.row.category, t.lang))</td>
            <td>\(names[c.answerableOffice] ?? c.answerableOffice)</td><td>\(Show.beijing(c.row.received_at))</td><td>\(due(c, t.lang))</td><td class="state">\(stateName(c, overdue: overdue, t.lang))</td></tr>
            """
        }
        let categories = ComplaintService.categories.map { ($0, categoryName($0, t.lang)) }
        let who: HTML = actor.role == .taxpayer
            ? Controls.select("taxpayer_id", t.t("纳税人", "Taxpayer"), taxpayers.map { ($0.id, "\($0.name)（\($0.id)）") }, v, invalid: error?.input)
            : Controls.text("taxpayer_id", t.t("纳税人识别号（来电登记）", "Taxpayer's credit code (phone call)"), v, invalid: error?.input)
        let overdueCount = views.filter { $0.overdue(desk.clock, now: now) }.count
        let slaRows: [HTML] = sla.map { f in
            let onTime = f.on_time_permille.map { "\($0 / 10).\($0 % 10)%" } ?? "—"
            let satisfaction = f.satisfaction_count == 0 ? "—" : String(format: "%.1f", Double(f.satisfaction_sum) / Double(f.satisfaction_count))
            return "<tr><td>\(names[f.office_id] ?? f.office_id)</td><td class=\"num\">\(f.received)</td><td class=\"num\">\(f.resolved_on_time)/\(f.measured)</td><td class=\"num\">\(onTime)</td><td class=\"num\">\(f.overdue_open)</td><td class=\"num\">\(satisfaction)</td></tr>"
        }
        let slaTable: HTML = slaRows.isEmpty ? "" : """
            <h2>\(t.t("按期办结率（按承办税务机关）", "Resolved within 3 working days, per office"))</h2>
            <div class="scroll"><table id="complaint-sla"><thead><tr><th scope="col">\(t.t("税务机关", "Office"))</th><th scope="col">\(t.t("受理", "Received"))</th><th scope="col">\(t.t("按期办结/可计期限", "On time / measured"))</th><th scope="col">\(t.t("按期办结率", "On time"))</th><th scope="col">\(t.t("逾期未结", "Overdue, open"))</th><th scope="col">\(t.t("平均满意度", "Satisfaction"))</th></tr></thead><tbody>\(slaRows)</tbody></table></div>
            """
        return Layout.page(req, title: t.t("投诉专席", "Complaint desk"), status: status, """
        \(error?.html(t.lang))
        <p class="lead" id="complaints-summary">\(t.t("每件投诉应在受理后3个工作日内办结（按官方节假日安排，含调休）。共 \(views.count) 件，逾期 \(overdueCount) 件。", "Every complaint is resolved within 3 working days of receipt (official calendar, 调休 included). \(views.count) complaints, \(overdueCount) overdue."))</p>
        \(rows.isEmpty ? "<p class=\"muted\" id=\"no-complaints\">\(t.t("没有投诉。", "No complaint."))</p>" as HTML : """
        <div class="scroll"><table id="complaints"><thead><tr><th scope="col">\(t.t("编号", "Number"))</th><th scope="col">\(t.t("类别", "Category"))</th><th scope="col">\(t.t("承办税务机关", "Office"))</th><th scope="col">\(t.t("受理时间", "Received"))</th><th scope="col">\(t.t("办结期限", "Due"))</th><th scope="col">\(t.t("状态", "State"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """ as HTML)
        \(slaTable)
        <h2>\(actor.role == .taxpayer ? t.t("我要投诉", "Make a complaint") : t.t("登记来电投诉", "Record a phone complaint"))</h2>
        <form method="post" action="\(WebPath.complaints.href)" id="complaint-form">\(Controls.csrf(req))
        \(who)
        \(Controls.select("category", t.t("类别", "Category"), categories, v, invalid: error?.input))
        <div class="field"><label for="text">\(t.t("投诉内容", "What happened"))</label> <textarea name="text" id="text" rows="5" cols="60"\(Controls.marked("text", error?.input))>\(v["text"] ?? "")</textarea></div>
        \(Controls.text("contact", t.t("联系方式", "How to reach you"), v, invalid: error?.input))
        <button type="submit" id="complain">\(t.t("提交", "Submit"))</button></form>
        """)
    }

    static func detail(_ req: Request, actor: Actor, view c: ComplaintView, desk: ComplaintService, names: [String: String], error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let overdue = c.overdue(desk.clock, now: desk.now())
        let events: [HTML] = c.events.map { e in
            let extra = [e.office_id.map { names[$0] ?? $0 }, e.outcome.map { outcomeName($0, t.lang) }, e.satisfaction.map { t.t("满意度 \($0)/5", "satisfaction \($0)/5") },
                         e.kind == "reopened" ? e.due_on.map { t.t("新期限 \($0)", "new due date \($0)") } : nil].compactMap { $0 }
            return "<li><strong>\(eventName(e.kind, t.lang))</strong> · \(Show.beijing(e.at))\(extra.isEmpty ? "" : " · " + extra.joined(separator: " · "))\(e.note.isEmpty ? "" : HTML(raw: "<br>" + HTML.escape(e.note)))</li>"
        }
        var form: HTML = ""
        if actor.role != .taxpayer && c.state == "open" {
            let outcomes = ComplaintService.outcomes.map { ($0, outcomeName($0, t.lang)) }
            form = """
            <h2>\(t.t("办结", "Resolve"))</h2>
            <form method="post" action="\(WebPath.complaint(c.row.id).href)" id="complaint-resolve">\(Controls.csrf(req))<input type="hidden" name="action" value="resolve">
            <div class="field"><label for="note">\(t.t("办理情况", "What was done"))</label> <textarea name="note" id="note" rows="4" cols="60"\(Controls.marked("note", error?.input))></textarea></div>
            \(Controls.select("outcome", t.t("办理结果", "Outcome"), outcomes, [:], invalid: error?.input))
            <button type="submit" id="resolve">\(t.t("办结", "Resolve"))</button></form>
            """
        } else if actor.role == .taxpayer && c.state == "resolved" {
            let scores = (1...5).reversed().map { ("\($0)", "\($0)") }
            form = """
            <h2>\(t.t("确认办理结果", "Your answer"))</h2>
            <form method="post" action="\(WebPath.complaint(c.row.id).href)" id="complaint-answer">\(Controls.csrf(req))
            \(Controls.select("satisfaction", t.t("满意度（5 为非常满意）", "Satisfaction (5 is best)"), scores, [:], invalid: error?.input))
            <div class="field"><label for="note">\(t.t("说明（重新打开时必填）", "Note (required to reopen)"))</label> <textarea name="note" id="note" rows="3" cols="60"\(Controls.marked("note", error?.input))></textarea></div>
            <button type="submit" name="action" value="confirm" id="confirm">\(t.t("确认办结", "Confirm"))</button>
            <button type="submit" name="action" value="reopen" id="reopen">\(t.t("不满意，重新打开", "Not resolved: reopen"))</button></form>
            """
        }
        return Layout.page(req, title: t.t("投诉 \(c.row.id)", "Complaint \(c.row.id)"), status: status, """
        \(error?.html(t.lang))
        <table id="complaint-facts">
        <tr><th scope="row">\(t.t("状态", "State"))</th><td id="complaint-state">\(stateName(c, overdue: overdue, t.lang))</td></tr>
        <tr><th scope="row">\(t.t("办结期限", "Due"))</th><td id="complaint-due">\(due(c, t.lang))</td></tr>
        <tr><th scope="row">\(t.t("类别", "Category"))</th><td>\(categoryName(c.row.category, t.lang))</td></tr>
        <tr><th scope="row">\(t.t("纳税人", "Taxpayer"))</th><td>\(c.row.taxpayer_id)</td></tr>
        <tr><th scope="row">\(t.t("承办税务机关", "Office"))</th><td id="complaint-office">\(names[c.answerableOffice] ?? c.answerableOffice)</td></tr>
        <tr><th scope="row">\(t.t("受理时间", "Received"))</th><td>\(Show.beijing(c.row.received_at))（\(c.row.channel == "phone" ? t.t("来电", "phone") : t.t("网上", "online"))）</td></tr>
        <tr><th scope="row">\(t.t("联系方式", "Contact"))</th><td>\(c.row.contact)</td></tr></table>
        <h2>\(t.t("投诉内容", "Complaint"))</h2><p id="complaint-text">\(c.row.text)</p>
        <h2>\(t.t("办理记录", "Steps"))</h2><ol id="complaint-events">\(events)</ol>
        \(form)
        <p><a href="\(WebPath.complaints.href)">\(t.t("返回投诉列表", "Back to the complaints"))</a></p>
        """)
    }
}

func complaintsPageWith(_ req: Request, values: [String: String], error: FormError?, status: HTTPStatus) async throws -> Response {
    let actor = try req.signedIn()
    let desk = try complaintDesk(req)
    let s = req.application.platform.services
    let views = try await desk.list(by: actor, limit: 500)
    let taxpayers = actor.role == .taxpayer ? try await s.store.taxpayers(ids: actor.boundTaxpayers.sorted()) : []
    let sla = actor.role == .taxpayer ? [] : try await desk.sla(by: actor)
    let names = try await s.store.officeNames(Set(views.map(\.answerableOffice) + sla.map(\.office_id)))
    return ComplaintPages.list(req, actor: actor, views: views, desk: desk, taxpayers: taxpayers, names: names, sla: sla, values: values, error: error, status: status)
}

@Sendable func complaintsPage(_ req: Request) async throws -> Response { try await complaintsPageWith(req, values: [:], error: nil, status: .ok) }

@Sendable func complaintSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    if v["action"] == "relang" { return try await complaintsPageWith(req, values: v, error: nil, status: .ok) }
    do {
        let s = ComplaintService.Submission(taxpayer_id: (v["taxpayer_id"] ?? "").trimmingCharacters(in: .whitespaces), category: v["category"] ?? "",
                                            text: (v["text"] ?? "").replacingOccurrences(of: "\r\n", with: "\n"), contact: v["contact"] ?? "")
        let c = try await complaintDesk(req).submit(s, channel: "web", by: actor)
        return req.redirect(to: WebPath.complaint(c.row.id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await complaintsPageWith(req, values: v, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    } catch ServiceError.notFound {
        return try await complaintsPageWith(req, values: v, error: AdminPages.error("taxpayer_id", "没有这个纳税人，或不在您的管辖范围内", "no such taxpayer within your reach", req.web.lang), status: .badRequest)
    }
}

func complaintPageWith(_ req: Request, error: FormError?, status: HTTPStatus) async throws -> Response {
    let actor = try req.signedIn()
    let desk = try complaintDesk(req)
    let view = try await desk.complaint(req.parameters.get("complaint") ?? "", by: actor)
    let names = try await req.application.platform.services.store.officeNames(Set([view.row.office_id] + view.escalations))
    return ComplaintPages.detail(req, actor: actor, view: view, desk: desk, names: names, error: error, status: status)
}

@Sendable func complaintPage(_ req: Request) async throws -> Response { try await complaintPageWith(req, error: nil, status: .ok) }

@Sendable func complaintActionSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    if v["action"] == "relang" { return try await complaintPageWith(req, error: nil, status: .ok) }
    let desk = try complaintDesk(req)
    let id = req.parameters.get("complaint") ?? ""
    let note = (v["note"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
    do {
        switch v["action"] {
        case "resolve": _ = try await desk.resolve(id, note: note, outcome: v["outcome"] ?? "", by: actor)
        case "confirm": _ = try await desk.confirm(id, satisfaction: FormInput.integer(v["satisfaction"] ?? "") ?? 0, note: note, by: actor)
        case "reopen": _ = try await desk.reopen(id, note: note, by: actor)
        default: throw ServiceError.invalid(field: "action", zh: "未知操作", en: "unknown action")
        }
        return req.redirect(to: WebPath.complaint(id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await complaintPageWith(req, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        return try await complaintPageWith(req, error: AdminPages.error(field, zh, en, req.web.lang), status: .conflict)
    }
}
