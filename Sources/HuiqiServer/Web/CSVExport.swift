import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// CSV files that open correctly in Excel: UTF-8 with a byte order mark, CRLF lines, Chinese headers, every field
/// quoted when needed, amounts as plain numbers (no separators) so Excel reads them as numbers, and a leading
/// `'` on text that a spreadsheet would take for a formula.
enum CSVExport {
    static func field(_ value: String) -> String {
        var v = value
        if let first = v.first, "=+-@\t\r".contains(first), Money(decimal: v) == nil { v = "'" + v }
        guard v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return v }
        return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func document(header: [String], rows: [[String]]) -> String {
        var out = "\u{FEFF}" + header.map(field).joined(separator: ",") + "\r\n"
        for r in rows { out += r.map(field).joined(separator: ",") + "\r\n" }
        return out
    }

    static func response(_ text: String, filename: String) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/csv; charset=utf-8")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(filename)\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }

    static func amount(_ fen: Int64?) -> String { fen.map { Money(fen: $0).description } ?? "" }
}

/// The maximum number of lines an officer's list export holds: a province is narrowed by a filter first.
let maxExportRows = 100_000

@Sendable func taxpayersCSV(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let f = listFilters(req)
    var rows: [[String]] = []
    var page = 1
    let first = try await p.filing.taxpayerList(by: actor, search: f.q, kind: f.kind.isEmpty ? nil : f.kind, office: f.office.isEmpty ? nil : f.office,
                                                status: f.status, page: 1, pageSize: 5_000)
    guard first.total <= maxExportRows else {
        return Layout.page(req, title: req.web.t("导出范围过大", "Too many to export"), status: .unprocessableEntity,
                           "<p>\(req.web.t("符合条件的纳税人有 \(Show.count(first.total)) 户，导出上限为 \(Show.count(maxExportRows)) 户：请按税务机关、类型或状态缩小范围。", "\(Show.count(first.total)) taxpayers match; an export holds at most \(Show.count(maxExportRows)): narrow it by office, kind or status."))</p>")
    }
    var listing = first
    let today = FilingService.chinaDay(p.services.now())
    let names = try await p.store.officeNames(actor.role == .taxpayer ? [] : actor.offices.count <= 5_000 ? actor.offices : [])
    while true {
        let more = try await p.store.officeNames(Set(listing.rows.map(\.office_id)).subtracting(names.keys))
        for r in listing.rows {
            let period = r.due_frequency == "monthly" ? listing.monthPeriod : r.due_frequency == "quarterly" ? listing.quarterPeriod : ""
            let overdue = (r.due_frequency == "monthly" ? listing.monthDeadline : listing.quarterDeadline).flatMap(Day.init(iso:))
                .map { $0 < today } ?? false
            rows.append([r.id, r.name, TaxpayerPages.kindName(r.kind, .zh), r.office_id, names[r.office_id] ?? more[r.office_id] ?? "", r.region,
                         period, TaxpayerPages.statusName(r, overdue: overdue, .zh).1, CSVExport.amount(r.computed_tax_fen),
                         CSVExport.amount(r.declared_tax_fen), CSVExport.amount(r.relief_fen)])
        }
        guard listing.rows.count == listing.pageSize else { break }
        page += 1
        listing = try await p.filing.taxpayerList(by: actor, search: f.q, kind: f.kind.isEmpty ? nil : f.kind, office: f.office.isEmpty ? nil : f.office,
                                                  status: f.status, page: page, pageSize: 5_000)
    }
    let header = ["统一社会信用代码", "名称", "类型", "主管税务机关代码", "主管税务机关", "行政区划", "本期所属期", "本期增值税申报状态",
                  "应纳税额（元）", "申报税额（元）", "减免税额（元）"]
    return CSVExport.response(CSVExport.document(header: header, rows: rows), filename: "taxpayers.csv")
}

@Sendable func returnsCSV(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let current = try await p.filing.currentReturns(by: actor, taxpayerID: id).sorted { ($0.period, $0.section) > ($1.period, $1.section) }
    let filers = try await p.filing.filers(of: current, for: actor, logins: true)
    let rows: [[String]] = current.map { v in
        [t.id, t.name, Show.returnName(v.return_id, .zh), v.period, MonitoringPages.kindName(v.section, .zh), "\(v.version)",
         CSVExport.amount(v.computed_tax_fen), CSVExport.amount(v.relief_fen), CSVExport.amount(v.declared_tax_fen),
         Show.beijing(v.filed_at), filers[v.filed_by] ?? v.filed_by]
    }
    let header = ["统一社会信用代码", "纳税人名称", "申报表", "所属期", "税种", "版本", "应纳税额（元）", "减免税额（元）", "申报税额（元）", "申报时间（北京时间）", "申报人"]
    return CSVExport.response(CSVExport.document(header: header, rows: rows), filename: "returns-\(t.id).csv")
}
