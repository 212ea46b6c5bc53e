"""Valuation inputs built in the warehouse (SQL in DuckDB): who to value, what they hold, and what
they contributed in the past year.

Each function takes a DuckDB connection holding the contract tables (as tables or views) and an
as-of date, and returns a pandas frame; a missing table or column, or a market curve the query
needs and cannot find, raises :class:`~lendvalue.errors.DataContractError` naming it.

- :func:`valuation_customers` — the customers to value: relationship running, not in default
  (:func:`~lendvalue.warehouse.defaults.default_dates_sql`);
- :func:`active_facilities` — their facilities running on ``as_of`` (the load-date snapshot);
- :func:`custom_schedules` — future scheduled principal of ``custom`` facilities;
- :func:`deposit_positions` — the deposit balance and rate paid of the last 3 whole months;
- :func:`realised_contribution` — the contribution of the past ``months`` months (历史贡献), the
  column a Chinese CLV table shows beside the projected value.

Conventions shared by all of them:

- **Windows** are half-open, ``(as_of − months, as_of]`` by calendar months (a day that does not
  exist in the start month is clamped to that month's last day, as DuckDB's ``INTERVAL`` does):
  an event exactly ``months`` months before ``as_of`` is out, one on ``as_of`` is in.
- **Whole months.** ``deposits`` rows are monthly averages keyed by the month's first day. A
  month is whole by ``as_of`` when its last day is on or before ``as_of``; "the last ``n``
  whole months" end with the latest such month (``as_of``'s own month when ``as_of`` is its last
  day, else the month before).
- **Curves in force.** A rate of the ``market`` table in force on a day is, per tenor point, the
  latest row dated on or before that day — or the earliest row when the day precedes the curve's
  history (the convention of :class:`lendvalue.valuation.curves.MarketCurves`, so history and
  projection read the same rates). Between tenor points the rate is linear in the tenor in
  months (``1M`` = 1, ``1Y`` = 12, ``D`` and ``W`` as fractions of a month), flat beyond the
  shortest and longest points.
- **Months of tenure** are days / (365.25 / 12), as in :mod:`lendvalue.warehouse.features`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lendvalue.contract import get_table
from lendvalue.errors import DataContractError
from lendvalue.warehouse.defaults import default_dates_sql
from lendvalue.warehouse.features import MONTH_DAYS
from lendvalue.warehouse.rfm import parse_date
from lendvalue.warehouse.sql import run_query
from lendvalue.warehouse.validation import literal

__all__ = [
    "DEPOSIT_MONTHS",
    "FLOATING_FTP_TENOR_MONTHS",
    "REALISED_COMPONENTS",
    "active_facilities",
    "custom_schedules",
    "deposit_positions",
    "realised_contribution",
    "valuation_customers",
]

DEPOSIT_MONTHS = 3
"""Whole months averaged by :func:`deposit_positions`."""
FLOATING_FTP_TENOR_MONTHS = 12
"""The FTP tenor charged to an LPR-linked facility in :func:`realised_contribution`: the 1Y LPR
resets yearly, so its funding reprices like one-year money."""
DEPOSIT_FTP_TENOR_MONTHS = 12
"""The deposit FTP tenor credited to deposits in :func:`realised_contribution`."""
REALISED_COMPONENTS = (
    "interest_income", "funding_cost", "fee_income", "deposit_value", "write_offs",
)  # fmt: skip
"""The signed columns of :func:`realised_contribution`; their sum is ``realised``."""

_TENOR_UNIT_MONTHS = {"D": 12 / 365.25, "W": 12 / 52.1775, "M": 1.0, "Y": 12.0}
"""Months per tenor unit (as :func:`lendvalue.valuation.curves.tenor_months`)."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_next = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return dt.date(year, month + 1, min(day.day, (first_next - dt.timedelta(days=1)).day))


def _last_whole_month(day: dt.date) -> dt.date:
    """First day of the latest month whose last day is on or before ``day``."""
    return _add_months((day + dt.timedelta(days=1)).replace(day=1), -1)


def _date(day: dt.date) -> str:
    return f"DATE {literal(day.isoformat())}"


def _tenor_months_sql(tenor: str) -> str:
    """SQL for a ``market.tenor`` code (``3M``, ``1Y``) in months."""
    unit = " ".join(f"WHEN {literal(u)} THEN {m!r}" for u, m in _TENOR_UNIT_MONTHS.items())
    return (
        f"(CAST(regexp_extract({tenor}, '^([0-9]+)', 1) AS DOUBLE) "
        f"* CASE upper(right({tenor}, 1)) {unit} END)"
    )


def _curve_at_sql(name: str, curve: str, keys: str) -> str:
    """CTEs ending in ``name(day, tenor_m, rate)``: the ``curve`` of ``market`` in force on
    ``day`` at ``tenor_m`` months (module notes), for every row of the CTE ``keys(day,
    tenor_m)``. A curve without rows gives no row (the caller reports it)."""
    c = literal(curve)
    return f"""
{name}_pts AS (
    SELECT date, tenor, {_tenor_months_sql("tenor")} AS tenor_m, rate
    FROM market WHERE curve = {c}
),
{name}_first AS (
    SELECT tenor, arg_min(rate, date) AS rate FROM {name}_pts GROUP BY tenor
),
{name}_grid AS (
    SELECT k.day, k.tenor_m AS target, t.tenor, t.tenor_m
    FROM (SELECT DISTINCT day, tenor_m FROM {keys}) k
    CROSS JOIN (SELECT DISTINCT tenor, tenor_m FROM {name}_pts) t
),
{name}_points AS (
    SELECT g.day, g.target, g.tenor_m, COALESCE(p.rate, f.rate) AS rate
    FROM {name}_grid g
    ASOF LEFT JOIN {name}_pts p ON g.tenor = p.tenor AND g.day >= p.date
    JOIN {name}_first f ON f.tenor = g.tenor
),
{name}_sides AS (
    SELECT day, target,
           max(tenor_m) FILTER (WHERE tenor_m <= target) AS lo_t,
           arg_max(rate, tenor_m) FILTER (WHERE tenor_m <= target) AS lo_r,
           min(tenor_m) FILTER (WHERE tenor_m >= target) AS hi_t,
           arg_min(rate, tenor_m) FILTER (WHERE tenor_m >= target) AS hi_r
    FROM {name}_points GROUP BY day, target
),
{name} AS (
    SELECT day, target AS tenor_m,
           CASE WHEN lo_t IS NULL THEN hi_r
                WHEN hi_t IS NULL OR hi_t = lo_t THEN lo_r
                ELSE lo_r + (hi_r - lo_r) * (target - lo_t) / (hi_t - lo_t) END AS rate
    FROM {name}_sides
)"""


def _valuation_customers_sql(at: str) -> str:
    return f"""
WITH defaults AS ({default_dates_sql()}
)
SELECT c.customer_id, c.size_class, c.group_id, c.rm_id, c.industry, c.region,
       CAST(date_diff('day', r.start_date, {at}) AS DOUBLE) / {MONTH_DAYS!r} AS tenure_months,
       CAST(0.0 AS DOUBLE) AS acquisition_cost,
       FALSE AS prospect
FROM relationships r
JOIN customers c USING (customer_id)
LEFT JOIN defaults d USING (customer_id)
WHERE r.start_date <= {at} AND (r.end_date IS NULL OR r.end_date > {at})
  AND (d.default_date IS NULL OR d.default_date > {at})"""


# --------------------------------------------------------------------------------------------
# Customers and their book
# --------------------------------------------------------------------------------------------


def valuation_customers(con: duckdb.DuckDBPyConnection, as_of: dt.date | str) -> pd.DataFrame:
    """The customers to value on ``as_of``, ordered by ``customer_id``.

    A customer is valued when its relationship is running on ``as_of`` (``start_date <= as_of``
    and ``end_date`` empty or after ``as_of``) and it is not in default on ``as_of`` (no default
    date of :func:`~lendvalue.warehouse.defaults.default_dates_sql` on or before it): a
    defaulted obligor is a workout case, valued by its recoveries, not by a CLV.

    Columns: ``customer_id``, ``size_class``, ``group_id``, ``rm_id``, ``industry``, ``region``
    (from ``customers``); ``tenure_months`` since ``relationships.start_date``,

    .. math:: \\text{tenure} = (\\text{as\\_of} - \\text{start\\_date})_{\\text{days}}
              / (365.25 / 12);

    ``acquisition_cost`` = 0 (an existing customer is acquired: its acquisition cost is sunk;
    ``customers.acquisition_cost`` is history, not a future cash flow) and ``prospect`` = False.
    """
    at = _date(parse_date(as_of, "as_of"))
    sql = _valuation_customers_sql(at) + "\nORDER BY c.customer_id"
    frame = run_query(con, sql, "valuation_customers")
    frame["tenure_months"] = frame["tenure_months"].astype("float64")
    frame["acquisition_cost"] = frame["acquisition_cost"].astype("float64")
    frame["prospect"] = frame["prospect"].astype(bool)
    return frame


def active_facilities(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | str,
    *,
    snapshot_date: dt.date | str | None = None,
) -> pd.DataFrame:
    """The facilities of the :func:`valuation_customers` running on ``as_of``: ``status``
    ``active`` and ``origination_date <= as_of < maturity_date``; every contract column of
    ``facilities``, in contract order, ordered by ``facility_id``.

    The ``facilities`` table is a snapshot of its load date (``drawn_amount``, ``status``,
    ``classification``): valuing it as of another day would read that day's balances into the
    past (or future), so a ``snapshot_date`` other than ``as_of`` is refused, as in
    :func:`lendvalue.warehouse.ratings.classification_inputs`. Run it for the load date.

    Facilities of customers not valued (defaulted, relationship ended) are left out: their
    ``status`` may still read ``active`` when the bank has not updated it.
    """
    day = parse_date(as_of, "as_of")
    if snapshot_date is not None and parse_date(snapshot_date, "snapshot_date") != day:
        raise DataContractError(
            f"active_facilities: the facilities table describes {snapshot_date} (its status and "
            f"drawn balances); value the book as of that date, not {day}"
        )
    at = _date(day)
    cols = ", ".join(f"f.{c}" for c in get_table("facilities").column_names)
    sql = f"""
WITH valued AS ({_valuation_customers_sql(at)}
)
SELECT {cols}
FROM facilities f
WHERE f.status = 'active' AND f.origination_date <= {at} AND f.maturity_date > {at}
  AND f.customer_id IN (SELECT customer_id FROM valued)
ORDER BY f.facility_id
"""
    return run_query(con, sql, "active_facilities")


def custom_schedules(con: duckdb.DuckDBPyConnection, as_of: dt.date | str) -> pd.DataFrame:
    """Future scheduled principal of the facilities with ``amortization`` ``custom``:
    ``facility_id``, ``due_date``, ``principal``, ordered by facility and due date.

    A bank loads a custom schedule as ``repayments`` rows without ``paid_date``. A row counts
    when it falls due after ``as_of`` and was not paid by ``as_of`` (``paid_date`` empty or
    later): a future installment prepaid before ``as_of`` is already out of the balance. Rows
    due on or before ``as_of`` are arrears or history, not schedule. This is the input
    ``custom_schedules`` of :func:`lendvalue.valuation.book.facility_book`.
    """
    at = _date(parse_date(as_of, "as_of"))
    sql = f"""
SELECT p.facility_id, p.due_date, CAST(p.principal AS DOUBLE) AS principal
FROM repayments p JOIN facilities f USING (facility_id)
WHERE f.amortization = 'custom' AND p.due_date > {at}
  AND (p.paid_date IS NULL OR p.paid_date > {at})
ORDER BY p.facility_id, p.due_date
"""
    return run_query(con, sql, "custom_schedules")


def deposit_positions(con: duckdb.DuckDBPyConnection, as_of: dt.date | str) -> pd.DataFrame:
    """Each customer's deposits over the last :data:`DEPOSIT_MONTHS` whole months ended by
    ``as_of`` (module notes), ordered by ``customer_id``; customers without a ``deposits`` row
    in those months have no row.

    Columns:

    - ``balance_yuan`` — the mean of ``avg_balance`` over the months with a row (a month
      without a row is unobserved, not zero; ``months_observed`` says how many there were);
    - ``rate`` — the balance-weighted rate paid, a month without ``rate`` counting as paying 0
      (and 0 when every balance is 0),

      .. math:: r = \\frac{\\sum_m B_m r_m}{\\sum_m B_m};

    - ``months_observed`` — the months with a row (1 to 3).
    """
    day = parse_date(as_of, "as_of")
    last = _last_whole_month(day)
    first = _add_months(last, -(DEPOSIT_MONTHS - 1))
    sql = f"""
SELECT customer_id,
       avg(avg_balance) AS balance_yuan,
       COALESCE(sum(avg_balance * COALESCE(rate, 0)) / nullif(sum(avg_balance), 0), 0) AS rate,
       count(*) AS months_observed
FROM deposits
WHERE month >= {_date(first)} AND month <= {_date(last)}
GROUP BY customer_id
ORDER BY customer_id
"""
    frame = run_query(con, sql, "deposit_positions")
    frame[["balance_yuan", "rate"]] = frame[["balance_yuan", "rate"]].astype("float64")
    frame["months_observed"] = frame["months_observed"].astype("int64")
    return frame


# --------------------------------------------------------------------------------------------
# Realised contribution
# --------------------------------------------------------------------------------------------


def realised_contribution(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | str, *, months: int = 12
) -> pd.DataFrame:
    """What each customer contributed in the ``months`` months up to ``as_of`` (历史贡献),
    pre-tax, in yuan: one row per customer of ``customers`` (zeros where nothing happened),
    ordered by ``customer_id``.

    The window is ``(as_of − months, as_of]`` (module notes). Columns, signed (costs negative):

    - ``interest_income`` — ``repayments.interest`` of the rows paid in the window (by
      ``paid_date``; unpaid interest is not income). Interest is booked when received, which
      is what a contribution report can reconcile to the ledger; accrual would need the daily
      balances the contract does not hold.
    - ``funding_cost`` — the FTP charge on the balances that earned that interest. The contract
      holds no balance history, so each repayment row's funded balance × period is recovered
      from its interest and the loan's rate:

      .. math:: FC_j = -I_j \\,\\frac{\\text{FTP}_j}{r_j}

      (interest = balance × r × time, funding = balance × FTP × time). ``r_j`` is the facility's
      ``rate`` for ``fixed`` facilities; for ``lpr_1y`` / ``lpr_5y`` it is the 1Y / 5Y LPR
      (``market`` curve ``lpr``) in force on the due date plus ``spread_bp`` / 10⁴.
      ``FTP_j`` is, as in the valuation engine (``lendvalue.valuation.book``), for a fixed-rate
      facility the matched-maturity FTP locked at origination (the ``ftp`` curve in force on
      the origination date at the original term, round((maturity − origination) in days /
      (365.25 / 12)), at least 1 month), and for a floating one the ``ftp`` curve in force on
      the due date at :data:`FLOATING_FTP_TENOR_MONTHS` months (the reference rate plus the
      curve's spread then).
      Approximations: (a) the LPR on the due date stands for the rate of the whole period,
      whereas contracts reprice on their reset dates (usually yearly), so for a period spanning
      an LPR change the recovered balance is off by the ratio of the two rates; (b) a floating
      loan's FTP is read on the due date, not at its last reset; (c) floating loans are
      charged 12-month FTP whatever their reset frequency; (d) penalty interest (罚息) is in
      ``fee``, not ``interest``, so it carries no funding charge. Rows whose ``r_j`` is 0 or
      missing (acceptances, guarantees — off-balance, no funding) are charged nothing.
    - ``fee_income`` — ``transactions.amount`` by the date of ``ts`` in the window (negative
      amounts, refunds, included), ``repayments.fee`` of the rows paid in the window, and
      ``facilities.upfront_fee`` of the facilities originated in the window (booked at
      origination, not amortised).
    - ``deposit_value`` — for each of the ``months`` whole months ended by ``as_of`` (the
      window's months when ``as_of`` is a month end; a mid-month ``as_of`` takes the last whole
      months, as deposits are monthly averages):

      .. math:: DV_m = B_m \\,(\\text{DFTP}_{12}(e_m) - r_m) / 12

      with ``B_m`` ``avg_balance``, ``r_m`` the rate paid (0 when missing) and
      ``DFTP_12(e_m)`` the ``deposit_ftp`` curve at :data:`DEPOSIT_FTP_TENOR_MONTHS` months in
      force on the month's last day (one-twelfth of a year per month, whatever its days).
    - ``write_offs`` — minus the ``amount`` of ``credit_events`` rows with ``event``
      ``write_off`` dated in the window (rows without an amount are skipped). Expected loss is
      a projection; realised loss is the write-off, when it is booked.
    - ``realised`` — their sum.

    Operating cost and tax are not in the contract's history, so the figure is a pre-tax,
    pre-cost contribution.

    Raises
    ------
    DataContractError
        when ``months`` < 1, when a table or column is missing, or when a row needs an ``lpr``,
        ``ftp`` or ``deposit_ftp`` rate and the ``market`` table has no such curve (or tenor).
    """
    day = parse_date(as_of, "as_of")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise DataContractError(
            f"realised_contribution: months must be an integer ≥ 1, got {months!r}"
        )
    start = _add_months(day, -months)
    last = _last_whole_month(day)
    first = _add_months(last, -(months - 1))
    at, lo = _date(day), _date(start)
    ts_lo = f"TIMESTAMP {literal((start + dt.timedelta(days=1)).isoformat())}"
    ts_hi = f"TIMESTAMP {literal((day + dt.timedelta(days=1)).isoformat())}"
    sql = f"""
WITH paid AS (
    SELECT f.customer_id, p.due_date AS day, p.interest, COALESCE(p.fee, 0) AS fee,
           CASE WHEN f.rate_type = 'fixed' THEN f.origination_date ELSE p.due_date END
               AS ftp_day,
           f.rate_type, f.rate AS fixed_rate, COALESCE(f.spread_bp, 0) AS spread_bp,
           CASE f.rate_type WHEN 'lpr_5y' THEN '5Y' ELSE '1Y' END AS lpr_tenor,
           CASE WHEN f.rate_type = 'fixed'
                THEN greatest(round(CAST(date_diff('day', f.origination_date, f.maturity_date)
                                         AS DOUBLE) / {MONTH_DAYS!r}), 1)
                ELSE {float(FLOATING_FTP_TENOR_MONTHS)!r} END AS tenor_m
    FROM repayments p JOIN facilities f USING (facility_id)
    WHERE p.paid_date > {lo} AND p.paid_date <= {at}
),
lpr_keys AS (
    SELECT DISTINCT day, lpr_tenor AS tenor FROM paid WHERE rate_type <> 'fixed'
),
lpr_first AS (
    SELECT tenor, arg_min(rate, date) AS rate FROM market WHERE curve = 'lpr' GROUP BY tenor
),
lpr_at AS (
    SELECT k.day, k.tenor, COALESCE(m.rate, f.rate) AS rate
    FROM lpr_keys k
    ASOF LEFT JOIN (SELECT date, tenor, rate FROM market WHERE curve = 'lpr') m
      ON k.tenor = m.tenor AND k.day >= m.date
    LEFT JOIN lpr_first f ON f.tenor = k.tenor
),
rated AS (
    SELECT p.*,
           CASE WHEN p.rate_type = 'fixed' THEN p.fixed_rate
                ELSE l.rate + p.spread_bp / 1e4 END AS loan_rate,
           (p.rate_type <> 'fixed' AND l.rate IS NULL) AS lpr_missing
    FROM paid p LEFT JOIN lpr_at l ON l.day = p.day AND l.tenor = p.lpr_tenor
),
ftp_keys AS (SELECT DISTINCT ftp_day AS day, tenor_m FROM rated WHERE loan_rate > 0),
{_curve_at_sql("ftp_at", "ftp", "ftp_keys")},
loans AS (
    SELECT r.customer_id,
           sum(r.interest) AS interest_income,
           sum(CASE WHEN r.loan_rate > 0 THEN -r.interest * f.rate / r.loan_rate ELSE 0 END)
               AS funding_cost,
           sum(r.fee) AS repayment_fees,
           count(*) FILTER (WHERE r.interest <> 0 AND r.lpr_missing) AS lpr_missing,
           count(*) FILTER (WHERE r.interest <> 0 AND r.loan_rate > 0 AND f.rate IS NULL)
               AS ftp_missing
    FROM rated r LEFT JOIN ftp_at f ON f.day = r.ftp_day AND f.tenor_m = r.tenor_m
    GROUP BY r.customer_id
),
upfront AS (
    SELECT customer_id, sum(COALESCE(upfront_fee, 0)) AS upfront_fees
    FROM facilities
    WHERE origination_date > {lo} AND origination_date <= {at}
    GROUP BY customer_id
),
txn AS (
    SELECT customer_id, sum(amount) AS transaction_fees
    FROM transactions WHERE ts >= {ts_lo} AND ts < {ts_hi}
    GROUP BY customer_id
),
dep AS (
    SELECT customer_id, CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS day,
           CAST({float(DEPOSIT_FTP_TENOR_MONTHS)!r} AS DOUBLE) AS tenor_m,
           avg_balance, COALESCE(rate, 0) AS rate
    FROM deposits
    WHERE month >= {_date(first)} AND month <= {_date(last)}
),
{_curve_at_sql("dftp_at", "deposit_ftp", "dep")},
deposit AS (
    SELECT d.customer_id, sum(d.avg_balance * (f.rate - d.rate) / 12) AS deposit_value,
           count(*) FILTER (WHERE f.rate IS NULL) AS dftp_missing
    FROM dep d LEFT JOIN dftp_at f ON f.day = d.day AND f.tenor_m = d.tenor_m
    GROUP BY d.customer_id
),
losses AS (
    SELECT customer_id, -sum(amount) AS write_offs
    FROM credit_events
    WHERE event = 'write_off' AND amount IS NOT NULL
      AND event_date > {lo} AND event_date <= {at}
    GROUP BY customer_id
),
parts AS (
    SELECT c.customer_id,
           COALESCE(l.interest_income, 0) AS interest_income,
           COALESCE(l.funding_cost, 0) AS funding_cost,
           COALESCE(t.transaction_fees, 0) + COALESCE(l.repayment_fees, 0)
               + COALESCE(u.upfront_fees, 0) AS fee_income,
           COALESCE(d.deposit_value, 0) AS deposit_value,
           COALESCE(w.write_offs, 0) AS write_offs,
           COALESCE(l.lpr_missing, 0) AS _lpr_missing,
           COALESCE(l.ftp_missing, 0) AS _ftp_missing,
           COALESCE(d.dftp_missing, 0) AS _dftp_missing
    FROM customers c
    LEFT JOIN loans l USING (customer_id)
    LEFT JOIN upfront u USING (customer_id)
    LEFT JOIN txn t USING (customer_id)
    LEFT JOIN deposit d USING (customer_id)
    LEFT JOIN losses w USING (customer_id)
)
SELECT *, interest_income + funding_cost + fee_income + deposit_value + write_offs AS realised
FROM parts
ORDER BY customer_id
"""
    frame = run_query(con, sql, "realised_contribution")
    missing = {
        "lpr": "floating-rate repayments need the 'lpr' curve (tenors 1Y and 5Y)",
        "ftp": "repayments need the loan 'ftp' curve",
        "dftp": "deposit months need the 'deposit_ftp' curve",
    }
    for key, need in missing.items():
        rows = int(frame[f"_{key}_missing"].sum())
        if rows:
            raise DataContractError(
                f"realised_contribution: {rows} rows in the window found no rate — {need} in "
                "the market table; load it"
            )
    frame = frame.drop(columns=[f"_{key}_missing" for key in missing])
    value_cols = [*REALISED_COMPONENTS, "realised"]
    frame[value_cols] = frame[value_cols].astype("float64")
    return frame
