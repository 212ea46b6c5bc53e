"""Running the warehouse's feature queries: one place that turns a DuckDB error into a
:class:`~lendvalue.errors.DataContractError` naming the query and what it needs."""

from __future__ import annotations

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError


def run_query(con: duckdb.DuckDBPyConnection, sql: str, what: str) -> pd.DataFrame:
    """The result of ``sql`` as a frame; a DuckDB error (a missing table, say) becomes a
    :class:`DataContractError` starting with ``what``."""
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise DataContractError(
            f"{what}: {str(exc).splitlines()[0]} — the warehouse needs the contract tables this "
            "query reads (load them with `lendvalue ingest`)"
        ) from exc
