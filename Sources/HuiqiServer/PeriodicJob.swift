import Logging
import Vapor

/// Work the server repeats while it is up: reminder delivery, the audit chain, the complaint sweep, the database
/// probe. A failure is logged and the job waits `afterFailure` before it tries again, so a database that is away
/// gives one warning per pause, not a stream. At shutdown the loop is cancelled and `atShutdown` runs once.
final class PeriodicJob: LifecycleHandler, @unchecked Sendable {
    let name: String, every: Duration, afterFailure: Duration
    let body: @Sendable (Logger) async throws -> Void
    let atShutdown: (@Sendable () async -> Void)?
    var task: Task<Void, Never>?

    init(_ name: String, every: Duration, afterFailure: Duration? = nil, atShutdown: (@Sendable () async -> Void)? = nil,
         _ body: @escaping @Sendable (Logger) async throws -> Void) {
        self.name = name; self.every = every; self.afterFailure = afterFailure ?? every
        self.atShutdown = atShutdown; self.body = body
    }

    func didBootAsync(_ app: Application) async throws {
        let logger = app.logger, name = self.name, every = self.every, afterFailure = self.afterFailure, body = self.body
        task = Task {
            while !Task.isCancelled {
                var pause = every
                do { try await body(logger) } catch {
                    logger.warning("\(name): \(String(reflecting: error))")
                    pause = afterFailure
                }
                try? await Task.sleep(for: pause)
            }
        }
    }

    func shutdownAsync(_ app: Application) async {
        task?.cancel()
        await atShutdown?()
    }
}
