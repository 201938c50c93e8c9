import Foundation
import HuiqiRules

/// Figures for people: money with thousands separators and 元, Beijing time, shares, periods and returns in words.
enum Show {
    static func yuan(_ fen: Int64) -> String {
        let m = Money(fen: fen).description
        let negative = m.hasPrefix("-")
        let parts = (negative ? String(m.dropFirst()) : m).split(separator: ".")
        var whole = String(parts[0]), grouped = ""
        while whole.count > 3 { grouped = "," + whole.suffix(3) + grouped; whole = String(whole.dropLast(3)) }
        return (negative ? "-" : "") + whole + grouped + "." + (parts.count > 1 ? parts[1] : "00") + " 元"
    }
    /// An ISO instant (UTC) as Beijing time, `2026-10-15 10:00`.
    static func beijing(_ iso: String?) -> String {
        guard let iso, let d = try? Date(iso, strategy: .iso8601) else { return iso ?? "—" }
        let b = d.addingTimeInterval(8 * 3600)
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        let x = c.dateComponents([.year, .month, .day, .hour, .minute], from: b)
        return String(format: "%04d-%02d-%02d %02d:%02d", x.year!, x.month!, x.day!, x.hour!, x.minute!)
    }
    /// A share with one decimal, rounded half up, in integers.
    static func percent(_ part: Int64, _ whole: Int64) -> String {
        guard whole > 0 else { return "—" }
        let permille = (part * 2000 + whole) / (2 * whole)
        return "\(permille / 10).\(permille % 10)%"
    }
    static func yuan(_ m: Money) -> String { yuan(m.fen) }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    /// A period in words: `2026-Q3` → 2026年第三季度 / 2026 Q3; `2026-09` → 2026年9月 / September 2026; `2025` → 2025年度.
    static func period(_ p: String, _ lang: Lang) -> String {
        let quarters = ["一", "二", "三", "四"]
        if let m = p.wholeMatch(of: /([0-9]{4})-Q([1-4])/), let q = Int(m.2) {
            return lang.t("\(m.1)年第\(quarters[q - 1])季度", "\(m.1) Q\(q)")
        }
        if let m = p.wholeMatch(of: /([0-9]{4})-([0-9]{2})/), let mo = Int(m.2), (1...12).contains(mo) {
            return lang.t("\(m.1)年\(mo)月", "\(months[mo - 1]) \(m.1)")
        }
        if p.wholeMatch(of: /[0-9]{4}/) != nil { return lang.t("\(p)年度", p) }
        return p
    }

    /// A return in words: `vat:2026-Q3` → 2026年第三季度 增值税 / VAT, 2026 Q3.
    static func returnName(_ returnID: String, _ lang: Lang) -> String {
        let parts = returnID.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return returnID }
        let tax = MonitoringPages.kindName(parts[0], lang)
        return lang.t("\(period(parts[1], .zh)) \(tax)", "\(tax), \(period(parts[1], .en))")
    }

    /// A day (ISO) in words: 2026年10月15日 / 15 October 2026.
    static func day(_ iso: String?, _ lang: Lang) -> String {
        guard let iso, let d = Day(iso: iso) else { return iso ?? "—" }
        return lang.t("\(d.year)年\(d.month)月\(d.day)日", "\(d.day) \(months[d.month - 1]) \(d.year)")
    }

    /// A count with thousands separators: 1,234.
    static func count(_ n: Int) -> String {
        var whole = String(n), grouped = ""
        while whole.count > 3 { grouped = "," + whole.suffix(3) + grouped; whole = String(whole.dropLast(3)) }
        return whole + grouped
    }

    /// Stored text for people (messages, prompts, trace steps): return ids (`vat:2026-Q3`), days (`2026-12-15`) and
    /// periods (`2026-11`, `2026-Q3`) in words.
    static func humanized(_ text: String, _ lang: Lang) -> String {
        var out = text
        for m in out.matches(of: /(vat|eit|business_income):([0-9]{4}(-Q[1-4]|-[0-9]{2})?)/).reversed() {
            out.replaceSubrange(m.range, with: returnName(String(out[m.range]), lang))
        }
        for m in out.matches(of: /\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b/).reversed() {
            out.replaceSubrange(m.range, with: day(String(out[m.range]), lang))
        }
        for m in out.matches(of: /\b[0-9]{4}-(Q[1-4]|0[1-9]|1[0-2])\b(?![-0-9])/).reversed() {
            out.replaceSubrange(m.range, with: period(String(out[m.range]), lang))
        }
        return out
    }
}
