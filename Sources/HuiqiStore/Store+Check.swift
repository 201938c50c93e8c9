import Fluent
import SQLKit

/// The invariants `huiqi check` verifies after a crash, a restore or a manual intervention: every return's
/// versions are 1…n with the `current_returns` pointer on n and holding n's case and tax; every filing's audit entry
/// has its version; the audit chain is whole; notice numbers have no gaps; every ledger chain is 1…n with each
/// balance the running sum; every overpayment notice has its one credit; every finding, notice, reminder and ledger
/// entry names a registered taxpayer; every version's parameter list is stored, and matches its id.
extension Store {
    public struct Problem: Sendable, CustomStringConvertible {
        public let what: String
        public var description: String { what }
    }

    public func check(limit: Int = 100) async throws -> [Problem] {
        var problems: [Problem] = []
        // Versions not 1…n, or the pointer not on the last one.
        let gaps = try await db.raw("""
            SELECT r.taxpayer_id, r.return_id, max(r.version) AS top, count(*) AS n, c.version AS pointer
            FROM return_versions r LEFT JOIN current_returns c ON c.taxpayer_id = r.taxpayer_id AND c.return_id = r.return_id
            GROUP BY r.taxpayer_id, r.return_id, c.version
            HAVING c.version IS NULL OR max(r.version) <> c.version OR count(*) <> max(r.version)
            LIMIT \(bind: limit)
            """).all()
        for row in gaps {
            let t = try row.decode(column: "taxpayer_id", as: String.self), r = try row.decode(column: "return_id", as: String.self)
            let top = try row.decode(column: "top", as: Int.self), n = try row.decode(column: "n", as: Int.self)
            let pointer = try row.decode(column: "pointer", as: Int?.self)
            problems.append(Problem(what: "return \(t)/\(r): versions 1…\(top) expected, \(n) stored; current pointer \(pointer.map(String.init) ?? "missing")"))
        }
        // Pointers to no version, or holding another case or tax than their version (screening reads the pointer's).
        let pointers = try await db.raw("""
            SELECT c.taxpayer_id, c.return_id, c.version FROM current_returns c LEFT JOIN return_versions r
              ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version
            WHERE r.version IS NULL OR r.case_json <> c.case_json OR c.computed_tax_fen IS NULL OR r.computed_tax_fen <> c.computed_tax_fen
               OR r.declared_tax_fen IS DISTINCT FROM c.declared_tax_fen LIMIT \(bind: limit)
            """).all()
        for row in pointers {
            problems.append(Problem(what: "current pointer of \(try row.decode(column: "taxpayer_id", as: String.self))/\(try row.decode(column: "return_id", as: String.self)) (version \(try row.decode(column: "version", as: Int.self))) does not match its version (missing, or another case or tax)"))
        }
        // Versions naming a parameter list the database does not hold (migration 025): they could not be shown.
        let lists = try await db.raw("""
            SELECT r.taxpayer_id, r.return_id, r.version, r.parameters_id FROM return_versions r
            WHERE r.parameters_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM parameter_lists p WHERE p.id = r.parameters_id) LIMIT \(bind: limit)
            """).all()
        for row in lists {
            problems.append(Problem(what: "version \(try row.decode(column: "taxpayer_id", as: String.self))/\(try row.decode(column: "return_id", as: String.self))/v\(try row.decode(column: "version", as: Int.self)) names parameter list \(try row.decode(column: "parameters_id", as: String.self)), which is not stored"))
        }
        // A stored list whose id is not the SHA-256 of its text: a list is content-addressed, so it was altered.
        for row in try await db.select().columns("id", "list_json").from("parameter_lists").all() {
            let id = try row.decode(column: "id", as: String.self)
            if ParameterList.id(of: try row.decode(column: "list_json", as: String.self)) != id { problems.append(Problem(what: "parameter list \(id) does not match its text")) }
        }
        // Every filing's audit entry names a stored version ("taxpayer/return/vN"), checked taxpayer by taxpayer.
        let objects = try await db.raw("SELECT object FROM audit_log WHERE action IN ('file_return', 'correct_return')").all()
            .map { try $0.decode(column: "object", as: String.self) }
        var byTaxpayer: [String: Set<String>] = [:]
        for o in objects {
            let parts = o.split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { problems.append(Problem(what: "audit entry with a malformed object \(o)")); continue }
            byTaxpayer[String(parts[0]), default: []].insert(o)
        }
        let taxpayers = Array(byTaxpayer.keys)
        for chunk in stride(from: 0, to: taxpayers.count, by: 500).map({ Array(taxpayers[$0..<min($0 + 500, taxpayers.count)]) }) {
            let rows = try await db.select().columns("taxpayer_id", "return_id", "version").from("return_versions").where("taxpayer_id", .in, chunk).all()
            for row in rows {
                let t = try row.decode(column: "taxpayer_id", as: String.self)
                byTaxpayer[t]?.remove("\(t)/\(try row.decode(column: "return_id", as: String.self))/v\(try row.decode(column: "version", as: Int.self))")
            }
        }
        for missing in byTaxpayer.values.flatMap({ $0 }).sorted().prefix(limit) {
            problems.append(Problem(what: "audit entry for \(missing) but no such version"))
        }
        problems += try await checkAdministration(limit: limit)
        let chain = try await verifyAuditChain()
        if let broken = chain.broken { problems.append(Problem(what: "audit chain broken at entry \(broken.seq): \(broken.reason)")) }
        return problems
    }

    /// The administration loop's invariants (issue 8).
    func checkAdministration(limit: Int) async throws -> [Problem] {
        var problems: [Problem] = []
        let numbering = try await db.raw("""
            SELECT n.office_id, n.year, COUNT(*) AS n, MAX(n.number) AS top, MAX(c.last_number) AS counter
            FROM notices n LEFT JOIN notice_counters c ON c.office_id = n.office_id AND c.year = n.year
            GROUP BY n.office_id, n.year HAVING COUNT(*) <> MAX(n.number) OR MAX(c.last_number) IS NULL OR MAX(c.last_number) <> MAX(n.number)
            LIMIT \(bind: limit)
            """).all()
        for row in numbering {
            problems.append(Problem(what: "notices of \(try row.decode(column: "office_id", as: String.self)) in \(try row.decode(column: "year", as: Int.self)): "
                                    + "\(try row.decode(column: "n", as: Int.self)) notices numbered up to \(try row.decode(column: "top", as: Int.self)) (numbers must have no gaps)"))
        }
        let chains = try await db.raw("""
            SELECT e.taxpayer_id, e.tax FROM ledger_entries e
            JOIN (SELECT taxpayer_id, tax, MAX(seq) AS top, COUNT(*) AS n, CAST(SUM(amount_fen) AS BIGINT) AS total
                  FROM ledger_entries GROUP BY taxpayer_id, tax) g ON g.taxpayer_id = e.taxpayer_id AND g.tax = e.tax AND e.seq = g.top
            WHERE g.n <> g.top OR g.total <> e.balance_fen
            LIMIT \(bind: limit)
            """).all()
        for row in chains {
            problems.append(Problem(what: "ledger of \(try row.decode(column: "taxpayer_id", as: String.self)) \(try row.decode(column: "tax", as: String.self)): entries not 1…n or balance not the running sum"))
        }
        let credits = try await db.raw("""
            SELECT n.id FROM notices n LEFT JOIN ledger_entries e ON e.notice_id = n.id AND e.kind = 'credit'
            WHERE n.kind = 'overpayment' GROUP BY n.id, n.amount_fen
            HAVING COUNT(e.seq) <> 1 OR CAST(SUM(e.amount_fen) AS BIGINT) <> n.amount_fen LIMIT \(bind: limit)
            """).all()
        for row in credits {
            problems.append(Problem(what: "overpayment notice \(try row.decode(column: "id", as: String.self)) has not exactly one credit of its amount"))
        }
        // Rows whose taxpayer is missing: on PostgreSQL no foreign key holds these tables to `taxpayers` (migration 022).
        for table in M022ScreeningWritesLockNoTaxpayer.tables {
            for row in try await db.raw("""
                SELECT DISTINCT x.taxpayer_id FROM \(unsafeRaw: table) x WHERE NOT EXISTS (SELECT 1 FROM taxpayers t WHERE t.id = x.taxpayer_id)
                ORDER BY x.taxpayer_id LIMIT \(bind: limit)
                """).all() {
                problems.append(Problem(what: "\(table) of \(try row.decode(column: "taxpayer_id", as: String.self)): no such taxpayer"))
            }
        }
        // Versions and pointers whose taxpayer, versions whose filer, is missing (migration 023).
        for (table, column, referenced) in M023FilingLocksNoRegistryRow.keys {
            for row in try await db.raw("""
                SELECT DISTINCT x.\(unsafeRaw: column) AS id FROM \(unsafeRaw: table) x
                WHERE NOT EXISTS (SELECT 1 FROM \(unsafeRaw: referenced) r WHERE r.id = x.\(unsafeRaw: column)) ORDER BY 1 LIMIT \(bind: limit)
                """).all() {
                problems.append(Problem(what: "\(table).\(column) \(try row.decode(column: "id", as: String.self)): no such row in \(referenced)"))
            }
        }
        return problems
    }
}
