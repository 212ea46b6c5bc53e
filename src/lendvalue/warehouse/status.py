"""What the store holds: rows per table, recent loads, quarantine counts by table and rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from lendvalue.errors import DataContractError
from lendvalue.warehouse.store import scalar, table_counts


def store_status(con: duckdb.DuckDBPyConnection, *, recent: int = 20) -> dict[str, Any]:
    """A JSON-ready summary of the warehouse.

    Keys: ``tables`` (rows per contract table), ``loads`` (the ``recent`` latest loads, newest
    first), ``quarantine`` (rows per table and rule, with the rule's messages), and
    ``reconciled`` (True when read = loaded + quarantined for every load).
    """
    loads = con.execute(
        f"""SELECT load_id, table_name, source_file, status, rows_read, rows_loaded,
                   rows_quarantined, rows_replaced, rows_unchanged,
                   strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started_at,
                   round(epoch(ended_at) - epoch(started_at), 3) AS seconds, message
            FROM loads ORDER BY load_id DESC LIMIT {int(recent)}"""
    ).fetchall()
    load_cols = [
        "load_id",
        "table",
        "source_file",
        "status",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_replaced",
        "rows_unchanged",
        "started_at",
        "seconds",
        "message",
    ]
    by_rule = con.execute(
        """SELECT q.table_name, r.rule, count(*) AS n,
                  any_value(c.description_zh), any_value(c.description_en)
           FROM quarantine q, unnest(q.rules) AS r(rule)
           LEFT JOIN contract_rules c ON c.rule_id = r.rule
           GROUP BY ALL ORDER BY q.table_name, n DESC, r.rule"""
    ).fetchall()
    unreconciled = scalar(
        con,
        "SELECT count(*) FROM loads WHERE status = 'loaded' "
        "AND rows_read <> rows_loaded + rows_quarantined",
    )
    return {
        "tables": table_counts(con),
        "loads": [dict(zip(load_cols, row, strict=True)) for row in loads],
        "quarantine": [
            {"table": t, "rule": rule, "rows": int(n), "zh": zh, "en": en}
            for t, rule, n, zh, en in by_rule
        ],
        "quarantined_rows": int(scalar(con, "SELECT count(*) FROM quarantine")),
        "reconciled": unreconciled == 0,
    }


def data_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The date the warehouse's data describe: the latest day anything was observed — a rating,
    a fee transaction, a repayment paid or a credit event (a deposit month counts by its first
    day). Runs default to it, so a store loaded today with data as of last month is valued as
    of last month."""
    value = scalar(
        con,
        """SELECT max(d) FROM (
            SELECT max(rating_date) AS d FROM ratings
            UNION ALL SELECT max(CAST(ts AS DATE)) FROM transactions
            UNION ALL SELECT max(paid_date) FROM repayments
            UNION ALL SELECT max(event_date) FROM credit_events
            UNION ALL SELECT max(month) FROM deposits)""",
    )
    if value is None:
        raise DataContractError(
            "the warehouse holds no dated observations (ratings, transactions, repayments, "
            "credit events, deposits): load data first, or give --as-of"
        )
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
