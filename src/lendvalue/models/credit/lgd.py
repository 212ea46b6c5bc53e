"""Loss given default: a supervisory table by collateral type and seniority, the foundation-IRB
collateral blend, and a fractional-logit model fitted on observed losses.

Table (``defaults/lgd.yaml``, validated by :class:`LGDTable`). Collateral codes are exactly the
data contract's (``facilities.collateral_type``): ``unsecured, guarantee, real_estate,
equipment, receivables, deposit, equity``; seniority is ``senior`` or ``subordinated``. Each
collateral type has a secured LGD :math:`LGD_S` (or none: not eligible collateral) and a
haircut :math:`H_C`; each seniority has an unsecured LGD :math:`LGD_U`. The foundation-IRB
LGD of a partly secured exposure (BCBS CRE32.9–32.12, with no exposure or currency haircut):

.. math::

    E_S = \\min\\big(C (1 - H_C),\\; E\\big), \\qquad
    LGD^{*} = LGD_U \\,\\frac{E - E_S}{E} + LGD_S \\,\\frac{E_S}{E}

— the coverage blend :math:`LGD_S \\min(C'/E, 1) + LGD_U (1 - \\min(C'/E, 1))` on the
haircut collateral value :math:`C' = C(1 - H_C)` (:func:`collateralised_lgd`).
:func:`lgd_from_table` gives the LGD of a fully secured exposure (:math:`LGD_S`, or
:math:`LGD_U` where the collateral is not eligible).

Model (:class:`LGDModel`): the fractional logit of Papke & Wooldridge (1996, "Econometric
methods for fractional response variables with an application to 401(k) plan participation
rates", *Journal of Applied Econometrics* 11(6), 619-632; PW96 below). With
:math:`E[y \\mid x] = \\Lambda(x^\\top\\beta)`, :math:`\\Lambda` the logistic function and
:math:`y \\in [0, 1]`, :math:`\\beta` maximises the Bernoulli quasi-log-likelihood (PW96
section 3)

.. math::

    \\ell(\\beta) = \\sum_i w_i \\big[y_i \\log \\Lambda(x_i^\\top\\beta)
                   + (1 - y_i) \\log(1 - \\Lambda(x_i^\\top\\beta))\\big], \\qquad
    \\nabla \\ell = \\sum_i w_i (y_i - \\Lambda_i) x_i,

consistent whenever the mean is right, whatever the distribution of y (bimodal LGDs with
mass at 0 and 1 included). Standard errors are the robust sandwich PW96 recommend, since
the Bernoulli variance is not the true one:

.. math::

    \\widehat{V} = A^{-1} B A^{-1}, \\quad
    A = \\sum_i w_i \\Lambda_i (1 - \\Lambda_i) x_i x_i^\\top, \\quad
    B = \\sum_i w_i^2 (y_i - \\Lambda_i)^2 x_i x_i^\\top.

With an intercept the score's first component makes the weighted mean fitted LGD equal the
weighted mean observed LGD on the training data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import optimize
from scipy.special import expit, ndtr

from lendvalue.contract import COLLATERAL_TYPES
from lendvalue.errors import ConvergenceError, DataContractError, NotFittedError
from lendvalue.tables import (
    FloatOrArray,
    TableSource,
    as_float_array,
    check_range,
    exact_keys,
    load_table,
    lookup_codes,
    scalar_or_array,
)

__all__ = [
    "COLLATERAL_TYPE_CODES",
    "SENIORITIES",
    "CollateralTerms",
    "LGDModel",
    "LGDTable",
    "UnsecuredLGD",
    "collateralised_lgd",
    "fractional_logit_quasi_loglik",
    "fractional_logit_robust_covariance",
    "fractional_logit_score",
    "lgd_from_table",
    "load_lgd_table",
]

Array = npt.NDArray[np.float64]

COLLATERAL_TYPE_CODES: tuple[str, ...] = tuple(c.code for c in COLLATERAL_TYPES)
"""The data contract's collateral codes (担保方式), in contract order."""
SENIORITIES: tuple[str, ...] = ("senior", "subordinated")

# --------------------------------------------------------------------------- table


class UnsecuredLGD(BaseModel):
    """LGD of the unsecured part of a claim by seniority (:math:`LGD_U`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    senior: float = Field(ge=0.0, le=1.0)
    subordinated: float = Field(ge=0.0, le=1.0)
    source: str = Field(min_length=1)


class CollateralTerms(BaseModel):
    """One collateral type: secured LGD :math:`LGD_S` and haircut :math:`H_C` (both null when
    the collateral is not eligible and the unsecured LGD applies)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secured_lgd: float | None = Field(ge=0.0, le=1.0)
    haircut: float | None = Field(ge=0.0, le=1.0)
    label_zh: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.secured_lgd is None) != (self.haircut is None):
            raise ValueError(
                "secured_lgd and haircut must both be set (eligible collateral) or both be "
                f"null (not eligible); got secured_lgd={self.secured_lgd}, "
                f"haircut={self.haircut}"
            )
        return self

    @property
    def eligible(self) -> bool:
        return self.secured_lgd is not None


class LGDTable(BaseModel):
    """Supervisory LGD table by collateral type and seniority (``defaults/lgd.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    unsecured_lgd: UnsecuredLGD
    collateral: dict[str, CollateralTerms]

    @field_validator("collateral")
    @classmethod
    def _contract_codes(cls, value: dict[str, CollateralTerms]) -> dict[str, CollateralTerms]:
        exact_keys(value, COLLATERAL_TYPE_CODES, "data contract's collateral codes")
        return value

    def unsecured(self, seniority: str) -> float:
        return float(getattr(self.unsecured_lgd, seniority))


def load_lgd_table(source: TableSource = None) -> LGDTable:
    """The LGD table: packaged default (``source=None``), a YAML path or a mapping, validated
    by :class:`LGDTable`; problems raise :class:`~lendvalue.errors.ConfigError` naming the
    field."""
    return load_table(LGDTable, source, "lgd.yaml")


def _codes(value: str | npt.ArrayLike) -> npt.NDArray[Any]:
    return np.asarray(value, dtype=object)


def _table_lookups(
    table: LGDTable, collateral_type: str | npt.ArrayLike, seniority: str | npt.ArrayLike
) -> tuple[Array, Array, Array, npt.NDArray[np.bool_]]:
    """(LGD_U, LGD_S, H_C, eligible) per row, broadcast over codes and seniorities."""
    coll, sen = np.broadcast_arrays(_codes(collateral_type), _codes(seniority))
    unsecured = lookup_codes("seniority", sen, {s: table.unsecured(s) for s in SENIORITIES})
    eligible_map = {k: float(v.eligible) for k, v in table.collateral.items()}
    eligible = lookup_codes("collateral_type", coll, eligible_map).astype(bool)
    secured = lookup_codes(
        "collateral_type",
        coll,
        {
            k: (v.secured_lgd if v.secured_lgd is not None else np.nan)
            for k, v in table.collateral.items()
        },
    )
    haircut = lookup_codes(
        "collateral_type",
        coll,
        {k: (v.haircut if v.haircut is not None else 1.0) for k, v in table.collateral.items()},
    )
    return unsecured, secured, haircut, eligible


def lgd_from_table(
    collateral_type: str | npt.ArrayLike,
    seniority: str | npt.ArrayLike = "senior",
    table: TableSource = None,
) -> FloatOrArray:
    """Supervisory LGD of a fully secured exposure by collateral type and seniority.

    .. math::

        LGD = \\begin{cases} LGD_S(\\text{collateral}) & \\text{eligible collateral} \\\\
              LGD_U(\\text{seniority}) & \\text{otherwise} \\end{cases}

    Source: BCBS CRE32.6–32.7 (unsecured senior / subordinated) and CRE32.9–32.12 (secured
    LGDs); the default table documents each value and the Chinese 2023 counterpart. The
    secured LGD does not depend on seniority (the seniority only sets the LGD of the part
    the collateral does not cover). For partial cover use :func:`collateralised_lgd`.

    Parameters
    ----------
    collateral_type : str or array_like of str
        Contract codes: ``unsecured, guarantee, real_estate, equipment, receivables, deposit,
        equity``.
    seniority : str or array_like of str
        ``senior`` (default) or ``subordinated``; broadcasts against ``collateral_type``.
    table : optional
        ``None`` for the packaged default, a YAML path, a mapping or an :class:`LGDTable`.

    Returns
    -------
    float or ndarray
        LGD as a decimal.
    """
    lgd_table = load_lgd_table(table)
    unsecured, secured, _, eligible = _table_lookups(lgd_table, collateral_type, seniority)
    out = np.where(eligible, secured, unsecured)
    return scalar_or_array(out, collateral_type, seniority)


def collateralised_lgd(
    collateral_value_yuan: npt.ArrayLike,
    ead_yuan: npt.ArrayLike,
    collateral_type: str | npt.ArrayLike,
    seniority: str | npt.ArrayLike = "senior",
    table: TableSource = None,
) -> FloatOrArray:
    """Foundation-IRB LGD of a partly secured exposure (the collateral-coverage blend).

    .. math::

        c = \\min\\!\\left(\\frac{C\\,(1 - H_C)}{E},\\, 1\\right), \\qquad
        LGD^{*} = LGD_S\\, c + LGD_U\\, (1 - c)

    Source: BCBS CRE32.9–32.12 (:math:`LGD^* = LGD_U E_U/E + LGD_S E_S/E`, here with exposure
    haircut :math:`H_E = 0` and currency haircut :math:`H_{FX} = 0`: loans in the collateral's
    currency). Collateral that is not eligible (``secured_lgd: null``) leaves
    :math:`LGD^* = LGD_U`. Where ``ead_yuan`` is 0 the unsecured LGD is returned (any value
    multiplies a zero exposure).

    Parameters
    ----------
    collateral_value_yuan : array_like
        Current market value of the collateral, ≥ 0, in the currency of ``ead_yuan``.
    ead_yuan : array_like
        Exposure at default, ≥ 0.
    collateral_type, seniority, table
        As in :func:`lgd_from_table`.
    """
    lgd_table = load_lgd_table(table)
    value = as_float_array("collateral_value_yuan", collateral_value_yuan)
    check_range("collateral_value_yuan", value, 0.0, np.inf)
    ead = as_float_array("ead_yuan", ead_yuan)
    check_range("ead_yuan", ead, 0.0, np.inf)
    unsecured, secured, haircut, eligible = _table_lookups(lgd_table, collateral_type, seniority)
    value, ead, unsecured, secured, haircut, eligible = np.broadcast_arrays(
        value, ead, unsecured, secured, haircut, eligible
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(ead > 0, np.minimum(value * (1.0 - haircut) / ead, 1.0), 0.0)
    cover = np.where(eligible, cover, 0.0)
    out = np.where(eligible, secured * cover, 0.0) + unsecured * (1.0 - cover)
    return scalar_or_array(out, collateral_value_yuan, ead_yuan, collateral_type, seniority)


# --------------------------------------------------------------------------- fractional logit


def _weights(sample_weight: npt.ArrayLike | None, n: int) -> Array:
    if sample_weight is None:
        return np.ones(n)
    return np.asarray(sample_weight, dtype=np.float64)


def fractional_logit_quasi_loglik(
    beta: npt.ArrayLike,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Bernoulli quasi-log-likelihood of the fractional logit (PW96, section 3).

    .. math::

        \\ell(\\beta) = \\sum_i w_i\\,[\\,y_i \\log\\Lambda(\\eta_i)
            + (1-y_i)\\log(1-\\Lambda(\\eta_i))\\,], \\qquad \\eta = X\\beta

    evaluated as :math:`-\\sum_i w_i [y_i \\log(1+e^{-\\eta_i}) + (1-y_i)\\log(1+e^{\\eta_i})]`
    with ``logaddexp`` (finite for any :math:`\\eta`). ``X`` includes the intercept column.
    """
    design = np.asarray(X, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    eta = design @ np.asarray(beta, dtype=np.float64)
    w = _weights(sample_weight, len(target))
    terms = target * np.logaddexp(0.0, -eta) + (1.0 - target) * np.logaddexp(0.0, eta)
    return float(-(w * terms).sum())


def fractional_logit_score(
    beta: npt.ArrayLike,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
) -> Array:
    """Gradient of :func:`fractional_logit_quasi_loglik` (PW96, section 3):

    .. math:: \\nabla_\\beta\\,\\ell = X^\\top [\\,w \\odot (y - \\Lambda(X\\beta))\\,]
    """
    design = np.asarray(X, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    w = _weights(sample_weight, len(target))
    resid = target - expit(design @ np.asarray(beta, dtype=np.float64))
    out: Array = design.T @ (w * resid)
    return out


def _information(beta: Array, design: Array, w: Array) -> Array:
    """:math:`A = X^\\top \\mathrm{diag}(w\\,\\Lambda(1-\\Lambda)) X` (minus the Hessian)."""
    p = expit(design @ beta)
    out: Array = (design * (w * p * (1.0 - p))[:, None]).T @ design
    return out


def fractional_logit_robust_covariance(
    beta: npt.ArrayLike,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
) -> Array:
    """Robust (sandwich) covariance of the quasi-ML estimate (PW96, section 3):

    .. math::

        \\widehat V = A^{-1} B A^{-1},\\quad
        A = \\sum_i w_i \\Lambda_i(1-\\Lambda_i)\\,x_i x_i^\\top,\\quad
        B = \\sum_i w_i^2 (y_i-\\Lambda_i)^2\\,x_i x_i^\\top

    The weights are *sampling* weights (a loan standing for :math:`w_i` similar loans of the
    population). Frequency weights — a row standing for :math:`w_i` identical loans — would
    need :math:`w_i` instead of :math:`w_i^2` in :math:`B`; expand such rows instead.
    """
    b = np.asarray(beta, dtype=np.float64)
    design = np.asarray(X, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    w = _weights(sample_weight, len(target))
    a_inv = np.linalg.inv(_information(b, design, w))
    psi = design * (w * (target - expit(design @ b)))[:, None]
    out: Array = a_inv @ (psi.T @ psi) @ a_inv
    return out


class LGDModel:
    """Fractional-logit LGD model (Papke & Wooldridge 1996), scikit-learn style.

    ``fit(X, y)`` on feature rows ``X`` (a DataFrame or 2-D array of numeric covariates, e.g.
    loan-to-value and purpose dummies) and realised LGDs ``y`` in [0, 1]; ``predict(X)``
    returns :math:`\\Lambda(\\hat\\beta_0 + x^\\top \\hat\\beta)` in [0, 1].

    Parameters
    ----------
    fit_intercept : bool
        Add an intercept (default). With it, the mean fitted LGD equals the mean observed one
        on the training data.
    tol : float
        Convergence tolerance on the gradient of the mean quasi-log-likelihood.
    max_iter : int
        Iteration limit of the trust-region Newton optimiser.

    Attributes
    ----------
    intercept_ : float
    coef_ : ndarray of shape (n_features,)
    params_ : dict
        ``{"intercept": ..., feature: ...}``.
    covariance_ : DataFrame
        Robust sandwich covariance of the parameters (PW96).
    standard_errors_ : dict
    feature_names_in_ : tuple of str
    n_features_in_, n_obs_ : int
    quasi_log_likelihood_ : float
    data_fingerprint_ : str
        SHA-256 of the training arrays (the data are never stored).
    """

    _constraints: ClassVar[dict[str, str]] = {
        "fit_intercept": "a bool",
        "tol": "a float in (0, 1e-2]",
        "max_iter": "an int ≥ 1",
    }

    intercept_: float
    coef_: Array
    params_: dict[str, float]
    covariance_: pd.DataFrame
    standard_errors_: dict[str, float]
    feature_names_in_: tuple[str, ...]
    n_features_in_: int
    n_obs_: int
    quasi_log_likelihood_: float
    n_iter_: int
    converged_: bool
    data_fingerprint_: str
    fitted_at_: str

    def __init__(self, *, fit_intercept: bool = True, tol: float = 1e-10, max_iter: int = 100):
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    # -- checks -------------------------------------------------------------------------------

    def _check_hyperparameters(self) -> None:
        ok = {
            "fit_intercept": isinstance(self.fit_intercept, bool),
            "tol": isinstance(self.tol, float | int) and 0 < self.tol <= 1e-2,
            "max_iter": isinstance(self.max_iter, int) and self.max_iter >= 1,
        }
        bad = [k for k, v in ok.items() if not v]
        if bad:
            raise DataContractError(
                "LGDModel: "
                + "; ".join(
                    f"{k} must be {self._constraints[k]}, got {getattr(self, k)!r}" for k in bad
                )
            )

    def _features(self, X: Any, *, fitting: bool) -> tuple[Array, tuple[str, ...]]:
        if isinstance(X, pd.DataFrame):
            names = tuple(str(c) for c in X.columns)
            if not fitting:
                missing = [n for n in self.feature_names_in_ if n not in names]
                if missing:
                    raise DataContractError(
                        f"LGDModel.predict: missing column(s) {missing}; the model was fitted "
                        f"on {list(self.feature_names_in_)}"
                    )
                X = X[list(self.feature_names_in_)]
                names = self.feature_names_in_
            try:
                arr = X.to_numpy(dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataContractError(
                    f"LGDModel: every feature column must be numeric; got dtypes "
                    f"{dict(X.dtypes.astype(str))}. Encode categories as 0/1 columns first."
                ) from exc
        else:
            try:
                arr = np.asarray(X, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataContractError(
                    "LGDModel: X must be a DataFrame or a 2-D numeric array"
                ) from exc
            if arr.ndim == 1:
                arr = arr[:, None]
            names = (
                tuple(f"x{i}" for i in range(arr.shape[1])) if fitting else self.feature_names_in_
            )
        if arr.ndim != 2:
            raise DataContractError(f"LGDModel: X must be 2-D, got shape {arr.shape}")
        if not fitting and arr.shape[1] != self.n_features_in_:
            raise DataContractError(
                f"LGDModel.predict: X has {arr.shape[1]} feature(s), the model was fitted on "
                f"{self.n_features_in_} ({list(self.feature_names_in_)})"
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            rows, cols = np.nonzero(bad)
            raise DataContractError(
                f"LGDModel: X has {int(bad.sum())} missing or infinite value(s), first in "
                f"column {names[cols[0]]!r} at row {int(rows[0])}; impute or drop them first"
            )
        return arr, names

    def _design(self, arr: Array) -> Array:
        if self.fit_intercept:
            return np.column_stack([np.ones(len(arr)), arr])
        return arr

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("LGDModel is not fitted yet; call fit(X, y) first")

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, X: Any, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> Self:
        """Maximise the Bernoulli quasi-log-likelihood by trust-region Newton (SciPy
        ``trust-exact``) with the analytic gradient and Hessian; robust standard errors.

        Raises
        ------
        DataContractError
            ``y`` outside [0, 1], NaN, all 0 or all 1; non-finite or collinear features; bad
            weights.
        ConvergenceError
            When the optimiser stops before the gradient tolerance.
        """
        self._check_hyperparameters()
        arr, names = self._features(X, fitting=True)
        target = np.asarray(y, dtype=np.float64).ravel()
        if len(target) != len(arr):
            raise DataContractError(f"LGDModel.fit: X has {len(arr)} rows but y has {len(target)}")
        check_range("y", target, 0.0, 1.0, hint="LGD must be a decimal loss rate in [0, 1].")
        w = _weights(sample_weight, len(target)).ravel()
        if len(w) != len(target) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise DataContractError(
                "LGDModel.fit: sample_weight must be finite, ≥ 0, one per row and not all 0"
            )
        ybar = float(np.average(target, weights=w))
        if ybar <= 0.0 or ybar >= 1.0:
            raise DataContractError(
                f"LGDModel.fit: y is {ybar:g} on every (weighted) row; a fractional logit "
                "needs some losses and some recoveries"
            )
        design = self._design(arr)
        rank = np.linalg.matrix_rank(design)
        if rank < design.shape[1]:
            raise DataContractError(
                f"LGDModel.fit: the features {list(names)} (with the intercept) are collinear "
                f"(rank {rank} < {design.shape[1]}); drop a redundant column"
            )
        total = float(w.sum())

        def objective(beta: Array) -> float:
            return -fractional_logit_quasi_loglik(beta, design, target, w) / total

        def gradient(beta: Array) -> Array:
            return -fractional_logit_score(beta, design, target, w) / total

        def hessian(beta: Array) -> Array:
            return _information(beta, design, w) / total

        start = np.zeros(design.shape[1])
        if self.fit_intercept:
            start[0] = np.log(ybar / (1.0 - ybar))
        result = optimize.minimize(
            objective,
            start,
            jac=gradient,
            hess=hessian,
            method="trust-exact",
            options={"gtol": float(self.tol), "maxiter": int(self.max_iter)},
        )
        grad_norm = float(np.max(np.abs(gradient(result.x))))
        if not np.isfinite(grad_norm) or grad_norm > 10 * self.tol:
            raise ConvergenceError(
                f"LGDModel.fit did not converge in {result.nit} iterations (largest gradient "
                f"component {grad_norm:.2e} > tol {self.tol:g}; {result.message}). Rescale the "
                "features (e.g. amounts in millions) or raise max_iter."
            )
        beta = np.asarray(result.x, dtype=np.float64)
        cov = fractional_logit_robust_covariance(beta, design, target, w)
        param_names = (["intercept"] if self.fit_intercept else []) + list(names)
        self._set_fitted(beta, cov, param_names, names)
        self.n_obs_ = len(target)
        self.n_iter_ = int(result.nit)
        self.converged_ = True
        self.quasi_log_likelihood_ = fractional_logit_quasi_loglik(beta, design, target, w)
        digest = hashlib.sha256()
        for part in (arr, target, w):
            digest.update(np.ascontiguousarray(part).tobytes())
        self.data_fingerprint_ = digest.hexdigest()
        self.fitted_at_ = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return self

    def _set_fitted(
        self,
        beta: Array,
        cov: Array,
        param_names: Sequence[str],
        feature_names: Sequence[str],
    ) -> None:
        self.feature_names_in_ = tuple(feature_names)
        self.n_features_in_ = len(feature_names)
        self.intercept_ = float(beta[0]) if self.fit_intercept else 0.0
        self.coef_ = np.asarray(beta[1:] if self.fit_intercept else beta, dtype=np.float64)
        self.params_ = {n: float(b) for n, b in zip(param_names, beta, strict=True)}
        self.covariance_ = pd.DataFrame(cov, index=list(param_names), columns=list(param_names))
        self.standard_errors_ = {
            n: float(np.sqrt(v)) for n, v in zip(param_names, np.diag(cov), strict=True)
        }

    # -- use -----------------------------------------------------------------------------------

    def predict(self, X: Any) -> Array:
        """Expected LGD :math:`\\Lambda(\\hat\\beta_0 + x^\\top\\hat\\beta)`, in [0, 1]."""
        self._check_fitted()
        arr, _ = self._features(X, fitting=False)
        out: Array = expit(self.intercept_ + arr @ self.coef_)
        return out

    def summary(self) -> pd.DataFrame:
        """Estimates, robust standard errors, z statistics and two-sided p-values."""
        self._check_fitted()
        est = pd.Series(self.params_)
        se = pd.Series(self.standard_errors_)
        z = est / se
        return pd.DataFrame(
            {"estimate": est, "std_error": se, "z": z, "p_value": 2.0 * ndtr(-np.abs(z))}
        )

    # -- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Parameters, robust covariance and metadata, JSON-ready; never the training data."""
        self._check_fitted()
        return {
            "model": type(self).__name__,
            "format_version": 1,
            "hyperparameters": {
                "fit_intercept": self.fit_intercept,
                "tol": self.tol,
                "max_iter": self.max_iter,
            },
            "feature_names": list(self.feature_names_in_),
            "params": dict(self.params_),
            "covariance": self.covariance_.to_numpy().tolist(),
            "n_obs": self.n_obs_,
            "quasi_log_likelihood": self.quasi_log_likelihood_,
            "data_fingerprint": self.data_fingerprint_,
            "fitted_at": self.fitted_at_,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        if raw.get("model") != cls.__name__ or raw.get("format_version") != 1:
            raise DataContractError(
                f"expected a {cls.__name__} dictionary (format_version 1), got model="
                f"{raw.get('model')!r}, format_version={raw.get('format_version')!r}"
            )
        try:
            model = cls(**raw["hyperparameters"])
            features = [str(f) for f in raw["feature_names"]]
            param_names = list(raw["params"])
            beta = np.array([raw["params"][n] for n in param_names], dtype=np.float64)
            cov = np.asarray(raw["covariance"], dtype=np.float64)
            expected = (["intercept"] if model.fit_intercept else []) + features
            if param_names != expected or cov.shape != (len(beta), len(beta)):
                raise ValueError(f"parameters {param_names} do not match features {expected}")
            model._set_fitted(beta, cov, param_names, features)
            model.n_obs_ = int(raw["n_obs"])
            model.quasi_log_likelihood_ = float(raw["quasi_log_likelihood"])
            model.data_fingerprint_ = str(raw["data_fingerprint"])
            model.fitted_at_ = str(raw["fitted_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataContractError(f"malformed {cls.__name__} dictionary: {exc}") from exc
        model.n_iter_ = 0
        model.converged_ = True
        return model
