"""Value tiers, risk tiers and the 3 × 3 value–risk matrix (价值—风险矩阵).

Every customer gets a **value tier** from its CLV and a **risk tier** from its grade, PD and
五级分类; the pair is one of nine cells (``high_value_low_risk`` … ``low_value_high_risk``), the
unit the strategy stage attaches actions to. The rules live in ``defaults/tiers.yaml``
(:class:`TierRules`, validated by pydantic; a bank passes its own file or mapping).

Value tiers — 战略 (``high``), 核心 (``mid``), 普通 (``low``):

- ``method: quantile`` (default): with :math:`n` customers and
  :math:`m_i = \\#\\{j : CLV_j \\ge CLV_i\\}` the customers worth at least customer :math:`i`,

  .. math:: \\text{tier}_i = \\begin{cases}
            \\text{high} & m_i / n \\le s_h \\\\
            \\text{mid}  & s_h < m_i / n \\le s_h + s_m \\\\
            \\text{low}  & \\text{otherwise}
            \\end{cases}

  with :math:`s_h = 0.10`, :math:`s_m = 0.30` by default. Equal CLVs share a tier, a tie across
  a cut goes to the lower tier (a tier never holds more than its share) and the result does not
  depend on row order. 100 customers worth 1 … 100 yuan: 91–100 high, 61–90 mid, 1–60 low.
- ``method: absolute``: high when :math:`CLV \\ge` ``high_min_yuan``, mid when
  :math:`CLV \\ge` ``mid_min_yuan``.
- A negative CLV is always ``low``: the relationship destroys value at its current terms.

Risk tiers — 低风险, 中风险, 高风险 — are the worst of the rules that apply,

.. math:: r_i = \\max\\bigl(r^{\\text{defaulted}}_i, r^{\\text{class}}_i, r^{\\text{grade}}_i,
          r^{\\text{PD}}_i, r^{\\text{unrated}}_i\\bigr) \\quad (\\text{low} < \\text{medium}
          < \\text{high}),

over: the grade lists; the PD thresholds (0.35% and 3.5%, the A|BBB and BB|B band edges of the
default master scale); the 五级分类 floor (关注 at least medium, 次级 and worse high); a
defaulted customer (grade D or PD = 1) is high with reason ``defaulted`` — it belongs to workout,
not to segmentation; with neither grade nor PD, ``unrated`` (medium). A missing grade or PD
simply does not apply. ``risk_reason`` names the rule that set the tier; among rules giving the
same tier, the first of :data:`RISK_REASONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lendvalue.contract import CLASSIFICATIONS, Code
from lendvalue.errors import DataContractError
from lendvalue.tables import TableSource, as_float_array, check_range, load_table

__all__ = [
    "CLASSIFICATION_FLOORS_ORDER",
    "RISK_REASONS",
    "RISK_TIERS",
    "SEGMENTS",
    "SEGMENT_CODES",
    "VALUE_TIERS",
    "ClassificationFloors",
    "GradeTiers",
    "RiskTierRules",
    "Segment",
    "TierRules",
    "ValueTierRules",
    "load_tier_rules",
    "matrix_summary",
    "risk_tier",
    "segment",
    "segment_labels",
    "segment_table",
    "value_tier",
]

StrArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]

VALUE_TIERS: tuple[Code, ...] = (
    Code("high", "战略", "strategic"),
    Code("mid", "核心", "core"),
    Code("low", "普通", "ordinary"),
)
"""Value tiers, most valuable first (the matrix's rows)."""

RISK_TIERS: tuple[Code, ...] = (
    Code("low", "低风险", "low risk"),
    Code("medium", "中风险", "medium risk"),
    Code("high", "高风险", "high risk"),
)
"""Risk tiers, safest first (the matrix's columns)."""

RISK_REASONS: tuple[Code, ...] = (
    Code("defaulted", "已违约，转不良处置", "in default: workout, not segmentation"),
    Code("classification", "五级分类", "loan classification (五级分类)"),
    Code("grade", "内部评级", "internal grade"),
    Code("pd", "违约概率", "one-year PD"),
    Code("unrated", "无评级和违约概率", "no grade and no PD"),
)
"""The rules a risk tier can come from, in the order that breaks ties."""

CLASSIFICATION_FLOORS_ORDER: tuple[str, ...] = tuple(c.code for c in CLASSIFICATIONS)
"""normal, special_mention, substandard, doubtful, loss — best first."""

_VALUE_CODES = tuple(t.code for t in VALUE_TIERS)
_RISK_CODES = tuple(t.code for t in RISK_TIERS)
_REASON_CODES = tuple(r.code for r in RISK_REASONS)
_DEFAULT_FILE = "tiers.yaml"
_PACKAGE = "lendvalue.segmentation"
_SHARE_TOLERANCE = 1e-9
"""Slack on the share comparisons so that 0.1 + 0.2 still admits exactly 30% of the book."""

ValueTierCode = Literal["high", "mid", "low"]
RiskTierCode = Literal["low", "medium", "high"]


# ---------------------------------------------------------------------------------------------
# The nine cells
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One cell of the value–risk matrix."""

    code: str
    value_tier: str
    risk_tier: str
    zh: str
    en: str


SEGMENTS: tuple[Segment, ...] = tuple(
    Segment(
        code=f"{v.code}_value_{r.code}_risk",
        value_tier=v.code,
        risk_tier=r.code,
        zh=f"{v.zh}客户·{r.zh}",
        en=f"{v.en}, {r.en}",
    )
    for v in VALUE_TIERS
    for r in RISK_TIERS
)
"""The nine cells row by row: value high → low, and within a row risk low → high
(``high_value_low_risk`` 战略客户·低风险 first, ``low_value_high_risk`` 普通客户·高风险 last)."""

SEGMENT_CODES: tuple[str, ...] = tuple(s.code for s in SEGMENTS)


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


class ValueTierRules(BaseModel):
    """How CLV sets the value tier (``value:`` in ``tiers.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["quantile", "absolute"] = "quantile"
    high_share: float = Field(default=0.10, gt=0.0, lt=1.0, description="share of the book 战略")
    mid_share: float = Field(default=0.30, ge=0.0, lt=1.0, description="share of the book 核心")
    high_min_yuan: float = Field(default=5_000_000.0, gt=0.0, description="absolute: 战略 from")
    mid_min_yuan: float = Field(default=500_000.0, ge=0.0, description="absolute: 核心 from")

    @model_validator(mode="after")
    def _check(self) -> ValueTierRules:
        if self.high_share + self.mid_share > 1.0 + _SHARE_TOLERANCE:
            raise ValueError(
                f"high_share + mid_share must be at most 1, got {self.high_share} + "
                f"{self.mid_share}"
            )
        if not self.mid_min_yuan < self.high_min_yuan:
            raise ValueError(
                f"mid_min_yuan ({self.mid_min_yuan:g}) must be below high_min_yuan "
                f"({self.high_min_yuan:g})"
            )
        return self


class GradeTiers(BaseModel):
    """The performing grades of each risk tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: tuple[str, ...] = ("AAA", "AA", "A")
    medium: tuple[str, ...] = ("BBB", "BB")
    high: tuple[str, ...] = ("B", "CCC")


class ClassificationFloors(BaseModel):
    """The risk tier each 五级分类 class sets at least."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    normal: RiskTierCode = "low"
    special_mention: RiskTierCode = "medium"
    substandard: RiskTierCode = "high"
    doubtful: RiskTierCode = "high"
    loss: RiskTierCode = "high"

    @model_validator(mode="after")
    def _monotone(self) -> ClassificationFloors:
        order = CLASSIFICATION_FLOORS_ORDER
        floors = [_RISK_CODES.index(getattr(self, c)) for c in order]
        for i in range(1, len(order)):
            if floors[i] < floors[i - 1]:
                raise ValueError(
                    f"{order[i]} gives a better tier ({_RISK_CODES[floors[i]]}) than "
                    f"{order[i - 1]} ({_RISK_CODES[floors[i - 1]]}): the floors may not "
                    "improve as the class worsens"
                )
        return self


class RiskTierRules(BaseModel):
    """How grade, PD and 五级分类 set the risk tier (``risk:`` in ``tiers.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grades: GradeTiers = GradeTiers()
    default_grades: tuple[str, ...] = ("D",)
    pd_low_below: float = Field(default=0.0035, gt=0.0, le=1.0)
    pd_medium_below: float = Field(default=0.035, gt=0.0, le=1.0)
    classification: ClassificationFloors = ClassificationFloors()
    unrated: RiskTierCode = "medium"

    @model_validator(mode="after")
    def _check(self) -> RiskTierRules:
        if not self.pd_low_below < self.pd_medium_below:
            raise ValueError(
                f"pd_low_below ({self.pd_low_below}) must be below pd_medium_below "
                f"({self.pd_medium_below})"
            )
        listed = [
            *self.grades.low,
            *self.grades.medium,
            *self.grades.high,
            *self.default_grades,
        ]
        if any(not g.strip() for g in listed):
            raise ValueError("grade codes must not be empty")
        dupes = sorted({g for g in listed if listed.count(g) > 1})
        if dupes:
            raise ValueError(
                f"each grade belongs to one list (grades.low/medium/high or default_grades); "
                f"listed more than once: {', '.join(dupes)}"
            )
        return self

    def grade_tier(self) -> dict[str, int]:
        """Performing grade code → tier index (0 = low)."""
        out: dict[str, int] = {}
        for i, code in enumerate(_RISK_CODES):
            out.update(dict.fromkeys(getattr(self.grades, code), i))
        return out


class TierRules(BaseModel):
    """A whole ``tiers.yaml``: value rules and risk rules. Missing fields take the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    value: ValueTierRules = ValueTierRules()
    risk: RiskTierRules = RiskTierRules()

    @classmethod
    def from_yaml(cls, path: str | Path) -> TierRules:
        """Read and validate a rules file (``ConfigError`` naming the field)."""
        return load_table(cls, path, _DEFAULT_FILE, package=_PACKAGE)


def load_tier_rules(source: TableSource = None) -> TierRules:
    """The rules in ``source`` (a YAML path, a mapping or a :class:`TierRules`), or the packaged
    default (read once, on first use)."""
    return load_table(TierRules, source, _DEFAULT_FILE, package=_PACKAGE)


def _value_rules(rules: TableSource | ValueTierRules) -> ValueTierRules:
    if isinstance(rules, ValueTierRules):
        return rules
    return load_tier_rules(rules).value


def _risk_rules(rules: TableSource | RiskTierRules) -> RiskTierRules:
    if isinstance(rules, RiskTierRules):
        return rules
    return load_tier_rules(rules).risk


# ---------------------------------------------------------------------------------------------
# Value tiers
# ---------------------------------------------------------------------------------------------


def value_tier(clv: npt.ArrayLike, rules: TableSource | ValueTierRules = None) -> StrArray:
    """The value tier (``high``/``mid``/``low``) of each customer's CLV (module notes).

    Parameters
    ----------
    clv : customer lifetime values in yuan, one per customer of the whole book (quantiles are
        taken over what is passed); finite.
    rules : a :class:`TierRules` source or a :class:`ValueTierRules`; the packaged default
        (top 10% ``high``, next 30% ``mid``) when ``None``.

    Returns
    -------
    A 1-d object array of codes; labels in :data:`VALUE_TIERS`.
    """
    spec = _value_rules(rules)
    x = np.atleast_1d(as_float_array("clv", clv))
    if x.ndim != 1:
        raise DataContractError(f"clv must be one-dimensional, got shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise DataContractError(
            f"clv has {int(bad.sum())} missing or infinite values; every customer to tier needs "
            "a CLV (value the customer first or leave it out)"
        )
    if spec.method == "quantile":
        n = x.size
        at_least = n - np.searchsorted(np.sort(x), x, side="left")  # m_i, ties included
        share = at_least / max(n, 1)
        cut_high = spec.high_share + _SHARE_TOLERANCE
        cut_mid = spec.high_share + spec.mid_share + _SHARE_TOLERANCE
        idx = np.where(share <= cut_high, 0, np.where(share <= cut_mid, 1, 2))
    else:
        idx = np.where(x >= spec.high_min_yuan, 0, np.where(x >= spec.mid_min_yuan, 1, 2))
    idx = np.where(x < 0.0, 2, idx)
    out: StrArray = np.asarray(_VALUE_CODES, dtype=object)[idx]
    return out


# ---------------------------------------------------------------------------------------------
# Risk tiers
# ---------------------------------------------------------------------------------------------


def _as_codes(name: str, values: Any) -> tuple[StrArray, npt.NDArray[np.bool_]]:
    """Stripped strings and a missing mask (None, NaN, NA and blank are missing)."""
    if np.ndim(values) > 1:
        raise DataContractError(f"{name} must be one-dimensional, got shape {np.shape(values)}")
    series = pd.Series(np.atleast_1d(np.asarray(values, dtype=object)), dtype=object)
    text = series.astype("string").str.strip()
    missing = (series.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    codes: StrArray = text.to_numpy(dtype=object)
    codes[missing] = None
    return codes, missing


def _lookup(
    name: str,
    codes: StrArray,
    missing: npt.NDArray[np.bool_],
    table: dict[str, int],
    valid: str,
    *,
    casefold: bool = False,
) -> IntArray:
    """Map codes to ints; missing → -1; unknown raises naming them and the valid codes."""
    given = pd.Series(codes[~missing], dtype=object)
    mapped = (given.str.lower() if casefold else given).map(table)
    unknown = mapped.isna().to_numpy()
    if unknown.any():
        bad = sorted({str(v) for v in given[unknown]})
        raise DataContractError(
            f"unknown {name} value(s) {bad[:5]}"
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            + f"; expected one of {valid}, or a missing value. Recode them or pass tier rules "
            "that list them."
        )
    out = np.full(codes.shape, -1, dtype=np.int64)
    out[~missing] = mapped.to_numpy(dtype=np.int64)
    return out


def _classification_lookup(spec: RiskTierRules) -> dict[str, int]:
    """Every spelling of each class (code, zh, en, aliases; case-insensitive) → floor index."""
    lookup: dict[str, int] = {}
    for c in CLASSIFICATIONS:
        floor = _RISK_CODES.index(getattr(spec.classification, c.code))
        for spelling in (c.code, c.zh, c.en, *c.aliases):
            lookup[spelling.strip().lower()] = floor
    return lookup


def risk_tier(
    grade: npt.ArrayLike,
    pd_1y: npt.ArrayLike,
    classification: npt.ArrayLike,
    rules: TableSource | RiskTierRules = None,
) -> tuple[StrArray, StrArray]:
    """The risk tier (``low``/``medium``/``high``) of each customer and the rule that set it.

    Parameters
    ----------
    grade : internal grade codes (``AAA`` … ``CCC``, ``D``); missing values allowed.
    pd_1y : one-year PDs in [0, 1]; NaN where missing.
    classification : 五级分类 (codes ``normal`` … ``loss`` or 正常/关注/次级/可疑/损失); missing
        allowed (the customer's worst facility class is the natural input).
    rules : a :class:`TierRules` source or a :class:`RiskTierRules`; the packaged default when
        ``None``.

    Returns
    -------
    ``(tier, reason)``: two 1-d object arrays; reasons are the codes of :data:`RISK_REASONS`.
    Unknown grades or classes raise :class:`DataContractError`.
    """
    spec = _risk_rules(rules)
    g, g_missing = _as_codes("grade", grade)
    c, c_missing = _as_codes("classification", classification)
    p = np.atleast_1d(as_float_array("pd_1y", pd_1y))
    if p.ndim != 1:
        raise DataContractError(f"pd_1y must be one-dimensional, got shape {p.shape}")
    if not g.size == p.size == c.size:
        raise DataContractError(
            f"grade, pd_1y and classification must have one value per customer; got "
            f"{g.size}, {p.size} and {c.size}"
        )
    check_range("pd_1y", p, 0.0, 1.0, allow_nan=True, hint="PDs are probabilities.")

    grade_table = spec.grade_tier()
    defaulted_codes = set(spec.default_grades)
    grade_table.update(dict.fromkeys(defaulted_codes, -1))
    valid_grades = ", ".join([*grade_table])
    grade_idx = _lookup("grade", g, g_missing, grade_table, valid_grades)
    is_default_grade = pd.Series(g, dtype=object).isin(defaulted_codes).to_numpy(dtype=bool)
    class_idx = _lookup(
        "classification", c, c_missing, _classification_lookup(spec),
        "normal, special_mention, substandard, doubtful, loss (or 正常/关注/次级/可疑/损失)",
        casefold=True,
    )  # fmt: skip

    p_missing = np.isnan(p)
    with np.errstate(invalid="ignore"):
        pd_idx = np.where(p < spec.pd_low_below, 0, np.where(p < spec.pd_medium_below, 1, 2))
        defaulted = is_default_grade | (p >= 1.0)
    pd_idx = np.where(p_missing, -1, pd_idx)
    high = len(_RISK_CODES) - 1
    unrated = g_missing & p_missing
    candidates = np.stack(  # one row per rule, in the order of RISK_REASONS; -1 = does not apply
        [
            np.where(defaulted, high, -1),
            np.where(class_idx > 0, class_idx, -1),  # a floor of "low" sets nothing
            grade_idx,
            pd_idx,
            np.where(unrated, _RISK_CODES.index(spec.unrated), -1),
        ]
    )
    tier = candidates.max(axis=0)
    reason = np.argmax(candidates == tier, axis=0)  # first rule reaching the worst tier
    tier_out: StrArray = np.asarray(_RISK_CODES, dtype=object)[tier]
    reason_out: StrArray = np.asarray(_REASON_CODES, dtype=object)[reason]
    return tier_out, reason_out


# ---------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------


def _index_of(name: str, values: Any, codes: tuple[str, ...]) -> IntArray:
    flat = pd.Index(np.atleast_1d(np.asarray(values, dtype=object)).ravel())
    idx = pd.Index(codes).get_indexer(flat)
    if (idx < 0).any():
        bad = sorted({str(v) for v in flat[idx < 0]})[:5]
        raise DataContractError(f"unknown {name} code(s) {bad}; expected one of {codes}")
    return idx.astype(np.int64)


def segment(value_tier: Any, risk_tier: Any) -> str | StrArray:
    """The matrix cell of each (value tier, risk tier) pair, e.g. ``high_value_low_risk``.

    A ``str`` when both arguments are scalars, else a 1-d object array. Names are in
    :data:`SEGMENTS` (and :func:`segment_labels`).
    """
    v = _index_of("value tier", value_tier, _VALUE_CODES)
    r = _index_of("risk tier", risk_tier, _RISK_CODES)
    if v.size != r.size:
        raise DataContractError(
            f"value_tier and risk_tier must have the same length, got {v.size} and {r.size}"
        )
    out: StrArray = np.asarray(SEGMENT_CODES, dtype=object)[v * len(_RISK_CODES) + r]
    if np.ndim(value_tier) == 0 and np.ndim(risk_tier) == 0:
        return str(out[0])
    return out


def segment_labels(codes: Any, lang: Literal["zh", "en"] = "zh") -> StrArray:
    """The Chinese (战略客户·低风险) or English (strategic, low risk) name of each cell code."""
    names = [s.zh if lang == "zh" else s.en for s in SEGMENTS]
    out: StrArray = np.asarray(names, dtype=object)[_index_of("segment", codes, SEGMENT_CODES)]
    return out


_TABLE_COLUMNS = ("customer_id", "clv", "grade", "pd_1y", "classification")


def _float_column(frame: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    try:
        return frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataContractError(f"{name} must be numeric (missing values allowed): {exc}") from exc


def segment_table(frame: pd.DataFrame, rules: TableSource = None) -> pd.DataFrame:
    """Value tier, risk tier and matrix cell of every customer.

    Parameters
    ----------
    frame : one row per customer with ``customer_id`` (unique), ``clv`` (yuan), ``grade``,
        ``pd_1y`` and ``classification`` — the last three may hold missing values but the
        columns must be there (a misnamed column must not silently make everyone unrated).
    rules : a :class:`TierRules` source; the packaged default when ``None``.

    Returns
    -------
    On ``frame``'s index: ``customer_id``, ``value_tier``, ``value_tier_zh``, ``risk_tier``,
    ``risk_tier_zh``, ``risk_reason``, ``segment``, ``segment_zh``, ``segment_en``.
    """
    missing = [c for c in _TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"segment_table needs the columns {', '.join(_TABLE_COLUMNS)}; missing "
            f"{', '.join(missing)} (a column may hold missing values, but must be present)"
        )
    if not frame["customer_id"].is_unique:
        dupes = frame["customer_id"][frame["customer_id"].duplicated()].astype(str).unique()
        raise DataContractError(
            f"customer_id must be unique, repeated: {sorted(dupes)[:5]}; segment one row per "
            "customer"
        )
    spec = load_tier_rules(rules)
    vt = value_tier(_float_column(frame, "clv"), spec.value)
    rt, reason = risk_tier(
        frame["grade"].to_numpy(dtype=object),
        _float_column(frame, "pd_1y"),
        frame["classification"].to_numpy(dtype=object),
        spec.risk,
    )
    seg = np.asarray(segment(vt, rt), dtype=object)
    value_zh = dict(zip(_VALUE_CODES, (t.zh for t in VALUE_TIERS), strict=True))
    risk_zh = dict(zip(_RISK_CODES, (t.zh for t in RISK_TIERS), strict=True))
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "value_tier": vt,
            "value_tier_zh": pd.Series(vt, dtype=object).map(value_zh).to_numpy(),
            "risk_tier": rt,
            "risk_tier_zh": pd.Series(rt, dtype=object).map(risk_zh).to_numpy(),
            "risk_reason": reason,
            "segment": seg,
            "segment_zh": segment_labels(seg, "zh"),
            "segment_en": segment_labels(seg, "en"),
        },
        index=frame.index,
    )


def matrix_summary(
    segmented: pd.DataFrame, clv: npt.ArrayLike
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 3 × 3 matrix: customers and total CLV (yuan) per cell.

    Parameters
    ----------
    segmented : the output of :func:`segment_table` (``value_tier`` and ``risk_tier`` used).
    clv : the customers' CLV in ``segmented``'s row order (positional).

    Returns
    -------
    ``(counts, clv_sum)``: frames with rows ``value_tier`` (high, mid, low) and columns
    ``risk_tier`` (low, medium, high); empty cells hold 0.
    """
    for col in ("value_tier", "risk_tier"):
        if col not in segmented.columns:
            raise DataContractError(f"matrix_summary needs the {col} column of segment_table")
    values = np.atleast_1d(as_float_array("clv", clv)).ravel()
    if values.size != len(segmented):
        raise DataContractError(
            f"clv must have one value per row of segmented ({len(segmented)}), got {values.size}"
        )
    if not np.isfinite(values).all():
        raise DataContractError("clv must be finite to be summed")
    v = _index_of("value tier", segmented["value_tier"].to_numpy(dtype=object), _VALUE_CODES)
    r = _index_of("risk tier", segmented["risk_tier"].to_numpy(dtype=object), _RISK_CODES)
    shape = (len(_VALUE_CODES), len(_RISK_CODES))
    cell = v * shape[1] + r
    counts = np.bincount(cell, minlength=shape[0] * shape[1]).reshape(shape)
    sums = np.bincount(cell, weights=values, minlength=shape[0] * shape[1]).reshape(shape)
    rows = pd.Index(_VALUE_CODES, name="value_tier")
    cols = pd.Index(_RISK_CODES, name="risk_tier")
    return (
        pd.DataFrame(counts.astype(np.int64), index=rows, columns=cols),
        pd.DataFrame(sums, index=rows, columns=cols),
    )
