"""OpenFisca side of the side-by-side benchmark (issue 12 §3; run by bench/openfisca/run).

The same two rules as Huiqi's engine for 2027-Q1, on the same synthetic population (read from the files
`huiqi bench openfisca` wrote): small-scale enterprises selling goods at 3 % without special invoices, so that
the VAT Law's quarterly 起征点 (300,000 yuan: at or under it, no VAT) and the reduced 1 % rate on 3 % sales are
the whole of the law for them. Times the calculation, measures peak memory, and compares every result with
Huiqi's to the fen.
"""
import os, resource, sys, time

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Taxpayer = build_entity(key="taxpayer", plural="taxpayers", label="A small-scale taxpayer", is_person=True)


class quarterly_sales(Variable):
    value_type = float
    entity = Taxpayer
    definition_period = DateUnit.YEAR
    label = "Sales of the quarter at 3 %, yuan"


class vat_tax(Variable):
    value_type = float
    entity = Taxpayer
    definition_period = DateUnit.YEAR
    label = "VAT of the quarter, yuan"

    def formula(taxpayer, period, parameters):
        sales = taxpayer("quarterly_sales", period)
        p = parameters(period).vat
        # 起征点: at or under it nothing is due; over it, the whole amount is taxed at the reduced rate.
        return np.where(sales <= p.qizhengdian_quarterly, 0, np.round(sales * p.reduced_rate, 2))


class HuiqiTwoRules(TaxBenefitSystem):
    def __init__(self):
        super().__init__([Taxpayer])
        self.add_variables(quarterly_sales, vat_tax)
        self.parameters = ParameterNode("", data={"vat": {
            "qizhengdian_quarterly": {"values": {"2026-01-01": {"value": 300000}}},
            "reduced_rate": {"values": {"2023-01-01": {"value": 0.01}}},
        }})


def main(directory):
    sales_fen = np.fromfile(os.path.join(directory, "sales_fen.i64"), dtype="<i8")
    huiqi_fen = np.fromfile(os.path.join(directory, "huiqi_vat_tax_fen.i64"), dtype="<i8")
    n = len(sales_fen)
    system = HuiqiTwoRules()
    t0 = time.perf_counter()
    simulation = SimulationBuilder().build_default_simulation(system, n)
    simulation.set_input("quarterly_sales", "2027", sales_fen / 100)
    tax = simulation.calculate("vat_tax", "2027")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    of_fen = np.round(tax.astype(np.float64) * 100).astype(np.int64)
    differ = of_fen != huiqi_fen
    print(f"openfisca-core: {n} taxpayers, calculation {seconds:.3f} s, peak RSS {peak:.0f} MiB, dtype {tax.dtype}")
    print(f"results differing from Huiqi's to the fen: {int(differ.sum())} of {n}")
    if differ.any():
        idx = np.flatnonzero(differ)[:5]
        for i in idx:
            print(f"  sales {sales_fen[i] / 100:.2f}: OpenFisca {of_fen[i] / 100:.2f}, Huiqi {huiqi_fen[i] / 100:.2f}")
        print(f"  largest difference: {np.abs(of_fen - huiqi_fen).max() / 100:.2f} yuan; total VAT OpenFisca "
              f"{of_fen.sum() / 100:.2f}, Huiqi {huiqi_fen.sum() / 100:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
