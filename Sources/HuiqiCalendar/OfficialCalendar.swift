import Foundation

/// A calendar day for the calendar library (kept separate from the rules' `Day` so each library stands alone).
public struct CalendarDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let ordinal: Int // days since 1970-01-01
    public init(ordinal: Int) { self.ordinal = ordinal }
    public init?(iso: String) {
        let p = iso.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]), (1...12).contains(m), d >= 1,
              d <= CalendarDay.daysIn(year: y, month: m) else { return nil }
        self.init(year: y, month: m, day: d)
    }
    public init(year: Int, month: Int, day: Int) {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        ordinal = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468
    }
    public var ymd: (year: Int, month: Int, day: Int) {
        let z = ordinal + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
    /// 1 = Monday … 7 = Sunday.
    public var weekday: Int { let w = (ordinal + 3) % 7; return (w < 0 ? w + 7 : w) + 1 }
    public func adding(_ days: Int) -> CalendarDay { CalendarDay(ordinal: ordinal + days) }
    public static func < (l: CalendarDay, r: CalendarDay) -> Bool { l.ordinal < r.ordinal }
    public var description: String {
        let (y, m, d) = ymd
        return "\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
    }
}

public enum CalendarError: Error, Equatable, CustomStringConvertible {
    /// The year has no official holiday arrangement on record: nothing is guessed.
    case yearNotOnRecord(Int)
    case badData(String)
    public var description: String {
        switch self {
        case .yearNotOnRecord(let y): return "\(y) 年没有官方节假日安排记录，不推定 / no official holiday arrangement on record for \(y); nothing is guessed"
        case .badData(let s): return "calendar data: \(s)"
        }
    }
}

/// The official rest days and 调休 working days (国务院办公厅 holiday notices), 2004–2026 as bundled.
/// A working day is Mon–Fri and not a listed rest day, or a listed adjusted working day (a 调休 weekend day).
public struct OfficialCalendar: Sendable {
    public enum Kind: Sendable { case rest, adjustedWorkday }
    public struct Entry: Sendable { public let kind: Kind; public let holiday: String; public let inLieu: Bool }
    public let entries: [CalendarDay: Entry]
    public let years: ClosedRange<Int>

    public static func bundled() throws -> OfficialCalendar {
        guard let url = Bundle.module.url(forResource: "Data/cn-official-calendar", withExtension: "tsv")
                ?? Bundle.module.url(forResource: "cn-official-calendar", withExtension: "tsv", subdirectory: "Data") else {
            throw CalendarError.badData("cn-official-calendar.tsv missing from the bundle")
        }
        return try parse(String(contentsOf: url, encoding: .utf8))
    }

    public static func parse(_ text: String) throws -> OfficialCalendar {
        var entries: [CalendarDay: Entry] = [:]
        var minY = Int.max, maxY = Int.min
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("date\t") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, let d = CalendarDay(iso: String(f[0])) else { throw CalendarError.badData("bad line: \(line)") }
            let kind: Kind
            switch f[1] { case "rest": kind = .rest; case "adjusted_workday": kind = .adjustedWorkday; default: throw CalendarError.badData("bad kind: \(line)") }
            if kind == .adjustedWorkday && d.weekday < 6 { throw CalendarError.badData("adjusted working day \(d) is not a weekend day") }
            guard entries[d] == nil else { throw CalendarError.badData("duplicate \(d)") }
            entries[d] = Entry(kind: kind, holiday: String(f[2]), inLieu: f[3] == "1")
            minY = min(minY, d.ymd.year); maxY = max(maxY, d.ymd.year)
        }
        guard minY <= maxY else { throw CalendarError.badData("empty calendar") }
        // Every year in the range must have an arrangement: a gap would silently become a plain week.
        let present = Set(entries.keys.map { $0.ymd.year })
        for y in minY...maxY where !present.contains(y) { throw CalendarError.badData("year \(y) missing inside the range") }
        return OfficialCalendar(entries: entries, years: minY...maxY)
    }

    /// Whether `day` is a working day; refuses a year with no arrangement on record.
    public func isWorkingDay(_ day: CalendarDay) throws(CalendarError) -> Bool {
        let y = day.ymd.year
        guard years.contains(y) else { throw .yearNotOnRecord(y) }
        if let e = entries[day] { return e.kind == .adjustedWorkday }
        return day.weekday <= 5
    }

    /// The `n`-th working day after `day` (n ≥ 1), counting 调休 weekend working days; n ≤ 0 returns `day`.
    public func addingWorkingDays(_ n: Int, to day: CalendarDay) throws(CalendarError) -> CalendarDay {
        var d = day, left = n
        while left > 0 {
            d = d.adding(1)
            if try isWorkingDay(d) { left -= 1 }
        }
        return d
    }
}
