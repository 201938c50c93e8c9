import SQLKit

/// Statistics of relief (统计核算, issue 10): what was given, to how many, against what the law gives, over the
/// current version of every return. Always computed from the returns, so a correction filed later changes the
/// figures of its period, and children add up to their office.
public struct StatisticsQuery: Sendable {
    /// How the lines are grouped: the child offices of the root (each over its subtree), or a registry attribute.
    /// `preference`: the first rule the engine cited for the return (the preference and its 文号), read from the
    /// stored determination; `size`: the taxpayer's 工信 classification for the period's year (`unclassified`
    /// without one). Both are computed live, never from the snapshot.
    public enum Dimension: String, Sendable, CaseIterable { case office, region, industry, kind, preference, size }
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
    /// The statistics of the returns `from` reads (a FROM clause over `t`, taxpayers, and `r`, the current versions),
    /// grouped by `keys` (expression, column name): counts of taxpayers, so that groups of disjoint taxpayers add up.
    /// In two steps: one row per group and taxpayer first (a taxpayer filing monthly has three returns in a quarter),
    /// then the groups. Counted at once with `COUNT(DISTINCT …)`, PostgreSQL sorted every group's rows once for each
    /// of the three counts: a national statement took 63 s, in two steps 32 s (docs/performance.md). `prefix` goes
    /// before the outer columns (constants of an INSERT … SELECT).
    static func statisticsAggregate(keys: [(SQLQueryString, String)], taxpayer: SQLQueryString, from: SQLQueryString,
                                    prefix: SQLQueryString = "") -> SQLQueryString {
        let claimed: SQLQueryString = "(r.relief_fen + r.computed_tax_fen - COALESCE(r.declared_tax_fen, r.computed_tax_fen))"
        var inner: SQLQueryString = "SELECT "
        var groupBy: SQLQueryString = " GROUP BY "
        for (expression, name) in keys {
            inner = inner + expression + " AS \(unsafeRaw: name), "
            groupBy = groupBy + expression + ", "
        }
        inner = inner + "COUNT(*) AS n, "
            + "MAX(CASE WHEN " + claimed + " > 0 THEN 1 ELSE 0 END) AS beneficiary, "
            + "MAX(CASE WHEN r.relief_fen > 0 THEN 1 ELSE 0 END) AS entitled, "
            + "MAX(CASE WHEN r.relief_fen > 0 AND " + claimed + " > 0 THEN 1 ELSE 0 END) AS entitled_received, "
            + "SUM(CASE WHEN " + claimed + " > 0 THEN " + claimed + " ELSE 0 END) AS relief_fen, "
            + "SUM(r.relief_fen) AS law_relief_fen "
            + from + groupBy + taxpayer
        let names = keys.map(\.1)
        let outerKeys = names.map { "x.\($0), " }.joined()
        let sql: SQLQueryString = "SELECT " + prefix + "\(unsafeRaw: outerKeys)"
            + "CAST(COALESCE(SUM(x.n), 0) AS BIGINT) AS returns, "
            + "CAST(COALESCE(SUM(x.beneficiary), 0) AS BIGINT) AS beneficiaries, "
            + "CAST(COALESCE(SUM(x.entitled), 0) AS BIGINT) AS entitled, "
            + "CAST(COALESCE(SUM(x.entitled_received), 0) AS BIGINT) AS entitled_received, "
            + "CAST(COALESCE(SUM(x.relief_fen), 0) AS BIGINT) AS relief_fen, "
            + "CAST(COALESCE(SUM(x.law_relief_fen), 0) AS BIGINT) AS law_relief_fen "
            + "FROM (" + inner + ") x"
        return names.isEmpty ? sql : sql + " GROUP BY \(unsafeRaw: names.map { "x.\($0)" }.joined(separator: ", "))"
    }

    /// `(?, ?, …)` with one bind per value, for `IN`.
    static func list<T: Encodable & Sendable>(_ values: [T]) -> SQLQueryString {
        var s: SQLQueryString = "("
        for (i, v) in values.enumerated() { s = s + (i == 0 ? "" : ", ") + "\(bind: v)" }
        return s + ")"
    }

    /// The join of taxpayers to the current versions of `section` in `periods`.
    static func statisticsJoin(section: String, periods: [String]) -> SQLQueryString {
        "JOIN current_returns c ON c.taxpayer_id = t.id AND c.section = \(bind: section) AND c.period IN " + list(periods)
            + " JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version "
    }

    /// The office scope and the grouping column of a query: child offices (each over its subtree) or an attribute,
    /// read from `attributes` (`t` for taxpayers, `x` for the snapshot).
    static func grouping(_ q: StatisticsQuery, attributes: String, dialect: String = "") -> (scope: SQLQueryString, key: SQLQueryString) {
        switch q.dimension {
        case .office: return (childScope(q.root), "s.grp")
        case .region, .industry, .kind: return (subtreeScope(q.root), "\(unsafeRaw: attributes).\(unsafeRaw: q.dimension.rawValue)")
        case .preference:
            let rule: SQLQueryString = dialect == "postgresql" ? "(CAST(r.determination_json AS jsonb) -> r.section -> 'rules' ->> 0)"
                : "json_extract(r.determination_json, '$.' || r.section || '.rules[0]')"
            return (subtreeScope(q.root), "COALESCE(" + rule + ", '')")
        case .size: return (subtreeScope(q.root), "COALESCE(z.size, 'unclassified')")
        }
    }

    /// The join a grouping needs beyond taxpayers and returns: the 工信 size of the period's year.
    static func groupingJoin(_ q: StatisticsQuery) -> SQLQueryString {
        guard q.dimension == .size, let year = q.periods.first.flatMap({ Int($0.prefix(4)) }) else { return "" }
        return " LEFT JOIN sme_sizes z ON z.credit_code = t.id AND z.year = \(bind: year) "
    }

    /// One line per group under `q.root` (the root's own taxpayers are the group `q.root` when grouping by office),
    /// computed by the database in one statement.
    public func statistics(_ q: StatisticsQuery) async throws -> [StatisticsRow] {
        guard !q.periods.isEmpty else { return [] }
        let (scope, key) = Self.grouping(q, attributes: "t", dialect: db.dialect.name)
        let from: SQLQueryString = "FROM scope s JOIN taxpayers t ON t.office_id = s.id " + Self.statisticsJoin(section: q.section, periods: q.periods)
            + Self.groupingJoin(q)
        let sql: SQLQueryString = scope + " " + Self.statisticsAggregate(keys: [(key, "key")], taxpayer: "t.id", from: from) + " ORDER BY 1"
        return try await db.raw(sql).all(decoding: StatisticsRow.self)
    }

    /// The same figures straight from every current version, without the office tree: what the statistics of the
    /// root office must equal (reconciliation).
    public func statisticsTotal(section: String, periods: [String]) async throws -> StatisticsRow {
        guard !periods.isEmpty else { return StatisticsRow(key: "") }
        let from: SQLQueryString = "FROM current_returns c JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id "
            + "AND r.version = c.version WHERE c.section = \(bind: section) AND c.period IN " + Self.list(periods)
        let sql: SQLQueryString = Self.statisticsAggregate(keys: [], taxpayer: "c.taxpayer_id", from: from, prefix: "'' AS key, ")
        return try await db.raw(sql).first(decoding: StatisticsRow.self) ?? StatisticsRow(key: "")
    }

    // MARK: the snapshot

    /// When the snapshot of a statistics period was computed (nil: never).
    public func statisticsSnapshotTime(section: String, period: String) async throws -> String? {
        try await db.raw("SELECT computed_at AS at FROM statistics_snapshot_times WHERE section = \(bind: section) AND period = \(bind: period)")
            .first()?.decode(column: "at", as: String?.self)
    }

    /// Recomputes the snapshot of one statistics period (`periods`: the return periods it covers): one aggregate over
    /// every taxpayer grouped by (office, region, industry, kind), replacing the old rows in one transaction.
    public func refreshStatisticsSnapshot(section: String, period: String, periods: [String], at: String) async throws {
        guard let database else { throw StoreError.noTransactions }
        let insert: SQLQueryString = """
            INSERT INTO statistics_snapshots (section, period, computed_at, office_id, region, industry, kind, returns, beneficiaries, entitled,
                                              entitled_received, relief_fen, law_relief_fen)
            """ + " " + Self.statisticsAggregate(keys: [("t.office_id", "office_id"), ("t.region", "region"), ("t.industry", "industry"), ("t.kind", "kind")],
                                           taxpayer: "t.id", from: "FROM taxpayers t " + Self.statisticsJoin(section: section, periods: periods),
                                           prefix: "\(bind: section), \(bind: period), \(bind: at), ")
        try await database.transaction { tx in
            let db = sql(tx)
            try await db.raw("DELETE FROM statistics_snapshots WHERE section = \(bind: section) AND period = \(bind: period)").run()
            try await db.raw("DELETE FROM statistics_snapshot_times WHERE section = \(bind: section) AND period = \(bind: period)").run()
            try await db.raw(insert).run()
            try await db.raw("INSERT INTO statistics_snapshot_times (section, period, computed_at) VALUES (\(bind: section), \(bind: period), \(bind: at))").run()
        }
    }

    /// `statistics` read from the snapshot of `period`: sums over the subtree's offices × attributes.
    public func snapshotStatistics(_ q: StatisticsQuery, period: String) async throws -> [StatisticsRow] {
        let (scope, key) = Self.grouping(q, attributes: "x")
        let sums = ["returns", "beneficiaries", "entitled", "entitled_received", "relief_fen", "law_relief_fen"]
            .map { "CAST(SUM(x.\($0)) AS BIGINT) AS \($0)" }.joined(separator: ", ")
        return try await db.raw(scope + " SELECT " + key + " AS key, \(unsafeRaw: sums) FROM scope s JOIN statistics_snapshots x ON x.office_id = s.id"
                                + " AND x.section = \(bind: q.section) AND x.period = \(bind: period) GROUP BY " + key + " ORDER BY 1")
            .all(decoding: StatisticsRow.self)
    }
}
