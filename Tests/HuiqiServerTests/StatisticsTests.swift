import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// Statistics of relief (issue 10 §1) on both databases: complete and reconciled with the returns, changed by a
/// correction, within reach, and on the page, the CSV and the API.
@Suite struct StatisticsTests {
    static let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])

    /// The figures computed here, in Swift, from every current version: what the database's statistics must equal.
    static func expected(_ store: Store, section: String, periods: Set<String>, taxpayers: [TaxpayerRow]) async throws -> StatisticsRow {
        var row = StatisticsRow(key: "")
        for t in taxpayers {
            var received = false, entitled = false, both = false
            for r in try await store.currentReturns(taxpayer: t.id) where r.section == section && periods.contains(r.period) {
                let claimed = r.relief_fen + r.computed_tax_fen - (r.declared_tax_fen ?? r.computed_tax_fen)
                row.returns += 1
                row.law_relief_fen += r.relief_fen
                if claimed > 0 { row.relief_fen += claimed; received = true }
                if r.relief_fen > 0 { entitled = true; if claimed > 0 { both = true } }
            }
            row.beneficiaries += received ? 1 : 0; row.entitled += entitled ? 1 : 0; row.entitled_received += both ? 1 : 0
        }
        return row
    }

    @Test(arguments: Backend.allCases)
    func completeReconciledAndCorrected(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            let store = Store(app.db)
            let s = Services(store: store, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: { Date(timeIntervalSince1970: 1_780_000_000) })
            let everyone = try await store.taxpayers(inOffices: nil, search: nil, limit: 10_000)
            // 2026-Q1 VAT: the quarter and the monthly filers' January to March.
            let periods = try StatisticsService.periods(section: "vat", period: "2026-Q1")
            #expect(periods == ["2026-Q1", "2026-01", "2026-02", "2026-03"])
            let root = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: nil, dimension: "office")
            let computed = try await Self.expected(store, section: "vat", periods: Set(periods), taxpayers: everyone)
            var total = root.total
            total.key = ""
            #expect(total == computed, "\(total) ≠ \(computed)")
            #expect(try await store.statisticsTotal(section: "vat", periods: periods) == computed)
            #expect(computed.returns > 0 && computed.relief_fen > 0 && computed.entitled >= computed.entitled_received)
            // The children of an office add up to the office's line one level up; every grouping adds up to the total.
            let shanghai = try #require(root.lines.first { $0.row.key == "13100000000" }).row
            let below = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: "13100000000", dimension: "office")
            var sum = below.total
            sum.key = shanghai.key
            #expect(sum == shanghai)
            for dimension in ["region", "industry", "kind", "preference", "size"] {
                var t = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: nil, dimension: dimension).total
                t.key = ""
                #expect(t == computed, "\(dimension)")
            }
            // The same period of the previous year is there, and computed the same way.
            let last = try await Self.expected(store, section: "vat", periods: Set(try StatisticsService.periods(section: "vat", period: "2025-Q1")), taxpayers: everyone)
            #expect(root.previousTotal?.relief_fen == last.relief_fen && last.relief_fen > 0)
            // 2025-Q1 holds the monthly filers' three months: a taxpayer relieved in several of them counts once, in the
            // total, by office and in the snapshot's groups (the counts are of taxpayers, not of returns).
            let lastPeriods = try StatisticsService.periods(section: "vat", period: "2025-Q1")
            var relievedSeveralTimes = 0
            for t in everyone where try await store.currentReturns(taxpayer: t.id).filter({ $0.section == "vat" && lastPeriods.contains($0.period) && $0.relief_fen > 0 }).count > 1 {
                relievedSeveralTimes += 1
            }
            #expect(relievedSeveralTimes > 0)
            #expect(try await store.statisticsTotal(section: "vat", periods: lastPeriods) == last)
            var lastByOffice = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2025-Q1", office: nil, dimension: "office").total
            lastByOffice.key = ""
            #expect(lastByOffice == last)
            try await store.refreshStatisticsSnapshot(section: "vat", period: "2025-Q1", periods: lastPeriods, at: "2026-05-28T01:00:00Z")
            var lastSnapshot = try await store.snapshotStatistics(StatisticsQuery(section: "vat", periods: lastPeriods, root: try #require(try await store.rootOffice()).id,
                                                                                 dimension: .kind), period: "2025-Q1").reduce(StatisticsRow(key: "")) { $0 + $1 }
            lastSnapshot.key = ""
            #expect(lastSnapshot == last)

            // A correction filed later changes the figures of its period: declaring the gross tax gives up the relief.
            let company = "91310115MA0000001Y"
            let token = try await token(app, "company", "huiqi-taxpayer")
            let current = try #require(try await store.currentReturns(taxpayer: company).first { $0.return_id == "vat:2026-Q1" })
            let before = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: nil, dimension: "office").total
            let claimedBefore = current.relief_fen + current.computed_tax_fen - (current.declared_tax_fen ?? current.computed_tax_fen)
            let gross = Money(fen: current.computed_tax_fen + current.relief_fen)
            let v = try #require(FilingService.storedCase(current.case_json)?.vat)
            let body = JSON.object([("vat", .object([("period", .string(v.period.description)), ("sales", .array(v.sales.map { s in
                JSON.object([("kind", .string(s.kind.name)), ("amount", .string(s.amount.description)), ("rate", .string(s.rate.description))]) }))]))]).serialized(indent: nil)
            let filed = try await call(app, .POST, "/api/v1/taxpayers/\(company)/returns", token: token, body: body,
                                       headers: [("Huiqi-Declared-Tax", gross.description)])
            #expect(filed.status == .created, "\(filed.body)")
            let after = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: nil, dimension: "office").total
            #expect(after.relief_fen == before.relief_fen - max(0, claimedBefore))
            #expect(after.beneficiaries == before.beneficiaries - (claimedBefore > 0 ? 1 : 0))
            #expect(after.returns == before.returns && after.law_relief_fen == before.law_relief_fen)
        }
    }

    @Test(arguments: Backend.allCases)
    func withinReachOnThePageTheCSVAndTheAPI(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            // The API: staff within reach; a taxpayer has no office view; another province is out of reach.
            let officer = try await token(app, "pudong", "huiqi-officer")
            let ok = try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q1", token: officer)
            #expect(ok.status == .ok && ok.json?["office_id"] == .string("13101150000"))
            let bad = try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q9", token: officer)
            #expect(bad.status == .badRequest && bad.json?["error"]?["field"] == .string("period"))
            let taxpayer = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q1", token: taxpayer).status == .forbidden)
            let suzhou = try await token(app, "suzhou", "huiqi-supervisor")
            #expect(try await call(app, .GET, "/api/v1/statistics?kind=vat&period=2026-Q1&office=13101150000", token: suzhou).status == .notFound)
            #expect(try await call(app, .GET, "/api/v1/statistics?kind=eit&period=2026-Q1&by=kind", token: suzhou).status == .ok)
            // The page: the sentence, the chart, the lines with their total, the definitions, the CSV.
            var web = WebClient(app: app)
            _ = try await web.login("shanghai", "huiqi-supervisor")
            let page = try await web.request(.GET, "/statistics?kind=vat&period=2026-Q1")
            #expect(page.status == .ok && page.body.contains("id=\"statistics-chart\"") && page.body.contains("受惠面") && page.body.contains("id=\"definitions\""))
            #expect(page.body.contains("浦东新区税务局") && page.body.contains("id=\"statistics-total\""))
            let csv = try await web.request(.GET, "/statistics.csv?kind=vat&period=2026-Q1&by=region")
            #expect(csv.body.hasPrefix("\u{FEFF}代码,名称,申报表数") && csv.body.contains("上海市浦东新区") && csv.body.contains("合计"))
            let wrong = try await web.request(.GET, "/statistics?kind=vat&period=2026-Q9")
            #expect(wrong.status == .badRequest && wrong.body.contains("id=\"error\""))
            var owner = WebClient(app: app)
            _ = try await owner.login("company", "huiqi-taxpayer")
            #expect(try await owner.request(.GET, "/statistics").status == .forbidden)
        }
    }

    /// The snapshot (served with `--monitoring-snapshot-seconds`) gives the live figures at every level and grouping,
    /// and a refresh after a correction gives the corrected ones.
    @Test(arguments: Backend.allCases)
    func snapshotsGiveTheLiveFigures(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            let store = Store(app.db)
            let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_780_000_000) }
            let s = Services(store: store, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: clock, monitoringSnapshotSeconds: 600)
            let live = StatisticsService(store: store, monitoring: s.monitoring)
            for (kind, period) in [("vat", "2026-Q1"), ("vat", "2025"), ("eit", "2025-Q4"), ("business_income", "2025")] {
                for office in [nil, "13100000000", "13101150000", "13101150100"] {
                    for by in ["office", "region", "industry", "kind"] {
                        let a = try await s.statistics.report(by: Self.admin, kind: kind, period: period, office: office, dimension: by)
                        let b = try await live.report(by: Self.admin, kind: kind, period: period, office: office, dimension: by)
                        #expect(a.lines.map(\.row) == b.lines.map(\.row) && a.total == b.total, "\(kind) \(period) \(office ?? "root") \(by)")
                        #expect(a.previousTotal == b.previousTotal && a.asOf != nil && b.asOf == nil)
                    }
                }
            }
            // A correction is in the snapshot once it is refreshed (the page says when the figures were computed).
            let company = "91310115MA0000001Y"
            let current = try #require(try await store.currentReturns(taxpayer: company).first { $0.return_id == "vat:2026-Q1" })
            let token = try await token(app, "company", "huiqi-taxpayer")
            let body = try #require(FilingService.storedCase(current.case_json)?.vat).sales.map { x in
                #"{"kind":"\#(x.kind.name)","amount":"\#(x.amount)","rate":"\#(x.rate)"}"# }.joined(separator: ",")
            let filed = try await call(app, .POST, "/api/v1/taxpayers/\(company)/returns", token: token, body: #"{"vat":{"period":"2026-Q1","sales":[\#(body)]}}"#,
                                       headers: [("Huiqi-Declared-Tax", Money(fen: current.computed_tax_fen + current.relief_fen).description)])
            #expect(filed.status == .created)
            let periods = try StatisticsService.periods(section: "vat", period: "2026-Q1")
            try await store.refreshStatisticsSnapshot(section: "vat", period: "2026-Q1", periods: periods, at: "2026-05-28T01:00:00Z")
            let a = try await s.statistics.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: nil, dimension: "kind")
            let b = try await live.report(by: Self.admin, kind: "vat", period: "2026-Q1", office: nil, dimension: "kind")
            #expect(a.total == b.total && a.asOf == "2026-05-28T01:00:00Z")
        }
    }
}

