import Foundation
@testable import HuiqiStore
import SQLKit
import Synchronization
import Testing
import Vapor

/// Filings written together (`StatementBatcher`, `AppendVersionsStatement`): who goes with whom, what a failed group does,
/// and what one statement of several filings writes on PostgreSQL.
@Suite struct StatementBatcherTests {
    /// A stand-in for a database statement that holds until the test opens its gate, and records who went together.
    final class Writes: Sendable {
        let groups = Mutex<[[Int]]>([])
        let gate = AsyncStream<Void>.makeStream()
        let started = AsyncStream<Void>.makeStream()
        /// The inputs it refuses when written alone.
        let refused: Set<Int>
        let groupsFail: Bool
        init(refused: Set<Int> = [], groupsFail: Bool = false) { self.refused = refused; self.groupsFail = groupsFail }

        func one(_ input: Int) async throws -> Int {
            let first = groups.withLock { $0.append([input]); return $0.count == 1 }
            if first { started.continuation.yield(); for await _ in gate.stream { break } }
            if refused.contains(input) { throw StoreError.constraint }
            return input * 10
        }
        func many(_ inputs: [Int]) async throws -> [Int] {
            groups.withLock { $0.append(inputs) }
            if groupsFail { throw StoreError.constraint }
            return inputs.map { $0 * 10 }
        }
    }

    /// Submits `inputs` one after another, each once the one before waits, while the first is held at the gate;
    /// then opens it and collects every answer in input order.
    func run(_ commit: StatementBatcher<Int, String, Int>, _ writes: Writes, first: Int, then inputs: [Int]) async throws -> [Result<Int, any Error>] {
        let held = Task { await Result(catching: { try await commit.submit(first) }) }
        for await _ in writes.started.stream { break }
        var tasks: [Task<Result<Int, any Error>, Never>] = []
        for (i, input) in inputs.enumerated() {
            tasks.append(Task { await Result(catching: { try await commit.submit(input) }) })
            // Bounded: a batcher that lost an input fails the test instead of hanging it.
            for _ in 0..<5_000 where commit.waiting < i + 1 { try await Task.sleep(for: .milliseconds(1)) }
            try #require(commit.waiting == i + 1, "input \(input) is not waiting")
        }
        writes.gate.continuation.yield()
        var answers = [await held.value]
        for task in tasks { answers.append(await task.value) }
        return answers
    }

    /// One statement at a time: the first input goes alone at once; the inputs that arrive meanwhile form the next
    /// statements, oldest first, at most three, and never two of one key (1, 2 and 7 are one return).
    @Test func groupsFormBehindTheStatementInFlight() async throws {
        let writes = Writes()
        let keys = [1: "a", 2: "a", 3: "b", 4: "c", 5: "d", 6: "e", 7: "a", 0: "z"]
        let written = Mutex<[BatchedStatement]>([])
        let commit = StatementBatcher<Int, String, Int>(maxBatch: 3, maxInFlight: 1, key: { keys[$0]! },
                                                   many: { try await writes.many($0) }, one: { try await writes.one($0) },
                                                   observe: { w in written.withLock { $0.append(w) } })
        let answers = try await run(commit, writes, first: 0, then: [1, 2, 3, 4, 5, 6, 7])
        #expect(answers.map { try? $0.get() } == [0, 10, 20, 30, 40, 50, 60, 70])
        #expect(writes.groups.withLock { $0 } == [[0], [1, 3, 4], [2, 5, 6], [7]])
        #expect(written.withLock { $0 } == [.alone, .together(3), .together(3), .alone])
        #expect(commit.waiting == 0)
    }

    /// A group whose statement fails wrote nothing; each of its inputs is then written alone and gets its own answer.
    @Test func aFailedGroupIsWrittenOneByOne() async throws {
        let writes = Writes(refused: [2], groupsFail: true)
        let written = Mutex<[BatchedStatement]>([])
        let commit = StatementBatcher<Int, String, Int>(maxBatch: 8, maxInFlight: 1, key: { "\($0)" },
                                                   many: { try await writes.many($0) }, one: { try await writes.one($0) },
                                                   observe: { w in written.withLock { $0.append(w) } })
        let answers = try await run(commit, writes, first: 0, then: [1, 2, 3])
        #expect(answers.map { try? $0.get() } == [0, 10, nil, 30])
        if case .failure(let error) = answers[2] { #expect(error as? StoreError == .constraint) } else { Issue.record("2 was written") }
        let groups = writes.groups.withLock { $0 }
        #expect(groups.first == [0] && groups.dropFirst().first == [1, 2, 3] && Set(groups.dropFirst(2)) == [[1], [2], [3]], "\(groups)")
        #expect(written.withLock { $0 } == [.alone, .apart(3)])
    }

    /// A group that fails otherwise than by the database's refusal (no connection in time) gives that error to every
    /// input, and nothing is run again: a write whose outcome is unknown must not be written twice.
    @Test func aGroupThatFailedOtherwiseIsNotRunAgain() async throws {
        let writes = Writes(groupsFail: true)
        let written = Mutex<[BatchedStatement]>([])
        let commit = StatementBatcher<Int, String, Int>(maxBatch: 8, maxInFlight: 1, key: { "\($0)" },
                                                        many: { try await writes.many($0) }, one: { try await writes.one($0) },
                                                        runAlone: { _ in false }, observe: { w in written.withLock { $0.append(w) } })
        let answers = try await run(commit, writes, first: 0, then: [1, 2, 3])
        #expect(answers.map { try? $0.get() } == [0, nil, nil, nil])
        #expect(answers.dropFirst().allSatisfy { if case .failure(let e) = $0 { e as? StoreError == .constraint } else { false } })
        #expect(writes.groups.withLock { $0 } == [[0], [1, 2, 3]])
        #expect(written.withLock { $0 } == [.alone, .failed(3)])
        // Only the database's own refusal is worth running alone.
        #expect(!Store.refusedByTheDatabase(StoreError.constraint))
    }

    /// Each input is answered on the event loop it came from (`home`), not on the thread that ran the statement: the
    /// answer waits while that loop is busy, and comes once it is free.
    @Test func answersGoBackToTheCallersEventLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let commit = StatementBatcher<Int, String, Int>(maxBatch: 8, maxInFlight: 1, many: { $0.map { $0 * 10 } }, one: { $0 * 10 },
                                                        home: { loop })
        // The loop is held busy until the test lets it go.
        let release = DispatchSemaphore(value: 0)
        loop.execute { release.wait() }
        let answer = Task { try await commit.submit(4) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(commit.waiting == 0, "the statement ran")
        let answered = Mutex(false)
        let watcher = Task { _ = try await answer.value; answered.withLock { $0 = true } }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!answered.withLock { $0 }, "answered while its loop was busy")
        release.signal()
        #expect(try await answer.value == 40)
        try await watcher.value
        // A caller on no event loop (a command, a test) is answered at once.
        let direct = StatementBatcher<Int, String, Int>(maxBatch: 8, maxInFlight: 1, many: { $0 }, one: { $0 }, home: { nil })
        #expect(try await direct.submit(5) == 5)
        try await group.shutdownGracefully()
    }

    /// One statement of three filings on PostgreSQL: a correction and two first versions, given out of key order, get
    /// their own versions, rows and audit entries (NULLs kept); a group with a duplicate idempotency key writes
    /// nothing at all; and the audit chain takes the entries as it takes any.
    @Test func oneStatementWritesSeveralFilings() async throws {
        try await withHuiqi(.postgres) { app in
            let store = Store(app.db)
            let postgres = try #require(store.postgresDatabase)
            let taxpayers = try await store.boundTaxpayers(user: "user-company").sorted()
            let t = try await token(app, "company", "huiqi-taxpayer")
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(taxpayers[0])/returns", token: t, body: vatQ2).status == .created)
            let template = try #require(try await store.versions(taxpayer: taxpayers[0], returnID: "vat:2026-Q1").first)
            func filing(_ taxpayer: String, _ period: String, key: String?, declared: Int64?, remote: String?) -> AppendVersionsStatement.Filing {
                var row = template
                row.taxpayer_id = taxpayer; row.return_id = "vat:\(period)"; row.period = period
                row.idempotency_key = key; row.declared_tax_fen = declared
                row.parameters_id = nil; row.screening = nil
                return .init(row: row, auditID: UUID().uuidString, remote: remote, detail: "group \(period)")
            }
            let other = filing(taxpayers[1], "2026-Q1", key: nil, declared: nil, remote: nil)
            let correction = filing(taxpayers[0], "2026-Q1", key: "g-1", declared: nil, remote: "10.0.0.1")
            let earlier = filing(taxpayers[0], "2019-Q4", key: nil, declared: 100, remote: "10.0.0.2")
            let versions = try await Store.appendVersions([other, correction, earlier], on: postgres, logger: app.logger)
            #expect(versions == [1, 2, 1])
            let rows = try await store.db.raw("""
                SELECT v.taxpayer_id, v.return_id, v.version, v.idempotency_key, v.declared_tax_fen, a.action, a.object, a.remote, c.version AS current
                FROM return_versions v JOIN audit_log a ON a.detail = 'group ' || v.period AND a.object = v.taxpayer_id || '/' || v.return_id || '/v' || v.version
                JOIN current_returns c ON c.taxpayer_id = v.taxpayer_id AND c.return_id = v.return_id
                WHERE a.detail LIKE 'group %' ORDER BY v.taxpayer_id, v.return_id
                """).all()
            struct Written: Equatable { let taxpayer, returnID: String; let version: Int; let key: String?; let declared: Int64?; let action: String, remote: String?; let current: Int }
            let seen = try rows.map { r in
                Written(taxpayer: try r.decode(column: "taxpayer_id", as: String.self), returnID: try r.decode(column: "return_id", as: String.self),
                        version: try r.decode(column: "version", as: Int.self), key: try r.decode(column: "idempotency_key", as: String?.self),
                        declared: try r.decode(column: "declared_tax_fen", as: Int64?.self), action: try r.decode(column: "action", as: String.self),
                        remote: try r.decode(column: "remote", as: String?.self), current: try r.decode(column: "current", as: Int.self))
            }
            #expect(seen == [
                Written(taxpayer: taxpayers[0], returnID: "vat:2019-Q4", version: 1, key: nil, declared: 100, action: "file_return", remote: "10.0.0.2", current: 1),
                Written(taxpayer: taxpayers[0], returnID: "vat:2026-Q1", version: 2, key: "g-1", declared: nil, action: "correct_return", remote: "10.0.0.1", current: 2),
                Written(taxpayer: taxpayers[1], returnID: "vat:2026-Q1", version: 1, key: nil, declared: nil, action: "file_return", remote: nil, current: 1),
            ].sorted { ($0.taxpayer, $0.returnID) < ($1.taxpayer, $1.returnID) })
            // All or nothing: the second filing reuses the key "g-1" of the same taxpayer.
            let before = (try await store.count("return_versions"), try await store.count("audit_log"))
            let refusal = await #expect(throws: (any Error).self) {
                _ = try await Store.appendVersions([filing(taxpayers[1], "2025-Q3", key: nil, declared: nil, remote: nil),
                                                    filing(taxpayers[0], "2025-Q3", key: "g-1", declared: nil, remote: nil)], on: postgres, logger: app.logger)
            }
            // The database's own refusal: the group's filings are then written one by one.
            #expect(refusal.map(Store.refusedByTheDatabase) == true)
            let after = (try await store.count("return_versions"), try await store.count("audit_log"))
            #expect(after == before)
            #expect(try await store.versions(taxpayer: taxpayers[1], returnID: "vat:2025-Q3").isEmpty)
            _ = try await store.chainAudit(wait: true, sweep: true)
            let chain = try await store.verifyAuditChain()
            #expect(chain.broken == nil && chain.entries == before.1)
        }
    }

    /// The grouped reads answer each input as its single statement does: the filing contexts of several taxpayers,
    /// sections and years (one taxpayer unknown, one input twice) with the user of a token (valid, unknown, expired at
    /// the time asked, none asked), and the users of several tokens (one unknown, one read after it expired).
    @Test func groupedReadsAnswerAsSingleOnes() async throws {
        try await withHuiqi(.postgres, closedPeriod: true) { app in
            let store = Store(app.db)
            let postgres = try #require(store.postgresDatabase)
            let taxpayers = try await store.boundTaxpayers(user: "user-company").sorted()
            let t = try await token(app, "company", "huiqi-taxpayer")
            let hash = TextDigest.sha256Hex(t)
            let tokens = [(hash, "2026-05-29T00:00:00Z"), ("unknown", "2026-05-29T00:00:00Z"), (hash, "2999-01-01T00:00:00Z"), ("", "")]
            var inputs: [FilingContextStatement] = []
            for taxpayer in taxpayers + ["91310115MA000000XX"] {
                for (section, year) in [("vat", 2026), ("vat", 2025), ("eit", 2025)] {
                    var input = FilingContextStatement(taxpayer: taxpayer, frequencyYear: section == "vat" ? year : 0, section: section, year: year,
                                                       returnID: "\(section):\(year)-Q1")
                    (input.tokenHash, input.now) = tokens[inputs.count % tokens.count]
                    inputs.append(input)
                }
            }
            inputs.append(inputs[0])
            let grouped = try await Store.runPrepared(FilingContextsStatement(inputs: inputs), on: postgres, logger: app.logger)
            #expect(grouped.map(\.0).sorted() == Array(1...inputs.count))
            var filed = 0, withUser = 0
            for (n, read) in grouped {
                let input = inputs[n - 1]
                let single = try await Store.runPrepared(input, on: postgres, logger: app.logger).first
                #expect(read == single, "input \(n)")
                #expect((read.context.taxpayer == nil) == input.taxpayer.hasSuffix("XX"), "input \(n)")
                let valid = input.tokenHash == hash && input.now.hasPrefix("2026")
                #expect(read.user?.login == (valid ? "company" : nil), "input \(n)")
                filed += read.context.filedThisYear.count
                withUser += read.user == nil ? 0 : 1
            }
            #expect(filed > 0 && withUser > 1)

            let users = try await Store.runPrepared(TokenUsersStatement(inputs: [
                TokenUserStatement(tokenHash: "unknown", now: "2026-05-29T00:00:00Z"),
                TokenUserStatement(tokenHash: hash, now: "2026-05-29T00:00:00Z"),
                TokenUserStatement(tokenHash: hash, now: "2999-01-01T00:00:00Z"),
            ]), on: postgres, logger: app.logger)
            #expect(users.map(\.0) == [2] && users.first?.1.login == "company")
            #expect(users.first?.1 == (try await Store.runPrepared(TokenUserStatement(tokenHash: hash, now: "2026-05-29T00:00:00Z"), on: postgres,
                                                                     logger: app.logger).first))
        }
    }

    /// Filings of many returns at once through the API: each is written once, with its own version and audit entry,
    /// on both databases (on PostgreSQL through the group commit).
    @Test(arguments: Backend.allCases)
    func concurrentFilingsOfManyReturns(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let t = try await token(app, "pudong", "huiqi-officer")
            var bodies: [(String, String)] = []
            for taxpayer in try await store.taxpayers(inOffices: ["13101150100"], search: nil, limit: 500) where taxpayer.vat_status == "small_scale" {
                guard let frequency = try await store.vatFrequency(taxpayer: taxpayer.id, year: 2025) else { continue }
                for quarter in 1...2 {
                    let period = frequency == "monthly" ? "2025-0\(quarter)" : "2025-Q\(quarter)"
                    bodies.append((taxpayer.id, #"{"vat":{"period":"\#(period)","sales":[{"kind":"goods","amount":"\#(50_000 + quarter).00","rate":"0.03"}]}}"#))
                }
            }
            try #require(bodies.count >= 16)
            func filings() async throws -> Int { try await store.auditCount(action: "file_return") + store.auditCount(action: "correct_return") }
            let filedBefore = try await filings()
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for (i, (taxpayer, body)) in bodies.enumerated() {
                    group.addTask { try await call(app, .POST, "/api/v1/taxpayers/\(taxpayer)/returns", token: t, body: body, headers: [("Idempotency-Key", "m-\(i)")]).status }
                    // The same request again: answered from the first, never written twice.
                    group.addTask { try await call(app, .POST, "/api/v1/taxpayers/\(taxpayer)/returns", token: t, body: body, headers: [("Idempotency-Key", "m-\(i)")]).status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == bodies.count && statuses.filter { $0 == .ok }.count == bodies.count, "\(statuses)")
            #expect(try await filings() == filedBefore + bodies.count)
            // Each request's version is there, and each return's versions run 1, 2, … with none twice.
            for (i, (taxpayer, _)) in bodies.enumerated() {
                let version = try #require(try await store.version(taxpayer: taxpayer, idempotencyKey: "m-\(i)"))
                let versions = try await store.versions(taxpayer: taxpayer, returnID: version.return_id).map(\.version)
                #expect(versions == Array(1...versions.count) && versions.contains(version.version))
            }
        }
    }
}
