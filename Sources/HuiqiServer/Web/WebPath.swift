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
    case taxpayersCSV
    case returnsCSV(String)
    case receipt(taxpayer: String, returnID: String, version: Int, format: ReceiptFormat)
    case verify
    case admin
    case newTaxpayer
    case editTaxpayer(String)
    case frequencies(String)
    case users
    case bindings(String)
    case offices
    case statistics
    case statisticsCSV
    case supervision
    case tasks
    case task(String)
    case registries
    case registriesCSV
    case registryImport
    case reports(period: String?, office: String?)
    case reportsCSV(period: String, office: String)
    case reportVersion(office: String, period: String, version: Int)
    case kb(query: String?)
    case kbEntry(String)
    case kbNew
    case kbReview
    case complaints
    case complaint(String)
    case portal
    case portalCheck

    /// A filed return's documents: the printable return (申报表) and the filing receipt (申报回执), as a page or a PDF.
    enum ReceiptFormat: String, Sendable { case html, pdf }

    /// The three returns a taxpayer files on the web, one form each.
    enum ReturnForm: String, CaseIterable, Sendable {
        case vat, eit, businessIncome = "business-income"
        /// The return's section (`vat`, `eit`, `business_income`), as stored and as the API names it.
        var section: String { self == .businessIncome ? "business_income" : rawValue }
        init(section: String) { self = section == "vat" ? .vat : section == "eit" ? .eit : .businessIncome }
    }

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
        case .taxpayersCSV: return "/taxpayers.csv"
        case .returnsCSV(let id): return "/taxpayers/\(id)/returns.csv"
        case let .receipt(id, r, v, format): return "/taxpayers/\(id)/returns/\(HTML.query(r))/versions/\(v)/receipt" + (format == .pdf ? ".pdf" : "")
        case .verify: return "/verify"
        case .admin: return "/admin"
        case .newTaxpayer: return "/admin/taxpayers/new"
        case .editTaxpayer(let id): return "/taxpayers/\(id)/edit"
        case .frequencies(let id): return "/taxpayers/\(id)/frequencies"
        case .users: return "/admin/users"
        case .bindings(let user): return "/admin/users/\(HTML.query(user))/bindings"
        case .offices: return "/admin/offices"
        case .statistics: return "/statistics"
        case .statisticsCSV: return "/statistics.csv"
        case .supervision: return "/supervision"
        case .tasks: return "/tasks"
        case .task(let id): return "/tasks/\(HTML.query(id))"
        case .registries: return "/registries"
        case .registriesCSV: return "/registries.csv"
        case .registryImport: return "/registries/import"
        case let .reports(period, office):
            let q = [("period", period), ("office", office)].compactMap { k, v in v.map { "\(k)=\(HTML.query($0))" } }
            return "/reports" + (q.isEmpty ? "" : "?" + q.joined(separator: "&"))
        case let .reportsCSV(period, office): return "/reports.csv?period=\(HTML.query(period))&office=\(HTML.query(office))"
        case let .reportVersion(office, period, version): return "/reports/\(HTML.query(office))/\(HTML.query(period))/\(version)"
        case .kb(let q): return "/kb" + (q.map { "?q=" + HTML.query($0) } ?? "")
        case .kbEntry(let id): return "/kb/entries/\(HTML.query(id))"
        case .kbNew: return "/kb/new"
        case .kbReview: return "/kb/review"
        case .complaints: return "/complaints"
        case .complaint(let id): return "/complaints/\(HTML.query(id))"
        case .portal: return "/portal"
        case .portalCheck: return "/portal/check"
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
        static let taxpayersCSV = ["taxpayers.csv"]
        static let returnsCSV = ["taxpayers", ":taxpayer", "returns.csv"]
        static let receipt = ["taxpayers", ":taxpayer", "returns", ":return", "versions", ":version", "receipt"]
        static let receiptPDF = ["taxpayers", ":taxpayer", "returns", ":return", "versions", ":version", "receipt.pdf"]
        static let verify = ["verify"]
        static let admin = ["admin"]
        static let newTaxpayer = ["admin", "taxpayers", "new"]
        static let editTaxpayer = ["taxpayers", ":taxpayer", "edit"]
        static let frequencies = ["taxpayers", ":taxpayer", "frequencies"]
        static let users = ["admin", "users"]
        static let bindings = ["admin", "users", ":user", "bindings"]
        static let offices = ["admin", "offices"]
        static let statistics = ["statistics"]
        static let statisticsCSV = ["statistics.csv"]
        static let supervision = ["supervision"]
        static let tasks = ["tasks"]
        static let task = ["tasks", ":task"]
        static let registries = ["registries"]
        static let registriesCSV = ["registries.csv"]
        static let registryImport = ["registries", "import"]
        static let reports = ["reports"]
        static let reportsCSV = ["reports.csv"]
        static let reportVersion = ["reports", ":office", ":period", ":version"]
        static let kb = ["kb"]
        static let kbEntry = ["kb", "entries", ":entry"]
        static let kbNew = ["kb", "new"]
        static let kbReview = ["kb", "review"]
        static let complaints = ["complaints"]
        static let complaint = ["complaints", ":complaint"]
        static let portal = ["portal"]
        static let portalCheck = ["portal", "check"]
    }
}
