"""An application end to end on a sample bank ingested into a real warehouse file: the Python
function and `lendvalue price` through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lendvalue.sample import generate_sample
from lendvalue.strategy.application import evaluate_application
from lendvalue.warehouse.ingest import ingest_paths
from lendvalue.warehouse.status import data_date
from lendvalue.warehouse.store import connect

LENDVALUE = str(Path(sys.executable).with_name("lendvalue"))
CAPITAL = {"net_capital_yuan": 5e9, "tier1_net_capital_yuan": 4e9}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("application")
    generate_sample(folder / "data", customers=1_500, seed=5, fmt="parquet")
    db = folder / "bank.duckdb"
    con = connect(db)
    ingest_paths(con, [folder / "data"])
    con.close()
    return db


def _customers(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """A rated performing customer and a defaulted one."""
    rows = con.execute(
        """SELECT customer_id, arg_max(grade, rating_date) AS g FROM ratings
           GROUP BY customer_id ORDER BY customer_id"""
    ).fetchall()
    return {
        "performing": next(c for c, g in rows if g in ("A", "BBB")),
        "defaulted": next(c for c, g in rows if g == "D"),
    }


def test_an_application_from_the_warehouse(store: Path) -> None:
    con = connect(store, read_only=True)
    day = data_date(con)
    who = _customers(con)
    ok = evaluate_application(con, customer_id=who["performing"], product="term_loan",
                              amount_yuan=1e6, tenor_months=36, as_of=day,
                              collateral_type="real_estate", bank_capital=CAPITAL)  # fmt: skip
    assert ok.quote is not None and ok.quote.spread_bp % 5 == 0
    assert ok.segment_source == "risk_only" and ok.segment.startswith("mid_value_")
    assert ok.decision.outcome in ("approve", "refer", "decline")
    assert ok.limit["limit_yuan"] >= 0 and ok.limit["binding"]
    bad = evaluate_application(con, customer_id=who["defaulted"], product="working_capital",
                               amount_yuan=1e6, tenor_months=12, as_of=day,
                               bank_capital=CAPITAL)  # fmt: skip
    assert bad.quote is None and bad.decision.outcome == "decline"
    assert "in_default" in {r.code for r in bad.decision.reasons}
    con.close()


def test_price_on_the_command_line(store: Path, tmp_path: Path) -> None:
    con = connect(store, read_only=True)
    who = _customers(con)
    con.close()
    args = ["price", "--customer", who["performing"], "--product", "working_capital",
            "--amount", "2000000", "--tenor-months", "12", "--db", str(store),
            "--net-capital-yuan", "5e9", "--tier1-capital-yuan", "4e9"]  # fmt: skip
    zh = subprocess.run([LENDVALUE, *args], capture_output=True, text=True, timeout=120,
                        env={"PATH": "/usr/bin:/bin", "COLUMNS": "160"})  # fmt: skip
    assert zh.returncode == 0, zh.stderr
    assert "LPR(1Y)" in zh.stdout and "资金成本(FTP)" in zh.stdout and "以贷转存" in zh.stdout
    en = subprocess.run([LENDVALUE, *args, "--lang", "en"], capture_output=True, text=True,
                        timeout=120, env={"PATH": "/usr/bin:/bin", "COLUMNS": "160"})  # fmt: skip
    assert en.returncode == 0 and "funding (FTP)" in en.stdout and "tied lending" in en.stdout
    unknown = subprocess.run([LENDVALUE, *args[:1], "--customer", "NOBODY", *args[3:]],
                             capture_output=True, text=True, timeout=120,
                             env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert unknown.returncode == 3 and "NOBODY" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_both_capital_figures_or_none(store: Path) -> None:
    con = connect(store, read_only=True)
    who = _customers(con)
    con.close()
    only_one = subprocess.run(
        [LENDVALUE, "price", "--customer", who["performing"], "--product", "working_capital",
         "--amount", "1000000", "--tenor-months", "12", "--db", str(store),
         "--net-capital-yuan", "5e9"],
        capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert only_one.returncode == 2 and "一级资本净额" in only_one.stderr


def test_no_statement_is_not_assessable() -> None:
    """A customer without a statement gets limit 0, bound by no_statement; the others are
    assessed as usual."""
    import pandas as pd

    from lendvalue.strategy.limits import credit_limits_where_assessable

    frame = pd.DataFrame({
        "customer_id": ["A", "B"], "product": ["term_loan", "term_loan"],
        "revenue": [1e8, float("nan")], "total_assets": [2e8, float("nan")],
        "total_liabilities": [1e8, float("nan")], "operating_cash_flow": [2e7, float("nan")],
        "debt_service": [5e6, float("nan")], "customer_exposure_yuan": [0.0, 0.0],
        "requested_yuan": [1e7, 1e7],
    })  # fmt: skip
    out = credit_limits_where_assessable(frame, bank_capital=CAPITAL)
    assert out["binding"].tolist()[1] == "no_statement" and out["limit_yuan"].tolist()[1] == 0.0
    assert out["limit_yuan"].tolist()[0] > 0 and bool(out["assessable"].tolist()[0])
