import HuiqiServices
import HuiqiStore
import Vapor

/// A taxpayer user's home page (首页): for each of its taxpayers, what is due and overdue, what is filed, the relief
/// of the year, and the unread messages, so the first screen after logging in says what to do.
enum HomePage {
    struct Entry {
        let taxpayer: TaxpayerRow
        let overview: TaxpayerOverview
        let unread: [ReminderRow]
    }

    static func render(_ req: Request, entries: [Entry], mayFile: Bool) -> Response {
        let t = req.web
        let sections: [HTML] = entries.map { e in
            let messages: [HTML] = e.unread.prefix(5).map { m in
                let parts = m.message.components(separatedBy: " / ")
                return "<li class=\"message unread\">\(Show.beijing(m.created_at)) \(Show.humanized(t.lang == .zh ? parts[0] : (parts.count > 1 ? parts[1] : parts[0]), t.lang))</li>"
            }
            return """
            <section class="taxpayer-home" aria-labelledby="tp-\(e.taxpayer.id)">
            <h2 id="tp-\(e.taxpayer.id)"><a href="\(WebPath.taxpayer(e.taxpayer.id).href)">\(e.taxpayer.name)</a> <span class="muted code">\(e.taxpayer.id)</span></h2>
            \(AccountPages.todo(req, taxpayer: e.taxpayer, e.overview, mayFile: mayFile, heading: 3))
            \(messages.isEmpty ? "" : """
                <h3>\(t.t("未读消息", "Unread messages"))（\(e.unread.count)）</h3><ul class="home-messages">\(messages)</ul>
                <p><a href="\(WebPath.taxpayer(e.taxpayer.id).href)#messages">\(t.t("查看全部消息与通知书", "All messages and notices"))</a></p>
                """ as HTML)
            </section>
            """
        }
        return Layout.page(req, title: t.t("首页", "Home"), """
        \(sections.isEmpty ? "<p>\(t.t("您的账号尚未绑定纳税人，请联系主管税务机关。", "Your account is not bound to a taxpayer yet; ask your tax office."))</p>" as HTML : "")
        \(sections)
        """)
    }
}
