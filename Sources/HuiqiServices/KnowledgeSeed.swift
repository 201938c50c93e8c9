import Foundation
import HuiqiRules
import HuiqiSearch
import HuiqiStore
import Yams

/// The knowledge base's first content: questions and answers written for the project (Knowledge/questions.yaml),
/// and one policy-document entry per document the parameter files cite, generated from their citations.
public struct KnowledgeSeed: Sendable {
    public struct Question: Codable, Sendable {
        public var id: String, tax: String, years: [Int], q: String, a: String
        public var params: [String]?
        public var cite: [String]?
    }
    /// A judged query: a question as people type it, and the entries that answer it.
    public struct Judgement: Codable, Sendable {
        public var q: String
        public var relevant: [String]
    }

    public let questions: [Question]

    public static func bundled() throws -> KnowledgeSeed {
        KnowledgeSeed(questions: try YAMLDecoder().decode([Question].self, from: try resource("questions")))
    }
    public static func judged() throws -> [Judgement] {
        try YAMLDecoder().decode([Judgement].self, from: try resource("judged"))
    }
    static func resource(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Knowledge") else {
            throw ServiceError.invalid(field: name, zh: "缺少知识库数据文件", en: "bundled Knowledge/\(name).yaml is missing")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The policy documents: the 2014 notice, and every document the parameter files cite (a citation naming
    /// several documents, separated by "; ", counts for each), with the parameters that come from it.
    public static func documents(_ parameters: ParameterSet) -> [(id: String, tax: String, title: String, body: String, years: (Int, Int?), params: [String])] {
        var byDoc: [String: [(ParameterDefinition, ParameterVersion)]] = [:]
        for def in parameters.definitions.values.sorted(by: { $0.name < $1.name }) {
            for v in def.versions {
                for doc in documentNames(v.cite.document) { byDoc[doc, default: []].append((def, v)) }
            }
        }
        var out: [(id: String, tax: String, title: String, body: String, years: (Int, Int?), params: [String])] = []
        out.append((id: "doc-2014-notice", tax: "general", title: "国家税务总局关于进一步做好小微企业税收优惠政策贯彻落实工作的通知（2014年）",
                    body: notice2014, years: (2014, nil), params: []))
        for (doc, uses) in byDoc.sorted(by: { $0.key < $1.key }) {
            let names = Array(Set(uses.map { $0.0.name })).sorted()
            let tax = taxOf(names)
            let from = uses.map { $0.1.from.year }.min() ?? 2009
            let to: Int? = uses.contains { $0.1.to == nil } ? nil : uses.compactMap { $0.1.to?.year }.max()
            // One line per parameter, in Chinese: the values and the dates they apply to (names and English stay
            // on the entry's links, out of the searchable text, so that documents do not outrank answers).
            var body = "本文件是以下政策参数的法律依据：\n"
            var seen: [String] = []
            for (def, _) in uses where !seen.contains(def.name) {
                seen.append(def.name)
                let spans = uses.filter { $0.0.name == def.name }.map { "\($0.1.key.map { "\($0)：" } ?? "")\($0.1.value)（\($0.1.from)起\($0.1.to.map { "至\($0)" } ?? "")）" }
                body += "· \(def.description.components(separatedBy: " / ").first ?? def.description)：\(spans.joined(separator: "；"))。\n"
            }
            let id = "doc-" + String(doc.hashValueStable, radix: 16)
            out.append((id: id, tax: tax, title: doc, body: body, years: (from, to), params: names))
        }
        return out
    }

    /// The documents a citation names: "财政部 税务总局公告2020年第13号; 2020年第24号" names two, the second by the
    /// first's issuer; articles, notes in brackets and English remarks are dropped.
    static func documentNames(_ citation: String) -> [String] {
        var out: [String] = []
        var issuer = ""
        for raw in citation.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == "，" }) {
            var part = raw.trimmingCharacters(in: .whitespaces)
            if let r = part.range(of: "(") { part = String(part[..<r.lowerBound]) }
            if let r = part.range(of: " and ") { part = String(part[..<r.lowerBound]) }
            if let r = part.range(of: " 第") { part = String(part[..<r.lowerBound]) }
            part = part.trimmingCharacters(in: .whitespaces)
            guard let first = part.unicodeScalars.first, part.unicodeScalars.contains(where: { $0.value >= 0x4E00 }), !part.contains(" of ") else { continue }
            if CharacterSet.decimalDigits.contains(first) { part = issuer + part }
            else if let digit = part.firstIndex(where: { $0.isNumber }) { issuer = String(part[..<digit]) } else { issuer = "" }
            if !out.contains(part) { out.append(part) }
        }
        return out
    }

    static func taxOf(_ names: [String]) -> String {
        let prefixes = Set(names.map { String($0.split(separator: ".").first ?? "") })
        if prefixes.count != 1 { return "general" }
        switch prefixes.first! {
        case "vat": return "vat"
        case "bt": return "bt"
        case "eit": return "eit"
        case "pit": return "pit"
        case "sltf", "fee", "surcharge": return "local"
        default: return "general"
        }
    }

    static let notice2014 = """
        2014年，国家税务总局要求各级税务机关把落实小微企业税收优惠政策作为重点工作：申报时为纳税人自动计算优惠并提示提醒、由纳税人选择；\
        申报期内监控申报进度和优惠享受情况；申报期后筛查应享未享的企业，通知其享受，并在以后申报中抵顶多缴税款；\
        客观、完整地统计减免税情况和受惠面；12366 知识库对同一问题统一答复口径；设立投诉专席，对反映优惠未落实的投诉在3个工作日内办结；\
        与其他部门比对登记信息，对受惠面低的地区督导，对税务机关绩效考评，并逐级上报落实情况；做好政策宣传、解读和典型案例。\
        惠企平台的各项功能即按此要求建设。文号据回忆为税总发〔2014〕58号，未经核实（惠企未收录通知原文）。
        """
}

extension String {
    /// A hash that is the same in every process (Swift's `hashValue` is seeded per process): FNV-1a, 64 bits.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }
}

extension KnowledgeService {
    /// Loads the seed content into an empty knowledge base, approved by "system", and indexes it. Returns the number
    /// of entries written (0 when the base already has entries).
    @discardableResult
    public func seedIfEmpty(_ seed: KnowledgeSeed? = nil) async throws -> Int {
        guard try await store.kbEntryCount() == 0 else { return 0 }
        let seed = try seed ?? KnowledgeSeed.bundled()
        let at = now().formatted(.iso8601)
        let effective = "2009-01-01"
        var entries: [KBEntryRow] = [], versions: [KBVersionRow] = [], reviews: [KBReviewRow] = []
        func add(id: String, kind: String, tax: String, title: String, body: String, years: (Int, Int?), params: [String], cites: [String]) throws {
            var v = try validated(KBDraft(title: title, body: body, year_from: years.0, year_to: years.1, effective_from: effective,
                                          parameters: params, citations: cites), author: "system")
            v.entry_id = id; v.version = 1; v.created_at = at
            entries.append(KBEntryRow(id: id, kind: kind, tax: tax, created_at: at, created_by: "system"))
            versions.append(v)
            reviews.append(KBReviewRow(entry_id: id, version: 1, decision: "approved", reviewer: "system", note: "seed content", at: at))
        }
        for d in KnowledgeSeed.documents(parameters) {
            try add(id: d.id, kind: "document", tax: d.tax, title: d.title, body: d.body, years: d.years, params: d.params, cites: [d.title])
        }
        for q in seed.questions {
            guard q.years.count == 1 || q.years.count == 2 else {
                throw ServiceError.invalid(field: "years", zh: "\(q.id) 的 years 须为 [起] 或 [起, 止]", en: "\(q.id): years must be [from] or [from, to]")
            }
            try add(id: q.id, kind: "question", tax: q.tax, title: q.q, body: q.a, years: (q.years[0], q.years.count == 2 ? q.years[1] : nil),
                    params: q.params ?? [], cites: q.cite ?? [])
        }
        var docs: [KBSearchDocument] = []
        for (e, v) in zip(entries, versions) { if let d = try await searchDocument(e, current: v) { docs.append(d) } }
        let audit = AuditRow(id: UUID().uuidString, at: at, user_id: nil, action: "kb_seed", object: "kb", detail: "\(entries.count) entries", remote: nil)
        try await store.writeAudited(audit) { [entries, versions, reviews, docs] db in
            for chunk in entries.chunked(200) { try await db.insert(into: "kb_entries").models(Array(chunk)).run() }
            for chunk in versions.chunked(50) { try await db.insert(into: "kb_versions").models(Array(chunk), nilEncodingStrategy: .asNil).run() }
            for chunk in reviews.chunked(200) { try await db.insert(into: "kb_reviews").models(Array(chunk)).run() }
            try await Store.insertKBDocuments(docs, on: db)
        }
        return entries.count
    }
}

extension Array {
    func chunked(_ n: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: n).map { self[$0..<Swift.min($0 + n, count)] }
    }
}
