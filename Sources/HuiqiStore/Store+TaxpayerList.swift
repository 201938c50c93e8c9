import SQLKit

/// What the taxpayer list shows: which taxpayers, filtered how, and which VAT return is "the current period's".
public struct TaxpayerListQuery: Sendable {
    /// The filing status of the current period's VAT return (the list's filter).
    public enum Status: String, Sendable, CaseIterable {
        case all, notFiled = "not_filed", overdue, differs, filed
    }
    /// Offices in reach (nil: all); `ids`: only these taxpayers (a taxpayer user's bindings).
    public var offices: Set<String>?
    public var ids: [String]?
    /// A credit-code prefix or a name fragment.
    public var search: String?
    public var kind: String?
    public var office: String?
    public var status: Status = .all
    /// The current period's VAT return for a monthly filer (`vat:2026-11`, frequency registered for `monthYear`)
    /// and for a quarterly filer (`vat:2026-Q3`, for `quarterYear`), and whether their deadlines have passed.
    public var monthReturn: String, monthYear: Int, monthOverdue: Bool
    public var quarterReturn: String, quarterYear: Int, quarterOverdue: Bool
    public var limit: Int, offset: Int

    public init(offices: Set<String>?, ids: [String]?, search: String?, kind: String?, office: String?, status: Status,
                monthReturn: String, monthYear: Int, monthOverdue: Bool, quarterReturn: String, quarterYear: Int, quarterOverdue: Bool,
                limit: Int, offset: Int) {
        self.offices = offices; self.ids = ids; self.search = search; self.kind = kind; self.office = office; self.status = status
        self.monthReturn = monthReturn; self.monthYear = monthYear; self.monthOverdue = monthOverdue
        self.quarterReturn = quarterReturn; self.quarterYear = quarterYear; self.quarterOverdue = quarterOverdue
        self.limit = limit; self.offset = offset
    }
}

/// One line of the taxpayer list: the registry facts and the current period's VAT return, if one is due.
public struct TaxpayerListRow: Codable, Sendable, Equatable {
    public var id: String, name: String, kind: String, office_id: String, region: String
    /// `monthly` or `quarterly` when a VAT return is due for the current period; nil when none is registered.
    public var due_frequency: String?
    public var filed_return: String?
    public var computed_tax_fen: Int64?, declared_tax_fen: Int64?, relief_fen: Int64?
}

extension Store {
    /// A page of the taxpayer list and the true number of taxpayers the filter matches, in credit-code order.
    public func taxpayerList(_ q: TaxpayerListQuery) async throws -> (rows: [TaxpayerListRow], total: Int) {
        if q.offices?.isEmpty == true || q.ids?.isEmpty == true { return ([], 0) }
        let from: SQLQueryString = """
             FROM taxpayers t
             LEFT JOIN vat_filing_frequencies fm ON fm.taxpayer_id = t.id AND fm.year = \(bind: q.monthYear) AND fm.frequency = 'monthly'
             LEFT JOIN vat_filing_frequencies fq ON fq.taxpayer_id = t.id AND fq.year = \(bind: q.quarterYear) AND fq.frequency = 'quarterly'
             LEFT JOIN current_returns c ON c.taxpayer_id = t.id
               AND c.return_id = CASE WHEN fm.taxpayer_id IS NOT NULL THEN \(bind: q.monthReturn) WHEN fq.taxpayer_id IS NOT NULL THEN \(bind: q.quarterReturn) END
             LEFT JOIN return_versions v ON v.taxpayer_id = c.taxpayer_id AND v.return_id = c.return_id AND v.version = c.version
             WHERE 1 = 1
            """
        var filter: SQLQueryString = ""
        if let offices = q.offices { filter = filter + " AND t.office_id IN " + Self.list(offices.sorted()) }
        if let ids = q.ids { filter = filter + " AND t.id IN " + Self.list(ids.sorted()) }
        if let office = q.office { filter = filter + " AND t.office_id = \(bind: office)" }
        if let kind = q.kind { filter = filter + " AND t.kind = \(bind: kind)" }
        if let search = q.search, !search.isEmpty {
            let escaped = search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            filter = filter + " AND (t.id LIKE \(bind: escaped + "%") ESCAPE '\\' OR t.name LIKE \(bind: "%" + escaped + "%") ESCAPE '\\')"
        }
        let due: SQLQueryString = "(fm.taxpayer_id IS NOT NULL OR fq.taxpayer_id IS NOT NULL)"
        switch q.status {
        case .all: break
        case .filed: filter = filter + " AND c.return_id IS NOT NULL"
        case .notFiled: filter = filter + " AND " + due + " AND c.return_id IS NULL"
        case .differs: filter = filter + " AND v.declared_tax_fen IS NOT NULL AND v.declared_tax_fen <> v.computed_tax_fen"
        case .overdue:
            // Not filed, and the deadline of the return due (monthly or quarterly) has passed.
            var late: [SQLQueryString] = []
            if q.monthOverdue { late.append("fm.taxpayer_id IS NOT NULL") }
            if q.quarterOverdue { late.append("(fm.taxpayer_id IS NULL AND fq.taxpayer_id IS NOT NULL)") }
            if late.isEmpty { return ([], 0) }
            var any: SQLQueryString = "("
            for (i, l) in late.enumerated() { any = any + (i == 0 ? "" : " OR ") + l }
            filter = filter + " AND c.return_id IS NULL AND " + any + ")"
        }
        let count = try await db.raw("SELECT COUNT(*) AS n" + from + filter).first()
        let total = try count?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await db.raw("""
            SELECT t.id, t.name, t.kind, t.office_id, t.region,
                   CASE WHEN fm.taxpayer_id IS NOT NULL THEN 'monthly' WHEN fq.taxpayer_id IS NOT NULL THEN 'quarterly' END AS due_frequency,
                   c.return_id AS filed_return, v.computed_tax_fen, v.declared_tax_fen, v.relief_fen
            """ + from + filter + " ORDER BY t.id LIMIT \(bind: q.limit) OFFSET \(bind: q.offset)").all(decoding: TaxpayerListRow.self)
        return (rows, total)
    }
}
