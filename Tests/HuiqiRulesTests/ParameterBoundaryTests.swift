import Testing
@testable import HuiqiRules

/// Every change of every parameter, written down again from RULES §9 (independently of the YAML files) and
/// checked on its last old day and its first new day. A wrong date or value in a parameter file fails here;
/// a change added to the files without a row here fails `everyChangeIsListed`.
let parameterChanges: [(name: String, key: String?, lastOld: String, old: String, firstNew: String, new: String)] = [
    ("vat.supported_periods", nil, "2008-12-31", "none", "2009-01-01", "true"),
    ("vat.supported_periods", nil, "2027-12-31", "true", "2028-01-01", "none"),
    ("vat.levy_rates_allowed", nil, "2016-04-30", "[0.03]", "2016-05-01", "[0.03, 0.05]"),
    ("vat.threshold.kind", nil, "2013-07-31", "none", "2013-08-01", "exemption"),
    ("vat.threshold.kind", nil, "2025-12-31", "exemption", "2026-01-01", "qizhengdian"),
    ("vat.exemption.eligible_kinds", nil, "2014-09-30", "[enterprise, unit]", "2014-10-01", "[enterprise, unit, individual_business, individual]"),
    ("vat.exemption.limit.monthly", nil, "2014-09-30", "20000.00", "2014-10-01", "30000.00"),
    ("vat.exemption.limit.monthly", nil, "2018-12-31", "30000.00", "2019-01-01", "100000.00"),
    ("vat.exemption.limit.monthly", nil, "2021-03-31", "100000.00", "2021-04-01", "150000.00"),
    ("vat.exemption.limit.monthly", nil, "2022-12-31", "150000.00", "2023-01-01", "100000.00"),
    ("vat.exemption.limit.monthly", nil, "2025-12-31", "100000.00", "2026-01-01", "none"),
    ("vat.exemption.limit.quarterly", nil, "2013-07-31", "none", "2013-08-01", "60000.00"),
    ("vat.exemption.limit.quarterly", nil, "2014-09-30", "60000.00", "2014-10-01", "90000.00"),
    ("vat.exemption.limit.quarterly", nil, "2018-12-31", "90000.00", "2019-01-01", "300000.00"),
    ("vat.exemption.limit.quarterly", nil, "2021-03-31", "300000.00", "2021-04-01", "450000.00"),
    ("vat.exemption.limit.quarterly", nil, "2022-12-31", "450000.00", "2023-01-01", "300000.00"),
    ("vat.qizhengdian.monthly", nil, "2025-12-31", "none", "2026-01-01", "100000.00"),
    ("vat.qizhengdian.quarterly", nil, "2027-12-31", "300000.00", "2028-01-01", "none"),
    ("vat.threshold.comparison", nil, "2025-12-31", "le", "2026-01-01", "lt"),
    ("vat.threshold.scope", nil, "2016-04-30", "vat_items_combined", "2016-05-01", "two_groups"),
    ("vat.threshold.scope", nil, "2018-12-31", "two_groups", "2019-01-01", "all_combined"),
    ("vat.threshold.immovable_secondary_test", nil, "2018-12-31", "no", "2019-01-01", "yes"),
    ("vat.threshold.immovable_secondary_test", nil, "2025-12-31", "yes", "2026-01-01", "unknown"),
    ("vat.threshold.net_of_deduction", nil, "2016-04-30", "refuse", "2016-05-01", "gross_test"),
    ("vat.threshold.net_of_deduction", nil, "2018-12-31", "gross_test", "2019-01-01", "net"),
    ("vat.rate3.treatment", "hubei", "2020-02-29", "0.03", "2020-03-01", "exempt"),
    ("vat.rate3.treatment", "elsewhere", "2020-02-29", "0.03", "2020-03-01", "0.01"),
    ("vat.rate3.treatment", "hubei", "2021-03-31", "exempt", "2021-04-01", "0.01"),
    ("vat.rate3.treatment", "elsewhere", "2022-03-31", "0.01", "2022-04-01", "exempt"),
    ("vat.rate3.treatment", "elsewhere", "2022-12-31", "exempt", "2023-01-01", "0.01"),
    ("vat.rate3.special_invoice_rate", "hubei", "2020-02-29", "0.03", "2020-03-01", "0.03"),
    ("vat.rate3.special_invoice_rate", "elsewhere", "2020-02-29", "0.03", "2020-03-01", "0.01"),
    ("vat.rate3.special_invoice_rate", "elsewhere", "2022-03-31", "0.01", "2022-04-01", "0.03"),
    ("vat.rate3.special_invoice_rate", "hubei", "2021-03-31", "0.03", "2021-04-01", "0.01"),
    ("vat.rate3.special_invoice_rate", "elsewhere", "2022-12-31", "0.03", "2023-01-01", "0.01"),
    ("vat.rate3.excluded_kinds", nil, "2025-12-31", "[]", "2026-01-01", "[immovable]"),
    ("vat.region.hubei_prefix", nil, "2020-02-29", "none", "2020-03-01", "42"),
    ("vat.region.hubei_prefix", nil, "2021-03-31", "42", "2021-04-01", "none"),
    ("vat.exemption.quarterly_proration", nil, "2014-09-30", "refuse_partial", "2014-10-01", "prorate_unconfirmed"),
    ("vat.exemption.quarterly_proration", nil, "2016-04-30", "prorate_unconfirmed", "2016-05-01", "prorate"),
    ("vat.exemption.quarterly_proration", nil, "2018-12-31", "prorate", "2019-01-01", "full_limit"),
    ("vat.immovable.in_scope", nil, "2016-04-30", "false", "2016-05-01", "true"),
    ("vat.individual.uses_qizhengdian", nil, "2014-09-30", "true", "2014-10-01", "false"),
    ("vat.individual.qizhengdian.goods_monthly_range", nil, "2011-10-31", "2000–5000", "2011-11-01", "5000–20000"),
    ("vat.individual.qizhengdian.labour_monthly_range", nil, "2011-10-31", "1500–3000", "2011-11-01", "5000–20000"),
    ("eit.supported_years", nil, "2007-12-31", "none", "2008-01-01", "true"),
    ("eit.slpe.income_limit", nil, "2016-12-31", "300000.00", "2017-01-01", "500000.00"),
    ("eit.slpe.income_limit", nil, "2017-12-31", "500000.00", "2018-01-01", "1000000.00"),
    ("eit.slpe.income_limit", nil, "2018-12-31", "1000000.00", "2019-01-01", "3000000.00"),
    ("eit.slpe.employees_limit", "other", "2018-12-31", "80", "2019-01-01", "300"),
    ("eit.slpe.employees_limit", "industrial", "2018-12-31", "100", "2019-01-01", "300"),
    ("eit.slpe.assets_limit", "other", "2018-12-31", "10000000.00", "2019-01-01", "50000000.00"),
    ("eit.slpe.assets_limit", "industrial", "2018-12-31", "30000000.00", "2019-01-01", "50000000.00"),
    ("eit.slpe.schedule", nil, "2009-12-31", "flat", "2010-01-01", "whole_amount_cap"),
    ("eit.slpe.schedule", nil, "2018-12-31", "whole_amount_cap", "2019-01-01", "bands"),
    ("eit.slpe.schedule", nil, "2022-12-31", "bands", "2023-01-01", "flat_inclusion"),
    ("eit.slpe.halving_whole_amount_cap", nil, "2011-12-31", "30000.00", "2012-01-01", "60000.00"),
    ("eit.slpe.halving_whole_amount_cap", nil, "2013-12-31", "60000.00", "2014-01-01", "100000.00"),
    ("eit.slpe.halving_whole_amount_cap", nil, "2014-12-31", "100000.00", "2015-01-01", "200000.00"),
    ("eit.slpe.halving_whole_amount_cap", nil, "2015-09-30", "200000.00", "2015-10-01", "300000.00"),
    ("eit.slpe.halving_whole_amount_cap", nil, "2016-12-31", "300000.00", "2017-01-01", "500000.00"),
    ("eit.slpe.halving_whole_amount_cap", nil, "2017-12-31", "500000.00", "2018-01-01", "1000000.00"),
    ("eit.slpe.band1_inclusion", nil, "2020-12-31", "0.25", "2021-01-01", "0.125"),
    ("eit.slpe.band2_inclusion", nil, "2021-12-31", "0.5", "2022-01-01", "0.25"),
    ("eit.slpe.flat_inclusion", nil, "2027-12-31", "0.25", "2028-01-01", "none"),
    ("eit.averaging", nil, "2017-12-31", "quarterly_unconfirmed", "2018-01-01", "quarterly"),
    ("eit.prepayment_method", nil, "2018-12-31", "cumulative_unconfirmed", "2019-01-01", "cumulative"),
    ("eit.slpe.deemed_collection_allowed", nil, "2013-12-31", "false", "2014-01-01", "true"),
    ("pit.business.halving_share", nil, "2020-12-31", "0", "2021-01-01", "0.5"),
    ("pit.business.halving_cap", nil, "2022-12-31", "1000000.00", "2023-01-01", "2000000.00"),
    ("sltf.beneficiaries", nil, "2021-12-31", "[small_scale]", "2022-01-01", "[small_scale, small_low_profit, individual_business]"),
    ("sltf.ratio", "31", "2022-12-31", "none", "2023-01-01", "0.5"),
    ("sltf.ratio", "15", "2018-12-31", "none", "2019-01-01", "0.5"),
    ("sltf.ratio", "64", "2021-12-31", "none", "2022-01-01", "0.5"),
    ("surcharge.local_education_rate", nil, "2010-12-31", "none", "2011-01-01", "0.02"),
    ("fee.exemption.education.in_force", nil, "2014-12-31", "false", "2015-01-01", "true"),
    ("fee.exemption.education.limit.monthly", nil, "2016-01-31", "30000.00", "2016-02-01", "100000.00"),
    ("fee.exemption.education.limit.quarterly", nil, "2016-01-31", "90000.00", "2016-02-01", "300000.00"),
    ("bt.exemption.limit.monthly", nil, "2014-09-30", "20000.00", "2014-10-01", "30000.00"),
    ("bt.exemption.limit.quarterly", nil, "2016-04-30", "90000.00", "2016-05-01", "none"),
    ("bt.exemption.limit.quarterly", nil, "2014-09-30", "60000.00", "2014-10-01", "90000.00"),
    ("bt.exemption.eligible_kinds", nil, "2014-09-30", "[enterprise, unit]", "2014-10-01", "[enterprise, unit, individual_business, individual]"),
    ("bt.threshold.kind", nil, "2013-07-31", "none", "2013-08-01", "exemption"),
    ("bt.individual.uses_qizhengdian", nil, "2014-09-30", "true", "2014-10-01", "false"),
    ("bt.individual.qizhengdian.monthly_range", nil, "2011-10-31", "1000–5000", "2011-11-01", "5000–20000"),
    ("bt.supported_periods", nil, "2016-04-30", "true", "2016-05-01", "none"),
    ("sltf.supported_periods", nil, "2008-12-31", "none", "2009-01-01", "true"),
    ("sltf.supported_periods", nil, "2027-12-31", "true", "2028-01-01", "none"),
    ("vat.rate3.reduction_waivable", nil, "2022-12-31", "false", "2023-01-01", "true"),
    ("eit.slpe.branches_combined", nil, "2022-12-31", "false", "2023-01-01", "true"),
    ("fee.exemption.education.confirmed", nil, "2025-12-31", "true", "2026-01-01", "false"),
]

@Suite struct ParameterBoundaryTests {
    let parameters = try! ParameterSet.bundled()

    func value(_ name: String, _ day: String, _ key: String?) -> String {
        (try? parameters.version(name, on: Day(iso: day)!, key: key))?.value.description ?? "none"
    }

    @Test(arguments: parameterChanges.indices)
    func change(_ i: Int) {
        let c = parameterChanges[i]
        #expect(value(c.name, c.lastOld, c.key) == c.old, "\(c.name) on \(c.lastOld)")
        #expect(value(c.name, c.firstNew, c.key) == c.new, "\(c.name) on \(c.firstNew)")
    }

    /// Every day on which a value changes from one version to another (of the parameters the engine computes
    /// with) is listed above. The first version of a parameter is covered by the supported-period tests.
    @Test func everyChangeIsListed() {
        let listed = Set(parameterChanges.map { "\($0.name)@\($0.firstNew)" })
        var missing: [String] = []
        for def in parameters.definitions.values where !def.name.hasPrefix("vat.prepay") {
            for key in def.keys.isEmpty ? [nil] : def.keys.map({ Optional($0) }) {
                for v in def.versions where v.key == key || v.key == nil {
                    guard let before = Day(iso: v.from.adding(days: -1).description) else { continue }
                    let old = value(def.name, before.description, key), new = v.value.description
                    if old != "none" && old != new && !listed.contains("\(def.name)@\(v.from)") { missing.append("\(def.name)[\(key ?? "")]@\(v.from)") }
                }
            }
        }
        #expect(missing.isEmpty, "changes without a boundary row: \(Set(missing).sorted())")
    }
}
