import Fluent
import SQLKit

/// Drops `return_versions_period`, the index on `return_versions(period, section)` of migration 001. Every reader of
/// the versions comes by taxpayer (the primary key `(taxpayer_id, return_id, version)`): filing, the return page,
/// screening's long cases, statistics and monitoring join on it. What asks by period reads `current_returns`.
/// `pg_stat_user_indexes` counted no scan of the index after national screenings and filing loads. Each index on the
/// versions costs a full read of the table when `huiqi generate` rebuilds it (25 s of a million taxpayers' load,
/// docs/performance.md), and one more index entry for every filing.
struct M026ReturnVersionsWithoutPeriodIndex: AsyncMigration {
    var name: String { "026_return_versions_without_period_index" }
    func prepare(on database: any Database) async throws {
        try await sql(database).raw("DROP INDEX IF EXISTS return_versions_period").run()
    }
    func revert(on database: any Database) async throws {
        try await sql(database).raw("CREATE INDEX return_versions_period ON return_versions(period, section)").run()
    }
}
