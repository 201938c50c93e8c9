import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// A filed return's documents: the printable return (申报表: the figures as filed and what the law gives) and the
/// filing receipt (申报回执: taxpayer, return, version, time, amounts and a verification code). The same HTML is
/// a page (with a print stylesheet) and, through WeasyPrint with a CJK font, a PDF.
enum ReceiptPages {
    /// A code that identifies one stored version: SHA-256 over its identity and amounts, 16 hex digits in four
    /// groups. `/verify` finds the version again from the credit code and this code.
    static func code(_ v: ReturnVersionRow) -> String {
        let digest = TextDigest.sha256Hex([v.taxpayer_id, v.return_id, "\(v.version)", v.filed_at, "\(v.computed_tax_fen)", "\(v.relief_fen)",
                                           v.declared_tax_fen.map { "\($0)" } ?? "-", TextDigest.sha256Hex(v.case_json)].joined(separator: "\u{1F}"))
        let hex = Array(digest.uppercased().prefix(16))
        return stride(from: 0, to: 16, by: 4).map { String(hex[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// The figures as filed, from the stored case, in the form's words.
    static func filedFigures(_ v: ReturnVersionRow, _ lang: Lang) -> HTML {
        guard let c = FilingService.storedCase(v.case_json) else { return "" }
        var rows: [(String, String)] = []
        if let vat = c.vat {
            for (i, s) in vat.sales.enumerated() {
                let extra = [s.deduction != .zero ? lang.t("差额扣除 \(Show.yuan(s.deduction))", "deduction \(Show.yuan(s.deduction))") : nil,
                             s.specialInvoice ? lang.t("开具专票", "special invoice") : nil,
                             s.waiveReduction ? lang.t("放弃减税", "reduction waived") : nil].compactMap { $0 }
                rows.append((lang.t("第 \(i + 1) 行 \(s.kind.zh)", "line \(i + 1), \(s.kind.name)"),
                             "\(Show.yuan(s.amount)) · \(s.rate.percent)\(extra.isEmpty ? "" : " · " + extra.joined(separator: lang.t("，", ", ")))"))
            }
        }
        if let e = c.eit, let q = e.quarters.last {
            rows += [(lang.t("季初/季末从业人数", "head count, start/end"), "\(q.employeesStart) / \(q.employeesEnd)"),
                     (lang.t("季初/季末资产总额", "total assets, start/end"), "\(Show.yuan(q.assetsStart)) / \(Show.yuan(q.assetsEnd))"),
                     (lang.t("本年累计应纳税所得额", "taxable income, year to date"), Show.yuan(q.taxableIncomeYTD))]
        }
        if let b = c.businessIncome {
            rows += [(lang.t("应纳税所得额", "taxable income"), Show.yuan(b.taxableIncome)),
                     (lang.t("已享受的其他减免税额", "other relief"), b.otherRelief.map { Show.yuan($0) } ?? "—")]
        }
        let trs: [HTML] = rows.map { "<tr><th scope=\"row\">\($0.0)</th><td>\($0.1)</td></tr>" }
        return "<table class=\"figures\">\(trs)</table>"
    }

    static func body(_ t: TaxpayerRow, _ v: ReturnVersionRow, office: String, filer: String, _ lang: Lang) -> HTML {
        let determination = (try? JSONParser.parse(v.determination_json)) ?? .null
        return """
        <article class="receipt" id="receipt">
        <h2>\(lang.t("申报回执", "Filing receipt"))</h2>
        <table id="receipt-facts">
        <tr><th scope="row">\(lang.t("纳税人", "Taxpayer"))</th><td>\(t.name)</td></tr>
        <tr><th scope="row">\(lang.t("统一社会信用代码", "Credit code"))</th><td>\(t.id)</td></tr>
        <tr><th scope="row">\(lang.t("主管税务机关", "Tax office"))</th><td>\(office)</td></tr>
        <tr><th scope="row">\(lang.t("申报表", "Return"))</th><td>\(Show.returnName(v.return_id, lang))</td></tr>
        <tr><th scope="row">\(lang.t("版本", "Version"))</th><td>\(v.version == 1 ? lang.t("第 1 版（首次申报）", "1 (first filing)") : lang.t("第 \(v.version) 版（更正申报）", "\(v.version) (correction)"))</td></tr>
        <tr><th scope="row">\(lang.t("申报时间（北京时间）", "Filed at (Beijing time)"))</th><td>\(Show.beijing(v.filed_at))</td></tr>
        <tr><th scope="row">\(lang.t("申报人", "Filed by"))</th><td>\(filer)</td></tr>
        <tr><th scope="row">\(lang.t("按政策计算的应纳税额", "Tax the law gives"))</th><td class="num">\(Show.yuan(v.computed_tax_fen))</td></tr>
        <tr><th scope="row">\(lang.t("减免税额", "Relief"))</th><td class="num">\(Show.yuan(v.relief_fen))</td></tr>
        <tr><th scope="row">\(lang.t("申报税额", "Tax declared"))</th><td class="num">\(v.declared_tax_fen.map { Show.yuan($0) } ?? "—")</td></tr>
        <tr><th scope="row">\(lang.t("验证码", "Verification code"))</th><td><strong id="verification-code">\(code(v))</strong></td></tr>
        </table>
        <p class="muted">\(lang.t("凭统一社会信用代码和验证码可在本系统“回执验证”页面核对本回执。", "The receipt can be checked on this system's verification page with the credit code and this code."))</p>
        <h2>\(lang.t("申报表", "The return as filed"))</h2>
        \(filedFigures(v, lang))
        \(DeterminationView.render(determination, lang))
        </article>
        """
    }

    /// A stand-alone document for the PDF: no navigation, A4, a CJK font. WenQuanYi Micro Hei first: WeasyPrint
    /// subsets its TrueType glyphs in about 2 s where Noto Sans CJK's CFF takes about 9 s (measured here), and the
    /// PDF is a tenth of the size; Noto stays as the fallback.
    static func document(_ title: String, _ body: HTML, _ lang: Lang) -> String {
        let html: HTML = """
        <!doctype html><html lang="\(lang == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8"><title>\(title)</title>
        <style>@page{size:A4;margin:18mm}body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Noto Sans CJK",sans-serif;font-size:10.5pt;color:#000}
        table{border-collapse:collapse;width:100%;margin:.4em 0}td,th{border:1px solid #999;padding:.2em .4em;text-align:left;vertical-align:top}
        td.num{text-align:right;white-space:nowrap}h1{font-size:15pt}h2{font-size:12.5pt;margin:.8em 0 .3em}h3{font-size:11pt}
        details>summary{display:none}.muted{color:#444}section.relief{border:0;padding:0}</style></head>
        <body><h1>\(title)</h1>\(body)</body></html>
        """
        return html.text
    }

    /// Runs WeasyPrint (`weasyprint - -`): HTML on standard input, the PDF on standard output. Nil when it is not
    /// installed; an error when it fails or takes longer than 30 s.
    static func pdf(_ html: String) async throws -> Data? {
        let candidates = ["/usr/bin/weasyprint", "/usr/local/bin/weasyprint"]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let r = try await ChildProcess.run(binary, ["--quiet", "-", "-"], stdin: Data(html.utf8), timeout: 30)
        guard r.status == 0, r.stdout.starts(with: Array("%PDF".utf8)) else { throw PDFError.failed(status: r.status) }
        return r.stdout
    }
}

enum PDFError: Error { case failed(status: Int32) }

/// At most two PDFs are made at a time (each is a WeasyPrint process of about 100 MB); more requests are told to
/// retry rather than queued without bound.
actor PDFSlots {
    static let shared = PDFSlots()
    private var used = 0
    let limit = 2
    func take() -> Bool { guard used < limit else { return false }; used += 1; return true }
    func give() { used -= 1 }
}

/// The receipt of one version, as a page or (`receipt.pdf`) as a PDF.
@Sendable func receiptPage(_ req: Request) async throws -> Response {
    let actor = try req.signedIn()
    let p = req.application.platform
    let id = req.parameters.get("taxpayer") ?? ""
    let t = try await p.access.readableTaxpayer(id, by: actor)
    let versions = try await p.filing.versions(by: actor, taxpayerID: id, returnID: req.parameters.get("return") ?? "")
    guard let n = req.parameters.get("version").flatMap(Int.init), let v = versions.first(where: { $0.version == n }) else { throw ServiceError.notFound }
    let lang = req.web.lang
    let office = try await p.store.officeNames([t.office_id])[t.office_id] ?? t.office_id
    let filer = try await p.filing.filers(of: [v], for: actor, logins: true)[v.filed_by] ?? v.filed_by
    let title = lang.t("\(Show.returnName(v.return_id, lang)) 申报回执", "Filing receipt: \(Show.returnName(v.return_id, lang))")
    let body = ReceiptPages.body(t, v, office: office, filer: filer, lang)
    guard req.url.path.hasSuffix(".pdf") else {
        return Layout.page(req, title: title, """
        \(body)
        <p class="noprint"><a id="receipt-pdf" href="\(WebPath.receipt(taxpayer: id, returnID: v.return_id, version: v.version, format: .pdf).href)">\(lang.t("下载 PDF", "Download PDF"))</a>
         · <a href="\(WebPath.returnPage(taxpayer: id, returnID: v.return_id).href)">\(lang.t("返回申报表", "Back to the return"))</a></p>
        """)
    }
    let unavailable = Layout.page(req, title: lang.t("PDF 暂不可用", "PDF unavailable"), status: .serviceUnavailable, """
        <p>\(lang.t("暂时无法生成 PDF（本服务器未安装或未能运行 WeasyPrint）。请打开回执页面并使用浏览器的打印功能。", "The PDF cannot be made now (WeasyPrint is not installed on this server, or failed). Open the receipt page and print it from the browser."))</p>
        <p><a href="\(WebPath.receipt(taxpayer: id, returnID: v.return_id, version: v.version, format: .html).href)">\(lang.t("回执页面", "The receipt page"))</a></p>
        """)
    guard await PDFSlots.shared.take() else {
        unavailable.headers.replaceOrAdd(name: .retryAfter, value: "5")
        return unavailable
    }
    let made: Data?
    do { made = try await ReceiptPages.pdf(ReceiptPages.document(title, body, lang)) } catch {
        req.logger.error("receipt PDF failed: \(error)")
        made = nil
    }
    await PDFSlots.shared.give()
    guard let pdf = made else { return unavailable }
    var headers = HTTPHeaders()
    headers.replaceOrAdd(name: .contentType, value: "application/pdf")
    headers.replaceOrAdd(name: .contentDisposition, value: "inline; filename=\"receipt-\(t.id)-\(v.return_id.replacingOccurrences(of: ":", with: "-"))-v\(v.version).pdf\"")
    headers.replaceOrAdd(name: .cacheControl, value: "no-store")
    return Response(status: .ok, headers: headers, body: .init(data: pdf))
}

/// Checks a receipt: the credit code and the verification code name one stored version, or none.
@Sendable func verifyPage(_ req: Request) async throws -> Response {
    let t = req.web
    let credit = FormInput.normalized(req.query[String.self, at: "taxpayer"] ?? "").uppercased()
    let code = FormInput.normalized(req.query[String.self, at: "code"] ?? "").uppercased()
    var result: HTML = ""
    if !credit.isEmpty || !code.isEmpty {
        try TextInput.check(credit, field: "taxpayer", maxLength: TextInput.maxIdentifier)
        try TextInput.check(code, field: "code", maxLength: 40)
        let store = req.application.platform.store
        var found: ReturnVersionRow?
        if credit.count == 18, try await store.taxpayer(credit) != nil {
            for r in try await store.currentReturns(taxpayer: credit) {
                for v in try await store.versions(taxpayer: credit, returnID: r.return_id) where ReceiptPages.code(v) == code { found = v }
            }
        }
        result = found.map { v in
            "<div class=\"relief\" id=\"verify-result\"><p>\(t.t("验证通过：", "Verified: "))\(Show.returnName(v.return_id, t.lang))，\(t.t("第 \(v.version) 版", "version \(v.version)"))，\(t.t("申报时间", "filed")) \(Show.beijing(v.filed_at))，\(t.t("申报税额", "tax declared")) \(v.declared_tax_fen.map { Show.yuan($0) } ?? "—")</p></div>"
        } ?? "<div class=\"error\" role=\"alert\" id=\"verify-result\"><p>\(t.t("未找到与该统一社会信用代码和验证码相符的申报回执。", "No filing receipt matches this credit code and verification code."))</p></div>"
    }
    return Layout.page(req, title: t.t("回执验证", "Verify a receipt"), """
    \(result)
    <form method="get" action="\(WebPath.verify.href)">
    <div class="field"><label for="taxpayer">\(t.t("统一社会信用代码", "Credit code"))</label> <input name="taxpayer" id="taxpayer" value="\(credit)" autocomplete="off"></div>
    <div class="field"><label for="code">\(t.t("验证码", "Verification code"))</label> <input name="code" id="code" value="\(code)" autocomplete="off" placeholder="XXXX-XXXX-XXXX-XXXX"></div>
    <button type="submit" id="verify">\(t.t("验证", "Verify"))</button></form>
    """)
}
