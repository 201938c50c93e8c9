import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// Statistics of relief for an office subtree (统计核算): by child office, region, industry or taxpayer kind, with
/// the same period of the previous year beside each line.
public struct StatisticsReport: Sendable {
    public let section: String, period: String
    /// The periods whose returns count (a quarter's VAT: the quarter and its three months).
    public let periods: [String]
    public let office: OfficeRow
    public let dimension: StatisticsQuery.Dimension
    /// One line per group, with its name for people (an office's name; codes otherwise, named by the pages).
    public let lines: [(row: StatisticsRow, name: String)]
    public let total: StatisticsRow
    /// The same figures for the same period one year earlier (nil when that period is outside the rules).
    public let previousTotal: StatisticsRow?
    public let previousLines: [String: StatisticsRow]
    /// When the figures come from a snapshot, when it was computed (nil: computed for this answer).
    public let asOf: String?
}

public struct StatisticsService: Sendable {
    public let store: Store
    public let monitoring: MonitoringService
    public let now: @Sendable () -> Date
    /// Serve the figures from a snapshot refreshed when older than this many seconds (0: computed from the returns
    /// on every request). A province of a million taxpayers needs it: the live aggregate takes seconds there.
    public let snapshotSeconds: Int
    let refreshing = RefreshFlags()

    public init(store: Store, monitoring: MonitoringService, now: @escaping @Sendable () -> Date = { Date() }, snapshotSeconds: Int = 0) {
        self.store = store; self.monitoring = monitoring; self.now = now; self.snapshotSeconds = snapshotSeconds
    }

    /// The periods whose returns make the statistics of `period` for `section`: VAT by month, quarter (with its
    /// months) or year (every quarter and month); EIT by quarter (its year-to-date relief: prepayment returns carry
    /// it cumulatively, so quarters are never added up); business income by year.
    public static func periods(section: String, period: String) throws -> [String] {
        let bad = ServiceError.invalid(field: "period", zh: "所属期格式不正确：增值税为 2026-Q3、2026-09 或 2026，企业所得税为 2026-Q3，经营所得为 2025",
                                       en: "period: VAT 2026-Q3, 2026-09 or 2026; EIT 2026-Q3; business income 2025")
        try TextInput.check(period, field: "period", maxLength: 10)
        switch section {
        case "vat":
            if let y = Int(period), period.count == 4, (2009...2027).contains(y) {
                return (1...4).map { "\(y)-Q\($0)" } + (1...12).map { String(format: "%04d-%02d", y, $0) }
            }
            guard let p = TaxPeriod(period), (2009...2027).contains(p.year) else { throw bad }
            if p.isQuarterly {
                let q = (p.firstDay.month - 1) / 3 + 1
                return [period] + (0..<3).map { String(format: "%04d-%02d", p.year, (q - 1) * 3 + 1 + $0) }
            }
            return [period]
        case "eit":
            guard let p = TaxPeriod(period), p.isQuarterly, (2008...2027).contains(p.year) else { throw bad }
            return [period]
        case "business_income":
            guard let y = Int(period), period.count == 4, (2019...2027).contains(y) else { throw bad }
            return [period]
        default:
            throw ServiceError.invalid(field: "kind", zh: "税种应为 vat、eit 或 business_income", en: "kind must be vat, eit or business_income")
        }
    }

    /// The same period one year earlier (`2026-Q3` → `2025-Q3`), nil before the rules begin.
    static func previousYear(_ period: String) -> String? {
        guard let y = Int(period.prefix(4)), y > 2009 else { return nil }
        return "\(y - 1)" + period.dropFirst(4)
    }

    public func report(by actor: Actor, kind: String, period: String, office asked: String?, dimension: String) async throws -> StatisticsReport {
        guard actor.role != .taxpayer else { throw ServiceError.forbidden("statistics are for tax offices / 统计仅供税务机关使用") }
        guard let dim = StatisticsQuery.Dimension(rawValue: dimension) else {
            throw ServiceError.invalid(field: "by", zh: "分组应为 office、region、industry、kind、preference 或 size",
                                       en: "by must be office, region, industry, kind, preference or size")
        }
        let periods = try Self.periods(section: kind, period: period)
        let office = try await monitoring.office(asked, for: actor)
        let q = StatisticsQuery(section: kind, periods: periods, root: office.id, dimension: dim)
        var asOf: String?
        /// The lines of one statistics period, live or from its snapshot.
        func lines(_ q: StatisticsQuery, period: String) async throws -> [StatisticsRow] {
            // The snapshot holds office × region × industry × kind; the preference and the size are read live.
            guard snapshotSeconds > 0, dim != .preference, dim != .size else { return try await store.statistics(q) }
            let at = try await snapshot(section: q.section, period: period, periods: q.periods)
            asOf = min(asOf ?? at, at)
            return try await store.snapshotStatistics(q, period: period)
        }
        let current = try await lines(q, period: period)
        var previous: [StatisticsRow]?
        if let last = Self.previousYear(period), let p = try? Self.periods(section: kind, period: last) {
            previous = try await lines(StatisticsQuery(section: kind, periods: p, root: office.id, dimension: dim), period: last)
        }
        var names: [String: String] = [:]
        if dim == .office { names = try await store.officeNames(Set(current.map(\.key))) }
        return StatisticsReport(section: kind, period: period, periods: periods, office: office, dimension: dim,
                                lines: current.map { ($0, names[$0.key] ?? $0.key) },
                                total: current.reduce(StatisticsRow(key: office.id), +),
                                previousTotal: previous.map { $0.reduce(StatisticsRow(key: office.id), +) },
                                previousLines: Dictionary((previous ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }), asOf: asOf)
    }

    /// The snapshot's time, computing it first when there is none, and in the background when it is stale (the
    /// stale one is served meanwhile; one refresh per period at a time in this process), as monitoring does.
    func snapshot(section: String, period: String, periods: [String]) async throws -> String {
        let nowText = now().formatted(.iso8601)
        guard let at = try await store.statisticsSnapshotTime(section: section, period: period) else {
            try await store.refreshStatisticsSnapshot(section: section, period: period, periods: periods, at: nowText)
            return nowText
        }
        let key = "\(section):\(period)"
        if let taken = try? Date(at, strategy: .iso8601), now().timeIntervalSince(taken) > Double(snapshotSeconds), await refreshing.claim(key) {
            let store = self.store, flags = refreshing, clock = now
            Task.detached {
                try? await store.refreshStatisticsSnapshot(section: section, period: period, periods: periods, at: clock().formatted(.iso8601))
                await flags.release(key)
            }
        }
        return at
    }
}
