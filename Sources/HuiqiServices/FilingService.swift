import Foundation
import HuiqiRules
import HuiqiStore

/// The result of filing: the stored version and the engine's determination for it.
public struct FiledReturn: Sendable {
    public let row: ReturnVersionRow
    /// True when the idempotency key had already been used: nothing new was written.
    public let replayed: Bool
    /// Prompts (提示、提醒) for the taxpayer, in Chinese and English.
    public let prompts: [Prompt]
}

public struct Prompt: Sendable, Codable, Equatable {
    public let code: String
    public let zh: String
    public let en: String
}

/// Filing (申报): the engine computes the relief, the declared figure is checked against it, and the return is
/// stored as a new version (更正申报 adds a version; nothing is overwritten). Every filing is audited.
public struct FilingService: Sendable {
    public let store: Store
    public let access: Access
    public let engine: Engine
    public let now: @Sendable () -> Date

    public init(store: Store, engine: Engine, now: @escaping @Sendable () -> Date) {
        self.store = store; access = Access(store: store); self.engine = engine; self.now = now
    }

    /// Files one return for `taxpayerID`. The body is a CASES.md case holding exactly one of `vat`, `eit`,
    /// `business_income`; the taxpayer facts come from the registry, never from the body.
    public func file(by actor: Actor, taxpayerID: String, caseJSON: String, declaredTax: Money?,
                     idempotencyKey: String?, remote: String?) async throws -> FiledReturn {
        let taxpayer = try await access.fileableTaxpayer(taxpayerID, by: actor)
        if let key = idempotencyKey, let existing = try await store.version(taxpayer: taxpayerID, idempotencyKey: key) {
            return FiledReturn(row: existing, replayed: true, prompts: [])
        }
        var c = try CaseDecoder.decode(try Self.caseWithoutTaxpayer(caseJSON))
        let sections = [c.vat != nil, c.eit != nil, c.businessIncome != nil].filter { $0 }.count
        guard sections == 1, c.localTaxes == nil, c.businessTax == nil else {
            throw ServiceError.invalid(field: "case", zh: "一次申报只能包含 vat、eit、business_income 之一", en: "a return holds exactly one of vat, eit, business_income")
        }
        c.taxpayer = taxpayer.facts
        let d = try engine.determine(c)
        let (section, returnID, period, tax, relief) = describe(d)
        var prompts: [Prompt] = []
        if let declaredTax, declaredTax != tax {
            prompts.append(declaredTax > tax
                ? Prompt(code: "relief_not_claimed", zh: "申报税额 \(declaredTax) 高于按优惠政策计算的 \(tax)：可享受的减免未足额申报",
                         en: "declared tax \(declaredTax) is above the \(tax) the law gives: relief available but not claimed")
                : Prompt(code: "relief_not_due", zh: "申报税额 \(declaredTax) 低于计算的 \(tax)：申报的减免超过政策规定",
                         en: "declared tax \(declaredTax) is below the computed \(tax): relief claimed but not due"))
        }
        for _ in 0..<3 {
            let version = try await store.nextVersion(taxpayer: taxpayerID, returnID: returnID)
            let row = ReturnVersionRow(taxpayer_id: taxpayerID, return_id: returnID, version: version, section: section, period: period,
                                       case_json: caseJSON, determination_json: d.json.serialized(indent: nil),
                                       computed_tax_fen: tax.fen, relief_fen: relief.fen, declared_tax_fen: declaredTax?.fen,
                                       idempotency_key: idempotencyKey, filed_by: actor.userID, filed_at: ISO8601DateFormatter().string(from: now()))
            do {
                try await store.insert(versions: [row])
            } catch {
                // A concurrent filing took this version number (primary key) or this idempotency key: look again.
                if let key = idempotencyKey, let existing = try await store.version(taxpayer: taxpayerID, idempotencyKey: key) {
                    return FiledReturn(row: existing, replayed: true, prompts: [])
                }
                continue
            }
            try await store.audit(AuditRow(id: UUID().uuidString, at: row.filed_at, user_id: actor.userID,
                                            action: version == 1 ? "file_return" : "correct_return",
                                            object: "\(taxpayerID)/\(returnID)/v\(version)", detail: "tax \(tax), relief \(relief)", remote: remote))
            return FiledReturn(row: row, replayed: false, prompts: prompts)
        }
        throw ServiceError.invalid(field: "case", zh: "并发申报冲突，请重试", en: "concurrent filings conflicted; try again")
    }

    /// The body of a filing is a CASES.md case without `taxpayer`: the facts come from the registry, so a body
    /// that states them is refused rather than silently overridden.
    static func caseWithoutTaxpayer(_ text: String) throws -> JSON {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch {
            throw Refusal.invalid("", zh: "不是有效的JSON：\(error.problem)", en: "not valid JSON: \(error.description)")
        }
        guard case .object(let kv) = json else { throw Refusal.invalid("", zh: "申报内容应为JSON对象", en: "the return must be a JSON object") }
        if kv.contains(where: { $0.0 == "taxpayer" }) {
            throw Refusal.invalid("taxpayer", zh: "纳税人信息取自登记信息，申报内容中不能填写 taxpayer",
                                  en: "taxpayer facts come from the registry; leave taxpayer out of the return")
        }
        return .object([("taxpayer", .object([]))] + kv)
    }

    /// Section, return identity, period, tax and relief of the single section of a determination.
    func describe(_ d: Determination) -> (String, String, String, Money, Money) {
        if let v = d.vat { return ("vat", "vat:\(v.period)", v.period.description, v.tax, v.relief) }
        if let e = d.eit, let q = e.quarters.last {
            return ("eit", "eit:\(e.year)-Q\(q.quarter)", "\(e.year)-Q\(q.quarter)", q.step.payable, q.step.relief.rounded())
        }
        let b = d.businessIncome!
        return ("business_income", "business_income:\(b.year)", "\(b.year)", b.tax, b.relief)
    }

    /// The versions of one return, oldest first.
    public func versions(by actor: Actor, taxpayerID: String, returnID: String) async throws -> [ReturnVersionRow] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        let rows = try await store.versions(taxpayer: taxpayerID, returnID: returnID)
        guard !rows.isEmpty else { throw ServiceError.notFound }
        return rows
    }

    public func currentReturns(by actor: Actor, taxpayerID: String) async throws -> [ReturnVersionRow] {
        _ = try await access.readableTaxpayer(taxpayerID, by: actor)
        return try await store.currentReturns(taxpayer: taxpayerID)
    }
}
