import Foundation
import HuiqiRules
import HuiqiStore

/// A realistic demo: an office hierarchy (国家税务总局 → 上海市 → 浦东新区, 黄浦区 → 税务所), taxpayers of every kind
/// with valid credit codes, two years of quarterly VAT returns computed by the engine, and one login per role.
public enum DemoData {
    public struct Login: Sendable { public let login: String, password: String, role: String, scope: String }

    /// Fills an empty database; returns the logins to print. Seeded: the same demo every time.
    public static func load(into store: Store, engine: Engine, taxpayers count: Int = 3000, now: Date) async throws -> [Login] {
        guard try await store.count("offices") == 0 else { return [] }
        let offices = [
            OfficeRow(id: "10000000000", parent_id: nil, name: "国家税务总局", level: "national", region_code: "100000"),
            OfficeRow(id: "13100000000", parent_id: "10000000000", name: "国家税务总局上海市税务局", level: "province", region_code: "310000"),
            OfficeRow(id: "13101150000", parent_id: "13100000000", name: "国家税务总局上海市浦东新区税务局", level: "district", region_code: "310115"),
            OfficeRow(id: "13101010000", parent_id: "13100000000", name: "国家税务总局上海市黄浦区税务局", level: "district", region_code: "310101"),
            OfficeRow(id: "13101150100", parent_id: "13101150000", name: "浦东新区税务局第一税务所", level: "branch", region_code: "310115"),
            OfficeRow(id: "13101010100", parent_id: "13101010000", name: "黄浦区税务局第一税务所", level: "branch", region_code: "310101"),
        ]
        try await store.insert(offices: offices)
        var rng = SplitMix64(seed: 2014)
        var rows: [TaxpayerRow] = []
        let names = ["商贸", "科技", "餐饮", "建筑", "咨询", "物流", "制造", "文化"]
        for i in 0..<count {
            let kindRoll = rng.below(100)
            let kind = kindRoll < 60 ? "enterprise" : (kindRoll < 65 ? "unit" : (kindRoll < 95 ? "individual_business" : "individual"))
            let pudong = i % 3 != 0
            let body = String(format: "9131%@MA%07d", pudong ? "0115" : "0101", i)
            let id = body + String(CreditCode.checkCharacter(for: body)!)
            rows.append(TaxpayerRow(id: id, name: "上海\(names[i % names.count])\(kind == "individual_business" ? "个体户" : "有限公司")\(i)",
                                    kind: kind, vat_status: rng.below(10) == 0 ? "general" : "small_scale",
                                    industry: rng.below(4) == 0 ? "industrial" : "other", restricted_industry: rng.below(50) == 0,
                                    region: pudong ? "310115" : "310101", office_id: pudong ? "13101150100" : "13101010100",
                                    registered_on: "20\(10 + i % 12)-0\(1 + i % 9)-01"))
        }
        try await store.insert(taxpayers: rows)
        let logins = [
            Login(login: "admin", password: "huiqi-admin", role: "administrator", scope: "all"),
            Login(login: "shanghai", password: "huiqi-supervisor", role: "supervisor", scope: "国家税务总局上海市税务局"),
            Login(login: "pudong", password: "huiqi-officer", role: "officer", scope: "浦东新区税务局"),
            Login(login: "huangpu", password: "huiqi-officer", role: "officer", scope: "黄浦区税务局"),
            Login(login: "company", password: "huiqi-taxpayer", role: "taxpayer", scope: "\(rows[1].id), \(rows[2].id)"),
        ]
        let officeOf = ["shanghai": "13100000000", "pudong": "13101150000", "huangpu": "13101010000"]
        try await store.insert(users: try logins.map {
            UserRow(id: "user-\($0.login)", login: $0.login, password_hash: try AuthService.hash(password: $0.password), role: $0.role, office_id: officeOf[$0.login])
        })
        try await store.bind(user: "user-company", taxpayers: [rows[1].id, rows[2].id])
        // Two years of quarterly VAT returns for the small-scale taxpayers, computed by the engine.
        var versions: [ReturnVersionRow] = []
        let filedAt = ISO8601DateFormatter().string(from: now)
        for t in rows where t.vat_status == "small_scale" {
            for year in [2024, 2025] {
                for q in 1...4 {
                    let amount = Money(fen: rng.below(40_000_000))
                    let period = TaxPeriod.quarter(year: year, quarter: q)
                    var c = Case(taxpayer: t.facts, vat: VATReturn(period: period, sales: [Sale(kind: t.kind == "individual" ? .services : .goods, amount: amount, rate: Rate(ppm: 30_000))]))
                    c.taxpayer = t.facts
                    guard let d = try? engine.determine(c), let v = d.vat else { continue }
                    let caseJSON = #"{"vat":{"period":"\#(period)","sales":[{"kind":"\#(c.vat!.sales[0].kind.name)","amount":"\#(amount)","rate":"0.03"}]}}"#
                    versions.append(ReturnVersionRow(taxpayer_id: t.id, return_id: "vat:\(period)", version: 1, section: "vat", period: period.description,
                                                     case_json: caseJSON, determination_json: d.json.serialized(indent: nil),
                                                     computed_tax_fen: v.tax.fen, relief_fen: v.relief.fen, declared_tax_fen: v.tax.fen,
                                                     idempotency_key: nil, filed_by: "user-admin", filed_at: filedAt))
                }
            }
        }
        try await store.insert(versions: versions)
        return logins
    }
}
