import Foundation
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// A browser without a browser: the web pages through the in-process app, with cookies and forms, on both
/// databases. The real-browser flows are in BrowserTests.
struct WebClient {
    let app: Application
    var cookies: [String: String] = [:]
    /// The Cookie header this client sends.
    var cookie: String { cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    mutating func request(_ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil) async throws -> Reply {
        var headers = HTTPHeaders()
        if !cookies.isEmpty { headers.add(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        var body = ByteBuffer()
        if let form {
            headers.contentType = .urlEncodedForm
            body = ByteBuffer(string: form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
        }
        let r = try await app.testing().performTest(request: TestingHTTPRequest(method: method, url: .init(path: path), headers: headers, body: body))
        for c in r.headers[.setCookie] {
            let pair = c.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { cookies[pair[0]] = pair[1].isEmpty ? nil : pair[1] }
        }
        return Reply(status: r.status, body: String(buffer: r.body), location: r.headers.first(name: .location))
    }

    /// Logs in through the form and returns the CSRF token found on the next page's forms.
    mutating func login(_ login: String, _ password: String) async throws -> String {
        let form = try await request(.GET, "/login")
        let r = try await request(.POST, "/login", form: [("csrf", form.hiddenValue("csrf") ?? ""), ("login", login), ("password", password)])
        #expect(r.status == .seeOther, "login \(login): \(r.status)")
        let page = try await request(.GET, "/taxpayers")
        return page.hiddenValue("csrf") ?? ""
    }
}

extension Reply {
    init(status: HTTPStatus, body: String, location: String?) { self.init(status: status, body: body); self.location = location }
    /// The value of a hidden input, as a browser would submit it.
    func hiddenValue(_ name: String) -> String? {
        guard let r = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(body[r.upperBound...].prefix { $0 != "\"" })
    }
}

@Suite struct WebTests {
    @Test(arguments: Backend.allCases)
    func filingThroughTheFormsChecksCSRFAndConfirmation(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var web = WebClient(app: app)
            #expect(try await web.request(.GET, "/taxpayers").location == "/login?next=%2Ftaxpayers")
            let csrf = try await web.login("company", "huiqi-taxpayer")
            #expect(csrf.count == 64)
            let tp = "91310115MA0000001Y"
            let page = try await web.request(.GET, "/taxpayers/\(tp)/file/vat")
            #expect(page.status == .ok && page.body.contains("增值税"))
            // The period is chosen, newest first, from the periods it can file: 2026-Q1 ended, Q2 has not.
            #expect(page.body.contains("<option value=\"2026-Q1\" selected>") && !page.body.contains("value=\"2026-Q2\""))
            #expect(!page.body.contains("更正申报："))
            let key = page.hiddenValue("idempotency_key") ?? ""
            let form = [("period", "2026-Q1"), ("kind0", "goods"), ("amount0", "200000.00"), ("rate0", "0.03"),
                        ("kind1", "goods"), ("amount1", "50000.00"), ("rate1", "0.03"), ("special1", "on"), ("idempotency_key", key)]
            // Without the session's CSRF token the form is refused and nothing is stored.
            let store = Store(app.db)
            let before = try await store.count("return_versions")
            let forged = try await web.request(.POST, "/taxpayers/\(tp)/file/vat", form: form + [("action", "submit"), ("confirm", "on"), ("declared_tax", "500.00"), ("csrf", "0")])
            #expect(forged.status == .forbidden)
            // Preview: the relief, its sources and the computed tax, which the declared box now holds; nothing stored.
            let preview = try await web.request(.POST, "/taxpayers/\(tp)/file/vat", form: form + [("action", "preview"), ("csrf", csrf)])
            #expect(preview.status == .ok && preview.body.contains("id=\"computed-tax\">500.00<"))
            #expect(preview.body.contains("id=\"declared_tax\" value=\"500.00\"") && preview.hiddenValue("computed_tax") == "500.00")
            #expect(try await store.count("return_versions") == before)
            // Submit without the confirmation: a form error naming the field as the form labels it.
            let unconfirmed = try await web.request(.POST, "/taxpayers/\(tp)/file/vat", form: form + [("action", "submit"), ("computed_tax", "500.00"), ("declared_tax", "500.00"), ("csrf", csrf)])
            #expect(unconfirmed.status == .badRequest && unconfirmed.body.contains("确认申报"))
            // A bad amount names the line and column, marks the input, and keeps the internal path in the details only.
            let bad = try await web.request(.POST, "/taxpayers/\(tp)/file/vat", form: [("period", "2026-Q1"), ("kind0", "goods"), ("amount0", "12.345"), ("rate0", "0.03"), ("action", "preview"), ("csrf", csrf)])
            #expect(bad.status == .badRequest && bad.body.contains("第 1 行 不含税销售额") && bad.body.contains("value=\"12.345\" size=\"14\" inputmode=\"decimal\" aria-label=\"第 1 行 不含税销售额\" aria-invalid=\"true\""))
            #expect(bad.body.contains("<details class=\"technical\">") && bad.body.components(separatedBy: "vat.sales[0].amount").count == 3)  // only in the details (twice)
            // Confirmed: filed once, even when the form is submitted twice.
            for _ in 0..<2 {
                let filed = try await web.request(.POST, "/taxpayers/\(tp)/file/vat", form: form + [("action", "submit"), ("computed_tax", "500.00"), ("confirm", "on"), ("declared_tax", "500.00"), ("csrf", csrf)])
                #expect(filed.status == .ok && filed.body.contains("id=\"filed\"") && filed.body.contains("500.00 元"))
            }
            #expect(try await store.count("return_versions") == before + 1)
            // The taxpayer page lists the return in words; its link opens the versions.
            let detail = try await web.request(.GET, "/taxpayers/\(tp)")
            #expect(detail.body.contains("浦东新区税务局第一税务所") && detail.body.contains("href=\"/taxpayers/\(tp)/returns/vat%3A2026-Q1\">2026年第一季度 增值税<"))
            let versions = try await web.request(.GET, "/taxpayers/\(tp)/returns/vat%3A2026-Q1")
            #expect(versions.status == .ok && versions.body.contains("id=\"versions\"") && versions.body.contains("id=\"correct\""))
            // The return page offers the correction, prefilled from the stored case and computed again.
            let correction = try await web.request(.GET, "/taxpayers/\(tp)/file/vat?from=vat:2026-Q1")
            #expect(correction.body.contains("value=\"200000.00\"") && correction.body.contains("name=\"period\" value=\"2026-Q1\""))
            #expect(correction.hiddenValue("correcting") == "vat:2026-Q1" && correction.body.contains("id=\"declared_tax\" value=\"500.00\""))
            // The 个体工商户's annual business income: 2025 was filed in the demo, so this is a correction, version 2.
            // Taxable income 80000 with 2000 of other relief: tax 6500, halving relief (6500 − 2000) × 50% = 2250, due
            // 6500 − 2000 − 2250 = 2250 (财政部 税务总局公告2023年第12号, CASES.md example).
            let individual = "91310115MA00000022"
            let bi = try await web.request(.POST, "/taxpayers/\(individual)/file/business-income",
                                           form: [("period", "2025"), ("taxable_income", "80,000"), ("other_relief", "2000"), ("action", "submit"), ("correcting", "business_income:2025"),
                                                  ("computed_tax", "2250.00"), ("declared_tax", "2250.00"), ("confirm", "on"), ("csrf", csrf)])
            #expect(bi.status == .ok && bi.body.contains("第 2 版") && bi.body.contains("2,250.00 元"), "\(bi.body.prefix(600))")
            // Logging out ends the session.
            _ = try await web.request(.POST, "/logout", form: [("csrf", csrf)])
            #expect(try await web.request(.GET, "/taxpayers").location?.hasPrefix("/login") == true)
        }
    }

    /// Web pages follow the same reach as the API: out of reach is 404, a supervisor sees but may not file.
    @Test(arguments: Backend.allCases)
    func pagesStayWithinReach(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let pudongTaxpayer = "91310115MA0000001Y"
            var huangpu = WebClient(app: app)
            _ = try await huangpu.login("huangpu", "huiqi-officer")
            #expect(try await huangpu.request(.GET, "/taxpayers/\(pudongTaxpayer)").status == .notFound)
            #expect(try await huangpu.request(.GET, "/taxpayers/\(pudongTaxpayer)/file/vat").status == .notFound)
            let search = try await huangpu.request(.GET, "/taxpayers?q=91310115")
            #expect(!search.body.contains("91310115MA"))
            var pudong = WebClient(app: app)
            _ = try await pudong.login("pudong", "huiqi-officer")
            let found = try await pudong.request(.GET, "/taxpayers?q=\(pudongTaxpayer)")
            #expect(found.body.contains(pudongTaxpayer))
            let byName = try await pudong.request(.GET, "/taxpayers?q=%E7%A7%91%E6%8A%80")  // 科技
            #expect(byName.body.contains("科技"))
            var supervisor = WebClient(app: app)
            _ = try await supervisor.login("shanghai", "huiqi-supervisor")
            let readable = try await supervisor.request(.GET, "/taxpayers/\(pudongTaxpayer)")
            #expect(readable.status == .ok && !readable.body.contains("file-vat"))
            #expect(try await supervisor.request(.GET, "/taxpayers/\(pudongTaxpayer)/file/vat").status == .forbidden)
            let english = try await supervisor.request(.GET, "/taxpayers/\(pudongTaxpayer)?lang=en")
            #expect(english.body.contains("Credit code") && supervisor.cookies["huiqi_lang"] == "en")
        }
    }
}
