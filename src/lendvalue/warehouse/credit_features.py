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

- ``max_dpd_12m`` — the most days past due, as they stood on ``as_of``, of any installment due
  in the past 12 months or still unpaid then (0 when none was due); ``late_payments_12m`` —
  installments due in that window that were 30+ days late by ``as_of``. A delay that ran past
  ``as_of`` counts only up to ``as_of`` (the stored ``days_past_due`` is the final delay);
- ``utilisation`` — drawn over limit of the facilities running on ``as_of``. The ``facilities``
  table holds the balances of its load date, so the feature is only filled when ``as_of`` is
  that date (``observed_until`` not given, or equal to ``as_of``) and missing otherwise —
  a balance read into the past would be a look-ahead;
- ``deposit_trend`` — ln((1 + average deposits of the last 3 whole months ended by ``as_of``) /
  (1 + of the 3 before));
- ``grade_index`` — the latest rating on or before ``as_of`` (AAA = 0 … CCC = 6), missing when
  unrated.

Default: the earliest date of :func:`lendvalue.warehouse.defaults.default_dates_sql` (default,
90-days-overdue and write-off events, a D rating, an installment more than 90 days past due, a
relationship ended by default). Target: ``default_flag`` = 1 when the customer defaults within
``horizon_months`` after ``as_of``; missing when that window runs past ``observed_until`` (the
end of the data, i.e. the load date) or when ``observed_until`` is not given, so an unobserved
future is never read as "no default".
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.defaults import default_dates_sql
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
    # facilities' drawn balances describe the load date (observed_until): only then are they a
    # point-in-time utilisation
    snapshot_is_as_of = "TRUE" if end is None or end == day else "FALSE"
    # the last whole month ended by as_of (deposits are monthly averages)
    last_month = f"(date_trunc('month', {at} + INTERVAL 1 DAY) - INTERVAL 1 MONTH)"
    sql = f"""
WITH defaults AS ({default_dates_sql()}
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
late AS (
    -- days past due as they stood on as_of: an installment paid after as_of (or not at all) was
    -- as_of - due_date late then, whatever its final delay
    SELECT f.customer_id, p.due_date,
           CASE WHEN p.paid_date IS NOT NULL AND p.paid_date <= {at} THEN p.days_past_due
                ELSE greatest(date_diff('day', p.due_date, {at}), 0) END AS dpd
    FROM repayments p JOIN facilities f USING (facility_id)
    WHERE p.due_date <= {at}
      AND (p.due_date > {at} - INTERVAL 12 MONTH OR p.paid_date IS NULL OR p.paid_date > {at})
),
repaid AS (
    SELECT customer_id, max(dpd) AS max_dpd,
           count(*) FILTER (WHERE dpd >= 30 AND due_date > {at} - INTERVAL 12 MONTH) AS late
    FROM late GROUP BY customer_id
),
lines AS (
    SELECT customer_id, sum(drawn_amount) / sum(limit_amount) AS utilisation
    FROM facilities
    WHERE origination_date <= {at} AND maturity_date > {at} AND {snapshot_is_as_of}
    GROUP BY customer_id
),
dep AS (
    -- whole months that ended by as_of: the last 3 against the 3 before
    SELECT customer_id,
           avg(avg_balance) FILTER (WHERE month >= {last_month} - INTERVAL 2 MONTH) AS recent,
           avg(avg_balance) FILTER (WHERE month < {last_month} - INTERVAL 2 MONTH) AS before
    FROM deposits
    WHERE month >= {last_month} - INTERVAL 5 MONTH AND month <= {last_month}
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
       CASE WHEN {until} IS NULL OR {at} + INTERVAL {int(horizon_months)} MONTH > {until}
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
