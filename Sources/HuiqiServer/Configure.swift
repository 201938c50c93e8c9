import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiServices
import HuiqiStore
import NIOCore
import NIOSSL
import PostgresKit
import Prometheus
import Vapor

/// Where the data lives: an SQLite file (the embedded default) or PostgreSQL (production).
public enum DatabaseLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)

    /// `postgres://…` / `postgresql://…` is PostgreSQL; anything else is an SQLite file path.
    public init(_ text: String) {
        self = text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") ? .postgres(url: text) : .sqlite(path: text)
    }
}

public struct ServerSettings: Sendable {
    public var database: DatabaseLocation
    public var demo: Bool
    public var demoTaxpayers: Int
    public var now: @Sendable () -> Date
    /// The address users reach the platform at (`--public-url`, `HUIQI_PUBLIC_URL`): `https://…` makes cookies
    /// `Secure` and adds HSTS. Nil: plain HTTP on a private address (the demo).
    public var publicURL: String?
    /// A bearer token `/metrics` requires (`--metrics-token`, `HUIQI_METRICS_TOKEN`). Without one, `/metrics`
    /// answers only requests from the loopback interface.
    public var metricsToken: String?
    /// How long an API token lasts, in days (`--token-days`, `HUIQI_TOKEN_DAYS`).
    public var tokenDays: Int
    /// Where reminders are POSTed (`--webhook-url`, `HUIQI_WEBHOOK_URL`); nil: in the portal only.
    public var webhook: String?
    /// The demo includes this year's closed filing period, screened (see `DemoData.load`).
    public var demoClosedPeriod: Bool
    /// Load the bundled knowledge base into an empty one (`huiqi serve --demo`; tests load it where they need it).
    public var seedKnowledge = false
    /// Serve monitoring from a snapshot at most this many seconds old (`--monitoring-snapshot-seconds`,
    /// `HUIQI_MONITORING_SNAPSHOT_SECONDS`; 0: live figures on every request).
    public var monitoringSnapshotSeconds: Int = 0
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`, `HUIQI_TRUSTED_PROXIES`): their
    /// addresses, exactly as they connect (127.0.0.1 for nginx on the same host). Empty: the header is ignored.
    public var trustedProxies: [String] = []
    /// A CA certificate file (PEM) to verify PostgreSQL's server certificate (`--database-ca-file`,
    /// `HUIQI_DATABASE_CA_FILE`); given, TLS is required. Without it the URL's `sslmode` decides, against the system's
    /// trust store.
    public var databaseCAFile: String?
    /// PostgreSQL connections per event loop (one loop per core; `--database-connections`, `HUIQI_DATABASE_CONNECTIONS`).
    /// The server's total is this times the cores; keep it under the database's `max_connections` divided by the
    /// servers (and the tests' parallel applications) that share it.
    public var databaseConnectionsPerLoop = 8
    /// Run the complaint desk's sweep (warnings, escalations) every this many seconds (`--complaint-sweep-seconds`,
    /// `HUIQI_COMPLAINT_SWEEP_SECONDS`; `huiqi serve` defaults to 300; 0: never, as in tests, which sweep themselves).
    public var complaintSweepSeconds: Int = 0
    public init(database: DatabaseLocation, demo: Bool = false, demoTaxpayers: Int = 3000, demoClosedPeriod: Bool = true,
                now: @escaping @Sendable () -> Date = { Date() },
                publicURL: String? = nil, metricsToken: String? = nil, tokenDays: Int = 30, webhook: String? = nil) {
        self.database = database; self.demo = demo; self.demoTaxpayers = demoTaxpayers; self.demoClosedPeriod = demoClosedPeriod; self.now = now
        self.publicURL = publicURL; self.metricsToken = metricsToken; self.tokenDays = tokenDays; self.webhook = webhook
    }
    var https: Bool { publicURL?.lowercased().hasPrefix("https://") == true }
}

/// The platform of one running app: the services (`Services`, shared with the command-line jobs) and what only
/// the HTTP server needs, built once in `configure` and shared by the routes. A class: every request reads it
/// (`req.application.platform`), and copying a struct of all the services cost a retain and a release per field,
/// 1–2 % of the server's time under the filing load (docs/performance.md).
final class Platform: Sendable {
    let services: Services
    var store: Store { services.store }
    /// The one authorization decision point, shared by every service.
    var access: Access { services.access }
    var filing: FilingService { services.filing }
    var registry: RegistryService { services.registry }
    var auth: AuthService { services.auth }
    var engine: Engine { services.engine }
    /// The OpenAPI document of the JSON API (Resources/openapi.json), served at /openapi.json.
    let openAPI: String
    /// The process's metrics registry (`HuiqiMetrics`), written out by `/metrics`.
    let metrics: PrometheusCollectorRegistry
    /// Reverse proxies whose `X-Forwarded-For` is believed (`Request.clientAddress`).
    let trustedProxies: Set<String>
    /// Cookies carry `Secure` (the platform is served over HTTPS).
    let secureCookies: Bool
    let metricsToken: String?
    /// The largest request body read (a case of 1,000 lines is about 80 KB).
    static let maxBody: ByteCount = "1mb"
    static var maxBodyText: String { "\(maxBody.value / 1_048_576) MB" }

    init(services: Services, openAPI: String, metrics: PrometheusCollectorRegistry, trustedProxies: Set<String>,
         secureCookies: Bool, metricsToken: String?) {
        self.services = services; self.openAPI = openAPI; self.metrics = metrics; self.trustedProxies = trustedProxies
        self.secureCookies = secureCookies; self.metricsToken = metricsToken
    }
}

struct PlatformKey: StorageKey { typealias Value = Platform }
extension Application {
    var platform: Platform {
        get { storage[PlatformKey.self]! }
        set { storage[PlatformKey.self] = newValue }
    }
}

/// The database of the platform, with the migrations registered: the one piece `configure` and every
/// command-line job (backup, check, audit verify) share.
func useDatabase(_ app: Application, _ location: DatabaseLocation, caFile: String? = nil, connectionsPerLoop: Int = 8,
                 migrations: [any AsyncMigration] = HuiqiMigrations.all) throws {
    switch location {
    case .sqlite(let path):
        app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqlite)
    case .postgres(let url):
        var configuration = try SQLPostgresConfiguration(url: url)
        if let caFile {
            // TLS required, the server's certificate checked against this CA (and its name against the URL's host).
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw ConfigurationError.invalid("the database CA file \(caFile) cannot be read (--database-ca-file, HUIQI_DATABASE_CA_FILE)")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            configuration.coreConfiguration.tls = .require(try NIOSSLContext(configuration: tls))
        }
        // Several connections per event loop: a filing makes a handful of round trips, and one connection per
        // loop (the default) capped the filing API at about 300 requests/s in the load check.
        app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: max(1, connectionsPerLoop)), as: .psql)
    }
    for m in migrations { app.migrations.add(m) }
}

/// Runs a command-line job on the platform's store: the same database assembly as the server, migrated, without
/// routes; the application is shut down afterwards whatever happens.
/// `migrations`: the schema up to a given migration (a test of the next migration on data written before it).
public func withStore<T: Sendable>(_ location: DatabaseLocation, migrations: [any AsyncMigration] = HuiqiMigrations.all,
                                   _ body: (Store) async throws -> T) async throws -> T {
    let app = try await Application.make(Environment(name: "production", arguments: ["huiqi"]))
    app.logger.logLevel = .warning
    do {
        try useDatabase(app, location, migrations: migrations)
        try await app.autoMigrate()
        let result = try await body(Store(app.db))
        try await app.asyncShutdown()
        return result
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

/// Runs a command-line job on the assembled platform (`Services`): the same database and wiring as the server,
/// migrated, without routes.
public func withServices<T: Sendable>(_ location: DatabaseLocation, now: @escaping @Sendable () -> Date = { Date() }, webhook: String? = nil,
                                      monitoringSnapshotSeconds: Int = 0, _ body: (Services) async throws -> T) async throws -> T {
    try await withStore(location) { store in
        let result = try await body(Services(store: store, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: now,
                                             webhook: webhook, monitoringSnapshotSeconds: monitoringSnapshotSeconds))
        // What the job audited is placed in the chain before it ends (PostgreSQL; a server's chainer would do it too).
        try await store.chainAllAudit()
        return result
    }
}

/// The one wiring function that `huiqi serve` and every test call: database, migrations, services, routes.
/// Returns the demo logins when `settings.demo` filled an empty database.
@discardableResult
public func configure(_ app: Application, _ settings: ServerSettings) async throws -> [DemoData.Login] {
    guard settings.tokenDays >= 1 else { throw ConfigurationError.invalid("token days must be at least 1 (--token-days, HUIQI_TOKEN_DAYS)") }
    if let url = settings.publicURL, URL(string: url)?.scheme.map({ ["http", "https"].contains($0.lowercased()) }) != true {
        throw ConfigurationError.invalid("the public URL must start with http:// or https:// (--public-url, HUIQI_PUBLIC_URL)")
    }
    for proxy in settings.trustedProxies where (try? SocketAddress(ipAddress: proxy, port: 0)) == nil {
        throw ConfigurationError.invalid("a trusted proxy must be an IP address, not \(proxy) (--trusted-proxy, HUIQI_TRUSTED_PROXIES)")
    }
    app.routes.defaultMaxBodySize = Platform.maxBody
    try useDatabase(app, settings.database, caFile: settings.databaseCAFile, connectionsPerLoop: settings.databaseConnectionsPerLoop)
    try await app.autoMigrate()
    // On PostgreSQL every event loop's pool serves its own requests; SQLite keeps the one pool it has always had
    // (its file takes one writer at a time, and more connections would only wait on each other's locks).
    let platformStore = if case .postgres = settings.database {
        Store(databases: app.databases, eventLoops: app.eventLoopGroup, logger: app.logger, onFilingWrite: DomainMetrics.filingWrite)
    } else { Store(app.db) }
    let services = Services(store: platformStore, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: settings.now,
                            webhook: settings.webhook, tokenDays: settings.tokenDays, monitoringSnapshotSeconds: settings.monitoringSnapshotSeconds)
    app.platform = Platform(services: services,
                            openAPI: try String(contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "json")!, encoding: .utf8),
                            metrics: HuiqiMetrics.registry, trustedProxies: Set(settings.trustedProxies),
                            secureCookies: settings.https, metricsToken: settings.metricsToken)
    // Outermost first: the access log (it sees every final status and adds X-Request-Id), Vapor's error fallback,
    // headers on every response, errors mapped before them, then the input guard. Vapor's own request line is left
    // out: it logs the raw path, and paths hold credit codes.
    app.middleware = Middlewares()
    app.middleware.use(AccessLog())
    app.middleware.use(ErrorMiddleware.default(environment: app.environment))
    app.middleware.use(SecurityHeaders(https: settings.https))
    app.middleware.use(ErrorMapping())
    app.middleware.use(InputGuard())
    try routes(app)
    webRoutes(app)
    // Jobs left running by a server that died are marked abandoned; a rerun finishes their work.
    _ = try await services.store.abandonStaleJobs(kind: "screen", staleBefore: settings.now().addingTimeInterval(-120).formatted(.iso8601),
                                                  at: settings.now().formatted(.iso8601))
    let store = services.store
    // Due reminders to the webhook (a failing one backs off by itself, per reminder).
    if settings.webhook != nil {
        let reminders = services.reminders
        app.lifecycle.use(PeriodicJob("reminder delivery", every: .seconds(30)) { _ in _ = try await reminders.deliverDue() })
    }
    // The database probe behind /health and the metrics (its failures are counted there, not logged).
    app.lifecycle.use(PeriodicJob("database probe", every: .seconds(15)) { _ in try? await DatabaseProbe.run(store, timeout: .seconds(5)) })
    // New audit entries placed in the chain (PostgreSQL, migration 019). Any number of servers may run it: the
    // advisory lock lets one place entries at a time, and the others skip that round.
    if case .postgres = settings.database {
        app.lifecycle.use(PeriodicJob("audit chain", every: .milliseconds(500), afterFailure: .seconds(10),
                                      atShutdown: { try? await store.chainAllAudit() }) { _ in try await store.chainAllAudit() })
    }
    // The complaint desk's clock: warnings and escalations, each once per round.
    if settings.complaintSweepSeconds > 0, let desk = services.complaints {
        app.lifecycle.use(PeriodicJob("complaint sweep", every: .seconds(settings.complaintSweepSeconds)) { logger in
            let (warned, escalated) = try await desk.sweep()
            if warned + escalated > 0 { logger.notice("complaint desk: \(warned) warned, \(escalated) escalated") }
        })
    }
    if settings.seedKnowledge { try await services.knowledge.seedIfEmpty() }
    if settings.demo {
        return try await DemoData.load(into: services, taxpayers: settings.demoTaxpayers, closedPeriod: settings.demoClosedPeriod)
    }
    return []
}

/// A setting that cannot work, named at start (CONVENTIONS: configuration fails loudly).
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let why) = self { return why }; return "" }
}
