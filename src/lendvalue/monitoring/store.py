"""The pipeline's results in the warehouse: ``clv_table`` (one row per customer per snapshot),
``alerts``, ``snapshots``, ``model_runs`` and ``diagnostics`` (chart data as JSON).

A snapshot is written in one transaction that first deletes every row of that snapshot date
from all five tables: re-running a date replaces it, atomically — a failure leaves the previous
version in place — and a later date adds a snapshot beside the others.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pandas as pd

from lendvalue.reporting.data import ALERT_COLUMNS, CLV_TABLE_COLUMNS, ReportData
from lendvalue.warehouse.store import scalar

_TEXT = {"customer_id", "customer_name", "rm_id", "industry", "region", "size_class",
         "group_id", "grade", "rating_grade", "classification", "value_tier", "value_tier_zh",
         "risk_tier", "risk_tier_zh", "risk_reason", "segment", "segment_zh", "segment_en",
         "action_zh", "action_en", "limit_binding", "limit_binding_zh", "alert_flags"}  # fmt: skip
_INTEGER = {"review_months", "n_alerts"}

DDL = {
    "clv_table": "CREATE TABLE IF NOT EXISTS clv_table ("
    + ", ".join(
        f"{c} {'DATE' if c == 'snapshot_date' else 'VARCHAR' if c in _TEXT else 'BIGINT' if c in _INTEGER else 'DOUBLE'}"  # noqa: E501
        for c in CLV_TABLE_COLUMNS
    )
    + ", PRIMARY KEY (snapshot_date, customer_id))",
    "alerts": """CREATE TABLE IF NOT EXISTS alerts (snapshot_date DATE, customer_id VARCHAR,
        alert VARCHAR, severity VARCHAR, value DOUBLE, threshold DOUBLE, detail_zh VARCHAR,
        detail_en VARCHAR)""",
    "snapshots": """CREATE TABLE IF NOT EXISTS snapshots (snapshot_date DATE PRIMARY KEY,
        created_at TIMESTAMP, customers BIGINT, total_clv DOUBLE, total_realised DOUBLE,
        assumptions_name VARCHAR, assumptions_sha256 VARCHAR, policy_name VARCHAR,
        bank_name VARCHAR, seconds DOUBLE)""",
    "model_runs": """CREATE TABLE IF NOT EXISTS model_runs (run_id VARCHAR, snapshot_date DATE,
        model VARCHAR, version VARCHAR, fitted_at TIMESTAMP, n_obs DOUBLE, params VARCHAR,
        standard_errors VARCHAR, metrics VARCHAR, data_fingerprint VARCHAR)""",
    "diagnostics": """CREATE TABLE IF NOT EXISTS diagnostics (snapshot_date DATE, name VARCHAR,
        payload VARCHAR)""",
}
RESULT_TABLES = tuple(DDL)


def ensure_result_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL.values():
        con.execute(ddl)


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot: dict[str, Any],
    clv: pd.DataFrame,
    alerts: pd.DataFrame,
    model_runs: pd.DataFrame,
    diagnostics: dict[str, pd.DataFrame],
) -> None:
    """Replace the snapshot of ``snapshot["snapshot_date"]`` in all result tables, in one
    transaction."""
    ensure_result_tables(con)
    day = snapshot["snapshot_date"]
    snap = pd.DataFrame([snapshot])
    diag = pd.DataFrame({
        "snapshot_date": [pd.Timestamp(day)] * len(diagnostics),
        "name": list(diagnostics),
        "payload": [frame.to_json(orient="split", date_format="iso", force_ascii=False)
                    for frame in diagnostics.values()],
    })  # fmt: skip
    frames = {"clv_table": clv[list(CLV_TABLE_COLUMNS)], "alerts": alerts[list(ALERT_COLUMNS)],
              "snapshots": snap, "model_runs": model_runs, "diagnostics": diag}  # fmt: skip
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame in frames.items():
            con.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [day])
            con.register("_rows", frame)
            columns = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _rows")
            con.unregister("_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def snapshot_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """The dates with a snapshot (none when the pipeline has never run; works read-only)."""
    exists = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'snapshots'"
    if not scalar(con, exists):
        return []
    rows = con.execute("SELECT snapshot_date FROM snapshots ORDER BY snapshot_date").fetchall()
    return [r[0] for r in rows]


def previous_snapshot(con: duckdb.DuckDBPyConnection, before: dt.date) -> pd.DataFrame | None:
    """The CLV table of the latest snapshot strictly before ``before`` (None if none)."""
    if not snapshot_dates(con):
        return None
    day = scalar(con, "SELECT max(snapshot_date) FROM snapshots WHERE snapshot_date < ?",
                 [before])  # fmt: skip
    if day is None:
        return None
    return con.execute("SELECT * FROM clv_table WHERE snapshot_date = ?", [day]).df()


def load_report_data(con: duckdb.DuckDBPyConnection, snapshot_date: dt.date | None = None
                     ) -> ReportData:  # fmt: skip
    """The snapshot of ``snapshot_date`` (default: the latest) as :class:`ReportData`."""
    from lendvalue.errors import DataContractError

    dates = snapshot_dates(con)
    if not dates:
        raise DataContractError("the warehouse holds no snapshot yet: run `lendvalue run` first")
    day = snapshot_date or dates[-1]
    if day not in dates:
        raise DataContractError(
            f"no snapshot on {day}; the snapshots are {', '.join(map(str, dates[-5:]))}"
        )
    snap = con.execute("SELECT * FROM snapshots WHERE snapshot_date = ?", [day]).df()
    record = {str(k): v for k, v in snap.iloc[0].to_dict().items()}
    record["snapshot_date"] = day
    clv = con.execute("SELECT * FROM clv_table WHERE snapshot_date = ? ORDER BY customer_id",
                      [day]).df()  # fmt: skip
    alerts = con.execute("SELECT * FROM alerts WHERE snapshot_date = ? "
                         "ORDER BY customer_id, alert", [day]).df()  # fmt: skip
    runs = con.execute("SELECT * FROM model_runs WHERE snapshot_date = ? ORDER BY model",
                       [day]).df()  # fmt: skip
    diag_rows = con.execute("SELECT name, payload FROM diagnostics WHERE snapshot_date = ?",
                            [day]).fetchall()  # fmt: skip
    diagnostics = {name: pd.DataFrame(**_split(payload)) for name, payload in diag_rows}
    return ReportData(snapshot=record, clv=clv, alerts=alerts, model_runs=runs,
                      diagnostics=diagnostics)  # fmt: skip


def _split(payload: str) -> dict[str, Any]:
    raw = json.loads(payload)
    return {"data": raw["data"], "columns": raw["columns"]}
