import ArgumentParser
import Foundation
import HuiqiCalendar
import HuiqiRules

/// `huiqi`: the command line over the rules engine and the calendar. Later: serve, import, screen, stats.
@available(macOS 10.15, *)
public struct HuiqiCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "huiqi",
        abstract: "惠企 Huiqi: small/micro enterprise tax relief, computed exactly and cited.",
        subcommands: [Serve.self, Calc.self, Rules.self, Simulate.self, Generate.self, CalendarCommand.self, Bench.self, Audit.self, Check.self,
                      BackupCommand.self, RestoreCommand.self, Monitor.self, Screen.self, Remind.self, Stats.self,
                      ImportCommand.self, Compare.self, Supervise.self, Tasks.self, KnowledgeCommand.self, ComplaintsCommand.self])
    public init() {}

    /// Parses the arguments and runs the chosen command, awaiting it when it is asynchronous (`serve`).
    public static func runAsRoot() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Writes to standard error without buffering surprises.
func printError(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

func loadEngine() throws -> Engine {
    do { return try Engine.bundled() } catch {
        printError("huiqi: cannot load the parameters: \(error)")
        throw ExitCode(1)
    }
}

struct Calc: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Determine a case (CASES.md JSON) and print the determination as JSON.")
    @Argument(help: "The case file, or - for standard input.") var file: String
    @ArgumentParser.Flag(help: "Print the trace as readable text (Chinese and English) instead of JSON.") var explain = false

    func run() throws {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                // The caller still parses one JSON document on standard output (CASES.md "Errors").
                let refusal = Refusal.invalid(CaseDecoder.documentPath, zh: "无法读取案例文件 \(file)", en: "cannot read the case file \(file)")
                print(refusal.json.serialized())
                printError("huiqi calc: \(refusal)")
                throw ExitCode(2)
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let engine = try loadEngine()
        switch CalcOutput.render(engine: engine, caseText: text, explain: explain) {
        case .success(let out): print(out)
        case .failure(let refusal):
            print(refusal.json.serialized())
            printError("huiqi calc: \(refusal)")
            throw ExitCode(refusal.code == .invalidInput ? 2 : 1)
        }
    }
}

/// What `huiqi calc` prints, separated from the process so tests can check it.
public enum CalcOutput {
    public static func render(engine: Engine, caseText: String, explain: Bool) -> Result<String, Refusal> {
        do {
            let d = try engine.determine(json: caseText)
            return .success(explain ? explanationText(d) : d.json.serialized())
        } catch { return .failure(error) }
    }

    public static func explanationText(_ d: Determination) -> String {
        var out: [String] = []
        for (title, ex) in d.explanations {
            out.append("== \(title)")
            for (i, (zh, en)) in zip(ex.traceZh, ex.traceEn).enumerated() {
                out.append("\(i + 1). \(zh)")
                out.append("   \(en)")
            }
            out.append("依据 Sources: " + ex.rules.joined(separator: "; "))
            if !ex.flags.isEmpty { out.append("未确认 Unconfirmed: " + ex.flags.map { "\($0.code) \($0.messageEn)" }.joined(separator: "; ")) }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every parameter in force on a day, with its value and citation.")
    @Option(help: "The day, YYYY-MM-DD (税款所属期 of the rules).") var date: String

    func run() throws {
        guard let day = Day(iso: date) else {
            printError("huiqi rules: --date must be YYYY-MM-DD / 日期格式应为 YYYY-MM-DD")
            throw ExitCode(2)
        }
        let engine = try loadEngine()
        print(RulesListing.text(engine.parameters, on: day))
    }
}

public enum RulesListing {
    public static func text(_ p: ParameterSet, on day: Day) -> String {
        let versions = p.inForce(on: day)
        var out = ["Parameters in force on \(day) (\(versions.count)) / \(day) 有效的参数"]
        for v in versions {
            let name = v.key.map { "\(v.name)[\($0)]" } ?? v.name
            out.append("\(name) = \(v.value)    \(v.span)    \(v.cite) (grade \(v.cite.grade))\(v.note.map { "    note: \($0)" } ?? "")")
        }
        return out.joined(separator: "\n")
    }
}

struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calendar", abstract: "The official calendar: filing deadlines and working days.",
                                                    subcommands: [Deadline.self, AddWorkingDays.self])

    struct Deadline: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the filing deadline that falls in a month (YYYY-MM).")
        @Argument var month: String
        @ArgumentParser.Flag(help: "Also say where the date comes from.") var verbose = false
        func run() throws {
            let parts = month.split(separator: "-")
            guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else {
                printError("huiqi calendar deadline: month must be YYYY-MM / 月份格式应为 YYYY-MM")
                throw ExitCode(2)
            }
            do {
                let d = try FilingDeadlines.bundled().deadline(year: y, month: m)
                if verbose {
                    switch d.source {
                    case .official(let notice): print("\(d.date)\tofficial\t\(notice)")
                    case .derived: print("\(d.date)\tderived (observed rule, grade D; no official table on record)")
                    }
                } else { print(d.date) }
            } catch let e as CalendarError {
                printError("huiqi calendar deadline: \(e)")
                throw ExitCode(1)
            }
        }
    }

    struct AddWorkingDays: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-working-days", abstract: "Add N working days to a date (调休 included).")
        @Argument var date: String
        @Argument var days: Int
        func run() throws {
            guard let d = Day(iso: date), days >= 0 else {
                printError("huiqi calendar add-working-days: give DATE (YYYY-MM-DD) and N ≥ 0 / 日期格式 YYYY-MM-DD，天数不能为负")
                throw ExitCode(2)
            }
            do { print(try OfficialCalendar.bundled().addingWorkingDays(days, to: d)) } catch let e as CalendarError {
                printError("huiqi calendar add-working-days: \(e)")
                throw ExitCode(1)
            }
        }
    }
}
