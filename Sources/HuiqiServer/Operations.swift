import Foundation
import HuiqiServices
import HuiqiStore
import Metrics
import NIOCore
import Prometheus
import Vapor

/// The process's metrics: swift-metrics bootstrapped once with the Prometheus factory, so that Vapor's own request
/// series (`http_requests_total`, `http_request_duration_seconds`, `http_request_errors_total`, by method, route
/// pattern and status) and the platform's (`DomainMetrics`) land in one registry that `/metrics` writes out.
/// A process has one metrics system: every application of the process (tests build many) shares it.
enum HuiqiMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // From a millisecond (a search, an engine run) to a minute (a screening job).
        factory.defaultDurationHistogramBuckets = [.microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
                                                   .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                                   .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10), .seconds(60)]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

extension Request {
    /// The client's address, without its port. Behind a trusted reverse proxy (`--trusted-proxy`), the address the
    /// proxies recorded in `X-Forwarded-For`: the last one that is not itself a trusted proxy (a client can write
    /// anything at the start of that header, never after its own proxy's entry). From anyone else the header is
    /// ignored. The audit log, the login throttle and `/metrics`'s loopback rule all use this address.
    var clientAddress: String? {
        guard let peer = remoteAddress?.ipAddress else { return nil }
        let trusted = application.platform.trustedProxies
        guard trusted.contains(peer) else { return peer }
        let hops = headers[.xForwardedFor].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !trusted.contains(hop) {
            return (try? SocketAddress(ipAddress: hop, port: 0)) != nil ? hop : peer
        }
        return peer
    }
}

/// One access-log line per request, written when the response is ready: the request id (also sent back in
/// `X-Request-Id`; Vapor takes it from the proxy's `X-Request-Id` when there is one), method, route pattern (never
/// the path itself: paths hold credit codes), status, duration, the signed-in user's id and the client's address.
/// Never a body, a query string, a token or a cookie.
struct AccessLog: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            log(request, status: 500, started: started)
            throw error
        }
        response.headers.replaceOrAdd(name: .xRequestId, value: request.id)
        log(request, status: response.status.code, started: started)
        return response
    }

    func log(_ request: Request, status: UInt, started: UInt64) {
        let route = request.route.map { "/" + $0.path.map { "\($0)" }.joined(separator: "/") } ?? "(no route)"
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
            "duration_ms": .string(Self.milliseconds(DispatchTime.now().uptimeNanoseconds &- started)),
        ]
        // The API's bearer actor, or the web session's.
        if let user = request.auth.get(ActorBox.self)?.actor.userID ?? request.storage[WebContextKey.self]?.actor?.userID {
            metadata["user"] = .string(user)
        }
        if let client = request.clientAddress { metadata["client"] = .string(client) }
        request.logger.info("access", metadata: metadata)
    }

    /// Nanoseconds as milliseconds with two decimals, rounded half up ("0.07", "12.50"). Every request logs one:
    /// `String(format:)` cost about 3 % of the server's time under the filing load (docs/performance.md).
    static func milliseconds(_ nanos: UInt64) -> String {
        let hundredths = nanos / 10_000 + (nanos % 10_000 >= 5_000 ? 1 : 0)
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// `/health`: the process lives and answers (no database: a load balancer's liveness probe must not restart a
/// server because the database is away).
@Sendable func health(_ req: Request) async throws -> Response {
    try jsonResponse(.ok, ["status": "ok"])
}

/// `/ready`: the server can serve. The database answers within 2 seconds, every migration of this build is applied,
/// and the bundled law is loaded. 503 with the reasons otherwise (short and fixed; the details go to the log, under
/// the request's id).
@Sendable func ready(_ req: Request) async throws -> Response {
    let p = req.application.platform
    var reasons: [String] = []
    var migrations = 0
    do {
        try await DatabaseProbe.run(p.store, timeout: .seconds(2))
        let applied = Set(try await p.store.db.raw("SELECT name FROM _fluent_migrations").all().map { try $0.decode(column: "name", as: String.self) })
        let pending = HuiqiMigrations.all.map(\.name).filter { !applied.contains($0) }
        migrations = applied.count
        if !pending.isEmpty { reasons.append("migrations pending / 数据库迁移未完成: \(pending.joined(separator: ", "))") }
    } catch {
        req.logger.warning("not ready: the database did not answer: \(error)")
        reasons.append("database unreachable / 数据库不可达")
    }
    let parameters = p.engine.parameters.definitions.count
    if parameters == 0 { reasons.append("the law is not loaded / 政策参数未加载") }
    struct Body: Encodable { let status: String; let reasons: [String]; let migrations: Int; let parameters: Int }
    return try jsonResponse(reasons.isEmpty ? .ok : .serviceUnavailable,
                            Body(status: reasons.isEmpty ? "ready" : "unready", reasons: reasons, migrations: migrations, parameters: parameters))
}

/// `/metrics` is for the operators' scraper: with a configured token it requires it; without one it answers the
/// loopback interface only (a scraper on the same host). Behind a proxy the client's address counts, so the proxy
/// does not open it to the world. Gauges read from the database (the reminder outbox, the audit entries not yet chained) are refreshed first.
@Sendable func metrics(_ req: Request) async throws -> Response {
    if let expected = req.application.platform.metricsToken {
        guard let given = req.headers.bearerAuthorization?.token, constantTimeEqual(given, expected) else { throw ServiceError.unauthenticated }
    } else if let client = req.clientAddress, !(client.hasPrefix("127.") || client == "::1") {
        throw ServiceError.notFound
    }
    if let depth = try? await req.application.platform.store.reminderOutboxDepth() { DomainMetrics.reminderOutbox(depth: depth) }
    if let unchained = try? await req.application.platform.store.unchainedAuditEntries() { DomainMetrics.auditUnchained(unchained) }
    var buffer: [UInt8] = []
    req.application.platform.metrics.emit(into: &buffer)
    var headers = HTTPHeaders()
    headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4"])
    return Response(status: .ok, headers: headers, body: .init(data: Data(buffer)))
}

/// A database round trip through the pool, timed (`huiqi_db_probe_duration_seconds`): by `/ready`, and every 15
/// seconds while the server runs, so that the pool's wait shows in the metrics even when nobody asks.
enum DatabaseProbe {
    static func run(_ store: Store, timeout: Duration) async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await store.db.raw("SELECT 1 AS one").first() }
                group.addTask { try await Task.sleep(for: timeout); throw ProbeTimeout() }
                try await group.next()
                group.cancelAll()
            }
            DomainMetrics.databaseProbe(outcome: "ok", nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
        } catch {
            DomainMetrics.databaseProbe(outcome: "failed", nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            throw error
        }
    }
    struct ProbeTimeout: Error, CustomStringConvertible { var description: String { "no answer in time" } }
}
