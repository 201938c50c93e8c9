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

    /// Several parameters changed at once: the page's figures are those of the same reform run directly, the CSV
    /// link carries every change, and a bad value in the second change is named as that field.
    @Test func aReformOfSeveralParameters() async throws {
        try await withHuiqi(.sqlite) { app in
            let engine = try Engine.bundled()
            let reform = try Reform.parse("""
                name: "two"
                changes:
                  - parameter: "vat.qizhengdian.quarterly"
                    from: "2027-01-01"
                    value: "450000"
                  - parameter: "vat.rate3.special_invoice_rate"
                    from: "2027-01-01"
                    value: "0.02"
                """, file: "test", against: engine.parameters)
            let both = try ReformSimulation.run(law: engine, reform: reform, period: .quarter(year: 2027, quarter: 1), population: 20000).lines["all"]!
            let first = try ReformSimulation.run(law: engine, reform: try Reform.parse("""
                name: "one"
                changes:
                  - parameter: "vat.qizhengdian.quarterly"
                    from: "2027-01-01"
                    value: "450000"
                """, file: "test", against: engine.parameters), period: .quarter(year: 2027, quarter: 1), population: 20000).lines["all"]!
            #expect(both.revenueChange != first.revenueChange, "the second change must matter for this test to mean anything")
            var officer = WebClient(app: app)
            _ = try await officer.login("pudong", "huiqi-officer")
            let q = "period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&parameter2=vat.rate3.special_invoice_rate&value2=0.02&parameter3=&value3=&population=20000"
            let page = try await officer.request(.GET, "/simulation?" + q)
            // The summary's revenue change, as shown (grouped digits, 元), is the direct run's.
            let shown = page.body.firstMatch(of: /id="simulation-summary"[^>]*>[^<]*<strong>([^<]*)<\/strong>/).map { String($0.1) } ?? ""
            #expect(page.status == .ok && page.body.contains("vat.rate3.special_invoice_rate = 0.02 from 2027-01-01")
                    && shown.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: " 元", with: "") == Money(fen: both.revenueChange).description,
                    "\(shown) \(page.body.prefix(3000))")
            let csvLink = page.body.firstMatch(of: /href="([^"]*)" id="simulation-csv"/).map { String($0.1) } ?? ""
            #expect(csvLink.contains("parameter2=vat.rate3.special_invoice_rate&amp;value2=0.02") && !csvLink.contains("parameter3="), "\(csvLink)")
            let csv = try await officer.request(.GET, "/simulation.csv?" + q)
            #expect(csv.status == .ok && csv.body.contains(Money(fen: both.revenueChange).description))
            let bad = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&parameter2=vat.rate3.special_invoice_rate&value2=lots&population=1000")
            #expect(bad.status == .badRequest && bad.body.contains("href=\"#value2\""), "\(bad.body.prefix(1500))")
            // A key the parameter does not have from that date (its 2027 versions cover every region) is named at the key.
            let keyed = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&parameter2=vat.rate3.special_invoice_rate&key2=elsewhere&value2=0.02&population=1000")
            #expect(keyed.status == .badRequest && keyed.body.contains("href=\"#key2\""), "\(keyed.body.prefix(1500))")
            let unnamed = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&value3=1&population=1000")
            #expect(unnamed.status == .badRequest && unnamed.body.contains("href=\"#parameter3\""), "\(unnamed.body.prefix(1500))")
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
                return (c, read.vatReturns)
            }
            let (pudong, pudongReturns) = try await direct("13101150000")
            let (_, allReturns) = try await direct("10000000000")
            #expect(pudongReturns > 0 && allReturns > pudongReturns, "\(pudongReturns) of \(allReturns)")
            let q = "period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&base=2026-Q1"
            var officer = WebClient(app: app)
            _ = try await officer.login("pudong", "huiqi-officer")
            let page = try await officer.request(.GET, "/simulation?" + q)
            #expect(page.status == .ok && page.body.contains("已申报的 \(pudongReturns) 份增值税申报表和"), "\(page.body.prefix(3000))")
            let all = pudong.lines["all"]!
            let csv = try await officer.request(.GET, "/simulation.csv?" + q)
            #expect(csv.status == .ok && csv.body.contains(Money(fen: all.vatLaw).description) && csv.body.contains(Money(fen: all.revenueChange).description),
                    "\(csv.body.prefix(400)) \(all)")
            var admin = WebClient(app: app)
            _ = try await admin.login("admin", "huiqi-admin")
            #expect(try await admin.request(.GET, "/simulation?" + q).body.contains("已申报的 \(allReturns) 份增值税申报表和"))
            let none = try await officer.request(.GET, "/simulation?period=2027-Q1&parameter=vat.qizhengdian.quarterly&value=450000&base=2019-Q1")
            #expect(none.status == .badRequest && none.body.contains("2019-Q1"), "\(none.body.prefix(500))")
        }
    }
}
