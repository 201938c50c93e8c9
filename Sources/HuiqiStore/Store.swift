import Fluent
import FluentPostgresDriver
import Foundation
import HuiqiRules
import SQLKit

/// Rows as the store reads and writes them. Amounts are integer fen; days and instants are ISO text.
public struct OfficeRow: Codable, Sendable, Equatable {
    public var id: String, parent_id: String?, name: String, level: String, region_code: String
    public init(id: String, parent_id: String?, name: String, level: String, region_code: String) {
        self.id = id; self.parent_id = parent_id; self.name = name; self.level = level; self.region_code = region_code
    }
}

public struct TaxpayerRow: Codable, Sendable, Equatable {
    public var id: String, name: String, kind: String, vat_status: String, industry: String
    public var restricted_industry: Bool, region: String, office_id: String, registered_on: String, deregistered_on: String?
    public init(id: String, name: String, kind: String, vat_status: String, industry: String, restricted_industry: Bool,
                region: String, office_id: String, registered_on: String, deregistered_on: String? = nil) {
        self.id = id; self.name = name; self.kind = kind; self.vat_status = vat_status; self.industry = industry
        self.restricted_industry = restricted_industry; self.region = region; self.office_id = office_id
        self.registered_on = registered_on; self.deregistered_on = deregistered_on
    }
    /// The taxpayer facts of a case (CASES.md `taxpayer`), from the registry.
    public var facts: Taxpayer {
        Taxpayer(id: id, kind: TaxpayerKind(rawValue: kind), vatStatus: VATStatus(rawValue: vat_status),
                 industry: Industry(rawValue: industry), restrictedIndustry: restricted_industry, region: region)
    }
}

public struct UserRow: Codable, Sendable, Equatable {
    public var id: String, login: String, password_hash: String, role: String, office_id: String?
    /// What taxpayers see of a staff member (an office and a function), instead of the login.
    public var display_name: String
    /// Counts the changes to what the user may reach (bindings, office, role, the office tree), kept by triggers.
    public var auth_version: Int64
    public init(id: String, login: String, password_hash: String, role: String, office_id: String?, display_name: String = "",
                auth_version: Int64 = 0) {
        self.id = id; self.login = login; self.password_hash = password_hash; self.role = role; self.office_id = office_id
        self.display_name = display_name; self.auth_version = auth_version
    }
}

public struct ReturnVersionRow: Codable, Sendable, Equatable {
    public var taxpayer_id: String, return_id: String, version: Int, section: String, period: String
    public var case_json: String, determination_json: String
    public var computed_tax_fen: Int64, relief_fen: Int64, declared_tax_fen: Int64?
    public var idempotency_key: String?, filed_by: String, filed_at: String
    /// The prompts given at filing, as a JSON array of {code, zh, en}.
    public var prompts_json: String
    /// SHA-256 of the request the idempotency key came with (body and declared tax): a key reused with another
    /// request is refused rather than answered with this filing.
    public var request_digest: String?
    /// The list of parameter versions in force, when it is stored apart (`parameter_lists`, migration 025). Read
    /// through the store, `determination_json` holds the list either way.
    public var parameters_id: String?
    /// What screening needs of the case (`ScreeningColumns`), kept on the current-version pointer, not in the
    /// version itself (nor in its coding).
    public var screening: String?
    enum CodingKeys: String, CodingKey {
        case taxpayer_id, return_id, version, section, period, case_json, determination_json, computed_tax_fen, relief_fen, declared_tax_fen
        case idempotency_key, filed_by, filed_at, prompts_json, request_digest, parameters_id
    }
    public init(taxpayer_id: String, return_id: String, version: Int, section: String, period: String, case_json: String,
                determination_json: String, computed_tax_fen: Int64, relief_fen: Int64, declared_tax_fen: Int64?,
                idempotency_key: String?, filed_by: String, filed_at: String, prompts_json: String = "[]", request_digest: String? = nil) {
        self.taxpayer_id = taxpayer_id; self.return_id = return_id; self.version = version; self.section = section
        self.period = period; self.case_json = case_json; self.determination_json = determination_json
        self.computed_tax_fen = computed_tax_fen; self.relief_fen = relief_fen; self.declared_tax_fen = declared_tax_fen
        self.idempotency_key = idempotency_key; self.filed_by = filed_by; self.filed_at = filed_at; self.prompts_json = prompts_json
        self.request_digest = request_digest
    }
}

/// The current version of one return, as the filing prompts read it.
public struct FiledPeriod: Sendable, Equatable {
    public let returnID: String, period: String, version: Int, caseJSON: String
}

/// One entry of the audit log: who, when, what, from where.
public struct AuditRow: Codable, Sendable {
    public var id: String, at: String, user_id: String?, action: String, object: String, detail: String, remote: String?
    public init(id: String, at: String, user_id: String?, action: String, object: String, detail: String, remote: String?) {
        self.id = id; self.at = at; self.user_id = user_id; self.action = action; self.object = object; self.detail = detail; self.remote = remote
    }
}

/// Schema-level queries. Knows tables and SQL, nothing of HTTP or of who may do what (that is HuiqiServices).
public struct Store: Sendable {
    /// Where the store's statements go.
    private enum Source: Sendable {
        /// One database for every statement: a job's, a transaction's, SQLite's.
        case fixed(any SQLDatabase, (any Database)?)
        /// The connection pool of the event loop the caller runs on (the server on PostgreSQL). A database value is
        /// bound to one event loop's pool: one made once at start-up sent every request's statements through that loop
        /// and its connections alone, whatever `--database-connections` said for the others.
        case perEventLoop(EventLoopDatabases)
    }
    private let source: Source
    /// True on PostgreSQL. Stored: the statements that differ by database ask it on every call.
    let isPostgres: Bool
    /// The server's statements on PostgreSQL that go together when they arrive together (`StatementBatcher`); nil
    /// elsewhere.
    let batchers: FilingBatchers?
    public var db: any SQLDatabase {
        switch source {
        case .fixed(let db, _): db
        case .perEventLoop(let loops): loops.current.sql
        }
    }
    /// The Fluent database, for transactions.
    var database: (any Database)? {
        switch source {
        case .fixed(_, let database): database
        case .perEventLoop(let loops): loops.current.database
        }
    }
    public init(_ database: any Database) { self.init(sql: sql(database), database: database) }
    public init(sql: any SQLDatabase) { self.init(sql: sql, database: nil) }
    private init(sql: any SQLDatabase, database: (any Database)?) {
        source = .fixed(sql, database)
        isPostgres = sql.dialect.name == "postgresql"
        batchers = nil
    }
    /// A store whose every statement uses the pool of the caller's event loop (see `Source.perEventLoop`).
    /// `onFilingWrite` hears of every statement that writes filings (`BatchedStatement`), for the metrics.
    public init(databases: Databases, eventLoops: any EventLoopGroup, logger: Logger,
                onFilingWrite: @escaping @Sendable (BatchedStatement) -> Void = { _ in }) {
        let loops = EventLoopDatabases(databases: databases, group: eventLoops, logger: logger)
        source = .perEventLoop(loops)
        isPostgres = loops.current.sql.dialect.name == "postgresql"
        batchers = isPostgres ? FilingBatchers(postgres: {
            guard let postgres = loops.current.database as? any PostgresDatabase else { throw StoreError.noTransactions }
            return postgres
        }, home: {
            let loop = eventLoops.any()
            return loop.inEventLoop ? loop : nil
        }, logger: logger, observe: onFilingWrite) : nil
    }

    /// One database value per event loop of the group, made once. Making one (`Databases.database`) builds the
    /// driver's context anew; made on every statement it cost about a tenth of the server's time per filing
    /// (docs/performance.md, "The filing's statements alone").
    private final class EventLoopDatabases: Sendable {
        struct Entry: Sendable { let database: any Database, sql: any SQLDatabase }
        private let entries: [ObjectIdentifier: Entry]
        private let databases: Databases, group: any EventLoopGroup, logger: Logger

        init(databases: Databases, group: any EventLoopGroup, logger: Logger) {
            self.databases = databases; self.group = group; self.logger = logger
            var entries: [ObjectIdentifier: Entry] = [:]
            for loop in group.makeIterator() {
                entries[ObjectIdentifier(loop)] = Self.entry(databases.database(logger: logger, on: loop)!)
            }
            self.entries = entries
        }

        /// The caller's own event loop's database when it runs on one (the server's tasks do, `huiqi serve`), so a
        /// statement's reply is handled on the thread that waits for it; otherwise the next loop's in turn. A group
        /// that cannot list its loops (NIO's iterator is optional) gets a database made for the call, as before.
        var current: Entry {
            let loop = group.any()
            return entries[ObjectIdentifier(loop)] ?? Self.entry(databases.database(logger: logger, on: loop)!)
        }

        private static func entry(_ database: any Database) -> Entry { Entry(database: database, sql: sql(database)) }
    }

    // MARK: offices
    public func insert(offices: [OfficeRow]) async throws {
        for chunk in offices.chunked(500) { try await db.insert(into: "offices").models(Array(chunk), nilEncodingStrategy: .asNil).run() }
    }
    public func office(_ id: String) async throws -> OfficeRow? {
        try await db.select().columns("*").from("offices").where("id", .equal, id).first(decoding: OfficeRow.self)
    }
    /// Office names by id, for the offices given (pages show names, not codes).
    public func officeNames(_ ids: Set<String>) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var names: [String: String] = [:]
        for row in try await db.select().columns("id", "name").from("offices").where("id", .in, Array(ids)).all() {
            names[try row.decode(column: "id", as: String.self)] = try row.decode(column: "name", as: String.self)
        }
        return names
    }
    // MARK: taxpayers
    public func insert(taxpayers: [TaxpayerRow]) async throws {
        for chunk in taxpayers.chunked(300) { try await db.insert(into: "taxpayers").models(Array(chunk), nilEncodingStrategy: .asNil).run() }
    }
    public func taxpayer(_ id: String) async throws -> TaxpayerRow? {
        try await db.select().columns("*").from("taxpayers").where("id", .equal, id).first(decoding: TaxpayerRow.self)
    }
    /// The taxpayers with these credit codes, in credit-code order (one query for a user's bound taxpayers).
    public func taxpayers(ids: [String]) async throws -> [TaxpayerRow] {
        guard !ids.isEmpty else { return [] }
        return try await db.select().columns("*").from("taxpayers").where("id", .in, ids).orderBy("id").all(decoding: TaxpayerRow.self)
    }
    /// Taxpayers of the given offices (nil: of every office), optionally filtered by a credit-code prefix or a
    /// name fragment.
    public func taxpayers(inOffices offices: Set<String>?, search: String?, limit: Int) async throws -> [TaxpayerRow] {
        var q = db.select().columns("*").from("taxpayers")
        if let offices { q = q.where("office_id", .in, Array(offices)) }
        if let search, !search.isEmpty {
            q = q.where { $0.where("id", .like, "\(search)%").orWhere("name", .like, "%\(search)%") }
        }
        return try await q.orderBy("id").limit(limit).all(decoding: TaxpayerRow.self)
    }

    // MARK: returns (append-only)
    // Every read of versions goes through `withParameters`: a version stored with its list apart is read as if the
    // list were inline.
    public func versions(taxpayer: String, returnID: String) async throws -> [ReturnVersionRow] {
        try await withParameters(try await db.select().columns("*").from("return_versions").where("taxpayer_id", .equal, taxpayer)
            .where("return_id", .equal, returnID).orderBy("version").all(decoding: ReturnVersionRow.self))
    }
    public func version(taxpayer: String, idempotencyKey: String) async throws -> ReturnVersionRow? {
        try await withParameters(try await db.select().columns("*").from("return_versions").where("taxpayer_id", .equal, taxpayer)
            .where("idempotency_key", .equal, idempotencyKey).all(decoding: ReturnVersionRow.self)).first
    }
    /// The current (highest) version of every return of a taxpayer.
    public func currentReturns(taxpayer: String) async throws -> [ReturnVersionRow] {
        try await withParameters(try await db.raw("""
            SELECT r.* FROM current_returns c JOIN return_versions r
              ON r.taxpayer_id = c.taxpayer_id AND r.return_id = c.return_id AND r.version = c.version
            WHERE c.taxpayer_id = \(bind: taxpayer) ORDER BY r.return_id
            """).all(decoding: ReturnVersionRow.self))
    }

    // MARK: parameter lists (migration 025)
    /// Stores a list of parameter versions in force under `id`, the SHA-256 of `json` (`ParameterList`). Storing it
    /// again is a no-op, so concurrent filers may both store it.
    public func saveParameterList(id: String, json: String) async throws {
        try await db.raw("INSERT INTO parameter_lists (id, list_json) VALUES (\(bind: id), \(bind: json)) ON CONFLICT (id) DO NOTHING").run()
    }

    /// `rows` with each list stored apart put back into its determination, as `ParameterList.inline` does at filing.
    func withParameters(_ rows: [ReturnVersionRow]) async throws -> [ReturnVersionRow] {
        let ids = Set(rows.compactMap(\.parameters_id))
        guard !ids.isEmpty else { return rows }
        var lists: [String: String] = [:]
        for row in try await db.select().columns("id", "list_json").from("parameter_lists").where("id", .in, Array(ids)).all() {
            lists[try row.decode(column: "id", as: String.self)] = try row.decode(column: "list_json", as: String.self)
        }
        return try rows.map { r in
            guard let id = r.parameters_id else { return r }
            guard let list = lists[id] else { throw StoreError.missingParameterList(id) }
            var shown = r
            shown.determination_json = ParameterList.inline(list, into: r.determination_json)
            return shown
        }
    }

    /// The current version of each return of one section whose period is in `year` (EIT quarters, VAT periods),
    /// with the columns the prompts read.
    public func currentReturns(taxpayer: String, section: String, year: Int) async throws -> [FiledPeriod] {
        try await db.select().columns("return_id", "period", "version", "case_json").from("current_returns")
            .where("taxpayer_id", .equal, taxpayer).where("section", .equal, section).where("period", .like, "\(year)%")
            .orderBy("return_id").all().map { row in
                FiledPeriod(returnID: try row.decode(column: "return_id", as: String.self), period: try row.decode(column: "period", as: String.self),
                            version: try row.decode(column: "version", as: Int.self), caseJSON: try row.decode(column: "case_json", as: String.self))
            }
    }

    /// Appends the next version of a return and its audit entry atomically, and returns the version number.
    /// The version comes from the `current_returns` pointer, advanced by an upsert whose row lock serializes
    /// concurrent corrections of the same return. On PostgreSQL the three writes are one prepared statement (one
    /// round trip, one commit: `AppendVersionStatement`), and in the server filings that arrive together share one
    /// (`FilingBatchers`); SQLite cannot nest writes in a WITH, so it runs them in a transaction.
    public func appendVersion(_ r: ReturnVersionRow, auditID: String, remote: String?, detail: String) async throws -> Int {
        if let batchers {
            return try await batchers.versions.submit(AppendVersionsStatement.Filing(row: r, auditID: auditID, remote: remote, detail: detail))
        }
        if let postgres = postgresDatabase {
            return try await Self.appendVersion(AppendVersionsStatement.Filing(row: r, auditID: auditID, remote: remote, detail: detail), on: postgres, logger: logger)
        }
        let object = "\(r.taxpayer_id)/\(r.return_id)/v"
        let advance: SQLQueryString = """
            INSERT INTO current_returns (taxpayer_id, return_id, section, period, version, case_json, screening, computed_tax_fen, declared_tax_fen)
            VALUES (\(bind: r.taxpayer_id), \(bind: r.return_id), \(bind: r.section), \(bind: r.period), 1, \(bind: r.case_json), \(bind: r.screening),
                    \(bind: r.computed_tax_fen), \(bind: r.declared_tax_fen))
            ON CONFLICT (taxpayer_id, return_id) DO UPDATE SET version = current_returns.version + 1, case_json = excluded.case_json,
                screening = excluded.screening, computed_tax_fen = excluded.computed_tax_fen, declared_tax_fen = excluded.declared_tax_fen
            RETURNING version
            """
        @Sendable func insertVersion(_ version: SQLQueryString) -> SQLQueryString {
            """
            INSERT INTO return_versions (taxpayer_id, return_id, version, section, period, case_json, determination_json,
                computed_tax_fen, relief_fen, declared_tax_fen, idempotency_key, filed_by, filed_at, prompts_json, request_digest, parameters_id)
            SELECT \(bind: r.taxpayer_id), \(bind: r.return_id), \(version), \(bind: r.section), \(bind: r.period),
                \(bind: r.case_json), \(bind: r.determination_json), \(bind: r.computed_tax_fen), \(bind: r.relief_fen),
                \(bind: r.declared_tax_fen), \(bind: r.idempotency_key), \(bind: r.filed_by), \(bind: r.filed_at), \(bind: r.prompts_json),
                \(bind: r.request_digest), \(bind: r.parameters_id)
            """
        }
        guard let database else { throw StoreError.noTransactions }
        return try await Store.serializingAudit(db) {
            try await database.transaction { tx in
                let db = sql(tx)
                let version = try await db.raw(advance).first()!.decode(column: "version", as: Int.self)
                try await db.raw(insertVersion("\(bind: version)")).run()
                try await Store.insertAudit(AuditRow(id: auditID, at: r.filed_at, user_id: r.filed_by,
                    action: version == 1 ? "file_return" : "correct_return", object: "\(object)\(version)", detail: detail, remote: remote), on: db)
                return version
            }
        }
    }

    /// One filing's version and audit entry on PostgreSQL (`AppendVersionStatement`), and its version.
    static func appendVersion(_ filing: AppendVersionsStatement.Filing, on postgres: any PostgresDatabase, logger: Logger) async throws -> Int {
        let rows = try await runPrepared(AppendVersionStatement(row: filing.row, auditID: filing.auditID, remote: filing.remote, detail: filing.detail),
                                         on: postgres, logger: logger)
        guard let version = rows.first else { throw StoreError.malformedPage }
        return Int(version)
    }

    /// Several filings' versions and audit entries in one statement and one commit (`AppendVersionsStatement`), each
    /// filing's version in the order given. All or nothing: a filing the statement refuses (a duplicate idempotency
    /// key) refuses them all. No two filings may be of one return.
    static func appendVersions(_ filings: [AppendVersionsStatement.Filing], on postgres: any PostgresDatabase, logger: Logger) async throws -> [Int] {
        // In key order, so that statements running at once lock the pointers they share in the same order.
        let order = filings.indices.sorted { (filings[$0].row.taxpayer_id, filings[$0].row.return_id) < (filings[$1].row.taxpayer_id, filings[$1].row.return_id) }
        let rows = try await runPrepared(AppendVersionsStatement(filings: order.map { filings[$0] }), on: postgres, logger: logger)
        var versions = [Int?](repeating: nil, count: filings.count)
        for (n, version) in rows where n >= 1 && n <= order.count { versions[order[Int(n) - 1]] = Int(version) }
        guard versions.allSatisfy({ $0 != nil }) else { throw StoreError.malformedPage }
        return versions.map { $0! }
    }

    /// Bulk load of first versions (the demo): the versions and their `current_returns` pointers.
    public func insert(versions: [ReturnVersionRow]) async throws {
        for chunk in versions.chunked(200) {
            try await db.insert(into: "return_versions").models(Array(chunk), nilEncodingStrategy: .asNil).run()
            let pointers = db.insert(into: "current_returns").columns("taxpayer_id", "return_id", "section", "period", "version", "case_json", "screening",
                                                                       "computed_tax_fen", "declared_tax_fen")
            for r in chunk {
                pointers.values(SQLBind(r.taxpayer_id), SQLBind(r.return_id), SQLBind(r.section), SQLBind(r.period), SQLBind(r.version), SQLBind(r.case_json),
                                SQLBind(r.screening), SQLBind(r.computed_tax_fen), SQLBind(r.declared_tax_fen))
            }
            try await pointers.run()
        }
    }

    /// Rows of `columns` values that fit in one SQLite statement (at most 32,766 bound values; 30,000 kept).
    static func rowsPerStatement(columns: Int) -> Int { max(1, 30_000 / max(columns, 1)) }

    /// Loads rows of text (empty: NULL; `Store.emptyText`: the empty text) into a table in one transaction, many rows per statement: bulk loads
    /// (the benchmark population) without a round trip per row.
    public func bulkInsert(table: String, columns: [String], rows: [[String]]) async throws {
        guard let database else { throw StoreError.noTransactions }
        let perStatement = Self.rowsPerStatement(columns: columns.count)
        try await database.transaction { tx in
            let db = sql(tx)
            for chunk in rows.chunked(perStatement) {
                let insert = db.insert(into: table).columns(columns)
                for row in chunk { insert.values(row.map { $0 == Self.emptyText ? SQLBind("") : $0.isEmpty ? SQLLiteral.null as any SQLExpression : SQLBind($0) }) }
                try await insert.run()
            }
        }
    }

    // MARK: VAT filing frequency (纳税期限), one per taxpayer and year
    public func insert(frequencies: [(taxpayer: String, year: Int, frequency: String)]) async throws {
        for chunk in frequencies.chunked(300) {
            let builder = db.insert(into: "vat_filing_frequencies").columns("taxpayer_id", "year", "frequency")
            for f in chunk { builder.values(SQLBind(f.taxpayer), SQLBind(f.year), SQLBind(f.frequency)) }
            try await builder.run()
        }
    }
    /// Every registered year's frequency, by year.
    public func vatFrequencies(taxpayer: String) async throws -> [Int: String] {
        let rows = try await db.select().columns("year", "frequency").from("vat_filing_frequencies").where("taxpayer_id", .equal, taxpayer).all()
        var out: [Int: String] = [:]
        for r in rows { out[try r.decode(column: "year", as: Int.self)] = try r.decode(column: "frequency", as: String.self) }
        return out
    }
    /// `monthly` or `quarterly`, or nil when the registry holds nothing for that year.
    public func vatFrequency(taxpayer: String, year: Int) async throws -> String? {
        try await db.select().column("frequency").from("vat_filing_frequencies").where("taxpayer_id", .equal, taxpayer)
            .where("year", .equal, year).first()?.decode(column: "frequency", as: String.self)
    }

    // MARK: audit
    public func audit(_ row: AuditRow) async throws {
        try await writeAudited(row) { _ in }
    }

    /// Runs `body` and appends its audit entry in one transaction: both are written or neither. A constraint
    /// the database enforces (a unique key another writer took first) comes back as `StoreError.constraint`.
    public func writeAudited(_ audit: AuditRow, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        guard let database else { throw StoreError.noTransactions }
        do {
            try await Store.serializingAudit(db) {
                try await database.transaction { tx in
                    let db = sql(tx)
                    try await body(db)
                    try await Store.insertAudit(audit, on: db)
                }
            }
        } catch let e as any DatabaseError where e.isConstraintFailure {
            throw StoreError.constraint
        }
    }

    /// SQLite writers that append to the audit chain take one process-wide lock (SQLite is embedded: one process).
    /// PostgreSQL places its entries after commit instead (`chainAudit`).
    static func serializingAudit<T: Sendable>(_ db: any SQLDatabase, _ body: () async throws -> T) async throws -> T {
        db.dialect.name == "postgresql" ? try await body() : try await sqliteAuditLock.run(body)
    }
    static let sqliteAuditLock = AsyncLock()
    public func auditCount(action: String) async throws -> Int {
        let row = try await db.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from("audit_log").where("action", .equal, action).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }
    public func count(_ table: String) async throws -> Int {
        let row = try await db.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(table).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }
}

public enum StoreError: Error, Equatable {
    case noTransactions
    /// The database refused a write by a constraint (a unique key another writer took first).
    case constraint
    /// An answer of the database could not be read as expected (a bug, never bad input): a page it assembled as
    /// text, or a prepared statement's rows (`Store+Filing.swift`).
    case malformedPage
    /// A version names a parameter list (`parameters_id`) the database does not hold: the filer stores the list
    /// before any version names it, so this is damage to the database, never bad input.
    case missingParameterList(String)
}

extension Array {
    func chunked(_ n: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: n).map { self[$0..<Swift.min($0 + n, count)] }
    }
}
