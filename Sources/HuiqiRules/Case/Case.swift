import HuiqiDates
/// A case: one taxpayer's facts for one or more tax periods (CASES.md, a public interface).
/// A fact that is absent is `nil`: unknown, never zero or false.
public struct Case: Sendable {
    public var name: String?
    public var taxpayer: Taxpayer
    public var vat: VATReturn?
    public var eit: EITReturn?
    public var businessIncome: BusinessIncomeReturn?
    public var localTaxes: LocalTaxesReturn?
    public var businessTax: BusinessTaxReturn?
    public init(name: String? = nil, taxpayer: Taxpayer, vat: VATReturn? = nil, eit: EITReturn? = nil,
                businessIncome: BusinessIncomeReturn? = nil, localTaxes: LocalTaxesReturn? = nil, businessTax: BusinessTaxReturn? = nil) {
        self.name = name; self.taxpayer = taxpayer; self.vat = vat; self.eit = eit
        self.businessIncome = businessIncome; self.localTaxes = localTaxes; self.businessTax = businessTax
    }
}

/// 纳税人类型: enterprise (企业), unit (非企业性单位), individual_business (个体工商户), individual (其他个人).
public enum TaxpayerKind: String, Sendable, CaseIterable { case enterprise, unit, individualBusiness = "individual_business", individual }
/// 增值税纳税人身份: 小规模纳税人 or 一般纳税人.
public enum VATStatus: String, Sendable { case smallScale = "small_scale", general }
/// 工业企业 or 其他企业: matters for the 小型微利企业 limits before 2019.
public enum Industry: String, Sendable { case industrial, other }

public struct Taxpayer: Sendable {
    /// 统一社会信用代码 (GB 32100-2015), checked when present.
    public var id: String?
    public var kind: TaxpayerKind?
    public var vatStatus: VATStatus?
    public var industry: Industry?
    /// 国家限制和禁止行业
    public var restrictedIndustry: Bool?
    /// GB/T 2260 six-digit code.
    public var region: String?
    public init(id: String? = nil, kind: TaxpayerKind? = nil, vatStatus: VATStatus? = nil, industry: Industry? = nil,
                restrictedIndustry: Bool? = nil, region: String? = nil) {
        self.id = id; self.kind = kind; self.vatStatus = vatStatus; self.industry = industry
        self.restrictedIndustry = restrictedIndustry; self.region = region
    }
    /// The two-digit province code (省级行政区划代码).
    public var province: String? { region.map { String($0.prefix(2)) } }
}

/// Kinds of VAT sale: goods (货物), processing (加工修理修配劳务), services (服务), intangibles (无形资产), immovable (不动产).
public enum SaleKind: UInt8, Sendable, CaseIterable {
    case goods = 0, processing, services, intangibles, immovable
    public init?(name: String) {
        switch name {
        case "goods": self = .goods
        case "processing": self = .processing
        case "services": self = .services
        case "intangibles": self = .intangibles
        case "immovable": self = .immovable
        default: return nil
        }
    }
    public var name: String { ["goods", "processing", "services", "intangibles", "immovable"][Int(rawValue)] }
    public var zh: String { ["货物", "加工修理修配劳务", "服务", "无形资产", "不动产"][Int(rawValue)] }
}

/// One sales line of a VAT return: sales excluding VAT, the statutory levy rate (征收率) before relief,
/// an optional 差额 deduction, whether it was invoiced on a 增值税专用发票, and whether the taxpayer waived the 1%
/// reduction for that 专票 to invoice it at 3% (放弃减税, 国家税务总局公告2023年第1号; 2026年第4号 第四条).
public struct Sale: Sendable {
    public var kind: SaleKind
    public var amount: Money
    public var rate: Rate
    public var deduction: Money
    public var specialInvoice: Bool
    public var waiveReduction: Bool
    public init(kind: SaleKind, amount: Money, rate: Rate, deduction: Money = .zero, specialInvoice: Bool = false, waiveReduction: Bool = false) {
        self.kind = kind; self.amount = amount; self.rate = rate; self.deduction = deduction; self.specialInvoice = specialInvoice
        self.waiveReduction = waiveReduction
    }
    /// base = amount − deduction (差额).
    public var base: Money { amount - deduction }
}

public struct VATReturn: Sendable {
    public var period: TaxPeriod
    public var sales: [Sale]
    /// 实际经营月份 of a quarterly filer (1-3); nil = unknown.
    public var monthsOperated: Int?
    public init(period: TaxPeriod, sales: [Sale], monthsOperated: Int? = nil) {
        self.period = period; self.sales = sales; self.monthsOperated = monthsOperated
    }
}

/// One quarter of EIT prepayment figures: head count and total assets at the quarter's start and end
/// (从业人数, 资产总额) and cumulative taxable income of the year to the quarter's end.
public struct EITQuarter: Sendable {
    public var employeesStart: Int64, employeesEnd: Int64
    public var assetsStart: Money, assetsEnd: Money
    public var taxableIncomeYTD: Money
    public init(employees: (Int64, Int64), assets: (Money, Money), taxableIncomeYTD: Money) {
        employeesStart = employees.0; employeesEnd = employees.1
        assetsStart = assets.0; assetsEnd = assets.1; self.taxableIncomeYTD = taxableIncomeYTD
    }
}

public struct EITReturn: Sendable {
    public var year: Int
    /// The quarter in which the enterprise began operating (1-4).
    public var startQuarter: Int
    public var quarters: [EITQuarter]
    /// 汇算清缴: annual taxable income, when the case includes the settlement.
    public var annualTaxableIncome: Money?
    public init(year: Int, startQuarter: Int = 1, quarters: [EITQuarter], annualTaxableIncome: Money? = nil) {
        self.year = year; self.startQuarter = startQuarter; self.quarters = quarters; self.annualTaxableIncome = annualTaxableIncome
    }
}

/// 个体工商户 经营所得 for a year.
public struct BusinessIncomeReturn: Sendable {
    public var year: Int
    public var taxableIncome: Money
    /// Relief already given under other policies; required by the formula (RULES §5.2).
    public var otherRelief: Money?
    public init(year: Int, taxableIncome: Money, otherRelief: Money?) {
        self.year = year; self.taxableIncome = taxableIncome; self.otherRelief = otherRelief
    }
}
