import ArgumentParser
import Dispatch
import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (run from a release build).", subcommands: [EngineBench.self, CalcBench.self, BenchPopulation.self, BenchMonitor.self, BenchStatistics.self, BenchSearch.self, BenchOpenFisca.self, FilingStatementsBench.self])

    struct CalcBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "calc",
            abstract: "Time the single-case path (parse, determine with trace, serialise) on a case file.")
        @Argument(help: "The case file.") var file: String
        @Option(help: "Determinations to time.") var iterations = 20_000

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), iterations > 0 else {
                printError("huiqi bench calc: cannot read \(file)"); throw ExitCode(2)
            }
            let text = String(decoding: data, as: UTF8.self)
            let engine = try loadEngine()
            var nanos: [UInt64] = []
            nanos.reserveCapacity(iterations)
            var bytes = 0
            for _ in 0..<iterations {
                let t0 = DispatchTime.now().uptimeNanoseconds
                if case .success(let out) = CalcOutput.render(engine: engine, caseText: text, explain: false) { bytes &+= out.utf8.count }
                nanos.append(DispatchTime.now().uptimeNanoseconds - t0)
            }
            nanos.sort()
            func pct(_ p: Double) -> String { String(format: "%.3f", Double(nanos[min(nanos.count - 1, Int(Double(nanos.count) * p))]) / 1e6) }
            print("single-case determinations: \(iterations) of \(file) (\(bytes / iterations) bytes of JSON each)")
            print("latency ms: p50 \(pct(0.5)), p99 \(pct(0.99)), max \(pct(1.0))")
        }
    }

    /// Prints the database's share of a filing as a pgbench script (`FilingStatementsScript`), or the SQL that makes
    /// its samples; `scripts/loadcheck` runs both on a copy of the load's database.
    struct FilingStatementsBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "filing-statements",
            abstract: "Print the filing's PostgreSQL statements as a pgbench script (or, with --setup, the SQL of its samples).")
        @ArgumentParser.Flag(help: "Print the SQL that makes the table of samples instead.") var setup = false
        @ArgumentParser.Option(help: "Idempotency-key prefix of the filings to sample (with --setup).") var keyPrefix = "load-"

        func run() throws {
            print(setup ? FilingStatementsScript.setupSQL(keyPrefix: keyPrefix) : FilingStatementsScript.pgbench, terminator: "")
        }
    }

    struct EngineBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "engine",
            abstract: "Time the batch path on a seeded synthetic population: one VAT quarter and one EIT year per taxpayer.")
        @Option(help: "Number of taxpayers.") var taxpayers = 1_000_000
        @Option(help: "VAT period.") var vatPeriod = "2023-Q2"
        @Option(help: "EIT year (four quarters).") var eitYear = 2023
        @Option(help: "Seed of the generator.") var seed: UInt64 = 2014
        @Option(help: "Worker threads.") var threads = 2
        @Option(help: "Taxpayers generated and evaluated per chunk (bounds memory).") var chunk = 1_000_000
        @Option(help: "Sections to generate: vat, eit or both (vat,eit).") var sections = "vat,eit"
        @Option(help: "Evaluations of each chunk (the mean is reported).") var repeats = 1

        func run() throws {
            guard let period = TaxPeriod(vatPeriod), taxpayers > 0, chunk > 0 else {
                printError("huiqi bench engine: bad --vat-period, --taxpayers or --chunk"); throw ExitCode(2)
            }
            let engine = try loadEngine()
            let evaluator: BatchEvaluator
            do { evaluator = try BatchEvaluator(engine: engine, vatPeriod: period, eitYear: eitYear) } catch {
                printError("huiqi bench engine: \(error)"); throw ExitCode(1)
            }
            var generator = SyntheticPopulation(seed: seed, vat: sections.contains("vat"), eit: sections.contains("eit"))
            var population = Population()
            var engineNanos: UInt64 = 0, relief: Int64 = 0, refusedVAT = 0, qualifying = 0, lines = 0
            var done = 0
            // The result columns are made before the clock, as the population's are: the first chunk had paid about
            // 20 ms of page faults for them (docs/performance.md, "Result columns made before the clock").
            var r = BatchResult(count: min(chunk, taxpayers))
            while done < taxpayers {
                let n = min(chunk, taxpayers - done)
                generator.fill(&population, count: n)
                lines += population.lines.count
                for _ in 0..<max(1, repeats) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    evaluator.evaluate(population, into: &r, threads: threads)
                    engineNanos += DispatchTime.now().uptimeNanoseconds - t0
                }
                relief &+= r.totalRelief
                refusedVAT += r.vatStatus.reduce(0) { $0 + Int($1) }
                qualifying += r.eitQualifies.reduce(0) { $0 + ($1 ? 1 : 0) }
                done += n
            }
            let seconds = Double(engineNanos) / 1e9 / Double(max(1, repeats))
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            print("taxpayers: \(taxpayers) (VAT \(period): \(lines) sales lines; EIT \(eitYear): 4 quarters each for enterprises)")
            print("engine time: \(String(format: "%.3f", seconds)) s on \(threads) thread(s), chunks of \(chunk)")
            print("throughput: \(String(format: "%.1f", Double(taxpayers) / seconds / 1e6)) M taxpayer-periods/s")
            print("peak memory (max RSS): \(usage.ru_maxrss / 1024) MiB")
            print("VAT refused: \(refusedVAT); EIT 小型微利企业 at Q4: \(qualifying)")
            print("checksum (total relief, VAT + EIT to date): \(Money(fen: relief)) yuan")
        }
    }
}

