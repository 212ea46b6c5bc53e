"""The LPR history and the synthetic FTP curves of the ``market`` table.

``data/lpr_history.csv`` holds the published Loan Prime Rate fixings, 1Y and 5Y, from the first
fixing after the August 2019 reform (2019-08-20) to 2025-06-20 (source: National Interbank Funding
Center / People's Bank of China monthly LPR announcements). Fixings are published on the 20th of
each month, or on the next business day; the file uses the 20th, or the following Monday when the
20th is a Saturday or Sunday, which matches the published dates except for the rare holiday
shifts.

The FTP curves are not public data: they are built from the 1Y LPR (see
:data:`lendvalue.sample.params.FTP_TERM_PREMIUM_BP`) and ``truth.json`` says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pyarrow as pa

from lendvalue.sample import params
from lendvalue.sample.dates import BoolArray, FloatArray, IntArray, add_months, day_number


@dataclass(frozen=True)
class LprHistory:
    """LPR fixings as arrays sorted by date: ``days`` (day numbers) and rates by tenor."""

    days: IntArray
    rate_1y: FloatArray
    rate_5y: FloatArray

    def in_effect(self, days: IntArray, five_year: BoolArray | None = None) -> FloatArray:
        """The fixing in effect on each day (the latest fixing on or before it; the first fixing
        for earlier days), 1Y or, where ``five_year`` is true, 5Y."""
        idx = np.clip(np.searchsorted(self.days, days, side="right") - 1, 0, len(self.days) - 1)
        if five_year is None:
            out: FloatArray = self.rate_1y[idx]
            return out
        out = np.where(five_year, self.rate_5y[idx], self.rate_1y[idx])
        return out


def load_lpr_history() -> LprHistory:
    """Read ``lendvalue/data/lpr_history.csv`` (columns ``date,tenor,rate``)."""
    text = resources.files("lendvalue").joinpath("data/lpr_history.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_tenor: dict[str, dict[int, float]] = {"1Y": {}, "5Y": {}}
    for row in rows:
        by_tenor[row["tenor"]][day_number(dt.date.fromisoformat(row["date"]))] = float(row["rate"])
    days = np.array(sorted(by_tenor["1Y"]), dtype=np.int64)
    return LprHistory(
        days=days,
        rate_1y=np.array([by_tenor["1Y"][d] for d in days], dtype=np.float64),
        rate_5y=np.array([by_tenor["5Y"][d] for d in days], dtype=np.float64),
    )


def market_table(lpr: LprHistory, as_of: int) -> pa.Table:
    """The ``market`` rows: LPR fixings up to ``as_of`` and month-end FTP curves from
    2019-08 to ``as_of``, rates as decimals rounded to 0.01 bp."""
    keep = lpr.days <= as_of
    fix_days = lpr.days[keep]
    dates = [np.repeat(fix_days, 2)]
    curves = [np.full(2 * len(fix_days), "lpr", dtype=object)]
    tenors = [np.tile(np.array(["1Y", "5Y"], dtype=object), len(fix_days))]
    rates = [np.column_stack([lpr.rate_1y[keep], lpr.rate_5y[keep]]).ravel()]
    first = day_number(dt.date(*params.FTP_FIRST_MONTH, 1))
    month_ends = add_months(np.array([first], dtype=np.int64), np.arange(0, 1200) + 1) - 1
    month_ends = month_ends[month_ends <= as_of]
    base = lpr.in_effect(month_ends)
    for curve, spread, premia in (
        ("ftp", params.FTP_BASE_SPREAD_BP, params.FTP_TERM_PREMIUM_BP),
        ("deposit_ftp", params.DEPOSIT_FTP_BASE_SPREAD_BP, params.DEPOSIT_FTP_TERM_PREMIUM_BP),
    ):
        for tenor, premium in premia.items():
            dates.append(month_ends)
            curves.append(np.full(len(month_ends), curve, dtype=object))
            tenors.append(np.full(len(month_ends), tenor, dtype=object))
            rates.append(base + (spread + premium) / 1e4)
    all_dates = np.concatenate(dates)
    all_curves = np.concatenate(curves)
    order = np.lexsort((np.concatenate(tenors), all_curves, all_dates))
    return pa.table(
        {
            "date": pa.array(all_dates[order].astype(np.int32), pa.date32()),
            "curve": pa.array(all_curves[order], pa.string()),
            "tenor": pa.array(np.concatenate(tenors)[order], pa.string()),
            "rate": pa.array(np.round(np.concatenate(rates)[order], 6), pa.float64()),
        }
    )
