import HuiqiServices
import Vapor

/// The frame of every page: header with the navigation, the language switch and the logout button.
/// Plain HTML forms and links only: every page works without JavaScript.
enum Layout {
    static func page(_ req: Request, title: String, status: HTTPStatus = .ok, _ body: HTML) -> Response {
        let ctx = req.web
        let other: Lang = ctx.lang == .zh ? .en : .zh
        let here = req.url.path + "?lang=\(other.rawValue)"
        var nav: HTML = ""
        if let actor = ctx.actor {
            nav = """
            <a href="\(WebPath.taxpayers(search: nil).href)">\(ctx.t("纳税人", "Taxpayers"))</a>
            \(actor.role == .taxpayer ? "" : "<a href=\"\(WebPath.monitor(kind: nil, period: nil, office: nil).href)\" id=\"nav-monitor\">\(ctx.t("申报监控", "Monitoring"))</a>" as HTML)
            <span class="who">\(actor.login) (\(roleName(actor.role, ctx.lang)))</span>
            <form method="post" action="\(WebPath.logout.href)" class="inline"><input type="hidden" name="csrf" value="\(ctx.csrf ?? "")"><button type="submit" id="logout">\(ctx.t("退出", "Log out"))</button></form>
            """
        }
        let html: HTML = """
        <!doctype html>
        <html lang="\(ctx.lang == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · 惠企 Huiqi</title><style>\(HTML(raw: css))</style></head>
        <body><header><a class="brand" href="\(WebPath.home.href)">惠企 Huiqi</a> \(nav) <a class="lang" href="\(here)">\(other == .en ? "English" : "中文")</a></header>
        <main><h1>\(title)</h1>
        \(body)
        </main></body></html>
        """
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.add(name: .cacheControl, value: "no-store")
        headers.add(name: "Content-Security-Policy", value: "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        return Response(status: status, headers: headers, body: .init(string: html.text))
    }

    static func roleName(_ role: Actor.Role, _ lang: Lang) -> String {
        switch role {
        case .taxpayer: return lang.t("纳税人", "taxpayer")
        case .officer: return lang.t("税务人员", "tax officer")
        case .supervisor: return lang.t("监督人员", "supervisor")
        case .administrator: return lang.t("管理员", "administrator")
        }
    }

    /// A form error or a refusal: the field (its case path, as the API names it) and the message in both
    /// languages, the page's language first.
    static func error(field: String, zh: String, en: String, _ lang: Lang) -> HTML {
        let (first, second) = lang == .zh ? (zh, en) : (en, zh)
        return "<div class=\"error\" role=\"alert\" id=\"error\"><strong>\(field.isEmpty ? "" : field + ": ")</strong>\(first)<br><span class=\"muted\">\(second)</span></div>"
    }

    static func prompts(_ prompts: [Prompt], _ lang: Lang) -> HTML {
        guard !prompts.isEmpty else { return "" }
        let items: [HTML] = prompts.map { "<li class=\"prompt \($0.code)\" data-code=\"\($0.code)\">\(lang.t($0.zh, $0.en))</li>" }
        return "<ul class=\"prompts\" id=\"prompts\">\(items)</ul>"
    }

    static let css = """
    body{font-family:"Noto Sans CJK SC","PingFang SC",sans-serif;margin:0;color:#222}header{background:#b22;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center}
    header a{color:#fff}header .brand{font-weight:bold}header .lang{margin-left:auto}main{padding:1em 2em;max-width:70em}
    table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}td.num{text-align:right}
    .error{background:#fdd;border:1px solid #c33;padding:.5em;margin:.5em 0}.prompts{background:#ffd;border:1px solid #cc6;padding:.5em 2em}
    .relief{background:#efe;border:1px solid #6a6;padding:.5em;margin:.5em 0}form.inline{display:inline}label{display:block;margin:.3em 0}
    fieldset{margin:.5em 0}.muted{color:#666}.lead{font-size:1.1em}.crumbs{margin:.5em 0}tr.missing td{background:#fff4f4}
    li.unread{font-weight:bold}li.overdue{color:#b22}progress{width:100%;max-width:30em;height:1.2em}
    .filters label{display:inline-block;margin-right:1em}main{overflow-x:auto}
    td.num{white-space:nowrap}
    @media (max-width:600px){main{padding:.5em}td,th{padding:.2em}header{flex-wrap:wrap}table{display:block;overflow-x:auto;max-width:100%}}
    @media print{header,form,.noprint,details{display:none}main{padding:0;max-width:none}@page{size:A4;margin:20mm}
      .notice{font-size:11pt}.notice h2{font-size:12pt}a{color:#000;text-decoration:none}}
    """
}
