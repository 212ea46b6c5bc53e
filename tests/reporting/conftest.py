"""A synthetic snapshot for the report writers: 300 customers whose numbers hang together like
the pipeline's (ten signed components summing to the CLV, current + potential = CLV, value tiers
by CLV rank, the nine segments, alert flags matching the alerts), two model runs with JSON
parameters and every diagnostics frame."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from lendvalue.contract import CLASSIFICATIONS
from lendvalue.reporting.data import ALERT_COLUMNS, CLV_TABLE_COLUMNS, ReportData
from lendvalue.reporting.labels import COMPONENTS
from lendvalue.segmentation import SEGMENTS

SNAPSHOT_DATE = dt.date(2025, 6, 30)
BANK = "测试银行股份有限公司"
N_CUSTOMERS = 300


def make_report_data(
    n: int = N_CUSTOMERS, *, seed: int = 7, with_alerts: bool = True, with_diagnostics: bool = True
) -> ReportData:
    rng = np.random.default_rng(seed)
    ids = [f"C{i:07d}" for i in range(n)]
    frame = pd.DataFrame(
        {
            "snapshot_date": pd.Timestamp(SNAPSHOT_DATE),
            "customer_id": ids,
            "customer_name": [f"测试企业{i}有限公司" for i in range(n)],
            "rm_id": rng.choice(["RM01", "RM02", "RM03"], n),
            "industry": rng.choice(["C3611", "F5123", "E4710"], n),
            "region": rng.choice(["110000", "310000", "440300"], n),
            "size_class": rng.choice(["large", "medium", "small", "micro"], n),
            "group_id": [f"G{i % 17}" if i % 5 == 0 else None for i in range(n)],
        }
    )
    scale = rng.lognormal(13.0, 1.2, n)  # yuan: a few hundred thousand to tens of millions
    interest = scale * rng.uniform(0.8, 1.2, n)
    parts = {
        "interest_income": interest,
        "funding_cost": -interest * rng.uniform(0.45, 0.65, n),
        "fee_income": scale * rng.uniform(0.0, 0.15, n),
        "deposit_value": scale * rng.uniform(0.0, 0.3, n),
        "expected_loss": -interest * rng.uniform(0.02, 0.4, n),
        "operating_cost": -interest * rng.uniform(0.05, 0.15, n),
        "retention_cost": -rng.uniform(5e3, 5e4, n),
        "acquisition_cost": np.where(rng.random(n) < 0.05, -rng.uniform(1e4, 5e4, n), 0.0),
    }
    pretax = sum(parts.values())
    parts["tax"] = -0.25 * pretax
    parts["capital_charge"] = -interest * rng.uniform(0.05, 0.2, n)
    for name in COMPONENTS:
        frame[name] = parts[name]
    clv = frame[list(COMPONENTS)].sum(axis=1).to_numpy()
    frame["clv"] = clv
    frame["net_interest_income"] = frame["interest_income"] + frame["funding_cost"]
    frame["current_value"] = clv * rng.uniform(0.3, 0.9, n)
    frame["potential_value"] = clv - frame["current_value"]
    frame["clv_low"] = clv - np.abs(clv) * rng.uniform(0.05, 0.3, n)
    frame["clv_high"] = clv + np.abs(clv) * rng.uniform(0.05, 0.3, n)
    frame["realised_12m"] = scale * rng.uniform(0.05, 0.2, n)
    frame["capital_pv"] = interest * rng.uniform(0.5, 2.0, n)
    frame["raroc"] = 0.10 + clv / frame["capital_pv"] / 12
    frame["eva_12m"] = clv * rng.uniform(0.08, 0.2, n)
    frame["survival_12m"] = rng.uniform(0.6, 0.99, n)
    frame["pd_1y"] = rng.uniform(0.0003, 0.2, n)
    frame["grade"] = rng.choice(["AA", "A", "BBB", "BB", "B"], n)
    frame["rating_grade"] = frame["grade"]
    frame["classification"] = rng.choice(
        [c.code for c in CLASSIFICATIONS[:3]], n, p=[0.9, 0.08, 0.02]
    )
    order = np.argsort(-clv, kind="stable")
    tier = np.empty(n, dtype=object)
    tier[order] = ["high"] * (n // 10) + ["mid"] * (3 * n // 10) + ["low"] * (n - 4 * (n // 10))
    frame["value_tier"] = tier
    frame["risk_tier"] = rng.choice(["low", "medium", "high"], n, p=[0.5, 0.35, 0.15])
    by_code = {s.code: s for s in SEGMENTS}
    frame["segment"] = frame["value_tier"] + "_value_" + frame["risk_tier"] + "_risk"
    zh_value = {"high": "战略", "mid": "核心", "low": "普通"}
    zh_risk = {"low": "低风险", "medium": "中风险", "high": "高风险"}
    frame["value_tier_zh"] = frame["value_tier"].map(zh_value)
    frame["risk_tier_zh"] = frame["risk_tier"].map(zh_risk)
    frame["risk_reason"] = rng.choice(["grade", "pd", "classification"], n)
    frame["segment_zh"] = frame["segment"].map(lambda c: by_code[c].zh)
    frame["segment_en"] = frame["segment"].map(lambda c: by_code[c].en)
    frame["action_zh"] = "策略：" + frame["segment_zh"]
    frame["action_en"] = "policy for " + frame["segment_en"]
    frame["review_months"] = frame["risk_tier"].map({"low": 12, "medium": 6, "high": 3})
    frame["price_spread_bp"] = rng.integers(20, 200, n).astype(float)
    frame["price_rate"] = 0.031 + frame["price_spread_bp"] / 1e4
    frame["limit_yuan"] = scale * rng.uniform(1, 5, n)
    frame["limit_binding"] = rng.choice(["working_capital_need", "dscr", "leverage"], n)
    frame["limit_binding_zh"] = frame["limit_binding"].map(
        {"working_capital_need": "流动资金贷款需求测算", "dscr": "偿债覆盖率(DSCR)下限",
         "leverage": "资产负债率上限"}
    )  # fmt: skip

    alerts = pd.DataFrame(columns=list(ALERT_COLUMNS))
    if with_alerts:
        picked = rng.choice(n, 12, replace=False)
        codes = ["clv_decline", "low_survival", "overdue", "downgrade", "classification_worse"]
        rows = []
        for j, i in enumerate(picked):
            for code in codes[j % 5 : j % 5 + 1 + (j % 2)]:
                rows.append({
                    "snapshot_date": pd.Timestamp(SNAPSHOT_DATE), "customer_id": ids[i],
                    "alert": code, "severity": "high" if code == "overdue" else "medium",
                    "value": 0.35 if code == "clv_decline" else 2.0,
                    "threshold": float("nan") if code == "classification_worse" else 0.2,
                    "detail_zh": f"测试预警 {code}", "detail_en": f"test alert {code}",
                })  # fmt: skip
        alerts = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    flags = alerts.groupby("customer_id")["alert"].agg(",".join)
    frame["alert_flags"] = [flags.get(cid, "") for cid in ids]
    frame["n_alerts"] = frame["customer_id"].map(alerts.groupby("customer_id").size())
    frame["n_alerts"] = frame["n_alerts"].fillna(0).astype(int)
    frame = frame[list(CLV_TABLE_COLUMNS)]

    runs = pd.DataFrame(
        [
            {
                "run_id": "a" * 32, "snapshot_date": pd.Timestamp(SNAPSHOT_DATE),
                "model": "WeibullAFTModel", "version": "0.1.0",
                "fitted_at": pd.Timestamp("2025-07-01 09:00:00"), "n_obs": 1200.0,
                "params": json.dumps({"log_scale": 4.1, "log_shape": 0.2, "size_small": -0.3}),
                "standard_errors": json.dumps({"log_scale": 0.05, "log_shape": 0.02}),
                "metrics": json.dumps({"log_likelihood": -1234.5, "dropped_covariates": {}}),
                "data_fingerprint": "f" * 64,
            },
            {
                "run_id": "b" * 32, "snapshot_date": pd.Timestamp(SNAPSHOT_DATE),
                "model": "CohortMigration", "version": "0.1.0",
                "fitted_at": pd.Timestamp("2025-07-01 09:00:05"), "n_obs": 5400.0,
                "params": json.dumps({"matrix": [[0.9, 0.1], [0.0, 1.0]]}),
                "standard_errors": json.dumps({"matrix": [[0.01, 0.01], [0.0, 0.0]]}),
                "metrics": "{}", "data_fingerprint": "e" * 64,
            },
        ]
    )  # fmt: skip

    diagnostics: dict[str, pd.DataFrame] = {}
    if with_diagnostics:
        months = np.arange(0, 121, 3)
        diagnostics["retention_curves"] = pd.DataFrame(
            [
                {"segment": s.code, "month": int(m), "survival": float(np.exp(-m / (60 + 10 * k)))}
                for k, s in enumerate(SEGMENTS)
                for m in months
            ]
        )
        freq = [str(i) for i in range(7)] + ["7+"]
        diagnostics["btyd_calibration"] = pd.DataFrame(
            {"frequency": freq, "customers": rng.integers(10, 200, 8),
             "actual": np.linspace(0.1, 6, 8), "predicted": np.linspace(0.15, 5.8, 8)}
        )  # fmt: skip
        periods = np.arange(156)
        diagnostics["btyd_tracking"] = pd.DataFrame(
            {"period": periods, "actual": np.cumsum(rng.poisson(30, 156)).astype(float),
             "predicted": 30.0 * (periods + 1)}
        )  # fmt: skip
        grades = ["AA", "A", "BBB", "BB", "B"]
        customers = rng.integers(50, 400, 5)
        mean_pd = np.array([0.0005, 0.002, 0.01, 0.03, 0.1])
        defaults = rng.binomial(customers, mean_pd)
        diagnostics["pd_calibration"] = pd.DataFrame(
            {"grade": grades, "customers": customers, "defaults": defaults, "mean_pd": mean_pd,
             "default_rate": defaults / customers, "jeffreys_p": 0.5, "verdict": "ok"}
        )  # fmt: skip

    snapshot = {
        "snapshot_date": SNAPSHOT_DATE, "created_at": pd.Timestamp("2025-07-01 09:01:00"),
        "customers": n, "total_clv": float(clv.sum()),
        "total_realised": float(frame["realised_12m"].sum()),
        "assumptions_name": "test assumptions", "policy_name": "test policy",
        "bank_name": BANK,
    }  # fmt: skip
    return ReportData(snapshot=snapshot, clv=frame, alerts=alerts, model_runs=runs,
                      diagnostics=diagnostics)  # fmt: skip


@pytest.fixture(scope="session")
def report_data() -> ReportData:
    return make_report_data()


@pytest.fixture(scope="session")
def bare_report_data() -> ReportData:
    """A snapshot without alerts, model runs or diagnostics."""
    full = make_report_data(40, seed=3, with_alerts=False, with_diagnostics=False)
    return ReportData(snapshot={**full.snapshot, "bank_name": None}, clv=full.clv,
                      alerts=pd.DataFrame(), model_runs=pd.DataFrame(), diagnostics={})  # fmt: skip
