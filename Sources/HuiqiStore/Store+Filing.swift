import FluentPostgresDriver
import Foundation
import NIOCore

/// What filing reads before it writes: the taxpayer, its VAT filing frequency (纳税期限) for the return's year, the
/// section's returns already filed that year (for the prompts) and the credit state (for 抵顶).
public struct FilingContext: Sendable, Equatable {
    /// nil: no taxpayer has this id.
    public let taxpayer: TaxpayerRow?
    /// `monthly` or `quarterly`; nil when the registry holds none for the year asked, or none was asked.
    public let vatFrequency: String?
    /// The current version of each return of the section whose period lies in the year, in return-id order.
    public let filedThisYear: [FiledPeriod]
    public let credit: CreditState
    /// The answer for an id no taxpayer has.
    static let noTaxpayer = FilingContext(taxpayer: nil, vatFrequency: nil, filedThisYear: [],
                                          credit: CreditState(balanceFen: 0, appliedFen: 0, selfCredited: false))
}

/// A taxpayer's overpayment credit for one tax, as filing sees it before writing a return.
public struct CreditState: Sendable, Equatable {
    /// The ledger's balance for the tax (fen, ≥ 0).
    public let balanceFen: Int64
    /// What earlier versions of this return already offset (fen).
    public let appliedFen: Int64
    /// True when the return itself was credited by a notice: a return never offsets its own credit.
    public let selfCredited: Bool
}

/// What an API filing reads before it writes: the user of its bearer token (nil: unknown or expired, or not asked)
/// and the filing context.
public struct FilingRead: Sendable, Equatable {
    public let user: UserRow?
    public let context: FilingContext
    /// Neither a user nor a taxpayer.
    static let nothing = FilingRead(user: nil, context: .noTaxpayer)
}

/// Filing's statements on PostgreSQL are named prepared statements (PostgresNIO's `PostgresPreparedStatement`): each
/// connection parses and plans one once, and every later filing only binds and executes it. Through SQLKit every
/// statement was sent unnamed, so parsed and planned on every filing (docs/performance.md, "Filing at the
/// database's speed"). SQLite runs the same reads as separate statements: it is embedded, a statement costs no
/// round trip.
extension Store {
    /// Everything filing reads before it writes, for the return `returnID` of `section` in `year`. On PostgreSQL
    /// one statement, one round trip (in the server shared by the filings that arrive together, `FilingBatchers`);
    /// `vatYear` asks for the VAT filing frequency of that year.
    public func filingContext(taxpayer id: String, section: String, year: Int, returnID: String, vatYear: Int?) async throws -> FilingContext {
        try await filingRead(FilingContextStatement(taxpayer: id, frequencyYear: vatYear ?? 0, section: section, year: year, returnID: returnID)).context
    }

    /// `filingContext` and the user of a bearer token not checked yet (`user(tokenHash:now:)`): on PostgreSQL in the
    /// same statement, so an API filing reads all it needs before it writes in one round trip, not two
    /// (docs/performance.md, "The token's user read with the filing context"). `user` is nil for a token unknown or
    /// expired, and the context must then not be used (SQLite does not read it).
    public func filingContext(tokenHash: String, now: String, taxpayer id: String, section: String, year: Int, returnID: String,
                              vatYear: Int?) async throws -> FilingRead {
        let statement = FilingContextStatement(taxpayer: id, frequencyYear: vatYear ?? 0, section: section, year: year, returnID: returnID,
                                               tokenHash: tokenHash, now: now)
        // Without PostgreSQL, `filingRead` reads no user: the token first, then the context.
        guard batchers != nil || postgresDatabase != nil else {
            guard let user = try await user(tokenHash: tokenHash, now: now) else { return FilingRead.nothing }
            return FilingRead(user: user, context: try await filingRead(statement).context)
        }
        return try await filingRead(statement)
    }

    /// The statement's answer: on PostgreSQL the statement itself, grouped in the server; elsewhere separate reads
    /// (SQLite is embedded, a statement costs no round trip), without the token's user.
    private func filingRead(_ statement: FilingContextStatement) async throws -> FilingRead {
        if let batchers { return try await batchers.contexts.submit(statement) }
        if let postgres = postgresDatabase {
            return try await Self.runPrepared(statement, on: postgres, logger: logger).first ?? FilingRead.nothing
        }
        let id = statement.taxpayer
        let taxpayer = try await self.taxpayer(id)
        guard taxpayer != nil else { return FilingRead.nothing }
        var frequency: String?
        if statement.frequencyYear != 0 { frequency = try await vatFrequency(taxpayer: id, year: statement.frequencyYear) }
        return FilingRead(user: nil, context: FilingContext(
            taxpayer: taxpayer, vatFrequency: frequency,
            filedThisYear: try await currentReturns(taxpayer: id, section: statement.section, year: statement.year),
            credit: try await creditState(taxpayer: id, tax: statement.section, returnID: statement.returnID)))
    }

    /// The user of a token that has not expired at `now` (ISO text compares in time order). Every API request asks
    /// it, so on PostgreSQL it is a prepared statement, in the server shared by the requests that arrive together.
    public func user(tokenHash: String, now: String) async throws -> UserRow? {
        if let batchers { return try await batchers.users.submit(TokenUserStatement(tokenHash: tokenHash, now: now)) }
        if let postgres = postgresDatabase {
            return try await Self.runPrepared(TokenUserStatement(tokenHash: tokenHash, now: now), on: postgres, logger: logger).first
        }
        return try await db.raw("""
            SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = \(bind: tokenHash) AND t.expires_at > \(bind: now)
            """).first(decoding: UserRow.self)
    }

    /// The PostgreSQL database behind the store, when it is one and is not a transaction's connection.
    var postgresDatabase: (any PostgresDatabase)? { isPostgres ? database as? any PostgresDatabase : nil }

    var logger: Logger { database?.logger ?? Store.fallbackLogger }
    static let fallbackLogger = Logger(label: "huiqi-store")

    /// Runs a prepared statement on a connection of the pool and collects its rows.
    static func runPrepared<S: PostgresPreparedStatement>(_ statement: S, on postgres: any PostgresDatabase, logger: Logger) async throws -> [S.Row]
        where S.Row: Sendable
    {
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                var rows: [S.Row] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
        }.get()
    }
}

extension Store {
    /// The database answered the statement with an error, so it rolled back: it may be run again. A connection lost
    /// or not had in time leaves that unknown.
    @Sendable static func refusedByTheDatabase(_ error: any Error) -> Bool { (error as? PSQLError)?.code == .server }
}

/// The statements of an API filing that go together on PostgreSQL when requests arrive together (`StatementBatcher`):
/// the token's user (of any other API request), the filing context with the token's user, and the write. One
/// statement of each at the database at a time, each of at most 64 inputs (docs/performance.md, "Filings written
/// together" and "One statement of each at a time").
struct FilingBatchers: Sendable {
    let users: StatementBatcher<TokenUserStatement, Never, UserRow?>
    let contexts: StatementBatcher<FilingContextStatement, Never, FilingRead>
    let versions: StatementBatcher<AppendVersionsStatement.Filing, String, Int>
    /// One in flight measured best: with two, groups were smaller (7.6 filings a write against 10.7) and each filing
    /// cost the machine more processor time; three or six did worse still. The price: every filing of this server
    /// waits behind the one write at the database, so a write held by a lock that another process keeps on a return
    /// holds up the filings behind it until that lock is released.
    static let maxBatch = 64, maxInFlight = 1

    /// `postgres`: the database of the caller's event loop; `home`: that loop, where each input is answered.
    init(postgres: @escaping @Sendable () throws -> any PostgresDatabase, home: @escaping @Sendable () -> (any EventLoop)?,
         logger: Logger, observe: @escaping @Sendable (BatchedStatement) -> Void) {
        users = StatementBatcher(maxBatch: Self.maxBatch, maxInFlight: Self.maxInFlight,
            many: { inputs in
                Self.inputOrder(try await Store.runPrepared(TokenUsersStatement(inputs: inputs), on: try postgres(), logger: logger),
                           count: inputs.count, missing: nil)
            },
            one: { try await Store.runPrepared($0, on: try postgres(), logger: logger).first }, runAlone: Store.refusedByTheDatabase, home: home)
        contexts = StatementBatcher(maxBatch: Self.maxBatch, maxInFlight: Self.maxInFlight,
            many: { inputs in
                Self.inputOrder(try await Store.runPrepared(FilingContextsStatement(inputs: inputs), on: try postgres(), logger: logger),
                           count: inputs.count, missing: FilingRead.nothing)
            },
            one: { try await Store.runPrepared($0, on: try postgres(), logger: logger).first ?? FilingRead.nothing },
            runAlone: Store.refusedByTheDatabase, home: home)
        versions = StatementBatcher(maxBatch: Self.maxBatch, maxInFlight: Self.maxInFlight, key: { "\($0.row.taxpayer_id)\u{1F}\($0.row.return_id)" },
            many: { filings in try await Store.appendVersions(filings, on: try postgres(), logger: logger) },
            one: { try await Store.appendVersion($0, on: try postgres(), logger: logger) },
            runAlone: Store.refusedByTheDatabase, observe: observe, home: home)
    }

    /// A grouped read's rows, which name their input by `n` (from 1), in input order; an input without a row gets
    /// `missing` (an unknown token, an unknown taxpayer).
    private static func inputOrder<Output>(_ rows: [(Int, Output)], count: Int, missing: Output) -> [Output] {
        var outputs = [Output](repeating: missing, count: count)
        for (n, output) in rows where n >= 1 && n <= count { outputs[n - 1] = output }
        return outputs
    }
}

/// `Store.filingContext` on PostgreSQL. The returns already filed come as four arrays from one scan of
/// `current_returns` (its key begins with the taxpayer). The token's user comes in the same row (`tokenHash` empty:
/// none asked); the row is there whether or not the taxpayer or the token exists.
struct FilingContextStatement: PostgresPreparedStatement {
    static let name = "huiqi_filing_context_v3"
    static let sql = """
        SELECT \(userColumns), t.id, t.name, t.kind, t.vat_status, t.industry, t.restricted_industry, t.region, t.office_id, t.registered_on,
          t.deregistered_on,
          (SELECT frequency FROM vat_filing_frequencies f WHERE f.taxpayer_id = t.id AND f.year = $2) AS frequency,
          e.ids, e.periods, e.versions, e.cases,
          (SELECT balance_fen FROM ledger_entries l WHERE l.taxpayer_id = t.id AND l.tax = $3 ORDER BY l.seq DESC LIMIT 1) AS balance,
          (SELECT CAST(COALESCE(SUM(-amount_fen), 0) AS BIGINT) FROM ledger_entries l
             WHERE l.taxpayer_id = t.id AND l.tax = $3 AND l.kind = 'offset' AND l.return_id = $5) AS applied,
          (SELECT COUNT(*) FROM notices n WHERE n.taxpayer_id = t.id AND n.return_id = $5 AND n.kind = 'overpayment') AS credited
        FROM (VALUES (1)) AS one (x)
        LEFT JOIN taxpayers t ON t.id = $1
        LEFT JOIN api_tokens k ON k.token_hash = $8 AND k.expires_at > $9
        LEFT JOIN users u ON u.id = k.user_id
        LEFT JOIN LATERAL (
          SELECT array_agg(c.return_id ORDER BY c.return_id) AS ids, array_agg(c.period ORDER BY c.return_id) AS periods,
                 array_agg(CAST(c.version AS BIGINT) ORDER BY c.return_id) AS versions, array_agg(c.case_json ORDER BY c.return_id) AS cases
          FROM current_returns c WHERE c.taxpayer_id = t.id AND c.return_id >= $6 AND c.return_id < $7 AND c.section = $3 AND c.period LIKE $4
        ) e ON true
        """
    /// The user's columns, named apart from the taxpayer's.
    static let userColumns = """
        u.id AS user_id, u.login AS user_login, u.password_hash AS user_password_hash, u.role AS user_role, u.office_id AS user_office_id,
          u.display_name AS user_display_name, u.auth_version AS user_auth_version
        """
    typealias Row = FilingRead
    static let bindingDataTypes: [PostgresDataType] = [.text, .int4, .text, .text, .text, .text, .text, .text, .text]
    let taxpayer: String, frequencyYear: Int, section: String, year: Int, returnID: String
    /// The SHA-256 of the bearer token and the time it must not have expired at (ISO text); empty: no user asked.
    var tokenHash = "", now = ""

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 9)
        b.append(taxpayer); b.append(Int32(clamping: frequencyYear)); b.append(section); b.append("\(year)%"); b.append(returnID)
        // The year's returns as a range of the key ($6 ≤ id < $7): a return's id is "section:period"
        // (`FilingService.Identity`), so the year's ids lie between "vat:2025" and "vat:2026", and the primary key finds
        // exactly the year's rows. Without it, statistics gathered while the table was small led the planner to AND the
        // taxpayer's key with every `section = 'vat'` entry of `current_returns_period`: 1.4 ms a filing, more than all
        // other statements of a filing together (docs/performance.md). `section` and `period` are still tested on each row.
        b.append("\(section):\(year)"); b.append("\(section):\(year + 1)")
        b.append(tokenHash); b.append(now)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> FilingRead { try Self.read(row.makeRandomAccess()) }

    /// A row of this statement or of `FilingContextsStatement`, by column name.
    static func read(_ r: PostgresRandomAccessRow) throws -> FilingRead {
        var user: UserRow?
        if let id = try r["user_id"].decode(String?.self) {
            user = UserRow(id: id, login: try r["user_login"].decode(String.self), password_hash: try r["user_password_hash"].decode(String.self),
                           role: try r["user_role"].decode(String.self), office_id: try r["user_office_id"].decode(String?.self),
                           display_name: try r["user_display_name"].decode(String.self), auth_version: try r["user_auth_version"].decode(Int64.self))
        }
        guard let id = try r["id"].decode(String?.self) else { return FilingRead(user: user, context: .noTaxpayer) }
        func text(_ column: String) throws -> String { try r[column].decode(String.self) }
        let taxpayer = TaxpayerRow(id: id, name: try text("name"), kind: try text("kind"), vat_status: try text("vat_status"),
                                   industry: try text("industry"), restricted_industry: try r["restricted_industry"].decode(Bool.self),
                                   region: try text("region"), office_id: try text("office_id"), registered_on: try text("registered_on"),
                                   deregistered_on: try r["deregistered_on"].decode(String?.self))
        let ids = try r["ids"].decode([String]?.self) ?? [], periods = try r["periods"].decode([String]?.self) ?? []
        let versions = try r["versions"].decode([Int64]?.self) ?? [], cases = try r["cases"].decode([String]?.self) ?? []
        guard periods.count == ids.count, versions.count == ids.count, cases.count == ids.count else { throw StoreError.malformedPage }
        let filed = ids.indices.map { FiledPeriod(returnID: ids[$0], period: periods[$0], version: Int(versions[$0]), caseJSON: cases[$0]) }
        return FilingRead(user: user, context: FilingContext(
            taxpayer: taxpayer, vatFrequency: try r["frequency"].decode(String?.self), filedThisYear: filed,
            credit: CreditState(balanceFen: try r["balance"].decode(Int64?.self) ?? 0, appliedFen: try r["applied"].decode(Int64.self),
                                selfCredited: try r["credited"].decode(Int64.self) > 0)))
    }
}

/// Several filings' `FilingContextStatement` as one statement (`StatementBatcher`): the inputs come as arrays, and
/// each row names its input by `n` (from 1). Every input has its row.
struct FilingContextsStatement: PostgresPreparedStatement {
    static let name = "huiqi_filing_contexts_v2"
    static let sql = """
        SELECT CAST(i.n AS BIGINT) AS n, \(FilingContextStatement.userColumns), t.id, t.name, t.kind, t.vat_status, t.industry,
          t.restricted_industry, t.region, t.office_id, t.registered_on, t.deregistered_on,
          (SELECT frequency FROM vat_filing_frequencies f WHERE f.taxpayer_id = t.id AND f.year = i.frequency_year) AS frequency,
          e.ids, e.periods, e.versions, e.cases,
          (SELECT balance_fen FROM ledger_entries l WHERE l.taxpayer_id = t.id AND l.tax = i.section ORDER BY l.seq DESC LIMIT 1) AS balance,
          (SELECT CAST(COALESCE(SUM(-amount_fen), 0) AS BIGINT) FROM ledger_entries l
             WHERE l.taxpayer_id = t.id AND l.tax = i.section AND l.kind = 'offset' AND l.return_id = i.return_id) AS applied,
          (SELECT COUNT(*) FROM notices n WHERE n.taxpayer_id = t.id AND n.return_id = i.return_id AND n.kind = 'overpayment') AS credited
        FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
          WITH ORDINALITY AS i(taxpayer_id, frequency_year, section, period_like, return_id, low, high, token_hash, now, n)
        LEFT JOIN taxpayers t ON t.id = i.taxpayer_id
        LEFT JOIN api_tokens k ON k.token_hash = i.token_hash AND k.expires_at > i.now
        LEFT JOIN users u ON u.id = k.user_id
        LEFT JOIN LATERAL (
          SELECT array_agg(c.return_id ORDER BY c.return_id) AS ids, array_agg(c.period ORDER BY c.return_id) AS periods,
                 array_agg(CAST(c.version AS BIGINT) ORDER BY c.return_id) AS versions, array_agg(c.case_json ORDER BY c.return_id) AS cases
          FROM current_returns c
          WHERE c.taxpayer_id = t.id AND c.return_id >= i.low AND c.return_id < i.high AND c.section = i.section AND c.period LIKE i.period_like
        ) e ON true
        """
    typealias Row = (Int, FilingRead)
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .int4Array, .textArray, .textArray, .textArray, .textArray, .textArray,
                                                        .textArray, .textArray]
    let inputs: [FilingContextStatement]

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 9)
        b.append(inputs.map(\.taxpayer)); b.append(inputs.map { Int32(clamping: $0.frequencyYear) }); b.append(inputs.map(\.section))
        b.append(inputs.map { "\($0.year)%" }); b.append(inputs.map(\.returnID))
        b.append(inputs.map { "\($0.section):\($0.year)" }); b.append(inputs.map { "\($0.section):\($0.year + 1)" })
        b.append(inputs.map(\.tokenHash)); b.append(inputs.map(\.now))
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> (Int, FilingRead) {
        let r = row.makeRandomAccess()
        return (Int(try r["n"].decode(Int64.self)), try FilingContextStatement.read(r))
    }
}

/// Several API requests' `TokenUserStatement` as one statement (`StatementBatcher`); each row names its input by `n`
/// (from 1), and a token unknown or expired has no row.
struct TokenUsersStatement: PostgresPreparedStatement {
    static let name = "huiqi_token_users_v1"
    static let sql = """
        SELECT CAST(i.n AS BIGINT), u.id, u.login, u.password_hash, u.role, u.office_id, u.display_name, u.auth_version
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(token_hash, now, n)
        JOIN api_tokens t ON t.token_hash = i.token_hash AND t.expires_at > i.now JOIN users u ON u.id = t.user_id
        """
    typealias Row = (Int, UserRow)
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .textArray]
    let inputs: [TokenUserStatement]

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 2)
        b.append(inputs.map(\.tokenHash)); b.append(inputs.map(\.now))
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> (Int, UserRow) {
        let (n, id, login, hash, role, office, display, version) = try row.decode((Int64, String, String, String, String, String?, String, Int64).self)
        return (Int(n), UserRow(id: id, login: login, password_hash: hash, role: role, office_id: office, display_name: display, auth_version: version))
    }
}

/// `Store.user(tokenHash:now:)` on PostgreSQL.
struct TokenUserStatement: PostgresPreparedStatement {
    static let name = "huiqi_token_user_v1"
    static let sql = """
        SELECT u.id, u.login, u.password_hash, u.role, u.office_id, u.display_name, u.auth_version
        FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.expires_at > $2
        """
    typealias Row = UserRow
    static let bindingDataTypes: [PostgresDataType] = [.text, .text]
    let tokenHash: String, now: String

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 2)
        b.append(tokenHash); b.append(now)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> UserRow {
        let (id, login, hash, role, office, display, version) = try row.decode((String, String, String, String, String?, String, Int64).self)
        return UserRow(id: id, login: login, password_hash: hash, role: role, office_id: office, display_name: display, auth_version: version)
    }
}

/// `Store.appendVersion` on PostgreSQL: the pointer advanced, the version and its audit entry, in one statement.
struct AppendVersionStatement: PostgresPreparedStatement {
    static let name = "huiqi_append_version_v2"
    static let sql = """
        WITH c AS (
          INSERT INTO current_returns (taxpayer_id, return_id, section, period, version, case_json, screening, computed_tax_fen, declared_tax_fen)
          VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8)
          ON CONFLICT (taxpayer_id, return_id) DO UPDATE SET version = current_returns.version + 1, case_json = excluded.case_json,
              screening = excluded.screening, computed_tax_fen = excluded.computed_tax_fen, declared_tax_fen = excluded.declared_tax_fen
          RETURNING version),
        v AS (
          INSERT INTO return_versions (taxpayer_id, return_id, version, section, period, case_json, determination_json,
              computed_tax_fen, relief_fen, declared_tax_fen, idempotency_key, filed_by, filed_at, prompts_json, request_digest, parameters_id)
          SELECT $1, $2, c.version, $3, $4, $5, $9, $7, $10, $8, $11, $12, $13, $14, $15, $20 FROM c
          RETURNING version),
        a AS (
          INSERT INTO audit_log (id, at, user_id, action, object, detail, remote)
          SELECT $16, $13, $12, CASE WHEN version = 1 THEN 'file_return' ELSE 'correct_return' END, $17 || version, $18, $19 FROM v)
        SELECT CAST(version AS BIGINT) FROM v
        """
    typealias Row = Int64
    /// Declared, not inferred from the first filing's values: a NULL there would leave a parameter's type to guessing.
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .text, .text, .text, .int8, .int8, .text, .int8,
                                                        .text, .text, .text, .text, .text, .text, .text, .text, .text, .text]
    let row: ReturnVersionRow, auditID: String, remote: String?, detail: String

    func makeBindings() throws -> PostgresBindings {
        let r = row
        var b = PostgresBindings(capacity: 20)
        b.append(r.taxpayer_id); b.append(r.return_id); b.append(r.section); b.append(r.period); b.append(r.case_json)
        b.append(r.screening); b.append(r.computed_tax_fen); b.append(r.declared_tax_fen); b.append(r.determination_json)
        b.append(r.relief_fen); b.append(r.idempotency_key); b.append(r.filed_by); b.append(r.filed_at); b.append(r.prompts_json)
        b.append(r.request_digest); b.append(auditID); b.append("\(r.taxpayer_id)/\(r.return_id)/v"); b.append(detail); b.append(remote)
        b.append(r.parameters_id)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// Several filings' `AppendVersionStatement` as one statement, one commit (`StatementBatcher`): each column comes as one
/// array, and `unnest` turns the arrays back into rows. The rows go in the order given, which the store sorts by
/// (taxpayer, return): two statements that advance the same pointers lock them in the same order. No return may
/// appear twice (`ON CONFLICT DO UPDATE` cannot change one row twice in a statement). Answers (n, version), n
/// counting the inputs from 1.
struct AppendVersionsStatement: PostgresPreparedStatement {
    static let name = "huiqi_append_versions_v1"
    static let sql = """
        WITH i AS (
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::text[], $10::int8[],
                               $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
            WITH ORDINALITY AS i(taxpayer_id, return_id, section, period, case_json, screening, computed_tax_fen, declared_tax_fen, determination_json,
                                 relief_fen, idempotency_key, filed_by, filed_at, prompts_json, request_digest, audit_id, object, detail, remote,
                                 parameters_id, n)),
        c AS (
          INSERT INTO current_returns (taxpayer_id, return_id, section, period, version, case_json, screening, computed_tax_fen, declared_tax_fen)
          SELECT taxpayer_id, return_id, section, period, 1, case_json, screening, computed_tax_fen, declared_tax_fen FROM i ORDER BY n
          ON CONFLICT (taxpayer_id, return_id) DO UPDATE SET version = current_returns.version + 1, case_json = excluded.case_json,
              screening = excluded.screening, computed_tax_fen = excluded.computed_tax_fen, declared_tax_fen = excluded.declared_tax_fen
          RETURNING taxpayer_id, return_id, version),
        iv AS (
          SELECT i.*, c.version FROM i JOIN c ON c.taxpayer_id = i.taxpayer_id AND c.return_id = i.return_id),
        v AS (
          INSERT INTO return_versions (taxpayer_id, return_id, version, section, period, case_json, determination_json,
              computed_tax_fen, relief_fen, declared_tax_fen, idempotency_key, filed_by, filed_at, prompts_json, request_digest, parameters_id)
          SELECT taxpayer_id, return_id, version, section, period, case_json, determination_json, computed_tax_fen, relief_fen, declared_tax_fen,
              idempotency_key, filed_by, filed_at, prompts_json, request_digest, parameters_id FROM iv
          RETURNING taxpayer_id, return_id),
        a AS (
          INSERT INTO audit_log (id, at, user_id, action, object, detail, remote)
          SELECT audit_id, filed_at, filed_by, CASE WHEN version = 1 THEN 'file_return' ELSE 'correct_return' END, object || version, detail, remote
          FROM iv)
        SELECT CAST(iv.n AS BIGINT), CAST(iv.version AS BIGINT) FROM iv JOIN v ON v.taxpayer_id = iv.taxpayer_id AND v.return_id = iv.return_id
        """
    typealias Row = (Int64, Int64)
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .textArray, .textArray, .textArray, .textArray, .textArray, .int8Array, .int8Array,
                                                        .textArray, .int8Array, .textArray, .textArray, .textArray, .textArray, .textArray, .textArray,
                                                        .textArray, .textArray, .textArray, .textArray]
    /// A filing's version and its audit entry's id, remote address and detail, as `Store.appendVersion` takes them.
    struct Filing: Sendable {
        let row: ReturnVersionRow, auditID: String, remote: String?, detail: String
    }
    let filings: [Filing]

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 20)
        func texts(_ value: (Filing) -> String?) { b.append(NullableArray(filings.map(value))) }
        func integers(_ value: (Filing) -> Int64?) { b.append(NullableArray(filings.map(value))) }
        texts { $0.row.taxpayer_id }; texts { $0.row.return_id }; texts { $0.row.section }; texts { $0.row.period }; texts { $0.row.case_json }
        texts { $0.row.screening }; integers { $0.row.computed_tax_fen }; integers { $0.row.declared_tax_fen }; texts { $0.row.determination_json }
        integers { $0.row.relief_fen }; texts { $0.row.idempotency_key }; texts { $0.row.filed_by }; texts { $0.row.filed_at }
        texts { $0.row.prompts_json }; texts { $0.row.request_digest }; texts { $0.auditID }
        texts { "\($0.row.taxpayer_id)/\($0.row.return_id)/v" }; texts { $0.detail }; texts { $0.remote }; texts { $0.row.parameters_id }
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> (Int64, Int64) { try row.decode((Int64, Int64).self) }
}

/// A one-dimensional PostgreSQL array whose elements may be NULL, in the binary format: PostgresNIO encodes arrays of
/// values only. An element's length −1 is NULL.
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }
    let elements: [Element?]
    init(_ elements: [Element?]) { self.elements = elements }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)  // dimensions
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)  // has NULLs
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))  // length of the one dimension
        buffer.writeInteger(1, as: Int32.self)  // its lower bound
        for element in elements {
            guard let element else { buffer.writeInteger(-1, as: Int32.self); continue }
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt)
        }
    }
}
