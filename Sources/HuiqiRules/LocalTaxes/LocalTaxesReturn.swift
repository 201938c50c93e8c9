import HuiqiDates
/// 城市维护建设税 location tier (城市维护建设税法 第四条): 市区 7%, 县城、镇 5%, elsewhere 1%.
public enum CityTier: String, Sendable { case cityDistrict = "city_district", countyTown = "county_town", other }

/// The 六税两费 taxes that the taxpayer computes on their own returns and enters here with the amount due
/// (城建税 and the two education surcharges are computed from the VAT paid instead).
public enum LocalTax: String, Sendable, CaseIterable {
    case resourceTax = "resource_tax", propertyTax = "property_tax", urbanLandUseTax = "urban_land_use_tax"
    case stampDuty = "stamp_duty", farmlandOccupationTax = "farmland_occupation_tax"
    public var zh: String {
        switch self {
        case .resourceTax: return "资源税"
        case .propertyTax: return "房产税"
        case .urbanLandUseTax: return "城镇土地使用税"
        case .stampDuty: return "印花税"
        case .farmlandOccupationTax: return "耕地占用税"
        }
    }
}

public struct LocalTaxLine: Sendable {
    public var tax: LocalTax
    public var due: Money
    public var otherRelief: Money
    public init(tax: LocalTax, due: Money, otherRelief: Money = .zero) { self.tax = tax; self.due = due; self.otherRelief = otherRelief }
}

/// The `local_taxes` section (an extension of CASES.md, documented in docs/case-format.md): the period's
/// surcharges on VAT and the other 六税两费, for the 财税〔2016〕12号 exemption and the 六税两费 reduction.
public struct LocalTaxesReturn: Sendable {
    public var period: TaxPeriod
    /// 小型微利企业 status for 六税两费 purposes (an input fact with its own basis, RULES §4; U16).
    public var smallLowProfit: Bool?
    public var cityTier: CityTier?
    /// VAT actually paid in the period (the surcharge base); nil = take it from the case's `vat` section.
    public var vatPaid: Money?
    /// The period's total sales for the 财税〔2016〕12号 test; nil = take it from the case's `vat` section.
    public var sales: Money?
    public var taxes: [LocalTaxLine]
    public init(period: TaxPeriod, smallLowProfit: Bool? = nil, cityTier: CityTier? = nil, vatPaid: Money? = nil,
                sales: Money? = nil, taxes: [LocalTaxLine] = []) {
        self.period = period; self.smallLowProfit = smallLowProfit; self.cityTier = cityTier
        self.vatPaid = vatPaid; self.sales = sales; self.taxes = taxes
    }
}
