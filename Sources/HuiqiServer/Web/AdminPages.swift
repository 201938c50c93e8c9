import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// Form controls with their labels, marked when an error names them (and focused on load), keeping what was typed.
enum Controls {
    static func marked(_ name: String, _ invalid: String?) -> HTML {
        name == invalid ? " aria-invalid=\"true\" aria-describedby=\"error\" autofocus" : ""
    }

    static func text(_ name: String, _ label: String, _ v: [String: String], invalid: String?, type: String = "text", hint: String = "",
                     extra: String = "") -> HTML {
        """
        <div class="field"><label for="\(name)">\(label)</label> <input type="\(type)" name="\(name)" id="\(name)" value="\(v[name] ?? "")" placeholder="\(hint)"\(marked(name, invalid))\(HTML(raw: extra))></div>
        """
    }

    static func select(_ name: String, _ label: String, _ options: [(String, String)], _ v: [String: String], invalid: String?) -> HTML {
        let items: [HTML] = options.map { "<option value=\"\($0.0)\"\(v[name] == $0.0 ? " selected" : "")>\($0.1)</option>" }
        return "<div class=\"field\"><label for=\"\(name)\">\(label)</label> <select name=\"\(name)\" id=\"\(name)\"\(marked(name, invalid))>\(items)</select></div>"
    }

    static func check(_ name: String, _ label: String, _ v: [String: String]) -> HTML {
        "<div class=\"field check\"><input type=\"checkbox\" name=\"\(name)\" id=\"\(name)\"\(v[name] == "on" ? " checked" : "")> <label for=\"\(name)\">\(label)</label></div>"
    }

    static func csrf(_ req: Request) -> HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(req.web.csrf ?? "")\">" }
}

/// The registry in the web pages (登记管理): register and edit taxpayers (edits are versioned and audited), filing
/// frequencies, accounts and their bindings, and (administrators) the office tree. Officers act within their offices.
enum AdminPages {
    static func kinds(_ lang: Lang) -> [(String, String)] {
        ["enterprise", "unit", "individual_business", "individual"].map { ($0, TaxpayerPages.kindName($0, lang)) }
    }

    static func index(_ req: Request, actor: Actor) -> Response {
        let t = req.web
        return Layout.page(req, title: t.t("登记管理", "Registry"), """
        <ul class="admin-links">
        <li><a id="admin-new-taxpayer" href="\(WebPath.newTaxpayer.href)">\(t.t("登记纳税人", "Register a taxpayer"))</a> — \(t.t("新办纳税人的税务登记；已登记纳税人在其页面上变更。", "a new taxpayer; a registered one is edited from its own page."))</li>
        <li><a id="admin-users" href="\(WebPath.users.href)">\(t.t("账号与绑定", "Accounts and bindings"))</a> — \(actor.role == .administrator ? t.t("所有账号。", "every account.") : t.t("本局纳税人的办税账号。", "the taxpayer accounts of your offices' taxpayers."))</li>
        <li><a id="admin-offices" href="\(WebPath.offices.href)">\(t.t("税务机关", "Tax offices"))</a> — \(actor.role == .administrator ? t.t("机构树的维护。", "the office tree.") : t.t("查看本局机构。", "your offices."))</li>
        </ul>
        """)
    }

    /// The registration form, new (`existing` nil) or an edit of `existing` (the credit code fixed, a reason asked).
    static func taxpayerForm(_ req: Request, values v: [String: String], existing: TaxpayerRow?, offices: [OfficeRow], error: FormError? = nil,
                             status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let invalid = error?.input
        let action = existing.map { WebPath.editTaxpayer($0.id).href } ?? WebPath.newTaxpayer.href
        return Layout.page(req, title: existing.map { t.t("变更登记：", "Edit registration: ") + $0.name } ?? t.t("登记纳税人", "Register a taxpayer"), status: status,
                           langForm: ("taxpayer-form", action), """
        \(error?.html(t.lang))
        <form method="post" action="\(action)" id="taxpayer-form">\(Controls.csrf(req))
        \(existing.map { "<p>\(t.t("统一社会信用代码", "Credit code"))：<strong class=\"code\">\($0.id)</strong><input type=\"hidden\" name=\"id\" value=\"\($0.id)\"></p>" as HTML }
          ?? Controls.text("id", t.t("统一社会信用代码（18位）", "Unified social credit code (18 characters)"), v, invalid: invalid, extra: " maxlength=\"18\" autocomplete=\"off\""))
        \(Controls.text("name", t.t("纳税人名称", "Name"), v, invalid: invalid))
        \(Controls.select("kind", t.t("类型", "Kind"), kinds(t.lang), v, invalid: invalid))
        \(Controls.select("vat_status", t.t("增值税身份", "VAT status"), [("small_scale", t.t("小规模纳税人", "small-scale")), ("general", t.t("一般纳税人", "general"))], v, invalid: invalid))
        \(Controls.select("industry", t.t("行业", "Industry"), [("other", t.t("其他", "other")), ("industrial", t.t("工业", "industrial"))], v, invalid: invalid))
        \(Controls.check("restricted_industry", t.t("国家限制和禁止行业", "restricted or prohibited industry"), v))
        \(Controls.text("region", t.t("行政区划代码（6位，GB/T 2260）", "Region code (6 digits, GB/T 2260)"), v, invalid: invalid, hint: "310115", extra: " inputmode=\"numeric\" maxlength=\"6\""))
        \(Controls.select("office_id", t.t("主管税务机关", "Tax office"), offices.map { ($0.id, $0.name) }, v, invalid: invalid))
        \(Controls.text("registered_on", t.t("登记日期", "Registered on"), v, invalid: invalid, type: "date"))
        \(existing == nil ? "" : Controls.text("deregistered_on", t.t("注销日期（未注销不填）", "Deregistered on (empty if not)"), v, invalid: invalid, type: "date"))
        \(existing == nil ? "" : Controls.text("reason", t.t("变更原因", "Reason for the change"), v, invalid: invalid))
        <button type="submit" id="save">\(existing == nil ? t.t("登记", "Register") : t.t("保存变更", "Save the change"))</button>
        </form>
        <p><a href="\(existing.map { WebPath.taxpayer($0.id).href } ?? WebPath.admin.href)">\(t.t("返回", "Back"))</a></p>
        """)
    }

    static func values(of r: TaxpayerRow) -> [String: String] {
        ["id": r.id, "name": r.name, "kind": r.kind, "vat_status": r.vat_status, "industry": r.industry,
         "restricted_industry": r.restricted_industry ? "on" : "", "region": r.region, "office_id": r.office_id,
         "registered_on": r.registered_on, "deregistered_on": r.deregistered_on ?? ""]
    }

    static func row(from v: [String: String]) -> TaxpayerRow {
        func f(_ k: String) -> String { FormInput.normalized(v[k] ?? "") }
        return TaxpayerRow(id: f("id").uppercased(), name: f("name"), kind: f("kind"), vat_status: f("vat_status"), industry: f("industry"),
                           restricted_industry: v["restricted_industry"] == "on", region: f("region"), office_id: f("office_id"),
                           registered_on: f("registered_on"), deregistered_on: f("deregistered_on").isEmpty ? nil : f("deregistered_on"))
    }

    static let labels: [String: (String, String)] = [
        "id": ("统一社会信用代码", "credit code"), "name": ("名称", "name"), "kind": ("类型", "kind"), "vat_status": ("增值税身份", "VAT status"),
        "industry": ("行业", "industry"), "region": ("行政区划代码", "region code"), "office_id": ("主管税务机关", "tax office"),
        "registered_on": ("登记日期", "registered on"), "deregistered_on": ("注销日期", "deregistered on"), "reason": ("变更原因", "reason"),
        "login": ("用户名", "login"), "password": ("初始密码", "initial password"), "role": ("角色", "role"), "display_name": ("显示名称", "display name"),
        "taxpayers": ("绑定纳税人", "bound taxpayers"), "taxpayer": ("纳税人", "taxpayer"), "user": ("账号", "account"),
        "parent_id": ("上级税务机关", "parent office"), "level": ("级别", "level"), "region_code": ("行政区划代码", "region code"),
        "year": ("年度", "year"), "frequency": ("纳税期限", "filing frequency"), "period": ("所属期", "period"), "office": ("税务机关", "office"),
        "amount": ("申请退税金额", "refund amount"), "tax": ("税种", "tax"),
    ]

    /// An error on an administration form: the field as the form labels it.
    static func error(_ field: String, _ zh: String, _ en: String, _ lang: Lang) -> FormError {
        let label = labels[field].map { lang.t($0.0, $0.1) }
        return FormError(input: label == nil ? nil : field, label: label, message: FieldLabels.scrubbed(lang.t(zh, en)), technical: "\(field): \(en)")
    }

    static func users(_ req: Request, actor: Actor, users: [UserRow], bindings: [String: [String]], names: [String: String], offices: [OfficeRow],
                      search: String, values v: [String: String] = [:], error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let invalid = error?.input
        let rows: [HTML] = users.map { u in
            let bound: [HTML] = (bindings[u.id] ?? []).map { id in
                """
                <li>\(names[id] ?? id) <span class="code muted">\(id)</span>
                <form method="post" action="\(WebPath.bindings(u.id).href)" class="inline">\(Controls.csrf(req))<input type="hidden" name="taxpayer" value="\(id)"><input type="hidden" name="op" value="unbind"><button type="submit" aria-label="\(t.t("解除绑定 \(names[id] ?? id)", "Unbind \(names[id] ?? id)"))">\(t.t("解除", "Unbind"))</button></form></li>
                """
            }
            let bindForm: HTML = u.role == "taxpayer" ? """
                <form method="post" action="\(WebPath.bindings(u.id).href)" class="inline bind-form">\(Controls.csrf(req))<input type="hidden" name="op" value="bind">
                <label class="sr" for="bind-\(u.id)">\(t.t("绑定纳税人的统一社会信用代码", "Credit code to bind"))</label><input name="taxpayer" id="bind-\(u.id)" size="20" placeholder="\(t.t("统一社会信用代码", "credit code"))">
                <button type="submit">\(t.t("绑定", "Bind"))</button></form>
                """ : ""
            return """
            <tr><td>\(u.login)</td><td>\(Layout.roleName(Actor.Role(rawValue: u.role) ?? .taxpayer, t.lang))</td><td>\(u.display_name)</td>
            <td>\(u.office_id.map { o in offices.first { $0.id == o }?.name ?? o } ?? "—")</td><td><ul class="bindings">\(bound)</ul>\(bindForm)</td></tr>
            """
        }
        let roles: [(String, String)] = actor.role == .administrator
            ? Actor.Role.allCases.map { ($0.rawValue, Layout.roleName($0, t.lang)) } : [("taxpayer", Layout.roleName(.taxpayer, t.lang))]
        return Layout.page(req, title: t.t("账号与绑定", "Accounts and bindings"), status: status, """
        \(error?.html(t.lang))
        <form method="get" action="\(WebPath.users.href)" role="search" class="filters">
        <div class="field"><label for="q">\(t.t("按用户名查找", "Search by login"))</label> <input name="q" id="q" value="\(search)"></div>
        <button type="submit">\(t.t("查找", "Search"))</button></form>
        \(users.isEmpty ? "<p class=\"warning\" id=\"empty\">\(t.t("没有符合条件的账号。", "No account matches."))</p>" as HTML : """
        <div class="scroll"><table id="users"><thead><tr><th scope="col">\(t.t("用户名", "Login"))</th><th scope="col">\(t.t("角色", "Role"))</th><th scope="col">\(t.t("显示名称", "Display name"))</th>
        <th scope="col">\(t.t("所属税务机关", "Office"))</th><th scope="col">\(t.t("绑定的纳税人", "Bound taxpayers"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """ as HTML)
        <h2>\(t.t("新建账号", "New account"))</h2>
        <form method="post" action="\(WebPath.users.href)" id="user-form">\(Controls.csrf(req))
        \(Controls.text("login", t.t("用户名（小写字母、数字）", "Login (lower-case letters, digits)"), v, invalid: invalid, extra: " autocomplete=\"off\""))
        \(Controls.text("password", t.t("初始密码（至少10个字符）", "Initial password (at least 10 characters)"), [:], invalid: invalid, type: "password", extra: " autocomplete=\"new-password\""))
        \(Controls.select("role", t.t("角色", "Role"), roles, v, invalid: invalid))
        \(actor.role == .administrator ? Controls.select("office_id", t.t("所属税务机关（税务人员）", "Office (staff)"), [("", "—")] + offices.map { ($0.id, $0.name) }, v, invalid: invalid) : "")
        \(Controls.text("display_name", t.t("显示名称", "Display name"), v, invalid: invalid))
        \(Controls.text("taxpayers", t.t("绑定纳税人（统一社会信用代码，多个用空格分隔）", "Bound taxpayers (credit codes, separated by spaces)"), v, invalid: invalid))
        <button type="submit" id="create-user">\(t.t("创建账号", "Create the account"))</button></form>
        """)
    }

    static func offices(_ req: Request, actor: Actor, offices: [OfficeRow], values v: [String: String] = [:], error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let invalid = error?.input
        let byParent = Dictionary(grouping: offices, by: { $0.parent_id ?? "" })
        let ids = Set(offices.map(\.id))
        var rows: [HTML] = []
        func levelName(_ l: String) -> String {
            switch l {
            case "national": return t.t("总局", "national")
            case "province": return t.t("省级", "province")
            case "city": return t.t("市级", "city")
            case "district": return t.t("区县级", "district")
            default: return t.t("税务所", "branch")
            }
        }
        func walk(_ o: OfficeRow, depth: Int) {
            let rename: HTML = actor.role == .administrator ? """
                <form method="post" action="\(WebPath.offices.href)" class="inline">\(Controls.csrf(req))<input type="hidden" name="op" value="rename"><input type="hidden" name="id" value="\(o.id)">
                <label class="sr" for="rename-\(o.id)">\(t.t("新名称", "New name"))</label><input name="name" id="rename-\(o.id)" value="\(o.name)" size="24"><button type="submit">\(t.t("改名", "Rename"))</button></form>
                """ : ""
            rows.append("<tr><td style=\"padding-left:\(depth * 3 + 1)ch\">\(o.name)</td><td class=\"code\">\(o.id)</td><td>\(levelName(o.level))</td><td>\(RegionNames.name(o.region_code, t.lang))</td><td>\(rename)</td></tr>")
            for c in (byParent[o.id] ?? []).sorted(by: { $0.id < $1.id }) { walk(c, depth: depth + 1) }
        }
        for root in offices.filter({ $0.parent_id == nil || !ids.contains($0.parent_id!) }).sorted(by: { $0.id < $1.id }) { walk(root, depth: 0) }
        let form: HTML = actor.role == .administrator ? """
            <h2>\(t.t("新增税务机关", "New office"))</h2>
            <form method="post" action="\(WebPath.offices.href)" id="office-form">\(Controls.csrf(req))<input type="hidden" name="op" value="create">
            \(Controls.select("parent_id", t.t("上级税务机关", "Parent office"), offices.map { ($0.id, $0.name) }, v, invalid: invalid))
            \(Controls.text("id", t.t("税务机关代码（11位）", "Office code (11 digits)"), v, invalid: invalid, extra: " inputmode=\"numeric\" maxlength=\"11\""))
            \(Controls.text("name", t.t("名称", "Name"), v, invalid: invalid))
            \(Controls.select("level", t.t("级别", "Level"), ["province", "city", "district", "branch"].map { ($0, levelName($0)) }, v, invalid: invalid))
            \(Controls.text("region_code", t.t("行政区划代码（6位）", "Region code (6 digits)"), v, invalid: invalid, extra: " inputmode=\"numeric\" maxlength=\"6\""))
            <button type="submit" id="create-office">\(t.t("新增", "Add"))</button></form>
            """ : ""
        return Layout.page(req, title: t.t("税务机关", "Tax offices"), status: status, """
        \(error?.html(t.lang))
        <div class="scroll"><table id="offices"><thead><tr><th scope="col">\(t.t("名称", "Name"))</th><th scope="col">\(t.t("代码", "Code"))</th><th scope="col">\(t.t("级别", "Level"))</th>
        <th scope="col">\(t.t("行政区划", "Region"))</th><th scope="col"><span class="sr">\(t.t("操作", "Action"))</span></th></tr></thead><tbody>\(rows)</tbody></table></div>
        \(form)
        """)
    }
}

// MARK: handlers

@Sendable func adminPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    guard actor.role == .officer || actor.role == .administrator else { throw ServiceError.forbidden("the registry is kept by officers and administrators / 登记信息由税务人员和管理员维护") }
    return AdminPages.index(req, actor: actor)
}

@Sendable func newTaxpayerPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let offices = try await req.application.platform.registry.offices(by: actor)
    let today = FilingService.chinaDay(req.application.platform.services.now())
    return AdminPages.taxpayerForm(req, values: ["registered_on": today.description, "kind": "enterprise", "vat_status": "small_scale", "industry": "other",
                                                 "office_id": offices.last?.id ?? ""], existing: nil, offices: offices)
}

@Sendable func newTaxpayerSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let registry = req.application.platform.registry
    let offices = try await registry.offices(by: actor)
    if v["action"] == "relang" { return AdminPages.taxpayerForm(req, values: v, existing: nil, offices: offices) }
    do {
        let t = try await registry.register(by: actor, AdminPages.row(from: v), remote: req.clientAddress)
        return req.redirect(to: WebPath.taxpayer(t.id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return AdminPages.taxpayerForm(req, values: v, existing: nil, offices: offices, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        return AdminPages.taxpayerForm(req, values: v, existing: nil, offices: offices, error: AdminPages.error(field, zh, en, req.web.lang), status: .conflict)
    }
}

@Sendable func editTaxpayerPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let t = try await p.access.readableTaxpayer(req.parameters.get("taxpayer") ?? "", by: actor)
    let offices = try await p.registry.offices(by: actor)
    return AdminPages.taxpayerForm(req, values: AdminPages.values(of: t), existing: t, offices: offices)
}

@Sendable func editTaxpayerSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let p = req.application.platform
    let t = try await p.access.readableTaxpayer(req.parameters.get("taxpayer") ?? "", by: actor)
    let offices = try await p.registry.offices(by: actor)
    if v["action"] == "relang" { return AdminPages.taxpayerForm(req, values: v, existing: t, offices: offices) }
    var new = AdminPages.row(from: v)
    new.id = t.id
    do {
        _ = try await p.registry.edit(by: actor, new, reason: v["reason"] ?? "", remote: req.clientAddress)
        return req.redirect(to: WebPath.taxpayer(t.id).href + "#history", redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return AdminPages.taxpayerForm(req, values: v, existing: t, offices: offices, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func frequencySubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let id = req.parameters.get("taxpayer") ?? ""
    let lang = req.web.lang
    do {
        guard let year = FormInput.integer(v["year"] ?? "") else { throw ServiceError.invalid(field: "year", zh: "年度应为整数", en: "year must be a whole number") }
        try await req.application.platform.registry.setVATFrequency(by: actor, taxpayerID: id, year: year, frequency: v["frequency"] ?? "",
                                                                     remote: req.clientAddress)
        return req.redirect(to: WebPath.taxpayer(id).href + "#frequencies", redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await taxpayerPageWith(req, actor: actor, id: id, error: AdminPages.error(field, zh, en, lang).html(lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        return try await taxpayerPageWith(req, actor: actor, id: id, error: AdminPages.error(field, zh, en, lang).html(lang), status: .conflict)
    }
}

@Sendable func usersPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    return try await usersPageWith(req, actor: actor, values: [:], error: nil, status: .ok)
}

func usersPageWith(_ req: Request, actor: Actor, values: [String: String], error: FormError?, status: HTTPStatus) async throws -> Response {
    let p = req.application.platform
    let search = FormInput.normalized(req.query[String.self, at: "q"] ?? "")
    let (users, bindings) = try await p.registry.users(by: actor, search: search)
    let names = try await p.store.taxpayers(ids: Array(Set(bindings.values.flatMap { $0 }))).reduce(into: [String: String]()) { $0[$1.id] = $1.name }
    return AdminPages.users(req, actor: actor, users: users, bindings: bindings, names: names, offices: try await p.registry.offices(by: actor),
                            search: search, values: values, error: error, status: status)
}

@Sendable func usersSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    var v = try req.postedForm()
    let lang = req.web.lang
    if v["action"] == "relang" { v["password"] = nil; return try await usersPageWith(req, actor: actor, values: v, error: nil, status: .ok) }
    do {
        _ = try await req.application.platform.registry.createUser(
            by: actor, login: v["login"] ?? "", password: v["password"] ?? "", role: v["role"] ?? "", office: v["office_id"],
            displayName: v["display_name"] ?? "", taxpayers: FormInput.normalized(v["taxpayers"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init),
            remote: req.clientAddress)
        return req.redirect(to: WebPath.users.href + "?q=" + HTML.query(v["login"] ?? ""), redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        v["password"] = nil
        return try await usersPageWith(req, actor: actor, values: v, error: AdminPages.error(field, zh, en, lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        v["password"] = nil
        return try await usersPageWith(req, actor: actor, values: v, error: AdminPages.error(field, zh, en, lang), status: .conflict)
    }
}

@Sendable func bindingsSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let user = req.parameters.get("user") ?? ""
    do {
        try await req.application.platform.registry.setBinding(by: actor, userID: user, taxpayerID: FormInput.normalized(v["taxpayer"] ?? "").uppercased(),
                                                               bind: v["op"] != "unbind", remote: req.clientAddress)
        return req.redirect(to: WebPath.users.href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await usersPageWith(req, actor: actor, values: [:], error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func officesPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    return AdminPages.offices(req, actor: actor, offices: try await req.application.platform.registry.offices(by: actor))
}

@Sendable func officesSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    let registry = req.application.platform.registry
    if v["action"] == "relang" { return AdminPages.offices(req, actor: actor, offices: try await registry.offices(by: actor), values: v) }
    func f(_ k: String) -> String { FormInput.normalized(v[k] ?? "") }
    do {
        if v["op"] == "rename" {
            try await registry.renameOffice(by: actor, id: f("id"), name: f("name"), remote: req.clientAddress)
        } else {
            try await registry.createOffice(by: actor, OfficeRow(id: f("id"), parent_id: f("parent_id"), name: f("name"), level: f("level"), region_code: f("region_code")),
                                            remote: req.clientAddress)
        }
        return req.redirect(to: WebPath.offices.href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return AdminPages.offices(req, actor: actor, offices: try await registry.offices(by: actor), values: v, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        return AdminPages.offices(req, actor: actor, offices: try await registry.offices(by: actor), values: v, error: AdminPages.error(field, zh, en, req.web.lang), status: .conflict)
    }
}
