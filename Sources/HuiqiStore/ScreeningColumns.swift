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
        var text = text
        return text.withUTF8 { decode(ByteFields(bytes: $0), into: &lines) }
    }

    /// `decode` on the form's bytes, read in place (no `String` per field).
    static func decode(_ b: ByteFields, into lines: inout VATLines) -> UInt8? {
        let n = b.bytes.count
        let firstEnd = b.fieldEnd(from: 0, separator: UInt8(ascii: ";"), end: n)
        let months: UInt8
        if firstEnd == 0 { months = 0 } else {
            guard let m = b.int64(0..<firstEnd), (1...3).contains(m) else { return nil }
            months = UInt8(m)
        }
        let start = lines.count
        var f: [Range<Int>] = []
        f.reserveCapacity(7)
        var partStart = firstEnd + 1
        while partStart <= n {
            let partEnd = b.fieldEnd(from: partStart, separator: UInt8(ascii: ";"), end: n)
            // Exactly six fields: a seventh would hold the rest, and make the count 7.
            guard b.split(partStart..<partEnd, separator: UInt8(ascii: ","), limit: 7, into: &f) == 6,
                  let k = b.int64(f[0]), (0...255).contains(k), SaleKind(rawValue: UInt8(k)) != nil,
                  let amount = b.int64(f[1]), let rate = b.int64(f[2]), let deduction = b.int64(f[3]) else {
                lines.truncate(to: start)
                return nil
            }
            lines.append(kind: UInt8(k), amountFen: amount, deductionFen: deduction, ratePPM: rate,
                         special: b.first(f[4]) == UInt8(ascii: "1"), waived: b.first(f[5]) == UInt8(ascii: "1"))
            partStart = partEnd + 1
        }
        return months
    }
}
