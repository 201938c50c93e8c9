import ArgumentParser
import Dispatch
import Foundation
import HuiqiRules
import HuiqiServices

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (run from a release build).", subcommands: [EngineBench.self, CalcBench.self, BenchPopulation.self, BenchMonitor.self, BenchStatistics.self, BenchSearch.self])

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
        @Option(help: "Evaluations of each chunk (the first counts page faults on fresh result columns).") var repeats = 1

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
            var r = BatchResult()
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

/// A seeded synthetic population (SplitMix64), reproducible for a seed: kinds, regions, sales lines of every
/// kind (专票, 差额, immovables at 5%), and four EIT quarters with growing income for enterprises.
struct SyntheticPopulation {
    var random: SplitMix64
    let vat: Bool, eit: Bool
    init(seed: UInt64, vat: Bool = true, eit: Bool = true) { random = SplitMix64(seed: seed); self.vat = vat; self.eit = eit }
    mutating func below(_ n: UInt64) -> Int64 { random.below(n) }

    mutating func fill(_ p: inout Population, count: Int) {
        p.removeAll()
        let regions: [Int32] = [310115, 420102, 110105, 440305, 510107, 330106]
        for _ in 0..<count {
            let r = below(100)
            let kind: UInt8 = r < 55 ? 0 : (r < 60 ? 1 : (r < 95 ? 2 : 3))
            p.kind.append(kind)
            p.region.append(regions[Int(below(UInt64(regions.count)))])
            p.restricted.append(below(50) == 0)
            p.industrial.append(below(4) == 0)
            p.monthsOperated.append(below(20) == 0 ? UInt8(1 + below(3)) : 0)
            let nLines = vat ? 1 + Int(below(3)) : 0
            for _ in 0..<nLines {
                let k = below(100)
                let saleKind: UInt8 = k < 45 ? 0 : (k < 55 ? 1 : (k < 90 ? 2 : (k < 95 ? 3 : 4)))
                let amount = below(20) == 0 ? below(200_000_000) : below(20_000_000)  // up to 2,000,000.00 yuan
                p.lines.kind.append(kind == 3 && saleKind == 4 ? 0 : saleKind)
                p.lines.amount.append(amount)
                p.lines.deduction.append(saleKind == 2 && below(10) == 0 ? amount / 4 : 0)
                p.lines.ratePPM.append(saleKind == 4 ? 50_000 : 30_000)
                p.lines.special.append(below(10) == 0)
                p.lines.waived.append(false)
            }
            p.lineStart.append(Int32(p.lines.count))
            if kind == 0 && eit {
                var employees = 1 + below(400)
                var assets = below(6_000_000_000)  // up to 60,000,000.00 yuan
                var income: Int64 = 0
                for _ in 0..<4 {
                    let nextEmployees = max(0, employees + below(41) - 20)
                    let nextAssets = max(0, assets + below(200_000_000) - 100_000_000)
                    p.employeesStart.append(employees); p.employeesEnd.append(nextEmployees)
                    p.assetsStart.append(assets); p.assetsEnd.append(nextAssets)
                    income += below(100_000_000) - 10_000_000  // −100,000 to +900,000 yuan a quarter
                    p.incomeYTD.append(income)
                    employees = nextEmployees; assets = nextAssets
                }
            }
            p.quarterStart.append(Int32(p.incomeYTD.count))
        }
    }
}
