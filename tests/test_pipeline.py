"""One snapshot end to end on a sample bank in a real warehouse file: the CLV table, its
reconciliation, the model registry, replacement of a date, a later snapshot and the trend
alerts on a planted decline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lendvalue.pipeline import run_snapshot
from lendvalue.reporting.data import CLV_TABLE_COLUMNS
from lendvalue.sample import generate_sample
from lendvalue.valuation import CLV_COMPONENTS
from lendvalue.warehouse.ingest import ingest_paths
from lendvalue.warehouse.status import data_date
from lendvalue.warehouse.store import connect
from lendvalue.warehouse.valuation_inputs import valuation_customers

CAPITAL = {"net_capital_yuan": 1e10, "tier1_net_capital_yuan": 8e9}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pipeline")
    generate_sample(folder / "data", customers=2_000, seed=21, fmt="parquet")
    db = folder / "bank.duckdb"
    con = connect(db)
    ingest_paths(con, [folder / "data"])
    con.close()
    return db


def _table(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    return con.execute("SELECT * FROM clv_table WHERE snapshot_date = ? ORDER BY customer_id",
                       [day]).df()  # fmt: skip


def test_a_snapshot_is_complete_and_reconciles(store: Path) -> None:
    con = connect(store)
    day = data_date(con)
    summary = run_snapshot(con, day, bank_capital=CAPITAL, n_draws=8)
    table = _table(con, day)
    customers = valuation_customers(con, day)
    assert list(table.columns) == list(CLV_TABLE_COLUMNS)
    assert len(table) == len(customers) == summary.customers
    assert table["customer_id"].tolist() == sorted(customers["customer_id"])
    np.testing.assert_allclose(table[list(CLV_COMPONENTS)].sum(axis=1), table["clv"],
                               rtol=1e-9, atol=1e-4)  # fmt: skip
    np.testing.assert_allclose(table["current_value"] + table["potential_value"], table["clv"],
                               rtol=1e-9, atol=1e-4)  # fmt: skip
    assert (table["clv_low"] <= table["clv"] + 1e-6).all()
    assert (table["clv"] <= table["clv_high"] + 1e-6).all()
    assert table["segment"].notna().all() and table["action_zh"].notna().all()
    assert (table["price_spread_bp"] % 5 == 0).all()
    assert table["pd_1y"].between(0, 1).all() and table["survival_12m"].between(0, 1).all()
    runs = con.execute("SELECT model, params, data_fingerprint FROM model_runs "
                       "WHERE snapshot_date = ?", [day]).df()  # fmt: skip
    assert {"ScorecardModel", "CohortMigration", "WeibullAFTModel"} <= set(runs["model"])
    assert any(m.startswith("BetaGeoModel[") for m in runs["model"])
    assert all(len(f) == 64 for f in runs["data_fingerprint"])
    assert "shape" in json.loads(runs.set_index("model").loc["WeibullAFTModel", "params"])
    names = {r[0] for r in con.execute("SELECT name FROM diagnostics").fetchall()}
    assert {"retention_curves", "btyd_calibration", "btyd_tracking", "pd_calibration"} <= names
    con.close()


def test_rerun_replaces_and_is_deterministic(store: Path) -> None:
    con = connect(store)
    day = data_date(con)
    run_snapshot(con, day, bank_capital=CAPITAL, n_draws=8)
    first = _table(con, day)
    run_snapshot(con, day, bank_capital=CAPITAL, n_draws=8)
    again = _table(con, day)
    assert con.execute("SELECT count(*) FROM snapshots WHERE snapshot_date = ?",
                       [day]).fetchall()[0][0] == 1  # fmt: skip
    assert len(again) == len(first)
    pd.testing.assert_frame_equal(first, again, rtol=1e-12)
    con.close()


def test_a_later_snapshot_and_its_trend_alerts(store: Path) -> None:
    """Snapshot a month earlier, then plant a decline — the largest customer's deposits and
    facilities vanish — and snapshot the data date: that customer raises clv_decline."""
    con = connect(store)
    day = data_date(con)
    earlier = day - dt.timedelta(days=31)
    run_snapshot(con, earlier, bank_capital=CAPITAL, n_draws=4)
    before = _table(con, earlier).set_index("customer_id")
    target = str(before["clv"].idxmax())
    con.execute("DELETE FROM deposits WHERE customer_id = ?", [target])
    con.execute("UPDATE facilities SET status = 'settled' WHERE customer_id = ?", [target])
    run_snapshot(con, day, bank_capital=CAPITAL, n_draws=4)
    dates = [r[0] for r in con.execute("SELECT snapshot_date FROM snapshots ORDER BY 1").fetchall()]
    assert dates == [earlier, day]
    alerts = con.execute("SELECT customer_id, alert, detail_zh FROM alerts WHERE snapshot_date = ?",
                         [day]).df()  # fmt: skip
    fired = alerts[alerts["customer_id"] == target]
    assert "clv_decline" in set(fired["alert"]), fired
    assert "CLV较上期下降" in fired.set_index("alert").loc["clv_decline", "detail_zh"]
    row = _table(con, day).set_index("customer_id").loc[target]
    assert "clv_decline" in row["alert_flags"] and row["n_alerts"] >= 1
    con.close()


def test_the_reports_of_a_real_snapshot(store: Path, tmp_path: Path) -> None:
    """From the warehouse: the workbook has one customer row per valued customer, its money in
    万元 adds up to the CLV within rounding, the HTML report has every chart and loads nothing
    from outside, and the exports reload to the full-precision table."""
    import openpyxl

    from lendvalue.monitoring.store import load_report_data
    from lendvalue.reporting import (
        CHART_IDS,
        label,
        write_clv_workbook,
        write_exports,
        write_html_report,
    )
    from tests.reporting.test_reports import assert_self_contained

    con = connect(store)
    day = data_date(con)
    run_snapshot(con, day, bank_capital=CAPITAL, n_draws=4)
    data = load_report_data(con, day)
    con.close()
    book = write_clv_workbook(data, tmp_path / "clv.xlsx", lang="zh")
    sheet = openpyxl.load_workbook(book, read_only=True)[label("customers", "zh")]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == label("customer_id", "zh"))
    body = [r for r in rows[header + 1 :] if r and r[0]]
    assert len(body) == len(data.clv)
    names = list(rows[header])
    parts = [names.index(label(c, "zh")) for c in CLV_COMPONENTS]
    clv_at = names.index(label("clv", "zh"))
    for r in body[:200]:
        assert abs(sum(r[i] for i in parts) - r[clv_at]) <= 0.06  # ten cells rounded to 0.01
    html = write_html_report(data, tmp_path / "clv.html", lang="zh").read_text(encoding="utf-8")
    assert all(f'id="{chart}"' in html for chart in CHART_IDS)
    assert_self_contained(html)  # nothing loaded from outside (the bundle's own strings aside)
    exported = write_exports(data, tmp_path)
    parquet = next(p for p in exported if p.name.startswith("clv_table") and p.suffix == ".parquet")
    again = pd.read_parquet(parquet)
    np.testing.assert_allclose(again["clv"].to_numpy(), data.clv["clv"].to_numpy())


def test_ratings_statements_and_psi_as_documented(store: Path) -> None:
    """The risk tier reads the internal rating (a B-rated customer is high risk whatever its
    model PD); a customer with no financial statement takes its grade's master-scale PD and is
    not assessed for a limit; the out-of-time validation reports the PSI."""
    from lendvalue.models.credit.master_scale import load_master_scale

    con = connect(store)
    day = data_date(con)
    customers = valuation_customers(con, day)["customer_id"]
    rated = con.execute(
        "SELECT customer_id FROM ratings WHERE rating_date <= ? GROUP BY customer_id",
        [day]).df()["customer_id"]  # fmt: skip
    planted = sorted(set(customers) & set(rated))[:2]  # two rated customers lose their statements
    con.execute("DELETE FROM financials WHERE customer_id IN (?, ?)", planted)
    run_snapshot(con, day, bank_capital=CAPITAL, n_draws=4)
    table = _table(con, day)
    rated_b = table[table["rating_grade"].isin(["B", "CCC"])]
    assert len(rated_b) and (rated_b["risk_tier"] == "high").all()
    rows = table[table["customer_id"].isin(planted)]
    assert len(rows) == 2
    scale = load_master_scale()
    expected = np.maximum(scale.pd_of_grade(rows["rating_grade"].tolist()), 0.0005)
    np.testing.assert_allclose(rows["pd_1y"], np.minimum(expected, 0.999))
    assert (rows["limit_binding"] == "no_statement").all()
    metrics = json.loads(con.execute(
        "SELECT metrics FROM model_runs WHERE snapshot_date = ? AND model = 'ScorecardModel'",
        [day]).fetchall()[0][0])  # fmt: skip
    assert 0 <= metrics["out_of_time_psi"] < 1 and 0.5 < metrics["out_of_time_auc"] <= 1
    con.close()
