import Foundation
import Testing
@testable import HuiqiRules

@Suite struct MoneyTests {
    @Test func parsesAndFormatsExactly() {
        #expect(Money(decimal: "300000.00")?.fen == 30_000_000)
        #expect(Money(decimal: "12.5")?.description == "12.50")
        #expect(Money(decimal: "-0.01")?.description == "-0.01")
        for bad in ["1.001", "1e5", "", ".5", "5.", "1,000", "+1", "0x10"] { #expect(Money(decimal: bad) == nil, "\(bad)") }
    }
    @Test func roundsHalfUpOnce() {
        #expect(Exact.product(Money(decimal: "0.10")!, Rate(decimal: "0.05")!).rounded() == Money(fen: 1))  // 0.005 → 0.01
        #expect(Exact.product(Money(decimal: "0.09")!, Rate(decimal: "0.05")!).rounded() == Money(fen: 0))  // 0.0045 → 0.00
        #expect(Exact.product(Money(decimal: "99999.99")!, Rate(decimal: "0.03")!).rounded() == Money(decimal: "3000.00")!)
        #expect(Exact(fen: 600_000).rounded(dividingBy: 23) == Money(fen: 26087)) // 6000 ÷ 23 = 260.869…
    }
    @Test func ratesAreExact() {
        #expect(Rate(decimal: "0.125")!.times(Rate(decimal: "0.2")!) == Rate(decimal: "0.025"))
        #expect(Rate(decimal: "0.0000001") == nil)
        #expect(Rate(decimal: "0.025")!.percent == "2.5%")
    }
}

@Suite struct JSONTests {
    /// Strings are escaped where JSON requires it and written whole where it does not (the fast path), and both
    /// read back as the same text.
    @Test func escapesOnlyWhatJSONRequires() throws {
        for text in ["小规模纳税人 免征增值税", "plain", "", "a\"b", "back\\slash", "line\nbreak\ttab\r", "\u{01}控制\u{1F}", "引号“”不转义"] {
            let written = JSON.object([("t", .string(text))]).serialized(indent: nil)
            #expect(try JSONParser.parse(written)["t"] == .string(text), "\(written)")
        }
        #expect(JSON.string("a\"b\\c\n\u{01}").serialized() == #""a\"b\\c\n\u0001""#)
        #expect(JSON.string("税").serialized() == "\"税\"")
    }

    @Test func keepsNumbersAsText() throws {
        let j = try JSONParser.parse(#"{"a": 300000.10, "b": [1, 2.50], "c": "x\u4e2d"}"#)
        #expect(j["a"] == .number("300000.10"))
        #expect(j["c"] == .string("x中"))
    }
    @Test func rejectsDuplicatesAndGarbage() {
        for bad in [#"{"a":1,"a":2}"#, "{", "[1,]", "01", #"{"a":1} x"#, "nul"] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
    }
}

@Suite struct CaseDecoderTests {
    func refusal(_ text: String) -> Refusal? { do { _ = try CaseDecoder.decode(text: text); return nil } catch { return error } }

    @Test func namesTheField() {
        #expect(refusal(#"{"taxpayer":{"kind":"enterprise"},"vat":{"period":"2023-Q2","sales":[{"kind":"goods","amount":"-1","rate":"0.03"}]}}"#)?.path == "vat.sales[0].amount")
        #expect(refusal(#"{"taxpayer":{"kind":"enterprise","colour":"red"}}"#)?.path == "taxpayer.colour")
        #expect(refusal(#"{"taxpayer":{"kind":"shop"}}"#)?.path == "taxpayer.kind")
        #expect(refusal(#"{"taxpayer":{"id":"91310115MA1K4ABC8Y"}}"#)?.path == "taxpayer.id")
        #expect(refusal(#"{"taxpayer":{},"vat":{"period":"2023-05","months_operated":2,"sales":[]}}"#)?.path == "vat.months_operated")
        #expect(refusal(#"{"taxpayer":{},"vat":{"period":"2023-13","sales":[]}}"#)?.path == "vat.period")
        #expect(refusal(#"{"taxpayer":{},"eit":{"year":2023,"start_quarter":3,"quarters":[{"employees":[1,1],"assets":["1","1"],"taxable_income_ytd":"1"},{"employees":[1,1],"assets":["1","1"],"taxable_income_ytd":"1"},{"employees":[1,1],"assets":["1","1"],"taxable_income_ytd":"1"}]}}"#)?.path == "eit.quarters")
        #expect(refusal(#"{"taxpayer":{},"vat":{"period":"2023-05","sales":[{"kind":"goods","amount":"10","rate":"0.03","deduction":"11"}]}}"#)?.path == "vat.sales[0].deduction")
        #expect(refusal("not json")?.code == .invalidInput)
    }

    @Test func acceptsPlainNumbersExactly() throws {
        let c = try CaseDecoder.decode(text: #"{"taxpayer":{},"vat":{"period":"2023-05","sales":[{"kind":"goods","amount":300000.1,"rate":0.03}]}}"#)
        #expect(c.vat?.sales[0].amount == Money(fen: 30_000_010))
    }

    @Test func creditCodeCheckCharacter() {
        // The check character is computed over the 31-character alphabet of GB 32100-2015.
        let body = "91310115MA1K4ABC8"
        let check = CreditCode.checkCharacter(for: body)!
        #expect(CreditCode.isValid(body + String(check)))
        #expect(!CreditCode.isValid(body + (check == "0" ? "1" : "0")))
        #expect(CreditCode.isValid("91350100M000100Y43"))  // a published example code
    }
}
