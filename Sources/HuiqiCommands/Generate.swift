import ArgumentParser
import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore

/// `huiqi generate`: a national synthetic population in an empty database (docs/population.md): offices on the
/// GB/T 2260 tree of four provinces, taxpayers calibrated to published statistics and stated assumptions, and their
/// small-scale VAT returns for a run of quarters. PostgreSQL is loaded with COPY, SQLite with multi-row inserts.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate",
        abstract: "Generate a calibrated synthetic population (offices, taxpayers, VAT returns) into an empty database.")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.Option(help: "Number of taxpayers.") var taxpayers = 100_000
    @ArgumentParser.Option(help: "Quarters filed, FROM..TO (each quarter's deadline must be in the official calendar).") var periods = "2025-Q1..2026-Q3"
    @ArgumentParser.Option(help: "Seed: the same seed gives the same population.") var seed: UInt64 = 2014
    @ArgumentParser.Option(help: "Taxpayers generated and written at a time.") var chunk = 20_000

    func run() async throws {
        guard let quarters = NationalPopulation.parse(periods: periods) else {
            printError("huiqi generate: --periods must be quarters FROM..TO, e.g. 2025-Q1..2026-Q3 / 所属期应为季度范围")
            throw ExitCode(2)
        }
        guard (1...PopulationLoader.maxTaxpayers).contains(taxpayers), (1...1_000_000).contains(chunk) else {
            printError("huiqi generate: --taxpayers must be 1 to \(PopulationLoader.maxTaxpayers), --chunk 1 to 1000000")
            throw ExitCode(2)
        }
        let engine = try loadEngine()
        let divisions = try Divisions.bundled()
        let population: NationalPopulation
        do {
            population = try NationalPopulation(seed: seed, quarters: quarters, divisions: divisions, deadlines: try FilingDeadlines.bundled())
        } catch let error as PopulationError {
            printError("huiqi generate: \(error)")
            throw ExitCode(2)
        }
        let terminal = isatty(STDERR_FILENO) != 0
        do {
            let (summary, collation) = try await withStore(db.location) { store in
                (try await PopulationLoader.load(population, divisions: divisions, taxpayers: taxpayers, engine: engine, into: store,
                                                 chunkSize: chunk) { p in
                    if terminal { FileHandle.standardError.write(Data(Self.bar(p).utf8)) }
                }, try await store.textCollation())
            }
            if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            print("generated \(summary.taxpayers) taxpayers, \(summary.frequencies) filing frequencies, \(summary.returns) returns "
                  + "(\(quarters.first!)..\(quarters.last!)) and \(summary.offices) offices: \(summary.rows) rows in "
                  + String(format: "%.1f s, %.0f rows/s (rows written in %.1f s; indexes, foreign keys and statistics %.1f s)",
                           summary.seconds, summary.rowsPerSecond, summary.loadSeconds, summary.seconds - summary.loadSeconds))
            if let advice = Store.collationAdvice(collation) { print("note: \(advice)") }
        } catch let error as PopulationError {
            printError("huiqi generate: \(error)")
            throw ExitCode(2)
        }
    }

    /// `[#######.............]  35% 3,500,000 / 10,000,000 taxpayers, 24,100,000 rows, 210,000 rows/s` (one line, redrawn).
    static func bar(_ p: PopulationLoader.Progress) -> String {
        let width = 30, done = p.total > 0 ? p.taxpayers * width / p.total : width
        let seconds = max(Date().timeIntervalSince(p.started), 0.001)
        return "\r[" + String(repeating: "#", count: done) + String(repeating: ".", count: width - done) + "] "
            + String(format: "%3d%% %d / %d taxpayers, %d rows, %.0f rows/s ", p.taxpayers * 100 / max(p.total, 1), p.taxpayers, p.total,
                     p.rows, Double(p.rows) / seconds)
    }
}
