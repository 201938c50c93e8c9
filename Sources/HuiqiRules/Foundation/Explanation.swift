import Foundation
import Yams

/// An unconfirmed rule the determination relied on (RULES §0.1 FLAG), numbered as in the RULES §10 register.
public struct Flag: Hashable, Sendable {
    public let code: String
    public let messageZh: String
    public let messageEn: String
}

/// How a section's result came about: the legal sources applied, the steps in words (Chinese and English,
/// in parallel), and the unconfirmed items relied on. Every FLAG also has an `UNCONFIRMED:` trace line.
public struct Explanation: Sendable {
    public private(set) var rules: [String] = []
    public private(set) var traceEn: [String] = []
    public private(set) var traceZh: [String] = []
    public private(set) var flags: [Flag] = []
    let register: UnconfirmedRegister

    init(register: UnconfirmedRegister) { self.register = register }

    mutating func cite(_ c: Citation) { cite(c.description) }
    mutating func cite(_ s: String) { if !rules.contains(s) { rules.append(s) } }
    mutating func step(zh: String, en: String) { traceZh.append(zh); traceEn.append(en) }
    /// An ASSUME item: a scope assumption stated in the trace (RULES §0.1).
    mutating func assume(_ code: String, zh: String, en: String) {
        step(zh: "假定（\(code)）：\(zh)", en: "ASSUMED (\(code)): \(en)")
    }
    /// A FLAG item: computed with the stated value, flagged. Adds the flag once and an UNCONFIRMED line each time.
    mutating func flag(_ code: String, zh: String, en: String) {
        let entry = register.entry(code)
        if !flags.contains(where: { $0.code == code }) {
            flags.append(Flag(code: code, messageZh: entry?.zh ?? zh, messageEn: entry?.en ?? en))
        }
        step(zh: "UNCONFIRMED: \(code) \(zh)", en: "UNCONFIRMED: \(code) \(en)")
    }

    var jsonFields: [(String, JSON)] {
        [("rules", .array(rules.map { .string($0) })),
         ("trace", .array(traceEn.map { .string($0) })),
         ("trace_zh", .array(traceZh.map { .string($0) })),
         ("flags", .array(flags.map { .object([("code", .string($0.code)), ("message_zh", .string($0.messageZh)), ("message_en", .string($0.messageEn))]) }))]
    }
}

/// The register of unconfirmed items (RULES §10), bundled as data.
public struct UnconfirmedRegister: Sendable {
    public struct Entry: Sendable { public let action: String; public let zh: String; public let en: String }
    public let entries: [String: Entry]

    public static func bundled() throws -> UnconfirmedRegister {
        guard let url = Bundle.module.url(forResource: "Register/unconfirmed", withExtension: "yaml")
                ?? Bundle.module.url(forResource: "unconfirmed", withExtension: "yaml", subdirectory: "Register") else {
            throw ParameterFileError(file: "Register/unconfirmed.yaml", problem: "missing from the bundle")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let root = try Yams.compose(yaml: text), let map = root.mapping else {
            throw ParameterFileError(file: "Register/unconfirmed.yaml", problem: "not a mapping")
        }
        var out: [String: Entry] = [:]
        for (k, v) in map {
            guard let code = k.string, let a = v["action"]?.string, let zh = v["message_zh"]?.string, let en = v["message_en"]?.string else {
                throw ParameterFileError(file: "Register/unconfirmed.yaml", problem: "entry \(k.string ?? "?") needs action, message_zh, message_en")
            }
            out[code] = Entry(action: a, zh: zh, en: en)
        }
        return UnconfirmedRegister(entries: out)
    }
    func entry(_ code: String) -> Entry? { entries[code] }
}
