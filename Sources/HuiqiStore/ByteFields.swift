/// Reading delimited text a byte at a time, without a `String` or an array per field: screening parses millions of
/// page records and compact forms, and `split` with a `String` per field was about a third of a first run's client
/// time (docs/performance.md). Only ASCII delimiters are used, so a UTF-8 field is never cut inside a character.
struct ByteFields {
    let bytes: UnsafeBufferPointer<UInt8>

    /// The end of the field that starts at `from`: the index of the next `separator`, or `end`.
    @inline(__always)
    func fieldEnd(from: Int, separator: UInt8, end: Int) -> Int {
        var i = from
        while i < end && bytes[i] != separator { i += 1 }
        return i
    }

    /// The ranges of the fields of `range` separated by `separator`, at most `limit` of them (the last holds the
    /// rest, separators included), into `out`. Returns how many there are: one more than the separators counted.
    @inline(__always)
    func split(_ range: Range<Int>, separator: UInt8, limit: Int, into out: inout [Range<Int>]) -> Int {
        out.removeAll(keepingCapacity: true)
        var start = range.lowerBound
        while out.count < limit - 1 {
            let e = fieldEnd(from: start, separator: separator, end: range.upperBound)
            out.append(start..<e)
            if e == range.upperBound { return out.count }
            start = e + 1
        }
        out.append(start..<range.upperBound)
        return out.count
    }

    func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self) }

    func first(_ r: Range<Int>) -> UInt8? { r.isEmpty ? nil : bytes[r.lowerBound] }

    /// Whether the field is exactly the one byte `b`.
    func isByte(_ r: Range<Int>, _ b: UInt8) -> Bool { r.count == 1 && bytes[r.lowerBound] == b }

    /// A decimal integer as `Int64(String)` reads one: an optional sign, then one or more ASCII digits; nil when the
    /// field is anything else or overflows.
    func int64(_ r: Range<Int>) -> Int64? {
        var i = r.lowerBound
        guard i < r.upperBound else { return nil }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { negative = bytes[i] == UInt8(ascii: "-"); i += 1 }
        guard i < r.upperBound else { return nil }
        var value: Int64 = 0
        while i < r.upperBound {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            // Accumulated as a negative number, so that Int64.min reads too.
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(d))
            guard !o1 && !o2 else { return nil }
            value = next
            i += 1
        }
        if negative { return value }
        return value == Int64.min ? nil : -value
    }
}
