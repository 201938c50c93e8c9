import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// The analysts' page for reform simulation: staff only, a run with its figures, chart and CSV, a bad value named.
@Suite struct SimulationPageTests {
    @Test func anOfficerSimulatesAReformAndATaxpayerCannot() async throws {
        try await withHuiqi(.sqlite) { app in
            var officer = WebClient(app: app)
            _ = try await officer.login("pudong", "huiqi-officer")
            let empty = try await officer.request(.GET, "/simulation")
            #expect(empty.status == .ok && empty.body.contains("simulation-form") && !empty.body.contains("simulation-summary"))
            let q = "period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&population=20000"
            let run = try await officer.request(.GET, "/simulation?" + q)
            #expect(run.status == .ok, "\(run.body.prefix(300))")
            #expect(run.body.contains("id=\"simulation-summary\"") && run.body.contains("simulation-chart") && run.body.contains("simulation-table"))
            // The raised threshold costs revenue: the summary's change is negative.
            #expect(run.body.range(of: #"税收变化 <strong>-"#) != nil, "\(run.body.prefix(2000))")
            let csv = try await officer.request(.GET, "/simulation.csv?" + q)
            #expect(csv.status == .ok && csv.body.contains("税收变化") && csv.body.contains("全部"))
            let bad = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=lots&population=1000")
            #expect(bad.status == .badRequest && bad.body.contains("value"), "\(bad.body.prefix(500))")
            let tooMany = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=1&population=99999999")
            #expect(tooMany.status == .badRequest)
            var company = WebClient(app: app)
            _ = try await company.login("company", "huiqi-taxpayer")
            #expect(try await company.request(.GET, "/simulation").status == .forbidden)
        }
    }

    /// Over the stored returns: an officer's run reads only the returns of their office's taxpayers, an
    /// administrator's every return; the figures are those of the same simulation run directly; a quarter with no
    /// return is named on the form.
    @Test func overTheStoredReturnsOfTheOfficersOffice() async throws {
        try await withHuiqi(.sqlite, closedPeriod: true) { app in
            let store = Store(app.db)
            let engine = try Engine.bundled()
            let reform = try Reform.parse("name: \"x\"\nchanges:\n  - parameter: \"vat.qizhengdian.quarterly\"\n    from: \"2027-01-01\"\n    value: \"450000\"\n",
                                          file: "form", against: engine.parameters)
            func direct(_ office: String) async throws -> (ReformComparison, Int) {
                let (c, read) = try await ReformSimulation.run(law: engine, reform: reform, period: .quarter(year: 2027, quarter: 1),
                                                               returnsOf: .quarter(year: 2026, quarter: 1), store: store, office: office)
                return (c, read.returns)
            }
            let (pudong, pudongReturns) = try await direct("13101150000")
            let (_, allReturns) = try await direct("10000000000")
            #expect(pudongReturns > 0 && allReturns > pudongReturns, "\(pudongReturns) of \(allReturns)")
            let q = "period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&base=2026-Q1"
            var officer = WebClient(app: app)
            _ = try await officer.login("pudong", "huiqi-officer")
            let page = try await officer.request(.GET, "/simulation?" + q)
            #expect(page.status == .ok && page.body.contains("已申报的 \(pudongReturns) 份增值税申报表"), "\(page.body.prefix(3000))")
            let all = pudong.lines["all"]!
            let csv = try await officer.request(.GET, "/simulation.csv?" + q)
            #expect(csv.status == .ok && csv.body.contains(Money(fen: all.vatLaw).description) && csv.body.contains(Money(fen: all.revenueChange).description),
                    "\(csv.body.prefix(400)) \(all)")
            var admin = WebClient(app: app)
            _ = try await admin.login("admin", "huiqi-admin")
            #expect(try await admin.request(.GET, "/simulation?" + q).body.contains("已申报的 \(allReturns) 份增值税申报表"))
            let none = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&base=2019-Q1")
            #expect(none.status == .badRequest && none.body.contains("2019-Q1"), "\(none.body.prefix(500))")
        }
    }
}
