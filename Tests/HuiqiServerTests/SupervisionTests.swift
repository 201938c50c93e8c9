import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// Supervision and performance evaluation (issue 10 §3, first part): the score on hand-computed inputs, the
/// weights as data, and the ranking of real offices on both databases.
@Suite struct SupervisionTests {
    @Test func scoreOnHandComputedInputs() throws {
        let w: [String: Int64] = ["coverage": 50, "timely_filing": 30, "relief_claimed": 20]  // not the bundled weights: a hand example
        // (900 × 50 + 800 × 30 + 1000 × 20) ÷ 100 = 890
        #expect(SupervisionService.score(["coverage": 900, "timely_filing": 800, "relief_claimed": 1000], weights: w) == 890)
        // Nobody entitled: coverage is left out, (800 × 30 + 1000 × 20) ÷ 50 = 880.
        #expect(SupervisionService.score(["coverage": nil, "timely_filing": 800, "relief_claimed": 1000], weights: w) == 880)
        // Half up: (1 × 50 + 0 + 0) ÷ 100 = 0.5 → 1.
        #expect(SupervisionService.score(["coverage": 1, "timely_filing": 0, "relief_claimed": 0], weights: w) == 1)
        #expect(SupervisionService.score(["coverage": nil, "timely_filing": nil, "relief_claimed": nil], weights: w) == nil)
        #expect(SupervisionService.share(2, 3) == 667 && SupervisionService.share(1, 0) == nil)
        // The bundled weights are data, read and checked.
        let bundled = try EvaluationWeights.bundled()
        #expect(bundled.weights == ["coverage": 50, "timely_filing": 25, "relief_claimed": 15, "notices_on_time": 10])
        #expect(bundled.coverage_threshold_permille == 950 && bundled.notice_due_working_days == 15 && bundled.report_due_working_days == 10)
    }

    @Test(arguments: Backend.allCases)
    func officesRankedWithTheirInputs(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            let store = Store(app.db)
            let s = Services(store: store, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: { Date(timeIntervalSince1970: 1_780_000_000) })
            let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])
            let r = try await s.supervision.report(by: admin, kind: "vat", period: "2026-Q1", office: "13100000000")
            let m = try await s.monitoring.report(by: admin, kind: "vat", period: "2026-Q1", office: "13100000000")
            let st = try await s.statistics.report(by: admin, kind: "vat", period: "2026-Q1", office: "13100000000", dimension: "office")
            #expect(r.offices.count == m.children.count && r.offices.count == 2)
            for e in r.offices {
                let f = try #require(m.children.first { $0.office.id == e.office.id }).figures
                let line = try #require(st.lines.first { $0.row.key == e.office.id }).row
                #expect(e.coverage == SupervisionService.share(line.entitled_received, line.entitled))
                #expect(e.timelyFiling == SupervisionService.share(f.filed - f.late, f.expected))
                #expect(e.reliefClaimed == SupervisionService.share(f.filed - f.not_claimed, f.filed))
                // The demo's screening issued its notices on 2026-05-28, after the notice due day (15 working days
                // from the 2026-04-20 deadline: 2026-05-13, 劳动节 between), so every notice is late: 0 of n.
                #expect(e.notices > 0 && e.noticesTimely == 0 && e.noticesOnTime == 0, "\(e.office.id): \(e.noticesTimely) / \(e.notices)")
                // All four inputs are present here: Σ weight × input ÷ 100, half up.
                let weighted = (e.coverage ?? 0) * 50 + (e.timelyFiling ?? 0) * 25 + (e.reliefClaimed ?? 0) * 15 + (e.noticesOnTime ?? 0) * 10
                #expect(e.coverage != nil && e.timelyFiling != nil && e.reliefClaimed != nil)
                #expect(e.score == (weighted * 2 + 100) / 200, "\(e.office.id)")
                #expect(e.flagged == ((e.coverage ?? 1000) < 950))
            }
            #expect(r.offices.map(\.rank) == [1, 2] && (r.offices[0].score ?? 0) >= (r.offices[1].score ?? 0))
            // With a due instant after the screening, the same notices all count as on time.
            let periods = ["2026-Q1", "2026-01", "2026-02", "2026-03"]
            let late = try await store.noticesByChild(of: "13100000000", section: "vat", periods: periods, timelyBefore: "2026-05-13T16:00:00Z")
            let early = try await store.noticesByChild(of: "13100000000", section: "vat", periods: periods, timelyBefore: "2026-06-01T00:00:00Z")
            #expect(!early.isEmpty && early.keys == late.keys)
            for (office, n) in early { #expect(n.1 == n.0 && late[office]?.1 == 0 && late[office]?.0 == n.0) }
            // The page, within reach; taxpayers have no office view; another province is out of reach.
            var web = WebClient(app: app)
            _ = try await web.login("shanghai", "huiqi-supervisor")
            let page = try await web.request(.GET, "/supervision?kind=vat&period=2026-Q1")
            #expect(page.status == .ok && page.body.contains("id=\"ranking\"") && page.body.contains("id=\"formula\"") && page.body.contains("浦东新区税务局"))
            #expect(page.body.contains("Evaluation/weights.json"))
            var suzhou = WebClient(app: app)
            _ = try await suzhou.login("suzhou", "huiqi-supervisor")
            #expect(try await suzhou.request(.GET, "/supervision?kind=vat&period=2026-Q1&office=13101150000").status == .notFound)
            var owner = WebClient(app: app)
            _ = try await owner.login("company", "huiqi-taxpayer")
            #expect(try await owner.request(.GET, "/supervision").status == .forbidden)
        }
    }
}
