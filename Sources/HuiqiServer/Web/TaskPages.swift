import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// Rectification tasks (整改) in the pages: the list of the subtree's tasks with the overdue ones marked, the form a
/// supervisor assigns with, and one task with its events and the next step (report, close, reopen).
enum TaskPages {
    static func stateName(_ t: RectificationTask, _ lang: Lang) -> String {
        if t.overdue { return lang.t("已逾期", "overdue") }
        switch t.row.state {
        case "open": return lang.t("整改中", "open")
        case "reported": return lang.t("已报告，待督导方确认", "reported, awaiting the supervisor")
        default: return lang.t("已关闭", "closed")
        }
    }

    static func list(_ req: Request, actor: Actor, tasks: [RectificationTask], offices: [OfficeRow], names: [String: String],
                     values v: [String: String] = [:], error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let rows: [HTML] = tasks.map { k in
            """
            <tr class="\(k.overdue ? "overdue" : k.row.state)"><td><a href="\(WebPath.task(k.row.id).href)">\(k.row.title)</a></td>
            <td>\(names[k.row.office_id] ?? k.row.office_id)</td><td>\(Show.day(k.row.due_on, t.lang))</td><td class="state">\(stateName(k, t.lang))</td>
            <td>\(Show.beijing(k.row.assigned_at))</td></tr>
            """
        }
        let overdue = tasks.filter(\.overdue).count
        let form: HTML = actor.role == .supervisor || actor.role == .administrator ? """
            <h2>\(t.t("下达整改任务", "Assign a task"))</h2>
            <form method="post" action="\(WebPath.tasks.href)" id="task-form">\(Controls.csrf(req))
            \(Controls.select("office", t.t("承办税务机关", "Office"), offices.map { ($0.id, $0.name) }, v, invalid: error?.input))
            \(Controls.text("title", t.t("整改事项", "What to rectify"), v, invalid: error?.input))
            \(Controls.text("working_days", t.t("整改期限（工作日，按官方节假日安排）", "Time allowed (working days, official calendar)"), v["working_days"] == nil ? v.merging(["working_days": "10"]) { a, _ in a } : v, invalid: error?.input, extra: " inputmode=\"numeric\" size=\"4\""))
            <button type="submit" id="assign">\(t.t("下达", "Assign"))</button></form>
            """ : ""
        return Layout.page(req, title: t.t("整改任务", "Rectification tasks"), status: status, """
        \(error?.html(t.lang))
        <p class="lead" id="tasks-summary">\(t.t("共 \(tasks.count) 项，其中逾期 \(overdue) 项。", "\(tasks.count) tasks, \(overdue) overdue."))</p>
        \(rows.isEmpty ? "<p class=\"muted\" id=\"empty\">\(t.t("没有整改任务。", "No task."))</p>" as HTML : """
        <div class="scroll"><table id="tasks"><thead><tr><th scope="col">\(t.t("整改事项", "Task"))</th><th scope="col">\(t.t("承办税务机关", "Office"))</th>
        <th scope="col">\(t.t("期限", "Due"))</th><th scope="col">\(t.t("状态", "State"))</th><th scope="col">\(t.t("下达时间", "Assigned"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """ as HTML)
        \(form)
        """)
    }

    static func detail(_ req: Request, actor: Actor, task k: RectificationTask, office: String, mayClose: Bool, error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let events: [HTML] = k.events.map { e in
            let what: String
            switch e.action {
            case "assigned": what = t.t("下达", "assigned")
            case "reported": what = t.t("报告整改情况", "reported")
            case "closed": what = t.t("关闭", "closed")
            default: what = t.t("重新打开", "reopened")
            }
            return "<li><strong>\(what)</strong> · \(Show.beijing(e.at)) · \(e.user_id)<br>\(e.note)</li>"
        }
        var actions: [(String, String)] = []
        if actor.role == .officer && k.row.state == "open" { actions.append(("report", t.t("报告整改情况", "Report what was done"))) }
        if mayClose && k.row.state != "closed" { actions.append(("close", t.t("确认并关闭", "Close"))) }
        if mayClose && k.row.state != "open" { actions.append(("reopen", t.t("重新打开", "Reopen"))) }
        let buttons: [HTML] = actions.map { "<button type=\"submit\" name=\"action\" value=\"\($0.0)\" id=\"task-\($0.0)\">\($0.1)</button> " }
        return Layout.page(req, title: k.row.title, status: status, """
        \(error?.html(t.lang))
        <table id="task-facts"><tr><th scope="row">\(t.t("承办税务机关", "Office"))</th><td>\(office)</td></tr>
        <tr><th scope="row">\(t.t("期限", "Due"))</th><td>\(Show.day(k.row.due_on, t.lang))（\(t.t("\(k.row.working_days) 个工作日", "\(k.row.working_days) working days"))）</td></tr>
        <tr><th scope="row">\(t.t("状态", "State"))</th><td id="task-state">\(stateName(k, t.lang))</td></tr></table>
        <h2>\(t.t("记录", "Record"))</h2><ol id="task-events">\(events)</ol>
        \(buttons.isEmpty ? "" : """
            <form method="post" action="\(WebPath.task(k.row.id).href)" id="task-action">\(Controls.csrf(req))
            <div class="field"><label for="note">\(t.t("说明", "Note"))</label> <textarea name="note" id="note" rows="4" cols="60"\(Controls.marked("note", error?.input))></textarea></div>
            \(buttons)</form>
            """ as HTML)
        <p><a href="\(WebPath.tasks.href)">\(t.t("返回整改任务", "Back to the tasks"))</a></p>
        """)
    }
}

func tasksPageWith(_ req: Request, actor: Actor, values: [String: String], error: FormError?, status: HTTPStatus) async throws -> Response {
    let s = req.application.platform.services
    let tasks = try await s.rectification.tasks(by: actor)
    // The offices a supervisor may assign to: its subtree without its own office.
    let own = try await s.store.user(id: actor.userID)?.office_id
    let offices = try await s.store.offices().filter { (actor.role == .administrator || actor.offices.contains($0.id)) && $0.id != own && $0.parent_id != nil }
    let names = try await s.store.officeNames(Set(tasks.map(\.row.office_id)))
    var v = values
    if v["office"] == nil, let asked = req.query[String.self, at: "office"] { v["office"] = asked }
    if v["title"] == nil, let suggested = req.query[String.self, at: "title"] { v["title"] = suggested }  // from a comparison finding
    return TaskPages.list(req, actor: actor, tasks: tasks, offices: offices, names: names, values: v, error: error, status: status)
}

@Sendable func tasksPage(_ req: Request) async throws -> Response {
    try await tasksPageWith(req, actor: try req.signedIn(), values: [:], error: nil, status: .ok)
}

@Sendable func assignTaskSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    if v["action"] == "relang" { return try await tasksPageWith(req, actor: actor, values: v, error: nil, status: .ok) }
    do {
        guard let days = FormInput.integer(v["working_days"] ?? "") else {
            throw ServiceError.invalid(field: "working_days", zh: "整改期限应为整数个工作日", en: "the time allowed is a whole number of working days")
        }
        let k = try await req.application.platform.services.rectification.assign(by: actor, office: v["office"] ?? "", title: v["title"] ?? "",
                                                                                 workingDays: days, remote: req.clientAddress)
        return req.redirect(to: WebPath.task(k.row.id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await tasksPageWith(req, actor: actor, values: v, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

func taskPageWith(_ req: Request, actor: Actor, id: String, error: FormError?, status: HTTPStatus) async throws -> Response {
    let s = req.application.platform.services
    let k = try await s.rectification.task(by: actor, id: id)
    let office = try await s.store.officeNames([k.row.office_id])[k.row.office_id] ?? k.row.office_id
    let own = try await s.store.user(id: actor.userID)?.office_id
    let mayClose = (actor.role == .supervisor && own != k.row.office_id) || actor.role == .administrator
    return TaskPages.detail(req, actor: actor, task: k, office: office, mayClose: mayClose, error: error, status: status)
}

@Sendable func taskPage(_ req: Request) async throws -> Response {
    try await taskPageWith(req, actor: try req.signedIn(), id: req.parameters.get("task") ?? "", error: nil, status: .ok)
}

@Sendable func taskActionSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let id = req.parameters.get("task") ?? ""
    if v["action"] == "relang" { return try await taskPageWith(req, actor: actor, id: id, error: nil, status: .ok) }
    do {
        _ = try await req.application.platform.services.rectification.act(by: actor, id: id, action: v["action"] ?? "", note: v["note"] ?? "",
                                                                         remote: req.clientAddress)
        return req.redirect(to: WebPath.task(id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await taskPageWith(req, actor: actor, id: id, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        return try await taskPageWith(req, actor: actor, id: id, error: AdminPages.error(field, zh, en, req.web.lang), status: .conflict)
    }
}
