import Foundation
import HuiqiSearch
import HuiqiServices
import HuiqiStore
import Vapor

/// The 12366 knowledge base in the pages: search for everyone (no login), one entry with its approved answer, its
/// legal basis and the parameters it explains; for staff the version history, a form for a new version, and the
/// review of drafts by an approver.
enum KnowledgePages {
    static func taxName(_ tax: String, _ lang: Lang) -> String {
        switch tax {
        case "vat": return lang.t("增值税", "VAT")
        case "bt": return lang.t("营业税", "business tax")
        case "eit": return lang.t("企业所得税", "enterprise income tax")
        case "pit": return lang.t("个人所得税（经营所得）", "individual income tax (business income)")
        case "local": return lang.t("六税两费及附加", "local taxes and surcharges")
        default: return lang.t("综合", "general")
        }
    }
    static func years(_ from: Int, _ to: Int?, _ lang: Lang) -> String {
        to.map { $0 == from ? lang.t("\(from)年", "\(from)") : lang.t("\(from)–\($0)年", "\(from)–\($0)") } ?? lang.t("\(from)年起", "from \(from)")
    }
    static func snippet(_ parts: [SnippetPart]) -> HTML {
        HTML(raw: parts.map { $0.marked ? "<mark>\(HTML.escape($0.text))</mark>" : HTML.escape($0.text) }.joined())
    }
    static func statusName(_ s: String, _ lang: Lang) -> String {
        switch s {
        case "approved": return lang.t("已批准", "approved")
        case "rejected": return lang.t("已退回", "rejected")
        default: return lang.t("草稿，待审核", "draft, awaiting review")
        }
    }

    static func search(_ req: Request, query: String, tax: String?, year: String, result: KBSearchResult?, error: FormError?, status: HTTPStatus) -> Response {
        let t = req.web
        let taxes: [(String, String)] = [("", t.t("全部税种", "all taxes"))] + KnowledgeService.taxes.map { ($0, taxName($0, t.lang)) }
        let options: [HTML] = taxes.map { "<option value=\"\($0.0)\"\(tax == $0.0 || (tax == nil && $0.0.isEmpty) ? " selected" : "")>\($0.1)</option>" }
        let rows: [HTML] = (result?.results ?? []).map { r in
            """
            <li class="result"><h2 class="result-title"><a href="\(WebPath.kbEntry(r.hit.entry_id).href)">\(r.hit.title)</a></h2>
            <p class="meta">\(taxName(r.hit.tax, t.lang)) · \(years(r.hit.year_from, r.hit.year_to, t.lang))\(r.hit.kind == "document" ? " · " + t.t("政策文件", "policy document") : "")\(r.stale ? HTML(raw: " · <strong class=\"stale\">" + HTML.escape(t.t("政策有新变化，答案待复核", "the law changed: answer under review")) + "</strong>") : "")</p>
            <p class="snippet">\(snippet(r.snippet))</p></li>
            """
        }
        let staff: HTML = KnowledgeService.isStaff(t.actor) ? """
            <p><a href="\(WebPath.kbNew.href)" id="kb-new">\(t.t("撰写新问答", "Write a new answer"))</a> · <a href="\(WebPath.kbReview.href)" id="kb-review">\(t.t("待审核与待复核", "Drafts and answers to review"))</a></p>
            """ : ""
        return Layout.page(req, title: t.t("12366 知识库", "12366 knowledge base"), status: status, """
        <p class="lead">\(t.t("每个问题只有一个经审核批准的统一答复口径，并注明政策依据。", "One approved, unified answer per question, with its legal basis."))</p>
        \(error?.html(t.lang))
        <form method="get" action="\(WebPath.kb(query: nil).href)" id="kb-search" role="search">
        <div class="field"><label for="q">\(t.t("问题或关键词", "Question or words"))</label> <input type="search" name="q" id="q" value="\(query)" size="40" maxlength="\(KnowledgeService.maxQueryLength)"\(Controls.marked("q", error?.input))></div>
        <div class="field"><label for="tax">\(t.t("税种", "Tax"))</label> <select name="tax" id="tax">\(options)</select></div>
        <div class="field"><label for="year">\(t.t("年度", "Year"))</label> <input type="text" name="year" id="year" value="\(year)" size="6" inputmode="numeric"\(Controls.marked("year", error?.input))></div>
        <button type="submit" id="kb-go">\(t.t("搜索", "Search"))</button></form>
        \(staff)
        \(result == nil ? "" : result!.results.isEmpty ? "<p id=\"kb-empty\">\(t.t("没有找到答案。可以换个说法，或拨打12366。", "No answer found. Try other words, or call 12366."))</p>" as HTML
            : "<p class=\"muted\" id=\"kb-count\">\(t.t("找到 \(result!.results.count) 条", "\(result!.results.count) answers"))</p><ol id=\"kb-results\" class=\"results\">\(rows)</ol>" as HTML)
        """)
    }

    static func entry(_ req: Request, view: KBEntryView, service: KnowledgeService, mayApprove: Bool, error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let staff = KnowledgeService.isStaff(t.actor)
        let shown = view.current ?? (staff ? view.versions.first : nil)
        guard let v = shown else { return Layout.page(req, title: t.t("未找到", "Not found"), status: .notFound, "<p>\(t.t("该条目尚无经批准的答案。", "This entry has no approved answer yet."))</p>") }
        let paragraphs: [HTML] = v.body.split(separator: "\n").map { "<p>\(String($0))</p>" }
        let cites: [HTML] = service.citations(v).map { "<li>\($0)</li>" }
        let links: [HTML] = service.links(v).map { l in
            "<tr><td><code>\(l.parameter)\(l.key.map { "（\($0)）" } ?? "")</code></td><td>\(l.value)</td><td>\(l.from) – \(l.to ?? "")</td><td>\(l.cite)</td></tr>"
        }
        let staleNote: HTML = view.staleLinks.isEmpty ? "" : """
            <p class="warning" id="kb-stale" role="status">\(t.t("本答案所依据的参数（\(Set(view.staleLinks.map(\.parameter)).sorted().joined(separator: "、"))）已有新版本，答案待复核。", "A parameter this answer explains (\(Set(view.staleLinks.map(\.parameter)).sorted().joined(separator: ", "))) has a new version: the answer is under review."))</p>
            """
        var history: HTML = ""
        if staff {
            let rows: [HTML] = view.versions.map { x in
                let r = view.review(x.version)
                var form: HTML = ""
                if mayApprove && r == nil && x.author != t.actor?.userID {
                    form = """
                    <form method="post" action="\(WebPath.kbEntry(view.entry.id).href)" class="inline" id="review-\(x.version)">\(Controls.csrf(req))
                    <input type="hidden" name="action" value="review"><input type="hidden" name="version" value="\(x.version)">
                    <label for="note-\(x.version)">\(t.t("审核意见", "Note"))</label> <input type="text" name="note" id="note-\(x.version)" size="20">
                    <button type="submit" name="decision" value="approve" id="approve-\(x.version)">\(t.t("批准", "Approve"))</button>
                    <button type="submit" name="decision" value="reject" id="reject-\(x.version)">\(t.t("退回", "Reject"))</button></form>
                    """
                }
                return "<tr><td>\(x.version)</td><td>\(x.title)</td><td>\(x.effective_from)</td><td class=\"state\">\(statusName(view.status(x), t.lang))</td><td>\(Show.beijing(x.created_at))</td><td>\(r?.note ?? "")\(form)</td></tr>"
            }
            history = """
            <h2>\(t.t("版本记录", "Versions"))</h2>
            <div class="scroll"><table id="kb-versions"><thead><tr><th scope="col">\(t.t("版本", "Version"))</th><th scope="col">\(t.t("问题", "Question"))</th><th scope="col">\(t.t("生效日期", "In effect from"))</th><th scope="col">\(t.t("状态", "State"))</th><th scope="col">\(t.t("撰写时间", "Written"))</th><th scope="col">\(t.t("审核", "Review"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
            <h2>\(t.t("撰写新版本", "Write a new version"))</h2>
            \(draftForm(req, action: WebPath.kbEntry(view.entry.id).href, values: ["title": v.title, "body": v.body, "year_from": "\(v.year_from)", "year_to": v.year_to.map(String.init) ?? "",
                                                                                  "parameters": Set(service.links(v).map(\.parameter)).sorted().joined(separator: " ")], error: error, newEntry: false))
            """
        }
        return Layout.page(req, title: v.title, status: status, """
        \(staleNote)
        \(error?.html(t.lang))
        <p class="meta">\(taxName(view.entry.tax, t.lang)) · \(years(v.year_from, v.year_to, t.lang)) · \(t.t("第 \(v.version) 版", "version \(v.version)"))\(view.current == nil ? " · " + statusName(view.status(v), t.lang) : "")</p>
        <section id="kb-answer" aria-label="\(t.t("答复", "Answer"))">\(paragraphs)</section>
        \(cites.isEmpty ? "" : "<h2>\(t.t("政策依据", "Legal basis"))</h2><ul id=\"kb-citations\">\(cites)</ul>" as HTML)
        \(links.isEmpty ? "" : "<details><summary>\(t.t("所解释的政策参数", "Parameters explained"))</summary><div class=\"scroll\"><table id=\"kb-links\"><thead><tr><th scope=\"col\">\(t.t("参数", "Parameter"))</th><th scope=\"col\">\(t.t("取值", "Value"))</th><th scope=\"col\">\(t.t("适用期间", "Applies"))</th><th scope=\"col\">\(t.t("依据", "Source"))</th></tr></thead><tbody>\(links)</tbody></table></div></details>" as HTML)
        \(history)
        <p><a href="\(WebPath.kb(query: nil).href)">\(t.t("返回知识库", "Back to the knowledge base"))</a></p>
        """)
    }

    static func draftForm(_ req: Request, action: String, values v: [String: String], error: FormError?, newEntry: Bool) -> HTML {
        let t = req.web
        let taxes: HTML = newEntry ? Controls.select("tax", t.t("税种", "Tax"), KnowledgeService.taxes.map { ($0, taxName($0, t.lang)) }, v, invalid: error?.input) : ""
        return """
        <form method="post" action="\(action)" id="kb-draft">\(Controls.csrf(req))<input type="hidden" name="action" value="draft">
        \(taxes)
        \(Controls.text("title", t.t("问题", "Question"), v, invalid: error?.input))
        <div class="field"><label for="body">\(t.t("答复", "Answer"))</label> <textarea name="body" id="body" rows="8" cols="70"\(Controls.marked("body", error?.input))>\(v["body"] ?? "")</textarea></div>
        \(Controls.text("year_from", t.t("适用起始年度", "From year"), v, invalid: error?.input))
        \(Controls.text("year_to", t.t("适用截止年度（可空）", "To year (may be empty)"), v, invalid: error?.input))
        \(Controls.text("parameters", t.t("所解释的参数（空格分隔）", "Parameters explained (space separated)"), v, invalid: error?.input))
        <button type="submit" id="kb-save">\(t.t("保存为草稿，提交审核", "Save as a draft for review"))</button></form>
        """
    }

    static func review(_ req: Request, pending: [KBListRow], stale: [(String, String, [String])]) -> Response {
        let t = req.web
        let p: [HTML] = pending.map { "<li><a href=\"\(WebPath.kbEntry($0.id).href)\">\($0.title)</a>（\(t.t("\($0.drafts) 个草稿", "\($0.drafts) drafts"))）</li>" }
        let s: [HTML] = stale.map { "<li><a href=\"\(WebPath.kbEntry($0.0).href)\">\($0.1)</a> · <code>\($0.2.joined(separator: " "))</code></li>" }
        return Layout.page(req, title: t.t("待审核与待复核", "Drafts and answers to review"), """
        <h2>\(t.t("待审核的草稿", "Drafts awaiting review"))</h2>
        \(p.isEmpty ? "<p class=\"muted\" id=\"no-drafts\">\(t.t("没有待审核的草稿。", "No draft awaits review."))</p>" as HTML : "<ul id=\"kb-pending\">\(p)</ul>" as HTML)
        <h2>\(t.t("政策参数已变化、待复核的答案", "Answers whose law has changed"))</h2>
        \(s.isEmpty ? "<p class=\"muted\" id=\"no-stale\">\(t.t("没有待复核的答案。", "No answer awaits review."))</p>" as HTML : "<ul id=\"kb-stale-list\">\(s)</ul>" as HTML)
        """)
    }
}

@Sendable func kbPage(_ req: Request) async throws -> Response {
    let q = (req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespaces)
    let tax = req.query[String.self, at: "tax"].flatMap { $0.isEmpty ? nil : $0 }
    let yearText = (req.query[String.self, at: "year"] ?? "").trimmingCharacters(in: .whitespaces)
    guard !q.isEmpty else { return KnowledgePages.search(req, query: "", tax: tax, year: yearText, result: nil, error: nil, status: .ok) }
    do {
        var year: Int? = nil
        if !yearText.isEmpty {
            guard let y = FormInput.integer(yearText) else { throw ServiceError.invalid(field: "year", zh: "年度应为四位数字", en: "the year is four digits") }
            year = y
        }
        let r = try await req.application.platform.services.knowledge.search(q, filter: KBFilter(tax: tax, year: year), limit: 20)
        return KnowledgePages.search(req, query: q, tax: tax, year: yearText, result: r, error: nil, status: .ok)
    } catch let ServiceError.invalid(field, zh, en) {
        return KnowledgePages.search(req, query: q, tax: tax, year: yearText, result: nil, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

func kbEntryPageWith(_ req: Request, error: FormError?, status: HTTPStatus) async throws -> Response {
    let k = req.application.platform.services.knowledge
    let view = try await k.entry(req.parameters.get("entry") ?? "")
    var mayApprove = false
    if let actor = req.web.actor { mayApprove = try await k.mayApprove(actor) }
    return KnowledgePages.entry(req, view: view, service: k, mayApprove: mayApprove, error: error, status: status)
}

@Sendable func kbEntryPage(_ req: Request) async throws -> Response { try await kbEntryPageWith(req, error: nil, status: .ok) }

func kbDraft(_ v: [String: String], entry: String?) throws -> KBDraft {
    guard let from = FormInput.integer(v["year_from"] ?? "") else {
        throw ServiceError.invalid(field: "year_from", zh: "请填写适用起始年度", en: "give the first year it applies to")
    }
    let toText = (v["year_to"] ?? "").trimmingCharacters(in: .whitespaces)
    var to: Int? = nil
    if !toText.isEmpty {
        guard let n = FormInput.integer(toText) else { throw ServiceError.invalid(field: "year_to", zh: "截止年度应为四位数字", en: "the last year is four digits") }
        to = n
    }
    let params = (v["parameters"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," || $0 == "，" || $0 == "\n" }).map(String.init)
    return KBDraft(entry: entry, kind: "question", tax: v["tax"], title: v["title"] ?? "", body: (v["body"] ?? "").replacingOccurrences(of: "\r\n", with: "\n"),
                   year_from: from, year_to: to, parameters: params)
}

@Sendable func kbEntrySubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    if v["action"] == "relang" { return try await kbEntryPageWith(req, error: nil, status: .ok) }
    let k = req.application.platform.services.knowledge
    let id = req.parameters.get("entry") ?? ""
    do {
        if v["action"] == "review" {
            guard let version = FormInput.integer(v["version"] ?? "") else { throw ServiceError.invalid(field: "version", zh: "版本无效", en: "bad version") }
            try await k.review(entry: id, version: version, approve: v["decision"] == "approve", note: v["note"] ?? "", by: actor)
        } else {
            try await k.createDraft(try kbDraft(v, entry: id), by: actor)
        }
        return req.redirect(to: WebPath.kbEntry(id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await kbEntryPageWith(req, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    } catch let ServiceError.conflict(field, zh, en) {
        return try await kbEntryPageWith(req, error: AdminPages.error(field, zh, en, req.web.lang), status: .conflict)
    }
}

func kbNewPageWith(_ req: Request, values: [String: String], error: FormError?, status: HTTPStatus) throws -> Response {
    let actor = try req.signedIn()
    guard KnowledgeService.isStaff(actor) else { throw ServiceError.forbidden("only tax staff write answers / 仅税务人员可撰写答案") }
    let t = req.web
    return Layout.page(req, title: t.t("撰写新问答", "Write a new answer"), status: status, """
    \(error?.html(t.lang))
    <p class="lead">\(t.t("新问答保存为草稿，经有审核权限的人员批准后对外发布。", "A new answer is a draft until someone with the review permission approves it."))</p>
    \(KnowledgePages.draftForm(req, action: WebPath.kbNew.href, values: values, error: error, newEntry: true))
    """)
}

@Sendable func kbNewPage(_ req: Request) async throws -> Response { try kbNewPageWith(req, values: [:], error: nil, status: .ok) }

@Sendable func kbNewSubmit(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let v = try req.postedForm()
    if v["action"] == "relang" { return try kbNewPageWith(req, values: v, error: nil, status: .ok) }
    do {
        let (id, _) = try await req.application.platform.services.knowledge.createDraft(try kbDraft(v, entry: nil), by: actor)
        return req.redirect(to: WebPath.kbEntry(id).href, redirectType: .normal)
    } catch let ServiceError.invalid(field, zh, en) {
        return try kbNewPageWith(req, values: v, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func kbReviewPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    guard KnowledgeService.isStaff(actor) else { throw ServiceError.forbidden("for tax staff / 仅供税务人员") }
    let k = req.application.platform.services.knowledge
    let pending = try await k.store.kbList(kind: nil, tax: nil, pendingOnly: true, limit: 200, offset: 0)
    var stale: [(String, String, [String])] = []
    for row in try await k.store.kbList(kind: "question", tax: nil, pendingOnly: false, limit: 5000, offset: 0) where row.approved != nil {
        let view = try await k.entry(row.id)
        if !view.staleLinks.isEmpty { stale.append((row.id, view.current?.title ?? row.title, Array(Set(view.staleLinks.map(\.parameter))).sorted())) }
    }
    return KnowledgePages.review(req, pending: pending, stale: stale)
}
