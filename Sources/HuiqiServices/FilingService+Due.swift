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
