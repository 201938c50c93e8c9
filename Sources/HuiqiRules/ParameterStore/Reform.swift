import Foundation
import HuiqiDates
import Yams

/// A reform (政策测算, issue 12 §3): parameter versions that override the law from a date, for an analyst to compare
/// against the law in force. A YAML file:
///
/// ```yaml
/// name: "季度起征点提高到45万元 / quarterly threshold raised to 450,000"
/// changes:
///   - parameter: vat.qizhengdian.quarterly
///     from: 2027-01-01
///     value: "450000"
///     note: "…"            # optional; `key:` for a keyed parameter
/// ```
///
/// Validated like the parameter files: the parameter exists, the key is declared, the date is a month's first day
/// inside the parameter's span, the value has the parameter's type. Applied, the version in force on `from` ends
/// the day before and the reform's value runs to the end of the span; later versions of that key give way.
public struct Reform: Sendable {
    public struct Change: Sendable {
        public let parameter: String
        public let key: String?
        public let from: Day
        public let value: ParameterValue
        public let note: String?
    }
    public let name: String
    public let changes: [Change]

    public static func load(_ url: URL, against law: ParameterSet) throws -> Reform {
        try parse(try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent, against: law)
    }

    public static func parse(_ text: String, file: String, against law: ParameterSet) throws -> Reform {
        func fail(_ m: String) -> ParameterFileError { ParameterFileError(file: file, problem: m) }
        let root: Node
        do { guard let n = try Yams.compose(yaml: text) else { throw fail("empty file") }; root = n }
        catch let e as ParameterFileError { throw e } catch { throw fail("not valid YAML: \(error)") }
        for k in (root.mapping.map { Array($0.keys) } ?? []) where !["name", "changes"].contains(k.string ?? "") {
            throw fail("unknown field \(k.string ?? "?")")
        }
        guard let name = root["name"]?.string, !name.isEmpty else { throw fail("missing name") }
        guard let seq = root["changes"]?.sequence, !seq.isEmpty else { throw fail("no changes: a reform changes at least one parameter") }
        var changes: [Change] = []
        for (i, c) in seq.enumerated() {
            let at = "changes[\(i)]"
            for k in (c.mapping.map { Array($0.keys) } ?? []) where !["parameter", "key", "from", "value", "note"].contains(k.string ?? "") {
                throw fail("\(at): unknown field \(k.string ?? "?")")
            }
            guard let parameter = c["parameter"]?.string, let def = law.definitions[parameter] else {
                throw fail("\(at).parameter: no such parameter \(c["parameter"]?.string ?? "(missing)")")
            }
            let key = c["key"]?.string
            if let key, !def.keys.contains(key) { throw fail("\(at).key: \(key) is not a key of \(parameter) (\(def.keys.joined(separator: ", ")))") }
            guard let s = c["from"]?.string, let from = Day(iso: s) else { throw fail("\(at).from: a YYYY-MM-DD date is required") }
            guard from.day == 1 else { throw fail("\(at).from: a reform starts on a month's first day (quarters are not split), not \(from)") }
            guard from >= def.coversFrom, def.coversTo.map({ from <= $0 }) ?? true else {
                throw fail("\(at).from: \(from) lies outside \(parameter)'s span \(def.coversFrom) – \(def.coversTo?.description ?? "")")
            }
            // Without a key the change replaces every key. A key must be named only where every version from `from` on
            // has one (the law differs by key throughout); vat.rate3.special_invoice_rate had 湖北 and elsewhere in
            // 2020–2021 and one rate since, so a change from 2027 names none. A change of one key is refused where a
            // version for every key follows (below): the two would overlap.
            let later = def.versions.filter { $0.to.map { $0 >= from } ?? true }
            if key == nil, !def.keys.isEmpty, def.complete, !later.isEmpty, later.allSatisfy({ $0.key != nil }) {
                throw fail("\(at).key: \(parameter) is keyed from \(from) on; name one of \(def.keys.joined(separator: ", "))")
            }
            if key != nil, def.versions.contains(where: { $0.key == nil && ($0.to.map { $0 >= from } ?? true) }) {
                throw fail("\(at).key: \(parameter) has versions for every key from \(from) on; change it without a key")
            }
            guard let valueNode = c["value"] else { throw fail("\(at): missing value") }
            let value = try ParameterFileParser.parseValue(valueNode, type: def.type, at: at, fail: fail)
            if changes.contains(where: { $0.parameter == parameter && $0.key == key }) { throw fail("\(at): \(parameter) is changed twice") }
            changes.append(Change(parameter: parameter, key: key, from: from, value: value, note: c["note"]?.string))
        }
        return Reform(name: name, changes: changes)
    }

    /// The law with this reform: for each change, the versions it replaces (of its key, or all when it names
    /// none) before `from` stay, the one running across `from` ends the day before, later ones give way, and the
    /// reform's version runs from `from` to the end of the span.
    public func applied(to law: ParameterSet) -> ParameterSet {
        var defs = law.definitions
        for c in changes {
            guard let def = defs[c.parameter] else { continue }
            let eve = c.from.adding(days: -1)
            var versions: [ParameterVersion] = []
            for v in def.versions {
                guard c.key == nil || v.key == c.key else { versions.append(v); continue }
                if v.from >= c.from { continue }
                versions.append(v.to.map { $0 < c.from } ?? false ? v : v.with(to: eve))
            }
            versions.append(ParameterVersion(name: c.parameter, from: c.from, to: def.coversTo, key: c.key, value: c.value,
                                             cite: Citation(document: "reform: \(name)", article: nil, grade: "reform"), note: c.note))
            defs[c.parameter] = ParameterDefinition(name: def.name, description: def.description, unit: def.unit, type: def.type,
                                                    coversFrom: def.coversFrom, coversTo: def.coversTo, keys: def.keys, complete: def.complete,
                                                    versions: versions.sorted { ($0.from, $0.key ?? "") < ($1.from, $1.key ?? "") },
                                                    withdrawn: def.withdrawn, file: def.file)
        }
        return ParameterSet(definitions: defs)
    }
}

extension ParameterVersion {
    func with(to: Day) -> ParameterVersion {
        ParameterVersion(name: name, from: from, to: to, key: key, value: value, cite: cite, note: note)
    }
}
