"""Input files as DuckDB relations: CSV, Parquet and Excel, each row with its line in the file.

Line numbers: CSV — the record's line, the header being line 1 (a quoted value holding a line
break counts as one line); Parquet — the 1-based row index; Excel — the sheet's row number, the
header being row 1. They come from the row's position, which DuckDB keeps through a scan.

CSV files may be UTF-8 (with or without BOM) or GB18030/GBK, which Chinese bank systems often
export; GB18030 files are transcoded to UTF-8 in a temporary file first.
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.warehouse.validation import literal, quote

SUFFIXES = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}


@dataclass(frozen=True)
class Source:
    """One table's worth of rows from a file (an Excel workbook may give several)."""

    path: Path
    label: str
    """How messages and the quarantine name it: the path, plus ``#sheet`` for Excel."""
    sql: str
    """A FROM-able expression over the rows, in file order."""
    first_line: int
    """The line number of the first row: 2 below a header, 1 for Parquet."""
    sheet: str | None = None


def file_kind(path: Path) -> str:
    """``csv``, ``parquet`` or ``xlsx`` from the suffix; anything else is a contract error."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataContractError(
            f"{path}: unsupported file type {path.suffix!r}; use CSV, Parquet or XLSX"
        )
    return kind


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_utf8(path: Path, probe_bytes: int = 4 << 20) -> bool:
    """True when the file decodes as UTF-8 (checked in full, incrementally)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(probe_bytes), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _transcode_gb18030(path: Path, tmpdir: Path) -> Path:
    """Copy a GB18030/GBK file to UTF-8; raise a contract error if it is neither encoding."""
    target = tmpdir / (path.stem + ".utf8.csv")
    try:
        with (
            path.open("r", encoding="gb18030", newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            for block in iter(lambda: src.read(1 << 20), ""):
                dst.write(block)
    except UnicodeDecodeError as exc:
        raise DataContractError(
            f"{path}: the file is neither UTF-8 nor GB18030/GBK text (byte {exc.start}); "
            "save it as UTF-8"
        ) from exc
    return target


@contextmanager
def open_sources(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[list[Source]]:
    """The sources in ``path``, valid while the context is open (temporary files, registered
    data frames)."""
    kind = file_kind(path)
    if not path.is_file():
        raise DataContractError(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="lendvalue-") as tmp:
        registered: list[str] = []
        try:
            if kind == "csv":
                readable = path if _is_utf8(path) else _transcode_gb18030(path, Path(tmp))
                sql = (
                    f"read_csv({literal(str(readable))}, all_varchar = true, header = true, "
                    "auto_detect = true)"
                )
                yield [Source(path, str(path), sql, first_line=2)]
            elif kind == "parquet":
                sql = f"read_parquet({literal(str(path))})"
                yield [Source(path, str(path), sql, first_line=1)]
            else:
                sources = []
                for i, (sheet, frame) in enumerate(_read_workbook(path).items()):
                    name = f"_xlsx_{i}"
                    con.register(name, frame)
                    registered.append(name)
                    sources.append(
                        Source(path, f"{path}#{sheet}", quote(name), first_line=2, sheet=str(sheet))
                    )
                yield sources
        finally:
            for name in registered:
                con.unregister(name)


def _read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """Every non-empty sheet, all cells as text (so codes keep leading zeros)."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise DataContractError(f"{path}: cannot read the workbook: {exc}") from exc
    out = {}
    for name, frame in sheets.items():
        if frame.shape[1] == 0:
            continue
        frame = frame.astype(object).where(frame.notna(), None)
        frame.columns = [str(c) for c in frame.columns]
        out[str(name)] = frame
    return out


def source_columns(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    """Source column -> DuckDB type."""
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source.sql}").fetchall()
    except duckdb.Error as exc:
        raise DataContractError(
            f"{source.label}: cannot read the file: {_first_line(exc)}"
        ) from exc
    return {str(name): str(dtype) for name, dtype, *_ in described}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
