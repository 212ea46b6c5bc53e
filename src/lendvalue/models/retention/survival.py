"""Relationship survival with covariates: Weibull accelerated failure time and Cox proportional
hazards, with right-censoring and left truncation (delayed entry).

A row is one spell of one relationship: ``entry`` (months since the relationship started when
the spell enters observation — 0 for the whole history, the tenure at a landmark date for a
landmark design, or the start of a period with changed time-varying covariates), ``duration``
(months since the start when the spell leaves observation) and ``event`` (1 when the customer
left at ``duration``, 0 when still a customer or censored, e.g. by a default). A spell contributes
:math:`\\log S(\\text{duration}) - \\log S(\\text{entry})` plus, for an event, the log-hazard
(Klein & Moeschberger 2003, section 3.6; Kalbfleisch & Prentice 2002, section 6.3).

- :class:`WeibullAFTModel`: :math:`S(t \\mid z) = \\exp(-(t/\\lambda_z)^\\rho)` with
  :math:`\\lambda_z = \\lambda e^{\\gamma^\\top z}` (Kalbfleisch & Prentice 2002, 2.2.2). The
  Weibull is both AFT and PH: the hazard ratio of a covariate is :math:`e^{-\\rho\\gamma}`
  (:meth:`WeibullAFTModel.hazard_ratios`).
- :class:`CoxPHModel`: :math:`h(t \\mid z) = h_0(t) e^{\\beta^\\top z}`, Breslow's partial
  likelihood for ties and Breslow's estimator of :math:`H_0` (Cox 1972; Breslow 1974), fitted by
  Newton-Raphson with the exact information matrix.

Both give, for customers alive today at tenure :math:`\\tau`, the monthly curve
:math:`S(\\tau + m) / S(\\tau)`, :math:`m = 1..M` (:meth:`conditional_survival`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.errors import ConvergenceError, DataContractError, NotFittedError
from lendvalue.models.base import (
    Array,
    BaseModel,
    ColumnCheck,
    Params,
    nonnegative,
    positive,
)

SPELL_COLUMNS = ("entry", "duration", "event")


def _event(name: str) -> ColumnCheck:
    return ColumnCheck(name, "0 or 1", lambda v: (v == 0) | (v == 1))


# --------------------------------------------------------------------------- Weibull (pure)


def weibull_loglik_and_grad(
    scale: Array, shape: Array, entry: Array, duration: Array, event: Array
) -> tuple[Array, Array, Array]:
    """Per-spell log-likelihood of the left-truncated, right-censored Weibull and its partial
    derivatives in ``scale`` (λ) and ``shape`` (ρ).

    With :math:`u = t/\\lambda`, :math:`v = e/\\lambda`, :math:`A = u^\\rho`, :math:`B = v^\\rho`:
    :math:`\\ell = \\delta(\\log\\rho - \\log\\lambda + (\\rho-1)\\log u) - A + B`,
    :math:`\\partial_\\lambda \\ell = \\rho(A - B - \\delta)/\\lambda`,
    :math:`\\partial_\\rho \\ell = \\delta(1/\\rho + \\log u) - A\\log u + B\\log v`
    (:math:`B \\log v = 0` at :math:`e = 0`).
    """
    log_u = np.log(duration) - np.log(scale)
    a = np.exp(shape * log_u)
    entered = entry > 0
    log_v = np.log(np.where(entered, entry, 1.0)) - np.log(scale)
    b = np.where(entered, np.exp(shape * log_v), 0.0)
    b_log_v = np.where(entered, b * log_v, 0.0)
    ll = event * (np.log(shape) - np.log(scale) + (shape - 1.0) * log_u) - a + b
    d_scale = shape * (a - b - event) / scale
    d_shape = event * (1.0 / shape + log_u) - a * log_u + b_log_v
    return ll, d_scale, d_shape


def weibull_survival(t: npt.ArrayLike, scale: npt.ArrayLike, shape: npt.ArrayLike) -> Array:
    """:math:`S(t) = \\exp(-(t/\\lambda)^\\rho)`."""
    t_, scale_, shape_ = (np.asarray(v, dtype=np.float64) for v in (t, scale, shape))
    return np.asarray(np.exp(-((t_ / scale_) ** shape_)), dtype=np.float64)


# --------------------------------------------------------------------------- shared predictions


class _SurvivalPredictions(abc.ABC):
    """Curves every fitted survival model gives. Both models here are proportional in the
    cumulative hazard, :math:`H_i(t) = c_i \\, G(t)` — the Weibull with
    :math:`c_i = \\lambda_i^{-\\rho}`, :math:`G(t) = t^\\rho`; Cox with
    :math:`c_i = e^{\\beta^\\top z_i}`, :math:`G = H_0` — so a model supplies its row factor
    and its baseline, and the curves are computed here once.

    Curves for many customers are computed in blocks of rows (temporaries stay a few MB: on a
    fresh page every large temporary costs a page fault per 4 KB, which dominated the unblocked
    version), the rows taken in order of tenure, so that the baseline is evaluated once per
    distinct tenure of a block (tenures are whole days in practice) with sorted keys."""

    @abc.abstractmethod
    def _row_factor(self, frame: pd.DataFrame) -> Array:
        """:math:`c_i` for every row of ``frame`` (its covariates)."""

    @abc.abstractmethod
    def _baseline(self, t: Array) -> Array:
        """:math:`G(t)`, elementwise, months ``t`` ≥ 0."""

    def survival(self, t: npt.ArrayLike, data: Any) -> Array:
        """:math:`S_i(t)` for every row of ``data`` (covariates) and month ``t`` (rows × t)."""
        times = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if times.ndim != 1 or np.any(times < 0) or not np.all(np.isfinite(times)):
            raise DataContractError("survival: months t must be finite and ≥ 0")
        factor = self._row_factor(_frame(data))
        return np.asarray(np.exp(-factor[:, None] * self._baseline(times)[None, :]), np.float64)

    def conditional_survival(
        self, data: Any, horizon_months: int, tenure: str = "duration"
    ) -> Array:
        """For customers alive today at tenure ``data[tenure]`` (months), the probability of still
        being a customer ``m = 1..horizon_months`` months from now: :math:`S(\\tau+m)/S(\\tau)`,
        an array customers × months."""
        if horizon_months < 0:
            raise DataContractError("horizon_months must be ≥ 0")
        frame = _frame(data)
        tau = _tenure(frame, tenure, "conditional_survival")
        factor = self._row_factor(frame)
        months = np.arange(1, horizon_months + 1, dtype=np.float64)
        out = np.empty((len(frame), horizon_months))
        order = np.argsort(tau, kind="stable")
        for start in range(0, len(order), _ROWS_PER_BLOCK):
            rows = order[start : start + _ROWS_PER_BLOCK]
            t0 = tau[rows]  # sorted: each distinct tenure's curve is computed once
            new = np.diff(t0, prepend=-np.inf) > 0
            distinct, local = t0[new], np.cumsum(new) - 1
            later = self._baseline((months[:, None] + distinct[None, :]).ravel())
            gain = later.reshape(horizon_months, len(distinct)) - self._baseline(distinct)
            block = gain.T[local]
            block *= -factor[rows][:, None]
            out[rows] = np.exp(block, out=block)
        return out

    def probability_alive_at(self, data: Any, months_ahead: npt.ArrayLike, tenure: str = "duration"
                             ) -> Array:  # fmt: skip
        """P(still a customer ``months_ahead[i]`` months from now | alive now at tenure), one
        value per row — e.g. a facility's renewal probability at its maturity date."""
        frame = _frame(data)
        ahead = np.asarray(months_ahead, dtype=np.float64)
        tau = _tenure(frame, tenure, "probability_alive_at")
        if ahead.shape != tau.shape or np.any(ahead < 0) or not np.all(np.isfinite(ahead)):
            raise DataContractError("months_ahead must give one finite value ≥ 0 per row")
        gain = self._baseline(tau + ahead) - self._baseline(tau)
        return np.asarray(np.exp(-self._row_factor(frame) * gain), dtype=np.float64)


_ROWS_PER_BLOCK = 4096
"""Customers per block of :meth:`_SurvivalPredictions.conditional_survival` (× 120 months:
about 4 MB per temporary)."""


def _tenure(frame: pd.DataFrame, column: str, caller: str) -> Array:
    if column not in frame.columns:
        raise DataContractError(f"{caller}: data need the tenure column {column!r}")
    tau = np.asarray(frame[column], dtype=np.float64)
    if np.any(tau < 0) or not np.all(np.isfinite(tau)):
        raise DataContractError(f"{caller}: {column} must be finite and ≥ 0")
    return tau


def _frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    raise DataContractError(f"expected a pandas DataFrame, got {type(data).__name__}")


# --------------------------------------------------------------------------- Weibull estimator


class WeibullAFTModel(_SurvivalPredictions, BaseModel):
    """Weibull accelerated failure time model of relationship duration in months.

    Parameters ``scale`` (λ, months) and ``shape`` (ρ); covariates in the group ``scale``
    multiply λ by :math:`e^{\\gamma^\\top z}` (a positive γ lengthens relationships). Hazard
    ratios :math:`e^{-\\rho\\gamma}` by :meth:`hazard_ratios`.
    """

    param_names = ("scale", "shape")
    columns: ClassVar[tuple[ColumnCheck, ...]] = (
        nonnegative("entry"),
        positive("duration"),
        _event("event"),
    )
    covariate_links: ClassVar[Mapping[str, tuple[tuple[str, int], ...]]] = {
        "scale": (("scale", 1),)
    }
    time_unit_default = "month"

    def __init__(
        self,
        *,
        covariates: Sequence[str] | Mapping[str, Sequence[str]] = (),
        penalty: float = 0.0,
        time_unit: str | None = None,
    ) -> None:
        """``covariates``: columns of the data (numeric, e.g. 0/1 dummies) that scale λ (or the
        mapping ``{"scale": [...]}`` of the other models)."""
        groups = covariates if isinstance(covariates, Mapping) else {"scale": list(covariates)}
        super().__init__(
            penalty=penalty, covariates={k: v for k, v in groups.items() if v}, time_unit=time_unit
        )

    def _check_rows(self, d: dict[str, Array]) -> list[tuple[str, npt.NDArray[np.bool_]]]:
        return [("entry < duration", d["entry"] >= d["duration"])]

    def _initial(self, d: dict[str, Array], w: Array) -> dict[str, float]:
        events = max(float(np.sum(w * d["event"])), 1.0)
        exposure = float(np.sum(w * (d["duration"] - d["entry"])))
        return {"scale": max(exposure / events, 1e-3), "shape": 1.0}

    def _loglik(self, p: Params, d: dict[str, Array]) -> Array:
        return self._loglik_and_grad(p, d)[0]

    def _loglik_grad(self, p: Params, d: dict[str, Array]) -> dict[str, Array]:
        return self._loglik_and_grad(p, d)[1]

    def _loglik_and_grad(self, p: Params, d: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        ll, d_scale, d_shape = weibull_loglik_and_grad(
            p["scale"], p["shape"], d["entry"], d["duration"], d["event"]
        )
        return ll, {"scale": d_scale, "shape": d_shape}

    def _scales(self, frame: pd.DataFrame, phi: Array | None = None) -> Params:
        cols = self.covariates.get("scale", ())
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataContractError(f"WeibullAFTModel: data lack covariate(s) {missing}")
        z = {c: np.asarray(frame[c], dtype=np.float64) for c in cols}
        return self._params_for(z, phi)

    def _row_factor(self, frame: pd.DataFrame) -> Array:
        """:math:`\\lambda_i^{-\\rho}`."""
        self._check_fitted()
        p = self._scales(frame)
        scale = np.broadcast_to(p["scale"], (len(frame),))
        return np.asarray(np.exp(-p["shape"] * np.log(scale)), dtype=np.float64)

    def _baseline(self, t: Array) -> Array:
        """:math:`t^\\rho`."""
        self._check_fitted()
        with np.errstate(divide="ignore"):  # t = 0: log 0 = -inf, exp(-inf) = 0
            return np.asarray(np.exp(self.params_["shape"] * np.log(t)), dtype=np.float64)

    def hazard_ratios(self) -> pd.DataFrame:
        """Per covariate the proportional-hazards coefficient :math:`\\beta = -\\rho\\gamma`, its
        standard error (delta method) and the hazard ratio :math:`e^\\beta` with a 95% interval."""
        self._check_fitted()
        names = self.all_param_names
        rho = self.params_["shape"]
        rows = []
        for name in self.coef_names:
            i, k = names.index(name), names.index("shape")
            gamma = self.params_[name]
            # β = -exp(φ_shape) γ: gradient in (φ_shape, γ) is (-ρ γ, -ρ)
            grad = np.zeros(len(names))
            grad[k], grad[i] = -rho * gamma, -rho
            se = float(np.sqrt(grad @ self._cov_phi_ @ grad))
            beta = -rho * gamma
            rows.append(
                (name.split("[", 1)[1][:-1], beta, se, np.exp(beta),
                 np.exp(beta - 1.959964 * se), np.exp(beta + 1.959964 * se))
            )  # fmt: skip
        return pd.DataFrame(
            rows, columns=["covariate", "beta", "std_error", "hazard_ratio", "lower_95", "upper_95"]
        ).set_index("covariate")


# --------------------------------------------------------------------------- Cox


class CoxPHModel(_SurvivalPredictions):
    """Cox proportional hazards with Breslow ties, delayed entry and right-censoring.

    ``fit(data, weights=None)`` on spells (``entry``, ``duration``, ``event`` and the covariate
    columns); ``params_`` (β by covariate), ``covariance_``, ``standard_errors_``,
    ``log_likelihood_`` (partial), ``baseline_cumulative_hazard_`` (Breslow, a step function of
    months). Covariates should be roughly centred (dummies are fine): the baseline is that of
    :math:`z = 0`.
    """

    params_: dict[str, float]

    def __init__(self, *, covariates: Sequence[str], max_iter: int = 50, tol: float = 1e-9):
        if not covariates:
            raise DataContractError("CoxPHModel needs at least one covariate")
        self.covariates = tuple(covariates)
        self.max_iter, self.tol = max_iter, tol

    def fit(self, data: Any, weights: npt.ArrayLike | None = None) -> CoxPHModel:
        frame = _frame(data)
        entry, duration, event, z = _spells(frame, self.covariates, "CoxPHModel")
        n = len(duration)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (n,) or not np.all(np.isfinite(w) & (w >= 0)):
            raise DataContractError(f"weights must be {n} finite values ≥ 0")
        constant = [c for j, c in enumerate(self.covariates) if np.ptp(z[w > 0, j]) == 0]
        if constant:
            raise DataContractError(
                f"CoxPHModel: covariate(s) {', '.join(constant)} take a single value in these "
                "data, so their effect cannot be estimated; drop them"
            )
        times = np.unique(duration[(event == 1) & (w > 0)])
        if times.size == 0:
            raise DataContractError("CoxPHModel: the data have no events")
        # spell i is at risk at event times k with entry_i < t_k <= duration_i
        first = np.searchsorted(times, entry, side="right")
        stop = np.searchsorted(times, duration, side="right")
        at = np.searchsorted(times, duration, side="left")  # index of the spell's own time
        deaths = np.bincount(at[event == 1], weights=w[event == 1], minlength=times.size).astype(
            np.float64
        )
        beta = np.zeros(z.shape[1])
        ll, grad, info, _ = _cox_terms(beta, z, w, event, first, stop, deaths, times.size)
        for _ in range(self.max_iter):
            step = _solve(info, grad)
            trial = beta + step
            new = _cox_terms(trial, z, w, event, first, stop, deaths, times.size)
            halvings = 0
            while not np.isfinite(new[0]) or new[0] < ll - 1e-12 * abs(ll):
                step /= 2
                trial = beta + step
                new = _cox_terms(trial, z, w, event, first, stop, deaths, times.size)
                halvings += 1
                if halvings > 30:
                    raise ConvergenceError(
                        "CoxPHModel did not converge: no step improves the partial likelihood; "
                        "check for a covariate that separates leavers from stayers"
                    )
            beta, (ll_new, grad, info, _) = trial, new
            done = abs(ll_new - ll) <= self.tol * (abs(ll) + 1.0)
            ll = ll_new
            if done and np.max(np.abs(step)) < 1e-6:
                break
            running = [c for c, s in zip(self.covariates, step, strict=True) if abs(s) > 0.1]
            if done and running:  # the likelihood is flat but β still moves: off to infinity
                raise ConvergenceError(
                    f"CoxPHModel did not converge: the partial likelihood keeps rising as the "
                    f"coefficient(s) of {', '.join(running)} run off to infinity (monotone "
                    "likelihood: the covariate separates leavers from stayers, e.g. no leaver "
                    "has it); drop or regroup it"
                )
        else:
            raise ConvergenceError(f"CoxPHModel did not converge in {self.max_iter} iterations")
        _, _, info, s0 = _cox_terms(beta, z, w, event, first, stop, deaths, times.size)
        cov = np.linalg.inv(info)
        names = list(self.covariates)
        self.params_ = dict(zip(names, beta.tolist(), strict=True))
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = dict(zip(names, np.sqrt(np.diag(cov)).tolist(), strict=True))
        self.log_likelihood_ = float(ll)
        self.n_events_ = float(deaths.sum())
        self.event_times_ = times
        # Breslow: H0(t) = Σ_{t_k <= t} d_k / S0(t_k)
        self.baseline_cumulative_hazard_ = np.cumsum(deaths / s0)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("CoxPHModel is not fitted yet; call fit(data) first")

    def _row_factor(self, frame: pd.DataFrame) -> Array:
        """:math:`e^{\\beta^\\top z_i}`."""
        self._check_fitted()
        missing = [c for c in self.covariates if c not in frame.columns]
        if missing:
            raise DataContractError(f"CoxPHModel: data lack covariate(s) {missing}")
        z = frame[list(self.covariates)].to_numpy(np.float64)
        return np.asarray(np.exp(z @ np.array(list(self.params_.values()))), dtype=np.float64)

    def _baseline(self, t: Array) -> Array:
        """Breslow's H0 at months ``t`` (flat after the last event time: no extrapolation)."""
        self._check_fitted()
        idx = np.searchsorted(self.event_times_, t, side="right")
        padded = np.concatenate([[0.0], self.baseline_cumulative_hazard_])
        return np.asarray(padded[idx], dtype=np.float64)

    def predict_risk_score(self, data: Any) -> Array:
        """:math:`\\beta^\\top z` per row (higher: leaves sooner)."""
        self._check_fitted()
        return np.log(self._row_factor(_frame(data)))

    @property
    def n_params(self) -> int:
        return len(self.covariates)


def _spells(
    frame: pd.DataFrame, covariates: Sequence[str], who: str
) -> tuple[Array, Array, Array, Array]:
    missing = [c for c in (*SPELL_COLUMNS, *covariates) if c not in frame.columns]
    if missing:
        raise DataContractError(f"{who}: missing column(s) {', '.join(missing)}")
    entry, duration, event = (frame[c].to_numpy(np.float64) for c in SPELL_COLUMNS)
    z = frame[list(covariates)].to_numpy(np.float64)
    checks = [
        ("entry", "≥ 0 and finite", ~((entry >= 0) & np.isfinite(entry))),
        ("duration", "> entry and finite", ~((duration > entry) & np.isfinite(duration))),
        ("event", "0 or 1", ~((event == 0) | (event == 1))),
        ("covariates", "finite", ~np.all(np.isfinite(z), axis=1)),
    ]
    for col, rule, bad in checks:
        if bad.any():
            row = int(np.argmax(bad))
            raise DataContractError(
                f"{who}: {col} must be {rule}; {int(bad.sum())} row(s) are not, the first at "
                f"position {row}"
            )
    return entry, duration, event, z


def _cox_terms(
    beta: Array,
    z: Array,
    w: Array,
    event: Array,
    first: npt.NDArray[np.intp],
    stop: npt.NDArray[np.intp],
    deaths: Array,
    k: int,
) -> tuple[float, Array, Array, Array]:
    """Breslow partial log-likelihood, gradient, information and risk-set sums S0.

    Risk-set sums come from difference arrays over the event-time grid (a spell adds its weight
    from index ``first`` to ``stop``). The information uses
    :math:`\\sum_k d_k S_2(t_k)/S_0(t_k) = \\sum_i w_i e^{\\eta_i} c_i z_i z_i^\\top` with
    :math:`c_i = \\sum_{k \\in \\text{risk}(i)} d_k/S_0(t_k)`, so no p×p sum per event time is kept.
    """
    eta = z @ beta
    shift = float(eta.max()) if eta.size else 0.0
    r = w * np.exp(eta - shift)

    def over_risk_sets(values: Array) -> Array:
        diff = np.bincount(first, weights=values, minlength=k + 1).astype(np.float64)
        diff -= np.bincount(stop, weights=values, minlength=k + 1)
        return np.asarray(np.cumsum(diff)[:k], dtype=np.float64)

    s0 = over_risk_sets(r)
    s1 = np.stack([over_risk_sets(r * z[:, j]) for j in range(z.shape[1])], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / s0[:, None]
        ll = float(np.sum(w * event * eta) - np.sum(deaths * (np.log(s0) + shift)))
    grad = (w * event) @ z - deaths @ mean
    step = np.concatenate([[0.0], np.cumsum(np.where(deaths > 0, deaths / s0, 0.0))])
    c = step[stop] - step[first]
    info = (z * (r * c)[:, None]).T @ z - (mean * deaths[:, None]).T @ mean
    return ll, grad, info, s0 * np.exp(shift)


def _solve(info: Array, grad: Array) -> Array:
    try:
        return np.asarray(np.linalg.solve(info, grad), dtype=np.float64)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            "CoxPHModel: the information matrix is singular; drop a covariate that is constant "
            "or collinear with others"
        ) from None
