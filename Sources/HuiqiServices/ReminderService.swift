import AsyncHTTPClient
import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore
import NIOCore
import NIOHTTP1

/// Reminders (提醒): a message for each return expected but not filed, from a set number of working days before
/// its deadline (official calendar, 调休 included), and one after a filing that left relief unclaimed. Each is
/// created once per (taxpayer, return, reason); the portal shows it at once, and a webhook receives it as JSON
/// (docs/platform.md "Reminders"), retried with exponential backoff until delivered or given up.
public struct ReminderService: Sendable {
    public let store: Store
    public let deadlines: FilingDeadlines
    public let now: @Sendable () -> Date
    /// Where reminders are POSTed (an SMS gateway or a messaging platform); nil: in-app only.
    public let webhook: String?
    /// Attempts before a delivery is given up, and the first retry's delay (doubled each time, at most an hour).
    public var maxAttempts = 8
    public var firstRetrySeconds = 30

    public init(store: Store, deadlines: FilingDeadlines, now: @escaping @Sendable () -> Date, webhook: String?) {
        self.store = store; self.deadlines = deadlines; self.now = now; self.webhook = webhook
    }

    /// Creates the reminders due today for one return kind and period, in the whole tree: `due_soon` for every
    /// expected return not filed once today is within `workingDays` working days of the deadline (and not past
    /// it), and `relief_not_claimed` for every current return declaring more than the law's tax. Returns how many
    /// were new (a second run the same day creates none).
    public func generate(kind: String, period: String, workingDays: Int) async throws -> Int {
        guard (0...30).contains(workingDays) else {
            throw ServiceError.invalid(field: "days", zh: "提前提醒的工作日数应在 0 到 30 之间", en: "days before the deadline must be 0 to 30")
        }
        let e = try FilingPeriod.resolve(kind: kind, period: period, deadlines: deadlines)
        guard let root = try await store.rootOffice() else { return 0 }
        let today = FilingService.chinaDay(now()), deadline = Day(iso: e.deadline)!
        let at = now().formatted(.iso8601)
        var created = 0
        let from: Day
        do { from = try Self.workingDays(workingDays, before: deadline, calendar: deadlines.calendar) } catch {
            throw ServiceError.invalid(field: "period", zh: "节假日安排尚未公布（\(error)）", en: "the holiday arrangement is not on record (\(error))")
        }
        if today >= from, today <= deadline {
            var after = ""
            while true {
                let page = try await store.unfiledReturns(e, under: root.id, after: after, limit: 2000)
                guard let last = page.last else { break }
                after = last.taxpayer
                created += try await store.insert(reminders: page.map {
                    ReminderRow(id: UUID().uuidString, taxpayer_id: $0.taxpayer, return_id: e.returnID, reason: "due_soon", office_id: $0.office,
                                message: "\(e.returnID) 尚未申报，申报期限为 \(e.deadline)，请按期申报 / \(e.returnID) is not filed yet; the deadline is \(e.deadline)",
                                due_on: e.deadline, created_at: at)
                })
            }
        }
        var after = ""
        while true {
            let page = try await store.unclaimedRelief(e.returnID, after: after, limit: 2000)
            guard let last = page.last else { break }
            after = last.taxpayer
            created += try await store.insert(reminders: page.map {
                let extra = Money(fen: $0.excess)
                return ReminderRow(id: UUID().uuidString, taxpayer_id: $0.taxpayer, return_id: e.returnID, reason: "relief_not_claimed", office_id: $0.office,
                                   message: "\(e.returnID) 申报税额比按优惠政策计算的多 \(extra) 元，可更正申报享受减免 / \(e.returnID) declares \(extra) more than the law asks: a correction claims the relief",
                                   due_on: nil, created_at: at)
            })
        }
        return created
    }

    /// The day `n` working days before `day` (n = 0: the day itself).
    static func workingDays(_ n: Int, before day: Day, calendar: OfficialCalendar) throws -> Day {
        var d = day, left = n
        while left > 0 {
            d = d.adding(days: -1)
            if try calendar.isWorkingDay(d) { left -= 1 }
        }
        return d
    }

    /// The JSON a webhook receives for one reminder.
    public static func message(_ r: ReminderRow) -> String {
        let parts = r.message.components(separatedBy: " / ")
        return JSON.object([("id", .string(r.id)), ("taxpayer_id", .string(r.taxpayer_id)), ("return_id", .string(r.return_id)),
                            ("reason", .string(r.reason)), ("due_on", r.due_on.map { .string($0) } ?? .null),
                            ("message_zh", .string(parts.first ?? r.message)), ("message_en", .string(parts.count > 1 ? parts[1] : "")),
                            ("created_at", .string(r.created_at))]).serialized(indent: nil)
    }

    /// Delivers every reminder due to the webhook; each attempt is recorded. Returns (delivered, failed).
    public func deliverDue(client: HTTPClient = .shared, limit: Int = 1000) async throws -> (delivered: Int, failed: Int) {
        guard let webhook else { return (0, 0) }
        var delivered = 0, failed = 0
        for r in try await store.dueDeliveries(now: now().formatted(.iso8601), limit: limit) {
            guard try await store.claimDelivery(r, leaseUntil: now().addingTimeInterval(300).formatted(.iso8601)) else { continue }
            var outcome: (Bool, String)
            do {
                var request = HTTPClientRequest(url: webhook)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
                request.headers.add(name: "Idempotency-Key", value: r.id)
                request.body = .bytes(ByteBuffer(string: Self.message(r)))
                let response = try await client.execute(request, timeout: .seconds(10))
                outcome = ((200..<300).contains(response.status.code), "HTTP \(response.status.code)")
            } catch {
                outcome = (false, "\(error)")
            }
            let at = now()
            let delay = min(firstRetrySeconds << min(r.attempts, 16), 3600)  // 30 s, 60 s, 120 s … at most an hour
            let retry = at.addingTimeInterval(TimeInterval(delay))
            try await store.recordAttempt(r, at: at.formatted(.iso8601), delivered: outcome.0, detail: outcome.1,
                                          nextAttempt: outcome.0 || r.attempts + 1 >= maxAttempts ? nil : retry.formatted(.iso8601))
            if outcome.0 { delivered += 1 } else { failed += 1 }
            DomainMetrics.reminderDelivery(outcome: outcome.0 ? "delivered" : "failed")
        }
        return (delivered, failed)
    }

    /// The reminders of a taxpayer (newest first), for the portal.
    public func messages(by actor: Actor, taxpayerID: String, access: Access) async throws -> [ReminderRow] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        return try await store.reminders(taxpayer: taxpayerID)
    }

    /// A taxpayer user marks a message read.
    public func markRead(by actor: Actor, id: String, access: Access) async throws {
        try TextInput.check(id, field: "message", maxLength: TextInput.maxIdentifier)
        guard let r = try await store.reminder(id) else { throw ServiceError.notFound }
        _ = try await access.readableTaxpayer(r.taxpayer_id, by: actor)
        guard actor.role == .taxpayer else { throw ServiceError.forbidden("messages are read by the taxpayer / 提醒由纳税人阅读") }
        try await store.markReminderRead(id, at: now().formatted(.iso8601))
    }
}
