import Foundation

/// A filing deadline (申报纳税期限) and where it comes from.
public struct FilingDeadline: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// The STA General Office's published table (the notice's 文号).
        case official(notice: String)
        /// The observed working-day procedure of filing-deadlines.tsv (grade D): no official table is on record.
        case derived
    }
    public let year: Int
    public let month: Int
    public let date: Day
    public let source: Source
}

/// Monthly filing deadlines: the official table where one exists (2025, 2026 bundled), otherwise the observed
/// procedure run on the official calendar; a year without a calendar is refused.
public struct FilingDeadlines: Sendable {
    public let calendar: OfficialCalendar
    public let official: [Int: (Day, String)] // key year * 100 + month

    public static func bundled() throws -> FilingDeadlines {
        guard let url = Bundle.module.url(forResource: "Data/filing-deadlines", withExtension: "tsv")
                ?? Bundle.module.url(forResource: "filing-deadlines", withExtension: "tsv", subdirectory: "Data") else {
            throw CalendarError.badData("filing-deadlines.tsv missing from the bundle")
        }
        return try FilingDeadlines(calendar: .bundled(), table: String(contentsOf: url, encoding: .utf8))
    }

    public init(calendar: OfficialCalendar, table: String) throws {
        self.calendar = calendar
        var t: [Int: (Day, String)] = [:]
        for line in table.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("year\t") {
            let f = line.split(separator: "\t")
            guard f.count == 4, let y = Int(f[0]), let m = Int(f[1]), let d = Day(iso: String(f[2])) else {
                throw CalendarError.badData("bad deadline line: \(line)")
            }
            t[y * 100 + m] = (d, String(f[3]))
        }
        official = t
    }

    /// The deadline that falls in `month` of `year` (for the month or quarter that ended just before).
    public func deadline(year: Int, month: Int) throws(CalendarError) -> FilingDeadline {
        if let (d, notice) = official[year * 100 + month] {
            return FilingDeadline(year: year, month: month, date: d, source: .official(notice: notice))
        }
        return FilingDeadline(year: year, month: month, date: try observedRule(year: year, month: month), source: .derived)
    }

    /// The deadline of the annual business-income return (经营所得汇算清缴) for `year`: 31 March of the next year
    /// (个人所得税法 第十二条), moved to the next working day when that is a rest day (税收征收管理法实施细则 第一百零九条).
    public func businessIncomeSettlement(year: Int) throws(CalendarError) -> Day {
        let march31 = Day(year: year + 1, month: 3, day: 31)!
        return try calendar.isWorkingDay(march31) ? march31 : try calendar.addingWorkingDays(1, to: march31)
    }

    /// The observed procedure (filing-deadlines.tsv header, grade D): N = total length of the runs of ≥ 3
    /// consecutive rest days inside days 1–15; N = 0: the 15th or the next working day; else the N-th working
    /// day after the 15th. Reproduces every official month of 2022–2026.
    public func observedRule(year: Int, month: Int) throws(CalendarError) -> Day {
        let fifteenth = Day(year: year, month: month, day: 15)!
        var n = 0, run = 0
        for day in 1...15 {
            if try calendar.isWorkingDay(Day(year: year, month: month, day: day)!) {
                if run >= 3 { n += run }
                run = 0
            } else { run += 1 }
        }
        if run >= 3 { n += run }
        if n == 0 {
            return try calendar.isWorkingDay(fifteenth) ? fifteenth : try calendar.addingWorkingDays(1, to: fifteenth)
        }
        return try calendar.addingWorkingDays(n, to: fifteenth)
    }
}
