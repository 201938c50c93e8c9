import ArgumentParser
import Foundation
import HuiqiServer
import Vapor

/// `huiqi serve`: the platform on an embedded SQLite file (created and migrated on first start) or PostgreSQL.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the platform (web API) on 127.0.0.1:8080.")
    @ArgumentParser.Option(help: "Address to listen on.") var hostname = "127.0.0.1"
    @ArgumentParser.Option(help: "Port to listen on.") var port = 8080
    @ArgumentParser.Option(help: "postgres://… for PostgreSQL, or an SQLite file path (default: DATABASE_URL, else huiqi.sqlite).") var database: String?
    @ArgumentParser.Flag(help: "Fill an empty database with demo offices, taxpayers, returns and one login per role.") var demo = false

    func run() async throws {
        let location = DatabaseLocation(database ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "huiqi.sqlite")
        var env = Environment(name: "production", arguments: ["huiqi", "serve", "--hostname", hostname, "--port", "\(port)"])
        try LoggingSystem.bootstrap(from: &env)
        let app = try await Application.make(env)
        do {
            let logins = try await configure(app, ServerSettings(database: location, demo: demo))
            if !logins.isEmpty {
                print("Demo logins / 演示账号:")
                for l in logins { print("  \(l.role)\t\(l.login)\t\(l.password)\t\(l.scope)") }
            }
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
