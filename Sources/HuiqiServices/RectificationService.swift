import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// A rectification task as people see it: the row, its events, and whether it is overdue today.
public struct RectificationTask: Sendable {
    public let row: RectificationTaskRow
    public let events: [RectificationEventRow]
    /// Open past its due date (China time); a task reported but not closed waits on the supervisor, not the office.
    public let overdue: Bool
}

/// Rectification tasks (整改): a supervisor (or an administrator) assigns one to an office below its own, due a
/// number of working days later on the official calendar (调休 included); an officer of that office reports what it
/// did; the supervisor closes it or reopens it. Officers never close a task. Every step is an append-only event
/// and an audit entry; tasks are visible to every office above.
public struct RectificationService: Sendable {
    public let store: Store
    public let deadlines: FilingDeadlines
    public let now: @Sendable () -> Date

    public init(store: Store, deadlines: FilingDeadlines, now: @escaping @Sendable () -> Date) {
        self.store = store; self.deadlines = deadlines; self.now = now
    }

    static let maxNote = 2000

    func check(_ note: String, field: String) throws -> String {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else { throw ServiceError.invalid(field: field, zh: "请填写说明", en: "give the text") }
        guard !note.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t") || $0.value == 0x7F }),
              note.count <= Self.maxNote else {
            throw ServiceError.invalid(field: field, zh: "说明最多 \(Self.maxNote) 个字符，不得含控制字符", en: "at most \(Self.maxNote) characters, no control characters")
        }
        return note
    }

    func overdue(_ t: RectificationTaskRow) -> Bool {
        t.state == "open" && (Day(iso: t.due_on).map { $0 < FilingService.chinaDay(now()) } ?? false)
    }

    /// Assigns a task to `office` (below the supervisor's own office), due `workingDays` working days from today.
    public func assign(by actor: Actor, office: String, title: String, workingDays: Int, remote: String?) async throws -> RectificationTask {
        guard actor.role == .supervisor || actor.role == .administrator else {
            throw ServiceError.forbidden("rectification tasks are assigned by supervisors / 整改任务由督导人员下达")
        }
        try TextInput.check(office, field: "office", maxLength: TextInput.maxIdentifier)
        guard try await store.office(office) != nil, actor.role == .administrator || actor.offices.contains(office) else {
            throw ServiceError.invalid(field: "office", zh: "税务机关不存在或不在您的管辖范围内", en: "the office does not exist or is not within your reach")
        }
        if actor.role == .supervisor, try await store.user(id: actor.userID)?.office_id == office {
            throw ServiceError.invalid(field: "office", zh: "整改任务应下达给下级税务机关", en: "a task goes to an office below your own")
        }
        let title = try check(title, field: "title")
        guard (1...60).contains(workingDays) else {
            throw ServiceError.invalid(field: "working_days", zh: "整改期限应为 1 至 60 个工作日", en: "the time allowed must be 1 to 60 working days")
        }
        let today = FilingService.chinaDay(now())
        let due: Day
        do { due = try deadlines.calendar.addingWorkingDays(workingDays, to: today) } catch {
            throw ServiceError.invalid(field: "working_days", zh: "官方节假日安排尚未公布，无法确定整改期限（\(error)）",
                                       en: "undetermined: the official holiday calendar needed for the due date is not published (\(error))")
        }
        let at = now().formatted(.iso8601)
        let row = RectificationTaskRow(id: UUID().uuidString.lowercased(), office_id: office, title: title, assigned_by: actor.userID, assigned_at: at,
                                       working_days: workingDays, due_on: due.description, state: "open", events: 1)
        let audit = AuditRow(id: UUID().uuidString, at: at, user_id: actor.userID, action: "assign_task", object: row.id,
                             detail: "office \(office), due \(due) (\(workingDays) working days)", remote: remote)
        try await store.writeAudited(audit) { db in try await Store(sql: db).insertTask(row, note: title) }
        return RectificationTask(row: row, events: try await store.taskEvents(row.id), overdue: false)
    }

    /// One task, within reach (its office in the actor's subtree; administrators: any).
    public func task(by actor: Actor, id: String) async throws -> RectificationTask {
        try TextInput.check(id, field: "task", maxLength: TextInput.maxIdentifier)
        guard actor.role != .taxpayer, let t = try await store.task(id), actor.role == .administrator || actor.offices.contains(t.office_id) else {
            throw ServiceError.notFound
        }
        return RectificationTask(row: t, events: try await store.taskEvents(id), overdue: overdue(t))
    }

    /// The tasks of the actor's subtree (its own office's and every office's below), newest first.
    public func tasks(by actor: Actor) async throws -> [RectificationTask] {
        guard actor.role != .taxpayer else { throw ServiceError.forbidden("tasks are for tax offices / 整改任务仅供税务机关使用") }
        return try await store.tasks(offices: actor.role == .administrator ? nil : actor.offices, limit: 500)
            .map { RectificationTask(row: $0, events: [], overdue: overdue($0)) }
    }

    /// `report` (an officer of the task's office: what it did), `close` or `reopen` (a supervisor above the office).
    public func act(by actor: Actor, id: String, action: String, note: String, remote: String?) async throws -> RectificationTask {
        let current = try await task(by: actor, id: id)
        let t = current.row
        let next: String
        switch action {
        case "report":
            guard actor.role == .officer else { throw ServiceError.forbidden("the office itself reports / 由承办税务机关报告整改情况") }
            guard t.state == "open" else { throw ServiceError.conflict(field: "action", zh: "任务不在整改中", en: "the task is not open") }
            next = "reported"
        case "close", "reopen":
            guard actor.role == .supervisor || actor.role == .administrator else {
                throw ServiceError.forbidden("only the supervising office closes or reopens a task / 只有督导方可以关闭或重新打开任务")
            }
            if actor.role == .supervisor, try await store.user(id: actor.userID)?.office_id == t.office_id {
                throw ServiceError.forbidden("an office does not close its own task / 不能关闭本级的整改任务")
            }
            guard action == "close" ? t.state != "closed" : t.state != "open" else {
                throw ServiceError.conflict(field: "action", zh: action == "close" ? "任务已关闭" : "任务已在整改中", en: action == "close" ? "the task is closed" : "the task is open")
            }
            next = action == "close" ? "closed" : "open"
        default:
            throw ServiceError.invalid(field: "action", zh: "操作应为 report、close 或 reopen", en: "action must be report, close or reopen")
        }
        let note = try check(note, field: "note")
        let at = now().formatted(.iso8601)
        let event = RectificationEventRow(task_id: t.id, seq: t.events + 1, at: at, user_id: actor.userID,
                                          action: action == "report" ? "reported" : action == "close" ? "closed" : "reopened", note: note)
        let audit = AuditRow(id: UUID().uuidString, at: at, user_id: actor.userID, action: "task_\(action)", object: t.id, detail: next, remote: remote)
        do {
            try await store.writeAudited(audit) { db in try await Store(sql: db).appendTaskEvent(event, state: next, expectedEvents: t.events) }
        } catch StoreError.constraint {
            throw ServiceError.conflict(field: "action", zh: "任务已被他人更新，请刷新后重试", en: "the task changed meanwhile; read it again")
        }
        return try await task(by: actor, id: id)
    }
}
