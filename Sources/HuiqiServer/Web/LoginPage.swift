import Vapor

enum LoginPage {
    /// `error`: the message in Chinese and English.
    static func render(_ req: Request, error: (zh: String, en: String)?, status: HTTPStatus) -> Response {
        let t = req.web
        return Layout.page(req, title: t.t("登录", "Log in"), status: status, """
        \(error.map { Layout.error(field: "", zh: $0.zh, en: $0.en, t.lang) })
        <form method="post" action="\(WebPath.login.href)">
        <label>\(t.t("用户名", "Login")) <input name="login" id="login" autocomplete="username" required></label>
        <label>\(t.t("密码", "Password")) <input type="password" name="password" id="password" autocomplete="current-password" required></label>
        <button type="submit" id="submit">\(t.t("登录", "Log in"))</button>
        </form>
        """)
    }
}
