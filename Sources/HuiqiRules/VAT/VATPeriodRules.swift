import HuiqiDates
import Synchronization

/// What a VAT determination needs of its period alone (the levy rates in force, the rule set, whether a consulted
/// parameter changes inside the quarter), for taxpayers who are or are not individuals. It depends on nothing of
/// the return, so an engine works it out once per period and keeps it: a screening determines some 160,000 notices
/// of one quarter, and a server thousands of filings of the same few periods. Working it out was most of the cost
/// of a determination without trace (the straddle check alone about 5 % of a screening's CPU, docs/performance.md).
struct VATPeriodRules: Sendable {
    let levyRates: Set<Rate>
    /// The rule set, or the refusal its resolution gave (thrown in its place in the order of checks).
    let rules: Result<VATRuleSet, Refusal>
    /// The refusal of a quarter inside which a consulted parameter changes (RULES §0.2), if it does.
    let straddle: Refusal?

    init(_ period: TaxPeriod, parameters: ParameterSet, individual: Bool) {
        levyRates = VATRuleSet.levyRates(in: period, parameters: parameters)
        rules = Result { () throws(Refusal) -> VATRuleSet in try VATRuleSet.rules(period, parameters: parameters, individual: individual) }
        straddle = VATRuleSet.straddle(period, parameters: parameters, individual: individual)
    }
}

/// An engine's `VATPeriodRules`, by period and by whether the taxpayer is an individual. Only periods the rules
/// cover are kept (2009-01 to 2027-12, monthly and quarterly: at most a few hundred entries), so no input can make
/// it grow without bound. Shared by the copies of one engine; its parameters never change.
final class VATPeriodCache: Sendable {
    private struct Key: Hashable { let period: TaxPeriod, individual: Bool }
    private let entries = Mutex<[Key: VATPeriodRules]>([:])

    init() {}

    /// The period's rules for a period already checked as covered (`VATRuleSet.checkCovered`).
    func rules(_ period: TaxPeriod, individual: Bool, parameters: ParameterSet) -> VATPeriodRules {
        let key = Key(period: period, individual: individual)
        if let known = entries.withLock({ $0[key] }) { return known }
        let made = VATPeriodRules(period, parameters: parameters, individual: individual)
        entries.withLock { $0[key] = made }
        return made
    }
}
