import Foundation
import HuiqiRules
import HuiqiStore

/// A notice as its reader sees it: the row, and where the money of an overpayment went (FIFO over the ledger).
public struct NoticeView: Sendable {
    public let notice: NoticeRow
    /// issued, read, acknowledged, then (overpayments) partly_offset, offset, refunded or partly_refunded.
    public let state: String
    public let offsetFen: Int64, refundedFen: Int64, remainingFen: Int64
}

/// One taxpayer's account of the administration loop: notices (税务事项通知书), the offset ledger (抵顶) per tax,
/// and refunds (退税) asked for by the taxpayer and approved by an officer.
public struct LedgerService: Sendable {
    public let store: Store
    public let access: Access
    public let now: @Sendable () -> Date
    public init(store: Store, access: Access, now: @escaping @Sendable () -> Date) { self.store = store; self.access = access; self.now = now }

    public static let taxes = ["vat", "eit", "business_income"]

    public func notices(by actor: Actor, taxpayerID: String) async throws -> [NoticeView] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        return Self.views(try await store.notices(taxpayer: taxpayerID), ledger: try await store.ledger(taxpayer: taxpayerID))
    }

    /// One notice, if the actor may read its taxpayer. A taxpayer user opening it marks it read.
    public func notice(by actor: Actor, id: String, remote: String?) async throws -> NoticeView {
        try TextInput.check(id, field: "notice", maxLength: TextInput.maxIdentifier)
        guard let n = try await store.notice(id) else { throw ServiceError.notFound }
        _ = try await access.readableTaxpayer(n.taxpayer_id, by: actor)
        if actor.role == .taxpayer, n.read_at == nil {
            try await store.markNotice(id, column: "read_at", at: instant(), audit: audit(actor, "read_notice", "notice/\(id)", "", remote))
        }
        return try await notices(by: actor, taxpayerID: n.taxpayer_id).first { $0.notice.id == id }!
    }

    /// The taxpayer acknowledges receipt (签收). Only the taxpayer's own users can.
    public func acknowledge(by actor: Actor, id: String, remote: String?) async throws -> NoticeView {
        try TextInput.check(id, field: "notice", maxLength: TextInput.maxIdentifier)
        guard let n = try await store.notice(id) else { throw ServiceError.notFound }
        _ = try await access.readableTaxpayer(n.taxpayer_id, by: actor)
        guard actor.role == .taxpayer else { throw ServiceError.forbidden("only the taxpayer acknowledges a notice / 通知书由纳税人签收") }
        try await store.markNotice(id, column: "acknowledged_at", at: instant(), audit: audit(actor, "acknowledge_notice", "notice/\(id)", "", remote))
        return try await notices(by: actor, taxpayerID: n.taxpayer_id).first { $0.notice.id == id }!
    }

    /// The ledger of a taxpayer: entries of every tax, oldest first, and the balance per tax.
    public func ledger(by actor: Actor, taxpayerID: String) async throws -> (entries: [LedgerEntryRow], balances: [String: Int64], refunds: [RefundRow]) {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        let entries = try await store.ledger(taxpayer: taxpayerID)
        var balances: [String: Int64] = [:]
        for t in Self.taxes { balances[t] = entries.last { $0.tax == t }?.balance_fen ?? 0 }
        return (entries, balances, try await store.refunds(taxpayer: taxpayerID))
    }

    /// The taxpayer asks for a refund of part or all of a tax's balance (申请退税).
    public func requestRefund(by actor: Actor, taxpayerID: String, tax: String, amount: String, remote: String?) async throws -> RefundRow {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        guard actor.role == .taxpayer else { throw ServiceError.forbidden("refunds are requested by the taxpayer / 退税由纳税人申请") }
        guard Self.taxes.contains(tax) else {
            throw ServiceError.invalid(field: "tax", zh: "税种应为 vat、eit 或 business_income", en: "tax must be vat, eit or business_income")
        }
        try TextInput.check(amount, field: "amount", maxLength: 40)
        guard let m = Money(decimal: amount.trimmingCharacters(in: .whitespaces)), m > .zero else {
            throw ServiceError.invalid(field: "amount", zh: "退税金额应为最多两位小数的正数", en: "amount must be positive with at most two decimals")
        }
        let balance = try await store.ledgerBalance(taxpayer: taxpayerID, tax: tax)
        guard m.fen <= balance else {
            throw ServiceError.unprocessable(field: "amount", zh: "退税金额超过可退余额 \(Money(fen: balance)) 元", en: "the amount exceeds the balance of \(Money(fen: balance))")
        }
        let r = RefundRow(id: UUID().uuidString, taxpayer_id: taxpayerID, tax: tax, amount_fen: m.fen, state: "requested",
                          requested_by: actor.userID, requested_at: instant(), decided_by: nil, decided_at: nil)
        try await store.insert(refund: r, audit: audit(actor, "request_refund", "refund/\(r.id)", "\(tax) \(m)", remote))
        return r
    }

    /// An officer of the taxpayer's office subtree approves a refund: the ledger debit is written with the decision.
    public func approveRefund(by actor: Actor, id: String, remote: String?) async throws -> RefundRow {
        try TextInput.check(id, field: "refund", maxLength: TextInput.maxIdentifier)
        guard let r = try await store.refund(id) else { throw ServiceError.notFound }
        _ = try await access.readableTaxpayer(r.taxpayer_id, by: actor)
        guard actor.role == .officer else { throw ServiceError.forbidden("refunds are approved by tax officers / 退税由税务人员审核") }
        do {
            guard try await store.approve(refund: r, by: actor.userID, at: instant(),
                                          audit: audit(actor, "approve_refund", "refund/\(id)", "\(r.tax) \(Money(fen: r.amount_fen))", remote)) else {
                throw ServiceError.conflict(field: "refund", zh: "该退税申请已处理", en: "the refund was already decided")
            }
        } catch LedgerError.insufficientBalance(let available) {
            throw ServiceError.conflict(field: "amount", zh: "可退余额 \(Money(fen: available)) 元不足", en: "the balance of \(Money(fen: available)) no longer covers the refund")
        }
        return try await store.refund(id)!
    }

    /// Where each overpayment notice's credit went: debits consume the oldest credits first (FIFO), per tax.
    static func views(_ notices: [NoticeRow], ledger: [LedgerEntryRow]) -> [NoticeView] {
        var used: [String: (offset: Int64, refunded: Int64)] = [:]
        for tax in taxes {
            var credits: [(id: String, left: Int64)] = []
            for e in ledger where e.tax == tax {
                if e.kind == .credit, let id = e.notice_id { credits.append((id, e.amount_fen)); continue }
                // An offset given back by a correction (positive) returns to the newest credits it came from.
                var amount = -e.amount_fen
                if amount < 0 {
                    for k in credits.indices.reversed() where amount < 0 {
                        let original = ledger.first { $0.notice_id == credits[k].id && $0.kind == .credit }?.amount_fen ?? 0
                        let back = min(-amount, original - credits[k].left)
                        if back > 0 { credits[k].left += back; used[credits[k].id, default: (0, 0)].offset -= back; amount += back }
                    }
                    continue
                }
                for k in credits.indices where amount > 0 && credits[k].left > 0 {
                    let take = min(amount, credits[k].left)
                    credits[k].left -= take; amount -= take
                    if e.kind == .refund { used[credits[k].id, default: (0, 0)].refunded += take } else { used[credits[k].id, default: (0, 0)].offset += take }
                }
            }
        }
        return notices.map { n in
            let u = used[n.id] ?? (0, 0)
            let remaining = n.kind == .overpayment ? n.amount_fen - u.offset - u.refunded : 0
            var state = n.acknowledged_at != nil ? "acknowledged" : n.read_at != nil ? "read" : "issued"
            if n.kind == .overpayment, u.offset + u.refunded > 0 {
                state = remaining > 0 ? (u.refunded > 0 ? "partly_refunded" : "partly_offset") : (u.refunded > 0 ? "refunded" : "offset")
            }
            return NoticeView(notice: n, state: state, offsetFen: u.offset, refundedFen: u.refunded, remainingFen: remaining)
        }
    }

    func instant() -> String { now().formatted(.iso8601) }
    func audit(_ actor: Actor, _ action: String, _ object: String, _ detail: String, _ remote: String?) -> AuditRow {
        AuditRow(id: UUID().uuidString, at: instant(), user_id: actor.userID, action: action, object: object, detail: detail, remote: remote)
    }
}
