import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// The JSON API of the administration loop: monitoring, screening jobs and findings, notices, the offset ledger,
/// refunds and the taxpayer's messages. Bodies are Codable types, one per response.
func administrationRoutes(_ api: any RoutesBuilder) {
    api.get("monitoring", use: monitoringAPI)
    api.post("screenings", use: startScreeningAPI)
    api.get("jobs", ":job", use: jobAPI)
    api.get("findings", use: findingsAPI)
    api.get("taxpayers", ":taxpayer", "notices", use: noticesAPI)
    api.get("notices", ":notice", use: noticeAPI)
    api.post("notices", ":notice", "acknowledge", use: acknowledgeNoticeAPI)
    api.get("taxpayers", ":taxpayer", "ledger", use: ledgerAPI)
    api.post("taxpayers", ":taxpayer", "refunds", use: requestRefundAPI)
    api.post("refunds", ":refund", "approve", use: approveRefundAPI)
    api.get("taxpayers", ":taxpayer", "messages", use: messagesAPI)
    api.post("messages", ":message", "read", use: readMessageAPI)
}

func yuan(_ fen: Int64) -> String { Money(fen: fen).description }

struct FiguresBody: Content {
    let office_id: String, office_name: String
    let expected: Int64, filed: Int64, not_filed: Int64, late: Int64
    let relief_due: String, relief_claimed: String
    let relief_not_claimed: Int64, relief_not_due: Int64, declared_not_computed: Int64
    init(_ f: OfficeFigures, name: String) {
        office_id = f.office_id; office_name = name; expected = f.expected; filed = f.filed; not_filed = f.notFiled; late = f.late
        relief_due = yuan(f.relief_due_fen); relief_claimed = yuan(f.relief_claimed_fen)
        relief_not_claimed = f.not_claimed; relief_not_due = f.not_due; declared_not_computed = f.mismatched
    }
}
struct DayBody: Content { let day: String, filed: Int64, cumulative: Int64 }
struct ExpectedReturnBody: Content {
    let taxpayer_id: String, name: String, filed: Bool, late: Bool, version: Int?, first_filed_at: String?
    let tax: String?, relief: String?, declared_tax: String?
}
public struct MonitoringBody: Content {
    let kind: String, period: String, return_id: String, deadline: String
    let office: FiguresBody
    let path: [String]
    let children: [FiguresBody]
    let days: [DayBody]
    let taxpayers: [ExpectedReturnBody]
    /// When the figures come from a snapshot, when it was computed; null: computed for this answer.
    let as_of: String?
    public init(_ r: MonitoringReport) {
        as_of = r.asOf
        kind = r.expected.section; period = r.expected.period; return_id = r.expected.returnID; deadline = r.expected.deadline
        office = FiguresBody(r.totals, name: r.office.name)
        path = r.path.map(\.id)
        children = r.children.map { FiguresBody($0.figures, name: $0.office.name) }
        days = r.days.map { DayBody(day: $0.day, filed: $0.count, cumulative: $0.cumulative) }
        let lateAfter = r.expected.lateAfter
        taxpayers = r.taxpayers.map { t in
            ExpectedReturnBody(taxpayer_id: t.taxpayer_id, name: t.name, filed: t.version != nil, late: (t.first_filed_at ?? "") >= lateAfter,
                               version: t.version, first_filed_at: t.first_filed_at, tax: t.computed_tax_fen.map(yuan),
                               relief: t.relief_fen.map(yuan), declared_tax: t.declared_tax_fen.map(yuan))
        }
    }
}

func actor(_ req: Request) throws -> Actor { try req.auth.require(ActorBox.self).actor }

/// A required query parameter, named in the error when absent.
func requiredQuery(_ req: Request, _ name: String) throws -> String {
    guard let v = req.query[String.self, at: name], !v.isEmpty else {
        throw ServiceError.invalid(field: name, zh: "缺少查询参数 \(name)", en: "the query parameter \(name) is required")
    }
    return v
}

@Sendable func monitoringAPI(_ req: Request) async throws -> Response {
    let s = req.application.platform.services
    let r = try await s.monitoring.report(by: try actor(req), kind: try requiredQuery(req, "kind"), period: try requiredQuery(req, "period"),
                                          office: req.query[String.self, at: "office"], onlyNotFiled: req.query[String.self, at: "not_filed"] == "true")
    return try jsonResponse(.ok, MonitoringBody(r))
}

struct ScreeningRequest: Content { let kind: String, period: String, office: String? }
struct JobBody: Content {
    let id: String, kind: String, state: String, done: Int64, total: Int64
    let arguments: ScreeningArguments
    let created_by: String?, created_at: String, started_at: String?, finished_at: String?, error: String?
    let result: ScreeningSummary?
    init(_ j: JobRow, _ a: ScreeningArguments) {
        id = j.id; kind = j.kind; state = j.state.rawValue; done = j.done; total = j.total; arguments = a
        created_by = j.created_by; created_at = j.created_at; started_at = j.started_at; finished_at = j.finished_at; error = j.error
        result = j.result.flatMap { try? JSONDecoder().decode(ScreeningSummary.self, from: Data($0.utf8)) }
    }
}

/// Starts a screening job and runs it in the background of this server; the answer is the queued job (202).
@Sendable func startScreeningAPI(_ req: Request) async throws -> Response {
    let body: ScreeningRequest
    do { body = try req.content.decode(ScreeningRequest.self) } catch {
        throw ServiceError.invalid(field: "kind", zh: "请提供 kind 和 period（可选 office）", en: "give kind and period (and optionally office)")
    }
    let job = try await startScreening(req, kind: body.kind, period: body.period, office: body.office)
    return try jsonResponse(.accepted, JobBody(job, try JSONDecoder().decode(ScreeningArguments.self, from: Data(job.arguments.utf8))))
}

/// Creates the job and hands it to a background task of the application (the web page's button does the same).
func startScreening(_ req: Request, kind: String, period: String, office: String?) async throws -> JobRow {
    let s = req.application.platform.services
    let job = try await s.screening.start(by: try req.signedInActor(), kind: kind, period: period, office: office, monitoring: s.monitoring)
    var logger = req.logger  // the request's id: the job's lines belong to the request that started it
    logger[metadataKey: "job"] = .string(job.id)
    Task.detached { [logger] in
        do { _ = try await s.screening.run(job) } catch { logger.error("screening job \(job.id) failed: \(error)") }
    }
    return job
}

@Sendable func jobAPI(_ req: Request) async throws -> Response {
    let (job, args) = try await req.application.platform.services.screening.job(req.parameters.get("job") ?? "", by: try actor(req))
    return try jsonResponse(.ok, JobBody(job, args))
}

struct FindingBody: Content {
    let taxpayer_id: String, return_id: String, version: Int, kind: String, section: String, period: String, office_id: String
    let declared_tax: String?, law_tax: String?, amount: String, missing: String?, job_id: String, found_at: String
    init(_ f: FindingRow) {
        taxpayer_id = f.taxpayer_id; return_id = f.return_id; version = f.version; kind = f.kind.rawValue; section = f.section; period = f.period
        office_id = f.office_id; declared_tax = f.declared_fen.map(yuan); law_tax = f.law_tax_fen.map(yuan); amount = yuan(f.amount_fen)
        missing = f.missing; job_id = f.job_id; found_at = f.found_at
    }
}

@Sendable func findingsAPI(_ req: Request) async throws -> Response {
    let s = req.application.platform.services
    let a = try actor(req)
    let kindText = req.query[String.self, at: "finding"]
    let kind = try kindText.map { text -> FindingRow.Kind in
        guard let k = FindingRow.Kind(rawValue: text) else {
            throw ServiceError.invalid(field: "finding", zh: "finding 应为 overpaid、underpaid、not_filed 或 undetermined", en: "finding must be overpaid, underpaid, not_filed or undetermined")
        }
        return k
    }
    let rows = try await s.screening.findings(by: a, kind: try requiredQuery(req, "kind"), period: try requiredQuery(req, "period"),
                                              office: req.query[String.self, at: "office"], finding: kind, monitoring: s.monitoring)
    return try jsonResponse(.ok, rows.map(FindingBody.init))
}

struct NoticeBody: Content {
    let id: String, number: String, taxpayer_id: String, office_id: String, kind: String, state: String
    let return_id: String, version: Int, section: String, period: String, amount: String
    let offset: String, refunded: String, remaining: String
    let issued_at: String, read_at: String?, acknowledged_at: String?
    let content: JSONValue
    init(_ v: NoticeView) {
        let n = v.notice
        id = n.id; number = n.documentNumber; taxpayer_id = n.taxpayer_id; office_id = n.office_id; kind = n.kind.rawValue; state = v.state
        return_id = n.return_id; version = n.version; section = n.section; period = n.period; amount = yuan(n.amount_fen)
        offset = yuan(v.offsetFen); refunded = yuan(v.refundedFen); remaining = yuan(v.remainingFen)
        issued_at = n.issued_at; read_at = n.read_at; acknowledged_at = n.acknowledged_at
        content = JSONValue((try? JSONParser.parse(n.body)) ?? .null)
    }
}

/// The engine's JSON inside a Codable body (strings stay strings: exact decimals never pass through Double).
struct JSONValue: Codable, Sendable {
    let value: JSON
    init(_ value: JSON) { self.value = value }
    init(from decoder: any Decoder) throws { value = .null }
    func encode(to encoder: any Encoder) throws {
        switch value {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .number(let n): var c = encoder.singleValueContainer(); try c.encode(Decimal(string: n) ?? 0)
        case .array(let a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(JSONValue(v)) }
        case .object(let kv):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in kv { try c.encode(JSONValue(v), forKey: AnyKey(stringValue: k)) }
        }
    }
    struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

@Sendable func noticesAPI(_ req: Request) async throws -> Response {
    let views = try await req.application.platform.services.ledger.notices(by: try actor(req), taxpayerID: req.parameters.get("taxpayer") ?? "")
    return try jsonResponse(.ok, views.map(NoticeBody.init))
}
@Sendable func noticeAPI(_ req: Request) async throws -> Response {
    let v = try await req.application.platform.services.ledger.notice(by: try actor(req), id: req.parameters.get("notice") ?? "", remote: req.clientAddress)
    return try jsonResponse(.ok, NoticeBody(v))
}
@Sendable func acknowledgeNoticeAPI(_ req: Request) async throws -> Response {
    let v = try await req.application.platform.services.ledger.acknowledge(by: try actor(req), id: req.parameters.get("notice") ?? "", remote: req.clientAddress)
    return try jsonResponse(.ok, NoticeBody(v))
}

struct LedgerEntryBody: Content {
    let tax: String, seq: Int, kind: String, amount: String, balance: String
    let notice_id: String?, return_id: String?, return_version: Int?, refund_id: String?, at: String
    init(_ e: LedgerEntryRow) {
        tax = e.tax; seq = e.seq; kind = e.kind.rawValue; amount = yuan(e.amount_fen); balance = yuan(e.balance_fen)
        notice_id = e.notice_id; return_id = e.return_id; return_version = e.return_version; refund_id = e.refund_id; at = e.at
    }
}
struct RefundBody: Content {
    let id: String, taxpayer_id: String, tax: String, amount: String, state: String, requested_at: String, decided_at: String?
    init(_ r: RefundRow) {
        id = r.id; taxpayer_id = r.taxpayer_id; tax = r.tax; amount = yuan(r.amount_fen); state = r.state; requested_at = r.requested_at; decided_at = r.decided_at
    }
}
struct LedgerBody: Content { let balances: [String: String]; let entries: [LedgerEntryBody]; let refunds: [RefundBody] }

@Sendable func ledgerAPI(_ req: Request) async throws -> Response {
    let l = try await req.application.platform.services.ledger.ledger(by: try actor(req), taxpayerID: req.parameters.get("taxpayer") ?? "")
    return try jsonResponse(.ok, LedgerBody(balances: l.balances.mapValues(yuan), entries: l.entries.map(LedgerEntryBody.init), refunds: l.refunds.map(RefundBody.init)))
}

struct RefundRequest: Content { let tax: String, amount: String }
@Sendable func requestRefundAPI(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(RefundRequest.self) else {
        throw ServiceError.invalid(field: "amount", zh: "请提供 tax 和 amount", en: "give tax and amount")
    }
    let r = try await req.application.platform.services.ledger.requestRefund(by: try actor(req), taxpayerID: req.parameters.get("taxpayer") ?? "",
                                                                              tax: body.tax, amount: body.amount, remote: req.clientAddress)
    return try jsonResponse(.created, RefundBody(r))
}
@Sendable func approveRefundAPI(_ req: Request) async throws -> Response {
    let r = try await req.application.platform.services.ledger.approveRefund(by: try actor(req), id: req.parameters.get("refund") ?? "", remote: req.clientAddress)
    return try jsonResponse(.ok, RefundBody(r))
}

struct MessageBody: Content {
    let id: String, return_id: String, reason: String, message: String, due_on: String?, created_at: String, read: Bool
    init(_ r: ReminderRow) {
        id = r.id; return_id = r.return_id; reason = r.reason; message = r.message; due_on = r.due_on; created_at = r.created_at; read = r.read_at != nil
    }
}
@Sendable func messagesAPI(_ req: Request) async throws -> Response {
    let s = req.application.platform.services
    let rows = try await s.reminders.messages(by: try actor(req), taxpayerID: req.parameters.get("taxpayer") ?? "", access: s.access)
    return try jsonResponse(.ok, rows.map(MessageBody.init))
}
@Sendable func readMessageAPI(_ req: Request) async throws -> Response {
    let s = req.application.platform.services
    try await s.reminders.markRead(by: try actor(req), id: req.parameters.get("message") ?? "", access: s.access)
    return Response(status: .noContent)
}

extension Request {
    /// The actor of an API request (bearer token) or of a web page (session).
    func signedInActor() throws -> Actor {
        if let box = auth.get(ActorBox.self) { return box.actor }
        return try signedIn()
    }
}
