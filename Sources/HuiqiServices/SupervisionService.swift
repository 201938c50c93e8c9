import Foundation
import HuiqiDates
import HuiqiStore

/// The weights of the performance score and the supervision threshold: data (Evaluation/weights.json), not code.
public struct EvaluationWeights: Codable, Sendable, Equatable {
    public let version: String
    public let description: String
    /// Offices whose coverage (受惠面) is below this, in per mille, are flagged for supervision (督导).
    public let coverage_threshold_permille: Int64
    /// Weight of each input: `coverage`, `timely_filing`, `relief_claimed`.
    public let weights: [String: Int64]
    /// Each office's report of a period (逐级上报) is due this many working days after the period's filing deadline.
    public let report_due_working_days: Int
    /// Notices of a period's screening (relief not claimed, overpayments) count as timely when issued within this
    /// many working days after the period's filing deadline.
    public let notice_due_working_days: Int

    public static let inputs = ["coverage", "timely_filing", "relief_claimed", "notices_on_time"]

    /// The bundled file, checked: every input weighted, weights not negative, some weight.
    public static func bundled() throws -> EvaluationWeights {
        guard let url = Bundle.module.url(forResource: "Evaluation/weights", withExtension: "json")
            ?? Bundle.module.url(forResource: "weights", withExtension: "json", subdirectory: "Evaluation") else {
            throw ServiceError.invalid(field: "weights", zh: "缺少考核权重文件", en: "the evaluation weights file is missing")
        }
        let w = try JSONDecoder().decode(EvaluationWeights.self, from: Data(contentsOf: url))
        guard Set(w.weights.keys) == Set(inputs), w.weights.values.allSatisfy({ $0 >= 0 }), w.weights.values.reduce(0, +) > 0,
              (0...1000).contains(w.coverage_threshold_permille), (1...60).contains(w.report_due_working_days),
              (1...60).contains(w.notice_due_working_days) else {
            throw ServiceError.invalid(field: "weights", zh: "考核权重文件无效", en: "the evaluation weights must name \(inputs), be non-negative and not all zero; reports due 1 to 60 working days after the deadline")
        }
        return w
    }
}

/// One office in the supervision ranking: the inputs (each in per mille, with the counts they come from), the
/// score, and whether its coverage is under the threshold.
public struct OfficeEvaluation: Sendable {
    public let office: OfficeRow
    public let statistics: StatisticsRow
    public let figures: OfficeFigures
    /// 受惠面: entitled taxpayers that received relief ÷ entitled (nil: none entitled).
    public let coverage: Int64?
    /// Returns filed by the deadline ÷ returns expected (nil: none expected).
    public let timelyFiling: Int64?
    /// 1 − returns whose relief was not claimed ÷ returns filed (nil: none filed).
    public let reliefClaimed: Int64?
    /// Notices of the period issued by the notice due date ÷ notices issued (nil: none issued), with the counts.
    public let noticesOnTime: Int64?
    public let notices: Int64, noticesTimely: Int64
    /// Σ weight × input ÷ Σ weight over the inputs there are, half up (nil: no input).
    public let score: Int64?
    public let flagged: Bool
    public let rank: Int
}

public struct SupervisionReport: Sendable {
    public let section: String, period: String
    public let office: OfficeRow
    public let weights: EvaluationWeights
    /// The child offices, best score first.
    public let offices: [OfficeEvaluation]
}

/// Supervision and performance evaluation (督导、绩效考核): the child offices of an office ranked by a score of
/// coverage, timely filing and relief claimed, with the offices under the coverage threshold flagged.
public struct SupervisionService: Sendable {
    public let statistics: StatisticsService
    public let monitoring: MonitoringService
    /// Nil when the weights file could not be read: every report is then refused.
    public let weights: EvaluationWeights?

    public init(statistics: StatisticsService, monitoring: MonitoringService, weights: EvaluationWeights?) {
        self.statistics = statistics; self.monitoring = monitoring; self.weights = weights
    }

    public static func share(_ part: Int64, _ whole: Int64) -> Int64? { whole > 0 ? (part * 2000 + whole) / (2 * whole) : nil }

    /// The score of the inputs there are: Σ weight × input ÷ Σ weight, half up.
    public static func score(_ inputs: [String: Int64?], weights: [String: Int64]) -> Int64? {
        var sum: Int64 = 0, total: Int64 = 0
        for (name, value) in inputs { if let value, let w = weights[name] { sum += w * value; total += w } }
        return total > 0 ? (sum * 2 + total) / (2 * total) : nil
    }

    public func report(by actor: Actor, kind: String, period: String, office: String?) async throws -> SupervisionReport {
        guard let weights else {
            throw ServiceError.unprocessable(field: "weights", zh: "考核权重文件无法读取，不能计算考核分", en: "the evaluation weights file cannot be read; no score is given")
        }
        let m = try await monitoring.report(by: actor, kind: kind, period: period, office: office)
        let s = try await statistics.report(by: actor, kind: kind, period: period, office: m.office.id, dimension: "office")
        let rows = Dictionary(s.lines.map { ($0.row.key, $0.row) }, uniquingKeysWith: { a, _ in a })
        // Notices are timely until the end (Beijing) of the notice due day: the deadline plus working days.
        guard let deadline = Day(iso: m.expected.deadline),
              let noticeDue = try? monitoring.deadlines.calendar.addingWorkingDays(weights.notice_due_working_days, to: deadline) else {
            throw ServiceError.invalid(field: "period", zh: "官方节假日安排尚未公布，无法确定通知期限", en: "undetermined: the official holiday calendar needed for the notice due date is not published")
        }
        let noticeCounts = try await monitoring.store.noticesByChild(of: m.office.id, section: kind, periods: s.periods, timelyBefore: "\(noticeDue)T16:00:00Z")
        var evaluated: [(OfficeRow, StatisticsRow, OfficeFigures, Int64?, Int64?, Int64?, Int64?, (Int64, Int64))] = []
        for (o, f) in m.children {
            let st = rows[o.id] ?? StatisticsRow(key: o.id)
            let coverage = Self.share(st.entitled_received, st.entitled)
            let timely = Self.share(f.filed - f.late, f.expected)
            let claimed = Self.share(f.filed - f.not_claimed, f.filed)
            let n = noticeCounts[o.id] ?? (0, 0)
            let score = Self.score(["coverage": coverage, "timely_filing": timely, "relief_claimed": claimed, "notices_on_time": Self.share(n.1, n.0)],
                                   weights: weights.weights)
            evaluated.append((o, st, f, coverage, timely, claimed, score, n))
        }
        // Best score first; offices without a score last; ties by office id, so the order is stable.
        evaluated.sort { a, b in
            switch (a.6, b.6) {
            case let (x?, y?) where x != y: return x > y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.0.id < b.0.id
            }
        }
        let offices = evaluated.enumerated().map { i, e in
            OfficeEvaluation(office: e.0, statistics: e.1, figures: e.2, coverage: e.3, timelyFiling: e.4, reliefClaimed: e.5,
                             noticesOnTime: Self.share(e.7.1, e.7.0), notices: e.7.0, noticesTimely: e.7.1, score: e.6,
                             flagged: (e.3 ?? 1000) < weights.coverage_threshold_permille, rank: i + 1)
        }
        return SupervisionReport(section: kind, period: period, office: m.office, weights: weights, offices: offices)
    }
}
