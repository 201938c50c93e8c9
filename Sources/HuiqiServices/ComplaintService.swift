import Foundation
import HuiqiCalendar
import HuiqiDates
import HuiqiStore

/// The complaint desk's clock, as data (Evaluation/complaint-desk.json).
public struct ComplaintRules: Codable, Sendable, Equatable {
    public var resolve_within_working_days: Int
    public var warn_working_days_before: Int
    /// Office hours, Beijing time, "HH:MM".
    public var office_opens: String
    public var office_closes: String

    public static func bundled() throws -> ComplaintRules {
        guard let url = Bundle.module.url(forResource: "complaint-desk", withExtension: "json", subdirectory: "Evaluation") else {
            throw ServiceError.invalid(field: "complaint-desk", zh: "缺少投诉时限文件", en: "the complaint desk's rules file is missing")
        }
        let r = try JSONDecoder().decode(ComplaintRules.self, from: Data(contentsOf: url))
        guard (1...30).contains(r.resolve_within_working_days), (0...r.resolve_within_working_days).contains(r.warn_working_days_before),
              let o = minutes(r.office_opens), let c = minutes(r.office_closes), o < c else {
            throw ServiceError.invalid(field: "complaint-desk", zh: "投诉时限文件无效", en: "the complaint desk's rules file is invalid")
        }
        return r
    }
    static func minutes(_ hhmm: String) -> Int? {
        let p = hhmm.split(separator: ":")
        guard p.count == 2, let h = Int(p[0]), let m = Int(p[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
        return h * 60 + m
    }
}

/// The clock of a complaint: a complaint received on a working day before closing time counts from that day; one
/// received after closing time, or on a rest day (调休 included, from the official calendar), counts from the next
/// working day. It is due at closing time of the `resolve_within_working_days`-th working day after that day, and
/// warned `warn_working_days_before` working days earlier. A year the calendar does not hold makes the due date
/// undetermined (nil), never a guess.
public struct ComplaintClock: Sendable {
    public let calendar: OfficialCalendar
    public let rules: ComplaintRules
    public init(calendar: OfficialCalendar, rules: ComplaintRules) { self.calendar = calendar; self.rules = rules }

    /// Beijing day and minute of an instant (UTC+8, no daylight saving).
    static func local(_ date: Date) -> (day: Day, minute: Int) {
        let seconds = Int((date.timeIntervalSince1970 + 8 * 3600).rounded(.down))
        let day = Day(ordinal: Int((Double(seconds) / 86_400).rounded(.down)))
        let minute = (seconds - day.ordinal * 86_400) / 60
        return (day, minute)
    }

    /// The working day the clock starts on (nil: the calendar does not reach it).
    public func start(receivedAt date: Date) -> Day? {
        let (day, minute) = Self.local(date)
        do {
            if try calendar.isWorkingDay(day) && minute < ComplaintRules.minutes(rules.office_closes)! { return day }
            return try calendar.addingWorkingDays(1, to: day)
        } catch { return nil }
    }
    public func due(from start: Day?) -> Day? {
        guard let start else { return nil }
        return try? calendar.addingWorkingDays(rules.resolve_within_working_days, to: start)
    }
    /// The day the warning is due: `warn_working_days_before` working days before the due day.
    public func warnOn(due: Day) -> Day? {
        guard rules.warn_working_days_before > 0 else { return due }
        var d = due, left = rules.warn_working_days_before
        do {
            while left > 0 { d = d.adding(days: -1); if try calendar.isWorkingDay(d) { left -= 1 } }
        } catch { return nil }
        return d
    }
    /// Whether an instant is past the end of a due day (closing time, Beijing).
    public func isPast(_ due: Day, at date: Date) -> Bool {
        let (day, minute) = Self.local(date)
        return day > due || (day == due && minute >= ComplaintRules.minutes(rules.office_closes)!)
    }
}

/// A complaint as its readers see it: the row, its events, and the state they add up to.
public struct ComplaintView: Sendable {
    public let row: ComplaintRow
    public let events: [ComplaintEventRow]
    /// open, resolved (awaiting the taxpayer), closed (confirmed).
    public var state: String {
        switch events.last(where: { ["received", "resolved", "confirmed", "reopened"].contains($0.kind) })?.kind {
        case "resolved": return "resolved"
        case "confirmed": return "closed"
        default: return "open"
        }
    }
    /// The due day of the current round: the receipt's, or the latest reopening's.
    public var due: String? { events.last(where: { $0.kind == "reopened" })?.due_on ?? row.due_on }
    /// The offices it has been escalated to, in order.
    public var escalations: [String] { events.filter { $0.kind == "escalated" }.compactMap(\.office_id) }
    /// The office now answerable: the last it was escalated to, else the responsible office.
    public var answerableOffice: String { escalations.last ?? row.office_id }
    /// The satisfaction given on confirmation.
    public var satisfaction: Int? { events.last(where: { $0.kind == "confirmed" })?.satisfaction }
    /// Events since the current round began (receipt or the latest reopening).
    var currentRound: ArraySlice<ComplaintEventRow> {
        let i = events.lastIndex(where: { $0.kind == "reopened" }) ?? 0
        return events[i...]
    }
    /// Resolved by the end of the receipt's due day (the SLA figure): the first resolution's instant against it.
    func resolvedOnTime(_ clock: ComplaintClock) -> Bool? {
        guard let due = row.due_on.flatMap(Day.init(iso:)) else { return nil }
        guard let first = events.first(where: { $0.kind == "resolved" }), let at = ISO8601DateFormatter().date(from: first.at) else { return false }
        return !clock.isPast(due, at: at)
    }
    public func overdue(_ clock: ComplaintClock, now: Date) -> Bool {
        guard state == "open", let due = due.flatMap(Day.init(iso:)) else { return false }
        return clock.isPast(due, at: now)
    }
}

/// One office's complaint figures: received, resolved within the limit, overdue now, and the average satisfaction.
public struct ComplaintSLA: Codable, Sendable, Equatable {
    public var office_id: String
    public var received: Int
    /// Received complaints whose due date is known.
    public var measured: Int
    public var resolved_on_time: Int
    public var overdue_open: Int
    /// Per mille of `measured` resolved on time (nil: none measured).
    public var on_time_permille: Int?
    public var satisfaction_count: Int
    public var satisfaction_sum: Int
}

/// The complaint desk (投诉专席): taxpayers complain (web, API) or an agent records a phone call; the responsible
/// office (the taxpayer's by default) resolves within 3 working days; the taxpayer confirms or reopens. `sweep`
/// warns before the due day and escalates overdue complaints to the parent office, with a reminder through the
/// outbox. Complaint texts are personal data: only the taxpayer's users, the responsible office chain and
/// administrators read them, and every read by staff is recorded.
public struct ComplaintService: Sendable {
    public let store: Store
    public let access: Access
    public let clock: ComplaintClock
    public let now: @Sendable () -> Date
    public static let categories = ["relief_not_received", "wrong_answer", "service", "other"]
    public static let outcomes = ["upheld", "partly_upheld", "not_upheld"]

    public init(store: Store, access: Access, calendar: OfficialCalendar, rules: ComplaintRules, now: @escaping @Sendable () -> Date) {
        self.store = store; self.access = access; self.clock = ComplaintClock(calendar: calendar, rules: rules); self.now = now
    }

    public struct Submission: Codable, Sendable {
        public var taxpayer_id: String
        public var category: String
        public var text: String
        public var contact: String
        /// Staff only: another responsible office than the taxpayer's (within the staff member's reach).
        public var office_id: String?
        public init(taxpayer_id: String, category: String, text: String, contact: String, office_id: String? = nil) {
            self.taxpayer_id = taxpayer_id; self.category = category; self.text = text; self.contact = contact; self.office_id = office_id
        }
    }

    /// Records a complaint. `channel`: web or api for the taxpayer's own; staff record phone calls (phone).
    public func submit(_ s: Submission, channel: String, by actor: Actor) async throws -> ComplaintView {
        let taxpayer = try await access.readableTaxpayer(s.taxpayer_id, by: actor)
        guard Self.categories.contains(s.category) else {
            throw ServiceError.invalid(field: "category", zh: "类别须为优惠未享受、答复错误、服务问题或其他（\(Self.categories.joined(separator: "、"))）",
                                       en: "category must be one of \(Self.categories.joined(separator: ", "))")
        }
        try TextInput.check(s.text, field: "text", maxLength: 4000, allowNewlines: true)
        try TextInput.check(s.contact, field: "contact", maxLength: 200)
        guard !s.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ServiceError.invalid(field: "text", zh: "请填写投诉内容", en: "text is required")
        }
        guard !s.contact.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ServiceError.invalid(field: "contact", zh: "请填写联系方式", en: "contact is required")
        }
        var office = taxpayer.office_id
        if let o = s.office_id, o != office {
            try TextInput.check(o, field: "office_id", maxLength: TextInput.maxIdentifier)
            guard actor.role == .administrator || actor.offices.contains(o) else {
                throw ServiceError.invalid(field: "office_id", zh: "只能指定本机关及下级机关办理", en: "office_id must be within your reach")
            }
            guard try await store.office(o) != nil else { throw ServiceError.invalid(field: "office_id", zh: "没有这个税务机关", en: "no such office") }
            office = o
        }
        let channel = actor.role == .taxpayer ? channel : "phone"
        let at = now()
        let start = clock.start(receivedAt: at)
        let due = clock.due(from: start)
        let row = ComplaintRow(id: "TS-" + UUID().uuidString.prefix(8).uppercased(), taxpayer_id: taxpayer.id, office_id: office, category: s.category,
                               channel: channel, text: s.text, contact: s.contact, received_at: at.formatted(.iso8601),
                               clock_from: start?.description, due_on: due?.description, created_by: actor.userID)
        let received = ComplaintEventRow(taxpayer_id: row.taxpayer_id, complaint_id: row.id, seq: 1, kind: "received", at: row.received_at, actor: actor.userID,
                                         office_id: office, due_on: row.due_on,
                                         note: due == nil ? "due date undetermined: the official calendar of the due year is not on record / 办结期限待定：尚未收录该年度节假日安排" : "")
        let audit = AuditRow(id: UUID().uuidString, at: row.received_at, user_id: actor.userID, action: "complaint_received", object: row.id,
                             detail: "\(row.category) \(row.channel) → \(office)", remote: nil)
        try await store.writeAudited(audit) { [row, received] db in
            try await db.insert(into: "complaints").model(row, nilEncodingStrategy: .asNil).run()
            _ = try await Store.appendComplaintEvent(received, on: db)
        }
        return ComplaintView(row: row, events: [received])
    }

    /// Whether the actor may read a complaint: the taxpayer's users, staff of an office it is or was with (or above
    /// it), administrators. Anyone else gets `notFound`.
    func readable(_ id: String, by actor: Actor) async throws -> ComplaintView {
        try TextInput.check(id, field: "complaint", maxLength: TextInput.maxIdentifier)
        guard let row = try await store.complaint(id) else { throw ServiceError.notFound }
        let view = ComplaintView(row: row, events: try await store.complaintEvents(id))
        switch actor.role {
        case .administrator: return view
        case .taxpayer: if actor.boundTaxpayers.contains(row.taxpayer_id) { return view }
        case .officer, .supervisor: if actor.offices.contains(row.office_id) || view.escalations.contains(where: actor.offices.contains) { return view }
        }
        throw ServiceError.notFound
    }

    /// A complaint for reading; a read by staff is recorded (complaint_reads) before the text is returned.
    public func complaint(_ id: String, by actor: Actor) async throws -> ComplaintView {
        let view = try await readable(id, by: actor)
        if actor.role != .taxpayer {
            let read = ComplaintReadRow(taxpayer_id: view.row.taxpayer_id, complaint_id: id, user_id: actor.userID, at: now().formatted(.iso8601))
            try await store.db.insert(into: "complaint_reads").model(read).run()
        }
        return view
    }

    public func reads(_ id: String, by actor: Actor) async throws -> [ComplaintReadRow] {
        guard actor.role == .administrator || actor.role == .supervisor else { throw ServiceError.forbidden("only supervisors and administrators see who read a complaint / 仅督导和管理员可查看阅读记录") }
        _ = try await readable(id, by: actor)
        return try await store.complaintReads(id)
    }

    /// The complaints within the actor's reach, newest first (texts are not read here: the list shows no text).
    public func list(by actor: Actor, limit: Int = 500) async throws -> [ComplaintView] {
        let rows: [ComplaintRow]
        switch actor.role {
        case .administrator: rows = try await store.complaints(taxpayers: nil, offices: nil, limit: limit)
        case .taxpayer: rows = try await store.complaints(taxpayers: actor.boundTaxpayers.sorted(), offices: nil, limit: limit)
        case .officer, .supervisor: rows = try await store.complaints(taxpayers: nil, offices: actor.offices, limit: limit)
        }
        let events = try await store.complaintEvents(of: rows.map(\.id))
        return rows.map { ComplaintView(row: $0, events: events[$0.id] ?? []) }
    }

    /// The office records what it did and the outcome. Staff of the answerable chain only, while the complaint is open.
    public func resolve(_ id: String, note: String, outcome: String, by actor: Actor) async throws -> ComplaintView {
        guard actor.role == .officer || actor.role == .supervisor || actor.role == .administrator else {
            throw ServiceError.forbidden("only tax staff resolve complaints / 仅税务人员可办结投诉")
        }
        let view = try await readable(id, by: actor)
        guard view.state == "open" else { throw ServiceError.conflict(field: "state", zh: "该投诉不在办理中", en: "the complaint is not open") }
        guard Self.outcomes.contains(outcome) else {
            throw ServiceError.invalid(field: "outcome", zh: "办理结果须为 \(Self.outcomes.joined(separator: "、")) 之一", en: "outcome must be one of \(Self.outcomes.joined(separator: ", "))")
        }
        try requireNote(note)
        return try await append(view, ComplaintEventRow(taxpayer_id: view.row.taxpayer_id, complaint_id: id, seq: 0, kind: "resolved", at: now().formatted(.iso8601), actor: actor.userID,
                                                        office_id: view.answerableOffice, outcome: outcome, note: note), by: actor)
    }

    /// The taxpayer accepts the resolution, with a satisfaction of 1 to 5.
    public func confirm(_ id: String, satisfaction: Int, note: String, by actor: Actor) async throws -> ComplaintView {
        let view = try await ownComplaint(id, by: actor)
        guard view.state == "resolved" else { throw ServiceError.conflict(field: "state", zh: "该投诉尚未办结", en: "the complaint has not been resolved") }
        guard (1...5).contains(satisfaction) else { throw ServiceError.invalid(field: "satisfaction", zh: "满意度须为 1 至 5", en: "satisfaction must be 1 to 5") }
        try TextInput.check(note, field: "note", maxLength: 2000, allowNewlines: true)
        return try await append(view, ComplaintEventRow(taxpayer_id: view.row.taxpayer_id, complaint_id: id, seq: 0, kind: "confirmed", at: now().formatted(.iso8601), actor: actor.userID,
                                                        satisfaction: satisfaction, note: note), by: actor)
    }

    /// The taxpayer is not satisfied: the complaint opens again with a new 3-working-day clock from now.
    public func reopen(_ id: String, note: String, by actor: Actor) async throws -> ComplaintView {
        let view = try await ownComplaint(id, by: actor)
        guard view.state == "resolved" else { throw ServiceError.conflict(field: "state", zh: "只有已办结的投诉可以重新打开", en: "only a resolved complaint can be reopened") }
        try requireNote(note)
        let at = now()
        let due = clock.due(from: clock.start(receivedAt: at))
        return try await append(view, ComplaintEventRow(taxpayer_id: view.row.taxpayer_id, complaint_id: id, seq: 0, kind: "reopened", at: at.formatted(.iso8601), actor: actor.userID,
                                                        office_id: view.answerableOffice, due_on: due?.description, note: note), by: actor)
    }

    private func ownComplaint(_ id: String, by actor: Actor) async throws -> ComplaintView {
        let view = try await readable(id, by: actor)
        guard actor.role == .taxpayer else { throw ServiceError.forbidden("only the complainant confirms or reopens / 仅投诉人可确认或重新打开") }
        return view
    }
    private func requireNote(_ note: String) throws {
        try TextInput.check(note, field: "note", maxLength: 4000, allowNewlines: true)
        guard !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ServiceError.invalid(field: "note", zh: "请填写说明", en: "note is required") }
    }

    private func append(_ view: ComplaintView, _ event: ComplaintEventRow, by actor: Actor, expectingLast: Int? = nil) async throws -> ComplaintView {
        // The desk's own job writes as no user (the audit log's users are accounts).
        let audit = AuditRow(id: UUID().uuidString, at: event.at, user_id: actor.userID.hasPrefix("system:") ? nil : actor.userID,
                             action: "complaint_\(event.kind)", object: view.row.id,
                             detail: event.outcome ?? event.satisfaction.map(String.init) ?? "", remote: nil)
        try await store.writeAudited(audit) { db in _ = try await Store.appendComplaintEvent(event, on: db, expectingLast: expectingLast) }
        return ComplaintView(row: view.row, events: try await store.complaintEvents(view.row.id))
    }

    /// The desk's job (run every few minutes, `huiqi complaints sweep`): a warning on the warning day, and an
    /// escalation to the parent office once the due day has closed, each once per round, with a reminder through
    /// the outbox to the taxpayer. Returns (warned, escalated). Servers may sweep at once: a warning or escalation is
    /// appended only if the complaint's last event is still the one the sweep read (and two appends of one number
    /// collide on the key), so one sweep writes it and the others pass that complaint and go on with the rest.
    @discardableResult
    public func sweep() async throws -> (warned: Int, escalated: Int) {
        let at = now()
        let today = FilingService.chinaDay(at)
        var warned = 0, escalated = 0
        let system = Actor(userID: "system:complaints", login: "system", role: .administrator, offices: [], boundTaxpayers: [])
        for view in try await list(by: system, limit: 100_000) where view.state == "open" {
            guard let due = view.due.flatMap(Day.init(iso:)) else { continue }
            let round = view.currentRound
            if clock.isPast(due, at: at) {
                guard !round.contains(where: { $0.kind == "escalated" }) else { continue }
                let current = try await store.office(view.answerableOffice)
                let parent = current?.parent_id ?? view.answerableOffice
                let event = ComplaintEventRow(taxpayer_id: view.row.taxpayer_id, complaint_id: view.row.id, seq: 0, kind: "escalated", at: at.formatted(.iso8601), actor: system.userID,
                                              office_id: parent, due_on: due.description,
                                              note: "overdue since \(due) closing time: escalated to the parent office / 已超过办结期限，升级至上级税务机关督办")
                // The outbox's reason for a message to the taxpayer is `notice`; the "return" is the complaint's round.
                let reminder = ReminderRow(id: UUID().uuidString, taxpayer_id: view.row.taxpayer_id, return_id: "complaint:\(view.row.id):\(view.events.count)",
                                           reason: "notice", office_id: parent,
                                           message: "您的投诉 \(view.row.id) 未在期限（\(due)）内办结，已升级至上级税务机关督办。/ Your complaint \(view.row.id) was not resolved by \(due); it has been escalated to the office above.",
                                           due_on: nil, created_at: at.formatted(.iso8601))
                let audit = AuditRow(id: UUID().uuidString, at: event.at, user_id: nil, action: "complaint_escalated", object: view.row.id, detail: parent, remote: nil)
                do {
                    try await store.writeAudited(audit) { db in
                        _ = try await Store.appendComplaintEvent(event, on: db, expectingLast: view.events.count)
                        try await Store.insertReminder(reminder, on: db)
                    }
                } catch StoreError.constraint { continue }  // another server's sweep wrote this round's event first
                escalated += 1
            } else if let warnDay = clock.warnOn(due: due), today >= warnDay, !round.contains(where: { $0.kind == "warned" }) {
                let event = ComplaintEventRow(taxpayer_id: view.row.taxpayer_id, complaint_id: view.row.id, seq: 0, kind: "warned", at: at.formatted(.iso8601), actor: system.userID,
                                              office_id: view.answerableOffice, due_on: due.description,
                                              note: "due \(due): resolve before closing time / 办结期限 \(due)，请在下班前办结")
                do { _ = try await append(view, event, by: system, expectingLast: view.events.count) } catch StoreError.constraint { continue }  // another sweep came first
                warned += 1
            }
        }
        return (warned, escalated)
    }

    /// Complaint figures per office of the actor's reach (by the office first responsible).
    public func sla(by actor: Actor) async throws -> [ComplaintSLA] {
        guard actor.role != .taxpayer else { throw ServiceError.forbidden("complaint figures are for tax staff / 投诉统计仅供税务人员查看") }
        var out: [String: ComplaintSLA] = [:]
        let at = now()
        for v in try await list(by: actor, limit: 100_000) {
            var s = out[v.row.office_id] ?? ComplaintSLA(office_id: v.row.office_id, received: 0, measured: 0, resolved_on_time: 0, overdue_open: 0,
                                                         on_time_permille: nil, satisfaction_count: 0, satisfaction_sum: 0)
            s.received += 1
            if let onTime = v.resolvedOnTime(clock) { s.measured += 1; if onTime { s.resolved_on_time += 1 } }
            if v.overdue(clock, now: at) { s.overdue_open += 1 }
            if let sat = v.satisfaction { s.satisfaction_count += 1; s.satisfaction_sum += sat }
            s.on_time_permille = s.measured == 0 ? nil : s.resolved_on_time * 1000 / s.measured
            out[v.row.office_id] = s
        }
        return out.values.sorted { $0.office_id < $1.office_id }
    }
}
