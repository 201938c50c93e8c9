import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// The web pages: taxpayer portal and officer workspace, Chinese first with an English switch, plain HTML
/// forms (no JavaScript). Handlers parse the form, call one service function and render a page.
func webRoutes(_ app: Application) {
    let web = app.grouped(WebSession(), WebErrors())
    web.get(WebPath.Pattern.home.pathComponents, use: home)
    web.get(WebPath.Pattern.login.pathComponents, use: loginPage)
    web.post(WebPath.Pattern.login.pathComponents, use: loginSubmit)
    web.post(WebPath.Pattern.logout.pathComponents, use: logoutSubmit)
    web.get(WebPath.Pattern.taxpayers.pathComponents, use: taxpayersPage)
    web.get(WebPath.Pattern.taxpayer.pathComponents, use: taxpayerPage)
    web.get(WebPath.Pattern.file.pathComponents, use: returnFormPage)
    web.post(WebPath.Pattern.file.pathComponents, use: returnFormSubmit)
    web.get(WebPath.Pattern.returnPage.pathComponents, use: returnPage)
    web.get(WebPath.Pattern.monitor.pathComponents, use: monitorPage)
    web.post(WebPath.Pattern.screen.pathComponents, use: screenSubmit)
    web.get(WebPath.Pattern.job.pathComponents, use: jobPage)
    web.get(WebPath.Pattern.notice.pathComponents, use: noticePage)
    web.post(WebPath.Pattern.acknowledgeNotice.pathComponents, use: acknowledgeSubmit)
    web.post(WebPath.Pattern.readMessage.pathComponents, use: readMessageSubmit)
    web.post(WebPath.Pattern.refunds.pathComponents, use: refundSubmit)
    web.post(WebPath.Pattern.approveRefund.pathComponents, use: approveRefundSubmit)
}

extension Array where Element == String {
    var pathComponents: [PathComponent] { map { PathComponent(stringLiteral: $0) } }
}

@Sendable func home(_ req: Request) async throws -> Response {
    req.redirect(to: req.web.actor == nil ? WebPath.login.href : WebPath.taxpayers(search: nil).href)
}

@Sendable func loginPage(_ req: Request) async throws -> Response {
    LoginPage.render(req, error: nil, status: .ok)
}

@Sendable func loginSubmit(_ req: Request) async throws -> Response {
    let form = (try? req.content.decode([String: String].self)) ?? [:]
    // The login form has no session yet: its CSRF token is a cookie the form repeats (double submit).
    guard let cookie = req.cookies[WebCookie.loginCSRF]?.string, let given = form["csrf"], constantTimeEqual(cookie, given) else {
        throw WebError.csrf
    }
    do {
        guard let (token, _) = try await req.application.platform.auth.startSession(form["login"] ?? "", password: form["password"] ?? "",
                                                                                      remote: req.remoteAddress?.description) else {
            return LoginPage.render(req, error: ("用户名或密码错误", "invalid login or password"), status: .unauthorized)
        }
        let response = req.redirect(to: WebPath.taxpayers(search: nil).href, redirectType: .normal)
        response.cookies[WebCookie.session] = HTTPCookies.Value(string: token, maxAge: Int(req.application.platform.auth.sessionSeconds),
                                                                path: "/", isSecure: req.application.platform.secureCookies, isHTTPOnly: true, sameSite: .lax)
        return response
    } catch ServiceError.tooManyRequests(let seconds) {
        let response = LoginPage.render(req, error: ("登录失败次数过多，请\(seconds / 60)分钟后再试", "too many failed logins; wait \(seconds / 60) minutes"),
                                        status: .tooManyRequests)
        response.headers.replaceOrAdd(name: .retryAfter, value: "\(seconds)")
        return response
    } catch let ServiceError.invalid(field, zh, en) {
        return LoginPage.render(req, error: (zh, "\(field): \(en)"), status: .badRequest)
    }
}

@Sendable func logoutSubmit(_ req: Request) async throws -> Response {
    _ = try req.postedForm()
    if let session = req.web.session { try await req.application.platform.auth.endSession(session) }
    let response = req.redirect(to: WebPath.login.href, redirectType: .normal)
    response.cookies[WebCookie.session] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
                                                            isSecure: req.application.platform.secureCookies, isHTTPOnly: true, sameSite: .lax)
    return response
}

@Sendable func taxpayersPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let search = req.query[String.self, at: "q"]
    let p = req.application.platform
    let rows = try await p.access.visibleTaxpayers(actor, search: search)
    return TaxpayerPages.list(req, rows: rows, search: search ?? "", offices: try await p.store.officeNames(Set(rows.map(\.office_id))))
}

@Sendable func taxpayerPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let returns = try await p.filing.currentReturns(by: actor, taxpayerID: id)
    return TaxpayerPages.detail(req, taxpayer: t, returns: returns, mayFile: p.access.mayFile(actor),
                                offices: try await p.store.officeNames([t.office_id]),
                                account: try await account(req, actor: actor, taxpayer: t))
}

@Sendable func returnFormPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    guard let form = WebPath.ReturnForm(rawValue: req.parameters.get("form") ?? "") else { throw ServiceError.notFound }
    let t = try await p.access.fileableTaxpayer(id, by: actor)
    var values: [String: String] = [:]
    if let from = req.query[String.self, at: "from"] {
        let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: from)
        if let c = versions.last.flatMap { FilingService.storedCase($0.case_json) } { values = ReturnForms.values(of: c, form) }
        values["declared_tax"] = versions.last.flatMap { $0.declared_tax_fen.map { Money(fen: $0).description } } ?? ""
    }
    return ReturnFormPage.render(req, taxpayer: t, form: form, values: values, correcting: req.query[String.self, at: "from"])
}

@Sendable func returnFormSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    guard let form = WebPath.ReturnForm(rawValue: req.parameters.get("form") ?? "") else { throw ServiceError.notFound }
    let values = try req.postedForm()
    let t = try await p.access.fileableTaxpayer(id, by: actor)
    let ctx = req.web
    func again(_ error: HTML?, assessment: Assessment? = nil, status: HTTPStatus = .ok) -> Response {
        ReturnFormPage.render(req, taxpayer: t, form: form, values: values, correcting: values["correcting"], error: error,
                              assessment: assessment, status: status)
    }
    do {
        let caseJSON = try await ReturnForms.caseJSON(form, values, taxpayer: id, actor: actor, filing: p.filing)
        let declaredText = (values["declared_tax"] ?? "").trimmingCharacters(in: .whitespaces)
        let declared = declaredText.isEmpty ? nil : try FilingService.declaredTax(declaredText, field: "declared_tax")
        let assessment = try await p.filing.preview(by: actor, taxpayerID: id, caseJSON: caseJSON, declaredTax: declared)
        guard values["action"] == "submit" else { return again(nil, assessment: assessment) }
        guard let declared else {
            return again(Layout.error(field: "declared_tax", zh: "请填写申报税额（可采用计算结果）", en: "give the tax you declare (the computed amount is a valid choice)", ctx.lang),
                         assessment: assessment, status: .badRequest)
        }
        guard values["confirm"] == "on" else {
            return again(Layout.error(field: "confirm", zh: "请勾选确认后再提交申报", en: "tick the confirmation before filing", ctx.lang),
                         assessment: assessment, status: .badRequest)
        }
        let filed = try await p.filing.file(by: actor, taxpayerID: id, caseJSON: caseJSON, declaredTax: declared,
                                            idempotencyKey: values["idempotency_key"].flatMap { $0.isEmpty ? nil : "web:" + $0 },
                                            remote: req.remoteAddress?.description)
        if !filed.replayed { p.filings.increment() }
        let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: filed.row.return_id)
        return ReturnPage.render(req, taxpayer: t, versions: versions, justFiled: true)
    } catch let r as Refusal {
        return again(Layout.error(field: r.path, zh: r.messageZh, en: r.messageEn, ctx.lang), status: r.code == .invalidInput ? .badRequest : .unprocessableEntity)
    } catch let ServiceError.invalid(field, zh, en) {
        return again(Layout.error(field: field, zh: zh, en: en, ctx.lang), status: .badRequest)
    }
}

@Sendable func returnPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: req.parameters.get("return") ?? "")
    return ReturnPage.render(req, taxpayer: t, versions: versions, justFiled: false)
}

/// What the taxpayer page shows of the administration loop for `t`.
func account(_ req: Request, actor: Actor, taxpayer t: TaxpayerRow, error: HTML? = nil) async throws -> String {
    let s = req.application.platform.services
    let ledger = try await s.ledger.ledger(by: actor, taxpayerID: t.id)
    let a = AccountPages.Account(due: try await s.filing.dueReturns(by: actor, taxpayerID: t.id),
                                 messages: try await s.reminders.messages(by: actor, taxpayerID: t.id, access: s.access),
                                 notices: try await s.ledger.notices(by: actor, taxpayerID: t.id),
                                 entries: ledger.entries, balances: ledger.balances, refunds: ledger.refunds)
    return (error?.text ?? "") + AccountPages.sections(req, taxpayer: t, account: a, actor: actor).text
}

@Sendable func monitorPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let s = req.application.platform.services
    let today = FilingService.chinaDay(s.now())
    // By default the last ended quarter's VAT: during its filing period that is the one being watched.
    let q = (today.month - 1) / 3
    let fallback = q == 0 ? "\(today.year - 1)-Q4" : "\(today.year)-Q\(q)"
    let kind = req.query[String.self, at: "kind"] ?? "vat"
    let period = req.query[String.self, at: "period"].flatMap { $0.isEmpty ? nil : $0 } ?? (kind == "business_income" ? "\(today.year - 1)" : fallback)
    do {
        let r = try await s.monitoring.report(by: actor, kind: kind, period: period, office: req.query[String.self, at: "office"])
        return MonitoringPages.render(req, r, mayScreen: actor.role == .officer || actor.role == .administrator)
    } catch let ServiceError.invalid(field, zh, en) {
        let r = try await s.monitoring.report(by: actor, kind: "vat", period: fallback, office: req.query[String.self, at: "office"])
        return MonitoringPages.render(req, r, mayScreen: false, error: Layout.error(field: field, zh: zh, en: en, req.web.lang), status: .badRequest)
    }
}

@Sendable func screenSubmit(_ req: Request) async throws -> Response {
    let form = try req.postedForm()
    let s = req.application.platform.services
    do {
        let job = try await startScreening(req, kind: form["kind"] ?? "", period: form["period"] ?? "", office: form["office"])
        return req.redirect(to: WebPath.job(job.id).href, redirectType: .normal)
    } catch let ServiceError.unprocessable(field, zh, en) {
        let r = try await s.monitoring.report(by: try req.signedIn(), kind: form["kind"] ?? "vat", period: form["period"] ?? "", office: form["office"])
        return MonitoringPages.render(req, r, mayScreen: true, error: Layout.error(field: field, zh: zh, en: en, req.web.lang), status: .unprocessableEntity)
    }
}

@Sendable func jobPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let s = req.application.platform.services
    let (job, args) = try await s.screening.job(req.parameters.get("job") ?? "", by: actor)
    // The findings of the period under the office, whichever run recorded them (a rerun adds only what is new).
    let findings = try await s.store.findings(section: args.kind, period: args.period, under: args.office, kind: nil, job: nil, limit: 1000)
    let names = try await s.store.taxpayers(ids: Array(Set(findings.map(\.taxpayer_id)))).reduce(into: [String: String]()) { $0[$1.id] = $1.name }
    return JobPage.render(req, job: job, args: args, findings: findings, names: names)
}

@Sendable func noticePage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let s = req.application.platform.services
    let v = try await s.ledger.notice(by: actor, id: req.parameters.get("notice") ?? "", remote: req.remoteAddress?.description)
    let t = try await s.access.readableTaxpayer(v.notice.taxpayer_id, by: actor)
    let office = try await s.store.officeNames([v.notice.office_id])[v.notice.office_id] ?? v.notice.office_id
    return AccountPages.notice(req, v, taxpayer: t, officeName: office, actor: actor)
}

@Sendable func acknowledgeSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    _ = try req.postedForm()
    let id = req.parameters.get("notice") ?? ""
    _ = try await req.application.platform.services.ledger.acknowledge(by: actor, id: id, remote: req.remoteAddress?.description)
    return req.redirect(to: WebPath.notice(id).href, redirectType: .normal)
}

@Sendable func readMessageSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let form = try req.postedForm()
    let s = req.application.platform.services
    try await s.reminders.markRead(by: actor, id: req.parameters.get("message") ?? "", access: s.access)
    return req.redirect(to: WebPath.taxpayer(form["taxpayer"] ?? "").href, redirectType: .normal)
}

/// The refund form on the taxpayer page; an error comes back on the page with the field named.
@Sendable func refundSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let form = try req.postedForm()
    let s = req.application.platform.services
    let id = req.parameters.get("taxpayer") ?? ""
    do {
        _ = try await s.ledger.requestRefund(by: actor, taxpayerID: id, tax: form["tax"] ?? "", amount: form["amount"] ?? "", remote: req.remoteAddress?.description)
        return req.redirect(to: WebPath.taxpayer(id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await taxpayerPageWith(req, actor: actor, id: id, error: Layout.error(field: field, zh: zh, en: en, req.web.lang), status: .badRequest)
    } catch let ServiceError.unprocessable(field, zh, en) {
        return try await taxpayerPageWith(req, actor: actor, id: id, error: Layout.error(field: field, zh: zh, en: en, req.web.lang), status: .unprocessableEntity)
    }
}

@Sendable func approveRefundSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let form = try req.postedForm()
    let s = req.application.platform.services
    let refund = try await s.ledger.approveRefund(by: actor, id: req.parameters.get("refund") ?? "", remote: req.remoteAddress?.description)
    return req.redirect(to: WebPath.taxpayer(form["taxpayer"].flatMap { $0.isEmpty ? nil : $0 } ?? refund.taxpayer_id).href, redirectType: .normal)
}

/// The taxpayer page again, with an error above the account sections.
func taxpayerPageWith(_ req: Request, actor: Actor, id: String, error: HTML, status: HTTPStatus) async throws -> Response {
    let p = req.application.platform
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let returns = try await p.filing.currentReturns(by: actor, taxpayerID: id)
    let response = TaxpayerPages.detail(req, taxpayer: t, returns: returns, mayFile: p.access.mayFile(actor),
                                        offices: try await p.store.officeNames([t.office_id]), account: try await account(req, actor: actor, taxpayer: t, error: error))
    response.status = status
    return response
}

/// Turns service errors into pages: out of reach is 404 (reveals nothing), read-only is 403, a bad CSRF token 403.
struct WebErrors: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let t = request.web
        do { return try await next.respond(to: request) }
        catch ServiceError.notFound {
            return Layout.page(request, title: t.t("未找到", "Not found"), status: .notFound, "<p>\(t.t("没有这个页面，或您无权查看。", "There is no such page, or it is not within your reach."))</p>")
        } catch ServiceError.forbidden(let why) {
            return Layout.page(request, title: t.t("不允许", "Not allowed"), status: .forbidden, "<p>\(why)</p>")
        } catch WebError.csrf {
            return Layout.page(request, title: t.t("请求无效", "Invalid request"), status: .forbidden,
                               "<p>\(t.t("表单已过期或来源不明，请返回重新提交。", "The form expired or did not come from this site; go back and submit it again."))</p>")
        }
    }
}
