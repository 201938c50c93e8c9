import Foundation

/// The law against a reform over one population (政策测算, issue 12 §3), by group: every taxpayer, each taxpayer
/// kind, each region, each size band of the period's sales. For each: the VAT of the period and the EIT of the year
/// to date under both, who pays less and who pays more, and coverage (受惠面: taxpayers with any relief). Sums are
/// exact, in fen. A taxpayer refused under either rule set (a fact the rules need is missing) is counted apart and
/// left out of the sums, so that both sides add up the same taxpayers.
public struct ReformComparison: Sendable {
    public struct Line: Sendable, Equatable {
        public var taxpayers = 0, refused = 0
        public var vatLaw: Int64 = 0, vatReform: Int64 = 0, eitLaw: Int64 = 0, eitReform: Int64 = 0
        public var payLess = 0, payMore = 0, coveredLaw = 0, coveredReform = 0
        public init() {}
        public var revenueChange: Int64 { (vatReform - vatLaw) + (eitReform - eitLaw) }
    }

    /// Size bands by the period's sales (fen): the VAT thresholds people talk about. A taxpayer without a VAT
    /// return in the population (over a database: a general taxpayer's EIT prepayment alone) has no sales to band
    /// by, and is counted in the last band, apart.
    public static let bands: [(label: String, below: Int64?)] = [
        ("≤10万", 10_000_001), ("10万–30万", 30_000_001), ("30万–45万", 45_000_001), ("45万–100万", 100_000_001), (">100万", nil),
        (noVATReturn, nil),
    ]
    public static let noVATReturn = "无增值税申报"


    /// Lines by group: `all`, `kind:<kind>`, `region:<code>`, `band:<label>`.
    public private(set) var lines: [String: Line] = [:]
    /// How many leading digits of the GB/T 2260 code group regions: 6 (county level, the default) or 2 (provinces,
    /// for a national population of hundreds of divisions).
    public let regionDigits: Int
    public init(regionDigits: Int = 6) { self.regionDigits = min(6, max(2, regionDigits)) }

    public mutating func add(_ p: Population, law: BatchResult, reform: BatchResult) {
        let kinds = TaxpayerKind.allCases
        var divisor: Int32 = 1
        for _ in regionDigits..<6 { divisor *= 10 }
        for i in 0..<p.count {
            var sales: Int64 = 0
            for l in Int(p.lineStart[i])..<Int(p.lineStart[i + 1]) { sales += p.lines.amount[l] }
            let hasVAT = p.vatReturn.count == p.count ? p.vatReturn[i] : true
            let band = hasVAT ? Self.bands.first { $0.below.map { sales < $0 } ?? true }!.label : Self.noVATReturn
            let groups = ["all", "kind:\(kinds[Int(p.kind[i])].rawValue)", "region:\(p.region[i] / divisor * divisor)", "band:\(band)"]
            let refused = law.vatStatus[i] != BatchResult.ok || reform.vatStatus[i] != BatchResult.ok
                || law.eitStatus[i] != BatchResult.ok || reform.eitStatus[i] != BatchResult.ok
            let before = law.vatTax[i] + law.eitTaxYTD[i], after = reform.vatTax[i] + reform.eitTaxYTD[i]
            for g in groups {
                var line = lines[g] ?? Line()
                line.taxpayers += 1
                if refused { line.refused += 1; lines[g] = line; continue }
                line.vatLaw += law.vatTax[i]; line.vatReform += reform.vatTax[i]
                line.eitLaw += law.eitTaxYTD[i]; line.eitReform += reform.eitTaxYTD[i]
                if after < before { line.payLess += 1 }
                if after > before { line.payMore += 1 }
                if law.vatRelief[i] > 0 || law.eitReliefYTD[i] > 0 { line.coveredLaw += 1 }
                if reform.vatRelief[i] > 0 || reform.eitReliefYTD[i] > 0 { line.coveredReform += 1 }
                lines[g] = line
            }
        }
    }

    /// Groups in a stable order: all, kinds, size bands, regions.
    public var orderedKeys: [String] {
        let kinds = TaxpayerKind.allCases.map { "kind:\($0.rawValue)" }.filter { lines[$0] != nil }
        let bands = Self.bands.map { "band:\($0.label)" }.filter { lines[$0] != nil }
        let regions = lines.keys.filter { $0.hasPrefix("region:") }.sorted()
        return ["all"] + kinds + bands + regions
    }
}

extension ReformComparison.Line {
    /// The line's figures as text, in the order of every simulation table (command line, page, CSV): taxpayers,
    /// refused, VAT under the law and the reform, EIT under both, revenue change (yuan, exact), pay less, pay more,
    /// coverage under both (a share of the taxpayers not refused, one decimal).
    public var cells: [String] {
        let counted = max(1, taxpayers - refused)
        func share(_ n: Int) -> String { String(format: "%.1f%%", 100 * Double(n) / Double(counted)) }
        return ["\(taxpayers)", "\(refused)", "\(Money(fen: vatLaw))", "\(Money(fen: vatReform))", "\(Money(fen: eitLaw))", "\(Money(fen: eitReform))",
                "\(Money(fen: revenueChange))", "\(payLess)", "\(payMore)", share(coveredLaw), share(coveredReform)]
    }
}
