import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// Rectification tasks (整改, issue 10 §3) through the pages on both databases: assigned by a supervisor with a due
/// date in working days on the official calendar, reported by the office, closed or reopened by the supervisor,
/// overdue visible upward; officers never close; every step an append-only event.
@Suite struct RectificationTests {
    func taskID(_ location: String?) -> String { String((location ?? "").split(separator: "/").last ?? "") }

    @Test(arguments: Backend.allCases)
    func lifecycleWithWorkingDayDueDates(_ backend: Backend) async throws {
        let clock = TestClock("2026-05-28T02:00:00Z")  // Thursday 2026-05-28, 10:00 Beijing
        try await withHuiqi(backend, now: clock.now) { app in
            let store = Store(app.db)
            var shanghai = WebClient(app: app)
            let sc = try await shanghai.login("shanghai", "huiqi-supervisor")
            // 20 working days from 2026-05-28 skip the weekends and 端午节 (2026-06-19 to 21): due 2026-06-26.
            let assigned = try await shanghai.request(.POST, "/tasks", form: [("office", "13101150000"), ("title", "提高小规模纳税人减免受惠面"),
                                                                              ("working_days", "20"), ("csrf", sc)])
            #expect(assigned.status == .seeOther)
            let id = taskID(assigned.location)
            #expect(try await store.task(id)?.due_on == "2026-06-26")
            // Bad input names the field; a supervisor cannot assign to its own office or outside its reach.
            let bad = try await shanghai.request(.POST, "/tasks", form: [("office", "13101150000"), ("title", "x"), ("working_days", "0"), ("csrf", sc)])
            #expect(bad.status == .badRequest && bad.body.contains("整改期限"))
            let own = try await shanghai.request(.POST, "/tasks", form: [("office", "13100000000"), ("title", "x"), ("working_days", "5"), ("csrf", sc)])
            #expect(own.status == .badRequest && own.body.contains("下级税务机关"))
            let outside = try await shanghai.request(.POST, "/tasks", form: [("office", "13205710000"), ("title", "x"), ("working_days", "5"), ("csrf", sc)])
            #expect(outside.status == .badRequest && outside.body.contains("管辖范围"))
            // The office sees it and reports; it cannot close it; another district does not see it.
            var pudong = WebClient(app: app)
            let pc = try await pudong.login("pudong", "huiqi-officer")
            #expect(try await pudong.request(.GET, "/tasks").body.contains("提高小规模纳税人减免受惠面"))
            #expect(try await pudong.request(.POST, "/tasks/\(id)", form: [("action", "close"), ("note", "自己关闭"), ("csrf", pc)]).status == .forbidden)
            let empty = try await pudong.request(.POST, "/tasks/\(id)", form: [("action", "report"), ("note", " "), ("csrf", pc)])
            #expect(empty.status == .badRequest && empty.body.contains("说明"))
            #expect(try await pudong.request(.POST, "/tasks/\(id)", form: [("action", "report"), ("note", "已逐户辅导 12 户补充享受减免"), ("csrf", pc)]).status == .seeOther)
            var huangpu = WebClient(app: app)
            _ = try await huangpu.login("huangpu", "huiqi-officer")
            #expect(try await huangpu.request(.GET, "/tasks/\(id)").status == .notFound)
            #expect(!(try await huangpu.request(.GET, "/tasks").body.contains("提高小规模纳税人减免受惠面")))
            // The supervisor reopens it (not enough), time passes beyond the due date: overdue, visible upward.
            #expect(try await shanghai.request(.POST, "/tasks/\(id)", form: [("action", "reopen"), ("note", "请补充证明材料"), ("csrf", sc)]).status == .seeOther)
            clock.set("2026-06-29T02:00:00Z")
            // A month later the sessions have expired (8 hours): both log in again.
            let sc2 = try await shanghai.login("shanghai", "huiqi-supervisor"), pc2 = try await pudong.login("pudong", "huiqi-officer")
            let list = try await shanghai.request(.GET, "/tasks")
            #expect(list.body.contains("逾期 1 项") && list.body.contains("class=\"overdue\""))
            var admin = WebClient(app: app)
            _ = try await admin.login("admin", "huiqi-admin")
            #expect(try await admin.request(.GET, "/tasks").body.contains("已逾期"))
            // Reported again and closed: the record keeps every step, in order, append-only.
            #expect(try await pudong.request(.POST, "/tasks/\(id)", form: [("action", "report"), ("note", "材料已补充"), ("csrf", pc2)]).status == .seeOther)
            #expect(try await shanghai.request(.POST, "/tasks/\(id)", form: [("action", "close"), ("note", "整改完成"), ("csrf", sc2)]).status == .seeOther)
            let again = try await shanghai.request(.POST, "/tasks/\(id)", form: [("action", "close"), ("note", "再次关闭"), ("csrf", sc2)])
            #expect(again.status == .conflict)
            #expect(try await store.taskEvents(id).map(\.action) == ["assigned", "reported", "reopened", "reported", "closed"])
            #expect(try await store.task(id)?.state == "closed")
            #expect(try await store.auditCount(action: "task_close") == 1)
            await #expect(throws: (any Error).self) {
                try await store.db.raw("UPDATE rectification_events SET note = 'x' WHERE task_id = \(bind: id)").run()
            }
            // Taxpayers have no tasks.
            var owner = WebClient(app: app)
            _ = try await owner.login("company", "huiqi-taxpayer")
            #expect(try await owner.request(.GET, "/tasks").status == .forbidden)
        }
    }

    /// The same lifecycle through the JSON API, and the supervision ranking as JSON: the roles' refusals are the
    /// pages' (an officer never assigns or closes; another district does not see the task).
    @Test(arguments: Backend.allCases)
    func theAPI(_ backend: Backend) async throws {
        let clock = TestClock("2026-05-28T02:00:00Z")
        try await withHuiqi(backend, now: clock.now) { app in
            let shanghai = try await token(app, "shanghai", "huiqi-supervisor"), pudong = try await token(app, "pudong", "huiqi-officer")
            let huangpu = try await token(app, "huangpu", "huiqi-officer"), company = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .POST, "/api/v1/tasks", token: pudong, body: #"{"office":"13101150100","title":"x","working_days":5}"#).status == .forbidden)
            let bad = try await call(app, .POST, "/api/v1/tasks", token: shanghai, body: #"{"office":"13101150000","title":"x","working_days":61}"#)
            #expect(bad.status == .badRequest && bad.body.contains("working_days"))
            let made = try await call(app, .POST, "/api/v1/tasks", token: shanghai, body: #"{"office":"13101150000","title":"提高受惠面","working_days":20}"#)
            #expect(made.status == .created && made.json?["due_on"] == .string("2026-06-26") && made.json?["state"] == .string("open"))
            guard case .string(let id)? = made.json?["id"] else { Issue.record("no id"); return }
            #expect(try await call(app, .GET, "/api/v1/tasks/\(id)", token: huangpu).status == .notFound)
            #expect(try await call(app, .GET, "/api/v1/tasks", token: company).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/tasks/\(id)/events", token: pudong, body: #"{"action":"close","note":"x"}"#).status == .forbidden)
            let reported = try await call(app, .POST, "/api/v1/tasks/\(id)/events", token: pudong, body: #"{"action":"report","note":"已辅导"}"#)
            #expect(reported.status == .ok && reported.json?["state"] == .string("reported"))
            #expect(try await call(app, .POST, "/api/v1/tasks/\(id)/events", token: pudong, body: #"{"action":"report","note":"again"}"#).status == .conflict)
            let closed = try await call(app, .POST, "/api/v1/tasks/\(id)/events", token: shanghai, body: #"{"action":"close","note":"完成"}"#)
            #expect(closed.json?["state"] == .string("closed"))
            if case .array(let events)? = closed.json?["events"] { #expect(events.map { $0["action"] } == [.string("assigned"), .string("reported"), .string("closed")]) }
            else { Issue.record("no events") }
            let list = try await call(app, .GET, "/api/v1/tasks", token: pudong)
            #expect(list.status == .ok && list.body.contains(id))

            let ranking = try await call(app, .GET, "/api/v1/supervision?kind=vat&period=2026-Q1", token: shanghai)
            #expect(ranking.status == .ok && ranking.json?["office_id"] == .string("13100000000") && ranking.json?["weights"]?["coverage"] == .number("50"))
            if case .array(let offices)? = ranking.json?["offices"] {
                #expect(Set(offices.compactMap { if case .string(let o)? = $0["office_id"] { o } else { nil } }) == ["13101150000", "13101010000"])
                #expect(offices.map { $0["rank"] } == [.number("1"), .number("2")])
            } else { Issue.record("no offices") }
            #expect(try await call(app, .GET, "/api/v1/supervision?kind=vat&period=2026-Q1", token: company).status == .forbidden)
            #expect(try await call(app, .GET, "/api/v1/supervision?kind=vat&period=2026-Q1&office=13205710000", token: shanghai).status == .notFound)
        }
    }
}
