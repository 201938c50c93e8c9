import Fluent
import SQLKit

/// The schema, as numbered migrations registered in order (append-only: a shipped migration is never edited).
/// Plain SQL that SQLite and PostgreSQL both accept. Every per-taxpayer table has `taxpayer_id` in its primary
/// key, so the schema can be distributed by taxpayer (Citus); offices and users are small reference tables.
public enum HuiqiMigrations {
    public static let all: [any AsyncMigration] = [M001Offices(), M002Taxpayers(), M003Users(), M004Returns(), M005AuditLog(),
                                                   M006FilingFrequencyAndSessions(), M007CurrentReturns(),
                                                   M008ReturnPrompts(), M009LegalRecord()]
}

struct M001Offices: AsyncMigration {
    var name: String { "001_offices" }
    func prepare(on database: any Database) async throws {
        try await sql(database).raw("""
            CREATE TABLE offices (
              id TEXT PRIMARY KEY,
              parent_id TEXT REFERENCES offices(id),
              name TEXT NOT NULL,
              level TEXT NOT NULL CHECK (level IN ('national','province','city','district','branch')),
              region_code TEXT NOT NULL CHECK (length(region_code) = 6)
            )
            """).run()
        try await sql(database).raw("CREATE INDEX offices_parent ON offices(parent_id)").run()
    }
    func revert(on database: any Database) async throws { try await sql(database).raw("DROP TABLE offices").run() }
}

struct M002Taxpayers: AsyncMigration {
    var name: String { "002_taxpayers" }
    func prepare(on database: any Database) async throws {
        try await sql(database).raw("""
            CREATE TABLE taxpayers (
              id TEXT PRIMARY KEY CHECK (length(id) = 18),
              name TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('enterprise','unit','individual_business','individual')),
              vat_status TEXT NOT NULL CHECK (vat_status IN ('small_scale','general')),
              industry TEXT NOT NULL CHECK (industry IN ('industrial','other')),
              restricted_industry BOOLEAN NOT NULL,
              region TEXT NOT NULL CHECK (length(region) = 6),
              office_id TEXT NOT NULL REFERENCES offices(id),
              registered_on TEXT NOT NULL,
              deregistered_on TEXT
            )
            """).run()
        try await sql(database).raw("CREATE INDEX taxpayers_office ON taxpayers(office_id)").run()
        try await sql(database).raw("CREATE INDEX taxpayers_name ON taxpayers(name)").run()
    }
    func revert(on database: any Database) async throws { try await sql(database).raw("DROP TABLE taxpayers").run() }
}

struct M003Users: AsyncMigration {
    var name: String { "003_users" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE users (
              id TEXT PRIMARY KEY,
              login TEXT NOT NULL UNIQUE,
              password_hash TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('taxpayer','officer','supervisor','administrator')),
              office_id TEXT REFERENCES offices(id),
              CHECK ((role IN ('officer','supervisor')) = (office_id IS NOT NULL))
            )
            """).run()
        try await db.raw("""
            CREATE TABLE user_taxpayers (
              user_id TEXT NOT NULL REFERENCES users(id),
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              PRIMARY KEY (taxpayer_id, user_id)
            )
            """).run()
        try await db.raw("CREATE INDEX user_taxpayers_user ON user_taxpayers(user_id)").run()
        try await db.raw("""
            CREATE TABLE api_tokens (
              token_hash TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id),
              created_at TEXT NOT NULL
            )
            """).run()
    }
    func revert(on database: any Database) async throws {
        for t in ["api_tokens", "user_taxpayers", "users"] { try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run() }
    }
}

struct M004Returns: AsyncMigration {
    var name: String { "004_return_versions" }
    func prepare(on database: any Database) async throws {
        // Append-only: a correction (更正申报) adds a version; the current version is the highest.
        try await sql(database).raw("""
            CREATE TABLE return_versions (
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              return_id TEXT NOT NULL,
              version INTEGER NOT NULL CHECK (version >= 1),
              section TEXT NOT NULL CHECK (section IN ('vat','eit','business_income')),
              period TEXT NOT NULL,
              case_json TEXT NOT NULL,
              determination_json TEXT NOT NULL,
              computed_tax_fen BIGINT NOT NULL,
              relief_fen BIGINT NOT NULL,
              declared_tax_fen BIGINT,
              idempotency_key TEXT,
              filed_by TEXT NOT NULL REFERENCES users(id),
              filed_at TEXT NOT NULL,
              PRIMARY KEY (taxpayer_id, return_id, version),
              UNIQUE (taxpayer_id, idempotency_key)
            )
            """).run()
        try await sql(database).raw("CREATE INDEX return_versions_period ON return_versions(period, section)").run()
    }
    func revert(on database: any Database) async throws { try await sql(database).raw("DROP TABLE return_versions").run() }
}

struct M005AuditLog: AsyncMigration {
    var name: String { "005_audit_log" }
    func prepare(on database: any Database) async throws {
        try await sql(database).raw("""
            CREATE TABLE audit_log (
              id TEXT PRIMARY KEY,
              at TEXT NOT NULL,
              user_id TEXT,
              action TEXT NOT NULL,
              object TEXT NOT NULL,
              detail TEXT NOT NULL,
              remote TEXT
            )
            """).run()
        try await sql(database).raw("CREATE INDEX audit_log_at ON audit_log(at)").run()
    }
    func revert(on database: any Database) async throws { try await sql(database).raw("DROP TABLE audit_log").run() }
}

struct M006FilingFrequencyAndSessions: AsyncMigration {
    var name: String { "006_vat_frequencies_web_sessions" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        // 纳税期限: a small-scale taxpayer files VAT monthly or quarterly, chosen for a whole year.
        try await db.raw("""
            CREATE TABLE vat_filing_frequencies (
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              year INTEGER NOT NULL,
              frequency TEXT NOT NULL CHECK (frequency IN ('monthly','quarterly')),
              PRIMARY KEY (taxpayer_id, year)
            )
            """).run()
        // Web sessions: the cookie holds a random token, stored only as its SHA-256, and expires.
        try await db.raw("""
            CREATE TABLE web_sessions (
              token_hash TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id),
              created_at TEXT NOT NULL,
              expires_at TEXT NOT NULL
            )
            """).run()
    }
    func revert(on database: any Database) async throws {
        for t in ["web_sessions", "vat_filing_frequencies"] { try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run() }
    }
}

struct M007CurrentReturns: AsyncMigration {
    var name: String { "007_current_returns" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        // The current version of each return: a pointer kept next to the append-only versions, so that filing finds
        // the next version number and the year's earlier returns without scanning every correction ever filed.
        // The row lock of the upsert also serializes concurrent corrections of one return.
        try await db.raw("""
            CREATE TABLE current_returns (
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              return_id TEXT NOT NULL,
              section TEXT NOT NULL,
              period TEXT NOT NULL,
              version INTEGER NOT NULL CHECK (version >= 1),
              case_json TEXT NOT NULL,
              PRIMARY KEY (taxpayer_id, return_id)
            )
            """).run()
        try await db.raw("""
            INSERT INTO current_returns (taxpayer_id, return_id, section, period, version, case_json)
            SELECT r.taxpayer_id, r.return_id, r.section, r.period, r.version, r.case_json FROM return_versions r
            WHERE r.version = (SELECT MAX(v.version) FROM return_versions v WHERE v.taxpayer_id = r.taxpayer_id AND v.return_id = r.return_id)
            """).run()
    }
    func revert(on database: any Database) async throws { try await sql(database).raw("DROP TABLE current_returns").run() }
}

struct M008ReturnPrompts: AsyncMigration {
    var name: String { "008_return_prompts" }
    func prepare(on database: any Database) async throws {
        // The prompts (提示、提醒) given when a version was filed, kept with it: what the taxpayer was told, and the
        // raw material for monitoring relief claimed or not claimed.
        try await sql(database).raw("ALTER TABLE return_versions ADD COLUMN prompts_json TEXT NOT NULL DEFAULT '[]'").run()
    }
    func revert(on database: any Database) async throws {
        try await sql(database).raw("ALTER TABLE return_versions DROP COLUMN prompts_json").run()
    }
}

func sql(_ database: any Database) -> any SQLDatabase {
    guard let db = database as? any SQLDatabase else { fatalError("Huiqi needs an SQL database (SQLite or PostgreSQL)") }
    return db
}

/// The legal record cannot change after the fact (issue 7): the database itself refuses UPDATE and DELETE on
/// return versions and the audit log; each audit entry carries the SHA-256 of the one before (`AuditChain`);
/// a filing keeps the digest of the request its idempotency key was given with; API tokens expire.
struct M009LegalRecord: AsyncMigration {
    var name: String { "009_legal_record" }
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
