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
        try await validate(t, by: actor)
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

    /// The checks every registration passes, on registering and on each edit; a bad field is named.
    func validate(_ t: TaxpayerRow, by actor: Actor) async throws {
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

    // MARK: edits with history (issue 9)

    /// Edits a taxpayer's registration: the office before and after must be within the officer's reach; the
    /// change is a new version in `taxpayer_versions` with the reason, audited; the credit code never changes.
    public func edit(by actor: Actor, _ new: TaxpayerRow, reason: String, remote: String?) async throws -> TaxpayerRow {
        let old = try await access.readableTaxpayer(new.id, by: actor)
        try await validate(new, by: actor)
        let reason = reason.trimmingCharacters(in: .whitespaces)
        try TextInput.check(reason, field: "reason", maxLength: TextInput.maxName)
        guard !reason.isEmpty else { throw ServiceError.invalid(field: "reason", zh: "请填写变更原因", en: "give the reason for the change") }
        guard new != old else { throw ServiceError.invalid(field: "name", zh: "登记信息没有变化", en: "nothing was changed") }
        let at = now().formatted(.iso8601)
        let changed = Self.changes(old, new).joined(separator: "; ")
        let audit = AuditRow(id: UUID().uuidString, at: at, user_id: actor.userID, action: "edit_taxpayer", object: new.id,
                             detail: "\(changed) (\(reason))", remote: remote)
        let user = actor.userID
        try await store.writeAudited(audit) { db in try await Store(sql: db).updateTaxpayer(new, old: old, by: user, at: at, reason: reason) }
        return new
    }

    /// The fields that differ, as `field: old → new`.
    static func changes(_ a: TaxpayerRow, _ b: TaxpayerRow) -> [String] {
        var out: [String] = []
        func check(_ name: String, _ x: String, _ y: String) { if x != y { out.append("\(name): \(x) → \(y)") } }
        check("name", a.name, b.name); check("kind", a.kind, b.kind); check("vat_status", a.vat_status, b.vat_status)
        check("industry", a.industry, b.industry); check("restricted_industry", "\(a.restricted_industry)", "\(b.restricted_industry)")
        check("region", a.region, b.region); check("office_id", a.office_id, b.office_id); check("registered_on", a.registered_on, b.registered_on)
        check("deregistered_on", a.deregistered_on ?? "—", b.deregistered_on ?? "—")
        return out
    }

    /// The registration's versions, oldest first (empty until the first edit: the registration itself is the only state).
    public func history(by actor: Actor, taxpayerID: String) async throws -> [TaxpayerVersionRow] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        return try await store.taxpayerVersions(taxpayerID)
    }

    // MARK: users, bindings and offices

    /// Administrators manage every account; an officer creates taxpayer accounts (办税人员) bound to taxpayers of
    /// its offices, and sees the accounts of its offices and of their taxpayers.
    public func users(by actor: Actor, search: String?) async throws -> (users: [UserRow], bindings: [String: [String]]) {
        try mayChangeRegistry(actor)
        try TextInput.check(search, field: "q", maxLength: TextInput.maxName)
        let users = try await store.users(inOffices: actor.role == .administrator ? nil : actor.offices, search: search, limit: 200)
        return (users, try await store.bindings(users: users.map(\.id)))
    }

    public func createUser(by actor: Actor, login: String, password: String, role: String, office: String?, displayName: String,
                           taxpayers: [String], remote: String?) async throws -> UserRow {
        try mayChangeRegistry(actor)
        let login = login.trimmingCharacters(in: .whitespaces)
        guard login.range(of: #"^[a-z0-9][a-z0-9._-]{2,63}$"#, options: .regularExpression) != nil else {
            throw ServiceError.invalid(field: "login", zh: "用户名应为 3 至 64 个小写字母、数字或 . _ -", en: "login must be 3 to 64 lower-case letters, digits or . _ -")
        }
        guard password.count >= 10 else { throw ServiceError.invalid(field: "password", zh: "密码至少 10 个字符", en: "password must have at least 10 characters") }
        try TextInput.check(password, field: "password", maxLength: TextInput.maxPassword)
        try TextInput.check(displayName, field: "display_name", maxLength: TextInput.maxName)
        guard let r = Actor.Role(rawValue: role) else {
            throw ServiceError.invalid(field: "role", zh: "角色应为 taxpayer、officer、supervisor 或 administrator", en: "role must be taxpayer, officer, supervisor or administrator")
        }
        if actor.role != .administrator, r != .taxpayer {
            throw ServiceError.forbidden("officers create taxpayer accounts only / 税务人员只能创建纳税人账号")
        }
        // Officers and supervisors belong to an office (their reach); taxpayer accounts and administrators do not.
        var office = office.flatMap { $0.isEmpty ? nil : $0 }
        if r == .officer || r == .supervisor {
            guard let o = office, try await store.office(o) != nil else {
                throw ServiceError.invalid(field: "office_id", zh: "税务人员账号须指定所属税务机关", en: "an officer's or supervisor's account needs its tax office")
            }
        } else { office = nil }
        let taxpayers = Array(Set(taxpayers.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })).sorted()
        if r != .taxpayer, !taxpayers.isEmpty {
            throw ServiceError.invalid(field: "taxpayers", zh: "只有纳税人账号可以绑定纳税人", en: "only taxpayer accounts are bound to taxpayers")
        }
        for t in taxpayers { _ = try await fileableTaxpayer(t, by: actor, field: "taxpayers") }
        if try await store.user(login: login) != nil {
            throw ServiceError.conflict(field: "login", zh: "该用户名已被使用", en: "this login is taken")
        }
        let row = UserRow(id: "user-" + UUID().uuidString.lowercased(), login: login, password_hash: try AuthService.hash(password: password),
                          role: r.rawValue, office_id: office, display_name: displayName.trimmingCharacters(in: .whitespaces))
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID, action: "create_user",
                             object: row.id, detail: "\(login), \(role), office \(office ?? "—"), taxpayers \(taxpayers.joined(separator: " "))", remote: remote)
        do {
            try await store.writeAudited(audit) { db in
                let s = Store(sql: db)
                try await s.insert(users: [row])
                if !taxpayers.isEmpty { try await s.bind(user: row.id, taxpayers: taxpayers) }
            }
        } catch StoreError.constraint {
            throw ServiceError.conflict(field: "login", zh: "该用户名已被使用", en: "this login is taken")
        }
        return row
    }

    /// Binds (`bind` true) or unbinds a taxpayer account and a taxpayer within the actor's reach.
    public func setBinding(by actor: Actor, userID: String, taxpayerID: String, bind: Bool, remote: String?) async throws {
        try mayChangeRegistry(actor)
        try TextInput.check(userID, field: "user", maxLength: TextInput.maxIdentifier)
        guard let u = try await store.user(id: userID) else { throw ServiceError.notFound }
        guard u.role == Actor.Role.taxpayer.rawValue else {
            throw ServiceError.invalid(field: "user", zh: "只有纳税人账号可以绑定纳税人", en: "only taxpayer accounts are bound to taxpayers")
        }
        _ = try await fileableTaxpayer(taxpayerID.trimmingCharacters(in: .whitespaces), by: actor, field: "taxpayer")
        let bound = try await store.boundTaxpayers(user: userID).contains(taxpayerID)
        if bound == bind { return }
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID, action: bind ? "bind_taxpayer" : "unbind_taxpayer",
                             object: "\(userID)/\(taxpayerID)", detail: u.login, remote: remote)
        try await store.writeAudited(audit) { db in
            let s = Store(sql: db)
            if bind { try await s.bind(user: userID, taxpayers: [taxpayerID]) } else { try await s.unbind(user: userID, taxpayer: taxpayerID) }
        }
    }

    /// A taxpayer the actor's offices keep (administrators: any), or an error naming `field`.
    func fileableTaxpayer(_ id: String, by actor: Actor, field: String) async throws -> TaxpayerRow {
        try TextInput.check(id, field: field, maxLength: TextInput.maxIdentifier)
        guard let t = try await store.taxpayer(id), actor.role == .administrator || actor.offices.contains(t.office_id) else {
            throw ServiceError.invalid(field: field, zh: "纳税人 \(id) 不存在或不在您的管辖范围内", en: "taxpayer \(id) does not exist or is not within your reach")
        }
        return t
    }

    public func offices(by actor: Actor) async throws -> [OfficeRow] {
        try mayChangeRegistry(actor)
        let all = try await store.offices()
        return actor.role == .administrator ? all : all.filter { actor.offices.contains($0.id) }
    }

    /// Adds an office under a parent (administrators only): the office tree decides every officer's reach.
    public func createOffice(by actor: Actor, _ o: OfficeRow, remote: String?) async throws {
        guard actor.role == .administrator else { throw ServiceError.forbidden("only administrators change the office tree / 只有管理员可以变更税务机关") }
        try TextInput.check(o.id, field: "id", maxLength: TextInput.maxIdentifier)
        try TextInput.check(o.name, field: "name", maxLength: TextInput.maxName)
        guard o.id.count == 11, o.id.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ServiceError.invalid(field: "id", zh: "税务机关代码应为 11 位数字", en: "the office code must be 11 digits")
        }
        guard !o.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ServiceError.invalid(field: "name", zh: "请填写名称", en: "give the name") }
        guard ["province", "city", "district", "branch"].contains(o.level) else {
            throw ServiceError.invalid(field: "level", zh: "级别应为省、市、区县或税务所", en: "level must be province, city, district or branch")
        }
        guard o.region_code.count == 6, o.region_code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ServiceError.invalid(field: "region_code", zh: "行政区划代码应为6位数字（GB/T 2260）", en: "region must be a six-digit GB/T 2260 code")
        }
        guard let parent = o.parent_id, try await store.office(parent) != nil else {
            throw ServiceError.invalid(field: "parent_id", zh: "上级税务机关不存在", en: "the parent office does not exist")
        }
        if try await store.office(o.id) != nil { throw ServiceError.conflict(field: "id", zh: "该代码已存在", en: "an office with this code exists") }
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID, action: "create_office",
                             object: o.id, detail: "\(o.name), under \(parent)", remote: remote)
        do { try await store.writeAudited(audit) { db in try await Store(sql: db).insert(offices: [o]) } } catch StoreError.constraint {
            throw ServiceError.conflict(field: "id", zh: "该代码已存在", en: "an office with this code exists")
        }
    }

    public func renameOffice(by actor: Actor, id: String, name: String, remote: String?) async throws {
        guard actor.role == .administrator else { throw ServiceError.forbidden("only administrators change the office tree / 只有管理员可以变更税务机关") }
        let name = name.trimmingCharacters(in: .whitespaces)
        try TextInput.check(name, field: "name", maxLength: TextInput.maxName)
        guard !name.isEmpty else { throw ServiceError.invalid(field: "name", zh: "请填写名称", en: "give the name") }
        guard let o = try await store.office(id) else { throw ServiceError.notFound }
        let audit = AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID, action: "rename_office",
                             object: id, detail: "\(o.name) → \(name)", remote: remote)
        try await store.writeAudited(audit) { db in try await Store(sql: db).renameOffice(id, name: name) }
    }
}
