import Crypto
import Foundation
import HuiqiDates
import HuiqiRules
import HuiqiSearch
import HuiqiStore
import Synchronization

/// A parameter version an answer explains, with the digest of the parameter's whole version list when the answer
/// was written: a new version of the parameter changes the digest, and the answer is flagged for review.
public struct KBLink: Codable, Sendable, Equatable {
    public var parameter: String, key: String?, from: String, to: String?, value: String, cite: String, digest: String
}

/// An entry as pages and the API show it: every version with its review, the one in effect, and whether the law
/// it explains has changed since (stale).
public struct KBEntryView: Sendable {
    public let entry: KBEntryRow
    public let versions: [KBVersionRow]
    public let reviews: [String: KBReviewRow]  // by version, as text
    /// The approved version in effect today (nil: none approved yet, or not yet in effect).
    public let current: KBVersionRow?
    /// Links of the current version whose parameter has changed since.
    public let staleLinks: [KBLink]
    public func review(_ version: Int) -> KBReviewRow? { reviews[String(version)] }
    public func status(_ v: KBVersionRow) -> String { review(v.version)?.decision ?? "draft" }
}

/// One search result: the entry, its score, a highlighted snippet, and whether its answer awaits review.
public struct KBResult: Sendable, Codable, Equatable {
    public var hit: KBHit
    public var snippet: [SnippetPart]
    public var stale: Bool
}

public struct KBSearchResult: Sendable {
    public let query: String
    public let terms: [String]
    public let results: [KBResult]
}

/// A draft as its author writes it: a new entry (no `entry`) or a new version of one.
public struct KBDraft: Codable, Sendable {
    public var entry: String?
    public var kind: String?
    public var tax: String?
    public var title: String
    public var body: String
    public var year_from: Int
    public var year_to: Int?
    /// YYYY-MM-DD; today when absent.
    public var effective_from: String?
    /// Names of the parameters the answer explains (their versions within the years are linked).
    public var parameters: [String]?
    /// Citations beyond those of the parameters (文号 and article).
    public var citations: [String]?
    public init(entry: String? = nil, kind: String? = nil, tax: String? = nil, title: String, body: String, year_from: Int, year_to: Int?,
                effective_from: String? = nil, parameters: [String]? = nil, citations: [String]? = nil) {
        self.entry = entry; self.kind = kind; self.tax = tax; self.title = title; self.body = body; self.year_from = year_from
        self.year_to = year_to; self.effective_from = effective_from; self.parameters = parameters; self.citations = citations
    }
}

/// The 12366 knowledge base (知识库): one approved answer per question (统一答复口径). Staff write drafts; a reviewer
/// with the `kb.approve` permission (or an administrator), never the draft's author, approves or rejects them; an
/// approved version takes effect on its date and replaces the entry's answer in the search index. Versions and
/// reviews are append-only. Search is BM25 over jieba-style segmentation (HuiqiSearch), the same on both databases.
public struct KnowledgeService: Sendable {
    public let store: Store
    public let parameters: ParameterSet
    /// The analyzer given at init; none: the bundled one.
    private let givenAnalyzer: SearchAnalyzer?
    /// Segments texts and queries. The bundled analyzer (jieba's lexicon, about 1.5 s to load) is loaded the first
    /// time something indexes or searches, not when the platform is assembled: `huiqi screen` and the other jobs
    /// never search.
    public var analyzer: SearchAnalyzer { givenAnalyzer ?? .shared }
    public let now: @Sendable () -> Date
    public static let taxes = ["vat", "bt", "eit", "pit", "local", "general"]
    public static let approvePermission = "kb.approve"

    public init(store: Store, parameters: ParameterSet, analyzer: SearchAnalyzer? = nil, now: @escaping @Sendable () -> Date) {
        self.store = store; self.parameters = parameters; givenAnalyzer = analyzer; self.now = now
    }

    // MARK: reading

    public func entry(_ id: String) async throws -> KBEntryView {
        try TextInput.check(id, field: "entry", maxLength: TextInput.maxIdentifier)
        guard let e = try await store.kbEntry(id) else { throw ServiceError.notFound }
        let versions = try await store.kbVersions(id)
        let reviews = Dictionary(try await store.kbReviews(id).map { (String($0.version), $0) }, uniquingKeysWith: { a, _ in a })
        let today = FilingService.chinaDay(now()).description
        let current = versions.first { reviews[String($0.version)]?.decision == "approved" && $0.effective_from <= today }
        return KBEntryView(entry: e, versions: versions, reviews: reviews, current: current, staleLinks: current.map(staleLinks) ?? [])
    }

    /// Drafts and history are for staff; the public sees approved versions only (the pages decide).
    public static func isStaff(_ actor: Actor?) -> Bool { actor.map { $0.role != .taxpayer } ?? false }

    public func mayApprove(_ actor: Actor) async throws -> Bool {
        if actor.role == .administrator { return true }
        guard actor.role != .taxpayer else { return false }
        return try await store.permissions(user: actor.userID).contains(Self.approvePermission)
    }

    /// The links of a version whose parameter's version list is no longer the one it was written against.
    public func staleLinks(_ v: KBVersionRow) -> [KBLink] {
        links(v).filter { link in parameters.definitions[link.parameter].map { Self.digest($0) != link.digest } ?? true }
    }
    public func links(_ v: KBVersionRow) -> [KBLink] { (try? JSONDecoder().decode([KBLink].self, from: Data(v.links_json.utf8))) ?? [] }
    public func citations(_ v: KBVersionRow) -> [String] { (try? JSONDecoder().decode([String].self, from: Data(v.citations_json.utf8))) ?? [] }

    static func digest(_ d: ParameterDefinition) -> String {
        let text = d.versions.map { "\($0.from)|\($0.to?.description ?? "")|\($0.key ?? "")|\($0.value)|\($0.cite)" }.joined(separator: "\n")
        return TextDigest.sha256Hex(text).prefix(16).description
    }

    // MARK: writing

    /// Writes a draft (a new entry, or the next version of one). Staff only.
    @discardableResult
    public func createDraft(_ d: KBDraft, by actor: Actor) async throws -> (entry: String, version: Int) {
        guard Self.isStaff(actor) else { throw ServiceError.forbidden("only tax staff write knowledge-base answers / 仅税务人员可撰写知识库答案") }
        let version = try validated(d, author: actor.userID)
        var entryRow: KBEntryRow?
        var row = version
        if let id = d.entry {
            try TextInput.check(id, field: "entry", maxLength: TextInput.maxIdentifier)
            guard try await store.kbEntry(id) != nil else { throw ServiceError.notFound }
        } else {
            let kind = d.kind ?? "question"
            guard ["question", "document"].contains(kind) else { throw ServiceError.invalid(field: "kind", zh: "类型须为 question 或 document", en: "kind must be question or document") }
            guard let tax = d.tax, Self.taxes.contains(tax) else {
                throw ServiceError.invalid(field: "tax", zh: "税种须为 \(Self.taxes.joined(separator: "、")) 之一", en: "tax must be one of \(Self.taxes.joined(separator: ", "))")
            }
            row.entry_id = "kb-" + UUID().uuidString.prefix(8).lowercased()
            entryRow = KBEntryRow(id: row.entry_id, kind: kind, tax: tax, created_at: row.created_at, created_by: actor.userID)
        }
        let audit = AuditRow(id: UUID().uuidString, at: row.created_at, user_id: actor.userID, action: "kb_draft", object: row.entry_id, detail: row.title, remote: nil)
        let box = VersionBox()
        try await store.writeAudited(audit) { [entryRow, row] db in
            if let entryRow { try await db.insert(into: "kb_entries").model(entryRow).run() }
            var r = row
            r.version = try await Store.nextKBVersion(r.entry_id, on: db)
            try await db.insert(into: "kb_versions").model(r, nilEncodingStrategy: .asNil).run()
            box.set(r.version)
        }
        return (row.entry_id, box.value)
    }

    /// Approves or rejects a draft. The reviewer needs `kb.approve` and may not review their own draft.
    public func review(entry: String, version: Int, approve: Bool, note: String, by actor: Actor) async throws {
        guard try await mayApprove(actor) else { throw ServiceError.forbidden("approving answers needs the kb.approve permission / 审核答案需要知识库审核权限") }
        let view = try await self.entry(entry)
        guard let v = view.versions.first(where: { $0.version == version }) else { throw ServiceError.notFound }
        guard view.review(version) == nil else { throw ServiceError.conflict(field: "version", zh: "该版本已审核", en: "this version has been reviewed") }
        guard v.author != actor.userID else { throw ServiceError.forbidden("the author of a draft cannot review it / 撰写人不能审核自己的草稿") }
        try TextInput.check(note, field: "note", maxLength: 2000, allowNewlines: true)
        let at = now().formatted(.iso8601)
        let review = KBReviewRow(entry_id: entry, version: version, decision: approve ? "approved" : "rejected", reviewer: actor.userID, note: note, at: at)
        let audit = AuditRow(id: UUID().uuidString, at: at, user_id: actor.userID, action: approve ? "kb_approve" : "kb_reject",
                             object: "\(entry)/\(version)", detail: note, remote: nil)
        let doc = approve ? try await searchDocument(view.entry, current: currentAfter(view, approving: v)) : nil
        try await store.writeAudited(audit) { [review, approve] db in
            try await db.insert(into: "kb_reviews").model(review).run()
            if approve { try await Store.replaceKBDocument(entry: entry, with: doc, on: db) }
        }
    }

    private func currentAfter(_ view: KBEntryView, approving v: KBVersionRow) -> KBVersionRow? {
        let today = FilingService.chinaDay(now()).description
        return view.versions.first { ($0.version == v.version || view.review($0.version)?.decision == "approved") && $0.effective_from <= today }
    }

    func validated(_ d: KBDraft, author: String) throws -> KBVersionRow {
        try TextInput.check(d.title, field: "title", maxLength: 300)
        try TextInput.check(d.body, field: "body", maxLength: 20_000, allowNewlines: true)
        guard !d.title.trimmingCharacters(in: .whitespaces).isEmpty else { throw ServiceError.invalid(field: "title", zh: "问题（标题）不能为空", en: "title is required") }
        guard !d.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ServiceError.invalid(field: "body", zh: "答案不能为空", en: "body is required") }
        guard (2004...2100).contains(d.year_from) else { throw ServiceError.invalid(field: "year_from", zh: "起始年度无效", en: "year_from must be a year from 2004") }
        if let to = d.year_to, to < d.year_from || to > 2100 { throw ServiceError.invalid(field: "year_to", zh: "截止年度须不早于起始年度", en: "year_to must not be before year_from") }
        let effective = d.effective_from ?? FilingService.chinaDay(now()).description
        guard Day(iso: effective) != nil else { throw ServiceError.invalid(field: "effective_from", zh: "生效日期须为 YYYY-MM-DD", en: "effective_from must be YYYY-MM-DD") }
        let names = d.parameters ?? []
        guard names.count <= 50 else { throw ServiceError.invalid(field: "parameters", zh: "关联参数过多", en: "too many parameters") }
        var links: [KBLink] = []
        var cites: [String] = []
        for name in names {
            guard let def = parameters.definitions[name] else {
                throw ServiceError.invalid(field: "parameters", zh: "没有名为 \(name) 的参数", en: "no parameter named \(name)")
            }
            let digest = Self.digest(def)
            for p in def.versions where p.from.year <= (d.year_to ?? 9999) && (p.to?.year ?? 9999) >= d.year_from {
                links.append(KBLink(parameter: name, key: p.key, from: p.from.description, to: p.to?.description, value: p.value.description,
                                    cite: p.cite.description, digest: digest))
                if !cites.contains(p.cite.description) { cites.append(p.cite.description) }
            }
        }
        for c in d.citations ?? [] {
            try TextInput.check(c, field: "citations", maxLength: 300)
            if !cites.contains(c) { cites.append(c) }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return KBVersionRow(entry_id: d.entry ?? "", version: 0, title: d.title, body: d.body, year_from: d.year_from, year_to: d.year_to,
                            effective_from: effective, links_json: String(decoding: try enc.encode(links), as: UTF8.self),
                            citations_json: String(decoding: try enc.encode(cites), as: UTF8.self), author: author,
                            created_at: now().formatted(.iso8601))
    }

    // MARK: the index

    func searchDocument(_ e: KBEntryRow, current v: KBVersionRow?) async throws -> KBSearchDocument? {
        guard let v else { return nil }
        // The title counts twice: a question's own words weigh more than its answer's. Citations are shown, not
        // searched (their 文号 would match every question about a year).
        let text = v.title + "\n" + v.title + "\n" + v.body
        return KBSearchDocument(entry_id: e.id, version: v.version, kind: e.kind, tax: e.tax, year_from: v.year_from, year_to: v.year_to,
                                title: v.title, terms: analyzer.index(text).terms)
    }

    /// Rebuilds the whole index from the approved versions in effect today (run daily: a version approved with a
    /// later effective date enters the index on that date).
    @discardableResult
    public func reindex() async throws -> Int {
        let ids = try await store.kbList(kind: nil, tax: nil, pendingOnly: false, limit: 1_000_000, offset: 0).map(\.id)
        var docs: [KBSearchDocument] = []
        for id in ids {
            let view = try await entry(id)
            if let d = try await searchDocument(view.entry, current: view.current) { docs.append(d) }
        }
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: nil, action: "kb_reindex", object: "kb", detail: "\(docs.count) documents", remote: nil)
        try await store.writeAudited(audit) { [docs] db in
            try await Store.clearKBIndex(on: db)
            try await Store.insertKBDocuments(docs, on: db)
        }
        return docs.count
    }

    // MARK: search

    public static let maxQueryLength = 200

    public func search(_ query: String, filter: KBFilter = KBFilter(), limit: Int = 10) async throws -> KBSearchResult {
        try TextInput.check(query, field: "q", maxLength: Self.maxQueryLength)
        if let tax = filter.tax, !Self.taxes.contains(tax) {
            throw ServiceError.invalid(field: "tax", zh: "税种须为 \(Self.taxes.joined(separator: "、")) 之一", en: "tax must be one of \(Self.taxes.joined(separator: ", "))")
        }
        if let year = filter.year, !(2004...2100).contains(year) { throw ServiceError.invalid(field: "year", zh: "年度无效", en: "year must be from 2004 to 2100") }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { DomainMetrics.search(nanoseconds: DomainMetrics.since(started)) }
        let terms = analyzer.query(query)
        let hits = try await rank(terms: terms, filter: filter, limit: max(1, min(limit, 50)))
        // The indexed versions in one query; their links say whether the answer awaits review.
        let rows = try await store.kbVersions(hits.map { ($0.entry_id, $0.version) })
        var results: [KBResult] = []
        for h in hits {
            let version = rows.first { $0.entry_id == h.entry_id && $0.version == h.version }
            let body = version?.body ?? ""
            // The answer's words around the matches; when only the question matched, the question.
            var snippet = analyzer.snippet(body, terms: terms)
            if !snippet.contains(where: \.marked) { snippet = analyzer.snippet(h.title, terms: terms) }
            results.append(KBResult(hit: h, snippet: snippet, stale: !(version.map(staleLinks) ?? []).isEmpty))
        }
        return KBSearchResult(query: query, terms: terms, results: results)
    }

    /// The ranked hits alone (the benchmark measures this): BM25's exact top `limit`, every matching entry scored in
    /// memory from the query terms' packed posting lists (`BlockScorer`), the same on both databases; ties (to 1e-9)
    /// by entry id. Two queries: the terms with their lists, then the best entries' rows.
    public func rank(terms: [String], filter: KBFilter, limit: Int) async throws -> [KBHit] {
        guard !terms.isEmpty else { return [] }
        let index = try await store.kbQueryTerms(terms)
        guard let q = Self.rankedTerms(terms, documents: index.documents, totalLength: index.terms, hits: index.hits) else { return [] }
        // The lists came with the terms, except the one of a lone common term kept because nothing else was left.
        var blocks = index.blocks
        if q.terms.contains(where: { blocks[$0] == nil }) { blocks = try await store.kbBlocks(q.terms) }
        var scorer = BlockScorer(idf: q.idf, averageLength: q.averageLength, tax: filter.tax, kind: filter.kind, year: filter.year)
        for (i, term) in q.terms.enumerated() { for b in blocks[term] ?? [] { scorer.add(term: i, block: b.block, bytes: b.bytes) } }
        let best = scorer.best(limit)
        let rows = try await store.kbSearchRows(best.map(\.doc))
        func rounded(_ s: Double) -> Double { (s * 1e9).rounded() / 1e9 }
        let hits: [KBHit] = best.compactMap { b in rows[b.doc].map { var h = $0; h.score = b.score; return h } }
        return Array(hits.sorted { (rounded($0.score), $1.entry_id) > (rounded($1.score), $0.entry_id) }.prefix(limit))
    }

    /// The same ranking computed over every matching entry by the databases' full-text indexes (FTS5's `bm25()`,
    /// PostgreSQL's GIN index with the formula in SQL): the reference the tests and the benchmark hold `rank` to.
    public func rankExhaustive(terms: [String], filter: KBFilter, limit: Int) async throws -> [KBHit] {
        guard !terms.isEmpty else { return [] }
        let stats = try await store.kbStats()
        guard let q = Self.rankedTerms(terms, documents: stats.documents, totalLength: stats.terms, hits: try await store.kbTermHits(terms)) else { return [] }
        return try await store.searchKBExhaustive(terms: q.terms, idf: q.idf, averageLength: q.averageLength, filter: filter, limit: limit)
    }

    /// The query terms a ranking uses, with their IDF and the index's average length; nil when nothing can match.
    static func rankedTerms(_ terms: [String], documents: Int, totalLength: Int, hits: [String: Int]) -> (terms: [String], idf: [Double], averageLength: Double)? {
        guard documents > 0 else { return nil }
        // Terms in half the documents or more score the floor IDF (1e-6) in BM25: they cannot change a ranking by
        // more than a millionth, yet they make every document a candidate. They are left out of the query (as are
        // terms no document has), unless nothing else is left: then the rarest term found anywhere.
        var used = terms.filter { (hits[$0] ?? 0) > 0 && (hits[$0] ?? 0) * 2 < documents }
        if used.isEmpty, let rarest = terms.filter({ (hits[$0] ?? 0) > 0 }).min(by: { (hits[$0] ?? 0, $0) < (hits[$1] ?? 0, $1) }) { used = [rarest] }
        guard !used.isEmpty else { return nil }
        return (used, used.map { BM25.idf(hits: hits[$0] ?? 0, documents: documents) }, Double(totalLength) / Double(documents))
    }
}

/// The version number a transaction assigned, read after it commits.
final class VersionBox: Sendable {
    private let v = Mutex(0)
    func set(_ n: Int) { v.withLock { $0 = n } }
    var value: Int { v.withLock { $0 } }
}
