"""PD scorecard: optimal WoE binning, logistic regression, points, calibration to a 1-year PD;
and a gradient-boosting challenger beside it.

The scorecard (Siddiqi 2017, *Intelligent Credit Scoring*, 2nd ed., ch. 10; Anderson 2007):

1. **Binning.** Each numeric feature is cut into bins by optbinning's optimal binning
   (Navas-Palencia 2020, "Optimal binning: mathematical programming formulation"), monotone in
   the default rate by default (``auto_asc_desc``: ascending or descending, whichever the data
   support) — a leverage ratio should not be good, bad, good again. A feature can be given
   another trend (``peak``, ``valley``, ``auto``) where the economics say so (revenue growth:
   both extremes are risky). Missing values have their own bin. Features with an information
   value below ``min_iv`` are dropped.
2. **WoE.** Each value is replaced by its bin's weight of evidence
   :math:`\\mathrm{WoE}_b = \\ln\\frac{g_b / G}{d_b / D}` (non-defaults ``g``, defaults ``d``):
   positive where defaults are rarer than average.
3. **Logistic regression** of default on the WoEs,
   :math:`\\mathrm{logit}\\,PD = \\beta_0 + \\sum_j \\beta_j \\mathrm{WoE}_j`, L2-penalised
   (``C``). Every :math:`\\beta_j` must be negative (higher WoE, lower PD); a feature whose sign
   comes out wrong — collinearity — is dropped, the worst first, and the model refitted.
4. **Points.** With ``factor = pdo / ln 2`` and ``offset = base_points − factor ln(base_odds)``,
   the score is :math:`\\mathrm{offset} + \\mathrm{factor} \\cdot \\ln(\\text{good:bad odds})
   = \\mathrm{offset} − \\mathrm{factor}(\\beta_0 + \\sum_j \\beta_j \\mathrm{WoE}_j)`, spread over
   the features: bin :math:`b` of feature :math:`j` scores
   :math:`−\\mathrm{factor}\\,\\beta_j \\mathrm{WoE}_b + (\\mathrm{offset} − \\mathrm{factor}\\,
   \\beta_0)/n`. ``base_points`` at ``base_odds`` good:bad, ``pdo`` points to double the odds
   (defaults 600, 50:1, 20). A higher score is a better customer.
5. **Calibration.** The score maps to a PD by a logistic calibration
   :math:`\\mathrm{logit}\\,PD_h = c_0 + c_1 \\, \\ell` on the model's log-odds :math:`\\ell`
   (identity after fitting: :math:`c_0 = 0, c_1 = 1`); :meth:`ScorecardModel.calibrate` refits
   it on a calibration sample and can shift it to a long-run central tendency (the average
   one-year default rate the PD must reproduce, CRE36.78-36.81). A target observed over ``h``
   years is annualised: :math:`PD_{1y} = 1 − (1 − PD_h)^{1/h}` (constant hazard).

A fitted scorecard is plain data — bins, WoEs, coefficients, points, calibration — saved to JSON
and reloaded without optbinning; scoring is NumPy (``searchsorted`` over the cut points).
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from lendvalue.errors import ConvergenceError, DataContractError, NotFittedError

Array = npt.NDArray[np.float64]
TRENDS = ("auto_asc_desc", "ascending", "descending", "peak", "valley", "auto", "convex",
          "concave")  # fmt: skip
"""Monotone trends optbinning accepts for the default rate over a feature's bins."""


# --------------------------------------------------------------------------- bins


@dataclass(frozen=True)
class FeatureBins:
    """One feature's bins: ``(-inf, s_0), [s_0, s_1), …, [s_{k-1}, inf)`` and the missing bin."""

    name: str
    splits: tuple[float, ...]
    woe: tuple[float, ...]
    woe_missing: float
    counts: tuple[int, ...]
    default_rates: tuple[float, ...]
    iv: float

    def bin_index(self, values: Array) -> npt.NDArray[np.intp]:
        """Bin of each value; ``len(splits) + 1`` for a missing value."""
        idx = np.searchsorted(np.asarray(self.splits), values, side="right")
        return np.where(np.isnan(values), len(self.splits) + 1, idx)

    def woe_of(self, values: Array) -> Array:
        table = np.append(np.asarray(self.woe, dtype=np.float64), self.woe_missing)
        return np.asarray(table[self.bin_index(values)], dtype=np.float64)

    def labels(self) -> list[str]:
        edges = [-math.inf, *self.splits, math.inf]
        return [
            f"[{_num(lo)}, {_num(hi)})" if math.isfinite(lo) else f"(-inf, {_num(hi)})"
            for lo, hi in itertools.pairwise(edges)
        ] + ["missing"]


def _num(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.6g}"


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class Calibration:
    """:math:`\\mathrm{logit}\\,PD_h = c_0 + c_1 \\ell`, then annualised from ``horizon_years``."""

    c0: float = 0.0
    c1: float = 1.0
    horizon_years: float = 1.0

    def pd_1y(self, log_odds: Array) -> Array:
        p_h = _expit(self.c0 + self.c1 * log_odds)
        if self.horizon_years == 1.0:
            return p_h
        return np.asarray(-np.expm1(np.log1p(-p_h) / self.horizon_years), dtype=np.float64)

    @classmethod
    def fitted(
        cls,
        log_odds: Array,
        y: Array,
        *,
        horizon_years: float = 1.0,
        central_tendency: float | None = None,
    ) -> Calibration:
        """Logistic regression of ``y`` on ``log_odds`` (unpenalised, two parameters); with
        ``central_tendency`` the intercept is then moved so that the mean one-year PD equals it
        (the slope, i.e. the ranking, is kept)."""

        def negloglik(c: Array) -> tuple[float, Array]:
            eta = c[0] + c[1] * log_odds
            p = _expit(eta)
            value = float(np.sum(np.logaddexp(0.0, eta) - y * eta))
            r = p - y
            return value, np.array([r.sum(), float(r @ log_odds)])

        result = optimize.minimize(negloglik, np.array([0.0, 1.0]), jac=True, method="BFGS")
        if not result.success or not np.all(np.isfinite(result.x)):
            raise ConvergenceError(f"PD calibration did not converge: {result.message}")
        c0, c1 = (float(v) for v in result.x)
        out = cls(c0, c1, horizon_years)
        return out if central_tendency is None else out.shifted_to(log_odds, central_tendency)

    def shifted_to(self, log_odds: Array, central_tendency: float) -> Calibration:
        """The intercept that makes the mean one-year PD over ``log_odds`` equal to
        ``central_tendency``."""
        if not 0.0 < central_tendency < 1.0:
            raise DataContractError(f"central_tendency must lie in (0, 1), got {central_tendency}")

        def gap(c0: float) -> float:
            pd_1y = Calibration(c0, self.c1, self.horizon_years).pd_1y(log_odds)
            return float(np.mean(pd_1y)) - central_tendency

        c0 = optimize.brentq(gap, -50.0, 50.0, xtol=1e-12)
        return Calibration(float(c0), self.c1, self.horizon_years)


def _expit(x: Array | float) -> Array:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64))))


def _logit(p: Array) -> Array:
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


# --------------------------------------------------------------------------- input


def _numeric_frame(X: Any, features: Sequence[str] | None, who: str) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise DataContractError(f"{who} expects a pandas DataFrame of features, got "
                                f"{type(X).__name__}")  # fmt: skip
    names = list(X.columns) if features is None else list(features)
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise DataContractError(f"{who}: missing feature column(s) {', '.join(missing)}")
    out = {}
    for name in names:
        try:
            values = np.asarray(X[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise DataContractError(
                f"{who}: feature {name} must be numeric (a ratio or a count); encode categories "
                "as 0/1 columns"
            ) from None
        if np.any(np.isinf(values)):
            row = int(np.argmax(np.isinf(values)))
            raise DataContractError(
                f"{who}: feature {name} is infinite at row {row} (a ratio with a zero "
                "denominator?); leave it missing instead — missing values get their own bin"
            )
        out[name] = values
    return pd.DataFrame(out, index=X.index)


def _informative(frame: pd.DataFrame, who: str) -> tuple[list[str], dict[str, str]]:
    """Features that vary, and the others with the reason they are left out."""
    dropped: dict[str, str] = {}
    for name in frame.columns:
        distinct = frame[name].nunique(dropna=True)
        if distinct < 2:
            dropped[name] = "all missing" if distinct == 0 else "a single value"
    names = [n for n in frame.columns if n not in dropped]
    if not names:
        raise DataContractError(f"{who}: every feature is missing or takes a single value")
    return names, dropped


def _target(y: Any, n: int, who: str) -> Array:
    target = np.asarray(y, dtype=np.float64).ravel()
    if target.shape != (n,):
        raise DataContractError(f"{who}: the default flag needs one value per row ({n})")
    if not np.all((target == 0) | (target == 1)):
        raise DataContractError(f"{who}: the default flag must be 0 or 1")
    if target.min() == target.max():
        raise DataContractError(f"{who}: the sample needs both defaults and non-defaults")
    return target


# --------------------------------------------------------------------------- the scorecard


class ScorecardModel:
    """WoE scorecard with points and a calibrated 1-year PD (module notes).

    ``fit(X, y)`` on a frame of numeric features and a 0/1 default flag observed over
    ``target_horizon_years``; then ``predict_score``, ``predict_pd``, ``points_table``,
    ``save``/``load``. Fitted state: ``bins_`` (by feature), ``coef_`` (by feature),
    ``intercept_``, ``dropped_`` (feature → reason), ``calibration_``.
    """

    def __init__(
        self,
        *,
        monotonic: Mapping[str, str] | None = None,
        default_trend: str = "auto_asc_desc",
        min_bin_share: float = 0.05,
        max_bins: int = 8,
        min_iv: float = 0.02,
        C: float = 1.0,
        pdo: float = 20.0,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        target_horizon_years: float = 1.0,
    ) -> None:
        self.monotonic = dict(monotonic or {})
        self.default_trend = default_trend
        self.min_bin_share = min_bin_share
        self.max_bins = max_bins
        self.min_iv = min_iv
        self.C = C
        self.pdo = pdo
        self.base_points = base_points
        self.base_odds = base_odds
        self.target_horizon_years = target_horizon_years

    def _check_hyperparameters(self) -> None:
        bad = {k: v for k, v in {**self.monotonic, "default": self.default_trend}.items()
               if v not in TRENDS}  # fmt: skip
        if bad:
            raise DataContractError(f"monotonic trends {bad} are not among {', '.join(TRENDS)}")
        rules = {
            "min_bin_share in (0, 0.5]": 0 < self.min_bin_share <= 0.5,
            "max_bins ≥ 2": self.max_bins >= 2,
            "min_iv ≥ 0": self.min_iv >= 0,
            "C > 0": self.C > 0,
            "pdo > 0": self.pdo > 0,
            "base_odds > 0": self.base_odds > 0,
            "target_horizon_years > 0": self.target_horizon_years > 0,
        }
        broken = [rule for rule, ok in rules.items() if not ok]
        if broken:
            raise DataContractError(f"ScorecardModel: {', '.join(broken)} does not hold")

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> Self:
        """Bin, select, regress, scale; calibration is the identity (the regression's PD over
        the target horizon, annualised) until :meth:`calibrate`."""
        from optbinning import BinningProcess  # heavy import, only when fitting

        self._check_hyperparameters()
        frame = _numeric_frame(X, None, "ScorecardModel.fit")
        target = _target(y, len(frame), "ScorecardModel.fit")
        names, self.dropped_ = _informative(frame, "ScorecardModel")
        process = BinningProcess(
            names,
            min_prebin_size=self.min_bin_share,
            max_n_bins=self.max_bins,
            min_bin_size=self.min_bin_share,
            binning_fit_params={
                n: {"monotonic_trend": self.monotonic.get(n, self.default_trend)} for n in names
            },
        )
        bins: dict[str, FeatureBins] = {}
        with warnings.catch_warnings():  # optbinning 1.0 builds its tables with a pandas idiom
            warnings.simplefilter("ignore", DeprecationWarning)  # that pandas 3 deprecates
            process.fit(frame[names], target.astype(int))
            fitted = {n: _feature_bins(n, process.get_binned_variable(n)) for n in names}
        for name, fb in fitted.items():
            if fb.iv < self.min_iv or len(fb.splits) == 0:
                self.dropped_[name] = f"information value {fb.iv:.4f} < {self.min_iv}"
            else:
                bins[name] = fb
        if not bins:
            raise DataContractError(
                f"ScorecardModel: no feature reaches an information value of {self.min_iv}"
            )
        woe = pd.DataFrame({n: b.woe_of(frame[n].to_numpy()) for n, b in bins.items()})
        coef, intercept = self._regress_with_signs(woe, target, bins)
        self.bins_ = {n: bins[n] for n in coef}
        self.coef_ = coef
        self.intercept_ = intercept
        self.calibration_ = Calibration(horizon_years=self.target_horizon_years)
        self.n_train_ = len(frame)
        self.default_rate_train_ = float(target.mean())
        return self

    def _regress_with_signs(
        self, woe: pd.DataFrame, y: Array, bins: Mapping[str, FeatureBins]
    ) -> tuple[dict[str, float], float]:
        from sklearn.linear_model import LogisticRegression

        kept = list(woe.columns)
        while kept:
            lr = LogisticRegression(C=self.C, max_iter=2000)
            lr.fit(woe[kept].to_numpy(), y)
            beta = lr.coef_[0]
            if np.all(beta < 0):
                return dict(zip(kept, beta.tolist(), strict=True)), float(lr.intercept_[0])
            worst = kept[int(np.argmax(beta))]
            self.dropped_[worst] = (
                f"coefficient {beta.max():+.4f} ≥ 0 on its WoE (collinear with the others)"
            )
            kept.remove(worst)
        raise DataContractError(
            f"ScorecardModel: every feature's coefficient came out with the wrong sign "
            f"({', '.join(bins)}); check the default flag (1 = default)"
        )

    def calibrate(
        self,
        X: Any,
        y: Any,
        *,
        horizon_years: float | None = None,
        central_tendency: float | None = None,
    ) -> Self:
        """Refit the score-to-PD calibration on ``(X, y)`` (a default flag observed over
        ``horizon_years``, default the training horizon), optionally moved to a long-run
        ``central_tendency`` (mean one-year PD)."""
        self._check_fitted()
        frame = _numeric_frame(X, list(self.bins_), "ScorecardModel.calibrate")
        target = _target(y, len(frame), "ScorecardModel.calibrate")
        self.calibration_ = Calibration.fitted(
            self._log_odds(frame), target,
            horizon_years=horizon_years or self.target_horizon_years,
            central_tendency=central_tendency,
        )  # fmt: skip
        return self

    # -- scoring ------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("ScorecardModel is not fitted yet; call fit(X, y) first")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def woe_transform(self, X: Any) -> pd.DataFrame:
        """Each used feature replaced by its bin's WoE."""
        self._check_fitted()
        frame = _numeric_frame(X, list(self.bins_), "ScorecardModel")
        return pd.DataFrame(
            {n: b.woe_of(frame[n].to_numpy()) for n, b in self.bins_.items()}, index=frame.index
        )

    def _log_odds(self, frame: pd.DataFrame) -> Array:
        """logit of the model's PD over the target horizon."""
        total = np.full(len(frame), self.intercept_)
        for name, beta in self.coef_.items():
            total += beta * self.bins_[name].woe_of(frame[name].to_numpy())
        return total

    def predict_score(self, X: Any) -> Array:
        """Scorecard points (higher = better): the sum of each feature's bin points."""
        self._check_fitted()
        frame = _numeric_frame(X, list(self.bins_), "ScorecardModel")
        return self.offset - self.factor * self._log_odds(frame)

    def predict_pd(self, X: Any) -> Array:
        """Calibrated one-year PD."""
        self._check_fitted()
        frame = _numeric_frame(X, list(self.bins_), "ScorecardModel")
        return self.calibration_.pd_1y(self._log_odds(frame))

    def pd_of_score(self, score: npt.ArrayLike) -> Array:
        """Calibrated one-year PD of scorecard points."""
        self._check_fitted()
        points = np.asarray(score, dtype=np.float64)
        return self.calibration_.pd_1y((self.offset - points) / self.factor)

    def points_table(self) -> pd.DataFrame:
        """Per feature and bin: ``feature, bin, count, default_rate, woe, points`` — the
        scorecard as a credit officer reads it (the missing bin's count and rate are not kept)."""
        self._check_fitted()
        rows = []
        share = (self.offset - self.factor * self.intercept_) / len(self.coef_)
        for name, beta in self.coef_.items():
            b = self.bins_[name]
            woes = [*b.woe, b.woe_missing]
            counts = [*b.counts, None]
            rates = [*b.default_rates, None]
            for label, w, c, r in zip(b.labels(), woes, counts, rates, strict=True):
                rows.append((name, label, c, r, w, -self.factor * beta * w + share))
        return pd.DataFrame(
            rows, columns=["feature", "bin", "count", "default_rate", "woe", "points"]
        )

    # -- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "model": "ScorecardModel",
            "hyperparameters": {
                "monotonic": self.monotonic, "default_trend": self.default_trend,
                "min_bin_share": self.min_bin_share, "max_bins": self.max_bins,
                "min_iv": self.min_iv, "C": self.C, "pdo": self.pdo,
                "base_points": self.base_points, "base_odds": self.base_odds,
                "target_horizon_years": self.target_horizon_years,
            },
            "bins": {n: asdict(b) for n, b in self.bins_.items()},
            "coef": self.coef_,
            "intercept": self.intercept_,
            "calibration": asdict(self.calibration_),
            "dropped": self.dropped_,
            "n_train": self.n_train_,
            "default_rate_train": self.default_rate_train_,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ScorecardModel:
        if raw.get("model") != "ScorecardModel":
            raise DataContractError(f"not a saved ScorecardModel: {raw.get('model')!r}")
        model = cls(**raw["hyperparameters"])
        model.bins_ = {
            n: FeatureBins(
                name=b["name"], splits=tuple(b["splits"]), woe=tuple(b["woe"]),
                woe_missing=b["woe_missing"], counts=tuple(b["counts"]),
                default_rates=tuple(b["default_rates"]), iv=b["iv"],
            )
            for n, b in raw["bins"].items()
        }  # fmt: skip
        model.coef_ = {k: float(v) for k, v in raw["coef"].items()}
        model.intercept_ = float(raw["intercept"])
        model.calibration_ = Calibration(**raw["calibration"])
        model.dropped_ = dict(raw["dropped"])
        model.n_train_ = int(raw["n_train"])
        model.default_rate_train_ = float(raw["default_rate_train"])
        return model

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ScorecardModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _feature_bins(name: str, binned: Any) -> FeatureBins:
    """Bins of one optbinning ``OptimalBinning`` fit, as plain data."""
    table = binned.binning_table.build()
    table = table[table.index.astype(str) != "Totals"]
    label = table["Bin"].astype(str)
    regular = table[~label.isin(["Special", "Missing"])]
    missing = table[label == "Missing"]
    return FeatureBins(
        name=name,
        splits=tuple(float(s) for s in binned.splits),
        woe=tuple(float(w) for w in regular["WoE"]),
        woe_missing=float(missing["WoE"].iloc[0]) if len(missing) else 0.0,
        counts=tuple(int(c) for c in regular["Count"]),
        default_rates=tuple(float(r) for r in regular["Event rate"]),
        iv=float(binned.binning_table.iv),
    )


# --------------------------------------------------------------------------- challenger


class ChallengerModel:
    """Gradient-boosted trees on the raw features (scikit-learn's
    ``HistGradientBoostingClassifier``, missing values handled natively), with the same
    calibration to a one-year PD as the scorecard. A challenger shows how much ranking a
    simple scorecard leaves on the table; it is not meant to price loans (no points, no
    reasons)."""

    def __init__(
        self,
        *,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 1.0,
        target_horizon_years: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.target_horizon_years = target_horizon_years
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> Self:
        from sklearn.ensemble import HistGradientBoostingClassifier

        frame = _numeric_frame(X, None, "ChallengerModel.fit")
        target = _target(y, len(frame), "ChallengerModel.fit")
        self.features_, self.dropped_ = _informative(frame, "ChallengerModel")
        frame = frame[self.features_]
        self.estimator_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, l2_regularization=self.l2_regularization,
            early_stopping=True, validation_fraction=0.15, random_state=self.random_state,
        ).fit(frame.to_numpy(), target.astype(int))  # fmt: skip
        self.calibration_ = Calibration(horizon_years=self.target_horizon_years)
        return self

    def _log_odds(self, X: Any) -> Array:
        if not hasattr(self, "estimator_"):
            raise NotFittedError("ChallengerModel is not fitted yet; call fit(X, y) first")
        frame = _numeric_frame(X, self.features_, "ChallengerModel")
        return _logit(self.estimator_.predict_proba(frame.to_numpy())[:, 1])

    def calibrate(
        self,
        X: Any,
        y: Any,
        *,
        horizon_years: float | None = None,
        central_tendency: float | None = None,
    ) -> Self:
        """As :meth:`ScorecardModel.calibrate`."""
        log_odds = self._log_odds(X)
        target = _target(y, len(log_odds), "ChallengerModel.calibrate")
        self.calibration_ = Calibration.fitted(
            log_odds, target, horizon_years=horizon_years or self.target_horizon_years,
            central_tendency=central_tendency,
        )  # fmt: skip
        return self

    def predict_pd(self, X: Any) -> Array:
        """Calibrated one-year PD."""
        return self.calibration_.pd_1y(self._log_odds(X))
