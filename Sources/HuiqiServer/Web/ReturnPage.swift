import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// One return: its versions (更正申报 adds one; none is ever changed), the current determination, and a link to
/// correct it.
enum ReturnPage {
    /// The prompts shown are those stored with the current version (given when it was filed).
    static func render(_ req: Request, taxpayer: TaxpayerRow, versions: [ReturnVersionRow], justFiled: Bool) -> Response {
        let t = req.web
        guard let current = versions.last else { return Layout.page(req, title: "", status: .notFound, "") }
        let rows: [HTML] = versions.reversed().map { v in
            """
            <tr class="version"><td>\(v.version)</td><td class="num">\(Money(fen: v.computed_tax_fen))</td><td class="num">\(Money(fen: v.relief_fen))</td>
            <td class="num">\(v.declared_tax_fen.map { Money(fen: $0).description } ?? "—")</td><td>\(v.filed_at)</td><td>\(v.filed_by)</td></tr>
            """
        }
        let form: WebPath.ReturnForm = current.section == "vat" ? .vat : current.section == "eit" ? .eit : .businessIncome
        let mayFile = t.actor.map { req.application.platform.access.mayFile($0) } ?? false
        let determination = (try? JSONParser.parse(current.determination_json)) ?? .null
        return Layout.page(req, title: "\(taxpayer.name) · \(current.return_id)", """
        \(justFiled ? "<p class=\"relief\" id=\"filed\">\(t.t("申报成功：第 \(current.version) 版", "Filed: version \(current.version)"))</p>" as HTML : "")
        \(Layout.prompts(Prompt.decode(current.prompts_json), t.lang))
        <table id="versions"><tr><th>\(t.t("版本", "Version"))</th><th>\(t.t("应纳税额", "Tax"))</th><th>\(t.t("减免税额", "Relief"))</th>
        <th>\(t.t("申报税额", "Declared"))</th><th>\(t.t("申报时间", "Filed at"))</th><th>\(t.t("申报人", "Filed by"))</th></tr>\(rows)</table>
        \(DeterminationView.render(determination, t.lang))
        \(mayFile ? "<p><a id=\"correct\" href=\"\(WebPath.file(taxpayer: taxpayer.id, form: form, correcting: current.return_id).href)\">\(t.t("更正申报", "Correct this return"))</a></p>" as HTML : "")
        <p><a href="\(WebPath.taxpayer(taxpayer.id).href)">\(t.t("返回", "Back"))</a></p>
        """)
    }
}
