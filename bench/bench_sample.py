"""Benchmark of the sample generator: wall time, rows per table and peak memory as one JSON line.

Usage::

    python bench/bench_sample.py                      # 1,000,000 customers, Parquet, temp dir
    python bench/bench_sample.py --customers 100000 --format csv --out out/sample

Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (kilobytes on Linux), reported in MiB.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lendvalue.sample import generate_sample


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk-customers", type=int, default=20_000)
    parser.add_argument("--bad-share", type=float, default=0.0)
    args = parser.parse_args(argv)

    temporary = args.out is None
    out = Path(tempfile.mkdtemp(prefix="lendvalue-bench-")) if temporary else args.out
    try:
        start = time.perf_counter()
        summary = generate_sample(
            out,
            customers=args.customers,
            seed=args.seed,
            fmt=args.format,
            chunk_customers=args.chunk_customers,
            bad_share=args.bad_share,
        )
        wall = time.perf_counter() - start
        size = sum(p.stat().st_size for p in summary.files.values())
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        peak_kib //= 1024
    result = {
        "benchmark": "generate_sample",
        "customers": args.customers,
        "format": args.format,
        "chunk_customers": args.chunk_customers,
        "bad_share": args.bad_share,
        "wall_seconds": round(wall, 2),
        "rows": summary.rows,
        "total_rows": sum(summary.rows.values()),
        "bytes_written": size,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
