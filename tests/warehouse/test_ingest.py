"""Loads: atomic under a kill or an error, idempotent, replacing by key with a record, reconciled,
and readable from CSV (UTF-8 and GB18030), Parquet and Excel, with or without a mapping file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lendvalue.contract import TABLES, is_valid_uscc
from lendvalue.errors import DataContractError, StoreError
from lendvalue.warehouse.ingest import ingest_paths
from lendvalue.warehouse.mapping import load_mapping
from lendvalue.warehouse.store import connect
from tests.conftest import GOOD_ROWS, parent_rows, write_csv

SYSTEM_TABLES = ("loads", "quarantine", "replacements", "contract_rules", "meta")


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: the store's content."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [t.name for t in TABLES] + list(SYSTEM_TABLES)
        return {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"').fetchall())) for n in names}
    finally:
        con.close()


def customers_v2(folder: Path) -> Path:
    """A customers file that replaces C1's name, adds C100 and carries one bad row."""
    rows = [dict(r) for r in parent_rows()["customers"]]
    rows[0]["name"] = "北京甲制造股份有限公司"
    rows.append(dict(GOOD_ROWS["customers"], customer_id="C100"))
    rows.append(dict(GOOD_ROWS["customers"], customer_id="C101", uscc="123"))
    return write_csv(folder / "customers_v2.csv", rows)


@pytest.fixture
def loaded_db(tmp_path: Path) -> Path:
    """A store file with the parents loaded, closed."""
    folder = tmp_path / "parents"
    folder.mkdir()
    for name, rows in parent_rows().items():
        write_csv(folder / f"{name}.csv", rows)
    db = tmp_path / "store.duckdb"
    con = connect(db)
    ingest_paths(con, [folder])
    con.close()
    return db


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from lendvalue.warehouse import ingest
    from lendvalue.warehouse.store import connect

    class KillAfter:
        '''Pass-through connection that kills the process right after a matching statement.'''
        def __init__(self, con, prefix):
            self._con, self._prefix = con, prefix
        def execute(self, sql, *args):
            result = self._con.execute(sql, *args)
            if sql.lstrip().startswith(self._prefix):
                os.kill(os.getpid(), signal.SIGKILL)
            return self
        def __getattr__(self, name):
            return getattr(self._con, name)

    db, path, prefix = sys.argv[1:4]
    ingest.ingest_paths(KillAfter(connect(db), prefix), [Path(path)])
    raise SystemExit("the load finished: the kill point was never reached")
    """
)


@pytest.mark.parametrize(
    "kill_after",
    ["CREATE TEMP TABLE _checked", "INSERT INTO quarantine", "DELETE FROM", "INSERT INTO loads"],
)
def test_a_load_killed_midway_leaves_the_store_as_it_was(
    loaded_db: Path, tmp_path: Path, kill_after: str
) -> None:
    before = snapshot(loaded_db)
    path = customers_v2(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(loaded_db), str(path), kill_after],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    assert snapshot(loaded_db) == before
    # and the store still works: the same load now succeeds
    con = connect(loaded_db)
    [result] = ingest_paths(con, [path])
    con.close()
    assert (result.rows_replaced, result.rows_quarantined) == (1, 1)


def test_an_error_midway_rolls_back_and_notes_the_failure(loaded_db: Path, tmp_path: Path) -> None:
    """A full disk (simulated) during the insert leaves the data as it was; the attempt is noted."""
    before = snapshot(loaded_db)
    path = customers_v2(tmp_path)
    con = connect(loaded_db)

    class DiskFull:
        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self._con = con

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.lstrip().startswith('INSERT INTO "customers"'):
                raise OSError(28, "No space left on device")
            return self._con.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._con, name)

    with pytest.raises(StoreError, match="rolled back"):
        ingest_paths(DiskFull(con), [path])  # type: ignore[arg-type]
    con.close()
    after = snapshot(loaded_db)
    assert {k: v for k, v in after.items() if k != "loads"} == {
        k: v for k, v in before.items() if k != "loads"
    }
    con = duckdb.connect(str(loaded_db), read_only=True)
    status, message = con.execute(
        "SELECT status, message FROM loads ORDER BY load_id DESC LIMIT 1"
    ).fetchone() or ("", "")
    con.close()
    assert status == "failed" and "No space left" in message


def test_the_same_file_twice_changes_nothing(loaded_db: Path, tmp_path: Path) -> None:
    path = customers_v2(tmp_path)
    con = connect(loaded_db)
    ingest_paths(con, [path])
    con.close()
    before = snapshot(loaded_db)
    con = connect(loaded_db)
    [again] = ingest_paths(con, [path])
    con.close()
    assert again.status == "unchanged"
    assert snapshot(loaded_db) == before


def test_a_changed_row_replaces_the_old_one_and_the_replacement_is_recorded(
    loaded_db: Path, tmp_path: Path
) -> None:
    con = connect(loaded_db)
    [result] = ingest_paths(con, [customers_v2(tmp_path)])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (101, 100, 1)
    assert (result.rows_replaced, result.rows_unchanged) == (1, 98)
    assert con.execute("SELECT name FROM customers WHERE customer_id = 'C1'").fetchone() == (
        "北京甲制造股份有限公司",
    )
    assert con.execute("SELECT count(*) FROM customers").fetchone() == (100,)
    key, old, new = con.execute(
        "SELECT key_json, old_row_json, new_row_json FROM replacements"
    ).fetchone() or ("", "", "")
    assert key == '{"customer_id":"C1"}'
    assert "北京甲制造有限公司" in old and "北京甲制造股份有限公司" in new
    # unchanged rows keep the load that first wrote them
    assert con.execute(
        "SELECT count(DISTINCT _load_id) FROM customers WHERE customer_id <> 'C1'"
    ).fetchone() == (2,)
    con.close()


def test_counts_reconcile_for_every_load(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [dict(GOOD_ROWS["transactions"], ts=f"2021-05-01 10:00:{s:02d}") for s in range(30)]
    rows[3]["amount"] = "x"
    rows[7]["customer_id"] = "C999"
    ingest_paths(parents, [write_csv(tmp_path / "transactions.csv", rows)])
    bad = parents.execute(
        "SELECT count(*) FROM loads WHERE rows_read <> rows_loaded + rows_quarantined"
    ).fetchone()
    assert bad == (0,)
    assert parents.execute("SELECT count(*) FROM transactions").fetchone() == (28,)


def test_mapping_renames_columns_and_recodes_values(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        textwrap.dedent(
            """
            version: 1
            tables:
              facilities:
                files: ["授信明细*"]
                columns: {借据号: facility_id, 客户编号: customer_id, 业务品种: product,
                          风险分类: classification}
                values:
                  product: {流贷: working_capital}
                  classification: {1: normal, 2: special_mention}
            """
        ),
        encoding="utf-8",
    )
    row = dict(GOOD_ROWS["facilities"])
    bank_row = {
        "借据号": "F7",
        "客户编号": "C1",
        "业务品种": "流贷",
        "风险分类": "2",
        **{
            k: v
            for k, v in row.items()
            if k not in ("facility_id", "customer_id", "product", "classification")
        },
    }
    path = write_csv(tmp_path / "授信明细_202506.csv", [bank_row])
    ingest_paths(parents, [path], mapping=load_mapping(mapping_file))
    assert parents.execute(
        "SELECT product, classification FROM facilities WHERE facility_id = 'F7'"
    ).fetchone() == ("working_capital", "special_mention")


def test_chinese_headers_and_labels_need_no_mapping(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from lendvalue.contract import get_table

    table = get_table("customers")
    row = dict(GOOD_ROWS["customers"], size_class="中", region="浙江省")
    zh_row = {table.column(k).zh: v for k, v in row.items()}
    ingest_paths(store, [write_csv(tmp_path / "客户信息.csv", [zh_row])])
    assert store.execute("SELECT size_class, region FROM customers").fetchone() == (
        "medium",
        "330000",
    )


def test_gb18030_csv_loads(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    row = GOOD_ROWS["customers"]
    text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    path.write_bytes(text.encode("gb18030"))
    ingest_paths(store, [path])
    assert store.execute("SELECT name FROM customers").fetchone() == (row["name"],)


def test_parquet_and_excel_load_with_their_line_numbers(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    customers = pd.DataFrame(parent_rows()["customers"][:5])
    customers.loc[2, "uscc"] = "bad"
    customers["acquisition_cost"] = customers["acquisition_cost"].astype(float)
    customers.to_parquet(tmp_path / "customers.parquet")
    [result] = ingest_paths(store, [tmp_path / "customers.parquet"])
    assert result.rows_loaded == 4
    assert store.execute("SELECT line_number FROM quarantine").fetchall() == [(3,)]

    book = tmp_path / "book.xlsx"
    facilities = pd.DataFrame(
        [GOOD_ROWS["facilities"], dict(GOOD_ROWS["facilities"], facility_id="F2", product="zzz")]
    )
    with pd.ExcelWriter(book) as writer:
        facilities.to_excel(writer, sheet_name="facilities", index=False)
    [xl] = ingest_paths(store, [book])
    assert (xl.table, xl.rows_loaded, xl.rows_quarantined) == ("facilities", 1, 1)
    assert store.execute(
        "SELECT line_number, rules FROM quarantine WHERE table_name = 'facilities'"
    ).fetchall() == [(3, ["facilities.product.enum"])]


def test_a_missing_required_column_names_file_and_column(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    row = {k: v for k, v in GOOD_ROWS["customers"].items() if k != "uscc"}
    path = write_csv(tmp_path / "customers.csv", [row])
    with pytest.raises(
        DataContractError, match=r"customers\.csv.*missing required column\(s\) uscc"
    ):
        ingest_paths(store, [path])


def test_an_unrecognised_file_name_asks_for_table(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "export_0630.csv", [GOOD_ROWS["customers"]])
    with pytest.raises(DataContractError, match="--table"):
        ingest_paths(store, [path])
    [result] = ingest_paths(store, [path], table="customers")
    assert result.rows_loaded == 1


def test_a_malformed_csv_is_rejected_whole_with_its_name(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    header = ",".join(GOOD_ROWS["customers"])
    path.write_text(header + "\n" + ",".join(GOOD_ROWS["customers"].values()) + ",extra,more\n")
    with pytest.raises(DataContractError, match=r"customers\.csv"):
        ingest_paths(store, [path])
    assert store.execute("SELECT count(*) FROM customers").fetchone() == (0,)


FIELDS = ["customer_id", "uscc", "size_class", "onboard_date", "acquisition_cost"]
GARBAGE = st.sampled_from(["", "abc", "-1", "2099-01-01", "91110000600037341M", "C1", "huge"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.dictionaries(st.sampled_from(FIELDS), GARBAGE, max_size=2), min_size=1, max_size=30)
)
def test_property_every_row_is_either_loaded_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory, edits: list[dict[str, str]]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    rows = [{**GOOD_ROWS["customers"], "customer_id": f"K{i}", **e} for i, e in enumerate(edits)]
    con = connect(tmp / "p.duckdb")
    [result] = ingest_paths(con, [write_csv(tmp / "customers.csv", rows)])
    assert result.rows_read == len(rows) == result.rows_loaded + result.rows_quarantined
    stored = con.execute("SELECT uscc, acquisition_cost FROM customers").fetchall()
    con.close()
    assert all(is_valid_uscc(u) and (c is None or c >= 0) for u, c in stored)
    assert len(stored) == result.rows_loaded


def test_store_opens_without_changing_a_current_store(loaded_db: Path) -> None:
    before = snapshot(loaded_db)
    connect(loaded_db).close()
    assert snapshot(loaded_db) == before
    assert os.path.exists(loaded_db)


def test_the_example_mapping_file_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    mapping = load_mapping(root / "examples" / "mapping.yaml")
    assert mapping.for_table("facilities").values["classification"]["1"] == "normal"


def test_a_mapping_to_an_unknown_column_names_the_key(tmp_path: Path) -> None:
    from lendvalue.errors import MappingError

    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  facilities:\n    columns: {借据号: facility}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"tables\.facilities\.columns\.借据号: 'facility'"):
        load_mapping(bad)
