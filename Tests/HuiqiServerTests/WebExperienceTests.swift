import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// The pages as people use them (issue 9), through the in-process app on both databases: the traps of filing,
/// errors and input, what is due, lists, receipts, exports and the registry pages. The demo's clock is
/// 2026-05-28 (Beijing): 2026-Q1 has ended and its deadline has passed; 2026-Q2 has not ended.
@Suite struct WebExperienceTests {
    static let company = "91310115MA0000001Y", individual = "91310115MA00000022"

    func value(_ body: String, _ id: String) -> String? {
        guard let r = body.range(of: "id=\"\(id)\" value=\"") else { return nil }
        return String(body[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test(arguments: Backend.allCases)
    func filingHasNoTraps(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var web = WebClient(app: app)
            let csrf = try await web.login("company", "huiqi-taxpayer")
            let path = "/taxpayers/\(Self.company)/file/vat"
            let store = Store(app.db)
            let base = [("period", "2026-Q1"), ("kind0", "goods"), ("rate0", "0.03"), ("idempotency_key", "trap-1"), ("csrf", csrf)]
            // 150,000 is under the 300,000 quarterly limit: exempt (4,500.00 relieved), tax 0.00. 450,000 is above it: 1%
            // gives 4,500.00 (公告2023年第19号), which the second computation puts in the declared box.
            let first = try await web.request(.POST, path, form: base + [("amount0", "150000"), ("action", "preview")])
            #expect(value(first.body, "declared_tax") == "0.00")
            #expect(first.body.contains("本季度销售额 150,000.00 元，未超过 300,000.00 元，免征增值税 4,500.00 元。"))
            let second = try await web.request(.POST, path, form: base + [("amount0", "450000"), ("declared_tax", "0.00"), ("computed_tax", "0.00"), ("action", "preview")])
            #expect(value(second.body, "declared_tax") == "4500.00" && second.hiddenValue("computed_tax") == "4500.00", "\(second.body.prefix(300))")
            // The figures changed after the last computation: computed again and shown, not filed.
            let before = try await store.count("return_versions")
            let stale = try await web.request(.POST, path, form: base + [("amount0", "500000"), ("computed_tax", "4500.00"), ("declared_tax", "4500.00"),
                                                                         ("confirm", "on"), ("action", "submit")])
            #expect(stale.status == .conflict && value(stale.body, "declared_tax") == "5000.00" && stale.body.contains("重新计算"))
            #expect(try await store.count("return_versions") == before)
            // A declared figure other than the computed one shows the difference and needs its own confirmation.
            let differs = try await web.request(.POST, path, form: base + [("amount0", "500000"), ("computed_tax", "5000.00"), ("declared_tax", "0.00"),
                                                                           ("confirm", "on"), ("action", "submit")])
            #expect(differs.status == .unprocessableEntity && differs.body.contains("id=\"difference\"") && differs.body.contains("少 5,000.00 元"))
            #expect(differs.body.contains("id=\"confirm_difference\" aria-invalid=\"true\""))
            #expect(try await store.count("return_versions") == before)
            let filed = try await web.request(.POST, path, form: base + [("amount0", "500000"), ("computed_tax", "5000.00"), ("declared_tax", "0.00"),
                                                                         ("confirm", "on"), ("confirm_difference", "on"), ("action", "submit")])
            #expect(filed.status == .ok && filed.body.contains("id=\"filed\"") && filed.body.contains("relief_not_due"))
            // The deadline passed (2026-04-20) and tax is due: a fine and the 滞纳金 are named; no "file soon".
            #expect(filed.body.contains("罚款") && filed.body.contains("滞纳金") && !filed.body.contains("请尽快申报"))
            // The same period on the blank form again: 本期已申报, with the correction as its own path.
            let blank = try await web.request(.GET, path)
            #expect(blank.body.contains("2026年第一季度（已申报）"))
            let again = try await web.request(.POST, path, form: [("period", "2026-Q1"), ("kind0", "goods"), ("rate0", "0.03"), ("amount0", "1"),
                                                                   ("idempotency_key", "trap-2"), ("csrf", csrf), ("action", "preview")])
            #expect(again.status == .conflict && again.body.contains("本期已申报") && again.body.contains("href=\"/taxpayers/\(Self.company)/file/vat?from=vat%3A2026-Q1\""))
            // A correction link opens the form of its own tax: an EIT return asked on the VAT form is sent to the EIT form.
            let eit = try await web.request(.GET, "/taxpayers/\(Self.company)/file/vat?from=eit:2025-Q4")
            #expect(eit.status == .seeOther && eit.location == "/taxpayers/\(Self.company)/file/eit?from=eit%3A2025-Q4")
            let eitForm = try await web.request(.GET, eit.location ?? "")
            #expect(eitForm.body.contains("更正申报：2025年第四季度 企业所得税") && eitForm.body.contains("name=\"period\" value=\"2025-Q4\""))
            // Other relief larger than the tax is refused, naming the field.
            let other = try await web.request(.POST, "/taxpayers/\(Self.individual)/file/business-income",
                                              form: [("period", "2025"), ("correcting", "business_income:2025"), ("taxable_income", "80000"), ("other_relief", "999999"),
                                                     ("action", "preview"), ("csrf", csrf)])
            #expect(other.status == .badRequest && other.body.contains("已享受的其他减免税额") && other.body.contains("大于减免前应纳税额 6500.00 元"))
            #expect(!other.body.contains("0.00 = 0.00"))
        }
    }

    @Test(arguments: Backend.allCases)
    func inputAsPeopleTypeIt(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var web = WebClient(app: app)
            let csrf = try await web.login("company", "huiqi-taxpayer")
            let path = "/taxpayers/\(Self.company)/file/vat"
            // Thousands separators, full-width digits and punctuation, surrounding (ideographic) spaces, a lower-case q.
            for typed in ["450,000.00", "４５０，０００．００", "\u{3000}450000 ", "450,000元"] {
                let r = try await web.request(.POST, path, form: [("period", "2026-q1"), ("kind0", "goods"), ("rate0", "0.03"), ("amount0", typed),
                                                                  ("action", "preview"), ("csrf", csrf)])
                #expect(r.status == .ok && r.body.contains("id=\"computed-tax\">4500.00<"), "\(typed): \(r.status)")
            }
            // Ambiguous grouping is refused, naming the field; an amount too large is named as too large.
            let grouped = try await web.request(.POST, path, form: [("period", "2026-Q1"), ("kind0", "goods"), ("rate0", "0.03"), ("amount0", "45,00"),
                                                                    ("action", "preview"), ("csrf", csrf)])
            #expect(grouped.status == .badRequest && grouped.body.contains("第 1 行 不含税销售额"))
            let huge = try await web.request(.POST, path, form: [("period", "2026-Q1"), ("kind0", "goods"), ("rate0", "0.03"),
                                                                 ("kind1", "goods"), ("rate1", "0.03"), ("amount0", "1"), ("amount1", "99999999999999999"),
                                                                 ("action", "preview"), ("csrf", csrf)])
            #expect(huge.status == .badRequest && huge.body.contains("第 2 行 不含税销售额") && huge.body.contains("过大"))
            // English throughout, the field named as the English form labels it.
            let en = try await web.request(.POST, path + "?lang=en", form: [("period", "2026-Q1"), ("kind0", "goods"), ("rate0", "0.03"), ("amount0", "x"),
                                                                            ("action", "preview"), ("csrf", csrf)])
            #expect(en.body.contains("line 1, sales excl. VAT") && en.body.contains("lang=\"en\""))
            // The language switch on a form resubmits it: the typed figures stay.
            let relang = try await web.request(.POST, path + "?lang=zh", form: [("period", "2026-Q1"), ("kind0", "goods"), ("rate0", "0.03"), ("amount0", "123,456"),
                                                                                ("action", "relang"), ("csrf", csrf)])
            #expect(relang.status == .ok && relang.body.contains("value=\"123,456\"") && relang.body.contains("lang=\"zh-CN\"") && !relang.body.contains("id=\"error\""))
        }
    }

    @Test(arguments: Backend.allCases)
    func whatIsDueAndTheLists(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var taxpayer = WebClient(app: app)
            _ = try await taxpayer.login("company", "huiqi-taxpayer")
            // The taxpayer's home: 2026-Q1 overdue (deadline 2026-04-20 on the official calendar), EIT too; the 个体工商户's
            // April (deadline 2026-05-22) overdue, and nothing filed for 2026 yet.
            let home = try await taxpayer.request(.GET, "/")
            #expect(home.status == .ok && home.body.contains("id=\"todo\""))
            #expect(home.body.contains("2026年第一季度 增值税</td><td>2026年4月20日</td><td><span class=\"state overdue\">已逾期"))
            #expect(home.body.contains("2026年4月 增值税"))
            #expect(home.body.contains("?period=2026-Q1"))
            // An officer's list: the true total, the status of this period's VAT return, filters, pages, an empty search.
            var officer = WebClient(app: app)
            _ = try await officer.login("pudong", "huiqi-officer")
            let all = try await officer.request(.GET, "/taxpayers")
            let store = Store(app.db)
            let total = try await store.taxpayers(inOffices: ["13101150000", "13101150100"], search: nil, limit: 1000).count
            #expect(all.body.contains("共 \(total) 户"), "\(total)")
            #expect(all.body.contains("逾期未申报"))
            let overdue = try await officer.request(.GET, "/taxpayers?status=overdue")
            // The language switch keeps the page's query.
            #expect(overdue.body.contains("href=\"/taxpayers?status=overdue&amp;lang=en\">English</a>"))
            let notFiled = try await officer.request(.GET, "/taxpayers?status=not_filed")
            #expect(overdue.body.contains("共 ") && notFiled.body.contains("class=\"status overdue\""))
            let filed = try await officer.request(.GET, "/taxpayers?status=filed")
            #expect(filed.body.contains("id=\"empty\"") && filed.body.contains("没有符合条件的纳税人"))
            let individuals = try await officer.request(.GET, "/taxpayers?kind=individual_business")
            #expect(individuals.body.contains(Self.individual) && !individuals.body.contains(Self.company))
            let bad = try await officer.request(.GET, "/taxpayers?status=nonsense")
            #expect(bad.status == .badRequest && bad.body.contains("id=\"error\""))
            // CSV: UTF-8 with BOM, Chinese headers, one line per taxpayer.
            let csv = try await officer.request(.GET, "/taxpayers.csv?kind=individual_business")
            #expect(csv.body.hasPrefix("\u{FEFF}统一社会信用代码,名称,类型") && csv.body.contains(Self.individual))
            let returnsCSV = try await taxpayer.request(.GET, "/taxpayers/\(Self.company)/returns.csv")
            #expect(returnsCSV.body.hasPrefix("\u{FEFF}统一社会信用代码,纳税人名称,申报表") && returnsCSV.body.contains("2025年第四季度 增值税"))
        }
    }

    @Test(arguments: Backend.allCases)
    func pagination(_ backend: Backend) async throws {
        guard let location = try await newDatabase(backend) else { return }
        try await withApp(configure: { app in
            var settings = ServerSettings(database: location, demo: true, demoTaxpayers: 130, demoClosedPeriod: false,
                                          now: { Date(timeIntervalSince1970: 1_780_000_000) })
            settings.databaseConnectionsPerLoop = 3
            try await configure(app, settings)
        }) { app in
            var admin = WebClient(app: app)
            _ = try await admin.login("admin", "huiqi-admin")
            let first = try await admin.request(.GET, "/taxpayers")
            #expect(first.body.contains("共 130 户") && first.body.contains("第 1 / 3 页") && first.body.contains("id=\"next-page\""))
            let third = try await admin.request(.GET, "/taxpayers?page=3")
            #expect(third.body.contains("第 3 / 3 页") && !third.body.contains("id=\"next-page\"") && third.body.contains("id=\"prev-page\""))
            #expect(third.body.components(separatedBy: "<tr><td><a href=\"/taxpayers/").count - 1 == 30)
        }
        await dropDatabase(location)  // as `withHuiqi` does: one whose body threw stays, to be looked at
    }

    @Test(arguments: Backend.allCases)
    func receiptsAndVerification(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var web = WebClient(app: app)
            _ = try await web.login("company", "huiqi-taxpayer")
            let receipt = try await web.request(.GET, "/taxpayers/\(Self.company)/returns/vat%3A2025-Q4/versions/1/receipt")
            #expect(receipt.status == .ok && receipt.body.contains("申报回执") && receipt.body.contains("2025年第四季度 增值税"))
            let code = receipt.body.range(of: "id=\"verification-code\">").map { String(receipt.body[$0.upperBound...].prefix(19)) } ?? ""
            #expect(code.count == 19)
            var anyone = WebClient(app: app)
            let ok = try await anyone.request(.GET, "/verify?taxpayer=\(Self.company)&code=\(code)")
            #expect(ok.body.contains("验证通过") && ok.body.contains("2025年第四季度 增值税"))
            let wrong = try await anyone.request(.GET, "/verify?taxpayer=\(Self.company)&code=0000-0000-0000-0000")
            #expect(wrong.body.contains("未找到"))
            let pdf = try await web.request(.GET, "/taxpayers/\(Self.company)/returns/vat%3A2025-Q4/versions/1/receipt.pdf")
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/weasyprint") {
                #expect(pdf.status == .ok && pdf.body.hasPrefix("%PDF"))
            } else {
                #expect(ProcessInfo.processInfo.environment["HUIQI_REQUIRE_PDF"] != "1", "weasyprint is not installed")
                #expect(pdf.status == .serviceUnavailable)
            }
            // Out of reach is 404, as for the return itself.
            var other = WebClient(app: app)
            _ = try await other.login("huangpu", "huiqi-officer")
            #expect(try await other.request(.GET, "/taxpayers/\(Self.company)/returns/vat%3A2025-Q4/versions/1/receipt").status == .notFound)
        }
    }

    @Test(arguments: Backend.allCases)
    func unknownPagesAndErrorsSpeakTheUsersLanguage(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var web = WebClient(app: app)
            let zh = try await web.request(.GET, "/no-such-page")
            #expect(zh.status == .notFound && zh.body.contains("<html lang=\"zh-CN\"") && zh.body.contains("没有这个页面"))
            let en = try await web.request(.GET, "/no-such-page?lang=en")
            #expect(en.status == .notFound && en.body.contains("There is no such page"))
            let api = try await web.request(.GET, "/api/v1/nothing")
            #expect(api.status == .notFound && api.body.hasPrefix("{"))
            // A supervisor is read-only: the 403 page says so in Chinese.
            var supervisor = WebClient(app: app)
            _ = try await supervisor.login("shanghai", "huiqi-supervisor")
            let forbidden = try await supervisor.request(.GET, "/taxpayers/\(Self.company)/file/vat")
            #expect(forbidden.status == .forbidden && forbidden.body.contains("您的账号无权进行此操作") && forbidden.body.contains("该账号只能查看申报表"))
            // After login, a deep link returns to its page.
            var later = WebClient(app: app)
            let redirect = try await later.request(.GET, "/taxpayers/\(Self.company)?lang=zh")
            let loginPage = try await later.request(.GET, redirect.location ?? "")
            let r = try await later.request(.POST, "/login", form: [("csrf", loginPage.hiddenValue("csrf") ?? ""), ("next", loginPage.hiddenValue("next") ?? ""),
                                                                    ("login", "company"), ("password", "huiqi-taxpayer")])
            #expect(r.location == "/taxpayers/\(Self.company)?lang=zh")
            // Another host is never a target.
            let evil = try await later.request(.GET, "/login?next=//evil.example/")
            #expect(evil.hiddenValue("next") == "/")
        }
    }

    @Test(arguments: Backend.allCases)
    func registryPages(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            var officer = WebClient(app: app)
            let csrf = try await officer.login("pudong", "huiqi-officer")
            // Register a taxpayer through the form; a bad credit code names the field.
            let body = "91310115MA9WEB00"
            let code = body + "0" + String(CreditCode.checkCharacter(for: body + "0")!)
            let fields = [("kind", "enterprise"), ("vat_status", "small_scale"), ("industry", "other"), ("region", "310115"),
                          ("office_id", "13101150100"), ("registered_on", "2026-01-05"), ("csrf", csrf)]
            let bad = try await officer.request(.POST, "/admin/taxpayers/new", form: [("id", "123"), ("name", "网页登记有限公司")] + fields)
            #expect(bad.status == .badRequest && bad.body.contains("统一社会信用代码") && bad.body.contains("id=\"id\" value=\"123\" placeholder=\"\" aria-invalid=\"true\""))
            let ok = try await officer.request(.POST, "/admin/taxpayers/new", form: [("id", code), ("name", "网页登记有限公司")] + fields)
            #expect(ok.status == .seeOther && ok.location == "/taxpayers/\(code)")
            // Record the year's filing frequency, then edit the registration: the history keeps both states.
            #expect(try await officer.request(.POST, "/taxpayers/\(code)/frequencies", form: [("year", "2026"), ("frequency", "quarterly"), ("csrf", csrf)]).status == .seeOther)
            let twice = try await officer.request(.POST, "/taxpayers/\(code)/frequencies", form: [("year", "2026"), ("frequency", "monthly"), ("csrf", csrf)])
            #expect(twice.status == .conflict && twice.body.contains("不得变更"))
            let noReason = try await officer.request(.POST, "/taxpayers/\(code)/edit", form: [("name", "网页登记科技有限公司")] + fields)
            #expect(noReason.status == .badRequest && noReason.body.contains("变更原因"))
            let edited = try await officer.request(.POST, "/taxpayers/\(code)/edit", form: [("name", "网页登记科技有限公司"), ("reason", "名称变更")] + fields)
            #expect(edited.status == .seeOther)
            let page = try await officer.request(.GET, "/taxpayers/\(code)")
            #expect(page.body.contains("网页登记科技有限公司") && page.body.contains("id=\"history-table\"") && page.body.contains("名称变更") && page.body.contains("按季"))
            let history = try await store.taxpayerVersions(code)
            #expect(history.map(\.name) == ["网页登记有限公司", "网页登记科技有限公司"] && history.map(\.version) == [1, 2])
            #expect(try await store.auditCount(action: "edit_taxpayer") == 1)
            // Accounts: an officer creates a taxpayer account bound to its taxpayer, never a staff account.
            let user = try await officer.request(.POST, "/admin/users", form: [("login", "web-owner"), ("password", "a-long-password"), ("role", "taxpayer"),
                                                                               ("display_name", "办税员"), ("taxpayers", code), ("csrf", csrf)])
            #expect(user.status == .seeOther)
            let staff = try await officer.request(.POST, "/admin/users", form: [("login", "web-officer"), ("password", "a-long-password"), ("role", "officer"),
                                                                                ("office_id", "13101150100"), ("csrf", csrf)])
            #expect(staff.status == .forbidden)
            var owner = WebClient(app: app)
            _ = try await owner.login("web-owner", "a-long-password")
            #expect(try await owner.request(.GET, "/").body.contains("网页登记科技有限公司"))
            // Out of reach: a Huangpu taxpayer cannot be bound by the Pudong officer.
            let huangpu = try await store.taxpayers(inOffices: ["13101010100"], search: nil, limit: 1)[0].id
            let owned = try await store.user(login: "web-owner")!
            let outside = try await officer.request(.POST, "/admin/users/\(owned.id)/bindings", form: [("taxpayer", huangpu), ("op", "bind"), ("csrf", csrf)])
            #expect(outside.status == .badRequest && outside.body.contains("不在您的管辖范围内"))
            // Offices: only administrators change the tree.
            #expect(try await officer.request(.POST, "/admin/offices", form: [("op", "create"), ("parent_id", "13101150000"), ("id", "13101150200"),
                                                                              ("name", "第二税务所"), ("level", "branch"), ("region_code", "310115"), ("csrf", csrf)]).status == .forbidden)
            var admin = WebClient(app: app)
            let adminCSRF = try await admin.login("admin", "huiqi-admin")
            #expect(try await admin.request(.POST, "/admin/offices", form: [("op", "create"), ("parent_id", "13101150000"), ("id", "13101150200"),
                                                                            ("name", "浦东新区税务局第二税务所"), ("level", "branch"), ("region_code", "310115"), ("csrf", adminCSRF)]).status == .seeOther)
            #expect(try await admin.request(.GET, "/admin/offices").body.contains("浦东新区税务局第二税务所"))
            // Administrators create staff: an officer needs an office; an administrator has none (the users CHECK).
            let noOffice = try await admin.request(.POST, "/admin/users", form: [("login", "web-officer"), ("password", "a-long-password"), ("role", "officer"), ("csrf", adminCSRF)])
            #expect(noOffice.status == .badRequest && noOffice.body.contains("所属税务机关"))
            for (login, role) in [("web-officer", "officer"), ("web-admin", "administrator")] {
                let made = try await admin.request(.POST, "/admin/users", form: [("login", login), ("password", "a-long-password"), ("role", role),
                                                                                 ("office_id", "13101150200"), ("display_name", "第二税务所"), ("csrf", adminCSRF)])
                #expect(made.status == .seeOther, "\(role): \(made.status)")
            }
            let madeOfficer = try await store.user(login: "web-officer"), madeAdmin = try await store.user(login: "web-admin")
            #expect(madeOfficer?.office_id == "13101150200" && madeAdmin != nil && madeAdmin?.office_id == nil)
            var newOfficer = WebClient(app: app)
            _ = try await newOfficer.login("web-officer", "a-long-password")
            #expect(try await newOfficer.request(.GET, "/taxpayers").body.contains("共 0 户"))
            // Supervisors and taxpayers do not keep the registry.
            var supervisor = WebClient(app: app)
            _ = try await supervisor.login("shanghai", "huiqi-supervisor")
            #expect(try await supervisor.request(.GET, "/admin").status == .forbidden)
            #expect(try await owner.request(.GET, "/admin/users").status == .forbidden)
        }
    }
}
