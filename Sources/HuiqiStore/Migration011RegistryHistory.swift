import Fluent
import SQLKit

/// The registry's history (issue 9): every edit of a taxpayer's registration adds a version, the state before
/// the first edit included, so `taxpayers` holds the current state and `taxpayer_versions` everything it ever
/// was, who changed it and when. The history is append-only in the database itself.
struct M011RegistryHistory: AsyncMigration {
    var name: String { "011_registry_history" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        try await db.raw("""
            CREATE TABLE taxpayer_versions (
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              version INTEGER NOT NULL CHECK (version >= 1),
              name TEXT NOT NULL,
              kind TEXT NOT NULL,
              vat_status TEXT NOT NULL,
              industry TEXT NOT NULL,
              restricted_industry BOOLEAN NOT NULL,
              region TEXT NOT NULL,
              office_id TEXT NOT NULL,
              registered_on TEXT NOT NULL,
              deregistered_on TEXT,
              changed_by TEXT,
              changed_at TEXT NOT NULL,
              reason TEXT NOT NULL,
              PRIMARY KEY (taxpayer_id, version)
            )
            """).run()
        try await M010Administration.appendOnly(["taxpayer_versions"], on: db)
        try await db.raw("CREATE INDEX user_taxpayers_taxpayer ON user_taxpayers(taxpayer_id)").run()
        try await db.raw("CREATE INDEX users_office ON users(office_id)").run()
    }
    func revert(on database: any Database) async throws {
        try await sql(database).raw("DROP TABLE taxpayer_versions").run()
    }
}

/// One version of a taxpayer's registration (version 1: as first registered, or as it stood before the first edit).
public struct TaxpayerVersionRow: Codable, Sendable, Equatable {
    public var taxpayer_id: String, version: Int, name: String, kind: String, vat_status: String, industry: String
    public var restricted_industry: Bool, region: String, office_id: String, registered_on: String, deregistered_on: String?
    public var changed_by: String?, changed_at: String, reason: String

    public init(_ t: TaxpayerRow, version: Int, changedBy: String?, at: String, reason: String) {
        taxpayer_id = t.id; self.version = version; name = t.name; kind = t.kind; vat_status = t.vat_status; industry = t.industry
        restricted_industry = t.restricted_industry; region = t.region; office_id = t.office_id; registered_on = t.registered_on
        deregistered_on = t.deregistered_on; changed_by = changedBy; changed_at = at; self.reason = reason
    }
}

/// The registry kept through the web pages: taxpayer edits with history, users, bindings and offices.
extension Store {
    public func taxpayerVersions(_ id: String) async throws -> [TaxpayerVersionRow] {
        try await db.select().columns("*").from("taxpayer_versions").where("taxpayer_id", .equal, id).orderBy("version")
            .all(decoding: TaxpayerVersionRow.self)
    }

    /// Replaces the current registration of `new.id` and appends its version (and, before the first edit, the
    /// state it replaces as version 1). Run inside `writeAudited`, so the change and its audit entry are one.
    public func updateTaxpayer(_ new: TaxpayerRow, old: TaxpayerRow, by user: String, at: String, reason: String) async throws {
        let last = try await db.raw("SELECT MAX(version) AS v FROM taxpayer_versions WHERE taxpayer_id = \(bind: new.id)").first()
        var next = (try last?.decode(column: "v", as: Int?.self) ?? nil) ?? 0
        if next == 0 {
            try await db.insert(into: "taxpayer_versions").model(TaxpayerVersionRow(old, version: 1, changedBy: nil, at: at, reason: "登记 registered"),
                                                                 nilEncodingStrategy: .asNil).run()
            next = 1
        }
        try await db.insert(into: "taxpayer_versions").model(TaxpayerVersionRow(new, version: next + 1, changedBy: user, at: at, reason: reason),
                                                             nilEncodingStrategy: .asNil).run()
        try await db.update("taxpayers")
            .set("name", to: new.name).set("kind", to: new.kind).set("vat_status", to: new.vat_status).set("industry", to: new.industry)
            .set("restricted_industry", to: new.restricted_industry).set("region", to: new.region).set("office_id", to: new.office_id)
            .set("registered_on", to: new.registered_on).set("deregistered_on", to: SQLBind(new.deregistered_on))
            .where("id", .equal, new.id).run()
    }

    /// Users for the administration page: all (administrators) or those bound to taxpayers of `offices` and the
    /// staff of `offices` (officers), by login; with a login fragment.
    public func users(inOffices offices: Set<String>?, search: String?, limit: Int) async throws -> [UserRow] {
        var q: SQLQueryString = "SELECT u.* FROM users u WHERE 1 = 1"
        if let offices {
            guard !offices.isEmpty else { return [] }
            let list = Self.list(offices.sorted())
            q = q + " AND (u.office_id IN " + list
                + " OR u.id IN (SELECT b.user_id FROM user_taxpayers b JOIN taxpayers t ON t.id = b.taxpayer_id WHERE t.office_id IN " + list + "))"
        }
        if let search, !search.isEmpty { q = q + " AND u.login LIKE \(bind: "%" + search + "%")" }
        return try await db.raw(q + " ORDER BY u.login LIMIT \(bind: limit)").all(decoding: UserRow.self)
    }

    public func unbind(user: String, taxpayer: String) async throws {
        try await db.delete(from: "user_taxpayers").where("user_id", .equal, user).where("taxpayer_id", .equal, taxpayer).run()
    }

    public func bindings(users: [String]) async throws -> [String: [String]] {
        guard !users.isEmpty else { return [:] }
        var out: [String: [String]] = [:]
        for row in try await db.select().columns("user_id", "taxpayer_id").from("user_taxpayers").where("user_id", .in, users).orderBy("taxpayer_id").all() {
            out[try row.decode(column: "user_id", as: String.self), default: []].append(try row.decode(column: "taxpayer_id", as: String.self))
        }
        return out
    }

    public func offices() async throws -> [OfficeRow] {
        try await db.select().columns("*").from("offices").orderBy("id").all(decoding: OfficeRow.self)
    }

    public func renameOffice(_ id: String, name: String) async throws {
        try await db.update("offices").set("name", to: name).where("id", .equal, id).run()
    }
}
