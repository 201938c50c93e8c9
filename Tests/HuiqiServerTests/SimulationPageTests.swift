import Foundation
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
}
