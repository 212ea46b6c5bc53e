"""Validated, atomic, idempotent loads of bank files into the warehouse.

One load = one table's rows from one file (or one Excel sheet), in one DuckDB transaction:

1. the file's rows are checked against the contract in one set-based query
   (:func:`lendvalue.warehouse.validation.checked_query`);
2. rows that break any rule go to ``quarantine`` with every rule they broke;
3. good rows whose key is already stored with the same content are left alone (``unchanged``);
   with different content they replace the stored row and the replacement is written to
   ``replacements``; new keys are inserted;
4. the load is recorded in ``loads``.

Either all of it commits or none of it does: a killed process, a full disk or any exception leaves
the data exactly as before (a failed attempt is then noted in ``loads`` with status ``failed``
when the store can still be written). A file whose SHA-256 was already loaded into the same table
is skipped without touching the store. Every load satisfies read = loaded + quarantined.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from lendvalue.contract import TABLES, Table, get_table
from lendvalue.errors import DataContractError, LendvalueError, StoreError
from lendvalue.warehouse.mapping import EMPTY_MAPPING, Mapping, resolve_columns, table_for_file
from lendvalue.warehouse.sources import (
    SUFFIXES,
    Source,
    file_kind,
    open_sources,
    sha256_of,
    source_columns,
)
from lendvalue.warehouse.validation import (
    checked_query,
    cross_row_rules,
    literal,
    quote,
    raw_rows_sql,
)


@dataclass(frozen=True)
class LoadResult:
    """What one load did. ``status`` is ``loaded``, ``unchanged`` (file already loaded; the store
    was not touched) or ``failed`` (rolled back)."""

    load_id: int | None
    table: str
    source_file: str
    sha256: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_replaced: int = 0
    rows_unchanged: int = 0
    ignored_columns: tuple[str, ...] = ()
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the CSV/Parquet/XLSX files inside named folders (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        elif path.exists():
            files.append(path)
        else:
            raise DataContractError(f"{path}: no such file or folder")
    return files


def plan_loads(
    files: Sequence[Path], table: str | None, mapping: Mapping
) -> list[tuple[Path, str | None]]:
    """Pair each file with its table and order them so parents load before children.

    Excel workbooks may carry one table per sheet, resolved later; their table here is the one
    given or recognised from the file name, or ``None``.
    """
    order = {t.name: i for i, t in enumerate(TABLES)}
    planned: list[tuple[Path, str | None]] = []
    for path in files:
        kind = file_kind(path)
        name = table or table_for_file(path, mapping)
        if name is None and kind != "xlsx":
            raise DataContractError(
                f"{path}: cannot tell which table this file holds from its name; name it after "
                f"a table ({', '.join(order)}), pass --table, or add a files pattern to the mapping"
            )
        if name is not None:
            get_table(name)
        planned.append((path, name))
    return sorted(planned, key=lambda pair: order.get(pair[1] or "", -1))


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    *,
    table: str | None = None,
    mapping: Mapping = EMPTY_MAPPING,
    load_date: dt.date | None = None,
    on_result: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Load every file under ``paths`` (parents first). Stops at the first failed load: the loads
    before it stay committed, and re-running is safe because loaded files are skipped."""
    results = []
    for path, name in plan_loads(expand_paths(paths), table, mapping):
        for result in ingest_file(con, path, name, mapping=mapping, load_date=load_date):
            results.append(result)
            if on_result:
                on_result(result)
    return results


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str | None,
    *,
    mapping: Mapping = EMPTY_MAPPING,
    load_date: dt.date | None = None,
) -> list[LoadResult]:
    """Load one file (every matching sheet of a workbook) and return one result per load."""
    load_date = load_date or dt.date.today()
    digest = sha256_of(path)
    results = []
    with open_sources(con, path) as sources:
        for source in sources:
            name = _source_table(source, table, mapping)
            results.append(load_source(con, source, get_table(name), digest, mapping, load_date))
    return results


def _source_table(source: Source, table: str | None, mapping: Mapping) -> str:
    if source.sheet is not None:
        by_sheet = table_for_file(Path(source.sheet + ".xlsx"), mapping)
        if by_sheet is not None:
            return by_sheet
    if table is None:
        raise DataContractError(
            f"{source.label}: cannot tell which table this sheet holds; name the sheet after a "
            "table or pass --table"
        )
    return table


def load_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: Table,
    digest: str,
    mapping: Mapping,
    load_date: dt.date,
) -> LoadResult:
    """Validate and load one source in one transaction (see the module docstring)."""
    label = source.label
    previous = con.execute(
        "SELECT load_id FROM loads WHERE table_name = ? AND sha256 = ? AND source_file LIKE ? "
        "AND status = 'loaded' ORDER BY load_id DESC LIMIT 1",
        [table.name, digest, "%" + (("#" + source.sheet) if source.sheet else "")],
    ).fetchone()
    if previous is not None:
        return LoadResult(
            int(previous[0]),
            table.name,
            label,
            digest,
            "unchanged",
            message=f"already loaded by load {previous[0]}; nothing to do",
        )
    started = dt.datetime.now()
    types = source_columns(con, source)
    tmap = mapping.for_table(table.name)
    columns, ignored = resolve_columns(table, list(types), tmap, label)
    query = checked_query(table, source.sql, types, columns, tmap.values, load_date)
    raw_rows = raw_rows_sql(source.sql, types)

    try:
        # checks run on connection-local temp tables before the transaction: they are not part
        # of the store, and outside a transaction their rowids are the rows' 0-based positions
        crossed = _check(con, table, query, raw_rows, label)
        con.begin()
        try:
            load_id = _next_load_id(con)
            counts = _write(con, table, crossed, source.first_line, load_id, label)
            con.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?)",
                [
                    load_id,
                    table.name,
                    label,
                    digest,
                    counts["read"],
                    counts["loaded"],
                    counts["quarantined"],
                    counts["replaced"],
                    counts["unchanged"],
                    ignored,
                    started,
                    dt.datetime.now(),
                    "",
                ],
            )
            con.commit()
        except BaseException as exc:
            con.rollback()
            _note_failure(con, table.name, label, digest, started, exc)
            if isinstance(exc, LendvalueError | KeyboardInterrupt):
                raise
            raise StoreError(
                f"{label}: load into {table.name} failed and was rolled back: {exc}"
            ) from exc
    finally:
        con.execute("DROP TABLE IF EXISTS _checked")
        con.execute("DROP TABLE IF EXISTS _cross")
    return LoadResult(
        load_id,
        table.name,
        label,
        digest,
        "loaded",
        rows_read=counts["read"],
        rows_loaded=counts["loaded"],
        rows_quarantined=counts["quarantined"],
        rows_replaced=counts["replaced"],
        rows_unchanged=counts["unchanged"],
        ignored_columns=tuple(ignored),
    )


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT COALESCE(max(load_id), 0) + 1 FROM loads").fetchone()
    assert row is not None
    return int(row[0])


def _check(
    con: duckdb.DuckDBPyConnection, table: Table, query: str, raw_rows: str, label: str
) -> bool:
    """Materialise the checked rows in ``_checked`` and the cross-row findings in ``_cross``;
    True when there are cross-row findings."""
    try:
        con.execute(f"CREATE TEMP TABLE _checked AS {query}")
    except duckdb.Error as exc:
        raise DataContractError(
            f"{label}: cannot read the rows: {str(exc).splitlines()[0]}"
        ) from exc
    return _cross_row_findings(con, table, raw_rows)


def _write(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    crossed: bool,
    first_line: int,
    load_id: int,
    label: str,
) -> dict[str, int]:
    """Write quarantine, replacements and rows from the checked rows; return the counts."""
    if crossed:
        findings = "LEFT JOIN _cross x ON x._pos = c.rowid"
        rules = "list_sort(list_concat(COALESCE(c._rules, []), COALESCE(x.rules, [])))"
        raw = "COALESCE(c._raw, x._raw)"
        bad = "c._rules IS NOT NULL OR x._pos IS NOT NULL"
    else:
        findings, rules, raw, bad = "", "c._rules", "c._raw", "c._rules IS NOT NULL"
    name = quote(table.name)
    cols = [quote(c.name) for c in table.columns]
    col_list = ", ".join(cols)
    key_eq = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM g.{quote(k)}" for k in table.key)
    con.execute(
        f"""INSERT INTO quarantine
            SELECT {load_id}, {literal(table.name)}, {literal(label)}, c.rowid + {first_line},
                   {rules}, {raw}
            FROM _checked c {findings} WHERE {bad}"""
    )
    row = con.execute(
        "SELECT (SELECT count(*) FROM _checked), count(*) FROM quarantine WHERE load_id = ?",
        [load_id],
    ).fetchone()
    assert row is not None
    read, quarantined = int(row[0]), int(row[1])
    good = (
        f"(SELECT {', '.join('c.' + c for c in cols)} FROM _checked c {findings} WHERE NOT ({bad}))"
    )
    stored = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {name} LIMIT 1)").fetchone()
    replaced = unchanged = 0
    if stored is not None and stored[0] > 0:
        differs = "(" + " OR ".join(f"t.{c} IS DISTINCT FROM g.{c}" for c in cols) + ")"
        key_struct = ", ".join(f"{quote(k)} := g.{quote(k)}" for k in table.key)
        old_struct = ", ".join(f"{c} := t.{c}" for c in cols)
        new_struct = ", ".join(f"{c} := g.{c}" for c in cols)
        con.execute(
            f"""CREATE TEMP TABLE _match AS
                SELECT {", ".join(f"g.{quote(k)}" for k in table.key)}, {differs} AS changed,
                       to_json(struct_pack({key_struct})) AS key_json,
                       CASE WHEN {differs} THEN to_json(struct_pack({old_struct})) END AS old_json,
                       CASE WHEN {differs} THEN to_json(struct_pack({new_struct})) END AS new_json,
                       t._load_id AS old_load_id
                FROM {good} g JOIN {name} t ON {key_eq}"""
        )
        con.execute(
            f"""INSERT INTO replacements
                SELECT {load_id}, {literal(table.name)}, key_json, old_json, new_json, old_load_id
                FROM _match WHERE changed"""
        )
        match_eq = " AND ".join(
            f"t.{quote(k)} IS NOT DISTINCT FROM m.{quote(k)}" for k in table.key
        )
        con.execute(
            f"DELETE FROM {name} t WHERE EXISTS "
            f"(SELECT 1 FROM _match m WHERE m.changed AND {match_eq})"
        )
        counted = con.execute(
            "SELECT count(*) FILTER (WHERE changed), count(*) FILTER (WHERE NOT changed) "
            "FROM _match"
        ).fetchone()
        assert counted is not None
        replaced, unchanged = int(counted[0]), int(counted[1])
        g_eq = " AND ".join(f"g.{quote(k)} IS NOT DISTINCT FROM m.{quote(k)}" for k in table.key)
        con.execute(
            f"""INSERT INTO {name}
                SELECT {col_list}, {load_id} FROM {good} g
                WHERE NOT EXISTS (SELECT 1 FROM _match m WHERE NOT m.changed AND {g_eq})"""
        )
        con.execute("DROP TABLE _match")
    else:
        con.execute(f"INSERT INTO {name} SELECT {col_list}, {load_id} FROM {good}")
    return {
        "read": read,
        "loaded": read - quarantined,
        "quarantined": quarantined,
        "replaced": replaced,
        "unchanged": unchanged,
    }


def _cross_row_findings(con: duckdb.DuckDBPyConnection, table: Table, raw_rows: str) -> bool:
    """Find the rows of ``_checked`` that break ``reference`` or ``key.unique`` into ``_cross``
    (``_pos`` = the row's rowid, ``rules``, ``_raw``); True when there are any.

    Usually there are none and this costs two cheap scans; otherwise the source is read once more
    for those rows' raw values (good rows do not keep theirs). ``_checked`` itself is never
    updated: an update would move a row and with it its ``rowid``, which is its line.
    """
    con.execute(
        f"""CREATE TEMP TABLE _cross AS
            SELECT _pos, list(rule) AS rules, NULL AS _raw
            FROM ({cross_row_rules(table, "_checked")}) GROUP BY _pos"""
    )
    found = con.execute("SELECT count(*) FROM _cross").fetchone()
    if found is None or found[0] == 0:
        return False
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cross AS
            SELECT x._pos, x.rules, r._raw
            FROM _cross x
            JOIN (SELECT row_number() OVER () - 1 AS _pos, _raw FROM ({raw_rows})) r
              ON r._pos = x._pos"""
    )
    return True


def _note_failure(
    con: duckdb.DuckDBPyConnection,
    table: str,
    label: str,
    digest: str,
    started: dt.datetime,
    exc: BaseException,
) -> None:
    """Record a rolled-back attempt in ``loads``; best effort (the disk may be full)."""
    with contextlib.suppress(duckdb.Error, OSError):
        con.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, [], ?, ?, 'failed', ?)",
            [
                _next_load_id(con),
                table,
                label,
                digest,
                started,
                dt.datetime.now(),
                f"{type(exc).__name__}: {exc}"[:2000],
            ],
        )
