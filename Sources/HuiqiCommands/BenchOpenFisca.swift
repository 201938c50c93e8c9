import ArgumentParser
import Foundation
import HuiqiRules
import HuiqiServices

/// `huiqi bench openfisca`: Huiqi's side of the side-by-side benchmark with OpenFisca (bench/openfisca/run). A
/// population on which the law is exactly two rules (2027-Q1, small-scale enterprises selling goods at 3 % with no
/// special invoice: the quarterly 起征点 and the reduced 1 % rate), evaluated by the batch engine (timed), written as
/// raw little-endian Int64 columns for the OpenFisca script to read: the sales and Huiqi's VAT, in fen.
struct BenchOpenFisca: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openfisca",
        abstract: "Write a two-rule population and Huiqi's results for bench/openfisca/run, timing Huiqi's engine on it.")
    @Option(help: "Number of taxpayers.") var taxpayers = 1_000_000
    @Option(help: "Directory for the column files.") var out: String
    @Option(help: "Seed of the generator.") var seed: UInt64 = 2014
    @Option(help: "Worker threads.") var threads = 2

    func run() throws {
        guard taxpayers > 0 else { printError("huiqi bench openfisca: --taxpayers must be at least 1"); throw ExitCode(2) }
        let engine = try loadEngine()
        let quarter = TaxPeriod("2027-Q1")!
        var random = SplitMix64(seed: seed)
        var p = Population()
        p.kind.reserveCapacity(taxpayers)
        for _ in 0..<taxpayers {
            p.kind.append(0); p.region.append(310115); p.restricted.append(false); p.industrial.append(false); p.monthsOperated.append(0)
            // Heavy-tailed sales of the quarter: most under 600,000 yuan, one in twenty up to 2,000,000.
            let amount = random.below(20) == 0 ? random.below(200_000_000) : random.below(60_000_000)
            p.lines.append(kind: 0, amountFen: amount, deductionFen: 0, ratePPM: 30_000, special: false, waived: false)
            p.lineStart.append(Int32(p.lines.count)); p.quarterStart.append(0)
        }
        let evaluator: BatchEvaluator
        do { evaluator = try BatchEvaluator(engine: engine, vatPeriod: quarter, eitYear: 2027) } catch { printError("huiqi bench openfisca: \(error)"); throw ExitCode(1) }
        var r = BatchResult()
        let t0 = DispatchTime.now().uptimeNanoseconds
        evaluator.evaluate(p, into: &r, threads: threads)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        guard r.vatStatus.allSatisfy({ $0 == BatchResult.ok }) else { printError("huiqi bench openfisca: a record was refused"); throw ExitCode(1) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func write(_ name: String, _ values: [Int64]) throws {
            let data = values.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian on every platform Swift runs here
            try data.write(to: URL(fileURLWithPath: out).appendingPathComponent(name))
        }
        try write("sales_fen.i64", p.lines.amount)
        try write("huiqi_vat_tax_fen.i64", r.vatTax)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("huiqi: \(taxpayers) taxpayers, engine \(String(format: "%.3f", seconds)) s on \(threads) thread(s), peak RSS \(usage.ru_maxrss / 1024) MiB (with the generation), total VAT \(Money(fen: r.vatTax.reduce(0, +))) yuan")
    }
}
