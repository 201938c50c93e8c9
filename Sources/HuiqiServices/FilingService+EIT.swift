import HuiqiRules
import HuiqiStore

/// One quarter of an EIT prepayment as a taxpayer enters it on the form: head count and total assets at the
/// quarter's start and end, and the cumulative taxable income of the year (累计应纳税所得额).
public struct EITQuarterFigures: Sendable {
    public let employees: (Int64, Int64)
    public let assets: (Money, Money)
    public let taxableIncomeYTD: Money
    public init(employees: (Int64, Int64), assets: (Money, Money), taxableIncomeYTD: Money) {
        self.employees = employees; self.assets = assets; self.taxableIncomeYTD = taxableIncomeYTD
    }
}

extension FilingService {
    /// The CASES.md body of an EIT prepayment for `quarter`, built from the year's earlier returns as filed (their
    /// current versions) and this quarter's figures: the averages to date and the cumulative prepayment need every
    /// earlier quarter. A missing earlier quarter leaves the return undetermined, and the error names it.
    /// `startQuarter` is the quarter the enterprise began operating, for its first year.
    public func eitCaseJSON(by actor: Actor, taxpayerID: String, year: Int, quarter: Int, startQuarter: Int,
                            figures: EITQuarterFigures) async throws -> String {
        _ = try await access.fileableTaxpayer(taxpayerID, by: actor)
        guard (1...4).contains(quarter), (1...quarter).contains(startQuarter) else {
            throw ServiceError.invalid(field: "eit.start_quarter", zh: "开始经营的季度应在第1季度和申报季度之间", en: "the starting quarter must lie between Q1 and the quarter filed")
        }
        let earlier = try await store.currentReturns(taxpayer: taxpayerID, section: "eit", year: year)
        var quarters: [JSON] = []
        for k in startQuarter..<quarter {
            guard let row = earlier.first(where: { $0.period == "\(year)-Q\(k)" }), let q = Self.storedCase(row.caseJSON)?.eit?.quarters.last else {
                throw ServiceError.invalid(field: "eit.quarters",
                                           zh: "无法计算：需要先申报 \(year) 年第\(k)季度的预缴申报（平均值和累计预缴要用到）",
                                           en: "undetermined: needs the \(year)-Q\(k) prepayment return first (the averages and the cumulative prepayment use it)")
            }
            quarters.append(Self.quarterJSON(employees: (q.employeesStart, q.employeesEnd), assets: (q.assetsStart, q.assetsEnd), ytd: q.taxableIncomeYTD))
        }
        quarters.append(Self.quarterJSON(employees: figures.employees, assets: figures.assets, ytd: figures.taxableIncomeYTD))
        var eit: [(String, JSON)] = [("year", .number("\(year)"))]
        if startQuarter != 1 { eit.append(("start_quarter", .number("\(startQuarter)"))) }
        eit.append(("quarters", .array(quarters)))
        return JSON.object([("eit", .object(eit))]).serialized(indent: nil)
    }

    static func quarterJSON(employees: (Int64, Int64), assets: (Money, Money), ytd: Money) -> JSON {
        .object([("employees", .array([.number("\(employees.0)"), .number("\(employees.1)")])),
                 ("assets", .array([.string(assets.0.description), .string(assets.1.description)])),
                 ("taxable_income_ytd", .string(ytd.description))])
    }
}
