import HuiqiServices
import Vapor

/// What every page needs to know about the request: the language, the signed-in actor (if any) and the
/// session's CSRF token. Built once per request by `WebSession`.
struct WebContext: Sendable {
    let lang: Lang
    let actor: Actor?
    let session: String?
    /// The session's CSRF token, computed once per request.
    let csrf: String?
    init(lang: Lang, actor: Actor?, session: String?) {
        self.lang = lang; self.actor = actor; self.session = session
        csrf = session.map(AuthService.csrfToken(session:))
    }
    func t(_ zh: String, _ en: String) -> String { lang.t(zh, en) }
}

struct WebContextKey: StorageKey { typealias Value = WebContext }

enum WebCookie {
    static let session = "huiqi_session"
    static let lang = "huiqi_lang"
    /// The login form's CSRF token (before there is a session).
    static let loginCSRF = "huiqi_login_csrf"
}

/// Compares two secrets in time independent of where they differ.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
}

/// Resolves the session cookie into the actor (an expired or unknown session is simply signed out) and the
/// language from `?lang=` or its cookie; remembers a language chosen by query.
struct WebSession: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let chosen = request.query[String.self, at: "lang"].flatMap(Lang.init(rawValue:))
        let lang = chosen ?? request.cookies[WebCookie.lang].flatMap { Lang(rawValue: $0.string) } ?? .zh
        let session = request.cookies[WebCookie.session]?.string
        var actor: Actor?
        if let session { actor = try? await request.application.platform.auth.actor(session: session) }
        request.storage[WebContextKey.self] = WebContext(lang: lang, actor: actor, session: actor == nil ? nil : session)
        let response = try await next.respond(to: request)
        if let chosen {
            response.cookies[WebCookie.lang] = HTTPCookies.Value(string: chosen.rawValue, maxAge: 365 * 86_400, path: "/",
                                                                 isSecure: request.application.platform.secureCookies, isHTTPOnly: true, sameSite: .lax)
        }
        return response
    }
}

extension Request {
    var web: WebContext { storage[WebContextKey.self] ?? WebContext(lang: .zh, actor: nil, session: nil) }

    /// The signed-in actor, or a redirect to the login page.
    func signedIn() throws -> Actor {
        guard let actor = web.actor else {
            // A deep link opened while signed out comes back to the same page after login.
            let here = method == .GET ? url.path + (url.query.map { "?" + $0 } ?? "") : nil
            throw Abort.redirect(to: WebPath.login.href + (here.map { "?next=" + HTML.query($0) } ?? ""), redirectType: .normal)
        }
        return actor
    }

    /// A `next` target after login: a path on this site only (never another host), else the home page.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.hasPrefix(WebPath.login.href),
              next.count <= 2048, !TextInput.hasControlCharacter(next) else { return WebPath.home.href }
        return next
    }

    /// The posted form, after checking its CSRF token against the session's (every form carries it).
    func postedForm() throws -> [String: String] {
        let form = (try? content.decode([String: String].self)) ?? [:]
        guard let expected = web.csrf, let given = form["csrf"], constantTimeEqual(given, expected) else { throw WebError.csrf }
        return form
    }
}

enum WebError: Error { case csrf }
