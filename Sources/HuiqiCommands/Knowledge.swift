import ArgumentParser
import Dispatch
import Foundation
import HuiqiSearch
import HuiqiServer
import HuiqiServices
import HuiqiStore

/// `huiqi kb`: the 12366 knowledge base from the command line: load the seed content, rebuild the index, search.
struct KnowledgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kb", abstract: "The 12366 knowledge base (知识库): seed, reindex, search.",
                                                    subcommands: [Seed.self, Reindex.self, Search.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load the bundled questions, answers and policy documents into an empty knowledge base.")
        @OptionGroup var db: DatabaseOption
        func run() async throws {
            let n = try await withServices(db.location) { s in try await s.knowledge.seedIfEmpty() }
            print(n == 0 ? "the knowledge base already has entries: nothing loaded / 知识库已有内容，未导入" : "\(n) entries loaded / 已导入 \(n) 条")
        }
    }

    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rebuild the search index from the approved versions in effect today (run daily).")
        @OptionGroup var db: DatabaseOption
        func run() async throws {
            let n = try await withServices(db.location) { s in try await s.knowledge.reindex() }
            print("\(n) entries indexed / 已索引 \(n) 条")
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search the knowledge base as the pages do (BM25, synonyms, filters).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The question, in Chinese or English.") var query: String
        @Option(help: "vat, bt, eit, pit, local or general.") var tax: String?
        @Option(help: "A year the answer must cover.") var year: Int?
        @Option(help: "Results to show.") var limit = 10
        func run() async throws {
            let result: KBSearchResult
            do {
                result = try await withServices(db.location) { s in
                    try await s.knowledge.search(query, filter: KBFilter(tax: tax, year: year), limit: limit)
                }
            } catch { throw refuse("kb search", error) }
            print("terms 检索词: \(result.terms.joined(separator: " "))")
            for (i, r) in result.results.enumerated() {
                let snippet = r.snippet.map { $0.marked ? "【\($0.text)】" : $0.text }.joined()
                print(String(format: "%2d. %.4f ", i + 1, r.hit.score) + "\(r.hit.entry_id) · \(r.hit.title)\(r.stale ? " [待复核 review needed]" : "")")
                print("    \(snippet)")
            }
            if result.results.isEmpty { print("no results / 无结果") }
        }
    }
}

/// `huiqi bench search`: relevance on the judged set and latency over a large generated knowledge base.
struct BenchSearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search",
        abstract: "MRR@10 and recall@5 on the judged set (seed content), then search latency over N generated entries.")
    @Option(help: "postgres://… (a database the benchmark may fill), or an SQLite file (default: a new temporary file).") var database: String?
    @Option(help: "Generated entries for the latency run (0: skip it).") var entries = 100_000
    @Option(help: "Timed searches.") var queries = 2_000
    @Option(help: "Seed of the generator.") var seed: UInt64 = 12366
    @Option(help: "Share of generated entries (per cent) that rework a relief question; the others are about other matters (general words only).")
    var reliefPercent = 100

    func run() async throws {
        let location = DatabaseLocation(database ?? FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-bench-search-\(UUID().uuidString).sqlite").path)
        let judged = try KnowledgeSeed.judged()
        try await withServices(location) { s in
            guard try await s.store.kbEntryCount() == 0 else {
                printError("huiqi bench search: the database already has a knowledge base; give an empty one"); throw ExitCode(2)
            }
            try await s.knowledge.seedIfEmpty()
            // Relevance.
            var reciprocal = 0.0, recall = 0.0
            var misses: [String] = []
            for j in judged {
                let ids = try await s.knowledge.rank(terms: s.knowledge.analyzer.query(j.q), filter: KBFilter(), limit: 10).map(\.entry_id)
                if let first = ids.firstIndex(where: { j.relevant.contains($0) }) { reciprocal += 1 / Double(first + 1) } else { misses.append(j.q) }
                recall += Double(Set(ids.prefix(5)).intersection(j.relevant).count) / Double(min(j.relevant.count, 5))
            }
            let seeded = try await s.store.kbStats().documents
            print("judged set: \(judged.count) questions over \(seeded) entries (\({ if case .postgres = location { return "PostgreSQL" } else { return "SQLite" } }()))")
            print(String(format: "MRR@10 %.3f, recall@5 %.3f", reciprocal / Double(judged.count), recall / Double(judged.count)))
            if !misses.isEmpty { print("no relevant entry in the top 10: \(misses.joined(separator: " | "))") }
            guard entries > 0 else { return }

            // Latency over a large base: the seed content, then generated entries that reuse its sentences and the
            // lexicon's words, so that common tax terms are common (as in a real base) and rare ones rare.
            let t0 = DispatchTime.now().uptimeNanoseconds
            try await generate(s, count: entries)
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let stats = try await s.store.kbStats()
            print(String(format: "generated %d entries (%d%% on relief), indexed in %.1f s; index: %d documents, %.1f terms each on average",
                         entries, reliefPercent, loadSeconds, stats.documents, Double(stats.terms) / Double(max(stats.documents, 1))))
            var rng = SplitMix64(seed: seed)
            let taxes = KnowledgeService.taxes
            var rankNanos: [UInt64] = [], fullNanos: [UInt64] = [], exhaustiveNanos: [UInt64] = []
            var differ: [String] = []
            for i in 0..<queries {
                let j = judged[Int(rng.next() % UInt64(judged.count))]
                let filter = i % 4 == 0 ? KBFilter(tax: taxes[Int(rng.next() % UInt64(taxes.count))], year: 2019 + Int(rng.next() % 8)) : KBFilter()
                let a = DispatchTime.now().uptimeNanoseconds
                _ = try await s.knowledge.rank(terms: s.knowledge.analyzer.query(j.q), filter: filter, limit: 10)
                let b = DispatchTime.now().uptimeNanoseconds
                rankNanos.append(b - a)
                if i % 10 == 0 {
                    _ = try await s.knowledge.search(j.q, filter: filter, limit: 10)
                    let c = DispatchTime.now().uptimeNanoseconds
                    fullNanos.append(c - b)
                    // The reference: every match scored by the full-text index. Same entries, same order, same scores.
                    let terms = s.knowledge.analyzer.query(j.q)
                    let reference = try await s.knowledge.rankExhaustive(terms: terms, filter: filter, limit: 10)
                    exhaustiveNanos.append(DispatchTime.now().uptimeNanoseconds - c)
                    let fast = try await s.knowledge.rank(terms: terms, filter: filter, limit: 10)
                    if fast.map(\.entry_id) != reference.map(\.entry_id) || zip(fast, reference).contains(where: { abs($0.score - $1.score) > 1e-9 }) {
                        differ.append(j.q)
                    }
                }
            }
            func pct(_ v: [UInt64], _ p: Double) -> String {
                let s = v.sorted(); return String(format: "%.2f", Double(s[min(s.count - 1, Int(Double(s.count) * p))]) / 1e6)
            }
            print("search (analyse + rank, top 10), \(queries) queries, a quarter with tax and year filters: p50 \(pct(rankNanos, 0.5)) ms, p99 \(pct(rankNanos, 0.99)) ms, max \(pct(rankNanos, 1.0)) ms")
            print("search with snippets (as the page), \(fullNanos.count) queries: p50 \(pct(fullNanos, 0.5)) ms, p99 \(pct(fullNanos, 0.99)) ms")
            print("reference ranking (every match scored by \({ if case .postgres = location { return "the GIN index" } else { return "FTS5" } }())), \(exhaustiveNanos.count) queries: p50 \(pct(exhaustiveNanos, 0.5)) ms, p99 \(pct(exhaustiveNanos, 0.99)) ms; top 10 differs from it for \(differ.count)\(differ.isEmpty ? "" : ": " + differ.joined(separator: " | "))")
            if !differ.isEmpty { throw ExitCode(1) }
        }
    }

    func generate(_ s: Services, count: Int) async throws {
        let seed = try KnowledgeSeed.bundled()
        var rng = SplitMix64(seed: seed.questions.count == 0 ? 1 : self.seed)
        let words = s.knowledge.analyzer.segmenter.lexicon.sampleWords(4_000)
        let at = Date().formatted(.iso8601)
        var batch: [(KBEntryRow, KBVersionRow, KBSearchDocument)] = []
        func flush() async throws {
            let rows = batch
            batch.removeAll(keepingCapacity: true)
            let audit = AuditRow(id: UUID().uuidString, at: at, user_id: nil, action: "kb_bench", object: "kb", detail: "\(rows.count)", remote: nil)
            try await s.store.writeAudited(audit) { db in
                for c in stride(from: 0, to: rows.count, by: 200) {
                    try await db.insert(into: "kb_entries").models(rows[c..<min(c + 200, rows.count)].map(\.0)).run()
                }
                for c in stride(from: 0, to: rows.count, by: 50) {
                    try await db.insert(into: "kb_versions").models(rows[c..<min(c + 50, rows.count)].map(\.1), nilEncodingStrategy: .asNil).run()
                }
                try await Store.insertKBDocuments(rows.map(\.2), on: db)
            }
        }
        for i in 0..<count {
            let q = seed.questions[Int(rng.next() % UInt64(seed.questions.count))]
            var filler: [String] = []
            for _ in 0..<(20 + Int(rng.next() % 40)) {
                // Zipf-like: low indexes (frequent words) far more often.
                let r = Double(rng.next() % 1_000_000) / 1_000_000
                filler.append(words[min(words.count - 1, Int(pow(r, 3) * Double(words.count)))])
            }
            let relief = Int(rng.next() % 100) < reliefPercent
            let title = relief ? "\(q.q)（\(filler.prefix(3).joined())）" : filler.prefix(8).joined() + "？"
            let body = relief ? q.a + filler.joined() : filler.joined() + filler.reversed().joined()
            let id = "gen-\(i)"
            let year = 2009 + Int(rng.next() % 19)
            let entry = KBEntryRow(id: id, kind: "question", tax: q.tax, created_at: at, created_by: "bench")
            let version = KBVersionRow(entry_id: id, version: 1, title: title, body: body, year_from: year, year_to: year + Int(rng.next() % 4),
                                       effective_from: "2009-01-01", links_json: "[]", citations_json: "[]", author: "bench", created_at: at)
            let terms = s.knowledge.analyzer.index(title + "\n" + title + "\n" + body).terms
            batch.append((entry, version, KBSearchDocument(entry_id: id, version: 1, kind: "question", tax: q.tax, year_from: year,
                                                           year_to: version.year_to, title: title, terms: terms)))
            if batch.count == 5_000 { try await flush() }
        }
        if !batch.isEmpty { try await flush() }
    }
}
