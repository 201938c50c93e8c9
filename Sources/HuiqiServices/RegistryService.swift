import Foundation
import HuiqiRules
import HuiqiStore

/// The taxpayer registry (税务登记) as the platform keeps it: officers register taxpayers in their offices and
/// record each year's VAT filing frequency (纳税期限). Every change is audited; a bad field is named.
public struct RegistryService: Sendable {
    public let store: Store
    public let access: Access
    public let now: @Sendable () -> Date

    public init(store: Store, access: Access, now: @escaping @Sendable () -> Date) {
        self.store = store; self.access = access; self.now = now
    }

    /// Registers a taxpayer in an office within the officer's reach (administrators: any office).
    public func register(by actor: Actor, _ t: TaxpayerRow, remote: String?) async throws -> TaxpayerRow {
        try mayChangeRegistry(actor)
        for (field, value, max) in [("id", t.id, TextInput.maxIdentifier), ("name", t.name, TextInput.maxName), ("kind", t.kind, TextInput.maxIdentifier),
                                    ("vat_status", t.vat_status, TextInput.maxIdentifier), ("industry", t.industry, TextInput.maxIdentifier),
                                    ("region", t.region, TextInput.maxIdentifier), ("office_id", t.office_id, TextInput.maxIdentifier),
                                    ("registered_on", t.registered_on, TextInput.maxIdentifier),
                                    ("deregistered_on", t.deregistered_on ?? "", TextInput.maxIdentifier)] {
            try TextInput.check(value, field: field, maxLength: max)
        }
        guard CreditCode.isValid(t.id) else {
            throw ServiceError.invalid(field: "id", zh: "统一社会信用代码无效（18位，校验码按 GB 32100-2015 计算）",
                                       en: "the unified social credit code is invalid (18 characters with the GB 32100-2015 check character)")
        }
        guard !t.name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ServiceError.invalid(field: "name", zh: "请填写纳税人名称", en: "give the taxpayer's name")
        }
        guard TaxpayerKind(rawValue: t.kind) != nil else {
            throw ServiceError.invalid(field: "kind", zh: "纳税人类型应为 enterprise、unit、individual_business 或 individual",
                                       en: "kind must be enterprise, unit, individual_business or individual")
        }
        guard VATStatus(rawValue: t.vat_status) != nil else {
            throw ServiceError.invalid(field: "vat_status", zh: "增值税身份应为 small_scale 或 general", en: "vat_status must be small_scale or general")
        }
        guard Industry(rawValue: t.industry) != nil else {
            throw ServiceError.invalid(field: "industry", zh: "行业应为 industrial 或 other", en: "industry must be industrial or other")
        }
        guard t.region.count == 6, t.region.allSatisfy(\.isASCII), t.region.allSatisfy(\.isNumber) else {
            throw ServiceError.invalid(field: "region", zh: "行政区划代码应为6位数字（GB/T 2260）", en: "region must be a six-digit GB/T 2260 code")
        }
        guard let registered = Day(iso: t.registered_on) else {
            throw ServiceError.invalid(field: "registered_on", zh: "登记日期应为 YYYY-MM-DD", en: "registered_on must be a date YYYY-MM-DD")
        }
        if let gone = t.deregistered_on {
            guard let day = Day(iso: gone), day >= registered else {
                throw ServiceError.invalid(field: "deregistered_on", zh: "注销日期应为不早于登记日期的 YYYY-MM-DD", en: "deregistered_on must be a date YYYY-MM-DD not before registered_on")
            }
        }
        guard try await store.office(t.office_id) != nil, actor.role == .administrator || actor.offices.contains(t.office_id) else {
            throw ServiceError.invalid(field: "office_id", zh: "主管税务机关不存在或不在您的管辖范围内", en: "the tax office does not exist or is not within your reach")
        }
        if try await store.taxpayer(t.id) != nil {
            throw ServiceError.conflict(field: "id", zh: "该统一社会信用代码已登记", en: "a taxpayer with this credit code is already registered")
        }
        // A concurrent registration of the same code passes the check above; the primary key decides (409).
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID, action: "register_taxpayer",
                             object: t.id, detail: "\(t.name), \(t.kind), office \(t.office_id)", remote: remote)
        do { try await store.writeAudited(audit) { db in try await Store(sql: db).insert(taxpayers: [t]) } } catch StoreError.constraint {
            throw ServiceError.conflict(field: "id", zh: "该统一社会信用代码已登记", en: "a taxpayer with this credit code is already registered")
        }
        return t
    }

    /// Records the VAT filing frequency of one year. It is fixed for the year: a second answer is a conflict.
    public func setVATFrequency(by actor: Actor, taxpayerID: String, year: Int, frequency: String, remote: String?) async throws {
        let t = try await access.readableTaxpayer(taxpayerID, by: actor)
        try mayChangeRegistry(actor)
        guard t.vat_status == "small_scale" else {
            throw ServiceError.invalid(field: "frequency", zh: "只有小规模纳税人可以选择按季申报", en: "only small-scale taxpayers choose a filing frequency here")
        }
        guard (2009...2027).contains(year) else {
            throw ServiceError.invalid(field: "year", zh: "年度应在 2009 至 2027 之间", en: "year must lie between 2009 and 2027")
        }
        guard frequency == "monthly" || frequency == "quarterly" else {
            throw ServiceError.invalid(field: "frequency", zh: "纳税期限应为 monthly 或 quarterly", en: "frequency must be monthly or quarterly")
        }
        if let existing = try await store.vatFrequency(taxpayer: taxpayerID, year: year) {
            throw ServiceError.conflict(field: "year", zh: "\(year) 年度的纳税期限已登记为 \(existing)，一经确定年度内不得变更",
                                        en: "\(year) is already registered as \(existing); the frequency is fixed for the year")
        }
        // A concurrent answer for the same year passes the check above; the primary key decides (409).
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID, action: "set_vat_frequency",
                             object: "\(taxpayerID)/\(year)", detail: frequency, remote: remote)
        do { try await store.writeAudited(audit) { db in try await Store(sql: db).insert(frequencies: [(taxpayerID, year, frequency)]) } }
        catch StoreError.constraint {
            throw ServiceError.conflict(field: "year", zh: "\(year) 年度的纳税期限已登记，一经确定年度内不得变更",
                                        en: "the frequency of \(year) is already registered; it is fixed for the year")
        }
    }

    /// Officers and administrators keep the registry; supervisors and taxpayers only read it.
    func mayChangeRegistry(_ actor: Actor) throws {
        guard actor.role == .officer || actor.role == .administrator else {
            throw ServiceError.forbidden("\(actor.role.rawValue) accounts cannot change the registry / 该账号不能变更登记信息")
        }
    }
}
