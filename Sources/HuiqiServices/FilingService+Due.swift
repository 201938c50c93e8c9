import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// A return the registry expects from a taxpayer that is not filed yet: the last ended period of each return the
/// taxpayer files, with its deadline.
public struct DueReturn: Sendable, Equatable {
    public let kind: String, period: String, deadline: String
    public let overdue: Bool
}

extension FilingService {
    /// The returns due from a taxpayer today (China time): for VAT the last ended month or quarter of its registered
    /// frequency, for EIT (enterprises) the last ended quarter, for 经营所得 (个体工商户) the last year; each only
    /// while it is not filed. A deadline the calendar cannot give yet leaves the return out.
    public func dueReturns(by actor: Actor, taxpayerID: String) async throws -> [DueReturn] {
        let t = try await access.readableTaxpayer(taxpayerID, by: actor)
        let today = Self.chinaDay(now())
        let filed = Set(try await store.currentReturns(taxpayer: t.id).map(\.return_id))
        let registered = Day(iso: t.registered_on), gone = t.deregistered_on.flatMap(Day.init(iso:))
        var out: [DueReturn] = []
        func consider(_ kind: String, _ period: String) {
            guard !filed.contains("\(kind):\(period)"),
                  let e = try? FilingPeriod.resolve(kind: kind, period: period, deadlines: deadlines),
                  let last = Day(iso: e.lastDay), let first = Day(iso: e.firstDay), let deadline = Day(iso: e.deadline) else { return }
            if let registered, last < registered { return }
            if let gone, first > gone { return }
            out.append(DueReturn(kind: kind, period: period, deadline: e.deadline, overdue: deadline < today))
        }
        let previousMonth = today.month == 1 ? (today.year - 1, 12) : (today.year, today.month - 1)
        let quarterIndex = (today.month - 1) / 3
        let previousQuarter = quarterIndex == 0 ? (today.year - 1, 4) : (today.year, quarterIndex)
        // The frequency registered for the year of each candidate period decides which one is due.
        if try await store.vatFrequency(taxpayer: t.id, year: previousMonth.0) == "monthly" {
            consider("vat", String(format: "%04d-%02d", previousMonth.0, previousMonth.1))
        } else if try await store.vatFrequency(taxpayer: t.id, year: previousQuarter.0) == "quarterly" {
            consider("vat", "\(previousQuarter.0)-Q\(previousQuarter.1)")
        }
        if t.kind == "enterprise" { consider("eit", "\(previousQuarter.0)-Q\(previousQuarter.1)") }
        if t.kind == "individual_business" { consider("business_income", "\(today.year - 1)") }
        return out
    }
}

/// A period a taxpayer can file on the web form (the form offers these, newest first, instead of a typed field).
public struct FileablePeriod: Sendable, Equatable {
    /// `2026-Q3`, `2026-09` or `2025`, as the case and the API write it.
    public let period: String
    public let deadline: String?
    /// The return id when this period is already filed (its correction is a separate path).
    public let filedReturn: String?
}

/// One return of a taxpayer's 待办 (to-do) list: due, overdue or filed, for the current and previous periods.
public struct ReturnStatus: Sendable, Equatable {
    public enum State: String, Sendable { case due, overdue, filed }
    public let kind: String, period: String, deadline: String?
    public let state: State
    /// The current version's figures when filed.
    public let version: Int?, tax: Int64?, relief: Int64?, declared: Int64?
}

/// What a taxpayer's home page shows: the returns of the current and previous periods, and the relief of the year.
public struct TaxpayerOverview: Sendable {
    public let returns: [ReturnStatus]
    /// Relief of the current versions whose period falls in this year (China time), by tax, in fen.
    public let reliefThisYear: [String: Int64]
    public let year: Int
}

extension FilingService {
    /// How many years back the form offers periods (this year and the three before: the 3-year window of
    /// 征管法 第五十一条 for overpaid tax); an older return can still be corrected from its own page.
    public static let fileableYears = 4

    /// The periods of `kind` (`vat`, `eit`, `business_income`) that `taxpayerID` can file today: ended, within its
    /// registration, and (VAT) of the frequency registered for the year. Newest first.
    public func fileablePeriods(by actor: Actor, taxpayerID: String, kind: String) async throws -> [FileablePeriod] {
        let t = try await access.readableTaxpayer(taxpayerID, by: actor)
        return try await fileablePeriods(t, kind: kind, filed: Set(try await store.currentReturns(taxpayer: t.id).map(\.return_id)))
    }

    /// The same, for a taxpayer already read and its filed return ids (the overview reads them once for three kinds).
    func fileablePeriods(_ t: TaxpayerRow, kind: String, filed: Set<String>) async throws -> [FileablePeriod] {
        let today = Self.chinaDay(now())
        let registered = Day(iso: t.registered_on), gone = t.deregistered_on.flatMap(Day.init(iso:))
        var out: [FileablePeriod] = []
        for year in stride(from: today.year, to: today.year - Self.fileableYears, by: -1) {
            var candidates: [(String, Day, Day)] = []   // period, first day, last day
            switch kind {
            case "vat":
                guard let frequency = try await store.vatFrequency(taxpayer: t.id, year: year) else { continue }
                candidates = frequency == "monthly"
                    ? (1...12).reversed().map { m in (String(format: "%04d-%02d", year, m), Day(year: year, month: m, day: 1)!, Day.lastOf(year: year, month: m)) }
                    : (1...4).reversed().map { q in ("\(year)-Q\(q)", Day(year: year, month: q * 3 - 2, day: 1)!, Day.lastOf(year: year, month: q * 3)) }
            case "eit":
                guard t.kind == "enterprise" else { return [] }
                candidates = (1...4).reversed().map { q in ("\(year)-Q\(q)", Day(year: year, month: q * 3 - 2, day: 1)!, Day.lastOf(year: year, month: q * 3)) }
            case "business_income":
                guard t.kind == "individual_business", year >= 2019 else { continue }
                candidates = [("\(year)", Day(year: year, month: 1, day: 1)!, Day.lastOf(year: year, month: 12))]
            default:
                throw ServiceError.invalid(field: "kind", zh: "申报种类应为 vat、eit 或 business_income", en: "kind must be vat, eit or business_income")
            }
            for (period, first, last) in candidates where last < today {
                if let registered, last < registered { continue }
                if let gone, first > gone { continue }
                let e = try? FilingPeriod.resolve(kind: kind, period: period, deadlines: deadlines)
                let id = "\(kind):\(period)"
                out.append(FileablePeriod(period: period, deadline: e?.deadline, filedReturn: filed.contains(id) ? id : nil))
            }
        }
        return out
    }

    /// The taxpayer's returns of the current and previous periods (the last two ended periods of each return it
    /// files), filed or not with their deadlines, and its relief of this year by tax.
    public func overview(by actor: Actor, taxpayerID: String) async throws -> TaxpayerOverview {
        let t = try await access.readableTaxpayer(taxpayerID, by: actor)
        let today = Self.chinaDay(now())
        let current = try await store.currentReturns(taxpayer: t.id)
        var relief: [String: Int64] = [:]
        // VAT and business income: the sum of the returns; EIT prepayments carry the relief of the year to date, so
        // the latest quarter's figure is the year's.
        for r in current.sorted(by: { $0.period < $1.period }) where r.period.hasPrefix("\(today.year)") {
            if r.section == "eit" { relief[r.section] = r.relief_fen } else { relief[r.section, default: 0] += r.relief_fen }
        }
        let byID = Dictionary(current.map { ($0.return_id, $0) }, uniquingKeysWith: { a, _ in a })
        var statuses: [ReturnStatus] = []
        for kind in FilingPeriod.kinds {
            for p in try await fileablePeriods(t, kind: kind, filed: Set(byID.keys)).prefix(2) {
                let id = "\(kind):\(p.period)"
                if let r = byID[id] {
                    statuses.append(ReturnStatus(kind: kind, period: p.period, deadline: p.deadline, state: .filed, version: r.version,
                                                 tax: r.computed_tax_fen, relief: r.relief_fen, declared: r.declared_tax_fen))
                } else {
                    let late = p.deadline.flatMap(Day.init(iso:)).map { $0 < today } ?? false
                    statuses.append(ReturnStatus(kind: kind, period: p.period, deadline: p.deadline, state: late ? .overdue : .due,
                                                 version: nil, tax: nil, relief: nil, declared: nil))
                }
            }
        }
        return TaxpayerOverview(returns: statuses, reliefThisYear: relief, year: today.year)
    }
}
