import Foundation
import HuiqiServer
import HuiqiStore
import Testing
import Vapor

/// The web pages in a real browser: headless Chromium (Debian's `chromium`), driven through `chromedriver`,
/// against the app listening on a loopback port with a real SQLite database. No JavaScript is involved: the
/// pages are plain forms. `.ci/run` installs both packages and sets HUIQI_REQUIRE_BROWSER=1, so a missing
/// browser fails CI instead of skipping.
@Suite(.serialized) struct BrowserTests {
    @Test func taxpayerFilesVATAndEITAndCorrectsAReturn() async throws {
        try await withBrowser(closedPeriod: false) { app, browser, site in
            let enterprise = "91310115MA0000001Y"

            // Log in: a wrong password stays on the login page with an error, the right one opens the portal.
            try await browser.open(site + "/login")
            try await browser.type("#login", "company")
            try await browser.type("#password", "wrong")
            try await browser.click("#submit")
            #expect(await browser.eventually("#error", contains: "用户名或密码错误"))
            try await browser.type("#login", "company")
            try await browser.type("#password", "huiqi-taxpayer")
            try await browser.click("#submit")
            // A taxpayer's first page is what is due (待办).
            #expect(await browser.eventually("#todo", contains: "2026年第一季度 增值税"))
            #expect(try await browser.currentURL().hasSuffix("/"))

            // A quarterly VAT return: compute the relief first, then declare and confirm.
            try await browser.open(site + "/taxpayers/\(enterprise)")
            try await browser.click("#file-vat")
            try await browser.click("#period option[value='2026-Q1']")
            try await browser.type("#amount0", "200000.00")
            try await browser.type("#amount1", "50000.00")
            try await browser.click("#special1")
            try await browser.click("#preview")
            #expect(await browser.eventually("#computed-tax", contains: "500.00"))
            #expect(await browser.eventually("#determination", contains: "减免税额"))
            #expect(await browser.eventually("#rules", contains: "公告"))
            try await browser.click("#submit")
            #expect(await browser.eventually("#error", contains: "请勾选确认"))
            try await browser.click("#confirm")
            try await browser.click("#submit")
            #expect(await browser.eventually("#filed", contains: "第 1 版"))
            #expect(await browser.eventually("#prompts", contains: "申报期限"))
            // Filed after the deadline with 500.00 due: a possible fine and the late-payment surcharge, no "file soon".
            let prompts = try await browser.text("#prompts")
            #expect(prompts.contains("罚款") && prompts.contains("滞纳金") && !prompts.contains("请尽快申报"))

            // Correct it (更正申报): the form comes back filled; a smaller sale gives version 2.
            try await browser.click("#correct")
            try await browser.type("#amount0", "100000.00")
            try await browser.type("#declared_tax", "")
            try await browser.click("#preview")
            // Wait for the computed page before ticking: a click that submits returns before the next page loads.
            #expect(await browser.eventually("#computed-tax", contains: "500.00"))
            try await browser.click("#confirm")
            try await browser.click("#submit")
            #expect(await browser.eventually("#filed", contains: "第 2 版"))
            #expect(await browser.eventually("#versions", contains: "2"))

            // An EIT prepayment for 2026-Q1: a 小型微利企业 pays 5% of its taxable income.
            try await browser.open(site + "/taxpayers/\(enterprise)/file/eit")
            try await browser.click("#period option[value='2026-Q1']")
            try await browser.type("#employees_start", "20")
            try await browser.type("#employees_end", "22")
            try await browser.type("#assets_start", "3000000")
            try await browser.type("#assets_end", "3200000")
            try await browser.type("#taxable_income_ytd", "400,000")
            try await browser.click("#preview")
            #expect(await browser.eventually("#computed-tax", contains: "20000.00"))
            #expect(await browser.eventually("#summary-sentence", contains: "符合小型微利企业条件"))
            try await browser.click("#confirm")
            try await browser.click("#submit")
            #expect(await browser.eventually("#filed", contains: "第 1 版"))

            // English on request, remembered for the next page.
            try await browser.open(site + "/taxpayers?lang=en")
            try await browser.open(site + "/taxpayers/\(enterprise)")
            #expect(await browser.eventually("#logout", contains: "Log out"))
            #expect(await browser.eventually("#returns", contains: "EIT prepayment, 2026 Q1"))

            let store = Store(app.db)
            #expect(try await store.versions(taxpayer: enterprise, returnID: "vat:2026-Q1").count == 2)
        }
    }

    /// The administration loop in a browser: the officer drills down the monitoring page, starts a screening and
    /// watches it finish; the taxpayer reads and acknowledges its notice and sees the ledger.
    @Test func officerScreensAndTaxpayerAcknowledgesANotice() async throws {
        try await withBrowser(closedPeriod: true) { _, browser, site in
            let enterprise = "91310115MA0000001Y"
            // The officer: monitoring of the district, drill-down to the 税务所, its taxpayers and the chart.
            try await browser.signIn(site, "pudong", "huiqi-officer")
            try await browser.click("#nav-monitor")
            #expect(await browser.eventually("#summary", contains: "2026年第一季度"))
            #expect(await browser.eventually("#children", contains: "第一税务所"))
            try await browser.click("#children a")
            #expect(await browser.eventually("#office-taxpayers", contains: enterprise))
            #expect(try await browser.currentURL().contains("office=13101150100"))
            #expect(await browser.eventually("#crumbs", contains: "浦东新区"))
            #expect(try await browser.element("#progress-chart") != "")
            // Screening EIT for the closed quarter: the job page shows progress, then the findings.
            try await browser.open(site + "/monitor?kind=vat&period=2026-Q1&office=13101150100")
            try await browser.click("#start-screening")
            var jobURL = ""
            for _ in 0..<20 where !jobURL.contains("/jobs/") {
                jobURL = try await browser.currentURL()
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(jobURL.contains("/jobs/"))
            var state = ""
            for _ in 0..<40 {
                state = try await browser.text("#job-state")
                if state == "已完成" { break }
                try await Task.sleep(for: .milliseconds(500))
                try await browser.open(jobURL)
            }
            #expect(state == "已完成")
            #expect(Int(try await browser.text("#count-overpaid")) ?? 0 > 0)
            #expect(await browser.eventually("#findings", contains: enterprise))
            try await browser.click("#logout")

            // The taxpayer: its notice (read on opening), acknowledged; the ledger holds the credit; a refund asked.
            try await browser.signIn(site, "company", "huiqi-taxpayer")
            try await browser.open(site + "/taxpayers/\(enterprise)")
            #expect(await browser.eventually("#messages", contains: "税务事项通知书"))
            try await browser.click(".notice-link")
            #expect(await browser.eventually("#notice-state", contains: "已阅读"))
            #expect(await browser.eventually("#basis", contains: "公告"))
            try await browser.click("#acknowledge")
            #expect(await browser.eventually("#notice-state", contains: "已签收"))
            try await browser.open(site + "/taxpayers/\(enterprise)")
            #expect(await browser.eventually("#balance-vat", contains: "元"))
            #expect(await browser.eventually("#ledger", contains: "多缴税款"))
            try await browser.type("#refund-amount", "1.00")
            try await browser.click("#request-refund")
            #expect(await browser.eventually("#refunds", contains: "待审核"))
        }
    }

    /// Issue 10 in a browser: a district submits its report and Shanghai sees it beside an overdue district; Shanghai
    /// uploads a registry file with a bad row (refused, the row named), then a good one, and turns a finding into a
    /// rectification task for the office responsible, which the office reports on and the supervisor closes.
    @Test func reportsRegistryImportAndATaskFromAFinding() async throws {
        try await withBrowser(closedPeriod: true) { _, browser, site in
            try await browser.signIn(site, "pudong", "huiqi-officer")
            try await browser.open(site + "/reports?period=2026-Q1")
            try await browser.click("#submit-report")
            #expect(await browser.eventually("#report-version", contains: "报送"))
            #expect(try await browser.currentURL().hasSuffix("/reports/13101150000/2026-Q1/1"))
            try await browser.click("#logout")

            try await browser.signIn(site, "shanghai", "huiqi-supervisor")
            try await browser.click("#nav-reports")
            try await browser.open(site + "/reports?period=2026-Q1")
            #expect(await browser.eventually("#children", contains: "已报送第 1 版"))
            #expect(await browser.eventually("#children", contains: "逾期未报送"))

            let header = "统一社会信用代码,名称,市场主体类型,成立日期,注销日期,行业门类,行政区划代码\n"
            let dir = FileManager.default.temporaryDirectory
            let bad = dir.appendingPathComponent("market-bad-\(UUID()).csv"), good = dir.appendingPathComponent("market-\(UUID()).csv")
            try (header + "91310115MA1NEW001L,上海新开贸易有限公司,企业,2026-02-30,,F,310115\n").write(to: bad, atomically: true, encoding: .utf8)
            try (header + "91310115MA1NEW001L,上海新开贸易有限公司,企业,2026-03-02,,F,310115\n").write(to: good, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: bad); try? FileManager.default.removeItem(at: good) }
            try await browser.click("#nav-registries")
            #expect(await browser.eventually("#comparison-summary", contains: "比对"))
            try await browser.type("#file", bad.path)
            try await browser.click("#import")
            #expect(await browser.eventually("#import-result", contains: "未导入"))
            #expect(await browser.eventually("#import-errors", contains: "registered_on"))
            try await browser.type("#file", good.path)
            try await browser.click("#import")
            #expect(await browser.eventually("#import-result", contains: "已导入"))
            #expect(await browser.eventually("#findings", contains: "91310115MA1NEW001L"))
            try await browser.click("#findings .assign-task")
            for _ in 0..<30 where !(try await browser.currentURL().contains("/tasks")) { try await Task.sleep(for: .milliseconds(100)) }
            let title = try await browser.execute("return document.getElementById('title').value") as? String ?? ""
            #expect(title.contains("91310115MA1NEW001L") && title.contains("未办理税务登记"))
            try await browser.click("#assign")
            #expect(await browser.eventually("#task-state", contains: "整改中"))
            // The office reports what it did; the supervisor closes the task.
            let task = try await browser.currentURL()
            #expect(task.contains("/tasks/"))
            try await browser.click("#logout")
            try await browser.signIn(site, "pudong", "huiqi-officer")
            try await browser.open(task)
            try await browser.type("#note", "已核实：该企业已于本月办理税务登记")
            try await browser.click("#task-report")
            #expect(await browser.eventually("#task-state", contains: "已报告"))
            try await browser.click("#logout")
            try await browser.signIn(site, "shanghai", "huiqi-supervisor")
            try await browser.open(task)
            try await browser.type("#note", "确认整改完成")
            try await browser.click("#task-close")
            #expect(await browser.eventually("#task-state", contains: "已关闭"))
            #expect(await browser.eventually("#task-events", contains: "已核实"))
        }
    }

    /// The main pages at phone width (390 px) in both languages: nothing makes the page scroll sideways, and an
    /// error moves the focus to its field. Then axe-core (from PyPI, fetched by scripts/axe) checks each page
    /// against WCAG 2.1 A and AA: no serious or critical violation.
    @Test func phonesAndAccessibility() async throws {
        try await withBrowser(closedPeriod: true) { _, browser, site in
            let enterprise = "91310115MA0000001Y"
            let axePath = ProcessInfo.processInfo.environment["HUIQI_AXE_JS"] ?? ".build/axe/axe.min.js"
            let axe = try? String(contentsOfFile: axePath, encoding: .utf8)
            if axe == nil, ProcessInfo.processInfo.environment["HUIQI_REQUIRE_BROWSER"] == "1" { Issue.record("axe-core not found at \(axePath) (scripts/axe fetches it)") }
            func login(_ name: String, _ password: String) async throws {
                try await browser.open(site + "/login")
                try await browser.type("#login", name)
                try await browser.type("#password", password)
                try await browser.click("#submit")
                for _ in 0..<30 where try await browser.currentURL().hasSuffix("/login") { try await Task.sleep(for: .milliseconds(100)) }
            }
            /// The page fits the window's width: no horizontal scrolling of the page itself.
            func fits(_ url: String) async throws {
                try await browser.open(url)
                _ = try await browser.element("main")
                let overflow = try await browser.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth") as? Int ?? -1
                #expect(overflow == 0, "\(url) overflows by \(overflow) px at phone width")
            }
            /// axe-core's serious and critical violations of the page.
            func audit(_ url: String) async throws {
                guard let axe else { return }
                try await browser.open(url)
                _ = try await browser.element("main")
                _ = try await browser.execute(axe + "\nreturn true;")
                let found = try await browser.execute("""
                    const done = arguments[arguments.length - 1];
                    axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => done(
                      r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))));
                    """, async: true) as? [String] ?? ["axe did not answer"]
                #expect(found.isEmpty, "\(url): \(found)")
            }
            let officerPages = ["/taxpayers", "/taxpayers?status=overdue", "/taxpayers/\(enterprise)", "/monitor", "/statistics?kind=vat&period=2026-Q1",
                                "/statistics?kind=vat&period=2026-Q1&by=region", "/supervision?kind=vat&period=2026-Q1", "/tasks", "/reports?period=2026-Q1", "/registries", "/admin", "/admin/users",
                                "/admin/offices", "/admin/taxpayers/new", "/taxpayers/\(enterprise)/edit", "/complaints", "/kb/review", "/kb/new",
                                "/kb/entries/vat-threshold-2026", "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&population=20000"]
            let taxpayerPages = ["/", "/taxpayers/\(enterprise)", "/taxpayers/\(enterprise)/file/vat", "/taxpayers/\(enterprise)/file/eit",
                                 "/taxpayers/\(enterprise)/returns/vat%3A2026-Q1", "/taxpayers/\(enterprise)/returns/vat%3A2026-Q1/versions/1/receipt",
                                 "/no-such-page", "/complaints"]
            let publicPages = ["/portal", "/portal/check?kind=enterprise&period=2026-Q1&sales3=280000&sales3s=50000", "/kb?q=%E5%85%8D%E7%A8%8E",
                               "/kb/entries/vat-law-2026-what-changed"]
            try await browser.resize(width: 390, height: 844)
            try await browser.open(site + "/login")
            try await fits(site + "/login")
            try await fits(site + "/verify")
            for lang in ["en", "zh"] {
                try await browser.open(site + "/portal?lang=\(lang)")
                for page in publicPages { try await fits(site + page) }
            }
            try await browser.resize(width: 1280, height: 900)
            for page in publicPages { try await audit(site + page) }
            try await browser.resize(width: 390, height: 844)
            try await login("company", "huiqi-taxpayer")
            for lang in ["en", "zh"] {
                try await browser.open(site + "/?lang=\(lang)")
                for page in taxpayerPages { try await fits(site + page) }
            }
            // An error names the field, marks it and moves the focus to it (no script: the autofocus attribute).
            try await browser.open(site + "/taxpayers/\(enterprise)/file/vat")
            try await browser.type("#amount0", "12.345")
            try await browser.click("#preview")
            #expect(try await browser.text("#error").contains("第 1 行 不含税销售额"))
            #expect(try await browser.focusedID() == "amount0")
            try await fits(try await browser.currentURL())
            try await browser.resize(width: 1280, height: 900)
            for page in taxpayerPages { try await audit(site + page) }
            try await browser.click("#logout")
            try await login("pudong", "huiqi-officer")
            try await browser.resize(width: 390, height: 844)
            for lang in ["en", "zh"] {
                try await browser.open(site + "/taxpayers?lang=\(lang)")
                for page in officerPages { try await fits(site + page) }
            }
            try await browser.resize(width: 1280, height: 900)
            for page in officerPages { try await audit(site + page) }
            // The statistics page: the chart drawn on the server, a line per child office, the CSV link.
            try await browser.click("#nav-statistics")
            #expect(await browser.eventually("#statistics-total", contains: "%"))
            #expect(try await browser.element("#statistics-chart rect") != "")
            #expect(try await browser.text("#statistics").contains("浦东新区税务局第一税务所"))
            #expect(try await browser.element("#statistics-csv") != "")
        }
    }

    /// Issue 11 in the browser: the portal's self-check in both languages (a missing figure named), a knowledge-base
    /// search with highlighted results, a complaint from the taxpayer's form to the office's resolution and the
    /// taxpayer's confirmation, and the agent's list with an overdue complaint marked.
    @Test func portalSearchAndComplaintDesk() async throws {
        try await withBrowser(closedPeriod: true) { app, browser, site in
            try await browser.open(site + "/portal/check")
            try await browser.type("#period", "2026-Q1")
            try await browser.type("#sales3", "280000")
            try await browser.type("#sales3s", "50000")
            try await browser.click("#check-go")
            #expect(await browser.eventually("#check-results", contains: "应纳增值税 3,300.00 元"))
            try await browser.click("#lang-switch")
            #expect(await browser.eventually("#check-results", contains: "3,300.00"))
            #expect(try await browser.text("h1") == "Self-check")
            try await browser.open(site + "/portal/check?lang=zh&kind=individual_business&bi_year=2025&bi_income=80000")
            #expect(await browser.eventually("#check-results", contains: "business_income.other_relief"))
            try await browser.open(site + "/portal")
            #expect(await browser.eventually("#pref-eit", contains: "财政部 税务总局公告2023年第12号"))

            try await browser.open(site + "/kb")
            try await browser.type("#q", "季度销售额 免税")
            try await browser.click("#kb-go")
            #expect(await browser.eventually("#kb-results", contains: "免"))
            #expect(try await browser.element("#kb-results mark") != "")

            // The complaint: the taxpayer files it, the office resolves it, the taxpayer confirms.
            try await browser.signIn(site, "company", "huiqi-taxpayer")
            try await browser.open(site + "/complaints")
            try await browser.type("#text", "一季度销售额28万元，申报时没有给我免税。")
            try await browser.type("#contact", "13800000000")
            try await browser.click("#complain")
            #expect(await browser.eventually("#complaint-state", contains: "办理中"))
            let url = try await browser.currentURL()
            #expect(try await browser.text("#complaint-due").contains("2026"))
            try await browser.click("#logout")
            try await browser.signIn(site, "pudong", "huiqi-officer")
            try await browser.open(url)
            try await browser.type("#note", "已核实，已更正申报并退还多缴税款。")
            try await browser.click("#resolve")
            #expect(await browser.eventually("#complaint-state", contains: "已办结"))
            try await browser.click("#logout")
            try await browser.signIn(site, "company", "huiqi-taxpayer")
            try await browser.open(url)
            try await browser.click("#confirm")
            #expect(await browser.eventually("#complaint-state", contains: "已确认"))
            #expect(try await browser.text("#complaint-events").contains("满意度 5/5"))
            try await browser.click("#logout")

            // An older complaint past its due date: the agent's list marks it overdue.
            let store = Store(app.db)
            let old = ComplaintRow(id: "TS-OLD00001", taxpayer_id: "91310115MA0000001Y", office_id: "13101150100", category: "service", channel: "phone",
                                   text: "来电：办税服务厅排队太久。", contact: "021-0000", received_at: "2026-05-20T02:00:00Z", clock_from: "2026-05-20",
                                   due_on: "2026-05-25", created_by: "user-pudong")
            try await store.db.insert(into: "complaints").model(old).run()
            _ = try await Store.appendComplaintEvent(ComplaintEventRow(taxpayer_id: old.taxpayer_id, complaint_id: old.id, seq: 0, kind: "received", at: old.received_at, actor: "user-pudong",
                                                                       office_id: old.office_id, due_on: old.due_on, note: ""), on: store.db)
            try await browser.signIn(site, "pudong", "huiqi-officer")
            try await browser.click("#nav-complaints")
            #expect(await browser.eventually("#complaints-summary", contains: "逾期 1 件"))
            #expect(try await browser.text("#complaints tr.overdue").contains("TS-OLD00001"))
        }
    }

    /// Starts headless Chromium and the app with the demo (60 taxpayers, the clock at 2026-05-28) on a loopback
    /// port and a new SQLite file, runs `body`, and stops both. A browser that cannot start skips the test, except
    /// in CI (HUIQI_REQUIRE_BROWSER=1); a failure inside `body` is recorded with the page's text.
    func withBrowser(closedPeriod: Bool, _ body: (Application, WebDriver, String) async throws -> Void) async throws {
        let app = try await Application.make(.testing)
        let browser: WebDriver
        do {
            guard let started = try await WebDriver.start(client: app.client) else {
                if ProcessInfo.processInfo.environment["HUIQI_REQUIRE_BROWSER"] == "1" { Issue.record("chromedriver is not installed") }
                try await app.asyncShutdown()
                return
            }
            browser = started
        } catch {
            Issue.record("could not start headless Chromium: \(error)")
            try await app.asyncShutdown()
            return
        }
        do {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-browser-\(UUID()).sqlite").path
            var settings = ServerSettings(database: .sqlite(path: path), demo: true, demoTaxpayers: 60, demoClosedPeriod: closedPeriod,
                                          now: { Date(timeIntervalSince1970: 1_780_000_000) })
            settings.seedKnowledge = true
            try await configure(app, settings)
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            try await body(app, browser, "http://127.0.0.1:\(app.http.server.shared.localAddress?.port ?? 0)")
        } catch {
            Issue.record("browser flow failed: \(error)\npage: \(await browser.pageText().prefix(1500))")
        }
        await browser.quit()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
