"""A 20,000-customer sample bank in DuckDB views, shared by the retention tests."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest

from lendvalue.sample import generate_sample

TABLES = ("customers", "relationships", "marketing", "ratings", "facilities", "deposits",
          "repayments", "transactions")  # fmt: skip
INDUSTRY_RISK = {"industry_risk": ["B", "E", "H", "K", "C30", "C31", "C32"]}
"""The generator's risky industries (truth.json) as warehouse industry groups."""


@pytest.fixture(scope="package")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, Any]:
    folder = tmp_path_factory.mktemp("retention")
    summary = generate_sample(folder, customers=20_000, seed=7, fmt="parquet")
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{folder / table}.parquet'")
    return con, truth
