import Foundation
import SQLKit

/// Which returns are expected in a filing period, as the registry says: the return, the taxpayers it is due from
/// (active in the period, of the kinds that file it, and for VAT registered with the matching filing frequency),
/// and the instant after which a first filing is late.
public struct ExpectedReturns: Sendable, Equatable {
    public let section: String
    public let period: String
    public let returnID: String
    /// First and last day of the period (ISO): a taxpayer is active when registered by the last day and not
    /// deregistered before the first.
    public let firstDay: String, lastDay: String
    /// The taxpayer kinds that file this return.
    public let kinds: [String]
    /// VAT: the filing frequency (纳税期限) registered for `year` that makes this period due.
    public let frequency: String?
    public let year: Int
    /// The deadline (ISO day) and the first instant after it (UTC ISO text: the deadline's end in Beijing time).
    public let deadline: String, lateAfter: String
    public init(section: String, period: String, returnID: String, firstDay: String, lastDay: String, kinds: [String],
                frequency: String?, year: Int, deadline: String, lateAfter: String) {
        self.section = section; self.period = period; self.returnID = returnID; self.firstDay = firstDay; self.lastDay = lastDay
        self.kinds = kinds; self.frequency = frequency; self.year = year; self.deadline = deadline; self.lateAfter = lateAfter
    }
}

/// Filing figures of one office subtree (or of the taxpayers registered directly at an office).
public struct OfficeFigures: Codable, Sendable, Equatable {
    public var office_id: String
    public var expected: Int64, filed: Int64, late: Int64
    /// Σ relief the law gives (computed at filing) and Σ relief the filers claimed (gross tax − declared tax).
    public var relief_due_fen: Int64, relief_claimed_fen: Int64
    /// Accuracy flags: declared above the computed tax with relief available (relief not claimed), declared
    /// below it (relief claimed but not due), and any difference.
    public var not_claimed: Int64, not_due: Int64, mismatched: Int64
    public var notFiled: Int64 { expected - filed }
    public static func zero(_ office: String) -> OfficeFigures {
        OfficeFigures(office_id: office, expected: 0, filed: 0, late: 0, relief_due_fen: 0, relief_claimed_fen: 0, not_claimed: 0, not_due: 0, mismatched: 0)
    }
    public static func + (a: OfficeFigures, b: OfficeFigures) -> OfficeFigures {
        OfficeFigures(office_id: a.office_id, expected: a.expected + b.expected, filed: a.filed + b.filed, late: a.late + b.late,
                      relief_due_fen: a.relief_due_fen + b.relief_due_fen, relief_claimed_fen: a.relief_claimed_fen + b.relief_claimed_fen,
                      not_claimed: a.not_claimed + b.not_claimed, not_due: a.not_due + b.not_due, mismatched: a.mismatched + b.mismatched)
    }
}

/// One expected return of one taxpayer, as the branch-level list shows it.
public struct ExpectedReturnRow: Codable, Sendable, Equatable {
    public var taxpayer_id: String, name: String, office_id: String
    public var version: Int?, first_filed_at: String?
    public var computed_tax_fen: Int64?, relief_fen: Int64?, declared_tax_fen: Int64?
}

extension Store {
    /// The expected returns joined with what was filed, under `scope` (a CTE named `scope(grp, id)` mapping each
    /// office id to the group it is counted in). One statement; the caller supplies the scope.
    /// `after`: a keyset bound on the credit code, repeated on every joined table (see `screenedReturns`).
    /// `versions`: also join the current and the first version (their amounts and days); not needed to find what
    /// was never filed.
    func expectedJoin(_ e: ExpectedReturns, after: String? = nil, versions: Bool = true) -> SQLQueryString {
        var q: SQLQueryString = """
            FROM scope s JOIN taxpayers t ON t.office_id = s.id
            """
        func bound(_ column: String) -> SQLQueryString { after.map { " AND \(unsafeRaw: column) > \(bind: $0)" } ?? "" }
        if let frequency = e.frequency {
            q = q + " JOIN vat_filing_frequencies q ON q.taxpayer_id = t.id AND q.year = \(bind: e.year) AND q.frequency = \(bind: frequency)" + bound("q.taxpayer_id")
        }
        q = q + " LEFT JOIN current_returns c ON c.taxpayer_id = t.id AND c.return_id = \(bind: e.returnID) AND c.period = \(bind: e.period)" + bound("c.taxpayer_id")
        if versions {
            q = q + " LEFT JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.period = c.period AND r.version = c.version" + bound("r.taxpayer_id")
            q = q + " LEFT JOIN return_versions f ON f.taxpayer_id = c.taxpayer_id AND f.return_id = c.return_id AND f.period = c.period AND f.version = 1" + bound("f.taxpayer_id")
        }
        q = q + """

            WHERE t.registered_on <= \(bind: e.lastDay) AND (t.deregistered_on IS NULL OR t.deregistered_on >= \(bind: e.firstDay))
              AND t.kind IN (
            """
        for (i, k) in e.kinds.enumerated() { q = q + (i == 0 ? "" : ", ") + "\(bind: k)" }
        return q + ")"
    }

    /// The office subtree below `root` as `scope(grp, id)`: each descendant counted in the group of the child of
    /// `root` it lies under, and `root`'s own taxpayers in the group `root`. Resolved by the database (one bound id).
    static func childScope(_ root: String) -> SQLQueryString {
        """
        WITH RECURSIVE tree(grp, id) AS (
          SELECT id, id FROM offices WHERE parent_id = \(bind: root)
          UNION ALL SELECT tree.grp, o.id FROM offices o JOIN tree ON o.parent_id = tree.id
        ), scope(grp, id) AS (SELECT grp, id FROM tree UNION ALL SELECT id, id FROM offices WHERE id = \(bind: root))
        """
    }

    /// Figures per child office of `root` (each over its whole subtree) and for `root`'s own taxpayers, computed by
    /// the database in one statement. Offices with nothing expected are absent.
    public func figuresByChild(of root: String, _ e: ExpectedReturns) async throws -> [OfficeFigures] {
        let q: SQLQueryString = Self.childScope(root) + " SELECT s.grp AS office_id, " + figureColumns(e) + " " + expectedJoin(e) + " GROUP BY s.grp"
        return try await db.raw(q).all(decoding: OfficeFigures.self)
    }

    /// The figure columns with the late instant bound.
    func figureColumns(_ e: ExpectedReturns) -> SQLQueryString {
        """
        COUNT(*) AS expected, COUNT(c.taxpayer_id) AS filed,
        CAST(COALESCE(SUM(CASE WHEN f.filed_at >= \(bind: e.lateAfter) THEN 1 ELSE 0 END), 0) AS BIGINT) AS late,
        CAST(COALESCE(SUM(r.relief_fen), 0) AS BIGINT) AS relief_due_fen,
        CAST(COALESCE(SUM(CASE WHEN r.relief_fen + r.computed_tax_fen - COALESCE(r.declared_tax_fen, r.computed_tax_fen) > 0
                          THEN r.relief_fen + r.computed_tax_fen - COALESCE(r.declared_tax_fen, r.computed_tax_fen) ELSE 0 END), 0) AS BIGINT) AS relief_claimed_fen,
        CAST(COALESCE(SUM(CASE WHEN r.declared_tax_fen > r.computed_tax_fen AND r.relief_fen > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS not_claimed,
        CAST(COALESCE(SUM(CASE WHEN r.declared_tax_fen < r.computed_tax_fen THEN 1 ELSE 0 END), 0) AS BIGINT) AS not_due,
        CAST(COALESCE(SUM(CASE WHEN r.declared_tax_fen <> r.computed_tax_fen THEN 1 ELSE 0 END), 0) AS BIGINT) AS mismatched
        """
    }

    /// First filings per Beijing day under `root` (the whole subtree), in day order.
    public func firstFilingsByDay(under root: String, _ e: ExpectedReturns) async throws -> [(day: String, count: Int64)] {
        let day: SQLQueryString = db.dialect.name == "postgresql"
            ? "to_char((f.filed_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD')"
            : "date(f.filed_at, '+8 hours')"
        let q: SQLQueryString = Self.subtreeScope(root) + " SELECT " + day + " AS day, COUNT(*) AS n " + expectedJoin(e)
            + " AND f.filed_at IS NOT NULL GROUP BY " + day + " ORDER BY 1"
        return try await db.raw(q).all().map { (try $0.decode(column: "day", as: String.self), try $0.decode(column: "n", as: Int64.self)) }
    }

    /// The whole subtree of `root` as one group `scope(grp, id)`.
    static func subtreeScope(_ root: String) -> SQLQueryString {
        """
        WITH RECURSIVE scope(grp, id) AS (
          SELECT id, id FROM offices WHERE id = \(bind: root)
          UNION ALL SELECT scope.grp, o.id FROM offices o JOIN scope ON o.parent_id = scope.id
        )
        """
    }

    /// The expected returns of the taxpayers registered directly at `office`, in credit-code order (the last level
    /// of the drill-down): filed or not, when first filed, and the amounts of the current version.
    public func expectedReturns(at office: String, _ e: ExpectedReturns, onlyNotFiled: Bool, limit: Int) async throws -> [ExpectedReturnRow] {
        let scope: SQLQueryString = "WITH scope(grp, id) AS (SELECT id, id FROM offices WHERE id = \(bind: office))"
        var q: SQLQueryString = scope + """
             SELECT t.id AS taxpayer_id, t.name, t.office_id, c.version, f.filed_at AS first_filed_at,
                    r.computed_tax_fen, r.relief_fen, r.declared_tax_fen
            """ + " " + expectedJoin(e)
        if onlyNotFiled { q = q + " AND c.taxpayer_id IS NULL" }
        return try await db.raw(q + " ORDER BY t.id LIMIT \(bind: limit)").all(decoding: ExpectedReturnRow.self)
    }

    /// Offices that are `office` or below it: the database answers with one bound id.
    public func isOffice(_ office: String, within root: String) async throws -> Bool {
        let row = try await db.raw(Self.subtreeScope(root) + " SELECT COUNT(*) AS n FROM scope WHERE id = \(bind: office)").first()
        return try (row?.decode(column: "n", as: Int64.self) ?? 0) > 0
    }

    /// The children of an office, by id.
    public func childOffices(of office: String) async throws -> [OfficeRow] {
        try await db.select().columns("*").from("offices").where("parent_id", .equal, office).orderBy("id").all(decoding: OfficeRow.self)
    }
    /// The root of the office tree (the national office).
    public func rootOffice() async throws -> OfficeRow? {
        try await db.select().columns("*").from("offices").where(SQLIdentifier("parent_id"), .is, SQLLiteral.null).orderBy("id").first(decoding: OfficeRow.self)
    }

    // MARK: snapshots

    /// When the snapshot of a return was computed (nil: never).
    public func snapshotTime(_ returnID: String) async throws -> String? {
        try await db.raw("SELECT MIN(computed_at) AS at FROM monitoring_snapshots WHERE return_id = \(bind: returnID)").first()?
            .decode(column: "at", as: String?.self)
    }

    /// Recomputes the snapshot of a return: one aggregate over the whole tree grouped by office, and one by office and
    /// day, replacing the previous rows in one transaction (readers see the old or the new snapshot, never a mix).
    public func refreshSnapshot(_ e: ExpectedReturns, at: String) async throws {
        guard let database else { throw StoreError.noTransactions }
        let all: SQLQueryString = "WITH scope(grp, id) AS (SELECT id, id FROM offices)"
        let figures: SQLQueryString = all + """
             INSERT INTO monitoring_snapshots (return_id, office_id, computed_at, expected, filed, late, relief_due_fen, relief_claimed_fen,
                                              not_claimed, not_due, mismatched)
            SELECT \(bind: e.returnID), s.grp, \(bind: at), 
            """ + figureColumns(e) + " " + expectedJoin(e) + " GROUP BY s.grp"
        let dayExpression: SQLQueryString = db.dialect.name == "postgresql"
            ? "to_char((f.filed_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD')"
            : "date(f.filed_at, '+8 hours')"
        let days: SQLQueryString = all + " INSERT INTO monitoring_snapshot_days (return_id, office_id, day, n) SELECT \(bind: e.returnID), s.grp, "
            + dayExpression + ", COUNT(*) " + expectedJoin(e) + " AND f.filed_at IS NOT NULL GROUP BY s.grp, " + dayExpression
        try await database.transaction { tx in
            let db = sql(tx)
            try await db.raw("DELETE FROM monitoring_snapshots WHERE return_id = \(bind: e.returnID)").run()
            try await db.raw("DELETE FROM monitoring_snapshot_days WHERE return_id = \(bind: e.returnID)").run()
            try await db.raw(figures).run()
            try await db.raw(days).run()
        }
    }

    /// `figuresByChild` read from the snapshot: sums over at most the tree's offices, not its taxpayers.
    public func snapshotFiguresByChild(of root: String, _ e: ExpectedReturns) async throws -> [OfficeFigures] {
        let sums = ["expected", "filed", "late", "relief_due_fen", "relief_claimed_fen", "not_claimed", "not_due", "mismatched"]
            .map { "CAST(SUM(m.\($0)) AS BIGINT) AS \($0)" }.joined(separator: ", ")
        return try await db.raw(Self.childScope(root) + " SELECT s.grp AS office_id, \(unsafeRaw: sums) FROM scope s JOIN monitoring_snapshots m ON m.office_id = s.id AND m.return_id = \(bind: e.returnID) GROUP BY s.grp")
            .all(decoding: OfficeFigures.self)
    }

    /// `firstFilingsByDay` read from the snapshot.
    public func snapshotFilingsByDay(under root: String, _ e: ExpectedReturns) async throws -> [(day: String, count: Int64)] {
        try await db.raw(Self.subtreeScope(root) + " SELECT d.day, CAST(SUM(d.n) AS BIGINT) AS n FROM scope s JOIN monitoring_snapshot_days d ON d.office_id = s.id AND d.return_id = \(bind: e.returnID) GROUP BY d.day ORDER BY d.day")
            .all().map { (try $0.decode(column: "day", as: String.self), try $0.decode(column: "n", as: Int64.self)) }
    }
}
