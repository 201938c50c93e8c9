import Fluent
import SQLKit

/// The parameter versions in force, stored once per list instead of in every return version (issue 12 §4).
///
/// A stored determination carried the list of parameter versions in force with their citations (`"parameters"`):
/// about 3,200 of its 4,700 bytes, and the same for every filing of a section and day. It made each `return_versions`
/// row about 2.4 KB. That is over PostgreSQL's 2 KB threshold, so every row was compressed on insert. The filing's
/// statements alone ran at 0.65–0.72 of pgbench's rate with the list and 0.74–0.87 without (docs/performance.md).
///
/// - `parameter_lists` holds each list once, under the SHA-256 of its JSON text. The same id always means the same
///   text, so a list is never changed (append-only).
/// - A version written since names its list in `parameters_id` and stores its determination without it. The store
///   puts the list back when it reads the version (`Store.versions`), so every reader sees the determination as before.
/// - Versions written before keep the list inline (`parameters_id` NULL).
/// - No foreign key: every filing would take a share lock on the same few list rows, and the filer writes the list
///   (committed) before any version names it. `Store.check` reports a version whose list is missing.
struct M025ParameterLists: AsyncMigration {
    var name: String { "025_parameter_lists" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("CREATE TABLE parameter_lists (id TEXT PRIMARY KEY, list_json TEXT NOT NULL)").run()
        try await M010Administration.appendOnly(["parameter_lists"], on: db)
        try await db.raw("ALTER TABLE return_versions ADD COLUMN parameters_id TEXT").run()
    }
    func revert(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("ALTER TABLE return_versions DROP COLUMN parameters_id").run()
        try await db.raw("DROP TABLE parameter_lists").run()
    }
}
