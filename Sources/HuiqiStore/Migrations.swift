import Fluent
import SQLKit

/// The schema, as numbered migrations registered in order (append-only: a shipped migration is never edited).
/// Plain SQL that SQLite and PostgreSQL both accept. Every per-taxpayer table has `taxpayer_id` in its primary
/// key, so the schema can be distributed by taxpayer (Citus); offices and users are small reference tables.
public enum HuiqiMigrations {
    public static let all: [any AsyncMigration] = [M001Offices(), M002Taxpayers(), M003Users(), M004Returns(), M005AuditLog(),
                                                   M006FilingFrequencyAndSessions(), M007CurrentReturns(),
                                                   M008ReturnPrompts(), M009Hardening(), M010Administration(),
                                                   M011RegistryHistory(), M012StatisticsSnapshots(), M013Rectification(),
                                                   M014DepartmentRegistries(), M015OfficeReports(), M016Knowledge(), M017Complaints(),
                                                   M018SearchPostings(), M019AuditAfterCommit(),
                                                   M020TaxpayerKeys(), M021ScreeningReadsOneTable(),
                                                   M022ScreeningWritesLockNoTaxpayer(), M023FilingLocksNoRegistryRow(),
                                                   M024NoticesWithoutRedundantIndex(), M025ParameterLists(),
                                                   M026ReturnVersionsWithoutPeriodIndex(), M027AuditChainTable(),
                                                   M028AuditLogTimeRanges()]
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
