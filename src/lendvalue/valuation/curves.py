"""Market curves for the valuation: the LPR fixings (history and a scenario) and the FTP curves.

Dates are day numbers (days since 1970-01-01, as ``numpy.datetime64[D]``); tenors are months.

- :meth:`MarketCurves.lpr_on`: the fixing in force on a day — the latest fixing on or before it
  (the first fixing for earlier days: a facility older than the history takes the first
  curve); a scenario's future fixings (:meth:`MarketCurves.with_scenario`, the assumptions'
  ``lpr_scenario``) extend the history.
- :meth:`MarketCurves.ftp_on`: the FTP (or deposit FTP) curve published last on or before a day,
  linear in the tenor between its points and flat beyond the shortest and longest.
- :func:`month_starts`: the day number of ``as_of`` plus ``m`` calendar months (the month
  grid of the projection; month ``m`` covers ``(m-1, m]``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.errors import DataContractError

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LPR_TENORS = ("1Y", "5Y")
_TENOR = re.compile(r"^(\d{1,3})([DWMY])$")
_TENOR_MONTHS = {"D": 12 / 365.25, "W": 12 / 52.1775, "M": 1.0, "Y": 12.0}


def day_number(date: dt.date | str | np.datetime64 | pd.Timestamp) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(pd.Timestamp(date).date(), "D").astype(np.int64))


def tenor_months(tenor: str) -> float:
    """``3M`` → 3, ``1Y`` → 12, ``2W`` → 0.46."""
    match = _TENOR.match(tenor)
    if not match:
        raise DataContractError(f"tenor {tenor!r} is not like 3M, 1Y, 10Y")
    return int(match.group(1)) * _TENOR_MONTHS[match.group(2)]


def month_starts(as_of: int, months: npt.ArrayLike) -> IntArray:
    """Day numbers of ``as_of`` plus whole calendar months (the day of month kept, or the
    month's last day when it is shorter)."""
    start = np.datetime64(int(as_of), "D")
    m = np.asarray(months, dtype=np.int64)
    month0 = start.astype("datetime64[M]")
    day_in_month = (start - month0.astype("datetime64[D]")).astype(np.int64)
    target_month = month0 + m
    last_day = ((target_month + 1).astype("datetime64[D]") - 1) - target_month.astype(
        "datetime64[D]"
    )
    offset = np.minimum(day_in_month, last_day.astype(np.int64))
    out: IntArray = (target_month.astype("datetime64[D]").astype(np.int64) + offset).astype(
        np.int64
    )
    return out


@dataclass(frozen=True)
class Curve:
    """One curve's history: publication days, tenors in months, rates (days × tenors)."""

    days: IntArray
    tenors: Array
    rates: Array

    def on(self, day: npt.ArrayLike, tenor: npt.ArrayLike) -> Array:
        """The rate at ``tenor`` months of the curve in force on ``day`` (broadcast)."""
        d, t = np.broadcast_arrays(np.asarray(day, np.int64), np.asarray(tenor, np.float64))
        row = np.clip(np.searchsorted(self.days, d, side="right") - 1, 0, len(self.days) - 1)
        if len(self.tenors) == 1:
            return np.asarray(self.rates[row, 0], dtype=np.float64)
        t = np.clip(t, self.tenors[0], self.tenors[-1])
        k = np.clip(np.searchsorted(self.tenors, t, side="right") - 1, 0, len(self.tenors) - 2)
        lo, hi = self.tenors[k], self.tenors[k + 1]
        share = (t - lo) / (hi - lo)
        out = self.rates[row, k] * (1 - share) + self.rates[row, k + 1] * share
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class MarketCurves:
    """LPR fixings (1Y and 5Y, with any scenario) and the FTP curves of the ``market`` table."""

    lpr: Curve
    """Tenors 12 and 60 months (1Y, 5Y LPR)."""
    ftp: Curve
    deposit_ftp: Curve

    @classmethod
    def from_frame(
        cls, market: pd.DataFrame, scenario: Iterable[tuple[dt.date, str, float]] = ()
    ) -> MarketCurves:
        """From rows ``date, curve, tenor, rate`` (the contract's ``market`` table) and scenario
        fixings ``(date, "1Y" | "5Y", rate)``."""
        missing = {"date", "curve", "tenor", "rate"} - set(market.columns)
        if missing:
            raise DataContractError(f"market curves need columns {sorted(missing)}")
        frame = market[["date", "curve", "tenor", "rate"]].copy()
        extra = pd.DataFrame(
            [(pd.Timestamp(d), "lpr", t, float(r)) for d, t, r in scenario],
            columns=["date", "curve", "tenor", "rate"],
        )
        if len(extra):
            frame = pd.concat([frame, extra], ignore_index=True)
            frame = frame.drop_duplicates(["date", "curve", "tenor"], keep="last")
        return cls(
            lpr=_curve(frame, "lpr", LPR_TENORS),
            ftp=_curve(frame, "ftp"),
            deposit_ftp=_curve(frame, "deposit_ftp"),
        )

    def with_scenario(self, fixings: Iterable[tuple[dt.date, str, float]]) -> MarketCurves:
        """These curves with future LPR fixings ``(date, "1Y" | "5Y", rate)`` added (a fixing
        on a date already published replaces it); the other tenor carries its last value."""
        extra = list(fixings)
        if not extra:
            return self
        days = sorted(set(self.lpr.days.tolist()) | {day_number(d) for d, _, _ in extra})
        index = {d: k for k, d in enumerate(days)}
        rates = np.full((len(days), 2), np.nan)
        for k, d in enumerate(self.lpr.days):
            rates[index[int(d)]] = self.lpr.rates[k]
        for d, tenor, rate in extra:
            rates[index[day_number(d)], LPR_TENORS.index(tenor)] = rate
        filled = pd.DataFrame(rates).ffill().bfill().to_numpy(np.float64)
        lpr = Curve(np.array(days, dtype=np.int64), self.lpr.tenors, filled)
        return MarketCurves(lpr=lpr, ftp=self.ftp, deposit_ftp=self.deposit_ftp)

    def lpr_on(self, day: npt.ArrayLike, five_year: npt.ArrayLike) -> Array:
        """The 1Y (or, where ``five_year``, the 5Y) LPR fixing in force on ``day``."""
        tenor = np.where(np.asarray(five_year, dtype=bool), 60.0, 12.0)
        return self.lpr.on(day, tenor)

    def ftp_on(self, day: npt.ArrayLike, tenor_months: npt.ArrayLike) -> Array:
        return self.ftp.on(day, tenor_months)

    def deposit_ftp_on(self, day: npt.ArrayLike, tenor_months: npt.ArrayLike) -> Array:
        return self.deposit_ftp.on(day, tenor_months)


def _curve(frame: pd.DataFrame, name: str, tenors: tuple[str, ...] | None = None) -> Curve:
    rows = frame[frame["curve"] == name]
    if rows.empty:
        raise DataContractError(
            f"the market table has no '{name}' curve; the valuation needs the LPR fixings and "
            "the FTP and deposit FTP curves (load them into the market table)"
        )
    wide = rows.pivot_table(index="date", columns="tenor", values="rate", aggfunc="last")
    names = list(tenors) if tenors else sorted(wide.columns, key=tenor_months)
    absent = [t for t in names if t not in wide.columns]
    if absent:
        raise DataContractError(f"the '{name}' curve has no {absent} points")
    wide = wide[names].sort_index().ffill().bfill()
    days = np.array([day_number(d) for d in wide.index], dtype=np.int64)
    return Curve(
        days=days,
        tenors=np.array([tenor_months(t) for t in names], dtype=np.float64),
        rates=wide.to_numpy(np.float64),
    )
