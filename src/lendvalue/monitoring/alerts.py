"""Early warnings, as data: one row per customer and alert, with the figure that fired it, the
threshold and a sentence in Chinese and English.

Rules (thresholds in ``defaults/alerts.yaml``, a bank's own file overrides them):

- ``clv_decline`` — the CLV fell by more than ``clv_decline_share`` of its previous absolute
  value since the previous snapshot, and by at least ``min_decline_yuan``;
- ``low_survival`` — the relationship's 12-month survival probability is below
  ``survival_12m_min``;
- ``overdue`` — days past due on the snapshot date of at least ``overdue_days`` (severity high
  from ``overdue_high_days``);
- ``downgrade`` — the latest rating is at least ``downgrade_notches`` notches below the rating
  in force twelve months earlier;
- ``classification_worse`` — the 五级分类 is worse than in the previous snapshot.

:func:`detect_alerts` is a pure function of the current table, the previous snapshot's and a
frame of facts (days past due, the grade a year ago); the pipeline feeds it from the warehouse.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from lendvalue.contract import CLASSIFICATIONS
from lendvalue.tables import TableSource, load_table

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "D")
CLASS_ORDER = tuple(c.code for c in CLASSIFICATIONS)
CLASS_ZH = {c.code: c.zh for c in CLASSIFICATIONS}
ALERT_CODES = ("clv_decline", "low_survival", "overdue", "downgrade", "classification_worse")


class AlertRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    clv_decline_share: float = Field(gt=0.0, le=1.0)
    min_decline_yuan: float = Field(ge=0.0)
    survival_12m_min: float = Field(ge=0.0, le=1.0)
    overdue_days: int = Field(ge=1)
    overdue_high_days: int = Field(ge=1)
    downgrade_notches: int = Field(ge=1, le=7)


def load_alert_rules(source: TableSource = None) -> AlertRules:
    return load_table(AlertRules, source, "alerts.yaml", package="lendvalue.monitoring")


def detect_alerts(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    facts: pd.DataFrame,
    *,
    snapshot_date: dt.date,
    rules: AlertRules | None = None,
) -> pd.DataFrame:
    """Alerts of the customers in ``current`` (``customer_id, clv, survival_12m,
    rating_grade, classification``); ``previous`` is the last snapshot's rows (``customer_id,
    clv, classification``) or None; ``facts`` has ``customer_id, days_past_due,
    grade_year_ago``. Returns :data:`lendvalue.reporting.data.ALERT_COLUMNS`."""
    r = rules or load_alert_rules()
    now = current.set_index("customer_id")
    fact = facts.set_index("customer_id").reindex(now.index)
    found: list[pd.DataFrame] = []

    def add(mask: pd.Series, code: str, severity: pd.Series | str, value: pd.Series,
            threshold: float, zh: pd.Series, en: pd.Series) -> None:  # fmt: skip
        if not mask.any():
            return
        sev = severity[mask] if isinstance(severity, pd.Series) else severity
        found.append(pd.DataFrame({
            "customer_id": now.index[mask.to_numpy()], "alert": code, "severity": sev,
            "value": value[mask].to_numpy(np.float64), "threshold": float(threshold),
            "detail_zh": zh[mask].to_numpy(object), "detail_en": en[mask].to_numpy(object),
        }))  # fmt: skip

    if previous is not None and len(previous):
        before = previous.set_index("customer_id").reindex(now.index)
        drop = before["clv"] - now["clv"]
        share = drop / before["clv"].abs().where(before["clv"].abs() > 0)
        fired = (share > r.clv_decline_share) & (drop >= r.min_decline_yuan)
        add(fired.fillna(False), "clv_decline", "medium", share, r.clv_decline_share,
            "CLV较上期下降 " + share.map("{:.1%}".format) + "（" + (drop / 1e4).map(
                "{:,.2f}".format) + "万元）",
            "CLV down " + share.map("{:.1%}".format) + " since the last snapshot")  # fmt: skip
        rank = {c: i for i, c in enumerate(CLASS_ORDER)}
        was = before["classification"].map(rank)
        is_ = now["classification"].map(rank)
        worse = (is_ > was).fillna(False)
        add(worse, "classification_worse", "high", is_.astype(float), float("nan"),
            "五级分类由" + before["classification"].map(CLASS_ZH).fillna("") + "下迁至"
            + now["classification"].map(CLASS_ZH).fillna(""),
            "classification worse: " + before["classification"].fillna("") + " → "
            + now["classification"].fillna(""))  # fmt: skip
    low = (now["survival_12m"] < r.survival_12m_min).fillna(False)
    add(low, "low_survival", "medium", now["survival_12m"], r.survival_12m_min,
        "12个月关系存续概率 " + now["survival_12m"].map("{:.1%}".format),
        "12-month relationship survival " + now["survival_12m"].map("{:.1%}".format))  # fmt: skip
    dpd = fact["days_past_due"].fillna(0).astype(float)
    late = dpd >= r.overdue_days
    add(late, "overdue", dpd.ge(r.overdue_high_days).map({True: "high", False: "medium"}), dpd,
        r.overdue_days, "逾期 " + dpd.map("{:.0f}".format) + " 天",
        dpd.map("{:.0f}".format) + " days past due")  # fmt: skip
    notch = {g: i for i, g in enumerate(GRADES)}
    moved = now["rating_grade"].map(notch) - fact["grade_year_ago"].map(notch)
    down = (moved >= r.downgrade_notches).fillna(False)
    add(down, "downgrade", moved.ge(2).map({True: "high", False: "medium"}), moved.astype(float),
        r.downgrade_notches,
        "评级由" + fact["grade_year_ago"].fillna("") + "下调至" + now["rating_grade"].fillna("")
        + "（" + moved.map("{:.0f}".format) + "级）",
        "downgraded " + fact["grade_year_ago"].fillna("") + " → " + now["rating_grade"].fillna("")
        + " (" + moved.map("{:.0f}".format) + " notches)")  # fmt: skip
    columns = ["customer_id", "alert", "severity", "value", "threshold", "detail_zh", "detail_en"]
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)
    out.insert(0, "snapshot_date", pd.Timestamp(snapshot_date))
    return out.sort_values(["customer_id", "alert"], kind="stable").reset_index(drop=True)
