"""``generate_sample``: write a synthetic corporate-bank portfolio, chunk by chunk, with its true
parameters in ``truth.json``."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa

from lendvalue.contract import TABLES, get_table
from lendvalue.errors import ConfigError
from lendvalue.sample import params
from lendvalue.sample.activity import (
    simulate_deposits,
    simulate_financials,
    simulate_ratings,
    simulate_transactions,
)
from lendvalue.sample.badrows import BadRowMaker
from lendvalue.sample.dates import IntArray, add_months, day_number, to_date
from lendvalue.sample.lending import (
    classification,
    credit_events_table,
    drawn_and_exposure,
    facilities_table,
    simulate_facilities,
    simulate_repayments,
)
from lendvalue.sample.names import StrArray
from lendvalue.sample.output import Format, TableWriter, to_text
from lendvalue.sample.portfolio import (
    Calendar,
    Counters,
    campaign_ids,
    customers_table,
    marketing_table,
    relationships_table,
    segment_marketing_table,
    simulate_portfolio,
)
from lendvalue.sample.rates import LprHistory, load_lpr_history, market_table

DEFAULT_AS_OF = dt.date(2025, 6, 30)
"""The snapshot date of the default sample (the last LPR fixing in the bundled history is
2025-06-20)."""
MAX_CUSTOMERS = 9_999_999
"""Customer ids have seven digits."""
EARLIEST_AS_OF = dt.date(2020, 1, 1)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate_sample` wrote."""

    out_dir: Path
    files: dict[str, Path]
    """Contract table → its file."""
    rows: dict[str, int]
    """Contract table → data rows in its file (bad rows included)."""
    bad_rows: int
    truth_path: Path


def generate_sample(
    out_dir: str | Path,
    *,
    customers: int = 5000,
    seed: int = 0,
    bad_share: float = 0.0,
    fmt: str = "csv",
    as_of: dt.date = DEFAULT_AS_OF,
    chunk_customers: int = 20_000,
    progress: Progress | None = None,
) -> SampleSummary:
    """Write a realistic synthetic portfolio of a Chinese corporate bank as of ``as_of``.

    One file per contract table (``<table>.csv`` or ``<table>.parquet``, the contract's columns in
    order) and ``truth.json`` with every true parameter the data were drawn from. Customers are
    simulated in chunks of ``chunk_customers``, chunk ``i`` with
    ``np.random.default_rng([seed, i])``, and streamed to disk, so memory stays bounded for
    millions of customers. The same arguments always give byte-identical files.

    Parameters
    ----------
    out_dir : directory to write into (created if missing).
    customers : number of customers.
    seed : random seed.
    bad_share : with ``F > 0``, add about ``F`` × rows bad rows to every table, each breaking
        exactly one contract rule, covering every rule at least once; ``truth.json`` lists them.
    fmt : ``"csv"`` or ``"parquet"``.
    as_of : the snapshot date; nothing happens after it.
    chunk_customers : customers simulated and written at a time.
    progress : called as ``progress(done_customers, total_customers)`` after each chunk.

    Returns
    -------
    SampleSummary
    """
    _check_arguments(customers, seed, bad_share, fmt, as_of, chunk_customers)
    kind = cast(Format, fmt)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lpr = load_lpr_history()
    cal = Calendar(
        as_of=day_number(as_of),
        campaign_days=campaign_days(as_of),
        total_customers=customers,
    )
    counters = Counters()
    maker = BadRowMaker(kind, bad_share) if bad_share > 0 else None
    bad: list[tuple[str, IntArray, StrArray]] = []
    writers = {t.name: TableWriter(t, out, kind) for t in TABLES}
    try:
        for chunk in range(math.ceil(customers / chunk_customers)):
            first = chunk * chunk_customers
            count = min(chunk_customers, customers - first)
            rng = np.random.default_rng([seed, chunk])
            frames = simulate_chunk(rng, first, count, cal, counters, lpr)
            if chunk == 0:
                frames["market"] = market_table(lpr, cal.as_of)
                frames["marketing"] = pa.concat_tables(
                    [segment_marketing_table(rng, cal), frames["marketing"]]
                )
            bad_rng = np.random.default_rng([seed, chunk, 1])
            bad += _write_chunk(frames, writers, maker, bad_rng, kind)
            if progress is not None:
                progress(first + count, customers)
    finally:
        for writer in writers.values():
            writer.close()
    files = {name: w.path for name, w in writers.items()}
    rows = {name: w.rows for name, w in writers.items()}
    truth = _truth(seed, as_of, customers, kind, bad_share, chunk_customers, cal, rows, bad, maker)
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return SampleSummary(out, files, rows, sum(len(lines) for _, lines, _ in bad), truth_path)


def _check_arguments(
    customers: int,
    seed: int,
    bad_share: float,
    fmt: str,
    as_of: dt.date,
    chunk_customers: int,
) -> None:
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ConfigError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    if chunk_customers < 1:
        raise ConfigError(f"chunk_customers must be at least 1, got {chunk_customers}")
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    if not 0.0 <= bad_share < 1.0:
        raise ConfigError(f"bad_share must lie in [0, 1), got {bad_share}")
    if not EARLIEST_AS_OF <= as_of <= dt.date.today():
        raise ConfigError(
            f"as_of must lie between {EARLIEST_AS_OF} and today ({dt.date.today()}), got {as_of}: "
            "the LPR history starts in August 2019 and no row may be dated in the future"
        )


def campaign_days(as_of: dt.date) -> tuple[int, ...]:
    """Launch days of the campaigns: the 15th of the months in
    :data:`params.CAMPAIGN_MONTHS_BEFORE_AS_OF` before as_of."""
    mid = day_number(as_of.replace(day=15))
    months = -np.asarray(params.CAMPAIGN_MONTHS_BEFORE_AS_OF)
    return tuple(int(d) for d in add_months(np.full(len(months), mid), months))


def simulate_chunk(
    rng: np.random.Generator,
    first_serial: int,
    count: int,
    cal: Calendar,
    counters: Counters,
    lpr: LprHistory,
) -> dict[str, pa.Table]:
    """Every customer-driven table of one chunk, typed, in contract column order."""
    p = simulate_portfolio(rng, first_serial, count, cal, counters)
    f = simulate_facilities(rng, p, cal, counters, lpr)
    rep = simulate_repayments(rng, p, f, cal, lpr)
    drawn, ead = drawn_and_exposure(p, f, cal, lpr, rep)
    classes = classification(p, f, cal, rep.customer_dpd)
    return {
        "customers": customers_table(p),
        "facilities": facilities_table(p, f, drawn, classes),
        "repayments": rep.table,
        "transactions": simulate_transactions(rng, p, cal),
        "deposits": simulate_deposits(rng, p, cal),
        "financials": simulate_financials(rng, p, cal),
        "ratings": simulate_ratings(rng, p, cal),
        "credit_events": credit_events_table(rng, p, f, cal, ead, rep.customer_dpd),
        "marketing": marketing_table(rng, p, cal),
        "relationships": relationships_table(p),
    }


def _write_chunk(
    frames: dict[str, pa.Table],
    writers: dict[str, TableWriter],
    maker: BadRowMaker | None,
    rng: np.random.Generator,
    fmt: Format,
) -> list[tuple[str, IntArray, StrArray]]:
    """Write one chunk's rows of every table, with bad rows mixed in when asked for; return
    (table, line numbers, rule ids) of the bad rows."""
    names = [t.name for t in TABLES if t.name in frames]
    # relationships first: their bad rows need host customers, written with the customers
    names.sort(key=lambda name: name != "relationships")
    hosts: pa.Table | None = None
    bad: list[tuple[str, IntArray, StrArray]] = []
    for name in names:
        table = get_table(name)
        good = frames[name]
        writer = writers[name]
        if maker is None:
            writer.write(to_text(table, good) if fmt == "csv" else good)
            continue
        if name == "customers" and hosts is not None:
            good = pa.concat_tables([good, hosts])
        injected = maker.inject(table, good, rng, customers=frames["customers"])
        if name == "relationships":
            hosts = injected.hosts
        bad.append((name, writer.first_line() + injected.positions, injected.rules))
        writer.write(injected.table)
    return bad


def _truth(
    seed: int,
    as_of: dt.date,
    customers: int,
    fmt: Format,
    bad_share: float,
    chunk_customers: int,
    cal: Calendar,
    rows: dict[str, int],
    bad: list[tuple[str, IntArray, StrArray]],
    maker: BadRowMaker | None,
) -> dict[str, Any]:
    """The content of ``truth.json``."""
    truth: dict[str, Any] = {
        "generator": "lendvalue.sample",
        "seed": seed,
        "as_of": as_of.isoformat(),
        "customers": customers,
        "format": fmt,
        "bad_share": bad_share,
        "chunk_customers": chunk_customers,
        "files": {t.name: f"{t.name}.{fmt}" for t in TABLES},
        "rows": rows,
    }
    truth.update(params.truth_parameters())
    truth["marketing"]["campaigns"] = [
        {"campaign_id": cid, "date": to_date(day).isoformat()}
        for cid, day in zip(campaign_ids(cal), cal.campaign_days, strict=True)
    ]
    entries: list[dict[str, Any]] = []
    order = {t.name: i for i, t in enumerate(TABLES)}
    for name, lines, rules in sorted(bad, key=lambda b: order[b[0]]):
        file = f"{name}.{fmt}"
        entries += [
            {"table": name, "file": file, "line": int(line), "rules": [str(rule)]}
            for line, rule in zip(lines.tolist(), rules.tolist(), strict=True)
        ]
    entries.sort(key=lambda e: (order[e["table"]], e["line"]))
    truth["bad_rows_count"] = len(entries)
    truth["bad_rows_notes"] = {
        "line": "CSV: physical line (header = 1); Parquet: 1-based row index",
        "type_rules": (
            "covered (CSV)"
            if fmt == "csv"
            else "skipped: Parquet columns are typed, so a value cannot fail to parse"
        ),
        "relationship_hosts": (
            "bad relationships rows point at extra, valid customers rows with ids CH… that have "
            "no relationship, facility or activity of their own (the relationships key is the "
            "customer id, so a new key needs a customer without a relationship)"
        ),
        "relationship_host_customers": 0 if maker is None else maker.counters.hosts,
        "uncovered_rules": _uncovered(maker),
    }
    truth["bad_rows"] = entries
    return truth


def _uncovered(maker: BadRowMaker | None) -> dict[str, list[str]]:
    """Rules no bad row covers (only when a table had no suitable source row)."""
    if maker is None:
        return {}
    out = {}
    for table in TABLES:
        missing = sorted(set(maker.rule_ids(table)) - maker.covered.get(table.name, set()))
        if missing:
            out[table.name] = missing
    return out
