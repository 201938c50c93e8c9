import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// Comparison with other departments' registries (issue 10 §4) on both databases: imports are whole or nothing,
/// with every bad row named; the same file again changes nothing; each of the four findings on known rows; who may
/// import and who sees what.
@Suite struct RegistryComparisonTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ name: String) throws -> String { try String(contentsOf: root.appendingPathComponent("examples/\(name)"), encoding: .utf8) }
    static let marketHeader = "统一社会信用代码,名称,市场主体类型,成立日期,注销日期,行业门类,行政区划代码\n"

    func post(_ app: Application, _ token: String, _ source: String, _ csv: String) async throws -> Reply {
        try await call(app, .POST, "/api/v1/registries/\(source)/imports", token: token, body: csv, headers: [("Content-Type", "text/csv")])
    }
    func findings(_ app: Application, _ token: String, _ kind: String, year: Int = 2025, office: String? = nil) async throws -> [JSON] {
        let r = try await call(app, .GET, "/api/v1/registries/findings?kind=\(kind)&year=\(year)" + (office.map { "&office=\($0)" } ?? ""), token: token)
        #expect(r.status == .ok, "\(kind): \(r.body)")
        guard case .array(let items)? = r.json?["findings"] else { return [] }
        return items
    }
    func codes(_ items: [JSON]) -> [String] { items.compactMap { if case .string(let c)? = $0["credit_code"] { c } else { nil } } }

    @Test(arguments: Backend.allCases)
    func importsAreWholeOrNothingAndIdempotent(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let admin = try await token(app, "admin", "huiqi-admin")
            // examples/registry-market-bad.csv: rows 3 (short code), 4 (30 February) and 5 (type, industry, region) are bad.
            let bad = try await post(app, admin, "market", try Self.example("registry-market-bad.csv"))
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.json?["state"] == .string("refused") && bad.json?["error_count"] == .number("3") && bad.json?["rows_read"] == .number("4"))
            guard case .array(let errors)? = bad.json?["errors"] else { Issue.record("no errors"); return }
            #expect(errors.map { "\($0["row"]!.serialized()) \($0["field"]!.serialized())" }
                    == [#"3 "credit_code""#, #"4 "registered_on""#, #"5 "entity_type""#, #"5 "industry""#, #"5 "region""#])
            #expect(try await store.count("market_entities") == 0)
            #expect(try await store.count("registry_imports") == 0)

            let market = try Self.example("registry-market.csv")
            let first = try await post(app, admin, "market", market)
            #expect(first.status == .created && first.json?["rows_read"] == .number("6") && first.json?["rows_changed"] == .number("6"), "\(first.body)")
            let again = try await post(app, admin, "market", market)
            #expect(again.status == .ok && again.json?["state"] == .string("already_imported") && again.json?["rows_changed"] == .number("0"))
            #expect(try await store.count("registry_imports") == 1)
            #expect(try await store.count("market_entities") == 6)
            // The same rows in other bytes (a BOM, CRLF lines) are a new file whose rows change nothing; one renamed row is one change.
            let crlf = "\u{FEFF}" + market.replacingOccurrences(of: "\n", with: "\r\n")
            let same = try await post(app, admin, "market", crlf)
            #expect(same.status == .created && same.json?["rows_read"] == .number("6") && same.json?["rows_changed"] == .number("0"), "\(same.body)")
            let renamed = try await post(app, admin, "market", market.replacingOccurrences(of: "上海商贸有限公司0", with: "上海商贸集团有限公司"))
            #expect(renamed.status == .created && renamed.json?["rows_changed"] == .number("1"))
            #expect(try await store.count("market_entities") == 6)

            // File-level refusals name what is wrong; a row repeated in one file is a bad row.
            let missing = try await post(app, admin, "market", "统一社会信用代码,名称\n91310101MA0000000J,x\n")
            #expect(missing.status == .badRequest && missing.body.contains("entity_type"))
            let twice = try await post(app, admin, "sme", "统一社会信用代码,年度,企业规模\n91310101MA0000000J,2025,小型\n91310101MA0000000J,2025,微型\n")
            #expect(twice.status == .unprocessableEntity && twice.body.contains(#""row":3"#) && twice.body.contains("重复"))
            var latin1 = Data(Self.marketHeader.utf8)
            latin1.append(contentsOf: [0x39, 0x31, 0xFF, 0xFE, 0x0A])
            let notUTF8 = try await call(app, .POST, "/api/v1/registries/market/imports", token: admin, body: String(decoding: latin1, as: UTF8.self) + "\u{FFFF}")
            #expect(notUTF8.status.code >= 400 && notUTF8.status.code < 500)
            #expect(try await store.count("sme_sizes") == 0)

            // Who imports: supervisors within their regions, administrators; never officers or taxpayers.
            let officer = try await token(app, "pudong", "huiqi-officer")
            #expect(try await post(app, officer, "market", market).status == .forbidden)
            let taxpayer = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await post(app, taxpayer, "market", market).status == .forbidden)
            let suzhou = try await token(app, "suzhou", "huiqi-supervisor")
            let outside = try await post(app, suzhou, "market", Self.marketHeader + "91310115MA1NEW003T,园区外企业,企业,2020-01-01,,F,310115\n")
            #expect(outside.status == .unprocessableEntity && outside.body.contains("管辖范围"))
            let inside = try await post(app, suzhou, "market", Self.marketHeader + "91310115MA1NEW003T,园区内企业,企业,2020-01-01,,F,320571\n")
            #expect(inside.status == .created)
            #expect(try await post(app, admin, "other", market).status == .badRequest)
            #expect(try await store.check().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func everyFindingKindWithinReach(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let ids = try await register(store, count: 3, login: "registry")
            let admin = try await token(app, "admin", "huiqi-admin")
            #expect(try await post(app, admin, "market", try Self.example("registry-market.csv")).status == .created)
            #expect(try await post(app, admin, "sme", try Self.example("registry-sme.csv")).status == .created)

            let unregistered = try await findings(app, admin, "unregistered")
            #expect(codes(unregistered) == ["91310115MA1NEW001L", "92320571MA1NEW002G"])
            #expect(unregistered.map { $0["office_id"] } == [.string("13101150000"), .string("13205710000")])
            #expect(codes(try await findings(app, admin, "deregistered_active")) == ["91310115MA0000001Y"])
            let mismatch = try await findings(app, admin, "mismatch")
            #expect(codes(mismatch) == ["91310101MA0000003U", "91310115MA00000022"])
            #expect(mismatch.map { $0["differences"] } == [.array([.string("industry")]), .array([.string("region")])])

            // A supervisor sees its subtree only; an officer of another district sees none of Pudong's.
            let shanghai = try await token(app, "shanghai", "huiqi-supervisor")
            #expect(codes(try await findings(app, shanghai, "unregistered")) == ["91310115MA1NEW001L"])
            let huangpu = try await token(app, "huangpu", "huiqi-officer")
            #expect(codes(try await findings(app, huangpu, "unregistered")).isEmpty)
            #expect(codes(try await findings(app, huangpu, "mismatch")) == ["91310101MA0000003U"])
            #expect(try await call(app, .GET, "/api/v1/registries/findings?kind=mismatch&year=2025&office=13101150000", token: huangpu).status == .notFound)
            let company = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .GET, "/api/v1/registries/findings?kind=mismatch&year=2025", token: company).status == .forbidden)
            #expect(try await call(app, .GET, "/api/v1/registries/findings?kind=nothing&year=2025", token: admin).status == .badRequest)

            // 小型微利: classified small or micro for 2026, entitled to relief on the returns filed, none received.
            // ids[0] small, declares the 6,000 the law exempts (not claimed): a finding. ids[1] micro, declares 0: none.
            // ids[2] medium, not claimed: not a small or micro enterprise, so not this finding.
            let sme = "统一社会信用代码,年度,企业规模\n\(ids[0]),2026,小型\n\(ids[1]),2026,微型\n\(ids[2]),2026,中型\n"
            #expect(try await post(app, admin, "sme", sme).status == .created)
            let officer = try await token(app, "pudong", "huiqi-officer")
            for (id, declared) in [(ids[0], "6000.00"), (ids[1], "0.00"), (ids[2], "6000.00")] {
                #expect(try await file(app, officer, id, vat("2026-Q1", "200000.00"), declared: declared).status == .created)
            }
            let missed = try await findings(app, officer, "sme_without_relief", year: 2026)
            #expect(codes(missed) == [ids[0]])
            #expect(missed.first?["detail"].map { $0.serialized().contains("6,000.00") || $0.serialized().contains("6000.00") } == true)
            // A correction that claims the relief clears the finding (the current version counts).
            #expect(try await file(app, officer, ids[0], vat("2026-Q1", "200000.00"), declared: "0.00").status == .created)
            #expect(codes(try await findings(app, officer, "sme_without_relief", year: 2026)).isEmpty)

            // The statistics by enterprise size (工信's classification of the period's year) and by preference.
            let s = try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q1&office=13101150900&by=size", token: officer).json
            guard case .array(let lines)? = s?["lines"] else { Issue.record("no lines"); return }
            #expect(lines.map { "\($0["key"]!.serialized()) \($0["entitled"]!.serialized()) \($0["beneficiaries"]!.serialized())" }
                    == [#""medium" 1 0"#, #""micro" 1 1"#, #""small" 1 1"#])
            let p = try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q1&office=13101150900&by=preference", token: officer).json
            #expect(p?["total"]?["entitled"] == .number("3") && p?["lines"].map { $0.serialized().contains("公告") } == true)
        }
    }

    /// The page: counts, findings with a link to a task for the office responsible, and an upload with a bad row.
    @Test(arguments: Backend.allCases)
    func pageUploadAndTaskLink(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            var shanghai = WebClient(app: app)
            let csrf = try await shanghai.login("shanghai", "huiqi-supervisor")
            let boundary = "huiqi-test-boundary"
            func multipart(_ source: String, _ csv: String, filename: String = "m.csv") -> String {
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(csrf)\r\n"
                    + "--\(boundary)\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\n\(source)\r\n"
                    + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
            }
            let headers = [("Content-Type", "multipart/form-data; boundary=\(boundary)"), ("Cookie", shanghai.cookie)]
            let refused = try await call(app, .POST, "/registries/import", body: multipart("market", Self.marketHeader + "91310115MA1NEW001L,新企业,企业,2026-02-30,,F,310115\n"),
                                         headers: headers)
            #expect(refused.status == .unprocessableEntity && refused.body.contains("import-errors") && refused.body.contains("registered_on"))
            // A file name with a NUL and a control character is kept without them (PostgreSQL cannot store NUL).
            let good = try await call(app, .POST, "/registries/import", body: multipart("market", Self.marketHeader + "91310115MA1NEW001L,新企业,企业,2026-02-27,,F,310115\n",
                                                                                        filename: "m\u{0}\u{1}.csv"),
                                      headers: headers)
            #expect(good.status == .ok && good.body.contains("已导入"), "\(good.body.prefix(400))")
            let page = try await shanghai.request(.GET, "/registries?kind=unregistered")
            #expect(page.status == .ok && page.body.contains("91310115MA1NEW001L") && page.body.contains("/tasks?office=13101150000&title="))
            let noToken = try await call(app, .POST, "/registries/import", body: multipart("market", "x"),
                                         headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
            #expect(noToken.status.code >= 300 && noToken.status != .ok)
            var pudong = WebClient(app: app)
            _ = try await pudong.login("pudong", "huiqi-officer")
            let officerPage = try await pudong.request(.GET, "/registries")
            #expect(officerPage.status == .ok && !officerPage.body.contains("import-form"))
        }
    }
}
