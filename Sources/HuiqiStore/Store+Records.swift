import Foundation
import SQLKit

extension Store {
    /// Inserts many rows of one table in as few statements as the database allows, and returns what `returning`
    /// asks for. On PostgreSQL the rows go as one JSON parameter that `json_populate_recordset` unpacks, 10,000 rows a
    /// statement: the client encodes the whole array once instead of SQLKit's Codable encoder binding every value
    /// one by one in 200- to 500-row `VALUES` lists, which was a third of the client's write time in a national
    /// screening (docs/performance.md). SQLite keeps the lists (a statement there binds at most 32,766 values).
    /// The columns are the row type's stored properties, which are its coding keys (synthesised `Codable`) and the
    /// table's column names. JSON carries no dates: a row type with a `Date` would need an encoding PostgreSQL reads
    /// (today's rows keep their times as text).
    static func insertRecords<Row: Encodable>(_ rows: [Row], into table: String, ignoringConflicts: Bool = false,
                                              returning: [String] = [], on db: any SQLDatabase) async throws -> [any SQLRow] {
        guard let first = rows.first else { return [] }
        let columns = Mirror(reflecting: first).children.compactMap(\.label)
        var out: [any SQLRow] = []
        guard db.dialect.name == "postgresql" else {
            for chunk in rows.chunked(Self.rowsPerStatement(columns: columns.count)) {
                let insert = try db.insert(into: table).models(Array(chunk), nilEncodingStrategy: .asNil)
                if ignoringConflicts { insert.ignoringConflicts() }
                if returning.isEmpty { try await insert.run() } else { out += try await insert.returning(returning.map { SQLColumn($0) }).all() }
            }
            return out
        }
        let tail: SQLQueryString = (ignoringConflicts ? " ON CONFLICT DO NOTHING" : "")
            + (returning.isEmpty ? "" : " RETURNING \(idents: returning, joinedBy: ", ")")
        let encoder = JSONEncoder()
        for chunk in rows.chunked(10_000) {
            let json = String(decoding: try encoder.encode(Array(chunk)), as: UTF8.self)
            let statement: SQLQueryString = """
                INSERT INTO \(ident: table) (\(idents: columns, joinedBy: ", ")) SELECT \(idents: columns, joinedBy: ", ") FROM json_populate_recordset(NULL::\(ident: table), CAST(\(bind: json) AS json))
                """ + tail
            if returning.isEmpty { try await db.raw(statement).run() } else { out += try await db.raw(statement).all() }
        }
        return out
    }
}
