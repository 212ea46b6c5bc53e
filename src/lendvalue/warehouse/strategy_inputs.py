"""What the strategy stage reads from the warehouse (SQL in DuckDB), one row per customer:

- :func:`limit_inputs`: the latest financial statement available on the date (4 months after
  its period end, as the PD features take it), the industry and group, and the exposures the
  large-exposure caps and the working-capital formula need — the customer's and its group's
  drawn balances of running facilities (face amounts for guarantees and acceptances), the
  on-balance loans, and the running working-capital and revolving loans;
- :func:`customer_profiles`: the latest grade on the date, the worst 五级分类 of the customer's
  running facilities, and — when a ``clv_table`` snapshot exists on or before the date — its
  CLV, segment and value.

The facilities' balances and classes are those of the load date (the contract keeps no
history): both functions describe the customers as loaded, and are meant to be run for that
date.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lendvalue.warehouse.rfm import parse_date
from lendvalue.warehouse.sql import run_query
from lendvalue.warehouse.store import scalar
from lendvalue.warehouse.validation import literal

_CLASS_ORDER = ("normal", "special_mention", "substandard", "doubtful", "loss")


def limit_inputs(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | str, *, statement_lag_months: int = 4
) -> pd.DataFrame:
    """The columns :func:`lendvalue.strategy.limits.credit_limit` reads, for every customer:
    ``customer_id, industry, group_id`` and the latest statement's ``revenue, net_income,
    ebitda, total_assets, total_liabilities, current_assets, current_liabilities,
    interest_expense, debt_service, operating_cash_flow``; ``existing_wc_loans_yuan`` (running
    working-capital and revolving loans), ``customer_exposure_yuan``, ``customer_loans_yuan``
    and ``group_exposure_yuan`` (the group's exposure; the customer's own when it has no
    group)."""
    at = f"DATE {literal(parse_date(as_of, 'as_of').isoformat())}"
    sql = f"""
WITH latest AS (
    SELECT * FROM (
        SELECT f.*, row_number() OVER (PARTITION BY customer_id ORDER BY period_end DESC) AS k
        FROM financials f
        WHERE period_end + INTERVAL {int(statement_lag_months)} MONTH <= {at}
    ) WHERE k = 1
),
running AS (
    SELECT customer_id,
           sum(drawn_amount) AS exposure,
           sum(drawn_amount) FILTER (WHERE product NOT IN ('guarantee', 'acceptance')) AS loans,
           sum(drawn_amount) FILTER (WHERE product IN ('working_capital', 'revolver')) AS wc
    FROM facilities
    WHERE status = 'active' AND origination_date <= {at} AND maturity_date > {at}
    GROUP BY customer_id
),
per_customer AS (
    SELECT c.customer_id, c.industry, c.group_id,
           COALESCE(r.exposure, 0) AS customer_exposure_yuan,
           COALESCE(r.loans, 0) AS customer_loans_yuan,
           COALESCE(r.wc, 0) AS existing_wc_loans_yuan
    FROM customers c LEFT JOIN running r USING (customer_id)
)
SELECT p.customer_id, p.industry, p.group_id,
       l.revenue, l.net_income, l.ebitda, l.total_assets, l.total_liabilities,
       l.current_assets, l.current_liabilities, l.interest_expense, l.debt_service,
       l.operating_cash_flow,
       p.existing_wc_loans_yuan, p.customer_exposure_yuan, p.customer_loans_yuan,
       CASE WHEN p.group_id IS NULL THEN p.customer_exposure_yuan
            ELSE sum(p.customer_exposure_yuan) OVER (PARTITION BY p.group_id)
       END AS group_exposure_yuan
FROM per_customer p LEFT JOIN latest l USING (customer_id)
ORDER BY p.customer_id
"""
    return run_query(con, sql, "limit_inputs")


def customer_profiles(con: duckdb.DuckDBPyConnection, as_of: dt.date | str) -> pd.DataFrame:
    """``customer_id, size_class, grade, classification`` and, from the latest ``clv_table``
    snapshot on or before the date when the warehouse has one, ``clv, segment, deposit_value,
    fee_income`` (else empty)."""
    at = f"DATE {literal(parse_date(as_of, 'as_of').isoformat())}"
    worst = " ".join(f"WHEN {literal(c)} THEN {i}" for i, c in enumerate(_CLASS_ORDER))
    names = ", ".join(literal(c) for c in _CLASS_ORDER)
    has_clv = bool(
        scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'clv_table'")
    )
    clv_join = (
        f"""LEFT JOIN (
        SELECT customer_id, arg_max(clv, snapshot_date) AS clv,
               arg_max(segment, snapshot_date) AS segment,
               arg_max(deposit_value, snapshot_date) AS deposit_value,
               arg_max(fee_income, snapshot_date) AS fee_income
        FROM clv_table WHERE snapshot_date <= {at} GROUP BY customer_id
    ) v USING (customer_id)"""
        if has_clv
        else ""
    )
    clv_cols = (
        "v.clv, v.segment, v.deposit_value, v.fee_income" if has_clv
        else "CAST(NULL AS DOUBLE) AS clv, CAST(NULL AS VARCHAR) AS segment, "
        "CAST(NULL AS DOUBLE) AS deposit_value, CAST(NULL AS DOUBLE) AS fee_income"
    )  # fmt: skip
    sql = f"""
WITH graded AS (
    SELECT customer_id, arg_max(grade, rating_date) AS grade
    FROM ratings WHERE rating_date <= {at} GROUP BY customer_id
),
classed AS (
    SELECT customer_id, max(CASE classification {worst} END) AS worst
    FROM facilities
    WHERE status IN ('active', 'defaulted') AND origination_date <= {at}
    GROUP BY customer_id
)
SELECT c.customer_id, c.size_class, g.grade,
       list_extract([{names}], COALESCE(k.worst, 0) + 1) AS classification,
       {clv_cols}
FROM customers c
LEFT JOIN graded g USING (customer_id)
LEFT JOIN classed k USING (customer_id)
{clv_join}
ORDER BY c.customer_id
"""
    return run_query(con, sql, "customer_profiles")
