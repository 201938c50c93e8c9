import ArgumentParser
import Foundation
import HuiqiServer
import NIOCore
import NIOPosix
import Vapor

/// `huiqi serve`: the platform on an embedded SQLite file (created and migrated on first start) or PostgreSQL.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the platform (web API) on 127.0.0.1:8080.")
    @ArgumentParser.Option(help: "Address to listen on.") var hostname = "127.0.0.1"
    @ArgumentParser.Option(help: "Port to listen on.") var port = 8080
    @ArgumentParser.Option(help: "postgres://… for PostgreSQL, or an SQLite file path (default: DATABASE_URL, else huiqi.sqlite).") var database: String?
    @ArgumentParser.Flag(help: "Fill an empty database with demo offices, taxpayers, returns and one login per role.") var demo = false
    @ArgumentParser.Option(help: "Log format: text (for people) or json (one object per line, for production; default: HUIQI_LOG_FORMAT, else text).")
    var logFormat: String?
    @ArgumentParser.Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @ArgumentParser.Option(help: "The address users reach the platform at; https://… makes cookies Secure and adds HSTS (default: HUIQI_PUBLIC_URL).")
    var publicURL: String?
    @ArgumentParser.Option(help: "A bearer token /metrics requires; without one /metrics answers loopback only (default: HUIQI_METRICS_TOKEN).")
    var metricsToken: String?
    @ArgumentParser.Option(help: "Days an API token lasts (default: HUIQI_TOKEN_DAYS, else 30).") var tokenDays: Int?
    @ArgumentParser.Option(help: "POST reminders (提醒) here as JSON, retried with backoff (default: HUIQI_WEBHOOK_URL; none: in the portal only).")
    var webhookURL: String?
    @ArgumentParser.Option(help: "Serve monitoring and statistics from snapshots at most this many seconds old; 0: live (default: HUIQI_MONITORING_SNAPSHOT_SECONDS, else 0).")
    var monitoringSnapshotSeconds: Int?
    @ArgumentParser.Option(help: "Run the complaint desk's warnings and escalations every N seconds, 0 never (default: HUIQI_COMPLAINT_SWEEP_SECONDS, else 300).")
    var complaintSweepSeconds: Int?
    @ArgumentParser.Option(help: "The IP address of a reverse proxy whose X-Forwarded-For is believed; repeat for several (default: HUIQI_TRUSTED_PROXIES, comma-separated; none: the header is ignored).")
    var trustedProxy: [String] = []
    @ArgumentParser.Option(help: "A CA certificate (PEM) that PostgreSQL's server certificate must chain to; TLS is then required (default: HUIQI_DATABASE_CA_FILE). Without it, the URL's sslmode decides.")
    var databaseCAFile: String?
    @ArgumentParser.Option(help: "PostgreSQL connections per event loop, one loop per core (default: HUIQI_DATABASE_CONNECTIONS, else 8).")
    var databaseConnections: Int?

    func run() async throws {
        // Swift concurrency's tasks run on the server's event loops instead of a pool of their own: a request's
        // handler then no longer hops between two sets of threads at every database call. Under the filing load this
        // took about a fifth off the server's CPU per filing (docs/performance.md, "Filing at the database's speed").
        // The price: a task that computes for long holds an event loop, so long synchronous work in a request (the
        // synthetic simulation) runs on the thread pool instead. Only `serve` does this; the jobs' commands do not.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let location = DatabaseLocation(database ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "huiqi.sqlite")
        let env = Environment(name: "production", arguments: ["huiqi", "serve", "--hostname", hostname, "--port", "\(port)"])
        guard let level = Logger.Level(rawValue: logLevel) else {
            printError("huiqi serve: --log-level must be one of trace, debug, info, notice, warning, error, critical")
            throw ExitCode(2)
        }
        switch logFormat ?? ProcessInfo.processInfo.environment["HUIQI_LOG_FORMAT"] ?? "text" {
        case "json": LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        case "text": LoggingSystem.bootstrap { var h = StreamLogHandler.standardOutput(label: $0); h.logLevel = level; return h }
        default:
            printError("huiqi serve: --log-format must be text or json")
            throw ExitCode(2)
        }
        let app = try await Application.make(env)
        do {
            let env = ProcessInfo.processInfo.environment
            guard let days = tokenDays ?? Int(env["HUIQI_TOKEN_DAYS"] ?? "30") else {
                printError("huiqi serve: HUIQI_TOKEN_DAYS must be a whole number of days")
                throw ExitCode(2)
            }
            guard let snapshotSeconds = monitoringSnapshotSeconds ?? Int(env["HUIQI_MONITORING_SNAPSHOT_SECONDS"] ?? "0"), snapshotSeconds >= 0 else {
                printError("huiqi serve: the monitoring snapshot age must be a whole number of seconds, 0 or more")
                throw ExitCode(2)
            }
            var settings = ServerSettings(database: location, demo: demo, publicURL: publicURL ?? env["HUIQI_PUBLIC_URL"],
                                                                 metricsToken: metricsToken ?? env["HUIQI_METRICS_TOKEN"], tokenDays: days,
                                                                 webhook: webhookURL ?? env["HUIQI_WEBHOOK_URL"])
            settings.monitoringSnapshotSeconds = snapshotSeconds
            guard let sweep = complaintSweepSeconds ?? Int(env["HUIQI_COMPLAINT_SWEEP_SECONDS"] ?? "300"), sweep >= 0 else {
                printError("huiqi serve: the complaint sweep interval must be a whole number of seconds, 0 or more")
                throw ExitCode(2)
            }
            settings.complaintSweepSeconds = sweep
            settings.trustedProxies = trustedProxy.isEmpty
                ? (env["HUIQI_TRUSTED_PROXIES"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                : trustedProxy
            settings.databaseCAFile = databaseCAFile ?? env["HUIQI_DATABASE_CA_FILE"]
            guard let connections = databaseConnections ?? Int(env["HUIQI_DATABASE_CONNECTIONS"] ?? "8"), (1...1000).contains(connections) else {
                printError("huiqi serve: the database connections per event loop must be a whole number from 1 to 1000")
                throw ExitCode(2)
            }
            settings.databaseConnectionsPerLoop = connections
            // The demo's knowledge base: the bundled questions, answers and policy documents (`huiqi kb seed` elsewhere).
            settings.seedKnowledge = demo
            let logins = try await configure(app, settings)
            if !logins.isEmpty {
                print("Demo logins / 演示账号:")
                for l in logins { print("  \(l.role)\t\(l.login)\t\(l.password)\t\(l.scope)") }
            }
            // Vapor's serve command stops on SIGINT and SIGTERM: it stops accepting connections, lets the requests in
            // flight finish, and returns; then the database pools close.
            try await app.execute()
            app.logger.notice("huiqi stopped: connections drained, shutting down the database pools")
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
