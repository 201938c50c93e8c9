import ArgumentParser
import Foundation
import HuiqiServer
import HuiqiStore

/// Where a job's database is: `--database`, else `DATABASE_URL`, else `huiqi.sqlite` (as `huiqi serve`).
struct DatabaseOption: ParsableArguments {
    @Option(help: "postgres://… for PostgreSQL, or an SQLite file path (default: DATABASE_URL, else huiqi.sqlite).") var database: String?
    var location: DatabaseLocation { DatabaseLocation(database ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "huiqi.sqlite") }
}

/// `huiqi audit verify`: recomputes the audit log's hash chain.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The tamper-evident audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the audit log's SHA-256 chain; exit 1 at the first broken entry.")
        @OptionGroup var db: DatabaseOption
        func run() async throws {
            let v = try await withStore(db.location) { try await $0.verifyAuditChain() }
            if let broken = v.broken {
                printError("huiqi audit verify: entry \(broken.seq): \(broken.reason) / 审计日志在第\(broken.seq)条处被改动")
                throw ExitCode(1)
            }
            // The last hash, written down elsewhere (a ticket, a report to the office above), anchors the chain.
            print("audit chain intact: \(v.entries) entries, last hash \(v.lastHash)")
        }
    }
}

/// `huiqi check`: the invariants after a crash, a restore or a manual intervention.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify the stored invariants (return versions and pointers, filings' audit entries, the audit chain).")
    @OptionGroup var db: DatabaseOption
    func run() async throws {
        let (problems, collation) = try await withStore(db.location) { (try await $0.check(), try await $0.textCollation()) }
        for p in problems { print("PROBLEM \(p)") }
        // Advice, not a problem: the data are sound under any collation.
        if let advice = Store.collationAdvice(collation) { print("note: \(advice)") }
        guard problems.isEmpty else { throw ExitCode(1) }
        print("check: no problems found")
    }
}

/// `huiqi backup --to FILE`.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup",
        abstract: "Write a consistent backup of the database to a new file (SQLite: VACUUM INTO; PostgreSQL: pg_dump).")
    @OptionGroup var db: DatabaseOption
    @Option(help: "The backup file to write (must not exist).") var to: String
    func run() async throws {
        do { try await Backup.backup(db.location, to: to) } catch let f as Backup.Failure { printError("huiqi backup: \(f)"); throw ExitCode(1) }
        print("backup written to \(to)")
    }
}

/// `huiqi restore --from FILE --database TARGET`.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore",
        abstract: "Restore a backup into a new SQLite file or an empty PostgreSQL database, then check it.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "The backup file.") var from: String
    func run() async throws {
        let problems: [Store.Problem]
        do { problems = try await Backup.restore(from: from, to: db.location) } catch let f as Backup.Failure { printError("huiqi restore: \(f)"); throw ExitCode(1) }
        for p in problems { print("PROBLEM \(p)") }
        guard problems.isEmpty else { throw ExitCode(1) }
        print("restored from \(from); check: no problems found")
    }
}
