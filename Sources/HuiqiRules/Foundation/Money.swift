/// Money in integer fen (分, 0.01 yuan). Every reported figure is a `Money`; the law's amounts have at most
/// two decimals, so they are exact here. Never converted to binary floating point (RULES §0.4).
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var fen: Int64
    public init(fen: Int64) { self.fen = fen }
    public static let zero = Money(fen: 0)

    /// The largest amount a case, a form or a parameter may carry, in absolute value: 9,999,999,999,999.99 yuan
    /// (just under 10万亿元, above any single enterprise's annual figures). With at most `Money.maxLines` lines a
    /// sum stays below 10¹⁸ fen, so no sum of input amounts can overflow 64 bits (CASES.md limits, docs/case-format.md).
    public static let inputLimit = Money(fen: 999_999_999_999_999)
    /// The most lines one section of a case may have (sales, turnover, taxes).
    public static let maxLines = 1000

    public enum ParseError: Error, Sendable { case malformed, tooLarge }

    /// Parses a decimal string in yuan with at most two decimals ("300000.00", "12.5", "80000"): malformed for
    /// anything else (signs other than a leading '-', exponents, more decimals), tooLarge beyond `inputLimit`.
    public static func parse(_ text: String) -> Result<Money, ParseError> {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" { negative = true; digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit) else { return .failure(.malformed) }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 2, fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else { return .failure(.malformed) }
        while fraction.count < 2 { fraction += "0" }
        let significant = whole.drop { $0 == "0" }
        guard significant.count <= 13, let y = Int64(significant.isEmpty ? "0" : significant), let f = Int64(fraction) else {
            return .failure(.tooLarge)
        }
        return .success(Money(fen: (y * 100 + f) * (negative ? -1 : 1)))
    }

    /// `parse`, as an optional.
    public init?(decimal text: String) {
        guard case .success(let m) = Money.parse(text) else { return nil }
        self = m
    }

    /// "1234.50": two decimals, as on the official returns.
    public var description: String {
        let sign = fen < 0 ? "-" : ""
        let a = fen.magnitude
        let f = a % 100
        return "\(sign)\(a / 100).\(f < 10 ? "0" : "")\(f)"
    }

    public static func < (l: Money, r: Money) -> Bool { l.fen < r.fen }
    public static func + (l: Money, r: Money) -> Money { Money(fen: l.fen + r.fen) }
    public static func - (l: Money, r: Money) -> Money { Money(fen: l.fen - r.fen) }
    public static func += (l: inout Money, r: Money) { l.fen += r.fen }
    public static func * (l: Money, n: Int64) -> Money { Money(fen: l.fen * n) }
    public var exact: Exact { Exact(fen: fen) }
}

/// A rate as an exact fraction in parts per million ("0.03" = 30_000). Every rate of this law (3%, 1%, 12.5% × 20%
/// = 2.5%, 35%, …) has at most six decimals; parameter files with more are refused at load.
public struct Rate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let scale: Int64 = 1_000_000
    public var ppm: Int64
    public init(ppm: Int64) { self.ppm = ppm }
    public static let zero = Rate(ppm: 0)

    public init?(decimal text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit),
              whole.count <= 6, let w = Int64(whole) else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.count < 6 { fraction += "0" }
        guard let f = Int64(fraction) else { return nil }
        ppm = w * Rate.scale + f
    }

    /// The product of two rates, exact only when it has at most six decimals (the loader checks the ones it builds).
    public func times(_ other: Rate) -> Rate? {
        let p = ppm * other.ppm
        return p % Rate.scale == 0 ? Rate(ppm: p / Rate.scale) : nil
    }

    /// "0.03", "0.125", "1": the shortest exact decimal.
    public var description: String {
        let w = ppm / Rate.scale
        var f = String(ppm % Rate.scale)
        if f == "0" { return "\(w)" }
        while f.count < 6 { f = "0" + f }
        while f.hasSuffix("0") { f.removeLast() }
        return "\(w).\(f)"
    }
    /// "3%", "2.5%": for traces.
    public var percent: String {
        let whole = ppm / 10_000
        var f = String(ppm % 10_000)
        if f == "0" { return "\(whole)%" }
        while f.count < 4 { f = "0" + f }
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)%"
    }
    public static func < (l: Rate, r: Rate) -> Bool { l.ppm < r.ppm }
}

/// An exact intermediate amount in units of 10⁻⁸ yuan (fen × 10⁻⁶), wide enough for money × rate × rate.
/// Intermediate values stay exact; `rounded()` rounds once, half-up, to the fen (RULES §0.4).
public struct Exact: Hashable, Comparable, Sendable {
    public static let perFen: Int64 = 1_000_000
    public var units: Int128
    public init(units: Int128) { self.units = units }
    public init(fen: Int64) { units = Int128(fen) * Int128(Exact.perFen) }
    public static let zero = Exact(units: 0)

    public static func + (l: Exact, r: Exact) -> Exact { Exact(units: l.units + r.units) }
    public static func - (l: Exact, r: Exact) -> Exact { Exact(units: l.units - r.units) }
    public static func += (l: inout Exact, r: Exact) { l.units += r.units }
    public static func < (l: Exact, r: Exact) -> Bool { l.units < r.units }

    /// money × rate, exact.
    @inlinable public static func product(_ m: Money, _ r: Rate) -> Exact { Exact(units: Int128(m.fen) &* Int128(r.ppm)) }

    /// Rounds half-up (away from zero at exactly half) to the fen. The fast path stays in 64-bit arithmetic.
    @inlinable @inline(__always) public func rounded() -> Money {
        if let small = Int64(exactly: units) {
            // Non-negative amounts (every tax and relief) round without a branch: ⌊(x + ½) ÷ 1⌋.
            if small >= 0 && small < Int64.max - Exact.perFen { return Money(fen: (small &+ Exact.perFen / 2) / Exact.perFen) }
            let q = small / Exact.perFen, r = small % Exact.perFen
            if r >= Exact.perFen / 2 { return Money(fen: q + 1) }
            if r <= -(Exact.perFen / 2) { return Money(fen: q - 1) }
            return Money(fen: q)
        }
        return Exact.roundQuotient(units, Int128(Exact.perFen))
    }

    /// (self ÷ divisor) rounded half-up to the fen; the divisor is a positive integer. Used for rational
    /// quotients such as R × P ÷ I (RULES §5.2), which are carried exactly until this single rounding.
    public func rounded(dividingBy divisor: Int128) -> Money {
        Exact.roundQuotient(units, divisor * Int128(Exact.perFen))
    }

    @usableFromInline static func roundQuotient(_ n: Int128, _ d: Int128) -> Money {
        let negative = n < 0
        let a = negative ? -n : n
        let q = (a * 2 + d) / (d * 2)
        return Money(fen: Int64(negative ? -q : q))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
