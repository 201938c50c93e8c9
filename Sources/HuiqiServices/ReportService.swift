import Foundation
import HuiqiCalendar
import HuiqiDates
import HuiqiStore
import Synchronization

/// The figures of one tax in an office's report: statistics of relief and filing progress.
public struct ReportSectionFigures: Codable, Sendable, Equatable {
    public var kind: String
    public var statistics: StatisticsRow
    public var monitoring: OfficeFigures
}

/// What an office reports for a period (逐级上报): its subtree's relief statistics and filing progress (VAT, and EIT
/// for a quarter), the notices issued for the period's VAT returns, and the credits offset (抵顶) and refunds
/// approved during the period. Frozen as JSON when submitted.
public struct OfficeReportBody: Codable, Sendable, Equatable {
    public var period: String, office_id: String, office_name: String
    /// When the figures were computed, and when the statistics snapshot they came from was (nil: live).
    public var computed_at: String, statistics_as_of: String?
    public var sections: [ReportSectionFigures]
    public var notices: [NoticeTally]
    public var offset_fen: Int64, refund_fen: Int64

    /// Reports of disjoint subtrees add up (children into their aggregate).
    static func sum(_ bodies: [OfficeReportBody], period: String, office: OfficeRow, at: String) -> OfficeReportBody {
        var out = OfficeReportBody(period: period, office_id: office.id, office_name: office.name, computed_at: at, statistics_as_of: nil,
                                   sections: [], notices: [], offset_fen: 0, refund_fen: 0)
        for b in bodies {
            for s in b.sections {
                if let i = out.sections.firstIndex(where: { $0.kind == s.kind }) {
                    out.sections[i].statistics = out.sections[i].statistics + s.statistics
                    out.sections[i].monitoring = out.sections[i].monitoring + s.monitoring
                } else {
                    out.sections.append(ReportSectionFigures(kind: s.kind, statistics: s.statistics, monitoring: s.monitoring))
                }
            }
            for n in b.notices {
                if let i = out.notices.firstIndex(where: { $0.kind == n.kind }) {
                    out.notices[i].count += n.count; out.notices[i].amount_fen += n.amount_fen
                } else { out.notices.append(n) }
            }
            out.offset_fen += b.offset_fen; out.refund_fen += b.refund_fen
        }
        return out
    }
}

/// A child office's report as its parent sees it.
public struct ChildReport: Sendable {
    public let office: OfficeRow
    public let latest: OfficeReportRow?
    public let body: OfficeReportBody?
    /// Not submitted and past the due date.
    public let overdue: Bool
}

/// An office's reporting for a period: its own figures now (the draft), its submitted versions, the due date, and
/// its child offices' latest submitted reports with their aggregate and the overdue ones.
public struct ReportOverview: Sendable {
    public let office: OfficeRow
    public let period: String
    public let due: String
    public let draft: OfficeReportBody
    public let versions: [OfficeReportRow]
    public let children: [ChildReport]
    public let childrenAggregate: OfficeReportBody
    /// Whether the actor may submit this office's report (its own office).
    public let maySubmit: Bool
}

/// Reports up the hierarchy (逐级上报): every office below the root reports each VAT period (month or quarter) to the
/// office above, by `report_due_working_days` working days after the period's filing deadline on the official
/// calendar (the evaluation data file). Submitting freezes the figures as a new version; nothing is overwritten.
public struct ReportService: Sendable {
    public let store: Store
    public let statistics: StatisticsService
    public let monitoring: MonitoringService
    public let deadlines: FilingDeadlines
    public let weights: EvaluationWeights?
    public let now: @Sendable () -> Date

    public init(store: Store, statistics: StatisticsService, monitoring: MonitoringService, deadlines: FilingDeadlines, weights: EvaluationWeights?,
                now: @escaping @Sendable () -> Date) {
        self.store = store; self.statistics = statistics; self.monitoring = monitoring; self.deadlines = deadlines; self.weights = weights; self.now = now
    }

    /// The due day of a period's reports.
    func due(_ e: ExpectedReturns) throws -> Day {
        guard let weights else { throw ServiceError.invalid(field: "weights", zh: "考核数据文件无法读取", en: "the evaluation data file cannot be read") }
        guard let deadline = Day(iso: e.deadline) else { throw ServiceError.invalid(field: "period", zh: "所属期无效", en: "invalid period") }
        do { return try deadlines.calendar.addingWorkingDays(weights.report_due_working_days, to: deadline) } catch {
            throw ServiceError.invalid(field: "period", zh: "官方节假日安排尚未公布，无法确定报送期限（\(error)）",
                                       en: "undetermined: the official holiday calendar needed for the due date is not published (\(error))")
        }
    }

    /// The figures of an office's subtree for a period, as they are now.
    func figures(by actor: Actor, office: OfficeRow, period: String) async throws -> OfficeReportBody {
        let vat = try FilingPeriod.resolve(kind: "vat", period: period, deadlines: deadlines)
        var kinds = ["vat"]
        if period.contains("-Q") { kinds.append("eit") }
        var sections: [ReportSectionFigures] = []
        var asOf: String?
        for kind in kinds {
            let s = try await statistics.report(by: actor, kind: kind, period: period, office: office.id, dimension: "office")
            let m = try await monitoring.report(by: actor, kind: kind, period: period, office: office.id)
            asOf = asOf ?? s.asOf
            sections.append(ReportSectionFigures(kind: kind, statistics: s.total, monitoring: m.totals))
        }
        let periods = try StatisticsService.periods(section: "vat", period: period)
        // The period's Beijing days as UTC instants: Beijing midnight is 16:00 UTC the day before.
        guard let first = Day(iso: vat.firstDay), let last = Day(iso: vat.lastDay) else { throw ServiceError.invalid(field: "period", zh: "所属期无效", en: "invalid period") }
        let from = "\(first.adding(days: -1))T16:00:00Z", to = "\(last)T16:00:00Z"
        return OfficeReportBody(period: period, office_id: office.id, office_name: office.name, computed_at: now().formatted(.iso8601),
                                statistics_as_of: asOf, sections: sections,
                                notices: try await store.noticeTallies(under: office.id, section: "vat", periods: periods),
                                offset_fen: -(try await store.ledgerSum(under: office.id, kind: "offset", from: from, to: to)),
                                refund_fen: -(try await store.ledgerSum(under: office.id, kind: "refund", from: from, to: to)))
    }

    public func overview(by actor: Actor, office asked: String?, period: String) async throws -> ReportOverview {
        let office = try await monitoring.office(asked, for: actor)
        let e = try FilingPeriod.resolve(kind: "vat", period: period, deadlines: deadlines)
        let dueDay = try due(e)
        let draft = try await figures(by: actor, office: office, period: period)
        let children = try await store.childOffices(of: office.id)
        let latest = Dictionary(uniqueKeysWithValues: try await store.latestReports(offices: children.map(\.id), period: period).map { ($0.office_id, $0) })
        let today = FilingService.chinaDay(now())
        let childReports = children.map { c -> ChildReport in
            let row = latest[c.id]
            let body = row.flatMap { try? JSONDecoder().decode(OfficeReportBody.self, from: Data($0.body_json.utf8)) }
            return ChildReport(office: c, latest: row, body: body, overdue: row == nil && today > dueDay)
        }
        let own = try await store.user(id: actor.userID)?.office_id
        return ReportOverview(office: office, period: period, due: dueDay.description, draft: draft,
                              versions: try await store.reports(office: office.id, period: period), children: childReports,
                              childrenAggregate: OfficeReportBody.sum(childReports.compactMap(\.body), period: period, office: office, at: draft.computed_at),
                              maySubmit: (actor.role == .officer || actor.role == .supervisor) && own == office.id && office.parent_id != nil)
    }

    /// Freezes the office's figures as its next report version. Only staff of that office submit it; the root
    /// office reports to no one.
    public func submit(by actor: Actor, office: String, period: String, note: String, remote: String?) async throws -> OfficeReportRow {
        guard actor.role == .officer || actor.role == .supervisor else {
            throw ServiceError.forbidden("reports are submitted by the office's own staff / 报表由本机关工作人员报送")
        }
        try TextInput.check(office, field: "office", maxLength: TextInput.maxIdentifier)
        let o = try await monitoring.office(office, for: actor)
        guard try await store.user(id: actor.userID)?.office_id == o.id, o.parent_id != nil else {
            throw ServiceError.forbidden("an office submits its own report to the office above / 仅可报送本机关的报表")
        }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.count <= 2000, !TextInput.hasControlCharacter(note.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")) else {
            throw ServiceError.invalid(field: "note", zh: "说明最多 2000 个字符，不得含控制字符", en: "the note is at most 2000 characters, without control characters")
        }
        _ = try FilingPeriod.resolve(kind: "vat", period: period, deadlines: deadlines)
        let body = try await figures(by: actor, office: o, period: period)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        var row = OfficeReportRow(office_id: o.id, period: period, version: 0, submitted_at: body.computed_at, submitted_by: actor.userID, note: note,
                                  body_json: String(decoding: try e.encode(body), as: UTF8.self))
        let audit = AuditRow(id: UUID().uuidString, at: body.computed_at, user_id: actor.userID, action: "submit_report", object: "\(o.id)/\(period)",
                             detail: "office report", remote: remote)
        let version = Mutex(0)
        try await store.writeAudited(audit) { [row] db in
            let n = try await Store(sql: db).appendReport(row)
            version.withLock { $0 = n }
        }
        row.version = version.withLock { $0 }
        return row
    }

    public func version(by actor: Actor, office: String, period: String, version: Int) async throws -> (OfficeReportRow, OfficeReportBody) {
        let o = try await monitoring.office(office, for: actor)
        guard let row = try await store.reports(office: o.id, period: period).first(where: { $0.version == version }),
              let body = try? JSONDecoder().decode(OfficeReportBody.self, from: Data(row.body_json.utf8)) else { throw ServiceError.notFound }
        return (row, body)
    }
}
