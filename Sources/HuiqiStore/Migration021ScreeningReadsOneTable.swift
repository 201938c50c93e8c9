import Fluent
import SQLKit

/// Screening reads one table (issue 12 §2). A page of a quarter's returns used to join three tables: the
/// `current_returns` pointer, the version's row in `return_versions` (for the computed and declared tax) and the
/// taxpayer. Each was a random heap fetch per return, about 13 µs a return on PostgreSQL, most of a screening's time
/// (docs/performance.md). Now:
/// - `current_returns` carries the current version's `computed_tax_fen` and `declared_tax_fen`, written with the
///   pointer at filing and back-filled here;
/// - on PostgreSQL, `current_returns_return` covers everything screening reads of a return but its JSON, and
///   `taxpayers_screening` everything it reads of the taxpayer, so a page is two index-only scans. SQLite keeps its
///   plain index: it has no `INCLUDE`, and serves smaller deployments.
/// A compact screening form too long for an index entry is dropped first (`ScreeningColumns.maxLength`); those
/// returns are read from their JSON.
struct M021ScreeningReadsOneTable: AsyncMigration {
    var name: String { "021_screening_reads_one_table" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("ALTER TABLE current_returns ADD COLUMN computed_tax_fen BIGINT").run()
        try await db.raw("ALTER TABLE current_returns ADD COLUMN declared_tax_fen BIGINT").run()
        try await db.raw("""
            UPDATE current_returns SET computed_tax_fen = r.computed_tax_fen, declared_tax_fen = r.declared_tax_fen
            FROM return_versions r
            WHERE r.taxpayer_id = current_returns.taxpayer_id AND r.return_id = current_returns.return_id AND r.version = current_returns.version
            """).run()
        // 2,000: `ScreeningColumns.maxLength` when this migration shipped, written out so that the migration stays
        // what it was if the constant changes.
        try await db.raw("UPDATE current_returns SET screening = NULL WHERE length(screening) > 2000").run()
        guard db.dialect.name == "postgresql" else { return }
        // Every pointer has its version (the store's check verifies it), so the column can say so.
        try await db.raw("ALTER TABLE current_returns ALTER COLUMN computed_tax_fen SET NOT NULL").run()
        try await db.raw("DROP INDEX current_returns_return").run()
        try await db.raw("""
            CREATE INDEX current_returns_return ON current_returns (return_id, taxpayer_id)
              INCLUDE (period, version, computed_tax_fen, declared_tax_fen, screening)
            """).run()
        try await db.raw("""
            CREATE INDEX taxpayers_screening ON taxpayers (id)
              INCLUDE (kind, vat_status, industry, restricted_industry, region, office_id)
            """).run()
    }
    func revert(on database: any Database) async throws {}
}
