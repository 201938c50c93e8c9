/// Every path of the web pages, in one typed enum, so that links and routes cannot drift: routes register the
/// `pattern` of a case, links use its `href`.
enum WebPath {
    case home
    case login
    case logout
    case taxpayers(search: String?)
    case taxpayer(String)
    case file(taxpayer: String, form: ReturnForm, correcting: String? = nil)
    case returnPage(taxpayer: String, returnID: String)

    /// The three returns a taxpayer files on the web, one form each.
    enum ReturnForm: String, CaseIterable, Sendable { case vat, eit, businessIncome = "business-income" }

    var href: String {
        switch self {
        case .home: return "/"
        case .login: return "/login"
        case .logout: return "/logout"
        case .taxpayers(let search): return "/taxpayers" + (search.map { "?q=" + HTML.query($0) } ?? "")
        case .taxpayer(let id): return "/taxpayers/\(id)"
        case let .file(id, form, correcting): return "/taxpayers/\(id)/file/\(form.rawValue)" + (correcting.map { "?from=" + HTML.query($0) } ?? "")
        case let .returnPage(id, r): return "/taxpayers/\(id)/returns/\(HTML.query(r))"
        }
    }

    /// Route patterns, with `:name` parameters.
    enum Pattern {
        static let home: [String] = []
        static let login = ["login"]
        static let logout = ["logout"]
        static let taxpayers = ["taxpayers"]
        static let taxpayer = ["taxpayers", ":taxpayer"]
        static let file = ["taxpayers", ":taxpayer", "file", ":form"]
        static let returnPage = ["taxpayers", ":taxpayer", "returns", ":return"]
    }
}
