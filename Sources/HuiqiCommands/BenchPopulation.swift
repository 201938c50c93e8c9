import ArgumentParser
import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import SQLKit

/// `huiqi bench population`: a province of N small-scale taxpayers with one VAT quarter filed, for the screening
/// and monitoring benchmarks (docs/performance.md). PostgreSQL is loaded with COPY (through psql), SQLite with
/// multi-row inserts in large transactions; never row by row.
///
/// Offices: 国家税务总局 → one province → 10 cities → 10 districts each → one 税务所 each (100 branches). Every
/// taxpayer files quarterly; 5% file nothing, 5% declare 500.00 more than the computed tax (relief not
/// claimed), 10% file after the deadline. Sales are seeded, one line each, computed by the batch evaluator.
struct BenchPopulation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "population",
        abstract: "Load a synthetic province (N taxpayers, one VAT quarter filed) into an empty database, for the screening and monitoring benchmarks.")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.Option(help: "Number of taxpayers.") var taxpayers = 1_000_000
    @ArgumentParser.Option(help: "The quarter filed (its deadline must have passed for screening).") var period = "2026-Q2"
    @ArgumentParser.Option(help: "Seed of the generator.") var seed: UInt64 = 2014

    func run() async throws {
        guard let quarter = TaxPeriod(period), quarter.isQuarterly else { printError("huiqi bench population: --period must be a quarter, e.g. 2026-Q2"); throw ExitCode(2) }
        let engine = try loadEngine()
        let started = Date()
        let rows = try generate(quarter, engine: engine)
        print("generated \(taxpayers) taxpayers in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let loadStart = Date()
        switch db.location {
        case .postgres(let url):
            try await withStore(db.location) { store in try await Self.prepare(store) }
            try copy(url, rows)
        case .sqlite:
            try await withStore(db.location) { store in
                try await Self.prepare(store)
                try await Self.insert(store, rows)
            }
        }
        print("loaded in \(String(format: "%.1f", Date().timeIntervalSince(loadStart))) s: province office 13900000000, \(rows.versions.count) returns filed")
    }

    /// The tables' rows as text columns (the COPY format and the SQLite inserts share them).
    struct Rows {
        var offices: [[String]] = [], taxpayers: [[String]] = [], frequencies: [[String]] = [], versions: [[String]] = [], pointers: [[String]] = []
    }

    func generate(_ quarter: TaxPeriod, engine: Engine) throws -> Rows {
        var r = Rows()
        r.offices.append(["10000000000", "", "国家税务总局", "national", "100000"])
        r.offices.append(["13900000000", "10000000000", "基准测试省税务局", "province", "390000"])
        var branches: [String] = []
        for c in 1...10 {
            let city = String(format: "139%02d000000", c)
            r.offices.append([city, "13900000000", "基准测试市\(c)税务局", "city", String(format: "39%02d00", c)])
            for d in 1...10 {
                let district = String(format: "139%02d%02d0000", c, d), branch = String(format: "139%02d%02d0100", c, d)
                r.offices.append([district, city, "基准测试市\(c)区\(d)税务局", "district", String(format: "39%02d%02d", c, d)])
                r.offices.append([branch, district, "基准测试市\(c)区\(d)第一税务所", "branch", String(format: "39%02d%02d", c, d)])
                branches.append(branch)
            }
        }
        var random = SplitMix64(seed: seed)
        var population = Population()
        var amounts: [Int64] = []
        for _ in 0..<taxpayers {
            let amount = random.below(20) == 0 ? random.below(200_000_000) : random.below(40_000_000)
            amounts.append(amount)
            population.kind.append(0); population.region.append(390101); population.restricted.append(false); population.industrial.append(false)
            population.monthsOperated.append(0)
            population.lines.append(Sale(kind: .goods, amount: Money(fen: amount), rate: Rate(ppm: 30_000)))
            population.lineStart.append(Int32(population.lines.count))
            population.quarterStart.append(0)
        }
        let result = try BatchEvaluator(engine: engine, vatPeriod: quarter, eitYear: quarter.year).evaluate(population)
        let end = quarter.lastDay
        let next = end.month == 12 ? (end.year + 1, 1) : (end.year, end.month + 1)
        let deadline = try FilingDeadlines.bundled().deadline(year: next.0, month: next.1).date
        let span = UInt64(max(1, deadline.ordinal - end.ordinal))
        for i in 0..<taxpayers {
            let body = String(format: "9139%04dMA%07d", i % 10_000, i)
            let id = body + String(CreditCode.checkCharacter(for: body) ?? "0")
            let branch = branches[i % branches.count]
            r.taxpayers.append([id, "基准企业\(i)", "enterprise", "small_scale", "other", "0", "390101", branch, "2020-01-01", ""])
            r.frequencies.append([id, "\(quarter.year)", "quarterly"])
            let roll = random.below(100)
            guard roll >= 5 else { continue }  // 5% file nothing
            let tax = result.vatTax[i], relief = result.vatRelief[i]
            let declared = roll < 10 ? tax + 500_00 : tax
            let day = roll >= 90 ? deadline.adding(days: 1 + Int(random.below(5))) : end.adding(days: 1 + Int(random.below(span)))
            let caseJSON = #"{"vat":{"period":"\#(quarter)","sales":[{"kind":"goods","amount":"\#(Money(fen: amounts[i]))","rate":"0.03"}]}}"#
            r.versions.append([id, "vat:\(quarter)", "1", "vat", "\(quarter)", caseJSON, "{}", "\(tax)", "\(relief)", "\(declared)", "", "user-bench",
                               "\(day)T02:00:00Z", "[]", ""])
            r.pointers.append([id, "vat:\(quarter)", "vat", "\(quarter)", "1", caseJSON, ";0,\(amounts[i]),30000,0,0,0", "\(tax)", "\(declared)"])
        }
        return r
    }

    static let columns: [(table: String, columns: [String])] = [
        ("offices", ["id", "parent_id", "name", "level", "region_code"]),
        ("taxpayers", ["id", "name", "kind", "vat_status", "industry", "restricted_industry", "region", "office_id", "registered_on", "deregistered_on"]),
        ("vat_filing_frequencies", ["taxpayer_id", "year", "frequency"]),
        ("return_versions", ["taxpayer_id", "return_id", "version", "section", "period", "case_json", "determination_json", "computed_tax_fen", "relief_fen",
                             "declared_tax_fen", "idempotency_key", "filed_by", "filed_at", "prompts_json", "request_digest"]),
        ("current_returns", ["taxpayer_id", "return_id", "section", "period", "version", "case_json", "screening", "computed_tax_fen", "declared_tax_fen"]),
    ]

    /// An empty, migrated database gets the benchmark's user (the filer of every return).
    static func prepare(_ store: Store) async throws {
        guard try await store.count("taxpayers") == 0 else { throw ConfigurationError.invalid("the database is not empty: load the population into a new one") }
    }

    func tables(_ r: Rows) -> [[[String]]] { [r.offices, r.taxpayers, r.frequencies, r.versions, r.pointers] }

    /// PostgreSQL: one COPY per table through psql (empty text is NULL).
    func copy(_ url: String, _ r: Rows) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-bench-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var script = "INSERT INTO users (id, login, password_hash, role, office_id) VALUES ('user-bench', 'bench', '-', 'administrator', NULL);\n"
        for ((table, columns), rows) in zip(Self.columns, tables(r)) {
            let file = dir.appendingPathComponent("\(table).tsv")
            var text = ""
            text.reserveCapacity(rows.count * 120)
            for row in rows { text += row.map { $0.isEmpty ? "\\N" : $0 }.joined(separator: "\t"); text += "\n" }
            try text.write(to: file, atomically: false, encoding: .utf8)
            script += "\\copy \(table) (\(columns.joined(separator: ", "))) FROM '\(file.path)'\n"
        }
        script += "ANALYZE;\n"
        let scriptFile = dir.appendingPathComponent("load.sql")
        try script.write(to: scriptFile, atomically: false, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", scriptFile.path]
        try p.run(); p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ConfigurationError.invalid("psql COPY failed") }
    }

    /// SQLite: multi-row inserts, 100,000 rows per transaction.
    static func insert(_ store: Store, _ r: Rows) async throws {
        try await store.insert(users: [UserRow(id: "user-bench", login: "bench", password_hash: "-", role: "administrator", office_id: nil)])
        for ((table, columns), rows) in zip(columns, [r.offices, r.taxpayers, r.frequencies, r.versions, r.pointers]) {
            for chunk in stride(from: 0, to: rows.count, by: 100_000) {
                let slice = rows[chunk..<min(chunk + 100_000, rows.count)]
                try await store.bulkInsert(table: table, columns: columns, rows: Array(slice))
            }
        }
        try await store.db.raw("ANALYZE").run()
    }
}

/// `huiqi bench monitor`: the monitoring report of one office, timed in process (the page and the API add HTML or
/// JSON encoding and HTTP on top).
struct BenchMonitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Time the monitoring report of an office (p50, p99, max).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.Option(help: "The period.") var period = "2026-Q2"
    @ArgumentParser.Option(help: "vat, eit or business_income.") var kind = "vat"
    @ArgumentParser.Option(help: "The office.") var office = "13900000000"
    @ArgumentParser.Option(help: "Reports to time.") var iterations = 30
    @ArgumentParser.Option(help: "Serve from a snapshot at most this many seconds old (0: live aggregate every time).") var snapshotSeconds = 0

    func run() async throws {
        let times = try await withServices(db.location, monitoringSnapshotSeconds: snapshotSeconds) { s in
            try await timed(iterations) { first in
                let r = try await s.monitoring.report(by: commandLineActor, kind: kind, period: period, office: office)
                if first { print("expected \(r.totals.expected), filed \(r.totals.filed), late \(r.totals.late), children \(r.children.count)") }
            }
        }
        // The first report may compute the snapshot: it is shown apart from the others.
        print("monitoring report of \(office): \(summary(times, firstApart: true))")
    }
}

/// `huiqi bench statistics`: times the statistics of an office (p50, p99) over the population of `bench population`.
struct BenchStatistics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statistics", abstract: "Time the statistics of relief of an office (p50, p99, max).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.Option(help: "The period.") var period = "2026-Q2"
    @ArgumentParser.Option(help: "vat, eit or business_income.") var kind = "vat"
    @ArgumentParser.Option(help: "The office.") var office = "13900000000"
    @ArgumentParser.Option(help: "office, region, industry or kind.") var by = "office"
    @ArgumentParser.Option(help: "Reports to time.") var iterations = 10
    @ArgumentParser.Option(help: "Serve from a snapshot at most this many seconds old (0: live aggregate every time).") var snapshotSeconds = 0

    func run() async throws {
        let times = try await withServices(db.location, monitoringSnapshotSeconds: snapshotSeconds) { s in
            try await timed(iterations) { first in
                let r = try await s.statistics.report(by: commandLineActor, kind: kind, period: period, office: office, dimension: by)
                if first { print("returns \(r.total.returns), beneficiaries \(r.total.beneficiaries), relief \(Money(fen: r.total.relief_fen)), lines \(r.lines.count)") }
            }
        }
        // With a snapshot the first report computes it: shown apart from the others.
        print("statistics of \(office) by \(by): \(summary(times, firstApart: snapshotSeconds > 0))")
    }
}

/// Runs `body` `n` times and returns each run's wall time in milliseconds (`body` is told which run is the first).
func timed(_ n: Int, _ body: (Bool) async throws -> Void) async throws -> [Double] {
    var times: [Double] = []
    for i in 0..<n {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body(i == 0)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return times
}

/// "first … ms; the next N: p50 …, p99 …, max …" (`firstApart`: the first run, which may warm a snapshot, is
/// reported alone and left out of the percentiles).
func summary(_ times: [Double], firstApart: Bool) -> String {
    let sorted = (firstApart ? Array(times.dropFirst()) : times).sorted()
    func ms(_ x: Double) -> String { String(format: "%.1f", x) }
    func pct(_ p: Double) -> String { sorted.isEmpty ? "-" : ms(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
    return "first \(ms(times.first ?? 0)) ms; \(sorted.count) timed: p50 \(pct(0.5)) ms, p99 \(pct(0.99)) ms, max \(ms(sorted.last ?? 0)) ms"
}
