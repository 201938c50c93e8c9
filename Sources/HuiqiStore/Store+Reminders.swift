import Foundation
import SQLKit

/// A reminder (提醒) to a taxpayer: shown in the portal at once, and delivered to the configured webhook with
/// its attempts recorded. One per (taxpayer, return, reason), however often the job runs.
public struct ReminderRow: Codable, Sendable, Equatable {
    public var id: String, taxpayer_id: String, return_id: String, reason: String, office_id: String
    /// The text shown and sent, Chinese then English.
    public var message: String
    public var due_on: String?
    public var created_at: String, read_at: String?
    public var delivery: String, attempts: Int, next_attempt_at: String, delivered_at: String?
    public init(id: String, taxpayer_id: String, return_id: String, reason: String, office_id: String, message: String, due_on: String?, created_at: String) {
        self.id = id; self.taxpayer_id = taxpayer_id; self.return_id = return_id; self.reason = reason; self.office_id = office_id
        self.message = message; self.due_on = due_on; self.created_at = created_at; read_at = nil
        delivery = "pending"; attempts = 0; next_attempt_at = created_at; delivered_at = nil
    }
}

public struct DeliveryAttemptRow: Codable, Sendable, Equatable {
    public var taxpayer_id: String, reminder_id: String, attempt: Int, at: String, outcome: String, detail: String
}

extension Store {
    public static func insertReminder(_ r: ReminderRow, on db: any SQLDatabase) async throws {
        try await db.insert(into: "reminders").model(r, nilEncodingStrategy: .asNil).ignoringConflicts().run()
    }
    /// Creates the reminders not yet created (the unique key drops the others); returns how many were new.
    public func insert(reminders: [ReminderRow]) async throws -> Int {
        var n = 0
        for chunk in reminders.chunked(200) {
            n += try await db.insert(into: "reminders").models(Array(chunk), nilEncodingStrategy: .asNil).ignoringConflicts()
                .returning("id").all().count
        }
        return n
    }
    /// Current returns of `returnID` that declare more than the computed tax while relief was available (relief
    /// left unclaimed), in credit-code order after `after`.
    public func unclaimedRelief(_ returnID: String, after: String, limit: Int) async throws -> [(taxpayer: String, office: String, excess: Int64)] {
        try await db.raw("""
            SELECT c.taxpayer_id, t.office_id, r.declared_tax_fen - r.computed_tax_fen AS excess
            FROM current_returns c
            JOIN return_versions r ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version
            JOIN taxpayers t ON t.id = c.taxpayer_id
            WHERE c.return_id = \(bind: returnID) AND c.taxpayer_id > \(bind: after)
              AND r.declared_tax_fen > r.computed_tax_fen AND r.relief_fen > 0
            ORDER BY c.taxpayer_id LIMIT \(bind: limit)
            """).all().map { (try $0.decode(column: "taxpayer_id", as: String.self), try $0.decode(column: "office_id", as: String.self),
                              try $0.decode(column: "excess", as: Int64.self)) }
    }
    public func reminders(taxpayer: String) async throws -> [ReminderRow] {
        try await db.select().columns("*").from("reminders").where("taxpayer_id", .equal, taxpayer)
            .orderBy("created_at", .descending).orderBy("id").all(decoding: ReminderRow.self)
    }
    public func reminder(_ id: String) async throws -> ReminderRow? {
        try await db.select().columns("*").from("reminders").where("id", .equal, id).first(decoding: ReminderRow.self)
    }
    public func markReminderRead(_ id: String, at: String) async throws {
        try await db.raw("UPDATE reminders SET read_at = \(bind: at) WHERE id = \(bind: id) AND read_at IS NULL").run()
    }
    /// Reminders waiting for the webhook (the outbox's depth; `reminders_delivery` answers it from the index).
    public func reminderOutboxDepth() async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM reminders WHERE delivery = 'pending'").first()?.decode(column: "n", as: Int.self) ?? 0
    }
    /// Reminders whose webhook delivery is due at `now`, oldest first.
    public func dueDeliveries(now: String, limit: Int) async throws -> [ReminderRow] {
        try await db.select().columns("*").from("reminders").where("delivery", .equal, "pending").where("next_attempt_at", .lessThanOrEqual, now)
            .orderBy("next_attempt_at").orderBy("id").limit(limit).all(decoding: ReminderRow.self)
    }
    /// Claims a due delivery for `leaseUntil` (another deliverer skips it meanwhile); false when someone else
    /// claimed or finished it first.
    public func claimDelivery(_ r: ReminderRow, leaseUntil: String) async throws -> Bool {
        !(try await db.raw("""
            UPDATE reminders SET next_attempt_at = \(bind: leaseUntil)
            WHERE id = \(bind: r.id) AND delivery = 'pending' AND next_attempt_at = \(bind: r.next_attempt_at) RETURNING id
            """).all().isEmpty)
    }
    /// Records an attempt and its outcome: delivered, or failed with the next attempt's time (nil: given up).
    public func recordAttempt(_ r: ReminderRow, at: String, delivered: Bool, detail: String, nextAttempt: String?) async throws {
        guard let database else { throw StoreError.noTransactions }
        try await database.transaction { tx in
            let db = sql(tx)
            let attempt = r.attempts + 1
            try await db.insert(into: "delivery_attempts").model(DeliveryAttemptRow(taxpayer_id: r.taxpayer_id, reminder_id: r.id, attempt: attempt, at: at,
                                                                                    outcome: delivered ? "delivered" : "failed", detail: String(detail.prefix(500)))).run()
            let state = delivered ? "delivered" : nextAttempt == nil ? "failed" : "pending"
            try await db.update("reminders").set("attempts", to: attempt).set("delivery", to: state)
                .set("next_attempt_at", to: nextAttempt ?? at).set("delivered_at", to: delivered ? at : nil).where("id", .equal, r.id).run()
        }
    }
    public func attempts(reminder: String) async throws -> [DeliveryAttemptRow] {
        try await db.select().columns("*").from("delivery_attempts").where("reminder_id", .equal, reminder).orderBy("attempt").all(decoding: DeliveryAttemptRow.self)
    }
}
