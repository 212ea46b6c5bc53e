"""Validated, atomic, idempotent loads of bank files into the warehouse.

One load = one table's rows from one file (or one Excel sheet):

1. the rows are checked against the contract: one set-based query for the single-row rules
   (:func:`lendvalue.warehouse.validation.checked_query`), then the cross-row rules
   (``reference``, ``key.unique``) over its result — in connection-local temp tables, before any
   write;
2. in one transaction: rows that break any rule go to ``quarantine`` with every rule they broke;
   good rows whose key is already stored with the same content are left alone (``unchanged``),
   with different content they replace the stored row and the replacement is written to
   ``replacements``; new keys are inserted; the load is recorded in ``loads`` after checking that
   read = loaded + quarantined.

Either the transaction commits or nothing changes: a killed process, a full disk or any exception
leaves the data exactly as before. A failed attempt is then noted in ``loads`` with status
``failed`` and the reason, when the store can still be written. A file already loaded into the
same table with the same mapping and contract (same SHA-256) is skipped without touching the
store; ``force=True`` (``--reload``) loads it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from lendvalue.contract import TABLES, Table, get_table
from lendvalue.errors import DataContractError, LendvalueError, StoreError
from lendvalue.warehouse.mapping import EMPTY_MAPPING, Mapping, resolve_columns, table_for_file
from lendvalue.warehouse.sources import (
    Source,
    file_kind,
    folder_files,
    open_source,
    sha256_of,
    sheet_names,
)
from lendvalue.warehouse.store import contract_fingerprint, scalar
from lendvalue.warehouse.validation import (
    checked_query,
    cross_row_rules,
    literal,
    quote,
    raw_rows_sql,
)


@dataclass(frozen=True)
class LoadResult:
    """What one load did. ``status`` is ``loaded``, ``unchanged`` (already loaded; the store was
    not touched), ``skipped`` (an Excel sheet that holds no contract table) or ``failed``."""

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


@dataclass(frozen=True)
class PlannedLoad:
    """A file (and sheet) with the table it holds; ``table`` None means: skip this sheet."""

    path: Path
    table: str | None
    sheet: str | None = None


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the data files inside named folders."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += folder_files(path)
        elif path.exists():
            files.append(path)
        else:
            raise DataContractError(f"{path}: no such file or folder")
    return files


def plan_loads(files: Sequence[Path], table: str | None, mapping: Mapping) -> list[PlannedLoad]:
    """Pair each file — each sheet of a workbook — with its table, parents before children.

    A sheet named after a contract table holds that table; another sheet holds ``table`` when
    given, else the table the workbook's name says, else it is skipped (and reported).
    """
    if table is not None:
        get_table(table)
    planned: list[PlannedLoad] = []
    for path in files:
        by_name = table or table_for_file(path, mapping)
        if file_kind(path) != "xlsx":
            if by_name is None:
                raise DataContractError(
                    f"{path}: cannot tell which table this file holds from its name; name it "
                    f"after a table ({', '.join(t.name for t in TABLES)}), pass --table, or add "
                    "a files pattern to the mapping"
                )
            planned.append(PlannedLoad(path, by_name))
            continue
        for sheet in sheet_names(path):
            by_sheet = table_for_file(Path(sheet + ".xlsx"), mapping)
            planned.append(PlannedLoad(path, by_sheet or by_name, sheet))
    order = {t.name: i for i, t in enumerate(TABLES)}
    return sorted(planned, key=lambda p: order.get(p.table or "", len(order)))


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    *,
    table: str | None = None,
    mapping: Mapping = EMPTY_MAPPING,
    load_date: dt.date | None = None,
    force: bool = False,
    on_result: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Load every file under ``paths``, parents first. Stops at the first failed load: the loads
    before it stay committed, and re-running is safe because loaded files are skipped."""
    load_date = load_date or dt.date.today()
    digests: dict[Path, str] = {}
    results = []
    for planned in plan_loads(expand_paths(paths), table, mapping):
        digest = digests.get(planned.path) or digests.setdefault(
            planned.path, sha256_of(planned.path)
        )
        if planned.table is None:
            label = f"{planned.path}#{planned.sheet}"
            result = LoadResult(
                None, "", label, digest, "skipped",
                message="the sheet's name is not a contract table; pass --table to load it",
            )  # fmt: skip
        else:
            result = load_file(
                con, planned, get_table(planned.table), digest, mapping, load_date, force
            )
        results.append(result)
        if on_result:
            on_result(result)
    return results


def config_fingerprint(table: Table, mapping: Mapping) -> str:
    """What else decides a load's outcome besides the file: the contract and the mapping."""
    text = contract_fingerprint() + json.dumps(
        mapping.for_table(table.name).model_dump(mode="json"), sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_file(
    con: duckdb.DuckDBPyConnection,
    planned: PlannedLoad,
    table: Table,
    digest: str,
    mapping: Mapping,
    load_date: dt.date,
    force: bool = False,
) -> LoadResult:
    """Validate and load one file (or sheet) into ``table`` (see the module docstring)."""
    label = f"{planned.path}#{planned.sheet}" if planned.sheet else str(planned.path)
    config = config_fingerprint(table, mapping)
    previous = None
    if not force:
        previous = scalar(
            con,
            "SELECT max(load_id) FROM loads WHERE table_name = ? AND sha256 = ? AND status = "
            "'loaded' AND sheet IS NOT DISTINCT FROM ? AND config = ?",
            [table.name, digest, planned.sheet, config],
        )
    if previous is not None:
        return LoadResult(
            int(previous), table.name, label, digest, "unchanged",
            message=f"already loaded by load {previous}; nothing to do (--reload to load again)",
        )  # fmt: skip
    started = dt.datetime.now()
    try:
        tmap = mapping.for_table(table.name)
        with open_source(
            con,
            planned.path,
            planned.sheet,
            check_header=lambda names: resolve_columns(table, names, tmap, label),
        ) as source:
            return _load_source(con, source, table, digest, config, mapping, load_date, started)
    except BaseException as exc:
        _note_failure(con, table.name, label, planned.sheet, digest, config, started, exc)
        if isinstance(exc, LendvalueError | KeyboardInterrupt):
            raise
        if isinstance(exc, OSError):
            raise StoreError(
                f"{label}: {exc.strerror or exc}; the load into {table.name} was rolled back"
            ) from exc
        raise StoreError(
            f"{label}: load into {table.name} failed and was rolled back: {exc}"
        ) from exc


def _load_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: Table,
    digest: str,
    config: str,
    mapping: Mapping,
    load_date: dt.date,
    started: dt.datetime,
) -> LoadResult:
    tmap = mapping.for_table(table.name)
    columns, ignored = resolve_columns(table, list(source.columns), tmap, source.label)
    query = checked_query(table, source.sql, source.columns, columns, tmap.values, load_date)
    try:
        crossed = _check(con, table, query, raw_rows_sql(source.sql, source.columns), source.label)
        con.begin()
        try:
            load_id = int(scalar(con, "SELECT COALESCE(max(load_id), 0) + 1 FROM loads"))
            counts = _write(con, table, crossed, source.first_line, load_id, source.label)
            con.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?)",
                [
                    load_id, table.name, source.label, source.sheet, digest, config,
                    counts["read"], counts["loaded"], counts["quarantined"], counts["replaced"],
                    counts["unchanged"], ignored, started, dt.datetime.now(), "",
                ],
            )  # fmt: skip
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.execute("DROP TABLE IF EXISTS _checked")
        con.execute("DROP TABLE IF EXISTS _cross")
    return LoadResult(
        load_id, table.name, source.label, digest, "loaded",
        rows_read=counts["read"], rows_loaded=counts["loaded"],
        rows_quarantined=counts["quarantined"], rows_replaced=counts["replaced"],
        rows_unchanged=counts["unchanged"], ignored_columns=tuple(ignored),
    )  # fmt: skip


def _check(
    con: duckdb.DuckDBPyConnection, table: Table, query: str, raw_rows: str, label: str
) -> bool:
    """Materialise the checked rows in ``_checked`` and the cross-row findings in ``_cross``;
    True when there are cross-row findings."""
    try:
        con.execute(f"CREATE TEMP TABLE _checked AS {query}")
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise DataContractError(
            f"{label}: cannot read the rows: {str(exc).splitlines()[0]}"
        ) from exc
    return _cross_row_findings(con, table, raw_rows)


def _cross_row_findings(con: duckdb.DuckDBPyConnection, table: Table, raw_rows: str) -> bool:
    """Find the rows of ``_checked`` that break ``reference`` or ``key.unique`` into ``_cross``
    (``_pos``, ``rules``, ``_raw``); True when there are any.

    Usually there are none and this costs two cheap scans; otherwise the source is read once more
    for those rows' raw values (good rows do not keep theirs).
    """
    con.execute(
        f"""CREATE TEMP TABLE _cross AS
            SELECT _pos, list(rule) AS rules FROM ({cross_row_rules(table, "_checked")})
            GROUP BY _pos"""
    )
    if scalar(con, "SELECT count(*) FROM _cross") == 0:
        return False
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cross AS
            SELECT x._pos, x.rules, r._raw
            FROM _cross x JOIN ({raw_rows}) r ON r._pos = x._pos"""
    )
    return True


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
        findings = "LEFT JOIN _cross x ON x._pos = c._pos"
        rules = "list_sort(list_concat(COALESCE(c._rules, []), COALESCE(x.rules, [])))"
        raw = "COALESCE(c._raw, x._raw)"
        bad = "c._rules IS NOT NULL OR x._pos IS NOT NULL"
    else:
        findings, rules, raw, bad = "", "c._rules", "c._raw", "c._rules IS NOT NULL"
    name = quote(table.name)
    cols = [quote(c.name) for c in table.columns]
    col_list = ", ".join(cols)
    quarantined = scalar(
        con,
        f"""INSERT INTO quarantine
            SELECT {load_id}, {literal(table.name)}, {literal(label)}, c._pos + {first_line},
                   {rules}, {raw}
            FROM _checked c {findings} WHERE {bad}""",
    )
    read = scalar(con, "SELECT count(*) FROM _checked")
    good = (
        f"(SELECT {', '.join('c.' + c for c in cols)} FROM _checked c {findings} WHERE NOT ({bad}))"
    )
    replaced = unchanged = 0
    if scalar(con, f"SELECT count(*) FROM (SELECT 1 FROM {name} LIMIT 1)") > 0:
        replaced, unchanged = _replace_by_key(con, table, good, load_id)
        key_eq = " AND ".join(f"g.{quote(k)} IS NOT DISTINCT FROM m.{quote(k)}" for k in table.key)
        inserted = scalar(
            con,
            f"""INSERT INTO {name}
                SELECT {col_list}, {load_id} FROM {good} g
                WHERE NOT EXISTS (SELECT 1 FROM _match m WHERE NOT m.changed AND {key_eq})""",
        )
        con.execute("DROP TABLE _match")
    else:
        inserted = scalar(con, f"INSERT INTO {name} SELECT {col_list}, {load_id} FROM {good}")
    loaded = inserted + unchanged
    if read != loaded + quarantined:
        raise StoreError(
            f"{label}: read {read} rows but loaded {loaded} and quarantined {quarantined}; "
            "the load was rolled back (please report this)"
        )
    return {
        "read": read,
        "loaded": loaded,
        "quarantined": quarantined,
        "replaced": replaced,
        "unchanged": unchanged,
    }


def _replace_by_key(
    con: duckdb.DuckDBPyConnection, table: Table, good: str, load_id: int
) -> tuple[int, int]:
    """Match good rows to stored rows by key (into ``_match``), record and delete the stored rows
    whose content changed; return (replaced, unchanged)."""
    name = quote(table.name)
    cols = [quote(c.name) for c in table.columns]
    key_eq = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM g.{quote(k)}" for k in table.key)
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
    match_eq = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM m.{quote(k)}" for k in table.key)
    con.execute(
        f"DELETE FROM {name} t WHERE EXISTS (SELECT 1 FROM _match m WHERE m.changed AND {match_eq})"
    )
    replaced = scalar(con, "SELECT count(*) FROM _match WHERE changed")
    unchanged = scalar(con, "SELECT count(*) FROM _match WHERE NOT changed")
    return replaced, unchanged


def _note_failure(
    con: duckdb.DuckDBPyConnection,
    table: str,
    label: str,
    sheet: str | None,
    digest: str,
    config: str,
    started: dt.datetime,
    exc: BaseException,
) -> None:
    """Record a failed attempt in ``loads``; best effort (the disk may be full)."""
    with contextlib.suppress(duckdb.Error, OSError):
        con.execute(
            "INSERT INTO loads VALUES "
            "(?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, [], ?, ?, 'failed', ?)",
            [
                int(scalar(con, "SELECT COALESCE(max(load_id), 0) + 1 FROM loads")),
                table, label, sheet, digest, config, started, dt.datetime.now(),
                f"{type(exc).__name__}: {exc}"[:2000],
            ],
        )  # fmt: skip
