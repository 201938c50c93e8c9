import HuiqiDates
/// Where a value comes from: the document (文号), its article, and the source grade of RULES §0.1
/// (A official, B verbatim reproduction, C secondary, D derived, UNC unconfirmed).
public struct Citation: Hashable, Sendable, CustomStringConvertible {
    public let document: String
    public let article: String?
    public let grade: String
    public var description: String { article.map { "\(document) \($0)" } ?? document }
}

/// One PIT bracket of 经营所得 (税率表二): income up to `upTo` (nil = no upper limit), its rate and quick deduction.
public struct Bracket: Hashable, Sendable {
    public let upTo: Money?
    public let rate: Rate
    public let quickDeduction: Money
}

/// The typed value of a parameter version. The parameter file's `type` decides which case it holds.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    case money(Money), rate(Rate), integer(Int64), text(String), flag(Bool), list([String]), brackets([Bracket])

    public var description: String {
        switch self {
        case .money(let m): return m.description
        case .rate(let r): return r.description
        case .integer(let n): return "\(n)"
        case .text(let s): return s
        case .flag(let b): return b ? "true" : "false"
        case .list(let l): return "[" + l.joined(separator: ", ") + "]"
        case .brackets(let b):
            return b.map { "≤\($0.upTo?.description ?? "∞"): \($0.rate.percent), −\($0.quickDeduction)" }.joined(separator: "; ")
        }
    }
}

/// One dated value of a parameter: in force from `from` to `to` inclusive (by 税款所属期), for one key (a region
/// or category qualifier) or for every key when `key` is nil.
public struct ParameterVersion: Hashable, Sendable {
    public let name: String
    public let from: Day
    public let to: Day?
    public let key: String?
    public let value: ParameterValue
    public let cite: Citation
    public let note: String?

    public func covers(_ day: Day) -> Bool { from <= day && (to.map { day <= $0 } ?? true) }
    /// "2021-04-01 – 2022-12-31"
    public var span: String { "\(from) – \(to?.description ?? "")" }
}

/// A parameter as read from its file: what it measures, and its versions.
public struct ParameterDefinition: Sendable {
    public let name: String
    public let description: String
    public let unit: String
    public let type: String
    /// The span the versions must tile without gap or overlap (for each declared key when `complete`).
    public let coversFrom: Day
    public let coversTo: Day?
    /// Declared qualifier keys (for example `hubei`, `elsewhere`); empty for an unqualified parameter.
    public let keys: [String]
    /// False for open sets such as provincial choices, where a missing key is refused at use, not at load.
    public let complete: Bool
    public let versions: [ParameterVersion]
    /// Versions withdrawn by an erratum (shipped, so kept; never applied): docs/parameters.md.
    public let withdrawn: [ParameterVersion]
    public let file: String
}
