import FluentPostgresDriver

/// The database's share of a filing, as a pgbench script: the two prepared statements an API filing runs on
/// PostgreSQL (`FilingContextStatement` with the token's user, `AppendVersionStatement`), with the values of filings
/// already made, and no HTTP server in the way. `scripts/loadcheck` runs it beside pgbench's own TPC-B-like
/// transaction, so the filing API's rate can be read against the rate its statements alone reach on the same
/// database (docs/performance.md, "The filing's statements alone").
///
/// The statements are the ones filing runs, taken from their types, so the script cannot drift from them. Each
/// parameter becomes a pgbench variable cast to the type the statement declares; pgbench's `-M prepared` then
/// prepares each statement once per connection, as filing does.
public enum FilingStatementsScript {
    /// The table of samples the script draws from: one row per version in `return_versions` whose idempotency key
    /// begins with `keyPrefix` (the load check's filings), with each statement's parameters as columns.
    public static func setupSQL(keyPrefix: String) -> String { setupStatements(keyPrefix: keyPrefix).map { $0 + ";\n" }.joined() }

    /// `setupSQL` statement by statement.
    public static func setupStatements(keyPrefix: String) -> [String] {
        let prefix = keyPrefix.replacingOccurrences(of: "'", with: "''")
        return ["SET client_min_messages = warning", "DROP TABLE IF EXISTS filing_samples", """
            CREATE TABLE filing_samples AS
            SELECT CAST(row_number() OVER (ORDER BY r.taxpayer_id, r.return_id, r.version) AS INTEGER) AS n,
              (SELECT token_hash FROM api_tokens ORDER BY expires_at DESC LIMIT 1) AS token_hash,
              '0000-01-01T00:00:00Z' AS now,
              r.taxpayer_id, CAST(substr(r.period, 1, 4) AS INTEGER) AS frequency_year, r.section,
              substr(r.period, 1, 4) || '%' AS year_pattern, r.return_id,
              r.section || ':' || substr(r.period, 1, 4) AS range_from,
              r.section || ':' || CAST(CAST(substr(r.period, 1, 4) AS INTEGER) + 1 AS TEXT) AS range_to,
              r.period, r.case_json, COALESCE(c.screening, '') AS screening, r.computed_tax_fen,
              -- pgbench cannot pass a NULL: an undeclared tax is sent as the computed one (the same width).
              COALESCE(r.declared_tax_fen, r.computed_tax_fen) AS declared_tax_fen, r.determination_json, r.relief_fen,
              r.filed_by, r.filed_at, r.prompts_json, COALESCE(r.request_digest, '') AS request_digest,
              r.taxpayer_id || '/' || r.return_id || '/v' AS audit_object, 'pgbench' AS audit_detail, '127.0.0.1' AS remote,
              r.parameters_id
            FROM return_versions r JOIN current_returns c ON c.taxpayer_id = r.taxpayer_id AND c.return_id = r.return_id
            -- Filings since migration 025 only: one made before stored its parameter list inline.
            WHERE r.idempotency_key LIKE '\(prefix)%' AND r.parameters_id IS NOT NULL
            """, "ALTER TABLE filing_samples ADD PRIMARY KEY (n)"]
    }

    /// The pgbench script of one filing. `-D samples=N` gives the number of rows of `filing_samples`.
    public static var pgbench: String {
        // Unique per transaction: the idempotency key and the audit entry's id.
        let unique = ["idempotency_key": "k", "audit_id": "a"]
        func variable(_ name: String) -> String { unique[name] ?? name }
        let context = statement(FilingContextStatement.sql, FilingContextStatement.bindingDataTypes,
                                ["taxpayer_id", "frequency_year", "section", "year_pattern", "return_id", "range_from", "range_to",
                                 "token_hash", "now"])
        let append = statement(AppendVersionStatement.sql, AppendVersionStatement.bindingDataTypes,
                               ["taxpayer_id", "return_id", "section", "period", "case_json", "screening", "computed_tax_fen",
                                "declared_tax_fen", "determination_json", "relief_fen", "idempotency_key", "filed_by", "filed_at",
                                "prompts_json", "request_digest", "audit_id", "audit_object", "audit_detail", "remote", "parameters_id"].map(variable))
        return """
            \\set n random(1, :samples)
            \\set k random(1, 9000000000000000000)
            \\set a random(1, 9000000000000000000)
            SELECT * FROM filing_samples WHERE n = :n \\gset
            \(context);
            \(append);

            """
    }

    /// `sql` with each `$i` replaced by `(:variable)::type`, on one line (pgbench reads a statement to its `;`).
    static func statement(_ sql: String, _ types: [PostgresDataType], _ variables: [String]) -> String {
        precondition(types.count == variables.count, "one variable per parameter")
        var text = sql
        // From the highest number down, so that replacing $1 does not touch $10–$19.
        for i in stride(from: types.count, through: 1, by: -1) {
            let type = switch types[i - 1] { case .int4: "integer"; case .int8: "bigint"; default: "text" }
            text = text.replacingOccurrences(of: "$\(i)", with: "CAST(:\(variables[i - 1]) AS \(type))")
        }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
