"""Calendar arithmetic on arrays of day numbers (days since 1970-01-01, ``int64``), and the
one array helper the generator needs everywhere.

The generator keeps every date as a day number so that a whole chunk of customers moves through
the calendar in one NumPy call; only the writer turns day numbers into Arrow dates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_MONTH = 365.25 / 12.0
"""Average month length in days; converts the survival model's months to calendar days."""
SECONDS_PER_DAY = 86_400


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (day - EPOCH).days


def to_date(day: int) -> dt.date:
    """The calendar date of a day number."""
    return EPOCH + dt.timedelta(days=int(day))


def add_months(days: IntArray, months: IntArray | int) -> IntArray:
    """Shift dates by whole calendar months, clipping the day to the target month's length
    (31 January + 1 month = 28/29 February), as loan schedules do."""
    d = np.asarray(days, dtype="datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    out: IntArray = (first + np.minimum(day_of_month, length - 1)).astype(np.int64)
    return out


def month_start(days: IntArray) -> IntArray:
    """First day of each date's month."""
    d = np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]")
    out: IntArray = d.astype("datetime64[D]").astype(np.int64)
    return out


def year_of(days: IntArray) -> IntArray:
    """Calendar year of each date."""
    d = np.asarray(days, dtype="datetime64[D]").astype("datetime64[Y]")
    out: IntArray = d.astype(np.int64) + 1970
    return out


def december_31(years: IntArray) -> IntArray:
    """Day number of 31 December of each year."""
    first_next = (np.asarray(years, dtype=np.int64) - 1969).astype("datetime64[Y]")
    out: IntArray = first_next.astype("datetime64[D]").astype(np.int64) - 1
    return out


def whole_years_between(start: IntArray, end: IntArray) -> IntArray:
    """Completed years from ``start`` to ``end`` (anniversary counting; negative when
    ``end < start``)."""
    years = year_of(end) - year_of(start)
    years = years - (add_months(start, 12 * years) > end)
    out: IntArray = years.astype(np.int64)
    return out


def month_range(first_month: int, count: int) -> IntArray:
    """``count`` consecutive month starts beginning with the month of day ``first_month``."""
    start = np.datetime64(int(first_month), "D").astype("datetime64[M]")
    out: IntArray = (start + np.arange(count)).astype("datetime64[D]").astype(np.int64)
    return out


def rank_within_runs(groups: IntArray) -> IntArray:
    """0, 1, 2, … within runs of equal consecutive values of ``groups``."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, groups[1:] != groups[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    out: IntArray = np.arange(n) - first
    return out
