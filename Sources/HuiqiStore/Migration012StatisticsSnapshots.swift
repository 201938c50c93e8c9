import Fluent
import SQLKit

/// Pre-aggregated statistics of relief (issue 10): one row per statistics period and (office, region, industry,
/// kind), so that a report sums at most the tree's offices × attributes instead of scanning a province's returns.
/// Derived data: recomputed from the returns in one transaction, and a test holds it equal to the live figures.
struct M012StatisticsSnapshots: AsyncMigration {
    var name: String { "012_statistics_snapshots" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE statistics_snapshots (
              section TEXT NOT NULL,
              period TEXT NOT NULL,
              office_id TEXT NOT NULL,
              region TEXT NOT NULL,
              industry TEXT NOT NULL,
              kind TEXT NOT NULL,
              computed_at TEXT NOT NULL,
              returns BIGINT NOT NULL,
              beneficiaries BIGINT NOT NULL,
              entitled BIGINT NOT NULL,
              entitled_received BIGINT NOT NULL,
              relief_fen BIGINT NOT NULL,
              law_relief_fen BIGINT NOT NULL,
              PRIMARY KEY (section, period, office_id, region, industry, kind)
            )
            """).run()
        // A period computed with nothing in it still has its time (the report is then empty, not recomputed).
        try await db.raw("""
            CREATE TABLE statistics_snapshot_times (
              section TEXT NOT NULL,
              period TEXT NOT NULL,
              computed_at TEXT NOT NULL,
              PRIMARY KEY (section, period)
            )
            """).run()
    }
    func revert(on database: any Database) async throws {
        for t in ["statistics_snapshot_times", "statistics_snapshots"] { try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run() }
    }
}
