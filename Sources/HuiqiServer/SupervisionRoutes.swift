import Foundation
import HuiqiServices
import HuiqiStore
import Vapor

/// Supervision (the ranking with its score and inputs) and rectification tasks in the JSON API (issue 10 §3).
func supervisionRoutes(_ api: any RoutesBuilder) {
    api.get("supervision", use: supervisionAPI)
    api.get("tasks", use: tasksAPI)
    api.post("tasks", use: assignTaskAPI)
    api.get("tasks", ":task", use: taskAPI)
    api.post("tasks", ":task", "events", use: taskEventAPI)
}

public struct EvaluationBody: Content {
    public let rank: Int, office_id: String, office_name: String
    /// Per mille, half up; null when the input cannot be computed (nobody entitled, nothing expected or filed).
    public let score_permille: Int64?, coverage_permille: Int64?, timely_filing_permille: Int64?, relief_claimed_permille: Int64?
    public let notices_on_time_permille: Int64?
    public let flagged: Bool
    /// The counts the inputs come from.
    public let entitled: Int64, entitled_received: Int64, expected: Int64, filed: Int64, late: Int64, not_claimed: Int64
    public let notices: Int64, notices_timely: Int64
    init(_ e: OfficeEvaluation) {
        rank = e.rank; office_id = e.office.id; office_name = e.office.name; score_permille = e.score; coverage_permille = e.coverage
        timely_filing_permille = e.timelyFiling; relief_claimed_permille = e.reliefClaimed; flagged = e.flagged
        notices_on_time_permille = e.noticesOnTime; notices = e.notices; notices_timely = e.noticesTimely
        entitled = e.statistics.entitled; entitled_received = e.statistics.entitled_received; expected = e.figures.expected
        filed = e.figures.filed; late = e.figures.late; not_claimed = e.figures.not_claimed
    }
}

public struct SupervisionBody: Content {
    public let kind: String, period: String, office_id: String, office_name: String
    public let weights: [String: Int64], weights_version: String, coverage_threshold_permille: Int64
    public let offices: [EvaluationBody]
    public init(_ r: SupervisionReport) {
        kind = r.section; period = r.period; office_id = r.office.id; office_name = r.office.name; weights = r.weights.weights
        weights_version = r.weights.version; coverage_threshold_permille = r.weights.coverage_threshold_permille
        offices = r.offices.map(EvaluationBody.init)
    }
}

public struct TaskBody: Content {
    public let id: String, office_id: String, title: String, assigned_by: String, assigned_at: String, working_days: Int, due_on: String
    public let state: String, overdue: Bool
    public let events: [RectificationEventRow]
    public init(_ t: RectificationTask) {
        id = t.row.id; office_id = t.row.office_id; title = t.row.title; assigned_by = t.row.assigned_by; assigned_at = t.row.assigned_at
        working_days = t.row.working_days; due_on = t.row.due_on; state = t.row.state; overdue = t.overdue; events = t.events
    }
}


struct TaskAssignment: Content { var office: String; var title: String; var working_days: Int }
struct TaskEvent: Content { var action: String; var note: String }

@Sendable func supervisionAPI(_ req: Request) async throws -> Response {
    let r = try await req.application.platform.services.supervision.report(by: try actor(req), kind: try requiredQuery(req, "kind"),
                                                                          period: try requiredQuery(req, "period"), office: req.query[String.self, at: "office"])
    return try jsonResponse(.ok, SupervisionBody(r))
}

@Sendable func tasksAPI(_ req: Request) async throws -> Response {
    try jsonResponse(.ok, try await req.application.platform.services.rectification.tasks(by: try actor(req)).map(TaskBody.init))
}

@Sendable func assignTaskAPI(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(TaskAssignment.self) else {
        throw ServiceError.invalid(field: "office", zh: "请提供 office、title 和 working_days", en: "give office, title and working_days")
    }
    let t = try await req.application.platform.services.rectification.assign(by: try actor(req), office: body.office, title: body.title,
                                                                            workingDays: body.working_days, remote: req.clientAddress)
    return try jsonResponse(.created, TaskBody(t))
}

@Sendable func taskAPI(_ req: Request) async throws -> Response {
    try jsonResponse(.ok, TaskBody(try await req.application.platform.services.rectification.task(by: try actor(req), id: req.parameters.get("task") ?? "")))
}

@Sendable func taskEventAPI(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(TaskEvent.self) else {
        throw ServiceError.invalid(field: "action", zh: "请提供 action（report、close、reopen）和 note", en: "give action (report, close, reopen) and note")
    }
    let t = try await req.application.platform.services.rectification.act(by: try actor(req), id: req.parameters.get("task") ?? "", action: body.action,
                                                                         note: body.note, remote: req.clientAddress)
    return try jsonResponse(.ok, TaskBody(t))
}
