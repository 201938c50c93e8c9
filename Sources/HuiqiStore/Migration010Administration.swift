import Fluent
import SQLKit

/// The administration loop (issue 8): jobs, screening findings, notices (税务事项通知书) numbered per office and
/// year, the offset ledger (抵顶), refund requests (退税) and the reminder outbox (提醒) with its delivery attempts.
/// Legal records stay append-only: findings, ledger entries and delivery attempts refuse UPDATE and DELETE in the
/// database itself, as return versions do.
struct M010Administration: AsyncMigration {
    var name: String { "010_administration" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        // Long work (screening, reminders) as rows a runner claims, reports progress on and finishes.
        try await db.raw("""
            CREATE TABLE jobs (
              id TEXT PRIMARY KEY,
              kind TEXT NOT NULL CHECK (kind IN ('screen','remind')),
              arguments TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','abandoned')),
              done BIGINT NOT NULL DEFAULT 0,
              total BIGINT NOT NULL DEFAULT 0,
              created_by TEXT,
              created_at TEXT NOT NULL,
              started_at TEXT,
              finished_at TEXT,
              heartbeat_at TEXT,
              owner TEXT,
              error TEXT,
              result TEXT
            )
            """).run()
        try await db.raw("CREATE INDEX jobs_kind_state ON jobs(kind, state)").run()
        // What screening found in one return version (or a return not filed: version 0). The key makes a rerun
        // over unchanged data add nothing, and a rerun after a crash add only what is missing.
        try await db.raw("""
            CREATE TABLE findings (
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              return_id TEXT NOT NULL,
              version INTEGER NOT NULL CHECK (version >= 0),
              kind TEXT NOT NULL CHECK (kind IN ('overpaid','underpaid','not_filed','undetermined')),
              section TEXT NOT NULL,
              period TEXT NOT NULL,
              office_id TEXT NOT NULL REFERENCES offices(id),
              declared_fen BIGINT,
              law_tax_fen BIGINT,
              amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
              missing TEXT,
              job_id TEXT NOT NULL REFERENCES jobs(id),
              found_at TEXT NOT NULL,
              PRIMARY KEY (taxpayer_id, return_id, version, kind)
            )
            """).run()
        try await db.raw("CREATE INDEX findings_period ON findings(section, period, office_id)").run()
        try await db.raw("CREATE INDEX findings_job ON findings(job_id)").run()
        // Notices: one per finding that needs one; numbered per office and year without gaps (the counter row is
        // advanced in the transaction that writes the notice).
        try await db.raw("""
            CREATE TABLE notice_counters (
              office_id TEXT NOT NULL REFERENCES offices(id),
              year INTEGER NOT NULL,
              last_number INTEGER NOT NULL,
              PRIMARY KEY (office_id, year)
            )
            """).run()
        try await db.raw("""
            CREATE TABLE notices (
              id TEXT PRIMARY KEY,
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              office_id TEXT NOT NULL REFERENCES offices(id),
              year INTEGER NOT NULL,
              number INTEGER NOT NULL CHECK (number >= 1),
              kind TEXT NOT NULL CHECK (kind IN ('overpayment','correction')),
              return_id TEXT NOT NULL,
              version INTEGER NOT NULL,
              section TEXT NOT NULL,
              period TEXT NOT NULL,
              amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
              body TEXT NOT NULL,
              issued_at TEXT NOT NULL,
              issued_by TEXT,
              read_at TEXT,
              acknowledged_at TEXT,
              UNIQUE (office_id, year, number),
              UNIQUE (taxpayer_id, return_id, version, kind)
            )
            """).run()
        try await db.raw("CREATE INDEX notices_taxpayer ON notices(taxpayer_id)").run()
        // The offset ledger (抵顶): per taxpayer and tax a chain of entries; `seq` is the chain position, so two
        // writers that read the same balance collide on the key and one retries: a credit cannot be spent twice.
        try await db.raw("""
            CREATE TABLE ledger_entries (
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              tax TEXT NOT NULL CHECK (tax IN ('vat','eit','business_income')),
              seq INTEGER NOT NULL CHECK (seq >= 1),
              kind TEXT NOT NULL CHECK (kind IN ('credit','offset','refund')),
              amount_fen BIGINT NOT NULL,
              balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0),
              notice_id TEXT REFERENCES notices(id),
              return_id TEXT,
              return_version INTEGER,
              refund_id TEXT,
              at TEXT NOT NULL,
              by_user TEXT,
              PRIMARY KEY (taxpayer_id, tax, seq)
            )
            """).run()
        try await db.raw("""
            CREATE TABLE refund_requests (
              id TEXT PRIMARY KEY,
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              tax TEXT NOT NULL CHECK (tax IN ('vat','eit','business_income')),
              amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
              state TEXT NOT NULL CHECK (state IN ('requested','approved','rejected')),
              requested_by TEXT NOT NULL,
              requested_at TEXT NOT NULL,
              decided_by TEXT,
              decided_at TEXT
            )
            """).run()
        try await db.raw("CREATE INDEX refund_requests_taxpayer ON refund_requests(taxpayer_id)").run()
        // Reminders (提醒): created once per (taxpayer, return, reason), whoever runs the job and however often.
        // In-app they show at once; the webhook delivery is tracked with its attempts and retried with backoff.
        try await db.raw("""
            CREATE TABLE reminders (
              id TEXT PRIMARY KEY,
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              return_id TEXT NOT NULL,
              reason TEXT NOT NULL CHECK (reason IN ('due_soon','relief_not_claimed','notice')),
              office_id TEXT NOT NULL REFERENCES offices(id),
              message TEXT NOT NULL,
              due_on TEXT,
              created_at TEXT NOT NULL,
              read_at TEXT,
              delivery TEXT NOT NULL CHECK (delivery IN ('pending','delivered','failed')),
              attempts INTEGER NOT NULL DEFAULT 0,
              next_attempt_at TEXT NOT NULL,
              delivered_at TEXT,
              UNIQUE (taxpayer_id, return_id, reason)
            )
            """).run()
        try await db.raw("CREATE INDEX reminders_delivery ON reminders(delivery, next_attempt_at)").run()
        try await db.raw("""
            CREATE TABLE delivery_attempts (
              reminder_id TEXT NOT NULL REFERENCES reminders(id),
              attempt INTEGER NOT NULL,
              at TEXT NOT NULL,
              outcome TEXT NOT NULL CHECK (outcome IN ('delivered','failed')),
              detail TEXT NOT NULL,
              PRIMARY KEY (reminder_id, attempt)
            )
            """).run()
        // Monitoring snapshots: the figures per office (taxpayers registered directly there) and first filings per
        // day, computed by one aggregate over the whole tree and read by subtree sums. Derived data, replaced on
        // refresh; a large deployment serves monitoring from them (`--monitoring-snapshot-seconds`).
        try await db.raw("""
            CREATE TABLE monitoring_snapshots (
              return_id TEXT NOT NULL,
              office_id TEXT NOT NULL,
              computed_at TEXT NOT NULL,
              expected BIGINT NOT NULL, filed BIGINT NOT NULL, late BIGINT NOT NULL,
              relief_due_fen BIGINT NOT NULL, relief_claimed_fen BIGINT NOT NULL,
              not_claimed BIGINT NOT NULL, not_due BIGINT NOT NULL, mismatched BIGINT NOT NULL,
              PRIMARY KEY (return_id, office_id)
            )
            """).run()
        try await db.raw("""
            CREATE TABLE monitoring_snapshot_days (
              return_id TEXT NOT NULL,
              office_id TEXT NOT NULL,
              day TEXT NOT NULL,
              n BIGINT NOT NULL,
              PRIMARY KEY (return_id, office_id, day)
            )
            """).run()
        // What screening needs of each current VAT return, without parsing its JSON again (`ScreeningColumns`),
        // back-filled here from the stored cases in pages.
        try await db.raw("ALTER TABLE current_returns ADD COLUMN screening TEXT").run()
        var after = ("", "")
        while true {
            let rows = try await db.raw("""
                SELECT taxpayer_id, return_id, case_json FROM current_returns
                WHERE section = 'vat' AND (taxpayer_id > \(bind: after.0) OR (taxpayer_id = \(bind: after.0) AND return_id > \(bind: after.1)))
                ORDER BY taxpayer_id, return_id LIMIT 2000
                """).all()
            guard let last = rows.last else { break }
            after = (try last.decode(column: "taxpayer_id", as: String.self), try last.decode(column: "return_id", as: String.self))
            for row in rows {
                let json = try row.decode(column: "case_json", as: String.self)
                guard let compact = ScreeningColumns.storedCase(json).flatMap(ScreeningColumns.encode) else { continue }
                try await db.raw("""
                    UPDATE current_returns SET screening = \(bind: compact)
                    WHERE taxpayer_id = \(bind: try row.decode(column: "taxpayer_id", as: String.self)) AND return_id = \(bind: try row.decode(column: "return_id", as: String.self))
                    """).run()
            }
        }
        // Monitoring joins the first version of a return by (return, version) and groups by office.
        try await db.raw("CREATE INDEX current_returns_return ON current_returns(return_id, taxpayer_id)").run()
        try await db.raw("CREATE INDEX taxpayers_office_kind ON taxpayers(office_id, kind)").run()
        try await Self.appendOnly(["findings", "ledger_entries", "delivery_attempts"], on: db)
    }
    /// The database refuses UPDATE and DELETE on these tables (PostgreSQL: 009's `huiqi_refuse_change`).
    static func appendOnly(_ tables: [String], on db: any SQLDatabase) async throws {
        for table in tables {
            if db.dialect.name == "postgresql" {
                try await db.raw("CREATE TRIGGER \(unsafeRaw: table)_append_only BEFORE UPDATE OR DELETE ON \(unsafeRaw: table) FOR EACH ROW EXECUTE FUNCTION huiqi_refuse_change()").run()
                try await db.raw("CREATE TRIGGER \(unsafeRaw: table)_no_truncate BEFORE TRUNCATE ON \(unsafeRaw: table) FOR EACH STATEMENT EXECUTE FUNCTION huiqi_refuse_change()").run()
            } else {
                for op in ["UPDATE", "DELETE"] {
                    try await db.raw("""
                        CREATE TRIGGER \(unsafeRaw: table)_no_\(unsafeRaw: op.lowercased()) BEFORE \(unsafeRaw: op) ON \(unsafeRaw: table)
                        BEGIN SELECT RAISE(ABORT, 'huiqi: \(unsafeRaw: table) is append-only (\(unsafeRaw: op) refused)'); END
                        """).run()
                }
            }
        }
    }
    func revert(on database: any Database) async throws {
        for t in ["monitoring_snapshot_days", "monitoring_snapshots", "delivery_attempts", "reminders", "refund_requests", "ledger_entries", "notices", "notice_counters", "findings", "jobs"] {
            try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run()
        }
    }
}
