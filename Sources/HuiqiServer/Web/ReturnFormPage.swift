import Foundation
import HuiqiServices
import HuiqiStore
import Vapor

/// A return form: fill it, compute the relief (the page shows what the law gives, why, and what is missing),
/// choose the tax to declare and confirm. Posting with `action=preview` computes; `action=submit` files.
enum ReturnFormPage {
    static func render(_ req: Request, taxpayer: TaxpayerRow, form: WebPath.ReturnForm, values: [String: String], correcting: String?,
                       error: HTML? = nil, assessment: Assessment? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let computed = assessment.map { $0.tax.description }
        // The idempotency key is minted when the form is first shown, so a double submit files once.
        let key = values["idempotency_key"].flatMap { $0.isEmpty ? nil : $0 } ?? UUID().uuidString
        let declared = values["declared_tax"].flatMap { $0.isEmpty ? nil : $0 } ?? computed ?? ""
        return Layout.page(req, title: ReturnForms.title(form, t.lang), status: status, """
        <p>\(taxpayer.name) · \(taxpayer.id)\(correcting.map { " · " + t.t("更正申报：", "correcting: ") + $0 } ?? "")</p>
        \(error)
        \(assessment.map { Layout.prompts($0.prompts, t.lang) })
        \(assessment.map { DeterminationView.render($0.determination.json, t.lang) })
        <form method="post" action="\(WebPath.file(taxpayer: taxpayer.id, form: form).href)" id="return-form">
        <input type="hidden" name="csrf" value="\(t.csrf ?? "")"><input type="hidden" name="idempotency_key" value="\(key)">
        <input type="hidden" name="correcting" value="\(correcting ?? "")">
        \(ReturnForms.fields(form, values, t.lang))
        <button type="submit" name="action" value="preview" id="preview">\(t.t("计算减免", "Compute relief"))</button>
        <fieldset><legend>\(t.t("确认申报", "Confirm and file"))</legend>
        \(computed.map { "<p>\(t.t("按政策计算的应纳税额：", "Tax the law gives: "))<strong id=\"computed-tax\">\($0)</strong></p>" as HTML })
        <label>\(t.t("申报税额（元）", "Tax declared (yuan)")) <input name="declared_tax" id="declared_tax" value="\(declared)"></label>
        <label><input type="checkbox" name="confirm" id="confirm"> \(t.t("我已核对以上内容，确认申报真实、完整", "I have checked the figures and confirm the return is true and complete"))</label>
        <button type="submit" name="action" value="submit" id="submit">\(t.t("提交申报", "File the return"))</button>
        </fieldset>
        </form>
        <p><a href="\(WebPath.taxpayer(taxpayer.id).href)">\(t.t("返回", "Back"))</a></p>
        """)
    }
}
