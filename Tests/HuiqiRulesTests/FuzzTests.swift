import Foundation
import Testing
@testable import HuiqiRules

/// A property-based fuzz test of the case decoder and the engine (issue 7): the 54 worked examples, mutated at
/// random (numbers at and beyond every limit, strings with control characters, fields dropped, duplicated or
/// retyped, arrays grown past their limits, documents truncated) go through `Engine.determine(json:)`. Every input
/// must get an answer, never a trap (a trap would end this test process); and every answer must keep its
/// contract. Seeded, so a failure reproduces; bounded in count and time.
@Suite struct FuzzTests {
    /// SplitMix64: small, fast, and the same on every machine for a seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
    }

    static let numbers = ["0", "-0", "1", "-1", "0.01", "-0.01", "0.001", "1e5", "1E-2", "300000", "300000.00", "300000.01",
                          "9999999999999.99", "10000000000000", "-9999999999999.99", "999999999999999.99", "9223372036854775807",
                          "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1" + String(repeating: "0", count: 400),
                          "00000000000000000000001", "10000000", "10000001", "2008", "2027", "2028", "9999", "10000", "0.5", "3", "4", "5"]
    static let strings = ["", "goods", "immovable", "enterprise", "individual", "small_scale", "general", "2023-Q2", "2026-01", "2008-12",
                          "2027-Q5", "0.03", "0.05", "0.01", "310115", "420102", "\u{0}", "a\u{1}b", "名称", String(repeating: "x", count: 300),
                          "91310115MA0000001Y", "💥", "\u{FFFF}", "2016-Q2", "2013-Q3", "2011-Q4", "true"]

    func mutate(_ j: JSON, _ r: inout Random, depth: Int = 0) -> JSON {
        if r.below(6) != 0 || depth > 8 {
            // Mostly keep the node, but walk into it.
            switch j {
            case .object(let kv):
                var out: [(String, JSON)] = []
                for (k, v) in kv {
                    switch r.below(40) {
                    case 0: continue                                              // drop the field
                    case 1: out.append((k, v)); out.append((k + "_x", v))         // an unknown field
                    default: out.append((k, mutate(v, &r, depth: depth + 1)))
                    }
                }
                return .object(out)
            case .array(let a):
                var out = a.map { mutate($0, &r, depth: depth + 1) }
                if !out.isEmpty && r.below(30) == 0 { out = Array(repeating: out[0], count: r.pick([2, 999, 1000, 1001, 1500])) }
                if !out.isEmpty && r.below(20) == 0 { out.removeLast() }
                return .array(out)
            default: return j
            }
        }
        switch r.below(6) {
        case 0: return .number(r.pick(Self.numbers))
        case 1: return .string(r.pick(Self.numbers))
        case 2: return .string(r.pick(Self.strings))
        case 3: return r.pick([.null, .bool(true), .bool(false), .array([]), .object([])])
        case 4: return .array([j, j])
        default: return j
        }
    }

    func seeds() throws -> [JSON] {
        try fixtureURLs().map { try JSONParser.parse(String(contentsOf: $0, encoding: .utf8))["input"]! }
    }

    /// The contract of an answer: a refusal names a path (or `$`) and says why in both languages; a determination's
    /// figures are within what the law can give (tax and relief never negative, exempt sales within total sales).
    func checkContract(_ text: String, _ result: Result<Determination, Refusal>) {
        switch result {
        case .failure(let e):
            #expect(!e.path.isEmpty && !e.messageZh.isEmpty && !e.messageEn.isEmpty && !e.rule.isEmpty, "\(e) for \(text.prefix(300))")
        case .success(let d):
            if let v = d.vat {
                #expect(v.tax >= .zero && v.relief >= .zero && v.exemptSales <= v.totalSales, "\(text.prefix(300))")
            }
            if let b = d.businessIncome { #expect(b.tax >= .zero && b.relief >= .zero, "\(text.prefix(300))") }
            if let l = d.localTaxes { #expect(l.items.allSatisfy { $0.payable >= .zero }, "\(text.prefix(300))") }
        }
    }

    @Test func mutatedExamplesAlwaysGetAnAnswer() throws {
        var r = Random(state: 20_261_201)
        let seeds = try seeds()
        let started = Date()
        var determined = 0, refused = 0
        for i in 0..<12_000 {
            if i % 500 == 0 && Date().timeIntervalSince(started) > 60 { break }  // a bound for slow machines
            var text = mutate(r.pick(seeds), &r).serialized(indent: r.below(2) == 0 ? nil : 2)
            if r.below(25) == 0 { text = String(text.prefix(r.below(max(text.count, 1)))) }   // a truncated document
            let result = Result { () throws(Refusal) -> Determination in try engine.determine(json: text) }
            checkContract(text, result)
            if case .success = result { determined += 1 } else { refused += 1 }
        }
        // Both kinds of answer occur: the mutations neither all break the format nor leave every case intact.
        #expect(determined > 500 && refused > 500, "determined \(determined), refused \(refused)")
    }

    /// Random bytes and random JSON shapes, not derived from any case.
    @Test func arbitraryDocumentsAlwaysGetAnAnswer() {
        var r = Random(state: 7)
        let alphabet = Array("{}[]\",:0123456789.-eE truefalsnul\\u\u{0}名")
        for _ in 0..<5_000 {
            let text = String((0..<r.below(200)).map { _ in r.pick(alphabet) })
            let result = Result { () throws(Refusal) -> Determination in try engine.determine(json: text) }
            checkContract(text, result)
        }
        // Deep nesting is refused, not recursed into without end.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(refused(deep)?.path == "$")
    }
}
