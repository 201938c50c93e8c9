import Foundation
import HuiqiRules
import HuiqiSearch
import HuiqiServer
import HuiqiServices
@testable import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// The 12366 knowledge base (issue 11 §1) on both databases: the seed content, search that ranks the same on
/// SQLite (FTS5) and PostgreSQL (tsvector), drafts and reviews with versions, and answers flagged for review when a
/// parameter they explain gets a new version.
@Suite struct KnowledgeTests {
    static let queries = ["小规模月销售额10万以下免税吗", "季度30万", "六税两费", "小微企业所得税", "VAT", "3%", "免税", "小微", "季度", "税",
                          "个体户减半", "专票 30万", "起征点", "2026年5月申报期", "投诉 3个工作日", "抵顶", "差额征税", "从业人数 资产总额"]

    func ranked(_ backend: Backend) async throws -> [[String]]? {
        var out: [[String]]? = nil
        guard let location = try await newDatabase(backend) else { return nil }
        try await withHuiqi(backend, at: location) { app in
            let k = Services(store: Store(app.db), engine: try Engine.bundled(), deadlines: try .bundled(), now: { Date() }).knowledge
            #expect(try await k.seedIfEmpty() > 150 + 50)
            #expect(try await k.seedIfEmpty() == 0, "a second seed adds nothing")
            var lists: [[String]] = []
            for q in Self.queries {
                for filter in [KBFilter(), KBFilter(tax: "vat", year: 2024)] {
                    let hits = try await k.rank(terms: k.analyzer.query(q), filter: filter, limit: 10)
                    lists.append(hits.map { "\($0.entry_id) \(String(format: "%.9f", $0.score))" })
                }
            }
            out = lists
        }
        await dropDatabase(location)
        return out
    }

    @Test func searchRanksTheSameOnBothDatabases() async throws {
        guard let sqlite = try await ranked(.sqlite) else { Issue.record("no SQLite"); return }
        #expect(sqlite.filter(\.isEmpty).count * 4 < sqlite.count, "most queries find something")
        #expect(sqlite[0].first?.hasPrefix("vat-") == true, "\(sqlite[0])")
        guard let pg = try await ranked(.postgres) else { return }  // PostgreSQL not configured outside CI
        for (i, (a, b)) in zip(sqlite, pg).enumerated() {
            #expect(a == b, "query \(Self.queries[i / 2]) filter \(i % 2): SQLite \(a) PostgreSQL \(b)")
        }
    }

    /// The packed postings rank exactly as the full-text index does (FTS5's `bm25()`, or the GIN index with the
    /// formula in SQL), with and without filters; after a rebuild; and after the migration fills them from the stored
    /// terms of an index that had none.
    @Test(arguments: Backend.allCases)
    func rankingFromPackedPostingsEqualsTheFullTextIndex(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let k = Services(store: store, engine: try Engine.bundled(), deadlines: try .bundled(), now: { Date() }).knowledge
            try await k.seedIfEmpty()
            func compare(_ stage: String) async throws {
                var found = 0
                for q in Self.queries {
                    for filter in [KBFilter(), KBFilter(tax: "vat", year: 2024), KBFilter(kind: "document"), KBFilter(tax: "local", year: 2019)] {
                        let terms = k.analyzer.query(q)
                        let fast = try await k.rank(terms: terms, filter: filter, limit: 10)
                        let reference = try await k.rankExhaustive(terms: terms, filter: filter, limit: 10)
                        #expect(fast.map(\.entry_id) == reference.map(\.entry_id), "\(stage): \(q) \(filter)")
                        #expect(zip(fast, reference).allSatisfy { abs($0.score - $1.score) < 1e-9 && $0.version == $1.version }, "\(stage): \(q)")
                        found += fast.count
                    }
                }
                #expect(found > 300, "\(stage): the queries find entries (\(found))")
            }
            try await compare("seeded")
            #expect(try await k.reindex() > 200)
            try await compare("rebuilt")
            try await store.db.raw("DELETE FROM kb_blocks").run()
            #expect(try await k.rank(terms: k.analyzer.query("免税"), filter: KBFilter(), limit: 10).isEmpty)
            try await Store.fillKBBlocksFromIndex(on: store.db)
            try await compare("filled by the migration")
        }
    }

    @Test(arguments: Backend.allCases)
    func searchFindsShortAndMixedWordsWithHighlights(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let k = Services(store: Store(app.db), engine: try Engine.bundled(), deadlines: try .bundled(), now: { Date() }).knowledge
            try await k.seedIfEmpty()
            for q in ["免税", "小微", "季度", "30万", "3%", "VAT"] {
                let r = try await call(app, .GET, "/api/v1/kb/search?q=\(q.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)")
                #expect(r.status == .ok)
                guard case .array(let results)? = r.json?["results"] else { Issue.record("no results for \(q)"); continue }
                #expect(!results.isEmpty, "\(q)")
                guard case .string(let snippet)? = results.first?["snippet"] else { Issue.record("no snippet for \(q)"); continue }
                #expect(snippet.contains("【"), "\(q): \(snippet)")
            }
            // Filters: every result covers the year and is of the tax.
            let f = try await call(app, .GET, "/api/v1/kb/search?q=%E5%85%8D%E7%A8%8E&tax=eit&year=2024")
            if case .array(let results)? = f.json?["results"] {
                for r in results { #expect(r["tax"] == .string("eit")) }
            }
            #expect(try await call(app, .GET, "/api/v1/kb/search?q=x&tax=nope").status == .badRequest)
            #expect(try await call(app, .GET, "/api/v1/kb/search?q=\(String(repeating: "a", count: 201))").status == .badRequest)
            #expect(try await call(app, .GET, "/api/v1/kb/search").status == .badRequest)
        }
    }

    @Test(arguments: Backend.allCases)
    func draftsReviewsAndVersions(_ backend: Backend) async throws {
        let clock = TestClock("2026-06-01T02:00:00Z")
        try await withHuiqi(backend, now: clock.now) { app in
            let pudong = try await token(app, "pudong", "huiqi-officer")
            let shanghai = try await token(app, "shanghai", "huiqi-supervisor")
            let suzhou = try await token(app, "suzhou", "huiqi-supervisor")
            let company = try await token(app, "company", "huiqi-taxpayer")
            let draft = #"{"tax":"vat","title":"灵活用工平台代开发票算不算月销售额？","body":"算。平台代开的发票对应纳税人自己的销售额，与其他销售额合计判断是否超过月10万元。","year_from":2023,"year_to":2025,"parameters":["vat.exemption.limit.monthly"]}"#
            #expect(try await call(app, .POST, "/api/v1/kb/drafts", token: company, body: draft).status == .forbidden)
            let made = try await call(app, .POST, "/api/v1/kb/drafts", token: pudong, body: draft)
            #expect(made.status == .created, "\(made.body)")
            guard case .string(let id)? = made.json?["id"] else { Issue.record("no id"); return }
            #expect(made.json?["current"] == nil || made.json?["current"] == .null)
            // Drafts are not public, nor searchable.
            #expect(try await call(app, .GET, "/api/v1/kb/entries/\(id)").status == .notFound)
            // Only an approver (kb.approve, or an administrator) reviews, and never their own draft.
            let approve = #"{"decision":"approve","note":"口径一致"}"#
            #expect(try await call(app, .POST, "/api/v1/kb/entries/\(id)/versions/1/review", token: pudong, body: approve).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/kb/entries/\(id)/versions/1/review", token: suzhou, body: approve).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/kb/entries/\(id)/versions/1/review", token: company, body: approve).status == .forbidden)
            let ok = try await call(app, .POST, "/api/v1/kb/entries/\(id)/versions/1/review", token: shanghai, body: approve)
            #expect(ok.status == .ok, "\(ok.body)")
            #expect(ok.json?["current"]?["version"] == .number("1"))
            #expect(try await call(app, .POST, "/api/v1/kb/entries/\(id)/versions/1/review", token: shanghai, body: approve).status == .conflict)
            // Now public and found.
            #expect(try await call(app, .GET, "/api/v1/kb/entries/\(id)").status == .ok)
            let found = try await call(app, .GET, "/api/v1/kb/search?q=%E7%81%B5%E6%B4%BB%E7%94%A8%E5%B7%A5")
            #expect(found.json?["results"]?[0]?["entry_id"] == .string(id), "\(found.body)")
            // A second version stays a draft until approved; the public sees version 1 meanwhile.
            let v2 = #"{"entry":"\#(id)","title":"灵活用工平台代开发票算不算月销售额？","body":"算，按代开发票的销售额并入当月合计。","year_from":2023,"year_to":2025}"#
            #expect(try await call(app, .POST, "/api/v1/kb/drafts", token: pudong, body: v2).status == .created)
            #expect(try await call(app, .GET, "/api/v1/kb/entries/\(id)").json?["current"]?["version"] == .number("1"))
            let history = try await call(app, .GET, "/api/v1/kb/entries/\(id)/versions", token: pudong)
            #expect(history.json?["versions"]?[0]?["status"] == .string("draft") && history.json?["versions"]?[1]?["status"] == .string("approved"))
            #expect(try await call(app, .GET, "/api/v1/kb/entries/\(id)/versions", token: company).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/kb/entries/\(id)/versions/2/review", token: shanghai, body: approve).status == .ok)
            #expect(try await call(app, .GET, "/api/v1/kb/entries/\(id)").json?["current"]?["version"] == .number("2"))
            // The replaced document left its old postings: both rankings find version 2 alone.
            let k = Services(store: Store(app.db), engine: try Engine.bundled(), deadlines: try .bundled(), now: clock.now).knowledge
            let terms = k.analyzer.query("灵活用工 代开发票")
            let fast = try await k.rank(terms: terms, filter: KBFilter(), limit: 5)
            #expect(fast.map(\.entry_id) == (try await k.rankExhaustive(terms: terms, filter: KBFilter(), limit: 5)).map(\.entry_id))
            #expect(fast.first?.entry_id == id && fast.first?.version == 2)
            // Versions and reviews are append-only in the database itself.
            let store = Store(app.db)
            await #expect(throws: (any Error).self) { try await store.db.raw("UPDATE kb_versions SET body = 'x'").run() }
            await #expect(throws: (any Error).self) { try await store.db.raw("DELETE FROM kb_reviews").run() }
            // Bad input is named.
            let bad = try await call(app, .POST, "/api/v1/kb/drafts", token: pudong, body: #"{"tax":"vat","title":"x","body":"y","year_from":2023,"parameters":["no.such"]}"#)
            #expect(bad.status == .badRequest && bad.body.contains("parameters"))
            // A NUL in an identifier of the body is a named 400, never a database error.
            let nul = try await call(app, .POST, "/api/v1/kb/drafts", token: pudong, body: #"{"entry":"a\u0000b","title":"x","body":"y","year_from":2023}"#)
            #expect(nul.status == .badRequest && nul.body.contains("entry"), "\(nul.body)")
        }
    }

    /// A parameter file with one more version: the answers that link the parameter are flagged; a new approved
    /// version of the answer, written against the new parameters, clears the flag.
    @Test(arguments: Backend.allCases)
    func answersAreFlaggedWhenTheirParameterChanges(_ backend: Backend) async throws {
        let source = try ParameterSet.bundled()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-params-\(UUID().uuidString)")
        let original = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/HuiqiRules/Parameters")
        try FileManager.default.copyItem(at: original, to: dir)
        let changed = dir.appendingPathComponent("eit/eit.settlement_months.yaml")
        var text = try String(contentsOf: changed, encoding: .utf8)
        text = text.replacingOccurrences(of: "  - from: 2008-01-01\n    value: \"5\"", with: "  - from: 2008-01-01\n    to: 2029-12-31\n    value: \"5\"")
        text += "  - from: 2030-01-01\n    value: \"6\"\n    cite: { doc: \"a future amendment (test)\", grade: \"D\" }\n"
        try text.write(to: changed, atomically: true, encoding: .utf8)
        let newLaw = try ParameterSet.load(directory: dir)
        #expect(newLaw.definitions["eit.settlement_months"]?.versions.count == 2)

        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let before = KnowledgeService(store: store, parameters: source, now: { Date() })
            try await before.seedIfEmpty()
            #expect(try await before.entry("eit-settlement-deadline").staleLinks.isEmpty)
            let after = KnowledgeService(store: store, parameters: newLaw, now: { Date() })
            let flagged = try await after.entry("eit-settlement-deadline")
            #expect(flagged.staleLinks.map(\.parameter) == ["eit.settlement_months"])
            #expect(try await after.entry("vat-threshold-2023-2025").staleLinks.isEmpty, "answers of other parameters stay current")
            let r = try await after.search("汇算清缴截止", limit: 5)
            #expect(r.results.first { $0.hit.entry_id == "eit-settlement-deadline" }?.stale == true)
            // The reviewed answer: a new version, linked to the parameter as it now is, approved by someone else.
            let officer = Actor(userID: "user-pudong", login: "pudong", role: .officer, offices: ["13101150000"], boundTaxpayers: [])
            let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])
            let v = flagged.versions[0]
            let (_, n) = try await after.createDraft(KBDraft(entry: v.entry_id, title: v.title, body: v.body + "（2030年起为6个月。）", year_from: 2008, year_to: nil,
                                                             parameters: ["eit.settlement_months"]), by: officer)
            try await after.review(entry: v.entry_id, version: n, approve: true, note: "复核", by: admin)
            #expect(try await after.entry("eit-settlement-deadline").staleLinks.isEmpty)
        }
        try? FileManager.default.removeItem(at: dir)
    }
}
