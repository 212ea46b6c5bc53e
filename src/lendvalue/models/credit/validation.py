"""Validation of PD models as data: discrimination, calibration and stability.

- :func:`auc` — the area under the ROC curve as the Mann-Whitney statistic (ties count 1/2);
  :func:`gini` = 2 AUC − 1 (the accuracy ratio); :func:`ks` — the Kolmogorov-Smirnov distance
  between the score distributions of defaulters and non-defaulters.
- :func:`brier` — mean squared error of the PD against the 0/1 outcome.
- :func:`calibration_by_grade` — per grade: customers, defaults, mean PD, observed default rate
  and the one-sided Jeffreys test (ECB, "Instructions for reporting the validation results of
  internal models", 2019, section 2.5.3.1): with :math:`D` defaults among :math:`N`, the
  posterior of the default rate under the Jeffreys prior is :math:`Beta(D + 1/2, N − D + 1/2)`
  and the p-value is its CDF at the grade's PD — small when more defaults came than the PD
  allows (the PD is too low).
- :func:`psi` — the population stability index between two samples of a score,
  :math:`\\sum_k (a_k − e_k) \\ln(a_k / e_k)` over bins fixed on the expected (development)
  sample; under 0.1 stable, 0.1–0.25 watch, above 0.25 shifted (the usual reading).
- :func:`validation_report` — all of them for one model on one sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from lendvalue.errors import DataContractError

Array = npt.NDArray[np.float64]


def _outcome_and_score(y: npt.ArrayLike, score: npt.ArrayLike, what: str) -> tuple[Array, Array]:
    outcome = np.asarray(y, dtype=np.float64).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    if outcome.shape != s.shape or outcome.size == 0:
        raise DataContractError(f"{what}: outcomes and {what} scores need the same, > 0 length")
    if not np.all((outcome == 0) | (outcome == 1)):
        raise DataContractError(f"{what}: outcomes must be 0 (performing) or 1 (default)")
    if not np.all(np.isfinite(s)):
        raise DataContractError(f"{what}: scores must be finite")
    if outcome.min() == outcome.max():
        raise DataContractError(f"{what}: needs both defaults and non-defaults")
    return outcome, s


def auc(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """P(a defaulter's score > a non-defaulter's), ties 1/2 — ``score`` rising with risk
    (a PD, not scorecard points)."""
    outcome, s = _outcome_and_score(y, score, "auc")
    ranks = stats.rankdata(s)
    n1 = float(outcome.sum())
    n0 = outcome.size - n1
    return float((ranks[outcome == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def gini(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """The accuracy ratio, 2 AUC − 1."""
    return 2.0 * auc(y, score) - 1.0


def ks(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """max over thresholds of |F_default(s) − F_performing(s)|."""
    outcome, s = _outcome_and_score(y, score, "ks")
    order = np.argsort(s, kind="stable")
    s, outcome = s[order], outcome[order]
    last = np.append(np.diff(s) > 0, True)  # evaluate after each group of tied scores
    bad = np.cumsum(outcome)[last] / outcome.sum()
    good = np.cumsum(1 - outcome)[last] / (outcome.size - outcome.sum())
    return float(np.max(np.abs(bad - good)))


def brier(y: npt.ArrayLike, pd_: npt.ArrayLike) -> float:
    """Mean of (PD − outcome)²."""
    outcome, p = _outcome_and_score(y, pd_, "brier")
    if np.any((p < 0) | (p > 1)):
        raise DataContractError("brier: PDs must lie in [0, 1]")
    return float(np.mean((p - outcome) ** 2))


def jeffreys_p_value(defaults: npt.ArrayLike, customers: npt.ArrayLike, pd_: npt.ArrayLike) -> Any:
    """One-sided Jeffreys test: :math:`F_{Beta(D + 1/2, N − D + 1/2)}(PD)` (ECB 2019, 2.5.3.1).
    Below the chosen level (e.g. 0.05) the PD is too low for the defaults observed."""
    d = np.asarray(defaults, dtype=np.float64)
    n = np.asarray(customers, dtype=np.float64)
    p = np.asarray(pd_, dtype=np.float64)
    if np.any(n <= 0) or np.any(d < 0) or np.any(d > n) or np.any((p < 0) | (p > 1)):
        raise DataContractError("jeffreys_p_value: need 0 ≤ defaults ≤ customers, customers > 0 "
                                "and PDs in [0, 1]")  # fmt: skip
    return stats.beta.cdf(p, d + 0.5, n - d + 0.5)


def calibration_by_grade(
    y: npt.ArrayLike, pd_: npt.ArrayLike, grade: npt.ArrayLike, *, level: float = 0.05
) -> pd.DataFrame:
    """Per grade: ``customers, defaults, mean_pd, default_rate, jeffreys_p`` and ``verdict``
    (``too_low`` when the Jeffreys p-value is below ``level``, ``too_high`` when the mirror test
    — the PD above the posterior's upper tail — is, else ``ok``). Grades in order of mean PD."""
    outcome = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(pd_, dtype=np.float64).ravel()
    g = np.asarray(grade).ravel()
    if not (outcome.shape == p.shape == g.shape):
        raise DataContractError("calibration_by_grade: y, pd and grade need equal length")
    frame = pd.DataFrame({"grade": g, "y": outcome, "pd": p})
    table = frame.groupby("grade", sort=False).agg(
        customers=("y", "size"), defaults=("y", "sum"), mean_pd=("pd", "mean")
    )
    table["default_rate"] = table["defaults"] / table["customers"]
    table["jeffreys_p"] = jeffreys_p_value(table["defaults"], table["customers"], table["mean_pd"])
    upper = 1.0 - table["jeffreys_p"]
    table["verdict"] = np.where(
        table["jeffreys_p"] < level, "too_low", np.where(upper < level, "too_high", "ok")
    )
    return table.sort_values("mean_pd")


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, *, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` on ``bins`` quantile bins
    of ``expected`` (empty shares floored at 1e-6 so the log stays finite)."""
    e = np.asarray(expected, dtype=np.float64).ravel()
    a = np.asarray(actual, dtype=np.float64).ravel()
    if e.size == 0 or a.size == 0 or not (np.all(np.isfinite(e)) and np.all(np.isfinite(a))):
        raise DataContractError("psi: both samples need finite values")
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=edges.size + 1)
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=edges.size + 1)
    e_share = np.maximum(e_share / e.size, 1e-6)
    a_share = np.maximum(a_share / a.size, 1e-6)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def validation_report(
    y: npt.ArrayLike,
    pd_: npt.ArrayLike,
    grade: npt.ArrayLike | None = None,
    *,
    development_pd: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """AUC, Gini, KS, Brier, mean PD against the default rate; with ``grade`` the calibration
    table; with ``development_pd`` (the PDs of the development sample) the PSI of this sample's
    PDs against it."""
    outcome = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(pd_, dtype=np.float64).ravel()
    report: dict[str, Any] = {
        "customers": int(outcome.size),
        "defaults": int(outcome.sum()),
        "default_rate": float(outcome.mean()),
        "mean_pd": float(p.mean()),
        "auc": auc(outcome, p),
        "gini": gini(outcome, p),
        "ks": ks(outcome, p),
        "brier": brier(outcome, p),
    }
    if grade is not None:
        report["calibration"] = calibration_by_grade(outcome, p, grade)
    if development_pd is not None:
        report["psi"] = psi(development_pd, p)
    return report
