import Fluent
import SQLKit

/// The audit chain moves to a table of its own, `audit_chain` (issue 12 §4). Since migration 019 the chainer placed
/// each PostgreSQL entry by rewriting its `audit_log` row: a row lock, a new row version and a new entry in each of
/// the log's indexes, never a HOT update (`seq` was indexed). The audit log was then 38 % of a filing's WAL and more
/// than half of its WAL records, most of it this rewrite (docs/performance.md, "Where a filing's WAL goes"). A place
/// is now one narrow insert into `audit_chain` (`seq`, the entry's id, its hash), and `audit_log` is never updated
/// at all: both tables refuse `UPDATE` and `DELETE` without exception. `prev_hash` is not kept: it is the hash of
/// the place before, which verification recomputes anyway.
///
/// PostgreSQL finds the entries still to place by the transaction that wrote them: a trigger stores each entry's
/// `txid` (`pg_current_xact_id()`; an insert cannot choose it), and each placement records a `horizon`, the oldest
/// transaction still running when the chainer looked (`Store.chainAudit`). The chain keeps its formula
/// (`AuditChain.hash`), its numbers and its hashes: entries placed before keep their `seq` and `hash`; entries not
/// yet placed are placed here, in order of (at, id), as the chainer would have.
struct M027AuditChainTable: AsyncMigration {
    var name: String { "027_audit_chain_table" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE audit_chain (
              seq BIGINT PRIMARY KEY,
              entry_id TEXT NOT NULL UNIQUE,
              hash TEXT NOT NULL,
              horizon BIGINT
            )
            """).run()
        try await db.raw("INSERT INTO audit_chain (seq, entry_id, hash) SELECT seq, id, hash FROM audit_log WHERE seq IS NOT NULL").run()
        if db.dialect.name == "postgresql" {
            let unplaced = try await db.raw("""
                SELECT id, at, user_id, action, object, detail, remote FROM audit_log WHERE seq IS NULL ORDER BY at, id
                """).all(decoding: AuditRow.self)
            try await AuditChain.append(unplaced, after: try await AuditChain.lastLink(on: db), horizon: nil, on: db)
            try await db.raw("ALTER TABLE audit_log ADD COLUMN txid BIGINT").run()
            // Whatever an insert says of its transaction is replaced by the truth.
            try await db.raw("""
                CREATE OR REPLACE FUNCTION huiqi_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  NEW.txid := CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT);
                  RETURN NEW;
                END $$
                """).run()
            try await db.raw("DROP TRIGGER audit_log_append_only ON audit_log").run()
            try await db.raw("DROP FUNCTION huiqi_audit_place()").run()
            try await db.raw("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION huiqi_refuse_change()").run()
            // Drops `audit_log_seq` and `audit_log_unchained` with the columns they index.
            try await db.raw("ALTER TABLE audit_log DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN hash").run()
            try await db.raw("CREATE INDEX audit_log_txid ON audit_log (txid)").run()
            try await db.raw("CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain FOR EACH ROW EXECUTE FUNCTION huiqi_refuse_change()").run()
            try await db.raw("CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION huiqi_refuse_change()").run()
        } else {
            try await db.raw("DROP INDEX audit_log_seq").run()
            for column in ["seq", "prev_hash", "hash"] { try await db.raw("ALTER TABLE audit_log DROP COLUMN \(unsafeRaw: column)").run() }
            for op in ["UPDATE", "DELETE"] {
                try await db.raw("""
                    CREATE TRIGGER audit_chain_no_\(unsafeRaw: op.lowercased()) BEFORE \(unsafeRaw: op) ON audit_chain
                    BEGIN SELECT RAISE(ABORT, 'huiqi: audit_chain is append-only (\(unsafeRaw: op) refused)'); END
                    """).run()
            }
        }
    }
    func revert(on database: any Database) async throws {}
}
