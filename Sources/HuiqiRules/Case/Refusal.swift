/// Why the engine gives no determination (CASES.md "Errors"). It never gives a partial result.
public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidInput = "invalid_input", missingFact = "missing_fact", notApplicable = "not_applicable"
        case noRule = "no_rule", notSupported = "not_supported"
    }
    public let code: Code
    /// The case path of the offending value (`field`) or of the missing fact (`fact` for `missing_fact`).
    public let path: String
    public let messageZh: String
    public let messageEn: String
    /// The RULES.md section that requires the refusal (`§1.3`), or `CASES.md` for a format error.
    public let rule: String

    public init(_ code: Code, _ path: String, zh: String, en: String, rule: String) {
        self.code = code; self.path = path; messageZh = zh; messageEn = en; self.rule = rule
    }
    public static func invalid(_ path: String, zh: String, en: String, rule: String = "CASES.md") -> Refusal {
        Refusal(.invalidInput, path, zh: zh, en: en, rule: rule)
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
