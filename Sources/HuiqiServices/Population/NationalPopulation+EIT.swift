import Foundation
import HuiqiRules

/// The EIT prepayments (企业所得税预缴申报) of a generated population: every enterprise, general or small-scale
/// for VAT, files one per quarter, each with the year's figures to date as the form asks for them (head count and
/// assets at each quarter's start and end, cumulative taxable income). Its tax is the batch engine's.
extension NationalPopulation {
    /// One enterprise's figures for the four quarters of a year: head count and assets (fen) at each quarter's
    /// start and end, and each quarter's own taxable income (fen; a loss below zero).
    public struct EITYear: Sendable {
        public var employees: [(Int64, Int64)] = [], assets: [(Int64, Int64)] = [], income: [Int64] = []
    }

    /// Drawn from the enterprise's own streams: the head count and assets it starts with, then a margin for the year
    /// and each quarter's drift and seasonal noise. Every quarter is drawn whichever are used, so a quarter's
    /// figures do not depend on which periods are generated.
    public func eitYear(_ m: Member, _ i: Int, _ year: Int) -> EITYear {
        let c = calibration
        var base = stream(i, 0xE170_0000)
        var employees = Int64(min(max(1, (c.eitMedianEmployees * exp(c.eitEmployeesSigma * Self.normal(&base))).rounded()), 10_000))
        let salesYuan = Double(m.quarterlySales) * 4 / 100
        var assets = Int64((min(max(c.eitAssetsFloor, salesYuan * c.eitAssetsToSales) * exp(c.eitAssetsSigma * Self.normal(&base)), 1e10) * 100).rounded())
        var r = stream(i, 0xE171_0000 &+ UInt64(year))
        let marginPPM = Int64((min(max(c.eitMarginMean + c.eitMarginSigma * Self.normal(&r), -0.5), 0.5) * 1_000_000).rounded())
        var out = EITYear()
        for _ in 0..<4 {
            let employeesEnd = max(0, employees + Int64(r.below(5)) - 2)
            let assetsEnd = assets * Int64(95 + r.below(11)) / 100
            out.employees.append((employees, employeesEnd)); out.assets.append((assets, assetsEnd))
            out.income.append(m.quarterlySales / 100 * marginPPM / 10_000 * Int64(70 + r.below(61)) / 100)
            employees = employeesEnd; assets = assetsEnd
        }
        return out
    }

    /// Appends the EIT prepayment returns of quarter `q` (an index in `quarters`) for the enterprises of a chunk.
    /// Each is evaluated twice by the batch engine: with the quarters to date, and without this one. Their
    /// difference is what the quarter's form makes payable (本期应补), as the single-case path reports it
    /// (`FilingService.amounts`). An enterprise registered during the year counts its quarters from the quarter it
    /// began in (`start_quarter`); the engine's batch path counts from the first quarter given, and the only rule
    /// that names the quarter (the 2015 apportionment of Q4) is outside the generated years.
    func appendEIT(quarter q: Int, _ range: Range<Int>, _ members: [Member], evaluator: BatchEvaluator, to out: inout Chunk) {
        let period = quarters[q]
        guard case let .quarter(year, number) = period else { return }
        var toDate = Population(), before = Population()
        var filers: [(index: Int, member: Member, start: Int, figures: EITYear)] = []
        for (i, m) in zip(range, members) where !m.individual && q >= m.firstQuarter && q < (m.endQuarter ?? Int.max) {
            let start: Int
            if m.firstQuarter > 0, case let .quarter(y, k) = quarters[m.firstQuarter], y == year { start = k } else { start = 1 }
            let figures = eitYear(m, i, year)
            filers.append((i, m, start, figures))
            for (p, last) in [(0, number), (1, number - 1)] {
                func add(_ pop: inout Population) {
                    pop.kind.append(0); pop.region.append(Int32(m.district) ?? 0)
                    pop.restricted.append(m.restricted); pop.industrial.append(m.industrial); pop.monthsOperated.append(0)
                    pop.lineStart.append(Int32(pop.lines.count))
                    var ytd: Int64 = 0
                    for k in stride(from: start, through: last, by: 1) {
                        ytd += figures.income[k - 1]
                        pop.employeesStart.append(figures.employees[k - 1].0); pop.employeesEnd.append(figures.employees[k - 1].1)
                        pop.assetsStart.append(figures.assets[k - 1].0); pop.assetsEnd.append(figures.assets[k - 1].1)
                        pop.incomeYTD.append(ytd)
                    }
                    pop.quarterStart.append(Int32(pop.incomeYTD.count))
                }
                if p == 0 { add(&toDate) } else { add(&before) }
            }
        }
        let now = evaluator.evaluate(toDate, threads: 1), earlier = evaluator.evaluate(before, threads: 1)
        let (end, deadline) = windows[q]
        let span = UInt64(max(1, deadline.ordinal - end.ordinal))
        let returnID = "eit:\(period)"
        for (k, f) in filers.enumerated() {
            var r = stream(f.index, 0xE1F1_0000 &+ UInt64(q))
            let behaviour = Self.unit(&r)
            let c = calibration
            guard behaviour >= c.notFiledShare, now.eitStatus[k] == BatchResult.ok, earlier.eitStatus[k] == BatchResult.ok else { continue }
            let payable = now.eitPrepaid[k] - earlier.eitPrepaid[k], relief = now.eitReliefYTD[k]
            // Not claimed: the quarter's share of the relief is paid as tax.
            let newRelief = max(0, relief - earlier.eitReliefYTD[k])
            let unclaimed = behaviour < c.notFiledShare + c.unclaimedShare && newRelief > 0
            let late = !unclaimed && behaviour < c.notFiledShare + c.unclaimedShare + c.lateShare
            let day = late ? deadline.adding(days: 1 + Int(r.below(20))) : end.adding(days: 1 + Int(r.below(span)))
            var quartersJSON = ""
            var ytd: Int64 = 0
            for n in f.start...number {
                ytd += f.figures.income[n - 1]
                let (e0, e1) = f.figures.employees[n - 1], (a0, a1) = f.figures.assets[n - 1]
                quartersJSON += (n == f.start ? "" : ",")
                    + #"{"employees":[\#(e0),\#(e1)],"assets":["\#(Money(fen: a0))","\#(Money(fen: a1))"],"taxable_income_ytd":"\#(Money(fen: ytd))"}"#
            }
            let caseJSON = #"{"eit":{"year":\#(year),\#(f.start == 1 ? "" : #""start_quarter":\#(f.start),"#)"quarters":[\#(quartersJSON)]}}"#
            let declared = unclaimed ? payable + newRelief : payable
            out.versions.append([f.member.id, returnID, "1", "eit", "\(period)", caseJSON, "{}", "\(payable)", "\(relief)",
                                 "\(declared)", "", Self.filer, "\(day)T0\(r.below(10)):00:00Z", "[]", ""])
            out.current.append([f.member.id, returnID, "eit", "\(period)", "1", caseJSON, "", "\(payable)", "\(declared)"])
        }
    }
}
