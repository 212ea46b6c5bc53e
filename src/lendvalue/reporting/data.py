"""What a report reads: one snapshot of the CLV management table with everything beside it.

:class:`ReportData` is built by :func:`load_report_data` from the warehouse (the tables the
pipeline writes: ``clv_table``, ``snapshots``, ``alerts``, ``model_runs``, ``diagnostics``) or
directly, e.g. in tests. The report writers read nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CLV_TABLE_COLUMNS: tuple[str, ...] = (
    "snapshot_date", "customer_id", "customer_name", "rm_id", "industry", "region",
    "size_class", "group_id",
    "realised_12m", "clv", "clv_low", "clv_high", "current_value", "potential_value",
    "interest_income", "funding_cost", "net_interest_income", "fee_income", "deposit_value",
    "expected_loss", "operating_cost", "retention_cost", "acquisition_cost", "tax",
    "capital_charge", "raroc", "eva_12m", "capital_pv",
    "survival_12m", "pd_1y", "grade", "rating_grade", "classification",
    "value_tier", "value_tier_zh", "risk_tier", "risk_tier_zh", "risk_reason",
    "segment", "segment_zh", "segment_en", "action_zh", "action_en", "review_months",
    "price_spread_bp", "price_rate", "limit_yuan", "limit_binding", "limit_binding_zh",
    "alert_flags", "n_alerts",
)  # fmt: skip
"""The ``clv_table`` columns, one row per customer per snapshot (money in yuan, full precision;
rates and probabilities as decimals). Components are signed (costs negative) and
``interest_income + funding_cost + fee_income + deposit_value + expected_loss +
operating_cost + retention_cost + acquisition_cost + tax + capital_charge = clv``;
``net_interest_income`` = interest + funding (shown, not added); ``current_value +
potential_value = clv``; ``price_*`` is the recommended price of a standard one-year
working-capital loan (LPR + spread); ``alert_flags`` is the comma-separated alert codes."""

ALERT_COLUMNS: tuple[str, ...] = (
    "snapshot_date", "customer_id", "alert", "severity", "value", "threshold", "detail_zh",
    "detail_en",
)  # fmt: skip
MODEL_RUN_COLUMNS: tuple[str, ...] = (
    "run_id", "snapshot_date", "model", "version", "fitted_at", "n_obs", "params",
    "standard_errors", "metrics", "data_fingerprint",
)  # fmt: skip
"""``params``, ``standard_errors`` and ``metrics`` are JSON text."""


@dataclass(frozen=True)
class ReportData:
    """One snapshot: the CLV table (:data:`CLV_TABLE_COLUMNS`), its alerts
    (:data:`ALERT_COLUMNS`), the model runs behind it (:data:`MODEL_RUN_COLUMNS`), the snapshot
    record (``snapshot_date``, ``created_at``, ``customers``, ``total_clv``,
    ``total_realised``, ``assumptions_name``, ``policy_name``, ``bank_name``) and the
    diagnostics for the charts by name:

    - ``retention_curves``: ``segment, month, survival`` (mean relationship survival by month);
    - ``btyd_calibration``: ``frequency, actual, predicted`` (holdout transactions by
      calibration-period frequency, BG/NBD);
    - ``btyd_tracking``: ``period, actual, predicted`` (cumulative repeat transactions);
    - ``pd_calibration``: ``grade, customers, defaults, mean_pd, default_rate, jeffreys_p,
      verdict`` (last year's scorecard PD against this year's defaults).
    """

    snapshot: dict[str, Any]
    clv: pd.DataFrame
    alerts: pd.DataFrame
    model_runs: pd.DataFrame
    diagnostics: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def snapshot_date(self) -> dt.date:
        value = self.snapshot["snapshot_date"]
        return value if isinstance(value, dt.date) else pd.Timestamp(value).date()
