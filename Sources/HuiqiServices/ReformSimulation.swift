import Foundation
import HuiqiRules
import HuiqiStore

/// A seeded synthetic population (SplitMix64), reproducible for a seed: kinds, regions, sales lines of every
/// kind (专票, 差额, immovables at 5%), and four EIT quarters with growing income for enterprises.
public struct SyntheticPopulation: Sendable {
    var random: SplitMix64
    let vat: Bool, eit: Bool
    public init(seed: UInt64, vat: Bool = true, eit: Bool = true) { random = SplitMix64(seed: seed); self.vat = vat; self.eit = eit }
    mutating func below(_ n: UInt64) -> Int64 { random.below(n) }

    public mutating func fill(_ p: inout Population, count: Int) {
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

/// A reform against the law over a synthetic population (政策测算): the same batch kernels as every filing, once
/// under the law and once under the reform, compared by group (`ReformComparison`). Shared by `huiqi simulate` and
/// the analysts' page.
public enum ReformSimulation {
    public static func run(law: Engine, reform: Reform, period: TaxPeriod, population: Int, seed: UInt64 = 2014, threads: Int = 2) throws -> ReformComparison {
        let reformed = Engine(parameters: reform.applied(to: law.parameters), register: law.register)
        let underLaw = try BatchEvaluator(engine: law, vatPeriod: period, eitYear: period.year)
        let underReform = try BatchEvaluator(engine: reformed, vatPeriod: period, eitYear: period.year)
        var generator = SyntheticPopulation(seed: seed)
        var p = Population(), a = BatchResult(), b = BatchResult()
        var comparison = ReformComparison()
        var done = 0
        while done < population {
            let n = min(1_000_000, population - done)
            generator.fill(&p, count: n)
            underLaw.evaluate(p, into: &a, threads: threads)
            underReform.evaluate(p, into: &b, threads: threads)
            comparison.add(p, law: a, reform: b)
            done += n
        }
        return comparison
    }
}

extension Population {
    /// Appends one stored VAT return as screening reads it: from the compact columns kept at filing
    /// (`ScreeningColumns`), else from its case JSON. False when neither can be read (nothing is appended).
    /// Shared by screening and by simulation over a database, so that both see a return alike.
    mutating func append(_ r: ScreenedReturnRow) -> Bool {
        let kinds = TaxpayerKind.allCases
        if let compact = r.screening, let kind = TaxpayerKind(rawValue: r.kind).flatMap({ kinds.firstIndex(of: $0) }),
           let months = ScreeningColumns.decode(compact, into: &lines) {
            self.kind.append(UInt8(kind)); region.append(Int32(r.region) ?? 0)
            restricted.append(r.restricted_industry); industrial.append(r.industry == "industrial")
            monthsOperated.append(months)
            lineStart.append(Int32(lines.count)); quarterStart.append(Int32(incomeYTD.count))
            return true
        }
        guard let c = r.storedCase else { return false }
        append(c)
        return true
    }
}

extension ScreenedReturnRow {
    /// The stored case read again, with the registry's taxpayer facts (the stored case holds none).
    var storedCase: Case? {
        guard var c = FilingService.storedCase(case_json) else { return nil }
        c.taxpayer = Taxpayer(id: taxpayer_id, kind: TaxpayerKind(rawValue: kind), vatStatus: VATStatus(rawValue: vat_status),
                              industry: Industry(rawValue: industry), restrictedIndustry: restricted_industry, region: region)
        return c
    }
}

extension ReformSimulation {
    /// What a simulation over a database read: returns used, and returns that could not be read again.
    public struct DatabaseRead: Sendable { public var returns = 0, unreadable = 0 }

    /// A reform against the law over the VAT returns stored for `base` (current versions, taxpayers under `office`),
    /// evaluated as returns of `period`: the latest real sales as the base of a coming period. EIT is not read (the
    /// EIT columns stay empty). Regions are grouped by province.
    public static func run(law: Engine, reform: Reform, period: TaxPeriod, returnsOf base: TaxPeriod, store: Store, office: String,
                           threads: Int = 2) async throws -> (ReformComparison, DatabaseRead) {
        let reformed = Engine(parameters: reform.applied(to: law.parameters), register: law.register)
        let underLaw = try BatchEvaluator(engine: law, vatPeriod: period, eitYear: period.year)
        let underReform = try BatchEvaluator(engine: reformed, vatPeriod: period, eitYear: period.year)
        var comparison = ReformComparison(regionDigits: 2)
        var read = DatabaseRead()
        var p = Population(), a = BatchResult(), b = BatchResult()
        var after = ""
        while true {
            let page = try await store.screenedReturns("vat:\(base)", under: office, after: after, limit: 5_000)
            guard let last = page.last else { break }
            after = last.taxpayer_id
            p.removeAll()
            for r in page where r.in_scope == 1 {
                if p.append(r) { read.returns += 1 } else { read.unreadable += 1 }
            }
            underLaw.evaluate(p, into: &a, threads: threads)
            underReform.evaluate(p, into: &b, threads: threads)
            comparison.add(p, law: a, reform: b)
        }
        return (comparison, read)
    }
}
