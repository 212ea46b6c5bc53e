"""Per-customer monthly curves the valuation weights cash flows with, computed block by block
so a million customers never need a customers × months matrix in memory at once.

- Relationship survival :math:`S_i(m)`, the probability the relationship is still there ``m``
  months after the valuation date, given it is there today (:math:`S_i(0) = 1`), from the
  retention models: :class:`ProportionalHazardCurves` for a fitted Weibull AFT or Cox PH model
  (:math:`S_i(\\tau_i + m)/S_i(\\tau_i)` at tenure :math:`\\tau_i`), :class:`MatrixCurves` for
  any precomputed curves, :func:`no_attrition` to value contracts alone.
- Cumulative PD :math:`PD_i(m)` from the credit module: :class:`GradePDCurves` scales each
  grade's curve by proportional hazards so that it passes through the customer's own
  one-year PD (Cox 1972; :func:`lendvalue.models.credit.migration.customer_pd_term_structure`).

A curve object answers ``block(rows, horizon_months)`` with a ``len(rows) × (horizon + 1)``
array (column ``m`` is month ``m``, column 0 the valuation date).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from lendvalue.errors import DataContractError

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Curves(Protocol):
    """Monthly curves of customers ``0 … n-1``."""

    @property
    def n_customers(self) -> int:
        """How many customers the curves cover."""
        ...

    def block(self, rows: IntArray, horizon_months: int) -> Array:
        """``len(rows) × (horizon_months + 1)``: column ``m`` is month ``m``."""
        ...


@dataclass(frozen=True)
class MatrixCurves:
    """Precomputed curves: ``values[i, m]`` for month ``m = 0 … H`` of customer ``i``."""

    values: Array

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] < 1:
            raise DataContractError("curves must be customers × months (month 0 first)")
        if not np.all(np.isfinite(v)) or v.min() < 0.0 or v.max() > 1.0:
            raise DataContractError("curve values must be finite probabilities in [0, 1]")
        if not (np.all(v[:, 0] == 1.0) or np.all(v[:, 0] == 0.0)):
            raise DataContractError(
                "column 0 is the valuation date: a survival curve starts at 1, a cumulative PD "
                "curve at 0 (did the curves start at month 1?)"
            )

    @property
    def n_customers(self) -> int:
        return int(self.values.shape[0])

    def block(self, rows: IntArray, horizon_months: int) -> Array:
        if horizon_months + 1 > self.values.shape[1]:
            raise DataContractError(
                f"the curves cover {self.values.shape[1] - 1} months; the valuation needs "
                f"{horizon_months}"
            )
        return np.asarray(self.values[rows, : horizon_months + 1], dtype=np.float64)


def no_attrition(n_customers: int) -> MatrixCurves:
    """Every relationship lasts the whole horizon (contracts valued on their own)."""
    return MatrixCurves(np.ones((n_customers, 601)))


@dataclass(frozen=True)
class ProportionalHazardCurves:
    """:math:`S_i(m) = \\exp(-c_i\\,[G(\\tau_i + m) - G(\\tau_i)])` for a model whose cumulative
    hazard is :math:`c_i G(t)` (the Weibull AFT: :math:`c_i = \\lambda_i^{-\\rho}`,
    :math:`G(t) = t^\\rho`; Cox: :math:`c_i = e^{\\beta^\\top z_i}`, :math:`G = H_0`), ``tau`` the
    tenure in months today."""

    factor: Array
    tenure_months: Array
    baseline: Callable[[Array], Array]

    @property
    def n_customers(self) -> int:
        return int(self.factor.shape[0])

    def block(self, rows: IntArray, horizon_months: int) -> Array:
        tau = self.tenure_months[rows][:, None]
        months = np.arange(horizon_months + 1, dtype=np.float64)[None, :]
        later = self.baseline((tau + months).ravel()).reshape(len(rows), horizon_months + 1)
        now = self.baseline(self.tenure_months[rows])[:, None]
        return np.asarray(np.exp(-self.factor[rows][:, None] * (later - now)), dtype=np.float64)

    @classmethod
    def from_model(cls, model: object, customers: object, tenure: str = "tenure_months"
                   ) -> ProportionalHazardCurves:  # fmt: skip
        """From a fitted :class:`~lendvalue.models.WeibullAFTModel` or
        :class:`~lendvalue.models.CoxPHModel` and a frame of the customers' covariates with
        their tenure (months) in ``tenure``."""
        import pandas as pd

        if not isinstance(customers, pd.DataFrame) or tenure not in customers.columns:
            raise DataContractError(f"customers must be a DataFrame with a {tenure!r} column")
        row_factor = getattr(model, "_row_factor", None)
        baseline = getattr(model, "_baseline", None)
        if row_factor is None or baseline is None:
            raise DataContractError(
                f"{type(model).__name__} is not a proportional-hazards survival model"
            )
        return cls(
            factor=np.asarray(row_factor(customers), dtype=np.float64),
            tenure_months=customers[tenure].to_numpy(np.float64),
            baseline=baseline,
        )


@dataclass(frozen=True)
class GradePDCurves:
    """Cumulative PD of each customer: its grade's curve raised to a power,
    :math:`1 - PD_i(m) = (1 - PD_{g(i)}(m))^{k_i}` with :math:`k_i` such that
    :math:`PD_i(12) = PD_i^{1y}`.

    ``log_survival[g, m]`` is :math:`\\ln(1 - PD_g(m))` for months ``0 … H`` (0 at month 0)."""

    log_survival: Array
    grade_row: IntArray
    multiplier: Array

    @property
    def n_customers(self) -> int:
        return int(self.grade_row.shape[0])

    def block(self, rows: IntArray, horizon_months: int) -> Array:
        logs = self.log_survival[self.grade_row[rows], : horizon_months + 1]
        return np.asarray(-np.expm1(self.multiplier[rows][:, None] * logs), dtype=np.float64)

    @classmethod
    def from_grades(
        cls,
        cumulative_pd: Array,
        grade_row: npt.ArrayLike,
        pd_1y: npt.ArrayLike,
        *,
        pd_floor: float = 0.0,
    ) -> GradePDCurves:
        """From the grades' monthly cumulative PDs (grades × months 1 … H, as
        :class:`~lendvalue.models.credit.migration.PDTermStructure` gives them), each customer's
        grade row and one-year PD (floored at ``pd_floor``). A grade with no PD by month 12
        gives its customers a constant hazard."""
        cum = np.asarray(cumulative_pd, dtype=np.float64)
        if cum.ndim != 2 or cum.shape[1] < 12:
            raise DataContractError("cumulative_pd must be grades × months, at least 12 months")
        log_s = np.log1p(-np.clip(cum, 0.0, 1.0 - 1e-15))
        log_survival = np.concatenate([np.zeros((cum.shape[0], 1)), log_s], axis=1)
        rows = np.asarray(grade_row, dtype=np.int64)
        p = np.clip(np.asarray(pd_1y, dtype=np.float64), pd_floor, 1.0 - 1e-12)
        anchor = log_survival[rows, 12]
        flat = anchor > -1e-300
        multiplier = np.where(flat, 1.0, np.log1p(-p) / np.where(flat, -1.0, anchor))
        if flat.any():  # a constant hazard for grades without a shape to scale
            months = np.arange(log_survival.shape[1], dtype=np.float64)
            extra = np.log1p(-p[flat])[:, None] * months[None, :] / 12.0
            log_survival = np.concatenate([log_survival, extra], axis=0)
            rows = rows.copy()
            rows[flat] = cum.shape[0] + np.arange(int(flat.sum()))
        return cls(log_survival=log_survival, grade_row=rows, multiplier=multiplier)
