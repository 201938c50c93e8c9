import Foundation
import HuiqiServices
import HuiqiStore
import SQLKit

/// `huiqi backup` and `huiqi restore`: a consistent copy of a running platform's database, and its return into an
/// empty one. SQLite: `VACUUM INTO`, SQLite's online copy (a transaction-consistent snapshot while the server
/// writes); PostgreSQL: `pg_dump --format=custom` and `pg_restore` (PostgreSQL's client tools on PATH). A restore
/// never overwrites: the target must be new (SQLite) or empty (PostgreSQL); it ends with `huiqi check`'s invariants.
public enum Backup {
    public enum Failure: Error, CustomStringConvertible {
        case exists(String), notEmpty(String), tool(String, Int32, String)
        public var description: String {
            switch self {
            case .exists(let p): return "\(p) already exists; a backup or restore never overwrites / 目标已存在，不会覆盖"
            case .notEmpty(let db): return "the database \(db) is not empty; restore into a new, empty database / 目标数据库非空"
            case let .tool(name, status, err): return "\(name) exited with status \(status): \(err)"
            }
        }
    }

    /// Writes a backup of `location` to `file` (which must not exist).
    public static func backup(_ location: DatabaseLocation, to file: String) async throws {
        guard !FileManager.default.fileExists(atPath: file) else { throw Failure.exists(file) }
        switch location {
        case .sqlite:
            try await withStore(location) { store in try await store.db.raw("VACUUM INTO \(bind: file)").run() }
        case .postgres(let url):
            try await run("pg_dump", ["--format=custom", "--no-owner", "--file=\(file)", url])
        }
    }

    /// Restores `file` into `location` (a new SQLite file, or an empty PostgreSQL database) and returns the problems
    /// `huiqi check` finds there (none for a good backup).
    public static func restore(from file: String, to location: DatabaseLocation) async throws -> [Store.Problem] {
        guard FileManager.default.fileExists(atPath: file) else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: file]) }
        switch location {
        case .sqlite(let path):
            guard !FileManager.default.fileExists(atPath: path) else { throw Failure.exists(path) }
            try FileManager.default.copyItem(atPath: file, toPath: path)
            let ok = try await withStore(location) { store in
                try await store.db.raw("PRAGMA integrity_check").first()?.decode(column: "integrity_check", as: String.self)
            }
            guard ok == "ok" else { throw Failure.tool("PRAGMA integrity_check", 1, ok ?? "no answer") }
        case .postgres(let url):
            let tables = try await run("psql", ["-tAc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", url])
            guard tables.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else { throw Failure.notEmpty(url) }
            try await run("pg_restore", ["--no-owner", "--exit-on-error", "--dbname=\(url)", file])
        }
        return try await withStore(location) { store in try await store.check() }
    }

    /// Runs a client tool and returns its standard output; a non-zero exit is an error with its standard error.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) async throws -> String {
        let r = try await ChildProcess.run(tool, arguments)
        guard r.status == 0 else { throw Failure.tool(tool, r.status, r.errorText) }
        return r.text
    }
}
