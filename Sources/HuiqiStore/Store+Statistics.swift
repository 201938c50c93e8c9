import SQLKit

/// Statistics of relief (统计核算, issue 10): what was given, to how many, against what the law gives, over the
/// current version of every return. Always computed from the returns, so a correction filed later changes the
/// figures of its period, and children add up to their office.
public struct StatisticsQuery: Sendable {
    /// How the lines are grouped: the child offices of the root (each over its subtree), or a registry attribute.
    public enum Dimension: String, Sendable, CaseIterable { case office, region, industry, kind }
    public var section: String
    /// The periods whose returns count (a quarter's VAT includes the monthly returns of its months).
    public var periods: [String]
    public var root: String
    public var dimension: Dimension
    public init(section: String, periods: [String], root: String, dimension: Dimension) {
        self.section = section; self.periods = periods; self.root = root; self.dimension = dimension
    }
}

/// One line of statistics. `relief_fen` is the relief received: gross tax (tax + the law's relief) less the tax
/// declared, when positive; `law_relief_fen` what the engine computed the law gives on the filed figures.
public struct StatisticsRow: Codable, Sendable, Equatable {
    public var key: String
    public var returns: Int64
    /// Taxpayers with relief received, taxpayers the law entitles (law relief > 0), and those both.
    public var beneficiaries: Int64, entitled: Int64, entitled_received: Int64
    public var relief_fen: Int64, law_relief_fen: Int64

    public init(key: String, returns: Int64 = 0, beneficiaries: Int64 = 0, entitled: Int64 = 0, entitled_received: Int64 = 0,
                relief_fen: Int64 = 0, law_relief_fen: Int64 = 0) {
        self.key = key; self.returns = returns; self.beneficiaries = beneficiaries; self.entitled = entitled
        self.entitled_received = entitled_received; self.relief_fen = relief_fen; self.law_relief_fen = law_relief_fen
    }

    /// Lines of disjoint groups add up (a taxpayer is in one office, one region, one industry, one kind).
    public static func + (a: StatisticsRow, b: StatisticsRow) -> StatisticsRow {
        StatisticsRow(key: a.key, returns: a.returns + b.returns, beneficiaries: a.beneficiaries + b.beneficiaries, entitled: a.entitled + b.entitled,
                      entitled_received: a.entitled_received + b.entitled_received, relief_fen: a.relief_fen + b.relief_fen,
                      law_relief_fen: a.law_relief_fen + b.law_relief_fen)
    }
}

extension Store {
    /// One line per group under `q.root` (the root's own taxpayers are the group `q.root` when grouping by office),
    /// computed by the database in one statement.
    public func statistics(_ q: StatisticsQuery) async throws -> [StatisticsRow] {
        guard !q.periods.isEmpty else { return [] }
        let scope: SQLQueryString = q.dimension == .office ? Self.childScope(q.root) : Self.subtreeScope(q.root)
        let key: SQLQueryString
        switch q.dimension {
        case .office: key = "s.grp"
        case .region: key = "t.region"
        case .industry: key = "t.industry"
        case .kind: key = "t.kind"
        }
        let claimed: SQLQueryString = "(r.relief_fen + r.computed_tax_fen - COALESCE(r.declared_tax_fen, r.computed_tax_fen))"
        var periods: SQLQueryString = "("
        for (i, p) in q.periods.enumerated() { periods = periods + (i == 0 ? "" : ", ") + "\(bind: p)" }
        periods = periods + ")"
        let sql: SQLQueryString = scope + " SELECT " + key + " AS key, COUNT(*) AS returns, "
            + "COUNT(DISTINCT CASE WHEN " + claimed + " > 0 THEN t.id END) AS beneficiaries, "
            + "COUNT(DISTINCT CASE WHEN r.relief_fen > 0 THEN t.id END) AS entitled, "
            + "COUNT(DISTINCT CASE WHEN r.relief_fen > 0 AND " + claimed + " > 0 THEN t.id END) AS entitled_received, "
            + "CAST(COALESCE(SUM(CASE WHEN " + claimed + " > 0 THEN " + claimed + " ELSE 0 END), 0) AS BIGINT) AS relief_fen, "
            + "CAST(COALESCE(SUM(r.relief_fen), 0) AS BIGINT) AS law_relief_fen "
            + "FROM scope s JOIN taxpayers t ON t.office_id = s.id "
            + "JOIN current_returns c ON c.taxpayer_id = t.id AND c.section = \(bind: q.section) AND c.period IN " + periods
            + " JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version "
            + "GROUP BY " + key + " ORDER BY 1"
        return try await db.raw(sql).all(decoding: StatisticsRow.self)
    }

    /// The same figures straight from every current version, without the office tree: what the statistics of the
    /// root office must equal (reconciliation).
    public func statisticsTotal(section: String, periods: [String]) async throws -> StatisticsRow {
        guard !periods.isEmpty else { return StatisticsRow(key: "") }
        var list: SQLQueryString = "("
        for (i, p) in periods.enumerated() { list = list + (i == 0 ? "" : ", ") + "\(bind: p)" }
        list = list + ")"
        let claimed: SQLQueryString = "(r.relief_fen + r.computed_tax_fen - COALESCE(r.declared_tax_fen, r.computed_tax_fen))"
        let sql: SQLQueryString = "SELECT '' AS key, COUNT(*) AS returns, "
            + "COUNT(DISTINCT CASE WHEN " + claimed + " > 0 THEN c.taxpayer_id END) AS beneficiaries, "
            + "COUNT(DISTINCT CASE WHEN r.relief_fen > 0 THEN c.taxpayer_id END) AS entitled, "
            + "COUNT(DISTINCT CASE WHEN r.relief_fen > 0 AND " + claimed + " > 0 THEN c.taxpayer_id END) AS entitled_received, "
            + "CAST(COALESCE(SUM(CASE WHEN " + claimed + " > 0 THEN " + claimed + " ELSE 0 END), 0) AS BIGINT) AS relief_fen, "
            + "CAST(COALESCE(SUM(r.relief_fen), 0) AS BIGINT) AS law_relief_fen "
            + "FROM current_returns c JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version "
            + "WHERE c.section = \(bind: section) AND c.period IN " + list
        return try await db.raw(sql).first(decoding: StatisticsRow.self) ?? StatisticsRow(key: "")
    }
}
