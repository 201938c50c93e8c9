import SQLKit

/// The PostgreSQL database's text collation (排序规则). Every key Huiqi pages by is text: credit codes, return ids,
/// periods. Under a `C` collation PostgreSQL compares them byte by byte and sorts them with abbreviated keys. Under
/// any other collation, `C.UTF-8` included, every comparison goes through the C library's `strcoll`: `huiqi generate`'s
/// index builds took about a fifth longer under `C.UTF-8` than under `C` (docs/performance.md, "The database's
/// collation, and one index fewer").
///
/// Nothing sorts differently from `C.UTF-8`, the usual default: its order is code-point order, which is UTF-8's byte
/// order. It is SQLite's order too (`BINARY`).
extension Store {
    /// The database's collation (`pg_database.datcollate`); nil on SQLite, which has no database collation.
    public func textCollation() async throws -> String? {
        guard isPostgres else { return nil }
        return try await db.raw("SELECT datcollate AS c FROM pg_database WHERE datname = current_database()")
            .first()?.decode(column: "c", as: String.self)
    }

    /// What to tell an operator whose database compares text by locale (docs/deploy.md), or nil when it compares bytes.
    public static func collationAdvice(_ collation: String?) -> String? {
        guard let collation, !["C", "POSIX"].contains(collation) else { return nil }
        return "the database compares text by its collation \(collation), not byte by byte: index builds and key comparisons are slower; "
            + "create it with LC_COLLATE 'C' (docs/deploy.md) / 数据库排序规则为 \(collation)，按字节比较（LC_COLLATE 'C'）更快"
    }
}
