import HuiqiServices
import Vapor

/// The frame of every page: header with the navigation, the language switch and the logout button.
/// Plain HTML forms and links only: every page works without JavaScript.
enum Layout {
    /// `langForm`: on a page whose state is a posted form, the language switch resubmits that form (so nothing
    /// typed is lost); elsewhere it is a link to the same URL with the query kept.
    static func page(_ req: Request, title: String, status: HTTPStatus = .ok, langForm: (id: String, action: String)? = nil, _ body: HTML) -> Response {
        let ctx = req.web
        let other: Lang = ctx.lang == .zh ? .en : .zh
        var nav: HTML = ""
        if let actor = ctx.actor {
            nav = """
            <nav aria-label="\(ctx.t("主导航", "Main"))">
            \(actor.role == .taxpayer ? "<a href=\"\(WebPath.home.href)\" id=\"nav-home\">\(ctx.t("首页", "Home"))</a>" as HTML : "")
            <a href="\(WebPath.taxpayers(search: nil).href)" id="nav-taxpayers">\(actor.role == .taxpayer ? ctx.t("我的纳税人", "My taxpayers") : ctx.t("纳税人", "Taxpayers"))</a>
            \(actor.role == .taxpayer ? "" : "<a href=\"\(WebPath.monitor(kind: nil, period: nil, office: nil).href)\" id=\"nav-monitor\">\(ctx.t("申报监控", "Monitoring"))</a> <a href=\"\(WebPath.statistics.href)\" id=\"nav-statistics\">\(ctx.t("减免统计", "Statistics"))</a> <a href=\"\(WebPath.supervision.href)\" id=\"nav-supervision\">\(ctx.t("督导考核", "Supervision"))</a> <a href=\"\(WebPath.tasks.href)\" id=\"nav-tasks\">\(ctx.t("整改任务", "Tasks"))</a> <a href=\"\(WebPath.reports(period: nil, office: nil).href)\" id=\"nav-reports\">\(ctx.t("逐级上报", "Reports"))</a> <a href=\"\(WebPath.registries.href)\" id=\"nav-registries\">\(ctx.t("部门比对", "Registries"))</a> <a href=\"/simulation\" id=\"nav-simulation\">\(ctx.t("政策测算", "Simulation"))</a>" as HTML)
            \(actor.role == .administrator || actor.role == .officer ? "<a href=\"\(WebPath.admin.href)\" id=\"nav-admin\">\(ctx.t("登记管理", "Registry"))</a>" as HTML : "")
            <a href="\(WebPath.complaints.href)" id="nav-complaints">\(ctx.t("投诉", "Complaints"))</a> <a href="\(WebPath.kb(query: nil).href)" id="nav-kb">\(ctx.t("知识库", "Knowledge base"))</a>
            </nav>
            <span class="who">\(actor.login)（\(roleName(actor.role, ctx.lang))）</span>
            <form method="post" action="\(WebPath.logout.href)" class="inline"><input type="hidden" name="csrf" value="\(ctx.csrf ?? "")"><button type="submit" id="logout">\(ctx.t("退出", "Log out"))</button></form>
            """
        } else {
            nav = """
            <nav aria-label="\(ctx.t("主导航", "Main"))"><a href="\(WebPath.portal.href)" id="nav-portal">\(ctx.t("政策与自测", "Reliefs and self-check"))</a>
            <a href="\(WebPath.kb(query: nil).href)" id="nav-kb">\(ctx.t("知识库", "Knowledge base"))</a> <a href="\(WebPath.login.href)" id="nav-login">\(ctx.t("登录", "Log in"))</a></nav>
            """
        }
        let switchLabel = other == .en ? "English" : "中文"
        let langSwitch: HTML
        if let langForm {
            langSwitch = "<button type=\"submit\" form=\"\(langForm.id)\" formaction=\"\(langForm.action)?lang=\(other.rawValue)\" name=\"action\" value=\"relang\" class=\"lang\" id=\"lang-switch\" lang=\"\(other == .en ? "en" : "zh-CN")\">\(switchLabel)</button>"
        } else {
            var items = (req.url.query ?? "").split(separator: "&").filter { !$0.hasPrefix("lang=") }.map(String.init)
            items.append("lang=\(other.rawValue)")
            langSwitch = "<a class=\"lang\" id=\"lang-switch\" lang=\"\(other == .en ? "en" : "zh-CN")\" href=\"\(req.url.path + "?" + items.joined(separator: "&"))\">\(switchLabel)</a>"
        }
        let html: HTML = """
        <!doctype html>
        <html lang="\(ctx.lang == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · 惠企 Huiqi</title><style>\(HTML(raw: css))</style></head>
        <body><a class="skip" href="#main">\(ctx.t("跳到正文", "Skip to content"))</a>
        <header><a class="brand" href="\(WebPath.home.href)">惠企 Huiqi</a> \(nav) \(langSwitch)</header>
        <main id="main"><h1>\(title)</h1>
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

    static func prompts(_ prompts: [Prompt], _ lang: Lang) -> HTML {
        guard !prompts.isEmpty else { return "" }
        let items: [HTML] = prompts.map { "<li class=\"prompt \($0.code)\" data-code=\"\($0.code)\">\(Show.humanized(lang.t($0.zh, $0.en), lang))</li>" }
        return "<ul class=\"prompts\" id=\"prompts\">\(items)</ul>"
    }

    static let css = """
    body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1a1a1a;line-height:1.5}
    header{background:#9e1c1c;color:#fff;padding:.5em 1em;display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center}
    header a,header .who,header button{color:#fff;white-space:nowrap}header nav{display:flex;flex-wrap:wrap;gap:.4em 1em}
    header .brand{font-weight:bold}header .lang{margin-left:auto}header button{background:transparent;border:1px solid #fff;border-radius:3px;padding:.1em .5em;font:inherit;cursor:pointer}
    .skip{position:absolute;left:-999em}.skip:focus{left:1em;top:.5em;background:#fff;color:#000;padding:.3em;z-index:2}
    main{padding:1em 2em;max-width:72em}a{color:#0b4f9c}
    :focus-visible{outline:3px solid #f0b400;outline-offset:2px}
    table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}
    td.num{text-align:right;white-space:nowrap}caption{text-align:left;font-weight:bold;padding:.3em 0}
    .scroll{overflow-x:auto;max-width:100%}
    .error{background:#fde8e8;border:1px solid #b3261e;padding:.5em .8em;margin:.5em 0}.error p{margin:.2em 0}
    .warning{background:#fff6d6;border:1px solid #8a6d00;padding:.5em .8em;margin:.5em 0}
    .prompts{background:#fff6d6;border:1px solid #8a6d00;padding:.5em 2em}
    .relief{background:#eaf6ea;border:1px solid #2e7d32;padding:.5em .8em;margin:.5em 0}
    form.inline{display:inline}.field{margin:.4em 0}.field label{display:block;font-weight:600}.field.check{display:flex;gap:.5em;align-items:flex-start}
    .field.check label{font-weight:normal;display:inline}.filters{display:flex;flex-wrap:wrap;gap:.2em 1em;align-items:flex-end}
    input,select,button,textarea{font:inherit}textarea,input[type=file]{max-width:100%;box-sizing:border-box}input[aria-invalid=true],select[aria-invalid=true]{border:2px solid #b3261e;background:#fff8f8}
    button{padding:.3em .9em}fieldset{margin:.8em 0;border:1px solid #999}
    .muted{color:#555}.lead{font-size:1.1em}dt{font-weight:600;margin-top:.3em}tr.flagged{background:#fff4f4}.flag{color:#a11}.crumbs{margin:.5em 0}tr.missing td{background:#fff4f4}.code{font-family:monospace}
    li.unread{font-weight:bold}li.overdue,tr.overdue .state,.status.overdue{color:#a11}.state.filed,.status.filed{color:#1b5e20}
    progress{width:100%;max-width:30em;height:1.2em}.pager{display:flex;gap:1em;margin:.5em 0}
    .sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}details.technical{margin-top:.3em}details.technical code{white-space:pre-wrap}
    @media (max-width:600px){main{padding:.5em;overflow-wrap:anywhere}td,th{padding:.2em .3em}main table:not(.lines){display:block;overflow-x:auto;max-width:100%}main table:not(.lines) td,main table:not(.lines) th{overflow-wrap:normal}main table:not(.lines) th[scope=row]{min-width:7em}
      table.lines thead{display:none}table.lines,table.lines tbody,table.lines tr{display:block}table.lines tr{border:1px solid #bbb;margin:.5em 0;padding:.3em}
      table.lines td,table.lines th{display:flex;justify-content:space-between;align-items:center;gap:.5em;border:0}
      table.lines td::before{content:attr(data-label);font-weight:600}table.lines caption{display:block}table.lines input[type=text],table.lines input:not([type]){max-width:10em}}
    @media print{header,form,.noprint,.skip,details.technical,.pager{display:none}main{padding:0;max-width:none}@page{size:A4;margin:18mm}
      body{font-size:10.5pt}a{color:#000;text-decoration:none}.notice{font-size:11pt}.notice h2{font-size:12pt}details>summary{display:none}details{display:block}}
    """
}
