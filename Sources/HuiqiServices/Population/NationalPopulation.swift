import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// Why a population cannot be generated as asked (the message names the option).
public struct PopulationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The administrative divisions a synthetic nation is built on: provinces, cities and county-level divisions with
/// their GB/T 2260 codes (divisions.tsv, from the National Bureau of Statistics' 2023 统计用区划代码; its source is
/// named in the file and in docs/population.md).
public struct Divisions: Sendable {
    public struct Division: Sendable, Equatable {
        public let code: String, name: String, level: String, parent: String
    }
    public let all: [Division]
    public var provinces: [Division] { all.filter { $0.level == "province" } }
    public var districts: [Division] { all.filter { $0.level == "district" } }
    public func named(_ code: String) -> Division? { all.first { $0.code == code } }

    public init(tsv: String) {
        all = tsv.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return f.count == 4 ? Division(code: f[0], name: f[1], level: f[2], parent: f[3]) : nil
        }
    }
    public static func bundled() throws -> Divisions {
        guard let url = Bundle.module.url(forResource: "divisions", withExtension: "tsv") else {
            throw PopulationError("the bundled divisions.tsv is missing")
        }
        return Divisions(tsv: try String(contentsOf: url, encoding: .utf8))
    }
}

/// The figures a synthetic population is calibrated to. Each is either a published statistic or a stated
/// assumption; docs/population.md lists them with their sources, and the tests hold a generated population to them.
public struct Calibration: Sendable {
    /// Share of enterprises among enterprises and 个体工商户: 5,673.7 万 enterprises and 1.22 亿 个体工商户 registered at
    /// the end of September 2023 (市场监管总局; 农民专业合作社 left out).
    public var enterpriseShare = 5_673.7 / (5_673.7 + 12_200.0)
    /// Market entities per province (万户), the weights of the provinces. 浙江 passed 1,000 万 in August 2023 (published);
    /// the others are approximations stated in docs/population.md.
    public var provinceWeights: [String: Double] = ["110000": 250, "310000": 330, "320000": 1_400, "330000": 1_000]
    /// Annual sales (yuan) are log-normal: median and σ of the logarithm, by kind. Assumptions, chosen so that most
    /// small-scale taxpayers sell under the quarterly exemption limit and a few pass the 500 万 general-taxpayer line.
    public var enterpriseMedianSales = 600_000.0, enterpriseSigma = 1.6
    public var individualMedianSales = 150_000.0, individualSigma = 1.1
    /// Share of taxpayers that declare no sales at all (零申报), by kind. Assumption.
    public var enterpriseZeroShare = 0.20, individualZeroShare = 0.10
    /// Enterprises that registered as general taxpayers although under the 500 万 line. Assumption.
    public var voluntaryGeneralShare = 0.08
    /// Annual sales above which a taxpayer must be a general taxpayer (500 万: 财税〔2018〕33号 from May 2018, 增值税法 第九条 from 2026).
    public var generalTaxpayerLine: Int64 = 5_000_000_00
    /// 工业 share, by kind (matters for the 小型微利企业 limits before 2019). Assumptions.
    public var enterpriseIndustrialShare = 0.18, individualIndustrialShare = 0.06
    /// Shares of taxpayers registered during the generated periods, and deregistered during them. Assumptions.
    public var newShare = 0.08, deregisteredShare = 0.03
    /// Share of taxpayers with a second line invoiced with 专票 (special VAT invoices), and that line's share of sales.
    public var specialInvoiceShare = 0.15, specialInvoicePart = 0.3
    /// Filing behaviour per return: not filed, filed after the deadline, relief not claimed (declared the tax
    /// before relief). Assumptions, in the range the monitoring and screening pages are built for.
    public var notFiledShare = 0.03, lateShare = 0.06, unclaimedShare = 0.02
    /// EIT prepayments (企业所得税预缴). Assumptions: no published distribution of small enterprises' head count,
    /// assets or profit was found. Head count is log-normal (median, σ of the logarithm); assets are log-normal
    /// around a multiple of the year's sales, with a floor (yuan); the year's taxable income is its sales times a
    /// margin drawn from a normal distribution (mean, σ; held within ±50 %), so that a part of the enterprises make
    /// a loss.
    public var eitMedianEmployees = 6.0, eitEmployeesSigma = 1.1
    public var eitAssetsToSales = 0.8, eitAssetsFloor = 100_000.0, eitAssetsSigma = 1.0
    public var eitMarginMean = 0.05, eitMarginSigma = 0.10
    public init() {}
}

/// A national synthetic population (`huiqi generate`): offices on the GB/T 2260 tree, taxpayers calibrated to
/// `Calibration`, their small-scale VAT returns and their enterprises' EIT prepayments for a run of quarters, each
/// return's tax and relief computed by the batch engine. Every taxpayer is drawn from its own seeded stream, so the population is the same for a seed
/// however it is cut into chunks or threads. The draws use `Double` for the shape of the distribution only; every
/// amount is whole fen from then on, and every tax is the engine's.
public struct NationalPopulation: Sendable {
    public let seed: UInt64
    public let quarters: [TaxPeriod]
    public let calibration: Calibration
    let districts: [Divisions.Division]
    /// Cumulative district weights (a province's weight is shared equally by its districts).
    let cumulative: [Double]
    let names: [String: String]
    /// Per quarter: the day after its end, and its deadline (`FilingDeadlines`).
    let windows: [(end: Day, deadline: Day)]

    public init(seed: UInt64, quarters: [TaxPeriod], divisions: Divisions, deadlines: FilingDeadlines,
                calibration: Calibration = Calibration()) throws {
        self.seed = seed; self.quarters = quarters; self.calibration = calibration
        guard !quarters.isEmpty, quarters.allSatisfy(\.isQuarterly) else { throw PopulationError("--periods: quarters, e.g. 2025-Q1..2026-Q3") }
        var windows: [(Day, Day)] = []
        for q in quarters {
            let end = q.lastDay
            let next = end.month == 12 ? (end.year + 1, 1) : (end.year, end.month + 1)
            guard let deadline = try? deadlines.deadline(year: next.0, month: next.1).date else {
                throw PopulationError("--periods: the filing deadline of \(q) (in \(next.0)-\(next.1 < 10 ? "0" : "")\(next.1)) is not known: the official calendar does not cover it yet")
            }
            windows.append((end, deadline))
        }
        self.windows = windows
        districts = divisions.districts
        var total = 0.0, cumulative: [Double] = []
        var inProvince: [Substring: Int] = [:]
        for d in districts { inProvince[d.code.prefix(2), default: 0] += 1 }
        for d in districts {
            let province = String(d.code.prefix(2)) + "0000"
            total += (calibration.provinceWeights[province] ?? 0) / Double(inProvince[d.code.prefix(2)] ?? 1)
            cumulative.append(total)
        }
        self.cumulative = cumulative.map { $0 / total }
        names = Dictionary(divisions.all.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    public static func parse(periods text: String) -> [TaxPeriod]? {
        let ends = text.components(separatedBy: "..")
        guard ends.count == 2, let from = TaxPeriod(ends[0]), let to = TaxPeriod(ends[1]),
              case let .quarter(y0, q0) = from, case let .quarter(y1, q1) = to, y0 * 4 + q0 <= y1 * 4 + q1 else {
            if let one = TaxPeriod(text), one.isQuarterly { return [one] }
            return nil
        }
        return (y0 * 4 + q0 ... y1 * 4 + q1).map { n in .quarter(year: (n - 1) / 4, quarter: (n - 1) % 4 + 1) }
    }

    // MARK: offices

    /// 国家税务总局, a bureau per province, city and county-level division, and a 税务所 under each county's bureau.
    /// Office codes follow the demo's: 1 + the GB/T 2260 code + 0000 (a 税务所: + 0100).
    public func offices(_ divisions: Divisions) -> [[String]] {
        var rows: [[String]] = [["10000000000", "", "国家税务总局", "national", "100000"]]
        for d in divisions.all {
            let id = "1\(d.code)0000"
            let parent = d.level == "province" ? "10000000000" : "1\(d.parent)0000"
            let prefix = d.level == "district" ? names[d.parent] ?? "" : ""  // 国家税务总局南京市玄武区税务局, 国家税务总局北京市东城区税务局
            rows.append([id, parent, "国家税务总局\(prefix)\(d.name)税务局", d.level, d.code])
            if d.level == "district" {
                rows.append(["1\(d.code)0100", id, "国家税务总局\(prefix)\(d.name)税务局第一税务所", "branch", d.code])
            }
        }
        return rows
    }

    // MARK: taxpayers

    /// One synthetic taxpayer's facts.
    public struct Member: Sendable {
        public var id: String, name: String, individual: Bool, general: Bool, industrial: Bool, restricted: Bool
        public var district: String
        /// Sales of a typical quarter, in fen (0: declares nothing).
        public var quarterlySales: Int64
        public var mainKind: SaleKind, specialPart: Bool
        /// Index in `quarters` of the first quarter it exists in, and of the first it no longer does (nil: still registered).
        public var firstQuarter: Int, endQuarter: Int?
        public var registeredOn: Day, deregisteredOn: Day?
    }

    /// Credit-code characters (GB 32100: no I, O, S, V, Z).
    static let codeAlphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY".utf8)

    func stream(_ i: Int, _ salt: UInt64) -> SplitMix64 {
        var mix = SplitMix64(seed: seed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15) ^ salt)
        _ = mix.next()
        return mix
    }
    static func unit(_ r: inout SplitMix64) -> Double { Double(r.next() >> 11) / Double(1 << 53) }
    static func normal(_ r: inout SplitMix64) -> Double {
        let u = max(unit(&r), 1e-12), v = unit(&r)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    public func member(_ i: Int) -> Member {
        var r = stream(i, 0)
        let c = calibration
        let individual = Self.unit(&r) >= c.enterpriseShare
        let pick = Self.unit(&r)
        var lo = 0, hi = cumulative.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < pick { lo = mid + 1 } else { hi = mid } }
        let district = districts[lo].code
        let zero = Self.unit(&r) < (individual ? c.individualZeroShare : c.enterpriseZeroShare)
        let median = individual ? c.individualMedianSales : c.enterpriseMedianSales
        let sigma = individual ? c.individualSigma : c.enterpriseSigma
        let annualYuan = median * exp(sigma * Self.normal(&r))
        let annualFen = zero ? 0 : Int64(min(annualYuan, 1e11) * 100)
        let general = annualFen > c.generalTaxpayerLine || (!individual && Self.unit(&r) < c.voluntaryGeneralShare)
        let industrial = Self.unit(&r) < (individual ? c.individualIndustrialShare : c.enterpriseIndustrialShare)
        let restricted = !individual && r.below(100) == 0
        let k = r.below(100)
        let mainKind: SaleKind = industrial ? (k < 85 ? .goods : .processing) : (k < 55 ? .goods : (k < 95 ? .services : .processing))
        let specialPart = !individual && Self.unit(&r) < c.specialInvoiceShare
        // Registered before the first quarter, or on the first day of a later one; deregistered on the last day of one.
        var first = 0, registeredOn = quarters[0].firstDay.adding(days: -1 - Int(r.below(7_300)))  // up to 20 years before
        if quarters.count > 1, Self.unit(&r) < c.newShare {
            first = 1 + Int(r.below(UInt64(quarters.count - 1)))
            registeredOn = quarters[first].firstDay
        }
        var end: Int? = nil, deregisteredOn: Day? = nil
        if Self.unit(&r) < c.deregisteredShare, first + 1 < quarters.count {
            let e = first + 1 + Int(r.below(UInt64(quarters.count - first - 1)))
            end = e; deregisteredOn = quarters[e - 1].lastDay
        }
        // 18-character unified social credit code: 91 (enterprise) or 92 (个体工商户), the division, nine characters
        // from the index, and the GB 32100 check character.
        var body = Array((individual ? "92" : "91") + district)
        var n = i
        var tail = [Character](repeating: "0", count: 9)
        for p in stride(from: 8, through: 0, by: -1) { tail[p] = Character(UnicodeScalar(Self.codeAlphabet[n % 31])); n /= 31 }
        body += tail
        let bodyText = String(body)
        let id = bodyText + String(CreditCode.checkCharacter(for: bodyText) ?? "0")
        let place = names[district] ?? ""
        let name = individual ? "\(place)\(i)号个体经营部" : "\(place)惠企\(i)号有限公司"
        return Member(id: id, name: name, individual: individual, general: general, industrial: industrial, restricted: restricted,
                      district: district, quarterlySales: annualFen / 4, mainKind: mainKind, specialPart: specialPart,
                      firstQuarter: first, endQuarter: end, registeredOn: registeredOn, deregisteredOn: deregisteredOn)
    }

    /// The sales lines of a member's return for quarter `q` (seasonal noise of ±40 % around its typical quarter).
    func sales(_ m: Member, _ i: Int, _ q: Int) -> [Sale] {
        guard m.quarterlySales > 0 else { return [] }
        var r = stream(i, 0x5EA5_0000 &+ UInt64(q))
        let amount = m.quarterlySales * (60 + r.below(81)) / 100
        let rate = Rate(ppm: 30_000)
        guard m.specialPart else { return [Sale(kind: m.mainKind, amount: Money(fen: amount), rate: rate)] }
        let special = amount * Int64(calibration.specialInvoicePart * 100) / 100
        return [Sale(kind: m.mainKind, amount: Money(fen: amount - special), rate: rate),
                Sale(kind: m.mainKind, amount: Money(fen: special), rate: rate, specialInvoice: true)]
    }

    // MARK: rows

    /// The rows of one chunk of taxpayers, as text columns in the order of `NationalPopulation.columns` (empty text is NULL).
    public struct Chunk: Sendable {
        public var taxpayers: [[String]] = [], frequencies: [[String]] = [], versions: [[String]] = [], current: [[String]] = []
        public var tables: [[[String]]] { [taxpayers, frequencies, versions, current] }
        public var rowCount: Int { taxpayers.count + frequencies.count + versions.count + current.count }
    }

    /// The tables a population fills, with the columns `Chunk` gives.
    public static let columns: [(table: String, columns: [String])] = [
        ("taxpayers", ["id", "name", "kind", "vat_status", "industry", "restricted_industry", "region", "office_id", "registered_on", "deregistered_on"]),
        ("vat_filing_frequencies", ["taxpayer_id", "year", "frequency"]),
        ("return_versions", ["taxpayer_id", "return_id", "version", "section", "period", "case_json", "determination_json", "computed_tax_fen", "relief_fen",
                             "declared_tax_fen", "idempotency_key", "filed_by", "filed_at", "prompts_json", "request_digest"]),
        ("current_returns", ["taxpayer_id", "return_id", "section", "period", "version", "case_json", "screening", "computed_tax_fen", "declared_tax_fen"]),
    ]
    /// The user who files every generated return.
    public static let filer = "user-generator"

    /// Taxpayers `range`, their frequencies, their VAT returns and their enterprises' EIT prepayments, each return's
    /// tax and relief computed by the batch engine (per quarter over the chunk: one evaluation for VAT, two for EIT).
    public func chunk(_ range: Range<Int>, evaluators: [BatchEvaluator]) -> Chunk {
        var out = Chunk()
        let members = range.map { member($0) }
        var years = Set<Int>()
        for q in quarters { years.insert(q.year) }
        let sortedYears = years.sorted()
        for m in members {
            out.taxpayers.append([m.id, m.name, m.individual ? "individual_business" : "enterprise", m.general ? "general" : "small_scale",
                                  m.industrial ? "industrial" : "other", m.restricted ? "1" : "0", m.district, "1\(m.district)0100",
                                  "\(m.registeredOn)", m.deregisteredOn.map { "\($0)" } ?? ""])
            guard !m.general else { continue }
            for y in sortedYears where y >= quarters[m.firstQuarter].year && (m.endQuarter.map { y <= quarters[$0 - 1].year } ?? true) {
                out.frequencies.append([m.id, "\(y)", "quarterly"])
            }
        }
        var population = Population(), result = BatchResult()
        for (q, quarter) in quarters.enumerated() {
            population.removeAll()
            var filers: [(index: Int, member: Member, sales: [Sale])] = []
            for (i, m) in zip(range, members) where !m.general && q >= m.firstQuarter && q < (m.endQuarter ?? Int.max) {
                let lines = sales(m, i, q)
                filers.append((i, m, lines))
                population.kind.append(m.individual ? 2 : 0)
                population.region.append(Int32(m.district) ?? 0)
                population.restricted.append(m.restricted); population.industrial.append(m.industrial)
                population.monthsOperated.append(0)
                for s in lines { population.lines.append(s) }
                population.lineStart.append(Int32(population.lines.count))
                population.quarterStart.append(0)
            }
            evaluators[q].evaluate(population, into: &result, threads: 1)
            let (end, deadline) = windows[q]
            let span = UInt64(max(1, deadline.ordinal - end.ordinal))
            for (k, f) in filers.enumerated() {
                var r = stream(f.index, 0xF11E_0000 &+ UInt64(q))
                let behaviour = Self.unit(&r)
                let c = calibration
                // Not filed; or refused by the engine (no generated return should be: then it is left out, not stored
                // with a made-up tax).
                guard behaviour >= c.notFiledShare, result.vatStatus[k] == BatchResult.ok else { continue }
                let tax = result.vatTax[k], relief = result.vatRelief[k]
                let unclaimed = behaviour < c.notFiledShare + c.unclaimedShare && relief > 0
                let late = !unclaimed && behaviour < c.notFiledShare + c.unclaimedShare + c.lateShare
                let day = late ? deadline.adding(days: 1 + Int(r.below(20))) : end.adding(days: 1 + Int(r.below(span)))
                let declared = unclaimed ? tax + relief : tax
                var salesJSON = ""
                var screening = ""
                for (n, s) in f.sales.enumerated() {
                    salesJSON += (n == 0 ? "" : ",") + #"{"kind":"\#(s.kind.name)","amount":"\#(s.amount)","rate":"0.03"\#(s.specialInvoice ? #","special_invoice":true"# : "")}"#
                    screening += ";\(s.kind.rawValue),\(s.amount.fen),\(s.rate.ppm),0,\(s.specialInvoice ? 1 : 0),0"
                }
                let caseJSON = #"{"vat":{"period":"\#(quarter)","sales":[\#(salesJSON)]}}"#
                let returnID = "vat:\(quarter)"
                out.versions.append([f.member.id, returnID, "1", "vat", "\(quarter)", caseJSON, "{}", "\(tax)", "\(relief)", "\(declared)", "",
                                     Self.filer, "\(day)T0\(r.below(10)):00:00Z", "[]", ""])
                // A return without sales lines has the empty form, which is not "no form".
                out.current.append([f.member.id, returnID, "vat", "\(quarter)", "1", caseJSON, screening.isEmpty ? Store.emptyText : screening,
                                    "\(tax)", "\(declared)"])
            }
            appendEIT(quarter: q, range, members, evaluator: evaluators[q], to: &out)
        }
        return out
    }
}
