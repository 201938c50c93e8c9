import Crypto
import Foundation
import SQLKit
import Synchronization

/// The audit log is tamper-evident: entry n carries `hash` = SHA-256 of (the hash of entry n−1, n, and the entry's
/// fields), joined by U+001F and written in hex. Changing, removing or inserting an entry breaks every later hash;
/// `huiqi audit verify` recomputes the chain. On PostgreSQL entries are written unchained and `Store.chainAudit`
/// places them after commit (migration 019), so that audited writers never wait for each other; on SQLite the store
/// chains each entry in the inserting transaction. Both use this formula.
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

/// An entry as stored, with its place in the chain.
struct ChainedAuditRow: Decodable {
    let id: String, at: String, user_id: String?, action: String, object: String, detail: String, remote: String?
    let seq: Int64?, prev_hash: String?, hash: String?
    var row: AuditRow { AuditRow(id: id, at: at, user_id: user_id, action: action, object: object, detail: detail, remote: remote) }
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
    /// Inserts an audit entry on `db` (inside the caller's transaction). On PostgreSQL it is written unchained and
    /// placed after commit by `chainAudit`; on SQLite the caller holds `auditLock` and the chain is computed here from
    /// the last entry.
    static func insertAudit(_ row: AuditRow, on db: any SQLDatabase) async throws {
        guard db.dialect.name != "postgresql" else {
            try await db.insert(into: "audit_log").model(row, nilEncodingStrategy: .asNil).run()
            return
        }
        let last = try await db.raw("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").first()
        let prevSeq = try last?.decode(column: "seq", as: Int64?.self) ?? 0
        let prev = try last?.decode(column: "hash", as: String?.self) ?? ""
        let seq = prevSeq + 1
        try await db.raw("""
            INSERT INTO audit_log (id, at, user_id, action, object, detail, remote, seq, prev_hash, hash)
            VALUES (\(bind: row.id), \(bind: row.at), \(bind: row.user_id), \(bind: row.action), \(bind: row.object), \(bind: row.detail),
                    \(bind: row.remote), \(bind: seq), \(bind: prev), \(bind: AuditChain.hash(prev: prev, seq: seq, row)))
            """).run()
    }

    /// How many entries `chainAudit` places in one transaction.
    public static let auditChainBatch = 5000

    /// Places every entry written so far, a batch at a time (a batch smaller than the limit was the last; none when
    /// another chainer holds the lock, which then places them).
    public func chainAllAudit() async throws {
        while try await chainAudit() == Self.auditChainBatch {}
    }

    /// Places entries written since the last call at the end of the chain (PostgreSQL; SQLite chains at insert),
    /// at most `limit`, and returns how many. Entries are placed in order of (at, id) as they are found committed: an
    /// entry whose transaction commits late is placed after those already placed, whatever its time. One chainer at a
    /// time holds the advisory lock; another returns 0 at once, or waits for it with `wait` (verification must see
    /// every entry placed).
    @discardableResult
    public func chainAudit(limit: Int = Store.auditChainBatch, wait: Bool = false) async throws -> Int {
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
            let rows = try await db.raw("""
                SELECT id, at, user_id, action, object, detail, remote FROM audit_log WHERE seq IS NULL ORDER BY at, id LIMIT \(bind: limit)
                """).all(decoding: AuditRow.self)
            guard !rows.isEmpty else { return 0 }
            let last = try await db.raw("SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").first()
            var seq = try last?.decode(column: "seq", as: Int64.self) ?? 0
            var prev = try last?.decode(column: "hash", as: String.self) ?? ""
            var placed: [(id: String, seq: Int64, prev: String, hash: String)] = []
            for row in rows {
                seq += 1
                let hash = AuditChain.hash(prev: prev, seq: seq, row)
                placed.append((row.id, seq, prev, hash))
                prev = hash
            }
            for chunk in placed.chunked(1000) {
                let values = SQLList(chunk.map { p in
                    SQLGroupExpression([SQLBind(p.id), SQLRaw("CAST(\(p.seq) AS BIGINT)"), SQLBind(p.prev), SQLBind(p.hash)] as [any SQLExpression])
                })
                try await db.raw("""
                    UPDATE audit_log AS a SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
                    FROM (VALUES \(values)) AS v(id, seq, prev_hash, hash) WHERE a.id = v.id AND a.seq IS NULL
                    """).run()
            }
            return rows.count
        }
    }

    /// Entries written but not yet placed in the chain (PostgreSQL; always 0 on SQLite). A backlog that grows means
    /// no chainer runs.
    public func unchainedAuditEntries() async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM audit_log WHERE seq IS NULL").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Recomputes the chain from the first entry; reads in pages so that a large log is not held in memory. On
    /// PostgreSQL every committed entry is placed first.
    public func verifyAuditChain(page: Int = 5000) async throws -> AuditChain.Verification {
        while try await chainAudit(wait: true) > 0 {}
        var prev = "", expected: Int64 = 1, count = 0
        while true {
            let rows = try await db.raw("""
                SELECT * FROM audit_log WHERE seq >= \(bind: expected) ORDER BY seq LIMIT \(bind: page)
                """).all(decoding: ChainedAuditRow.self)
            for r in rows {
                guard let seq = r.seq, let hash = r.hash else { return .init(entries: count, lastHash: prev, broken: (expected, "entry without a place in the chain")) }
                if seq != expected { return .init(entries: count, lastHash: prev, broken: (expected, "entry \(expected) is missing")) }
                if r.prev_hash != prev { return .init(entries: count, lastHash: prev, broken: (seq, "prev_hash does not match entry \(seq - 1)")) }
                if AuditChain.hash(prev: prev, seq: seq, r.row) != hash { return .init(entries: count, lastHash: prev, broken: (seq, "the entry was changed")) }
                prev = hash; expected += 1; count += 1
            }
            if rows.count < page { break }
        }
        let unchained = try await db.raw("SELECT count(*) AS n FROM audit_log WHERE seq IS NULL").first()?.decode(column: "n", as: Int.self) ?? 0
        if unchained > 0 { return .init(entries: count, lastHash: prev, broken: (expected, "\(unchained) entries without a place in the chain")) }
        return .init(entries: count, lastHash: prev, broken: nil)
    }
}
