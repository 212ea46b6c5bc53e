"""Credit inputs built in the warehouse (SQL in DuckDB): rating histories for the migration
estimators and the per-facility inputs of the 五级分类 rules.

- :func:`rating_history`: every customer's ratings up to a date, cut at its first default, with
  the last day it was observed — the input of :class:`~lendvalue.models.credit.migration.
  CohortMigration` and :class:`~lendvalue.models.credit.migration.DurationMigration`.
- :func:`classification_inputs`: per facility, days past due, default, restructuring (with the
  dates the observation period needs), cross default and the current classification — the input
  of :func:`~lendvalue.models.credit.classification.classify`.

Both read the contract tables by name (``ratings``, ``credit_events``, ``relationships``,
``facilities``, ``repayments``), as views or tables, and return pandas frames.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.defaults import default_dates_sql
from lendvalue.warehouse.rfm import parse_date
from lendvalue.warehouse.sql import run_query
from lendvalue.warehouse.validation import literal

__all__ = ["classification_inputs", "rating_history"]

DEFAULT_GRADE = "D"
"""The master scale's default grade (``contract.GRADES``, last)."""
CROSS_DEFAULT_LOOKBACK_DAYS = 365
"""A ``cross_default`` event counts for this many days (the contract records no cure date)."""


def rating_history(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | str,
    *,
    default_events: bool = True,
) -> pd.DataFrame:
    """Rating histories as of ``as_of``: one row per rating, ordered by customer and date.

    Columns: ``customer_id``, ``rating_date``, ``grade``, ``source`` and ``observed_until`` (the
    relationship's end date when it ended before ``as_of``, else ``as_of``: a customer's last
    rating holds until then — censoring for the duration estimator, withdrawal for the cohort
    estimator).

    Defaults. A customer's default date is its first ``D`` rating or, with ``default_events``,
    the earliest date of :func:`lendvalue.warehouse.defaults.default_dates_sql` (default,
    90-days-overdue and write-off events, 90+ days past due in the repayments, a relationship
    ended by default): rating systems often record the default grade late (or never, when the
    obligor leaves the rating process at default). The history ends there with one ``D`` row
    at the default date (``source`` ``default_record`` when no D rating dated it); ratings on or
    after that day are dropped, because D is absorbing in the migration models (a cured
    obligor's later ratings would need a model with cures).
    """
    day = parse_date(as_of, "as_of")
    as_of_sql = f"DATE {literal(day.isoformat())}"
    d = literal(DEFAULT_GRADE)
    sources = (
        default_dates_sql()
        if default_events
        else f"SELECT customer_id, min(rating_date) AS default_date FROM ratings "
        f"WHERE grade = {d} GROUP BY customer_id"
    )
    sql = f"""
WITH r AS (
    SELECT customer_id, rating_date, grade, COALESCE(source, 'internal') AS source
    FROM ratings
    WHERE rating_date <= {as_of_sql}
),
dflt AS (
    SELECT customer_id, default_date FROM ({sources}) WHERE default_date <= {as_of_sql}
),
kept AS (
    SELECT r.customer_id, r.rating_date, r.grade, r.source
    FROM r LEFT JOIN dflt USING (customer_id)
    WHERE dflt.default_date IS NULL OR r.rating_date < dflt.default_date
    UNION ALL
    SELECT dflt.customer_id, dflt.default_date, {d}, COALESCE(r.source, 'default_record')
    FROM dflt LEFT JOIN r
      ON r.customer_id = dflt.customer_id AND r.rating_date = dflt.default_date
     AND r.grade = {d}
),
ended AS (
    SELECT customer_id, min(end_date) AS end_date
    FROM relationships WHERE end_date IS NOT NULL GROUP BY customer_id
)
SELECT k.customer_id, k.rating_date, k.grade, k.source,
       CASE WHEN e.end_date < {as_of_sql} THEN e.end_date ELSE {as_of_sql} END
           AS observed_until
FROM kept k LEFT JOIN ended e USING (customer_id)
ORDER BY k.customer_id, k.rating_date
"""
    return run_query(con, sql, "rating_history")


def classification_inputs(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | str,
    *,
    snapshot_date: dt.date | str | None = None,
) -> pd.DataFrame:
    """Per facility originated on or before ``as_of``, the inputs of the 五级分类 rules.

    ``status``, ``classification`` and ``drawn_amount`` of the ``facilities`` table describe the
    day it was loaded (``snapshot_date``): classifying as of another day would read that day's
    state into the past, so a ``snapshot_date`` other than ``as_of`` is refused. Run it for the
    load date.

    Columns:

    - ``facility_id``, ``customer_id``, ``status`` (as loaded), ``exposure_yuan`` (the drawn
      balance, for the same-debtor share) and ``current_classification``
      (``facilities.classification``, the bank's current class);
    - ``days_past_due`` — current days past due on ``as_of``: the age of the oldest installment
      due on or before ``as_of`` and not paid by then (0 when nothing is overdue or nothing is
      due);
    - ``defaulted`` — the facility's status is ``defaulted`` or ``written_off``, or the customer
      has a ``default`` credit event on or after the facility's origination and the facility is
      not ``settled`` (default is an obligor-level event for corporates; a facility repaid in
      full has nothing left to classify);
    - ``restructured``, ``restructure_date`` (latest ``restructure`` event on or before
      ``as_of``; an event without ``facility_id`` applies to all the customer's facilities),
      ``previous_restructure_date`` (the one before, for 再次重组) and ``observation_start`` (the
      first due date after the restructuring: the 重组观察期 starts at the first repayment date
      after the contract change; the day after ``as_of`` when none has fallen due yet — the
      period has not started, so it runs at least ``observation_months`` from then);
    - ``cross_default`` — a ``cross_default`` event in the :data:`CROSS_DEFAULT_LOOKBACK_DAYS`
      before ``as_of`` (the debtor's debt at another bank has gone bad);
    - ``cross_default_share`` — empty: the contract holds no field for the share of the debtor's
      debt at all banks that is more than 90 days past due; fill it from the credit-bureau
      (征信) report when available.
    """
    day = parse_date(as_of, "as_of")
    if snapshot_date is not None and parse_date(snapshot_date, "snapshot_date") != day:
        raise DataContractError(
            f"classification_inputs: the facilities table describes {snapshot_date} (its status, "
            f"class and balance); classify as of that date, not {day}"
        )
    a = f"DATE {literal(day.isoformat())}"
    sql = f"""
WITH fac AS (
    SELECT facility_id, customer_id, status, classification AS current_classification,
           drawn_amount AS exposure_yuan, origination_date
    FROM facilities
    WHERE origination_date <= {a}
),
late AS (
    SELECT facility_id,
           max(CASE WHEN due_date <= {a} AND (paid_date IS NULL OR paid_date > {a})
                    THEN date_diff('day', due_date, {a}) END) AS days_past_due
    FROM repayments
    GROUP BY facility_id
),
ev AS (
    SELECT customer_id, event_date, event, facility_id FROM credit_events
    WHERE event_date <= {a}
),
restr AS (
    SELECT f.facility_id, e.event_date,
           row_number() OVER (PARTITION BY f.facility_id ORDER BY e.event_date DESC) AS rn
    FROM ev e JOIN fac f
      ON e.customer_id = f.customer_id
     AND (e.facility_id IS NULL OR e.facility_id = f.facility_id)
    WHERE e.event = 'restructure'
),
restr_last AS (
    SELECT facility_id,
           max(CASE WHEN rn = 1 THEN event_date END) AS restructure_date,
           max(CASE WHEN rn = 2 THEN event_date END) AS previous_restructure_date
    FROM restr GROUP BY facility_id
),
obs AS (
    SELECT r.facility_id,
           COALESCE(min(p.due_date) FILTER (WHERE p.due_date <= {a}),
                    CAST({a} + INTERVAL 1 DAY AS DATE)) AS observation_start
    FROM restr_last r LEFT JOIN repayments p
      ON p.facility_id = r.facility_id AND p.due_date > r.restructure_date
    GROUP BY r.facility_id
),
dflt AS (
    SELECT f.facility_id
    FROM fac f JOIN ev e
      ON e.customer_id = f.customer_id AND e.event = 'default'
     AND e.event_date >= f.origination_date AND f.status <> 'settled'
    GROUP BY f.facility_id
),
xdef AS (
    SELECT DISTINCT customer_id FROM ev
    WHERE event = 'cross_default' AND event_date > {a} - INTERVAL {CROSS_DEFAULT_LOOKBACK_DAYS} DAY
)
SELECT f.facility_id, f.customer_id, f.status, f.exposure_yuan, f.current_classification,
       CAST(COALESCE(late.days_past_due, 0) AS BIGINT) AS days_past_due,
       (f.status IN ('defaulted', 'written_off') OR dflt.facility_id IS NOT NULL) AS defaulted,
       (r.restructure_date IS NOT NULL) AS restructured,
       r.restructure_date, r.previous_restructure_date, obs.observation_start,
       (xdef.customer_id IS NOT NULL) AS cross_default,
       CAST(NULL AS DOUBLE) AS cross_default_share
FROM fac f
LEFT JOIN late USING (facility_id)
LEFT JOIN restr_last r USING (facility_id)
LEFT JOIN obs USING (facility_id)
LEFT JOIN dflt USING (facility_id)
LEFT JOIN xdef ON xdef.customer_id = f.customer_id
ORDER BY f.facility_id
"""
    return run_query(con, sql, "classification_inputs")
