import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// A prompt or reminder (提示、提醒) shown to the taxpayer while filing. `code` is stable for software.
public struct Prompt: Sendable, Equatable {
    public let code: String
    public let zh: String
    public let en: String
    public init(code: String, zh: String, en: String) { self.code = code; self.zh = zh; self.en = en }

    /// The prompts as the API shows them and a return version stores them: a JSON array of {code, zh, en}.
    public static func json(_ prompts: [Prompt]) -> JSON {
        .array(prompts.map { .object([("code", .string($0.code)), ("zh", .string($0.zh)), ("en", .string($0.en))]) })
    }

    public static func decode(_ text: String) -> [Prompt] {
        guard case .array(let list)? = try? JSONParser.parse(text) else { return [] }
        return list.compactMap { p in
            guard case .string(let code)? = p["code"], case .string(let zh)? = p["zh"], case .string(let en)? = p["en"] else { return nil }
            return Prompt(code: code, zh: zh, en: en)
        }
    }
}

/// The prompts that compare a return with the taxpayer's earlier returns of the year and with the calendar.
enum FilingPrompts {
    /// Earlier returns of the year: periods not filed (from registration on), and for EIT prepayments the
    /// cumulative figures: income to date going backwards, quarters that differ from what was filed, and an
    /// overpayment carried to later quarters.
    static func earlierReturns(_ c: Case, _ d: Determination, earlier: [FiledPeriod], registeredOn: Day?) -> [Prompt] {
        var prompts: [Prompt] = []
        let filed = Set(earlier.map(\.period))
        var expected: [String] = []
        if let v = c.vat {
            let earlierPeriods: [TaxPeriod]
            switch v.period {
            case let .month(y, m): earlierPeriods = (1..<m).map { TaxPeriod.month(year: y, month: $0) }
            case let .quarter(y, q): earlierPeriods = (1..<q).map { TaxPeriod.quarter(year: y, quarter: $0) }
            }
            expected = earlierPeriods.filter { p in registeredOn.map { p.lastDay >= $0 } ?? true }.map(\.description)
        }
        if let e = c.eit {
            let q = e.startQuarter + e.quarters.count - 1
            expected = (e.startQuarter..<q).map { "\(e.year)-Q\($0)" }
        }
        let missing = expected.filter { !filed.contains($0) }
        if !missing.isEmpty {
            let list = missing.joined(separator: ", ")
            prompts.append(Prompt(code: "earlier_return_missing", zh: "本年度以下所属期尚未申报：\(list)", en: "no return has been filed for these earlier periods of the year: \(list)"))
        }
        guard let e = c.eit else { return prompts }
        if e.quarters.count >= 2 {
            let last = e.quarters[e.quarters.count - 1].taxableIncomeYTD, before = e.quarters[e.quarters.count - 2].taxableIncomeYTD
            if last < before {
                prompts.append(Prompt(code: "cumulative_income_decreased",
                                      zh: "累计应纳税所得额 \(last) 低于上季度的累计数 \(before)：请核对是否有本季度亏损",
                                      en: "taxable income to date \(last) is below last quarter's \(before): check for a loss this quarter"))
            }
        }
        for row in earlier {
            guard let k = Int(row.period.split(separator: "Q").last ?? ""), k >= e.startQuarter, k - e.startQuarter < e.quarters.count - 1,
                  let stored = FilingService.storedCase(row.caseJSON)?.eit?.quarters.last else { continue }
            let mine = e.quarters[k - e.startQuarter]
            if mine.employeesStart != stored.employeesStart || mine.employeesEnd != stored.employeesEnd || mine.assetsStart != stored.assetsStart
                || mine.assetsEnd != stored.assetsEnd || mine.taxableIncomeYTD != stored.taxableIncomeYTD {
                prompts.append(Prompt(code: "inconsistent_with_earlier_return",
                                      zh: "第\(k)季度的数据与已申报的 \(row.period) 预缴申报（第\(row.version)版）不一致，如有错误请更正该季度申报",
                                      en: "the Q\(k) figures differ from the \(row.period) return as filed (version \(row.version)); correct that return if it was wrong"))
            }
        }
        if let q = d.eit?.quarters.last, q.step.overpaid > .zero {
            prompts.append(Prompt(code: "overpayment_carried",
                                  zh: "以前季度已预缴税额超过累计应纳税额 \(q.step.overpaid) 元，本期无需预缴，多缴部分可抵减以后季度的预缴税款",
                                  en: "earlier quarters prepaid \(q.step.overpaid) yuan more than the tax to date: nothing is due now, and the excess offsets later prepayments"))
        }
        return prompts
    }

    /// The deadline of the return (the calendar's, with 调休), and a reminder when it has passed: the monthly
    /// deadline of the month after the period, or for business income the annual settlement's.
    static func deadline(_ id: FilingService.Identity, deadlines: FilingDeadlines, today: Day, taxDue: Bool) -> [Prompt] {
        let (year, month) = id.deadlineMonth
        let due: Day
        do {
            due = id.section == "business_income" ? try deadlines.businessIncomeSettlement(year: id.year)
                                                  : try deadlines.deadline(year: year, month: month).date
        } catch {
            return [Prompt(code: "deadline_unknown", zh: "\(year)年的节假日安排尚未公布，申报期限暂不能确定",
                           en: "the holiday arrangement for \(year) is not published yet, so the deadline cannot be given")]
        }
        if today > due {
            // 征管法 第六十二条: late filing may be fined; 第三十二条: late payment bears 滞纳金, so only where tax is due.
            let surcharge = taxDue ? ("；应纳税款自期限届满次日起按日加收万分之五的滞纳金（第三十二条）", "; tax due bears a late-payment surcharge (滞纳金) of 0.05% a day from the day after the deadline (article 32)") : ("", "")
            return [Prompt(code: "deadline_passed", zh: "申报期限 \(due) 已过：逾期申报可能被处以罚款（《税收征收管理法》第六十二条）\(surcharge.0)",
                           en: "the deadline \(due) has passed: filing late may be fined (Tax Collection Administration Law, article 62)\(surcharge.1)")]
        }
        return [Prompt(code: "deadline", zh: "本期申报期限：\(due)", en: "deadline for this return: \(due)")]
    }
}
