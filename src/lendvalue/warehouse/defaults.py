"""When each customer defaulted, from every dated source the warehouse holds — one definition
shared by the PD features, the rating histories and the valuation.

Basel (CRE36.69) and the 2023 Chinese rules call an obligor in default when it is more than
90 days past due on a material obligation or unlikely to pay. A customer's default date is the
earliest of:

- a ``credit_events`` row with ``event`` ``default``, ``overdue_90`` or ``write_off``;
- a rating of ``D``;
- the day an installment became more than 90 days past due (``due_date`` + 91 days for a
  repayment whose ``days_past_due`` exceeds 90);
- the end of a relationship with ``end_reason = 'default'`` (a late date — the workout ends
  after the default — used only when nothing earlier dates it).

A facility's ``status`` is not used: it has no date, and is the state on the load date.
"""

from __future__ import annotations

DEFAULT_EVENTS = ("default", "overdue_90", "write_off")
DPD_DEFAULT_DAYS = 90
"""More than this many days past due is default (CRE36.69; 《商业银行资本管理办法》2023)."""


def default_dates_sql() -> str:
    """A query of ``customer_id, default_date``: each customer's earliest default date (module
    notes), to use as a CTE. It reads ``credit_events``, ``ratings``, ``repayments``,
    ``facilities`` and ``relationships``."""
    events = ", ".join(f"'{e}'" for e in DEFAULT_EVENTS)
    return f"""
    SELECT customer_id, min(d) AS default_date FROM (
        SELECT customer_id, event_date AS d FROM credit_events WHERE event IN ({events})
        UNION ALL
        SELECT customer_id, rating_date FROM ratings WHERE grade = 'D'
        UNION ALL
        SELECT f.customer_id, CAST(p.due_date + INTERVAL {DPD_DEFAULT_DAYS + 1} DAY AS DATE)
        FROM repayments p JOIN facilities f USING (facility_id)
        WHERE p.days_past_due > {DPD_DEFAULT_DAYS}
        UNION ALL
        SELECT customer_id, end_date FROM relationships WHERE end_reason = 'default'
    ) GROUP BY customer_id"""
