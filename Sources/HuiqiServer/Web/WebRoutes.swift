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
    web.get(WebPath.Pattern.taxpayersCSV.pathComponents, use: taxpayersCSV)
    web.get(WebPath.Pattern.returnsCSV.pathComponents, use: returnsCSV)
    web.get(WebPath.Pattern.receipt.pathComponents, use: receiptPage)
    web.get(WebPath.Pattern.receiptPDF.pathComponents, use: receiptPage)
    web.get(WebPath.Pattern.verify.pathComponents, use: verifyPage)
    web.get(WebPath.Pattern.admin.pathComponents, use: adminPage)
    web.get(WebPath.Pattern.newTaxpayer.pathComponents, use: newTaxpayerPage)
    web.post(WebPath.Pattern.newTaxpayer.pathComponents, use: newTaxpayerSubmit)
    web.get(WebPath.Pattern.editTaxpayer.pathComponents, use: editTaxpayerPage)
    web.post(WebPath.Pattern.editTaxpayer.pathComponents, use: editTaxpayerSubmit)
    web.post(WebPath.Pattern.frequencies.pathComponents, use: frequencySubmit)
    web.get(WebPath.Pattern.users.pathComponents, use: usersPage)
    web.post(WebPath.Pattern.users.pathComponents, use: usersSubmit)
    web.post(WebPath.Pattern.bindings.pathComponents, use: bindingsSubmit)
    web.get(WebPath.Pattern.offices.pathComponents, use: officesPage)
    web.post(WebPath.Pattern.offices.pathComponents, use: officesSubmit)
    web.get(WebPath.Pattern.statistics.pathComponents, use: statisticsPage)
    web.get(WebPath.Pattern.statisticsCSV.pathComponents, use: statisticsCSV)
    web.get("simulation", use: simulationPage)
    web.get("simulation.csv", use: simulationCSV)
    web.get(WebPath.Pattern.supervision.pathComponents, use: supervisionPage)
    web.get(WebPath.Pattern.tasks.pathComponents, use: tasksPage)
    web.post(WebPath.Pattern.tasks.pathComponents, use: assignTaskSubmit)
    web.get(WebPath.Pattern.registries.pathComponents, use: registriesPage)
    web.get(WebPath.Pattern.reports.pathComponents, use: reportsPage)
    web.post(WebPath.Pattern.reports.pathComponents, use: submitReportSubmit)
    web.get(WebPath.Pattern.reportsCSV.pathComponents, use: reportsCSV)
    web.get(WebPath.Pattern.reportVersion.pathComponents, use: reportVersionPage)
    web.get(WebPath.Pattern.registriesCSV.pathComponents, use: registriesCSV)
    web.on(.POST, WebPath.Pattern.registryImport.pathComponents, body: .collect(maxSize: ByteCount(value: RegistryPages.maxUploadMB << 20)),
           use: registryImportSubmit)
    web.get(WebPath.Pattern.task.pathComponents, use: taskPage)
    web.get(WebPath.Pattern.kb.pathComponents, use: kbPage)
    web.get(WebPath.Pattern.kbEntry.pathComponents, use: kbEntryPage)
    web.post(WebPath.Pattern.kbEntry.pathComponents, use: kbEntrySubmit)
    web.get(WebPath.Pattern.kbNew.pathComponents, use: kbNewPage)
    web.post(WebPath.Pattern.kbNew.pathComponents, use: kbNewSubmit)
    web.get(WebPath.Pattern.kbReview.pathComponents, use: kbReviewPage)
    web.get(WebPath.Pattern.complaints.pathComponents, use: complaintsPage)
    web.post(WebPath.Pattern.complaints.pathComponents, use: complaintSubmit)
    web.get(WebPath.Pattern.complaint.pathComponents, use: complaintPage)
    web.post(WebPath.Pattern.complaint.pathComponents, use: complaintActionSubmit)
    web.get(WebPath.Pattern.portal.pathComponents, use: portalPage)
    web.get(WebPath.Pattern.portalCheck.pathComponents, use: portalCheckPage)
    web.post(WebPath.Pattern.task.pathComponents, use: taskActionSubmit)
}

extension Array where Element == String {
    var pathComponents: [PathComponent] { map { PathComponent(stringLiteral: $0) } }
}

@Sendable func home(_ req: Request) async throws -> Response {
    guard let actor = req.web.actor else { return req.redirect(to: WebPath.login.href) }
    guard actor.role == .taxpayer else { return req.redirect(to: WebPath.taxpayers(search: nil).href) }
    let s = req.application.platform.services
    var entries: [HomePage.Entry] = []
    for t in try await s.store.taxpayers(ids: actor.boundTaxpayers.sorted()) {
        entries.append(HomePage.Entry(taxpayer: t, overview: try await s.filing.overview(by: actor, taxpayerID: t.id),
                                      unread: try await s.reminders.messages(by: actor, taxpayerID: t.id, access: s.access).filter { $0.read_at == nil }))
    }
    return HomePage.render(req, entries: entries, mayFile: s.access.mayFile(actor))
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
                                                                                      remote: req.clientAddress) else {
            return LoginPage.render(req, error: ("用户名或密码错误", "invalid login or password"), status: .unauthorized)
        }
        let response = req.redirect(to: Request.safeNext(form["next"]), redirectType: .normal)
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

/// The list's filters from the query; an empty value is no filter.
func listFilters(_ req: Request) -> TaxpayerPages.Filters {
    func q(_ k: String) -> String { FormInput.normalized(req.query[String.self, at: k] ?? "") }
    return TaxpayerPages.Filters(q: q("q"), kind: q("kind"), office: q("office"), status: q("status").isEmpty ? "all" : q("status"))
}

@Sendable func taxpayersPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let f = listFilters(req)
    let page = req.query[String.self, at: "page"].flatMap { Int(FormInput.normalized($0)) } ?? 1
    let reach = actor.role == .taxpayer || actor.offices.count > 300 ? [] : try await p.store.officeNames(actor.offices).map { (id: $0.key, name: $0.value) }.sorted { $0.id < $1.id }
    do {
        let l = try await p.filing.taxpayerList(by: actor, search: f.q, kind: f.kind.isEmpty ? nil : f.kind, office: f.office.isEmpty ? nil : f.office,
                                                status: f.status, page: page)
        return TaxpayerPages.list(req, listing: l, filters: f, offices: try await p.store.officeNames(Set(l.rows.map(\.office_id))), reach: reach)
    } catch let ServiceError.invalid(field, zh, en) {
        let l = try await p.filing.taxpayerList(by: actor, search: nil, kind: nil, office: nil, status: nil, page: 1)
        let response = TaxpayerPages.list(req, listing: l, filters: .init(), offices: try await p.store.officeNames(Set(l.rows.map(\.office_id))), reach: reach,
                                          error: FormError(path: field, zh: zh, en: en, form: nil, lang: req.web.lang))
        response.status = .badRequest
        return response
    }
}

@Sendable func taxpayerPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    return try await taxpayerPageWith(req, actor: actor, id: req.parameters.get("taxpayer") ?? "", error: nil, status: .ok)
}

@Sendable func returnFormPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    guard let form = WebPath.ReturnForm(rawValue: req.parameters.get("form") ?? "") else { throw ServiceError.notFound }
    let t = try await p.access.fileableTaxpayer(id, by: actor)
    let periods = try await p.filing.fileablePeriods(by: actor, taxpayerID: id, kind: form.section)
    guard let from = req.query[String.self, at: "from"], !from.isEmpty else {
        // `?period=` (from the 待办 list) chooses the period; the form offers only periods the taxpayer can file.
        let chosen = req.query[String.self, at: "period"].flatMap { p in periods.contains { $0.period == p } ? p : nil }
        return ReturnFormPage.render(req, .init(taxpayer: t, form: form, values: chosen.map { ["period": $0] } ?? [:], correcting: nil, periods: periods))
    }
    // A correction (更正申报) opens the form of that return's tax, filled with its current version and computed again.
    let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: from)
    guard let current = versions.last else { throw ServiceError.notFound }
    let own = WebPath.ReturnForm(section: current.section)
    guard own == form else { return req.redirect(to: WebPath.file(taxpayer: id, form: own, correcting: from).href) }
    var values = FilingService.storedCase(current.case_json).map { ReturnForms.values(of: $0, form) } ?? [:]
    var state = ReturnFormPage.State(taxpayer: t, form: form, values: values, correcting: from, periods: periods)
    do {
        let a = try await p.filing.preview(by: actor, taxpayerID: id, caseJSON: try await ReturnForms.caseJSON(form, values, taxpayer: id, actor: actor, filing: p.filing),
                                           declaredTax: nil)
        values["declared_tax"] = a.tax.description
        state.values = values
        state.assessment = a
    } catch let r as Refusal {
        state.error = FormError(path: r.path, zh: r.messageZh, en: r.messageEn, form: form, lang: req.web.lang)
    } catch let ServiceError.invalid(field, zh, en) {
        state.error = FormError(path: field, zh: zh, en: en, form: form, lang: req.web.lang)
    }
    return ReturnFormPage.render(req, state)
}

@Sendable func returnFormSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    guard let form = WebPath.ReturnForm(rawValue: req.parameters.get("form") ?? "") else { throw ServiceError.notFound }
    var values = try req.postedForm()
    let t = try await p.access.fileableTaxpayer(id, by: actor)
    let lang = req.web.lang
    let correcting = values["correcting"].flatMap { $0.isEmpty ? nil : $0 }
    var state = ReturnFormPage.State(taxpayer: t, form: form, values: values, correcting: correcting,
                                     periods: try await p.filing.fileablePeriods(by: actor, taxpayerID: id, kind: form.section))
    func again(_ error: FormError?, status: HTTPStatus) -> Response {
        state.values = values; state.error = error; state.status = status
        return ReturnFormPage.render(req, state)
    }
    // The language switch resubmits the form: the same page in the other language, nothing typed lost, and the
    // result shown again if one was shown.
    if values["action"] == "relang" {
        if values["computed_tax"].map({ !$0.isEmpty }) == true,
           let caseJSON = try? await ReturnForms.caseJSON(form, values, taxpayer: id, actor: actor, filing: p.filing) {
            state.assessment = try? await p.filing.preview(by: actor, taxpayerID: id, caseJSON: caseJSON, declaredTax: nil)
        }
        return again(nil, status: .ok)
    }
    do {
        let caseJSON = try await ReturnForms.caseJSON(form, values, taxpayer: id, actor: actor, filing: p.filing)
        let declaredText = FormInput.amount(values["declared_tax"] ?? "")
        let declared = declaredText.isEmpty ? nil : try FilingService.declaredTax(declaredText, field: "declared_tax")
        let assessment = try await p.filing.preview(by: actor, taxpayerID: id, caseJSON: caseJSON, declaredTax: declared)
        state.assessment = assessment
        // The same form submitted again (its idempotency key already used) is answered as the filing it made.
        let key = values["idempotency_key"].flatMap { $0.isEmpty ? nil : "web:" + $0 }
        let resubmitted = values["action"] == "submit" && key != nil
            ? try await p.store.version(taxpayer: id, idempotencyKey: key!) != nil : false
        // A period already filed is corrected only through its own path, and a correction only of its own return.
        if let correcting, correcting != assessment.returnID {
            return again(FormError(input: "period", label: lang.t("所属期", "Period"),
                                   message: lang.t("更正申报只能更正 \(Show.returnName(correcting, lang))", "a correction can only correct \(Show.returnName(correcting, lang))")),
                         status: .unprocessableEntity)
        }
        let filedBefore = try await p.store.versions(taxpayer: id, returnID: assessment.returnID).last != nil
        if correcting != nil, !filedBefore {
            return again(FormError(input: "period", label: lang.t("所属期", "Period"),
                                   message: lang.t("\(Show.returnName(assessment.returnID, lang)) 尚未申报，无可更正", "\(Show.returnName(assessment.returnID, lang)) is not filed; there is nothing to correct")),
                         status: .unprocessableEntity)
        }
        if correcting == nil, filedBefore, !resubmitted {
            var e = FormError(input: "period", label: lang.t("所属期", "Period"),
                              message: lang.t("本期已申报：\(Show.returnName(assessment.returnID, lang))。如需修改，请使用更正申报。",
                                              "already filed: \(Show.returnName(assessment.returnID, lang)). To change it, file a correction."))
            e.link = (WebPath.file(taxpayer: id, form: form, correcting: assessment.returnID).href, lang.t("更正申报", "File a correction"))
            return again(e, status: .conflict)
        }
        guard values["action"] == "submit" else {
            // Computing again puts the new figure in the declared box.
            values["declared_tax"] = assessment.tax.description
            return again(nil, status: .ok)
        }
        // Inputs changed since the figure the user last saw: compute again and show it instead of filing.
        guard values["computed_tax"] == assessment.tax.description || resubmitted else {
            values["declared_tax"] = assessment.tax.description
            return again(FormError(input: "declared_tax", label: lang.t("申报税额", "Tax declared"),
                                   message: lang.t("申报数据已变更，已按新数据重新计算（\(Show.yuan(assessment.tax))）：请核对后再提交。",
                                                   "the figures changed since the last computation; computed again (\(Show.yuan(assessment.tax))): check it and file again.")),
                         status: .conflict)
        }
        guard let declared else {
            return again(FormError(path: "declared_tax", zh: "请填写申报税额（可采用计算结果）", en: "give the tax you declare (the computed amount is a valid choice)",
                                   form: form, lang: lang), status: .badRequest)
        }
        if declared != assessment.tax, values["confirm_difference"] != "on" {
            return again(FormError(path: "confirm_difference", zh: "申报税额与计算结果不同：请确认差额，或改为计算结果", en: "the tax declared differs from the computed one: confirm the difference, or declare the computed figure",
                                   form: form, lang: lang), status: .unprocessableEntity)
        }
        guard values["confirm"] == "on" else {
            return again(FormError(path: "confirm", zh: "请勾选确认后再提交申报", en: "tick the confirmation before filing", form: form, lang: lang), status: .badRequest)
        }
        let filed = try await p.filing.file(by: actor, taxpayerID: id, caseJSON: caseJSON, declaredTax: declared,
                                            idempotencyKey: key,
                                            remote: req.clientAddress)
        let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: filed.row.return_id)
        return ReturnPage.render(req, taxpayer: t, versions: versions, justFiled: true, filers: try await p.filing.filers(of: versions, for: actor, logins: true))
    } catch let r as Refusal {
        return again(FormError(path: r.path, zh: r.messageZh, en: r.messageEn, form: form, lang: lang), status: r.code == .invalidInput ? .badRequest : .unprocessableEntity)
    } catch let ServiceError.invalid(field, zh, en) {
        return again(FormError(path: field, zh: zh, en: en, form: form, lang: lang), status: .badRequest)
    } catch let ServiceError.unprocessable(field, zh, en) {
        return again(FormError(path: field, zh: zh, en: en, form: form, lang: lang), status: .unprocessableEntity)
    }
}

@Sendable func returnPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: req.parameters.get("return") ?? "")
    return ReturnPage.render(req, taxpayer: t, versions: versions, justFiled: false, filers: try await p.filing.filers(of: versions, for: actor, logins: true))
}

/// What the taxpayer page shows of the administration loop for `t`.
func account(_ req: Request, actor: Actor, taxpayer t: TaxpayerRow, error: HTML? = nil) async throws -> String {
    let s = req.application.platform.services
    let ledger = try await s.ledger.ledger(by: actor, taxpayerID: t.id)
    let a = AccountPages.Account(overview: try await s.filing.overview(by: actor, taxpayerID: t.id),
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
        return MonitoringPages.render(req, r, mayScreen: false, error: AdminPages.error(field, zh, en, req.web.lang).html(req.web.lang), status: .badRequest)
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
        return MonitoringPages.render(req, r, mayScreen: true, error: AdminPages.error(field, zh, en, req.web.lang).html(req.web.lang), status: .unprocessableEntity)
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
    let v = try await s.ledger.notice(by: actor, id: req.parameters.get("notice") ?? "", remote: req.clientAddress)
    let t = try await s.access.readableTaxpayer(v.notice.taxpayer_id, by: actor)
    let office = try await s.store.officeNames([v.notice.office_id])[v.notice.office_id] ?? v.notice.office_id
    return AccountPages.notice(req, v, taxpayer: t, officeName: office, actor: actor)
}

@Sendable func acknowledgeSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    _ = try req.postedForm()
    let id = req.parameters.get("notice") ?? ""
    _ = try await req.application.platform.services.ledger.acknowledge(by: actor, id: id, remote: req.clientAddress)
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
        _ = try await s.ledger.requestRefund(by: actor, taxpayerID: id, tax: form["tax"] ?? "", amount: form["amount"] ?? "", remote: req.clientAddress)
        return req.redirect(to: WebPath.taxpayer(id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await taxpayerPageWith(req, actor: actor, id: id, error: AdminPages.error(field, zh, en, req.web.lang).html(req.web.lang), status: .badRequest)
    } catch let ServiceError.unprocessable(field, zh, en) {
        return try await taxpayerPageWith(req, actor: actor, id: id, error: AdminPages.error(field, zh, en, req.web.lang).html(req.web.lang), status: .unprocessableEntity)
    }
}

@Sendable func approveRefundSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let form = try req.postedForm()
    let s = req.application.platform.services
    let refund = try await s.ledger.approveRefund(by: actor, id: req.parameters.get("refund") ?? "", remote: req.clientAddress)
    return req.redirect(to: WebPath.taxpayer(form["taxpayer"].flatMap { $0.isEmpty ? nil : $0 } ?? refund.taxpayer_id).href, redirectType: .normal)
}

/// The taxpayer page, with an error above the account sections when a form on it was refused.
func taxpayerPageWith(_ req: Request, actor: Actor, id: String, error: HTML?, status: HTTPStatus) async throws -> Response {
    let p = req.application.platform
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let returns = try await p.filing.currentReturns(by: actor, taxpayerID: id)
    let offices = try await p.store.officeNames([t.office_id])
    var registry: TaxpayerPages.Registry?
    if actor.role != .taxpayer {
        let history = try await p.registry.history(by: actor, taxpayerID: id)
        registry = TaxpayerPages.Registry(frequencies: try await p.store.vatFrequencies(taxpayer: id), history: history,
                                          mayEdit: actor.role == .officer || actor.role == .administrator,
                                          offices: try await p.store.officeNames(Set(history.map(\.office_id))))
    }
    let response = TaxpayerPages.detail(req, taxpayer: t, returns: returns, mayFile: p.access.mayFile(actor), offices: offices,
                                        account: try await account(req, actor: actor, taxpayer: t, error: error), registry: registry)
    response.status = status
    return response
}

/// Turns service errors into pages: out of reach is 404 (reveals nothing), read-only is 403, a bad CSRF token 403.
struct WebErrors: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let t = request.web
        do { return try await next.respond(to: request) }
        catch ServiceError.notFound {
            return await notFoundPage(request)
        } catch ServiceError.forbidden(let why) {
            let parts = why.components(separatedBy: " / ")
            let said = parts.count == 2 ? t.t(parts[1], parts[0]) : why
            return Layout.page(request, title: t.t("不允许", "Not allowed"), status: .forbidden,
                               "<p>\(t.t("您的账号无权进行此操作。", "Your account may not do this."))</p><p class=\"muted\">\(said)</p>")
        } catch WebError.csrf {
            return Layout.page(request, title: t.t("请求无效", "Invalid request"), status: .forbidden,
                               "<p>\(t.t("表单已过期或来源不明，请返回重新提交。", "The form expired or did not come from this site; go back and submit it again."))</p>")
        }
    }
}

/// Whether a request is for the web pages (an unknown URL there gets an HTML page): not the API, the OpenAPI
/// document, metrics or health, which keep JSON.
func isPage(_ request: Request) -> Bool {
    let path = request.url.path
    return !(path.hasPrefix("/api/") || path == "/api" || path == "/openapi.json" || path == "/metrics" || path == "/health")
}

/// The HTML 404 page for an unknown URL, in the language of the cookie or `?lang=`.
func notFoundPage(_ request: Request) async -> Response {
    if request.storage[WebContextKey.self] == nil {
        // An unknown URL never passed through `WebSession`: resolve the language and the session here, so the page
        // keeps the header (and the way back) of the signed-in user.
        let lang = request.query[String.self, at: "lang"].flatMap(Lang.init(rawValue:)) ?? request.cookies[WebCookie.lang].flatMap { Lang(rawValue: $0.string) } ?? .zh
        let session = request.cookies[WebCookie.session]?.string
        var actor: Actor?
        if let session { actor = try? await request.application.platform.auth.actor(session: session) }
        request.storage[WebContextKey.self] = WebContext(lang: lang, actor: actor, session: actor == nil ? nil : session)
    }
    let t = request.web
    return Layout.page(request, title: t.t("未找到", "Not found"), status: .notFound, """
    <p id="not-found">\(t.t("没有这个页面，或您无权查看。", "There is no such page, or it is not within your reach."))</p>
    <p><a href="\(WebPath.home.href)">\(t.t("返回首页", "Go to the home page"))</a></p>
    """)
}
