"""Reading files: line numbers that hold on large files, CSV dialects, Excel sheets, Parquet
native types, file names DuckDB would read as patterns, folders with stray files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lendvalue.errors import DataContractError, MappingError
from lendvalue.warehouse.ingest import ingest_paths
from lendvalue.warehouse.mapping import load_mapping
from tests.conftest import GOOD_ROWS, parent_rows, write_csv

ROWS = 300_000
BAD_EVERY = 9_973
DUPLICATE_AT = (1_000, 150_001, 299_990)  # each row also appears at position + 7


def _big_transactions() -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """Many fee transactions with bad and duplicated rows at known 0-based positions."""
    ts = pd.Timestamp("2022-01-01") + pd.to_timedelta(range(ROWS), unit="s")
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{1 + i % 99}" for i in range(ROWS)],
            "ts": ts.strftime("%Y-%m-%d %H:%M:%S"),
            "product_line": ["settlement", "fx", "trade"] * (ROWS // 3),
            "amount": [f"{100 + i % 1000}.5" for i in range(ROWS)],
        }
    )
    expected: dict[int, list[str]] = {}
    for pos in range(BAD_EVERY, ROWS, BAD_EVERY):
        frame.loc[pos, "product_line"] = "zzz"
        expected[pos] = ["transactions.product_line.enum"]
    for pos in DUPLICATE_AT:
        frame.iloc[pos + 7] = frame.iloc[pos]
        for p in (pos, pos + 7):
            expected[p] = sorted([*expected.get(p, []), "transactions.key.unique"])
    return frame, expected


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_line_numbers_hold_on_a_large_file_with_two_threads(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    """Regression: DuckDB's optimiser turns IN-lists into joins that do not keep row order, so
    line numbers must come from an explicit position, never from the order rows arrive in."""
    parents.execute("SET threads = 2")
    frame, expected = _big_transactions()
    if fmt == "csv":
        path = tmp_path / "transactions.csv"
        frame.to_csv(path, index=False)
        first_line = 2
    else:
        path = tmp_path / "transactions.parquet"
        pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=30_000)
        first_line = 1
    [result] = ingest_paths(parents, [path])
    got = dict(parents.execute("SELECT line_number, rules FROM quarantine").fetchall())
    assert got == {pos + first_line: rules for pos, rules in expected.items()}
    for line, row_json in parents.execute(
        "SELECT line_number, row_json FROM quarantine"
    ).fetchall():
        assert f'"{frame.loc[line - first_line, "ts"]}"' in row_json
    assert result.rows_loaded == ROWS - len(expected)


def test_a_title_line_above_the_header_is_a_clear_error(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    header = ",".join(GOOD_ROWS["customers"])
    path.write_text(
        "客户清单 2025年6月\n" + header + "\n" + ",".join(GOOD_ROWS["customers"].values())
    )
    with pytest.raises(DataContractError, match="missing required column"):
        ingest_paths(parents, [path])


def test_a_row_with_an_extra_field_names_its_line(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "market.csv"
    good = ",".join(GOOD_ROWS["market"].values())
    path.write_text("date,curve,tenor,rate\n" + good + "\n" + good + ",extra\n")
    with pytest.raises(DataContractError, match=r"market\.csv line 3: .*Expected Number of Col"):
        ingest_paths(parents, [path])


def test_a_hash_sign_is_data_not_a_comment(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [dict(GOOD_ROWS["customers"], customer_id=f"X{i}") for i in range(3)]
    rows[1]["name"] = "#3号楼物业公司"
    ingest_paths(parents, [write_csv(tmp_path / "customers.csv", rows)])
    assert parents.execute("SELECT count(*) FROM customers WHERE name LIKE '#%'").fetchone() == (1,)


def test_tab_separated_files_are_read(parents: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "market.txt"
    row = GOOD_ROWS["market"]
    path.write_text("\t".join(row) + "\n" + "\t".join(row.values()) + "\n")
    [result] = ingest_paths(parents, [path], table="market")
    assert result.rows_loaded == 1


def test_file_names_with_pattern_characters_read_only_themselves(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Regression: DuckDB expands [ab] in a file name, reading the neighbours instead."""
    rows = [dict(GOOD_ROWS["market"], date=f"2024-01-{d:02d}") for d in range(1, 4)]
    write_csv(tmp_path / "market_a.csv", rows[:1])
    write_csv(tmp_path / "market_b.csv", rows[1:2])
    odd = write_csv(tmp_path / "market_[ab].csv", rows[2:])
    [result] = ingest_paths(parents, [odd])
    assert result.rows_read == 1
    assert parents.execute("SELECT date FROM market").fetchall() == [(dt.date(2024, 1, 3),)]


def _workbook(path: Path, sheets: dict[str, list[dict[str, str]]]) -> Path:
    with pd.ExcelWriter(path) as writer:
        for name, rows in sheets.items():
            pd.DataFrame(rows).to_excel(writer, sheet_name=name, index=False)
    return path


def test_a_workbook_loads_into_an_existing_store_and_only_once(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Regression: an open result made DuckDB refuse to register the sheet's data frame."""
    book = _workbook(tmp_path / "book.xlsx", {"market": [GOOD_ROWS["market"]]})
    [first] = ingest_paths(parents, [book])
    [again] = ingest_paths(parents, [book])
    assert (first.status, first.rows_loaded, again.status) == ("loaded", 1, "unchanged")


def test_sheets_load_parents_first_and_notes_sheets_are_skipped(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    book = _workbook(
        tmp_path / "book.xlsx",
        {
            "说明": [{"说明": "本工作簿为6月数据"}],
            "facilities": [GOOD_ROWS["facilities"]],
            "customers": parent_rows()["customers"][:3],
        },
    )
    results = ingest_paths(store, [book])
    assert [(r.table, r.status, r.rows_loaded) for r in results] == [
        ("customers", "loaded", 3),
        ("facilities", "loaded", 1),
        ("", "skipped", 0),
    ]


def test_sheet_names_that_look_alike_are_different_loads(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Regression: '_' in a sheet name acted as a LIKE wildcard in the already-loaded check."""
    rows = [dict(GOOD_ROWS["market"], date=f"2024-02-{d:02d}") for d in (1, 2)]
    book = _workbook(tmp_path / "rates.xlsx", {"2025-06": rows[:1], "2025_06": rows[1:]})
    results = ingest_paths(parents, [book], table="market")
    assert [r.status for r in results] == ["loaded", "loaded"]


def test_a_changed_mapping_or_reload_loads_the_same_file_again(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    row = dict(GOOD_ROWS["facilities"], facility_id="F5", product="流贷")
    path = write_csv(tmp_path / "facilities_new.csv", [row])
    [first] = ingest_paths(parents, [path])
    assert first.rows_quarantined == 1  # 流贷 is no label of the contract
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(
        "tables:\n  facilities:\n    values:\n      product: {流贷: 流动资金贷款}\n",
        encoding="utf-8",
    )
    [second] = ingest_paths(parents, [path], mapping=load_mapping(mapping_file))
    assert (second.status, second.rows_loaded) == ("loaded", 1)
    [third] = ingest_paths(parents, [path], mapping=load_mapping(mapping_file), force=True)
    assert (third.status, third.rows_unchanged) == ("loaded", 1)


def test_a_mapping_target_that_is_no_code_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  facilities:\n    values:\n      product: {流贷: 流贷款}\n", "utf-8")
    with pytest.raises(MappingError, match=r"values\.product\.流贷: '流贷款' is not a code"):
        load_mapping(bad)


def test_parquet_native_types_mean_what_the_same_text_means_in_a_csv(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Regression: native types took shortcuts the text path does not (rounding, 2 as TRUE)."""
    import decimal

    table = pa.table(
        {
            "facility_id": ["F1", "F1", "F1"],
            "due_date": pa.array([20210201, 20210301, 20210401], pa.int64()),
            "paid_date": [None, None, None],
            "principal": pa.array([decimal.Decimal("10.50")] * 3, pa.decimal128(12, 2)),
            "interest": [1.0, 1.0, 1.0],
            "fee": [0.0, 0.0, 0.0],
            "days_past_due": pa.array(
                [decimal.Decimal("0"), decimal.Decimal("12.5"), decimal.Decimal("3")],
                pa.decimal128(6, 1),
            ),
        }
    )
    pq.write_table(table, tmp_path / "repayments.parquet")
    [result] = ingest_paths(parents, [tmp_path / "repayments.parquet"])
    assert parents.execute("SELECT line_number, rules FROM quarantine").fetchall() == [
        (2, ["repayments.days_past_due.type"])
    ]
    assert parents.execute("SELECT due_date, principal FROM repayments ORDER BY 1").fetchall() == [
        (dt.date(2021, 2, 1), 10.5),
        (dt.date(2021, 4, 1), 10.5),
    ]
    assert result.rows_loaded == 2

    flags = pa.table(
        {
            "campaign_id": ["M1", "M2"], "customer_id": ["C1", "C1"], "segment": [None, None],
            "date": ["2024-03-01", "2024-03-01"], "channel": ["event", "event"],
            "cost": [1.0, 1.0], "treated": pa.array([1, 2], pa.int32()),
        }
    )  # fmt: skip
    pq.write_table(flags, tmp_path / "marketing.parquet")
    ingest_paths(parents, [tmp_path / "marketing.parquet"])
    assert parents.execute(
        "SELECT rules FROM quarantine WHERE table_name = 'marketing'"
    ).fetchall() == [(["marketing.treated.type"],)]


def test_whole_number_floats_read_as_codes(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    frame = pd.DataFrame([GOOD_ROWS["customers"]])
    frame["region"] = 110000.0  # pandas writes integer columns with gaps as floats
    frame["acquisition_cost"] = 20000.0
    frame.to_parquet(tmp_path / "customers.parquet")
    [result] = ingest_paths(store, [tmp_path / "customers.parquet"])
    assert result.rows_loaded == 1
    assert store.execute("SELECT region FROM customers").fetchone() == ("110000",)


def test_a_huge_whole_number_is_a_row_error_not_a_file_error(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [dict(GOOD_ROWS["repayments"], due_date=f"2021-0{m}-01") for m in (1, 2, 3)]
    rows[1]["days_past_due"] = "1e30"
    rows[2]["days_past_due"] = "inf"
    [result] = ingest_paths(parents, [write_csv(tmp_path / "repayments.csv", rows)])
    assert result.rows_quarantined == 2


def test_a_timestamp_late_on_the_load_date_is_not_in_the_future(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    row = dict(GOOD_ROWS["transactions"], ts="2025-06-30 23:59:59.5")
    path = write_csv(tmp_path / "transactions.csv", [row])
    [result] = ingest_paths(parents, [path], load_date=dt.date(2025, 6, 30))
    assert result.rows_loaded == 1


def test_folders_skip_lock_and_hidden_files_and_refuse_xls(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(folder / "market.csv", [GOOD_ROWS["market"]])
    (folder / "~$market.xlsx").write_bytes(b"lock")
    (folder / ".market.csv").write_text("junk")
    (folder / "truth.json").write_text("{}")
    [result] = ingest_paths(parents, [folder])
    assert result.rows_loaded == 1
    (folder / "old.xls").write_bytes(b"\xd0\xcf")
    with pytest.raises(DataContractError, match=r"old\.xls.*save it as \.xlsx"):
        ingest_paths(parents, [folder])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataContractError, match="no CSV, Parquet or XLSX files"):
        ingest_paths(parents, [empty])


def test_a_gbk_file_whose_head_is_plain_ascii_is_still_read(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Only the head is probed for UTF-8; DuckDB meets the GBK bytes later and the file is
    transcoded and read again."""
    rows = [dict(GOOD_ROWS["customers"], customer_id=f"K{i}", name="Plain Co") for i in range(3000)]
    rows[-1]["name"] = "北京甲制造有限公司"
    text = ",".join(rows[0]) + "\n" + "\n".join(",".join(r.values()) for r in rows) + "\n"
    (tmp_path / "customers.csv").write_bytes(text.encode("gb18030"))
    [result] = ingest_paths(store, [tmp_path / "customers.csv"])
    assert result.rows_loaded == 3000
    assert store.execute("SELECT name FROM customers WHERE customer_id = 'K2999'").fetchone() == (
        "北京甲制造有限公司",
    )
