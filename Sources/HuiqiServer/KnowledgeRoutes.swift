import Foundation
import HuiqiSearch
import HuiqiServices
import HuiqiStore
import Vapor

/// The 12366 knowledge base and the complaint desk in the JSON API (issue 11). Search and approved answers are
/// public (no token); drafts, reviews and complaints need one.
func knowledgeRoutes(public api: any RoutesBuilder, authed: any RoutesBuilder) {
    api.get("kb", "search", use: kbSearchAPI)
    api.get("kb", "entries", ":entry", use: kbEntryAPI)
    authed.get("kb", "entries", ":entry", "versions", use: kbVersionsAPI)
    authed.post("kb", "drafts", use: kbDraftAPI)
    authed.post("kb", "entries", ":entry", "versions", ":version", "review", use: kbReviewAPI)
    authed.get("complaints", use: complaintsAPI)
    authed.post("complaints", use: submitComplaintAPI)
    authed.get("complaints", "sla", use: complaintSLAAPI)
    authed.get("complaints", ":complaint", use: complaintAPI)
    for action in ["resolve", "confirm", "reopen"] {
        authed.post("complaints", ":complaint", PathComponent(stringLiteral: action)) { req in try await complaintActionAPI(req, action: action) }
    }
}

public struct KBResultBody: Content {
    public let entry_id: String, version: Int, kind: String, tax: String, title: String, year_from: Int, year_to: Int?, score: Double
    /// The snippet with the matches in 【】, and the same as parts.
    public let snippet: String
    public let snippet_parts: [SnippetPart]
    /// The answer explains a parameter that has changed since it was approved: awaiting review.
    public let stale: Bool
    init(_ r: KBResult) {
        entry_id = r.hit.entry_id; version = r.hit.version; kind = r.hit.kind; tax = r.hit.tax; title = r.hit.title
        year_from = r.hit.year_from; year_to = r.hit.year_to; score = r.hit.score
        snippet = r.snippet.map { $0.marked ? "【\($0.text)】" : $0.text }.joined(); snippet_parts = r.snippet; stale = r.stale
    }
}

public struct KBSearchBody: Content {
    public let query: String, terms: [String], results: [KBResultBody]
}

public struct KBVersionBody: Content {
    public let version: Int, title: String, body: String, year_from: Int, year_to: Int?, effective_from: String
    public let links: [KBLink], citations: [String], status: String, reviewed_at: String?, created_at: String
    /// Staff only: who wrote and who reviewed.
    public let author: String?, reviewer: String?, review_note: String?
    init(_ v: KBVersionRow, view: KBEntryView, service: KnowledgeService, staff: Bool) {
        let r = view.review(v.version)
        version = v.version; title = v.title; body = v.body; year_from = v.year_from; year_to = v.year_to; effective_from = v.effective_from
        links = service.links(v); citations = service.citations(v); status = view.status(v); reviewed_at = r?.at; created_at = v.created_at
        author = staff ? v.author : nil; reviewer = staff ? r?.reviewer : nil; review_note = staff ? r?.note : nil
    }
}

public struct KBEntryBody: Content {
    public let id: String, kind: String, tax: String
    /// The approved version in effect (absent: none yet).
    public let current: KBVersionBody?
    public let stale: Bool
    public let stale_parameters: [String]
    public let versions: [KBVersionBody]
    init(_ view: KBEntryView, service: KnowledgeService, staff: Bool) {
        id = view.entry.id; kind = view.entry.kind; tax = view.entry.tax
        current = view.current.map { KBVersionBody($0, view: view, service: service, staff: staff) }
        stale = !view.staleLinks.isEmpty; stale_parameters = Array(Set(view.staleLinks.map(\.parameter))).sorted()
        versions = view.versions.filter { staff || view.status($0) == "approved" }.map { KBVersionBody($0, view: view, service: service, staff: staff) }
    }
}

struct KBReviewBody: Content { var decision: String; var note: String? }

@Sendable func kbSearchAPI(_ req: Request) async throws -> Response {
    let q = try requiredQuery(req, "q")
    let year: Int?
    if let y = req.query[String.self, at: "year"] {
        guard let n = Int(y) else { throw ServiceError.invalid(field: "year", zh: "年度应为整数", en: "year must be a whole number") }
        year = n
    } else { year = nil }
    let limit = req.query[String.self, at: "limit"].flatMap(Int.init) ?? 10
    let r = try await req.application.platform.services.knowledge.search(q, filter: KBFilter(tax: req.query[String.self, at: "tax"], year: year), limit: limit)
    return try jsonResponse(.ok, KBSearchBody(query: r.query, terms: r.terms, results: r.results.map(KBResultBody.init)))
}

@Sendable func kbEntryAPI(_ req: Request) async throws -> Response {
    let k = req.application.platform.services.knowledge
    let view = try await k.entry(req.parameters.get("entry") ?? "")
    guard view.current != nil || view.versions.contains(where: { view.status($0) == "approved" }) else { throw ServiceError.notFound }
    return try jsonResponse(.ok, KBEntryBody(view, service: k, staff: false))
}

@Sendable func kbVersionsAPI(_ req: Request) async throws -> Response {
    let a = try actor(req)
    guard KnowledgeService.isStaff(a) else { throw ServiceError.forbidden("drafts and history are for tax staff / 草稿和历史版本仅供税务人员查看") }
    let k = req.application.platform.services.knowledge
    return try jsonResponse(.ok, KBEntryBody(try await k.entry(req.parameters.get("entry") ?? ""), service: k, staff: true))
}

@Sendable func kbDraftAPI(_ req: Request) async throws -> Response {
    guard let draft = try? req.content.decode(KBDraft.self) else {
        throw ServiceError.invalid(field: "title", zh: "请提供 title、body、year_from（新条目还需 tax）", en: "give title, body and year_from (and tax for a new entry)")
    }
    let k = req.application.platform.services.knowledge
    let (id, _) = try await k.createDraft(draft, by: try actor(req))
    return try jsonResponse(.created, KBEntryBody(try await k.entry(id), service: k, staff: true))
}

@Sendable func kbReviewAPI(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(KBReviewBody.self), ["approve", "reject"].contains(body.decision) else {
        throw ServiceError.invalid(field: "decision", zh: "decision 须为 approve 或 reject", en: "decision must be approve or reject")
    }
    guard let version = req.parameters.get("version").flatMap(Int.init) else { throw ServiceError.notFound }
    let k = req.application.platform.services.knowledge
    let id = req.parameters.get("entry") ?? ""
    try await k.review(entry: id, version: version, approve: body.decision == "approve", note: body.note ?? "", by: try actor(req))
    return try jsonResponse(.ok, KBEntryBody(try await k.entry(id), service: k, staff: true))
}

// MARK: complaints

public struct ComplaintEventBody: Content {
    public let seq: Int, kind: String, at: String, actor: String, office_id: String?, due_on: String?, outcome: String?, satisfaction: Int?, note: String
    init(_ e: ComplaintEventRow) {
        seq = e.seq; kind = e.kind; at = e.at; actor = e.actor; office_id = e.office_id; due_on = e.due_on; outcome = e.outcome
        satisfaction = e.satisfaction; note = e.note
    }
}

public struct ComplaintBody: Content {
    public let id: String, taxpayer_id: String, office_id: String, answerable_office_id: String, category: String, channel: String
    public let received_at: String, clock_from: String?, due_on: String?, state: String, overdue: Bool
    /// Only in the answer for one complaint (a list carries no personal text).
    public let text: String?, contact: String?
    public let events: [ComplaintEventBody]?
    init(_ v: ComplaintView, clock: ComplaintClock, now: Date, full: Bool) {
        id = v.row.id; taxpayer_id = v.row.taxpayer_id; office_id = v.row.office_id; answerable_office_id = v.answerableOffice
        category = v.row.category; channel = v.row.channel; received_at = v.row.received_at; clock_from = v.row.clock_from
        due_on = v.due; state = v.state; overdue = v.overdue(clock, now: now)
        text = full ? v.row.text : nil; contact = full ? v.row.contact : nil; events = full ? v.events.map(ComplaintEventBody.init) : nil
    }
}

struct ComplaintActionBody: Content { var note: String?; var outcome: String?; var satisfaction: Int? }

func complaintDesk(_ req: Request) throws -> ComplaintService {
    guard let c = req.application.platform.services.complaints else {
        throw ServiceError.unprocessable(field: "complaint-desk", zh: "投诉时限文件无法读取，投诉专席暂停", en: "the complaint desk's rules file cannot be read")
    }
    return c
}

@Sendable func complaintsAPI(_ req: Request) async throws -> Response {
    let desk = try complaintDesk(req)
    let now = desk.now()
    return try jsonResponse(.ok, try await desk.list(by: try actor(req)).map { ComplaintBody($0, clock: desk.clock, now: now, full: false) })
}

@Sendable func submitComplaintAPI(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(ComplaintService.Submission.self) else {
        throw ServiceError.invalid(field: "taxpayer_id", zh: "请提供 taxpayer_id、category、text、contact", en: "give taxpayer_id, category, text and contact")
    }
    let desk = try complaintDesk(req)
    let v = try await desk.submit(body, channel: "api", by: try actor(req))
    return try jsonResponse(.created, ComplaintBody(v, clock: desk.clock, now: desk.now(), full: true))
}

@Sendable func complaintAPI(_ req: Request) async throws -> Response {
    let desk = try complaintDesk(req)
    let v = try await desk.complaint(req.parameters.get("complaint") ?? "", by: try actor(req))
    return try jsonResponse(.ok, ComplaintBody(v, clock: desk.clock, now: desk.now(), full: true))
}

@Sendable func complaintActionAPI(_ req: Request, action: String) async throws -> Response {
    let desk = try complaintDesk(req)
    let a = try actor(req)
    let id = req.parameters.get("complaint") ?? ""
    let body = (try? req.content.decode(ComplaintActionBody.self)) ?? ComplaintActionBody()
    let v: ComplaintView
    switch action {
    case "resolve": v = try await desk.resolve(id, note: body.note ?? "", outcome: body.outcome ?? "", by: a)
    case "confirm":
        guard let s = body.satisfaction else { throw ServiceError.invalid(field: "satisfaction", zh: "请给出满意度 1 至 5", en: "give satisfaction 1 to 5") }
        v = try await desk.confirm(id, satisfaction: s, note: body.note ?? "", by: a)
    case "reopen": v = try await desk.reopen(id, note: body.note ?? "", by: a)
    default: throw ServiceError.notFound
    }
    return try jsonResponse(.ok, ComplaintBody(v, clock: desk.clock, now: desk.now(), full: true))
}

@Sendable func complaintSLAAPI(_ req: Request) async throws -> Response {
    try jsonResponse(.ok, try await complaintDesk(req).sla(by: try actor(req)))
}
