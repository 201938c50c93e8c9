import Foundation
import Synchronization
import HuiqiStore
import Vapor

/// Logins, API tokens and web sessions. Passwords are bcrypt hashes; a token or session is 32 random bytes given
/// once to the client and stored only as its SHA-256. Failed logins are rate-limited per login name.
public final class AuthService: Sendable {
    public let store: Store
    public let access: Access
    let now: @Sendable () -> Date
    private let failures = Mutex<[String: [Date]]>([:])
    /// Actors resolved from a token digest, kept for `actorCacheSeconds`: a request then costs no database round
    /// trip for authentication. A changed binding or office takes effect within that time.
    private let actors = Mutex<[String: (actor: Actor, until: Date)]>([:])
    public let actorCacheSeconds: TimeInterval = 30
    /// A web session lasts a working day.
    public let sessionSeconds: TimeInterval = 8 * 3600
    /// At most this many failed attempts per login in `window` seconds.
    public let maxFailures = 5
    public let window: TimeInterval = 300

    public init(store: Store, access: Access, now: @escaping @Sendable () -> Date) {
        self.store = store; self.access = access; self.now = now
    }

    public static func hash(password: String) throws -> String { try Bcrypt.hash(password, cost: 10) }

    /// Checks the password and issues an API token; nil for a wrong login or password (the caller says only "invalid").
    public func login(_ login: String, password: String, remote: String?) async throws -> (token: String, actor: Actor)? {
        guard let user = try await verify(login, password: password, remote: remote) else { return nil }
        let token = Self.randomToken()
        try await store.insert(tokenHash: Self.digest(token), user: user.id, at: now().formatted(.iso8601))
        return (token, try await access.actor(for: user))
    }

    /// Checks the password and opens a web session; the token goes into an HttpOnly cookie.
    public func startSession(_ login: String, password: String, remote: String?) async throws -> (token: String, actor: Actor)? {
        guard let user = try await verify(login, password: password, remote: remote) else { return nil }
        let token = Self.randomToken(), t = now()
        try await store.insert(sessionHash: Self.digest("session:" + token), user: user.id, at: t.formatted(.iso8601),
                               expires: t.addingTimeInterval(sessionSeconds).formatted(.iso8601))
        return (token, try await access.actor(for: user))
    }

    public func endSession(_ token: String) async throws {
        let key = Self.digest("session:" + token)
        actors.withLock { $0[key] = nil }
        try await store.deleteSession(hash: key)
    }

    /// The password check shared by API logins and web sessions, with the rate limit and the audit entries.
    private func verify(_ login: String, password: String, remote: String?) async throws -> UserRow? {
        try TextInput.check(login, field: "login", maxLength: TextInput.maxName)
        try TextInput.check(password, field: "password", maxLength: TextInput.maxPassword)
        let t = now()
        let recent = failures.withLock { $0[login, default: []].filter { t.timeIntervalSince($0) < window } }
        if recent.count >= maxFailures { throw ServiceError.forbidden("too many failed logins; wait \(Int(window / 60)) minutes / 登录失败次数过多，请\(Int(window / 60))分钟后再试") }
        let stamp = t.formatted(.iso8601)
        guard let user = try await store.user(login: login), try Bcrypt.verify(password, created: user.password_hash) else {
            failures.withLock { $0[login] = recent + [t] }
            try await store.audit(AuditRow(id: UUID().uuidString, at: stamp, user_id: nil, action: "login_failed", object: login, detail: "", remote: remote))
            return nil
        }
        failures.withLock { $0[login] = nil }
        try await store.audit(AuditRow(id: UUID().uuidString, at: stamp, user_id: user.id, action: "login", object: login, detail: "", remote: remote))
        return user
    }

    /// The actor behind a bearer token.
    public func actor(token: String) async throws -> Actor {
        try await cachedActor(key: Self.digest(token)) { try await self.store.user(tokenHash: $0) }
    }

    /// The actor behind a session cookie, if the session exists and has not expired.
    public func actor(session: String) async throws -> Actor {
        let t = now()
        return try await cachedActor(key: Self.digest("session:" + session)) {
            try await self.store.user(sessionHash: $0, now: t.formatted(.iso8601))
        }
    }

    private func cachedActor(key: String, lookup: (String) async throws -> UserRow?) async throws -> Actor {
        let t = now()
        if let hit = actors.withLock({ $0[key] }), hit.until > t { return hit.actor }
        guard let user = try await lookup(key) else { throw ServiceError.unauthenticated }
        let actor = try await access.actor(for: user)
        actors.withLock { cache in
            if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
            cache[key] = (actor, t.addingTimeInterval(actorCacheSeconds))
        }
        return actor
    }

    /// The CSRF token of a web session: an HMAC of the session token, so only its holder can compute it, and
    /// every form of the session carries it (synchronizer token without server state).
    public static func csrfToken(session: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("csrf".utf8), using: SymmetricKey(data: Data(session.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
