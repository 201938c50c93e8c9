import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// The administration loop end to end, on both databases: a filing period → monitoring figures → reminders
/// (delivered to a webhook receiver on loopback, retried after a failure) → screening → notices → the next
/// quarter's filing consumes the credit → a refund of the rest. Every figure is computed by hand below.
///
/// Five small-scale enterprises of a new 税务所 under 浦东新区 file VAT for 2026-Q1 (deadline 2026-04-20; the
/// quarterly exemption limit is 300,000 and taxed sales pay 1%, 增值税法 第二十三条, 财政部 税务总局公告2026年第10号):
/// - A: sales 200,000 → exempt, tax 0, relief 6,000; declares 0, on 2026-04-08.
/// - B: sales 200,000 → tax 0, relief 6,000; declares 6,000 (relief not claimed) on 2026-04-09 → overpaid 6,000.
/// - C: sales 400,000 → tax 4,000, relief 8,000; declares 4,000 late, on 2026-04-22.
/// - D: sales 400,000 → tax 4,000, relief 8,000; declares 1,000 on 2026-04-09 → underpaid 3,000.
/// - E: files nothing.
let branch = "13101150900"
func code(_ n: Int) -> String {
    let body = "91310115MA7ADM00\(n)"
    return body + String(CreditCode.checkCharacter(for: body)!)
}
func vat(_ period: String, _ sales: String) -> String {
    #"{"vat":{"period":"\#(period)","sales":[{"kind":"goods","amount":"\#(sales)","rate":"0.03"}]}}"#
}

/// The branch office, five taxpayers (quarterly VAT filers in 2026) and a taxpayer login for B.
func register(_ store: Store, count: Int = 5, firstIndex: Int = 0, login: String = "b-company") async throws -> [String] {
    if try await store.office(branch) == nil {
        try await store.insert(offices: [OfficeRow(id: branch, parent_id: "13101150000", name: "浦东新区税务局第九税务所", level: "branch", region_code: "310115")])
    }
    let ids = (firstIndex..<(firstIndex + count)).map(code)
    try await store.insert(taxpayers: ids.enumerated().map {
        TaxpayerRow(id: $0.element, name: "测试企业\($0.offset + firstIndex)", kind: "enterprise", vat_status: "small_scale", industry: "other",
                    restricted_industry: false, region: "310115", office_id: branch, registered_on: "2020-01-01")
    })
    try await store.insert(frequencies: ids.map { ($0, 2026, "quarterly") })
    try await store.insert(users: [UserRow(id: "user-\(login)", login: login, password_hash: try AuthService.hash(password: "huiqi-taxpayer"),
                                           role: "taxpayer", office_id: nil)])
    try await store.bind(user: "user-\(login)", taxpayers: [ids[min(1, count - 1)]])
    return ids
}

func file(_ app: Application, _ token: String, _ taxpayer: String, _ body: String, declared: String) async throws -> Reply {
    try await call(app, .POST, "/api/v1/taxpayers/\(taxpayer)/returns", token: token, body: body, headers: [("Huiqi-Declared-Tax", declared)])
}

/// Polls a job until it is no longer queued or running.
func finished(_ app: Application, _ token: String, _ job: String) async throws -> JSON? {
    for _ in 0..<600 {
        let j = try await call(app, .GET, "/api/v1/jobs/\(job)", token: token).json
        if case .string(let state)? = j?["state"], state != "queued", state != "running" { return j }
        try await Task.sleep(for: .milliseconds(50))
    }
    return nil
}

@Suite struct AdministrationTests {
    static func finishedJob(_ app: Application, _ token: String, _ job: String) async throws -> JSON? { try await finished(app, token, job) }
    @Test(arguments: Backend.allCases)
    func filingPeriodToRefund(_ backend: Backend) async throws {
        let clock = TestClock("2026-04-08T02:00:00Z")
        try await withHuiqi(backend, now: clock.now) { app in
            let store = Store(app.db)
            let ids = try await register(store)
            let (a, b, c, d, e) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            var officer = try await token(app, "pudong", "huiqi-officer")
            // The filing period.
            #expect(try await file(app, officer, a, vat("2026-Q1", "200000.00"), declared: "0.00").status == .created)
            clock.set("2026-04-09T02:00:00Z")
            #expect(try await file(app, officer, b, vat("2026-Q1", "200000.00"), declared: "6000.00").status == .created)
            #expect(try await file(app, officer, d, vat("2026-Q1", "400000.00"), declared: "1000.00").status == .created)

            // Reminders: 3 working days before 2026-04-20 is 2026-04-15 (a Wednesday); on the 14th nothing is due yet.
            let receiver = try await WebhookReceiver.start(failFirst: 1)
            let clockNow = clock.now
            let reminders = ReminderService(store: store, deadlines: try FilingDeadlines.bundled(), now: clockNow, webhook: receiver.url)
            clock.set("2026-04-14T01:00:00Z")
            _ = try await reminders.generate(kind: "vat", period: "2026-Q1", workingDays: 3)
            let ours = Set(ids)
            func reasons() async throws -> [String: [String]] {
                var out: [String: [String]] = [:]
                for t in ids { out[t] = try await store.reminders(taxpayer: t).map(\.reason).sorted() }
                return out
            }
            #expect(try await reasons() == [a: [], b: ["relief_not_claimed"], c: [], d: [], e: []])
            clock.set("2026-04-15T01:00:00Z")
            _ = try await reminders.generate(kind: "vat", period: "2026-Q1", workingDays: 3)
            _ = try await reminders.generate(kind: "vat", period: "2026-Q1", workingDays: 3)  // a second run creates nothing
            #expect(try await reasons() == [a: [], b: ["relief_not_claimed"], c: ["due_soon"], d: [], e: ["due_soon"]])
            // Delivery: the receiver refuses the first POST; that reminder is retried after 30 s, not before.
            let first = try await reminders.deliverDue()
            #expect(first.failed == 1)
            #expect(try await reminders.deliverDue().delivered == 0)
            clock.advance(31)
            _ = try await reminders.deliverDue()
            let ourReminders = try await ids.asyncFlatMap { try await store.reminders(taxpayer: $0) }
            #expect(ourReminders.count == 3)
            for r in ourReminders {
                #expect(r.delivery == "delivered", "\(r.taxpayer_id) \(r.reason): \(r.delivery)")
                let attempts = try await store.attempts(reminder: r.id)
                #expect(attempts.last?.outcome == "delivered")
            }
            let received = await receiver.bodies.compactMap { try? JSONParser.parse($0) }.filter {
                if case .string(let t)? = $0["taxpayer_id"] { return ours.contains(t) }; return false
            }
            #expect(received.count == 3)
            #expect(received.allSatisfy { $0["reason"] != nil && $0["message_zh"] != nil && $0["return_id"] == .string("vat:2026-Q1") })
            let failedOnce = try await ourReminders.asyncFlatMap { try await store.attempts(reminder: $0.id) }.filter { $0.outcome == "failed" }
            #expect(await receiver.failures == 1 && failedOnce.count <= 1)
            await receiver.stop()

            // C files two days late.
            clock.set("2026-04-22T02:00:00Z")
            #expect(try await file(app, officer, c, vat("2026-Q1", "400000.00"), declared: "4000.00").status == .created)

            // Monitoring of the new 税务所 and of its district (drill-down), as the officer sees it.
            let m = try await call(app, .GET, "/api/v1/monitoring?kind=vat&period=2026-Q1&office=\(branch)", token: officer)
            #expect(m.status == .ok)
            let o = m.json?["office"]
            #expect(o?["expected"] == .number("5") && o?["filed"] == .number("4") && o?["not_filed"] == .number("1") && o?["late"] == .number("1"))
            #expect(o?["relief_due"] == .string("28000.00") && o?["relief_claimed"] == .string("25000.00"))
            #expect(o?["relief_not_claimed"] == .number("1") && o?["relief_not_due"] == .number("1") && o?["declared_not_computed"] == .number("2"))
            #expect(m.json?["deadline"] == .string("2026-04-20"))
            guard case .array(let days)? = m.json?["days"], case .array(let listed)? = m.json?["taxpayers"] else { Issue.record("days, taxpayers"); return }
            #expect(days.map { $0["day"] } == [.string("2026-04-08"), .string("2026-04-09"), .string("2026-04-22")])
            #expect(days.last?["cumulative"] == .number("4"))
            #expect(listed.count == 5 && listed.filter { $0["filed"] == .bool(false) }.map { $0["taxpayer_id"] } == [.string(e)])
            let district = try await call(app, .GET, "/api/v1/monitoring?kind=vat&period=2026-Q1&office=13101150000", token: officer)
            guard case .array(let children)? = district.json?["children"] else { Issue.record("children"); return }
            #expect(children.first { $0["office_id"] == .string(branch) }?["expected"] == .number("5"))
            // Out of reach: the 黄浦区 officer gets 404, a taxpayer 403, nobody 401.
            var huangpu = try await token(app, "huangpu", "huiqi-officer")
            #expect(try await call(app, .GET, "/api/v1/monitoring?kind=vat&period=2026-Q1&office=\(branch)", token: huangpu).status == .notFound)
            var taxpayer = try await token(app, "b-company", "huiqi-taxpayer")
            #expect(try await call(app, .GET, "/api/v1/monitoring?kind=vat&period=2026-Q1", token: taxpayer).status == .forbidden)
            #expect(try await call(app, .GET, "/api/v1/monitoring?kind=vat&period=2026-Q5", token: officer).status == .badRequest)

            // Screening after the deadline, started by the officer, runs as a job.
            clock.set("2026-05-06T02:00:00Z")
            let started = try await call(app, .POST, "/api/v1/screenings", token: officer, body: #"{"kind":"vat","period":"2026-Q1","office":"\#(branch)"}"#)
            #expect(started.status == .accepted)
            guard case .string(let jobID)? = started.json?["id"], let job = try await finished(app, officer, jobID) else { Issue.record("job"); return }
            #expect(job["state"] == .string("succeeded") && job["done"] == .number("5") && job["total"] == .number("5"))
            #expect(job["result"]?["counts"]?["overpaid"] == .number("1"))
            let findings = try await call(app, .GET, "/api/v1/findings?kind=vat&period=2026-Q1&office=\(branch)", token: officer)
            guard case .array(let fs)? = findings.json else { Issue.record("findings"); return }
            let found = fs.map { "\($0["taxpayer_id"]!.stringValue ?? "") \($0["kind"]!.stringValue ?? "") \($0["amount"]!.stringValue ?? "")" }.sorted()
            #expect(found == ["\(b) overpaid 6000.00", "\(d) underpaid 3000.00", "\(e) not_filed 0.00"].sorted())
            // A rerun over unchanged data creates nothing.
            let again = try await call(app, .POST, "/api/v1/screenings", token: officer, body: #"{"kind":"vat","period":"2026-Q1","office":"\#(branch)"}"#)
            guard case .string(let againID)? = again.json?["id"], let rerun = try await finished(app, officer, againID) else { Issue.record("rerun"); return }
            #expect(rerun["result"]?["newFindings"] == .number("0") && rerun["result"]?["newNotices"] == .number("0"))
            #expect(try await call(app, .GET, "/api/v1/findings?kind=vat&period=2026-Q1&office=\(branch)", token: officer).json == findings.json)

            // Notices: B's overpayment (number 1 of the office's 2026) and D's request for a correction (number 2).
            let notices = try await store.notices(taxpayer: b) + (try await store.notices(taxpayer: d))
            #expect(notices.map { "\($0.kind.rawValue) \($0.number) \($0.amount_fen)" } == ["overpayment 1 600000", "correction 2 300000"])
            let noticeID = notices[0].id
            #expect(notices[0].body.contains("财政部 税务总局公告2026年第10号") && notices[0].body.contains("\"amount\":\"6000.00\""))
            // The taxpayer opens it (read), acknowledges it; the officer sees the state; the ledger holds the credit.
            let read = try await call(app, .GET, "/api/v1/notices/\(noticeID)", token: taxpayer)
            #expect(read.status == .ok && read.json?["state"] == .string("read"))
            #expect(try await call(app, .POST, "/api/v1/notices/\(noticeID)/acknowledge", token: officer).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/notices/\(noticeID)/acknowledge", token: taxpayer).json?["state"] == .string("acknowledged"))
            #expect(try await call(app, .GET, "/api/v1/notices/\(notices[1].id)", token: taxpayer).status == .notFound)  // D's notice: not B's
            #expect(try await call(app, .GET, "/api/v1/taxpayers/\(b)/ledger", token: taxpayer).json?["balances"]?["vat"] == .string("6000.00"))

            // The next quarter: B's 2026-Q2 return (tax 4,000) takes 4,000 of the credit; corrections re-apply it.
            clock.set("2026-07-06T02:00:00Z")
            // API tokens last 30 days: everyone signs in again.
            officer = try await token(app, "pudong", "huiqi-officer")
            huangpu = try await token(app, "huangpu", "huiqi-officer")
            taxpayer = try await token(app, "b-company", "huiqi-taxpayer")
            let q2 = try await file(app, taxpayer, b, vat("2026-Q2", "400000.00"), declared: "4000.00")
            #expect(q2.status == .created)
            #expect(q2.body.contains("offset_applied") && q2.json?["return"]?["tax"] == .string("4000.00"))
            func balance() async throws -> Int64 { try await store.ledgerBalance(taxpayer: b, tax: "vat") }
            #expect(try await balance() == 2000_00)
            #expect(try await file(app, taxpayer, b, vat("2026-Q2", "500000.00"), declared: "5000.00").status == .created)  // tax 5,000
            #expect(try await balance() == 1000_00)
            #expect(try await file(app, taxpayer, b, vat("2026-Q2", "400000.00"), declared: "4000.00").status == .created)
            #expect(try await balance() == 2000_00)
            // A correction of the screened return itself does not spend its own credit.
            #expect(try await file(app, taxpayer, b, vat("2026-Q1", "200000.00"), declared: "0.00").status == .created)
            #expect(try await balance() == 2000_00)

            // A refund of the rest: asked by the taxpayer, approved by the officer.
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(b)/refunds", token: taxpayer, body: #"{"tax":"vat","amount":"2000.01"}"#).status == .unprocessableEntity)
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(b)/refunds", token: officer, body: #"{"tax":"vat","amount":"1"}"#).status == .forbidden)
            let refund = try await call(app, .POST, "/api/v1/taxpayers/\(b)/refunds", token: taxpayer, body: #"{"tax":"vat","amount":"2000.00"}"#)
            #expect(refund.status == .created)
            guard case .string(let refundID)? = refund.json?["id"] else { Issue.record("refund"); return }
            #expect(try await call(app, .POST, "/api/v1/refunds/\(refundID)/approve", token: taxpayer).status == .forbidden)
            #expect(try await call(app, .POST, "/api/v1/refunds/\(refundID)/approve", token: huangpu).status == .notFound)
            #expect(try await call(app, .POST, "/api/v1/refunds/\(refundID)/approve", token: officer).json?["state"] == .string("approved"))
            #expect(try await call(app, .POST, "/api/v1/refunds/\(refundID)/approve", token: officer).status == .conflict)
            #expect(try await balance() == 0)
            let ledger = try await store.ledger(taxpayer: b)
            #expect(ledger.map { "\($0.kind.rawValue) \($0.amount_fen) \($0.balance_fen)" }
                    == ["credit 600000 600000", "offset -400000 200000", "offset -100000 100000", "offset 100000 200000", "refund -200000 0"])
            let view = try await call(app, .GET, "/api/v1/notices/\(noticeID)", token: officer).json
            #expect(view?["state"] == .string("refunded") && view?["offset"] == .string("4000.00") && view?["refunded"] == .string("2000.00"))
            // Messages: B sees its reminder and the notice's message, and marks one read.
            let messages = try await call(app, .GET, "/api/v1/taxpayers/\(b)/messages", token: taxpayer)
            guard case .array(let ms)? = messages.json, case .string(let messageID)? = ms.first?["id"] else { Issue.record("messages"); return }
            #expect(Set(ms.compactMap { $0["reason"]?.stringValue }) == ["relief_not_claimed", "notice"])
            #expect(try await call(app, .POST, "/api/v1/messages/\(messageID)/read", token: taxpayer).status == .noContent)
            #expect(try await call(app, .POST, "/api/v1/messages/\(messageID)/read", token: officer).status == .forbidden)
            // The stored invariants hold (notice numbers without gaps, ledger chains, credits of notices).
            #expect(try await store.check().isEmpty)
        }
    }

    /// Every new endpoint and page, for every role: what is outside reach is 404 (reveals nothing), what is within
    /// reach but not the role's to do is 403.
    @Test(arguments: Backend.allCases)
    func authorizationMatrix(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            let store = Store(app.db)
            let tp = "91310115MA0000001Y", office = "13101150100"
            guard let notice = try await store.notices(taxpayer: tp).first?.id, let message = try await store.reminders(taxpayer: tp).first?.id else {
                Issue.record("the demo company has no notice or message"); return
            }
            let pudong = try await token(app, "pudong", "huiqi-officer"), company = try await token(app, "company", "huiqi-taxpayer")
            let started = try await call(app, .POST, "/api/v1/screenings", token: pudong, body: #"{"kind":"eit","period":"2026-Q1","office":"\#(office)"}"#)
            guard case .string(let job)? = started.json?["id"] else { Issue.record("job"); return }
            _ = try await finished(app, pudong, job)
            let refund = try await call(app, .POST, "/api/v1/taxpayers/\(tp)/refunds", token: company, body: #"{"tax":"vat","amount":"1.00"}"#)
            guard case .string(let refundID)? = refund.json?["id"] else { Issue.record("refund"); return }
            typealias Row = (login: String, password: String, expected: [HTTPStatus])
            // Columns: monitoring, findings, start screening, job, notices, notice, acknowledge, ledger, request refund,
            // messages, read message, approve refund; then the pages: monitoring, job, notice, taxpayer.
            let rows: [Row] = [
                ("admin", "huiqi-admin", [.ok, .ok, .accepted, .ok, .ok, .ok, .forbidden, .ok, .forbidden, .ok, .forbidden, .forbidden, .ok, .ok, .ok, .ok]),
                ("shanghai", "huiqi-supervisor", [.ok, .ok, .forbidden, .ok, .ok, .ok, .forbidden, .ok, .forbidden, .ok, .forbidden, .forbidden, .ok, .ok, .ok, .ok]),
                ("huangpu", "huiqi-officer", [.notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound,
                                              .notFound, .notFound, .notFound, .notFound]),
                ("suzhou", "huiqi-supervisor", [.notFound, .notFound, .forbidden, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound, .notFound,
                                                .notFound, .notFound, .notFound, .notFound]),
                ("company", "huiqi-taxpayer", [.forbidden, .forbidden, .forbidden, .notFound, .ok, .ok, .ok, .ok, .created, .ok, .noContent, .forbidden,
                                               .forbidden, .notFound, .ok, .ok]),
                ("pudong", "huiqi-officer", [.ok, .ok, .accepted, .ok, .ok, .ok, .forbidden, .ok, .forbidden, .ok, .forbidden, .ok, .ok, .ok, .ok, .ok]),
            ]
            let names = ["monitoring", "findings", "screen", "job", "notices", "notice", "acknowledge", "ledger", "refund", "messages", "read", "approve",
                         "page monitor", "page job", "page notice", "page taxpayer"]
            for row in rows {
                let t = try await token(app, row.login, row.password)
                var web = WebClient(app: app)
                _ = try await web.login(row.login, row.password)
                let q = "kind=vat&period=2026-Q1&office=\(office)"
                let got: [HTTPStatus] = [
                    try await call(app, .GET, "/api/v1/monitoring?\(q)", token: t).status,
                    try await call(app, .GET, "/api/v1/findings?\(q)", token: t).status,
                    try await call(app, .POST, "/api/v1/screenings", token: t, body: #"{"kind":"eit","period":"2026-Q1","office":"\#(office)"}"#).status,
                    try await call(app, .GET, "/api/v1/jobs/\(job)", token: t).status,
                    try await call(app, .GET, "/api/v1/taxpayers/\(tp)/notices", token: t).status,
                    try await call(app, .GET, "/api/v1/notices/\(notice)", token: t).status,
                    try await call(app, .POST, "/api/v1/notices/\(notice)/acknowledge", token: t).status,
                    try await call(app, .GET, "/api/v1/taxpayers/\(tp)/ledger", token: t).status,
                    try await call(app, .POST, "/api/v1/taxpayers/\(tp)/refunds", token: t, body: #"{"tax":"vat","amount":"1.00"}"#).status,
                    try await call(app, .GET, "/api/v1/taxpayers/\(tp)/messages", token: t).status,
                    try await call(app, .POST, "/api/v1/messages/\(message)/read", token: t).status,
                    try await call(app, .POST, "/api/v1/refunds/\(refundID)/approve", token: t).status,
                    try await web.request(.GET, "/monitor?\(q)").status,
                    try await web.request(.GET, "/jobs/\(job)").status,
                    try await web.request(.GET, "/notices/\(notice)").status,
                    try await web.request(.GET, "/taxpayers/\(tp)").status,
                ]
                for (i, name) in names.enumerated() { #expect(got[i] == row.expected[i], "\(row.login) \(name): \(got[i]), expected \(row.expected[i])") }
            }
            // Without credentials: 401 from every new endpoint.
            for path in ["/api/v1/monitoring?kind=vat&period=2026-Q1", "/api/v1/jobs/\(job)", "/api/v1/taxpayers/\(tp)/ledger", "/api/v1/notices/\(notice)"] {
                #expect(try await call(app, .GET, path).status == .unauthorized)
            }
            #expect(try await store.check().isEmpty)
        }
    }

    /// Monitoring served from a snapshot gives the same figures as the live aggregate, at every level.
    @Test(arguments: Backend.allCases)
    func snapshotsGiveTheLiveFigures(_ backend: Backend) async throws {
        try await withHuiqi(backend, closedPeriod: true) { app in
            let store = Store(app.db)
            let deadlines = try FilingDeadlines.bundled()
            let now: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_780_000_000) }
            let live = MonitoringService(store: store, deadlines: deadlines, now: now)
            let snapshot = MonitoringService(store: store, deadlines: deadlines, now: now, snapshotSeconds: 60)
            let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])
            for office in ["10000000000", "13100000000", "13101150000", "13101150100"] {
                for (kind, period) in [("vat", "2026-Q1"), ("eit", "2026-Q1"), ("business_income", "2025")] {
                    let a = try await live.report(by: admin, kind: kind, period: period, office: office)
                    let b = try await snapshot.report(by: admin, kind: kind, period: period, office: office)
                    #expect(a.asOf == nil && b.asOf != nil)
                    #expect(a.totals == b.totals, "\(office) \(kind)")
                    #expect(a.children.map(\.figures) == b.children.map(\.figures), "\(office) \(kind)")
                    #expect(a.days.map { "\($0.day) \($0.cumulative)" } == b.days.map { "\($0.day) \($0.cumulative)" }, "\(office) \(kind)")
                }
            }
            #expect(try await live.report(by: admin, kind: "vat", period: "2026-Q1", office: nil).totals.expected > 0)
        }
    }

    /// A notice's case is made from the return's compact form (`ScreeningColumns.vatReturn`), not read again from
    /// its JSON. For every worked example that filing takes as a VAT return (one section, VAT), the determination made
    /// from the form is the determination made from the case, to the byte: rules, trace and amounts of the notice.
    @Test func compactFormGivesBackTheWholeVATReturn() throws {
        let engine = try Engine.bundled()
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HuiqiRulesTests/Fixtures")
        var compared = 0
        for url in try FileManager.default.contentsOfDirectory(at: fixtures, includingPropertiesForKeys: nil) where url.pathExtension == "json" {
            guard let input = try JSONParser.parse(String(contentsOf: url, encoding: .utf8))["input"], let c = try? CaseDecoder.decode(input),
                  let vat = c.vat, c.eit == nil, c.businessIncome == nil, c.localTaxes == nil, c.businessTax == nil,
                  let form = ScreeningColumns.encode(c), let fromCase = try? engine.determine(c) else { continue }
            guard let rebuilt = ScreeningColumns.vatReturn(form, period: vat.period) else {
                Issue.record("\(url.lastPathComponent): the form \(form) was not read back")
                continue
            }
            let fromForm = try engine.determine(Case(taxpayer: c.taxpayer, vat: rebuilt))
            #expect(fromForm.json.serialized(indent: nil) == fromCase.json.serialized(indent: nil), "\(url.lastPathComponent)")
            compared += 1
        }
        #expect(compared >= 15, "\(compared) examples compared")
    }

    /// The compact form is read on its bytes (`ByteFields`), not split into a `String` per field. What it accepts and
    /// refuses is what the `String` reading accepted and refused: this test keeps that reading as the reference and
    /// holds both to every edge the grammar has (signs, overflow, empty fields, a trailing `;`, a seventh field).
    @Test func compactFormsAreReadAsTheStringReadingReadThem() {
        func reference(_ text: String) -> (UInt8, [String])? {
            var parts = text.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)[...]
            guard let first = parts.popFirst() else { return nil }
            var months: UInt8 = 0
            if !first.isEmpty {
                guard let m = UInt8(String(decoding: first, as: UTF8.self)), (1...3).contains(m) else { return nil }
                months = m
            }
            var lines: [String] = []
            for part in parts {
                let f = part.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                guard f.count == 6, let kind = UInt8(String(decoding: f[0], as: UTF8.self)), SaleKind(rawValue: kind) != nil,
                      let amount = Int64(String(decoding: f[1], as: UTF8.self)), let rate = Int64(String(decoding: f[2], as: UTF8.self)),
                      let deduction = Int64(String(decoding: f[3], as: UTF8.self)) else { return nil }
                lines.append("\(kind) \(amount) \(rate) \(deduction) \(f[4].first == UInt8(ascii: "1")) \(f[5].first == UInt8(ascii: "1"))")
            }
            return (months, lines)
        }
        let forms = ["", "2", "0", "4", "+2", "02", "2;", ";", ";0,100,30000,0,1,0", ";0,100,30000,0,1,0;", ";0,100,30000,0,1",
                     ";0,100,30000,0,1,0,7", ";5,100,30000,0,0,0", ";4,100,50000,0,0,0", ";+1,+100,30000,-5,10,01",
                     ";0,9223372036854775807,30000,0,0,0", ";0,9223372036854775808,30000,0,0,0", ";0,-9223372036854775808,30000,0,0,0",
                     ";0,-9223372036854775809,30000,0,0,0", ";0,12a,30000,0,0,0", ";0,,30000,0,0,0", ";0,-,30000,0,0,0", ";256,1,1,1,1,1",
                     ";0, 1,30000,0,0,0", ";0,١٢,30000,0,0,0", "3;4,5000000,50000,0,0,0;2,100,30000,25,1,1", "1;0,1,2,3,,", "x;0,1,2,3,1,1"]
        for form in forms {
            var lines = VATLines()
            let months = ScreeningColumns.decode(form, into: &lines)
            let read = months.map { m in
                (m, (0..<lines.count).map { "\(lines.kind[$0]) \(lines.amount[$0]) \(lines.ratePPM[$0]) \(lines.deduction[$0]) \(lines.special[$0]) \(lines.waived[$0])" })
            }
            let want = reference(form)
            #expect(read?.0 == want?.0 && read?.1 == want?.1, "\(form): \(String(describing: read)) against \(String(describing: want))")
            if months == nil { #expect(lines.count == 0, "\(form): a refused form leaves no line") }
        }
    }

    /// Screening reads a VAT return's compact columns and tax from `current_returns` alone (migration 021), and a
    /// return too long for compact columns from its JSON. Two taxpayers of the new 税务所 file 2026-Q1:
    /// - A: 120 lines of 1,000.00 (sales 120,000, exempt; its compact form would be 2,520 bytes, over
    ///   `ScreeningColumns.maxLength`, so none is kept), declares 1,200.00 → overpaid 1,200.00;
    /// - B: one line of 400,000.00 (tax at 1 %: 4,000.00), declares 1,000.00, then corrects to 5,000.00 → the pointer
    ///   carries version 2's declared tax, and screening finds 1,000.00 overpaid on version 2.
    @Test(arguments: Backend.allCases)
    func longReturnsAndCorrectionsAreScreenedFromTheirOwnVersion(_ backend: Backend) async throws {
        let clock = TestClock("2026-04-09T02:00:00Z")
        try await withHuiqi(backend, now: clock.now) { app in
            let store = Store(app.db)
            let ids = try await register(store, count: 2, firstIndex: 7, login: "long-lines")
            let (a, b) = (ids[0], ids[1])
            let officer = try await token(app, "pudong", "huiqi-officer")
            let lines = Array(repeating: #"{"kind":"goods","amount":"1000.00","rate":"0.03"}"#, count: 120).joined(separator: ",")
            #expect(try await file(app, officer, a, #"{"vat":{"period":"2026-Q1","sales":[\#(lines)]}}"#, declared: "1200.00").status == .created)
            #expect(try await file(app, officer, b, vat("2026-Q1", "400000.00"), declared: "1000.00").status == .created)
            #expect(try await file(app, officer, b, vat("2026-Q1", "400000.00"), declared: "5000.00").status == .created)
            let pointers = try await store.db.raw("""
                SELECT taxpayer_id, version, screening, computed_tax_fen, declared_tax_fen FROM current_returns
                WHERE return_id = 'vat:2026-Q1' AND taxpayer_id IN (\(bind: a), \(bind: b)) ORDER BY taxpayer_id
                """).all().map {
                    "\(try $0.decode(column: "version", as: Int.self)) \(try $0.decode(column: "screening", as: String?.self) ?? "nil") "
                        + "\(try $0.decode(column: "computed_tax_fen", as: Int64.self)) \(try $0.decode(column: "declared_tax_fen", as: Int64?.self) ?? -1)"
                }
            #expect(pointers == ["1 nil 0 120000", "2 ;0,40000000,30000,0,0,0 400000 500000"])
            clock.set("2026-05-06T02:00:00Z")
            let services = Services(store: store, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: clock.now)
            let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])
            _ = try await services.screening.run(try await services.screening.start(by: admin, kind: "vat", period: "2026-Q1", office: branch,
                                                                                     monitoring: services.monitoring))
            let found = try await store.findings(section: "vat", period: "2026-Q1", under: branch, kind: nil, job: nil, limit: 100)
                .map { "\($0.taxpayer_id) v\($0.version) \($0.kind.rawValue) \($0.amount_fen)" }.sorted()
            #expect(found == ["\(a) v1 overpaid 120000", "\(b) v2 overpaid 100000"])
            let notices = try await store.notices(taxpayer: a) + (try await store.notices(taxpayer: b))
            #expect(notices.map { "\($0.taxpayer_id) \($0.amount_fen)" } == ["\(a) 120000", "\(b) 100000"])
            // Each notice's body is determined from its own version's case: A's from its 120 lines, B's at 400,000.
            #expect(notices[0].body.contains(#""declared_tax":"1200.00""#) && notices[0].body.contains(#""law_tax":"0.00""#))
            #expect(notices[1].body.contains(#""declared_tax":"5000.00""#) && notices[1].body.contains(#""law_tax":"4000.00""#))
            #expect(notices.allSatisfy { $0.body.contains("财政部 税务总局公告2026年第10号") })
            #expect(try await store.check().isEmpty)
            // A pointer whose tax differs from its version's is what `huiqi check` reports.
            try await store.db.raw("UPDATE current_returns SET declared_tax_fen = 100000 WHERE taxpayer_id = \(bind: b) AND return_id = 'vat:2026-Q1'").run()
            #expect(try await store.check().map(\.what) == ["current pointer of \(b)/vat:2026-Q1 (version 2) does not match its version (missing, or another case or tax)"])
        }
    }

    /// Two filings of one taxpayer at once cannot both spend one credit (PostgreSQL: real concurrent transactions).
    @Test(arguments: Backend.allCases)
    func aCreditIsSpentOnce(_ backend: Backend) async throws {
        let clock = TestClock("2026-04-09T02:00:00Z")
        try await withHuiqi(backend, now: clock.now) { app in
            let store = Store(app.db)
            let ids = try await register(store, count: 6, login: "concurrent")
            let officer = try await token(app, "pudong", "huiqi-officer")
            for t in ids { #expect(try await file(app, officer, t, vat("2026-Q1", "200000.00"), declared: "6000.00").status == .created) }
            clock.set("2026-05-06T02:00:00Z")
            let services = Services(store: store, engine: try Engine.bundled(), deadlines: try FilingDeadlines.bundled(), now: clock.now)
            let admin = Actor(userID: "user-admin", login: "admin", role: .administrator, offices: [], boundTaxpayers: [])
            _ = try await services.screening.run(try await services.screening.start(by: admin, kind: "vat", period: "2026-Q1", office: branch,
                                                                                     monitoring: services.monitoring))
            // Each taxpayer has 6,000 of credit; Q2 and Q3 (tax 4,000 each) are filed at the same moment.
            clock.set("2026-10-09T02:00:00Z")
            let officerNow = try await token(app, "pudong", "huiqi-officer")  // the April token has expired
            try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for t in ids {
                    for q in ["2026-Q2", "2026-Q3"] {
                        // As a client does: a 503 (no database connection in time, on a loaded machine) is retried
                        // with the same Idempotency-Key, so a filing that did land is answered, not made twice.
                        group.addTask {
                            let key = UUID().uuidString
                            for _ in 0..<5 {
                                let r = try await call(app, .POST, "/api/v1/taxpayers/\(t)/returns", token: officerNow, body: vat(q, "400000.00"),
                                                       headers: [("Huiqi-Declared-Tax", "4000.00"), ("Idempotency-Key", key)])
                                guard r.status == .serviceUnavailable else { return r.status }
                                try await Task.sleep(for: .seconds(1))
                            }
                            return .serviceUnavailable
                        }
                    }
                }
                for try await status in group { #expect(status == .created) }
            }
            for t in ids {
                let offsets = try await store.ledger(taxpayer: t).filter { $0.kind == .offset }.map(\.amount_fen).sorted()
                #expect(offsets == [-400000, -200000], "\(t): \(offsets)")
                #expect(try await store.ledgerBalance(taxpayer: t, tax: "vat") == 0)
            }
            #expect(try await store.check().isEmpty)
        }
    }
}

extension Array where Element: Sendable {
    func asyncFlatMap<T>(_ f: (Element) async throws -> [T]) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out += try await f(e) }
        return out
    }
}


/// A webhook receiver on loopback, as an SMS gateway would be: records every body; refuses the first `failFirst`.
actor WebhookReceiver {
    let app: Application
    let url: String
    private(set) var bodies: [String] = []
    private(set) var failures = 0
    private var failLeft: Int

    private init(app: Application, url: String, failFirst: Int) { self.app = app; self.url = url; failLeft = failFirst }

    static func start(failFirst: Int) async throws -> WebhookReceiver {
        let app = try await Application.make(.testing)
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        let box = Box()
        app.post("hook") { req async throws -> HTTPStatus in
            guard let receiver = box.receiver else { return .serviceUnavailable }
            return await receiver.receive(req.body.string ?? "")
        }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = app.http.server.shared.localAddress?.port ?? 0
        let receiver = WebhookReceiver(app: app, url: "http://127.0.0.1:\(port)/hook", failFirst: failFirst)
        box.receiver = receiver
        return receiver
    }
    func receive(_ body: String) -> HTTPStatus {
        if failLeft > 0 { failLeft -= 1; failures += 1; return .internalServerError }
        bodies.append(body)
        return .ok
    }
    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }
    final class Box: @unchecked Sendable { var receiver: WebhookReceiver? }
}
