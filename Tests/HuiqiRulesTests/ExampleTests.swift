import Foundation
import Testing
@testable import HuiqiRules

/// The worked examples of ../shared/policy/examples (copied to Fixtures/), compared as RULES §11 says:
/// money numerically, `failed` as a set, EIT quarters by number, refusals by code and names, flags exactly.
let engine: Engine = { try! Engine.bundled() }()

func fixtureURLs() -> [URL] {
    let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    return (try! FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil))
        .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
}

@Suite struct ExampleTests {
    @Test func allFixturesArePresent() { #expect(fixtureURLs().count == 54) }

    /// An engine keeps what VAT needs of each period (`VATPeriodCache`, by period and by whether the taxpayer is
    /// an individual). One engine that has already answered every example, in one order and then the other, answers
    /// each exactly as an engine that never saw another case: the whole output, trace included, and every refusal.
    @Test func anEngineThatRemembersPeriodsAnswersAsAFreshOne() throws {
        let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let cases = try fixtureURLs().map { url in
            (url.lastPathComponent, try JSONParser.parse(String(contentsOf: dir.appendingPathComponent(url.lastPathComponent), encoding: .utf8))["input"]!)
        }
        func answer(_ e: Engine, _ input: JSON) -> String {
            do throws(Refusal) { return try e.determine(try CaseDecoder.decode(input)).json.serialized() } catch { return "refused: \(error)" }
        }
        // The individuals' 起征点 changed on 2011-11-01: 2011-Q4 straddles it for an individual, not for an enterprise.
        func quarter2011Q4(_ kind: String) throws -> JSON {
            try JSONParser.parse(#"{"taxpayer": {"kind": "\#(kind)", "vat_status": "small_scale", "region": "310115"}, "vat": {"period": "2011-Q4", "sales": [{"kind": "goods", "amount": "50000", "rate": "0.03"}]}}"#)
        }
        let pair = [("enterprise 2011-Q4", try quarter2011Q4("enterprise")), ("individual 2011-Q4", try quarter2011Q4("individual_business"))]
        let fresh = Dictionary(uniqueKeysWithValues: try (cases + pair).map { ($0.0, answer(try Engine.bundled(), $0.1)) })
        #expect(fresh["enterprise 2011-Q4"]?.hasPrefix("{") == true && fresh["individual 2011-Q4"]?.contains("2011-11-01") == true,
                "\(fresh["enterprise 2011-Q4"] ?? "") / \(fresh["individual 2011-Q4"] ?? "")")
        for order in [pair + cases, cases.reversed() + pair.reversed()] {
            let shared = try Engine.bundled()
            for (name, input) in order + order { #expect(answer(shared, input) == fresh[name], "\(name)") }
        }
    }

    @Test(arguments: fixtureURLs().map(\.lastPathComponent))
    func example(_ name: String) throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
        let doc = try JSONParser.parse(String(contentsOf: url, encoding: .utf8))
        let input = doc["input"]!
        let expected = doc["expected"]!
        let result = Result { () throws(Refusal) -> Determination in try engine.determine(try CaseDecoder.decode(input)) }
        if let err = expected["error"] {
            guard case .failure(let r) = result else { Issue.record("\(name): expected a refusal, got a determination"); return }
            #expect(err["code"] == .string(r.code.rawValue), "\(name): \(r)")
            if case .array(let names)? = err["names"] {
                for n in names { #expect(n == .string(r.path) || n == .string(r.rule), "\(name): \(n) not in \(r)") }
            }
            return
        }
        let d: Determination
        switch result { case .success(let x): d = x; case .failure(let r): Issue.record("\(name): refused: \(r)"); return }
        let actual = d.json
        guard case .object(let sections) = expected else { return }
        for (section, exp) in sections { compare(exp, actual[section], path: "\(name):\(section)") }
        if case .array(let flags)? = doc["expected_flags"] {
            let want = Set(flags.compactMap { if case .string(let s) = $0 { return s }; return nil })
            var got = Set<String>()
            for (_, ex) in d.explanations { got.formUnion(ex.flags.map(\.code)) }
            #expect(got == want, "\(name): flags \(got) != \(want)")
        }
    }
}

/// Compares an expected subset with the actual output.
func compare(_ exp: JSON, _ act: JSON?, path: String) {
    guard let act else { Issue.record("\(path): missing"); return }
    switch exp {
    case .object(let kv):
        for (k, v) in kv {
            if k == "quarters", case .array(let qs) = v, case .array(let aqs)? = act[k] {
                for q in qs {
                    let match = aqs.first { $0["quarter"].map { numeric($0) } == q["quarter"].map { numeric($0) } }
                    compare(q, match, path: "\(path).quarters[\(q["quarter"].map { numeric($0) } ?? "?")]")
                }
            } else if k == "failed", case .array(let a) = v, case .array(let b)? = act[k] {
                #expect(Set(a.map { $0.serialized() }) == Set(b.map { $0.serialized() }), "\(path).failed")
            } else { compare(v, act[k], path: "\(path).\(k)") }
        }
    case .string, .number:
        #expect(numeric(exp) == numeric(act), "\(path): expected \(exp.serialized()), got \(act.serialized())")
    default:
        #expect(exp == act, "\(path): expected \(exp.serialized()), got \(act.serialized())")
    }
}

/// Money-like strings compare as decimals ("350" = "350.00"); other strings as they are.
func numeric(_ j: JSON) -> String {
    switch j {
    case .string(let s), .number(let s): return Money(decimal: s).map { "\($0.fen)" } ?? s
    default: return j.serialized()
    }
}
