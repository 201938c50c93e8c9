import ArgumentParser
import Foundation
import HuiqiServer
import HuiqiServices

/// `huiqi complaints`: the complaint desk's job and figures from the command line.
struct ComplaintsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "complaints", abstract: "The complaint desk (投诉专席): the sweep, the list, the SLA per office.",
                                                    subcommands: [Sweep.self, List.self, SLA.self])

    static func desk(_ s: Services) throws -> ComplaintService {
        guard let d = s.complaints else { printError("huiqi complaints: the complaint desk's rules file cannot be read"); throw ExitCode(1) }
        return d
    }

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Warn on the warning day and escalate overdue complaints to the parent office (the server does it every 5 minutes).")
        @OptionGroup var db: DatabaseOption
        func run() async throws {
            let (w, e) = try await withServices(db.location) { s in try await ComplaintsCommand.desk(s).sweep() }
            print("\(w) warned, \(e) escalated / 提醒 \(w) 件，升级 \(e) 件")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every complaint with its state and due date (no texts).")
        @OptionGroup var db: DatabaseOption
        func run() async throws {
            let rows = try await withServices(db.location) { s in
                let desk = try ComplaintsCommand.desk(s)
                let now = desk.now()
                return try await desk.list(by: commandLineActor, limit: 100_000).map {
                    [$0.row.id, $0.row.taxpayer_id, $0.answerableOffice, $0.row.category, $0.due ?? "undetermined 待定", $0.overdue(desk.clock, now: now) ? "overdue 逾期" : $0.state]
                }
            }
            print(table([["id 编号", "taxpayer 纳税人", "office 承办机关", "category 类别", "due 期限", "state 状态"]] + rows))
        }
    }

    struct SLA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sla", abstract: "Complaints resolved within 3 working days, per responsible office.")
        @OptionGroup var db: DatabaseOption
        func run() async throws {
            let rows = try await withServices(db.location) { s in try await ComplaintsCommand.desk(s).sla(by: commandLineActor) }
            print(table([["office 机关", "received 受理", "on time 按期办结", "overdue 逾期未结", "satisfaction 满意度"]] + rows.map {
                [$0.office_id, "\($0.received)", $0.measured == 0 ? "—" : "\($0.resolved_on_time)/\($0.measured)",
                 "\($0.overdue_open)", $0.satisfaction_count == 0 ? "—" : String(format: "%.1f", Double($0.satisfaction_sum) / Double($0.satisfaction_count))]
            }))
        }
    }
}
