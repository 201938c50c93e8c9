import NIOCore
import Synchronization

/// Statements that arrive while earlier ones are still at the database wait, and then go together as one statement:
/// for the server's filings on PostgreSQL, one round trip and, for the write, one commit for many (group commit;
/// docs/performance.md, "Filings written together").
///
/// - At most `maxInFlight` statements are at the database at once. An input that finds a free slot goes at once and
///   alone, so a quiet server adds no wait to any request; under load the inputs queued behind a statement form the
///   next one.
/// - Inputs with the same `key` never share a statement (one statement cannot update a row twice): a later one waits
///   for a later statement. Reads give no key.
/// - The write sorts each statement's rows by key, so two statements at the database at once lock the rows they share
///   in the same order and cannot deadlock each other.
/// - When the database refuses a statement of several (`runAlone`), nothing of it was written. Each input is then run
///   alone, so each gets its own answer: one duplicate idempotency key does not refuse the others. Any
///   other failure (no connection within the pool's wait) is every input's answer: running them one by one would
///   only multiply the wait of an overloaded server.
public final class StatementBatcher<Input: Sendable, Key: Hashable & Sendable, Output: Sendable>: Sendable {
    public typealias Many = @Sendable ([Input]) async throws -> [Output]
    public typealias One = @Sendable (Input) async throws -> Output

    private struct Waiter: Sendable {
        let input: Input
        let key: Key?
        let continuation: CheckedContinuation<Output, any Error>
        /// The event loop the input came from, where it is answered (`home`).
        let loop: (any EventLoop)?
    }
    private struct State: Sendable {
        var waiting: [Waiter] = []
        var inFlight = 0
    }

    private let state = Mutex(State())
    private let observe: @Sendable (BatchedStatement) -> Void
    private let maxBatch: Int, maxInFlight: Int
    private let key: (@Sendable (Input) -> Key)?
    private let many: Many, one: One
    private let runAlone: @Sendable (any Error) -> Bool
    private let home: @Sendable () -> (any EventLoop)?

    /// `many` answers its inputs in their order, one output each; `one` runs one input alone; `runAlone` says which
    /// failures of `many` are worth running each input alone; `observe` hears of every statement once it has run;
    /// `home` names the event loop the caller runs on, if any.
    public init(maxBatch: Int, maxInFlight: Int, key: (@Sendable (Input) -> Key)? = nil, many: @escaping Many, one: @escaping One,
                runAlone: @escaping @Sendable (any Error) -> Bool = { _ in true }, observe: @escaping @Sendable (BatchedStatement) -> Void = { _ in },
                home: @escaping @Sendable () -> (any EventLoop)? = { nil }) {
        self.maxBatch = max(1, maxBatch); self.maxInFlight = max(1, maxInFlight); self.home = home
        self.key = key; self.many = many; self.one = one; self.runAlone = runAlone; self.observe = observe
    }

    /// The inputs waiting for a statement.
    public var waiting: Int { state.withLock { $0.waiting.count } }

    /// Runs `input`, alone or with others, and returns its output or its own error.
    public func submit(_ input: Input) async throws -> Output {
        let key = key?(input), loop = home()
        return try await withCheckedThrowingContinuation { continuation in
            let batch = state.withLock { state -> [Waiter]? in
                state.waiting.append(Waiter(input: input, key: key, continuation: continuation, loop: loop))
                return next(&state)
            }
            if let batch { start(batch) }
        }
    }

    /// Takes the next statement's inputs when a slot is free: the oldest waiters, at most `maxBatch`, no key twice.
    private func next(_ state: inout State) -> [Waiter]? {
        guard state.inFlight < maxInFlight, !state.waiting.isEmpty else { return nil }
        var batch: [Waiter] = [], keys = Set<Key>(), left: [Waiter] = []
        for waiter in state.waiting {
            if batch.count < maxBatch, waiter.key.map({ keys.insert($0).inserted }) ?? true { batch.append(waiter) } else { left.append(waiter) }
        }
        state.waiting = left
        state.inFlight += 1
        return batch
    }

    private func start(_ batch: [Waiter]) {
        Task { await self.run(batch) }
    }

    private func run(_ batch: [Waiter]) async {
        var answers: [Result<Output, any Error>]
        if batch.count == 1 {
            answers = [await Result(catching: { try await one(batch[0].input) })]
            observe(.alone)
        } else {
            do {
                let outputs = try await many(batch.map(\.input))
                // A write that answered wrongly may still have committed: never run again, only refused.
                guard outputs.count == batch.count else { throw StoreError.malformedPage }
                answers = outputs.map { .success($0) }
                observe(.together(batch.count))
            } catch where runAlone(error) {
                answers = await alone(batch)
                observe(.apart(batch.count))
            } catch {
                answers = Array(repeating: .failure(error), count: batch.count)
                observe(.failed(batch.count))
            }
        }
        // The slot is handed on before anyone is answered: the statement behind this one starts at once.
        if let following = state.withLock({ state -> [Waiter]? in state.inFlight -= 1; return next(&state) }) { start(following) }
        answer(batch, with: answers)
    }

    /// Resumes each waiter on the event loop it came from. A task resumed here would continue on this thread (NIO
    /// runs the server's tasks on the loop that resumes them), so a group's requests would all carry on, one after
    /// another, on the loop that ran the statement while the other loop had nothing to do.
    private func answer(_ batch: [Waiter], with answers: [Result<Output, any Error>]) {
        var elsewhere: [ObjectIdentifier: (loop: any EventLoop, waiters: [(Waiter, Result<Output, any Error>)])] = [:]
        for (waiter, answer) in zip(batch, answers) {
            if let loop = waiter.loop, !loop.inEventLoop {
                elsewhere[ObjectIdentifier(loop), default: (loop, [])].waiters.append((waiter, answer))
            } else {
                waiter.continuation.resume(with: answer)
            }
        }
        for (loop, waiters) in elsewhere.values {
            loop.execute { for (waiter, answer) in waiters { waiter.continuation.resume(with: answer) } }
        }
    }

    /// Each input run alone, concurrently, in its own statement.
    private func alone(_ batch: [Waiter]) async -> [Result<Output, any Error>] {
        await withTaskGroup(of: (Int, Result<Output, any Error>).self) { group in
            for (index, waiter) in batch.enumerated() {
                group.addTask { (index, await Result(catching: { try await self.one(waiter.input) })) }
            }
            var answers = [Result<Output, any Error>?](repeating: nil, count: batch.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers.map { $0! }
        }
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing body.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// What one statement of a `StatementBatcher` was, for the operators' metrics.
public enum BatchedStatement: Sendable, Equatable {
    /// One input, alone.
    case alone
    /// This many inputs in one statement.
    case together(Int)
    /// A statement of this many failed, and each input was then run alone.
    case apart(Int)
    /// A statement of this many failed, and that was each input's answer.
    case failed(Int)
}
