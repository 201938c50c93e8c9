import ArgumentParser
import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices

/// `huiqi simulate`: a reform against the law over a synthetic population (政策测算, issue 12 §3). The same kernels
/// as every filing (`BatchEvaluator`), once with the law and once with the reform's parameter versions applied.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a reform (parameter versions from a date) with the law over a synthetic population or a database's returns: revenue, who pays less or more, coverage.")
    @Option(help: "The reform: a YAML file of parameter changes (docs/simulation.md).") var reform: String
    @Option(help: "The VAT quarter simulated; the EIT year is its year (four quarters; over a database, the quarters to date of the base period's prepayment).") var period = "2027-Q1"
    @Option(help: "Taxpayers in the synthetic population (the engine benchmark's generator).") var population = 1_000_000
    @Option(help: "Simulate over the VAT returns stored in this database (postgres://… or an SQLite file) instead of a synthetic population.")
    var database: String?
    @Option(help: "With --database: the quarter whose stored returns are the base (default: --period).") var basePeriod: String?
    @Option(help: "With --database: the office whose taxpayers are read (default: 国家税务总局, everyone).") var office = "10000000000"
    @Option(help: "Seed of the generator.") var seed: UInt64 = 2014
    @Option(help: "Worker threads.") var threads = 2
    @Option(help: "Also write every group's line to this CSV file (UTF-8 with BOM, for Excel).") var csv: String?

    func run() async throws {
        guard let quarter = TaxPeriod(period), quarter.isQuarterly else { printError("huiqi simulate: --period must be a quarter such as 2027-Q1"); throw ExitCode(2) }
        guard let base = TaxPeriod(basePeriod ?? period), base.isQuarterly else { printError("huiqi simulate: --base-period must be a quarter such as 2026-Q2"); throw ExitCode(2) }
        guard population > 0 else { printError("huiqi simulate: --population must be at least 1"); throw ExitCode(2) }
        let law = try loadEngine()
        let change: Reform
        do { change = try Reform.load(URL(fileURLWithPath: reform), against: law.parameters) } catch {
            printError("huiqi simulate: \(error)"); throw ExitCode(2)
        }
        let comparison: ReformComparison
        var source = "\(population) synthetic taxpayers, seed \(seed)"
        do {
            if let database {
                let (c, read) = try await withStore(DatabaseLocation(database)) { store in
                    try await ReformSimulation.run(law: law, reform: change, period: quarter, returnsOf: base, store: store, office: office, threads: threads)
                }
                guard read.returns > 0 else { printError("huiqi simulate: no VAT return or EIT prepayment of \(base) is stored under office \(office)"); throw ExitCode(1) }
                comparison = c
                source = "the \(read.vatReturns) VAT returns and \(read.eitReturns) EIT prepayments (tax to date) of \(base) of \(read.taxpayers) taxpayers under office \(office)"
                    + (read.unreadable > 0 ? " (\(read.unreadable) returns could not be read again; their taxpayers are left out)" : "")
            } else {
                comparison = try ReformSimulation.run(law: law, reform: change, period: quarter, population: population, seed: seed, threads: threads)
            }
        } catch let exit as ExitCode { throw exit } catch {
            printError("huiqi simulate: \(error)"); throw ExitCode(1)
        }
        print("reform: \(change.name)")
        for c in change.changes { print("  \(c.parameter)\(c.key.map { "[\($0)]" } ?? "") = \(c.value) from \(c.from)") }
        let eitQuarters = database == nil ? "four quarters" : "to date at the quarter of \(base)"
        print("period: VAT \(quarter), EIT \(quarter.year) (\(eitQuarters)); \(source)\n")
        let header = ["group", "taxpayers", "refused", "VAT law", "VAT reform", "EIT law", "EIT reform", "revenue change", "pay less", "pay more", "coverage law", "coverage reform"]
        var rows: [[String]] = []
        for key in comparison.orderedKeys {
            guard let l = comparison.lines[key] else { continue }
            rows.append([key] + l.cells)
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        for r in [header] + rows {
            print(r.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  "))
        }
        if let csv {
            let text = "\u{FEFF}" + ([header] + rows).map { $0.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" }.joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
            do { try text.write(toFile: csv, atomically: true, encoding: .utf8) } catch { printError("huiqi simulate: cannot write \(csv): \(error)"); throw ExitCode(1) }
            print("\nwritten: \(csv)")
        }
    }
}
