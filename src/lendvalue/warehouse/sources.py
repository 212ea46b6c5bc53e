"""Input files as DuckDB relations, each row carrying its position in the file.

Every source yields the column ``__lv_pos`` (0-based position of the row) beside the file's own
columns, so a row's line never depends on the order in which DuckDB happens to process rows:

- CSV — read with DuckDB's auto-detection off (delimiter and header taken from the first line
  here), copied as text into a connection-local temp table; a plain copy keeps file order, so
  the temp table's ``rowid`` is the position. UTF-8 (with or without BOM) and GB18030/GBK
  (transcoded to a temporary UTF-8 file first) are read.
- Parquet — DuckDB's ``file_row_number``.
- Excel (.xlsx) — one source per sheet, cells read as text; the position is the data frame's row.

Line numbers reported to users: CSV — the record's line, the header being line 1 (a quoted value
holding a line break counts as one line; blank lines are skipped and not counted); Parquet — the
1-based row index; Excel — the sheet's row number, the header being row 1.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.validation import literal, quote

POS = "__lv_pos"
"""The position column every source carries."""

SUFFIXES = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}
FOLDER_SUFFIXES = {".csv", ".parquet", ".pq", ".xlsx"}
"""Suffixes picked up when a folder is ingested (a ``.txt`` loads only when named)."""

DELIMITERS = (",", "\t", "|", ";")
GLOB_CHARACTERS = set("*?[]{}")
_names = count()


@dataclass(frozen=True)
class Source:
    """One table's worth of rows from a file (an Excel workbook gives one per sheet)."""

    path: Path
    label: str
    """How messages and the quarantine name it: the path, plus ``#sheet`` for Excel."""
    sql: str
    """A FROM-able expression over the rows, with ``__lv_pos`` and the file's columns."""
    columns: dict[str, str]
    """The file's columns and their DuckDB types, in file order."""
    first_line: int
    """The line number of the row at position 0: 2 below a header, 1 for Parquet."""
    sheet: str | None = None


def file_kind(path: Path) -> str:
    """``csv``, ``parquet`` or ``xlsx`` from the suffix; anything else is a contract error."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        hint = "; save it as .xlsx" if path.suffix.lower() == ".xls" else ""
        raise DataContractError(
            f"{path}: unsupported file type {path.suffix!r}; use CSV, Parquet or XLSX{hint}"
        )
    return kind


def folder_files(folder: Path) -> list[Path]:
    """The data files in a folder, sorted; Office lock files (``~$…``) and hidden files are not
    data; an Excel 97-2003 ``.xls`` is an error rather than silently left out."""
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("~$", ".")) or not path.is_file():
            continue
        if path.suffix.lower() == ".xls":
            file_kind(path)
        if path.suffix.lower() in FOLDER_SUFFIXES:
            files.append(path)
    if not files:
        raise DataContractError(f"{folder}: no CSV, Parquet or XLSX files in this folder")
    return files


def sheet_names(path: Path) -> list[str]:
    """The sheet names of a workbook, without reading its cells."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise DataContractError(f"{path}: cannot read the workbook: {exc}") from exc
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _starts_as_utf8(path: Path, probe_bytes: int = 1 << 16) -> bool:
    """True when the file's first bytes decode as UTF-8 (a sequence cut at the end is fine).

    Only the head is probed here; DuckDB validates the rest while reading, and a file that turns
    out not to be UTF-8 further down is transcoded and read again.
    """
    with path.open("rb") as fh:
        head = fh.read(probe_bytes)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _transcode_gb18030(path: Path, tmpdir: Path) -> Path:
    """Copy a GB18030/GBK file to UTF-8; a contract error if it is neither encoding."""
    target = tmpdir / "source.utf8.csv"
    try:
        with (
            path.open("r", encoding="gb18030", newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            for block in iter(lambda: src.read(1 << 20), ""):
                dst.write(block)
    except UnicodeDecodeError as exc:
        raise DataContractError(
            f"{path}: the file is neither UTF-8 nor GB18030/GBK text; save it as UTF-8"
        ) from exc
    return target


def _safe_path(path: Path, tmpdir: Path) -> Path:
    """DuckDB expands ``* ? [ ] { }`` in file names as patterns: such a file is read through a
    link with a plain name, so it is never confused with its neighbours."""
    if not GLOB_CHARACTERS & set(str(path)):
        return path
    link = tmpdir / ("source" + path.suffix.lower())
    os.symlink(path.resolve(), link)
    return link


def _csv_header(path: Path, label: str) -> tuple[list[str], str]:
    """The header's column names and the delimiter: the candidate giving the most fields."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise DataContractError(f"{label}: the first line is empty; it must be the header")
    best: tuple[int, str, list[str]] = (0, ",", [])
    for delim in DELIMITERS:
        fields = next(csv.reader([first], delimiter=delim))
        if len(fields) > best[0]:
            best = (len(fields), delim, fields)
    names = [f.strip() for f in best[2]]
    seen: set[str] = set()
    for name in names:
        if not name or name in seen:
            what = "an empty column name" if not name else f"column {name!r} twice"
            raise DataContractError(f"{label}: the header (line 1) has {what}")
        seen.add(name)
    return names, best[1]


def _read_csv_sql(path: Path, names: list[str], delim: str) -> str:
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (
        f"read_csv({literal(str(path))}, auto_detect = false, header = true, skip = 0, "
        f"delim = {literal(delim)}, quote = '\"', escape = '\"', comment = '', "
        f"strict_mode = true, columns = {columns})"
    )


def _copy_csv(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, names: list[str], delim: str
) -> None:
    """The CSV's rows as text in the temp table ``name``, in file order."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {_read_csv_sql(path, names, delim)}"
    )


def _csv_error(label: str, exc: duckdb.Error) -> DataContractError:
    """DuckDB's CSV error as one line: where, what was expected, what came."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    where = next((x for x in lines if "CSV Error on Line" in x), lines[0] if lines else "")
    what = next((x for x in lines if x.startswith("Expected Number of Columns")), "")
    original = next((x for x in lines if x.startswith("Original Line")), "")
    line = where.split("Line:")[-1].strip() if "Line:" in where else "?"
    detail = "; ".join(x for x in (what, original) if x) or where
    return DataContractError(
        f"{label} line {line}: the row does not parse ({detail}); fix its quoting or delimiter "
        "and load the file again"
    )


@contextmanager
def open_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sheet: str | None = None,
    check_header: Callable[[list[str]], object] | None = None,
) -> Iterator[Source]:
    """The rows of ``path`` (of one ``sheet`` of a workbook), valid while the context is open.

    ``check_header`` sees a CSV's column names before any row is read, so a file without the
    required columns is refused at once. Must be entered outside a transaction: the CSV copy's
    ``rowid`` is only the row's position in a table created in auto-commit mode.
    """
    kind = file_kind(path)
    if not path.is_file():
        raise DataContractError(f"{path}: no such file")
    name = f"__lv_src_{next(_names)}"
    with tempfile.TemporaryDirectory(prefix="lendvalue-") as tmp:
        readable = _safe_path(path, Path(tmp))
        created = registered = False
        try:
            if kind == "csv":
                label = str(path)
                if not _starts_as_utf8(readable):
                    readable = _transcode_gb18030(readable, Path(tmp))
                names, delim = _csv_header(readable, label)
                if check_header is not None:
                    check_header(names)
                try:
                    _copy_csv(con, name, readable, names, delim)
                except duckdb.InvalidInputException as exc:
                    if "not utf-8 encoded" not in str(exc):
                        raise _csv_error(label, exc) from exc
                    readable = _transcode_gb18030(readable, Path(tmp))
                    try:
                        _copy_csv(con, name, readable, names, delim)
                    except duckdb.InvalidInputException as again:
                        raise _csv_error(label, again) from again
                created = True
                sql = f"(SELECT rowid AS {POS}, * FROM {name})"
                yield _source(con, path, label, sql, first_line=2)
            elif kind == "parquet":
                label = str(path)
                sql = (
                    f"(SELECT file_row_number AS {POS}, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({literal(str(readable))}, file_row_number = true))"
                )
                yield _source(con, path, label, sql, first_line=1)
            else:
                assert sheet is not None, "a workbook is read one sheet at a time"
                label = f"{path}#{sheet}"
                frame = _read_sheet(path, sheet)
                frame.insert(0, POS, range(len(frame)))
                con.register(name, frame)
                registered = True
                yield _source(con, path, label, quote(name), first_line=2, sheet=sheet)
        finally:
            if created:
                con.execute(f"DROP TABLE IF EXISTS {name}")
            if registered:
                con.unregister(name)


def _source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    sql: str,
    *,
    first_line: int,
    sheet: str | None = None,
) -> Source:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataContractError(f"{label}: cannot read the file: {first}") from exc
    columns = {str(n): str(t) for n, t, *_ in described if n != POS}
    return Source(path, label, sql, columns, first_line, sheet)


def _read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet with every cell as text (codes keep their leading zeros), empty cells as None."""
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise DataContractError(f"{path}#{sheet}: cannot read the sheet: {exc}") from exc
    frame = frame.astype(object).where(frame.notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    return frame
