import ArgumentParser
import Foundation
import HuiqiServer
import HuiqiServices
import HuiqiStore

/// `huiqi import market FILE` / `huiqi import sme FILE`: another department's registry file into the comparison
/// tables (docs/registries.md). A file with a bad row is refused whole; every bad row is printed.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import",
        abstract: "Import another department's registry file: market (市场监管登记) or sme (工信中小企业划型).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @Argument(help: "market or sme.") var source: String
    @Argument(help: "The CSV file (UTF-8, header row; formats in docs/registries.md).") var file: String

    func run() async throws {
        guard let source = RegistrySource(rawValue: source) else {
            printError("huiqi import: source: 应为 market 或 sme / must be market or sme"); throw ExitCode(2)
        }
        guard FileManager.default.isReadableFile(atPath: file) else { printError("huiqi import: file: 无法读取 / cannot read \(file)"); throw ExitCode(2) }
        let terminal = isatty(STDERR_FILENO) != 0
        let started = Date()
        let outcome: RegistryImportOutcome
        do {
            outcome = try await withServices(db.location) { s in
                try await s.comparison.importFile(by: commandLineActor, source: source, path: file, fileName: (file as NSString).lastPathComponent,
                                                  remote: nil) { read in
                    // A progress line on a terminal, rewritten in place; nothing when the output is a file.
                    if terminal { FileHandle.standardError.write(Data("\r读取 read \(read.formatted()) 行 rows …".utf8)) }
                }
            }
        } catch { throw refuse("import", error) }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        switch outcome.state {
        case .imported:
            let r = outcome.record!
            print("imported 已导入 \(r.id): \(r.rows_read) rows 行 read, \(r.rows_changed) new or changed 新增或变更 (\(seconds) s)")
        case .alreadyImported:
            let r = outcome.record!
            print("already imported 该文件已导入 (\(r.id), \(r.imported_at)): nothing changed 未作任何变更")
        case .refused:
            for e in outcome.errors { printError(e.description) }
            if outcome.errorCount > outcome.errors.count { printError("… and \(outcome.errorCount - outcome.errors.count) more 另有错误行未列出") }
            printError("huiqi import: refused 文件被拒绝: \(outcome.errorCount) bad rows of \(outcome.rowsRead) 行有误; nothing was imported 未导入任何数据")
            throw ExitCode(2)
        }
    }
}

/// `huiqi compare`: the comparison findings under an office, one kind at a time or the counts of all four.
struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare tax records with other departments' registries (部门数据比对).")
    @ArgumentParser.OptionGroup var db: DatabaseOption
    @ArgumentParser.Option(help: "unregistered, sme_without_relief, mismatch or deregistered_active (default: the counts of all four).") var kind: String?
    @ArgumentParser.Option(help: "The classification year for sme_without_relief (default: last year).") var year: Int?
    @ArgumentParser.Option(help: "An office id: the subtree (default: the whole tree).") var office: String?
    @ArgumentParser.Option(help: "At most this many findings.") var limit = 100

    func run() async throws {
        let year = self.year ?? (Calendar(identifier: .gregorian).component(.year, from: Date()) - 1)
        do {
            try await withServices(db.location) { s in
                guard let kind else {
                    let counts = try await s.comparison.counts(by: commandLineActor, office: office, year: year)
                    print(table([["kind 类别", "findings 条数"]] + ComparisonKind.allCases.map { [$0.rawValue, "\(counts[$0] ?? 0)"] }))
                    return
                }
                guard let k = ComparisonKind(rawValue: kind) else {
                    throw ServiceError.invalid(field: "kind", zh: "比对类别无效", en: "unknown comparison kind")
                }
                let f = try await s.comparison.findings(by: commandLineActor, kind: k, office: office, year: year, limit: max(1, min(limit, 100_000)))
                print("\(k.rawValue): \(f.total) findings 条 under 于 \(f.office.name) (\(f.office.id))")
                print(table([["credit code 统一社会信用代码", "name 名称", "office 主管税务机关", "detail 说明"]] + f.findings.map {
                    [$0.row.credit_code, $0.row.name, $0.office ?? "—", $0.differences.joined(separator: ",")]
                }))
            }
        } catch { throw refuse("compare", error) }
    }
}
