import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// Reports up the hierarchy (逐级上报, issue 10 §2) on both databases: a submitted report is frozen, a later
/// correction changes the draft but not the version, submitting again makes version 2; the parent office sees its
/// children's latest reports, their sum, and the overdue ones after the due date (the 2026-Q1 deadline 2026-04-20
/// plus 10 working days is 2026-05-07: 劳动节 2026-05-01 to 05 falls between, and Saturday 05-09 is a 调休 workday
/// after it); who may submit and see what.
@Suite struct ReportTests {
    func figure(_ j: JSON?, _ section: String, _ path: String...) -> JSON? {
        guard case .array(let sections)? = j?["sections"], let s = sections.first(where: { $0["kind"] == .string(section) }) else { return nil }
        var v: JSON? = s
        for p in path { v = v?[p] }
        return v
    }

    @Test(arguments: Backend.allCases)
    func frozenVersionsChildrenAndOverdue(_ backend: Backend) async throws {
        let clock = TestClock("2026-04-22T02:00:00Z")
        try await withHuiqi(backend, now: clock.now) { app in
            let store = Store(app.db)
            let ids = try await register(store, count: 2, login: "reports")
            let pudong = try await token(app, "pudong", "huiqi-officer")
            // A claims the 6,000 of relief (declares 0); B does not (declares 6,000).
            #expect(try await file(app, pudong, ids[0], vat("2026-Q1", "200000.00"), declared: "0.00").status == .created)
            #expect(try await file(app, pudong, ids[1], vat("2026-Q1", "200000.00"), declared: "6000.00").status == .created)

            let first = try await call(app, .POST, "/api/v1/reports", token: pudong, body: #"{"office":"13101150000","period":"2026-Q1","note":"一季度"}"#)
            #expect(first.status == .created, "\(first.body)")
            #expect(first.json?["version"] == .number("1"))
            let v1 = first.json?["report"]
            #expect(figure(v1, "vat", "statistics", "entitled") == .number("2") && figure(v1, "vat", "statistics", "beneficiaries") == .number("1"))
            #expect(figure(v1, "vat", "statistics", "relief_fen") == .number("600000") && figure(v1, "vat", "monitoring", "filed") == .number("2"))
            #expect(figure(v1, "eit", "statistics", "returns") == .number("0"))

            // B corrects and claims: the draft changes, version 1 does not; submitting again is version 2.
            #expect(try await file(app, pudong, ids[1], vat("2026-Q1", "200000.00"), declared: "0.00").status == .created)
            let overview = try await call(app, .GET, "/api/v1/reports?period=2026-Q1", token: pudong).json
            #expect(figure(overview?["draft"], "vat", "statistics", "beneficiaries") == .number("2"))
            #expect(overview?["due"] == .string("2026-05-07") && overview?["may_submit"] == .bool(true))
            let frozen = try await call(app, .GET, "/api/v1/reports/13101150000/2026-Q1/1", token: pudong).json
            #expect(figure(frozen?["report"], "vat", "statistics", "beneficiaries") == .number("1") && frozen?["note"] == .string("一季度"))
            let second = try await call(app, .POST, "/api/v1/reports", token: pudong, body: #"{"office":"13101150000","period":"2026-Q1"}"#)
            #expect(second.json?["version"] == .number("2") && figure(second.json?["report"], "vat", "statistics", "beneficiaries") == .number("2"))

            // The parent: Pudong's latest report, Huangpu not yet submitted, the sum of what was submitted.
            let shanghai = try await token(app, "shanghai", "huiqi-supervisor")
            var parent = try await call(app, .GET, "/api/v1/reports?period=2026-Q1", token: shanghai).json
            guard case .array(var children)? = parent?["children"] else { Issue.record("no children"); return }
            func child(_ id: String) -> JSON? { children.first { $0["office_id"] == .string(id) } }
            #expect(child("13101150000")?["latest"]?["version"] == .number("2") && child("13101150000")?["overdue"] == .bool(false))
            #expect(child("13101010000")?["latest"] == nil && child("13101010000")?["overdue"] == .bool(false))
            #expect(figure(parent?["children_aggregate"], "vat", "statistics", "beneficiaries") == .number("2"))
            // After the due date the one not submitted is overdue (2026-05-07 is still in time; 05-08 is not).
            clock.set("2026-05-07T15:00:00Z")  // 23:00 Beijing
            let shanghai2 = try await token(app, "shanghai", "huiqi-supervisor")
            parent = try await call(app, .GET, "/api/v1/reports?period=2026-Q1", token: shanghai2).json
            if case .array(let c)? = parent?["children"] { children = c }
            #expect(child("13101010000")?["overdue"] == .bool(false))
            clock.set("2026-05-07T16:30:00Z")  // 00:30 Beijing on 05-08
            let shanghai3 = try await token(app, "shanghai", "huiqi-supervisor")
            parent = try await call(app, .GET, "/api/v1/reports?period=2026-Q1", token: shanghai3).json
            if case .array(let c)? = parent?["children"] { children = c }
            #expect(child("13101010000")?["overdue"] == .bool(true) && child("13101150000")?["overdue"] == .bool(false))

            // Who: only the office's own staff submit; others see within reach only.
            let pudong2 = try await token(app, "pudong", "huiqi-officer")
            #expect(try await call(app, .POST, "/api/v1/reports", token: shanghai3, body: #"{"office":"13101150000","period":"2026-Q1"}"#).status == .forbidden)
            let huangpu = try await token(app, "huangpu", "huiqi-officer")
            #expect(try await call(app, .POST, "/api/v1/reports", token: huangpu, body: #"{"office":"13101150000","period":"2026-Q1"}"#).status == .notFound)
            #expect(try await call(app, .GET, "/api/v1/reports?period=2026-Q1&office=13101150000", token: huangpu).status == .notFound)
            #expect(try await call(app, .GET, "/api/v1/reports/13101150000/2026-Q1/1", token: huangpu).status == .notFound)
            let admin = try await token(app, "admin", "huiqi-admin")
            #expect(try await call(app, .POST, "/api/v1/reports", token: admin, body: #"{"office":"13101150000","period":"2026-Q1"}"#).status == .forbidden)
            let company = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .GET, "/api/v1/reports?period=2026-Q1", token: company).status == .forbidden)
            #expect(try await call(app, .GET, "/api/v1/reports?period=2026-13", token: pudong2).status == .badRequest)
            #expect(try await call(app, .GET, "/api/v1/reports/13101150000/2026-Q1/3", token: pudong2).status == .notFound)

            // Submitted versions cannot be changed in the database either.
            await #expect(throws: (any Error).self) {
                try await store.db.raw("UPDATE office_reports SET note = 'x' WHERE office_id = '13101150000'").run()
            }

            // The pages: the parent's list with the overdue office and the link to Pudong's version 2; the frozen page.
            var web = WebClient(app: app)
            _ = try await web.login("shanghai", "huiqi-supervisor")
            let page = try await web.request(.GET, "/reports?period=2026-Q1")
            #expect(page.status == .ok && page.body.contains("逾期未报送") && page.body.contains("/reports/13101150000/2026-Q1/2"))
            #expect(!page.body.contains("id=\"report-form\"") || page.body.contains("13100000000"))
            let csv = try await web.request(.GET, "/reports.csv?period=2026-Q1&office=13100000000")
            #expect(csv.body.hasPrefix("\u{FEFF}") && csv.body.contains("逾期未报送") && csv.body.contains("已报送第2版"))
            var pudongWeb = WebClient(app: app)
            let csrf = try await pudongWeb.login("pudong", "huiqi-officer")
            let submitted = try await pudongWeb.request(.POST, "/reports", form: [("csrf", csrf), ("office", "13101150000"), ("period", "2026-Q1"), ("note", "")])
            #expect(submitted.status == .seeOther && submitted.location == "/reports/13101150000/2026-Q1/3")
            let v3 = try await pudongWeb.request(.GET, "/reports/13101150000/2026-Q1/3")
            #expect(v3.status == .ok && v3.body.contains("id=\"frozen\""))
        }
    }

    /// Issue 10's endpoints and pages for every role: outside reach is 404 (reveals nothing), within reach but not
    /// the role's to do is 403, taxpayers have no office view at all.
    @Test(arguments: Backend.allCases)
    func authorizationMatrix(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let o = "office=13101150000"
            let badFile = "统一社会信用代码,名称,市场主体类型,成立日期,注销日期,行业门类,行政区划代码\nx,y,企业,2020-01-01,,F,310115\n"
            typealias Row = (login: String, password: String, expected: [UInt])
            // Columns: the API's statistics, supervision, tasks, reports, registry findings, registry import (a bad
            // file: 422 where allowed, nothing written); then the pages: statistics, supervision, tasks, reports,
            // registries, and the CSV of the registries and of the reports.
            let rows: [Row] = [
                ("admin", "huiqi-admin", [200, 200, 200, 200, 200, 422, 200, 200, 200, 200, 200, 200, 200]),
                ("shanghai", "huiqi-supervisor", [200, 200, 200, 200, 200, 422, 200, 200, 200, 200, 200, 200, 200]),
                ("pudong", "huiqi-officer", [200, 200, 200, 200, 200, 403, 200, 200, 200, 200, 200, 200, 200]),
                ("huangpu", "huiqi-officer", [404, 404, 200, 404, 404, 403, 404, 404, 200, 404, 404, 404, 404]),
                ("suzhou", "huiqi-supervisor", [404, 404, 200, 404, 404, 422, 404, 404, 200, 404, 404, 404, 404]),
                ("company", "huiqi-taxpayer", [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
            ]
            let names = ["statistics", "supervision", "tasks", "reports", "findings", "import", "page statistics", "page supervision", "page tasks",
                         "page reports", "page registries", "registries.csv", "reports.csv"]
            for row in rows {
                let t = try await token(app, row.login, row.password)
                var web = WebClient(app: app)
                _ = try await web.login(row.login, row.password)
                let got: [UInt] = [
                    try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q1&\(o)", token: t).status.code,
                    try await call(app, .GET, "/api/v1/supervision?kind=vat&period=2026-Q1&\(o)", token: t).status.code,
                    try await call(app, .GET, "/api/v1/tasks", token: t).status.code,
                    try await call(app, .GET, "/api/v1/reports?period=2026-Q1&\(o)", token: t).status.code,
                    try await call(app, .GET, "/api/v1/registries/findings?kind=mismatch&year=2025&\(o)", token: t).status.code,
                    try await call(app, .POST, "/api/v1/registries/market/imports", token: t, body: badFile, headers: [("Content-Type", "text/csv")]).status.code,
                    try await web.request(.GET, "/statistics?kind=vat&period=2026-Q1&\(o)").status.code,
                    try await web.request(.GET, "/supervision?kind=vat&period=2026-Q1&\(o)").status.code,
                    try await web.request(.GET, "/tasks").status.code,
                    try await web.request(.GET, "/reports?period=2026-Q1&\(o)").status.code,
                    try await web.request(.GET, "/registries?\(o)").status.code,
                    try await web.request(.GET, "/registries.csv?\(o)").status.code,
                    try await web.request(.GET, "/reports.csv?period=2026-Q1&\(o)").status.code,
                ]
                for (i, name) in names.enumerated() { #expect(got[i] == row.expected[i], "\(row.login) \(name): \(got[i]), expected \(row.expected[i])") }
            }
            for path in ["/api/v1/statistics?kind=vat&period=2026-Q1", "/api/v1/supervision?kind=vat&period=2026-Q1", "/api/v1/tasks",
                         "/api/v1/reports?period=2026-Q1", "/api/v1/registries/findings?kind=mismatch&year=2025"] {
                #expect(try await call(app, .GET, path).status == .unauthorized, "\(path)")
            }
            #expect(try await Store(app.db).count("registry_imports") == 0)
        }
    }
}

