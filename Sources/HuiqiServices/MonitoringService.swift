import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// A return kind and period an office watches (VAT 2026-Q3, EIT 2026-Q3, 经营所得 2025), resolved against the
/// registry's rules of who files it and the official deadline.
public enum FilingPeriod {
    /// The three returns filed on the platform, as the API and the command line name them.
    public static let kinds = ["vat", "eit", "business_income"]

    /// Resolves `kind` and `period` (VAT: `2026-Q3` for quarterly filers or `2026-09` for monthly ones; EIT:
    /// `2026-Q3`; business income: `2025`). A deadline the calendar cannot give yet is an error naming the year.
    public static func resolve(kind: String, period: String, deadlines: FilingDeadlines) throws -> ExpectedReturns {
        try TextInput.check(kind, field: "kind", maxLength: 20)
        try TextInput.check(period, field: "period", maxLength: 10)
        func bad() -> ServiceError {
            .invalid(field: "period", zh: "所属期格式不正确：增值税为 2026-Q3 或 2026-09，企业所得税为 2026-Q3，经营所得为 2025",
                     en: "period: VAT 2026-Q3 or 2026-09, EIT 2026-Q3, business income 2025")
        }
        let first: Day, last: Day, year: Int, deadline: Day
        var frequency: String?
        let kinds: [String]
        do {
            switch kind {
            case "vat", "eit":
                guard let p = TaxPeriod(period), p.year >= 2009, p.year <= 2027 else { throw bad() }
                if kind == "eit", !p.isQuarterly { throw bad() }
                first = p.firstDay; last = p.lastDay; year = p.year
                let next = last.month == 12 ? (last.year + 1, 1) : (last.year, last.month + 1)
                deadline = try deadlines.deadline(year: next.0, month: next.1).date
                if kind == "vat" { frequency = p.isQuarterly ? "quarterly" : "monthly" }
                // VAT: whoever the registry gives a filing frequency; EIT prepayments: enterprises (RULES §3.1);
                kinds = kind == "vat" ? ["enterprise", "unit", "individual_business", "individual"] : ["enterprise"]
            case "business_income":
                guard period.count == 4, let y = Int(period), y >= 2009, y <= 2027 else { throw bad() }
                first = Day(year: y, month: 1, day: 1)!; last = Day(year: y, month: 12, day: 31)!; year = y
                deadline = try deadlines.businessIncomeSettlement(year: y)
                kinds = ["individual_business"]
            default:
                throw ServiceError.invalid(field: "kind", zh: "申报种类应为 vat、eit 或 business_income", en: "kind must be vat, eit or business_income")
            }
        } catch let e as CalendarError {
            throw ServiceError.invalid(field: "period", zh: "申报期限尚不能确定（\(e)）", en: "the deadline cannot be given yet (\(e))")
        }
        let returnID = "\(kind):\(period)"
        // The deadline's day ends at 24:00 Beijing time (UTC+8): a first filing at or after 16:00 UTC is late.
        return ExpectedReturns(section: kind, period: period, returnID: returnID, firstDay: first.description, lastDay: last.description,
                               kinds: kinds, frequency: frequency, year: year, deadline: deadline.description,
                               lateAfter: "\(deadline.description)T16:00:00Z")
    }
}

/// What an office sees of a filing period: totals for its subtree, one line per child office (drill-down),
/// first filings per day against the deadline, and at the last level the taxpayers themselves.
public struct MonitoringReport: Sendable {
    public let expected: ExpectedReturns
    public let office: OfficeRow
    /// The offices from the top of the actor's reach down to `office` (the drill-down path).
    public let path: [OfficeRow]
    public let totals: OfficeFigures
    public let children: [(office: OfficeRow, figures: OfficeFigures)]
    /// First filings per Beijing day, with the running total.
    public let days: [(day: String, count: Int64, cumulative: Int64)]
    /// The taxpayers registered directly at `office` (a 税务所), with their return.
    public let taxpayers: [ExpectedReturnRow]
    /// When the figures were computed, when they come from a snapshot (nil: just now, from the returns).
    public let asOf: String?
}

/// Monitoring during the filing period (监控申报进度和准确性), for officers, supervisors and administrators.
public struct MonitoringService: Sendable {
    public let store: Store
    public let deadlines: FilingDeadlines
    public let now: @Sendable () -> Date
    /// Serve the figures from a snapshot refreshed when older than this many seconds (0: compute them from the
    /// returns on every request). A province of a million taxpayers needs the snapshot: the live aggregate takes
    /// seconds there (docs/performance.md).
    public let snapshotSeconds: Int
    let refreshing = RefreshFlags()

    public init(store: Store, deadlines: FilingDeadlines, now: @escaping @Sendable () -> Date = { Date() }, snapshotSeconds: Int = 0) {
        self.store = store; self.deadlines = deadlines; self.now = now; self.snapshotSeconds = snapshotSeconds
    }

    /// The office an actor looks at: the one asked for if within reach, else the actor's own (administrators:
    /// the root of the tree). Taxpayer users have no office view.
    public func office(_ asked: String?, for actor: Actor) async throws -> OfficeRow {
        try await Self.office(asked, for: actor, store: store)
    }

    static func office(_ asked: String?, for actor: Actor, store: Store) async throws -> OfficeRow {
        guard actor.role != .taxpayer else { throw ServiceError.forbidden("monitoring is for tax offices / 监控仅供税务机关使用") }
        if let asked, !asked.isEmpty {
            try TextInput.check(asked, field: "office", maxLength: TextInput.maxIdentifier)
            guard actor.role == .administrator || actor.offices.contains(asked), let o = try await store.office(asked) else { throw ServiceError.notFound }
            return o
        }
        if actor.role == .administrator {
            guard let root = try await store.rootOffice() else { throw ServiceError.notFound }
            return root
        }
        guard let mine = try await store.user(id: actor.userID)?.office_id, let o = try await store.office(mine) else { throw ServiceError.notFound }
        return o
    }

    public func report(by actor: Actor, kind: String, period: String, office asked: String?, onlyNotFiled: Bool = false) async throws -> MonitoringReport {
        let e = try FilingPeriod.resolve(kind: kind, period: period, deadlines: deadlines)
        let office = try await office(asked, for: actor)
        let top = try await self.office(nil, for: actor)
        var asOf: String?
        if snapshotSeconds > 0 { asOf = try await snapshot(e) }
        async let figures = asOf == nil ? store.figuresByChild(of: office.id, e) : store.snapshotFiguresByChild(of: office.id, e)
        async let days = asOf == nil ? store.firstFilingsByDay(under: office.id, e) : store.snapshotFilingsByDay(under: office.id, e)
        async let children = store.childOffices(of: office.id)
        async let taxpayers = store.expectedReturns(at: office.id, e, onlyNotFiled: onlyNotFiled, limit: 500)
        let byOffice = Dictionary(uniqueKeysWithValues: try await figures.map { ($0.office_id, $0) })
        let totals = byOffice.values.reduce(OfficeFigures.zero(office.id), +)
        var running: Int64 = 0
        let perDay = try await days.map { d -> (String, Int64, Int64) in running += d.count; return (d.day, d.count, running) }
        var path: [OfficeRow] = [office]
        while let last = path.first, last.id != top.id, let parent = last.parent_id, let p = try await store.office(parent) { path.insert(p, at: 0) }
        return MonitoringReport(expected: e, office: office, path: path, totals: totals,
                                children: try await children.map { ($0, byOffice[$0.id] ?? .zero($0.id)) },
                                days: perDay, taxpayers: try await taxpayers, asOf: asOf)
    }

    /// The snapshot's time, refreshing it first when there is none, and in the background when it is stale (the
    /// stale one is served meanwhile; one refresh per return at a time in this process).
    func snapshot(_ e: ExpectedReturns) async throws -> String {
        let nowText = now().formatted(.iso8601)
        guard let at = try await store.snapshotTime(e.returnID) else {
            try await store.refreshSnapshot(e, at: nowText)
            return nowText
        }
        if let taken = try? Date(at, strategy: .iso8601), now().timeIntervalSince(taken) > Double(snapshotSeconds), await refreshing.claim(e.returnID) {
            let store = self.store, flags = refreshing, clock = now
            Task.detached {
                try? await store.refreshSnapshot(e, at: clock().formatted(.iso8601))
                await flags.release(e.returnID)
            }
        }
        return at
    }
}

/// The returns whose snapshot is being refreshed by this process.
actor RefreshFlags {
    private var busy: Set<String> = []
    func claim(_ key: String) -> Bool { busy.insert(key).inserted }
    func release(_ key: String) { busy.remove(key) }
}
