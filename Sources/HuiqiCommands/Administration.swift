import ArgumentParser
import Foundation
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore

/// The command line acts for the operator who runs it: an administrator's reach, recorded as `system:cli`.
let commandLineActor = Actor(userID: "system:cli", login: "cli", role: .administrator, offices: [], boundTaxpayers: [])

/// The return kind and period a job works on.
struct PeriodOptions: ParsableArguments {
    @ArgumentParser.Option(help: "The period: VAT 2026-Q3 or 2026-09, EIT 2026-Q3, business income 2025.") var period: String
    @ArgumentParser.Option(help: "vat, eit or business_income.") var kind = "vat"
    @ArgumentParser.Option(help: "An office id: the subtree to work on (default: the whole tree).") var office: String?
}

/// Prints a service's refusal in both languages and exits 2 (bad input), as `huiqi calc` does.
func refuse(_ command: String, _ error: any Error) -> any Error {
    if case let ServiceError.invalid(field, zh, en) = error { printError("huiqi \(command): \(field): \(zh) / \(en)"); return ExitCode(2) }
    if case let ServiceError.unprocessable(field, zh, en) = error { printError("huiqi \(command): \(field): \(zh) / \(en)"); return ExitCode(2) }
    if case ServiceError.notFound = error { printError("huiqi \(command): no such office / 没有这个税务机关"); return ExitCode(2) }
    return error
}

/// `huiqi monitor`: the filing period's figures for an office subtree, one line per child office.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Filing progress and accuracy of a period, per office (监控申报进度和准确性).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.OptionGroup var period: PeriodOptions
    @ArgumentParser.Flag(help: "Print the JSON the API answers instead of a table.") var json = false

    func run() async throws {
        let report: MonitoringReport
        do {
            report = try await withServices(db.location) { s in
                try await s.monitoring.report(by: commandLineActor, kind: period.kind, period: period.period, office: period.office)
            }
        } catch { throw refuse("monitor", error) }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(MonitoringBody(report)), as: UTF8.self))
            return
        }
        print("\(report.expected.returnID) · deadline 申报期限 \(report.expected.deadline) · \(report.office.name) (\(report.office.id))")
        let header = ["office 税务机关", "expected 应申报", "filed 已申报", "not filed 未申报", "late 逾期", "relief due 应享减免", "claimed 已享减免",
                      "not claimed 未足额享受", "not due 多享受", "declared≠computed 申报≠计算"]
        var rows: [[String]] = []
        for (o, f) in report.children { rows.append(line(o.name, f)) }
        rows.append(line("total 合计", report.totals))
        print(table([header] + rows))
        if let last = report.days.last { print("first filings by day 每日首次申报: \(report.days.count) days, \(last.cumulative) filed by \(last.day)") }
    }

    func line(_ name: String, _ f: OfficeFigures) -> [String] {
        [name, "\(f.expected)", "\(f.filed)", "\(f.notFiled)", "\(f.late)", Money(fen: f.relief_due_fen).description,
         Money(fen: f.relief_claimed_fen).description, "\(f.not_claimed)", "\(f.not_due)", "\(f.mismatched)"]
    }
}

/// `huiqi stats`: statistics of relief for an office subtree (统计核算), as the page and the API give them.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Statistics of relief: beneficiaries, entitled taxpayers, coverage (受惠面), relief, on last year.")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.OptionGroup var period: PeriodOptions
    @ArgumentParser.Option(help: "The lines: office (child offices), region, industry, kind, preference (the rule and its 文号) or size (工信 classification).") var by = "office"
    @ArgumentParser.Flag(help: "Print the JSON the API answers instead of a table.") var json = false

    func run() async throws {
        let report: StatisticsReport
        do {
            report = try await withServices(db.location) { s in
                try await s.statistics.report(by: commandLineActor, kind: period.kind, period: period.period, office: period.office, dimension: by)
            }
        } catch { throw refuse("stats", error) }
        let body = StatisticsBody(report)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(body), as: UTF8.self))
            return
        }
        print("\(report.section):\(report.period) (\(report.periods.joined(separator: ", "))) · \(report.office.name) (\(report.office.id))")
        let header = ["line 分组", "returns 申报表", "entitled 应享户", "beneficiaries 享受户", "coverage 受惠面", "relief 减免金额", "law 按政策减免",
                      "average 户均", "last year 上年同期"]
        func line(_ l: StatisticsLineBody) -> [String] {
            [l.name, "\(l.returns)", "\(l.entitled)", "\(l.beneficiaries)", l.coverage_permille.map { "\($0 / 10).\($0 % 10)%" } ?? "—",
             l.relief, l.law_relief, l.average_relief ?? "—", l.previous_year?.relief ?? "—"]
        }
        print(table([header] + body.lines.map(line) + [line(body.total)]))
    }
}

/// Aligns columns for a terminal (tab-separated when piped, so other tools can read it).
func table(_ rows: [[String]]) -> String {
    guard isatty(STDOUT_FILENO) != 0 else { return rows.map { $0.joined(separator: "\t") }.joined(separator: "\n") }
    func width(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) } }
    let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { width($0[c]) }.max() ?? 0 }
    return rows.map { r in r.enumerated().map { $0.element + String(repeating: " ", count: widths[$0.offset] - width($0.element)) }.joined(separator: "  ") }
        .joined(separator: "\n")
}

/// `huiqi screen`: screening after the deadline (事后筛查) as a job, with a progress bar on a terminal.
struct Screen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Screen a closed period: find relief missed, relief not due, returns not filed (事后筛查).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.OptionGroup var period: PeriodOptions
    @ArgumentParser.Option(help: "Returns per page (memory stays flat whatever the population).") var pageSize = 5000

    func run() async throws {
        let terminal = isatty(STDERR_FILENO) != 0
        do {
            let (job, summary) = try await withServices(db.location) { s in
                var screening = s.screening
                screening.pageSize = max(1, min(pageSize, 50_000))
                let job = try await screening.start(by: commandLineActor, kind: period.kind, period: period.period, office: period.office, monitoring: s.monitoring)
                let started = Date()
                let summary = try await screening.run(job) { done, total in
                    guard terminal else { return }
                    let share = total == 0 ? 1 : Double(done) / Double(total)
                    let bar = String(repeating: "█", count: Int(share * 30)) + String(repeating: "·", count: 30 - Int(share * 30))
                    let rate = Double(done) / max(Date().timeIntervalSince(started), 0.001)
                    FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total) \(Int(rate))/s ".utf8))
                }
                return (job, summary)
            }
            if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            print("job \(job.id): screened \(summary.screened) returns; new findings \(summary.newFindings), new notices \(summary.newNotices)")
            for kind in FindingRow.Kind.allCases {
                print("  \(kind.rawValue): \(summary.counts[kind.rawValue] ?? 0), amount \(Money(fen: summary.amounts[kind.rawValue] ?? 0))")
            }
            print("parameters used: \(summary.parameters.joined(separator: ", "))")
            print("time: " + summary.milliseconds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value / 1000).\(String(format: "%03d", $0.value % 1000)) s" }.joined(separator: ", "))
        } catch { throw refuse("screen", error) }
    }
}

/// `huiqi remind`: creates the reminders due today and delivers what is due to the webhook.
struct Remind: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create today's reminders (提醒) for a period and deliver them to the webhook.")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.OptionGroup var period: PeriodOptions
    @ArgumentParser.Option(help: "Remind this many working days before the deadline (official calendar, 调休 included).") var days = 3
    @ArgumentParser.Option(help: "POST each reminder's JSON here (default: HUIQI_WEBHOOK_URL; none: in the portal only).") var webhookURL: String?

    func run() async throws {
        let webhook = webhookURL ?? ProcessInfo.processInfo.environment["HUIQI_WEBHOOK_URL"]
        do {
            let (created, sent) = try await withServices(db.location, webhook: webhook) { s in
                (try await s.reminders.generate(kind: period.kind, period: period.period, workingDays: days), try await s.reminders.deliverDue())
            }
            print("reminders created: \(created); delivered: \(sent.delivered), failed (will retry): \(sent.failed)")
        } catch { throw refuse("remind", error) }
    }
}
