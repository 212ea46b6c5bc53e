"""The warehouse: one DuckDB file holding the contract's tables and the load bookkeeping.

Tables:

- one per contract table, with the contract's columns and ``_load_id`` (the load that wrote the
  row);
- ``loads`` — one row per load attempt: file, sheet, sha256, config (contract and mapping
  fingerprint), rows read / loaded / quarantined / replaced / unchanged, start, end, status
  (``loaded`` or ``failed``) and message;
- ``quarantine`` — every rejected row: load, table, file, line, the rule ids it broke, the row as
  read (JSON);
- ``replacements`` — every stored row a later load replaced: key, old row, new row, both loads;
- ``contract_rules`` — the contract's rules with their Chinese and English messages, for joins;
- ``meta`` — schema version and contract fingerprint.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import duckdb

from lendvalue.contract import TABLES, all_rules
from lendvalue.errors import StoreError
from lendvalue.warehouse.validation import NATIVE_TYPES, quote

SCHEMA_VERSION = "2"

SYSTEM_DDL = (
    """CREATE TABLE IF NOT EXISTS loads (
        load_id BIGINT PRIMARY KEY, table_name VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
        sheet VARCHAR, sha256 VARCHAR, config VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
        rows_replaced BIGINT, rows_unchanged BIGINT, ignored_columns VARCHAR[],
        started_at TIMESTAMP, ended_at TIMESTAMP, status VARCHAR NOT NULL, message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        load_id BIGINT NOT NULL, table_name VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
        line_number BIGINT NOT NULL, rules VARCHAR[] NOT NULL, row_json VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS replacements (
        load_id BIGINT NOT NULL, table_name VARCHAR NOT NULL, key_json VARCHAR NOT NULL,
        old_row_json VARCHAR NOT NULL, new_row_json VARCHAR NOT NULL, old_load_id BIGINT)""",
    """CREATE TABLE IF NOT EXISTS contract_rules (
        rule_id VARCHAR PRIMARY KEY, table_name VARCHAR NOT NULL, column_name VARCHAR,
        kind VARCHAR NOT NULL, description_zh VARCHAR NOT NULL, description_en VARCHAR NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
)


def table_ddl(name: str) -> str:
    """``CREATE TABLE`` for a contract table: its typed columns plus ``_load_id``."""
    table = next(t for t in TABLES if t.name == name)
    cols = ", ".join(f"{quote(c.name)} {NATIVE_TYPES[c.dtype]}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {quote(name)} ({cols}, _load_id BIGINT NOT NULL)"


def contract_fingerprint() -> str:
    """A hash of every rule and column declaration; the schema is refreshed when it changes."""
    text = repr(TABLES) + repr(all_rules())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def connect(
    db_path: Path | str, *, read_only: bool = False, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file and make sure its schema is current.

    A read-only connection on a missing file, or on a DuckDB file that is not a lendvalue store,
    raises ``StoreError`` saying what to do.
    """
    path = Path(db_path)
    if read_only and not path.exists():
        raise StoreError(
            f"{path}: no warehouse here yet; run `lendvalue ingest` or `lendvalue demo`"
        )
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StoreError(f"{path}: cannot open the warehouse: {reason}") from exc
    # row order is part of how line numbers are kept; timestamps with a zone read as Beijing time
    con.execute("SET preserve_insertion_order = true")
    with contextlib.suppress(duckdb.Error):
        con.execute("SET TimeZone = 'Asia/Shanghai'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if read_only:
        _check_version(con, path)
    else:
        ensure_schema(con, path)
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The first value of the first row (None when there is no row).

    Always fetches everything: DuckDB refuses some operations (registering a data frame) while a
    partly fetched result is open.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "meta" not in tables:
        raise StoreError(f"{path}: this DuckDB file is not a lendvalue warehouse")
    version = scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: the warehouse has schema version {version}, this lendvalue needs "
            f"{SCHEMA_VERSION}; load the files into a new warehouse file (--db)"
        )


def ensure_schema(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
    """Create missing tables and refresh ``contract_rules`` when the contract changed.

    Changes nothing on a store that is already current, so opening a store never alters it.
    """
    existing = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    fingerprint = contract_fingerprint()
    if "meta" in existing:
        _check_version(con, path or Path("warehouse"))
        if scalar(con, "SELECT value FROM meta WHERE key = 'contract'") == fingerprint:
            return
    elif existing:
        raise StoreError(
            f"{path}: this DuckDB file holds other tables; it is not a lendvalue store"
        )
    con.begin()
    try:
        for ddl in SYSTEM_DDL:
            con.execute(ddl)
        for table in TABLES:
            con.execute(table_ddl(table.name))
        con.execute("DELETE FROM contract_rules")
        con.executemany(
            "INSERT INTO contract_rules VALUES (?, ?, ?, ?, ?, ?)",
            [(r.rule_id, r.table, r.column, r.kind, r.zh, r.en) for r in all_rules()],
        )
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('contract', ?)",
            [SCHEMA_VERSION, fingerprint],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows stored per contract table."""
    sql = " UNION ALL ".join(
        f"SELECT {i} AS i, count(*) AS n FROM {quote(t.name)}" for i, t in enumerate(TABLES)
    )
    counts = dict(con.execute(sql).fetchall())
    return {t.name: int(counts[i]) for i, t in enumerate(TABLES)}
