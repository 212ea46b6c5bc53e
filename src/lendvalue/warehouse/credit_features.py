"""PD-model features built in the warehouse (SQL in DuckDB): financial ratios, their trend and
the customer's behaviour at the bank, as of a date, with the default flag of the following
months for training.

One row per customer performing on ``as_of`` (a relationship running, no default on or before
it). Financial statements count from ``statement_lag_months`` after their period end (an
annual report for 31 December arrives by the end of April), so a model never sees a statement
it could not have had. A ratio whose denominator is zero or missing is missing (NULL), not
infinite: the scorecard gives missing values their own bin.

Ratios of the latest available statement:

- ``leverage`` = total liabilities / total assets;
- ``interest_cover`` = EBITDA / interest expense;
- ``dscr`` = operating cash flow / debt service (principal and interest due);
- ``current_ratio`` = current assets / current liabilities;
- ``roa`` = net income / total assets;
- ``ebitda_margin`` = EBITDA / revenue; ``net_margin`` = net income / revenue;
- ``revenue_growth`` = revenue / the previous statement's revenue − 1 (statements 10–14 months
  apart); ``leverage_change`` = leverage − the previous statement's leverage;
- ``log_total_assets`` = ln(total assets in yuan), the size;
- ``statement_age_months`` since its period end.

Behaviour at the bank:

- ``max_dpd_12m`` — the most days past due of any repayment due in the past 12 months (0 when
  none was due); ``late_payments_12m`` — repayments due in that window paid 30+ days late;
- ``utilisation`` — drawn over limit of the facilities running on ``as_of`` (missing without
  facilities);
- ``deposit_trend`` — ln((1 + average deposits of the last 3 months) / (1 + of the 3 before));
- ``grade_index`` — the latest rating on or before ``as_of`` (AAA = 0 … CCC = 6), missing when
  unrated.

Target: ``default_flag`` = 1 when the customer defaults (a ``default`` credit event or a
rating of D) within ``horizon_months`` after ``as_of``; missing when that window runs past
``observed_until`` (the end of the data), so an unobserved future is not read as "no default".
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.features import GRADES
from lendvalue.warehouse.rfm import parse_date
from lendvalue.warehouse.validation import literal

RATIO_FEATURES = (
    "leverage", "interest_cover", "dscr", "current_ratio", "roa", "ebitda_margin",
    "net_margin", "revenue_growth", "leverage_change", "log_total_assets",
    "statement_age_months",
)  # fmt: skip
BEHAVIOUR_FEATURES = (
    "max_dpd_12m", "late_payments_12m", "utilisation", "deposit_trend", "grade_index",
)  # fmt: skip
FEATURES = RATIO_FEATURES + BEHAVIOUR_FEATURES


def credit_features(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | str,
    *,
    horizon_months: int = 12,
    statement_lag_months: int = 4,
    observed_until: dt.date | str | None = None,
) -> pd.DataFrame:
    """Features of every customer performing on ``as_of`` and its default flag over the next
    ``horizon_months`` (module notes). Columns: ``customer_id``, :data:`FEATURES`,
    ``default_flag``, ``default_date``."""
    day = parse_date(as_of, "as_of")
    end = parse_date(observed_until, "observed_until") if observed_until is not None else None
    if horizon_months < 1 or statement_lag_months < 0:
        raise DataContractError("horizon_months must be ≥ 1 and statement_lag_months ≥ 0")
    at = f"DATE {literal(day.isoformat())}"
    until = f"DATE {literal(end.isoformat())}" if end is not None else "NULL"
    grade_case = " ".join(f"WHEN {literal(g)} THEN {i}" for i, g in enumerate(GRADES))
    default_grade = literal(GRADES[-1])
    sql = f"""
WITH defaults AS (
    SELECT customer_id, min(d) AS default_date FROM (
        SELECT customer_id, event_date AS d FROM credit_events WHERE event = 'default'
        UNION ALL
        SELECT customer_id, rating_date FROM ratings WHERE grade = {default_grade}
    ) GROUP BY customer_id
),
performing AS (
    SELECT DISTINCT r.customer_id
    FROM relationships r LEFT JOIN defaults d USING (customer_id)
    WHERE r.start_date <= {at} AND (r.end_date IS NULL OR r.end_date > {at})
      AND (d.default_date IS NULL OR d.default_date > {at})
),
statements AS (
    SELECT f.*, row_number() OVER (PARTITION BY customer_id ORDER BY period_end DESC) AS k
    FROM financials f
    WHERE period_end + INTERVAL {int(statement_lag_months)} MONTH <= {at}
),
latest AS (SELECT * FROM statements WHERE k = 1),
previous AS (SELECT * FROM statements WHERE k = 2),
repaid AS (
    SELECT f.customer_id, max(p.days_past_due) AS max_dpd,
           count(*) FILTER (WHERE p.days_past_due >= 30) AS late
    FROM repayments p JOIN facilities f USING (facility_id)
    WHERE p.due_date > {at} - INTERVAL 12 MONTH AND p.due_date <= {at}
    GROUP BY f.customer_id
),
lines AS (
    SELECT customer_id, sum(drawn_amount) / sum(limit_amount) AS utilisation
    FROM facilities
    WHERE origination_date <= {at} AND maturity_date > {at}
    GROUP BY customer_id
),
dep AS (
    SELECT customer_id,
           avg(avg_balance) FILTER (WHERE month > {at} - INTERVAL 3 MONTH) AS recent,
           avg(avg_balance) FILTER (WHERE month <= {at} - INTERVAL 3 MONTH) AS before
    FROM deposits
    WHERE month > {at} - INTERVAL 6 MONTH AND month <= {at}
    GROUP BY customer_id
),
rated AS (
    SELECT customer_id, arg_max(CASE grade {grade_case} END, rating_date) AS grade_index
    FROM ratings WHERE rating_date <= {at} GROUP BY customer_id
)
SELECT p.customer_id,
       l.total_liabilities / nullif(l.total_assets, 0) AS leverage,
       l.ebitda / nullif(l.interest_expense, 0) AS interest_cover,
       l.operating_cash_flow / nullif(l.debt_service, 0) AS dscr,
       l.current_assets / nullif(l.current_liabilities, 0) AS current_ratio,
       l.net_income / nullif(l.total_assets, 0) AS roa,
       l.ebitda / nullif(l.revenue, 0) AS ebitda_margin,
       l.net_income / nullif(l.revenue, 0) AS net_margin,
       CASE WHEN date_diff('month', v.period_end, l.period_end) BETWEEN 10 AND 14
            THEN l.revenue / nullif(v.revenue, 0) - 1 END AS revenue_growth,
       CASE WHEN date_diff('month', v.period_end, l.period_end) BETWEEN 10 AND 14
            THEN l.total_liabilities / nullif(l.total_assets, 0)
                 - v.total_liabilities / nullif(v.total_assets, 0) END AS leverage_change,
       ln(nullif(l.total_assets, 0)) AS log_total_assets,
       date_diff('month', l.period_end, {at}) AS statement_age_months,
       COALESCE(rp.max_dpd, 0) AS max_dpd_12m,
       COALESCE(rp.late, 0) AS late_payments_12m,
       ln.utilisation,
       ln(1 + COALESCE(dep.recent, 0)) - ln(1 + COALESCE(dep.before, 0)) AS deposit_trend,
       rated.grade_index,
       CASE WHEN {until} IS NOT NULL AND {at} + INTERVAL {int(horizon_months)} MONTH > {until}
                 THEN NULL
            WHEN d.default_date <= {at} + INTERVAL {int(horizon_months)} MONTH THEN 1
            ELSE 0 END AS default_flag,
       CASE WHEN d.default_date <= {at} + INTERVAL {int(horizon_months)} MONTH
            THEN d.default_date END AS default_date
FROM performing p
LEFT JOIN latest l USING (customer_id)
LEFT JOIN previous v USING (customer_id)
LEFT JOIN repaid rp USING (customer_id)
LEFT JOIN lines ln USING (customer_id)
LEFT JOIN dep USING (customer_id)
LEFT JOIN rated USING (customer_id)
LEFT JOIN defaults d USING (customer_id)
ORDER BY p.customer_id
"""
    try:
        frame = con.execute(sql).df()
    except duckdb.Error as exc:
        raise DataContractError(f"credit_features: {str(exc).splitlines()[0]}") from exc
    numeric = [*FEATURES, "default_flag"]
    frame[numeric] = frame[numeric].astype("float64")
    return frame
