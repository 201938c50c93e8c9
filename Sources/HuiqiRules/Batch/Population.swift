/// A population of taxpayer-periods in columns (one array per field), for screening, statistics and simulation.
/// Every taxpayer has one VAT return of `vatPeriod` (possibly with no lines) and an EIT year of `eitYear`
/// (possibly with no quarters). No per-record objects: evaluating millions allocates nothing per record.
public struct Population: Sendable {
    public var kind: [UInt8] = []              // TaxpayerKind index: enterprise, unit, individual_business, individual
    public var region: [Int32] = []            // GB/T 2260 code; 0 = unknown
    public var restricted: [Bool] = []
    public var industrial: [Bool] = []
    public var monthsOperated: [UInt8] = []    // 0 = unknown
    /// Lines of taxpayer i are `lines[lineStart[i] ..< lineStart[i + 1]]`.
    public var lineStart: [Int32] = [0]
    public var lines = VATLines()
    /// Quarters of taxpayer i are `quarterStart[i] ..< quarterStart[i + 1]`, from Q1.
    public var quarterStart: [Int32] = [0]
    public var employeesStart: [Int64] = [], employeesEnd: [Int64] = []
    public var assetsStart: [Int64] = [], assetsEnd: [Int64] = []
    public var incomeYTD: [Int64] = []
    /// Whether each taxpayer has a VAT return here (false: its VAT is not simulated, only its EIT). Read only by
    /// `ReformComparison`; left empty, every taxpayer has one. The batch kernels do not read it.
    public var vatReturn: [Bool] = []

    public init() {}
    public var count: Int { kind.count }

    public mutating func removeAll() {
        kind.removeAll(keepingCapacity: true); region.removeAll(keepingCapacity: true)
        restricted.removeAll(keepingCapacity: true); industrial.removeAll(keepingCapacity: true)
        monthsOperated.removeAll(keepingCapacity: true)
        lineStart.removeAll(keepingCapacity: true); lineStart.append(0); lines.removeAll()
        quarterStart.removeAll(keepingCapacity: true); quarterStart.append(0)
        employeesStart.removeAll(keepingCapacity: true); employeesEnd.removeAll(keepingCapacity: true)
        assetsStart.removeAll(keepingCapacity: true); assetsEnd.removeAll(keepingCapacity: true); incomeYTD.removeAll(keepingCapacity: true)
        vatReturn.removeAll(keepingCapacity: true)
    }

    /// Appends one taxpayer from its case (used by tests to hold the two paths together).
    public mutating func append(_ c: Case) {
        kind.append(UInt8(TaxpayerKind.allCases.firstIndex(of: c.taxpayer.kind ?? .enterprise)!))
        region.append(Int32(c.taxpayer.region ?? "") ?? 0)
        restricted.append(c.taxpayer.restrictedIndustry ?? false)
        industrial.append(c.taxpayer.industry == .industrial)
        monthsOperated.append(UInt8(c.vat?.monthsOperated ?? 0))
        for s in c.vat?.sales ?? [] { lines.append(s) }
        lineStart.append(Int32(lines.count))
        for q in c.eit?.quarters ?? [] {
            employeesStart.append(q.employeesStart); employeesEnd.append(q.employeesEnd)
            assetsStart.append(q.assetsStart.fen); assetsEnd.append(q.assetsEnd.fen); incomeYTD.append(q.taxableIncomeYTD.fen)
        }
        quarterStart.append(Int32(incomeYTD.count))
    }
}

/// The columns of a `Population` as raw buffers, for the batch loop (no bounds checks, no array indirection).
/// Valid only inside `Population.withView`.
struct PopulationView: @unchecked Sendable {
    let kind: UnsafeBufferPointer<UInt8>, region: UnsafeBufferPointer<Int32>
    let restricted: UnsafeBufferPointer<Bool>, industrial: UnsafeBufferPointer<Bool>
    let monthsOperated: UnsafeBufferPointer<UInt8>, lineStart: UnsafeBufferPointer<Int32>
    let quarterStart: UnsafeBufferPointer<Int32>
    let employeesStart: UnsafeBufferPointer<Int64>, employeesEnd: UnsafeBufferPointer<Int64>
    let assetsStart: UnsafeBufferPointer<Int64>, assetsEnd: UnsafeBufferPointer<Int64>, incomeYTD: UnsafeBufferPointer<Int64>
}

extension Population {
    func withView<R>(_ body: (PopulationView) -> R) -> R {
        precondition(lineStart.count == count + 1 && quarterStart.count == count + 1 && region.count == count
                     && restricted.count == count && industrial.count == count && monthsOperated.count == count,
                     "population columns of different lengths")
        precondition(Int(lineStart.last!) == lines.count && Int(quarterStart.last!) == incomeYTD.count
                     && employeesStart.count == incomeYTD.count && employeesEnd.count == incomeYTD.count
                     && assetsStart.count == incomeYTD.count && assetsEnd.count == incomeYTD.count, "population offsets do not match")
        return kind.withUnsafeBufferPointer { k in region.withUnsafeBufferPointer { rg in
            restricted.withUnsafeBufferPointer { rs in industrial.withUnsafeBufferPointer { ind in
            monthsOperated.withUnsafeBufferPointer { mo in lineStart.withUnsafeBufferPointer { ls in
            quarterStart.withUnsafeBufferPointer { qs in employeesStart.withUnsafeBufferPointer { es in
            employeesEnd.withUnsafeBufferPointer { ee in assetsStart.withUnsafeBufferPointer { ast in
            assetsEnd.withUnsafeBufferPointer { ae in incomeYTD.withUnsafeBufferPointer { inc in
                body(PopulationView(kind: k, region: rg, restricted: rs, industrial: ind, monthsOperated: mo, lineStart: ls,
                                    quarterStart: qs, employeesStart: es, employeesEnd: ee, assetsStart: ast, assetsEnd: ae, incomeYTD: inc))
            }}}}}}}}}}}}
    }
}

/// Per-taxpayer results of a batch, in columns. Amounts in fen, rounded as the single-case path reports them.
public struct BatchResult: Sendable {
    public static let ok: UInt8 = 0, refused: UInt8 = 1
    public var vatStatus: [UInt8]
    public var vatExempt: [Int64], vatTax: [Int64], vatRelief: [Int64]
    public var eitStatus: [UInt8]
    /// At the last quarter given: tax to date, relief to date, and Σ payable (the prepayments).
    public var eitTaxYTD: [Int64], eitReliefYTD: [Int64], eitPrepaid: [Int64]
    public var eitQualifies: [Bool]

    public init(count n: Int = 0) {
        vatStatus = Array(repeating: 0, count: n); vatExempt = Array(repeating: 0, count: n)
        vatTax = Array(repeating: 0, count: n); vatRelief = Array(repeating: 0, count: n)
        eitStatus = Array(repeating: 0, count: n); eitTaxYTD = Array(repeating: 0, count: n)
        eitReliefYTD = Array(repeating: 0, count: n); eitPrepaid = Array(repeating: 0, count: n)
        eitQualifies = Array(repeating: false, count: n)
    }

    /// Sets every column to `n` entries; the values are overwritten by the evaluation. A shorter chunk keeps the
    /// columns' memory, so a caller that made them for its largest chunk never has them reallocated while timed.
    mutating func resize(_ n: Int) {
        func fit<T>(_ column: inout [T], _ zero: T) {
            if column.count > n { column.removeLast(column.count - n) }
            else if column.count < n { column.append(contentsOf: repeatElement(zero, count: n - column.count)) }
        }
        fit(&vatStatus, 0); fit(&vatExempt, 0); fit(&vatTax, 0); fit(&vatRelief, 0)
        fit(&eitStatus, 0); fit(&eitTaxYTD, 0); fit(&eitReliefYTD, 0); fit(&eitPrepaid, 0); fit(&eitQualifies, false)
    }

    /// Σ VAT relief + Σ EIT relief to date, in fen: the benchmark's checksum.
    public var totalRelief: Int64 { vatRelief.reduce(0, &+) &+ eitReliefYTD.reduce(0, &+) }
}
