"""Validation of retention models as data: concordance, churn by decile, a comparison table.

- :func:`concordance_index`: Harrell's C (Harrell, Califf, Pryor, Lee & Rosati 1982) — among
  comparable pairs (the earlier time is an event; a censored time tied with an event counts as
  later), the share where the earlier leaver has the higher risk score, ties in score counted
  1/2. Exact, in :math:`O(n \\log^2 n)` by counting, level by level of a bottom-up merge, the
  earlier spells with a lower score.
- :func:`churn_by_decile`: predicted against observed churn on a holdout, by decile of the
  predicted probability.
- :func:`comparison_table`: log-likelihood, AIC, holdout errors and C of several models side by
  side, so the choice is visible.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.errors import DataContractError

IntArray = npt.NDArray[np.int64]


def concordance_index(
    time: npt.ArrayLike, event: npt.ArrayLike, risk_score: npt.ArrayLike
) -> float:
    """Harrell's C of ``risk_score`` (higher: leaves sooner) for right-censored ``time`` and
    ``event`` (1 = left). 0.5 is chance, 1 perfect."""
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=np.float64)
    r = np.asarray(risk_score, dtype=np.float64)
    if not (t.shape == e.shape == r.shape) or t.ndim != 1:
        raise DataContractError("concordance_index: time, event and risk_score need equal length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise DataContractError("concordance_index: time and risk_score must be finite")
    # order: by time, events before censored spells at the same time; among tied events by
    # falling score, so that each tied pair counts as concordant (or 1/2) and is taken out below
    rank = np.unique(r, return_inverse=True)[1].astype(np.int64)
    order = np.lexsort((-rank, 1 - e, t))
    t, e, rank = t[order], e[order], rank[order]
    n = t.size
    below_before, equal_before = _lower_and_equal_before(rank)
    sorted_rank = np.sort(rank)
    below_all = np.searchsorted(sorted_rank, rank, side="left")
    equal_all = np.searchsorted(sorted_rank, rank, side="right") - below_all
    later = n - 1 - np.arange(n)
    below_after = below_all - below_before
    equal_after = equal_all - equal_before - 1
    is_event = e == 1
    pairs = float(np.sum(later[is_event]))
    concordant = float(np.sum(below_after[is_event]) + 0.5 * np.sum(equal_after[is_event]))
    # tied event times are not comparable: remove the pairs counted within each such group
    tied_pairs, tied_equal = _tied_event_pairs(t[is_event], rank[is_event])
    pairs -= tied_pairs
    concordant -= tied_pairs - 0.5 * tied_equal
    if pairs <= 0:
        raise DataContractError("concordance_index: no comparable pairs (no events?)")
    return concordant / pairs


def _lower_and_equal_before(rank: IntArray) -> tuple[IntArray, IntArray]:
    """Per position p: how many earlier positions hold a lower rank, and how many an equal one.

    Bottom-up merge: at block size L, each element of a right half counts the elements of its
    left half below (and equal to) it by a binary search in that half, sorted; keys
    ``block · n + rank`` make one sort and one search serve every block of the level."""
    n = rank.size
    below = np.zeros(n, dtype=np.int64)
    equal = np.zeros(n, dtype=np.int64)
    pos = np.arange(n, dtype=np.int64)
    size = 1
    while size < n:
        block = pos // (2 * size)
        right = (pos // size) % 2 == 1
        key = block * n + rank
        left_sorted = np.sort(key[~right])
        queries = key[right]
        start = np.searchsorted(left_sorted, block[right] * n, side="left")
        lo = np.searchsorted(left_sorted, queries, side="left")
        hi = np.searchsorted(left_sorted, queries, side="right")
        below[right] += lo - start
        equal[right] += hi - lo
        size *= 2
    return below, equal


def _tied_event_pairs(t: npt.NDArray[np.float64], rank: IntArray) -> tuple[float, float]:
    """Pairs of events at the same time, and those of them with equal scores too."""
    _, counts = np.unique(t, return_counts=True)
    pairs = float(np.sum(counts * (counts - 1) / 2))
    _, both = np.unique(np.stack([t, rank.astype(np.float64)], axis=1), axis=0, return_counts=True)
    equal = float(np.sum(both * (both - 1) / 2))
    return pairs, equal


def churn_by_decile(predicted: npt.ArrayLike, observed: npt.ArrayLike) -> pd.DataFrame:
    """Customers, mean predicted and observed churn per decile of the predicted probability
    (decile 10 = highest predicted churn)."""
    p = np.asarray(predicted, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    if p.shape != o.shape or p.ndim != 1 or p.size == 0:
        raise DataContractError("churn_by_decile: predicted and observed need equal, >0 length")
    ranks = pd.Series(p).rank(method="first").to_numpy()
    decile = np.minimum((ranks - 1) * 10 // p.size + 1, 10).astype(int)
    frame = pd.DataFrame({"decile": decile, "predicted": p, "observed": o})
    out = frame.groupby("decile").agg(
        customers=("observed", "size"),
        predicted_churn=("predicted", "mean"),
        observed_churn=("observed", "mean"),
    )
    out["difference"] = out["predicted_churn"] - out["observed_churn"]
    return out


def holdout_errors(predicted: npt.ArrayLike, observed: npt.ArrayLike) -> dict[str, float]:
    """Brier score per customer, mean absolute error over the deciles, and the error of the
    total number of leavers (predicted − observed, as a share of the observed)."""
    p = np.asarray(predicted, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    deciles = churn_by_decile(p, o)
    total = float(o.sum())
    return {
        "brier": float(np.mean((p - o) ** 2)),
        "decile_mae": float(np.mean(np.abs(deciles["difference"]))),
        "leavers_error": float((p.sum() - total) / total) if total > 0 else float("nan"),
    }


def comparison_table(rows: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Models side by side: each row needs ``log_likelihood`` and ``n_params`` (AIC =
    2k − 2ℓ) and may carry holdout errors and ``concordance``; the chosen model is the one
    with the lowest holdout ``brier`` when given, else the lowest AIC."""
    frame = pd.DataFrame.from_dict({k: dict(v) for k, v in rows.items()}, orient="index")
    frame.index.name = "model"
    frame["aic"] = 2 * frame["n_params"] - 2 * frame["log_likelihood"]
    key = "brier" if "brier" in frame and frame["brier"].notna().any() else "aic"
    frame["chosen"] = frame.index == frame[key].idxmin()
    return frame
