import Fluent
import SQLKit

/// Drops `notices_taxpayer`, the index on `notices(taxpayer_id)` of migration 010. Since migration 020 the primary key
/// is `(taxpayer_id, id)`, which answers every lookup by taxpayer the same way, so the older index only cost a fifth
/// of each notice's index writes: a first national screening writes 164,917 notices (docs/performance.md).
struct M024NoticesWithoutRedundantIndex: AsyncMigration {
    var name: String { "024_notices_without_redundant_index" }
    func prepare(on database: any Database) async throws {
        try await sql(database).raw("DROP INDEX IF EXISTS notices_taxpayer").run()
    }
    func revert(on database: any Database) async throws {
        try await sql(database).raw("CREATE INDEX notices_taxpayer ON notices(taxpayer_id)").run()
    }
}
