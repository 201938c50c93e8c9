import ArgumentParser
import Foundation
import HuiqiServer
import HuiqiServices
import HuiqiStore

/// `huiqi supervise`: the ranking of an office's child offices by the performance score, with its inputs.
struct Supervise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rank the offices below one by coverage, filing on time and relief claimed (督导、绩效考核).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.OptionGroup var period: PeriodOptions
    @ArgumentParser.Flag(help: "Print the JSON the API answers instead of a table.") var json = false

    func run() async throws {
        let report: SupervisionReport
        do {
            report = try await withServices(db.location) { s in
                try await s.supervision.report(by: commandLineActor, kind: period.kind, period: period.period, office: period.office)
            }
        } catch { throw refuse("supervise", error) }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(SupervisionBody(report)), as: UTF8.self))
            return
        }
        func p(_ v: Int64?) -> String { v.map { "\($0 / 10).\($0 % 10)%" } ?? "—" }
        print("\(report.section):\(report.period) · \(report.office.name) (\(report.office.id)) · weights 权重 \(report.weights.weights.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        let header = ["rank 排名", "office 税务机关", "score 考核分", "coverage 受惠面", "on time 按期申报率", "claimed 足额享受率", "notices 通知及时率", "flag 督导"]
        print(table([header] + report.offices.map {
            ["\($0.rank)", $0.office.name, p($0.score), p($0.coverage), p($0.timelyFiling), p($0.reliefClaimed), p($0.noticesOnTime), $0.flagged ? "under threshold 低于阈值" : ""]
        }))
    }
}

/// `huiqi tasks`: the rectification tasks of the whole tree (or an office's subtree), overdue ones marked.
struct Tasks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List rectification tasks (整改任务), overdue ones marked.")
    @ArgumentParser.OptionGroup var db: DatabaseOption

    func run() async throws {
        let tasks = try await withServices(db.location) { s in try await s.rectification.tasks(by: commandLineActor) }
        print(table([["office 承办机关", "due 期限", "state 状态", "title 整改事项"]] + tasks.map {
            [$0.row.office_id, $0.row.due_on, $0.overdue ? "overdue 逾期" : $0.row.state, $0.row.title]
        }))
    }
}
