"""Relationship survival at bank scale: fit and project N relationships x 120 months.

    .venv/bin/python bench/bench_retention.py --relationships 1000000 --months 120

Relationships are simulated from a Weibull proportional-hazards model with six covariates
(sizes, an industry flag, a centred grade, a treatment) and random censoring, on whole days (as
the warehouse's spells are: months = days / (365.25 / 12)); the Weibull AFT
and Cox PH models are fitted on them, then every active relationship's monthly conditional
survival curve is projected to the horizon (float64, customers x months). Peak memory is the
process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

from lendvalue.models.retention.survival import CoxPHModel, WeibullAFTModel

BETA = {"size_medium": 0.15, "size_small": 0.35, "size_micro": 0.55, "industry_risk": 0.3,
        "grade_centred": 0.1, "treated": -0.4}  # fmt: skip
SHAPE, SCALE = 1.2, 200.0
MONTH_DAYS = 365.25 / 12


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = rng.choice(4, n, p=[0.05, 0.2, 0.45, 0.3])
    z = {
        "size_medium": (size == 1).astype(float),
        "size_small": (size == 2).astype(float),
        "size_micro": (size == 3).astype(float),
        "industry_risk": (rng.random(n) < 0.25).astype(float),
        "grade_centred": rng.integers(0, 7, n) - 3.0,
        "treated": (rng.random(n) < 0.2).astype(float),
    }
    lin = sum(BETA[k] * v for k, v in z.items())
    life = SCALE * (rng.exponential(size=n) * np.exp(-lin)) ** (1 / SHAPE)
    window = rng.uniform(1.0, 180.0, n)  # months observed since the start
    # dates are days: months = whole days / (365.25 / 12), as the warehouse's spells give them
    life = np.maximum(np.ceil(life * MONTH_DAYS), 1.0) / MONTH_DAYS
    window = np.ceil(window * MONTH_DAYS) / MONTH_DAYS
    return pd.DataFrame(
        {"entry": 0.0, "duration": np.minimum(life, window),
         "event": (life <= window).astype(float), **z}
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relationships", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    data = simulate(args.relationships)
    cols = list(BETA)
    row: dict[str, object] = {"relationships": args.relationships, "months": args.months,
                              "events": int(data["event"].sum())}  # fmt: skip
    start = time.perf_counter()
    weibull = WeibullAFTModel(covariates=cols).fit(data)
    row["weibull_fit_seconds"] = round(time.perf_counter() - start, 3)
    row["weibull_hazard_ratio_betas"] = weibull.hazard_ratios()["beta"].round(4).to_dict()
    row["weibull_shape"] = round(weibull.params_["shape"], 4)
    start = time.perf_counter()
    cox = CoxPHModel(covariates=cols).fit(data)
    row["cox_fit_seconds"] = round(time.perf_counter() - start, 3)
    row["cox_betas"] = {k: round(v, 4) for k, v in cox.params_.items()}
    active = data[data["event"] == 0]
    for name, model in (("weibull", weibull), ("cox", cox)):
        # twice: the first run's output lands on memory this VM's host has not yet backed
        # (about 2.8 s per GB on first touch); the second reuses it, as a long-running job does
        for run in ("first", "again"):
            start = time.perf_counter()
            curves = model.conditional_survival(active, args.months)
            row[f"{name}_project_seconds_{run}"] = round(time.perf_counter() - start, 3)
            assert curves.shape == (len(active), args.months)
            del curves
    row["active"] = len(active)
    row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
