import Crypto
import Foundation
import SQLKit
import Synchronization

/// The audit log is tamper-evident: place n of the chain (`audit_chain`, migration 027) names an entry of
/// `audit_log` and carries `hash` = SHA-256 of (the hash of place n−1, n, and the entry's fields), joined by U+001F and
/// written in hex. Changing, removing or inserting an entry breaks every later hash; `huiqi audit verify` recomputes
/// the chain. On PostgreSQL entries are written unplaced and `Store.chainAudit` places them after commit (migration
/// 019), so that audited writers never wait for each other; on SQLite the store places each entry in the inserting
/// transaction. Both use this formula.
public enum AuditChain {
    /// The PostgreSQL advisory lock that lets one chainer at a time place entries (any constant unique to this use).
    static let advisoryLock: Int64 = 8_412_366

    public static func hash(prev: String, seq: Int64, _ row: AuditRow) -> String {
        TextDigest.sha256Hex([prev, String(seq), row.id, row.at, row.user_id ?? "", row.action, row.object, row.detail, row.remote ?? ""]
            .joined(separator: "\u{1F}"))
    }

    /// What `verify` found: the entries checked and the first one whose chain is broken.
    public struct Verification: Sendable {
        public let entries: Int
        public let lastHash: String
        /// The first broken entry's sequence number and why.
        public let broken: (seq: Int64, reason: String)?
    }
}

/// The platform's one digest: tokens and sessions are stored as it, audit entries chained by it, idempotent
/// requests compared by it.
public enum TextDigest {
    /// SHA-256 of the text's UTF-8 bytes, in lowercase hex.
    public static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }
    /// Lowercase hex of a digest's bytes. Every API request digests its token: `String(format:)` per byte cost more
    /// than the hash itself (docs/performance.md, "Filing at the database's speed").
    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest { out.append(hexDigits[Int(byte >> 4)]); out.append(hexDigits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    private static let hexDigits = Array("0123456789abcdef".utf8)
    /// SHA-256 of a file's bytes, read a megabyte at a time.
    public static func sha256Hex(file path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }
}

/// An entry's place in the chain (`audit_chain`), with the entry it names; the entry's fields are nil when the
/// entry is gone from `audit_log`.
struct ChainedAuditRow: Decodable {
    let seq: Int64, entry_id: String, hash: String
    let id: String?, at: String?, user_id: String?, action: String?, object: String?, detail: String?, remote: String?
    var row: AuditRow? {
        guard let id, let at, let action, let object, let detail else { return nil }
        return AuditRow(id: id, at: at, user_id: user_id, action: action, object: object, detail: detail, remote: remote)
    }
}

extension AuditChain {
    /// The last place in the chain: its number, its hash, and (PostgreSQL) the horizon its chainer recorded.
    struct Link { let seq: Int64, hash: String, horizon: Int64? }

    static func lastLink(on db: any SQLDatabase) async throws -> Link? {
        guard let row = try await db.raw("SELECT seq, hash, horizon FROM audit_chain ORDER BY seq DESC LIMIT 1").first() else { return nil }
        return Link(seq: try row.decode(column: "seq", as: Int64.self), hash: try row.decode(column: "hash", as: String.self),
                    horizon: try row.decode(column: "horizon", as: Int64?.self))
    }

    /// Places `rows`, in the order given, after `last`: one insert into `audit_chain` per thousand entries.
    static func append(_ rows: [AuditRow], after last: Link?, horizon: Int64?, on db: any SQLDatabase) async throws {
        var seq = last?.seq ?? 0, prev = last?.hash ?? ""
        var placed: [any SQLExpression] = []
        placed.reserveCapacity(rows.count)
        for row in rows {
            seq += 1
            prev = hash(prev: prev, seq: seq, row)
            placed.append(SQLGroupExpression([SQLBind(seq), SQLBind(row.id), SQLBind(prev), SQLBind(horizon)] as [any SQLExpression]))
        }
        for chunk in placed.chunked(1000) {
            try await db.raw("INSERT INTO audit_chain (seq, entry_id, hash, horizon) VALUES \(SQLList(Array(chunk)))").run()
        }
    }
}

/// One writer at a time, across suspension points (an actor alone would interleave at each `await`). SQLite's audit
/// inserts take it so that two transactions never chain onto the same entry.
final class AsyncLock: Sendable {
    private let state = Mutex<(locked: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do { let value = try await body(); release(); return value } catch { release(); throw error }
    }
    private func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resume = state.withLock { s -> Bool in
                if s.locked { s.waiters.append(c); return false }
                s.locked = true
                return true
            }
            if resume { c.resume() }
        }
    }
    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty { s.locked = false; return nil }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

extension Store {
    /// Inserts an audit entry on `db` (inside the caller's transaction). On PostgreSQL it is placed after commit by
    /// `chainAudit`; on SQLite the caller holds `auditLock` and the entry is placed here, after the last one.
    static func insertAudit(_ row: AuditRow, on db: any SQLDatabase) async throws {
        try await db.insert(into: "audit_log").model(row, nilEncodingStrategy: .asNil).run()
        guard db.dialect.name != "postgresql" else { return }
        try await AuditChain.append([row], after: try await AuditChain.lastLink(on: db), horizon: nil, on: db)
    }

    /// How many entries `chainAudit` places in one transaction.
    public static let auditChainBatch = 5000

    /// Places every entry written so far, a batch at a time (a batch smaller than the limit was the last; none when
    /// another chainer holds the lock, which then places them).
    public func chainAllAudit() async throws {
        while try await chainAudit() == Self.auditChainBatch {}
    }

    /// Places entries written since the last call at the end of the chain (PostgreSQL; SQLite places at insert),
    /// at most `limit`, and returns how many. Entries are placed in order of (at, id) as they are found committed: an
    /// entry whose transaction commits late is placed after those already placed, whatever its time. One chainer at a
    /// time holds the advisory lock; another returns 0 at once, or waits for it with `wait` (verification must see
    /// every entry placed).
    ///
    /// Where to look: every transaction below the last placement's `horizon` had ended when that chainer looked, and
    /// it placed all it saw, so an entry not yet placed has a `txid` at or above it. A chainer that placed all it
    /// found records its snapshot's oldest running transaction as the new horizon; one that stopped at `limit` keeps
    /// the old one. A horizon above the database's own transactions (a dump restored into another cluster, whose
    /// counter is lower) is ignored, and `sweep` ignores it too: both look at the whole log once.
    @discardableResult
    public func chainAudit(limit: Int = Store.auditChainBatch, wait: Bool = false, sweep: Bool = false) async throws -> Int {
        guard db.dialect.name == "postgresql" else { return 0 }
        guard let database else { throw StoreError.noTransactions }
        return try await database.transaction { tx in
            let db = sql(tx)
            let lock = String(AuditChain.advisoryLock)
            if wait {
                try await db.raw("SELECT pg_advisory_xact_lock(\(unsafeRaw: lock))").run()
            } else if try await db.raw("SELECT pg_try_advisory_xact_lock(\(unsafeRaw: lock)) AS got").first()?.decode(column: "got", as: Bool.self) != true {
                return 0
            }
            // Taken before the entries are read: the read's own snapshot can only see more transactions ended.
            let oldestRunning = try await db.raw("SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT) AS x").first()?
                .decode(column: "x", as: Int64.self) ?? 0
            let last = try await AuditChain.lastLink(on: db)
            var from = last?.horizon ?? 0
            if sweep || from > oldestRunning { from = 0 }
            let rows = try await db.raw("""
                SELECT id, at, user_id, action, object, detail, remote FROM audit_log a
                WHERE a.txid >= \(bind: from) AND \(Self.unplaced)
                ORDER BY at, id LIMIT \(bind: limit)
                """).all(decoding: AuditRow.self)
            guard !rows.isEmpty else { return 0 }
            try await AuditChain.append(rows, after: last, horizon: rows.count < limit ? oldestRunning : from, on: db)
            return rows.count
        }
    }

    /// Entries written but not yet placed in the chain (PostgreSQL, read where the chainer will look; always 0 on
    /// SQLite, which places at insert). A backlog that grows means no chainer runs.
    public func unchainedAuditEntries() async throws -> Int {
        guard db.dialect.name == "postgresql" else { return 0 }
        return try await db.raw("""
            SELECT COUNT(*) AS n FROM audit_log a
            WHERE a.txid >= \(Self.lastHorizon) AND \(Self.unplaced)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The horizon of the last place, 0 before any (SQL), as `AuditChain.lastLink` reads it.
    private static let lastHorizon: SQLQueryString = "COALESCE((SELECT horizon FROM audit_chain ORDER BY seq DESC LIMIT 1), 0)"

    /// "Entry `a` has no place yet", as one probe of `audit_chain`'s unique `entry_id` per entry looked at. Written as
    /// `NOT EXISTS`, PostgreSQL planned a hash anti-join that read the whole chain on every run (twice a second), as
    /// soon as the few thousand probes looked dearer than that read; a correlated scalar subquery is always probed.
    /// With 1,997 entries since the horizon: 5.3 ms against 9.5 ms at 35,000 places, 5.7 ms against 31.8 ms (a merge
    /// anti-join) at two million (docs/performance.md).
    private static let unplaced: SQLQueryString = "(SELECT c.entry_id FROM audit_chain c WHERE c.entry_id = a.id) IS NULL"

    /// Recomputes the chain from the first entry; reads in pages so that a large log is not held in memory. On
    /// PostgreSQL every committed entry is placed first, the whole log swept once (a full pass, like the check).
    public func verifyAuditChain(page: Int = 5000) async throws -> AuditChain.Verification {
        if try await chainAudit(wait: true, sweep: true) > 0 { while try await chainAudit(wait: true) > 0 {} }
        var prev = "", expected: Int64 = 1, count = 0
        while true {
            let rows = try await db.raw("""
                SELECT c.seq, c.entry_id, c.hash, a.id, a.at, a.user_id, a.action, a.object, a.detail, a.remote
                FROM audit_chain c LEFT JOIN audit_log a ON a.id = c.entry_id
                WHERE c.seq >= \(bind: expected) ORDER BY c.seq LIMIT \(bind: page)
                """).all(decoding: ChainedAuditRow.self)
            for r in rows {
                if r.seq != expected { return .init(entries: count, lastHash: prev, broken: (expected, "entry \(expected) is missing")) }
                guard let row = r.row else { return .init(entries: count, lastHash: prev, broken: (r.seq, "entry \(r.entry_id) was removed")) }
                if AuditChain.hash(prev: prev, seq: r.seq, row) != r.hash { return .init(entries: count, lastHash: prev, broken: (r.seq, "the entry was changed")) }
                prev = r.hash; expected += 1; count += 1
            }
            if rows.count < page { break }
        }
        // An entry left without a place. On PostgreSQL only those below the last horizon: one written since the sweep
        // above is simply waiting for the chainer.
        let below: SQLQueryString = db.dialect.name == "postgresql"
            ? "COALESCE(a.txid, 0) < \(Self.lastHorizon) AND" : ""
        let unplaced = try await db.raw("""
            SELECT count(*) AS n FROM audit_log a WHERE \(below) NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = a.id)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
        if unplaced > 0 { return .init(entries: count, lastHash: prev, broken: (expected, "\(unplaced) entries without a place in the chain")) }
        return .init(entries: count, lastHash: prev, broken: nil)
    }
}
