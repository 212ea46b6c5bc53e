"""五级分类: rule-based risk classification of facilities under 《商业银行金融资产风险分类办法》.

The 办法 (中国银行保险监督管理委员会 中国人民银行令〔2023〕第1号, in force 2023-07-01) sorts
financial assets into five classes — 正常 (normal), 关注 (special mention), 次级 (substandard),
可疑 (doubtful), 损失 (loss); the last three are 不良 (non-performing). Beside the judgement of
the debtor's capacity to pay, it sets objective floors ("应至少归为"), which are what data can
decide; :func:`classify` applies them:

=============================  ====================================================  ==========
rule (default id)              condition                                             at least
=============================  ====================================================  ==========
``overdue``                    principal, interest or income past due                关注
``overdue_90``                 more than 90 days past due                            次级
``overdue_270``                more than 270 days past due                           可疑
``overdue_360``                more than 360 days past due                           损失
``defaulted``                  the obligor is in default (credit-impaired)           次级
``cross_default_share``        > 20% of the debtor's debt at all banks 90+ days due  次级
``restructured_nonperformance`` in the 重组观察期, past due or restructured again     次级
``same_debtor_npl_share``      > 10% of the debtor's exposure here non-performing     次级
``cross_default``              debt at this or another bank has gone bad             关注
``restructured``               restructured, in the 重组观察期                         关注
=============================  ====================================================  ==========

The thresholds, classes and texts live in ``defaults/classification.yaml`` (validated by
pydantic; pass your own :class:`ClassificationRules` to change them). "超过90天" is read
literally: 90 days past due is not more than 90, so it is 关注, and 91 is 次级.

Semantics: every rule is a floor, and so is the facility's current classification when given —
the result is the worst of all of them,

.. math:: c = \\max\\bigl(c_{\\text{current}},\\ \\max_{r \\text{ fired}} c_r\\bigr)

on the order 正常 < 关注 < 次级 < 可疑 < 损失, so the rules only ever move a class down. An upgrade
of a non-performing asset needs conditions the data alone cannot show (the overdue amounts
repaid, normal payment for at least two consecutive periods or six months, the debtor judged
able to keep paying) and a credit officer's decision. The reported rule is the one that set the
class; among rules giving the same class, the first in the rule list; ``current_classification``
when the current class is worse than every rule; ``none`` when nothing fired (正常).

The 重组观察期 (第二十条) runs from the first repayment date after the contract change
(``observation_start``; the restructuring date when not known — the earliest it can be — and
:func:`~lendvalue.warehouse.ratings.classification_inputs` gives the day after ``as_of`` when no
installment has fallen due since, as the period has not started) for ``observation_months``
(12: "应至少包含连续两个还款期，并不得低于1年" — facilities paying less often than every six
months need a longer one, which callers give as ``observation_end``). A facility restructured
again before the previous observation period ended counts as 再次重组.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lendvalue.contract import CLASSIFICATIONS
from lendvalue.errors import DataContractError
from lendvalue.tables import load_table

__all__ = [
    "CLASS_CODES",
    "ClassificationRules",
    "RuleSpec",
    "classify",
    "load_classification_rules",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CLASS_CODES: tuple[str, ...] = tuple(c.code for c in CLASSIFICATIONS)
"""normal, special_mention, substandard, doubtful, loss — best first."""
CLASS_ZH: tuple[str, ...] = tuple(c.zh for c in CLASSIFICATIONS)
NON_PERFORMING_FROM = CLASS_CODES.index("substandard")
"""次级 and worse are 不良 (non-performing)."""

ClassCode = Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
RuleKind = Literal[
    "days_past_due_over",
    "defaulted",
    "cross_default_share_over",
    "cross_default",
    "restructured",
    "restructured_nonperformance",
    "same_debtor_npl_share_over",
]
_NEEDS_DAYS = {"days_past_due_over"}
_NEEDS_SHARE = {"cross_default_share_over", "same_debtor_npl_share_over"}
NONE_RULE = ("none", "未触发分类规则", "no rule fired")
CURRENT_RULE = (
    "current_classification",
    "维持现行分类（规则只下调，不上调）",
    "current class kept",
)
_DEFAULT_FILE = "classification.yaml"


class RuleSpec(BaseModel):
    """One rule: when it fires (``kind`` and its threshold) and the class it sets at least."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="stable rule id")
    kind: RuleKind
    at_least: ClassCode
    threshold_days: int | None = Field(default=None, ge=0)
    threshold_share: float | None = Field(default=None, ge=0.0, lt=1.0)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    source: str = Field(min_length=1, description="article of the 办法 it implements")

    @model_validator(mode="after")
    def _check_parameters(self) -> RuleSpec:
        if self.at_least == "normal":
            raise ValueError(f"rule {self.id}: at_least must be worse than normal")
        if (self.kind in _NEEDS_DAYS) != (self.threshold_days is not None):
            raise ValueError(
                f"rule {self.id}: threshold_days is required for kind days_past_due_over and "
                "only for it"
            )
        if (self.kind in _NEEDS_SHARE) != (self.threshold_share is not None):
            raise ValueError(
                f"rule {self.id}: threshold_share is required for kinds "
                f"{sorted(_NEEDS_SHARE)} and only for them"
            )
        return self


class ClassificationRules(BaseModel):
    """A rule set (``defaults/classification.yaml``); rule order breaks ties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    regulation: str = ""
    observation_months: int = Field(default=12, ge=1, description="重组观察期, months")
    rules: list[RuleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ClassificationRules:
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(dupes)}")
        reserved = {NONE_RULE[0], CURRENT_RULE[0]} & set(ids)
        if reserved:
            raise ValueError(f"rule ids {sorted(reserved)} are reserved")
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> ClassificationRules:
        """Read and validate a rules file (``ConfigError`` naming the rule and the problem)."""
        return load_table(cls, path, _DEFAULT_FILE)


def load_classification_rules(path: str | Path | None = None) -> ClassificationRules:
    """The rules in ``path``, or the packaged default (read once, on first use)."""
    return load_table(ClassificationRules, path, _DEFAULT_FILE)


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------


def _flag(frame: pd.DataFrame, name: str) -> BoolArray:
    if name not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    values = frame[name]
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string").str.strip().str.lower()
        truthy = text.isin(["true", "1", "yes", "y", "t", "是"])
        out: BoolArray = truthy.fillna(False).to_numpy(bool)
        return out
    out = values.fillna(False).astype(bool).to_numpy()
    return out


_NAT = np.iinfo(np.int64).min


def _days(frame: pd.DataFrame, name: str) -> IntArray:
    """Day numbers of a date column; missing (or absent) dates are ``_NAT``."""
    if name not in frame.columns:
        return np.full(len(frame), _NAT, dtype=np.int64)
    try:
        stamps = pd.to_datetime(frame[name], errors="raise")
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{name} must hold dates (YYYY-MM-DD): {exc}") from exc
    days = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    out: IntArray = np.where(stamps.isna().to_numpy(), _NAT, days)
    return out


def _add_months(days: IntArray, months: int) -> IntArray:
    """Calendar-month shift with the day clipped to the target month (missing stays missing)."""
    known = days != _NAT
    d = np.where(known, days, 0).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.int64(months)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    shifted = (first + np.minimum(day_of_month, length - 1)).astype(np.int64)
    out: IntArray = np.where(known, shifted, _NAT)
    return out


def _current_index(frame: pd.DataFrame) -> IntArray:
    """Class index of ``current_classification`` (codes, Chinese labels or aliases); -1 when
    missing."""
    if "current_classification" not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int64)
    lookup: dict[str, int] = {}
    for i, c in enumerate(CLASSIFICATIONS):
        for name in (c.code, c.zh, c.en, *c.aliases):
            lookup[name.strip().lower()] = i
    raw = frame["current_classification"]
    given = raw.notna().to_numpy()
    text = raw.astype("string").str.strip().str.lower()
    idx = text.map(lookup).astype("Float64").fillna(-2).to_numpy(dtype=float).astype(np.int64)
    unknown = given & (idx == -2)
    if unknown.any():
        bad = sorted(set(raw[unknown].astype(str)))[:5]
        raise DataContractError(
            f"current_classification values {bad} are not 五级分类 codes; expected one of "
            f"{', '.join(CLASS_CODES)} (or 正常/关注/次级/可疑/损失)"
        )
    out: IntArray = np.where(given, idx, -1)
    return out


def classify(
    frame: pd.DataFrame,
    rules: ClassificationRules | None = None,
    *,
    as_of: dt.date | str,
) -> pd.DataFrame:
    """The 五级分类 of each facility by the rules, with the rule that set it.

    Parameters
    ----------
    frame : one row per facility. Required: ``days_past_due`` (current, >= 0). Optional —
        a missing column means the rules that need it do not fire: ``defaulted``,
        ``restructured``, ``restructure_date``, ``observation_start``, ``observation_end``,
        ``previous_restructure_date``, ``cross_default``, ``cross_default_share`` (a missing
        value does not fire), ``current_classification``, and ``customer_id`` with
        ``exposure_yuan`` for the same-debtor rule (which moves the debtor's facilities with a
        positive exposure; without these two columns it is skipped).
        :func:`lendvalue.warehouse.ratings.classification_inputs` builds this frame.
    rules : the rule set; the packaged default when ``None``.
    as_of : the classification date (decides whether the 重组观察期 is still running).

    Returns
    -------
    DataFrame on ``frame``'s index: ``classification`` (code), ``classification_zh``,
    ``rule_id`` and ``rule_zh`` (the rule that set the class).
    """
    rules = rules if rules is not None else load_classification_rules()
    if "days_past_due" not in frame.columns:
        raise DataContractError(
            "classify needs a days_past_due column (current days past due, 0 when nothing is "
            "overdue); see lendvalue.warehouse.ratings.classification_inputs"
        )
    dpd = pd.to_numeric(frame["days_past_due"], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(dpd) | (dpd < 0)
    if bad.any():
        raise DataContractError(
            f"days_past_due has {int(bad.sum())} missing or negative values; use 0 for "
            "facilities with nothing overdue"
        )
    try:
        today = int(np.datetime64(pd.Timestamp(as_of).date(), "D").astype(np.int64))
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"as_of must be a date (YYYY-MM-DD), got {as_of!r}") from exc

    restructured = _flag(frame, "restructured")
    restructure_day = _days(frame, "restructure_date")
    start = _days(frame, "observation_start")
    start = np.where(start != _NAT, start, restructure_day)
    end = _days(frame, "observation_end")
    end = np.where(end != _NAT, end, _add_months(start, rules.observation_months))
    # unknown dates: treat the period as running (the conservative reading)
    in_observation = restructured & ((end == _NAT) | (today < end))
    previous = _days(frame, "previous_restructure_date")
    previous_end = _add_months(previous, rules.observation_months)
    again = (previous != _NAT) & (restructure_day != _NAT) & (restructure_day < previous_end)
    share = (
        pd.to_numeric(frame["cross_default_share"], errors="coerce").to_numpy(dtype=float)
        if "cross_default_share" in frame.columns
        else np.full(len(frame), np.nan)
    )
    with np.errstate(invalid="ignore"):
        fires: dict[str, BoolArray] = {
            "defaulted": _flag(frame, "defaulted"),
            "cross_default": _flag(frame, "cross_default"),
            "restructured": in_observation,
            "restructured_nonperformance": in_observation & ((dpd > 0) | again),
        }

    n = len(frame)
    best = np.zeros(n, dtype=np.int64)
    best_pos = np.full(n, len(rules.rules) + 1, dtype=np.int64)  # "none"

    def apply(mask: BoolArray, cls: int, pos: int) -> None:
        better = mask & ((cls > best) | ((cls == best) & (pos < best_pos)))
        best[better] = cls
        best_pos[better] = pos

    debtor_rules = []
    for pos, rule in enumerate(rules.rules):
        cls = CLASS_CODES.index(rule.at_least)
        if rule.kind == "days_past_due_over":
            mask = dpd > float(rule.threshold_days or 0)
        elif rule.kind == "cross_default_share_over":
            with np.errstate(invalid="ignore"):
                mask = share > float(rule.threshold_share or 0.0)
        elif rule.kind == "same_debtor_npl_share_over":
            debtor_rules.append((pos, rule, cls))
            continue
        else:
            mask = fires[rule.kind]
        apply(mask, cls, pos)
    current = _current_index(frame)
    keep_current = current > best
    best[keep_current] = current[keep_current]
    best_pos[keep_current] = len(rules.rules)

    if debtor_rules and {"customer_id", "exposure_yuan"} <= set(frame.columns):
        codes, _ = pd.factorize(frame["customer_id"])
        exposure = np.nan_to_num(
            pd.to_numeric(frame["exposure_yuan"], errors="coerce").to_numpy(dtype=float)
        )
        exposure = np.maximum(exposure, 0.0)
        known = codes >= 0
        total = np.bincount(codes[known], weights=exposure[known])
        npl = np.bincount(
            codes[known], weights=exposure[known] * (best[known] >= NON_PERFORMING_FROM)
        )
        debtor_share = np.divide(npl, total, out=np.zeros_like(total), where=total > 0)
        for pos, rule, cls in debtor_rules:
            mask = np.zeros(n, dtype=bool)
            mask[known] = debtor_share[codes[known]] > float(rule.threshold_share or 0.0)
            mask &= exposure > 0  # a facility with nothing outstanding holds no 债权
            apply(mask, cls, pos)

    ids = [r.id for r in rules.rules] + [CURRENT_RULE[0], NONE_RULE[0]]
    texts = [r.zh for r in rules.rules] + [CURRENT_RULE[1], NONE_RULE[1]]
    return pd.DataFrame(
        {
            "classification": np.asarray(CLASS_CODES, dtype=object)[best],
            "classification_zh": np.asarray(CLASS_ZH, dtype=object)[best],
            "rule_id": np.asarray(ids, dtype=object)[best_pos],
            "rule_zh": np.asarray(texts, dtype=object)[best_pos],
        },
        index=frame.index,
    )
