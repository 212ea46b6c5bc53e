"""The generator and the warehouse agree: a sample with injected bad rows quarantines exactly those
rows, each with exactly the rules truth.json lists, and loads every other row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lendvalue.sample import generate_sample
from lendvalue.warehouse.ingest import ingest_paths
from lendvalue.warehouse.store import connect, table_counts


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_share_sample_quarantines_exactly_the_injected_rows(tmp_path: Path, fmt: str) -> None:
    summary = generate_sample(tmp_path / "data", customers=1500, seed=7, bad_share=0.03, fmt=fmt)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    con = connect(tmp_path / "store.duckdb")
    results = ingest_paths(con, [tmp_path / "data"])

    quarantined = {
        (table, Path(file).name, int(line)): sorted(rules)
        for table, file, line, rules in con.execute(
            "SELECT table_name, source_file, line_number, rules FROM quarantine"
        ).fetchall()
    }
    injected = {
        (row["table"], Path(row["file"]).name, int(row["line"])): sorted(row["rules"])
        for row in truth["bad_rows"]
    }
    assert len(injected) == summary.bad_rows > 0
    assert quarantined == injected

    stored = table_counts(con)
    con.close()
    bad_per_table: dict[str, int] = {}
    for table, _, _ in injected:
        bad_per_table[table] = bad_per_table.get(table, 0) + 1
    for result in results:
        assert result.rows_read == summary.rows[result.table]
        assert result.rows_quarantined == bad_per_table.get(result.table, 0)
        assert (
            stored[result.table] == result.rows_loaded == result.rows_read - result.rows_quarantined
        )


def test_every_rule_kind_is_injected(tmp_path: Path) -> None:
    """The CSV sample exercises every kind of rule of every table (truth lists what it covers)."""
    from lendvalue.contract import TABLES, table_rules

    summary = generate_sample(tmp_path, customers=1500, seed=3, bad_share=0.03, fmt="csv")
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    covered = {rule for row in truth["bad_rows"] for rule in row["rules"]}
    every = {r.rule_id for t in TABLES for r in table_rules(t)}
    assert every - covered == set()
