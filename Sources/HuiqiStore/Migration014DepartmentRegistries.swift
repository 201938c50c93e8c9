import Fluent
import SQLKit

/// Other departments' registries (部门数据比对, issue 10 §4): the market regulator's enterprise registrations
/// (市场监管) and 工信's small/medium classification (中小企业划型), as last imported, with the imports that
/// brought them. Kept apart from the tax registry: they are compared with it, never merged into it.
struct M014DepartmentRegistries: AsyncMigration {
    var name: String { "014_department_registries" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE registry_imports (
              id TEXT PRIMARY KEY,
              source TEXT NOT NULL CHECK (source IN ('market','sme')),
              sha256 TEXT NOT NULL,
              file_name TEXT NOT NULL,
              rows_read INTEGER NOT NULL,
              rows_changed INTEGER NOT NULL,
              imported_at TEXT NOT NULL,
              imported_by TEXT NOT NULL,
              UNIQUE (source, sha256)
            )
            """).run()
        try await db.raw("""
            CREATE TABLE market_entities (
              credit_code TEXT PRIMARY KEY CHECK (length(credit_code) = 18),
              name TEXT NOT NULL,
              entity_type TEXT NOT NULL CHECK (entity_type IN ('enterprise','individual_business','cooperative')),
              registered_on TEXT NOT NULL,
              deregistered_on TEXT,
              industry_section TEXT NOT NULL CHECK (length(industry_section) = 1),
              region TEXT NOT NULL CHECK (length(region) = 6),
              import_id TEXT NOT NULL REFERENCES registry_imports(id)
            )
            """).run()
        try await db.raw("CREATE INDEX market_entities_region ON market_entities(region)").run()
        try await db.raw("""
            CREATE TABLE sme_sizes (
              credit_code TEXT NOT NULL CHECK (length(credit_code) = 18),
              year INTEGER NOT NULL,
              size TEXT NOT NULL CHECK (size IN ('large','medium','small','micro')),
              import_id TEXT NOT NULL REFERENCES registry_imports(id),
              PRIMARY KEY (credit_code, year)
            )
            """).run()
        // The screening of a year looks up taxpayers' returns by period prefix.
        try await db.raw("CREATE INDEX current_returns_period ON current_returns(period, section)").run()
    }
    func revert(on database: any Database) async throws {
        try await sql(database).raw("DROP INDEX current_returns_period").run()
        for t in ["sme_sizes", "market_entities", "registry_imports"] { try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run() }
    }
}

public struct RegistryImportRow: Codable, Sendable, Equatable {
    public var id: String, source: String, sha256: String, file_name: String, rows_read: Int, rows_changed: Int
    public var imported_at: String, imported_by: String
    public init(id: String, source: String, sha256: String, file_name: String, rows_read: Int, rows_changed: Int, imported_at: String, imported_by: String) {
        self.id = id; self.source = source; self.sha256 = sha256; self.file_name = file_name; self.rows_read = rows_read
        self.rows_changed = rows_changed; self.imported_at = imported_at; self.imported_by = imported_by
    }
}

/// One enterprise as the market regulator registers it. `industry_section`: the 门类 letter of GB/T 4754
/// (国民经济行业分类), A to T.
public struct MarketEntityRow: Codable, Sendable, Equatable {
    public var credit_code: String, name: String, entity_type: String, registered_on: String, deregistered_on: String?
    public var industry_section: String, region: String
    public init(credit_code: String, name: String, entity_type: String, registered_on: String, deregistered_on: String?, industry_section: String,
                region: String) {
        self.credit_code = credit_code; self.name = name; self.entity_type = entity_type; self.registered_on = registered_on
        self.deregistered_on = deregistered_on; self.industry_section = industry_section; self.region = region
    }
}

/// One enterprise's size for a year under 《中小企业划型标准规定》, as 工信 classifies it.
public struct SMESizeRow: Codable, Sendable, Equatable {
    public var credit_code: String, year: Int, size: String
    public init(credit_code: String, year: Int, size: String) { self.credit_code = credit_code; self.year = year; self.size = size }
}

/// A row of a comparison finding, straight from the database: the registries' side and the tax side.
public struct ComparisonRow: Codable, Sendable, Equatable {
    public var credit_code: String, name: String
    public var entity_type: String?, registered_on: String?, deregistered_on: String?, industry_section: String?, region: String?
    public var tax_kind: String?, tax_industry: String?, tax_region: String?, tax_deregistered_on: String?, office_id: String?
    /// For `smeWithoutRelief`: the 工信 size, and the relief the law gives on the year's filed returns.
    public var size: String?, law_relief_fen: Int64?
}

extension Store {
    public func registryImport(source: String, sha256: String) async throws -> RegistryImportRow? {
        try await db.select().columns("*").from("registry_imports").where("source", .equal, source).where("sha256", .equal, sha256)
            .first(decoding: RegistryImportRow.self)
    }
    /// Rows per upsert statement: SQLite binds every value (8 columns × 4,000 stays under its 32,766); PostgreSQL
    /// takes a chunk as arrays (measured: 20,000 rows a statement).
    public var registryChunk: Int { db.dialect.name == "postgresql" ? 20_000 : 4_000 }

    public func insert(registryImport r: RegistryImportRow) async throws {
        try await db.insert(into: "registry_imports").model(r).run()
    }
    /// The counts of an import, known once its file is read (in the import's transaction).
    public func finish(registryImport id: String, rowsRead: Int, rowsChanged: Int) async throws {
        try await db.update("registry_imports").set("rows_read", to: rowsRead).set("rows_changed", to: rowsChanged).where("id", .equal, id).run()
    }
    public func registryImports(limit: Int = 50) async throws -> [RegistryImportRow] {
        try await db.select().columns("*").from("registry_imports").orderBy("imported_at", .descending).limit(limit).all(decoding: RegistryImportRow.self)
    }

    /// Inserts or updates market registrations; a row equal to the stored one is left alone (so a file imported
    /// again changes nothing). Returns how many rows were inserted or changed. Run inside the import's transaction.
    public func upsert(market rows: ArraySlice<MarketEntityRow>, importID: String) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        if db.dialect.name == "postgresql" { return try await upsertUnnesting(market: rows, importID: importID) }
        let insert = db.insert(into: "market_entities")
            .columns("credit_code", "name", "entity_type", "registered_on", "deregistered_on", "industry_section", "region", "import_id")
        for r in rows {
            insert.values(SQLBind(r.credit_code), SQLBind(r.name), SQLBind(r.entity_type), SQLBind(r.registered_on), SQLBind(r.deregistered_on),
                          SQLBind(r.industry_section), SQLBind(r.region), SQLBind(importID))
        }
        let columns = ["name", "entity_type", "registered_on", "deregistered_on", "industry_section", "region"]
        return try await written(insert, conflict: ["credit_code"], update: columns, unchangedImport: "market_entities")
    }

    /// PostgreSQL: the chunk as seven text arrays, one bind each, spread by `unnest` (a row of binds per
    /// enterprise cost a third of the importer's CPU in encoding and serialisation); the count of rows written is
    /// computed by the database instead of returning every row.
    private func upsertUnnesting(market rows: ArraySlice<MarketEntityRow>, importID: String) async throws -> Int {
        let columns: [[String]] = [rows.map(\.credit_code), rows.map(\.name), rows.map(\.entity_type), rows.map(\.registered_on),
                                   rows.map { $0.deregistered_on ?? "" }, rows.map(\.industry_section), rows.map(\.region)]
        let update = ["name", "entity_type", "registered_on", "deregistered_on", "industry_section", "region"]
        let set = (update + ["import_id"]).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        let differs = update.map { "market_entities.\($0) IS DISTINCT FROM excluded.\($0)" }.joined(separator: " OR ")
        let sql: SQLQueryString = """
            WITH written AS (
              INSERT INTO market_entities (credit_code, name, entity_type, registered_on, deregistered_on, industry_section, region, import_id)
              SELECT u.c, u.n, u.t, u.r, NULLIF(u.d, ''), u.s, u.g, \(bind: importID)
              FROM unnest(\(bind: columns[0]), \(bind: columns[1]), \(bind: columns[2]), \(bind: columns[3]), \(bind: columns[4]),
                          \(bind: columns[5]), \(bind: columns[6])) AS u(c, n, t, r, d, s, g)
              ON CONFLICT (credit_code) DO UPDATE SET \(unsafeRaw: set) WHERE \(unsafeRaw: differs)
              RETURNING 1
            ) SELECT COUNT(*) AS n FROM written
            """
        return try await db.raw(sql).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    public func upsert(sme rows: ArraySlice<SMESizeRow>, importID: String) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let insert = db.insert(into: "sme_sizes").columns("credit_code", "year", "size", "import_id")
        for r in rows { insert.values(SQLBind(r.credit_code), SQLBind(r.year), SQLBind(r.size), SQLBind(importID)) }
        return try await written(insert, conflict: ["credit_code", "year"], update: ["size"], unchangedImport: "sme_sizes")
    }

    /// `ON CONFLICT DO UPDATE … WHERE a value differs`, returning the rows written (inserted or changed). A row equal
    /// to the stored one keeps its import id: it was not changed by this import.
    private func written(_ insert: SQLInsertBuilder, conflict: [String], update: [String], unchangedImport table: String) async throws -> Int {
        let differs = update.map { "\(table).\($0) IS DISTINCT FROM excluded.\($0)" }.joined(separator: " OR ")
        return try await insert.onConflict(with: conflict) { u in
            var u = u
            for c in update + ["import_id"] { u = u.set(excludedValueOf: c) }
            return u.where(SQLRaw("(\(differs))"))
        }.returning(SQLRaw("1 AS one")).all().count
    }
}
