import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// What a taxpayer's page adds for the administration loop: returns due, messages (提醒), notices, the offset
/// ledger (抵顶) with refunds (退税); and the printable notice itself.
enum AccountPages {
    struct Account {
        let overview: TaxpayerOverview
        let messages: [ReminderRow]
        let notices: [NoticeView]
        let entries: [LedgerEntryRow]
        let balances: [String: Int64]
        let refunds: [RefundRow]
    }

    static func taxName(_ tax: String, _ lang: Lang) -> String { MonitoringPages.kindName(tax, lang) }

    static func stateName(_ state: String, _ lang: Lang) -> String {
        switch state {
        case "issued": return lang.t("已出具（未读）", "issued (unread)")
        case "read": return lang.t("已阅读", "read")
        case "acknowledged": return lang.t("已签收", "acknowledged")
        case "partly_offset": return lang.t("部分已抵顶", "partly offset")
        case "offset": return lang.t("已全部抵顶", "offset")
        case "partly_refunded": return lang.t("部分已退税", "partly refunded")
        case "refunded": return lang.t("已退还（抵顶及退税）", "returned (offset and refund)")
        default: return state
        }
    }

    /// The 待办 (to-do) table: the returns of the current and previous periods, due, overdue or filed, with their
    /// deadlines on the official calendar and a link to file or to see the return; then the relief of the year.
    static func todo(_ req: Request, taxpayer: TaxpayerRow, _ o: TaxpayerOverview, mayFile: Bool, heading: Int) -> HTML {
        let t = req.web
        let rows: [HTML] = o.returns.map { r in
            let id = "\(r.kind):\(r.period)"
            let form = WebPath.ReturnForm(section: r.kind)
            let state: HTML
            let action: HTML
            switch r.state {
            case .filed:
                state = "<span class=\"state filed\">\(t.t("已申报", "filed"))</span>\(r.version.map { $0 > 1 ? t.t("（第 \($0) 版）", " (version \($0))") : "" } ?? "")"
                action = "<a href=\"\(WebPath.returnPage(taxpayer: taxpayer.id, returnID: id).href)\">\(t.t("查看", "View"))</a>"
            case .due, .overdue:
                state = r.state == .overdue
                    ? "<span class=\"state overdue\">\(t.t("已逾期", "overdue"))</span> <span class=\"muted\">\(t.t("逾期申报可能被处以罚款；有应纳税款的，按日加收滞纳金", "late filing may be fined; tax due bears a daily late-payment surcharge"))</span>"
                    : "<span class=\"state due\">\(t.t("待申报", "due"))</span>"
                action = mayFile ? "<a class=\"file-now\" href=\"\(WebPath.file(taxpayer: taxpayer.id, form: form).href)?period=\(HTML.query(r.period))\">\(t.t("去申报", "File now"))</a>" : ""
            }
            return """
            <tr class="\(r.state.rawValue)"><td>\(Show.returnName(id, t.lang))</td><td>\(Show.day(r.deadline, t.lang))</td><td>\(state)</td>
            <td class="num">\(r.relief.map { Show.yuan($0) } ?? "—")</td><td>\(action)</td></tr>
            """
        }
        let relief: [HTML] = LedgerService.taxes.compactMap { tax in
            o.reliefThisYear[tax].map { "<tr><td>\(taxName(tax, t.lang))</td><td class=\"num\" id=\"relief-\(tax)\">\(Show.yuan($0))</td></tr>" }
        }
        let h = "h\(heading)"
        return """
        <\(HTML(raw: h))>\(t.t("待办", "To do"))</\(HTML(raw: h))>
        \(rows.isEmpty ? "<p class=\"muted\">\(t.t("当前没有需要申报的申报表。", "No return is due now."))</p>" as HTML : """
        <div class="scroll"><table id="todo"><thead><tr><th scope="col">\(t.t("申报表", "Return"))</th><th scope="col">\(t.t("申报期限", "Deadline"))</th><th scope="col">\(t.t("状态", "State"))</th>
        <th scope="col">\(t.t("减免税额", "Relief"))</th><th scope="col"><span class="sr">\(t.t("操作", "Action"))</span></th></tr></thead><tbody>\(rows)</tbody></table></div>
        """ as HTML)
        <\(HTML(raw: h))>\(t.t("\(o.year)年已享受优惠", "Relief received in \(o.year)"))</\(HTML(raw: h))>
        \(relief.isEmpty ? "<p class=\"muted\" id=\"relief-none\">\(t.t("本年尚无已申报的减免。", "No relief filed this year yet."))</p>" as HTML
            : "<table id=\"relief-year\"><thead><tr><th scope=\"col\">\(t.t("税种", "Tax"))</th><th scope=\"col\">\(t.t("减免税额", "Relief"))</th></tr></thead><tbody>\(relief)</tbody></table>" as HTML)
        """
    }

    /// The sections of the taxpayer page, in the order a taxpayer needs them.
    static func sections(_ req: Request, taxpayer: TaxpayerRow, account a: Account, actor: Actor) -> HTML {
        let t = req.web
        let csrf: HTML = "<input type=\"hidden\" name=\"csrf\" value=\"\(t.csrf ?? "")\">"
        let messages: [HTML] = a.messages.prefix(50).map { m in
            let parts = m.message.components(separatedBy: " / ")
            let text = Show.humanized(t.lang == .zh ? parts[0] : (parts.count > 1 ? parts[1] : parts[0]), t.lang)
            let button: HTML = m.read_at == nil && actor.role == .taxpayer
                ? "<form method=\"post\" action=\"\(WebPath.readMessage(m.id).href)\" class=\"inline\">\(csrf)<input type=\"hidden\" name=\"taxpayer\" value=\"\(taxpayer.id)\"><button type=\"submit\" class=\"read-message\">\(t.t("标为已读", "Mark read"))</button></form>" : ""
            return "<li class=\"message \(m.read_at == nil ? "unread" : "read")\"><strong>\(m.read_at == nil ? t.t("未读", "unread") : t.t("已读", "read"))</strong> \(Show.beijing(m.created_at)) \(text) \(button)</li>"
        }
        let notices: [HTML] = a.notices.map { v in
            let n = v.notice
            return """
            <tr><td><a href="\(WebPath.notice(n.id).href)" class="notice-link">\(n.documentNumber)</a></td>
            <td>\(n.kind == .overpayment ? t.t("多缴税款退还（抵顶）", "overpayment to return") : t.t("请更正申报", "correction requested"))</td>
            <td>\(Show.returnName(n.return_id, t.lang))</td><td class="num">\(Show.yuan(n.amount_fen))</td><td class="notice-state">\(stateName(v.state, t.lang))</td><td>\(Show.beijing(n.issued_at))</td></tr>
            """
        }
        let balances: [HTML] = LedgerService.taxes.filter { tax in (a.balances[tax] ?? 0) > 0 || a.entries.contains { $0.tax == tax } }.map { tax in
            "<tr><td>\(taxName(tax, t.lang))</td><td class=\"num\" id=\"balance-\(tax)\">\(Show.yuan(a.balances[tax] ?? 0))</td></tr>"
        }
        let entries: [HTML] = a.entries.map { e in
            let what: String
            switch e.kind {
            case .credit: what = t.t("多缴税款（通知书 \(e.notice_id ?? "")）", "overpayment credited (notice \(e.notice_id ?? ""))")
            case .offset: what = e.amount_fen < 0 ? t.t("抵顶 \(Show.returnName(e.return_id ?? "", .zh)) 第\(e.return_version ?? 0)版", "offset against \(Show.returnName(e.return_id ?? "", .en)) v\(e.return_version ?? 0)")
                                                  : t.t("更正 \(Show.returnName(e.return_id ?? "", .zh)) 第\(e.return_version ?? 0)版，退回抵顶", "correction of \(Show.returnName(e.return_id ?? "", .en)) v\(e.return_version ?? 0) gives back")
            case .refund: what = t.t("退税", "refund")
            }
            return "<tr><td>\(Show.beijing(e.at))</td><td>\(taxName(e.tax, t.lang))</td><td>\(what)</td><td class=\"num\">\(Show.yuan(e.amount_fen))</td><td class=\"num\">\(Show.yuan(e.balance_fen))</td></tr>"
        }
        let refunds: [HTML] = a.refunds.map { r in
            let approve: HTML = r.state == "requested" && actor.role == .officer
                ? "<form method=\"post\" action=\"\(WebPath.approveRefund(r.id).href)\" class=\"inline\">\(csrf)<input type=\"hidden\" name=\"taxpayer\" value=\"\(taxpayer.id)\"><button type=\"submit\" class=\"approve-refund\">\(t.t("审核通过", "Approve"))</button></form>" : ""
            let state = r.state == "requested" ? t.t("待审核", "requested") : r.state == "approved" ? t.t("已退税", "approved") : t.t("未通过", "rejected")
            return "<tr><td>\(Show.beijing(r.requested_at))</td><td>\(taxName(r.tax, t.lang))</td><td class=\"num\">\(Show.yuan(r.amount_fen))</td><td class=\"refund-state\">\(state)</td><td>\(approve)</td></tr>"
        }
        let refundable = LedgerService.taxes.filter { (a.balances[$0] ?? 0) > 0 }
        let refundForm: HTML = actor.role == .taxpayer && !refundable.isEmpty ? """
            <form method="post" action="\(WebPath.refunds(taxpayer.id).href)" id="refund-form">\(csrf)
            <label>\(t.t("税种", "Tax")) <select name="tax" id="refund-tax">\(refundable.map { "<option value=\"\($0)\">\(taxName($0, t.lang))</option>" as HTML })</select></label>
            <label>\(t.t("申请退税金额（元）", "Refund amount (yuan)")) <input name="amount" id="refund-amount" inputmode="decimal"></label>
            <button type="submit" id="request-refund">\(t.t("申请退税", "Request a refund"))</button></form>
            """ : ""
        return """
        \(todo(req, taxpayer: taxpayer, a.overview, mayFile: req.application.platform.access.mayFile(actor), heading: 2))
        \(messages.isEmpty ? "" : "<h2>\(t.t("提醒消息", "Messages"))</h2><ul id=\"messages\">\(messages)</ul>" as HTML)
        \(notices.isEmpty ? "" : """
            <h2>\(t.t("税务事项通知书", "Notices"))</h2>
            <table id="notices"><tr><th>\(t.t("文书号", "Number"))</th><th>\(t.t("事项", "Subject"))</th><th>\(t.t("申报表", "Return"))</th>
            <th>\(t.t("金额", "Amount"))</th><th>\(t.t("状态", "State"))</th><th>\(t.t("出具时间", "Issued"))</th></tr>\(notices)</table>
            """ as HTML)
        \(balances.isEmpty && refunds.isEmpty ? "" : """
            <h2>\(t.t("多缴税款抵顶账户", "Offset account (overpaid tax)"))</h2>
            <p>\(t.t("多缴的税款在以后申报同一税种时自动抵顶；也可申请退税，经主管税务机关审核后退还。", "Overpaid tax is offset automatically against later returns of the same tax; you can also ask for a refund, which the tax office approves."))</p>
            <table id="balances"><tr><th>\(t.t("税种", "Tax"))</th><th>\(t.t("可抵顶余额", "Balance"))</th></tr>\(balances)</table>
            <table id="ledger"><tr><th>\(t.t("时间", "When"))</th><th>\(t.t("税种", "Tax"))</th><th>\(t.t("事项", "Entry"))</th><th>\(t.t("金额", "Amount"))</th><th>\(t.t("余额", "Balance"))</th></tr>\(entries)</table>
            \(refundForm)
            \(refunds.isEmpty ? "" : "<table id=\"refunds\"><tr><th>\(t.t("申请时间", "Requested"))</th><th>\(t.t("税种", "Tax"))</th><th>\(t.t("金额", "Amount"))</th><th>\(t.t("状态", "State"))</th><th></th></tr>\(refunds)</table>" as HTML)
            """ as HTML)
        """
    }

    /// The notice, printable on A4: the document number, the taxpayer, the amounts, the legal basis, the
    /// computation, and how the money comes back; the taxpayer acknowledges it here.
    static func notice(_ req: Request, _ v: NoticeView, taxpayer: TaxpayerRow, officeName: String, actor: Actor) -> Response {
        let t = req.web, n = v.notice
        let body = (try? JSONParser.parse(n.body)) ?? .null
        func strings(_ key: String) -> [String] { if case .array(let a)? = body[key] { return a.compactMap(\.stringValue) }; return [] }
        func text(_ key: String) -> String { body[key]?.stringValue ?? "" }
        let rules: [HTML] = strings("rules").map { "<li>\($0)</li>" }
        let trace: [HTML] = strings(t.lang == .zh ? "trace_zh" : "trace").map { "<li>\($0)</li>" }
        let overpaid = n.kind == .overpayment
        let ack: HTML = actor.role == .taxpayer && n.acknowledged_at == nil ? """
            <form method="post" action="\(WebPath.acknowledgeNotice(n.id).href)">\(HTML(raw: "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(t.csrf ?? ""))\">"))
            <button type="submit" id="acknowledge">\(t.t("签收", "Acknowledge"))</button></form>
            """ : ""
        return Layout.page(req, title: t.t("税务事项通知书", "Tax matter notice"), """
        <article class="notice" id="notice">
        <p class="docno" id="docno">\(officeName) · \(n.documentNumber)</p>
        <p class="lead" id="summary">\(overpaid
            ? t.t("\(taxpayer.name)：经复核，您 \(Show.returnName(n.return_id, .zh)) 多缴税款 \(Show.yuan(n.amount_fen))，可抵顶以后应纳税额或申请退税。", "\(taxpayer.name): on review, \(Show.returnName(n.return_id, .en)) paid \(Show.yuan(n.amount_fen)) more than the law asks; it is offset against later tax or refunded on request.")
            : t.t("\(taxpayer.name)：经复核，您 \(Show.returnName(n.return_id, .zh)) 申报的减免超过政策规定，少缴税款 \(Show.yuan(n.amount_fen))，请办理更正申报。", "\(taxpayer.name): on review, \(Show.returnName(n.return_id, .en)) claimed relief that is not due, \(Show.yuan(n.amount_fen)) too little; please file a correction."))</p>
        <table id="amounts">
        <tr><th>\(t.t("纳税人", "Taxpayer"))</th><td>\(taxpayer.name)（\(taxpayer.id)）</td></tr>
        <tr><th>\(t.t("申报表", "Return"))</th><td>\(Show.returnName(n.return_id, t.lang)) \(t.t("第\(n.version)版", "version \(n.version)"))</td></tr>
        <tr><th>\(t.t("申报税额", "Tax declared"))</th><td class="num">\(Show.yuan(Money(decimal: text("declared_tax"))?.fen ?? 0))</td></tr>
        <tr><th>\(t.t("按政策应纳税额", "Tax the law asks"))</th><td class="num">\(Show.yuan(Money(decimal: text("law_tax"))?.fen ?? 0))</td></tr>
        <tr><th>\(overpaid ? t.t("多缴税款", "Overpaid") : t.t("少缴税款", "Underpaid"))</th><td class="num" id="notice-amount">\(Show.yuan(n.amount_fen))</td></tr>
        <tr><th>\(t.t("状态", "State"))</th><td id="notice-state">\(stateName(v.state, t.lang))\(overpaid ? t.t("（已抵顶 \(Show.yuan(v.offsetFen))，已退税 \(Show.yuan(v.refundedFen))，余 \(Show.yuan(v.remainingFen))）", " (offset \(Show.yuan(v.offsetFen)), refunded \(Show.yuan(v.refundedFen)), left \(Show.yuan(v.remainingFen)))") : "")</td></tr>
        </table>
        <h2>\(t.t("政策依据", "Legal basis"))</h2><ul id="basis">\(rules)</ul>
        <h2>\(t.t("计算过程", "Computation"))</h2><ol id="trace">\(trace)</ol>
        <h2>\(overpaid ? t.t("退还方式", "How the money comes back") : t.t("处理方式", "What to do"))</h2><p id="remedy">\(t.lang == .zh ? text("remedy_zh") : text("remedy_en"))</p>
        <p class="muted">\(t.t("出具时间", "Issued")) \(Show.beijing(n.issued_at))\(n.acknowledged_at.map { t.t(" · 签收时间 ", " · acknowledged ") + Show.beijing($0) } ?? "")</p>
        <details><summary>\(t.t("技术细节", "Technical details"))</summary><p>\(strings("parameters").joined(separator: ", "))</p></details>
        </article>
        \(ack)
        <p class="noprint"><a href="\(WebPath.taxpayer(taxpayer.id).href)">\(t.t("返回纳税人页面", "Back to the taxpayer"))</a></p>
        """)
    }
}
