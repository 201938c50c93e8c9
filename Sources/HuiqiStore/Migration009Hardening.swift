import Fluent
import SQLKit

/// Hardening (issue 7). The legal record cannot change after the fact: the database itself refuses UPDATE and
/// DELETE on return versions and the audit log, and each audit entry carries the SHA-256 of the one before
/// (`AuditChain`). A filing keeps the digest of the request its idempotency key came with. API tokens expire.
/// Users get a display name (what taxpayers see of staff) and an `auth_version` that triggers advance whenever
/// what the user may reach changes (bindings, office, role, the office tree), so a server's cached actor is
/// never stale.
struct M009Hardening: AsyncMigration {
    var name: String { "009_hardening" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("ALTER TABLE return_versions ADD COLUMN request_digest TEXT").run()
        for column in ["seq BIGINT", "prev_hash TEXT", "hash TEXT"] { try await db.raw("ALTER TABLE audit_log ADD COLUMN \(unsafeRaw: column)").run() }
        // Entries written before the chain existed are chained now, in the order they were written.
        let rows = try await db.raw("SELECT * FROM audit_log ORDER BY at, id").all(decoding: AuditRow.self)
        var prev = ""
        for (i, row) in rows.enumerated() {
            let seq = Int64(i + 1), hash = AuditChain.hash(prev: prev, seq: seq, row)
            try await db.raw("UPDATE audit_log SET seq = \(bind: seq), prev_hash = \(bind: prev), hash = \(bind: hash) WHERE id = \(bind: row.id)").run()
            prev = hash
        }
        try await db.raw("CREATE UNIQUE INDEX audit_log_seq ON audit_log(seq)").run()
        // Tokens issued before expiry existed are dropped: their holders log in again.
        try await db.raw("DELETE FROM api_tokens").run()
        try await db.raw("ALTER TABLE api_tokens ADD COLUMN expires_at TEXT NOT NULL DEFAULT ''").run()
        try await db.raw("CREATE INDEX api_tokens_user ON api_tokens(user_id)").run()
        try await db.raw("CREATE INDEX web_sessions_user ON web_sessions(user_id)").run()
        // What taxpayers see of a staff member: a display name, never the login.
        try await db.raw("ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT ''").run()
        // What a user may reach changes with its bindings, office, role and the office tree: the database counts
        // each change in `auth_version`, so a server keeps a resolved actor only while it is current.
        try await db.raw("ALTER TABLE users ADD COLUMN auth_version BIGINT NOT NULL DEFAULT 0").run()
        if db.dialect.name == "postgresql" {
            try await db.raw("""
                CREATE FUNCTION huiqi_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION 'huiqi: % is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'raise_exception';
                END $$
                """).run()
            for table in ["return_versions", "audit_log"] {
                try await db.raw("CREATE TRIGGER \(unsafeRaw: table)_append_only BEFORE UPDATE OR DELETE ON \(unsafeRaw: table) FOR EACH ROW EXECUTE FUNCTION huiqi_refuse_change()").run()
                try await db.raw("CREATE TRIGGER \(unsafeRaw: table)_no_truncate BEFORE TRUNCATE ON \(unsafeRaw: table) FOR EACH STATEMENT EXECUTE FUNCTION huiqi_refuse_change()").run()
            }
            // Every insert, whatever statement makes it, is chained here: an advisory lock orders the writers,
            // and the formula is AuditChain's (fields joined by U+001F, SHA-256 in hex).
            try await db.raw("""
                CREATE FUNCTION huiqi_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE last_seq BIGINT; last_hash TEXT;
                BEGIN
                  PERFORM pg_advisory_xact_lock(\(unsafeRaw: String(AuditChain.advisoryLock)));
                  SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
                  NEW.seq := COALESCE(last_seq, 0) + 1;
                  NEW.prev_hash := COALESCE(last_hash, '');
                  NEW.hash := encode(sha256(convert_to(concat_ws(chr(31), NEW.prev_hash, NEW.seq::text, NEW.id, NEW.at,
                      COALESCE(NEW.user_id, ''), NEW.action, NEW.object, NEW.detail, COALESCE(NEW.remote, '')), 'UTF8')), 'hex');
                  RETURN NEW;
                END $$
                """).run()
            try await db.raw("CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION huiqi_audit_chain()").run()
            try await db.raw("""
                CREATE FUNCTION huiqi_bump_binding() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  UPDATE users SET auth_version = auth_version + 1
                  WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END
                     OR (TG_OP = 'UPDATE' AND id = OLD.user_id);
                  RETURN NULL;
                END $$
                """).run()
            try await db.raw("CREATE TRIGGER user_taxpayers_reach AFTER INSERT OR UPDATE OR DELETE ON user_taxpayers FOR EACH ROW EXECUTE FUNCTION huiqi_bump_binding()").run()
            try await db.raw("""
                CREATE FUNCTION huiqi_bump_user() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.office_id IS DISTINCT FROM OLD.office_id OR NEW.role IS DISTINCT FROM OLD.role THEN
                    NEW.auth_version := OLD.auth_version + 1;
                  END IF;
                  RETURN NEW;
                END $$
                """).run()
            try await db.raw("CREATE TRIGGER users_reach BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION huiqi_bump_user()").run()
            try await db.raw("""
                CREATE FUNCTION huiqi_bump_offices() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  UPDATE users SET auth_version = auth_version + 1 WHERE office_id IS NOT NULL;
                  RETURN NULL;
                END $$
                """).run()
            try await db.raw("CREATE TRIGGER offices_reach AFTER INSERT OR UPDATE OR DELETE ON offices FOR EACH STATEMENT EXECUTE FUNCTION huiqi_bump_offices()").run()
        } else {
            for table in ["return_versions", "audit_log"] {
                for op in ["UPDATE", "DELETE"] {
                    try await db.raw("""
                        CREATE TRIGGER \(unsafeRaw: table)_no_\(unsafeRaw: op.lowercased()) BEFORE \(unsafeRaw: op) ON \(unsafeRaw: table)
                        BEGIN SELECT RAISE(ABORT, 'huiqi: \(unsafeRaw: table) is append-only (\(unsafeRaw: op) refused)'); END
                        """).run()
                }
            }
            for (name, event, users) in [("insert", "INSERT", "NEW.user_id"), ("delete", "DELETE", "OLD.user_id"), ("update", "UPDATE", "NEW.user_id, OLD.user_id")] {
                try await db.raw("""
                    CREATE TRIGGER user_taxpayers_reach_\(unsafeRaw: name) AFTER \(unsafeRaw: event) ON user_taxpayers
                    BEGIN UPDATE users SET auth_version = auth_version + 1 WHERE id IN (\(unsafeRaw: users)); END
                    """).run()
            }
            try await db.raw("""
                CREATE TRIGGER users_reach AFTER UPDATE OF office_id, role ON users
                BEGIN UPDATE users SET auth_version = auth_version + 1 WHERE id = NEW.id; END
                """).run()
            for event in ["INSERT", "UPDATE", "DELETE"] {
                try await db.raw("""
                    CREATE TRIGGER offices_reach_\(unsafeRaw: event.lowercased()) AFTER \(unsafeRaw: event) ON offices
                    BEGIN UPDATE users SET auth_version = auth_version + 1 WHERE office_id IS NOT NULL; END
                    """).run()
            }
        }
    }
    func revert(on database: any Database) async throws {}
}
