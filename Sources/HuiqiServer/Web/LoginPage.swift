import HuiqiServices
import Vapor

enum LoginPage {
    /// `error`: the message in Chinese and English.
    /// The form carries a fresh CSRF token, also set as a short-lived cookie that the submit must match.
    static func render(_ req: Request, error: (zh: String, en: String)?, status: HTTPStatus) -> Response {
        let t = req.web
        let csrf = AuthService.newToken()
        let response = Layout.page(req, title: t.t("登录", "Log in"), status: status, """
        \(error.map { FormError(input: nil, label: nil, message: t.t($0.zh, $0.en)).html(t.lang) })
        <form method="post" action="\(WebPath.login.href)">
        <input type="hidden" name="csrf" value="\(csrf)"><input type="hidden" name="next" value="\(Request.safeNext(req.query[String.self, at: "next"] ?? (try? req.content.decode([String: String].self))?["next"]))">
        <div class="field"><label for="login">\(t.t("用户名", "Login"))</label> <input name="login" id="login" autocomplete="username" required\(error == nil ? "" : HTML(raw: " aria-invalid=\"true\" aria-describedby=\"error\""))></div>
        <div class="field"><label for="password">\(t.t("密码", "Password"))</label> <input type="password" name="password" id="password" autocomplete="current-password" required></div>
        <button type="submit" id="submit">\(t.t("登录", "Log in"))</button>
        </form>
        """)
        response.cookies[WebCookie.loginCSRF] = HTTPCookies.Value(string: csrf, maxAge: 3600, path: WebPath.login.href,
                                                                  isSecure: req.application.platform.secureCookies, isHTTPOnly: true, sameSite: .strict)
        return response
    }
}
