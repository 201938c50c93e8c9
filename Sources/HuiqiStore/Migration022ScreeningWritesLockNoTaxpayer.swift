import Fluent
import SQLKit

/// Screening's writes no longer lock the taxpayers they name (issue 12 §2, docs/performance.md). On PostgreSQL a
/// foreign key checks each new row by locking the row it references (`FOR KEY SHARE`), and a lock is a write to
/// that row's page: a first national screening wrote about 945,000 findings, notices, reminders and credits,
/// which dirtied 330,000 pages of `taxpayers` and 2.1 GB of WAL. Without those four keys the same run took 143 s
/// instead of 181 s.
/// - The foreign keys from `findings`, `notices`, `reminders` and `ledger_entries` to `taxpayers` go, on PostgreSQL.
///   Those rows are written only for taxpayers just read from `taxpayers` (screening, reminders, filing's offsets).
/// - What the keys also guarded, a taxpayer removed or renumbered under its rows, is refused on both databases by
///   a trigger: a taxpayer is never deleted nor given another id (deregistration is a date, `deregistered_on`).
/// - `huiqi check` reports any of those rows whose taxpayer is missing (`Store.checkAdministration`).
/// SQLite keeps its keys: its checks lock nothing.
struct M022ScreeningWritesLockNoTaxpayer: AsyncMigration {
    static let tables = ["findings", "notices", "reminders", "ledger_entries"]
    var name: String { "022_screening_writes_lock_no_taxpayer" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        let refusal = "huiqi: a taxpayer is never deleted nor renumbered (deregistration is a date)"
        guard db.dialect.name == "postgresql" else {
            try await db.raw("CREATE TRIGGER taxpayers_kept BEFORE DELETE ON taxpayers BEGIN SELECT RAISE(ABORT, '\(unsafeRaw: refusal)'); END").run()
            try await db.raw("""
                CREATE TRIGGER taxpayers_keep_id BEFORE UPDATE OF id ON taxpayers WHEN OLD.id IS NOT NEW.id
                BEGIN SELECT RAISE(ABORT, '\(unsafeRaw: refusal)'); END
                """).run()
            return
        }
        for table in Self.tables {
            try await db.raw("ALTER TABLE \(unsafeRaw: table) DROP CONSTRAINT IF EXISTS \(unsafeRaw: table)_taxpayer_id_fkey").run()
        }
        try await db.raw("""
            CREATE FUNCTION huiqi_keep_taxpayer() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION '\(unsafeRaw: refusal)' USING ERRCODE = 'raise_exception';
            END $$
            """).run()
        try await db.raw("CREATE TRIGGER taxpayers_kept BEFORE DELETE ON taxpayers FOR EACH ROW EXECUTE FUNCTION huiqi_keep_taxpayer()").run()
        try await db.raw("CREATE TRIGGER taxpayers_not_truncated BEFORE TRUNCATE ON taxpayers FOR EACH STATEMENT EXECUTE FUNCTION huiqi_keep_taxpayer()").run()
        try await db.raw("""
            CREATE TRIGGER taxpayers_keep_id BEFORE UPDATE OF id ON taxpayers FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
            EXECUTE FUNCTION huiqi_keep_taxpayer()
            """).run()
    }
    func revert(on database: any Database) async throws {}
}
