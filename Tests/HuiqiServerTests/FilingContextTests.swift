import Foundation
@testable import HuiqiServer
import HuiqiStore
import SQLKit
import Testing
import Vapor

/// What filing reads before it writes (`Store.filingContext`): on PostgreSQL one prepared statement, elsewhere one
/// statement per fact. Both ways must give the same answer, and the right one.
@Suite struct FilingContextTests {
    @Test(arguments: Backend.allCases)
    func oneStatementReadsWhatSeparateStatementsRead(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            let store = Store(app.db)
            // The same database without Fluent: the statement-by-statement path, also on PostgreSQL.
            let plain = Store(sql: try #require(app.db as? any SQLDatabase))
            let company = "91310115MA0000001Y"
            let t = try await token(app, "company", "huiqi-taxpayer")
            // The closed period (2026-Q1), filed again.
            let corrected = try await call(app, .POST, "/api/v1/taxpayers/\(company)/returns", token: t, body: vatQ2)
            #expect(corrected.status == .created, "\(corrected.body)")
            let version = try #require(Int(corrected.json?["return"]?["version"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? ""))

            let fast = try await store.filingContext(taxpayer: company, section: "vat", year: 2026, returnID: "vat:2026-Q2", vatYear: 2026)
            let slow = try await plain.filingContext(taxpayer: company, section: "vat", year: 2026, returnID: "vat:2026-Q2", vatYear: 2026)
            #expect(fast == slow)
            #expect(fast.taxpayer?.id == company && fast.taxpayer?.office_id == "13101150100")
            #expect(fast.vatFrequency == "quarterly")
            // The year's VAT returns as filed: 2026-Q1 at its latest version, with the corrected case.
            #expect(fast.filedThisYear.map(\.returnID) == ["vat:2026-Q1"] && fast.filedThisYear.first?.version == version)
            #expect(fast.filedThisYear.first?.caseJSON == vatQ2)
            // With the user of an API filing's bearer token: the same context, and the user while the token has not
            // expired; an expired or unknown token has none.
            let hash = TextDigest.sha256Hex(t)
            for (tokenHash, now, login) in [(hash, "2026-05-29T00:00:00Z", "company"), (hash, "2999-01-01T00:00:00Z", nil), ("unknown", "2026-05-29T00:00:00Z", nil)] {
                for way in [store, plain] {
                    let read = try await way.filingContext(tokenHash: tokenHash, now: now, taxpayer: company, section: "vat", year: 2026,
                                                           returnID: "vat:2026-Q2", vatYear: 2026)
                    #expect(read.user?.login == login, "\(tokenHash.prefix(8)) at \(now)")
                    if login != nil { #expect(read.context == fast) }
                }
            }
            // Another year holds none; no VAT year asked, no frequency read.
            let other = try await store.filingContext(taxpayer: company, section: "vat", year: 2019, returnID: "vat:2019-Q2", vatYear: nil)
            #expect(other.filedThisYear.isEmpty && other.vatFrequency == nil && other.taxpayer?.id == company)
            #expect(other == (try await plain.filingContext(taxpayer: company, section: "vat", year: 2019, returnID: "vat:2019-Q2", vatYear: nil)))

            // Every section and year the company has returns in, and the years on either side: on PostgreSQL the year's
            // returns are read as a range of the key ("vat:2026" up to "vat:2027"), which must find exactly what the
            // section and period find.
            let held = try await plain.db.raw("""
                SELECT DISTINCT section, substr(period, 1, 4) AS year FROM current_returns WHERE taxpayer_id = \(bind: company)
                """).all()
            #expect(Set(try held.map { try $0.decode(column: "section", as: String.self) }) == ["vat", "eit"])
            var found = 0
            for row in held {
                let section = try row.decode(column: "section", as: String.self), year = try #require(Int(try row.decode(column: "year", as: String.self)))
                for y in [year - 1, year, year + 1] {
                    let id = "\(section):\(y)-Q1"
                    let one = try await store.filingContext(taxpayer: company, section: section, year: y, returnID: id, vatYear: nil)
                    #expect(one == (try await plain.filingContext(taxpayer: company, section: section, year: y, returnID: id, vatYear: nil)))
                    #expect(one.filedThisYear.allSatisfy { $0.returnID.hasPrefix("\(section):\(y)") })
                    if y == year { found += one.filedThisYear.count; #expect(!one.filedThisYear.isEmpty) }
                }
            }
            #expect(found >= 3)

            // A return credited by an overpayment notice (screening of the closed period) is credited to itself, and the
            // ledger holds the credit.
            let credited = try #require(try await plain.db.raw("""
                SELECT taxpayer_id, return_id FROM notices WHERE kind = 'overpayment' AND return_id LIKE 'vat:%' ORDER BY id LIMIT 1
                """).first())
            let (taxpayer, returnID) = (try credited.decode(column: "taxpayer_id", as: String.self), try credited.decode(column: "return_id", as: String.self))
            let year = try #require(Int(returnID.dropFirst(4).prefix(4)))
            let fastCredit = try await store.filingContext(taxpayer: taxpayer, section: "vat", year: year, returnID: returnID, vatYear: year)
            #expect(fastCredit == (try await plain.filingContext(taxpayer: taxpayer, section: "vat", year: year, returnID: returnID, vatYear: year)))
            #expect(fastCredit.credit.selfCredited && fastCredit.credit.balanceFen > 0 && fastCredit.credit.appliedFen == 0)
            #expect(fastCredit.credit.balanceFen == (try await store.ledgerBalance(taxpayer: taxpayer, tax: "vat")))

            // No taxpayer with the id: nothing, both ways.
            let none = try await store.filingContext(taxpayer: "91310115MA000000XX", section: "vat", year: 2026, returnID: "vat:2026-Q2", vatYear: 2026)
            #expect(none.taxpayer == nil && none.filedThisYear.isEmpty && none.vatFrequency == nil)
            #expect(none == (try await plain.filingContext(taxpayer: "91310115MA000000XX", section: "vat", year: 2026, returnID: "vat:2026-Q2", vatYear: 2026)))
        }
    }

    /// On PostgreSQL the platform's store sends each statement through the pool of the event loop it runs on, or,
    /// called from outside the loops (as here), through each loop in turn; SQLite keeps one pool. A store bound to
    /// one loop at start-up had used that loop's connections alone (docs/performance.md).
    @Test(arguments: Backend.allCases)
    func theStoreUsesEveryEventLoopOnPostgres(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = app.platform.services.store
            let loops = Array(app.eventLoopGroup.makeIterator()).count
            var used = Set<ObjectIdentifier>()
            for _ in 0..<(2 * loops) { used.insert(ObjectIdentifier(store.db.eventLoop)) }
            #expect(used.count == (backend == .postgres ? loops : 1))
            // And statements still run, on every loop in turn.
            for _ in 0..<(2 * loops) {
                let found = try await store.taxpayer("91310115MA0000001Y")
                #expect(found?.id == "91310115MA0000001Y")
            }
        }
    }

    /// `huiqi bench filing-statements` (scripts/loadcheck): the pgbench script is the filing's statements, each
    /// parameter a column of the samples table. Run here with each variable replaced by the sample's column, the two
    /// statements must read the token's user with the taxpayer, and write one more version of the sampled return.
    @Test func theFilingStatementsScriptRunsOnPostgres() async throws {
        try await withHuiqi(.postgres) { app in
            let db = try #require(app.db as? any SQLDatabase)
            let company = "91310115MA0000001Y"
            let t = try await token(app, "company", "huiqi-taxpayer")
            let filed = try await call(app, .POST, "/api/v1/taxpayers/\(company)/returns", token: t, body: vatQ2, headers: [("Idempotency-Key", "load-1")])
            #expect(filed.status == .created, "\(filed.body)")
            for statement in FilingStatementsScript.setupStatements(keyPrefix: "load-") { try await db.raw(SQLQueryString(statement)).run() }
            let sample = try #require(try await db.raw("SELECT taxpayer_id, return_id FROM filing_samples WHERE n = 1").first())
            #expect(try sample.decode(column: "taxpayer_id", as: String.self) == company)
            let returnID = try sample.decode(column: "return_id", as: String.self)
            let versions = { try await db.raw("SELECT count(*) AS n FROM return_versions WHERE taxpayer_id = \(bind: company) AND return_id = \(bind: returnID)").first()?.decode(column: "n", as: Int.self) }
            let before = try #require(try await versions())

            let script = FilingStatementsScript.pgbench
            #expect(!script.contains("$"), "every parameter is a pgbench variable")
            let statements = script.split(separator: "\n").filter { $0.hasPrefix("SELECT u.") || $0.hasPrefix("WITH c AS") }
            #expect(statements.count == 2)
            // pgbench's own variables: the sample's number and the two unique values.
            let own = ["k": "'filing-statements-test'", "a": "'filing-statements-audit'"]
            let variable = try Regex(":([a-z_]+)")
            var results: [[any SQLRow]] = []
            for statement in statements {
                let sql = String(statement).replacing(variable) { match in
                    let name = String(match.output[1].substring ?? "")
                    return own[name] ?? "(SELECT \(name) FROM filing_samples WHERE n = 1)"
                }.replacingOccurrences(of: ";", with: "")
                results.append(try await db.raw(SQLQueryString(sql)).all())
            }
            #expect(try results[0].first?.decode(column: "user_login", as: String.self) == "company")
            #expect(try results[0].first?.decode(column: "id", as: String.self) == company)
            #expect(try results[1].first?.decode(column: "version", as: Int.self) == before + 1)
            #expect(try await versions() == before + 1)
        }
    }
}
