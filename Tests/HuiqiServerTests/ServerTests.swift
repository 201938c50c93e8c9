import Foundation
import HuiqiDates
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The real app on a real database: every test runs once on SQLite (a temporary file) and once on PostgreSQL
/// (`HUIQI_TEST_POSTGRES_URL`, started by .ci/run). In CI a missing PostgreSQL fails the run instead of skipping.
enum Backend: String, CaseIterable, Sendable { case sqlite, postgres }

/// A new, empty database of the backend: a temporary SQLite file, or a fresh PostgreSQL database (so tests can
/// run in parallel). Nil when PostgreSQL is not configured outside CI.
func newDatabase(_ backend: Backend) async throws -> DatabaseLocation? {
    switch backend {
    case .sqlite:
        return .sqlite(path: FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-test-\(UUID()).sqlite").path)
    case .postgres:
        guard let admin = ProcessInfo.processInfo.environment["HUIQI_TEST_POSTGRES_URL"] else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("HUIQI_TEST_POSTGRES_URL is not set in CI") }
            return nil
        }
        let name = "huiqi_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        // Awaited, not waited on: a blocked cooperative thread would stall other tests' transactions (ChildProcess).
        let r = try await ChildProcess.run("psql", [admin, "-q", "-c", "CREATE DATABASE \(name)"])
        #expect(r.status == 0, "CREATE DATABASE failed: \(r.errorText)")
        let base = String(admin[..<admin.lastIndex(of: "/")!])
        return .postgres(url: "\(base)/\(name)")
    }
}

/// The app on a new database of the backend with the demo data (60 taxpayers); `closedPeriod`: with this year's
/// closed filing period filed and screened (most tests file this year's returns themselves, so they leave it out).
func withHuiqi(_ backend: Backend, at given: DatabaseLocation? = nil, now: @escaping @Sendable () -> Date = { Date(timeIntervalSince1970: 1_780_000_000) },
               closedPeriod: Bool = false, _ body: (Application) async throws -> Void) async throws {
    var location = given
    if location == nil { location = try await newDatabase(backend) }
    guard let location else { return }
    try await withApp(configure: { app in
        var settings = ServerSettings(database: location, demo: true, demoTaxpayers: 60, demoClosedPeriod: closedPeriod, now: now)
        // Tests run in parallel against one PostgreSQL: a small pool each keeps them under its max_connections.
        settings.databaseConnectionsPerLoop = 3
        try await configure(app, settings)
    }, body)
    // A database made here is dropped when the test's body returns (one that threw stays, to be looked at).
    if given == nil { await dropDatabase(location) }
}

/// Drops a test's database: the SQLite file, or the PostgreSQL database (a developer's server would otherwise
/// collect hundreds of them).
func dropDatabase(_ location: DatabaseLocation) async {
    switch location {
    case .sqlite(let path):
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    case .postgres(let url):
        guard let admin = ProcessInfo.processInfo.environment["HUIQI_TEST_POSTGRES_URL"], let slash = url.lastIndex(of: "/") else { return }
        _ = try? await ChildProcess.run("psql", [admin, "-q", "-c", "DROP DATABASE IF EXISTS \(url[url.index(after: slash)...]) WITH (FORCE)"])
    }
}

/// A clock a test moves: filing days, the deadline, screening after it, the next quarter.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ iso: String) { current = try! Date(iso, strategy: .iso8601) }
    var now: @Sendable () -> Date { { [self] in lock.withLock { current } } }
    func set(_ iso: String) { lock.withLock { current = try! Date(iso, strategy: .iso8601) } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

struct Reply {
    let status: HTTPStatus
    let body: String
    var headers = HTTPHeaders()
    var location: String? = nil
    var json: JSON? { try? JSONParser.parse(body) }
    init(status: HTTPStatus, body: String) { self.status = status; self.body = body }
}

func call(_ app: Application, _ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil,
          headers extra: [(String, String)] = []) async throws -> Reply {
    var headers = HTTPHeaders()
    if let token { headers.bearerAuthorization = .init(token: token) }
    if body != nil { headers.contentType = .json }
    for (k, v) in extra { headers.replaceOrAdd(name: k, value: v) }
    let request = TestingHTTPRequest(method: method, url: .init(path: path), headers: headers,
                                     body: body.map { ByteBuffer(string: $0) } ?? ByteBuffer())
    let r = try await app.testing().performTest(request: request)
    var reply = Reply(status: r.status, body: String(buffer: r.body))
    reply.headers = r.headers
    return reply
}

func token(_ app: Application, _ login: String, _ password: String) async throws -> String {
    let r = try await call(app, .POST, "/api/v1/login", body: #"{"login":"\#(login)","password":"\#(password)"}"#)
    guard case .string(let t)? = r.json?["token"] else { throw Abort(.unauthorized) }
    return t
}

let vatQ2 = #"{"vat":{"period":"2026-Q1","sales":[{"kind":"goods","amount":"200000.00","rate":"0.03"},{"kind":"goods","amount":"50000.00","rate":"0.03","special_invoice":true}]}}"#

@Suite struct ServerTests {
    @Test(arguments: Backend.allCases)
    func healthAndMetrics(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let h = try await call(app, .GET, "/health")
            #expect(h.status == .ok)
            let m = try await call(app, .GET, "/metrics")
            #expect(m.status == .ok && m.body.contains("http_requests_total{"))
        }
    }

    @Test(arguments: Backend.allCases)
    func filingCorrectionAndIdempotency(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let taxpayers = try await store.boundTaxpayers(user: "user-company").sorted()
            let t = try await token(app, "company", "huiqi-taxpayer")
            let before = try await store.count("return_versions")
            // First filing: the engine computes the relief; the 专票 line is taxed at 1%.
            let first = try await call(app, .POST, "/api/v1/taxpayers/\(taxpayers[0])/returns", token: t, body: vatQ2,
                                       headers: [("Idempotency-Key", "k-1"), ("Huiqi-Declared-Tax", "7500.00")])
            #expect(first.status == .created)
            #expect(first.json?["return"]?["version"] == .number("1"))
            #expect(first.json?["return"]?["tax"] == .string("500.00"))
            #expect(first.json?["return"]?["determination"]?["vat"]?["relief"] == .string("7000.00"))
            #expect(first.body.contains("relief_not_claimed"))
            // The stored determination keeps the parameter versions in force for the period with their values as applied.
            #expect(first.body.contains(#""version":"vat.qizhengdian.quarterly@2026-01-01","value":"300000.00","cite":"#), "\(first.body.prefix(300))")
            // Filed on 2026-05-28, after the April deadline (2026-04-20 in the official table): a reminder.
            #expect(first.body.contains("deadline_passed") && first.body.contains("2026-04-20"))
            // The same key with the same request again: one return, the same version.
            let replay = try await call(app, .POST, "/api/v1/taxpayers/\(taxpayers[0])/returns", token: t, body: vatQ2,
                                        headers: [("Idempotency-Key", "k-1"), ("Huiqi-Declared-Tax", "7500.00")])
            #expect(replay.status == .ok && replay.json?["replayed"] == .bool(true))
            // The same key with another request (another declared tax, another period) is refused, naming the key.
            for (body, declared) in [(vatQ2, "500.00"), (vatQ2.replacingOccurrences(of: "2026-Q1", with: "2025-Q4"), "7500.00")] {
                let reused = try await call(app, .POST, "/api/v1/taxpayers/\(taxpayers[0])/returns", token: t, body: body,
                                            headers: [("Idempotency-Key", "k-1"), ("Huiqi-Declared-Tax", declared)])
                #expect(reused.status == .unprocessableEntity && reused.json?["error"]?["field"] == .string("Idempotency-Key"), "\(reused.body)")
            }
            let afterReplay = try await store.count("return_versions")
            #expect(afterReplay == before + 1)
            // A correction (更正申报) adds version 2; version 1 stays.
            let correction = try await call(app, .POST, "/api/v1/taxpayers/\(taxpayers[0])/returns", token: t,
                                            body: vatQ2.replacingOccurrences(of: "200000.00", with: "100000.00"), headers: [("Idempotency-Key", "k-2")])
            #expect(correction.json?["return"]?["version"] == .number("2"))
            let versions = try await call(app, .GET, "/api/v1/taxpayers/\(taxpayers[0])/returns/vat:2026-Q1", token: t)
            guard case .array(let vs)? = versions.json else { Issue.record("no versions: \(versions.body)"); return }
            #expect(vs.count == 2 && vs[0]["tax"] == .string("500.00") && vs[1]["version"] == .number("2"))
            // Each version stores the parameter versions in force for its period, with their citations: all of the VAT
            // ones on 2026-03-31, the same list for both versions (it is built once a period and reused).
            let inForce = try Engine.bundled().parameters.inForce(on: try #require(Day(iso: "2026-03-31"))).filter { $0.name.hasPrefix("vat.") }
            guard case .array(let cited)? = vs[0]["determination"]?["parameters"] else { Issue.record("no parameters: \(versions.body.prefix(400))"); return }
            #expect(!inForce.isEmpty && cited.count == inForce.count && vs[1]["determination"]?["parameters"] == vs[0]["determination"]?["parameters"])
            let firstInForce = try #require(inForce.first)
            #expect(cited.first?["version"] == .string("\(firstInForce.name)\(firstInForce.key.map { "[\($0)]" } ?? "")@\(firstInForce.from)")
                    && cited.first?["cite"] == .string(firstInForce.cite.description) && vs[0]["determination"]?["vat"] != nil)
            // The list is stored once (migration 025): both versions name it and store their determination without it;
            // the API shows the determination as the filing answered it.
            let sqlDB = try #require(app.db as? any SQLDatabase)
            let stored = try await sqlDB.raw("SELECT parameters_id, determination_json FROM return_versions WHERE taxpayer_id = \(bind: taxpayers[0]) AND return_id = 'vat:2026-Q1' ORDER BY version").all()
            let ids = try stored.map { try $0.decode(column: "parameters_id", as: String?.self) }
            #expect(ids.count == 2 && ids[0] != nil && ids[0] == ids[1])
            #expect(try stored.allSatisfy { !(try $0.decode(column: "determination_json", as: String.self)).contains("\"parameters\"") })
            let list = try await sqlDB.raw("SELECT list_json FROM parameter_lists WHERE id = \(bind: ids[0] ?? "")").all()
            #expect(try list.count == 1 && JSONParser.parse(try list[0].decode(column: "list_json", as: String.self)) == vs[0]["determination"]?["parameters"])
            #expect(first.json?["return"]?["determination"] == vs[0]["determination"])
            // Each version keeps the prompts it was given: version 1 declared 7500.00 against 500.00.
            #expect(vs[0]["prompts"]?[0]?["code"] == .string("relief_not_claimed") && vs[1]["prompts"]?[0]?["code"] != .string("relief_not_claimed"))
            let corrections = try await store.auditCount(action: "correct_return")
            #expect(corrections == 1)
        }
    }

    /// Concurrent corrections of one return get consecutive versions; concurrent submits with one key file once.
    @Test(arguments: Backend.allCases)
    func concurrentFilingsOfOneReturn(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let tp = try await store.boundTaxpayers(user: "user-company").sorted()[0]
            let t = try await token(app, "company", "huiqi-taxpayer")
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for i in 0..<8 {
                    group.addTask { try await call(app, .POST, "/api/v1/taxpayers/\(tp)/returns", token: t, body: vatQ2, headers: [("Idempotency-Key", "c-\(i)")]).status }
                    group.addTask { try await call(app, .POST, "/api/v1/taxpayers/\(tp)/returns", token: t, body: vatQ2, headers: [("Idempotency-Key", "same")]).status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 9 && statuses.filter { $0 == .ok }.count == 7, "\(statuses)")
            let versions = try await store.versions(taxpayer: tp, returnID: "vat:2026-Q1").map(\.version)
            #expect(versions == Array(1...9))
            let filed = try await store.auditCount(action: "file_return"), corrected = try await store.auditCount(action: "correct_return")
            #expect(filed == 1 && corrected == 8)
        }
    }

    @Test(arguments: Backend.allCases)
    func badInputNamesTheFieldAndWritesNothing(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let tp = try await store.boundTaxpayers(user: "user-company").sorted()[0]
            let t = try await token(app, "company", "huiqi-taxpayer")
            let before = try await store.count("return_versions")
            let r = try await call(app, .POST, "/api/v1/taxpayers/\(tp)/returns", token: t, body: vatQ2.replacingOccurrences(of: "\"0.03\"", with: "\"0.01\""))
            #expect(r.status == .badRequest)
            #expect(r.json?["error"]?["field"] == .string("vat.sales[0].rate"))
            // The registry decides: a period not ended yet, a year without a registered filing frequency, a
            // monthly period for a quarterly filer, a period before registration.
            for (period, field, needle) in [("2026-Q3", "vat.period", "has not ended"), ("2023-Q2", "vat.period", "filing frequency"),
                                            ("2026-02", "vat.period", "files quarterly"), ("2010-Q2", "vat.period", "before the registration")] {
                let r = try await call(app, .POST, "/api/v1/taxpayers/\(tp)/returns", token: t, body: vatQ2.replacingOccurrences(of: "2026-Q1", with: period))
                #expect(r.status == .badRequest && r.json?["error"]?["field"] == .string(field) && r.body.contains(needle), "\(period): \(r.body)")
            }
            // The engine refuses what its rules refuse (422): an EIT return for a 个体工商户 (not an enterprise).
            let individual = try await store.boundTaxpayers(user: "user-company").sorted()[1]
            let notApplicable = try await call(app, .POST, "/api/v1/taxpayers/\(individual)/returns", token: t,
                                               body: #"{"eit":{"year":2025,"quarters":[{"employees":[1,1],"assets":["1","1"],"taxable_income_ytd":"1"}]}}"#)
            #expect(notApplicable.status.code >= 400 && notApplicable.status.code < 500 && notApplicable.json?["error"]?["field"] == .string("taxpayer.kind"), "\(notApplicable.body)")
            let after = try await store.count("return_versions")
            #expect(after == before)
            // The registry's filing frequency per year is part of the taxpayer's record.
            let record = try await call(app, .GET, "/api/v1/taxpayers/\(tp)", token: t)
            #expect(record.json?["vat_frequencies"]?["2026"] == .string("quarterly") && record.json?["vat_frequencies"]?["2023"] == nil)
            let anonymous = try await call(app, .POST, "/api/v1/taxpayers/\(tp)/returns", body: vatQ2)
            #expect(anonymous.status == .unauthorized)
        }
    }

    /// Every role against every endpoint (API and web pages), on a Pudong taxpayer and on a Huangpu one.
    @Test(arguments: Backend.allCases)
    func authorizationMatrix(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let pudong = try await store.boundTaxpayers(user: "user-company").sorted()[0]  // the company user's own
            #expect(try await store.taxpayer(pudong)?.office_id == "13101150100")
            let huangpu = try await store.taxpayers(inOffices: ["13101010100"], search: nil, limit: 1)[0].id
            let targets = [pudong, huangpu]
            var returnOf: [String: String] = [:]
            for t in targets { returnOf[t] = try await store.currentReturns(taxpayer: t).first?.return_id }
            /// What a role may do with each target: none (404, reveals nothing), read (writes 403) or write.
            enum Reach { case none, read, write }
            // Reach per target, and what registering a new taxpayer in the Pudong branch office answers.
            let logins: [(String, String, [Reach], HTTPStatus)] = [
                ("admin", "huiqi-admin", [.read, .read], .created),          // keeps the registry, files nothing
                ("shanghai", "huiqi-supervisor", [.read, .read], .forbidden), // province supervisor: both districts, read-only
                ("pudong", "huiqi-officer", [.write, .none], .created),
                ("huangpu", "huiqi-officer", [.none, .write], .badRequest),  // office_id outside its reach
                ("suzhou", "huiqi-supervisor", [.none, .none], .forbidden),  // a city supervisor in another province
                ("company", "huiqi-taxpayer", [.write, .none], .forbidden),  // bound to the Pudong taxpayer only
            ]
            for (n, (login, password, reach, registers)) in logins.enumerated() {
                let t = try await token(app, login, password)
                var web = WebClient(app: app)
                let csrf = try await web.login(login, password)
                for (target, r) in zip(targets, reach) {
                    let read: HTTPStatus = r == .none ? .notFound : .ok
                    func write(_ ok: HTTPStatus) -> HTTPStatus { r == .write ? ok : r == .read ? .forbidden : .notFound }
                    let rid = returnOf[target] ?? "none"
                    let observed: [(String, HTTPStatus, HTTPStatus)] = [
                        ("GET taxpayer", try await call(app, .GET, "/api/v1/taxpayers/\(target)", token: t).status, read),
                        ("GET returns", try await call(app, .GET, "/api/v1/taxpayers/\(target)/returns", token: t).status, read),
                        ("GET return", try await call(app, .GET, "/api/v1/taxpayers/\(target)/returns/\(rid)", token: t).status, read),
                        ("POST preview", try await call(app, .POST, "/api/v1/taxpayers/\(target)/returns/preview", token: t, body: vatQ2).status, write(.ok)),
                        ("POST returns", try await call(app, .POST, "/api/v1/taxpayers/\(target)/returns", token: t, body: vatQ2).status, write(.created)),
                        ("page taxpayer", try await web.request(.GET, "/taxpayers/\(target)").status, read),
                        ("page return", try await web.request(.GET, "/taxpayers/\(target)/returns/\(rid)").status, read),
                        ("page form", try await web.request(.GET, "/taxpayers/\(target)/file/vat").status, write(.ok)),
                        // Filed through the API just above: the web form corrects it on its own path (a blank form says 本期已申报, 409).
                        ("page preview", try await web.request(.POST, "/taxpayers/\(target)/file/vat", form: [("period", "2026-Q1"), ("kind0", "goods"),
                            ("amount0", "1000.00"), ("rate0", "0.03"), ("action", "preview"), ("correcting", "vat:2026-Q1"), ("csrf", csrf)]).status, write(.ok)),
                        ("page blank form again", try await web.request(.POST, "/taxpayers/\(target)/file/vat", form: [("period", "2026-Q1"), ("kind0", "goods"),
                            ("amount0", "1000.00"), ("rate0", "0.03"), ("action", "preview"), ("csrf", csrf)]).status, write(.conflict)),
                    ]
                    let keepsRegistry = ["admin", "pudong", "huangpu"].contains(login)
                    let frequency = try await call(app, .PUT, "/api/v1/taxpayers/\(target)/vat-frequencies/\(2009 + n)", token: t,
                                                   body: #"{"frequency":"monthly"}"#).status
                    for (what, got, want) in observed + [("PUT frequency", frequency, r == .none ? .notFound : keepsRegistry ? .created : .forbidden)] { #expect(got == want, "\(login) \(what) \(target): \(got), expected \(want)") }
                    // Searching does not reveal a taxpayer out of reach either.
                    let found = try await call(app, .GET, "/api/v1/taxpayers?q=\(target)", token: t).body.contains(target)
                    #expect(found == (r != .none), "\(login) search \(target)")
                }
                let code = "91310115MA9WXYT0\(n)"
                let registered = try await call(app, .POST, "/api/v1/taxpayers", token: t,
                                                body: RegistryTests.taxpayer(code + String(CreditCode.checkCharacter(for: code)!)))
                #expect(registered.status == registers, "\(login) registers: \(registered.status)")
                // Endpoints without taxpayer data are open to every signed-in role.
                #expect(try await call(app, .POST, "/api/v1/calc", token: t, body: try String(contentsOfFile: "examples/company-2023-q2.json", encoding: .utf8)).status == .ok)
                #expect(try await call(app, .GET, "/api/v1/taxpayers", token: t).status == .ok)
                // A taxpayer that does not exist looks the same as one outside reach.
                #expect(try await call(app, .GET, "/api/v1/taxpayers/91310115MA00000000/returns", token: t).status == .notFound)
            }
            // Without credentials: 401 from the API, the login page from the web.
            for path in ["/api/v1/taxpayers", "/api/v1/taxpayers/\(pudong)", "/api/v1/taxpayers/\(pudong)/returns"] {
                #expect(try await call(app, .GET, path).status == .unauthorized)
                #expect(try await call(app, .GET, path, token: "not-a-token").status == .unauthorized)
            }
            #expect(try await call(app, .POST, "/api/v1/calc", body: "{}").status == .unauthorized)
            var anonymous = WebClient(app: app)
            // A deep link opened while signed out returns to the same page after login.
            #expect(try await anonymous.request(.GET, "/taxpayers/\(pudong)").location == "/login?next=%2Ftaxpayers%2F\(pudong)")
        }
    }

    /// Listing and search reveal only taxpayers within reach.
    @Test(arguments: Backend.allCases)
    func listingStaysWithinReach(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            func ids(_ login: String, _ password: String, _ query: String = "") async throws -> [String] {
                let r = try await call(app, .GET, "/api/v1/taxpayers\(query)", token: try await token(app, login, password))
                guard case .array(let rows)? = r.json else { return [] }
                return rows.compactMap { if case .string(let id)? = $0["id"] { return id }; return nil }
            }
            let pudong = try await ids("pudong", "huiqi-officer"), huangpu = try await ids("huangpu", "huiqi-officer")
            // 60 demo taxpayers: 12 in 苏州工业园区 (i % 5 == 4); of the 48 others, 32 in 浦东 and 16 in 黄浦.
            #expect(pudong.count == 32 && huangpu.count == 16)
            #expect(Set(pudong).isDisjoint(with: huangpu))
            let suzhou = try await ids("suzhou", "huiqi-supervisor")
            #expect(suzhou.count == 12 && suzhou.allSatisfy { $0.hasPrefix("91320571") })
            let supervisor = try await ids("shanghai", "huiqi-supervisor"), admin = try await ids("admin", "huiqi-admin")
            let company = try await ids("company", "huiqi-taxpayer")
            let crossSearch = try await ids("huangpu", "huiqi-officer", "?q=91310115")
            let ownSearch = try await ids("pudong", "huiqi-officer", "?q=91310115MA0000001")
            #expect(supervisor.count == 48 && admin.count == 60)
            #expect(company.sorted() == ["91310115MA0000001Y", "91310115MA00000022"])
            #expect(crossSearch.isEmpty)
            #expect(ownSearch.contains("91310115MA0000001Y"))
        }
    }

    @Test(arguments: Backend.allCases)
    func loginIsRateLimited(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            for _ in 0..<5 {
                let r = try await call(app, .POST, "/api/v1/login", body: #"{"login":"pudong","password":"wrong"}"#)
                #expect(r.status == .unauthorized)
            }
            let locked = try await call(app, .POST, "/api/v1/login", body: #"{"login":"pudong","password":"huiqi-officer"}"#)
            #expect(locked.status == .tooManyRequests && locked.headers.first(name: .retryAfter) == "300")
            // Per login and source: the same login from another address, and another login, are not locked out.
            let store = Store(app.db)
            let auth = AuthService(store: store, access: Access(store: store), now: { Date(timeIntervalSince1970: 1_780_000_000) })
            for _ in 0..<5 { _ = try await auth.login("admin", password: "wrong", remote: "[IPv4]10.0.0.66/10.0.0.66:40001") }
            await #expect(throws: ServiceError.tooManyRequests(retryAfter: 300)) {
                try await auth.login("admin", password: "huiqi-admin", remote: "[IPv4]10.0.0.66/10.0.0.66:40002")
            }
            let fromAdminsDesk = try await auth.login("admin", password: "huiqi-admin", remote: "[IPv4]10.0.0.7/10.0.0.7:40003")
            #expect(fromAdminsDesk?.actor.role == .administrator)
            // …and only for the window: five minutes later the attacker's address may try again.
            let later = AuthService(store: store, access: Access(store: store), now: { Date(timeIntervalSince1970: 1_780_000_000 + 301) })
            _ = try await later.login("admin", password: "wrong", remote: "[IPv4]10.0.0.66/10.0.0.66:40004")
        }
    }
}
