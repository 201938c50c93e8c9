import SQLKit

/// The four comparisons of the tax registry with other departments' registries (部门数据比对), each over an office
/// subtree: taxpayers by their office, enterprises unknown to tax by their region (the regions of the subtree's
/// offices).
public enum ComparisonKind: String, Sendable, CaseIterable, Codable {
    /// Registered with the market regulator, active there, unknown to tax (未办理税务登记).
    case unregistered
    /// Classified small or micro by 工信 for a year, entitled to relief on its filed returns, received none.
    case smeWithoutRelief = "sme_without_relief"
    /// Known to both, with a different industry, region, type or status.
    case mismatch
    /// Deregistered with the market regulator, still active in tax (已注销仍为正常户).
    case deregisteredActive = "deregistered_active"
}

extension Store {
    /// GB/T 4754 sections that 《中小企业划型标准规定》 counts as 工业 (采矿业 B, 制造业 C, 电力、热力、燃气及水生产和
    /// 供应业 D): the tax registry's `industry = 'industrial'`.
    static let industrialSections: SQLQueryString = "('B','C','D')"

    static func comparisonSQL(_ kind: ComparisonKind, root: String?, year: Int) -> SQLQueryString {
        let scope: SQLQueryString = root.map { subtreeScope($0) + " " } ?? "WITH RECURSIVE scope(grp, id) AS (SELECT id, id FROM offices) "
        let market: SQLQueryString = "m.credit_code, m.name, m.entity_type, m.registered_on, m.deregistered_on, m.industry_section, m.region"
        let tax: SQLQueryString = "t.kind AS tax_kind, t.industry AS tax_industry, t.region AS tax_region, t.deregistered_on AS tax_deregistered_on, t.office_id"
        let joined: SQLQueryString = " FROM market_entities m JOIN taxpayers t ON t.id = m.credit_code JOIN scope s ON s.id = t.office_id WHERE "
        switch kind {
        case .unregistered:
            return scope + "SELECT " + market + " FROM market_entities m LEFT JOIN taxpayers t ON t.id = m.credit_code "
                + "WHERE t.id IS NULL AND m.deregistered_on IS NULL AND m.region IN (SELECT o.region_code FROM offices o JOIN scope s ON s.id = o.id)"
        case .deregisteredActive:
            return scope + "SELECT " + market + ", " + tax + joined + "m.deregistered_on IS NOT NULL AND t.deregistered_on IS NULL"
        case .mismatch:
            let industry: SQLQueryString = "(CASE WHEN m.industry_section IN " + industrialSections + " THEN 'industrial' ELSE 'other' END)"
            return scope + "SELECT " + market + ", " + tax + joined + "(m.region <> t.region OR " + industry + " <> t.industry"
                + " OR (m.entity_type = 'individual_business') <> (t.kind = 'individual_business')"
                + " OR (m.deregistered_on IS NULL AND t.deregistered_on IS NOT NULL))"
        case .smeWithoutRelief:
            let claimed: SQLQueryString = "(r.relief_fen + r.computed_tax_fen - COALESCE(r.declared_tax_fen, r.computed_tax_fen))"
            // EIT prepayment returns carry the year to date: the year's largest, not their sum.
            return scope + "SELECT t.id AS credit_code, t.name, z.size, t.office_id, t.kind AS tax_kind, "
                + "CAST(SUM(CASE WHEN c.section <> 'eit' THEN r.relief_fen ELSE 0 END) + MAX(CASE WHEN c.section = 'eit' THEN r.relief_fen ELSE 0 END) AS BIGINT) AS law_relief_fen "
                + "FROM sme_sizes z JOIN taxpayers t ON t.id = z.credit_code JOIN scope s ON s.id = t.office_id "
                + "JOIN current_returns c ON c.taxpayer_id = t.id AND c.period >= \(bind: String(year)) AND c.period < \(bind: String(year + 1)) "
                + "JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version "
                + "WHERE z.year = \(bind: year) AND z.size IN ('small','micro') GROUP BY t.id, t.name, z.size, t.office_id, t.kind "
                + "HAVING SUM(CASE WHEN r.relief_fen > 0 THEN 1 ELSE 0 END) > 0 AND SUM(CASE WHEN " + claimed + " > 0 THEN 1 ELSE 0 END) = 0"
        }
    }

    /// The findings of one comparison, in credit-code order, at most `limit` from `offset`. `root`: nil for every
    /// office. `year`: the classification year (for `smeWithoutRelief`; the returns of that year count).
    public func comparison(_ kind: ComparisonKind, root: String?, year: Int, limit: Int, offset: Int = 0) async throws -> [ComparisonRow] {
        try await db.raw(Self.comparisonSQL(kind, root: root, year: year) + " ORDER BY 1 LIMIT \(bind: limit) OFFSET \(bind: offset)")
            .all(decoding: ComparisonRow.self)
    }

    public func comparisonCount(_ kind: ComparisonKind, root: String?, year: Int) async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM (" + Self.comparisonSQL(kind, root: root, year: year) + ") f").first()?
            .decode(column: "n", as: Int.self) ?? 0
    }

    /// Offices by region code, for the office responsible for an enterprise unknown to tax.
    public func officesByRegion() async throws -> [(id: String, level: String, region: String)] {
        try await db.raw("SELECT id, level, region_code FROM offices ORDER BY id").all().map {
            (try $0.decode(column: "id", as: String.self), try $0.decode(column: "level", as: String.self), try $0.decode(column: "region_code", as: String.self))
        }
    }
}
