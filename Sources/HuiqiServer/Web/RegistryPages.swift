import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// Comparison with other departments' registries (部门数据比对) in the pages: the four findings under an office with
/// their counts, each finding one link away from a rectification task for the office responsible; the imports so
/// far; and, for supervisors and administrators, the upload of a registry file with every bad row listed.
enum RegistryPages {
    static func kindName(_ k: ComparisonKind, _ lang: Lang) -> String {
        switch k {
        case .unregistered: return lang.t("已办理市场主体登记、未办理税务登记", "registered with the market regulator, unknown to tax")
        case .smeWithoutRelief: return lang.t("划型为小型微型企业、应享未享减免", "classified small or micro, entitled to relief but received none")
        case .mismatch: return lang.t("登记信息不一致", "registration details differ")
        case .deregisteredActive: return lang.t("市场监管已注销、税务仍为正常户", "deregistered with the market regulator, active in tax")
        }
    }

    static func difference(_ d: String, _ r: ComparisonRow, _ lang: Lang) -> String {
        switch d {
        case "region": return lang.t("行政区划：市场监管 \(r.region ?? "") / 税务 \(r.tax_region ?? "")", "region: market \(r.region ?? "") / tax \(r.tax_region ?? "")")
        case "industry": return lang.t("行业：门类 \(r.industry_section ?? "") / 税务 \(r.tax_industry == "industrial" ? "工业" : "其他")",
                                       "industry: section \(r.industry_section ?? "") / tax \(r.tax_industry ?? "")")
        case "type": return lang.t("主体类型：\(typeName(r.entity_type, .zh)) / 税务 \(r.tax_kind ?? "")", "type: \(r.entity_type ?? "") / tax \(r.tax_kind ?? "")")
        default: return lang.t("状态：市场监管存续 / 税务已注销", "status: active with the market regulator / deregistered in tax")
        }
    }

    static func typeName(_ t: String?, _ lang: Lang) -> String {
        switch t {
        case "enterprise": return lang.t("企业", "enterprise")
        case "individual_business": return lang.t("个体工商户", "individual business")
        case "cooperative": return lang.t("农民专业合作社", "farmers' cooperative")
        default: return t ?? ""
        }
    }

    static func sizeName(_ s: String?, _ lang: Lang) -> String {
        switch s {
        case "micro": return lang.t("微型", "micro")
        case "small": return lang.t("小型", "small")
        case "medium": return lang.t("中型", "medium")
        default: return lang.t("大型", "large")
        }
    }

    /// What a finding says, in one cell.
    static func detail(_ f: ComparisonFinding, _ lang: Lang) -> String {
        let r = f.row
        switch f.kind {
        case .unregistered: return lang.t("\(typeName(r.entity_type, .zh))，\(r.registered_on ?? "") 成立，行政区划 \(r.region ?? "")",
                                          "\(typeName(r.entity_type, .en)), registered \(r.registered_on ?? ""), region \(r.region ?? "")")
        case .smeWithoutRelief: return lang.t("\(sizeName(r.size, .zh))企业；按申报数据应享减免 \(Money(fen: r.law_relief_fen ?? 0)) 元",
                                              "\(sizeName(r.size, .en)); relief the law gives on the filed figures \(Money(fen: r.law_relief_fen ?? 0))")
        case .mismatch: return f.differences.map { difference($0, r, lang) }.joined(separator: lang == .zh ? "；" : "; ")
        case .deregisteredActive: return lang.t("\(r.deregistered_on ?? "") 注销", "deregistered \(r.deregistered_on ?? "")")
        }
    }

    /// The task a finding suggests.
    static func taskTitle(_ f: ComparisonFinding) -> String {
        "部门数据比对：\(f.row.name)（\(f.row.credit_code)）\(kindName(f.kind, .zh))，请核实处理"
    }

    struct Filters {
        var kind: ComparisonKind, year: Int, office: String, offset: Int
        var query: String {
            "kind=\(kind.rawValue)&year=\(year)" + (office.isEmpty ? "" : "&office=\(HTML.query(office))") + (offset > 0 ? "&offset=\(offset)" : "")
        }
    }

    static func render(_ req: Request, filters f: Filters, office: OfficeRow, counts: [ComparisonKind: Int], total: Int, findings: [ComparisonFinding],
                       names: [String: String], imports: [RegistryImportRow], outcome: RegistryImportOutcome? = nil,
                       error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let mayAssign = t.actor?.role == .supervisor || t.actor?.role == .administrator
        let kinds: [HTML] = ComparisonKind.allCases.map { k in
            var g = f
            g.kind = k; g.offset = 0
            return """
            <tr\(k == f.kind ? " class=\"current\"" : "")><th scope="row"><a href="\(WebPath.registries.href)?\(g.query)" id="kind-\(k.rawValue)">\(kindName(k, t.lang))</a></th>
            <td class="num">\(Show.count(counts[k] ?? 0))</td></tr>
            """
        }
        let rows: [HTML] = findings.map { x in
            let office = x.office.map { names[$0] ?? $0 } ?? t.t("无对应税务机关", "no office covers this region")
            let assign: HTML = mayAssign && x.office != nil
                ? "<a class=\"assign-task\" href=\"\(WebPath.tasks.href)?office=\(HTML.query(x.office!))&title=\(HTML.query(taskTitle(x)))#task-form\">\(t.t("下达整改任务", "Assign a task"))</a>"
                : ""
            return "<tr><td>\(x.row.credit_code)</td><th scope=\"row\">\(x.row.name)</th><td>\(office)</td><td>\(detail(x, t.lang))</td><td>\(assign)</td></tr>"
        }
        var next = f, previous = f
        next.offset = f.offset + pageSize
        previous.offset = max(0, f.offset - pageSize)
        let pager: HTML = """
            <p class="pager">\(f.offset > 0 ? "<a href=\"\(WebPath.registries.href)?\(previous.query)\" id=\"previous\">\(t.t("上一页", "Previous"))</a>" as HTML : "")
            \(f.offset + findings.count < total ? " <a href=\"\(WebPath.registries.href)?\(next.query)\" id=\"next\">\(t.t("下一页", "Next"))</a>" as HTML : "")</p>
            """
        let importRows: [HTML] = imports.map { i in
            "<tr><td>\(i.source == "market" ? t.t("市场监管登记", "market registrations") : t.t("工信划型", "SME classification"))</td><td>\(i.file_name)</td><td class=\"num\">\(Show.count(i.rows_read))</td><td class=\"num\">\(Show.count(i.rows_changed))</td><td>\(Show.beijing(i.imported_at))</td><td>\(i.imported_by)</td></tr>"
        }
        return Layout.page(req, title: t.t("部门数据比对", "Comparison with other departments' registries"), status: status, """
        \(error?.html(t.lang))
        \(outcome.map { outcomeHTML($0, t.lang) } ?? "")
        <p class="lead" id="comparison-summary">\(t.t("\(office.name)：税务登记与市场监管登记、工信中小企业划型（\(f.year) 年度）比对的结果。",
            "\(office.name): the tax registry compared with the market regulator's registrations and 工信's classification for \(f.year)."))</p>
        <form method="get" action="\(WebPath.registries.href)" class="filters">
        <input type="hidden" name="kind" value="\(f.kind.rawValue)"><input type="hidden" name="office" value="\(f.office)">
        <div class="field"><label for="year">\(t.t("划型年度", "Classification year"))</label> <input name="year" id="year" value="\(String(f.year))" size="5" inputmode="numeric"\(Controls.marked("year", error?.input))></div>
        <button type="submit" id="show">\(t.t("查看", "Show"))</button></form>
        <table id="comparison-counts"><thead><tr><th scope="col">\(t.t("比对发现", "Finding"))</th><th scope="col">\(t.t("户数", "Count"))</th></tr></thead><tbody>\(kinds)</tbody></table>
        <h2 id="findings-title">\(kindName(f.kind, t.lang))（\(t.t("共 \(Show.count(total)) 户", "\(Show.count(total)) in all"))）</h2>
        \(rows.isEmpty ? "<p class=\"muted\" id=\"empty\">\(t.t("没有发现。", "Nothing found."))</p>" as HTML : """
        <div class="scroll"><table id="findings"><thead><tr><th scope="col">\(t.t("统一社会信用代码", "Credit code"))</th><th scope="col">\(t.t("名称", "Name"))</th>
        <th scope="col">\(t.t("主管税务机关", "Office"))</th><th scope="col">\(t.t("说明", "Detail"))</th><th scope="col">\(t.t("处理", "Action"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
        \(pager)
        <p><a id="findings-csv" href="\(WebPath.registriesCSV.href)?\(f.query)">\(t.t("导出 CSV", "Export CSV"))</a></p>
        """ as HTML)
        \(mayAssign ? uploadForm(req) : "")
        <h2>\(t.t("导入记录", "Imports"))</h2>
        \(importRows.isEmpty ? "<p class=\"muted\" id=\"no-imports\">\(t.t("尚未导入部门数据。", "No registry file imported yet."))</p>" as HTML : """
        <div class="scroll"><table id="imports"><thead><tr><th scope="col">\(t.t("来源", "Source"))</th><th scope="col">\(t.t("文件", "File"))</th>
        <th scope="col">\(t.t("行数", "Rows"))</th><th scope="col">\(t.t("新增或变更", "New or changed"))</th><th scope="col">\(t.t("导入时间", "When"))</th><th scope="col">\(t.t("导入人", "By"))</th></tr></thead><tbody>\(importRows)</tbody></table></div>
        """ as HTML)
        <p class="muted">\(t.t("文件格式见 docs/registries.md；有错误行的文件整体不导入，并列出每一错误行。",
            "File formats: docs/registries.md. A file with a bad row is refused whole, and every bad row is listed."))</p>
        """)
    }

    static let pageSize = 200

    static func uploadForm(_ req: Request) -> HTML {
        let t = req.web
        return """
        <h2>\(t.t("导入部门数据", "Import a registry file"))</h2>
        <form method="post" action="\(WebPath.registryImport.href)" enctype="multipart/form-data" id="import-form">\(Controls.csrf(req))
        <div class="field"><label for="source">\(t.t("数据来源", "Source"))</label> <select name="source" id="source">
        <option value="market">\(t.t("市场监管部门：市场主体登记", "Market regulator: registrations"))</option>
        <option value="sme">\(t.t("工信部门：中小企业划型", "工信: SME classification"))</option></select></div>
        <div class="field"><label for="file">\(t.t("CSV 文件（UTF-8，最大 \(maxUploadMB) MB；更大的文件用 huiqi import）", "CSV file (UTF-8, at most \(maxUploadMB) MB; larger files with huiqi import)"))</label>
        <input type="file" name="file" id="file" accept=".csv,text/csv" required></div>
        <button type="submit" id="import">\(t.t("导入", "Import"))</button></form>
        """
    }

    static let maxUploadMB = 100

    static func outcomeHTML(_ o: RegistryImportOutcome, _ lang: Lang) -> HTML {
        switch o.state {
        case .imported:
            let r = o.record!
            return "<p class=\"notice ok\" id=\"import-result\" role=\"status\">\(lang.t("已导入 \(r.file_name)：读取 \(Show.count(r.rows_read)) 行，新增或变更 \(Show.count(r.rows_changed)) 行。", "Imported \(r.file_name): \(Show.count(r.rows_read)) rows read, \(Show.count(r.rows_changed)) new or changed."))</p>"
        case .alreadyImported:
            let r = o.record!
            return "<p class=\"notice\" id=\"import-result\" role=\"status\">\(lang.t("该文件已于 \(Show.beijing(r.imported_at)) 导入，未作任何变更。", "This file was imported on \(Show.beijing(r.imported_at)); nothing changed."))</p>"
        case .refused:
            let rows: [HTML] = o.errors.map { e in "<tr><td class=\"num\">\(e.row)</td><td>\(e.field)</td><td>\(lang.t(e.zh, e.en))</td></tr>" }
            return """
            <div class="error" id="import-result" role="alert"><p>\(lang.t("文件未导入：\(Show.count(o.rowsRead)) 行中有 \(Show.count(o.errorCount)) 行有误，未写入任何数据。请更正后重新导入。",
                "The file was not imported: \(Show.count(o.errorCount)) of \(Show.count(o.rowsRead)) rows are wrong, and nothing was written. Correct them and import again."))</p>
            <div class="scroll"><table id="import-errors"><thead><tr><th scope="col">\(lang.t("行号", "Row"))</th><th scope="col">\(lang.t("列", "Column"))</th><th scope="col">\(lang.t("错误", "Error"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
            \(o.errorCount > o.errors.count ? "<p>\(lang.t("仅列出前 \(o.errors.count) 项；完整清单请用 huiqi import。", "Only the first \(o.errors.count) are listed; huiqi import prints them all."))</p>" as HTML : "")</div>
            """
        }
    }
}

func registryFilters(_ req: Request) -> RegistryPages.Filters {
    let year = req.query[String.self, at: "year"].flatMap { FormInput.integer($0) } ?? (FilingService.chinaDay(req.application.platform.services.now()).year - 1)
    return RegistryPages.Filters(kind: req.query[String.self, at: "kind"].flatMap(ComparisonKind.init(rawValue:)) ?? .unregistered, year: year,
                                 office: req.query[String.self, at: "office"] ?? "", offset: max(0, req.query[Int.self, at: "offset"] ?? 0))
}

func registriesPageWith(_ req: Request, actor: Actor, filters f: RegistryPages.Filters, outcome: RegistryImportOutcome? = nil,
                        error: FormError? = nil, status: HTTPStatus = .ok) async throws -> Response {
    let s = req.application.platform.services
    let x = try await s.comparison.findings(by: actor, kind: f.kind, office: f.office.isEmpty ? nil : f.office, year: f.year,
                                            limit: RegistryPages.pageSize, offset: min(f.offset, 10_000_000))
    let counts = try await s.comparison.counts(by: actor, office: x.office.id, year: f.year)
    let names = try await s.store.officeNames(Set(x.findings.compactMap(\.office)))
    return RegistryPages.render(req, filters: f, office: x.office, counts: counts, total: x.total, findings: x.findings, names: names,
                                imports: try await s.store.registryImports(limit: 20), outcome: outcome, error: error, status: status)
}

@Sendable func registriesPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    var f = registryFilters(req)
    do { return try await registriesPageWith(req, actor: actor, filters: f) } catch let ServiceError.invalid(field, zh, en) {
        f.year = FilingService.chinaDay(req.application.platform.services.now()).year - 1
        return try await registriesPageWith(req, actor: actor, filters: f, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func registriesCSV(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let f = registryFilters(req)
    let x = try await req.application.platform.services.comparison.findings(by: actor, kind: f.kind, office: f.office.isEmpty ? nil : f.office,
                                                                           year: f.year, limit: maxExportRows)
    let rows = x.findings.map { [$0.row.credit_code, $0.row.name, $0.office ?? "", RegistryPages.detail($0, .zh)] }
    return CSVExport.response(CSVExport.document(header: ["统一社会信用代码", "名称", "主管税务机关", "说明"], rows: rows),
                              filename: "comparison-\(f.kind.rawValue)-\(f.year).csv")
}

/// The upload: a multipart form with the CSRF token, the source and the file, written to a temporary file and
/// imported from there (the importer reads files, never a whole body as text).
@Sendable func registryImportSubmit(_ req: Request) async throws -> Response {
    struct Upload: Content { var csrf: String?; var source: String?; var file: File? }
    let actor = try req.signedIn()
    let upload = try? req.content.decode(Upload.self)
    guard let expected = req.web.csrf, let given = upload?.csrf, constantTimeEqual(given, expected) else { throw WebError.csrf }
    let f = RegistryPages.Filters(kind: .unregistered, year: FilingService.chinaDay(req.application.platform.services.now()).year - 1, office: "", offset: 0)
    func refuse(_ field: String, _ zh: String, _ en: String) async throws -> Response {
        try await registriesPageWith(req, actor: actor, filters: f, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
    guard let source = upload?.source.flatMap(RegistrySource.init(rawValue:)) else {
        return try await refuse("source", "请选择数据来源", "choose the source")
    }
    guard let file = upload?.file, file.data.readableBytes > 0 else { return try await refuse("file", "请选择要导入的文件", "choose a file to import") }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-upload-\(UUID().uuidString).csv").path
    try await req.fileio.writeFile(file.data, at: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        let outcome = try await req.application.platform.services.comparison.importFile(by: actor, source: source, path: path, fileName: file.filename,
                                                                                       remote: req.clientAddress)
        return try await registriesPageWith(req, actor: actor, filters: f, outcome: outcome, status: outcome.state == .refused ? .unprocessableEntity : .ok)
    } catch let ServiceError.invalid(field, zh, en) {
        return try await refuse(field, zh, en)
    }
}
