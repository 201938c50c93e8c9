import Fluent
import Foundation
import SQLKit

/// The current version of one return as screening reads it: the stored case, the declared and computed tax,
/// and the registry facts the engine needs (the case holds no taxpayer facts).
public struct ScreenedReturnRow: Codable, Sendable {
    public var taxpayer_id: String, return_id: String, version: Int, section: String, period: String
    /// The stored case; nil for a VAT return read by its compact columns, which hold the whole VAT return
    /// (`ScreeningColumns.vatReturn`).
    public var case_json: String?
    public var computed_tax_fen: Int64, declared_tax_fen: Int64?
    public var kind: String, vat_status: String, industry: String, restricted_industry: Bool, region: String, office_id: String
    /// 1 when the taxpayer lies under the screened office's subtree (see `Store.screenedReturns`).
    public var in_scope: Int
    /// The compact columns of a VAT case (`ScreeningColumns`); nil: read the JSON.
    public var screening: String?
    /// What the filer owed by the return: the declared tax, or the computed one when none was declared.
    public var payable_fen: Int64 { declared_tax_fen ?? computed_tax_fen }
}

/// A page of screening (`Store.screenedPage`): the current returns of a key range, the expected returns of that range
/// never filed (when asked for), and the range's last key (nil: no return at all, the range is empty).
public struct ScreenedPage: Sendable {
    public var rows: [ScreenedReturnRow] = []
    public var unfiled: [(taxpayer: String, office: String)] = []
    public var covered: String?
}

/// What screening found in one return version (version 0: the return was not filed).
public struct FindingRow: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case overpaid, underpaid, notFiled = "not_filed", undetermined }
    public var taxpayer_id: String, return_id: String, version: Int, kind: Kind
    public var section: String, period: String, office_id: String
    public var declared_fen: Int64?, law_tax_fen: Int64?
    public var amount_fen: Int64
    /// Undetermined: the missing fact or the refusal, as the engine named it.
    public var missing: String?
    public var job_id: String, found_at: String
    public init(taxpayer_id: String, return_id: String, version: Int, kind: Kind, section: String, period: String, office_id: String,
                declared_fen: Int64?, law_tax_fen: Int64?, amount_fen: Int64, missing: String?, job_id: String, found_at: String) {
        self.taxpayer_id = taxpayer_id; self.return_id = return_id; self.version = version; self.kind = kind; self.section = section
        self.period = period; self.office_id = office_id; self.declared_fen = declared_fen; self.law_tax_fen = law_tax_fen
        self.amount_fen = amount_fen; self.missing = missing; self.job_id = job_id; self.found_at = found_at
    }
}

/// A notice (税务事项通知书): an overpayment to be returned, or a request to correct a return (更正申报).
public struct NoticeRow: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case overpayment, correction }
    public var id: String, taxpayer_id: String, office_id: String, year: Int, number: Int, kind: Kind
    public var return_id: String, version: Int, section: String, period: String, amount_fen: Int64
    /// JSON: the legal basis (文号 and article of every rule applied), the computation and how the money comes back.
    public var body: String
    public var issued_at: String, issued_by: String?, read_at: String?, acknowledged_at: String?
    /// The document number as printed: office, year and the number without gaps.
    public var documentNumber: String { "\(office_id)〔\(year)〕\(String(format: "%06d", number))号" }
}

/// A notice to write, before it has its number.
public struct NoticeDraft: Sendable {
    public let kind: NoticeRow.Kind, finding: FindingRow, amountFen: Int64, body: String
    public init(kind: NoticeRow.Kind, finding: FindingRow, amountFen: Int64, body: String) {
        self.kind = kind; self.finding = finding; self.amountFen = amountFen; self.body = body
    }
}

extension Store {
    /// The next page of current returns of `returnID`, after `after` in credit-code order (keyset paging: memory
    /// stays flat whatever the population), each marked whether its taxpayer lies under the office subtree of
    /// `root`; the caller keeps those and continues after the page's last row. A VAT return comes with its compact
    /// columns and without its case JSON, unless it has no compact columns; other returns come with their JSON.
    ///
    /// Measured on one and ten million returns (docs/performance.md), these choices make it fast:
    /// - one table holds what screening reads of a return (`current_returns` carries the version's tax since
    ///   migration 021), and on PostgreSQL two covering indexes hold it all but the JSON: a page is two index-only
    ///   scans instead of three random heap fetches a return (67 → 10 ms a page of 5,000); a notice's case is made from
    ///   the compact form, so a VAT page never reads `return_versions` but for a return too long to have one;
    /// - the page is a merge join of two key ranges with the same bounds: the returns after `after` up to the page's
    ///   last key, found first (the `limit`-th key, an index-only scan of `limit` entries), and the taxpayers in the
    ///   same range, which include the page's. On the generated million, warm, a page took 8.4 ms against 16–18 ms
    ///   when each return's taxpayer was looked up by key (5,000 probes of 3–4 index pages each, most of them cache
    ///   misses at ten million). The upper bound is a subquery, whose value the planner does not know when it plans,
    ///   so it does not read the range off the histogram: with a bound only on `after`, PostgreSQL once estimated
    ///   the tail of the index at one row and chose nested loops that scanned the taxpayers once per return (0.7 s
    ///   a page near the end of 10 million); with this bound, no page of ten million took more than 56 ms;
    /// - the subtree test is a flag per record, last;
    /// - the database returns the whole page as one text value, records separated by U+001E and fields by U+001F
    ///   (neither can occur in stored JSON, which escapes control characters), instead of one row per return:
    ///   decoding rows cell by cell cost about 25 µs a return on the client, five times the database's own work.
    ///   PostgreSQL joins each record's fields with `concat_ws` (one copy, where a chain of `||` copied the record once
    ///   per field), in the join's order: the client sorts the records, so the aggregate does not.
    /// With `through`, the page ends at that key (inclusive): screening reads two halves of the key range side by side.
    public func screenedReturns(_ returnID: String, under root: String, after: String, through: String? = nil, limit: Int) async throws -> [ScreenedReturnRow] {
        try await screenedPage(returnID, under: root, after: after, through: through, limit: limit).rows
    }

    /// A page of `screenedReturns`, and with `unfiled`, the expected returns under `root` that were never filed whose
    /// taxpayers lie in the page's key range. The page's statement then reads the taxpayers of its range left-joined
    /// with their returns, in the same merge, and the rows without a return are tested as `expectedJoin` tests them
    /// (a probe of the taxpayer's row, and of its filing frequency for VAT) only for those. Screening used to list the
    /// missing returns in one statement, a hash join of whole tables that took 11 s of the database's time at ten million
    /// (docs/performance.md). The pages' ranges are contiguous and the first starts at the first key, so they cover
    /// every taxpayer up to `covered`; `allUnfiledReturns(after: covered)` finds the rest.
    public func screenedPage(_ returnID: String, under root: String, after: String, through: String? = nil, limit: Int,
                             unfiled e: ExpectedReturns? = nil) async throws -> ScreenedPage {
        let (section, period) = Self.sectionAndPeriod(returnID)
        let withCases = section != "vat"
        let postgres = db.dialect.name == "postgresql"
        let inScope: SQLQueryString = "CASE WHEN t.office_id IN (SELECT id FROM scope) THEN '1' ELSE '0' END"
        let restricted: SQLQueryString = "CASE WHEN t.restricted_industry THEN '1' ELSE '0' END"
        let declared: SQLQueryString = "COALESCE(CAST(c.declared_tax_fen AS TEXT), '')"
        // A NULL field would shift the fields after it (`concat_ws` skips it) or void the record (`||`): every column
        // here is NOT NULL but the two wrapped above, so a page that does not read back is refused, never misread.
        let aggregate: SQLQueryString
        if postgres {
            aggregate = "string_agg(CASE WHEN c.taxpayer_id IS NOT NULL THEN concat_ws(chr(31), c.taxpayer_id, c.version, c.computed_tax_fen, " + declared
                + ", t.kind, t.vat_status, t.industry, " + restricted + ", t.region, t.office_id, " + inScope
                + ", COALESCE(c.screening, '-')" + (withCases ? ", c.case_json" : "") + ") END, chr(30))"
        } else {
            let us: SQLQueryString = " || char(31) || "
            // With the taxpayers left-joined, a taxpayer without a return has a NULL `c.taxpayer_id`: its record is NULL
            // and `group_concat` skips it.
            aggregate = "group_concat(c.taxpayer_id" + us + "c.version" + us + "c.computed_tax_fen" + us + declared + us + "t.kind" + us
                + "t.vat_status" + us + "t.industry" + us + restricted + us + "t.region" + us + "t.office_id" + us + inScope + us
                + "COALESCE(c.screening, '-')" + (withCases ? us + "c.case_json" : "") + ", char(30))"
        }
        let upTo: SQLQueryString = through.map { " AND taxpayer_id <= \(bind: $0)" } ?? ""
        // The period follows from the return; PostgreSQL is told it (its covering index holds it, and a deployment that
        // partitions by period prunes on it), SQLite not: its index holds no period, so naming it made the bound's
        // 5,000 index entries 5,000 row reads (a page of 300,000 taxpayers' SQLite file: 32–34 ms against 24–26).
        let samePeriod: SQLQueryString = postgres ? " AND period = \(bind: period)" : ""
        // The page's last key: the `limit`-th after `after`; with fewer left, `through` or the last there is.
        let last: SQLQueryString = """
            , bound AS (SELECT COALESCE((SELECT taxpayer_id FROM current_returns
              WHERE return_id = \(bind: returnID)
            """ + samePeriod + " AND taxpayer_id > \(bind: after)" + upTo + " ORDER BY taxpayer_id LIMIT 1 OFFSET \(bind: max(0, limit - 1))), "
            + (through.map { "\(bind: $0)" } ?? "(SELECT MAX(taxpayer_id) FROM current_returns WHERE return_id = \(bind: returnID)" + samePeriod + ")")
            + ") AS last)"
        let returnsInRange: SQLQueryString = """
            c.return_id = \(bind: returnID) AND c.period = \(bind: period)
              AND c.taxpayer_id > \(bind: after) AND c.taxpayer_id <= (SELECT last FROM bound)
            """
        let taxpayersInRange: SQLQueryString = "t.id > \(bind: after) AND t.id <= (SELECT last FROM bound)"
        var select: SQLQueryString = " SELECT " + aggregate + " AS page, (SELECT last FROM bound) AS last"
        let page: SQLQueryString
        if let e {
            // The missing: no return, in the subtree, of a kind that files it, and (probed only for these) active in the
            // period and, for VAT, registered with the frequency that makes it due. CASE evaluates its branches in
            // order, so the probes run for the taxpayers without a return alone.
            var kinds: SQLQueryString = ""
            for (i, k) in e.kinds.enumerated() { kinds = kinds + (i == 0 ? "" : ", ") + "\(bind: k)" }
            let frequency: SQLQueryString = e.frequency.map {
                " AND EXISTS (SELECT 1 FROM vat_filing_frequencies q WHERE q.taxpayer_id = t.id AND q.year = \(bind: e.year) AND q.frequency = \(bind: $0))"
            } ?? ""
            let record: SQLQueryString = postgres ? "t.id || chr(31) || t.office_id" : "t.id || char(31) || t.office_id"
            // The frequency first: most taxpayers without a quarterly VAT return are general taxpayers with no quarterly
            // frequency, and one probe tells (a page of the first half of ten million: 19 ms against 24 the other way).
            select = select + ", " + (postgres ? "string_agg" : "group_concat") + "(CASE WHEN c.taxpayer_id IS NOT NULL THEN NULL"
                + " WHEN t.office_id IN (SELECT id FROM scope) AND t.kind IN (" + kinds + ")" + frequency
                + " AND EXISTS (SELECT 1 FROM taxpayers x WHERE x.id = t.id AND x.registered_on <= \(bind: e.lastDay)"
                + " AND (x.deregistered_on IS NULL OR x.deregistered_on >= \(bind: e.firstDay)))"
                + " THEN " + record + " END, " + (postgres ? "chr(30)" : "char(30)") + ") AS unfiled"
            page = " FROM taxpayers t LEFT JOIN current_returns c ON c.taxpayer_id = t.id AND " + returnsInRange + " WHERE " + taxpayersInRange
        } else {
            page = " FROM current_returns c JOIN taxpayers t ON t.id = c.taxpayer_id WHERE " + returnsInRange + " AND " + taxpayersInRange
        }
        guard limit > 0 else { return ScreenedPage() }
        let statement = Self.subtreeScope(root) + last + select + page
        let found: SQLRow?
        if postgres, e != nil, let database {
            // Without JIT compilation. The planner cannot know the range's upper bound (above), so it prices the probes
            // of the taxpayers without a return as if a third of the table were in the range (a cost of 870,000 against
            // 12,000 without them), and above `jit_optimize_above_cost` PostgreSQL compiled and optimised the statement
            // with LLVM on every page: 450–750 ms a page, for 15–17 ms of execution (`EXPLAIN ANALYZE` at ten million).
            found = try await database.transaction { tx in
                let db = sql(tx)
                try await db.raw("SET LOCAL jit = off").run()
                return try await db.raw(statement).first()
            }
        } else {
            found = try await db.raw(statement).first()
        }
        guard let answer = found else { return ScreenedPage() }
        var result = ScreenedPage(covered: try answer.decode(column: "last", as: String?.self))
        if e != nil, let unfiled = try answer.decode(column: "unfiled", as: String?.self) {
            result.unfiled = try unfiled.split(separator: "\u{1E}").map {
                let f = $0.split(separator: "\u{1F}", omittingEmptySubsequences: false)
                guard f.count == 2 else { throw StoreError.malformedPage }
                return (String(f[0]), String(f[1]))
            }.sorted { $0.taxpayer < $1.taxpayer }
        }
        guard var text = try answer.decode(column: "page", as: String?.self) else { return result }
        var rows = try text.withUTF8 { try Self.pageRows(ByteFields(bytes: $0), returnID: returnID, section: section, period: period, withCases: withCases, capacity: limit) }
        rows.sort { $0.taxpayer_id < $1.taxpayer_id }
        // A VAT return without compact columns (a long one, `ScreeningColumns.maxLength`) is read from its JSON.
        let uncompact = rows.indices.filter { rows[$0].screening == nil && rows[$0].case_json == nil }
        if !uncompact.isEmpty {
            let cases = try await versionCases(returnID, uncompact.map { (rows[$0].taxpayer_id, rows[$0].version) })
            for i in uncompact { rows[i].case_json = cases[rows[i].taxpayer_id] }
        }
        result.rows = rows
        return result
    }

    /// The records of a page's text (records end at U+001E, fields at U+001F; the case JSON, last, may hold
    /// anything else), read on bytes: neither Characters (grapheme breaking cost 13 µs a return) nor a `String` per
    /// field (only the fields kept as text become one).
    static func pageRows(_ b: ByteFields, returnID: String, section: String, period: String, withCases: Bool,
                         capacity: Int) throws -> [ScreenedReturnRow] {
        let fields = withCases ? 13 : 12
        var rows: [ScreenedReturnRow] = []
        rows.reserveCapacity(capacity)
        var f: [Range<Int>] = []
        f.reserveCapacity(fields)
        var start = 0
        let n = b.bytes.count
        while start < n {
            let end = b.fieldEnd(from: start, separator: 0x1E, end: n)
            defer { start = end + 1 }
            if end == start { continue }  // empty records are skipped, as `split` omitted them
            guard b.split(start..<end, separator: 0x1F, limit: fields, into: &f) == fields,
                  let version = b.int64(f[1]).flatMap({ Int(exactly: $0) }), let computed = b.int64(f[2]) else { throw StoreError.malformedPage }
            rows.append(ScreenedReturnRow(taxpayer_id: b.string(f[0]), return_id: returnID, version: version, section: section, period: period,
                                          case_json: withCases ? b.string(f[12]) : nil, computed_tax_fen: computed, declared_tax_fen: b.int64(f[3]),
                                          kind: b.string(f[4]), vat_status: b.string(f[5]), industry: b.string(f[6]),
                                          restricted_industry: b.isByte(f[7], UInt8(ascii: "1")), region: b.string(f[8]), office_id: b.string(f[9]),
                                          in_scope: b.isByte(f[10], UInt8(ascii: "1")) ? 1 : 0,
                                          screening: b.isByte(f[11], UInt8(ascii: "-")) ? nil : b.string(f[11])))
        }
        return rows
    }

    /// A key near the middle of the current returns of `returnID` (PostgreSQL), from a repeatable sample of
    /// `samplePercent` of the table's pages: screening reads the two halves it splits as two page streams, one backend
    /// each. Nil when the sample holds no return (a small table): then one stream reads all.
    public func middleReturnKey(_ returnID: String, samplePercent: Int) async throws -> String? {
        guard db.dialect.name == "postgresql" else { return nil }
        let percent = min(100, max(1, samplePercent))
        return try await db.raw("""
            SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY taxpayer_id) AS k FROM current_returns TABLESAMPLE SYSTEM (\(unsafeRaw: String(percent))) REPEATABLE (2014)
            WHERE return_id = \(bind: returnID) AND period = \(bind: Self.sectionAndPeriod(returnID).1)
            """).first()?.decode(column: "k", as: String?.self)
    }

    /// The stored case JSON of one version of `returnID` for each (taxpayer, version), by taxpayer. From the
    /// append-only versions, so a correction filed since the page was read cannot mix its case with the page's tax.
    public func versionCases(_ returnID: String, _ keys: [(taxpayer: String, version: Int)]) async throws -> [String: String] {
        var cases: [String: String] = [:]
        let wanted = Dictionary(keys.map { ($0.taxpayer, $0.version) }, uniquingKeysWith: { a, _ in a })
        for chunk in Array(wanted.keys).chunked(1_000) {
            let rows = try await db.select().columns("taxpayer_id", "version", "case_json").from("return_versions")
                .where("return_id", .equal, returnID).where("taxpayer_id", .in, Array(chunk)).all()
            for row in rows {
                let taxpayer = try row.decode(column: "taxpayer_id", as: String.self)
                guard try row.decode(column: "version", as: Int.self) == wanted[taxpayer] else { continue }
                cases[taxpayer] = try row.decode(column: "case_json", as: String.self)
            }
        }
        return cases
    }

    /// `vat:2026-Q3` → (`vat`, `2026-Q3`).
    static func sectionAndPeriod(_ returnID: String) -> (String, String) {
        guard let colon = returnID.firstIndex(of: ":") else { return (returnID, "") }
        return (String(returnID[..<colon]), String(returnID[returnID.index(after: colon)...]))
    }

    /// How many current returns of `returnID` lie under `root` (the job's total). Under the root of the whole tree
    /// (the one office without a parent) that is every return, counted from the covering index alone: joined with
    /// the taxpayers for their offices, a national count took 12–16 s for 10 million returns, alone 1 s.
    public func countReturns(_ returnID: String, under root: String) async throws -> Int64 {
        let roots = try await db.raw("SELECT id FROM offices WHERE parent_id IS NULL").all().map { try $0.decode(column: "id", as: String.self) }
        if roots == [root] {
            return try await db.raw("""
                SELECT COUNT(*) AS n FROM current_returns WHERE return_id = \(bind: returnID) AND period = \(bind: Self.sectionAndPeriod(returnID).1)
                """).first()!.decode(column: "n", as: Int64.self)
        }
        return try await db.raw(Self.subtreeScope(root) + """
             SELECT COUNT(*) AS n FROM current_returns c JOIN taxpayers t ON t.id = c.taxpayer_id
            WHERE c.return_id = \(bind: returnID) AND c.period = \(bind: Self.sectionAndPeriod(returnID).1) AND t.office_id IN (SELECT id FROM scope)
            """).first()!.decode(column: "n", as: Int64.self)
    }

    /// Every expected return under `root` that was never filed, in credit-code order, in one statement. Paged with a
    /// keyset (below), each page walked the taxpayers' key index row by row until it had found enough of the few
    /// unfiled ones (1.6 s a page on a million taxpayers); unpaged, the database joins whole tables by hashing (1 s in
    /// all). The list is one short pair per missing return, a small share of the population.
    /// With `after`, only those whose credit code comes after it (the tail after screening's pages).
    public func allUnfiledReturns(_ e: ExpectedReturns, under root: String, after: String? = nil) async throws -> [(taxpayer: String, office: String)] {
        let q: SQLQueryString = Self.subtreeScope(root) + " SELECT t.id, t.office_id " + expectedJoin(e, after: after, versions: false)
            + " AND c.taxpayer_id IS NULL" + (after.map { " AND t.id > \(bind: $0)" } ?? "") + " ORDER BY t.id"
        return try await db.raw(q).all().map { (try $0.decode(column: "id", as: String.self), try $0.decode(column: "office_id", as: String.self)) }
    }

    /// The expected returns under `root` that were never filed, in credit-code order after `after`.
    public func unfiledReturns(_ e: ExpectedReturns, under root: String, after: String, limit: Int) async throws -> [(taxpayer: String, office: String)] {
        let q: SQLQueryString = Self.subtreeScope(root) + " SELECT t.id, t.office_id " + expectedJoin(e, after: after)
            + " AND c.taxpayer_id IS NULL AND t.id > \(bind: after) ORDER BY t.id LIMIT \(bind: limit)"
        return try await db.raw(q).all().map { (try $0.decode(column: "id", as: String.self), try $0.decode(column: "office_id", as: String.self)) }
    }

    /// The overpayment already noticed for earlier versions of each return (a correction re-screened is credited
    /// only with what is new), keyed by `taxpayer/return`.
    public func noticedOverpayments(_ keys: [(taxpayer: String, returnID: String)], on given: (any SQLDatabase)? = nil) async throws -> [String: Int64] {
        guard !keys.isEmpty else { return [:] }
        let db = given ?? self.db
        var out: [String: Int64] = [:]
        for chunk in keys.chunked(300) {
            let rows = try await db.select().column("taxpayer_id").column("return_id").column(SQLRaw("CAST(SUM(amount_fen) AS BIGINT)"), as: "n")
                .from("notices").where("kind", .equal, "overpayment").where("taxpayer_id", .in, chunk.map(\.taxpayer))
                .where("return_id", .in, Array(Set(chunk.map(\.returnID)))).groupBy("taxpayer_id").groupBy("return_id").all()
            for r in rows {
                out["\(try r.decode(column: "taxpayer_id", as: String.self))/\(try r.decode(column: "return_id", as: String.self))"] = try r.decode(column: "n", as: Int64.self)
            }
        }
        return out
    }

    /// Records one page of findings with their notices, credits and reminders, in one transaction with its audit
    /// entry: all or nothing. Findings already recorded (a rerun) are skipped, and so are their notices. Returns
    /// the findings and notices newly written.
    public func record(findings: [FindingRow], notices drafts: [NoticeDraft], year: Int, by user: String?, at: String,
                       audit: AuditRow) async throws -> (findings: Int, notices: [NoticeRow]) {
        // A concurrent filing that moved a ledger head makes the page collide: it is written again, whole.
        try await Store.retryingOnCollision { try await recordOnce(findings: findings, notices: drafts, year: year, by: user, at: at, audit: audit) }
    }

    func recordOnce(findings: [FindingRow], notices drafts: [NoticeDraft], year: Int, by user: String?, at: String,
                    audit: AuditRow) async throws -> (findings: Int, notices: [NoticeRow]) {
        guard let database else { throw StoreError.noTransactions }
        return try await Store.serializingAudit(db) {
            try await database.transaction { tx in
                let db = sql(tx)
                var fresh = Set<String>()
                for r in try await Self.insertRecords(findings, into: "findings", ignoringConflicts: true,
                                                      returning: ["taxpayer_id", "return_id", "version", "kind"], on: db) {
                    fresh.insert("\(try r.decode(column: "taxpayer_id", as: String.self))/\(try r.decode(column: "return_id", as: String.self))/\(try r.decode(column: "version", as: Int.self))/\(try r.decode(column: "kind", as: String.self))")
                }
                let due = drafts.filter { fresh.contains("\($0.finding.taxpayer_id)/\($0.finding.return_id)/\($0.finding.version)/\($0.finding.kind.rawValue)") }
                var written: [NoticeRow] = []
                let byOffice = Dictionary(grouping: due, by: { $0.finding.office_id }).sorted(by: { $0.key < $1.key })
                // Numbers per office and year without gaps: each office's counter advances in this transaction, all of
                // the page's offices in one statement (a page of a national screening holds notices of a hundred
                // offices; one statement each was most of its write time). Offices in key order, so two writers lock
                // counters in the same order.
                var lastNumber: [String: Int] = [:]
                for chunk in byOffice.chunked(500) {
                    var values: SQLQueryString = ""
                    for (i, (office, group)) in chunk.enumerated() {
                        values = values + (i == 0 ? "" : ", ") + "(\(bind: office), \(bind: year), \(bind: group.count))"
                    }
                    for row in try await db.raw("""
                        INSERT INTO notice_counters (office_id, year, last_number) VALUES \(values)
                        ON CONFLICT (office_id, year) DO UPDATE SET last_number = notice_counters.last_number + excluded.last_number
                        RETURNING office_id, last_number
                        """).all() {
                        lastNumber[try row.decode(column: "office_id", as: String.self)] = try row.decode(column: "last_number", as: Int.self)
                    }
                }
                for (office, group) in byOffice {
                    guard let last = lastNumber[office] else { throw StoreError.malformedPage }
                    for (i, d) in group.enumerated() {
                        let f = d.finding, number = last - group.count + 1 + i
                        written.append(NoticeRow(id: "\(office)-\(year)-\(String(format: "%06d", number))", taxpayer_id: f.taxpayer_id, office_id: office, year: year,
                                                 number: number, kind: d.kind, return_id: f.return_id, version: f.version, section: f.section, period: f.period,
                                                 amount_fen: d.amountFen, body: d.body, issued_at: at, issued_by: user, read_at: nil, acknowledged_at: nil))
                    }
                }
                // Many rows per statement: a page of a national screening writes thousands of notices.
                _ = try await Self.insertRecords(written, into: "notices", on: db)
                let reminders = written.map {
                    ReminderRow(id: UUID().uuidString, taxpayer_id: $0.taxpayer_id, return_id: $0.return_id, reason: "notice",
                                office_id: $0.office_id, message: Store.noticeMessage($0), due_on: nil, created_at: at)
                }
                _ = try await Self.insertRecords(reminders, into: "reminders", ignoringConflicts: true, on: db)
                // The foreign-key checks of the rows written here are plans PostgreSQL caches per connection. Planned
                // while `notices` was nearly empty (a platform's first screening), the check of each credit against its
                // notice stayed a sequential scan as the table grew: up to 0.6 s per page's credits, 10.6 of the 18.7 s
                // of writing a million's first run. Planned for each row, it is an index probe at any size. Only the
                // credits' checks are planned so: the findings' and notices' (against `jobs` and `offices`, which do not
                // grow during a run) keep their cached plans, since planning each of a national run's 1.1 million checks
                // cost more than the checks.
                let credited = written.filter { $0.kind == .overpayment }
                if db.dialect.name == "postgresql" && !credited.isEmpty {
                    try await db.raw("SET LOCAL plan_cache_mode = force_custom_plan").run()
                }
                try await Store.appendCredits(credited, at: at, by: user, on: db)
                var audit = audit
                audit.detail += "; \(fresh.count) new findings, notices \(written.map(\.id).joined(separator: ","))"
                try await Store.insertAudit(audit, on: db)
                return (fresh.count, written)
            }
        }
    }

    static func noticeMessage(_ n: NoticeRow) -> String {
        let yuan = "\(n.amount_fen / 100).\(String(format: "%02d", n.amount_fen % 100))"
        return n.kind == .overpayment
            ? "税务事项通知书 \(n.documentNumber)：\(n.return_id) 多缴税款 \(yuan) 元，可抵顶以后应纳税额或申请退税 / overpaid \(yuan) yuan on \(n.return_id): offset against later returns or refund on request"
            : "税务事项通知书 \(n.documentNumber)：\(n.return_id) 少缴税款 \(yuan) 元，请更正申报 / underpaid \(yuan) yuan on \(n.return_id): please file a correction"
    }

    /// Findings of a section and period under `root`, optionally of one kind or one job, in credit-code order.
    public func findings(section: String, period: String, under root: String, kind: FindingRow.Kind?, job: String?, limit: Int) async throws -> [FindingRow] {
        var q: SQLQueryString = Self.subtreeScope(root) + """
             SELECT * FROM findings WHERE section = \(bind: section) AND period = \(bind: period) AND office_id IN (SELECT id FROM scope)
            """
        if let kind { q = q + " AND kind = \(bind: kind.rawValue)" }
        if let job { q = q + " AND job_id = \(bind: job)" }
        return try await db.raw(q + " ORDER BY taxpayer_id, return_id, version, kind LIMIT \(bind: limit)").all(decoding: FindingRow.self)
    }
    public func findings(job: String, limit: Int) async throws -> [FindingRow] {
        try await db.select().columns("*").from("findings").where("job_id", .equal, job)
            .orderBy("taxpayer_id").orderBy("return_id").orderBy("kind").limit(limit).all(decoding: FindingRow.self)
    }
    /// Findings of a job by kind, with their amounts.
    public func findingCounts(job: String) async throws -> [String: (count: Int64, amount: Int64)] {
        var out: [String: (Int64, Int64)] = [:]
        for r in try await db.raw("SELECT kind, COUNT(*) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS a FROM findings WHERE job_id = \(bind: job) GROUP BY kind").all() {
            out[try r.decode(column: "kind", as: String.self)] = (try r.decode(column: "n", as: Int64.self), try r.decode(column: "a", as: Int64.self))
        }
        return out
    }

    // MARK: notices
    public func notice(_ id: String) async throws -> NoticeRow? {
        try await db.select().columns("*").from("notices").where("id", .equal, id).first(decoding: NoticeRow.self)
    }
    public func notices(taxpayer: String) async throws -> [NoticeRow] {
        try await db.select().columns("*").from("notices").where("taxpayer_id", .equal, taxpayer).orderBy("issued_at", .descending)
            .orderBy("id").all(decoding: NoticeRow.self)
    }
    /// Sets `read_at` or `acknowledged_at` once (the first time counts).
    public func markNotice(_ id: String, column: String, at: String, audit: AuditRow) async throws {
        try await writeAudited(audit) { db in
            try await db.raw("UPDATE notices SET \(unsafeRaw: column) = \(bind: at) WHERE id = \(bind: id) AND \(unsafeRaw: column) IS NULL").run()
            if column == "acknowledged_at" {
                try await db.raw("UPDATE notices SET read_at = \(bind: at) WHERE id = \(bind: id) AND read_at IS NULL").run()
            }
        }
    }
}
