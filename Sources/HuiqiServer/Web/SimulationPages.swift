import Foundation
import HuiqiRules
import HuiqiServices
import Vapor

/// The analysts' page for reform simulation (政策测算, docs/simulation.md): up to three parameters changed from a date, the
/// law against the reform over a synthetic population or over the VAT returns stored for the analyst's office (a
/// base quarter), by kind, size band and region, with a chart and CSV. Staff only; nothing is stored (a GET form).
enum SimulationPages {
    struct Form {
        /// One changed parameter: the first is the form's `parameter`, `value`, `from`; the others add a number
        /// (`parameter2`, `value2`, `from2`, …) and count only when given a parameter or a value.
        struct Change { var parameter = "", key = "", value = "", from = "" }
        var period = "2027-Q1", population = "100000"
        var changes = [Change(parameter: "vat.qizhengdian.quarterly"), Change(), Change()]
        /// Empty: a synthetic population; a quarter: the VAT returns of that quarter stored under the analyst's office.
        var base = ""
        var asked = false
    }
    static let maxPopulation = 1_000_000
    /// A form field's name for change `i` (0-based): `value`, `value2`, `value3`.
    static func field(_ name: String, _ i: Int) -> String { i == 0 ? name : "\(name)\(i + 1)" }

    /// What a run was made over, said under the result.
    enum Source { case synthetic(Int), stored(ReformSimulation.DatabaseRead, base: String, office: String) }

    /// Runs the form's reform: over the stored returns of the base quarter under the actor's office, or over a
    /// synthetic population.
    static func run(_ req: Request, _ f: Form, engine: Engine) async throws -> (Reform, ReformComparison, Source) {
        let (reform, period, n) = try Self.reform(f, law: engine.parameters)
        guard !f.base.isEmpty else {
            // Up to a million synthetic taxpayers generated and evaluated twice: about a second of computing, done on
            // the thread pool so that no event loop (which also runs the server's tasks) is held meanwhile.
            let comparison = try await req.application.threadPool.runIfActive {
                try ReformSimulation.run(law: engine, reform: reform, period: period, population: n)
            }
            return (reform, comparison, .synthetic(n))
        }
        guard let base = TaxPeriod(f.base), base.isQuarterly else {
            throw ServiceError.invalid(field: "base", zh: "基期须为季度，如 2026-Q1", en: "the base must be a quarter such as 2026-Q1")
        }
        let services = req.application.platform.services
        let office = try await services.monitoring.office(nil, for: try req.signedIn())
        let (c, read) = try await ReformSimulation.run(law: engine, reform: reform, period: period, returnsOf: base, store: services.store, office: office.id)
        guard read.returns > 0 else {
            throw ServiceError.invalid(field: "base", zh: "本局没有 \(base) 的已申报增值税或企业所得税预缴申报表", en: "no VAT return or EIT prepayment of \(base) is stored for your office")
        }
        return (reform, c, .stored(read, base: "\(base)", office: office.name))
    }

    static func form(_ req: Request) -> Form {
        var f = Form()
        func q(_ k: String) -> String? { req.query[String.self, at: k].map { String(FormInput.normalized($0).prefix(60)) } }
        if let v = q("period"), !v.isEmpty { f.period = FormInput.period(v) }
        for i in f.changes.indices {
            if let v = q(field("parameter", i)), !v.isEmpty || i > 0 { f.changes[i].parameter = v }
            if let v = q(field("from", i)) { f.changes[i].from = v }
            if let v = q(field("key", i)) { f.changes[i].key = v }
            if let v = q(field("value", i)) { f.changes[i].value = v }
        }
        if let v = q("population"), !v.isEmpty { f.population = v }
        if let v = q("base"), !v.isEmpty { f.base = FormInput.period(v) }
        f.asked = q("value") != nil
        return f
    }

    /// The reform of the form, validated by `Reform.parse` (its messages name the field); the strings are written
    /// as JSON strings, which YAML reads as they are.
    static func reform(_ f: Form, law: ParameterSet) throws -> (Reform, TaxPeriod, Int) {
        guard let period = TaxPeriod(f.period), period.isQuarterly else {
            throw ServiceError.invalid(field: "period", zh: "所属期须为季度，如 2027-Q1", en: "the period must be a quarter such as 2027-Q1")
        }
        guard let n = Int(f.population), (1...maxPopulation).contains(n) else {
            throw ServiceError.invalid(field: "population", zh: "模拟户数须为 1 至 \(maxPopulation)", en: "the population must be 1 to \(maxPopulation)")
        }
        func quoted(_ s: String) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self) }
        let start = "\(period.months[0].year)-\(String(format: "%02d", period.months[0].month))-01"
        // The first change is always read (an empty value is named as such); the others only when filled in.
        let used = f.changes.indices.filter { $0 == 0 || !f.changes[$0].parameter.isEmpty || !f.changes[$0].value.isEmpty }
        for i in used where f.changes[i].parameter.isEmpty {
            throw ServiceError.invalid(field: field("parameter", i), zh: "第 \(i + 1) 项：请选择政策参数", en: "change \(i + 1): choose a parameter")
        }
        let changes = used.map { i in (f.changes[i], f.changes[i].from.isEmpty ? start : f.changes[i].from) }
        let name = changes.map { c, from in "\(c.parameter)\(c.key.isEmpty ? "" : "[\(c.key)]") = \(c.value) from \(from)" }.joined(separator: "; ")
        let text = "name: \(quoted(name))\nchanges:\n" + changes.map { c, from in
            "  - parameter: \(quoted(c.parameter))\n" + (c.key.isEmpty ? "" : "    key: \(quoted(c.key))\n")
                + "    from: \(quoted(from))\n    value: \(quoted(c.value))\n"
        }.joined()
        do {
            return (try Reform.parse(text, file: "form", against: law), period, n)
        } catch let e as ParameterFileError {
            // `changes[i].value: …` names the form's field of change i.
            let index = e.problem.firstMatch(of: /^changes\[(\d+)\]/).flatMap { Int($0.1) }.map { used[min($0, used.count - 1)] } ?? 0
            let name = e.problem.contains(".value") || e.problem.contains("missing value") ? "value"
                : e.problem.contains(".from") ? "from" : e.problem.contains(".key") ? "key" : "parameter"
            throw ServiceError.invalid(field: field(name, index), zh: "改革方案无效：\(e.problem)", en: "the reform is not valid: \(e.problem)")
        }
    }

    static func group(_ key: String, _ lang: Lang) -> String {
        if key == "all" { return lang.t("全部", "All") }
        let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return key }
        switch parts[0] {
        case "kind":
            let names = ["enterprise": ("企业", "enterprises"), "unit": ("非企业性单位", "units"), "individual_business": ("个体工商户", "个体工商户"), "individual": ("其他个人", "individuals")]
            return names[parts[1]].map { lang.t($0.0, $0.1) } ?? parts[1]
        case "band" where parts[1] == ReformComparison.noVATReturn: return lang.t("无增值税申报表", "no VAT return")
        case "band": return lang.t("季度销售额 ", "quarterly sales ") + parts[1]
        default: return RegionNames.name(parts[1], lang)
        }
    }

    static func rows(_ c: ReformComparison, _ lang: Lang) -> [[String]] {
        c.orderedKeys.compactMap { key in
            guard let l = c.lines[key] else { return nil }
            return [group(key, lang)] + l.cells
        }
    }
    static func header(_ lang: Lang) -> [String] {
        [lang.t("分组", "Group"), lang.t("户数", "Taxpayers"), lang.t("无法计算", "Refused"), lang.t("增值税（现行）", "VAT (law)"), lang.t("增值税（改革）", "VAT (reform)"),
         lang.t("企业所得税（现行）", "EIT (law)"), lang.t("企业所得税（改革）", "EIT (reform)"), lang.t("税收变化", "Revenue change"),
         lang.t("少缴户数", "Pay less"), lang.t("多缴户数", "Pay more"), lang.t("受惠面（现行）", "Coverage (law)"), lang.t("受惠面（改革）", "Coverage (reform)")]
    }

    /// The revenue change by size band: bars left of the axis for less revenue, right for more.
    static func chart(_ c: ReformComparison, _ lang: Lang) -> HTML {
        let bands = ReformComparison.bands.map { "band:\($0.label)" }.compactMap { k in c.lines[k].map { (k, $0.revenueChange) } }
        guard let top = bands.map({ abs($0.1) }).max(), top > 0 else { return "" }
        let barHeight = 24, label = 170, half = 260, width = label + 2 * half + 20, height = bands.count * barHeight + 10
        var parts: [HTML] = ["<line x1=\"\(label + half)\" y1=\"0\" x2=\"\(label + half)\" y2=\"\(height)\" stroke=\"#555\"/>"]
        for (i, (key, change)) in bands.enumerated() {
            let y = 5 + i * barHeight, w = max(1, Int(abs(change) * Int64(half) / top))
            let x = change < 0 ? label + half - w : label + half
            let name = group(key, lang)
            parts.append("""
            <text x="\(label - 6)" y="\(y + 16)" text-anchor="end" font-size="12">\(name)</text>
            <rect x="\(x)" y="\(y + 4)" width="\(w)" height="\(barHeight - 8)" fill="\(change < 0 ? "#1a5fb4" : "#a51d2d")"><title>\(name): \(Show.yuan(change))</title></rect>
            """)
        }
        return """
        <figure class="scroll"><svg id="simulation-chart" role="img" aria-labelledby="simulation-chart-title" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" xmlns="http://www.w3.org/2000/svg">
        <title id="simulation-chart-title">\(lang.t("各销售额档次的税收变化", "Revenue change by size band"))</title>\(parts)</svg>
        <figcaption class="muted">\(lang.t("税收变化（元）：左为减收，右为增收", "Revenue change (yuan): left less, right more"))</figcaption></figure>
        """
    }

    static func render(_ req: Request, _ f: Form, law: ParameterSet, result: (Reform, ReformComparison, Source)?, error: FormError? = nil, status: HTTPStatus = .ok) -> Response {
        let t = req.web
        let names = law.definitions.values.filter { ["money", "rate", "integer"].contains($0.type) }.map(\.name).sorted()
        func options(_ selected: String, optional: Bool) -> HTML {
            HTML(raw: (optional ? "<option value=\"\"\(selected.isEmpty ? " selected" : "")>—</option>" : "")
                 + names.map { "<option value=\"\($0)\"\($0 == selected ? " selected" : "")>\($0)</option>" }.joined())
        }
        /// One change's three fields; the first is required, the others are optional.
        func changeFields(_ i: Int) -> HTML {
            let c = f.changes[i], n = i + 1
            let p = field("parameter", i), k = field("key", i), v = field("value", i), d = field("from", i)
            let label: (String, String) = i == 0 ? ("政策参数", "Parameter") : ("政策参数 \(n)（可空）", "Parameter \(n) (optional)")
            return """
            <div class="field"><label for="\(p)">\(t.t(label.0, label.1))</label> <select name="\(p)" id="\(p)">\(options(c.parameter, optional: i > 0))</select></div>
            <div class="field"><label for="\(k)">\(i == 0 ? t.t("分项（按地区等分项的参数填写，如 elsewhere）", "Key (for a parameter with keys, e.g. elsewhere)") : t.t("分项 \(n)", "Key \(n)"))</label> <input type="text" name="\(k)" id="\(k)" value="\(c.key)" size="12"></div>
            <div class="field"><label for="\(v)">\(i == 0 ? t.t("新的取值", "New value") : t.t("新的取值 \(n)", "New value \(n)"))</label> <input type="text" name="\(v)" id="\(v)" value="\(c.value)" size="14" aria-describedby="value-hint"></div>
            <div class="field"><label for="\(d)">\(i == 0 ? t.t("起始日期（某月1日，可空）", "From (a month's first day; optional)") : t.t("起始日期 \(n)（可空）", "From \(n) (optional)"))</label> <input type="text" name="\(d)" id="\(d)" value="\(c.from)" size="12"></div>
            """
        }
        var out: HTML = ""
        if let (reform, c, source) = result, let all = c.lines["all"] {
            let table: [HTML] = rows(c, t.lang).map { r in
                HTML(raw: "<tr>" + r.enumerated().map { i, v in i == 0 ? "<th scope=\"row\">\(HTML.escape(v))</th>" : "<td class=\"num\">\(HTML.escape(v))</td>" }.joined() + "</tr>")
            }
            let changeQuery = f.changes.indices.flatMap { i in
                [(field("parameter", i), f.changes[i].parameter), (field("key", i), f.changes[i].key), (field("value", i), f.changes[i].value),
                 (field("from", i), f.changes[i].from)]
            }.filter { !$0.1.isEmpty }
            let csv = "/simulation.csv?" + ([("period", f.period)] + changeQuery + [("population", f.population), ("base", f.base)])
                .map { "\($0.0)=\(HTML.query($0.1))" }.joined(separator: "&")
            out = """
            <section aria-labelledby="result-title"><h2 id="result-title">\(t.t("测算结果", "Result"))</h2>
            <p id="simulation-summary" role="status">\(HTML.escape(reform.name))\(t.t("：税收变化", ": revenue change")) <strong>\(Show.yuan(all.revenueChange))</strong>\(t.t("，少缴 ", "; ")) \(all.payLess)\(t.t(" 户，多缴 ", " pay less, ")) \(all.payMore)\(t.t(" 户。", " pay more."))</p>
            \(chart(c, t.lang))
            <div class="scroll"><table id="simulation-table"><thead><tr>\(HTML(raw: header(t.lang).map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined()))</tr></thead><tbody>\(table)</tbody></table></div>
            <p><a href="\(HTML(raw: HTML.escape(csv)))" id="simulation-csv">\(t.t("下载 CSV", "Download CSV"))</a></p>
            <p class="muted" id="simulation-source">\(sourceNote(source, f, t))</p>
            </section>
            """
        }
        return Layout.page(req, title: t.t("政策测算", "Reform simulation"), status: status, """
        <p class="lead">\(t.t("选择一至三个政策参数，给出新的取值和起始日期，比较现行政策与改革方案对税收、纳税人和受惠面的影响。", "Choose one to three parameters of the law, give each a new value from a date, and compare the law with the reform: revenue, taxpayers, coverage."))</p>
        \(error?.html(t.lang))
        <form method="get" action="/simulation" id="simulation-form">
        <p class="hint" id="value-hint">\(t.t("取值：金额以元计，税率如 0.01；起始日期为空时自测算季度首日起", "Values: amounts in yuan, rates such as 0.01; with no date, from the quarter's first day"))</p>
        \(changeFields(0))
        <fieldset id="more-changes"><legend>\(t.t("同时调整的其他参数（可空）", "Other parameters changed at the same time (optional)"))</legend>
        \(changeFields(1))
        \(changeFields(2))
        </fieldset>
        <div class="field"><label for="period">\(t.t("测算季度", "Quarter"))</label> <input type="text" name="period" id="period" value="\(f.period)" size="10"></div>
        <div class="field"><label for="base">\(t.t("基期（可空：用合成数据）", "Base quarter (optional: synthetic taxpayers)"))</label> <input type="text" name="base" id="base" value="\(f.base)" size="10" aria-describedby="base-hint"> <span class="hint" id="base-hint">\(t.t("填季度如 2026-Q1，则以本局该季度已申报的增值税申报表和企业所得税预缴申报表为测算基础", "a quarter such as 2026-Q1: your office's VAT returns and EIT prepayments of that quarter are the base"))</span></div>
        <div class="field"><label for="population">\(t.t("模拟户数", "Synthetic taxpayers"))</label> <input type="text" name="population" id="population" value="\(f.population)" size="10"></div>
        <button type="submit" id="simulation-go">\(t.t("测算", "Simulate"))</button></form>
        <div aria-live="polite">\(out)</div>
        """)
    }
}

extension SimulationPages {
    /// An error naming the form's field, with a link that moves focus to it (`value2` is "New value 2").
    static func error(_ field: String, _ zh: String, _ en: String, _ lang: Lang) -> FormError {
        let names: [String: (String, String)] = ["parameter": ("政策参数", "Parameter"), "key": ("分项", "Key"), "value": ("新的取值", "New value"), "from": ("起始日期", "From"),
                                                 "period": ("测算季度", "Quarter"), "base": ("基期", "Base quarter"), "population": ("模拟户数", "Synthetic taxpayers")]
        let base = String(field.prefix { !$0.isNumber }), number = field.dropFirst(base.count)
        let label = names[base].map { lang.t($0.0, $0.1) + (number.isEmpty ? "" : " \(number)") }
        return FormError(input: label == nil ? nil : field, label: label, message: FieldLabels.scrubbed(lang.t(zh, en)), technical: "\(field): \(en)")
    }

    static func sourceNote(_ source: Source, _ f: Form, _ t: WebContext) -> HTML {
        switch source {
        case .synthetic(let n):
            return "\(t.t("测算基于 \(n) 户合成纳税人（未按全国统计校准），仅用于比较现行政策与改革方案。", "Over \(n) synthetic taxpayers (not calibrated to national statistics): for comparing the law with a reform only."))"
        case let .stored(read, base, office):
            return "\(t.t("测算基于\(office)所辖 \(read.taxpayers) 户纳税人 \(base) 已申报的 \(read.vatReturns) 份增值税申报表和 \(read.eitReturns) 份企业所得税预缴申报表，按 \(f.period) 的现行政策与改革方案计算；企业所得税为本年累计至该季度的税额。", "Over the \(read.vatReturns) VAT returns and \(read.eitReturns) EIT prepayments of \(base) filed by \(read.taxpayers) taxpayers of \(office), as returns of \(f.period) under the law and the reform; EIT is the tax of the year to that quarter."))"
        }
    }
}

private func simulationRequest(_ req: Request) throws -> (SimulationPages.Form, Engine) {
    let actor = try req.signedIn()
    guard actor.role != .taxpayer else { throw ServiceError.forbidden("reform simulation is for tax officers / 政策测算仅供税务人员使用") }
    return (SimulationPages.form(req), req.application.platform.engine)
}

@Sendable func simulationPage(_ req: Request) async throws -> Response {
    let (f, engine) = try simulationRequest(req)
    guard f.asked else { return SimulationPages.render(req, f, law: engine.parameters, result: nil) }
    do {
        return SimulationPages.render(req, f, law: engine.parameters, result: try await SimulationPages.run(req, f, engine: engine))
    } catch let ServiceError.invalid(field, zh, en) {
        return SimulationPages.render(req, f, law: engine.parameters, result: nil, error: SimulationPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func simulationCSV(_ req: Request) async throws -> Response {
    let (f, engine) = try simulationRequest(req)
    let (_, c, _) = try await SimulationPages.run(req, f, engine: engine)
    return CSVExport.response(CSVExport.document(header: SimulationPages.header(.zh), rows: SimulationPages.rows(c, .zh)), filename: "simulation-\(f.period).csv")
}
