import Foundation
import HuiqiRules

/// What screening needs of a stored VAT case, in a compact text kept next to the current version
/// (`current_returns.screening`, written at filing, back-filled by migration 010): the months operated and each
/// line's kind, amount, levy rate, deduction and invoice flags. Re-parsing the stored case JSON was most of a
/// screening's time (about 11 µs a return against 1 µs for this form, docs/performance.md); the JSON stays the
/// record, and a record without this form is read from its JSON.
///
/// Form: `m` (months operated, empty when unknown), then per line `;kind,amount_fen,rate_ppm,deduction_fen,special,waived`.
public enum ScreeningColumns {
    /// The longest form kept. On PostgreSQL the form is part of an index entry (migration 021), and an entry must fit
    /// in a third of a page (about 2,700 bytes) or the write fails. 40 to 80 lines fit, by their amounts; a case
    /// with more (up to `Money.maxLines`) keeps no form and is read from its JSON.
    public static let maxLength = 2_000

    public static func encode(_ c: Case) -> String? {
        guard let v = c.vat else { return nil }
        var out = v.monthsOperated.map(String.init) ?? ""
        for s in v.sales {
            out += ";\(s.kind.rawValue),\(s.amount.fen),\(s.rate.ppm),\(s.deduction.fen),\(s.specialInvoice ? 1 : 0),\(s.waiveReduction ? 1 : 0)"
            if out.utf8.count > maxLength { return nil }
        }
        return out
    }

    /// The stored case of a return version as JSON text, decoded again (the registry supplies `taxpayer`).
    public static func storedCase(_ caseJSON: String) -> Case? {
        guard case .object(let kv)? = try? JSONParser.parse(caseJSON) else { return nil }
        return try? CaseDecoder.decode(.object([("taxpayer", .object([]))] + kv.filter { $0.0 != "taxpayer" }))
    }

    /// The VAT return a form was made from, whole: a filed VAT case holds the period, which the return names, and
    /// its sales lines and months operated, which the form keeps exactly (amounts in fen, rates in ppm, as `Money` and
    /// `Rate` hold them). Screening builds a notice's case from it instead of reading the JSON again (128 µs a notice
    /// at ten million, random reads of `return_versions`). Nil when the text is not of this form.
    public static func vatReturn(_ text: String, period: TaxPeriod) -> VATReturn? {
        var lines = VATLines()
        guard let months = decode(text, into: &lines) else { return nil }
        var sales: [Sale] = []
        for i in 0..<lines.count {
            // `decode` has checked every kind; a kind it did not know would make the form unreadable, not a crash.
            guard let kind = SaleKind(rawValue: lines.kind[i]) else { return nil }
            sales.append(Sale(kind: kind, amount: Money(fen: lines.amount[i]), rate: Rate(ppm: lines.ratePPM[i]),
                              deduction: Money(fen: lines.deduction[i]), specialInvoice: lines.special[i], waiveReduction: lines.waived[i]))
        }
        return VATReturn(period: period, sales: sales, monthsOperated: months == 0 ? nil : Int(months))
    }

    /// Appends one record's lines to `lines` and returns its months operated (0: unknown); nil when the text is
    /// not of this form (the caller reads the JSON instead).
    public static func decode(_ text: String, into lines: inout VATLines) -> UInt8? {
        var parts = text.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)[...]
        guard let first = parts.popFirst() else { return nil }
        let months: UInt8
        if first.isEmpty { months = 0 } else {
            guard let m = UInt8(String(decoding: first, as: UTF8.self)), (1...3).contains(m) else { return nil }
            months = m
        }
        let start = lines.count
        for part in parts {
            let f = part.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard f.count == 6, let kind = UInt8(String(decoding: f[0], as: UTF8.self)), SaleKind(rawValue: kind) != nil,
                  let amount = Int64(String(decoding: f[1], as: UTF8.self)), let rate = Int64(String(decoding: f[2], as: UTF8.self)),
                  let deduction = Int64(String(decoding: f[3], as: UTF8.self)) else {
                lines.truncate(to: start)
                return nil
            }
            lines.append(kind: kind, amountFen: amount, deductionFen: deduction, ratePPM: rate,
                         special: f[4].first == UInt8(ascii: "1"), waived: f[5].first == UInt8(ascii: "1"))
        }
        return months
    }
}
