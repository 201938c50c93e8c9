import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Issue 7: no request crashes the process or leaks a 500, exact contracts at every edge, and a legal record
/// that cannot change after the fact. Each test runs on SQLite and PostgreSQL.
@Suite struct HardeningTests {
    static let pudong = "91310115MA0000001Y"

    /// The three inputs that ended the process with an arithmetic overflow: now 400s naming the field, and the
    /// server goes on answering.
    @Test(arguments: Backend.allCases)
    func formerCrashInputs(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let t = try await token(app, "company", "huiqi-taxpayer")
            let lines = Array(repeating: #"{"kind":"goods","amount":"999999999999999.99","rate":"0.03"}"#, count: 100).joined(separator: ",")
            let big = #"{"vat":{"period":"2026-Q1","sales":[\#(lines)]}}"#
            let calc = try await call(app, .POST, "/api/v1/calc", token: t, body: big.replacingOccurrences(of: #"{"vat""#, with: #"{"taxpayer":{"kind":"enterprise","vat_status":"small_scale"},"vat""#))
            #expect(calc.status == .badRequest && calc.json?["error"]?["field"] == .string("vat.sales[0].amount"))
            let preview = try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns/preview", token: t, body: big)
            #expect(preview.status == .badRequest && preview.json?["error"]?["field"] == .string("vat.sales[0].amount"))
            let heads = #"{"eit":{"year":2025,"quarters":[{"employees":[9223372036854775807,9223372036854775807],"assets":["1","1"],"taxable_income_ytd":"1"}]}}"#
            let eit = try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns/preview", token: t, body: heads)
            #expect(eit.status == .badRequest && eit.json?["error"]?["field"] == .string("eit.quarters[0].employees[0]"))
            let year = #"{"business_income":{"year":9223372036854775807,"taxable_income":"1","other_relief":"0"}}"#
            let bi = try await call(app, .POST, "/api/v1/taxpayers/91310115MA00000022/returns/preview", token: t, body: year)
            #expect(bi.status == .badRequest && bi.json?["error"]?["field"] == .string("business_income.year"))
            // The web EIT form takes the same head counts as text.
            var web = WebClient(app: app)
            let csrf = try await web.login("company", "huiqi-taxpayer")
            let form = try await web.request(.POST, "/taxpayers/\(Self.pudong)/file/eit", form: [
                ("csrf", csrf), ("year", "2025"), ("quarter", "1"), ("employees_start", "9223372036854775807"), ("employees_end", "9223372036854775807"),
                ("assets_start", "1"), ("assets_end", "1"), ("taxable_income_ytd", "1"), ("action", "preview")])
            #expect(form.status.code < 500 && form.body.contains("employees"), "\(form.status)")
            #expect(try await call(app, .GET, "/health").status == .ok)
        }
    }

    /// A NUL anywhere is invalid input naming the field (PostgreSQL answered 22021), and so is a key too long for
    /// its index (54000); nothing is written.
    @Test(arguments: Backend.allCases)
    func nulAndOverlongInputs(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let login = try await call(app, .POST, "/api/v1/login", body: #"{"login":"pud\u0000ong","password":"x"}"#)
            #expect(login.status == .badRequest && login.json?["error"]?["field"] == .string("login"))
            let t = try await token(app, "pudong", "huiqi-officer")
            let path = try await call(app, .GET, "/api/v1/taxpayers/9131%00", token: t)
            #expect(path.status == .badRequest && path.json?["error"]?["field"] == .string("path"))
            let search = try await call(app, .GET, "/api/v1/taxpayers?q=%00", token: t)
            #expect(search.status == .badRequest && search.json?["error"]?["field"] == .string("q"))
            let longSearch = try await call(app, .GET, "/api/v1/taxpayers?q=" + String(repeating: "a", count: 201), token: t)
            #expect(longSearch.status == .badRequest && longSearch.json?["error"]?["field"] == .string("q"))
            let code = "91310115MA9WXYTR0"
            let id = code + String(CreditCode.checkCharacter(for: code)!)
            let name = try await call(app, .POST, "/api/v1/taxpayers", token: t,
                                      body: RegistryTests.taxpayer(id).replacingOccurrences(of: "浦东测试", with: #"浦东\u0000测试"#))
            #expect(name.status == .badRequest && name.json?["error"]?["field"] == .string("name"))
            let office = try await call(app, .POST, "/api/v1/taxpayers", token: t,
                                        body: RegistryTests.taxpayer(id).replacingOccurrences(of: "13101150100", with: #"1310\u0000"#))
            #expect(office.status == .badRequest && office.json?["error"]?["field"] == .string("office_id"))
            let before = try await store.count("return_versions")
            let longKey = try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2,
                                         headers: [("Idempotency-Key", String(repeating: "k", count: 3000))])
            #expect(longKey.status == .badRequest && longKey.json?["error"]?["field"] == .string("Idempotency-Key"))
            let nulHeader = try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2,
                                           headers: [("Huiqi-Declared-Tax", "1\u{0}0")])
            #expect(nulHeader.status == .badRequest && nulHeader.json?["error"]?["field"] == .string("Huiqi-Declared-Tax"))
            let after = try await store.count("return_versions"), registered = try await store.taxpayer(id)
            #expect(after == before && registered == nil)
            var web = WebClient(app: app)
            _ = try await web.login("pudong", "huiqi-officer")
            #expect(try await web.request(.GET, "/taxpayers?q=%00").status == .badRequest)
        }
    }

    /// Ten concurrent answers to one unique key: one 201, nine 409, never a 500.
    @Test(arguments: Backend.allCases)
    func racesOnUniqueKeysAreConflicts(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let t = try await token(app, "pudong", "huiqi-officer")
            let code = "91310115MA9WXYTR0"
            let id = code + String(CreditCode.checkCharacter(for: code)!)
            func statuses(_ make: @escaping @Sendable () async throws -> HTTPStatus) async throws -> [UInt] {
                try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                    for _ in 0..<10 { group.addTask { try await make() } }
                    return try await group.reduce(into: []) { $0.append($1.code) }.sorted()
                }
            }
            let registered = try await statuses { try await call(app, .POST, "/api/v1/taxpayers", token: t, body: RegistryTests.taxpayer(id)).status }
            #expect(registered == [201] + Array(repeating: 409, count: 9))
            let frequencies = try await statuses {
                try await call(app, .PUT, "/api/v1/taxpayers/\(id)/vat-frequencies/2026", token: t, body: #"{"frequency":"quarterly"}"#).status
            }
            #expect(frequencies == [201] + Array(repeating: 409, count: 9))
            let store = Store(app.db)
            let registrations = try await store.auditCount(action: "register_taxpayer"), settings = try await store.auditCount(action: "set_vat_frequency")
            #expect(registrations == 1 && settings == 1)
        }
    }

    /// Every error has a documented shape: unmatched paths (404), wrong methods (405 with Allow), bodies over 1 MB
    /// (413); and every response carries the security headers.
    @Test(arguments: Backend.allCases)
    func errorShapesAndHeaders(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let t = try await token(app, "pudong", "huiqi-officer")
            let missing = try await call(app, .GET, "/api/v1/nothing-here", token: t)
            #expect(missing.status == .notFound && missing.json?["error"].map { if case .string = $0 { true } else { false } } == true)
            let method = try await call(app, .DELETE, "/api/v1/taxpayers", token: t)
            #expect(method.status == .methodNotAllowed && method.headers.first(name: .allow) == "GET, POST", "\(method.headers)")
            // Body limits apply where bodies are streamed: on a served port, not in memory.
            var hugeHeaders = HTTPHeaders()
            hugeHeaders.bearerAuthorization = .init(token: t); hugeHeaders.contentType = .json
            let port = 19_000 + Int.random(in: 0..<900)
            let served = try await app.testing(method: .running(hostname: "127.0.0.1", port: port)).performTest(request: TestingHTTPRequest(
                method: .POST, url: .init(path: "/api/v1/calc"), headers: hugeHeaders,
                body: ByteBuffer(string: "{\"name\":\"" + String(repeating: "x", count: 1_100_000) + "\"}")))
            var huge = Reply(status: served.status, body: String(buffer: served.body))
            huge.headers = served.headers
            #expect(huge.status == .payloadTooLarge && huge.json?["error"] != nil, "\(huge.status) \(huge.body.prefix(200))")
            for r in [missing, method, try await call(app, .GET, "/health"), try await call(app, .GET, "/login")] {
                #expect(r.headers.first(name: "X-Content-Type-Options") == "nosniff" && r.headers.first(name: "X-Frame-Options") == "DENY")
                #expect(r.headers.first(name: "Content-Security-Policy") != nil && r.headers.first(name: "Referrer-Policy") == "same-origin")
            }
            // The login form is CSRF-protected too: a post without the form's token is refused.
            var web = WebClient(app: app)
            let forged = try await web.request(.POST, "/login", form: [("login", "pudong"), ("password", "huiqi-officer")])
            #expect(forged.status == .forbidden && web.cookies["huiqi_session"] == nil)
        }
    }

    /// Tokens end at once on logout, on an administrator's revocation and at expiry; a removed binding takes effect
    /// on the next request (no cache window).
    @Test(arguments: Backend.allCases)
    func credentialsEndAtOnce(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let own = "/api/v1/taxpayers/\(Self.pudong)"
            let first = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .GET, own, token: first).status == .ok)
            #expect(try await call(app, .POST, "/api/v1/logout", token: first).status == .noContent)
            #expect(try await call(app, .GET, own, token: first).status == .unauthorized)
            // An administrator revokes every token and web session of the user.
            let second = try await token(app, "company", "huiqi-taxpayer")
            var web = WebClient(app: app)
            _ = try await web.login("company", "huiqi-taxpayer")
            let admin = try await token(app, "admin", "huiqi-admin")
            let officer = try await token(app, "pudong", "huiqi-officer")
            #expect(try await call(app, .POST, "/api/v1/users/user-company/revoke", token: officer).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/users/user-company/revoke", token: admin).status == .noContent)
            #expect(try await call(app, .POST, "/api/v1/users/nobody/revoke", token: admin).status == .notFound)
            #expect(try await call(app, .GET, own, token: second).status == .unauthorized)
            // Filing checks its token in the statement that reads what filing needs: the revoked token is refused there
            // too, with a body that is filed below and with one that does not decode, and nothing is written.
            let versions = try await store.count("return_versions")
            for body in [vatQ2, "{"] {
                #expect(try await call(app, .POST, own + "/returns", token: second, body: body).status == .unauthorized)
                #expect(try await call(app, .POST, own + "/returns", token: "not-a-token", body: body).status == .unauthorized)
            }
            #expect(try await store.count("return_versions") == versions)
            #expect(try await web.request(.GET, "/taxpayers").location?.hasPrefix("/login") == true)
            #expect(try await store.auditCount(action: "revoke_credentials") == 1)
            // A binding removed: the next request no longer reaches the taxpayer.
            let third = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .GET, own, token: third).status == .ok)
            #expect(try await call(app, .POST, own + "/returns", token: third, body: vatQ2).status == .created)
            try await store.db.delete(from: "user_taxpayers").where("user_id", .equal, "user-company").where("taxpayer_id", .equal, Self.pudong).run()
            #expect(try await call(app, .GET, own, token: third).status == .notFound)
            #expect(try await call(app, .POST, own + "/returns", token: third, body: vatQ2).status == .notFound)
            // An officer moved to another district loses the old one on the next request.
            let pudong = try await token(app, "pudong", "huiqi-officer")
            #expect(try await call(app, .GET, own, token: pudong).status == .ok)
            try await store.db.raw("UPDATE users SET office_id = '13101010000' WHERE id = 'user-pudong'").run()
            #expect(try await call(app, .GET, own, token: pudong).status == .notFound)
            // Tokens expire: 30 days after issue (the app's clock is fixed), a token no longer authenticates.
            let issued = Date(timeIntervalSince1970: 1_780_000_000)
            let later = AuthService(store: store, access: Access(store: store), now: { issued.addingTimeInterval(30 * 86_400 + 1) })
            let within = AuthService(store: store, access: Access(store: store), now: { issued.addingTimeInterval(29 * 86_400) })
            let (fresh, _) = try #require(try await AuthService(store: store, access: Access(store: store), now: { issued })
                .login("pudong", password: "huiqi-officer", remote: nil))
            #expect(try await within.actor(token: fresh).role == .officer)
            await #expect(throws: ServiceError.unauthenticated) { try await later.actor(token: fresh) }
        }
    }

    /// The database refuses UPDATE and DELETE on return versions, the audit log and its chain; the chain verifies,
    /// and a change made behind the triggers' back is found.
    @Test(arguments: Backend.allCases)
    func legalRecordIsAppendOnlyAndTamperEvident(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let t = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2).status == .created)
            try await store.chainAllAudit()  // PostgreSQL places after commit: a row trigger needs a row to refuse
            for statement in ["UPDATE return_versions SET computed_tax_fen = 0", "DELETE FROM return_versions",
                              "UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log",
                              "UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain"] {
                await #expect(throws: (any Error).self, "\(statement)") { try await store.db.raw(SQLQueryString(statement)).run() }
            }
            let intact = try await store.verifyAuditChain()
            #expect(intact.broken == nil && intact.entries >= 2 && intact.lastHash.count == 64, "\(String(describing: intact.broken))")
            // Someone with the database's keys disables the triggers and edits an entry: the chain shows where.
            if backend == .postgres {
                try await store.db.raw("ALTER TABLE audit_log DISABLE TRIGGER USER").run()
            } else {
                try await store.db.raw("DROP TRIGGER audit_log_no_update").run()
            }
            try await store.db.raw("UPDATE audit_log SET detail = 'tax 0.00' WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 2)").run()
            let tampered = try await store.verifyAuditChain()
            #expect(tampered.broken?.seq == 2 && tampered.broken?.reason == "the entry was changed")
        }
    }

    /// The chain names what is missing from it: an entry removed behind the triggers' back, and (SQLite, which places
    /// at insert) an entry written around the store. PostgreSQL's verification places such an entry instead: its
    /// sweep finds it like any entry whose chainer has not run.
    @Test(arguments: Backend.allCases)
    func entriesMissingFromTheChainAreNamed(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let t = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2).status == .created)
            try await store.db.raw("""
                INSERT INTO audit_log (id, at, user_id, action, object, detail, remote)
                VALUES ('around', '2026-06-01T00:00:00Z', NULL, 'test', 'o', 'd', NULL)
                """).run()
            let around = try await store.verifyAuditChain()
            if backend == .sqlite {
                #expect(around.broken?.reason == "1 entries without a place in the chain")
            } else {
                let entries = try await store.count("audit_log")
                #expect(around.broken == nil && around.entries == entries)
            }
            if backend == .postgres {
                try await store.db.raw("ALTER TABLE audit_log DISABLE TRIGGER USER").run()
            } else {
                try await store.db.raw("DROP TRIGGER audit_log_no_delete").run()
            }
            let first = try await store.db.raw("SELECT entry_id FROM audit_chain WHERE seq = 1").first()?.decode(column: "entry_id", as: String.self)
            try await store.db.raw("DELETE FROM audit_log WHERE id = \(bind: first ?? "")").run()
            let removed = try await store.verifyAuditChain()
            #expect(removed.broken?.seq == 1 && removed.broken?.reason == "entry \(first ?? "") was removed")
        }
    }

    /// An auditor's question by time ("what happened on this day") is answered from `audit_log_at`: a B-tree on
    /// SQLite, a BRIN index of page ranges on PostgreSQL (migration 028), which filings do not write an entry into.
    @Test(arguments: Backend.allCases)
    func theAuditLogAnswersByTime(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let day: SQLQueryString = "SELECT id FROM audit_log WHERE at >= '2026-06-01T00:00:00Z' AND at < '2026-06-02T00:00:00Z'"
            let plan: String
            if backend == .postgres {
                let method = try await store.db.raw("SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'audit_log_at'")
                    .first()?.decode(column: "amname", as: String.self)
                #expect(method == "brin")
                plan = try await app.db.transaction { tx in
                    let db = tx as! any SQLDatabase
                    try await db.raw("SET LOCAL enable_seqscan = off").run()
                    return try await db.raw("EXPLAIN " + day).all().map { try $0.decode(column: "QUERY PLAN", as: String.self) }.joined(separator: "\n")
                }
            } else {
                plan = try await store.db.raw("EXPLAIN QUERY PLAN " + day).all().map { try $0.decode(column: "detail", as: String.self) }.joined(separator: "\n")
            }
            #expect(plan.contains("audit_log_at"), "\(plan)")
        }
    }

    /// On PostgreSQL audit entries are written unplaced and placed after commit (migrations 019 and 027), so filings
    /// do not wait for each other. An insert cannot choose the transaction it is found by; neither table takes an
    /// update; filings racing with chainers still make one unbroken chain holding every entry.
    @Test func auditEntriesArePlacedAfterCommit() async throws {
        try await withHuiqi(.postgres) { app in
            let store = Store(app.db)
            try await store.chainAllAudit()
            let id = UUID().uuidString
            let (stored, own) = try await app.db.transaction { tx in
                let db = tx as! any SQLDatabase
                try await db.raw("""
                    INSERT INTO audit_log (id, at, user_id, action, object, detail, remote, txid)
                    VALUES (\(bind: id), '2026-06-01T00:00:00Z', NULL, 'test', 'o', 'd', NULL, 0)
                    """).run()
                let stored = try await db.raw("SELECT txid FROM audit_log WHERE id = \(bind: id)").first()?.decode(column: "txid", as: Int64.self)
                let own = try await db.raw("SELECT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT) AS x").first()?.decode(column: "x", as: Int64.self)
                return (stored, own)
            }
            #expect(stored != nil && stored == own, "an insert chose the transaction it is found by")
            let t = try await token(app, "company", "huiqi-taxpayer")
            let chaining = Task { var placed = 0; for _ in 0..<40 { placed += try await store.chainAudit(limit: 3); try await Task.sleep(for: .milliseconds(5)) }; return placed }
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for i in 0..<12 {
                    group.addTask { try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2, headers: [("Idempotency-Key", "p-\(i)")]).status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            _ = try await chaining.value
            #expect(statuses.allSatisfy { $0 == .created }, "\(statuses)")
            try await store.chainAllAudit()
            #expect(try await store.unchainedAuditEntries() == 0)
            let chain = try await store.verifyAuditChain()
            let entries = try await store.count("audit_log")
            let places = try await store.count("audit_chain")
            #expect(chain.broken == nil && chain.entries == entries && entries == places, "\(String(describing: chain.broken))")
            // Placed once: a place cannot be moved, and an entry cannot be placed twice.
            for statement: SQLQueryString in ["UPDATE audit_chain SET seq = seq + 100000 WHERE entry_id = \(bind: id)",
                                              "UPDATE audit_log SET txid = 1 WHERE id = \(bind: id)",
                                              "INSERT INTO audit_chain (seq, entry_id, hash) VALUES (100000, \(bind: id), 'h')"] {
                await #expect(throws: (any Error).self, "\(statement)") { try await store.db.raw(statement).run() }
            }
        }
    }

    /// A transaction that writes its entry early and commits late, while other entries are placed past it: the
    /// chainers' horizon stays below it, so its entry is still found and placed without a sweep, after the entries
    /// committed before it. (A horizon taken from the entries placed, rather than from the transactions still
    /// running, would miss it.)
    @Test func anEntryCommittedLateIsStillPlaced() async throws {
        try await withHuiqi(.postgres) { app in
            let store = Store(app.db)
            try await store.chainAllAudit()
            let written = AsyncStream<Void>.makeStream(), release = AsyncStream<Void>.makeStream()
            let late = UUID().uuidString
            let slow = Task {
                try await app.db.transaction { tx in
                    try await (tx as! any SQLDatabase).raw("""
                        INSERT INTO audit_log (id, at, user_id, action, object, detail, remote)
                        VALUES (\(bind: late), '2026-06-01T00:00:00Z', NULL, 'test', 'late', 'd', NULL)
                        """).run()
                    written.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in written.stream { break }
            let t = try await token(app, "company", "huiqi-taxpayer")
            for i in 0..<3 {
                #expect(try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2, headers: [("Idempotency-Key", "l-\(i)")]).status == .created)
                _ = try await store.chainAudit(wait: true)
            }
            #expect(try await store.unchainedAuditEntries() == 0, "the uncommitted entry is not seen")
            release.continuation.yield()
            try await slow.value
            // No sweep here (verification sweeps): the server's own chainer may take it first, but the horizon must
            // leave it in sight of whichever looks.
            while try await store.chainAudit(wait: true) > 0 {}
            #expect(try await store.unchainedAuditEntries() == 0)
            let placed = try await store.db.raw("SELECT c.seq FROM audit_chain c WHERE c.entry_id = \(bind: late)").first()?.decode(column: "seq", as: Int64.self)
            let places = try await store.count("audit_chain"), entries = try await store.count("audit_log")
            #expect(placed == Int64(places), "placed last, after the entries committed before it")
            let chain = try await store.verifyAuditChain()
            #expect(chain.broken == nil && chain.entries == entries)
        }
    }

    /// Migration 027 on a database whose chain lives in `audit_log`: places already given keep their numbers and
    /// hashes, and on PostgreSQL an entry not yet placed is placed next, by the same formula.
    @Test(arguments: Backend.allCases)
    func chainTableMigrationKeepsTheChain(_ backend: Backend) async throws {
        guard let location = try await newDatabase(backend) else { return }
        let before = Array(HuiqiMigrations.all.prefix { $0.name != "027_audit_chain_table" })
        #expect(HuiqiMigrations.all[before.count].name == "027_audit_chain_table")
        let rows = (1...3).map { i in AuditRow(id: "e\(i)", at: "2026-06-0\(i)T00:00:00Z", user_id: i == 2 ? nil : "u", action: "test", object: "o\(i)", detail: "第\(i)条", remote: nil) }
        var hashes: [String] = []
        for (i, row) in rows.enumerated() { hashes.append(AuditChain.hash(prev: hashes.last ?? "", seq: Int64(i + 1), row)) }
        try await withStore(location, migrations: before) { store in
            for (i, r) in rows.enumerated() {
                try await store.db.raw("""
                    INSERT INTO audit_log (id, at, user_id, action, object, detail, remote, seq, prev_hash, hash)
                    VALUES (\(bind: r.id), \(bind: r.at), \(bind: r.user_id), \(bind: r.action), \(bind: r.object), \(bind: r.detail), NULL,
                            \(bind: Int64(i + 1)), \(bind: i == 0 ? "" : hashes[i - 1]), \(bind: hashes[i]))
                    """).run()
            }
            if backend == .postgres {
                // Migration 019's trigger left them unplaced; the first two get their places as its chainer gave them.
                for i in 0..<2 {
                    try await store.db.raw("UPDATE audit_log SET seq = \(bind: Int64(i + 1)), prev_hash = \(bind: i == 0 ? "" : hashes[i - 1]), hash = \(bind: hashes[i]) WHERE id = \(bind: rows[i].id)").run()
                }
            }
        }
        try await withStore(location) { store in
            let places = try await store.db.raw("SELECT seq, entry_id, hash FROM audit_chain ORDER BY seq").all().map {
                "\(try $0.decode(column: "seq", as: Int64.self)) \(try $0.decode(column: "entry_id", as: String.self)) \(try $0.decode(column: "hash", as: String.self))"
            }
            #expect(places == (0..<3).map { "\($0 + 1) e\($0 + 1) \(hashes[$0])" })
            let chain = try await store.verifyAuditChain()
            #expect(chain.broken == nil && chain.entries == 3 && chain.lastHash == hashes[2])
        }
        await dropDatabase(location)
    }

    /// Staff logins are not shown to taxpayers: a version an officer filed shows the officer's display name.
    @Test(arguments: Backend.allCases)
    func taxpayersSeeDisplayNamesNotStaffLogins(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let officer = try await token(app, "pudong", "huiqi-officer")
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: officer, body: vatQ2).status == .created)
            let company = try await token(app, "company", "huiqi-taxpayer")
            let seen = try await call(app, .GET, "/api/v1/taxpayers/\(Self.pudong)/returns/vat:2026-Q1", token: company)
            #expect(seen.json?[0]?["filed_by"] == .string("浦东新区税务局 税务人员") && !seen.body.contains("pudong"), "\(seen.body.prefix(300))")
            let staff = try await call(app, .GET, "/api/v1/taxpayers/\(Self.pudong)/returns/vat:2026-Q1", token: officer)
            #expect(staff.json?[0]?["filed_by"] == .string("user-pudong"))
        }
    }

    /// `huiqi backup` and `huiqi restore`: a round trip into a new database keeps every version and the audit chain,
    /// and `huiqi check` finds nothing wrong; a restore never overwrites.
    @Test(arguments: Backend.allCases)
    func backupAndRestoreRoundTrip(_ backend: Backend) async throws {
        guard let source = try await newDatabase(backend), let target = try await newDatabase(backend) else { return }
        try await withHuiqi(backend, at: source) { app in
            let t = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(Self.pudong)/returns", token: t, body: vatQ2).status == .created)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-backup-\(UUID()).bak").path
        try await Backup.backup(source, to: file)
        await #expect(throws: Backup.Failure.self) { try await Backup.backup(source, to: file) }
        let problems = try await Backup.restore(from: file, to: target)
        #expect(problems.isEmpty, "\(problems)")
        let counts = { @Sendable (store: Store) async throws -> [Int] in
            [try await store.count("return_versions"), try await store.count("audit_log"), try await store.count("taxpayers")]
        }
        let before = try await withStore(source, counts), after = try await withStore(target, counts)
        #expect(before == after && before[0] > 0 && before[1] >= 2)
        let chain = try await withStore(target) { try await $0.verifyAuditChain() }
        #expect(chain.broken == nil && chain.entries == before[1])
        await #expect(throws: (any Error).self) { _ = try await Backup.restore(from: file, to: target) }
        await dropDatabase(source); await dropDatabase(target)  // as `withHuiqi` does: one whose body threw stays, to be looked at
    }

    /// `/metrics` is not open to the world: with a token configured it requires it.
    @Test func metricsNeedTheirToken() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-metrics-\(UUID()).sqlite").path
        try await withApp(configure: { app in
            try await configure(app, ServerSettings(database: .sqlite(path: path), metricsToken: "scrape-secret"))
        }) { app in
            #expect(try await call(app, .GET, "/metrics").status == .unauthorized)
            #expect(try await call(app, .GET, "/metrics", token: "wrong").status == .unauthorized)
            let ok = try await call(app, .GET, "/metrics", token: "scrape-secret")
            #expect(ok.status == .ok && ok.body.contains("http_requests_total{"))
        }
    }

    /// Served over HTTPS (a configured public URL says so), cookies are Secure and HSTS is sent.
    @Test func httpsMakesCookiesSecure() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-https-\(UUID()).sqlite").path
        try await withApp(configure: { app in
            try await configure(app, ServerSettings(database: .sqlite(path: path), publicURL: "https://huiqi.example.gov.cn"))
        }) { app in
            let r = try await call(app, .GET, "/login")
            #expect(r.headers[.setCookie].allSatisfy { $0.contains("Secure") } && !r.headers[.setCookie].isEmpty)
            #expect(r.headers.first(name: "Strict-Transport-Security") != nil)
        }
    }
}
