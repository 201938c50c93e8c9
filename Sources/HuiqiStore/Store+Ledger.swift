import Fluent
import Foundation
import SQLKit

/// One entry of the offset ledger (抵顶) of a taxpayer and tax: a credit when an overpayment notice is issued, an
/// offset when a later return uses it (negative; positive when a correction gives some back), a refund (退税)
/// when an officer approves one. `balance_fen` is the balance after the entry, never below zero.
public struct LedgerEntryRow: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case credit, offset, refund }
    public var taxpayer_id: String, tax: String, seq: Int, kind: Kind, amount_fen: Int64, balance_fen: Int64
    public var notice_id: String?, return_id: String?, return_version: Int?, refund_id: String?
    public var at: String, by_user: String?
}

/// An entry to append; the store gives it its place in the chain and its balance.
public struct LedgerEntryDraft: Sendable {
    public let taxpayer: String, tax: String, kind: LedgerEntryRow.Kind, amountFen: Int64
    public var noticeID: String? = nil, returnID: String? = nil, returnVersion: Int? = nil, refundID: String? = nil
    public let at: String, by: String?
    public init(taxpayer: String, tax: String, kind: LedgerEntryRow.Kind, amountFen: Int64, noticeID: String? = nil, returnID: String? = nil,
                returnVersion: Int? = nil, refundID: String? = nil, at: String, by: String?) {
        self.taxpayer = taxpayer; self.tax = tax; self.kind = kind; self.amountFen = amountFen; self.noticeID = noticeID
        self.returnID = returnID; self.returnVersion = returnVersion; self.refundID = refundID; self.at = at; self.by = by
    }
}

/// A refund (退税) the taxpayer asked for, and the officer's decision.
public struct RefundRow: Codable, Sendable, Equatable {
    public var id: String, taxpayer_id: String, tax: String, amount_fen: Int64, state: String
    public var requested_by: String, requested_at: String, decided_by: String?, decided_at: String?
    public init(id: String, taxpayer_id: String, tax: String, amount_fen: Int64, state: String, requested_by: String, requested_at: String,
                decided_by: String?, decided_at: String?) {
        self.id = id; self.taxpayer_id = taxpayer_id; self.tax = tax; self.amount_fen = amount_fen; self.state = state
        self.requested_by = requested_by; self.requested_at = requested_at; self.decided_by = decided_by; self.decided_at = decided_at
    }
}

/// The ledger's answer to a write it cannot make: the balance would go below zero.
public enum LedgerError: Error, Equatable { case insufficientBalance(available: Int64) }

extension Store {
    /// The last entry's position and balance for a taxpayer and tax (0, 0 when there is none).
    static func ledgerHead(taxpayer: String, tax: String, on db: any SQLDatabase) async throws -> (seq: Int, balance: Int64) {
        guard let row = try await db.raw("""
            SELECT seq, balance_fen FROM ledger_entries WHERE taxpayer_id = \(bind: taxpayer) AND tax = \(bind: tax) ORDER BY seq DESC LIMIT 1
            """).first() else { return (0, 0) }
        return (try row.decode(column: "seq", as: Int.self), try row.decode(column: "balance_fen", as: Int64.self))
    }

    /// Appends an entry after the current head. Two writers that read the same head collide on the primary key;
    /// the loser's transaction fails and is retried by its caller, so a credit is never spent twice.
    /// `after`: the head the caller already read and based its amount on (PostgreSQL's READ COMMITTED gives each
    /// statement a fresh snapshot, so reading it again could see a concurrent writer's entry and mismatch).
    static func appendLedger(_ d: LedgerEntryDraft, on db: any SQLDatabase, after known: (seq: Int, balance: Int64)? = nil) async throws -> LedgerEntryRow {
        let head: (seq: Int, balance: Int64)
        if let known { head = known } else { head = try await ledgerHead(taxpayer: d.taxpayer, tax: d.tax, on: db) }
        let balance = head.balance + d.amountFen
        guard balance >= 0 else { throw LedgerError.insufficientBalance(available: head.balance) }
        let row = LedgerEntryRow(taxpayer_id: d.taxpayer, tax: d.tax, seq: head.seq + 1, kind: d.kind, amount_fen: d.amountFen, balance_fen: balance,
                                 notice_id: d.noticeID, return_id: d.returnID, return_version: d.returnVersion, refund_id: d.refundID, at: d.at, by_user: d.by)
        try await db.insert(into: "ledger_entries").model(row, nilEncodingStrategy: .asNil).run()
        return row
    }

    /// The credits of a page of overpayment notices: the heads of the taxpayers' chains in one query, the entries
    /// in multi-row inserts (several notices of one taxpayer and tax follow each other in the chain). Within the
    /// screening transaction; a concurrent filing that moved a head makes the insert collide, and the page is
    /// written again.
    static func appendCredits(_ notices: [NoticeRow], at: String, by user: String?, on db: any SQLDatabase) async throws {
        guard !notices.isEmpty else { return }
        var heads: [String: (seq: Int, balance: Int64)] = [:]
        for chunk in Array(Set(notices.map(\.taxpayer_id))).chunked(500) {
            let rows = try await db.raw("""
                SELECT e.taxpayer_id, e.tax, e.seq, e.balance_fen FROM ledger_entries e
                JOIN (SELECT taxpayer_id, tax, MAX(seq) AS seq FROM ledger_entries WHERE taxpayer_id IN (\(binds: Array(chunk))) GROUP BY taxpayer_id, tax) m
                  ON m.taxpayer_id = e.taxpayer_id AND m.tax = e.tax AND m.seq = e.seq
                """).all()
            for r in rows {
                heads["\(try r.decode(column: "taxpayer_id", as: String.self))/\(try r.decode(column: "tax", as: String.self))"] =
                    (try r.decode(column: "seq", as: Int.self), try r.decode(column: "balance_fen", as: Int64.self))
            }
        }
        var entries: [LedgerEntryRow] = []
        for n in notices {
            let key = "\(n.taxpayer_id)/\(n.section)", head = heads[key] ?? (0, 0)
            let entry = LedgerEntryRow(taxpayer_id: n.taxpayer_id, tax: n.section, seq: head.seq + 1, kind: .credit, amount_fen: n.amount_fen,
                                       balance_fen: head.balance + n.amount_fen, notice_id: n.id, return_id: nil, return_version: nil, refund_id: nil,
                                       at: at, by_user: user)
            heads[key] = (entry.seq, entry.balance_fen)
            entries.append(entry)
        }
        _ = try await insertRecords(entries, into: "ledger_entries", on: db)
    }

    /// Runs `body` again, up to 8 times, when the database refuses it for a unique key another writer took first:
    /// the ledger's next position (or a version number). Each run is a whole transaction that reads afresh.
    static func retryingOnCollision<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do { return try await body() } catch let e as any DatabaseError where e.isConstraintFailure && attempt < 8 { continue }
        }
    }

    public func ledger(taxpayer: String) async throws -> [LedgerEntryRow] {
        try await db.select().columns("*").from("ledger_entries").where("taxpayer_id", .equal, taxpayer).orderBy("tax").orderBy("seq")
            .all(decoding: LedgerEntryRow.self)
    }
    public func ledgerBalance(taxpayer: String, tax: String) async throws -> Int64 {
        try await Self.ledgerHead(taxpayer: taxpayer, tax: tax, on: db).balance
    }

    /// What filing needs to know before it writes: the balance, the offset already applied to this return by
    /// earlier versions, and whether the return itself was credited (a return never offsets its own credit). On
    /// PostgreSQL, filing reads it within `filingContext`'s one statement.
    public func creditState(taxpayer: String, tax: String, returnID: String) async throws -> CreditState {
        let row = try await db.raw("""
            SELECT (SELECT balance_fen FROM ledger_entries WHERE taxpayer_id = \(bind: taxpayer) AND tax = \(bind: tax) ORDER BY seq DESC LIMIT 1) AS balance,
                   (SELECT CAST(COALESCE(SUM(-amount_fen), 0) AS BIGINT) FROM ledger_entries WHERE taxpayer_id = \(bind: taxpayer) AND tax = \(bind: tax)
                       AND kind = 'offset' AND return_id = \(bind: returnID)) AS applied,
                   (SELECT COUNT(*) FROM notices WHERE taxpayer_id = \(bind: taxpayer) AND return_id = \(bind: returnID) AND kind = 'overpayment') AS credited
            """).first()!
        return CreditState(balanceFen: try row.decode(column: "balance", as: Int64?.self) ?? 0, appliedFen: try row.decode(column: "applied", as: Int64.self),
                           selfCredited: try row.decode(column: "credited", as: Int64.self) > 0)
    }

    /// Appends a return version and applies the available credit to it, in one transaction: the offset for this
    /// return becomes min(available, payable), counting what earlier versions already took (a correction
    /// re-applies). Retried when a concurrent writer took the ledger's next position first.
    public func appendVersionApplyingCredit(_ r: ReturnVersionRow, payableFen: Int64, auditID: String, remote: String?, detail: String,
                                            prompts: @escaping @Sendable (_ offsetFen: Int64, _ balanceAfterFen: Int64) -> String)
        async throws -> (version: Int, offset: LedgerEntryRow?, prompts: String)
    {
        guard let database else { throw StoreError.noTransactions }
        return try await Store.retryingOnCollision {
            try await Store.serializingAudit(db) {
                try await database.transaction { tx in
                    let db = sql(tx)
                    let head = try await Store.ledgerHead(taxpayer: r.taxpayer_id, tax: r.section, on: db)
                    let applied = try await db.raw("""
                        SELECT CAST(COALESCE(SUM(-amount_fen), 0) AS BIGINT) AS n FROM ledger_entries WHERE taxpayer_id = \(bind: r.taxpayer_id)
                          AND tax = \(bind: r.section) AND kind = 'offset' AND return_id = \(bind: r.return_id)
                        """).first()!.decode(column: "n", as: Int64.self)
                    let target = min(head.balance + applied, max(payableFen, 0))
                    var row = r
                    row.prompts_json = prompts(target, head.balance + applied - target)
                    let version = try await Store.appendVersion(row, on: db, auditID: auditID, remote: remote, detail: detail)
                    guard target != applied else { return (version, nil, row.prompts_json) }
                    let entry = try await Store.appendLedger(LedgerEntryDraft(taxpayer: r.taxpayer_id, tax: r.section, kind: .offset, amountFen: applied - target,
                                                                              returnID: r.return_id, returnVersion: version, at: r.filed_at, by: r.filed_by),
                                                           on: db, after: head)
                    return (version, entry, row.prompts_json)
                }
            }
        }
    }

    /// Appends a version inside a transaction (the SQLite path of `appendVersion`, usable on both databases).
    static func appendVersion(_ r: ReturnVersionRow, on db: any SQLDatabase, auditID: String, remote: String?, detail: String) async throws -> Int {
        let version = try await db.raw("""
            INSERT INTO current_returns (taxpayer_id, return_id, section, period, version, case_json, screening, computed_tax_fen, declared_tax_fen)
            VALUES (\(bind: r.taxpayer_id), \(bind: r.return_id), \(bind: r.section), \(bind: r.period), 1, \(bind: r.case_json), \(bind: r.screening),
                    \(bind: r.computed_tax_fen), \(bind: r.declared_tax_fen))
            ON CONFLICT (taxpayer_id, return_id) DO UPDATE SET version = current_returns.version + 1, case_json = excluded.case_json,
                screening = excluded.screening, computed_tax_fen = excluded.computed_tax_fen, declared_tax_fen = excluded.declared_tax_fen
            RETURNING version
            """).first()!.decode(column: "version", as: Int.self)
        var row = r
        row.version = version
        try await db.insert(into: "return_versions").model(row, nilEncodingStrategy: .asNil).run()
        try await Store.insertAudit(AuditRow(id: auditID, at: r.filed_at, user_id: r.filed_by, action: version == 1 ? "file_return" : "correct_return",
                                             object: "\(r.taxpayer_id)/\(r.return_id)/v\(version)", detail: detail, remote: remote), on: db)
        return version
    }

    // MARK: refunds
    public func insert(refund: RefundRow, audit: AuditRow) async throws {
        try await writeAudited(audit) { db in try await db.insert(into: "refund_requests").model(refund, nilEncodingStrategy: .asNil).run() }
    }
    public func refund(_ id: String) async throws -> RefundRow? {
        try await db.select().columns("*").from("refund_requests").where("id", .equal, id).first(decoding: RefundRow.self)
    }
    public func refunds(taxpayer: String) async throws -> [RefundRow] {
        try await db.select().columns("*").from("refund_requests").where("taxpayer_id", .equal, taxpayer).orderBy("requested_at", .descending)
            .all(decoding: RefundRow.self)
    }
    /// Approves a requested refund: the ledger debit and the decision in one transaction. False when the request
    /// was already decided; `LedgerError.insufficientBalance` when the balance no longer covers it.
    public func approve(refund r: RefundRow, by user: String, at: String, audit: AuditRow) async throws -> Bool {
        guard let database else { throw StoreError.noTransactions }
        return try await Store.retryingOnCollision {
            try await Store.serializingAudit(db) {
                try await database.transaction { tx in
                    let db = sql(tx)
                    let decided = try await db.raw("""
                        UPDATE refund_requests SET state = 'approved', decided_by = \(bind: user), decided_at = \(bind: at)
                        WHERE id = \(bind: r.id) AND state = 'requested' RETURNING id
                        """).all()
                    guard !decided.isEmpty else { return false }
                    _ = try await Store.appendLedger(LedgerEntryDraft(taxpayer: r.taxpayer_id, tax: r.tax, kind: .refund, amountFen: -r.amount_fen,
                                                                      refundID: r.id, at: at, by: user), on: db)
                    try await Store.insertAudit(audit, on: db)
                    return true
                }
            }
        }
    }
}
