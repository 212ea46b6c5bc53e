"""Diagnostics of a fitted repeat-transaction model, as data (the charts come with reporting).

- :func:`calibration_vs_holdout` — customers grouped by calibration frequency: actual mean
  holdout transactions against the model's conditional expectation (Fader, Hardie & Lee 2005,
  figure 4);
- :func:`tracking` — repeat transactions per period, actual against expected, incremental and
  cumulative (FHL 2005, figures 2 and 3);
- :func:`p_alive_grid` — P(alive) over frequency and recency for one T (FHL 2005, figure 6).

They use only the estimator interface (``expected_transactions``, ``conditional_expected_
transactions``, ``p_alive``), so every continuous-time model works with them.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.rfm import TIME_UNIT_DAYS


class TransactionModel(Protocol):
    def expected_transactions(self, horizon: npt.ArrayLike) -> Any: ...

    def conditional_expected_transactions(
        self, data: pd.DataFrame, horizon: npt.ArrayLike
    ) -> Any: ...

    def p_alive(self, data: pd.DataFrame) -> Any: ...


def calibration_vs_holdout(
    model: TransactionModel, summary: pd.DataFrame, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean holdout transactions, actual and expected, by calibration frequency (capped at
    ``max_frequency``, shown as ``max_frequency+``). ``summary`` needs the holdout columns of
    :func:`lendvalue.warehouse.rfm.rfm_summary` (``holdout_end`` given)."""
    if "frequency_holdout" not in summary or "duration_holdout" not in summary:
        raise DataContractError(
            "calibration_vs_holdout needs frequency_holdout and duration_holdout: call "
            "rfm_summary with holdout_end"
        )
    expected = np.asarray(
        model.conditional_expected_transactions(summary, summary["duration_holdout"].to_numpy())
    )
    group = np.minimum(summary["frequency"].to_numpy(), max_frequency).astype(int)
    frame = pd.DataFrame(
        {
            "frequency": group,
            "actual": summary["frequency_holdout"].to_numpy(),
            "expected": expected,
        }
    )
    out = frame.groupby("frequency").agg(
        customers=("actual", "size"), actual=("actual", "mean"), expected=("expected", "mean")
    )
    out.index = [f"{i}+" if i == max_frequency else str(i) for i in out.index]
    out.index.name = "frequency"
    return out.reset_index()


def tracking(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    start: str,
    end: str,
    time_unit: str = "week",
    customer_col: str = "customer_id",
    date_col: str = "ts",
) -> pd.DataFrame:
    """Repeat transactions per period from ``start`` to ``end``: actual (transaction days after
    each customer's first, counted once per day) and expected (the sum over customers of the
    model's unconditional expectation since their first day).

    Returns one row per period with ``actual``, ``expected`` and their cumulative sums.
    """
    unit = TIME_UNIT_DAYS[time_unit]
    days = pd.to_datetime(transactions[date_col]).dt.normalize()
    log = pd.DataFrame({"c": transactions[customer_col].to_numpy(), "d": days.to_numpy()})
    log = log[(log["d"] >= pd.Timestamp(start)) & (log["d"] <= pd.Timestamp(end))]
    log = log.drop_duplicates()
    first = log.groupby("c")["d"].transform("min")
    repeat = log[log["d"] > first]
    origin = pd.Timestamp(start)
    n_periods = int(np.ceil(((pd.Timestamp(end) - origin).days + 1) / unit))
    period = ((repeat["d"] - origin).dt.days // unit).astype(int)
    actual = np.bincount(period, minlength=n_periods)[:n_periods].astype(float)

    births = (log.groupby("c")["d"].min() - origin).dt.days.to_numpy() / unit
    edges = np.arange(1, n_periods + 1, dtype=float)  # period ends, in units since start
    born, counts = np.unique(births, return_counts=True)
    cumulative = np.zeros(n_periods)
    for b, k in zip(born, counts, strict=True):
        since = np.clip(edges - b, 0.0, None)
        cumulative += k * np.asarray(model.expected_transactions(since), dtype=float)
    expected = np.diff(cumulative, prepend=0.0)
    return pd.DataFrame(
        {
            "period": np.arange(n_periods),
            "actual": actual,
            "expected": expected,
            "actual_cumulative": np.cumsum(actual),
            "expected_cumulative": cumulative,
        }
    )


def p_alive_grid(
    model: TransactionModel, *, T: float, max_frequency: int = 10, recency_steps: int = 10
) -> pd.DataFrame:
    """P(alive) for every frequency 0..``max_frequency`` and recency on a grid up to ``T``
    (rows: frequency; columns: recency)."""
    recency = np.linspace(0.0, T, recency_steps + 1)
    freq, rec = np.meshgrid(np.arange(max_frequency + 1, dtype=float), recency, indexing="ij")
    rec = np.where(freq == 0, 0.0, rec)
    grid = pd.DataFrame({"frequency": freq.ravel(), "recency": rec.ravel(), "T": T})
    values = np.asarray(model.p_alive(grid), dtype=float).reshape(freq.shape)
    return pd.DataFrame(values, index=pd.Index(range(max_frequency + 1), name="frequency"),
                        columns=pd.Index(np.round(recency, 4), name="recency"))  # fmt: skip
