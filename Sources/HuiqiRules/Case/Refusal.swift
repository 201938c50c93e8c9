/// Why the engine gives no determination (CASES.md "Errors"). It never gives a partial result.
public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidInput = "invalid_input", missingFact = "missing_fact", notApplicable = "not_applicable"
        case noRule = "no_rule", notSupported = "not_supported"
    }
    /// Where a refusal stands in the order of CASES.md "Errors": when a case has several problems, the one with
    /// the lowest step is reported, and within a step the first met in the order taxpayer, section fields, lines.
    public enum Step: Int, Comparable, Sendable {
        /// 1. invalid input that needs no rule (syntax, unknown fields, types, formats, documented limits).
        case format = 1
        /// 2. a period outside the rules.
        case noRule
        /// 3. invalid input that depends on the period's rules (a rate not in force then).
        case periodInput
        /// 4. the section does not apply to this taxpayer.
        case notApplicable
        /// 5. not_supported for a shape no fact could make computable (a quarter straddling a rule change).
        case shape
        /// 6. a fact the rules need is absent.
        case missingFact
        /// 7. not_supported that depends on a value given (a province not on record, a line kind refused then).
        case value
        public static func < (l: Step, r: Step) -> Bool { l.rawValue < r.rawValue }
    }
    public let code: Code
    public let step: Step
    /// The case path of the offending value (`field`) or of the missing fact (`fact` for `missing_fact`).
    public let path: String
    public let messageZh: String
    public let messageEn: String
    /// The RULES.md section that requires the refusal (`§1.3`), or `CASES.md` for a format error.
    public let rule: String

    /// `step` defaults to the code's place in the order; a `not_supported` is value-dependent (7) unless said
    /// to be a shape (5), an `invalid_input` needs no rule (1) unless said to depend on the period (3).
    public init(_ code: Code, _ path: String, zh: String, en: String, rule: String, step: Step? = nil) {
        self.code = code; self.path = path; messageZh = zh; messageEn = en; self.rule = rule
        switch code {
        case .invalidInput: self.step = step ?? .format
        case .noRule: self.step = .noRule
        case .notApplicable: self.step = .notApplicable
        case .missingFact: self.step = .missingFact
        case .notSupported: self.step = step ?? .value
        }
    }
    public static func invalid(_ path: String, zh: String, en: String, rule: String = "CASES.md") -> Refusal {
        Refusal(.invalidInput, path, zh: zh, en: en, rule: rule)
    }
    /// A `not_supported` for a case shape that no fact could make computable (step 5).
    public static func shape(_ path: String, zh: String, en: String, rule: String) -> Refusal {
        Refusal(.notSupported, path, zh: zh, en: en, rule: rule, step: .shape)
    }
    public static func missing(_ path: String, zh: String, en: String, rule: String) -> Refusal {
        Refusal(.missingFact, path, zh: zh, en: en, rule: rule)
    }
    /// A parameter lookup that found nothing in force: the period is outside what the rules cover.
    public static func noRule(_ path: String, _ e: ParameterLookupError, rule: String = "§0.2") -> Refusal {
        Refusal(.noRule, path, zh: "\(e.day) 没有有效的规则（参数 \(e.name)\(e.key.map { "，\($0)" } ?? "")）：本引擎不推定规则",
                en: "no rule in force on \(e.day) (parameter \(e.name)\(e.key.map { ", key \($0)" } ?? "")); the engine never assumes one",
                rule: rule)
    }

    /// The CASES.md error object.
    public var json: JSON {
        .object([("error", .object([
            ("code", .string(code.rawValue)),
            (code == .missingFact ? "fact" : "field", .string(path)),
            ("message_zh", .string(messageZh)),
            ("message_en", .string(messageEn)),
            ("rule", .string(rule)),
        ]))])
    }
    /// One line for standard error: code, path, both messages, rule.
    public var description: String { "\(code.rawValue): \(path): \(messageEn) / \(messageZh) (\(rule))" }
}

/// The refusals met while checking a case, of which the one CASES.md "Errors" puts first is reported: the lowest
/// step, and among equal steps the first recorded (checks record in the order taxpayer, section fields, lines).
struct Refusals {
    private(set) var first: Refusal?
    mutating func add(_ r: Refusal) {
        if let f = first, f.step <= r.step { return }
        first = r
    }
    /// Records the refusal of `check`, if any, and returns its value otherwise.
    mutating func record<T>(_ check: () throws(Refusal) -> T) -> T? {
        do { return try check() } catch { add(error); return nil }
    }
    /// Throws the refusal to report, if any was met.
    func check() throws(Refusal) { if let first { throw first } }
}
