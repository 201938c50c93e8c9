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
                // The same draws, in the same order, as when each column was appended on its own.
                let deduction = saleKind == 2 && below(10) == 0 ? amount / 4 : 0
                p.lines.append(kind: kind == 3 && saleKind == 4 ? 0 : saleKind, amountFen: amount, deductionFen: deduction,
                               ratePPM: saleKind == 4 ? 50_000 : 30_000, special: below(10) == 0, waived: false)
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

extension Population {
    /// Appends one taxpayer from its VAT return and its EIT prepayment, either of which may be absent: the VAT
    /// return as screening reads it, the EIT quarters from the stored case. False when one of them cannot be read
    /// (then nothing is appended).
    mutating func append(vat: ScreenedReturnRow?, eit: ScreenedReturnRow?) -> Bool {
        var eitCase: Case?
        if let eit {
            guard let c = eit.storedCase, c.eit != nil else { return false }
            eitCase = c
        }
        guard let vat else {
            guard let eitCase else { return false }
            append(eitCase)
            vatReturn.append(false)
            return true
        }
        guard append(vat) else { return false }
        vatReturn.append(true)
        if let quarters = eitCase?.eit?.quarters {
            // The VAT row ended with no quarters: its quarter offset is moved past the EIT quarters.
            quarterStart.removeLast()
            for q in quarters {
                employeesStart.append(q.employeesStart); employeesEnd.append(q.employeesEnd)
                assetsStart.append(q.assetsStart.fen); assetsEnd.append(q.assetsEnd.fen); incomeYTD.append(q.taxableIncomeYTD.fen)
            }
            quarterStart.append(Int32(incomeYTD.count))
        }
        return true
    }
}

extension ScreenedReturnRow {
    /// The stored case read again, with the registry's taxpayer facts (the stored case holds none).
    var storedCase: Case? {
        var c: Case
        if let json = case_json, let stored = FilingService.storedCase(json) {
            c = stored
        } else if section == "vat", let form = screening, let period = TaxPeriod(period), let vat = ScreeningColumns.vatReturn(form, period: period) {
            // A VAT page carries the compact form only: the case is made from it, whole (`ScreeningColumns.vatReturn`).
            c = Case(taxpayer: Taxpayer(), vat: vat)
        } else {
            return nil
        }
        c.taxpayer = Taxpayer(id: taxpayer_id, kind: TaxpayerKind(rawValue: kind), vatStatus: VATStatus(rawValue: vat_status),
                              industry: Industry(rawValue: industry), restrictedIndustry: restricted_industry, region: region)
        return c
    }
}

extension ReformSimulation {
    /// What a simulation over a database read: taxpayers simulated, VAT returns and EIT prepayments used, and
    /// returns that could not be read again (their taxpayers are left out).
    public struct DatabaseRead: Sendable {
        public var taxpayers = 0, vatReturns = 0, eitReturns = 0, unreadable = 0
        public var returns: Int { vatReturns + eitReturns }
    }

    /// A reform against the law over the returns stored for the quarter `base` (current versions, taxpayers under
    /// `office`), evaluated as returns of `period`: the latest real figures as the base of a coming period.
    /// - VAT: the quarter's return.
    /// - EIT: the quarter's prepayment, which carries the year's quarters to date; evaluated as the same quarters of
    ///   `period`'s year, so the EIT columns are the tax to date at `base`'s quarter, not a whole year.
    /// A taxpayer with both is one taxpayer with both (the two streams are merged by credit code). Regions are grouped
    /// by province.
    public static func run(law: Engine, reform: Reform, period: TaxPeriod, returnsOf base: TaxPeriod, store: Store, office: String,
                           threads: Int = 2) async throws -> (ReformComparison, DatabaseRead) {
        let reformed = Engine(parameters: reform.applied(to: law.parameters), register: law.register)
        let underLaw = try BatchEvaluator(engine: law, vatPeriod: period, eitYear: period.year)
        let underReform = try BatchEvaluator(engine: reformed, vatPeriod: period, eitYear: period.year)
        var comparison = ReformComparison(regionDigits: 2)
        var read = DatabaseRead()
        var p = Population(), a = BatchResult(), b = BatchResult()
        var vat = ReturnStream(returnID: "vat:\(base)", office: office), eit = ReturnStream(returnID: "eit:\(base)", office: office)
        while true {
            try await vat.fill(store); try await eit.fill(store)
            // Up to the smaller of the two streams' last keys, every taxpayer's returns are in hand.
            guard let bound = [vat, eit].compactMap(\.bound).min() ?? [vat.rows.last, eit.rows.last].compactMap({ $0?.taxpayer_id }).max() else { break }
            let vatRows = vat.take(through: bound), eitRows = eit.take(through: bound)
            p.removeAll()
            var i = vatRows.startIndex, j = eitRows.startIndex
            while i < vatRows.endIndex || j < eitRows.endIndex {
                let v = i < vatRows.endIndex ? vatRows[i] : nil, e = j < eitRows.endIndex ? eitRows[j] : nil
                let both = v != nil && e != nil && v!.taxpayer_id == e!.taxpayer_id
                let takeVAT = v != nil && (e == nil || v!.taxpayer_id <= e!.taxpayer_id)
                if takeVAT { i += 1 }
                if both || !takeVAT { j += 1 }
                let vatRow = takeVAT ? v : nil, eitRow = (both || !takeVAT) ? e : nil
                guard (vatRow ?? eitRow)!.in_scope == 1 else { continue }
                if p.append(vat: vatRow, eit: eitRow) {
                    read.taxpayers += 1
                    read.vatReturns += vatRow == nil ? 0 : 1; read.eitReturns += eitRow == nil ? 0 : 1
                } else {
                    read.unreadable += (vatRow == nil ? 0 : 1) + (eitRow == nil ? 0 : 1)
                }
            }
            underLaw.evaluate(p, into: &a, threads: threads)
            underReform.evaluate(p, into: &b, threads: threads)
            comparison.add(p, law: a, reform: b)
        }
        return (comparison, read)
    }

    /// The current returns of one return id in credit-code order, read a page at a time. On PostgreSQL the next
    /// page is read while this one is evaluated (the database works on the other core), as screening does.
    struct ReturnStream {
        let returnID: String, office: String
        var rows: ArraySlice<ScreenedReturnRow> = [], after = "", exhausted = false
        var next: Task<[ScreenedReturnRow], any Error>?
        init(returnID: String, office: String) { self.returnID = returnID; self.office = office }
        static let pageSize = 5_000

        mutating func fill(_ store: Store) async throws {
            guard rows.isEmpty, !exhausted else { return }
            let page = try await (next ?? read(store, after: after)).value
            exhausted = page.count < Self.pageSize
            if let last = page.last { after = last.taxpayer_id }
            rows = page[...]
            next = !exhausted && store.db.dialect.name == "postgresql" ? read(store, after: after) : nil
        }
        func read(_ store: Store, after: String) -> Task<[ScreenedReturnRow], any Error> {
            let returnID = returnID, office = office
            return Task { try await store.screenedReturns(returnID, under: office, after: after, limit: Self.pageSize) }
        }
        /// The last key this stream is sure of: rows after it may still come. Nil when the stream has nothing more.
        var bound: String? { exhausted ? nil : rows.last?.taxpayer_id }
        mutating func take(through key: String) -> ArraySlice<ScreenedReturnRow> {
            let end = rows.firstIndex { $0.taxpayer_id > key } ?? rows.endIndex
            defer { rows = rows[end...] }
            return rows[..<end]
        }
    }
}
