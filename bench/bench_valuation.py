"""Value N facilities × H months: time, throughput and peak memory of project_cash_flows.

    .venv/bin/python bench/bench_valuation.py --facilities 1000000 --months 120

The book is drawn directly as arrays (a realistic mix of products, schedules, rates, terms and
LGDs; one customer per two facilities) so the benchmark times the engine, not the generator or
the warehouse. Survival curves are a Weibull per customer (computed in the engine's blocks), PD
curves the true migration matrix's grades scaled to each customer's PD. Peak memory is the
process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time

import numpy as np
import pandas as pd

from lendvalue.models.credit.migration import pd_term_structure
from lendvalue.sample.params import MIGRATION_MATRIX
from lendvalue.valuation import (
    FacilityBook,
    GradePDCurves,
    MarketCurves,
    ProportionalHazardCurves,
    load_assumptions,
    project_cash_flows,
)
from lendvalue.valuation.book import ANNUITY, BULLET, LINEAR, REVOLVING

AS_OF = dt.date(2025, 6, 30)


def market() -> MarketCurves:
    rows = []
    for date, lpr1, lpr5 in (("2024-10-21", 0.031, 0.036), ("2025-05-20", 0.030, 0.035)):
        rows += [(date, "lpr", "1Y", lpr1), (date, "lpr", "5Y", lpr5)]
        for tenor, prem in (("3M", -0.004), ("1Y", 0.0), ("5Y", 0.0035), ("10Y", 0.0055)):
            rows.append((date, "ftp", tenor, lpr1 - 0.008 + prem))
            rows.append((date, "deposit_ftp", tenor, lpr1 - 0.01 + prem))
    frame = pd.DataFrame(rows, columns=["date", "curve", "tenor", "rate"])
    frame["date"] = pd.to_datetime(frame["date"])
    return MarketCurves.from_frame(frame)


def book(n: int, customers: int, seed: int = 0) -> FacilityBook:
    rng = np.random.default_rng(seed)
    product = rng.choice(7, n, p=[0.15, 0.3, 0.12, 0.03, 0.12, 0.1, 0.18])
    off = product >= 5
    schedule = np.where(
        off,
        BULLET,
        np.where(
            product == 2, REVOLVING, rng.choice([ANNUITY, LINEAR, BULLET], n, p=[0.3, 0.3, 0.4])
        ),
    )
    term = rng.choice([12, 24, 36, 60, 120], n, p=[0.4, 0.2, 0.2, 0.15, 0.05])
    remaining = np.maximum(1, (term * rng.random(n)).astype(np.int64))
    limit = np.exp(rng.normal(15, 1.2, n))
    balance = np.where(schedule == REVOLVING, limit * rng.uniform(0.3, 0.9, n), limit * 0.8)
    floating = (rng.random(n) < 0.7) & ~off
    spread = rng.normal(0.006, 0.004, n)
    lpr_now = np.full(n, 0.03)
    return FacilityBook(
        customer=rng.integers(0, customers, n), product=product, schedule=schedule,
        on_balance=~off, balance=balance, limit=limit, renewal_balance=limit,
        remaining_months=remaining, term_months=term, floating=floating,
        five_year=term > 60, rate=np.where(off, 0.0, lpr_now + spread), spread=spread,
        lpr_now=lpr_now, next_reset=rng.integers(1, 13, n),
        ftp_fixed=np.where(floating, np.nan, 0.024), ftp_spread=np.full(n, -0.006),
        commitment_fee_bp=np.where(product == 2, 25.0, 0.0),
        upfront_fee=np.where(off, limit * 0.005, 0.0),
        ccf_drawn=np.where(product == 5, 0.5, 1.0), ccf_undrawn=np.where(product == 2, 0.4, 0.0),
        lgd=rng.choice([0.45, 0.3, 0.2], n), capital_k=rng.uniform(0.02, 0.12, n),
        smm=np.full(n, 0.004), renewal_probability=rng.uniform(0.3, 0.9, n),
        opex_month=np.full(n, 200.0), opex_bp=np.full(n, 15.0),
    )  # fmt: skip


def curves(customers: int, horizon: int, seed: int = 1) -> tuple[object, object]:
    rng = np.random.default_rng(seed)
    grade = rng.integers(0, 7, customers)
    ts = pd_term_structure(np.array(MIGRATION_MATRIX), horizon)
    pd_curves = GradePDCurves.from_grades(ts.cumulative, grade, ts.cumulative[grade, 11])
    tenure = np.round(rng.uniform(0, 180, customers) * 30.4375) / 30.4375
    survival = ProportionalHazardCurves(
        np.full(customers, 200.0**-1.2) * np.exp(rng.normal(0, 0.3, customers)), tenure,
        lambda t: np.exp(1.2 * np.log(np.maximum(t, 1e-300))),
    )  # fmt: skip
    return survival, pd_curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    customers = max(args.facilities // 2, 1)
    assumptions = load_assumptions().model_copy(update={"horizon_months": args.months})
    the_book = book(args.facilities, customers)
    survival, pd_curves = curves(customers, args.months)
    mk = market()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        values = project_cash_flows(the_book, assumptions, mk, AS_OF, survival, pd_curves)
        times.append(time.perf_counter() - start)
    best = min(times)
    cells = args.facilities * args.months
    print(json.dumps({
        "facilities": args.facilities, "months": args.months, "seconds_best": round(best, 3),
        "seconds_all": [round(t, 3) for t in times],
        "facility_months_per_second": round(cells / best),
        "total_value_yuan": float(values.table["value"].sum()),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
