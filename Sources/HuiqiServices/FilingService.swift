import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore
import Synchronization

/// The result of filing: the stored version and the engine's determination for it.
public struct FiledReturn: Sendable {
    public let row: ReturnVersionRow
    /// True when the idempotency key had already been used: nothing new was written.
    public let replayed: Bool
    /// Prompts (提示、提醒) for the taxpayer, in Chinese and English.
    public let prompts: [Prompt]
}

/// What the engine and the registry make of a return before it is stored: the form's preview, the API's
/// `preview`, and the first half of filing.
public struct Assessment: Sendable {
    public let determination: Determination
    public let caseJSON: String
    public let section: String
    public let returnID: String
    public let period: String
    /// The period's last day: the day whose rules apply (a period across a rule change is refused by the engine).
    public let lastDay: Day
    /// Tax due for this return after relief (for EIT: this quarter's prepayment).
    public let tax: Money
    public let relief: Money
    public let prompts: [Prompt]
    /// What screening will need of the case (`ScreeningColumns`).
    public let screening: String?
    /// The overpayment credit the return may offset (抵顶), as read before filing.
    public let credit: CreditState
}

/// Filing (申报): the engine computes the relief, the declared figure is checked against it, and the return is
/// stored as a new version (更正申报 adds a version; nothing is overwritten). Every filing is audited.
public struct FilingService: Sendable {
    public let store: Store
    public let access: Access
    /// Checks the bearer token of an API filing (`file(token:…)`).
    public let auth: AuthService
    public let engine: Engine
    public let deadlines: FilingDeadlines
    public let now: @Sendable () -> Date
    /// The lists of parameter versions in force, by section and day: the same for every return of a period, so each
    /// is built and stored once (`storedDetermination`).
    let citedParameters = CitedParameters()

    public init(store: Store, access: Access, auth: AuthService, engine: Engine, deadlines: FilingDeadlines, now: @escaping @Sendable () -> Date) {
        self.store = store; self.access = access; self.auth = auth; self.engine = engine; self.deadlines = deadlines; self.now = now
    }

    /// Files one return for `taxpayerID`. The body is a CASES.md case holding exactly one of `vat`, `eit`,
    /// `business_income`; the taxpayer facts come from the registry, never from the body.
    /// Every attempt is counted (`huiqi_filings_total` by section and outcome).
    public func file(by actor: Actor, taxpayerID: String, caseJSON: String, declaredTax: Money?,
                     idempotencyKey: String?, remote: String?) async throws -> FiledReturn {
        try await counted(caseJSON) {
            try await performFiling(by: actor, taxpayerID: taxpayerID, input: try await read(by: actor, taxpayerID: taxpayerID, caseJSON: caseJSON),
                                    declaredTax: declaredTax, idempotencyKey: idempotencyKey, remote: remote)
        }
    }

    /// `file(by:…)` for a request whose bearer token is not checked yet (the JSON API). On PostgreSQL the token's user
    /// is read in the statement that reads the filing context (`Store.filingContext(tokenHash:…)`): one round trip a
    /// filing fewer. A token unknown or expired is `unauthenticated` whatever else the request holds, as before; a
    /// body that does not decode, or a taxpayer id that is not one, has its token checked first and is then refused
    /// as `file(by:…)` refuses it. `authenticated` hears of the actor as soon as the token is checked (the access
    /// log names the user of a refused filing too). A refused token is not counted as a filing (it never was).
    public func file(token: String, taxpayerID: String, caseJSON: String, declaredTax: Money?, idempotencyKey: String?, remote: String?,
                     authenticated: (Actor) -> Void) async throws -> FiledReturn {
        guard let decoded = try? Self.decodeReturn(caseJSON),
              (try? TextInput.check(taxpayerID, field: "taxpayer", maxLength: TextInput.maxIdentifier)) != nil else {
            let actor = try await auth.actor(token: token)
            authenticated(actor)
            return try await file(by: actor, taxpayerID: taxpayerID, caseJSON: caseJSON, declaredTax: declaredTax,
                                  idempotencyKey: idempotencyKey, remote: remote)
        }
        let (c, identity) = decoded, lookup = auth.lookup(token: token)
        let read = try await store.filingContext(tokenHash: lookup.hash, now: lookup.now, taxpayer: taxpayerID, section: identity.section,
                                                 year: identity.year, returnID: identity.returnID, vatYear: c.vat?.period.year)
        let actor = try await auth.actor(checked: read.user)
        authenticated(actor)
        return try await counted(caseJSON) {
            let input = FilingInput(taxpayer: try access.fileable(read.context.taxpayer, by: actor), caseJSON: caseJSON,
                                    body: .success((c, identity, read.context)))
            return try await performFiling(by: actor, taxpayerID: taxpayerID, input: input, declaredTax: declaredTax, idempotencyKey: idempotencyKey,
                                           remote: remote)
        }
    }

    /// Counts a filing's outcome (`huiqi_filings_total`): filed, replayed, or refused with its code.
    private func counted(_ caseJSON: String, _ filing: () async throws -> FiledReturn) async throws -> FiledReturn {
        do {
            let filed = try await filing()
            DomainMetrics.filing(section: filed.row.section, outcome: filed.replayed ? "replayed" : "filed")
            return filed
        } catch {
            DomainMetrics.filing(section: Self.sectionNamed(in: caseJSON), outcome: "refused", code: DomainMetrics.code(of: error))
            throw error
        }
    }

    /// The section a body names (for a refusal's label, before or without parsing): one of a closed set.
    static func sectionNamed(in caseJSON: String) -> String {
        let named = ["vat", "eit", "business_income"].filter { caseJSON.contains("\"\($0)\"") }
        return named.count == 1 ? named[0] : "unknown"
    }

    /// Files `input`, read for `taxpayerID` as the request names it.
    func performFiling(by actor: Actor, taxpayerID: String, input: FilingInput, declaredTax: Money?, idempotencyKey: String?,
                       remote: String?) async throws -> FiledReturn {
        let caseJSON = input.caseJSON
        let idempotencyKey = try TextInput.idempotencyKey(idempotencyKey)
        // The idempotency key is checked only when something fails: the unique (taxpayer_id, idempotency_key)
        // index refuses a second insert atomically, so the common path costs no extra round trip.
        // A key is scoped to the taxpayer; it answers only the request it was first given with (body and declared
        // tax, by SHA-256): the same key with another request is refused, naming the key.
        let digest = idempotencyKey.map { _ in Self.requestDigest(caseJSON: caseJSON, declaredTax: declaredTax) }
        func replay(after error: any Error) async throws -> FiledReturn {
            if let key = idempotencyKey, let existing = try await store.version(taxpayer: taxpayerID, idempotencyKey: key) {
                guard existing.request_digest == nil || existing.request_digest == digest else {
                    throw ServiceError.unprocessable(field: "Idempotency-Key",
                                                     zh: "该 Idempotency-Key 已用于另一份申报（\(existing.return_id) 第\(existing.version)版），请为新的请求使用新的键",
                                                     en: "this Idempotency-Key was used for another request (\(existing.return_id) version \(existing.version)); use a new key for a new request")
                }
                return FiledReturn(row: existing, replayed: true, prompts: Prompt.decode(existing.prompts_json))
            }
            throw error
        }
        let a: Assessment
        do { a = try assess(input, declaredTax: declaredTax) } catch { return try await replay(after: error) }
        let (determination, parameters) = try await storedDetermination(a)
        var row = ReturnVersionRow(taxpayer_id: taxpayerID, return_id: a.returnID, version: 0, section: a.section, period: a.period,
                                   case_json: a.caseJSON, determination_json: determination,
                                   computed_tax_fen: a.tax.fen, relief_fen: a.relief.fen, declared_tax_fen: declaredTax?.fen,
                                   idempotency_key: idempotencyKey, filed_by: actor.userID, filed_at: now().formatted(.iso8601),
                                   prompts_json: Prompt.json(a.prompts).serialized(indent: nil), request_digest: digest)
        row.screening = a.screening
        row.parameters_id = parameters?.id
        let detail = "tax \(a.tax), relief \(a.relief), declared \(declaredTax?.description ?? "-")"
        var prompts = a.prompts
        do {
            // An overpayment credited by a notice is offset (抵顶) against this return: the computed tax stays the
            // law's, the amount payable falls. Only then does filing take the ledger's transaction.
            let credit = a.credit
            if !credit.selfCredited, credit.balanceFen > 0 || credit.appliedFen > 0 {
                let payable = declaredTax ?? a.tax
                let base = a.prompts
                let written = try await store.appendVersionApplyingCredit(row, payableFen: payable.fen, auditID: UUID().uuidString, remote: remote,
                                                                          detail: detail) { offset, left in
                    Prompt.json(base + [Self.offsetPrompt(offset: Money(fen: offset), payable: payable, left: Money(fen: left))]).serialized(indent: nil)
                }
                row.version = written.version
                row.prompts_json = written.prompts
                prompts = Prompt.decode(written.prompts)
            } else {
                // The version number comes from the return's `current_returns` row, whose lock serializes concurrent
                // corrections of one return: no retry loop is needed.
                row.version = try await store.appendVersion(row, auditID: UUID().uuidString, remote: remote, detail: detail)
            }
        } catch {
            return try await replay(after: error)
        }
        // As every read of the version shows it: with its parameter list (`Store.withParameters`).
        if let parameters { row.determination_json = ParameterList.inline(parameters.json, into: determination) }
        return FiledReturn(row: row, replayed: false, prompts: prompts)
    }

    /// The determination as stored with the return (the engine's output), and its `parameters`: every parameter
    /// version of the section in force for the period with its value and citation as applied (`version` is
    /// `name[key]@from`). A return filed today explains itself forever, whatever later happens to the parameter
    /// files (whose shipped versions are append-only, docs/parameters.md).
    ///
    /// The list is the same for every return of a section and day, so it is stored once (`parameter_lists`,
    /// migration 025) and the version names it: it was about 3,200 of a VAT determination's 4,700 bytes. Every read
    /// of the version puts it back (`Store.withParameters`). nil for a determination that is not a JSON object.
    func storedDetermination(_ a: Assessment) async throws -> (json: String, parameters: CitedParameters.List?) {
        let determination = a.determination.json.serialized(indent: nil)
        guard case .object = a.determination.json, determination.hasSuffix("}") else { return (determination, nil) }
        let prefix = a.section == "business_income" ? "pit.business." : a.section + "."
        let parameters = try await citedParameters.list(prefix: prefix, day: a.lastDay, build: {
            JSON.array(engine.parameters.inForce(on: a.lastDay).filter { $0.name.hasPrefix(prefix) }.map { v in
                JSON.object([("version", .string("\(v.name)\(v.key.map { "[\($0)]" } ?? "")@\(v.from)")), ("value", .string(v.value.description)),
                             ("cite", .string(v.cite.description)), ("grade", .string(v.cite.grade))])
            }).serialized(indent: nil)
        }, save: { try await store.saveParameterList(id: $0.id, json: $0.json) })
        return (determination, parameters)
    }

    /// What the taxpayer is told when a credit is offset against the return.
    static func offsetPrompt(offset: Money, payable: Money, left: Money) -> Prompt {
        Prompt(code: "offset_applied",
               zh: "已用多缴税款抵顶 \(offset) 元：申报税额 \(payable) 元，抵顶后实际应缴 \(payable - offset) 元；抵顶后余额 \(left) 元",
               en: "overpaid tax of \(offset) is offset: declared \(payable), payable after the offset \(payable - offset); balance left \(left)")
    }

    /// SHA-256 of what a filing request asks: the body as sent and the declared tax.
    static func requestDigest(caseJSON: String, declaredTax: Money?) -> String {
        TextDigest.sha256Hex("\(caseJSON)\u{1F}\(declaredTax?.description ?? "-")")
    }

    /// The tax a taxpayer declares, as typed in a form field or a header named `field`.
    public static func declaredTax(_ text: String, field: String) throws -> Money {
        guard let m = Money(decimal: text.trimmingCharacters(in: .whitespaces)), m >= .zero else {
            throw ServiceError.invalid(field: field, zh: "申报税额应为最多两位小数的非负金额", en: "declared tax must be a non-negative amount with at most two decimals")
        }
        return m
    }

    /// Computes a return without storing it: the determination, the registry checks and the prompts.
    public func preview(by actor: Actor, taxpayerID: String, caseJSON: String, declaredTax: Money?) async throws -> Assessment {
        try assess(try await read(by: actor, taxpayerID: taxpayerID, caseJSON: caseJSON), declaredTax: declaredTax)
    }

    /// A filing's body as decoded, and what the store holds for it.
    struct FilingInput {
        let taxpayer: TaxpayerRow
        /// The body as sent, stored as the version's case.
        let caseJSON: String
        /// The case with what was read for it, or why the body is refused: thrown by `assess`, after the actor's
        /// reach and the idempotency key were checked, in the order the API has always answered.
        let body: Result<(Case, Identity, FilingContext), any Error>
    }

    /// Decodes the body, then reads the taxpayer, its filing frequency, the year's returns and its credit in one
    /// round trip (`Store.filingContext`), and checks that the actor may file for the taxpayer. A body that does
    /// not decode reads the taxpayer alone: its refusal waits until the reach is checked.
    func read(by actor: Actor, taxpayerID: String, caseJSON: String) async throws -> FilingInput {
        let (c, identity): (Case, Identity)
        do { (c, identity) = try Self.decodeReturn(caseJSON) } catch {
            return FilingInput(taxpayer: try await access.fileableTaxpayer(taxpayerID, by: actor), caseJSON: caseJSON, body: .failure(error))
        }
        try TextInput.check(taxpayerID, field: "taxpayer", maxLength: TextInput.maxIdentifier)
        let context = try await store.filingContext(taxpayer: taxpayerID, section: identity.section, year: identity.year, returnID: identity.returnID,
                                                    vatYear: c.vat?.period.year)
        return FilingInput(taxpayer: try access.fileable(context.taxpayer, by: actor), caseJSON: caseJSON, body: .success((c, identity, context)))
    }

    /// A body as a case of exactly one section, and that return's identity. Knows nothing of the registry.
    static func decodeReturn(_ caseJSON: String) throws -> (Case, Identity) {
        let c = try CaseDecoder.decode(try Self.caseWithoutTaxpayer(caseJSON))
        let sections = [c.vat != nil, c.eit != nil, c.businessIncome != nil].filter { $0 }.count
        guard sections == 1, c.localTaxes == nil, c.businessTax == nil else {
            throw ServiceError.invalid(field: "case", zh: "一次申报只能包含 vat、eit、business_income 之一", en: "a return holds exactly one of vat, eit, business_income")
        }
        if c.eit?.annualTaxableIncome != nil {
            throw ServiceError.invalid(field: "eit.annual", zh: "此处申报季度预缴；年度汇算清缴不在本申报表中（可用 /api/v1/calc 计算）",
                                       en: "this return is the quarterly prepayment; the annual settlement is not filed here (compute it with /api/v1/calc)")
        }
        return (c, identity(of: c))
    }

    func assess(_ input: FilingInput, declaredTax: Money?) throws -> Assessment {
        var (c, identity, context) = try input.body.get()
        let taxpayer = input.taxpayer
        c.taxpayer = taxpayer.facts
        let today = Self.chinaDay(now())
        try checkRegistry(taxpayer, c, identity, vatFrequency: context.vatFrequency, today: today)
        let started = DispatchTime.now().uptimeNanoseconds
        let d = try engine.determine(c)
        DomainMetrics.engine(section: c.vat != nil ? "vat" : c.eit != nil ? "eit" : "business_income", nanoseconds: DomainMetrics.since(started))
        let (tax, relief) = Self.amounts(d)
        // RULES §5.2 floors the tax at 0; on a return, other relief above the tax before relief is a mistake in the
        // figures, so filing refuses it rather than printing "9500.00 − 999999.00 − 0.00 = 0.00".
        if let b = d.businessIncome, let other = c.businessIncome?.otherRelief, other > b.taxBeforeRelief {
            throw ServiceError.invalid(field: "business_income.other_relief",
                                       zh: "其他政策已减免的税额 \(other) 元大于减免前应纳税额 \(b.taxBeforeRelief) 元，请核对",
                                       en: "the relief under other policies, \(other) yuan, exceeds the tax before relief, \(b.taxBeforeRelief) yuan")
        }
        var prompts: [Prompt] = []
        if let declaredTax, declaredTax != tax {
            prompts.append(declaredTax > tax
                ? Prompt(code: "relief_not_claimed", zh: "申报税额 \(declaredTax) 高于按优惠政策计算的 \(tax)：可享受的减免未足额申报",
                         en: "declared tax \(declaredTax) is above the \(tax) the law gives: relief available but not claimed")
                : Prompt(code: "relief_not_due", zh: "申报税额 \(declaredTax) 低于计算的 \(tax)：申报的减免超过政策规定",
                         en: "declared tax \(declaredTax) is below the computed \(tax): relief claimed but not due"))
        }
        let earlier = context.filedThisYear.filter { $0.returnID != identity.returnID }
        prompts += FilingPrompts.earlierReturns(c, d, earlier: earlier, registeredOn: Day(iso: taxpayer.registered_on))
        prompts += FilingPrompts.deadline(identity, deadlines: deadlines, today: today, taxDue: tax > .zero)
        return Assessment(determination: d, caseJSON: input.caseJSON, section: identity.section, returnID: identity.returnID,
                          period: identity.period, lastDay: identity.lastDay, tax: tax, relief: relief, prompts: prompts,
                          screening: ScreeningColumns.encode(c), credit: context.credit)
    }

    /// A return's identity: which section, which return (section and period), and the month its deadline falls in.
    struct Identity { let section: String, returnID: String, period: String, year: Int, lastDay: Day, field: String, deadlineMonth: (Int, Int) }

    static func identity(of c: Case) -> Identity {
        func after(_ d: Day) -> (Int, Int) { d.month == 12 ? (d.year + 1, 1) : (d.year, d.month + 1) }
        if let v = c.vat {
            return Identity(section: "vat", returnID: "vat:\(v.period)", period: v.period.description, year: v.period.year,
                            lastDay: v.period.lastDay, field: "vat.period", deadlineMonth: after(v.period.lastDay))
        }
        if let e = c.eit {
            let q = e.startQuarter + e.quarters.count - 1
            let last = TaxPeriod.quarter(year: e.year, quarter: q).lastDay
            return Identity(section: "eit", returnID: "eit:\(e.year)-Q\(q)", period: "\(e.year)-Q\(q)", year: e.year, lastDay: last,
                            field: "eit.year", deadlineMonth: after(last))
        }
        let b = c.businessIncome!
        return Identity(section: "business_income", returnID: "business_income:\(b.year)", period: "\(b.year)", year: b.year,
                        lastDay: Day.lastOf(year: b.year, month: 12), field: "business_income.year", deadlineMonth: (b.year + 1, 3))
    }

    /// The registry's facts that a return must agree with: the period has ended, lies within the taxpayer's
    /// registration, and (VAT) matches the filing frequency (纳税期限) registered for that year.
    func checkRegistry(_ t: TaxpayerRow, _ c: Case, _ id: Identity, vatFrequency: String?, today: Day) throws {
        if id.lastDay >= today {
            throw ServiceError.invalid(field: id.field, zh: "所属期 \(id.period) 尚未结束，不能申报", en: "the period \(id.period) has not ended yet; it cannot be filed")
        }
        if let reg = Day(iso: t.registered_on), id.lastDay < reg {
            throw ServiceError.invalid(field: id.field, zh: "所属期 \(id.period) 早于税务登记日期 \(reg)", en: "the period \(id.period) ends before the registration on \(reg)")
        }
        if let gone = t.deregistered_on.flatMap(Day.init(iso:)), let first = c.vat?.period.firstDay ?? Day(year: id.year, month: 1, day: 1), first > gone {
            throw ServiceError.invalid(field: id.field, zh: "所属期 \(id.period) 晚于注销日期 \(gone)", en: "the period \(id.period) begins after the deregistration on \(gone)")
        }
        guard let v = c.vat else { return }
        guard let frequency = vatFrequency else {
            throw ServiceError.invalid(field: "vat.period", zh: "登记信息中没有 \(v.period.year) 年度的增值税纳税期限（按月或按季），请先向主管税务机关登记",
                                       en: "undetermined: needs the VAT filing frequency (monthly or quarterly) registered for \(v.period.year)")
        }
        if (frequency == "quarterly") != v.period.isQuarterly {
            let zh = frequency == "quarterly" ? "按季" : "按月", en = frequency
            throw ServiceError.invalid(field: "vat.period", zh: "\(v.period.year) 年度登记为\(zh)申报，所属期 \(v.period) 不符",
                                       en: "the taxpayer files \(en) in \(v.period.year); period \(v.period) does not match")
        }
    }

    /// Tax and relief of the single section of a determination (EIT: this quarter's prepayment).
    static func amounts(_ d: Determination) -> (Money, Money) {
        if let v = d.vat { return (v.tax, v.relief) }
        if let e = d.eit, let q = e.quarters.last { return (q.step.payable, q.step.relief.rounded()) }
        let b = d.businessIncome!
        return (b.tax, b.relief)
    }

    /// Today in China (UTC+8, no daylight saving), the day that deadlines and periods are measured in.
    public static func chinaDay(_ date: Date) -> Day {
        Day(ordinal: Int(((date.timeIntervalSince1970 + 8 * 3600) / 86_400).rounded(.down)))
    }

    /// The body of a filing is a CASES.md case without `taxpayer`: the facts come from the registry, so a body
    /// that states them is refused rather than silently overridden.
    static func caseWithoutTaxpayer(_ text: String) throws -> JSON {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch {
            throw Refusal.invalid("", zh: "不是有效的JSON：\(error.problem)", en: "not valid JSON: \(error.description)")
        }
        guard case .object(let kv) = json else { throw Refusal.invalid("", zh: "申报内容应为JSON对象", en: "the return must be a JSON object") }
        if kv.contains(where: { $0.0 == "taxpayer" }) {
            throw Refusal.invalid("taxpayer", zh: "纳税人信息取自登记信息，申报内容中不能填写 taxpayer",
                                  en: "taxpayer facts come from the registry; leave taxpayer out of the return")
        }
        return .object([("taxpayer", .object([]))] + kv)
    }

    /// The stored case of a return version, decoded again (it was valid when it was filed).
    public static func storedCase(_ caseJSON: String) -> Case? { ScreeningColumns.storedCase(caseJSON) }

    /// The versions of one return, oldest first.
    public func versions(by actor: Actor, taxpayerID: String, returnID: String) async throws -> [ReturnVersionRow] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        try TextInput.check(returnID, field: "return", maxLength: TextInput.maxIdentifier)
        let rows = try await store.versions(taxpayer: taxpayerID, returnID: returnID)
        guard !rows.isEmpty else { throw ServiceError.notFound }
        return rows
    }

    /// Who filed each version, as the actor may see it: staff see user ids; a taxpayer sees its own users' ids and,
    /// for a version filed by a tax officer, the officer's display name, never a staff login (issue 7).
    /// `logins`: the pages name a user by login where the API gives the id.
    public func filers(of rows: [ReturnVersionRow], for actor: Actor, logins: Bool = false) async throws -> [String: String] {
        let ids = Set(rows.map(\.filed_by))
        let users = try await store.users(ids: ids)
        func shown(_ id: String) -> String { logins ? users[id]?.login ?? id : id }
        guard actor.role == .taxpayer else { return Dictionary(uniqueKeysWithValues: ids.map { ($0, shown($0)) }) }
        return Dictionary(uniqueKeysWithValues: ids.map { id in
            guard let u = users[id], u.role != Actor.Role.taxpayer.rawValue else { return (id, shown(id)) }
            return (id, u.display_name.isEmpty ? "税务机关 tax office" : u.display_name)
        })
    }

    public func currentReturns(by actor: Actor, taxpayerID: String) async throws -> [ReturnVersionRow] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        return try await store.currentReturns(taxpayer: taxpayerID)
    }
}

/// The lists of parameter versions in force, by section prefix and day, each built and stored once by this process.
/// Bounded: past 4,096 days it starts again (a day per period of a few sections: far more than any filing season
/// touches).
final class CitedParameters: Sendable {
    /// A list's JSON text and its id in `parameter_lists` (`ParameterList.id`).
    struct List: Sendable { let id: String, json: String }
    private let cache = Mutex<[String: List]>([:])

    /// The list for `prefix` and `day`: built by `build` and stored by `save` the first time, so that no version
    /// names a list the database does not hold. Two filers may both store a new list; storing it twice is a no-op.
    func list(prefix: String, day: Day, build: () -> String, save: (List) async throws -> Void) async throws -> List {
        let key = "\(prefix)@\(day)"
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let json = build()
        let list = List(id: ParameterList.id(of: json), json: json)
        try await save(list)
        cache.withLock { c in
            if c.count >= 4096 { c.removeAll() }
            c[key] = list
        }
        return list
    }
}
