import Foundation
@_exported import HuiqiDates

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
    public let entries: [Day: Entry]
    public let years: ClosedRange<Int>

    public static func bundled() throws -> OfficialCalendar {
        guard let url = Bundle.module.url(forResource: "Data/cn-official-calendar", withExtension: "tsv")
                ?? Bundle.module.url(forResource: "cn-official-calendar", withExtension: "tsv", subdirectory: "Data") else {
            throw CalendarError.badData("cn-official-calendar.tsv missing from the bundle")
        }
        return try parse(String(contentsOf: url, encoding: .utf8))
    }

    public static func parse(_ text: String) throws -> OfficialCalendar {
        var entries: [Day: Entry] = [:]
        var minY = Int.max, maxY = Int.min
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("date\t") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, let d = Day(iso: String(f[0])) else { throw CalendarError.badData("bad line: \(line)") }
            let kind: Kind
            switch f[1] { case "rest": kind = .rest; case "adjusted_workday": kind = .adjustedWorkday; default: throw CalendarError.badData("bad kind: \(line)") }
            if kind == .adjustedWorkday && d.weekday < 6 { throw CalendarError.badData("adjusted working day \(d) is not a weekend day") }
            guard entries[d] == nil else { throw CalendarError.badData("duplicate \(d)") }
            entries[d] = Entry(kind: kind, holiday: String(f[2]), inLieu: f[3] == "1")
            minY = min(minY, d.year); maxY = max(maxY, d.year)
        }
        guard minY <= maxY else { throw CalendarError.badData("empty calendar") }
        // Every year in the range must have an arrangement: a gap would silently become a plain week.
        let present = Set(entries.keys.map { $0.year })
        for y in minY...maxY where !present.contains(y) { throw CalendarError.badData("year \(y) missing inside the range") }
        return OfficialCalendar(entries: entries, years: minY...maxY)
    }

    /// Whether `day` is a working day; refuses a year with no arrangement on record.
    public func isWorkingDay(_ day: Day) throws(CalendarError) -> Bool {
        let y = day.year
        guard years.contains(y) else { throw .yearNotOnRecord(y) }
        if let e = entries[day] { return e.kind == .adjustedWorkday }
        return day.weekday <= 5
    }

    /// The `n`-th working day after `day` (n ≥ 1), counting 调休 weekend working days; n ≤ 0 returns `day`.
    public func addingWorkingDays(_ n: Int, to day: Day) throws(CalendarError) -> Day {
        var d = day, left = n
        while left > 0 {
            d = d.adding(days: 1)
            if try isWorkingDay(d) { left -= 1 }
        }
        return d
    }
}
