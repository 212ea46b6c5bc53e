"""Shared fixtures: small, valid rows for every contract table, and a fresh warehouse."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from lendvalue.contract import TABLES
from lendvalue.warehouse.store import connect

GOOD_ROWS: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "C1",
        "name": "北京甲制造有限公司",
        "uscc": "91110000600037341L",
        "industry": "C3611",
        "region": "110000",
        "size_class": "large",
        "group_id": "",
        "rm_id": "RM1",
        "onboard_date": "2015-03-01",
        "acquisition_cost": "20000",
    },
    "facilities": {
        "facility_id": "F1",
        "customer_id": "C1",
        "product": "term_loan",
        "limit_amount": "1000000",
        "drawn_amount": "500000",
        "currency": "CNY",
        "origination_date": "2020-01-01",
        "maturity_date": "2025-01-01",
        "rate_type": "lpr_1y",
        "rate": "",
        "spread_bp": "50",
        "amortization": "annuity",
        "collateral_type": "real_estate",
        "upfront_fee": "1000",
        "commitment_fee_bp": "",
        "classification": "normal",
        "status": "active",
    },
    "repayments": {
        "facility_id": "F1",
        "due_date": "2021-01-01",
        "paid_date": "2021-01-01",
        "principal": "10000",
        "interest": "3000",
        "fee": "0",
        "days_past_due": "0",
    },
    "transactions": {
        "customer_id": "C1",
        "ts": "2021-05-01 10:00:00",
        "product_line": "settlement",
        "amount": "120.5",
    },
    "deposits": {
        "customer_id": "C1",
        "month": "2020-01",
        "avg_balance": "3000000",
        "rate": "0.005",
    },
    "financials": {
        "customer_id": "C1",
        "period_end": "2010-12-31",
        "revenue": "5e8",
        "ebitda": "6e7",
        "net_income": "2e7",
        "total_assets": "8e8",
        "total_liabilities": "5e8",
        "current_assets": "3e8",
        "current_liabilities": "2e8",
        "interest_expense": "1e7",
        "debt_service": "4e7",
        "operating_cash_flow": "5e7",
    },
    "ratings": {
        "customer_id": "C1",
        "rating_date": "2020-06-30",
        "grade": "BBB",
        "source": "internal",
    },
    "credit_events": {
        "customer_id": "C1",
        "event_date": "2020-01-01",
        "event": "lawsuit",
        "facility_id": "F1",
        "amount": "100000",
        "detail": "合同纠纷",
    },
    "marketing": {
        "campaign_id": "M1",
        "customer_id": "C1",
        "segment": "",
        "date": "2024-03-01",
        "channel": "rm_visit",
        "cost": "500",
        "treated": "true",
    },
    "relationships": {
        "customer_id": "C1",
        "start_date": "2015-03-01",
        "end_date": "",
        "end_reason": "",
    },
    "market": {"date": "2024-01-22", "curve": "lpr", "tenor": "1Y", "rate": "0.0345"},
}
"""One row per table that breaks no rule; parents C1..C99 and F1 exist (see ``parents``)."""

assert set(GOOD_ROWS) == {t.name for t in TABLES}


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """Write rows as a UTF-8 CSV with a header; ``columns`` defaults to the first row's keys."""
    columns = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def parent_rows() -> dict[str, list[dict[str, str]]]:
    """Customers C1..C99 and facility F1: parents every child row in the tests refers to."""
    customers = []
    for i in range(1, 100):
        row = dict(GOOD_ROWS["customers"], customer_id=f"C{i}")
        customers.append(row)
    return {"customers": customers, "facilities": [GOOD_ROWS["facilities"]]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh warehouse file under tmp_path."""
    con = connect(tmp_path / "lendvalue.duckdb")
    yield con
    con.close()


@pytest.fixture
def parents(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The store with the parent rows loaded."""
    from lendvalue.warehouse.ingest import ingest_paths

    folder = tmp_path / "parents"
    folder.mkdir()
    for name, rows in parent_rows().items():
        write_csv(folder / f"{name}.csv", rows)
    results = ingest_paths(store, [folder])
    assert all(r.rows_quarantined == 0 for r in results), results
    return store
