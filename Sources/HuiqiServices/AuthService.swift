import Foundation
import Synchronization
import HuiqiStore
import Vapor

/// Logins and API tokens. Passwords are bcrypt hashes; a token is 32 random bytes given once to the client and
/// stored only as its SHA-256. Failed logins are rate-limited per login name.
public final class AuthService: Sendable {
    public let store: Store
    public let access: Access
    let now: @Sendable () -> Date
    private let failures = Mutex<[String: [Date]]>([:])
    /// At most this many failed attempts per login in `window` seconds.
    public let maxFailures = 5
    public let window: TimeInterval = 300

    public init(store: Store, now: @escaping @Sendable () -> Date) {
        self.store = store; access = Access(store: store); self.now = now
    }

    public static func hash(password: String) throws -> String { try Bcrypt.hash(password, cost: 10) }

    /// Checks the password and issues a token; nil for a wrong login or password (the caller says only "invalid").
    public func login(_ login: String, password: String, remote: String?) async throws -> (token: String, actor: Actor)? {
        let t = now()
        let recent = failures.withLock { $0[login, default: []].filter { t.timeIntervalSince($0) < window } }
        if recent.count >= maxFailures { throw ServiceError.forbidden("too many failed logins; wait \(Int(window / 60)) minutes") }
        guard let user = try await store.user(login: login), try Bcrypt.verify(password, created: user.password_hash) else {
            failures.withLock { $0[login] = recent + [t] }
            try await store.audit(AuditRow(id: UUID().uuidString, at: ISO8601DateFormatter().string(from: t), user_id: nil,
                                           action: "login_failed", object: login, detail: "", remote: remote))
            return nil
        }
        failures.withLock { $0[login] = nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try await store.insert(tokenHash: Self.digest(token), user: user.id, at: ISO8601DateFormatter().string(from: t))
        try await store.audit(AuditRow(id: UUID().uuidString, at: ISO8601DateFormatter().string(from: t), user_id: user.id,
                                       action: "login", object: login, detail: "", remote: remote))
        return (token, try await access.actor(for: user))
    }

    /// The actor behind a bearer token.
    public func actor(token: String) async throws -> Actor {
        guard let user = try await store.user(tokenHash: Self.digest(token)) else { throw ServiceError.unauthenticated }
        return try await access.actor(for: user)
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
