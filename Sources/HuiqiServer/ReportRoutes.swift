import Foundation
import HuiqiServices
import HuiqiStore
import Vapor

/// Reports up the hierarchy in the JSON API (issue 10 §2): the overview of an office's period, and the submission.
func reportRoutes(_ api: any RoutesBuilder) {
    api.get("reports", use: reportsAPI)
    api.post("reports", use: submitReportAPI)
    api.get("reports", ":office", ":period", ":version", use: reportVersionAPI)
}

public struct ReportVersionBody: Content {
    public let office_id: String, period: String, version: Int, submitted_at: String, submitted_by: String, note: String
    public let report: OfficeReportBody?
    init(_ r: OfficeReportRow, body: OfficeReportBody?) {
        office_id = r.office_id; period = r.period; version = r.version; submitted_at = r.submitted_at; submitted_by = r.submitted_by
        note = r.note; report = body
    }
}

public struct ChildReportBody: Content {
    public let office_id: String, office_name: String, overdue: Bool
    /// The latest submitted version (absent: not submitted).
    public let latest: ReportVersionBody?
}

public struct ReportOverviewBody: Content {
    public let office_id: String, office_name: String, period: String, due: String, may_submit: Bool
    public let draft: OfficeReportBody
    public let versions: [ReportVersionBody]
    public let children: [ChildReportBody]
    public let children_aggregate: OfficeReportBody
    init(_ o: ReportOverview) {
        office_id = o.office.id; office_name = o.office.name; period = o.period; due = o.due; may_submit = o.maySubmit; draft = o.draft
        versions = o.versions.map { ReportVersionBody($0, body: nil) }
        children = o.children.map { c in
            ChildReportBody(office_id: c.office.id, office_name: c.office.name, overdue: c.overdue, latest: c.latest.map { ReportVersionBody($0, body: c.body) })
        }
        children_aggregate = o.childrenAggregate
    }
}

struct ReportSubmission: Content { var office: String; var period: String; var note: String? }

@Sendable func reportsAPI(_ req: Request) async throws -> Response {
    let o = try await req.application.platform.services.reports.overview(by: try actor(req), office: req.query[String.self, at: "office"],
                                                                         period: try requiredQuery(req, "period"))
    return try jsonResponse(.ok, ReportOverviewBody(o))
}

@Sendable func submitReportAPI(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(ReportSubmission.self) else {
        throw ServiceError.invalid(field: "office", zh: "请提供 office 和 period（可选 note）", en: "give office and period (and optionally note)")
    }
    let s = req.application.platform.services
    let row = try await s.reports.submit(by: try actor(req), office: body.office, period: body.period, note: body.note ?? "",
                                         remote: req.clientAddress)
    let (_, frozen) = try await s.reports.version(by: try actor(req), office: row.office_id, period: row.period, version: row.version)
    return try jsonResponse(.created, ReportVersionBody(row, body: frozen))
}

@Sendable func reportVersionAPI(_ req: Request) async throws -> Response {
    guard let version = req.parameters.get("version").flatMap(Int.init) else { throw ServiceError.notFound }
    let (row, body) = try await req.application.platform.services.reports.version(by: try actor(req), office: req.parameters.get("office") ?? "",
                                                                                 period: req.parameters.get("period") ?? "", version: version)
    return try jsonResponse(.ok, ReportVersionBody(row, body: body))
}
