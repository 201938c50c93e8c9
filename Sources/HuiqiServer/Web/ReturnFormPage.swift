import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// A return form: choose the period, fill it, compute the relief (the page shows what the law gives, why, and
/// what is missing), then declare and confirm. Posting with `action=preview` computes; `action=submit` files.
///
/// Traps it closes: the declared tax follows every computation (a hidden `computed_tax` remembers the figure the
/// user last saw, and a submit whose inputs changed since is computed again instead of filed); a declared figure
/// other than the computed one needs its own confirmation; a period already filed is not silently corrected.
enum ReturnFormPage {
    struct State {
        var taxpayer: TaxpayerRow
        var form: WebPath.ReturnForm
        var values: [String: String]
        var correcting: String?
        var periods: [FileablePeriod]
        var error: FormError? = nil
        var assessment: Assessment? = nil
        var status: HTTPStatus = .ok
    }

    static func render(_ req: Request, _ s: State) -> Response {
        let t = req.web
        let computed = s.assessment?.tax
        // The idempotency key is minted when the form is first shown, so a double submit files once.
        let key = s.values["idempotency_key"].flatMap { $0.isEmpty ? nil : $0 } ?? UUID().uuidString
        let declaredText = s.values["declared_tax"] ?? computed?.description ?? ""
        let declared = Money(decimal: FormInput.amount(declaredText))
        var difference: HTML = ""
        if let computed, let declared, declared != computed {
            let gap = declared > computed ? declared - computed : computed - declared
            difference = """
            <div class="warning" id="difference"><p>\(t.t("申报税额 \(Show.yuan(declared)) 与按政策计算的 \(Show.yuan(computed)) \(declared > computed ? "多" : "少") \(Show.yuan(gap))。",
                "The tax declared, \(Show.yuan(declared)), is \(Show.yuan(gap)) \(declared > computed ? "above" : "below") the \(Show.yuan(computed)) the law gives."))</p>
            <div class="field check"><input type="checkbox" name="confirm_difference" id="confirm_difference"\(Controls.marked("confirm_difference", s.error?.input))>
            <label for="confirm_difference">\(t.t("我确认按与计算结果不同的税额申报", "I confirm that I declare a tax other than the computed one"))</label></div></div>
            """
        }
        let title = s.correcting.map { t.t("更正申报：", "Correction: ") + Show.returnName($0, t.lang) } ?? ReturnForms.title(s.form, t.lang)
        let invalid = s.error?.input
        // The blank form never silently corrects: a chosen period that is filed says so and offers the correction.
        var alreadyFiled: HTML = ""
        if s.correcting == nil, s.error?.link == nil,
           let chosen = s.periods.first(where: { $0.period == (s.values["period"] ?? s.periods.first { $0.filedReturn == nil }?.period ?? s.periods.first?.period) }),
           let filed = chosen.filedReturn {
            alreadyFiled = """
            <div class="warning" id="already-filed"><p>\(t.t("本期已申报：\(Show.returnName(filed, t.lang))。如需修改，请使用更正申报。", "Already filed: \(Show.returnName(filed, t.lang)). To change it, file a correction."))</p>
            <p><a id="already-filed-correct" href="\(WebPath.file(taxpayer: s.taxpayer.id, form: s.form, correcting: filed).href)">\(t.t("更正申报", "File a correction"))</a>
             · <a href="\(WebPath.returnPage(taxpayer: s.taxpayer.id, returnID: filed).href)">\(t.t("查看已申报的申报表", "See the filed return"))</a></p></div>
            """
        }
        return Layout.page(req, title: title, status: s.status, langForm: ("return-form", WebPath.file(taxpayer: s.taxpayer.id, form: s.form).href), """
        <p>\(s.taxpayer.name) · \(s.taxpayer.id)</p>
        \(s.error?.html(t.lang))
        \(alreadyFiled)
        \(s.assessment.map { Layout.prompts($0.prompts, t.lang) })
        \(s.assessment.map { DeterminationView.render($0.determination.json, t.lang) })
        <form method="post" action="\(WebPath.file(taxpayer: s.taxpayer.id, form: s.form).href)" id="return-form">
        <input type="hidden" name="csrf" value="\(t.csrf ?? "")"><input type="hidden" name="idempotency_key" value="\(key)">
        \(s.correcting.map { "<input type=\"hidden\" name=\"correcting\" value=\"\($0)\">" as HTML })
        \(computed.map { "<input type=\"hidden\" name=\"computed_tax\" value=\"\($0)\">" as HTML })
        <h2>\(t.t("申报数据", "Figures"))</h2>
        \(ReturnForms.fields(s.form, s.values, t.lang, periods: s.periods, correcting: s.correcting, invalid: invalid))
        <p><button type="submit" name="action" value="preview" id="preview">\(t.t("计算减免", "Compute relief"))</button></p>
        <fieldset><legend>\(t.t("确认申报", "Confirm and file"))</legend>
        \(computed.map { "<p>\(t.t("按政策计算的应纳税额：", "Tax the law gives: "))<strong id=\"computed-tax\">\($0)</strong> \(t.t("元", "yuan"))</p>" as HTML }
          ?? "<p class=\"muted\">\(t.t("请先计算减免，申报税额将自动填入计算结果。", "Compute the relief first; the tax declared is then filled with the computed figure."))</p>" as HTML)
        <div class="field"><label for="declared_tax">\(t.t("申报税额（元）", "Tax declared (yuan)"))</label> <input name="declared_tax" id="declared_tax" value="\(declaredText)" inputmode="decimal"\(Controls.marked("declared_tax", invalid))></div>
        \(difference)
        <div class="field check"><input type="checkbox" name="confirm" id="confirm"\(Controls.marked("confirm", invalid))> <label for="confirm">\(t.t("我已核对以上内容，确认申报真实、完整", "I have checked the figures and confirm the return is true and complete"))</label></div>
        <button type="submit" name="action" value="submit" id="submit">\(t.t("提交申报", "File the return"))</button>
        </fieldset>
        </form>
        <p><a href="\(WebPath.taxpayer(s.taxpayer.id).href)">\(t.t("返回", "Back"))</a></p>
        """)
    }
}
