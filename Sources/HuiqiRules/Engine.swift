@_exported import HuiqiDates

/// The rules engine: the bundled parameters and the register of unconfirmed items, and one entry point
/// that turns a case into a determination or a refusal. Pure: no clock, no I/O after loading.
public struct Engine: Sendable {
    public let parameters: ParameterSet
    public let register: UnconfirmedRegister
    /// What VAT needs of each period, worked out once per period for this engine's parameters.
    let vatPeriods = VATPeriodCache()

    public init(parameters: ParameterSet, register: UnconfirmedRegister) {
        self.parameters = parameters; self.register = register
    }

    /// Loads and validates the bundled parameter files; throws if any is malformed, overlapping or incomplete.
    public static func bundled() throws -> Engine {
        Engine(parameters: try ParameterSet.bundled(), register: try UnconfirmedRegister.bundled())
    }

    /// Determines every section of the case. The first refusal in the order of CASES.md "Errors" ends it: the
    /// lowest step over all sections, and among equal steps the first of `vat`, `business_tax`, `eit`,
    /// `business_income`, `local_taxes`. No partial result (CASES.md).
    public func determine(_ c: Case) throws(Refusal) -> Determination {
        var d = Determination()
        var found = Refusals()
        if let vat = c.vat { d.vat = found.record { () throws(Refusal) in try determineVAT(vat, taxpayer: c.taxpayer) } }
        if let bt = c.businessTax { d.businessTax = found.record { () throws(Refusal) in try determineBusinessTax(bt, taxpayer: c.taxpayer) } }
        if let eit = c.eit { d.eit = found.record { () throws(Refusal) in try determineEIT(eit, taxpayer: c.taxpayer) } }
        if let bi = c.businessIncome {
            d.businessIncome = found.record { () throws(Refusal) in try determineBusinessIncome(bi, taxpayer: c.taxpayer) }
        }
        if let lt = c.localTaxes {
            // Surcharges built on a VAT section of the same period that was refused wait for that refusal, which
            // explains the missing VAT figure better than "give vat_paid".
            let vatRefused = c.vat?.period == lt.period && d.vat == nil
            do { d.localTaxes = try determineLocalTaxes(lt, taxpayer: c.taxpayer, vat: d.vat) } catch {
                if !(vatRefused && ["local_taxes.vat_paid", "local_taxes.sales"].contains(error.path)) { found.add(error) }
            }
        }
        try found.check()
        return d
    }

    /// Parses and determines a case given as JSON text.
    public func determine(json text: String) throws(Refusal) -> Determination {
        try determine(try CaseDecoder.decode(text: text))
    }

    func explanation() -> Explanation { Explanation(register: register) }
}

/// The engine's answer for one case: one entry per section present in the case.
public struct Determination: Sendable {
    public var vat: VATDetermination?
    public var eit: EITDetermination?
    public var businessIncome: BusinessIncomeDetermination?
    public var localTaxes: LocalTaxesDetermination?
    public var businessTax: BusinessTaxDetermination?

    public var json: JSON {
        var kv: [(String, JSON)] = []
        if let vat { kv.append(("vat", vat.json)) }
        if let eit { kv.append(("eit", eit.json)) }
        if let businessIncome { kv.append(("business_income", businessIncome.json)) }
        if let localTaxes { kv.append(("local_taxes", localTaxes.json)) }
        if let businessTax { kv.append(("business_tax", businessTax.json)) }
        return .object(kv)
    }

    /// Every section's explanation, labelled, for `--explain`.
    public var explanations: [(String, Explanation)] {
        var out: [(String, Explanation)] = []
        if let vat { out.append(("增值税 VAT \(vat.period)", vat.explanation)) }
        if let eit { out.append(("企业所得税 EIT \(eit.year)", eit.explanation)) }
        if let businessIncome { out.append(("经营所得 business income \(businessIncome.year)", businessIncome.explanation)) }
        if let localTaxes { out.append(("六税两费 local taxes \(localTaxes.period)", localTaxes.explanation)) }
        if let businessTax { out.append(("营业税 business tax \(businessTax.period)", businessTax.explanation)) }
        return out
    }
}

extension Money { var json: JSON { .string(description) } }
