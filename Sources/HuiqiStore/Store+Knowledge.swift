import Foundation
import HuiqiSearch
import SQLKit

public struct KBEntryRow: Codable, Sendable, Equatable {
    public var id: String, kind: String, tax: String, created_at: String, created_by: String
    public init(id: String, kind: String, tax: String, created_at: String, created_by: String) {
        self.id = id; self.kind = kind; self.tax = tax; self.created_at = created_at; self.created_by = created_by
    }
}

public struct KBVersionRow: Codable, Sendable, Equatable {
    public var entry_id: String, version: Int, title: String, body: String, year_from: Int, year_to: Int?
    public var effective_from: String, links_json: String, citations_json: String, author: String, created_at: String
    public init(entry_id: String, version: Int, title: String, body: String, year_from: Int, year_to: Int?, effective_from: String,
                links_json: String, citations_json: String, author: String, created_at: String) {
        self.entry_id = entry_id; self.version = version; self.title = title; self.body = body; self.year_from = year_from
        self.year_to = year_to; self.effective_from = effective_from; self.links_json = links_json
        self.citations_json = citations_json; self.author = author; self.created_at = created_at
    }
}

public struct KBReviewRow: Codable, Sendable, Equatable {
    public var entry_id: String, version: Int, decision: String, reviewer: String, note: String, at: String
    public init(entry_id: String, version: Int, decision: String, reviewer: String, note: String, at: String) {
        self.entry_id = entry_id; self.version = version; self.decision = decision; self.reviewer = reviewer; self.note = note; self.at = at
    }
}

/// What the index holds of one entry: its current approved version's terms (from `SearchAnalyzer`).
public struct KBSearchDocument: Sendable {
    public var entry_id: String, version: Int, kind: String, tax: String, year_from: Int, year_to: Int?, title: String
    public var terms: [String]
    public init(entry_id: String, version: Int, kind: String, tax: String, year_from: Int, year_to: Int?, title: String, terms: [String]) {
        self.entry_id = entry_id; self.version = version; self.kind = kind; self.tax = tax; self.year_from = year_from
        self.year_to = year_to; self.title = title; self.terms = terms
    }
}

/// One block of a term's packed postings (`PostingBlock`) and its number.
public struct KBBlock: Sendable {
    public let block: Int64
    public let bytes: [UInt8]
}

/// A search hit. `score` is a BM25 relevance score (a `Double` as in FTS5 and PostgreSQL), never an amount.
public struct KBHit: Codable, Sendable, Equatable {
    public var entry_id: String, version: Int, kind: String, tax: String, title: String, year_from: Int, year_to: Int?, score: Double
}

/// One line of the knowledge base's list: the entry, its latest version, the approved one, and open drafts.
public struct KBListRow: Codable, Sendable, Equatable {
    public var id: String, kind: String, tax: String, latest: Int, title: String, approved: Int?, drafts: Int
}

/// Filters of a search: a tax, a year the entry covers, a kind.
public struct KBFilter: Sendable, Equatable {
    public var tax: String?, year: Int?, kind: String?
    public init(tax: String? = nil, year: Int? = nil, kind: String? = nil) { self.tax = tax; self.year = year; self.kind = kind }
}

extension Store {
    // MARK: entries, versions, reviews (append-only)

    public func kbEntry(_ id: String) async throws -> KBEntryRow? {
        try await db.select().columns("*").from("kb_entries").where("id", .equal, id).first(decoding: KBEntryRow.self)
    }
    public func kbVersions(_ id: String) async throws -> [KBVersionRow] {
        try await db.select().columns("*").from("kb_versions").where("entry_id", .equal, id).orderBy("version", .descending).all(decoding: KBVersionRow.self)
    }
    public func kbReviews(_ id: String) async throws -> [KBReviewRow] {
        try await db.select().columns("*").from("kb_reviews").where("entry_id", .equal, id).orderBy("version", .descending).all(decoding: KBReviewRow.self)
    }
    public func kbEntryCount() async throws -> Int { try await count("kb_entries") }

    /// Given versions of several entries, in one query (a search page's results).
    public func kbVersions(_ keys: [(entry: String, version: Int)]) async throws -> [KBVersionRow] {
        guard !keys.isEmpty else { return [] }
        var q: SQLQueryString = "SELECT * FROM kb_versions WHERE (entry_id, version) IN ("
        for (i, k) in keys.enumerated() { q = q + (i == 0 ? "" : ", ") + "(\(bind: k.entry), \(bind: k.version))" }
        return try await db.raw(q + ")").all(decoding: KBVersionRow.self)
    }

    /// Entries with their latest and approved versions, filtered, in id order.
    public func kbList(kind: String?, tax: String?, pendingOnly: Bool, limit: Int, offset: Int) async throws -> [KBListRow] {
        var q: SQLQueryString = """
            SELECT e.id, e.kind, e.tax, v.version AS latest, v.title,
              (SELECT MAX(r.version) FROM kb_reviews r WHERE r.entry_id = e.id AND r.decision = 'approved') AS approved,
              (SELECT COUNT(*) FROM kb_versions d LEFT JOIN kb_reviews r ON r.entry_id = d.entry_id AND r.version = d.version
                WHERE d.entry_id = e.id AND r.entry_id IS NULL) AS drafts
            FROM kb_entries e JOIN kb_versions v ON v.entry_id = e.id
              AND v.version = (SELECT MAX(x.version) FROM kb_versions x WHERE x.entry_id = e.id)
            WHERE 1 = 1
            """
        if let kind { q = q + " AND e.kind = \(bind: kind)" }
        if let tax { q = q + " AND e.tax = \(bind: tax)" }
        if pendingOnly {
            q = q + " AND EXISTS (SELECT 1 FROM kb_versions d LEFT JOIN kb_reviews r ON r.entry_id = d.entry_id AND r.version = d.version WHERE d.entry_id = e.id AND r.entry_id IS NULL)"
        }
        q = q + " ORDER BY e.id LIMIT \(bind: limit) OFFSET \(bind: offset)"
        return try await db.raw(q).all(decoding: KBListRow.self)
    }

    /// The next version number of an entry (inside a transaction; two writers collide on the primary key).
    public static func nextKBVersion(_ entry: String, on db: any SQLDatabase) async throws -> Int {
        (try await db.raw("SELECT COALESCE(MAX(version), 0) AS v FROM kb_versions WHERE entry_id = \(bind: entry)").first()?
            .decode(column: "v", as: Int.self) ?? 0) + 1
    }

    // MARK: permissions

    public func permissions(user: String) async throws -> Set<String> {
        let rows = try await db.raw("SELECT permission FROM user_permissions WHERE user_id = \(bind: user)").all()
        return Set(try rows.map { try $0.decode(column: "permission", as: String.self) })
    }
    public func grant(_ permission: String, to user: String, by: String, at: String) async throws {
        try await db.raw("""
            INSERT INTO user_permissions (user_id, permission, granted_by, granted_at) VALUES (\(bind: user), \(bind: permission), \(bind: by), \(bind: at))
            ON CONFLICT (user_id, permission) DO NOTHING
            """).run()
    }

    // MARK: the search index

    /// Replaces an entry's document in the index (nil: removes it), keeping the term counts and totals exact.
    public static func replaceKBDocument(entry: String, with doc: KBSearchDocument?, on db: any SQLDatabase) async throws {
        let pg = db.dialect.name == "postgresql"
        if let old = try await db.raw("SELECT doc, length FROM kb_search WHERE entry_id = \(bind: entry)").first() {
            let docID = try old.decode(column: "doc", as: Int64.self)
            let length = try old.decode(column: "length", as: Int64.self)
            let terms: [String]
            if pg {
                terms = try await db.raw("SELECT unnest(tsvector_to_array(tsv)) AS t FROM kb_search WHERE doc = \(bind: docID)").all()
                    .map { try $0.decode(column: "t", as: String.self) }
            } else {
                let text = try await db.raw("SELECT terms FROM kb_fts WHERE rowid = \(bind: docID)").first()?.decode(column: "terms", as: String.self) ?? ""
                terms = Array(Set(text.split(separator: " ").compactMap { KBTermCodec.decode($0) }))
                try await db.raw("DELETE FROM kb_fts WHERE rowid = \(bind: docID)").run()
            }
            try await db.raw("DELETE FROM kb_search WHERE doc = \(bind: docID)").run()
            try await removeKBPostings(doc: docID, terms: terms, on: db)
            for chunk in terms.chunked(500) {
                try await db.raw("UPDATE kb_terms SET df = df - 1 WHERE term IN " + list(Array(chunk))).run()
            }
            try await db.raw("UPDATE kb_stats SET documents = documents - 1, terms = terms - \(bind: length) WHERE id = 1").run()
        }
        if let doc { try await insertKBDocuments([doc], on: db) }
    }

    /// Adds documents of entries not in the index yet, in batches.
    public static func insertKBDocuments(_ docs: [KBSearchDocument], on db: any SQLDatabase) async throws {
        let pg = db.dialect.name == "postgresql"
        var df: [String: Int] = [:]
        var total = 0
        for batch in docs.chunked(pg ? 500 : 200) {
            var q: SQLQueryString = "INSERT INTO kb_search (entry_id, version, kind, tax, year_from, year_to, title, length\(unsafeRaw: pg ? ", tsv" : "")) VALUES "
            for (i, d) in batch.enumerated() {
                q = q + (i == 0 ? "" : ", ") + "(\(bind: d.entry_id), \(bind: d.version), \(bind: d.kind), \(bind: d.tax), \(bind: d.year_from), \(bind: d.year_to), \(bind: d.title), \(bind: d.terms.count)"
                q = q + (pg ? ", CAST(\(bind: KBTermCodec.tsvector(d.terms)) AS tsvector))" : ")")
                for t in Set(d.terms) { df[t, default: 0] += 1 }
                total += d.terms.count
            }
            q = q + " RETURNING doc, entry_id"
            let ids = try await db.raw(q).all().map { (try $0.decode(column: "entry_id", as: String.self), try $0.decode(column: "doc", as: Int64.self)) }
            if !pg {
                let byEntry = Dictionary(ids, uniquingKeysWith: { a, _ in a })
                var f: SQLQueryString = "INSERT INTO kb_fts (rowid, terms) VALUES "
                for (i, d) in batch.enumerated() {
                    f = f + (i == 0 ? "" : ", ") + "(\(bind: byEntry[d.entry_id] ?? 0), \(bind: d.terms.map(KBTermCodec.encode).joined(separator: " ")))"
                }
                try await db.raw(f).run()
            }
            var postings: [(term: String, record: PostingBlock.Record)] = []
            let byEntry = Dictionary(ids, uniquingKeysWith: { a, _ in a })
            for d in batch {
                guard let doc = byEntry[d.entry_id] else { continue }
                var counts: [String: Int] = [:]
                for t in d.terms { counts[t, default: 0] += 1 }
                for (t, n) in counts {
                    postings.append((t, PostingBlock.Record(doc: doc, length: d.terms.count, frequency: n, tax: d.tax, kind: d.kind, yearFrom: d.year_from, yearTo: d.year_to)))
                }
            }
            try await appendKBPostings(postings, on: db)
        }
        for chunk in Array(df).chunked(pg ? 2000 : 400) {
            var q: SQLQueryString = "INSERT INTO kb_terms (term, df) VALUES "
            for (i, (t, n)) in chunk.enumerated() { q = q + (i == 0 ? "" : ", ") + "(\(bind: t), \(bind: n))" }
            try await db.raw(q + " ON CONFLICT (term) DO UPDATE SET df = kb_terms.df + excluded.df").run()
        }
        try await db.raw("UPDATE kb_stats SET documents = documents + \(bind: docs.count), terms = terms + \(bind: total) WHERE id = 1").run()
    }

    /// Appends postings to their blocks, one upsert per (term, block) (the records of a block are unordered).
    static func appendKBPostings(_ postings: [(term: String, record: PostingBlock.Record)], on db: any SQLDatabase) async throws {
        var groups: [String: [Int64: [PostingBlock.Record]]] = [:]
        for p in postings { groups[p.term, default: [:]][PostingBlock.block(of: p.record.doc), default: []].append(p.record) }
        var rows: [(term: String, block: Int64, bytes: Data)] = []
        for (term, blocks) in groups { for (block, records) in blocks { rows.append((term, block, Data(PostingBlock.encode(records)))) } }
        let pg = db.dialect.name == "postgresql"
        // SQLite's || joins blobs byte for byte (typed as text, hence the cast back).
        let append: SQLQueryString = pg ? " ON CONFLICT (term, block) DO UPDATE SET postings = kb_blocks.postings || excluded.postings"
                                        : " ON CONFLICT (term, block) DO UPDATE SET postings = CAST(kb_blocks.postings || excluded.postings AS BLOB)"
        for chunk in rows.chunked(1_000) {
            var q: SQLQueryString = "INSERT INTO kb_blocks (term, block, postings) VALUES "
            for (i, r) in chunk.enumerated() { q = q + (i == 0 ? "" : ", ") + "(\(bind: r.term), \(bind: r.block), \(bind: r.bytes))" }
            try await db.raw(q + append).run()
        }
    }

    /// Takes a document out of its terms' blocks (an emptied block is deleted).
    static func removeKBPostings(doc: Int64, terms: [String], on db: any SQLDatabase) async throws {
        let block = PostingBlock.block(of: doc)
        for chunk in terms.chunked(500) {
            let rows = try await db.raw("SELECT term, postings FROM kb_blocks WHERE block = \(bind: block) AND term IN " + list(Array(chunk))).all()
            for row in rows {
                let term = try row.decode(column: "term", as: String.self)
                let kept = PostingBlock.removing(doc, from: [UInt8](try row.decode(column: "postings", as: Data.self)))
                if kept.isEmpty {
                    try await db.raw("DELETE FROM kb_blocks WHERE term = \(bind: term) AND block = \(bind: block)").run()
                } else {
                    try await db.raw("UPDATE kb_blocks SET postings = \(bind: Data(kept)) WHERE term = \(bind: term) AND block = \(bind: block)").run()
                }
            }
        }
    }

    /// Fills the blocks of an index built before they existed (migration 018), from each document's stored terms.
    static func fillKBBlocksFromIndex(on db: any SQLDatabase) async throws {
        struct Doc: Decodable { var doc: Int64, length: Int, kind: String, tax: String, year_from: Int, year_to: Int? }
        var postings: [(term: String, record: PostingBlock.Record)] = []
        func record(_ d: Doc, _ tf: Int) -> PostingBlock.Record {
            PostingBlock.Record(doc: d.doc, length: d.length, frequency: tf, tax: d.tax, kind: d.kind, yearFrom: d.year_from, yearTo: d.year_to)
        }
        if db.dialect.name == "postgresql" {
            for row in try await db.raw("SELECT s.doc, s.length, s.kind, s.tax, s.year_from, s.year_to, u.lexeme, cardinality(u.positions) AS tf FROM kb_search s, unnest(s.tsv) u").all() {
                postings.append((try row.decode(column: "lexeme", as: String.self), record(try row.decode(model: Doc.self), try row.decode(column: "tf", as: Int.self))))
            }
        } else {
            for row in try await db.raw("SELECT s.doc, s.length, s.kind, s.tax, s.year_from, s.year_to, f.terms FROM kb_search s JOIN kb_fts f ON f.rowid = s.doc").all() {
                let d = try row.decode(model: Doc.self)
                var counts: [String: Int] = [:]
                for t in try row.decode(column: "terms", as: String.self).split(separator: " ").compactMap({ KBTermCodec.decode($0) }) { counts[t, default: 0] += 1 }
                for (t, n) in counts { postings.append((t, record(d, n))) }
            }
        }
        try await appendKBPostings(postings, on: db)
    }

    /// Empties the index (before a rebuild).
    public static func clearKBIndex(on db: any SQLDatabase) async throws {
        if db.dialect.name != "postgresql" { try await db.raw("DELETE FROM kb_fts").run() }
        try await db.raw("DELETE FROM kb_search").run()
        try await db.raw("DELETE FROM kb_blocks").run()
        try await db.raw("DELETE FROM kb_terms").run()
        try await db.raw("UPDATE kb_stats SET documents = 0, terms = 0 WHERE id = 1").run()
        // Document ids start again from 1, so that the scorer's array stays as long as the index (SQLite does so by
        // itself once the table is empty). `setval` takes no lock on the table: searches go on during a rebuild.
        if db.dialect.name == "postgresql" { try await db.raw("SELECT setval(pg_get_serial_sequence('kb_search', 'doc'), 1, false)").run() }
    }

    /// The number of indexed documents holding each term.
    public func kbTermHits(_ terms: [String]) async throws -> [String: Int] {
        guard !terms.isEmpty else { return [:] }
        let rows = try await db.raw("SELECT term, df FROM kb_terms WHERE term IN " + Self.list(terms)).all()
        return Dictionary(try rows.map { (try $0.decode(column: "term", as: String.self), try $0.decode(column: "df", as: Int.self)) },
                          uniquingKeysWith: { a, _ in a })
    }

    /// Indexed documents and their total length in terms.
    public func kbStats() async throws -> (documents: Int, terms: Int) {
        let row = try await db.raw("SELECT documents, terms FROM kb_stats WHERE id = 1").first()
        return (try row?.decode(column: "documents", as: Int.self) ?? 0, try row?.decode(column: "terms", as: Int.self) ?? 0)
    }

    /// For a query's terms in one query: the index's documents and total length, each term's document frequency,
    /// and the posting blocks of the terms held by fewer than half the documents (the others a ranking leaves out).
    public func kbQueryTerms(_ terms: [String]) async throws -> (documents: Int, terms: Int, hits: [String: Int], blocks: [String: [KBBlock]]) {
        var documents = 0, total = 0
        var hits: [String: Int] = [:], blocks: [String: [KBBlock]] = [:]
        guard !terms.isEmpty else { return (0, 0, [:], [:]) }
        let rows = try await db.raw("SELECT s.documents, s.terms, t.term, t.df, b.block, b.postings FROM kb_stats s LEFT JOIN kb_terms t ON t.term IN "
            + Self.list(terms) + " LEFT JOIN kb_blocks b ON b.term = t.term AND t.df * 2 < s.documents WHERE s.id = 1").all()
        for row in rows {
            documents = try row.decode(column: "documents", as: Int.self)
            total = try row.decode(column: "terms", as: Int.self)
            guard let term = try row.decode(column: "term", as: String?.self) else { continue }
            hits[term] = try row.decode(column: "df", as: Int.self)
            if let bytes = try row.decode(column: "postings", as: Data?.self) {
                blocks[term, default: []].append(KBBlock(block: try row.decode(column: "block", as: Int64.self), bytes: [UInt8](bytes)))
            }
        }
        return (documents, total, hits, blocks)
    }

    /// Every block of the given terms' postings, in one query.
    public func kbBlocks(_ terms: [String]) async throws -> [String: [KBBlock]] {
        guard !terms.isEmpty else { return [:] }
        var out: [String: [KBBlock]] = [:]
        for row in try await db.raw("SELECT term, block, postings FROM kb_blocks WHERE term IN " + Self.list(terms)).all() {
            out[try row.decode(column: "term", as: String.self), default: []].append(
                KBBlock(block: try row.decode(column: "block", as: Int64.self), bytes: [UInt8](try row.decode(column: "postings", as: Data.self))))
        }
        return out
    }

    /// The index rows of some documents (a ranking's best), by document.
    public func kbSearchRows(_ docs: [Int64]) async throws -> [Int64: KBHit] {
        guard !docs.isEmpty else { return [:] }
        var out: [Int64: KBHit] = [:]
        for chunk in docs.chunked(1_000) {
            let rows = try await db.raw("SELECT doc, entry_id, version, kind, tax, title, year_from, year_to, 0.0 AS score FROM kb_search WHERE doc IN " + Self.list(Array(chunk))).all()
            for row in rows { out[try row.decode(column: "doc", as: Int64.self)] = try row.decode(model: KBHit.self) }
        }
        return out
    }

    /// BM25 search over the index: SQLite through FTS5's `bm25()`, PostgreSQL through its GIN index and the same
    /// formula in SQL (`BM25` in HuiqiSearch). PostgreSQL reads a term's frequency from its positions; marking the
    /// query's lexemes (`setweight … 'A'`) and keeping only those (`ts_filter`) before `unnest` spares it
    /// expanding every lexeme of every candidate (ten times faster). `idf` gives each term's IDF (PostgreSQL only: FTS5 computes its own).
    /// Ties are broken by entry id, after rounding the score to 1e-9, so that both databases order alike.
    public func searchKBExhaustive(terms: [String], idf: [Double], averageLength: Double, filter: KBFilter, limit: Int) async throws -> [KBHit] {
        guard !terms.isEmpty else { return [] }
        var filters: SQLQueryString = ""
        if let tax = filter.tax { filters = filters + " AND s.tax = \(bind: tax)" }
        if let kind = filter.kind { filters = filters + " AND s.kind = \(bind: kind)" }
        if let year = filter.year { filters = filters + " AND s.year_from <= \(bind: year) AND (s.year_to IS NULL OR s.year_to >= \(bind: year))" }
        if isPostgres {
            let tsquery = terms.map { "'\($0)'" }.joined(separator: " | ")
            return try await db.raw("""
                SELECT s.entry_id, s.version, s.kind, s.tax, s.title, s.year_from, s.year_to, x.score FROM (
                  SELECT s.doc, SUM(q.idf * ((cardinality(u.positions) * (1.2 + 1.0)) /
                         (cardinality(u.positions) + 1.2 * (1 - 0.75 + 0.75 * s.length / \(bind: averageLength)::float8)))) AS score
                  FROM kb_search s CROSS JOIN LATERAL unnest(ts_filter(setweight(s.tsv, 'A', \(bind: terms)::text[]), '{a}')) AS u
                  JOIN unnest(\(bind: terms)::text[], \(bind: idf)::float8[]) AS q(term, idf) ON q.term = u.lexeme
                  WHERE s.tsv @@ CAST(\(bind: tsquery) AS tsquery)
                """ + filters + """
                 GROUP BY s.doc) x JOIN kb_search s ON s.doc = x.doc
                ORDER BY round(x.score::numeric, 9) DESC, s.entry_id LIMIT \(bind: limit)
                """).all(decoding: KBHit.self)
        }
        let match = terms.map { "\"\(KBTermCodec.encode($0))\"" }.joined(separator: " OR ")
        return try await db.raw("""
            SELECT s.entry_id, s.version, s.kind, s.tax, s.title, s.year_from, s.year_to, -bm25(kb_fts) AS score
            FROM kb_fts JOIN kb_search s ON s.doc = kb_fts.rowid
            WHERE kb_fts MATCH \(bind: match)
            """ + filters + " ORDER BY round(-bm25(kb_fts), 9) DESC, s.entry_id LIMIT \(bind: limit)").all(decoding: KBHit.self)
    }
}

/// How terms are written into SQLite's FTS5 column (hex of UTF-8, so that its tokenizer keeps each term whole)
/// and into a PostgreSQL tsvector literal (the term itself, with its positions).
public enum KBTermCodec {
    static let hex = Array("0123456789abcdef".utf8)
    public static func encode(_ term: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(term.utf8.count * 2)
        for b in term.utf8 { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    public static func decode(_ s: Substring) -> String? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? { c >= 48 && c <= 57 ? c - 48 : (c >= 97 && c <= 102 ? c - 87 : nil) }
        var bytes: [UInt8] = []
        var i = 0
        while i < u.count { guard let h = v(u[i]), let l = v(u[i + 1]) else { return nil }; bytes.append(h << 4 | l); i += 2 }
        return String(decoding: bytes, as: UTF8.self)
    }
    /// `'term':1,5 'other':2`. Terms never hold quotes or backslashes (the segmenter's alphabet), but they are
    /// escaped anyway.
    public static func tsvector(_ terms: [String]) -> String {
        var positions: [String: [Int]] = [:]
        var order: [String] = []
        for (i, t) in terms.enumerated() {
            if positions[t] == nil { order.append(t) }
            positions[t, default: []].append(i + 1)
        }
        return order.map { t in
            let quoted = t.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
            return "'\(quoted)':" + positions[t]!.map(String.init).joined(separator: ",")
        }.joined(separator: " ")
    }
}
