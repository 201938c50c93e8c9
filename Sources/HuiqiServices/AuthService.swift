import Foundation
import Synchronization
import HuiqiStore
import Vapor

/// Logins, API tokens and web sessions. Passwords are bcrypt hashes; a token or session is 32 random bytes given
/// once to the client and stored only as its SHA-256. Tokens and sessions expire, and are looked up on every
/// request: a logout, a revocation, a binding removed or an office changed take effect at once.
/// Failed logins are throttled per login name and source address, for a window only: nobody can lock another
/// user out for good, nor from another address.
public final class AuthService: Sendable {
    public let store: Store
    public let access: Access
    let now: @Sendable () -> Date
    private let failures = Mutex<[String: [Date]]>([:])
    /// Actors resolved for a user, kept while the user's `auth_version` is unchanged: every request still checks its
    /// token or session in the database (one indexed lookup, which also reads the version), so logout, revocation
    /// and expiry count at once; the office subtree and bindings are resolved again only after they changed.
    private let actors = Mutex<[String: (version: Int64, actor: Actor)]>([:])
    /// A web session lasts a working day.
    public let sessionSeconds: TimeInterval = 8 * 3600
    /// An API token lasts this long (`--token-days`, `HUIQI_TOKEN_DAYS`; 30 days by default).
    public let tokenSeconds: TimeInterval
    /// At most this many failed attempts per login and source in `window` seconds.
    public let maxFailures = 5
    public let window: TimeInterval = 300
    /// A bcrypt hash of nothing anyone knows, checked when the login is unknown so that an unknown login takes
    /// as long as a wrong password (no user enumeration by timing).
    private let decoyHash: String

    public init(store: Store, access: Access, now: @escaping @Sendable () -> Date, tokenDays: Int = 30) {
        self.store = store; self.access = access; self.now = now
        tokenSeconds = TimeInterval(tokenDays) * 86_400
        decoyHash = (try? Bcrypt.hash(Self.newToken(), cost: 10)) ?? ""
    }

    public static func hash(password: String) throws -> String { try Bcrypt.hash(password, cost: 10) }

    /// Checks the password and issues an API token; nil for a wrong login or password (the caller says only "invalid").
    public func login(_ login: String, password: String, remote: String?) async throws -> (token: String, actor: Actor)? {
        guard let user = try await verify(login, password: password, remote: remote) else { return nil }
        let token = Self.newToken(), t = now()
        try await store.insert(tokenHash: Self.digest(token), user: user.id, at: t.formatted(.iso8601),
                               expires: t.addingTimeInterval(tokenSeconds).formatted(.iso8601))
        return (token, try await access.actor(for: user))
    }

    /// Ends an API token (`POST /api/v1/logout`).
    public func logout(token: String) async throws { try await store.deleteToken(hash: Self.digest(token)) }

    /// Ends every token and session of a user: administrators only; audited.
    public func revokeCredentials(of userID: String, by actor: Actor, remote: String?) async throws {
        guard actor.role == .administrator else { throw ServiceError.forbidden("only administrators revoke credentials / 仅管理员可以吊销登录凭证") }
        try TextInput.check(userID, field: "user", maxLength: TextInput.maxIdentifier)
        guard try await store.user(id: userID) != nil else { throw ServiceError.notFound }
        try await store.revokeCredentials(user: userID, audit: AuditRow(id: UUID().uuidString, at: now().formatted(.iso8601), user_id: actor.userID,
                                                                          action: "revoke_credentials", object: userID, detail: "", remote: remote))
    }

    /// Checks the password and opens a web session; the token goes into an HttpOnly cookie.
    public func startSession(_ login: String, password: String, remote: String?) async throws -> (token: String, actor: Actor)? {
        guard let user = try await verify(login, password: password, remote: remote) else { return nil }
        let token = Self.newToken(), t = now()
        try await store.insert(sessionHash: Self.digest("session:" + token), user: user.id, at: t.formatted(.iso8601),
                               expires: t.addingTimeInterval(sessionSeconds).formatted(.iso8601))
        return (token, try await access.actor(for: user))
    }

    public func endSession(_ token: String) async throws {
        try await store.deleteSession(hash: Self.digest("session:" + token))
    }

    /// The password check shared by API logins and web sessions, with the throttle and the audit entries.
    private func verify(_ login: String, password: String, remote: String?) async throws -> UserRow? {
        try TextInput.check(login, field: "login", maxLength: TextInput.maxName)
        try TextInput.check(password, field: "password", maxLength: TextInput.maxPassword)
        let t = now()
        let key = "\(login)\u{1F}\(Self.source(remote))"
        let recent = failures.withLock { $0[key, default: []].filter { t.timeIntervalSince($0) < window } }
        if recent.count >= maxFailures {
            DomainMetrics.loginFailure(reason: "throttled")
            throw ServiceError.tooManyRequests(retryAfter: Int(window))
        }
        let stamp = t.formatted(.iso8601)
        let user = try await store.user(login: login)
        // A stored hash that is not a bcrypt hash never matches: service users that no one logs in as (the population
        // generator's, the benchmark's) store "-", and a login as them is refused like any wrong password.
        let matches = (try? Bcrypt.verify(password, created: user?.password_hash ?? decoyHash)) ?? false
        let ok = matches && user != nil
        guard ok, let user else {
            DomainMetrics.loginFailure(reason: "password")
            failures.withLock { f in
                if f.count > 100_000 { f = f.filter { !$0.value.isEmpty && t.timeIntervalSince($0.value.last!) < window } }
                f[key] = recent + [t]
            }
            try await store.audit(AuditRow(id: UUID().uuidString, at: stamp, user_id: nil, action: "login_failed", object: login, detail: "", remote: remote))
            return nil
        }
        failures.withLock { $0[key] = nil }
        try await store.audit(AuditRow(id: UUID().uuidString, at: stamp, user_id: user.id, action: "login", object: login, detail: "", remote: remote))
        return user
    }

    /// The address a login comes from, without its port (each connection has another port). The server passes the
    /// client's address alone (`Request.clientAddress`); a socket description keeps working.
    static func source(_ remote: String?) -> String {
        guard let remote else { return "" }
        guard remote.hasPrefix("[") else { return remote }
        // "[IPv4]127.0.0.1/127.0.0.1:54321" or "[IPv6]…:port": drop what follows the last colon.
        return remote.lastIndex(of: ":").map { String(remote[..<$0]) } ?? remote
    }

    /// The actor behind a bearer token that has not expired.
    public func actor(token: String) async throws -> Actor {
        let lookup = lookup(token: token)
        return try await actor(checked: try await store.user(tokenHash: lookup.hash, now: lookup.now))
    }

    /// What a bearer token is looked up by: its SHA-256 and the time it must not have expired at (ISO text).
    func lookup(token: String) -> (hash: String, now: String) { (Self.digest(token), now().formatted(.iso8601)) }

    /// The actor of the user a token lookup found; none (unknown, expired, revoked) is `unauthenticated`.
    func actor(checked user: UserRow?) async throws -> Actor {
        guard let user else { throw ServiceError.unauthenticated }
        return try await actor(for: user)
    }

    /// The actor behind a session cookie, if the session exists and has not expired.
    public func actor(session: String) async throws -> Actor {
        guard let user = try await store.user(sessionHash: Self.digest("session:" + session), now: now().formatted(.iso8601)) else {
            throw ServiceError.unauthenticated
        }
        return try await actor(for: user)
    }

    /// The actor of a user whose credential was just checked: from the cache while its reach is unchanged.
    private func actor(for user: UserRow) async throws -> Actor {
        if let hit = actors.withLock({ $0[user.id] }), hit.version == user.auth_version, hit.actor.role.rawValue == user.role { return hit.actor }
        let actor = try await access.actor(for: user)
        actors.withLock { cache in
            if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
            cache[user.id] = (user.auth_version, actor)
        }
        return actor
    }

    /// The CSRF token of a web session: an HMAC of the session token, so only its holder can compute it, and
    /// every form of the session carries it (synchronizer token without server state).
    public static func csrfToken(session: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("csrf".utf8), using: SymmetricKey(data: Data(session.utf8)))
            .withUnsafeBytes { TextDigest.hex($0) }
    }

    /// A fresh random token, 32 bytes in hex: API tokens, sessions, and the CSRF token of the login form.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return TextDigest.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func digest(_ token: String) -> String { TextDigest.sha256Hex(token) }
}
