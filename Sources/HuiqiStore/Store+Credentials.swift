import Fluent
import SQLKit

/// Users, their bindings, API tokens and web sessions: the credentials side of the store.
extension Store {
    // MARK: users and tokens
    public func insert(users: [UserRow]) async throws { try await db.insert(into: "users").models(users, nilEncodingStrategy: .asNil).run() }
    public func bind(user: String, taxpayers: [String]) async throws {
        for chunk in taxpayers.chunked(500) {
            let builder = db.insert(into: "user_taxpayers").columns("user_id", "taxpayer_id")
            for t in chunk { builder.values(SQLBind(user), SQLBind(t)) }
            try await builder.run()
        }
    }
    public func user(login: String) async throws -> UserRow? {
        try await db.select().columns("*").from("users").where("login", .equal, login).first(decoding: UserRow.self)
    }
    public func boundTaxpayers(user: String) async throws -> [String] {
        try await db.select().column("taxpayer_id").from("user_taxpayers").where("user_id", .equal, user)
            .all().map { try $0.decode(column: "taxpayer_id", as: String.self) }
    }
    public func insert(tokenHash: String, user: String, at: String, expires: String) async throws {
        try await db.insert(into: "api_tokens").columns("token_hash", "user_id", "created_at", "expires_at")
            .values(SQLBind(tokenHash), SQLBind(user), SQLBind(at), SQLBind(expires)).run()
    }
    /// Logging out of the API ends the token (tokens are credentials, not records: they may be deleted).
    public func deleteToken(hash: String) async throws {
        try await db.delete(from: "api_tokens").where("token_hash", .equal, hash).run()
    }
    /// Ends every token and web session of a user (an administrator's revocation), audited in the same transaction.
    public func revokeCredentials(user: String, audit: AuditRow) async throws {
        try await writeAudited(audit) { db in
            try await db.delete(from: "api_tokens").where("user_id", .equal, user).run()
            try await db.delete(from: "web_sessions").where("user_id", .equal, user).run()
        }
    }
    /// The users with these ids (the filers of the versions a page shows), by id.
    public func users(ids: Set<String>) async throws -> [String: UserRow] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await db.select().columns("*").from("users").where("id", .in, Array(ids)).all(decoding: UserRow.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
    }
    public func user(id: String) async throws -> UserRow? {
        try await db.select().columns("*").from("users").where("id", .equal, id).first(decoding: UserRow.self)
    }

    /// The office and every office below it (its subtree), in one recursive query.
    public func officeSubtree(_ root: String) async throws -> Set<String> {
        let rows = try await db.raw("""
            WITH RECURSIVE sub(id) AS (SELECT id FROM offices WHERE id = \(bind: root)
                                       UNION SELECT o.id FROM offices o JOIN sub ON o.parent_id = sub.id)
            SELECT id FROM sub
            """).all()
        return Set(try rows.map { try $0.decode(column: "id", as: String.self) })
    }


    // MARK: web sessions
    public func insert(sessionHash: String, user: String, at: String, expires: String) async throws {
        try await db.insert(into: "web_sessions").columns("token_hash", "user_id", "created_at", "expires_at")
            .values(SQLBind(sessionHash), SQLBind(user), SQLBind(at), SQLBind(expires)).run()
    }
    /// The user of a session that has not expired at `now` (ISO text compares in time order).
    public func user(sessionHash: String, now: String) async throws -> UserRow? {
        try await db.raw("""
            SELECT u.* FROM web_sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = \(bind: sessionHash) AND s.expires_at > \(bind: now)
            """).first(decoding: UserRow.self)
    }
    /// Logging out ends the session (sessions are credentials, not records: they may be deleted).
    public func deleteSession(hash: String) async throws {
        try await db.delete(from: "web_sessions").where("token_hash", .equal, hash).run()
    }

}
