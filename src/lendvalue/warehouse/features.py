"""Customer features built in the warehouse (SQL in DuckDB) for the retention models.

Two building blocks, both as of a date, both one query over the contract tables:

- :func:`relationship_spells`: the survival data — per relationship the months from its start
  to the date it enters observation (``entry``) and to the date it leaves (``duration``), and
  whether it left by attrition (``event``). Defaults end a relationship by a competing risk and
  are censored at the end date; a customer first treated by a marketing campaign has its spell
  split at that date (``treated`` 0 before, 1 after), so a treatment effect is estimated as a
  time-varying covariate. With a ``landmark`` date only relationships alive on it are kept and
  they enter at their tenure on it (a landmark design: covariates measured on the landmark
  cannot see the future).
- :func:`retention_covariates`: one row per customer with covariates known on a date: size
  class, industry groups, the rating then and at onboarding, the number of products used,
  the deposit share, recent delinquency and the trend of fee income.

Months are days / (365.25 / 12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.rfm import parse_date
from lendvalue.warehouse.validation import literal

MONTH_DAYS = 365.25 / 12
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "D")
"""Master-scale order of the ``ratings.grade`` codes; a grade's index is its position."""
GRADE_CENTRE = 3
"""Grade indices are centred on BBB (index 3), so a covariate of 0 is an investment-grade
borderline customer."""

DEFAULT_INDUSTRY_GROUPS: Mapping[str, Sequence[str]] = {
    "industry_cyclical": ("B", "E", "K"),  # mining, construction, real estate (GB/T 4754 sections)
    "industry_manufacturing": ("C",),
}
"""Industry groups as GB/T 4754 code prefixes (a section letter, or a letter and division
digits such as ``C30``); each becomes a 0/1 column. Banks set their own, e.g. their sector
risk policy's list."""


def _months(later: str, earlier: str) -> str:
    return f"(CAST(({later}) - ({earlier}) AS DOUBLE) / {MONTH_DAYS!r})"


def relationship_spells(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | str, *, landmark: dt.date | str | None = None
) -> pd.DataFrame:
    """Survival spells of every relationship observed up to ``as_of``.

    Columns: ``customer_id``, ``entry``, ``duration`` (months since the relationship's start),
    ``event`` (1 = left by attrition at ``duration``), ``treated`` (0/1 within the spell),
    ``end_reason``. Relationships starting after the landmark (or on ``as_of``) are left out.
    """
    end = parse_date(as_of, "as_of")
    mark = parse_date(landmark, "landmark") if landmark is not None else None
    if mark is not None and mark >= end:
        raise DataContractError(f"landmark {mark} must be before as_of {end}")
    as_of_sql = f"DATE {literal(end.isoformat())}"
    mark_sql = f"DATE {literal(mark.isoformat())}" if mark is not None else "NULL"
    keep = (
        f"r.start_date <= {mark_sql} AND (r.end_date IS NULL OR r.end_date > {mark_sql})"
        if mark is not None
        else f"r.start_date < {as_of_sql}"
    )
    sql = f"""
WITH rel AS (
    SELECT r.customer_id, r.start_date,
           CASE WHEN r.end_date IS NOT NULL AND r.end_date <= {as_of_sql}
                THEN r.end_date ELSE {as_of_sql} END AS stop_date,
           CASE WHEN r.end_date IS NOT NULL AND r.end_date <= {as_of_sql}
                     AND r.end_reason <> 'default' THEN 1 ELSE 0 END AS event,
           CASE WHEN r.end_date <= {as_of_sql} THEN r.end_reason END AS end_reason,
           CASE WHEN {mark_sql} IS NULL THEN r.start_date ELSE {mark_sql} END AS entry_date
    FROM relationships r
    WHERE {keep}
),
treat AS (
    SELECT customer_id, min(date) AS treated_date
    FROM marketing WHERE treated AND customer_id IS NOT NULL GROUP BY customer_id
),
spells AS (
    -- before the first treatment (or the whole spell if never treated in it)
    SELECT rel.*, 0 AS treated, rel.entry_date AS a,
           CASE WHEN t.treated_date > rel.entry_date AND t.treated_date < rel.stop_date
                THEN t.treated_date ELSE rel.stop_date END AS b,
           t.treated_date
    FROM rel LEFT JOIN treat t USING (customer_id)
    WHERE t.treated_date IS NULL OR t.treated_date > rel.entry_date
    UNION ALL
    -- from the first treatment on
    SELECT rel.*, 1 AS treated,
           CASE WHEN t.treated_date > rel.entry_date THEN t.treated_date ELSE rel.entry_date END,
           rel.stop_date, t.treated_date
    FROM rel JOIN treat t USING (customer_id)
    WHERE t.treated_date < rel.stop_date
)
SELECT customer_id,
       {_months("a", "start_date")} AS entry,
       {_months("b", "start_date")} AS duration,
       CASE WHEN b = stop_date THEN event ELSE 0 END AS event,
       treated,
       CASE WHEN b = stop_date THEN end_reason END AS end_reason
FROM spells
WHERE b > a
ORDER BY customer_id, entry
"""
    try:
        frame = con.execute(sql).df()
    except duckdb.Error as exc:
        raise DataContractError(f"relationship_spells: {str(exc).splitlines()[0]}") from exc
    for col in ("event", "treated"):
        frame[col] = frame[col].astype("int64")
    return frame


def retention_covariates(
    con: duckdb.DuckDBPyConnection,
    at: dt.date | str,
    *,
    industry_groups: Mapping[str, Sequence[str]] = DEFAULT_INDUSTRY_GROUPS,
) -> pd.DataFrame:
    """Covariates of every customer as known on ``at``.

    ``size_medium``, ``size_small``, ``size_micro`` (large is the base); one 0/1 column per
    industry group; ``grade_centred`` (latest rating on or before ``at``) and
    ``initial_grade_centred`` (the rating within a month of the relationship's start; missing
    when the rating history begins later), indices AAA = 0 … D = 7 minus 3, 0 when unrated;
    ``n_products`` (facility products running on ``at`` plus fee product lines used in the
    past 12 months); ``deposit_share`` (average deposits of the last 3 months over deposits plus
    drawn balances); ``delinquent`` (1 if any repayment due in the past 12 months was 30+ days
    late); ``fee_trend`` (log of fee income in the last 6 months over the 6 before, each + 1
    yuan); ``tenure_months``.
    """
    day = parse_date(at, "at")
    at_sql = f"DATE {literal(day.isoformat())}"
    groups = []
    for name, prefixes in industry_groups.items():
        if not name.isidentifier():
            raise DataContractError(f"industry group name {name!r} must be an identifier")
        cond = " OR ".join(f"starts_with(c.industry, {literal(p)})" for p in prefixes) or "FALSE"
        groups.append(f"CASE WHEN {cond} THEN 1 ELSE 0 END AS {name}")
    grade_case = " ".join(f"WHEN {literal(g)} THEN {i}" for i, g in enumerate(GRADES))
    sql = f"""
WITH rated AS (
    SELECT customer_id,
           arg_max(CASE grade {grade_case} END, rating_date) AS grade_now,
           arg_min(CASE grade {grade_case} END, rating_date) AS grade_first,
           min(rating_date) AS first_rated
    FROM ratings WHERE rating_date <= {at_sql} GROUP BY customer_id
),
loans AS (
    SELECT customer_id, count(DISTINCT product) AS n_loan_products,
           sum(drawn_amount) AS drawn
    FROM facilities
    WHERE origination_date <= {at_sql} AND maturity_date > {at_sql}
    GROUP BY customer_id
),
fees AS (
    SELECT customer_id,
           count(DISTINCT product_line) AS n_fee_lines,
           sum(CASE WHEN ts >= {at_sql} - INTERVAL 6 MONTH THEN amount ELSE 0 END) AS recent,
           sum(CASE WHEN ts < {at_sql} - INTERVAL 6 MONTH THEN amount ELSE 0 END) AS before
    FROM transactions
    WHERE ts >= {at_sql} - INTERVAL 12 MONTH AND ts < {at_sql} + INTERVAL 1 DAY
    GROUP BY customer_id
),
dep AS (
    SELECT customer_id, avg(avg_balance) AS deposits
    FROM deposits
    WHERE month > {at_sql} - INTERVAL 3 MONTH AND month <= {at_sql}
    GROUP BY customer_id
),
late AS (
    SELECT f.customer_id, max(p.days_past_due) AS max_dpd
    FROM repayments p JOIN facilities f USING (facility_id)
    WHERE p.due_date > {at_sql} - INTERVAL 12 MONTH AND p.due_date <= {at_sql}
    GROUP BY f.customer_id
)
SELECT c.customer_id,
       CASE WHEN c.size_class = 'medium' THEN 1 ELSE 0 END AS size_medium,
       CASE WHEN c.size_class = 'small' THEN 1 ELSE 0 END AS size_small,
       CASE WHEN c.size_class = 'micro' THEN 1 ELSE 0 END AS size_micro,
       {", ".join(groups) + "," if groups else ""}
       COALESCE(rated.grade_now - {GRADE_CENTRE}, 0) AS grade_centred,
       CASE WHEN rated.first_rated <= r.start_date + INTERVAL 31 DAY
            THEN rated.grade_first - {GRADE_CENTRE} END AS initial_grade_centred,
       COALESCE(loans.n_loan_products, 0) + COALESCE(fees.n_fee_lines, 0) AS n_products,
       CASE WHEN COALESCE(dep.deposits, 0) + COALESCE(loans.drawn, 0) > 0
            THEN COALESCE(dep.deposits, 0) / (COALESCE(dep.deposits, 0) + COALESCE(loans.drawn, 0))
            ELSE 0 END AS deposit_share,
       CASE WHEN COALESCE(late.max_dpd, 0) >= 30 THEN 1 ELSE 0 END AS delinquent,
       ln(1 + greatest(COALESCE(fees.recent, 0), 0)) - ln(1 + greatest(COALESCE(fees.before, 0), 0))
           AS fee_trend,
       {_months(at_sql, "r.start_date")} AS tenure_months
FROM customers c
JOIN relationships r USING (customer_id)
LEFT JOIN rated USING (customer_id)
LEFT JOIN loans USING (customer_id)
LEFT JOIN fees USING (customer_id)
LEFT JOIN dep USING (customer_id)
LEFT JOIN late USING (customer_id)
WHERE r.start_date <= {at_sql}
ORDER BY c.customer_id
"""
    try:
        frame = con.execute(sql).df()
    except duckdb.Error as exc:
        raise DataContractError(f"retention_covariates: {str(exc).splitlines()[0]}") from exc
    numeric = [c for c in frame.columns if c != "customer_id"]
    frame[numeric] = frame[numeric].astype("float64")
    return frame
