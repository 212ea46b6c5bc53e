"""The warehouse: one DuckDB file holding the contract's tables and the load bookkeeping.

Tables:

- one per contract table, with the contract's columns and ``_load_id`` (the load that wrote the
  row);
- ``loads`` — one row per load attempt: file, sha256, rows read / loaded / quarantined /
  replaced / unchanged, start, end, status (``loaded`` or ``failed``) and message;
- ``quarantine`` — every rejected row: load, table, file, line, the rule ids it broke, the row as
  read (JSON);
- ``replacements`` — every stored row a later load replaced: key, old row, new row, both loads;
- ``contract_rules`` — the contract's rules with their Chinese and English messages, for joins;
- ``meta`` — schema version and contract fingerprint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from lendvalue.contract import TABLES, all_rules
from lendvalue.errors import StoreError
from lendvalue.warehouse.validation import NATIVE_TYPES, quote

SCHEMA_VERSION = "1"

SYSTEM_DDL = (
    """CREATE TABLE IF NOT EXISTS loads (
        load_id BIGINT PRIMARY KEY, table_name VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
        sha256 VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
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

    A read-only connection on a missing file raises ``StoreError`` telling the user to ingest.
    """
    path = Path(db_path)
    if read_only and not path.exists():
        raise StoreError(
            f"{path}: no warehouse here yet; run `lendvalue ingest` or `lendvalue demo`"
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"{path}: cannot open the warehouse: {exc}") from exc
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if not read_only:
        ensure_schema(con)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and refresh ``contract_rules`` when the contract changed.

    Changes nothing on a store that is already current, so opening a store never alters it.
    """
    existing = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    fingerprint = contract_fingerprint()
    if "meta" in existing:
        row = con.execute("SELECT value FROM meta WHERE key = 'contract'").fetchone()
        if row is not None and row[0] == fingerprint:
            return
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
