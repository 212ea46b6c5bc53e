"""Rating migration matrices and PD term structures.

Two estimators of how obligors move between the grades of the master scale, from rating
histories (one row per rating: ``customer_id``, ``rating_date``, ``grade``; optionally
``observed_until``, the last day the customer was observed — :func:`lendvalue.warehouse.ratings.
rating_history` builds them from the warehouse). The last grade of the scale is default (D) and
absorbing: a customer's history ends at its first D.

**Cohort** (:class:`CohortMigration`; Jafry & Schuermann 2004, "Measurement, estimation and
comparison of credit migration matrices", *Journal of Banking & Finance* 28(11), section 3.1):
every performing rating at a date :math:`t` opens a window :math:`(t, t + h]` (``horizon_months``
:math:`h`, one year by default). Its outcome is D if the customer defaults in the window, else
the latest rating in :math:`(t, t + h + \\text{grace}]` (a review held up to ``grace_days`` late
still counts as the review at :math:`t + h`; defaults after :math:`t + h` do not), else the
grade at :math:`t` when the customer was still observed at :math:`t + h` (ratings hold until
replaced). Windows still open at ``as_of`` are left out; customers that leave before
:math:`t + h` without defaulting are *withdrawn* and left out (the usual cohort treatment, which
assumes withdrawal is uninformative). Then

.. math:: \\hat P_{ij} = \\frac{N_{ij}}{N_i}, \\qquad
          \\widehat{\\mathrm{se}}(\\hat P_{ij}) = \\sqrt{\\frac{\\hat P_{ij}(1-\\hat P_{ij})}{N_i}}

(multinomial counts of the windows starting in grade :math:`i`; Jafry & Schuermann 2004,
section 3.1). With annual reviews on the anniversary of onboarding — the synthetic bank's
design — each window holds exactly one review, so the cohort matrix estimates the true one-year
matrix without bias (up to the withdrawal effect).

**Duration** (:class:`DurationMigration`; Lando & Skødeberg 2002, "Analyzing rating transitions
and rating drift with continuous observations", *Journal of Banking & Finance* 26(2-3),
section 2; Albert 1962, *Ann. Math. Statist.* 33, for the asymptotics): a rating holds from its
date until the next rating, the default or the end of observation (``observed_until``, at most
``as_of`` — censoring). With :math:`N_{ij}` the observed jumps from :math:`i` to :math:`j` and
:math:`R_i = \\int Y_i(s)\\,ds` the years spent in grade :math:`i`,

.. math:: \\hat\\Lambda_{ij} = \\frac{N_{ij}}{R_i}\\ (i \\ne j), \\qquad
          \\hat\\Lambda_{ii} = -\\sum_{j \\ne i} \\hat\\Lambda_{ij}, \\qquad
          \\widehat{\\mathrm{se}}(\\hat\\Lambda_{ij}) = \\frac{\\sqrt{N_{ij}}}{R_i},
          \\qquad P(t) = \\exp(\\hat\\Lambda t).

*Annual reviews.* The duration estimator assumes a time-homogeneous continuous-time chain: a jump
can happen at any instant. When grades are only revised once a year, non-default jumps happen
only at review dates while defaults happen at any time, so (i) the last, censored spell of every
customer (from its last review to ``as_of``, half a year on average) adds exposure in which no
non-default jump could happen, biasing the off-diagonal rates down; (ii) defaults leave their
grade after half a year on average, so the default intensity is about
:math:`P_{iD} / (1 - P_{iD}/2)` per year; (iii) :math:`\\exp(\\Lambda)` lets an obligor pass
through several grades within a year (BBB → BB → D), paths one annual review cannot produce.
On the synthetic bank (tests/models/credit/test_migration.py) these effects move the one-year
matrix by up to about 0.05 (the diagonal, CCC most) and the PD column by up to 0.009; the
estimate agrees with the limit these effects predict (derived in that test). The cohort matrix
is the right estimate of an annual review process; the duration estimator is right when ratings
are revised whenever the obligor's quality changes (watch lists, event-driven reviews).

**Term structures** (:func:`pd_term_structure`): from a generator, :math:`P(m) = \\exp(\\Lambda
m/12)` for months :math:`m = 1 … H`; from an annual matrix alone, its generator by the matrix
logarithm with the diagonal adjustment of Israel, Rosenthal & Wei (2001, "Finding generators for
Markov chains via empirical transition matrices", *Mathematical Finance* 11(2), section 3):
negative off-diagonal entries of :math:`\\log P` are set to 0 and the diagonal is reset so rows
sum to zero (Kreinin & Sidelnikova 2001 discuss this and the alternative regularisations). The
cumulative PD of grade :math:`g` by month :math:`m` is :math:`P(m)_{gD}`; the *unconditional
marginal* PD of month :math:`m` is :math:`\\mathrm{PD}_g(m) - \\mathrm{PD}_g(m-1)` (these sum to
the cumulative PD) and the *conditional marginal* (the discrete-time hazard) is that divided by
the survival :math:`1 - \\mathrm{PD}_g(m-1)`.

**Customer structures** (:func:`customer_pd_term_structure`): a customer with its own one-year
PD (from the scorecard) gets its grade's curve scaled by proportional hazards (Cox 1972): its
cumulative hazard is :math:`k` times the grade's at every horizon,

.. math:: 1 - \\mathrm{PD}_c(m) = \\bigl(1 - \\mathrm{PD}_g(m)\\bigr)^{k}, \\qquad
          k = \\frac{\\ln(1 - \\mathrm{PD}_c^{1y})}{\\ln(1 - \\mathrm{PD}_g(12))},

so the curve keeps the grade's shape (the migration-driven rise or fall of the hazard over time),
is non-decreasing, and equals the customer's one-year PD at month 12 exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg

from lendvalue.contract import GRADES
from lendvalue.errors import DataContractError, NotFittedError

__all__ = [
    "GRADE_CODES",
    "CohortMigration",
    "DurationMigration",
    "PDTermStructure",
    "cohort_matrix",
    "cohort_transitions",
    "customer_pd_term_structure",
    "duration_counts",
    "duration_generator",
    "generator_from_matrix",
    "pd_term_structure",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GRADE_CODES: tuple[str, ...] = tuple(g.code for g in GRADES)
"""The contract's grades, best first; the last (D) is default."""
DAYS_PER_YEAR = 365.25
_KEY = 1 << 22
"""Customer code × this + days since the first rating orders rows by customer, then date."""
_TOL = 1e-8


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------


def _day_numbers(values: Any, name: str) -> IntArray:
    """Days since 1970-01-01 of dates given as dates, timestamps or ISO strings."""
    try:
        stamps = pd.to_datetime(pd.Series(values, copy=False), errors="raise")
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{name} must hold dates (YYYY-MM-DD): {exc}") from exc
    if stamps.isna().any():
        raise DataContractError(
            f"{name} has {int(stamps.isna().sum())} missing dates; drop or fix those rows"
        )
    out: IntArray = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    return out


def _as_of_day(as_of: dt.date | str) -> int:
    return int(_day_numbers([as_of], "as_of")[0])


def _add_months(days: IntArray, months: int) -> IntArray:
    """Day numbers shifted by whole calendar months, the day clipped to the target month's
    length (31 January + 1 month = 28/29 February), as anniversaries are counted."""
    d = np.asarray(days, dtype="datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.int64(months)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    out: IntArray = (first + np.minimum(day_of_month, length - 1)).astype(np.int64)
    return out


@dataclass(frozen=True)
class _Histories:
    """Rating histories sorted by customer and date, cut at the first default and at as_of."""

    customer_ids: npt.NDArray[np.object_]
    """Customer id of each code."""
    cust: IntArray
    day: IntArray
    grade: IntArray
    observed_until: IntArray
    """Per customer code: last day observed (at most as_of)."""
    last_day: IntArray
    """Per customer code: date of its last rating."""


def _histories(history: pd.DataFrame, grades: Sequence[str], as_of: int) -> _Histories:
    """Check a rating-history frame once and turn it into sorted integer arrays."""
    missing = [c for c in ("customer_id", "rating_date", "grade") if c not in history.columns]
    if missing:
        raise DataContractError(
            f"rating history lacks columns {missing}; expected customer_id, rating_date, grade "
            "(and optionally observed_until) — see lendvalue.warehouse.ratings.rating_history"
        )
    if history["customer_id"].isna().any() or history["grade"].isna().any():
        raise DataContractError("rating history has missing customer_id or grade values")
    grade = pd.Index(list(grades)).get_indexer(pd.Index(history["grade"].astype(str)))
    if (grade < 0).any():
        bad = sorted(set(history["grade"].astype(str)[grade < 0]))[:5]
        raise DataContractError(
            f"grades {bad} are not on the scale {list(grades)}; recode them to the master scale"
        )
    day = _day_numbers(history["rating_date"], "rating_date")
    codes, uniques = pd.factorize(history["customer_id"], sort=False)
    n_cust = len(uniques)
    observed = np.full(n_cust, as_of, dtype=np.int64)
    if "observed_until" in history.columns:
        given = history["observed_until"].notna().to_numpy()
        obs_day = _day_numbers(history["observed_until"][given], "observed_until")
        np.minimum.at(observed, codes[given], obs_day)
    keep = day <= as_of
    cust, day, grade = codes[keep].astype(np.int64), day[keep], grade[keep].astype(np.int64)
    order = np.lexsort((day, cust))
    cust, day, grade = cust[order], day[order], grade[order]
    if len(day) and ((np.diff(cust) == 0) & (np.diff(day) == 0)).any():
        raise DataContractError(
            "rating history has two ratings of one customer on one day; the ratings key is "
            "(customer_id, rating_date): keep one per day"
        )
    default = len(grades) - 1
    first_d = np.full(n_cust, np.iinfo(np.int64).max, dtype=np.int64)
    is_d = grade == default
    np.minimum.at(first_d, cust[is_d], day[is_d])
    keep = day <= first_d[cust]
    cust, day, grade = cust[keep], day[keep], grade[keep]
    last_day = np.full(n_cust, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_day, cust, day)
    return _Histories(
        np.asarray(uniques, dtype=object),
        cust,
        day,
        grade,
        np.minimum(observed, as_of),
        last_day,
    )


def _check_grades(grades: Sequence[str]) -> tuple[str, ...]:
    out = tuple(str(g) for g in grades)
    if len(out) < 2 or len(set(out)) != len(out):
        raise DataContractError(
            f"grades must be at least two distinct codes, best first and default last; got {out}"
        )
    return out


# ---------------------------------------------------------------------------------------------
# Cohort estimator
# ---------------------------------------------------------------------------------------------


def cohort_transitions(
    history: pd.DataFrame,
    *,
    as_of: dt.date | str,
    grades: Sequence[str] = GRADE_CODES,
    horizon_months: int = 12,
    grace_days: int = 31,
) -> pd.DataFrame:
    """The cohort windows of a rating history: one row per performing rating.

    Columns ``customer_id``, ``rating_date``, ``from_grade``, ``to_grade`` (the grade
    ``horizon_months`` later; empty unless ``outcome`` is ``observed``) and ``outcome``:
    ``observed``, ``withdrawn`` (left before the window closed without defaulting) or ``open``
    (the window ends after ``as_of``). See the module docstring for the rules.
    """
    grades = _check_grades(grades)
    if horizon_months < 1 or grace_days < 0:
        raise DataContractError("horizon_months must be >= 1 and grace_days >= 0")
    end = _as_of_day(as_of)
    h = _histories(history, grades, end)
    default = len(grades) - 1
    start = np.flatnonzero(h.grade != default)
    t = h.day[start]
    c = h.cust[start]
    window_end = _add_months(t, horizon_months)
    base = int(h.day.min()) if len(h.day) else 0
    keys = h.cust * _KEY + (h.day - base)
    j = np.searchsorted(keys, c * _KEY + (window_end + grace_days - base), side="right") - 1
    late_default = (h.grade[j] == default) & (h.day[j] > window_end)
    j = np.where(late_default, j - 1, j)
    has_new = j > start
    defaulted = has_new & (h.grade[j] == default)
    observed = defaulted | (h.observed_until[c] >= window_end) | (h.last_day[c] >= window_end)
    to = np.where(has_new, h.grade[j], h.grade[start])
    # a window that ended less than grace_days before as_of, with no review yet, is still open:
    # its (late) review may yet come
    still_open = (window_end > end) | ((window_end + grace_days > end) & ~has_new)
    outcome = np.where(still_open, "open", np.where(observed, "observed", "withdrawn")).astype(
        object
    )
    names = np.asarray(grades, dtype=object)
    return pd.DataFrame(
        {
            "customer_id": h.customer_ids[c],
            "rating_date": pd.to_datetime(t.astype("datetime64[D]")),
            "from_grade": names[h.grade[start]],
            "to_grade": np.where(outcome == "observed", names[to], np.asarray(None)),
            "outcome": outcome,
        }
    )


class CohortMigration:
    """Cohort estimate of the ``horizon_months`` migration matrix (Jafry & Schuermann 2004).

    Parameters
    ----------
    grades : grade codes, best first, default last (absorbing).
    horizon_months : length of a window (12: the one-year matrix).
    grace_days : a review held this many days after the window's end still closes it.

    Attributes (after :meth:`fit`)
    ------------------------------
    counts_ : transitions, rows = grade at the window's start, columns = grade at its end.
    n_obs_ : windows per starting grade (:math:`N_i`).
    withdrawn_ : windows left out per starting grade because the customer left unobserved.
    matrix_ : :math:`\\hat P_{ij}` (NaN rows for grades never observed; D absorbing).
    se_ : multinomial standard errors of ``matrix_``.
    """

    def __init__(
        self,
        *,
        grades: Sequence[str] = GRADE_CODES,
        horizon_months: int = 12,
        grace_days: int = 31,
    ) -> None:
        self.grades = _check_grades(grades)
        self.horizon_months = horizon_months
        self.grace_days = grace_days

    def fit(self, history: pd.DataFrame, *, as_of: dt.date | str) -> Self:
        """Count the windows of ``history`` observed by ``as_of`` and estimate the matrix."""
        pairs = cohort_transitions(
            history,
            as_of=as_of,
            grades=self.grades,
            horizon_months=self.horizon_months,
            grace_days=self.grace_days,
        )
        k = len(self.grades)
        idx = pd.Index(self.grades)
        done = pairs[pairs["outcome"] == "observed"]
        start = np.asarray(idx.get_indexer(pd.Index(done["from_grade"])), dtype=np.int64)
        stop = np.asarray(idx.get_indexer(pd.Index(done["to_grade"])), dtype=np.int64)
        counts = np.bincount(start * k + stop, minlength=k * k).reshape(k, k).astype(np.int64)
        gone = pairs[pairs["outcome"] == "withdrawn"]
        withdrawn = np.bincount(idx.get_indexer(pd.Index(gone["from_grade"])), minlength=k)
        matrix, se = cohort_matrix(counts)
        self.counts_ = pd.DataFrame(counts, index=idx, columns=idx)
        self.n_obs_ = pd.Series(counts.sum(axis=1), index=idx, name="n_obs")
        self.withdrawn_ = pd.Series(withdrawn.astype(np.int64), index=idx, name="withdrawn")
        self.matrix_ = pd.DataFrame(matrix, index=idx, columns=idx)
        self.se_ = pd.DataFrame(se, index=idx, columns=idx)
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "matrix_"):
            raise NotFittedError("CohortMigration is not fitted; call fit(history, as_of=...)")

    def pd_term_structure(self, horizon_months: int) -> PDTermStructure:
        """Monthly PD term structure of each performing grade (see :func:`pd_term_structure`)."""
        self._fitted()
        return pd_term_structure(self, horizon_months)


def cohort_matrix(counts: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """:math:`\\hat P = N_{ij}/N_i` and its multinomial standard errors from a count matrix
    (rows: start, columns: end); the last row is set absorbing, rows without windows are NaN.

    .. math:: \\hat P_{ij} = \\frac{N_{ij}}{N_i}, \\qquad
              \\mathrm{se}_{ij} = \\sqrt{\\hat P_{ij}(1 - \\hat P_{ij}) / N_i}

    (Jafry & Schuermann 2004, section 3.1; the multinomial variance.)
    """
    n = np.asarray(counts, dtype=float)
    n_i = n.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n_i > 0, n / n_i, np.nan)
        se = np.sqrt(p * (1.0 - p) / n_i)
    p[-1], se[-1] = 0.0, 0.0
    p[-1, -1] = 1.0
    return p, se


# ---------------------------------------------------------------------------------------------
# Duration estimator
# ---------------------------------------------------------------------------------------------


def duration_counts(
    history: pd.DataFrame,
    *,
    as_of: dt.date | str,
    grades: Sequence[str] = GRADE_CODES,
) -> tuple[IntArray, FloatArray]:
    """Jump counts :math:`N_{ij}` (``grades × grades``, zero diagonal) and years at risk
    :math:`R_i` per grade of a rating history.

    A rating's spell runs from its date to the customer's next rating, or for the last rating to
    ``observed_until`` (at most ``as_of``). A next rating with the same grade is a reaffirmation,
    not a jump. Spells in the default grade are not counted (it is absorbing).
    """
    grades = _check_grades(grades)
    end = _as_of_day(as_of)
    h = _histories(history, grades, end)
    k, default = len(grades), len(grades) - 1
    n = len(h.day)
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = h.cust[1:] == h.cust[:-1]
    nxt = np.minimum(np.arange(n) + 1, max(n - 1, 0))
    stop = np.where(same_next, h.day[nxt], h.observed_until[h.cust])
    years = np.maximum(stop - h.day, 0) / DAYS_PER_YEAR
    live = h.grade != default
    exposure = np.bincount(h.grade[live], weights=years[live], minlength=k).astype(float)
    jump = same_next & live & (h.grade[nxt] != h.grade)
    counts = np.bincount(h.grade[jump] * k + h.grade[nxt][jump], minlength=k * k)
    return counts.reshape(k, k).astype(np.int64), exposure


class DurationMigration:
    """Duration (continuous-time) estimate of the rating generator (Lando & Skødeberg 2002).

    Parameters
    ----------
    grades : grade codes, best first, default last (absorbing).

    Attributes (after :meth:`fit`)
    ------------------------------
    counts_ : jumps :math:`N_{ij}` between grades (zero diagonal).
    exposure_years_ : years at risk :math:`R_i` per grade.
    generator_ : :math:`\\hat\\Lambda` per year (rows sum to 0; NaN rows for grades never
        observed; the default row is 0).
    generator_se_ : :math:`\\sqrt{N_{ij}}/R_i` off the diagonal, 0 on it.
    """

    def __init__(self, *, grades: Sequence[str] = GRADE_CODES) -> None:
        self.grades = _check_grades(grades)

    def fit(self, history: pd.DataFrame, *, as_of: dt.date | str) -> Self:
        """Count jumps and years at risk in ``history`` up to ``as_of``; estimate the generator."""
        counts, exposure = duration_counts(history, as_of=as_of, grades=self.grades)
        gen, se = duration_generator(counts, exposure)
        idx = pd.Index(self.grades)
        self.counts_ = pd.DataFrame(counts, index=idx, columns=idx)
        self.exposure_years_ = pd.Series(exposure, index=idx, name="exposure_years")
        self.generator_ = pd.DataFrame(gen, index=idx, columns=idx)
        self.generator_se_ = pd.DataFrame(se, index=idx, columns=idx)
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise NotFittedError("DurationMigration is not fitted; call fit(history, as_of=...)")

    def matrix(self, horizon_months: float = 12.0) -> pd.DataFrame:
        """Transition matrix over ``horizon_months``: :math:`\\exp(\\hat\\Lambda\\, h/12)`."""
        self._fitted()
        gen = _finite_generator(self.generator_.to_numpy(), self.grades)
        p = linalg.expm(gen * horizon_months / 12.0)
        return pd.DataFrame(p, index=self.generator_.index, columns=self.generator_.columns)

    def matrix_se(self, horizon_months: float = 12.0) -> pd.DataFrame:
        """Delta-method standard errors of :meth:`matrix`.

        The :math:`\\hat\\Lambda_{ij}` (:math:`i \\ne j`) are asymptotically independent with
        variance :math:`\\Lambda_{ij}/R_i` (Albert 1962; Lando & Skødeberg 2002, section 2),
        so with :math:`E_{ij} = e_i e_j^\\top - e_i e_i^\\top` and
        :math:`L(A, E)` the Fréchet derivative of the matrix exponential (Al-Mohy & Higham 2009),

        .. math:: \\operatorname{Var} P(t)_{kl} \\approx \\sum_{i \\ne j}
                  L(\\Lambda t, E_{ij} t)_{kl}^2 \\, \\frac{\\Lambda_{ij}}{R_i}.

        Entries estimated from zero jumps contribute no variance, so the standard errors are
        too small where the data are thin.
        """
        self._fitted()
        gen = _finite_generator(self.generator_.to_numpy(), self.grades)
        t = horizon_months / 12.0
        exposure = self.exposure_years_.to_numpy()
        var = np.zeros_like(gen)
        k = gen.shape[0]
        for i in range(k):
            for j in range(k):
                if i == j or gen[i, j] <= 0.0:
                    continue
                direction = np.zeros_like(gen)
                direction[i, j], direction[i, i] = t, -t
                _, deriv = linalg.expm_frechet(gen * t, direction)
                var += deriv**2 * gen[i, j] / exposure[i]
        return pd.DataFrame(
            np.sqrt(var), index=self.generator_.index, columns=self.generator_.columns
        )

    def pd_term_structure(self, horizon_months: int) -> PDTermStructure:
        """Monthly PD term structure of each performing grade (see :func:`pd_term_structure`)."""
        self._fitted()
        return pd_term_structure(self, horizon_months)


def duration_generator(
    counts: npt.ArrayLike, exposure_years: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """The generator :math:`\\Lambda_{ij} = N_{ij}/R_i` (:math:`i \\ne j`), :math:`\\Lambda_{ii}
    = -\\sum_{j \\ne i}\\Lambda_{ij}` (Lando & Skødeberg 2002, section 2) and the standard errors
    :math:`\\sqrt{N_{ij}}/R_i`; the last (default) row is 0, rows without exposure are NaN."""
    n = np.asarray(counts, dtype=float).copy()
    r = np.asarray(exposure_years, dtype=float)[:, None]
    np.fill_diagonal(n, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        gen = np.where(r > 0, n / r, np.nan)
        se = np.where(r > 0, np.sqrt(n) / r, np.nan)
    np.fill_diagonal(gen, 0.0)
    np.fill_diagonal(gen, -np.nansum(gen, axis=1))
    gen[np.isnan(gen).any(axis=1)] = np.nan
    gen[-1], se[-1] = 0.0, 0.0
    return gen, se


def _finite_generator(gen: FloatArray, grades: Sequence[str]) -> FloatArray:
    bad = [g for g, row in zip(grades, gen, strict=True) if not np.isfinite(row).all()]
    if bad:
        raise DataContractError(
            f"grades {bad} have no observations, so their migration rows are unknown; merge "
            "them with a neighbouring grade or supply a matrix for them"
        )
    return gen


# ---------------------------------------------------------------------------------------------
# Generators from annual matrices
# ---------------------------------------------------------------------------------------------


def generator_from_matrix(matrix: npt.ArrayLike, *, period_months: float = 12.0) -> FloatArray:
    """A valid generator (per year) whose exponential approximates the ``period_months``
    transition matrix ``matrix``.

    The principal matrix logarithm, regularised by the diagonal adjustment of Israel,
    Rosenthal & Wei (2001, section 3):

    .. math:: Q = \\log P, \\qquad \\Lambda_{ij} = \\max(Q_{ij}, 0)\\ (i \\ne j), \\qquad
              \\Lambda_{ii} = -\\sum_{j \\ne i} \\Lambda_{ij},

    scaled to a year by :math:`12 / \\text{period\\_months}`. A real logarithm exists when the
    diagonal of :math:`P` exceeds 1/2 (the series for :math:`\\log P` then converges; IRW 2001),
    as it does for rating matrices; otherwise a ``DataContractError`` says so.
    """
    p = np.asarray(matrix, dtype=float)
    _check_stochastic(p)
    q = linalg.logm(p)
    if np.iscomplexobj(q):
        if np.abs(q.imag).max() > 1e-8 * max(1.0, float(np.abs(q.real).max())):
            raise DataContractError(
                "the transition matrix has no real logarithm (it has negative or complex "
                "eigenvalues, typical when diagonal entries are below 1/2); estimate the "
                "generator directly with DurationMigration instead"
            )
        q = q.real
    gen = np.where(q > 0.0, q, 0.0)
    np.fill_diagonal(gen, 0.0)
    np.fill_diagonal(gen, -gen.sum(axis=1))
    gen[-1] = 0.0
    out: FloatArray = gen * (12.0 / period_months)
    return out


def _check_stochastic(p: FloatArray) -> None:
    if p.ndim != 2 or p.shape[0] != p.shape[1] or p.shape[0] < 2:
        raise DataContractError(f"a transition matrix must be square, got shape {p.shape}")
    if not np.isfinite(p).all():
        raise DataContractError(
            "the transition matrix has missing entries (grades without observations); merge "
            "grades or supply a complete matrix"
        )
    if (p < -_TOL).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise DataContractError(
            "a transition matrix needs entries >= 0 and rows summing to 1; got row sums "
            f"{np.round(p.sum(axis=1), 6).tolist()}"
        )
    absorbing = np.zeros(p.shape[0])
    absorbing[-1] = 1.0
    if not np.allclose(p[-1], absorbing, atol=_TOL):
        raise DataContractError(
            "the last (default) row must be absorbing, [0, …, 0, 1]: PDs are first-passage "
            "probabilities; cures are out of scope of the migration model"
        )


def _check_generator(gen: FloatArray) -> None:
    if gen.ndim != 2 or gen.shape[0] != gen.shape[1] or gen.shape[0] < 2:
        raise DataContractError(f"a generator must be square, got shape {gen.shape}")
    off = gen - np.diag(np.diag(gen))
    if (off < -_TOL).any() or not np.allclose(gen.sum(axis=1), 0.0, atol=1e-8):
        raise DataContractError("a generator needs off-diagonal entries >= 0 and rows summing to 0")
    if np.abs(gen[-1]).max() > _TOL:
        raise DataContractError("the last (default) row of a generator must be 0 (absorbing)")


# ---------------------------------------------------------------------------------------------
# PD term structures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PDTermStructure:
    """Monthly PDs of a set of grades or customers.

    Attributes
    ----------
    index : the grade codes or customer ids, one per row.
    months : 1 … H.
    cumulative : :math:`\\mathrm{PD}(m)`, probability of default by the end of month ``m``
        (rows × months), non-decreasing along months.
    """

    index: tuple[Any, ...]
    months: IntArray
    cumulative: FloatArray

    @property
    def marginal(self) -> FloatArray:
        """Unconditional marginal PD :math:`\\mathrm{PD}(m) - \\mathrm{PD}(m-1)`: the
        probability, seen from today, of defaulting in month ``m``; sums to ``cumulative``."""
        out: FloatArray = np.diff(self.cumulative, axis=1, prepend=0.0)
        return out

    @property
    def conditional(self) -> FloatArray:
        """Conditional marginal PD (discrete-time hazard) :math:`\\frac{\\mathrm{PD}(m) -
        \\mathrm{PD}(m-1)}{1 - \\mathrm{PD}(m-1)}`: the probability of defaulting in month ``m``
        having survived to its start (0 where nothing survives)."""
        survival = 1.0 - np.concatenate(
            [np.zeros((self.cumulative.shape[0], 1)), self.cumulative[:, :-1]], axis=1
        )
        out: FloatArray = np.divide(
            self.marginal, survival, out=np.zeros_like(self.cumulative), where=survival > 0
        )
        return out

    def at(self, month: int) -> FloatArray:
        """Cumulative PD of every row at ``month``."""
        if not 1 <= month <= len(self.months):
            raise DataContractError(f"month must be in 1..{len(self.months)}, got {month}")
        out: FloatArray = self.cumulative[:, month - 1]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Long form: ``id``, ``month``, ``cumulative_pd``, ``marginal_pd``, ``conditional_pd``."""
        n, h = self.cumulative.shape
        return pd.DataFrame(
            {
                "id": np.repeat(np.asarray(self.index, dtype=object), h),
                "month": np.tile(self.months, n),
                "cumulative_pd": self.cumulative.ravel(),
                "marginal_pd": self.marginal.ravel(),
                "conditional_pd": self.conditional.ravel(),
            }
        )


def pd_term_structure(
    source: CohortMigration | DurationMigration | pd.DataFrame | npt.ArrayLike,
    horizon_months: int,
    *,
    grades: Sequence[str] | None = None,
    period_months: float = 12.0,
) -> PDTermStructure:
    """Monthly cumulative PDs of every performing grade up to ``horizon_months``.

    ``source`` is a fitted :class:`DurationMigration` (its generator), a fitted
    :class:`CohortMigration` (its matrix over its ``horizon_months``), or a square frame/array
    that is either a generator per year (rows sum to 0) or a transition matrix over
    ``period_months`` (rows sum to 1), told apart by their row sums. A matrix is turned into a
    generator with :func:`generator_from_matrix`. Then

    .. math:: \\mathrm{PD}_g(m) = \\bigl[\\exp(\\Lambda\\, m / 12)\\bigr]_{gD},
              \\qquad m = 1, …, H,

    computed as :math:`v_m = \\exp(\\Lambda/12)\\, v_{m-1}`, :math:`v_0 = e_D`; running maxima
    along months remove rounding-level decreases.
    """
    if horizon_months < 1:
        raise DataContractError(f"horizon_months must be >= 1, got {horizon_months}")
    gen, codes = _generator_of(source, grades, period_months)
    monthly = linalg.expm(gen / 12.0)
    k = gen.shape[0]
    v = np.zeros(k)
    v[-1] = 1.0
    cumulative = np.empty((k - 1, horizon_months))
    for m in range(horizon_months):
        v = monthly @ v
        cumulative[:, m] = v[:-1]
    cumulative = np.maximum.accumulate(np.clip(cumulative, 0.0, 1.0), axis=1)
    return PDTermStructure(codes[:-1], np.arange(1, horizon_months + 1), cumulative)


def _generator_of(
    source: Any, grades: Sequence[str] | None, period_months: float
) -> tuple[FloatArray, tuple[str, ...]]:
    if isinstance(source, DurationMigration):
        source._fitted()
        gen = _finite_generator(source.generator_.to_numpy(), source.grades)
        return gen, source.grades
    if isinstance(source, CohortMigration):
        source._fitted()
        p = source.matrix_.to_numpy()
        return generator_from_matrix(p, period_months=source.horizon_months), source.grades
    if isinstance(source, pd.DataFrame):
        codes = tuple(str(c) for c in source.index)
        if list(source.columns.astype(str)) != list(codes):
            raise DataContractError("a matrix frame needs the same grades as index and columns")
        arr = source.to_numpy(dtype=float)
    else:
        arr = np.asarray(source, dtype=float)
        codes = _check_grades(grades if grades is not None else GRADE_CODES)
    if arr.ndim != 2 or arr.shape != (len(codes), len(codes)):
        raise DataContractError(
            f"expected a {len(codes)}×{len(codes)} matrix over {codes}, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise DataContractError(
            "the matrix has missing entries (grades without observations); merge grades or "
            "supply a complete matrix"
        )
    rows = arr.sum(axis=1)
    if np.allclose(rows, 0.0, atol=1e-8):
        _check_generator(arr)
        return arr, codes
    if np.allclose(rows, 1.0, atol=1e-6):
        return generator_from_matrix(arr, period_months=period_months), codes
    raise DataContractError(
        "expected a generator (rows sum to 0) or a transition matrix (rows sum to 1); got row "
        f"sums {np.round(rows, 6).tolist()}"
    )


def customer_pd_term_structure(
    pd_1y: npt.ArrayLike,
    grade: npt.ArrayLike,
    grade_structure: PDTermStructure,
    *,
    index: Sequence[Any] | None = None,
    anchor_month: int = 12,
) -> PDTermStructure:
    """Each customer's monthly PD curve: its grade's curve scaled to hit its own one-year PD.

    Proportional hazards (Cox 1972): the customer's cumulative hazard is a constant multiple
    :math:`k` of its grade's,

    .. math:: \\mathrm{PD}_c(m) = 1 - \\bigl(1 - \\mathrm{PD}_g(m)\\bigr)^{k}, \\qquad
              k = \\frac{\\ln(1 - \\mathrm{PD}_c^{1y})}{\\ln(1 - \\mathrm{PD}_g(12))},

    evaluated as :math:`-\\operatorname{expm1}(k \\operatorname{log1p}(-\\mathrm{PD}_g(m)))`.
    The grade's curve carries the shape that migration gives the hazard over time (rising for
    good grades, falling for bad ones); the scorecard's PD sets the level. The result is
    non-decreasing in ``m``, increasing in :math:`\\mathrm{PD}_c^{1y}`, and equals
    :math:`\\mathrm{PD}_c^{1y}` at ``anchor_month`` exactly. A customer with
    :math:`\\mathrm{PD}_c^{1y} = 1` is in default from month 1; a grade with zero PD at the
    anchor has no shape to scale, and its customers get a constant hazard,
    :math:`1 - (1 - \\mathrm{PD}_c^{1y})^{m/12}`.

    Parameters
    ----------
    pd_1y : each customer's one-year PD, in [0, 1].
    grade : each customer's grade code (a row of ``grade_structure``).
    grade_structure : the grades' curves, from :func:`pd_term_structure`, covering
        ``anchor_month``.
    index : customer ids for the rows (default 0 … n-1).
    anchor_month : the month at which the customer's PD applies (12 for a one-year PD).
    """
    p = np.asarray(pd_1y, dtype=float).ravel()
    codes = np.asarray(grade, dtype=object).ravel()
    if p.shape != codes.shape:
        raise DataContractError(
            f"pd_1y and grade must have one value per customer; got {p.size} and {codes.size}"
        )
    bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
    if bad.any():
        raise DataContractError(
            f"{int(bad.sum())} one-year PDs are missing or outside [0, 1]; fix them first"
        )
    h = len(grade_structure.months)
    if not 1 <= anchor_month <= h:
        raise DataContractError(
            f"the grade structure covers months 1..{h}; it must include anchor month "
            f"{anchor_month}: build it with a longer horizon"
        )
    rows = pd.Index(list(grade_structure.index)).get_indexer(pd.Index(codes))
    if (rows < 0).any():
        unknown = sorted({str(c) for c in codes[rows < 0]})[:5]
        raise DataContractError(
            f"grades {unknown} have no PD curve; expected one of {list(grade_structure.index)} "
            "(a customer in default has PD 1 and needs no curve)"
        )
    ids = tuple(index) if index is not None else tuple(range(p.size))
    if len(ids) != p.size:
        raise DataContractError(f"index has {len(ids)} ids for {p.size} customers")
    log_surv_grade = np.log1p(-np.minimum(grade_structure.cumulative, 1.0))
    log_anchor = log_surv_grade[rows, anchor_month - 1]
    flat = log_anchor == 0.0
    # one (customers × months) array, updated in place: 8 bytes per customer and month
    with np.errstate(divide="ignore", invalid="ignore"):
        log_surv_cust = np.log1p(-p)
        k = np.where(flat, 0.0, log_surv_cust / np.where(flat, -1.0, log_anchor))
        cumulative = log_surv_grade[rows]
        cumulative *= k[:, None]
        if flat.any():
            months = grade_structure.months[None, :] / anchor_month
            cumulative[flat] = months * log_surv_cust[flat, None]
        np.expm1(cumulative, out=cumulative)
    np.negative(cumulative, out=cumulative)
    cumulative[p >= 1.0] = 1.0  # k = inf: the only rows where inf * 0 leaves NaN
    np.clip(cumulative, 0.0, 1.0, out=cumulative)
    a = anchor_month - 1
    np.minimum(cumulative[:, :a], p[:, None], out=cumulative[:, :a])
    cumulative[:, a] = p
    np.maximum(cumulative[:, a + 1 :], p[:, None], out=cumulative[:, a + 1 :])
    np.maximum.accumulate(cumulative, axis=1, out=cumulative)
    return PDTermStructure(ids, grade_structure.months.copy(), cumulative)
