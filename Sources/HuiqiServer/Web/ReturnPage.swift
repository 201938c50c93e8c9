import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// One return: its versions (更正申报 adds one; none is ever changed), newest first, each with its receipt; the
/// current determination; and the correction, which opens the form of this return's own tax.
enum ReturnPage {
    /// The prompts shown are those stored with the current version (given when it was filed).
    static func render(_ req: Request, taxpayer: TaxpayerRow, versions: [ReturnVersionRow], justFiled: Bool, filers: [String: String] = [:]) -> Response {
        let t = req.web
        guard let current = versions.last else { return Layout.page(req, title: "", status: .notFound, "") }
        let rows: [HTML] = versions.reversed().map { v in
            """
            <tr class="version"><td>\(v.version)</td><td class="num">\(Show.yuan(v.computed_tax_fen))</td><td class="num">\(Show.yuan(v.relief_fen))</td>
            <td class="num">\(v.declared_tax_fen.map { Show.yuan($0) } ?? "—")</td><td>\(Show.beijing(v.filed_at))</td><td>\(filers[v.filed_by] ?? v.filed_by)</td>
            <td><a class="receipt-link" href="\(WebPath.receipt(taxpayer: taxpayer.id, returnID: v.return_id, version: v.version, format: .html).href)">\(t.t("回执", "Receipt"))</a>
             · <a href="\(WebPath.receipt(taxpayer: taxpayer.id, returnID: v.return_id, version: v.version, format: .pdf).href)">PDF</a></td></tr>
            """
        }
        let form = WebPath.ReturnForm(section: current.section)
        let mayFile = t.actor.map { req.application.platform.access.mayFile($0) } ?? false
        let determination = (try? JSONParser.parse(current.determination_json)) ?? .null
        // After filing, only the prompts that still matter: the deadline passed (the consequences), the relief.
        let prompts = Prompt.decode(current.prompts_json).filter { !(justFiled && $0.code == "deadline") }
        return Layout.page(req, title: "\(Show.returnName(current.return_id, t.lang))", """
        <p>\(taxpayer.name) · <span class="code">\(taxpayer.id)</span></p>
        \(justFiled ? """
            <div class="relief" id="filed" role="status"><p>\(t.t("申报成功：第 \(current.version) 版，申报税额 \(current.declared_tax_fen.map { Show.yuan($0) } ?? "—")。", "Filed: version \(current.version), tax declared \(current.declared_tax_fen.map { Show.yuan($0) } ?? "—")."))</p>
            <p><a id="filed-receipt" href="\(WebPath.receipt(taxpayer: taxpayer.id, returnID: current.return_id, version: current.version, format: .html).href)">\(t.t("查看申报回执", "See the filing receipt"))</a>
             · <a href="\(WebPath.receipt(taxpayer: taxpayer.id, returnID: current.return_id, version: current.version, format: .pdf).href)">\(t.t("下载 PDF", "Download PDF"))</a></p></div>
            """ as HTML : "")
        \(Layout.prompts(prompts, t.lang))
        <h2>\(t.t("申报版本", "Versions"))</h2>
        <div class="scroll"><table id="versions"><thead><tr><th scope="col">\(t.t("版本", "Version"))</th><th scope="col">\(t.t("应纳税额", "Tax"))</th><th scope="col">\(t.t("减免税额", "Relief"))</th>
        <th scope="col">\(t.t("申报税额", "Declared"))</th><th scope="col">\(t.t("申报时间（北京时间）", "Filed at (Beijing time)"))</th><th scope="col">\(t.t("申报人", "Filed by"))</th><th scope="col">\(t.t("回执", "Receipt"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
        \(DeterminationView.render(determination, t.lang))
        \(mayFile ? "<p><a id=\"correct\" href=\"\(WebPath.file(taxpayer: taxpayer.id, form: form, correcting: current.return_id).href)\">\(t.t("更正申报", "Correct this return"))</a></p>" as HTML : "")
        <p><a href="\(WebPath.taxpayer(taxpayer.id).href)">\(t.t("返回", "Back"))</a></p>
        """)
    }
}
