"""Arrow schemas of the contract tables, CSV text formatting, and streaming file writers.

CSV files carry the contract's column names as an unquoted header and plain unquoted values:
dates ``YYYY-MM-DD`` (``deposits.month`` as the first of the month), timestamps
``YYYY-MM-DD HH:MM:SS``, booleans ``true``/``false``, money with exactly two decimals, other
numbers in their shortest round-trip form, and NULL as an empty field. Parquet files hold the
same values typed.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from lendvalue.contract import Column, Table

Format = Literal["csv", "parquet"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "DATE": pa.date32(),
    "MONTH": pa.date32(),
    "TIMESTAMP": pa.timestamp("s"),
    "BOOLEAN": pa.bool_(),
}

NOT_MONEY = {
    ("facilities", "rate"),
    ("facilities", "spread_bp"),
    ("facilities", "commitment_fee_bp"),
    ("deposits", "rate"),
    ("market", "rate"),
}
"""DOUBLE columns that are not amounts of money; every other DOUBLE is yuan with 2 decimals."""


def typed_schema(table: Table) -> pa.Schema:
    """The Arrow schema of a contract table, columns in contract order."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.dtype]) for c in table.columns])


def text_schema(table: Table) -> pa.Schema:
    """All-text schema used for CSV output (and for bad rows that hold unparsable text)."""
    return pa.schema([pa.field(c.name, pa.string()) for c in table.columns])


def is_money(table: Table, col: Column) -> bool:
    return col.dtype == "DOUBLE" and (table.name, col.name) not in NOT_MONEY


def money_text(values: pa.Array) -> pa.Array:
    """Amounts as text with exactly two decimals (``-1234.50``); NULL stays NULL."""
    arr = values.to_numpy(zero_copy_only=False).astype(np.float64)
    missing = np.isnan(arr)
    cents = np.rint(np.nan_to_num(arr) * 100.0).astype(np.int64)
    whole = pc.cast(pa.array(np.abs(cents) // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(np.abs(cents) % 100), pa.string()), width=2, padding="0")
    text = pc.binary_join_element_wise(whole, frac, ".")
    text = pc.if_else(pa.array(cents < 0), pc.binary_join_element_wise("-", text, ""), text)
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def column_text(table: Table, col: Column, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One typed column as CSV text."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == pa.string():
        return values
    if is_money(table, col):
        return money_text(values)
    return pc.cast(values, pa.string())


def to_text(table: Table, data: pa.Table) -> pa.Table:
    """A typed table as an all-text table for CSV."""
    return pa.table(
        [column_text(table, c, data.column(c.name)) for c in table.columns],
        schema=text_schema(table),
    )


class TableWriter:
    """Streams batches of one contract table to ``<table>.csv`` or ``<table>.parquet``."""

    def __init__(self, table: Table, out_dir: Path, fmt: Format) -> None:
        self.table = table
        self.fmt = fmt
        self.path = out_dir / f"{table.name}.{fmt}"
        self.rows = 0
        self._file: IO[bytes] | None = None
        self._csv: pa_csv.CSVWriter | None = None
        self._parquet: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._file = self.path.open("wb")
            self._file.write((",".join(table.column_names) + "\n").encode("utf-8"))
            self._csv = pa_csv.CSVWriter(
                self._file,
                text_schema(table),
                write_options=pa_csv.WriteOptions(include_header=False, quoting_style="none"),
            )
        else:
            self._parquet = pq.ParquetWriter(
                self.path, typed_schema(table), compression="zstd", write_statistics=True
            )

    def write(self, data: pa.Table) -> None:
        """Append rows: text tables for CSV, typed tables for Parquet."""
        if data.num_rows == 0:
            return
        if self._csv is not None:
            self._csv.write_table(data.cast(text_schema(self.table)))
        elif self._parquet is not None:
            self._parquet.write_table(data.cast(typed_schema(self.table)))
        self.rows += data.num_rows

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def first_line(self) -> int:
        """Line (CSV, header = 1) or 1-based row index (Parquet) the next row will get."""
        return self.rows + (2 if self.fmt == "csv" else 1)
