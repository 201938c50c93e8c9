import HuiqiDates
import Foundation
import Yams

/// Why a parameter file was refused at load. Loading fails loudly: an engine with a bad parameter never starts.
public struct ParameterFileError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "parameter file \(file): \(problem)" }
}

/// A lookup that found no version in force: the caller turns this into a `no_rule` refusal, never a default.
public struct ParameterLookupError: Error, Sendable {
    public let name: String
    public let day: Day
    public let key: String?
}

/// Every parameter of the law, loaded from `Parameters/**/*.yaml` and validated: versions of one key never overlap,
/// and a complete parameter tiles its declared span without gaps.
public struct ParameterSet: Sendable {
    public let definitions: [String: ParameterDefinition]

    /// The parameters bundled with the engine.
    public static func bundled() throws -> ParameterSet {
        guard let dir = Bundle.module.url(forResource: "Parameters", withExtension: nil) else {
            throw ParameterFileError(file: "Parameters", problem: "bundled parameter directory is missing")
        }
        return try load(directory: dir)
    }

    /// Loads every `.yaml` file below `directory`.
    public static func load(directory: URL) throws -> ParameterSet {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            throw ParameterFileError(file: directory.path, problem: "cannot list directory")
        }
        var files: [URL] = []
        for case let url as URL in walker where url.pathExtension == "yaml" { files.append(url) }
        var defs: [String: ParameterDefinition] = [:]
        for url in files.sorted(by: { $0.path < $1.path }) {
            let rel = String(url.path.dropFirst(directory.path.count + 1))
            let text = try String(contentsOf: url, encoding: .utf8)
            let def = try ParameterFileParser.parse(text, file: rel)
            if let other = defs[def.name] {
                throw ParameterFileError(file: rel, problem: "parameter \(def.name) is also defined in \(other.file)")
            }
            defs[def.name] = def
        }
        return ParameterSet(definitions: defs)
    }

    /// The version of `name` in force on `day` for `key` (a version without a key applies to every key).
    public func version(_ name: String, on day: Day, key: String? = nil) throws(ParameterLookupError) -> ParameterVersion {
        guard let def = definitions[name] else { throw ParameterLookupError(name: name, day: day, key: key) }
        for v in def.versions where v.covers(day) && (v.key == nil || v.key == key) { return v }
        throw ParameterLookupError(name: name, day: day, key: key)
    }

    /// Whether any version of `name` in force on `day` is specific to a key (then the caller needs the key's fact).
    public func isKeyed(_ name: String, on day: Day) -> Bool {
        definitions[name]?.versions.contains { $0.covers(day) && $0.key != nil } ?? false
    }

    /// The first month inside `period` whose versions of `names` (for each of `keys`) differ from those of the
    /// period's first month; nil when one set of versions covers the whole period. A quarter with such a change
    /// falls under two rule versions and is refused by the caller (RULES §0.2). Versions start on a month's first day.
    public func firstChange(of names: [String], keys: [String?], in period: TaxPeriod) -> Day? {
        let days = period.months.map { Day.firstOf(year: $0.year, month: $0.month) }
        func signature(_ d: Day) -> [Day?] {
            names.flatMap { n in keys.map { k in (try? version(n, on: d, key: k))?.from } }
        }
        let first = signature(days[0])
        return days.dropFirst().first { signature($0) != first }
    }

    /// Every version in force on `day`, sorted by name then key: what `huiqi rules --date` lists.
    public func inForce(on day: Day) -> [ParameterVersion] {
        definitions.values.flatMap { $0.versions.filter { $0.covers(day) } }
            .sorted { ($0.name, $0.key ?? "") < ($1.name, $1.key ?? "") }
    }
}

/// Reads one parameter file (YAML, scalars kept as text so dates and amounts are never reinterpreted).
enum ParameterFileParser {
    static func parse(_ text: String, file: String) throws -> ParameterDefinition {
        func fail(_ m: String) -> ParameterFileError { ParameterFileError(file: file, problem: m) }
        let root: Node
        do { guard let n = try Yams.compose(yaml: text) else { throw fail("empty file") }; root = n }
        catch let e as ParameterFileError { throw e } catch { throw fail("not valid YAML: \(error)") }
        func str(_ n: Node?, _ field: String) throws -> String {
            guard let s = n?.scalar?.string, !s.isEmpty else { throw fail("missing \(field)") }
            return s
        }
        func day(_ n: Node?, _ field: String) throws -> Day {
            let s = try str(n, field)
            guard let d = Day(iso: s) else { throw fail("\(field) '\(s)' is not a YYYY-MM-DD date") }
            return d
        }
        let allowedTop: Set<String> = ["name", "description", "unit", "type", "covers", "keys", "complete", "values", "note"]
        for k in (root.mapping.map { Array($0.keys) } ?? []) where !allowedTop.contains(k.string ?? "") { throw fail("unknown field \(k.string ?? "?")") }
        let name = try str(root["name"], "name")
        let type = try str(root["type"], "type")
        let coversFrom = try day(root["covers"]?["from"], "covers.from")
        let coversTo: Day? = root["covers"]?["to"] != nil ? try day(root["covers"]?["to"], "covers.to") : nil
        let keys = root["keys"]?.sequence?.compactMap { $0.string } ?? []
        let complete = (root["complete"]?.string ?? "true") == "true"
        guard let seq = root["values"]?.sequence else { throw fail("no values list") }
        if seq.isEmpty && complete { throw fail("a complete parameter needs at least one value") }
        var versions: [ParameterVersion] = [], withdrawn: [ParameterVersion] = []
        for (i, v) in seq.enumerated() {
            let at = "values[\(i)]"
            let allowed: Set<String> = ["from", "to", "key", "value", "cite", "note", "withdrawn"]
            for k in (v.mapping.map { Array($0.keys) } ?? []) where !allowed.contains(k.string ?? "") { throw fail("\(at): unknown field \(k.string ?? "?")") }
            let from = try day(v["from"], "\(at).from")
            let to: Day? = v["to"] != nil ? try day(v["to"], "\(at).to") : nil
            if let to, to < from { throw fail("\(at): to \(to) is before from \(from)") }
            let key = v["key"]?.string
            if let key, !keys.contains(key) { throw fail("\(at): key \(key) is not declared in keys") }
            guard let c = v["cite"] else { throw fail("\(at): every value needs its citation (cite)") }
            let cite = Citation(document: try str(c["doc"], "\(at).cite.doc"), article: c["article"]?.string,
                                grade: try str(c["grade"], "\(at).cite.grade"))
            guard let valueNode = v["value"] else { throw fail("\(at): missing value") }
            let value = try parseValue(valueNode, type: type, at: at, fail: fail)
            let version = ParameterVersion(name: name, from: from, to: to, key: key, value: value, cite: cite, note: v["note"]?.string)
            // A shipped version found wrong stays in the file, marked `withdrawn: "<erratum note>"`, beside the version
            // that corrects it: filed returns cite it, so it is kept but never applied again.
            if v["withdrawn"] != nil { _ = try str(v["withdrawn"], "\(at).withdrawn"); withdrawn.append(version) } else { versions.append(version) }
        }
        let def = ParameterDefinition(name: name, description: try str(root["description"], "description"),
                                      unit: try str(root["unit"], "unit"), type: type, coversFrom: coversFrom,
                                      coversTo: coversTo, keys: keys, complete: complete, versions: versions, withdrawn: withdrawn, file: file)
        try validate(def, fail: fail)
        return def
    }

    static func parseValue(_ n: Node, type: String, at: String, fail: (String) -> ParameterFileError) throws -> ParameterValue {
        let s = n.string
        switch type {
        case "money":
            guard let s, let m = Money(decimal: s) else { throw fail("\(at).value is not an amount in yuan") }
            return .money(m)
        case "rate":
            guard let s, let r = Rate(decimal: s) else { throw fail("\(at).value is not a rate with at most 6 decimals") }
            return .rate(r)
        case "integer":
            guard let s, let i = Int64(s) else { throw fail("\(at).value is not an integer") }
            return .integer(i)
        case "text":
            guard let s else { throw fail("\(at).value is not text") }
            return .text(s)
        case "rate_or_exempt":
            if s == "exempt" { return .text("exempt") }
            guard let s, let r = Rate(decimal: s) else { throw fail("\(at).value is neither exempt nor a rate") }
            return .rate(r)
        case "bool":
            guard s == "true" || s == "false" else { throw fail("\(at).value is not true or false") }
            return .flag(s == "true")
        case "list":
            guard let seq = n.sequence else { throw fail("\(at).value is not a list") }
            return .list(seq.compactMap { $0.string })
        case "brackets":
            guard let seq = n.sequence else { throw fail("\(at).value is not a list of brackets") }
            var out: [Bracket] = []
            for b in seq {
                let up: Money? = b["up_to"]?.string == "none" ? nil : b["up_to"]?.string.flatMap { Money(decimal: $0) }
                guard let r = b["rate"]?.string.flatMap({ Rate(decimal: $0) }),
                      let q = b["quick_deduction"]?.string.flatMap({ Money(decimal: $0) }),
                      up != nil || b["up_to"]?.string == "none" else { throw fail("\(at): a bracket needs up_to, rate, quick_deduction") }
                out.append(Bracket(upTo: up, rate: r, quickDeduction: q))
            }
            return .brackets(out)
        default:
            if type.hasPrefix("enum(") {
                let options = type.dropFirst(5).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let s, options.contains(s) else { throw fail("\(at).value must be one of \(options)") }
                return .text(s)
            }
            throw fail("unknown type \(type)")
        }
    }

    /// No overlap within one key; for a complete parameter, the versions of each key tile covers.from…covers.to.
    static func validate(_ def: ParameterDefinition, fail: (String) -> ParameterFileError) throws {
        let keySets: [String?] = def.keys.isEmpty ? [nil] : def.keys.map { Optional($0) }
        for key in keySets {
            let vs = def.versions.filter { $0.key == nil || $0.key == key }.sorted { $0.from < $1.from }
            let label = key.map { " for key \($0)" } ?? ""
            for (a, b) in zip(vs, vs.dropFirst()) {
                guard let aTo = a.to else { throw fail("versions overlap\(label): \(a.span) has no end but \(b.span) follows") }
                if b.from <= aTo { throw fail("versions overlap\(label): \(a.span) and \(b.span)") }
                if def.complete && b.from != aTo.adding(days: 1) { throw fail("missing version\(label) between \(aTo) and \(b.from)") }
            }
            guard def.complete else { continue }
            guard let first = vs.first, let last = vs.last else { throw fail("no version\(label)") }
            if first.from != def.coversFrom { throw fail("missing version\(label): span starts \(def.coversFrom) but the first version starts \(first.from)") }
            if last.to != def.coversTo { throw fail("missing version\(label): span ends \(def.coversTo?.description ?? "open") but the last version ends \(last.to?.description ?? "open")") }
        }
        for v in def.versions {
            if v.from < def.coversFrom || (def.coversTo != nil && (v.to == nil || v.to! > def.coversTo!)) {
                throw fail("version \(v.span) lies outside the declared span")
            }
        }
    }
}
