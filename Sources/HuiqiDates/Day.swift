/// A calendar day (proleptic Gregorian), without time or zone: tax periods, rule versions, rest days and
/// deadlines are all by day. Nothing here reads a clock; callers pass days in.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int, month: Int, day: Int
    /// Years a day may have: four digits at most, so that day arithmetic can never overflow.
    public static let years = 1...9999
    public init?(year: Int, month: Int, day: Int) {
        guard Day.years.contains(year), (1...12).contains(month), day >= 1, day <= Day.daysIn(year: year, month: month) else { return nil }
        self.year = year; self.month = month; self.day = day
    }
    /// Parses ISO `YYYY-MM-DD`.
    /// Parses ISO `YYYY-MM-DD`: ten ASCII bytes, digits and two hyphens (read byte by byte: registry imports parse
    /// millions of dates).
    public init?(iso: String) {
        var digits = (0, 0, 0), i = 0
        for b in iso.utf8 {
            switch i {
            case 4, 7: guard b == UInt8(ascii: "-") else { return nil }
            case 0..<10:
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                let v = Int(b - UInt8(ascii: "0"))
                if i < 4 { digits.0 = digits.0 * 10 + v } else if i < 7 { digits.1 = digits.1 * 10 + v } else { digits.2 = digits.2 * 10 + v }
            default: return nil
            }
            i += 1
        }
        guard i == 10 else { return nil }
        self.init(year: digits.0, month: digits.1, day: digits.2)
    }
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
    public static func < (l: Day, r: Day) -> Bool { (l.year, l.month, l.day) < (r.year, r.month, r.day) }
    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))"
    }
    /// Days since 1970-01-01 (civil-from-days inverse), for weekday and day arithmetic.
    public var ordinal: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
    public init(ordinal z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0); month = m; day = d
    }
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var weekday: Int { let w = (ordinal + 3) % 7; return (w < 0 ? w + 7 : w) + 1 }
    public func adding(days n: Int) -> Day { Day(ordinal: ordinal + n) }
    public static func firstOf(year: Int, month: Int) -> Day { Day(year: year, month: month, day: 1)! }
    public static func lastOf(year: Int, month: Int) -> Day { Day(year: year, month: month, day: daysIn(year: year, month: month))! }
}

/// A tax period (税款所属期): a month (`2023-05`) or a quarter (`2023-Q2`). Rules apply by the period the amounts
/// belong to, never by the filing date (RULES §0.2).
public enum TaxPeriod: Hashable, Sendable, CustomStringConvertible {
    case month(year: Int, month: Int)
    case quarter(year: Int, quarter: Int)

    public init?(_ text: String) {
        let p = text.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 2, p[0].count == 4, let y = Int(p[0]), y >= 1900 else { return nil }
        if p[1].count == 2, let q = p[1].first, q == "Q", let n = Int(p[1].dropFirst()), (1...4).contains(n) {
            self = .quarter(year: y, quarter: n)
        } else if p[1].count == 2, p[1].allSatisfy { $0.isASCII && $0.isNumber }, let m = Int(p[1]), (1...12).contains(m) {
            self = .month(year: y, month: m)
        } else { return nil }
    }
    public var description: String {
        switch self {
        case let .month(y, m): return "\(y)-\(m < 10 ? "0" : "")\(m)"
        case let .quarter(y, q): return "\(y)-Q\(q)"
        }
    }
    public var isQuarterly: Bool { if case .quarter = self { return true } else { return false } }
    public var year: Int { switch self { case let .month(y, _), let .quarter(y, _): return y } }
    /// The calendar months the period covers, in order.
    public var months: [(year: Int, month: Int)] {
        switch self {
        case let .month(y, m): return [(y, m)]
        case let .quarter(y, q): return (0..<3).map { (y, (q - 1) * 3 + 1 + $0) }
        }
    }
    public var firstDay: Day { let m = months[0]; return Day.firstOf(year: m.year, month: m.month) }
    public var lastDay: Day { let m = months[months.count - 1]; return Day.lastOf(year: m.year, month: m.month) }
    /// 按月 / 按季
    public var frequencyZh: String { isQuarterly ? "按季" : "按月" }
}
