import Fluent
import SQLKit

/// Rectification tasks (整改, issue 10 §3): a supervisor assigns one to an office below it with a due date in
/// working days; the office reports what it did; the supervisor closes or reopens it. The task's events are the
/// record, append-only in the database; the task row holds the current state for listing.
struct M013Rectification: AsyncMigration {
    var name: String { "013_rectification" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE rectification_tasks (
              id TEXT PRIMARY KEY,
              office_id TEXT NOT NULL REFERENCES offices(id),
              title TEXT NOT NULL,
              assigned_by TEXT NOT NULL,
              assigned_at TEXT NOT NULL,
              working_days INTEGER NOT NULL CHECK (working_days BETWEEN 1 AND 60),
              due_on TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('open','reported','closed')),
              events INTEGER NOT NULL CHECK (events >= 1)
            )
            """).run()
        try await db.raw("CREATE INDEX rectification_tasks_office ON rectification_tasks(office_id, state)").run()
        try await db.raw("""
            CREATE TABLE rectification_events (
              task_id TEXT NOT NULL REFERENCES rectification_tasks(id),
              seq INTEGER NOT NULL CHECK (seq >= 1),
              at TEXT NOT NULL,
              user_id TEXT NOT NULL,
              action TEXT NOT NULL CHECK (action IN ('assigned','reported','closed','reopened')),
              note TEXT NOT NULL,
              PRIMARY KEY (task_id, seq)
            )
            """).run()
        try await M010Administration.appendOnly(["rectification_events"], on: db)
    }
    func revert(on database: any Database) async throws {
        for t in ["rectification_events", "rectification_tasks"] { try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run() }
    }
}

public struct RectificationTaskRow: Codable, Sendable, Equatable {
    public var id: String, office_id: String, title: String, assigned_by: String, assigned_at: String
    public var working_days: Int, due_on: String, state: String, events: Int
    public init(id: String, office_id: String, title: String, assigned_by: String, assigned_at: String, working_days: Int, due_on: String,
                state: String, events: Int) {
        self.id = id; self.office_id = office_id; self.title = title; self.assigned_by = assigned_by; self.assigned_at = assigned_at
        self.working_days = working_days; self.due_on = due_on; self.state = state; self.events = events
    }
}

public struct RectificationEventRow: Codable, Sendable, Equatable {
    public var task_id: String, seq: Int, at: String, user_id: String, action: String, note: String
    public init(task_id: String, seq: Int, at: String, user_id: String, action: String, note: String) {
        self.task_id = task_id; self.seq = seq; self.at = at; self.user_id = user_id; self.action = action; self.note = note
    }
}

extension Store {
    public func insertTask(_ t: RectificationTaskRow, note: String) async throws {
        try await db.insert(into: "rectification_tasks").model(t).run()
        try await db.insert(into: "rectification_events")
            .model(RectificationEventRow(task_id: t.id, seq: 1, at: t.assigned_at, user_id: t.assigned_by, action: "assigned", note: note)).run()
    }

    /// Appends an event and moves the task to `state`, only if the task is still at `expectedEvents` events (a
    /// concurrent change makes this a conflict instead of a lost update). Run inside `writeAudited`.
    public func appendTaskEvent(_ e: RectificationEventRow, state: String, expectedEvents: Int) async throws {
        let updated = try await db.raw("""
            UPDATE rectification_tasks SET state = \(bind: state), events = \(bind: e.seq)
            WHERE id = \(bind: e.task_id) AND events = \(bind: expectedEvents) RETURNING id
            """).all()
        guard updated.count == 1 else { throw StoreError.constraint }
        try await db.insert(into: "rectification_events").model(e).run()
    }

    public func task(_ id: String) async throws -> RectificationTaskRow? {
        try await db.select().columns("*").from("rectification_tasks").where("id", .equal, id).first(decoding: RectificationTaskRow.self)
    }

    public func taskEvents(_ id: String) async throws -> [RectificationEventRow] {
        try await db.select().columns("*").from("rectification_events").where("task_id", .equal, id).orderBy("seq").all(decoding: RectificationEventRow.self)
    }

    /// The tasks of the offices given (nil: all), newest first.
    public func tasks(offices: Set<String>?, limit: Int) async throws -> [RectificationTaskRow] {
        var q = db.select().columns("*").from("rectification_tasks")
        if let offices { q = q.where("office_id", .in, Array(offices)) }
        return try await q.orderBy("assigned_at", .descending).orderBy("id").limit(limit).all(decoding: RectificationTaskRow.self)
    }
}
