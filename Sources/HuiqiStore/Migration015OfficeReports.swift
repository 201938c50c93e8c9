import Fluent
import SQLKit

/// Reports up the hierarchy (逐级上报, issue 10 §2): an office's figures for a period, frozen when submitted. A
/// resubmission is a new version; versions are append-only in the database, so a submitted report never changes.
struct M015OfficeReports: AsyncMigration {
    var name: String { "015_office_reports" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE office_reports (
              office_id TEXT NOT NULL REFERENCES offices(id),
              period TEXT NOT NULL,
              version INTEGER NOT NULL CHECK (version >= 1),
              submitted_at TEXT NOT NULL,
              submitted_by TEXT NOT NULL,
              note TEXT NOT NULL,
              body_json TEXT NOT NULL,
              PRIMARY KEY (office_id, period, version)
            )
            """).run()
        try await M010Administration.appendOnly(["office_reports"], on: db)
    }
    func revert(on database: any Database) async throws { try await sql(database).raw("DROP TABLE office_reports").run() }
}

public struct OfficeReportRow: Codable, Sendable, Equatable {
    public var office_id: String, period: String, version: Int, submitted_at: String, submitted_by: String, note: String, body_json: String
    public init(office_id: String, period: String, version: Int, submitted_at: String, submitted_by: String, note: String, body_json: String) {
        self.office_id = office_id; self.period = period; self.version = version; self.submitted_at = submitted_at
        self.submitted_by = submitted_by; self.note = note; self.body_json = body_json
    }
}

/// Notices issued for the returns of some periods, by kind.
public struct NoticeTally: Codable, Sendable, Equatable {
    public var kind: String, count: Int64, amount_fen: Int64
}

extension Store {
    /// Appends the next version of an office's report (inside `writeAudited`); two submissions at once collide on
    /// the primary key and the later is refused as a conflict.
    public func appendReport(_ r: OfficeReportRow) async throws -> Int {
        let last = try await db.raw("SELECT COALESCE(MAX(version), 0) AS v FROM office_reports WHERE office_id = \(bind: r.office_id) AND period = \(bind: r.period)")
            .first()?.decode(column: "v", as: Int.self) ?? 0
        var row = r
        row.version = last + 1
        try await db.insert(into: "office_reports").model(row).run()
        return row.version
    }

    public func reports(office: String, period: String) async throws -> [OfficeReportRow] {
        try await db.select().columns("*").from("office_reports").where("office_id", .equal, office).where("period", .equal, period)
            .orderBy("version", .descending).all(decoding: OfficeReportRow.self)
    }

    /// The latest submitted version of each of `offices` for a period.
    public func latestReports(offices: [String], period: String) async throws -> [OfficeReportRow] {
        guard !offices.isEmpty else { return [] }
        return try await db.raw("""
            SELECT r.* FROM office_reports r WHERE r.period = \(bind: period) AND r.office_id IN
            """ + Self.list(offices) + """
             AND r.version = (SELECT MAX(v.version) FROM office_reports v WHERE v.office_id = r.office_id AND v.period = r.period)
            """).all(decoding: OfficeReportRow.self)
    }

    /// Notices issued for the `section` returns of `periods`, by kind, under an office subtree.
    public func noticeTallies(under root: String, section: String, periods: [String]) async throws -> [NoticeTally] {
        guard !periods.isEmpty else { return [] }
        return try await db.raw(Self.subtreeScope(root) + " SELECT n.kind, COUNT(*) AS count, CAST(COALESCE(SUM(n.amount_fen), 0) AS BIGINT) AS amount_fen "
            + "FROM notices n JOIN scope s ON s.id = n.office_id WHERE n.section = \(bind: section) AND n.period IN " + Self.list(periods)
            + " GROUP BY n.kind ORDER BY n.kind").all(decoding: NoticeTally.self)
    }

    /// Ledger entries of a kind (`offset`, `refund`) made in [from, to) (ISO instants), summed, under an office subtree.
    public func ledgerSum(under root: String, kind: String, from: String, to: String) async throws -> Int64 {
        try await db.raw(Self.subtreeScope(root) + " SELECT CAST(COALESCE(SUM(e.amount_fen), 0) AS BIGINT) AS n FROM ledger_entries e "
            + "JOIN taxpayers t ON t.id = e.taxpayer_id JOIN scope s ON s.id = t.office_id "
            + "WHERE e.kind = \(bind: kind) AND e.at >= \(bind: from) AND e.at < \(bind: to)").first()?.decode(column: "n", as: Int64.self) ?? 0
    }

    /// Per child office of `root` (each over its subtree): the notices issued for the `section` returns of
    /// `periods`, and how many of them before `timelyBefore` (an ISO instant).
    public func noticesByChild(of root: String, section: String, periods: [String], timelyBefore: String) async throws -> [String: (Int64, Int64)] {
        guard !periods.isEmpty else { return [:] }
        let rows = try await db.raw(Self.childScope(root) + " SELECT s.grp AS office_id, COUNT(*) AS notices, "
            + "CAST(COALESCE(SUM(CASE WHEN n.issued_at < \(bind: timelyBefore) THEN 1 ELSE 0 END), 0) AS BIGINT) AS timely "
            + "FROM scope s JOIN notices n ON n.office_id = s.id WHERE n.section = \(bind: section) AND n.period IN " + Self.list(periods)
            + " GROUP BY s.grp").all()
        var out: [String: (Int64, Int64)] = [:]
        for r in rows {
            out[try r.decode(column: "office_id", as: String.self)] = (try r.decode(column: "notices", as: Int64.self), try r.decode(column: "timely", as: Int64.self))
        }
        return out
    }
}
