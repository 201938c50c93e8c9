import FluentPostgresDriver
import Foundation
import NIOCore

/// Bulk loading for generated populations: PostgreSQL's `COPY … FROM STDIN` through PostgresNIO (text format,
/// streamed in pieces, no file and no psql), SQLite's multi-row inserts in one transaction per call.
extension Store {
    /// Appends `rows` (text columns; empty text is NULL) to `table`. All rows of one call are committed together.
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
        var foreignKeys: [(table: String, name: String, sql: String)] = [], keys: [(table: String, name: String, sql: String)] = []
        if isPostgres {
            func constraints(_ condition: SQLQueryString) async throws -> [(table: String, name: String, sql: String)] {
                try await db.raw("""
                    SELECT t.relname AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS sql FROM pg_constraint c
                    JOIN pg_class t ON t.oid = c.conrelid LEFT JOIN pg_class r ON r.oid = c.confrelid
                    WHERE t.relnamespace = 'public'::regnamespace AND \(condition) ORDER BY t.relname, c.conname
                    """).all().map { (try $0.decode(column: "tbl", as: String.self), try $0.decode(column: "name", as: String.self),
                                       try $0.decode(column: "sql", as: String.self)) }
            }
            // Foreign keys from these tables, and to them from any table; then their primary and unique keys.
            foreignKeys = try await constraints("c.contype = 'f' AND (t.relname IN (\(unsafeRaw: names)) OR r.relname IN (\(unsafeRaw: names)))")
            var seen = Set<String>()
            foreignKeys = foreignKeys.filter { seen.insert("\($0.table).\($0.name)").inserted }
            keys = try await constraints("c.contype IN ('p', 'u') AND c.confrelid = 0 AND t.relname IN (\(unsafeRaw: names))")
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
        for k in foreignKeys + keys { try await db.raw("ALTER TABLE \(ident: k.table) DROP CONSTRAINT \(ident: k.name)").run() }
        // Keys and indexes are built side by side (each on its own connection, with room to sort in memory): the keys
        // of one table one after the other (adding one locks its table), the plain indexes all at once; then the
        // foreign keys one after the other (adding one locks the table it references).
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
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (table, own) in Dictionary(grouping: keys, by: \.table) {
                    group.addTask { for k in own { try await sorting("ALTER TABLE \"\(table)\" ADD CONSTRAINT \"\(k.name)\" \(k.sql)") } }
                }
                try await group.waitForAll()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for d in definitions { group.addTask { try await sorting(d.sql) } }
                try await group.waitForAll()
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

    /// One line of COPY's text format: fields separated by tabs, `\N` for NULL, and the format's four special
    /// characters (backslash, tab, newline, carriage return) escaped.
    static func appendCopyLine(_ row: [String], to buffer: inout ByteBuffer) {
        for (n, field) in row.enumerated() {
            if n > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
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
