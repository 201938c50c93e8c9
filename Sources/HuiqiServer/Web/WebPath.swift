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
    case monitor(kind: String?, period: String?, office: String?)
    case screen
    case job(String)
    case notice(String)
    case acknowledgeNotice(String)
    case readMessage(String)
    case refunds(String)
    case approveRefund(String)

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
        case let .monitor(kind, period, office):
            let q = [("kind", kind), ("period", period), ("office", office)].compactMap { k, v in v.map { "\(k)=\(HTML.query($0))" } }
            return "/monitor" + (q.isEmpty ? "" : "?" + q.joined(separator: "&"))
        case .screen: return "/monitor/screen"
        case .job(let id): return "/jobs/\(HTML.query(id))"
        case .notice(let id): return "/notices/\(HTML.query(id))"
        case .acknowledgeNotice(let id): return "/notices/\(HTML.query(id))/acknowledge"
        case .readMessage(let id): return "/messages/\(HTML.query(id))/read"
        case .refunds(let taxpayer): return "/taxpayers/\(taxpayer)/refunds"
        case .approveRefund(let id): return "/refunds/\(HTML.query(id))/approve"
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
        static let monitor = ["monitor"]
        static let screen = ["monitor", "screen"]
        static let job = ["jobs", ":job"]
        static let notice = ["notices", ":notice"]
        static let acknowledgeNotice = ["notices", ":notice", "acknowledge"]
        static let readMessage = ["messages", ":message", "read"]
        static let refunds = ["taxpayers", ":taxpayer", "refunds"]
        static let approveRefund = ["refunds", ":refund", "approve"]
    }
}
