import Foundation
import Synchronization
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// What a screening job is asked to do: one return kind and period, under one office.
public struct ScreeningArguments: Codable, Sendable, Equatable {
    public let kind: String, period: String, office: String
    public init(kind: String, period: String, office: String) { self.kind = kind; self.period = period; self.office = office }
}

/// Screening after the deadline (事后筛查): every current return of the period is determined again by the engine
/// (VAT through the batch evaluator, the same kernels as filing) and compared with the tax the filer owed by it.
/// Findings: overpaid (relief missed), underpaid (relief claimed but not due), not filed, undetermined (the
/// missing fact named). An overpayment gets a notice and a credit in the offset ledger; an underpayment a notice
/// asking for a correction (更正申报), never a charge. Pages are written in one transaction each and keyed so
/// that a rerun adds only what is missing: killed at any point, the next run finishes the work.
public struct ScreeningService: Sendable {
    public let store: Store
    public let engine: Engine
    public let deadlines: FilingDeadlines
    public let now: @Sendable () -> Date
    /// Returns read per page (keyset paging: memory does not grow with the population).
    public var pageSize = 5000
    /// A running job that has not reported for this long is taken to be dead (its runner crashed).
    public var staleAfter: TimeInterval = 120
    /// The share of `current_returns`' pages sampled for the key that splits the returns into two page streams
    /// (`Store.middleReturnKey`); tests sample all of a small table to read it as two streams.
    public var splitSamplePercent = 1

    public init(store: Store, engine: Engine, deadlines: FilingDeadlines, now: @escaping @Sendable () -> Date) {
        self.store = store; self.engine = engine; self.deadlines = deadlines; self.now = now
    }

    /// Creates a screening job for the actor (officers and administrators; supervisors watch).
    public func start(by actor: Actor, kind: String, period: String, office asked: String?, monitoring: MonitoringService) async throws -> JobRow {
        guard actor.role == .officer || actor.role == .administrator else {
            throw ServiceError.forbidden("screening is started by tax officers / 筛查由税务人员发起")
        }
        let e = try FilingPeriod.resolve(kind: kind, period: period, deadlines: deadlines)
        let office = try await monitoring.office(asked, for: actor)
        guard Day(iso: e.deadline)! < FilingService.chinaDay(now()) else {
            throw ServiceError.unprocessable(field: "period", zh: "申报期限 \(e.deadline) 尚未届满，事后筛查须在期限之后进行",
                                             en: "the deadline \(e.deadline) has not passed; screening comes after it")
        }
        let arguments = ScreeningArguments(kind: kind, period: period, office: office.id)
        let job = JobRow(id: UUID().uuidString, kind: "screen", arguments: String(decoding: try JSONEncoder().encode(arguments), as: UTF8.self),
                         createdBy: actor.userID, createdAt: Self.instant(now()))
        try await store.insert(job: job)
        return job
    }

    public func job(_ id: String, by actor: Actor) async throws -> (JobRow, ScreeningArguments) {
        guard actor.role != .taxpayer else { throw ServiceError.notFound }
        try TextInput.check(id, field: "job", maxLength: TextInput.maxIdentifier)
        guard let job = try await store.job(id), job.kind == "screen",
              let args = try? JSONDecoder().decode(ScreeningArguments.self, from: Data(job.arguments.utf8)),
              actor.role == .administrator || actor.offices.contains(args.office) else { throw ServiceError.notFound }
        return (job, args)
    }

    /// Findings of a return kind and period under an office within the actor's reach (staff only).
    public func findings(by actor: Actor, kind: String, period: String, office asked: String?, finding: FindingRow.Kind?,
                         monitoring: MonitoringService, limit: Int = 1000) async throws -> [FindingRow] {
        let e = try FilingPeriod.resolve(kind: kind, period: period, deadlines: deadlines)
        let office = try await monitoring.office(asked, for: actor)
        return try await store.findings(section: e.section, period: e.period, under: office.id, kind: finding, job: nil, limit: limit)
    }

    /// Runs a queued job to the end, reporting progress after every page through `progress` (done, total).
    /// Errors end the job as failed, with the error recorded, and are rethrown.
    public func run(_ job: JobRow, progress: @Sendable (Int64, Int64) -> Void = { _, _ in }) async throws -> ScreeningSummary {
        let owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        _ = try await store.abandonStaleJobs(kind: "screen", staleBefore: Self.instant(now().addingTimeInterval(-staleAfter)), at: Self.instant(now()))
        try await abandonDeadRunners()
        guard try await store.start(job: job.id, owner: owner, at: Self.instant(now())) else {
            throw ServiceError.conflict(field: "job", zh: "该任务已在运行或已结束", en: "the job is already running or finished")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let metered: @Sendable (Int64, Int64) -> Void = { done, total in
            DomainMetrics.jobProgress(kind: "screen", done: done, total: total)
            progress(done, total)
        }
        do {
            let args = try JSONDecoder().decode(ScreeningArguments.self, from: Data(job.arguments.utf8))
            let summary = try await screen(args, job: job, progress: metered)
            try await store.finish(job: job.id, state: .succeeded, result: summary.json, error: nil, at: Self.instant(now()))
            DomainMetrics.jobEnded(kind: "screen", outcome: "succeeded", nanoseconds: DomainMetrics.since(started))
            return summary
        } catch {
            try? await store.finish(job: job.id, state: .failed, result: nil, error: "\(error)", at: Self.instant(now()))
            DomainMetrics.jobEnded(kind: "screen", outcome: "failed", nanoseconds: DomainMetrics.since(started))
            throw error
        }
    }

    /// Jobs left running by a process of this host that no longer exists (killed, crashed) are abandoned at once,
    /// without waiting for their heartbeat to go stale.
    func abandonDeadRunners() async throws {
        let host = ProcessInfo.processInfo.hostName
        for job in try await store.jobs(kind: "screen", limit: 100) where job.state == .running {
            guard let owner = job.owner, let colon = owner.lastIndex(of: ":"), owner[..<colon] == host,
                  let pid = Int32(owner[owner.index(after: colon)...]), pid != ProcessInfo.processInfo.processIdentifier else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try await store.finish(job: job.id, state: .abandoned, result: nil,
                                       error: "the runner (process \(pid)) stopped before the end; rerun to finish the work", at: Self.instant(now()))
            }
        }
    }

    func screen(_ args: ScreeningArguments, job: JobRow, progress: @Sendable (Int64, Int64) -> Void) async throws -> ScreeningSummary {
        let e = try FilingPeriod.resolve(kind: args.kind, period: args.period, deadlines: deadlines)
        let today = FilingService.chinaDay(now())
        let afterDeadline = Day(iso: e.deadline)! < today
        let lastDay = Day(iso: e.lastDay)!
        // On PostgreSQL the returns are read as two streams, one per half of the key range, each with its next page
        // asked for while the client determines and writes another: a page costs the database more than the client
        // (about 25 ms against 15 at ten million), and one stream kept one of its backends busy and the other idle.
        // SQLite, embedded, reads and writes in turn. The count of filed returns is read meanwhile on a backend of its
        // own. After the deadline each page also brings the missing returns of its key range (`Store.screenedPage`),
        // written with the page's findings; those after the last return's key are listed at the end.
        let store = self.store, returnID = e.returnID, office = args.office, size = pageSize
        let unfiledOf: ExpectedReturns? = afterDeadline ? e : nil
        let prefetch = store.db.dialect.name == "postgresql"
        let counting = ContinuousClock.now
        async let filedCount = store.countReturns(e.returnID, under: args.office)
        let middle = prefetch ? try await store.middleReturnKey(e.returnID, samplePercent: splitSamplePercent) : nil
        func fetch(after: String, through: String?) -> Task<ScreenedPage, any Error> {
            Task { try await store.screenedPage(returnID, under: office, after: after, through: through, limit: size, unfiled: unfiledOf) }
        }
        /// One half of the key range: the page asked for, and where the half ends (nil: the last key).
        struct Stream { var next: Task<ScreenedPage, any Error>?; let through: String? }
        var streams = middle.map { [Stream(next: fetch(after: "", through: $0), through: $0), Stream(next: fetch(after: $0, through: nil), through: nil)] }
            ?? [Stream(next: prefetch ? fetch(after: "", through: nil) : nil, through: nil)]
        defer { for s in streams { s.next?.cancel() } }
        // The progress bar's total: the filed returns at once, the missing ones added as the pages find them.
        var total = try await filedCount
        var summary = ScreeningSummary(parameters: parameterVersions(section: args.kind, on: lastDay))
        summary.milliseconds["count"] = (ContinuousClock.now - counting).milliseconds
        var done: Int64 = 0
        progress(0, total)
        try await store.progress(job: job.id, done: 0, total: total, at: Self.instant(now()))
        // Progress is stored at most once a second (each update is a commit), and always at the end of a phase.
        var reported = ContinuousClock.now
        func report(force: Bool = false) async throws {
            progress(done, total)
            guard force || ContinuousClock.now - reported > .seconds(1) else { return }
            reported = ContinuousClock.now
            try await store.progress(job: job.id, done: done, total: total, at: Self.instant(now()))
        }
        // The batch evaluator for the period's VAT rules and its year's EIT rules (nil when the period has none, and
        // for business income: every record goes the single-case way, and a refusal there names its reason).
        let batch: BatchEvaluator? = ["vat", "eit"].contains(args.kind)
            ? TaxPeriod(args.period).flatMap { try? BatchEvaluator(engine: engine, vatPeriod: $0, eitYear: $0.year) } : nil
        // A page's write, in flight while the next page is determined (PostgreSQL; SQLite writes in turn). One at a
        // time, so pages are written in the order they were read and each office's notices are numbered in that
        // order; the next page's taxpayers are others, so nothing it reads depends on the write. Since a page is a
        // merge join, the database's reads cost less than the client's determination, and a first national run spent
        // its time waiting for writes (49 of 80 s) with the client idle.
        struct PageWrite { let task: Task<(findings: Int, notices: [NoticeRow]), any Error>?; let findings: [FindingRow]; let screened: Int }
        var inFlight: PageWrite?
        func settle() async throws {
            guard let w = inFlight else { return }
            inFlight = nil
            let clock = ContinuousClock.now
            if let written = try await w.task?.value {
                summary.newFindings += written.findings
                summary.newNotices += written.notices.count
            }
            summary.milliseconds["write", default: 0] += (ContinuousClock.now - clock).milliseconds
            for f in w.findings { summary.add(f) }
            done += Int64(w.screened)
            try await report()
        }
        // The streams take turns; a stream ends with a page shorter than a full one. `covered`: the end of the ranges
        // read by the stream that ends at the last key (the streams' ranges are contiguous, so at the end it is the end
        // of all of them; taken from the database, whose order of keys is the one that counts).
        var after = "", turn = 0, covered: String?
        do {
            while !streams.isEmpty {
                turn = turn % streams.count
                let clock = ContinuousClock.now
                let scanned = try await (streams[turn].next ?? fetch(after: after, through: nil)).value
                summary.milliseconds["read", default: 0] += (ContinuousClock.now - clock).milliseconds
                if streams[turn].through == nil, let last = scanned.covered { covered = last }
                if let last = scanned.rows.last, scanned.rows.count == size {
                    after = last.taxpayer_id
                    streams[turn].next = prefetch ? fetch(after: last.taxpayer_id, through: streams[turn].through) : nil
                    turn += 1
                } else {
                    streams.remove(at: turn)
                }
                let page = scanned.rows.filter { $0.in_scope == 1 }
                guard !page.isEmpty || !scanned.unfiled.isEmpty else { continue }
                let evaluating = ContinuousClock.now
                let (filedFindings, notices) = try await evaluate(page, e: e, batch: batch, job: job.id)
                summary.milliseconds["evaluate", default: 0] += (ContinuousClock.now - evaluating).milliseconds
                let at = Self.instant(now())
                let findings = filedFindings + notFiledFindings(scanned.unfiled, e: e, job: job.id, at: at)
                total += Int64(scanned.unfiled.count)
                try await settle()
                let first = [page.first?.taxpayer_id, scanned.unfiled.first?.taxpayer].compactMap { $0 }.min() ?? ""
                let year = today.year
                let task = findings.isEmpty ? nil : Task {
                    try await self.record(findings, notices, job: job, year: year, at: at, detail: "\(e.returnID) after \(first)")
                }
                inFlight = PageWrite(task: task, findings: findings, screened: page.count + scanned.unfiled.count)
                if !prefetch { try await settle() }
            }
            try await settle()
        } catch {
            // Writes already under way are let finish (each is one transaction), so the job ends after its last write.
            _ = try? await inFlight?.task?.value
            throw error
        }
        // The missing returns after the last key the pages covered (all of them when no return was filed).
        let unfiledStarted = ContinuousClock.now
        if afterDeadline {
            let tail = try await store.allUnfiledReturns(e, under: args.office, after: covered)
            total += Int64(tail.count)
            for start in stride(from: 0, to: tail.count, by: pageSize) {
                let page = tail[start ..< min(start + pageSize, tail.count)]
                let at = Self.instant(now())
                let findings = notFiledFindings(Array(page), e: e, job: job.id, at: at)
                let written = try await record(findings, [], job: job, year: today.year, at: at, detail: "\(e.returnID) not filed after \(page.first!.taxpayer)")
                summary.newFindings += written.findings
                for f in findings { summary.add(f) }
                done += Int64(page.count)
                try await report()
            }
        }
        summary.milliseconds["not_filed"] = (ContinuousClock.now - unfiledStarted).milliseconds
        try await report(force: true)
        summary.screened = done
        return summary
    }

    /// Writes a page's findings and notices in one transaction, with the job's audit entry (`detail`: where the page begins).
    func record(_ findings: [FindingRow], _ notices: [NoticeDraft], job: JobRow, year: Int, at: String, detail: String) async throws
        -> (findings: Int, notices: [NoticeRow]) {
        try await store.record(findings: findings, notices: notices, year: year, by: job.created_by, at: at,
                               audit: AuditRow(id: UUID().uuidString, at: at, user_id: job.created_by, action: "screen",
                                               object: "job/\(job.id)", detail: detail, remote: nil))
    }

    /// A finding for each expected return that was never filed (version 0, no amount: what is owed is unknown).
    func notFiledFindings(_ unfiled: [(taxpayer: String, office: String)], e: ExpectedReturns, job: String, at: String) -> [FindingRow] {
        unfiled.map {
            FindingRow(taxpayer_id: $0.taxpayer, return_id: e.returnID, version: 0, kind: .notFiled, section: e.section, period: e.period,
                       office_id: $0.office, declared_fen: nil, law_tax_fen: nil, amount_fen: 0, missing: nil, job_id: job, found_at: at)
        }
    }

    /// The payable of each EIT prepayment of a page (本期应补, what `FilingService.amounts` reports), through the
    /// batch evaluator: evaluated with the quarters to date and without the last, the difference of the
    /// prepayments. Nil for a record the batch does not take: a start during the year (the batch path counts from
    /// Q1), a case of another year or length, or a refusal. Those go the single-case way, which names the reason.
    static func eitPayables(_ page: [ScreenedReturnRow], year: Int, quarter: Int, batch: BatchEvaluator) -> [Int64?] {
        var toDate = Population(), before = Population()
        var index: [Int] = []
        for (i, r) in page.enumerated() {
            guard let c = r.storedCase, let eit = c.eit, c.vat == nil, eit.year == year, eit.startQuarter == 1,
                  eit.annualTaxableIncome == nil, eit.quarters.count == quarter else { continue }
            var shorter = c
            shorter.eit?.quarters.removeLast()
            toDate.append(c); before.append(shorter)
            index.append(i)
        }
        var payable = [Int64?](repeating: nil, count: page.count)
        guard !index.isEmpty else { return payable }
        let now = batch.evaluate(toDate, threads: 2), earlier = batch.evaluate(before, threads: 2)
        for (k, i) in index.enumerated() where now.eitStatus[k] == BatchResult.ok && earlier.eitStatus[k] == BatchResult.ok {
            payable[i] = now.eitPrepaid[k] - earlier.eitPrepaid[k]
        }
        return payable
    }

    /// Determines one page again and compares with what was owed by each return.
    func evaluate(_ page: [ScreenedReturnRow], e: ExpectedReturns, batch: BatchEvaluator?, job: String) async throws -> ([FindingRow], [NoticeDraft]) {
        let at = Self.instant(now())
        var lawTax: [Int64?] = Array(repeating: nil, count: page.count)
        if let batch, e.section == "vat" {
            // VAT through the batch evaluator, the population built from the compact columns kept at filing
            // (`ScreeningColumns`); a record without them is read from its JSON.
            var population = Population()
            var index: [Int] = []
            for (i, r) in page.enumerated() where population.append(r) { index.append(i) }
            let result = batch.evaluate(population, threads: 2)
            for (k, i) in index.enumerated() where result.vatStatus[k] == BatchResult.ok { lawTax[i] = result.vatTax[k] }
        } else if let batch, e.section == "eit", case let .quarter(year, quarter)? = TaxPeriod(e.period) {
            lawTax = Self.eitPayables(page, year: year, quarter: quarter, batch: batch)
        }
        var findings: [FindingRow] = []
        var candidates: [(Int, FindingRow)] = []
        for (i, r) in page.enumerated() {
            var missing: String?
            if lawTax[i] == nil {
                // The single-case path: EIT and business income, and every VAT record the batch refused (it
                // names the refusal's field and reason).
                if let c = r.storedCase {
                    do { lawTax[i] = FilingService.amounts(try engine.determine(c)).0.fen }
                    catch { missing = "\(error.path): \(error.messageEn)" }
                } else {
                    missing = "case: the stored case cannot be read again"
                }
            }
            func finding(_ kind: FindingRow.Kind, _ amount: Int64) -> FindingRow {
                FindingRow(taxpayer_id: r.taxpayer_id, return_id: r.return_id, version: r.version, kind: kind, section: r.section, period: r.period,
                           office_id: r.office_id, declared_fen: r.payable_fen, law_tax_fen: lawTax[i], amount_fen: amount, missing: missing, job_id: job, found_at: at)
            }
            guard let law = lawTax[i] else { findings.append(finding(.undetermined, 0)); continue }
            if r.payable_fen > law { candidates.append((i, finding(.overpaid, r.payable_fen - law))) }
            if r.payable_fen < law { candidates.append((i, finding(.underpaid, law - r.payable_fen))) }
        }
        // A correction screened again is credited only with what earlier notices of the return did not cover.
        let noticed = try await store.noticedOverpayments(candidates.filter { $0.1.kind == .overpaid }.map { ($0.1.taxpayer_id, $0.1.return_id) })
        var notices: [NoticeDraft] = []
        let versions = parameterVersions(section: e.section, on: Day(iso: e.lastDay)!)  // the same for every notice of the period
        // Every candidate is a finding; those with an amount not yet noticed also get a notice.
        var due: [(Int, FindingRow, Int64)] = []
        for (i, f) in candidates {
            findings.append(f)
            let amount = f.kind == .overpaid ? f.amount_fen - (noticed["\(f.taxpayer_id)/\(f.return_id)"] ?? 0) : f.amount_fen
            if amount > 0 { due.append((i, f, amount)) }
        }
        // A notice's body needs the case: a VAT page's row makes it from its compact form (`storedCase`), others carry it.
        for (i, f, amount) in due {
            notices.append(NoticeDraft(kind: f.kind == .overpaid ? .overpayment : .correction, finding: f, amountFen: amount,
                                       body: noticeBody(page[i], f, amount: amount, parameters: versions)))
        }
        return (findings, notices)
    }

    /// The notice's content: the amounts, the computation with its legal basis (the engine's rules and trace for
    /// this return, determined again), the parameter versions applied, and how the money comes back.
    func noticeBody(_ r: ScreenedReturnRow, _ f: FindingRow, amount: Int64, parameters: [String]) -> String {
        var section: JSON = .null
        if let c = r.storedCase {
            if let d = try? engine.determine(c), case .object(let kv) = d.json, let s = kv.first?.1 { section = s }
        }
        func get(_ key: String) -> JSON { if case .object(let kv) = section { return kv.first { $0.0 == key }?.1 ?? .array([]) }; return .array([]) }
        let overpaid = f.kind == .overpaid
        let remedyZh = overpaid ? "多缴税款可抵顶以后同一税种的应纳税额（申报时自动抵顶），也可申请退税，由主管税务机关审核后退还。"
                                : "申报的减免超过政策规定，请办理更正申报（不会自动补征）。"
        let remedyEn = overpaid ? "The overpaid tax is offset against later returns of the same tax (applied automatically at filing), or refunded on request after the tax office approves."
                                : "The relief claimed exceeds what the law gives: please file a correction (更正申报); nothing is charged automatically."
        return JSON.object([
            ("declared_tax", .string(Money(fen: r.payable_fen).description)), ("law_tax", .string(Money(fen: f.law_tax_fen ?? 0).description)),
            ("amount", .string(Money(fen: amount).description)), ("rules", get("rules")), ("trace", get("trace")), ("trace_zh", get("trace_zh")),
            ("parameters", .array(parameters.map { .string($0) })),
            ("remedy_zh", .string(remedyZh)), ("remedy_en", .string(remedyEn)),
        ]).serialized(indent: nil)
    }

    /// The parameter versions of a section in force on a day (`name[key]@from`): what a run or a notice used.
    func parameterVersions(section: String, on day: Day) -> [String] {
        let prefix = section == "business_income" ? "pit.business." : section + "."
        return engine.parameters.inForce(on: day).filter { $0.name.hasPrefix(prefix) }.map { "\($0.name)\($0.key.map { "[\($0)]" } ?? "")@\($0.from)" }
    }

    static func instant(_ date: Date) -> String { date.formatted(.iso8601) }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// Counts and amounts of one screening run, and the parameter versions it used (stored as the job's result).
public struct ScreeningSummary: Sendable, Codable {
    public var screened: Int64 = 0
    public var counts: [String: Int64] = [:]
    public var amounts: [String: Int64] = [:]
    public var newFindings = 0, newNotices = 0
    public var parameters: [String]
    /// Where the time went: reading pages, determining them, writing findings (milliseconds), for operators and
    /// docs/performance.md.
    public var milliseconds: [String: Int64] = [:]
    init(parameters: [String]) { self.parameters = parameters }
    mutating func add(_ f: FindingRow) { add(f.kind, count: 1, amount: f.amount_fen) }
    /// `count` findings of one kind, `amount` fen in all (the kind is listed even at 0 fen, as missing returns are).
    mutating func add(_ kind: FindingRow.Kind, count: Int64, amount: Int64) {
        counts[kind.rawValue, default: 0] += count
        amounts[kind.rawValue, default: 0] += amount
    }
    var json: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}
