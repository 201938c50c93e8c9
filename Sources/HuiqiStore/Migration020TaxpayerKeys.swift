import Fluent
import SQLKit

/// The taxpayer in every key of a per-taxpayer table (issue 12 §5, docs/scaling.md "Schema debt"): what a database
/// distributed by taxpayer (Citus) needs to enforce keys on each shard alone.
/// - `complaints`, `notices`, `refund_requests`, `reminders`: the primary key `(id)` becomes `(taxpayer_id, id)`; a
///   plain index on `id` keeps lookups by id alone as fast as before.
/// - `notices`: the number's uniqueness `(office_id, year, number)` becomes `(taxpayer_id, office_id, year, number)`.
///   `notice_counters` hands each number out once, in the issuing transaction, so numbers stay unique per office
///   and year.
/// - `complaint_events`, `complaint_reads`, `delivery_attempts` gain `taxpayer_id`, filled from their complaint or
///   reminder, in their primary key and in their foreign key to it; `ledger_entries`' foreign key to `notices` gains
///   it too.
/// PostgreSQL alters the tables in place. SQLite cannot change a key, so each table is rebuilt from its own stored
/// definition, edited (`Edit`), copied, and its indexes and triggers are recreated, with foreign keys off meanwhile
/// and checked before commit.
struct M020TaxpayerKeys: AsyncMigration {
    var name: String { "020_taxpayer_in_every_key" }

    /// One table's change: text replacements of its definition (each must match once), constraints appended, and
    /// the new `taxpayer_id` column's value for existing rows (SQL over the old table's row, by the table's name).
    struct Edit {
        let table: String
        let replace: [(String, String)]
        let append: [String]
        let taxpayerFrom: String?
        let indexes: [String]
    }

    static let parents = ["complaints", "notices", "refund_requests", "reminders"]
    static let edits: [Edit] = parents.map { table in
        Edit(table: table, replace: [("id TEXT PRIMARY KEY,", "id TEXT NOT NULL,")]
                + (table == "notices" ? [("UNIQUE (office_id, year, number)", "UNIQUE (taxpayer_id, office_id, year, number)")] : []),
             append: ["PRIMARY KEY (taxpayer_id, id)"], taxpayerFrom: nil, indexes: ["CREATE INDEX \(table)_id ON \(table)(id)"])
    } + [
        Edit(table: "complaint_events",
             replace: [("complaint_id TEXT NOT NULL REFERENCES complaints(id),", "taxpayer_id TEXT NOT NULL,\n  complaint_id TEXT NOT NULL,"),
                       ("PRIMARY KEY (complaint_id, seq)", "PRIMARY KEY (taxpayer_id, complaint_id, seq)")],
             append: ["FOREIGN KEY (taxpayer_id, complaint_id) REFERENCES complaints(taxpayer_id, id)"],
             taxpayerFrom: "(SELECT c.taxpayer_id FROM complaints c WHERE c.id = complaint_events.complaint_id)",
             indexes: ["CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id, seq)"]),
        Edit(table: "complaint_reads",
             replace: [("complaint_id TEXT NOT NULL REFERENCES complaints(id),", "taxpayer_id TEXT NOT NULL,\n  complaint_id TEXT NOT NULL,")],
             append: ["FOREIGN KEY (taxpayer_id, complaint_id) REFERENCES complaints(taxpayer_id, id)"],
             taxpayerFrom: "(SELECT c.taxpayer_id FROM complaints c WHERE c.id = complaint_reads.complaint_id)", indexes: []),
        Edit(table: "delivery_attempts",
             replace: [("reminder_id TEXT NOT NULL REFERENCES reminders(id),", "taxpayer_id TEXT NOT NULL,\n  reminder_id TEXT NOT NULL,"),
                       ("PRIMARY KEY (reminder_id, attempt)", "PRIMARY KEY (taxpayer_id, reminder_id, attempt)")],
             append: ["FOREIGN KEY (taxpayer_id, reminder_id) REFERENCES reminders(taxpayer_id, id)"],
             taxpayerFrom: "(SELECT r.taxpayer_id FROM reminders r WHERE r.id = delivery_attempts.reminder_id)",
             indexes: ["CREATE INDEX delivery_attempts_reminder ON delivery_attempts(reminder_id, attempt)"]),
        Edit(table: "ledger_entries", replace: [("notice_id TEXT REFERENCES notices(id),", "notice_id TEXT,")],
             append: ["FOREIGN KEY (taxpayer_id, notice_id) REFERENCES notices(taxpayer_id, id)"], taxpayerFrom: nil, indexes: []),
    ]

    func prepare(on database: any Database) async throws {
        if sql(database).dialect.name == "postgresql" {
            try await database.transaction { tx in try await Self.alterInPlace(sql(tx)) }
        } else {
            try await Self.rebuild(database)
        }
    }
    func revert(on database: any Database) async throws {}

    /// PostgreSQL: children lose their foreign keys to the parents, the parents' keys are swapped, the children get
    /// the column, their keys and new foreign keys. In one transaction (the caller's).
    static func alterInPlace(_ db: any SQLDatabase) async throws {
        func constraints(_ table: String, kind: String, referencing parent: String? = nil, definition: String? = nil) async throws -> [String] {
            var q: SQLQueryString = "SELECT conname FROM pg_constraint WHERE conrelid = CAST(\(bind: table) AS regclass) AND contype = \(bind: kind)"
            if let parent { q = q + " AND confrelid = CAST(\(bind: parent) AS regclass)" }
            if let definition { q = q + " AND pg_get_constraintdef(oid) = \(bind: definition)" }
            return try await db.raw(q).all().map { try $0.decode(column: "conname", as: String.self) }
        }
        let children = [("complaint_events", "complaints", "complaint_id"), ("complaint_reads", "complaints", "complaint_id"),
                        ("delivery_attempts", "reminders", "reminder_id"), ("ledger_entries", "notices", "notice_id")]
        for (child, parent, _) in children {
            for name in try await constraints(child, kind: "f", referencing: parent) {
                try await db.raw("ALTER TABLE \(unsafeRaw: child) DROP CONSTRAINT \(unsafeRaw: name)").run()
            }
        }
        for table in parents {
            for name in try await constraints(table, kind: "p") { try await db.raw("ALTER TABLE \(unsafeRaw: table) DROP CONSTRAINT \(unsafeRaw: name)").run() }
            try await db.raw("ALTER TABLE \(unsafeRaw: table) ADD PRIMARY KEY (taxpayer_id, id)").run()
            try await db.raw("CREATE INDEX \(unsafeRaw: table)_id ON \(unsafeRaw: table)(id)").run()
        }
        for name in try await constraints("notices", kind: "u", definition: "UNIQUE (office_id, year, number)") {
            try await db.raw("ALTER TABLE notices DROP CONSTRAINT \(unsafeRaw: name)").run()
        }
        try await db.raw("ALTER TABLE notices ADD UNIQUE (taxpayer_id, office_id, year, number)").run()
        for (child, parent, column) in children {
            if child != "ledger_entries" {
                // The rows are append-only: the fill passes the triggers that refuse updates, once, here.
                try await db.raw("ALTER TABLE \(unsafeRaw: child) ADD COLUMN taxpayer_id TEXT").run()
                try await db.raw("ALTER TABLE \(unsafeRaw: child) DISABLE TRIGGER USER").run()
                try await db.raw("""
                    UPDATE \(unsafeRaw: child) AS x SET taxpayer_id = p.taxpayer_id FROM \(unsafeRaw: parent) AS p WHERE p.id = x.\(unsafeRaw: column)
                    """).run()
                try await db.raw("ALTER TABLE \(unsafeRaw: child) ENABLE TRIGGER USER").run()
                try await db.raw("ALTER TABLE \(unsafeRaw: child) ALTER COLUMN taxpayer_id SET NOT NULL").run()
            }
            try await db.raw("""
                ALTER TABLE \(unsafeRaw: child) ADD FOREIGN KEY (taxpayer_id, \(unsafeRaw: column)) REFERENCES \(unsafeRaw: parent)(taxpayer_id, id)
                """).run()
        }
        for (table, key) in [("complaint_events", "complaint_id, seq"), ("delivery_attempts", "reminder_id, attempt")] {
            for name in try await constraints(table, kind: "p") { try await db.raw("ALTER TABLE \(unsafeRaw: table) DROP CONSTRAINT \(unsafeRaw: name)").run() }
            try await db.raw("ALTER TABLE \(unsafeRaw: table) ADD PRIMARY KEY (taxpayer_id, \(unsafeRaw: key))").run()
        }
        try await db.raw("CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id, seq)").run()
        try await db.raw("CREATE INDEX delivery_attempts_reminder ON delivery_attempts(reminder_id, attempt)").run()
    }

    /// SQLite: each table rebuilt from its stored definition, on one connection, with foreign keys off and checked
    /// before commit (SQLite's documented procedure for changes ALTER TABLE cannot make).
    static func rebuild(_ database: any Database) async throws {
        try await database.withConnection { connection in
            let db = sql(connection)
            try await db.raw("PRAGMA foreign_keys = OFF").run()
            try await db.raw("BEGIN").run()
            do {
                for edit in edits { try await rebuild(edit, on: db) }
                let broken = try await db.raw("PRAGMA foreign_key_check").all()
                guard broken.isEmpty else { throw MigrationFailure("020: \(broken.count) rows break a foreign key after the rebuild") }
                try await db.raw("COMMIT").run()
            } catch {
                try? await db.raw("ROLLBACK").run()
                try? await db.raw("PRAGMA foreign_keys = ON").run()
                throw error
            }
            try await db.raw("PRAGMA foreign_keys = ON").run()
        }
    }

    static func rebuild(_ edit: Edit, on db: any SQLDatabase) async throws {
        let t = edit.table
        func strings(_ q: SQLQueryString, _ column: String) async throws -> [String] {
            try await db.raw(q).all().map { try $0.decode(column: column, as: String.self) }
        }
        guard var definition = try await strings("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = \(bind: t)", "sql").first else {
            throw MigrationFailure("020: no table \(t)")
        }
        let dependents = try await strings("""
            SELECT sql FROM sqlite_master WHERE tbl_name = \(bind: t) AND type IN ('index', 'trigger') AND sql IS NOT NULL
            """, "sql")
        let oldColumns = try await strings("SELECT name FROM pragma_table_info(\(bind: t)) ORDER BY cid", "name")
        for (from, to) in edit.replace {
            guard definition.components(separatedBy: from).count == 2 else { throw MigrationFailure("020: \(t)'s definition does not hold \(from) once") }
            definition = definition.replacingOccurrences(of: from, with: to)
        }
        guard let close = definition.lastIndex(of: ")"), definition.hasPrefix("CREATE TABLE \(t) (") else {
            throw MigrationFailure("020: \(t)'s definition is not a CREATE TABLE")
        }
        definition = String(definition[..<close]).trimmingCharacters(in: .whitespacesAndNewlines) + ",\n  " + edit.append.joined(separator: ",\n  ") + "\n)"
        definition = definition.replacingOccurrences(of: "CREATE TABLE \(t) (", with: "CREATE TABLE \(t)_mending (")
        try await db.raw(SQLQueryString(definition)).run()
        let newColumns = try await strings("SELECT name FROM pragma_table_info(\(bind: "\(t)_mending")) ORDER BY cid", "name")
        let values = try newColumns.map { c -> String in
            if oldColumns.contains(c) { return c }
            guard c == "taxpayer_id", let from = edit.taxpayerFrom else { throw MigrationFailure("020: no value for \(t).\(c)") }
            return from
        }
        try await db.raw(SQLQueryString("INSERT INTO \(t)_mending (\(newColumns.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) FROM \(t)")).run()
        try await db.raw(SQLQueryString("DROP TABLE \(t)")).run()
        try await db.raw(SQLQueryString("ALTER TABLE \(t)_mending RENAME TO \(t)")).run()
        for statement in dependents + edit.indexes { try await db.raw(SQLQueryString(statement)).run() }
    }
}

/// A migration that cannot go on, and why.
struct MigrationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
