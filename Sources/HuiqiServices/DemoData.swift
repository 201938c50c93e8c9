import Foundation
import HuiqiRules
import HuiqiStore

/// A realistic demo: an office hierarchy (国家税务总局 → 上海市 → 浦东新区, 黄浦区 → 税务所, and 江苏省 → 苏州市 → 苏州工业园区 →
/// 税务所), taxpayers of every kind
/// with valid credit codes, their filing frequencies, two years of VAT, EIT and business-income returns computed by
/// the engine, and one login per role.
public enum DemoData {
    public struct Login: Sendable { public let login: String, password: String, role: String, scope: String }

    /// Fills an empty database; returns the logins to print. Seeded: the same demo every time.
    static func displayName(role: String, scope: String) -> String {
        switch role {
        case "officer": return "\(scope) 税务人员"
        case "supervisor": return "\(scope) 督导人员"
        case "administrator": return "系统管理员"
        default: return "办税人员"
        }
    }

    public static func load(into store: Store, engine: Engine, taxpayers count: Int = 3000, now: Date) async throws -> [Login] {
        guard try await store.count("offices") == 0 else { return [] }
        let offices = [
            OfficeRow(id: "10000000000", parent_id: nil, name: "国家税务总局", level: "national", region_code: "100000"),
            OfficeRow(id: "13100000000", parent_id: "10000000000", name: "国家税务总局上海市税务局", level: "province", region_code: "310000"),
            OfficeRow(id: "13101150000", parent_id: "13100000000", name: "国家税务总局上海市浦东新区税务局", level: "district", region_code: "310115"),
            OfficeRow(id: "13101010000", parent_id: "13100000000", name: "国家税务总局上海市黄浦区税务局", level: "district", region_code: "310101"),
            OfficeRow(id: "13101150100", parent_id: "13101150000", name: "浦东新区税务局第一税务所", level: "branch", region_code: "310115"),
            OfficeRow(id: "13101010100", parent_id: "13101010000", name: "黄浦区税务局第一税务所", level: "branch", region_code: "310101"),
            OfficeRow(id: "13200000000", parent_id: "10000000000", name: "国家税务总局江苏省税务局", level: "province", region_code: "320000"),
            OfficeRow(id: "13205000000", parent_id: "13200000000", name: "国家税务总局苏州市税务局", level: "city", region_code: "320500"),
            OfficeRow(id: "13205710000", parent_id: "13205000000", name: "国家税务总局苏州工业园区税务局", level: "district", region_code: "320571"),
            OfficeRow(id: "13205710100", parent_id: "13205710000", name: "苏州工业园区税务局第一税务所", level: "branch", region_code: "320571"),
        ]
        try await store.insert(offices: offices)
        var rng = SplitMix64(seed: 2014)
        var rows: [TaxpayerRow] = []
        let names = ["商贸", "科技", "餐饮", "建筑", "咨询", "物流", "制造", "文化"]
        for i in 0..<count {
            let kindRoll = rng.below(100)
            var kind = kindRoll < 60 ? "enterprise" : (kindRoll < 65 ? "unit" : (kindRoll < 95 ? "individual_business" : "individual"))
            // The demo taxpayer login holds one small company and one 个体工商户.
            if i == 1 { kind = "enterprise" } else if i == 2 { kind = "individual_business" }
            let general = rng.below(10) == 0 && i > 2
            // One taxpayer in five in 苏州工业园区; of the others, two thirds in 浦东新区 and one third in 黄浦区.
            let (region, office) = i % 5 == 4 ? ("320571", "13205710100") : i % 3 != 0 ? ("310115", "13101150100") : ("310101", "13101010100")
            let body = String(format: "91%@MA%07d", region, i)
            let id = body + String(CreditCode.checkCharacter(for: body)!)
            rows.append(TaxpayerRow(id: id, name: "\(region.hasPrefix("32") ? "苏州" : "上海")\(names[i % names.count])\(kind == "individual_business" ? "个体户" : "有限公司")\(i)",
                                    kind: kind, vat_status: general ? "general" : "small_scale",
                                    industry: rng.below(4) == 0 ? "industrial" : "other", restricted_industry: rng.below(50) == 0 && i > 2,
                                    region: region, office_id: office,
                                    registered_on: "20\(10 + i % 12)-0\(1 + i % 9)-01"))
        }
        try await store.insert(taxpayers: rows)
        let logins = [
            Login(login: "admin", password: "huiqi-admin", role: "administrator", scope: "all"),
            Login(login: "shanghai", password: "huiqi-supervisor", role: "supervisor", scope: "国家税务总局上海市税务局"),
            Login(login: "pudong", password: "huiqi-officer", role: "officer", scope: "浦东新区税务局"),
            Login(login: "huangpu", password: "huiqi-officer", role: "officer", scope: "黄浦区税务局"),
            Login(login: "suzhou", password: "huiqi-supervisor", role: "supervisor", scope: "苏州市税务局"),
            Login(login: "company", password: "huiqi-taxpayer", role: "taxpayer", scope: "\(rows[1].id), \(rows[2].id)"),
        ]
        let officeOf = ["shanghai": "13100000000", "pudong": "13101150000", "huangpu": "13101010000", "suzhou": "13205000000"]
        try await store.insert(users: try logins.map {
            UserRow(id: "user-\($0.login)", login: $0.login, password_hash: try AuthService.hash(password: $0.password), role: $0.role,
                    office_id: officeOf[$0.login], display_name: Self.displayName(role: $0.role, scope: $0.scope))
        })
        try await store.bind(user: "user-company", taxpayers: [rows[1].id, rows[2].id])
        // Filing frequency (纳税期限) per year: one small-scale taxpayer in seven files VAT monthly.
        let years = [2024, 2025, 2026]
        let smallScale = rows.filter { $0.vat_status == "small_scale" }
        let monthly = Set(smallScale.enumerated().filter { $0.offset % 7 == 6 }.map(\.element.id))
        try await store.insert(frequencies: smallScale.flatMap { t in years.map { (t.id, $0, monthly.contains(t.id) ? "monthly" : "quarterly") } })
        // Two years of returns, computed by the engine: VAT for small-scale taxpayers, EIT prepayments for
        // enterprises, and the annual business income of 个体工商户.
        var versions: [ReturnVersionRow] = []
        let filedAt = now.formatted(.iso8601)
        func add(_ t: TaxpayerRow, _ c: Case, _ caseJSON: String) {
            var c = c
            c.taxpayer = t.facts
            guard let d = try? engine.determine(c) else { return }
            let (tax, relief) = FilingService.amounts(d)
            let id = FilingService.identity(of: c)
            versions.append(ReturnVersionRow(taxpayer_id: t.id, return_id: id.returnID, version: 1, section: id.section, period: id.period,
                                             case_json: caseJSON, determination_json: d.json.serialized(indent: nil),
                                             computed_tax_fen: tax.fen, relief_fen: relief.fen, declared_tax_fen: tax.fen,
                                             idempotency_key: nil, filed_by: "user-admin", filed_at: filedAt))
        }
        for t in rows {
            for year in [2024, 2025] {
                if t.vat_status == "small_scale" {
                    let periods = monthly.contains(t.id) ? (1...12).map { TaxPeriod.month(year: year, month: $0) } : (1...4).map { TaxPeriod.quarter(year: year, quarter: $0) }
                    for period in periods {
                        let amount = Money(fen: rng.below(period.isQuarterly ? 40_000_000 : 13_000_000))
                        let kind: SaleKind = t.kind == "individual" ? .services : .goods
                        add(t, Case(taxpayer: t.facts, vat: VATReturn(period: period, sales: [Sale(kind: kind, amount: amount, rate: Rate(ppm: 30_000))])),
                            #"{"vat":{"period":"\#(period)","sales":[{"kind":"\#(kind.name)","amount":"\#(amount)","rate":"0.03"}]}}"#)
                    }
                }
                if t.kind == "enterprise" {
                    let staff = Int64(rng.below(120)), assets = Money(fen: rng.below(600_000_000_00))
                    var quarters: [EITQuarter] = [], ytd = Money.zero
                    for _ in 1...4 {
                        ytd = ytd + Money(fen: rng.below(120_000_00))
                        quarters.append(EITQuarter(employees: (staff, staff), assets: (assets, assets), taxableIncomeYTD: ytd))
                        let body = quarters.map { FilingService.quarterJSON(employees: ($0.employeesStart, $0.employeesEnd), assets: ($0.assetsStart, $0.assetsEnd), ytd: $0.taxableIncomeYTD) }
                        add(t, Case(taxpayer: t.facts, eit: EITReturn(year: year, quarters: quarters)),
                            JSON.object([("eit", .object([("year", .number("\(year)")), ("quarters", .array(body))]))]).serialized(indent: nil))
                    }
                }
                if t.kind == "individual_business" {
                    let income = Money(fen: rng.below(300_000_00))
                    add(t, Case(taxpayer: t.facts, businessIncome: BusinessIncomeReturn(year: year, taxableIncome: income, otherRelief: .zero)),
                        #"{"business_income":{"year":\#(year),"taxable_income":"\#(income)","other_relief":"0"}}"#)
                }
            }
        }
        try await store.insert(versions: versions)
        return logins
    }
}
