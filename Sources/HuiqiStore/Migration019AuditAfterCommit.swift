import Fluent
import SQLKit

/// The audit chain is placed after commit on PostgreSQL (issue 12 §4). Migration 009's trigger chained each entry
/// inside the inserting transaction under one advisory lock held until commit, so every audited write in the whole
/// platform, fsync included, waited for the one before. Entries now arrive unchained (`seq`, `prev_hash`, `hash`
/// NULL) and `Store.chainAudit` places them, in order of (at, id), a batch at a time under the lock: writers no
/// longer wait for each other, and the chain is as before. The append-only rule gains one exception: an unchained
/// entry may be given its place, once, with nothing else about it changed. SQLite (one writer) is unchanged.
struct M019AuditAfterCommit: AsyncMigration {
    var name: String { "019_audit_chained_after_commit" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        guard db.dialect.name == "postgresql" else { return }
        // Only the chainer places an entry: whatever an insert says of its place is dropped.
        try await db.raw("""
            CREATE OR REPLACE FUNCTION huiqi_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              NEW.seq := NULL; NEW.prev_hash := NULL; NEW.hash := NULL;
              RETURN NEW;
            END $$
            """).run()
        try await db.raw("""
            CREATE FUNCTION huiqi_audit_place() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
                 AND (NEW.id, NEW.at, NEW.user_id, NEW.action, NEW.object, NEW.detail, NEW.remote)
                     IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.user_id, OLD.action, OLD.object, OLD.detail, OLD.remote) THEN
                RETURN NEW;
              END IF;
              RAISE EXCEPTION 'huiqi: audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'raise_exception';
            END $$
            """).run()
        try await db.raw("DROP TRIGGER audit_log_append_only ON audit_log").run()
        try await db.raw("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION huiqi_audit_place()").run()
        // The chainer's queue: the few entries not yet placed, in the order they will be.
        try await db.raw("CREATE INDEX audit_log_unchained ON audit_log (at, id) WHERE seq IS NULL").run()
    }
    func revert(on database: any Database) async throws {}
}
