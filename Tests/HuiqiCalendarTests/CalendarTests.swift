import Foundation
import Testing
@testable import HuiqiCalendar

let calendar = try! OfficialCalendar.bundled()
let deadlines = try! FilingDeadlines.bundled()

@Suite struct CalendarTests {
    @Test func workingDaysCountTiaoxiu() throws {
        // 2025 National Day: 10/1–10/8 rest; Saturday 10/11 is a 调休 working day.
        #expect(try calendar.addingWorkingDays(3, to: Day(iso: "2025-09-30")!).description == "2025-10-11")
        #expect(try calendar.isWorkingDay(Day(iso: "2025-09-28")!))   // Sunday, 调休
        #expect(try !calendar.isWorkingDay(Day(iso: "2025-10-08")!))  // Wednesday, rest
        #expect(try !calendar.isWorkingDay(Day(iso: "2025-10-12")!))  // ordinary Sunday
        #expect(try calendar.addingWorkingDays(1, to: Day(iso: "2024-02-09")!).description == "2024-02-18") // Spring Festival, Sunday 调休
    }

    @Test func yearsWithoutArrangementAreRefused() {
        #expect(calendar.years == 2004...2026)
        #expect(throws: CalendarError.yearNotOnRecord(2027)) { try calendar.isWorkingDay(Day(iso: "2027-01-04")!) }
        #expect(throws: CalendarError.yearNotOnRecord(2027)) { try calendar.addingWorkingDays(5, to: Day(iso: "2026-12-29")!) }
        #expect(throws: CalendarError.yearNotOnRecord(2003)) { try calendar.isWorkingDay(Day(iso: "2003-06-02")!) }
    }

    @Test func officialTableWins() throws {
        let d = try deadlines.deadline(year: 2026, month: 10)
        #expect(d.date.description == "2026-10-26" && d.source == .official(notice: "税总办征科函〔2025〕64号"))
        #expect(try deadlines.deadline(year: 2025, month: 2).date.description == "2025-02-20")
    }

    @Test func observedRuleReproducesEveryOfficialMonth() throws {
        for year in [2025, 2026] {
            for month in 1...12 {
                let official = try deadlines.deadline(year: year, month: month).date
                #expect(try deadlines.observedRule(year: year, month: month) == official, "\(year)-\(month)")
            }
        }
    }

    @Test func derivedForYearsWithoutTable() throws {
        // 2024-02: Spring Festival 2/10–2/17, N = 6, the 6th working day after the 15th is 2024-02-23 (Sunday 2/18 counts).
        let d = try deadlines.deadline(year: 2024, month: 2)
        #expect(d.date.description == "2024-02-23" && d.source == .derived)
        #expect(throws: CalendarError.yearNotOnRecord(2027)) { try deadlines.deadline(year: 2027, month: 1) }
    }

    @Test func calendarDataIsChecked() {
        #expect(throws: CalendarError.self) { try OfficialCalendar.parse("2024-01-01\tholiday\t元旦\t0\n") }
        #expect(throws: CalendarError.self) { try OfficialCalendar.parse("2024-01-02\tadjusted_workday\tX\t0\n") } // a Tuesday
        #expect(throws: CalendarError.self) { try OfficialCalendar.parse("2004-01-01\trest\t元旦\t0\n2006-01-01\trest\t元旦\t0\n") }
    }
}
