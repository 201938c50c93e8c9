import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// The statistics of relief in the JSON API (issue 10 §1).
func statisticsRoutes(_ api: any RoutesBuilder) {
    api.get("statistics", use: statisticsAPI)
}

public struct StatisticsLineBody: Content {
    public let key: String, name: String
    public let returns: Int64, beneficiaries: Int64, entitled: Int64, entitled_received: Int64
    /// 受惠面: entitled taxpayers that received relief ÷ entitled, in per mille (null when none is entitled).
    public let coverage_permille: Int64?
    public let relief: String, law_relief: String
    /// Relief received per beneficiary, rounded half up to the fen (null without beneficiaries).
    public let average_relief: String?
    /// The same figures one year earlier (null when that period is outside the rules).
    public let previous_year: PreviousBody?
    init(_ r: StatisticsRow, name: String, previous: StatisticsRow?) {
        key = r.key; self.name = name; returns = r.returns; beneficiaries = r.beneficiaries; entitled = r.entitled
        entitled_received = r.entitled_received; coverage_permille = StatisticsFigures.coveragePermille(r)
        relief = yuan(r.relief_fen); law_relief = yuan(r.law_relief_fen)
        average_relief = StatisticsFigures.averageFen(r).map(yuan)
        previous_year = previous.map { PreviousBody(beneficiaries: $0.beneficiaries, entitled: $0.entitled, relief: yuan($0.relief_fen)) }
    }
}
public struct PreviousBody: Content { public let beneficiaries: Int64, entitled: Int64, relief: String }

/// The statistics as the API and `huiqi stats --json` give them (names in Chinese).
public struct StatisticsBody: Content {
    public let kind: String, period: String, periods: [String], office_id: String, office_name: String, by: String
    public let total: StatisticsLineBody
    public let lines: [StatisticsLineBody]
    /// When the figures come from a snapshot, when it was computed; absent: computed for this answer.
    public let as_of: String?
    public init(_ r: StatisticsReport) {
        as_of = r.asOf
        let lang = Lang.zh
        kind = r.section; period = r.period; periods = r.periods; office_id = r.office.id; office_name = r.office.name; by = r.dimension.rawValue
        total = StatisticsLineBody(r.total, name: r.office.name, previous: r.previousTotal)
        lines = r.lines.map { StatisticsLineBody($0.row, name: StatisticsFigures.name($0.row.key, $0.name, r.dimension, lang), previous: r.previousLines[$0.row.key]) }
    }
}

/// The derived figures, in integers: shares and averages for people, defined once for the page, the CSV and the API.
enum StatisticsFigures {
    static func coveragePermille(_ r: StatisticsRow) -> Int64? {
        r.entitled > 0 ? (r.entitled_received * 2000 + r.entitled) / (2 * r.entitled) : nil
    }
    /// Relief per beneficiary in fen, half up.
    static func averageFen(_ r: StatisticsRow) -> Int64? {
        r.beneficiaries > 0 ? (r.relief_fen * 2 + r.beneficiaries) / (2 * r.beneficiaries) : nil
    }
    /// The change of relief on the same period of the previous year, in per mille, half away from zero.
    static func changePermille(_ now: Int64, _ before: Int64?) -> Int64? {
        guard let before, before > 0 else { return nil }
        let d = (now - before) * 2000
        return d >= 0 ? (d + before) / (2 * before) : -((-d + before) / (2 * before))
    }
    static func permille(_ p: Int64?) -> String {
        guard let p else { return "—" }
        return "\(p < 0 ? "-" : "")\(abs(p) / 10).\(abs(p) % 10)%"
    }
    /// A line's name for people: an office's name, a region's, an industry's or a kind's.
    static func name(_ key: String, _ given: String, _ d: StatisticsQuery.Dimension, _ lang: Lang) -> String {
        switch d {
        case .office: return given
        case .region: return RegionNames.name(key, lang)
        case .industry: return key == "industrial" ? lang.t("工业", "industrial") : lang.t("其他行业", "other industries")
        case .kind: return TaxpayerPages.kindName(key, lang)
        case .preference: return key.isEmpty ? lang.t("未引用规则", "no rule cited") : key
        case .size: return key == "unclassified" ? lang.t("未划型", "not classified") : RegistryPages.sizeName(key, lang)
        }
    }
}

@Sendable func statisticsAPI(_ req: Request) async throws -> Response {
    let s = req.application.platform.services
    let r = try await s.statistics.report(by: try actor(req), kind: try requiredQuery(req, "kind"), period: try requiredQuery(req, "period"),
                                          office: req.query[String.self, at: "office"], dimension: req.query[String.self, at: "by"] ?? "office")
    return try jsonResponse(.ok, StatisticsBody(r))
}
