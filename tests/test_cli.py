"""The `lendvalue` command through its real entry point: one clear line on error, JSON status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import GOOD_ROWS, parent_rows, write_csv

LENDVALUE = str(Path(sys.executable).with_name("lendvalue"))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LENDVALUE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "LENDVALUE_DB": str(cwd / "env.duckdb"), "COLUMNS": "200"},
    )


def test_ingest_then_status_json(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for name, rows in parent_rows().items():
        write_csv(folder / f"{name}.csv", rows)
    bad = dict(GOOD_ROWS["facilities"], facility_id="F9", product="zzz")
    write_csv(folder / "facilities_more.csv", [bad])
    db = tmp_path / "x.duckdb"
    loaded = run("ingest", str(folder), "--db", str(db), "--json", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert [r["rows_quarantined"] for r in json.loads(loaded.stdout)] == [0, 0, 1]

    status = run("status", "--db", str(db), "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["tables"]["customers"] == 99 and info["reconciled"] is True
    assert info["quarantine"] == [
        {
            "table": "facilities",
            "rule": "facilities.product.enum",
            "rows": 1,
            "zh": "产品取值不在代码表内",
            "en": "product must be one of: term_loan, working_capital, revolver, project_finance, "
            "trade_finance, guarantee, acceptance",
        }
    ]


def test_a_user_error_is_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD_ROWS["customers"].items() if k != "uscc"}
    path = write_csv(tmp_path / "customers.csv", [row])
    result = run("ingest", str(path), cwd=tmp_path)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "customers.csv" in lines[0] and "uscc" in lines[0]
    assert (tmp_path / "env.duckdb").exists()  # the settings' store, from LENDVALUE_DB


def test_status_without_a_store_says_what_to_do(tmp_path: Path) -> None:
    result = run("status", "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert result.returncode == 4
    assert "lendvalue ingest" in result.stderr and "Traceback" not in result.stderr


def test_contract_command_prints_the_document(tmp_path: Path) -> None:
    result = run("contract", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("# Data contract")


def test_os_and_foreign_store_problems_are_one_line_too(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    under_a_file = run("ingest", str(tmp_path), "--db", str(afile / "x.duckdb"), cwd=tmp_path)
    assert under_a_file.returncode == 4 and "Traceback" not in under_a_file.stderr
    assert "afile" in under_a_file.stderr

    import duckdb

    foreign = tmp_path / "other.duckdb"
    duckdb.connect(str(foreign)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    status = run("status", "--db", str(foreign), cwd=tmp_path)
    assert status.returncode == 4 and "not a lendvalue warehouse" in status.stderr
    assert "Traceback" not in status.stderr
