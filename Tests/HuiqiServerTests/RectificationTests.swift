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
}
