"""Repeat-transaction models against lifetimes 0.11.3, same data, same run.

    .venv/bin/python bench/bench_btyd.py --customers 1000000 10000000 --transactions 10000000

lifetimes runs in its own virtual environment (``bench/.venv-lifetimes``, created on first use
with lifetimes 0.11.3 and the NumPy / pandas / SciPy it was written for); each of its steps runs
there as a subprocess that times itself. Data are written once to ``.npz`` files both sides read.

Measured:
- BG/NBD and Pareto/NBD fits on N customers (summary in hand; lendvalue's time includes input
  checks and collapsing identical rows), and the log-likelihood of both at lifetimes' estimate;
- the RFM summary from a transaction log: lendvalue's SQL in DuckDB (from the warehouse table and
  from a pandas frame) against ``lifetimes.utils.summary_data_from_transaction_data``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

HERE = Path(__file__).resolve().parent
LIFETIMES_VENV = HERE / ".venv-lifetimes"
TRUE_BGNBD = {"r": 0.5, "alpha": 8.0, "a": 0.8, "b": 2.5}
DAYS = 3 * 365
T_ = TypeVar("T_")


def simulate_bgnbd(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """BG/NBD customers (FHL 2005) born uniformly over three years, observed on a daily grid,
    times in weeks."""
    rng = np.random.default_rng(seed)
    p = TRUE_BGNBD
    lam = rng.gamma(p["r"], 1 / p["alpha"], n)
    drop = rng.beta(p["a"], p["b"], n)
    days = rng.integers(1, DAYS + 1, n)
    T = days / 7.0
    purchases_until_death = rng.geometric(drop)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(purchases_until_death, arrivals)
    # the x-th of `arrivals` uniform arrival times, on the daily grid
    share = rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1))
    t_x = np.where(x > 0, np.floor(share * days) / 7.0, 0.0)
    return {"frequency": x.astype(np.float64), "recency": t_x, "T": T}


def simulate_transactions(n_rows: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A transaction log: customer ids, days since 2022-01-01 and amounts."""
    rng = np.random.default_rng(seed)
    customers = max(n_rows // 20, 1)
    return {
        "customer": rng.integers(0, customers, n_rows),
        "day": rng.integers(0, DAYS, n_rows),
        "amount": np.round(rng.gamma(2.0, 200.0, n_rows), 2),
    }


LIFETIMES_FIT = """
import json, sys, time
import numpy as np
from lifetimes import BetaGeoFitter, ParetoNBDFitter
d = np.load(sys.argv[1])
fitter = {"bgnbd": BetaGeoFitter, "pnbd": ParetoNBDFitter}[sys.argv[2]]()
start = time.perf_counter()
fitter.fit(d["frequency"], d["recency"], d["T"])
seconds = time.perf_counter() - start
params = {k: float(v) for k, v in fitter.params_.items()}
# lifetimes' own likelihood at its estimate, on every customer: its BG/NBD takes
# log-parameters and returns the mean, its Pareto/NBD natural ones and returns the sum
ones = np.ones(len(d["T"]))
theta = np.array(list(params.values()))
bg = sys.argv[2] == "bgnbd"
nll = fitter._negative_log_likelihood(
    np.log(theta) if bg else theta, d["frequency"], d["recency"], d["T"], ones, 0.0
)
print(json.dumps({"seconds": seconds, "params": params,
                  "log_likelihood": float(-nll * (len(d["T"]) if bg else 1))}))
"""

LIFETIMES_RFM = """
import json, sys, time
import numpy as np, pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
d = np.load(sys.argv[1])
frame = pd.DataFrame({"customer": d["customer"],
                      "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(d["day"], unit="D"),
                      "amount": d["amount"]})
start = time.perf_counter()
out = summary_data_from_transaction_data(frame, "customer", "date", "amount",
                                         observation_period_end="2024-12-31", freq="D")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "customers": len(out),
                  "frequency_sum": float(out["frequency"].sum())}))
"""


def ensure_lifetimes() -> Path:
    python = LIFETIMES_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "lifetimes==0.11.3", "pandas<2",
             "numpy<2", "scipy<1.12", "autograd"],
            check=True,
        )  # fmt: skip
    return python


def run_lifetimes(python: Path, script: str, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [str(python), "-c", script, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def best_of(repeat: int, run: Callable[[], T_]) -> tuple[float, T_]:
    """The shortest of ``repeat`` wall-clock times (this VM's neighbours make single runs vary
    by up to 50%), and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return min(times), out


def bench_fits(
    python: Path, n: int, folder: Path, with_lifetimes: bool, pnbd_lifetimes_max: int, repeat: int
) -> list[dict[str, object]]:
    import pandas as pd

    from lendvalue.models import BetaGeoModel, ParetoNBDModel
    from lendvalue.models.btyd.bgnbd import bgnbd_loglik
    from lendvalue.models.btyd.paretonbd import paretonbd_loglik

    data = simulate_bgnbd(n)
    path = folder / f"summary_{n}.npz"
    np.savez(path, **data)
    frame = pd.DataFrame(data)
    rows = []
    for name, model_cls, loglik in (
        ("bgnbd", BetaGeoModel, bgnbd_loglik),
        ("pnbd", ParetoNBDModel, paretonbd_loglik),
    ):
        ours, model = best_of(repeat, lambda cls=model_cls: cls().fit(frame))  # type: ignore[misc]
        row: dict[str, object] = {
            "model": name, "customers": n, "lendvalue_seconds": round(ours, 3),
            "lendvalue_params": {k: round(v, 6) for k, v in model.params_.items()},
            "lendvalue_log_likelihood": model.log_likelihood_,
        }  # fmt: skip
        if with_lifetimes and (name == "bgnbd" or n <= pnbd_lifetimes_max):
            theirs = run_lifetimes(python, LIFETIMES_FIT, str(path), name)
            params = theirs["params"]
            assert isinstance(params, dict)
            ll_ours_at_theirs = float(
                np.sum(loglik(*params.values(), data["frequency"], data["recency"], data["T"]))
            )
            ll_theirs = float(theirs["log_likelihood"])  # type: ignore[arg-type]
            row.update(
                lifetimes_seconds=round(float(theirs["seconds"]), 3),  # type: ignore[arg-type]
                speedup=round(float(theirs["seconds"]) / ours, 1),  # type: ignore[arg-type]
                lifetimes_params={k: round(v, 6) for k, v in params.items()},
                lifetimes_log_likelihood=ll_theirs,
                loglik_relative_difference_at_lifetimes_params=abs(ll_ours_at_theirs - ll_theirs)
                / abs(ll_theirs),
            )
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def bench_rfm(
    python: Path, n_rows: int, folder: Path, with_lifetimes: bool, repeat: int
) -> dict[str, object]:
    import duckdb
    import pandas as pd

    from lendvalue.warehouse.rfm import rfm_summary

    log = simulate_transactions(n_rows)
    path = folder / "transactions.npz"
    np.savez(path, **log)
    frame = pd.DataFrame(
        {
            "customer_id": log["customer"].astype(str),
            "ts": pd.Timestamp("2022-01-01") + pd.to_timedelta(log["day"], unit="D"),
            "amount": log["amount"],
        }
    )
    con = duckdb.connect(str(folder / "rfm.duckdb"))
    con.execute("CREATE TABLE transactions AS SELECT *, 'settlement' AS product_line FROM frame")
    store_seconds, store = best_of(
        repeat,
        lambda: rfm_summary(
            con, calibration_end="2024-12-31", time_unit="day", by_product_line=False
        ),
    )
    con.close()
    frame_seconds, _ = best_of(
        repeat,
        lambda: rfm_summary(
            frame, calibration_end="2024-12-31", time_unit="day", product_line_col=None
        ),
    )
    row: dict[str, object] = {
        "transactions": n_rows, "customers": len(store),
        "lendvalue_warehouse_seconds": round(store_seconds, 3),
        "lendvalue_frame_seconds": round(frame_seconds, 3),
    }  # fmt: skip
    if with_lifetimes:
        theirs = run_lifetimes(python, LIFETIMES_RFM, str(path))
        assert theirs["customers"] == len(store)
        assert abs(float(theirs["frequency_sum"]) - store["frequency"].sum()) < 0.5  # type: ignore[arg-type]
        row.update(
            lifetimes_seconds=round(float(theirs["seconds"]), 3),  # type: ignore[arg-type]
            speedup_warehouse=round(float(theirs["seconds"]) / store_seconds, 1),  # type: ignore[arg-type]
        )
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--no-lifetimes", action="store_true", help="time lendvalue only")
    parser.add_argument(
        "--pnbd-lifetimes-max", type=int, default=1_000_000,
        help="largest N for lifetimes' Pareto/NBD (347 s at 1M; about an hour at 10M)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=3, help="lendvalue's time is the best of this many runs"
    )
    args = parser.parse_args()
    python = Path(sys.executable) if args.no_lifetimes else ensure_lifetimes()
    fits: list[dict[str, object]] = []
    rfm: dict[str, object] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-btyd-") as tmp:
        folder = Path(tmp)
        for n in args.customers:
            rows = bench_fits(
                python, n, folder, not args.no_lifetimes, args.pnbd_lifetimes_max, args.repeat
            )
            fits.extend(rows)
        if args.transactions:
            rfm = bench_rfm(python, args.transactions, folder, not args.no_lifetimes, args.repeat)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "btyd.json").write_text(json.dumps({"fits": fits, "rfm": rfm}, indent=2))


if __name__ == "__main__":
    main()
