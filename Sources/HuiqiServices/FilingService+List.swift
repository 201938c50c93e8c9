import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// A page of the taxpayer list with the true total, and the current periods its status column refers to.
public struct TaxpayerListing: Sendable {
    public let rows: [TaxpayerListRow]
    public let total: Int
    public let page: Int, pageSize: Int
    /// The current period's VAT return of a monthly filer (`2026-11`) and of a quarterly filer (`2026-Q3`).
    public let monthPeriod: String, quarterPeriod: String
    public let monthDeadline: String?, quarterDeadline: String?
}

extension FilingService {
    public static let listPageSize = 50
    /// Pages beyond this are refused (a search narrows better than paging through a province).
    public static let maxListPage = 20_000

    /// The taxpayers the actor may see, with the filing status of the current period's VAT return (the last ended
    /// month or quarter, by the frequency registered for its year), filtered and paginated.
    public func taxpayerList(by actor: Actor, search: String?, kind: String?, office: String?, status: String?, page: Int,
                             pageSize: Int = FilingService.listPageSize) async throws -> TaxpayerListing {
        let search = search?.trimmingCharacters(in: .whitespaces)
        try TextInput.check(search, field: "q", maxLength: TextInput.maxName)
        try TextInput.check(office, field: "office", maxLength: TextInput.maxIdentifier)
        let kinds = ["enterprise", "unit", "individual_business", "individual"]
        if let kind, !kinds.contains(kind) {
            throw ServiceError.invalid(field: "kind", zh: "纳税人类型不正确", en: "kind must be enterprise, unit, individual_business or individual")
        }
        guard let status = TaxpayerListQuery.Status(rawValue: status ?? "all") else {
            throw ServiceError.invalid(field: "status", zh: "申报状态不正确", en: "status must be all, not_filed, overdue, differs or filed")
        }
        guard (1...Self.maxListPage).contains(page) else {
            throw ServiceError.invalid(field: "page", zh: "页码应为 1 至 \(Self.maxListPage)", en: "page must be 1 to \(Self.maxListPage)")
        }
        if let office, actor.role != .administrator, !actor.offices.contains(office) {
            throw ServiceError.invalid(field: "office", zh: "该税务机关不在您的管辖范围内", en: "that office is not within your reach")
        }
        let today = Self.chinaDay(now())
        let month = today.month == 1 ? (today.year - 1, 12) : (today.year, today.month - 1)
        let qi = (today.month - 1) / 3
        let quarter = qi == 0 ? (today.year - 1, 4) : (today.year, qi)
        let monthPeriod = String(format: "%04d-%02d", month.0, month.1), quarterPeriod = "\(quarter.0)-Q\(quarter.1)"
        let md = try? FilingPeriod.resolve(kind: "vat", period: monthPeriod, deadlines: deadlines).deadline
        let qd = try? FilingPeriod.resolve(kind: "vat", period: quarterPeriod, deadlines: deadlines).deadline
        func passed(_ d: String?) -> Bool { d.flatMap(Day.init(iso:)).map { $0 < today } ?? false }
        let q = TaxpayerListQuery(offices: actor.role == .taxpayer ? nil : access.listableOffices(actor),
                                  ids: actor.role == .taxpayer ? Array(actor.boundTaxpayers) : nil,
                                  search: search, kind: kind, office: office, status: status,
                                  monthReturn: "vat:" + monthPeriod, monthYear: month.0, monthOverdue: passed(md),
                                  quarterReturn: "vat:" + quarterPeriod, quarterYear: quarter.0, quarterOverdue: passed(qd),
                                  limit: pageSize, offset: (page - 1) * pageSize)
        let (rows, total) = try await store.taxpayerList(q)
        return TaxpayerListing(rows: rows, total: total, page: page, pageSize: pageSize,
                               monthPeriod: monthPeriod, quarterPeriod: quarterPeriod, monthDeadline: md, quarterDeadline: qd)
    }
}
