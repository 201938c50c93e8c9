import Foundation
import SQLKit

/// A long piece of work (screening, reminders) as a row: who started it, its arguments, its state and progress.
public struct JobRow: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case queued, running, succeeded, failed, abandoned }
    public var id: String, kind: String, arguments: String, state: State
    public var done: Int64, total: Int64
    public var created_by: String?, created_at: String
    public var started_at: String?, finished_at: String?, heartbeat_at: String?
    /// The process running it (`host:pid`), so a crashed runner's job can be recognized and abandoned.
    public var owner: String?
    public var error: String?
    /// A JSON summary when the job is done (screening: counts and the parameter versions used).
    public var result: String?
    public init(id: String, kind: String, arguments: String, state: State = .queued, createdBy: String?, createdAt: String) {
        self.id = id; self.kind = kind; self.arguments = arguments; self.state = state; done = 0; total = 0
        created_by = createdBy; created_at = createdAt
    }
}

extension Store {
    public func insert(job: JobRow) async throws {
        try await db.insert(into: "jobs").model(job, nilEncodingStrategy: .asNil).run()
    }
    public func job(_ id: String) async throws -> JobRow? {
        try await db.select().columns("*").from("jobs").where("id", .equal, id).first(decoding: JobRow.self)
    }
    /// The latest jobs of a kind, newest first.
    public func jobs(kind: String, limit: Int) async throws -> [JobRow] {
        try await db.select().columns("*").from("jobs").where("kind", .equal, kind).orderBy("created_at", .descending)
            .limit(limit).all(decoding: JobRow.self)
    }
    /// Marks a queued job as running by `owner`; false when another runner took it first.
    public func start(job id: String, owner: String, at: String) async throws -> Bool {
        let rows = try await db.raw("""
            UPDATE jobs SET state = 'running', owner = \(bind: owner), started_at = \(bind: at), heartbeat_at = \(bind: at)
            WHERE id = \(bind: id) AND state = 'queued' RETURNING id
            """).all()
        return !rows.isEmpty
    }
    public func progress(job id: String, done: Int64, total: Int64, at: String) async throws {
        try await db.update("jobs").set("done", to: done).set("total", to: total).set("heartbeat_at", to: at)
            .where("id", .equal, id).run()
    }
    public func finish(job id: String, state: JobRow.State, result: String?, error: String?, at: String) async throws {
        try await db.update("jobs").set("state", to: state.rawValue).set("result", to: result).set("error", to: error)
            .set("finished_at", to: at).set("heartbeat_at", to: at).where("id", .equal, id).run()
    }
    /// Running jobs whose runner stopped reporting before `staleBefore` (it crashed or was killed): abandoned, so
    /// their work is redone by the next run (which, being idempotent, adds only what is missing).
    public func abandonStaleJobs(kind: String, staleBefore: String, at: String) async throws -> Int {
        try await db.raw("""
            UPDATE jobs SET state = 'abandoned', finished_at = \(bind: at),
                   error = 'the runner stopped reporting progress (crashed or killed); rerun to finish the work'
            WHERE kind = \(bind: kind) AND state IN ('running','queued') AND COALESCE(heartbeat_at, created_at) < \(bind: staleBefore)
            RETURNING id
            """).all().count
    }
}
