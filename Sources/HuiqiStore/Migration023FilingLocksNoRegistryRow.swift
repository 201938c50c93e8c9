import Fluent
import SQLKit

/// Filing no longer locks the taxpayer and the user it names (issue 12 §4, docs/performance.md, "Filing at the
/// database's speed"). On PostgreSQL each foreign key checks a new row by locking the row it references
/// (`FOR KEY SHARE`), and a lock is a write to that row's page. Every filing checked three: the version's taxpayer
/// and filer, and the pointer's taxpayer. The filer is the sharper one: an accountant or an officer filing for many
/// taxpayers at once has every concurrent filing lock the same `users` row, and PostgreSQL then records the
/// holders as a MultiXact, written and read again on every new lock.
/// - The foreign keys from `return_versions` (taxpayer, filer) and `current_returns` (taxpayer) go, on PostgreSQL.
///   Filing writes those rows only for a taxpayer it has just read, by a user whose token it has just checked.
/// - Taxpayers were already kept by migration 022's triggers. Users are now kept the same way, on both databases: a
///   user is never deleted nor given another id (credentials end by revocation, `api_tokens` and `web_sessions`).
/// - `huiqi check` reports a version or pointer whose taxpayer, or a version whose filer, is missing.
/// SQLite keeps its keys: its checks lock nothing.
struct M023FilingLocksNoRegistryRow: AsyncMigration {
    /// The keys dropped on PostgreSQL: table, column, referenced table.
    static let keys = [("return_versions", "taxpayer_id", "taxpayers"), ("return_versions", "filed_by", "users"),
                       ("current_returns", "taxpayer_id", "taxpayers")]
    var name: String { "023_filing_locks_no_registry_row" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        let refusal = "huiqi: a user is never deleted nor renumbered (credentials end by revocation)"
        guard db.dialect.name == "postgresql" else {
            try await db.raw("CREATE TRIGGER users_kept BEFORE DELETE ON users BEGIN SELECT RAISE(ABORT, '\(unsafeRaw: refusal)'); END").run()
            try await db.raw("""
                CREATE TRIGGER users_keep_id BEFORE UPDATE OF id ON users WHEN OLD.id IS NOT NEW.id
                BEGIN SELECT RAISE(ABORT, '\(unsafeRaw: refusal)'); END
                """).run()
            return
        }
        for (table, column, _) in Self.keys {
            try await db.raw("ALTER TABLE \(unsafeRaw: table) DROP CONSTRAINT IF EXISTS \(unsafeRaw: table)_\(unsafeRaw: column)_fkey").run()
        }
        try await db.raw("""
            CREATE FUNCTION huiqi_keep_user() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION '\(unsafeRaw: refusal)' USING ERRCODE = 'raise_exception';
            END $$
            """).run()
        try await db.raw("CREATE TRIGGER users_kept BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION huiqi_keep_user()").run()
        try await db.raw("CREATE TRIGGER users_not_truncated BEFORE TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION huiqi_keep_user()").run()
        try await db.raw("""
            CREATE TRIGGER users_keep_id BEFORE UPDATE OF id ON users FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
            EXECUTE FUNCTION huiqi_keep_user()
            """).run()
    }
    func revert(on database: any Database) async throws {}
}
