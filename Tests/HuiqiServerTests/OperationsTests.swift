import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Logging
import Synchronization
import Testing
import Vapor
import VaporTesting

/// Operations (issue 14): the metrics a request and a filing move, liveness and readiness, the access log's fields
/// and what it must never hold, and the client's address behind a trusted proxy.
@Suite struct OperationsTests {
    /// The value of the series `name` whose labels include `labels` (0 when absent), from Prometheus text.
    static func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let wanted = labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") }
            if wanted, let v = line.split(separator: " ").last.flatMap({ Double($0) }) { total += v }
        }
        return total
    }

    /// Tests share one process and so one metrics registry: every check is a rise of at least the test's own
    /// requests, never an exact count.
    @Test(arguments: Backend.allCases)
    func aRequestAndAFilingMoveTheirSeries(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let taxpayer = try await store.boundTaxpayers(user: "user-company").sorted()[0]
            let company = try await token(app, "company", "huiqi-taxpayer")
            let before = try await call(app, .GET, "/metrics").body
            let route = "/api/v1/taxpayers/:taxpayer/returns"
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(taxpayer)/returns", token: company, body: vatQ2).status == .created)
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(taxpayer)/returns", token: company, body: #"{"vat":{"period":"2026-Q9"}}"#).status == .badRequest)
            #expect(try await call(app, .POST, "/api/v1/login", body: #"{"login":"company","password":"wrong"}"#).status == .unauthorized)
            #expect(try await call(app, .GET, "/health").status == .ok)
            #expect(try await call(app, .GET, "/ready").status == .ok)
            let after = try await call(app, .GET, "/metrics").body
            func rose(_ name: String, _ labels: [String: String], by n: Double = 1) {
                #expect(Self.value(after, name, labels) >= Self.value(before, name, labels) + n, "\(name) \(labels)")
            }
            // Vapor's own series, by route pattern and status (no hand-written counter).
            rose("http_requests_total", ["method": "POST", "path": route, "status": "201"])
            rose("http_requests_total", ["method": "POST", "path": route, "status": "400"])
            rose("http_request_duration_seconds_count", ["method": "POST", "path": route, "status": "201"])
            rose("http_requests_total", ["method": "GET", "path": "/health", "status": "200"])
            #expect(after.contains("http_request_duration_seconds_bucket{"))
            // The platform's.
            rose("huiqi_filings_total", ["section": "vat", "outcome": "filed"])
            rose("huiqi_filings_total", ["section": "vat", "outcome": "refused", "code": "invalid_input"])
            rose("huiqi_engine_duration_seconds_count", ["section": "vat"])
            rose("huiqi_login_failures_total", ["reason": "password"])
            #expect(after.contains("huiqi_reminder_outbox_depth "))
            #expect(after.contains("huiqi_db_probe_duration_seconds_count{outcome=\"ok\"}"), "the server's probe or /ready ran")
            #expect(!after.contains("huiqi_http_requests_total"), "the hand-made counters are gone")
        }
    }

    @Test(arguments: Backend.allCases)
    func healthIsLivenessAndReadyChecksWhatServingNeeds(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            #expect(try await call(app, .GET, "/health").json?["status"] == .string("ok"))
            let ready = try await call(app, .GET, "/ready")
            #expect(ready.status == .ok, "\(ready.body)")
            #expect(ready.json?["status"] == .string("ready"))
            #expect(ready.json?["migrations"] == .number("\(HuiqiMigrations.all.count)"))
            // A migration this build expects and the database lacks: not ready, and the reason names it.
            let store = Store(app.db)
            let last = HuiqiMigrations.all.last!.name
            try await store.db.raw("DELETE FROM _fluent_migrations WHERE name = \(bind: last)").run()
            let unready = try await call(app, .GET, "/ready")
            #expect(unready.status == .serviceUnavailable)
            #expect(unready.json?["status"] == .string("unready") && unready.body.contains(last), "\(unready.body)")
            #expect(try await call(app, .GET, "/health").status == .ok, "the process still lives")
        }
    }

    /// Log lines captured from the application's logger (requests log through it, with their request id).
    final class Captured: @unchecked Sendable {
        let lines = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
        var all: [(message: String, metadata: Logger.Metadata)] { lines.withLock { $0 } }
    }
    struct CapturingHandler: LogHandler {
        let captured: Captured
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { metadata[key] } set { metadata[key] = newValue } }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            captured.lines.withLock { $0.append(("\(event.message)", merged)) }
        }
    }

    @Test(arguments: Backend.allCases)
    func theAccessLogHasItsFieldsAndNoPersonalData(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let captured = Captured()
            app.logger = Logger(label: "huiqi-test") { _ in CapturingHandler(captured: captured) }
            let store = Store(app.db)
            let taxpayer = try await store.boundTaxpayers(user: "user-company").sorted()[0]
            let login = try await call(app, .POST, "/api/v1/login", body: #"{"login":"company","password":"huiqi-taxpayer"}"#)
            guard case .string(let company)? = login.json?["token"] else { Issue.record("no token"); return }
            let filed = try await call(app, .POST, "/api/v1/taxpayers/\(taxpayer)/returns", token: company, body: vatQ2)
            #expect(filed.status == .created)
            let secret = "三季度销售额二十八万元申报系统没有给我免税甲乙丙"
            let complaint = try await call(app, .POST, "/api/v1/complaints", token: company,
                                           body: #"{"taxpayer_id":"\#(taxpayer)","category":"relief_not_received","text":"\#(secret)","contact":"13800000000"}"#)
            #expect(complaint.status == .created, "\(complaint.body)")
            // A request id from the proxy is kept and sent back.
            let traced = try await call(app, .GET, "/health", headers: [("X-Request-Id", "proxy-abc-123")])
            #expect(traced.headers.first(name: "X-Request-Id") == "proxy-abc-123")

            // A web page with a session: its line names the session's user.
            var web = WebClient(app: app)
            _ = try await web.login("company", "huiqi-taxpayer")
            let before = captured.all.count
            #expect(try await web.request(.GET, "/").status == .ok)
            let page = captured.all[before...].filter { $0.message == "access" }
            #expect(page.count == 1 && page.first?.metadata["route"] == .string("/") && page.first?.metadata["user"] == .string("user-company"),
                    "\(page.map(\.metadata))")

            let access = captured.all.filter { $0.message == "access" }
            #expect(access.count == 4 + 4, "one line per request (four API calls; the login form, its post, the page after, the home page)")
            for (reply, route, user) in [(filed, "/api/v1/taxpayers/:taxpayer/returns", "user-company"), (complaint, "/api/v1/complaints", "user-company"),
                                         (login, "/api/v1/login", nil)] {
                guard let id = reply.headers.first(name: "X-Request-Id") else { Issue.record("no X-Request-Id"); continue }
                let line = access.first { $0.metadata["request-id"] == .string(id) }
                #expect(line?.metadata["route"] == .string(route), "\(String(describing: line))")
                #expect(line?.metadata["status"].map { "\($0)" } == "\(reply.status.code)")
                // Milliseconds with two decimals, as a number a log query can read: "0.84", "12.50".
                let duration = line?.metadata["duration_ms"].map { "\($0)" } ?? ""
                #expect(duration.wholeMatch(of: /[0-9]+\.[0-9]{2}/) != nil, "\(duration)")
                #expect(line?.metadata["method"] == .string("POST"))
                #expect(line?.metadata["user"].map { "\($0)" } == user)
            }
            #expect(access.contains { $0.metadata["request-id"] == .string("proxy-abc-123") })
            // Nothing personal anywhere in the log: not the password, the token, the credit code or the complaint.
            for l in captured.all {
                let text = l.message + " " + l.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                for forbidden in ["huiqi-taxpayer", company, taxpayer, secret, "13800000000"] {
                    #expect(!text.contains(forbidden), "a log line holds \(forbidden): \(text)")
                }
            }
        }
    }

    /// Behind a trusted proxy the client's address comes from `X-Forwarded-For`; from anyone else the header is
    /// ignored. The audit log records the address (a failed login is audited). A real socket: the peer is 127.0.0.1.
    @Test func forwardedForIsBelievedOnlyFromATrustedProxy() async throws {
        for trusted in [true, false] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-proxy-\(UUID()).sqlite").path
            try await withApp(configure: { app in
                var settings = ServerSettings(database: .sqlite(path: path), demo: true, demoTaxpayers: 5)
                settings.trustedProxies = trusted ? ["127.0.0.1"] : []
                try await configure(app, settings)
            }) { app in
                var headers = HTTPHeaders()
                headers.contentType = .json
                headers.add(name: .xForwardedFor, value: "198.51.100.7, 203.0.113.9")
                let request = TestingHTTPRequest(method: .POST, url: .init(path: "/api/v1/login"), headers: headers,
                                                 body: ByteBuffer(string: #"{"login":"admin","password":"wrong"}"#))
                let r = try await app.testing(method: .running(hostname: "127.0.0.1", port: 0)).performTest(request: request)
                #expect(r.status == .unauthorized)
                let remote = try await Store(app.db).db.raw("SELECT remote FROM audit_log WHERE action = 'login_failed'").first()?.decode(column: "remote", as: String?.self)
                // Trusted: the last address that is not a proxy's (anything before it is the client's own say).
                #expect(remote == (trusted ? "203.0.113.9" : "127.0.0.1"), "trusted \(trusted): \(String(describing: remote))")
            }
        }
    }

    /// Settings a production start must refuse, naming the flag: an unreadable CA file for PostgreSQL's certificate
    /// (refused before any connection), a trusted proxy that is not an IP address.
    @Test func badOperationsSettingsAreRefusedByName() async throws {
        var ca = ServerSettings(database: .postgres(url: "postgres://huiqi@127.0.0.1:1/none?sslmode=require"))
        ca.databaseCAFile = "/nonexistent/db-ca.pem"
        var proxy = ServerSettings(database: .sqlite(path: FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-proxy-\(UUID()).sqlite").path))
        proxy.trustedProxies = ["nginx.local"]
        for (settings, flag) in [(ca, "--database-ca-file"), (proxy, "--trusted-proxy")] {
            let app = try await Application.make(.testing)
            await #expect { try await configure(app, settings) } throws: { "\($0)".contains(flag) }
            try await app.asyncShutdown()
        }
    }
}
