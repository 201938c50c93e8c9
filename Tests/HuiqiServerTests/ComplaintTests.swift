import Foundation
import HuiqiCalendar
import HuiqiDates
import HuiqiRules
import HuiqiServer
import HuiqiServices
import HuiqiStore
import Testing
import Vapor
import VaporTesting

/// The complaint desk (投诉专席, issue 11 §2): the 3-working-day clock on the official calendar (调休 and Golden
/// Week), the warning and the escalation with its reminder, resolution, reopening and confirmation, the SLA figure,
/// and who may read a complaint's text (every read by staff recorded). Time is injected, never slept.
@Suite struct ComplaintTests {
    static func clock() throws -> ComplaintClock {
        ComplaintClock(calendar: try FilingDeadlines.bundled().calendar, rules: try ComplaintRules.bundled())
    }
    /// An instant given in Beijing time.
    static func beijing(_ s: String) -> Date { try! Date(s + "+08:00", strategy: .iso8601) }

    @Test func theClockFollowsTheOfficialCalendar() throws {
        let c = try Self.clock()
        func due(_ s: String) -> String? { c.due(from: c.start(receivedAt: Self.beijing(s)))?.description }
        // Golden Week 2026: 10-01..07 rest, Saturday 10-10 a 调休 working day.
        #expect(due("2026-09-30T10:00:00") == "2026-10-10")
        // After closing time: the clock starts on the next working day (10-08).
        #expect(due("2026-09-30T17:30:00") == "2026-10-12")
        // A Saturday that is a rest day counts from the next working day, here the 调休 Sunday 09-20.
        #expect(due("2026-09-19T10:00:00") == "2026-09-23")
        #expect(due("2026-09-20T10:00:00") == "2026-09-23")
        // 劳动节 2026: 05-01..05 rest.
        #expect(due("2026-04-30T15:00:00") == "2026-05-08")
        // A due day in a year whose arrangement is not on record: undetermined, not guessed.
        #expect(due("2026-12-29T10:00:00") == nil)
        #expect(c.warnOn(due: Day(iso: "2026-10-10")!)?.description == "2026-10-09")
        #expect(c.warnOn(due: Day(iso: "2026-10-12")!)?.description == "2026-10-10")
        #expect(!c.isPast(Day(iso: "2026-10-10")!, at: Self.beijing("2026-10-10T16:59:00")))
        #expect(c.isPast(Day(iso: "2026-10-10")!, at: Self.beijing("2026-10-10T17:00:00")))
    }

    @Test(arguments: Backend.allCases)
    func fromComplaintToConfirmation(_ backend: Backend) async throws {
        let clock = TestClock("2026-09-30T02:00:00Z")  // Wednesday 10:00 in Beijing
        try await withHuiqi(backend, now: clock.now) { app in
            let store = Store(app.db)
            let ids = try await register(store, count: 2, login: "complainer")
            let taxpayer = try await token(app, "complainer", "huiqi-taxpayer")
            let pudong = try await token(app, "pudong", "huiqi-officer")
            let huangpu = try await token(app, "huangpu", "huiqi-officer")
            let shanghai = try await token(app, "shanghai", "huiqi-supervisor")
            let admin = try await token(app, "admin", "huiqi-admin")

            // Another taxpayer's complaint is out of reach; bad fields are named.
            #expect(try await call(app, .POST, "/api/v1/complaints", token: taxpayer,
                                   body: #"{"taxpayer_id":"\#(ids[0])","category":"service","text":"x","contact":"y"}"#).status == .notFound)
            let bad = try await call(app, .POST, "/api/v1/complaints", token: taxpayer,
                                     body: #"{"taxpayer_id":"\#(ids[1])","category":"angry","text":"x","contact":"y"}"#)
            #expect(bad.status == .badRequest && bad.body.contains("category"))
            let made = try await call(app, .POST, "/api/v1/complaints", token: taxpayer,
                                      body: #"{"taxpayer_id":"\#(ids[1])","category":"relief_not_received","text":"三季度销售额28万元，申报系统没有给我免税。","contact":"13800000000"}"#)
            #expect(made.status == .created, "\(made.body)")
            guard case .string(let id)? = made.json?["id"] else { return }
            #expect(made.json?["due_on"] == .string("2026-10-10") && made.json?["state"] == .string("open") && made.json?["channel"] == .string("api"))

            // Who reads the text: the complainant, the office chain, administrators; every staff read recorded.
            #expect(try await call(app, .GET, "/api/v1/complaints/\(id)", token: huangpu).status == .notFound)
            #expect(try await call(app, .GET, "/api/v1/complaints/\(id)", token: taxpayer).json?["text"] != nil)
            #expect(try await store.complaintReads(id).isEmpty, "the complainant's own reads are not staff reads")
            #expect(try await call(app, .GET, "/api/v1/complaints/\(id)", token: pudong).status == .ok)
            #expect(try await call(app, .GET, "/api/v1/complaints/\(id)", token: shanghai).status == .ok)
            #expect(try await call(app, .GET, "/api/v1/complaints/\(id)", token: admin).status == .ok)
            #expect(try await store.complaintReads(id).map(\.user_id) == ["user-pudong", "user-shanghai", "user-admin"])
            // The list carries no text.
            let list = try await call(app, .GET, "/api/v1/complaints", token: pudong)
            #expect(list.json?[0]?["id"] == .string(id) && list.json?[0]?["text"] == nil)
            #expect(try await call(app, .GET, "/api/v1/complaints", token: huangpu).json == .array([]))

            let desk = Services(store: store, engine: try Engine.bundled(), deadlines: try .bundled(), now: clock.now).complaints!
            // Thursday 10-01 is in Golden Week: nothing to do yet. Friday 10-09 is the warning day.
            clock.set("2026-10-01T02:00:00Z")
            #expect(try await desk.sweep() == (0, 0))
            clock.set("2026-10-09T02:00:00Z")
            // Two servers sweep at the same moment: one warning is written, and neither sweep fails (the loser of a
            // race on the event's key passes the complaint and goes on).
            let other = Services(store: store, engine: try Engine.bundled(), deadlines: try .bundled(), now: clock.now).complaints!
            async let first = desk.sweep()
            async let second = other.sweep()
            let (a, b) = try await (first, second)
            #expect(a.warned + b.warned == 1 && a.escalated + b.escalated == 0, "\(a) \(b)")
            #expect(try await desk.sweep() == (0, 0), "warned once")
            #expect(try await store.complaintEvents(id).filter { $0.kind == "warned" }.count == 1)
            // Saturday 10-10 (调休) at 17:00: overdue, escalated to 浦东新区税务局 with a reminder in the outbox.
            clock.set("2026-10-10T09:00:00Z")
            #expect(try await desk.sweep() == (0, 1))
            #expect(try await desk.sweep() == (0, 0), "escalated once")
            let escalated = try await call(app, .GET, "/api/v1/complaints/\(id)", token: admin)
            #expect(escalated.json?["answerable_office_id"] == .string("13101150000") && escalated.json?["overdue"] == .bool(true))
            #expect(try await store.reminders(taxpayer: ids[1]).contains { $0.return_id.hasPrefix("complaint:\(id):") && $0.office_id == "13101150000" })

            // Resolution by the office; only the complainant confirms or reopens.
            #expect(try await call(app, .POST, "/api/v1/complaints/\(id)/resolve", token: taxpayer, body: #"{"note":"x","outcome":"upheld"}"#).status == .forbidden)
            clock.set("2026-10-12T02:00:00Z")
            let resolved = try await call(app, .POST, "/api/v1/complaints/\(id)/resolve", token: pudong,
                                          body: #"{"note":"已核实，更正申报并退还多缴税款。","outcome":"upheld"}"#)
            #expect(resolved.status == .ok && resolved.json?["state"] == .string("resolved"), "\(resolved.body)")
            #expect(try await call(app, .POST, "/api/v1/complaints/\(id)/confirm", token: pudong, body: #"{"satisfaction":5}"#).status == .forbidden)
            // Reopened on Monday 10-12: a new clock, due Thursday 10-15.
            let reopened = try await call(app, .POST, "/api/v1/complaints/\(id)/reopen", token: taxpayer, body: #"{"note":"退税还没到账。"}"#)
            #expect(reopened.json?["state"] == .string("open") && reopened.json?["due_on"] == .string("2026-10-15"), "\(reopened.body)")
            #expect(try await call(app, .POST, "/api/v1/complaints/\(id)/resolve", token: pudong, body: #"{"note":"退税已到账。","outcome":"upheld"}"#).status == .ok)
            #expect(try await call(app, .POST, "/api/v1/complaints/\(id)/confirm", token: taxpayer, body: #"{"satisfaction":9}"#).status == .badRequest)
            let closed = try await call(app, .POST, "/api/v1/complaints/\(id)/confirm", token: taxpayer, body: #"{"satisfaction":4,"note":"谢谢"}"#)
            #expect(closed.json?["state"] == .string("closed"))
            guard case .array(let events)? = closed.json?["events"] else { return }
            #expect(events.compactMap { if case .string(let k)? = $0["kind"] { return k }; return nil }
                    == ["received", "warned", "escalated", "resolved", "reopened", "resolved", "confirmed"])

            // The SLA figure: resolved after its due day, so not on time; satisfaction recorded.
            let sla = try await call(app, .GET, "/api/v1/complaints/sla", token: shanghai)
            #expect(sla.json?[0]?["office_id"] == .string("13101150900") && sla.json?[0]?["resolved_on_time"] == .number("0")
                    && sla.json?[0]?["measured"] == .number("1") && sla.json?[0]?["satisfaction_sum"] == .number("4"), "\(sla.body)")
            #expect(try await call(app, .GET, "/api/v1/complaints/sla", token: taxpayer).status == .forbidden)
            // Append-only in the database.
            await #expect(throws: (any Error).self) { try await store.db.raw("UPDATE complaints SET text = 'x'").run() }
            await #expect(throws: (any Error).self) { try await store.db.raw("DELETE FROM complaint_reads").run() }
        }
    }

    /// An agent records a phone call for a taxpayer in reach; the channel is phone whatever the body says.
    @Test(arguments: Backend.allCases)
    func anAgentRecordsAPhoneCall(_ backend: Backend) async throws {
        try await withHuiqi(backend, now: { Self.beijing("2026-06-01T09:30:00") }) { app in
            let ids = try await register(Store(app.db), count: 1, login: "caller")
            let pudong = try await token(app, "pudong", "huiqi-officer")
            let suzhou = try await token(app, "suzhou", "huiqi-supervisor")
            let body = #"{"taxpayer_id":"\#(ids[0])","category":"wrong_answer","text":"12366答复与申报结果不一致。","contact":"021-00000000"}"#
            #expect(try await call(app, .POST, "/api/v1/complaints", token: suzhou, body: body).status == .notFound)
            let admin = try await token(app, "admin", "huiqi-admin")
            let nul = try await call(app, .POST, "/api/v1/complaints", token: admin,
                                     body: #"{"taxpayer_id":"\#(ids[0])","category":"service","text":"x","contact":"y","office_id":"a\u0000b"}"#)
            #expect(nul.status == .badRequest && nul.body.contains("office_id"), "\(nul.body)")
            let r = try await call(app, .POST, "/api/v1/complaints", token: pudong, body: body)
            #expect(r.status == .created && r.json?["channel"] == .string("phone") && r.json?["due_on"] == .string("2026-06-04"), "\(r.body)")
        }
    }
}
