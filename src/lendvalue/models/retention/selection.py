"""Choosing the retention model the data at hand support, with the comparison that shows why.

- Only survivor counts per period (cohorts of customers or of facilities up for renewal):
  the cohort models, :class:`ShiftedBetaGeoModel` and :class:`BetaDiscreteWeibullModel`, fitted
  on the first ``calibration_periods`` periods and judged on how well they project the rest
  (mean absolute error of the surviving share, in percentage points, as Fader & Hardie 2007
  judge the sBG); without a holdout, by AIC. The chosen model is refitted on every period.
- Relationship records (spells ``entry, duration, event`` with covariates): the Weibull AFT and
  Cox PH models with the covariates, and the Weibull without them as the baseline a covariate
  model has to beat; fitted on the training spells and judged on a later holdout by the Brier
  score of churn within ``horizon_months`` (the churn-by-decile error, the error of the number
  of leavers and Harrell's C are shown beside it); without a holdout, by AIC (the Cox partial
  likelihood is not comparable with a full likelihood, so Cox then is not a candidate).

:func:`choose_retention_model` picks the kind from the data; both paths return a
:class:`RetentionChoice`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.models.retention.cohort import (
    BetaDiscreteWeibullModel,
    ShiftedBetaGeoModel,
    SurvivorsLike,
    _cohort_counts,
)
from lendvalue.models.retention.survival import CoxPHModel, WeibullAFTModel
from lendvalue.models.retention.validation import (
    comparison_table,
    concordance_index,
    holdout_errors,
)

SPELL_COLUMNS = ("entry", "duration", "event")
_ONE_DAY = 12 / 365.25
"""A spell followed to within a day of the horizon counts as followed to it (a year of 365 days
is 11.99 months)."""


@dataclass(frozen=True)
class RetentionChoice:
    """The chosen, fitted model, the table it was chosen from and the reason in words."""

    kind: str
    """``"cohort"`` (survivor counts) or ``"survival"`` (relationship spells)."""
    chosen: str
    model: Any
    table: pd.DataFrame
    reason: str


def choose_retention_model(
    data: Any,
    holdout: Any | None = None,
    *,
    covariates: Sequence[str] = (),
    calibration_periods: int | None = None,
    horizon_months: float = 12.0,
) -> RetentionChoice:
    """The retention model for ``data``: spells (a frame with ``entry, duration, event``) go to
    :func:`choose_survival_model` with ``holdout`` spells; anything else is read as survivor
    counts and goes to :func:`choose_cohort_model` with ``calibration_periods``."""
    if isinstance(data, pd.DataFrame) and set(SPELL_COLUMNS) <= set(data.columns):
        return choose_survival_model(data, holdout, covariates=covariates,
                                     horizon_months=horizon_months)  # fmt: skip
    if holdout is not None or covariates:
        raise DataContractError(
            "choose_retention_model: survivor counts take calibration_periods, not a holdout "
            "or covariates (those need relationship spells with entry, duration, event)"
        )
    return choose_cohort_model(data, calibration_periods=calibration_periods)


# --------------------------------------------------------------------------- cohorts


def choose_cohort_model(
    survivors: SurvivorsLike, *, calibration_periods: int | None = None
) -> RetentionChoice:
    """sBG against BdW on survivor counts (one cohort or several, as
    :func:`~lendvalue.models.retention.cohort.survivors_to_lifetimes` reads them).

    With ``calibration_periods = k`` both are fitted on periods ``0..k`` of every cohort and
    scored on the surviving share (of the cohort's size, in percentage points) they project
    for the later periods: ``holdout_mae_pp`` over every cohort-period, the lower wins.
    Without it, or when no cohort runs past period ``k``, the lower AIC wins. Columns:
    ``log_likelihood, n_params, aic, holdout_mae_pp, holdout_max_error_pp, chosen``.
    """
    cohorts = _cohort_counts(survivors, None)
    k = calibration_periods
    if k is not None and (int(k) != k or k < 1):
        raise DataContractError(f"calibration_periods must be a whole number ≥ 1, got {k}")
    calibration = {label: n[: k + 1] if k else n for label, n in cohorts}
    candidates = {"sbg": ShiftedBetaGeoModel, "bdw": BetaDiscreteWeibullModel}
    rows: dict[str, dict[str, float]] = {}
    for name, cls in candidates.items():
        model = cls().fit_survivors(calibration)
        row = {"log_likelihood": model.log_likelihood_, "n_params": len(model.param_names)}
        errors = [
            100 * (model.survival(np.arange(k + 1, n.size)) - n[k + 1 :] / n[0])
            for _, n in cohorts
            if k and n.size > k + 1
        ]
        if errors:
            flat = np.abs(np.concatenate(errors))
            row.update(holdout_mae_pp=float(flat.mean()), holdout_max_error_pp=float(flat.max()))
        rows[name] = row
    table = comparison_table(rows)
    judged_on_holdout = "holdout_mae_pp" in table.columns
    if judged_on_holdout:
        table["chosen"] = table.index == table["holdout_mae_pp"].idxmin()
    chosen = str(table.index[table["chosen"]][0])
    model = candidates[chosen]().fit_survivors(dict(cohorts))
    if judged_on_holdout and k is not None:
        reason = (
            f"{chosen} projects periods {k + 1}+ with a mean error of "
            f"{_value(table, chosen, 'holdout_mae_pp'):.2f} percentage points against "
            f"{_other(table, chosen, 'holdout_mae_pp'):.2f}; refitted on every period"
        )
    else:
        aic = _value(table, chosen, "aic")
        reason = f"{chosen} has the lower AIC ({aic:.1f}); no holdout periods"
    return RetentionChoice("cohort", chosen, model, table, reason)


# --------------------------------------------------------------------------- spells


def choose_survival_model(
    train: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    covariates: Sequence[str],
    horizon_months: float = 12.0,
) -> RetentionChoice:
    """Weibull AFT and Cox PH with ``covariates`` against the Weibull without, on spells.

    ``holdout``: the spells of customers alive at a later landmark — ``entry`` their tenure on
    it, ``duration`` and ``event`` what followed, and the covariates as known on it (e.g.
    :func:`~lendvalue.warehouse.features.relationship_spells` with ``landmark=``, one row per
    customer). Churn within ``horizon_months`` of the landmark is predicted from each model as
    :math:`1 - S(\\tau + h)/S(\\tau)` and compared with what happened; spells censored before the
    horizon without leaving (their outcome unknown) are left out of the scores. Columns:
    ``log_likelihood, n_params, aic`` (training) and, with a holdout, ``brier, decile_mae,
    leavers_error, concordance, holdout_customers``; then ``chosen``.
    """
    if not covariates:
        raise DataContractError(
            "choose_survival_model needs covariates; without them use a cohort model or "
            "WeibullAFTModel() directly"
        )
    candidates: dict[str, Any] = {
        "weibull_aft": WeibullAFTModel(covariates=covariates),
        "cox_ph": CoxPHModel(covariates=covariates),
        "weibull_no_covariates": WeibullAFTModel(),
    }
    if holdout is None:
        del candidates["cox_ph"]  # a partial likelihood has no AIC comparable with the others
    rows: dict[str, dict[str, float]] = {}
    scored = None if holdout is None else _scored_holdout(holdout, horizon_months)
    for name, model in candidates.items():
        model.fit(train)
        n_params = len(covariates) if name == "cox_ph" else len(model.all_param_names)
        row = {"log_likelihood": model.log_likelihood_, "n_params": float(n_params)}
        if scored is not None:
            frame, left = scored
            churn = 1.0 - model.probability_alive_at(
                frame.assign(duration=frame["entry"]), np.full(len(frame), horizon_months)
            )
            row.update(holdout_errors(churn, left))
            row["concordance"] = concordance_index(
                frame["duration"] - frame["entry"], frame["event"], churn
            )
            row["holdout_customers"] = float(len(frame))
        rows[name] = row
    table = comparison_table(rows)
    if "cox_ph" in table.index:  # a partial likelihood: its AIC compares with no full one
        table.loc["cox_ph", "aic"] = np.nan
    chosen = str(table.index[table["chosen"]][0])
    if scored is not None:
        reason = (
            f"{chosen} has the lowest Brier score of {horizon_months:g}-month churn on the "
            f"holdout ({_value(table, chosen, 'brier'):.4f} against "
            f"{_other(table, chosen, 'brier'):.4f} for the next best; C = "
            f"{_value(table, chosen, 'concordance'):.3f})"
        )
    else:
        reason = f"{chosen} has the lowest AIC ({_value(table, chosen, 'aic'):.1f}); no holdout"
    return RetentionChoice("survival", chosen, candidates[chosen], table, reason)


def _scored_holdout(holdout: pd.DataFrame, horizon_months: float) -> tuple[pd.DataFrame, Any]:
    """Holdout rows whose outcome at the horizon is known, and whether each left by then."""
    missing = [c for c in SPELL_COLUMNS if c not in holdout.columns]
    if missing:
        raise DataContractError(f"holdout spells lack column(s) {', '.join(missing)}")
    if not horizon_months > 0:
        raise DataContractError(f"horizon_months must be > 0, got {horizon_months}")
    followed = holdout["duration"] - holdout["entry"]
    left = (holdout["event"] == 1) & (followed <= horizon_months)
    known = left | (followed >= horizon_months - _ONE_DAY)
    if not left[known].any():
        raise DataContractError(
            f"the holdout has no customer who left within {horizon_months:g} months: nothing "
            "to score the models on"
        )
    frame = holdout[known].reset_index(drop=True)
    frame = frame.assign(duration=np.minimum(frame["duration"], frame["entry"] + horizon_months),
                         event=left[known].to_numpy(np.float64))  # fmt: skip
    return frame, left[known].to_numpy(np.float64)


def _value(table: pd.DataFrame, model: Hashable, column: str) -> float:
    return float(table[column].to_dict()[model])


def _other(table: pd.DataFrame, chosen: Hashable, column: str) -> float:
    """The best value of ``column`` among the models not chosen."""
    return float(table.drop(index=chosen)[column].min())
