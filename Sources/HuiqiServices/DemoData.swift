import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// A realistic demo: an office hierarchy (国家税务总局 → 上海市 → 浦东新区, 黄浦区 → 税务所, and 江苏省 → 苏州市 → 苏州工业园区 →
/// 税务所), taxpayers of every kind
/// with valid credit codes, their filing frequencies, two years of VAT, EIT and business-income returns computed by
/// the engine, and one login per role.
public enum DemoData {
    /// The last quarter whose filing deadline has passed by `today` (the demo's closed filing period).
    static func closedQuarter(today: Day, deadlines: FilingDeadlines) -> (year: Int, quarter: Int, deadline: Day)? {
        var year = today.year, quarter = (today.month - 1) / 3  // the quarter before the current one
        for _ in 0..<3 {
            if quarter == 0 { year -= 1; quarter = 4 }
            let end = TaxPeriod.quarter(year: year, quarter: quarter).lastDay
            let month = end.month == 12 ? (end.year + 1, 1) : (end.year, end.month + 1)
            if let d = try? deadlines.deadline(year: month.0, month: month.1).date, d < today { return (year, quarter, d) }
            quarter -= 1
        }
        return nil
    }

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

    /// `closedPeriod`: also file this year's quarters up to the last closed one, with late filers, missed and
    /// undue relief, and screen it (tests that file this year's returns themselves leave it out).
    public static func load(into services: Services, taxpayers count: Int = 3000, closedPeriod: Bool = true) async throws -> [Login] {
        let store = services.store, engine = services.engine, now = services.now()
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
        // The Shanghai supervisor reviews knowledge-base answers (知识库审核); officers write the drafts.
        try await store.grant(KnowledgeService.approvePermission, to: "user-shanghai", by: "demo", at: now.formatted(.iso8601))
        // Filing frequency (纳税期限) per year: one small-scale taxpayer in seven files VAT monthly.
        let years = [2024, 2025, 2026]
        let smallScale = rows.filter { $0.vat_status == "small_scale" }
        // The demo's 个体工商户 files monthly and has not filed this year's months: its first log-in shows a return due
        // and one overdue.
        let monthly = Set(smallScale.enumerated().filter { $0.offset % 7 == 6 }.map(\.element.id)).union([rows[2].id])
        try await store.insert(frequencies: smallScale.flatMap { t in years.map { (t.id, $0, monthly.contains(t.id) ? "monthly" : "quarterly") } })
        // Two years of returns, computed by the engine: VAT for small-scale taxpayers, EIT prepayments for
        // enterprises, and the annual business income of 个体工商户. Then this year's quarters up to the last one whose
        // deadline has passed (the closed filing period): before it everyone filed on time as computed; in it some
        // filed late, some not at all, some declared more than the law asks (relief missed) or less (relief not due).
        var versions: [ReturnVersionRow] = []
        let today = FilingService.chinaDay(now)
        let closed = closedPeriod ? closedQuarter(today: today, deadlines: services.deadlines) : nil
        let filedAt = now.formatted(.iso8601)
        enum Outcome { case onTime, late, missing, overpaid, underpaid }
        func outcome(_ i: Int) -> Outcome {
            if i == 1 { return .overpaid }  // the demo company: a notice, a credit, and a ledger to show
            switch rng.below(100) { case 0..<8: return .missing; case 8..<18: return .late; case 18..<26: return .overpaid; case 26..<30: return .underpaid; default: return .onTime }
        }
        func add(_ t: TaxpayerRow, _ c: Case, _ caseJSON: String, outcome: Outcome = .onTime, deadline: Day? = nil) {
            var c = c
            c.taxpayer = t.facts
            guard let d = try? engine.determine(c) else { return }
            let (tax, relief) = FilingService.amounts(d)
            let id = FilingService.identity(of: c)
            var declared = tax.fen, at = filedAt
            if let deadline {
                // Filed on a day between the period's end and the deadline (late: a few days after it), 10:00 Beijing.
                let end = id.lastDay
                let span = max(1, deadline.ordinal - end.ordinal)
                let day = outcome == .late ? deadline.adding(days: 1 + Int(rng.below(6))) : end.adding(days: 1 + Int(rng.below(UInt64(span))))
                at = "\(day)T02:00:00Z"
                if outcome == .overpaid { declared = tax.fen + min(relief.fen, 500_00 + Int64(rng.below(4_000_00))) }
                if outcome == .underpaid { declared = max(0, tax.fen - 300_00 - Int64(rng.below(2_000_00))) }
                if outcome == .overpaid && relief.fen == 0 || outcome == .underpaid && tax.fen == 0 { declared = tax.fen }
            }
            versions.append(ReturnVersionRow(taxpayer_id: t.id, return_id: id.returnID, version: 1, section: id.section, period: id.period,
                                             case_json: caseJSON, determination_json: d.json.serialized(indent: nil),
                                             computed_tax_fen: tax.fen, relief_fen: relief.fen, declared_tax_fen: declared,
                                             idempotency_key: nil, filed_by: "user-admin", filed_at: at))
            versions[versions.count - 1].screening = ScreeningColumns.encode(c)
        }
        var filingYears: [(Int, ClosedRange<Int>)] = [(2024, 1...4), (2025, 1...4)]
        if let closed, closed.year > 2025 { filingYears.append((closed.year, 1...closed.quarter)) }
        for (index, t) in rows.enumerated() {
            for (year, quarterRange) in filingYears {
                let isClosedYear = year == closed?.year && year > 2025
                let last = quarterRange.upperBound
                let fate: Outcome = isClosedYear ? outcome(index) : .onTime
                let closedDeadline = isClosedYear ? closed?.deadline : nil
                if t.vat_status == "small_scale" && !(isClosedYear && monthly.contains(t.id)) {
                    let periods = monthly.contains(t.id) ? (1...12).map { TaxPeriod.month(year: year, month: $0) } : quarterRange.map { TaxPeriod.quarter(year: year, quarter: $0) }
                    for period in periods {
                        let amount = Money(fen: rng.below(period.isQuarterly ? 40_000_000 : 13_000_000))
                        let kind: SaleKind = t.kind == "individual" ? .services : .goods
                        let inClosed = isClosedYear && period == .quarter(year: year, quarter: last)
                        if inClosed && fate == .missing { continue }
                        add(t, Case(taxpayer: t.facts, vat: VATReturn(period: period, sales: [Sale(kind: kind, amount: amount, rate: Rate(ppm: 30_000))])),
                            #"{"vat":{"period":"\#(period)","sales":[{"kind":"\#(kind.name)","amount":"\#(amount)","rate":"0.03"}]}}"#,
                            outcome: inClosed ? fate : .onTime, deadline: inClosed ? closedDeadline : nil)
                    }
                }
                if t.kind == "enterprise" {
                    // Most enterprises are 小型微利企业 (assets under 5000万, staff under 300): the demo shows EIT relief.
                    var staff = Int64(rng.below(120)), assets = Money(fen: rng.below(10) < 8 ? rng.below(45_000_000_00) : rng.below(600_000_000_00))
                    if index == 1 { staff = 25; assets = Money(fen: 3_000_000_00) }
                    var quarters: [EITQuarter] = [], ytd = Money.zero
                    for q in quarterRange {
                        ytd = ytd + Money(fen: rng.below(120_000_00))
                        quarters.append(EITQuarter(employees: (staff, staff), assets: (assets, assets), taxableIncomeYTD: ytd))
                        let inClosed = isClosedYear && q == last
                        if inClosed && fate == .missing { continue }
                        let body = quarters.map { FilingService.quarterJSON(employees: ($0.employeesStart, $0.employeesEnd), assets: ($0.assetsStart, $0.assetsEnd), ytd: $0.taxableIncomeYTD) }
                        add(t, Case(taxpayer: t.facts, eit: EITReturn(year: year, quarters: quarters)),
                            JSON.object([("eit", .object([("year", .number("\(year)")), ("quarters", .array(body))]))]).serialized(indent: nil),
                            outcome: inClosed ? (fate == .overpaid || fate == .underpaid ? .onTime : fate) : .onTime, deadline: inClosed ? closedDeadline : nil)
                    }
                }
                if t.kind == "individual_business" && !isClosedYear {
                    let income = Money(fen: rng.below(300_000_00))
                    add(t, Case(taxpayer: t.facts, businessIncome: BusinessIncomeReturn(year: year, taxableIncome: income, otherRelief: .zero)),
                        #"{"business_income":{"year":\#(year),"taxable_income":"\#(income)","other_relief":"0"}}"#)
                }
            }
        }
        try await store.insert(versions: versions)
        // The closed period screened, so that findings, notices and the ledger show real figures at once.
        if let closed, closed.year > 2025, let root = try await store.rootOffice() {
            let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])
            let job = try await services.screening.start(by: admin, kind: "vat", period: "\(closed.year)-Q\(closed.quarter)", office: root.id,
                                                         monitoring: services.monitoring)
            _ = try await services.screening.run(job)
            _ = try await services.reminders.generate(kind: "vat", period: "\(closed.year)-Q\(closed.quarter)", workingDays: 3)
        }
        return logins
    }
}
