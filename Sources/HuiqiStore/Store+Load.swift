import FluentPostgresDriver
import Foundation
import NIOCore

/// Bulk loading for generated populations: PostgreSQL's `COPY … FROM STDIN` through PostgresNIO (text format,
/// streamed in pieces, no file and no psql), SQLite's multi-row inserts in one transaction per call.
extension Store {
    /// Marks a field of a loaded row that is the empty text, not NULL (empty fields are NULL). PostgreSQL text can
    /// never hold U+0000, so no real value collides with it. A VAT return without sales lines has the empty screening
    /// form: loaded as NULL it read as "no form", and 1.2 of 9.2 million generated returns were screened from their
    /// JSON instead (docs/performance.md).
    public static let emptyText = "\u{0}"

    /// Appends `rows` (text columns; empty text is NULL, `Store.emptyText` the empty text) to `table`. All rows of one
    /// call are committed together.
    public func load(table: String, columns: [String], rows: [[String]]) async throws {
        guard !rows.isEmpty else { return }
        guard isPostgres, let postgres = database as? any PostgresDatabase else {
            try await bulkInsert(table: table, columns: columns, rows: rows)
            return
        }
        let logger = database?.logger ?? Logger(label: "huiqi-load")
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                    for row in rows {
                        Self.appendCopyLine(row, to: &buffer)
                        if buffer.readableBytes >= 1 << 20 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
        }.get()
    }

    /// Loads several tables at once: on PostgreSQL each on its own connection (the server's backends share the
    /// cores), on SQLite one after the other (one writer).
    public func load(_ tables: [(table: String, columns: [String], rows: [[String]])]) async throws {
        guard isPostgres else {
            for t in tables { try await load(table: t.table, columns: t.columns, rows: t.rows) }
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in tables { group.addTask { try await load(table: t.table, columns: t.columns, rows: t.rows) } }
            try await group.waitForAll()
        }
    }

    /// Runs `body` with the indexes of `tables` dropped, and on PostgreSQL their keys too, and builds them again
    /// afterwards (also when `body` fails): building an index once over loaded rows, and checking a foreign key once
    /// over a whole table (one join), is several times cheaper than doing either row by row.
    /// - On PostgreSQL the primary and unique keys go as well (kept up to date row by row, in random key order, they
    ///   were most of the load's time), and with them the foreign keys that reference those tables from elsewhere. A
    ///   duplicate then fails when its key is added back, at the end, as a broken reference fails when its foreign
    ///   key is.
    /// - On SQLite the plain indexes only (a primary key there is the table's own order).
    /// For loading an empty database only: other sessions would see the tables without those indexes and checks
    /// meanwhile.
    public func withPlainIndexesDropped<T>(on tables: [String], _ body: () async throws -> T) async throws -> T {
        var definitions: [(name: String, sql: String)] = []
        let names = tables.map { "'\($0)'" }.joined(separator: ", ")
        var foreignKeys: [(table: String, name: String, sql: String)] = []
        var keys: [(table: String, name: String, kind: String, index: String)] = []
        if isPostgres {
            // Foreign keys from these tables, and to them from any table; then their primary and unique keys.
            foreignKeys = try await db.raw("""
                SELECT t.relname AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS sql FROM pg_constraint c
                JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
                WHERE c.contype = 'f' AND t.relnamespace = 'public'::regnamespace
                  AND (t.relname IN (\(unsafeRaw: names)) OR r.relname IN (\(unsafeRaw: names)))
                ORDER BY t.relname, c.conname
                """).all().map { (try $0.decode(column: "tbl", as: String.self), try $0.decode(column: "name", as: String.self),
                                   try $0.decode(column: "sql", as: String.self)) }
            keys = try await db.raw("""
                SELECT t.relname AS tbl, c.conname AS name, CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END AS kind,
                       pg_get_indexdef(c.conindid) AS sql
                FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                WHERE c.contype IN ('p', 'u') AND t.relnamespace = 'public'::regnamespace AND t.relname IN (\(unsafeRaw: names))
                ORDER BY t.relname, c.conname
                """).all().map { (try $0.decode(column: "tbl", as: String.self), try $0.decode(column: "name", as: String.self),
                                   try $0.decode(column: "kind", as: String.self), try $0.decode(column: "sql", as: String.self)) }
            let rows = try await db.raw("""
                SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS sql FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname IN (\(unsafeRaw: names))
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                """).all()
            definitions = try rows.map { (try $0.decode(column: "name", as: String.self), try $0.decode(column: "sql", as: String.self)) }
        } else {
            let rows = try await db.raw("""
                SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                  AND tbl_name IN (\(unsafeRaw: names))
                """).all()
            definitions = try rows.map { (try $0.decode(column: "name", as: String.self), try $0.decode(column: "sql", as: String.self)) }
        }
        for d in definitions { try await db.raw("DROP INDEX \(ident: d.name)").run() }
        for k in foreignKeys.map({ ($0.table, $0.name) }) + keys.map({ ($0.table, $0.name) }) {
            try await db.raw("ALTER TABLE \(ident: k.0) DROP CONSTRAINT \(ident: k.1)").run()
        }
        // Every index is built at once, each on its own connection with room to sort in memory (building one takes a
        // lock that lets the others build beside it); a key's index becomes its key after (`USING INDEX`, at once).
        // Then the foreign keys, one after the other (adding one locks the table it references). Built as keys
        // directly, the keys of one table had to wait for each other: the returns' two took 41 s in a row.
        func rebuild() async throws {
            guard isPostgres, let database else {
                for d in definitions { try await db.raw("\(unsafeRaw: d.sql)").run() }
                return
            }
            func sorting(_ statement: String) async throws {
                try await database.transaction { tx in
                    try await sql(tx).raw("SET LOCAL maintenance_work_mem = '256MB'").run()
                    try await sql(tx).raw("\(unsafeRaw: statement)").run()
                }
            }
            // Four builders (a command's pool has eight connections on its event loop; a build waiting longer than
            // the pool's timeout for one would fail), the largest tables' indexes first, each next index to the
            // builder with the least work so far.
            let sizes = try await db.raw("""
                SELECT relname AS name, pg_relation_size(oid) AS size FROM pg_class
                WHERE relnamespace = 'public'::regnamespace AND relname IN (\(unsafeRaw: names))
                """).all().reduce(into: [String: Int64]()) { $0[try $1.decode(column: "name", as: String.self)] = try $1.decode(column: "size", as: Int64.self) }
            let statements = (keys.map { ($0.table, $0.index) } + definitions.map { (Self.table(ofIndex: $0.sql), $0.sql) })
                .sorted { (sizes[$0.0] ?? 0) > (sizes[$1.0] ?? 0) }
            var builders = [(work: Int64, statements: [String])](repeating: (0, []), count: 4)
            for (table, statement) in statements {
                let next = builders.indices.min { builders[$0].work < builders[$1].work }!
                builders[next].work += sizes[table] ?? 0
                builders[next].statements.append(statement)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for builder in builders where !builder.statements.isEmpty {
                    group.addTask { for statement in builder.statements { try await sorting(statement) } }
                }
                try await group.waitForAll()
            }
            for k in keys {
                try await db.raw("ALTER TABLE \(ident: k.table) ADD CONSTRAINT \(ident: k.name) \(unsafeRaw: k.kind) USING INDEX \(ident: k.name)").run()
            }
            for k in foreignKeys { try await db.raw("ALTER TABLE \(ident: k.table) ADD CONSTRAINT \(ident: k.name) \(unsafeRaw: k.sql)").run() }
        }
        do {
            let result = try await body()
            try await rebuild()
            return result
        } catch {
            try? await rebuild()
            throw error
        }
    }

    /// The table of a `CREATE [UNIQUE] INDEX name ON public.table USING …` statement, as `pg_get_indexdef` writes it.
    static func table(ofIndex sql: String) -> String {
        guard let on = sql.range(of: " ON ") else { return "" }
        let rest = sql[on.upperBound...].split(separator: " ").first.map(String.init) ?? ""
        return rest.hasPrefix("public.") ? String(rest.dropFirst(7)) : rest
    }

    /// One line of COPY's text format: fields separated by tabs, `\N` for NULL, and the format's four special
    /// characters (backslash, tab, newline, carriage return) escaped.
    static func appendCopyLine(_ row: [String], to buffer: inout ByteBuffer) {
        for (n, field) in row.enumerated() {
            if n > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            if field == emptyText { continue }
            if field.isEmpty { buffer.writeStaticString("\\N"); continue }
            let utf8 = field.utf8
            if utf8.withContiguousStorageIfAvailable({ bytes in
                guard !bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == 9 || $0 == 10 || $0 == 13 }) else { return false }
                buffer.writeBytes(bytes)
                return true
            }) == true { continue }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 9: buffer.writeStaticString("\\t")
                case 10: buffer.writeStaticString("\\n")
                case 13: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}
