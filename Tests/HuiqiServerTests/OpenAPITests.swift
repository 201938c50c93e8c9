import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Testing
import Vapor

/// The API as the OpenAPI document served at /openapi.json describes it: every route is documented and every
/// documented operation exists; real responses of every documented kind validate against their schemas.
struct OpenAPIDocument {
    let doc: JSON

    /// The JSON schema of the response with `status` to `method path` (a documented path template).
    func responseSchema(_ method: String, _ template: String, _ status: Int) -> JSON? {
        doc["paths"]?[template]?[method.lowercased()]?["responses"]?["\(status)"]?["content"].flatMap { content -> JSON? in
            guard case .object(let kv) = content else { return nil }
            return kv.first?.1["schema"]
        }
    }

    func isDocumented(_ method: String, _ template: String, _ status: Int) -> Bool {
        doc["paths"]?[template]?[method.lowercased()]?["responses"]?["\(status)"] != nil
    }

    /// Problems found validating `value` against `schema` (a subset of JSON Schema: $ref, type, required,
    /// properties, additionalProperties, allOf, items, enum, minItems, maxItems, pattern).
    func problems(_ value: JSON, _ schema: JSON, at path: String = "$") -> [String] {
        if case .string(let ref)? = schema["$ref"] {
            let name = String(ref.split(separator: "/").last ?? "")
            guard let target = doc["components"]?["schemas"]?[name] else { return ["\(path): unknown $ref \(ref)"] }
            return problems(value, target, at: path)
        }
        var out: [String] = []
        if case .array(let all)? = schema["allOf"] { for sub in all { out += problems(value, sub, at: path) } }
        let types: [String]
        switch schema["type"] {
        case .string(let t)?: types = [t]
        case .array(let list)?: types = list.compactMap { if case .string(let s) = $0 { return s }; return nil }
        default: types = []
        }
        if !types.isEmpty && !types.contains(where: { Self.matches(value, $0) }) { return ["\(path): expected \(types), got \(value.serialized(indent: nil).prefix(60))"] }
        if case .array(let allowed)? = schema["enum"], !allowed.contains(value) { out.append("\(path): \(value.serialized(indent: nil)) not in enum") }
        if case .string(let s) = value, case .string(let pattern)? = schema["pattern"], s.range(of: pattern, options: .regularExpression) == nil {
            out.append("\(path): \(s) does not match \(pattern)")
        }
        if case .object(let kv) = value {
            if let extra = schema["additionalProperties"], case .object(let declared)? = schema["properties"] ?? .object([]) {
                for (key, v) in kv where !declared.contains(where: { $0.0 == key }) { out += problems(v, extra, at: "\(path).\(key)") }
            }
            if case .array(let required)? = schema["required"] {
                for case .string(let key) in required where !kv.contains(where: { $0.0 == key }) { out.append("\(path): missing \(key)") }
            }
            if case .object(let props)? = schema["properties"] {
                for (key, sub) in props { if let v = value[key] { out += problems(v, sub, at: "\(path).\(key)") } }
            }
        }
        if case .array(let items) = value {
            if case .number(let n)? = schema["minItems"], items.count < Int(n)! { out.append("\(path): fewer than \(n) items") }
            if case .number(let n)? = schema["maxItems"], items.count > Int(n)! { out.append("\(path): more than \(n) items") }
            if let sub = schema["items"] { for (i, v) in items.enumerated() { out += problems(v, sub, at: "\(path)[\(i)]") } }
        }
        return out
    }

    static func matches(_ v: JSON, _ type: String) -> Bool {
        switch (type, v) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): return true
        case ("integer", .number(let n)): return Int(n) != nil
        default: return false
        }
    }
}

@Suite struct OpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryResponseMatches() async throws {
        try await withHuiqi(.sqlite) { app in
            let served = try await call(app, .GET, "/openapi.json")
            #expect(served.status == .ok)
            let api = OpenAPIDocument(doc: try JSONParser.parse(served.body))
            guard case .object(let paths)? = api.doc["paths"] else { Issue.record("no paths"); return }

            // Routes and document agree, both ways (web pages are HTML and not part of the API).
            var routes = Set<String>()
            for r in app.routes.all {
                let template = "/" + r.path.map { c -> String in
                    if case .parameter(let name) = c { return "{\(name)}" }
                    return c.description
                }.joined(separator: "/")
                guard template.hasPrefix("/api/") || ["/health", "/ready", "/metrics", "/openapi.json"].contains(template) else { continue }
                routes.insert("\(r.method.rawValue) \(template)")
            }
            var documented = Set<String>()
            for (template, item) in paths {
                guard case .object(let ops) = item else { continue }
                for (method, _) in ops { documented.insert("\(method.uppercased()) \(template)") }
            }
            #expect(routes == documented, "undocumented: \(routes.subtracting(documented)); not routed: \(documented.subtracting(routes))")

            // Real responses, each checked against the schema documented for its status.
            var checked = 0
            func check(_ method: HTTPMethod, _ path: String, _ template: String, token: String? = nil, body: String? = nil,
                       headers: [(String, String)] = [], expect status: HTTPStatus) async throws -> Reply {
                let r = try await call(app, method, path, token: token, body: body, headers: headers)
                #expect(r.status == status, "\(method) \(path): \(r.status) \(r.body.prefix(200))")
                #expect(api.isDocumented(method.rawValue, template, Int(r.status.code)), "\(method) \(template) \(r.status.code) is not documented")
                if let schema = api.responseSchema(method.rawValue, template, Int(r.status.code)), let json = r.json {
                    let problems = api.problems(json, schema)
                    #expect(problems.isEmpty, "\(method) \(template) \(r.status.code): \(problems.prefix(5))")
                }
                checked += 1
                return r
            }
            let tp = "91310115MA0000001Y", other = "91310101MA00000003"
            let vat = #"{"vat":{"period":"2026-Q1","sales":[{"kind":"goods","amount":"350000.00","rate":"0.03"}]}}"#
            _ = try await check(.GET, "/health", "/health", expect: .ok)
            _ = try await check(.GET, "/ready", "/ready", expect: .ok)
            _ = try await check(.POST, "/api/v1/login", "/api/v1/login", body: #"{"login":"company","password":"no"}"#, expect: .unauthorized)
            let login = try await check(.POST, "/api/v1/login", "/api/v1/login", body: #"{"login":"company","password":"huiqi-taxpayer"}"#, expect: .ok)
            guard case .string(let t)? = login.json?["token"] else { Issue.record("no token"); return }
            _ = try await check(.POST, "/api/v1/login", "/api/v1/login", body: "{}", expect: .badRequest)
            _ = try await check(.GET, "/api/v1/taxpayers", "/api/v1/taxpayers", expect: .unauthorized)
            _ = try await check(.GET, "/api/v1/taxpayers", "/api/v1/taxpayers", token: t, expect: .ok)
            _ = try await check(.GET, "/api/v1/taxpayers/\(tp)", "/api/v1/taxpayers/{taxpayer}", token: t, expect: .ok)
            _ = try await check(.GET, "/api/v1/taxpayers/\(other)", "/api/v1/taxpayers/{taxpayer}", token: t, expect: .notFound)
            let caseText = try String(contentsOfFile: "examples/company-2023-q2.json", encoding: .utf8)
            _ = try await check(.POST, "/api/v1/calc", "/api/v1/calc", token: t, body: caseText, expect: .ok)
            _ = try await check(.POST, "/api/v1/calc", "/api/v1/calc", token: t, body: "{", expect: .badRequest)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/returns/preview", "/api/v1/taxpayers/{taxpayer}/returns/preview", token: t, body: vat, expect: .ok)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/returns", "/api/v1/taxpayers/{taxpayer}/returns", token: t, body: vat,
                                headers: [("Idempotency-Key", "oa-1"), ("Huiqi-Declared-Tax", "3500.00")], expect: .created)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/returns", "/api/v1/taxpayers/{taxpayer}/returns", token: t, body: vat,
                                headers: [("Idempotency-Key", "oa-1"), ("Huiqi-Declared-Tax", "3500.00")], expect: .ok)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/returns", "/api/v1/taxpayers/{taxpayer}/returns", token: t,
                                body: vat.replacingOccurrences(of: "2026-Q1", with: "2027-Q1"), expect: .badRequest)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/returns", "/api/v1/taxpayers/{taxpayer}/returns", token: t,
                                body: #"{"vat":{"period":"2026-Q1","sales":[{"kind":"goods","amount":"-5","rate":"0.03"}]}}"#, expect: .badRequest)
            _ = try await check(.GET, "/api/v1/taxpayers/\(tp)/returns", "/api/v1/taxpayers/{taxpayer}/returns", token: t, expect: .ok)
            _ = try await check(.GET, "/api/v1/taxpayers/\(tp)/returns/vat:2026-Q1", "/api/v1/taxpayers/{taxpayer}/returns/{return}", token: t, expect: .ok)
            _ = try await check(.GET, "/api/v1/taxpayers/\(tp)/returns/vat:1999-Q1", "/api/v1/taxpayers/{taxpayer}/returns/{return}", token: t, expect: .notFound)
            let supervisor = try await token(app, "shanghai", "huiqi-supervisor")
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/returns", "/api/v1/taxpayers/{taxpayer}/returns", token: supervisor, body: vat, expect: .forbidden)
            let officer = try await token(app, "pudong", "huiqi-officer")
            let body = "91310115MA9WXYTR1"
            let fresh = RegistryTests.taxpayer(body + String(CreditCode.checkCharacter(for: body)!))
            _ = try await check(.POST, "/api/v1/taxpayers", "/api/v1/taxpayers", token: t, body: fresh, expect: .forbidden)
            _ = try await check(.POST, "/api/v1/taxpayers", "/api/v1/taxpayers", token: officer, body: fresh, expect: .created)
            _ = try await check(.POST, "/api/v1/taxpayers", "/api/v1/taxpayers", token: officer, body: fresh, expect: .conflict)
            _ = try await check(.PUT, "/api/v1/taxpayers/\(tp)/vat-frequencies/2027", "/api/v1/taxpayers/{taxpayer}/vat-frequencies/{year}",
                                token: officer, body: #"{"frequency":"monthly"}"#, expect: .created)
            _ = try await check(.PUT, "/api/v1/taxpayers/\(tp)/vat-frequencies/2027", "/api/v1/taxpayers/{taxpayer}/vat-frequencies/{year}",
                                token: officer, body: #"{"frequency":"quarterly"}"#, expect: .conflict)
            #expect(checked == 25)

            // Issue 11: the knowledge base and the complaint desk.
            try await Services(store: Store(app.db), engine: try Engine.bundled(), deadlines: try .bundled(), now: { Date() }).knowledge.seedIfEmpty()
            _ = try await check(.GET, "/api/v1/kb/search?q=%E5%85%8D%E7%A8%8E&tax=vat&year=2024", "/api/v1/kb/search", expect: .ok)
            _ = try await check(.GET, "/api/v1/kb/search?q=x&tax=no", "/api/v1/kb/search", expect: .badRequest)
            _ = try await check(.GET, "/api/v1/kb/entries/vat-threshold-2026", "/api/v1/kb/entries/{entry}", expect: .ok)
            _ = try await check(.GET, "/api/v1/kb/entries/none", "/api/v1/kb/entries/{entry}", expect: .notFound)
            _ = try await check(.GET, "/api/v1/kb/entries/vat-threshold-2026/versions", "/api/v1/kb/entries/{entry}/versions", token: officer, expect: .ok)
            _ = try await check(.GET, "/api/v1/kb/entries/vat-threshold-2026/versions", "/api/v1/kb/entries/{entry}/versions", token: t, expect: .forbidden)
            let draft = try await check(.POST, "/api/v1/kb/drafts", "/api/v1/kb/drafts", token: officer,
                                        body: #"{"entry":"vat-threshold-2026","title":"起征点是多少？","body":"月10万元，季度30万元。","year_from":2026,"year_to":2027}"#, expect: .created)
            _ = try await check(.POST, "/api/v1/kb/drafts", "/api/v1/kb/drafts", token: officer, body: #"{"title":"","body":"x","year_from":2026}"#, expect: .badRequest)
            #expect(draft.json?["versions"]?[0]?["status"] == .string("draft"))
            _ = try await check(.POST, "/api/v1/kb/entries/vat-threshold-2026/versions/2/review", "/api/v1/kb/entries/{entry}/versions/{version}/review",
                                token: officer, body: #"{"decision":"approve"}"#, expect: .forbidden)
            _ = try await check(.POST, "/api/v1/kb/entries/vat-threshold-2026/versions/2/review", "/api/v1/kb/entries/{entry}/versions/{version}/review",
                                token: supervisor, body: #"{"decision":"approve"}"#, expect: .ok)
            _ = try await check(.POST, "/api/v1/kb/entries/vat-threshold-2026/versions/2/review", "/api/v1/kb/entries/{entry}/versions/{version}/review",
                                token: supervisor, body: #"{"decision":"approve"}"#, expect: .conflict)
            let complaint = try await check(.POST, "/api/v1/complaints", "/api/v1/complaints", token: t,
                                            body: #"{"taxpayer_id":"\#(tp)","category":"relief_not_received","text":"没有免税","contact":"138"}"#, expect: .created)
            _ = try await check(.POST, "/api/v1/complaints", "/api/v1/complaints", token: t, body: #"{"taxpayer_id":"\#(tp)","category":"x","text":"a","contact":"b"}"#, expect: .badRequest)
            guard case .string(let cid)? = complaint.json?["id"] else { Issue.record("no complaint id"); return }
            _ = try await check(.GET, "/api/v1/complaints", "/api/v1/complaints", token: officer, expect: .ok)
            _ = try await check(.GET, "/api/v1/complaints/\(cid)", "/api/v1/complaints/{complaint}", token: officer, expect: .ok)
            _ = try await check(.GET, "/api/v1/complaints/nope", "/api/v1/complaints/{complaint}", token: officer, expect: .notFound)
            _ = try await check(.POST, "/api/v1/complaints/\(cid)/confirm", "/api/v1/complaints/{complaint}/confirm", token: t, body: #"{"satisfaction":5}"#, expect: .conflict)
            _ = try await check(.POST, "/api/v1/complaints/\(cid)/resolve", "/api/v1/complaints/{complaint}/resolve", token: officer,
                                body: #"{"note":"已处理","outcome":"upheld"}"#, expect: .ok)
            _ = try await check(.POST, "/api/v1/complaints/\(cid)/reopen", "/api/v1/complaints/{complaint}/reopen", token: t, body: #"{"note":"还没有"}"#, expect: .ok)
            _ = try await check(.GET, "/api/v1/complaints/sla", "/api/v1/complaints/sla", token: supervisor, expect: .ok)
            _ = try await check(.GET, "/api/v1/complaints/sla", "/api/v1/complaints/sla", token: t, expect: .forbidden)
            #expect(checked == 25 + 21)
        }
    }

    /// The administration loop's endpoints on a demo with a closed, screened filing period (2026-Q1 on 2026-05-28),
    /// each answer checked against its documented schema.
    @Test func administrationResponsesMatchTheDocument() async throws {
        try await withHuiqi(.sqlite, closedPeriod: true) { app in
            let api = OpenAPIDocument(doc: try JSONParser.parse(try await call(app, .GET, "/openapi.json").body))
            func check(_ method: HTTPMethod, _ path: String, _ template: String, token: String, body: String? = nil, expect status: HTTPStatus) async throws -> Reply {
                let r = try await call(app, method, path, token: token, body: body)
                #expect(r.status == status, "\(method) \(path): \(r.status) \(r.body.prefix(300))")
                #expect(api.isDocumented(method.rawValue, template, Int(r.status.code)), "\(method) \(template) \(r.status.code) is not documented")
                if let schema = api.responseSchema(method.rawValue, template, Int(r.status.code)), let json = r.json {
                    let problems = api.problems(json, schema)
                    #expect(problems.isEmpty, "\(method) \(template) \(r.status.code): \(problems.prefix(5))")
                }
                return r
            }
            let officer = try await token(app, "pudong", "huiqi-officer"), company = try await token(app, "company", "huiqi-taxpayer")
            let supervisor = try await token(app, "shanghai", "huiqi-supervisor")
            let tp = "91310115MA0000001Y"
            _ = try await check(.GET, "/api/v1/monitoring?kind=vat&period=2026-Q1", "/api/v1/monitoring", token: supervisor, expect: .ok)
            _ = try await check(.GET, "/api/v1/monitoring?kind=vat&period=2026-Q1&office=13101150100", "/api/v1/monitoring", token: officer, expect: .ok)
            _ = try await check(.GET, "/api/v1/monitoring?kind=vat&period=2026-Q1&office=13101010100", "/api/v1/monitoring", token: officer, expect: .notFound)
            _ = try await check(.GET, "/api/v1/monitoring?kind=tea&period=2026-Q1", "/api/v1/monitoring", token: officer, expect: .badRequest)
            _ = try await check(.GET, "/api/v1/monitoring?kind=vat&period=2026-Q1", "/api/v1/monitoring", token: company, expect: .forbidden)
            _ = try await check(.GET, "/api/v1/statistics?kind=vat&period=2026-Q1", "/api/v1/statistics", token: supervisor, expect: .ok)
            _ = try await check(.GET, "/api/v1/statistics?kind=eit&period=2026-Q1&by=region&office=13101150100", "/api/v1/statistics", token: officer, expect: .ok)
            _ = try await check(.GET, "/api/v1/statistics?kind=vat&period=2026&by=kind", "/api/v1/statistics", token: officer, expect: .ok)
            _ = try await check(.GET, "/api/v1/statistics?kind=vat&period=2026-Q1&office=13101010100", "/api/v1/statistics", token: officer, expect: .notFound)
            _ = try await check(.GET, "/api/v1/statistics?kind=vat&period=2026-Q1&by=colour", "/api/v1/statistics", token: officer, expect: .badRequest)
            _ = try await check(.GET, "/api/v1/statistics?kind=vat&period=2026-Q1", "/api/v1/statistics", token: company, expect: .forbidden)
            _ = try await check(.GET, "/api/v1/findings?kind=vat&period=2026-Q1", "/api/v1/findings", token: officer, expect: .ok)
            let job = try await check(.POST, "/api/v1/screenings", "/api/v1/screenings", token: officer, body: #"{"kind":"eit","period":"2026-Q1"}"#, expect: .accepted)
            _ = try await check(.POST, "/api/v1/screenings", "/api/v1/screenings", token: officer, body: #"{"kind":"vat","period":"2026-Q2"}"#, expect: .unprocessableEntity)
            _ = try await check(.POST, "/api/v1/screenings", "/api/v1/screenings", token: supervisor, body: #"{"kind":"vat","period":"2026-Q1"}"#, expect: .forbidden)
            if case .string(let id)? = job.json?["id"] {
                _ = try await AdministrationTests.finishedJob(app, officer, id)
                _ = try await check(.GET, "/api/v1/jobs/\(id)", "/api/v1/jobs/{job}", token: officer, expect: .ok)
                _ = try await check(.GET, "/api/v1/jobs/\(id)", "/api/v1/jobs/{job}", token: company, expect: .notFound)
            }
            let notices = try await check(.GET, "/api/v1/taxpayers/\(tp)/notices", "/api/v1/taxpayers/{taxpayer}/notices", token: company, expect: .ok)
            guard case .string(let notice)? = notices.json?[0]?["id"] else { Issue.record("the demo company has no notice"); return }
            _ = try await check(.GET, "/api/v1/notices/\(notice)", "/api/v1/notices/{notice}", token: company, expect: .ok)
            _ = try await check(.POST, "/api/v1/notices/\(notice)/acknowledge", "/api/v1/notices/{notice}/acknowledge", token: company, expect: .ok)
            _ = try await check(.POST, "/api/v1/notices/\(notice)/acknowledge", "/api/v1/notices/{notice}/acknowledge", token: officer, expect: .forbidden)
            _ = try await check(.GET, "/api/v1/taxpayers/\(tp)/ledger", "/api/v1/taxpayers/{taxpayer}/ledger", token: company, expect: .ok)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/refunds", "/api/v1/taxpayers/{taxpayer}/refunds", token: company, body: #"{"tax":"vat","amount":"x"}"#, expect: .badRequest)
            _ = try await check(.POST, "/api/v1/taxpayers/\(tp)/refunds", "/api/v1/taxpayers/{taxpayer}/refunds", token: company, body: #"{"tax":"vat","amount":"99999999"}"#, expect: .unprocessableEntity)
            let refund = try await check(.POST, "/api/v1/taxpayers/\(tp)/refunds", "/api/v1/taxpayers/{taxpayer}/refunds", token: company, body: #"{"tax":"vat","amount":"1.00"}"#, expect: .created)
            if case .string(let id)? = refund.json?["id"] {
                _ = try await check(.POST, "/api/v1/refunds/\(id)/approve", "/api/v1/refunds/{refund}/approve", token: officer, expect: .ok)
                _ = try await check(.POST, "/api/v1/refunds/\(id)/approve", "/api/v1/refunds/{refund}/approve", token: officer, expect: .conflict)
            }
            let messages = try await check(.GET, "/api/v1/taxpayers/\(tp)/messages", "/api/v1/taxpayers/{taxpayer}/messages", token: company, expect: .ok)
            if case .string(let id)? = messages.json?[0]?["id"] {
                _ = try await check(.POST, "/api/v1/messages/\(id)/read", "/api/v1/messages/{message}/read", token: company, expect: .noContent)
            }
        }
    }
}
