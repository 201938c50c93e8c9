import Fluent
import HuiqiSearch
import SQLKit

/// Packed postings for the knowledge base's search (issue 11 §1, latency): one row per term and block of 4,096
/// documents, holding that block's postings as 16-byte records (`PostingBlock`). A search reads each query term's
/// list in a few rows and scores it in memory (`BlockScorer`), instead of paying the database driver per posting or
/// a full-text function per match. Derived data like the rest of the index; existing indexes are filled from their
/// stored terms.
struct M018SearchPostings: AsyncMigration {
    var name: String { "018_kb_posting_blocks" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        let pg = db.dialect.name == "postgresql"
        try await db.raw("""
            CREATE TABLE kb_blocks (
              term TEXT NOT NULL,
              block BIGINT NOT NULL,
              postings \(unsafeRaw: pg ? "BYTEA" : "BLOB") NOT NULL,
              PRIMARY KEY (term, block)
            )
            """).run()
        // Stored as is: compressing 16-byte records buys little and costs every read.
        if pg { try await db.raw("ALTER TABLE kb_blocks ALTER COLUMN postings SET STORAGE EXTERNAL").run() }
        try await Store.fillKBBlocksFromIndex(on: db)
    }
    func revert(on database: any Database) async throws {
        try await sql(database).raw("DROP TABLE kb_blocks").run()
    }
}
