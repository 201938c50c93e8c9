import Fluent
import SQLKit

/// On PostgreSQL the audit log's index on time, `audit_log_at`, becomes a BRIN index: a summary of each range of
/// 128 pages. No query of the platform reads the log by time; the index is there for an auditor's question "what
/// happened between 10:00 and 11:00", which a BRIN index answers by reading the ranges that can hold those times
/// (entries arrive in nearly time order). A B-tree wrote one entry per audit entry: 90 bytes and one WAL record of
/// every filing (docs/performance.md, "The chain in a table of its own"); new entries land in the last, unsummarised
/// range and write nothing until autovacuum summarises it. SQLite has no BRIN and keeps its B-tree.
struct M028AuditLogTimeRanges: AsyncMigration {
    var name: String { "028_audit_log_time_ranges" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        guard db.dialect.name == "postgresql" else { return }
        try await db.raw("DROP INDEX audit_log_at").run()
        try await db.raw("CREATE INDEX audit_log_at ON audit_log USING brin (at) WITH (autosummarize = on)").run()
    }
    func revert(on database: any Database) async throws {}
}
