import Foundation
import HuiqiRules
import HuiqiServices
import Vapor

/// The analysts' page for reform simulation (政策测算, docs/simulation.md): one parameter changed from a date, the
/// law against the reform over a synthetic population or over the VAT returns stored for the analyst's office (a
/// base quarter), by kind, size band and region, with a chart and CSV. Staff only; nothing is stored (a GET form).
enum SimulationPages {
    struct Form {
        var period = "2027-Q1", parameter = "vat.qizhengdian.quarterly", from = "", value = "", population = "100000"
        /// Empty: a synthetic population; a quarter: the VAT returns of that quarter stored under the analyst's office.
        var base = ""
        var asked = false
    }
    static let maxPopulation = 1_000_000

    /// What a run was made over, said under the result.
    enum Source { case synthetic(Int), stored(returns: Int, base: String, office: String) }

    /// Runs the form's reform: over the stored returns of the base quarter under the actor's office, or over a
    /// synthetic population.
    static func run(_ req: Request, _ f: Form, engine: Engine) async throws -> (Reform, ReformComparison, Source) {
        let (reform, period, n) = try Self.reform(f, law: engine.parameters)
        guard !f.base.isEmpty else { return (reform, try ReformSimulation.run(law: engine, reform: reform, period: period, population: n), .synthetic(n)) }
        guard let base = TaxPeriod(f.base), base.isQuarterly else {
            throw ServiceError.invalid(field: "base", zh: "基期须为季度，如 2026-Q1", en: "the base must be a quarter such as 2026-Q1")
        }
        let services = req.application.platform.services
        let office = try await services.monitoring.office(nil, for: try req.signedIn())
        let (c, read) = try await ReformSimulation.run(law: engine, reform: reform, period: period, returnsOf: base, store: services.store, office: office.id)
        guard read.returns > 0 else {
            throw ServiceError.invalid(field: "base", zh: "本局没有 \(base) 的已申报增值税申报表", en: "no VAT return of \(base) is stored for your office")
        }
        return (reform, c, .stored(returns: read.returns, base: "\(base)", office: office.name))
    }

    static func form(_ req: Request) -> Form {
        var f = Form()
        func q(_ k: String) -> String? { req.query[String.self, at: k].map { String(FormInput.normalized($0).prefix(60)) } }
        if let v = q("period"), !v.isEmpty { f.period = FormInput.period(v) }
        if let v = q("parameter"), !v.isEmpty { f.parameter = v }
        if let v = q("from") { f.from = v }
        if let v = q("value") { f.value = v }
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
        let from = f.from.isEmpty ? "\(period.months[0].year)-\(String(format: "%02d", period.months[0].month))-01" : f.from
        let text = "name: \(quoted("\(f.parameter) = \(f.value) from \(from)"))\nchanges:\n  - parameter: \(quoted(f.parameter))\n    from: \(quoted(from))\n    value: \(quoted(f.value))\n"
        do {
            return (try Reform.parse(text, file: "form", against: law), period, n)
        } catch let e as ParameterFileError {
            let field = e.problem.contains(".value") ? "value" : e.problem.contains(".from") ? "from" : "parameter"
            throw ServiceError.invalid(field: field, zh: "改革方案无效：\(e.problem)", en: "the reform is not valid: \(e.problem)")
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
        let options: [HTML] = names.map { "<option value=\"\($0)\"\($0 == f.parameter ? " selected" : "")>\($0)</option>" }
        var out: HTML = ""
        if let (reform, c, source) = result, let all = c.lines["all"] {
            let table: [HTML] = rows(c, t.lang).map { r in
                HTML(raw: "<tr>" + r.enumerated().map { i, v in i == 0 ? "<th scope=\"row\">\(HTML.escape(v))</th>" : "<td class=\"num\">\(HTML.escape(v))</td>" }.joined() + "</tr>")
            }
            let csv = "/simulation.csv?" + [("period", f.period), ("parameter", f.parameter), ("from", f.from), ("value", f.value), ("population", f.population), ("base", f.base)]
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
        <p class="lead">\(t.t("选择一个政策参数，给出新的取值和起始日期，比较现行政策与改革方案对税收、纳税人和受惠面的影响。", "Choose a parameter of the law, give it a new value from a date, and compare the law with the reform: revenue, taxpayers, coverage."))</p>
        \(error?.html(t.lang))
        <form method="get" action="/simulation" id="simulation-form">
        <div class="field"><label for="parameter">\(t.t("政策参数", "Parameter"))</label> <select name="parameter" id="parameter">\(options)</select></div>
        <div class="field"><label for="value">\(t.t("新的取值", "New value"))</label> <input type="text" name="value" id="value" value="\(f.value)" size="14" aria-describedby="value-hint"> <span class="hint" id="value-hint">\(t.t("金额以元计，税率如 0.01", "amounts in yuan, rates such as 0.01"))</span></div>
        <div class="field"><label for="from">\(t.t("起始日期（某月1日，可空）", "From (a month's first day; optional)"))</label> <input type="text" name="from" id="from" value="\(f.from)" size="12"></div>
        <div class="field"><label for="period">\(t.t("测算季度", "Quarter"))</label> <input type="text" name="period" id="period" value="\(f.period)" size="10"></div>
        <div class="field"><label for="base">\(t.t("基期（可空：用合成数据）", "Base quarter (optional: synthetic taxpayers)"))</label> <input type="text" name="base" id="base" value="\(f.base)" size="10" aria-describedby="base-hint"> <span class="hint" id="base-hint">\(t.t("填季度如 2026-Q1，则以本局该季度已申报的增值税申报表为测算基础", "a quarter such as 2026-Q1: your office's VAT returns of that quarter are the base"))</span></div>
        <div class="field"><label for="population">\(t.t("模拟户数", "Synthetic taxpayers"))</label> <input type="text" name="population" id="population" value="\(f.population)" size="10"></div>
        <button type="submit" id="simulation-go">\(t.t("测算", "Simulate"))</button></form>
        <div aria-live="polite">\(out)</div>
        """)
    }
}

extension SimulationPages {
    static func sourceNote(_ source: Source, _ f: Form, _ t: WebContext) -> HTML {
        switch source {
        case .synthetic(let n):
            return "\(t.t("测算基于 \(n) 户合成纳税人（未按全国统计校准），仅用于比较现行政策与改革方案。", "Over \(n) synthetic taxpayers (not calibrated to national statistics): for comparing the law with a reform only."))"
        case let .stored(returns, base, office):
            return "\(t.t("测算基于\(office)所辖纳税人 \(base) 已申报的 \(returns) 份增值税申报表，按 \(f.period) 的现行政策与改革方案计算；不含企业所得税。", "Over the \(returns) VAT returns of \(base) filed by the taxpayers of \(office), as returns of \(f.period) under the law and the reform; EIT not included."))"
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
        return SimulationPages.render(req, f, law: engine.parameters, result: nil, error: AdminPages.error(field, zh, en, req.web.lang), status: .badRequest)
    }
}

@Sendable func simulationCSV(_ req: Request) async throws -> Response {
    let (f, engine) = try simulationRequest(req)
    let (_, c, _) = try await SimulationPages.run(req, f, engine: engine)
    return CSVExport.response(CSVExport.document(header: SimulationPages.header(.zh), rows: SimulationPages.rows(c, .zh)), filename: "simulation-\(f.period).csv")
}
