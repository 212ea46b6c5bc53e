"""Validated ingest of fee transactions vs DuckDB's own bare insert of the same file.

Each measurement runs in its own process on a fresh warehouse file, so peak memory (ru_maxrss) is
that step's alone. The bare insert is ``CREATE TABLE t AS SELECT * FROM read_parquet(...)`` (or
``read_csv``): no checks, no line numbers, no quarantine.

    .venv/bin/python bench/bench_ingest.py --rows 10000000

prints one JSON line per measurement and a summary table (results also in bench/results/).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

CUSTOMERS = 100_000


def make_files(folder: Path, rows: int) -> dict[str, Path]:
    """customers.parquet (not timed) and the same transactions as Parquet and CSV."""
    con = duckdb.connect()
    customers = folder / "customers.parquet"
    con.execute(
        f"""COPY (SELECT 'C' || lpad(i::VARCHAR, 7, '0') AS customer_id, '企业' || i AS name,
                  '91110000600037341L' AS uscc, 'C3611' AS industry, '110000' AS region,
                  'medium' AS size_class, NULL::VARCHAR AS group_id, 'RM1' AS rm_id,
                  DATE '2015-01-01' AS onboard_date, 1000.0 AS acquisition_cost
                  FROM range({CUSTOMERS}) t(i)) TO '{customers}' (FORMAT parquet)"""
    )
    parquet = folder / "transactions.parquet"
    con.execute(
        f"""COPY (SELECT 'C' || lpad((i % {CUSTOMERS})::VARCHAR, 7, '0') AS customer_id,
                  TIMESTAMP '2022-01-01' + to_seconds(i // {CUSTOMERS} * 600) AS ts,
                  ['settlement', 'fx', 'trade', 'cash_management', 'advisory'][1 + i % 5]
                      AS product_line,
                  round(50 + random() * 5000, 2) AS amount
                  FROM range({rows}) t(i)) TO '{parquet}' (FORMAT parquet)"""
    )
    csv = folder / "transactions.csv"
    con.execute(f"COPY (SELECT * FROM '{parquet}') TO '{csv}' (HEADER)")
    con.close()
    return {"customers": customers, "parquet": parquet, "csv": csv}


def run_one(step: str, data: Path, db: Path) -> dict[str, object]:
    """One timed step in this process; returns its figures."""
    if step.startswith("bare"):
        reader = "read_parquet" if step.endswith("parquet") else "read_csv"
        src = data / ("transactions.parquet" if step.endswith("parquet") else "transactions.csv")
        con = duckdb.connect(str(db))
        start = time.perf_counter()
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{src}')")
        con.close()
        seconds = time.perf_counter() - start
        rows = duckdb.connect(str(db), read_only=True).execute("SELECT count(*) FROM t").fetchone()
    else:
        from lendvalue.warehouse.ingest import ingest_paths
        from lendvalue.warehouse.store import connect

        con = connect(db)
        ingest_paths(con, [data / "customers.parquet"])
        src = data / ("transactions.parquet" if step.endswith("parquet") else "transactions.csv")
        start = time.perf_counter()
        [result] = ingest_paths(con, [src])
        con.close()
        seconds = time.perf_counter() - start
        rows = (result.rows_loaded,)
        assert result.rows_quarantined == 0
    assert rows is not None
    return {
        "step": step,
        "rows": int(rows[0]),
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows[0] / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs per step")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.data, args.db)))
        return
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        make_files(folder, args.rows)
        for step in ("bare-parquet", "ingest-parquet", "bare-csv", "ingest-csv"):
            for i in range(args.repeat):
                db = folder / f"{step}-{i}.duckdb"
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--one",
                        step,
                        "--data",
                        str(folder),
                        "--db",
                        str(db),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                figures = json.loads(out)
                print(json.dumps(figures), flush=True)
                best = results.get(step)
                if best is None or float(figures["seconds"]) < float(best["seconds"]):  # type: ignore[arg-type]
                    results[step] = figures
                db.unlink()
    summary = {
        "rows": args.rows,
        "steps": results,
        "ratio_parquet": round(
            float(results["ingest-parquet"]["seconds"]) / float(results["bare-parquet"]["seconds"]),
            2,  # type: ignore[arg-type]
        ),
        "ratio_csv": round(
            float(results["ingest-csv"]["seconds"]) / float(results["bare-csv"]["seconds"]),
            2,  # type: ignore[arg-type]
        ),
    }
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "ingest.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
