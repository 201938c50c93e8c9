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
            try await configure(app, ServerSettings(database: .sqlite(path: path), demo: true, demoTaxpayers: 60, demoClosedPeriod: false,
                                                    now: { Date(timeIntervalSince1970: 1_780_000_000) }))
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = app.http.server.shared.localAddress?.port ?? 0
            let site = "http://127.0.0.1:\(port)"
            let enterprise = "91310115MA0000001Y"

            // Log in: a wrong password stays on the login page with an error, the right one opens the portal.
            try await browser.open(site + "/login")
            try await browser.type("#login", "company")
            try await browser.type("#password", "wrong")
            try await browser.click("#submit")
            #expect(try await browser.text("#error").contains("用户名或密码错误"))
            try await browser.type("#login", "company")
            try await browser.type("#password", "huiqi-taxpayer")
            try await browser.click("#submit")
            #expect(try await browser.text("#taxpayers").contains(enterprise))
            #expect(try await browser.currentURL().hasSuffix("/taxpayers"))

            // A quarterly VAT return: compute the relief first, then declare and confirm.
            try await browser.open(site + "/taxpayers/\(enterprise)")
            try await browser.click("#file-vat")
            try await browser.type("#period", "2026-Q1")
            try await browser.type("#amount0", "200000.00")
            try await browser.type("#amount1", "50000.00")
            try await browser.click("#special1")
            try await browser.click("#preview")
            #expect(try await browser.text("#computed-tax") == "500.00")
            #expect(try await browser.text("#determination").contains("减免税额"))
            #expect(try await browser.text("#rules").contains("公告"))
            try await browser.click("#submit")
            #expect(try await browser.text("#error").contains("confirm"))
            try await browser.click("#confirm")
            try await browser.click("#submit")
            #expect(try await browser.text("#filed").contains("第 1 版"))
            #expect(try await browser.text("#prompts").contains("申报期限"))

            // Correct it (更正申报): the form comes back filled; a smaller sale gives version 2.
            try await browser.click("#correct")
            try await browser.type("#amount0", "100000.00")
            try await browser.type("#declared_tax", "")
            try await browser.click("#preview")
            // Wait for the computed page before ticking: a click that submits returns before the next page loads.
            #expect(try await browser.text("#computed-tax") == "500.00")
            try await browser.click("#confirm")
            try await browser.click("#submit")
            #expect(try await browser.text("#filed").contains("第 2 版"))
            #expect(try await browser.text("#versions").contains("2"))

            // An EIT prepayment for 2026-Q1: a 小型微利企业 pays 5% of its taxable income.
            try await browser.open(site + "/taxpayers/\(enterprise)/file/eit")
            try await browser.type("#year", "2026")
            try await browser.type("#quarter", "1")
            try await browser.type("#employees_start", "20")
            try await browser.type("#employees_end", "22")
            try await browser.type("#assets_start", "3000000")
            try await browser.type("#assets_end", "3200000")
            try await browser.type("#taxable_income_ytd", "400000")
            try await browser.click("#preview")
            #expect(try await browser.text("#computed-tax") == "20000.00")
            try await browser.click("#confirm")
            try await browser.click("#submit")
            #expect(try await browser.text("#filed").contains("第 1 版"))

            // English on request, remembered for the next page.
            try await browser.open(site + "/taxpayers?lang=en")
            try await browser.open(site + "/taxpayers/\(enterprise)")
            #expect(try await browser.text("#logout") == "Log out")
            #expect(try await browser.text("#returns").contains("eit:2026-Q1"))

            let store = Store(app.db)
            #expect(try await store.versions(taxpayer: enterprise, returnID: "vat:2026-Q1").count == 2)
        } catch {
            Issue.record("browser flow failed: \(error)\npage: \(await browser.pageText().prefix(1500))")
        }
        await browser.quit()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// The administration loop in a browser: the officer drills down the monitoring page, starts a screening and
    /// watches it finish; the taxpayer reads and acknowledges its notice and sees the ledger.
    @Test func officerScreensAndTaxpayerAcknowledgesANotice() async throws {
        let app = try await Application.make(.testing)
        guard let browser = try? await WebDriver.start(client: app.client) else {
            if ProcessInfo.processInfo.environment["HUIQI_REQUIRE_BROWSER"] == "1" { Issue.record("chromedriver is not installed or did not start") }
            try await app.asyncShutdown()
            return
        }
        do {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-browser-\(UUID()).sqlite").path
            try await configure(app, ServerSettings(database: .sqlite(path: path), demo: true, demoTaxpayers: 60, demoClosedPeriod: true,
                                                    now: { Date(timeIntervalSince1970: 1_780_000_000) }))
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let site = "http://127.0.0.1:\(app.http.server.shared.localAddress?.port ?? 0)"
            let enterprise = "91310115MA0000001Y"
            /// The text of an element once it contains `expected` (a click's navigation may still be under way).
            func text(_ css: String, contains expected: String) async -> Bool {
                for _ in 0..<50 {
                    if let t = try? await browser.text(css), t.contains(expected) { return true }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return false
            }
            func login(_ name: String, _ password: String) async throws {
                try await browser.open(site + "/login")
                try await browser.type("#login", name)
                try await browser.type("#password", password)
                try await browser.click("#submit")
                for _ in 0..<30 where !(try await browser.currentURL().hasSuffix("/taxpayers")) { try await Task.sleep(for: .milliseconds(100)) }
            }
            // The officer: monitoring of the district, drill-down to the 税务所, its taxpayers and the chart.
            try await login("pudong", "huiqi-officer")
            try await browser.click("#nav-monitor")
            #expect(await text("#summary", contains: "2026-Q1"))
            #expect(await text("#children", contains: "第一税务所"))
            try await browser.click("#children a")
            #expect(await text("#office-taxpayers", contains: enterprise))
            #expect(try await browser.currentURL().contains("office=13101150100"))
            #expect(await text("#crumbs", contains: "浦东新区"))
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
            #expect(await text("#findings", contains: enterprise))
            try await browser.click("#logout")

            // The taxpayer: its notice (read on opening), acknowledged; the ledger holds the credit; a refund asked.
            try await login("company", "huiqi-taxpayer")
            try await browser.open(site + "/taxpayers/\(enterprise)")
            #expect(await text("#messages", contains: "税务事项通知书"))
            try await browser.click(".notice-link")
            #expect(await text("#notice-state", contains: "已阅读"))
            #expect(await text("#basis", contains: "公告"))
            try await browser.click("#acknowledge")
            #expect(await text("#notice-state", contains: "已签收"))
            try await browser.open(site + "/taxpayers/\(enterprise)")
            #expect(await text("#balance-vat", contains: "元"))
            #expect(await text("#ledger", contains: "多缴税款"))
            try await browser.type("#refund-amount", "1.00")
            try await browser.click("#request-refund")
            #expect(await text("#refunds", contains: "待审核"))
        } catch {
            Issue.record("browser flow failed: \(error)\npage: \(await browser.pageText().prefix(1500))")
        }
        await browser.quit()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
