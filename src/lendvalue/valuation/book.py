"""The facility book: everything the cash-flow engine needs, one float64 (or int) array per
attribute, one row per facility — built once from the contract's ``facilities`` table, the
market curves, the credit inputs and the assumptions, then read by the engine in blocks.

Conventions (docs/valuation.md):

- the valuation date is ``as_of``; months ``m = 1 … H`` after it, month ``m`` covering
  ``(m-1, m]``, cash flows at its end;
- ``remaining_months`` ``n`` = calendar months from ``as_of`` to maturity, rounded up (≥ 1);
  ``term_months`` ``N`` = the original term, the term of every renewal;
- rates are annual decimals, accrued monthly as ``rate / 12`` on the balance at the start of the
  month;
- a floating facility reprices every ``reset_months`` on its origination anniversary to the LPR
  then in force plus its spread; ``next_reset`` is the number of months from ``as_of`` to its
  next reset (1 … ``reset_months``), and ``lpr_now`` the LPR fixed at its last reset, so its
  rate today is ``lpr_now + spread``;
- funds transfer pricing: a fixed-rate facility keeps the matched-maturity FTP of its
  origination (the FTP curve on that day at its original term); a floating one is funded at
  the reference LPR plus the FTP curve's spread over it today at the reset tenor
  (``ftp_spread``), so its margin over FTP moves only with its spread;
- renewals price as floating at ``renewal_spread`` over the LPR in force (for a fixed-rate
  facility: its rate over the LPR at its origination), funded like a floating facility.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.contract import PRODUCTS
from lendvalue.errors import DataContractError
from lendvalue.models.credit.capital import capital_requirement_k
from lendvalue.models.credit.ead import credit_conversion_factor, load_ccf_table
from lendvalue.models.credit.lgd import lgd_from_table
from lendvalue.tables import TableSource
from lendvalue.valuation.assumptions import Assumptions
from lendvalue.valuation.curves import MarketCurves, day_number

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PRODUCT_CODES: tuple[str, ...] = tuple(p.code for p in PRODUCTS)
ANNUITY, LINEAR, BULLET, REVOLVING, CUSTOM = 0, 1, 2, 3, 4
"""Schedule kinds: a revolver's balance is its limit × utilisation until maturity; guarantees
and acceptances are face amounts outstanding until maturity (bullet)."""
_AMORTIZATION = {"annuity": ANNUITY, "linear": LINEAR, "bullet": BULLET, "custom": CUSTOM}
OFF_BALANCE = ("guarantee", "acceptance")
_MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class FacilityBook:
    """Facilities as arrays (module notes). Money in yuan, rates annual decimals."""

    customer: IntArray
    """Row of the facility's customer in the customer arrays."""
    product: IntArray
    """Index into :data:`PRODUCT_CODES`."""
    schedule: IntArray
    on_balance: BoolArray
    balance: Array
    """Drawn balance today (face amount outstanding for guarantees and acceptances)."""
    limit: Array
    renewal_balance: Array
    """Balance a renewal starts with (the limit; limit × utilisation for a revolver)."""
    remaining_months: IntArray
    term_months: IntArray
    floating: BoolArray
    five_year: BoolArray
    rate: Array
    """Rate today."""
    spread: Array
    """Over the LPR, decimal; renewals use it too."""
    lpr_now: Array
    next_reset: IntArray
    ftp_fixed: Array
    """Matched-maturity FTP of a fixed-rate facility (NaN for floating)."""
    ftp_spread: Array
    """FTP of a floating facility (and of renewals) over its reference LPR."""
    commitment_fee_bp: Array
    upfront_fee: Array
    """Received again at each renewal (yuan)."""
    ccf_drawn: Array
    ccf_undrawn: Array
    """0 where the undrawn part is no commitment."""
    lgd: Array
    capital_k: Array
    """IRB K per unit of EAD at the customer's PD, the LGD and the remaining maturity."""
    smm: Array
    """Single monthly mortality from the CPR: 1 − (1 − CPR)^(1/12)."""
    renewal_probability: Array
    opex_month: Array
    opex_bp: Array
    custom_balance: Array | None = None
    """For ``schedule == CUSTOM`` rows (in order): scheduled balance at months 0 … H."""

    @property
    def n(self) -> int:
        return int(self.customer.shape[0])

    def take(self, rows: IntArray) -> FacilityBook:
        """The facilities ``rows`` (custom schedules follow their rows)."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "custom_balance":
                continue
            values[f.name] = value[rows]
        custom = None
        if self.custom_balance is not None:
            order = np.cumsum(self.schedule == CUSTOM) - 1
            picked = rows[self.schedule[rows] == CUSTOM]
            custom = self.custom_balance[order[picked]]
        return FacilityBook(**values, custom_balance=custom)


def facility_book(
    facilities: pd.DataFrame,
    customer_rows: pd.Series,
    as_of: dt.date | str,
    market: MarketCurves,
    assumptions: Assumptions,
    pd_1y: Array,
    *,
    ccf_table: TableSource = None,
    lgd_table: TableSource = None,
    custom_schedules: pd.DataFrame | None = None,
) -> FacilityBook:
    """The book of the active facilities in ``facilities`` (the contract's columns).

    ``customer_rows`` maps ``customer_id`` to the customer's row in the customer arrays;
    ``pd_1y`` is each customer's one-year PD (by that row) for the capital requirement.
    ``custom_schedules`` (``facility_id, due_date, principal``: future scheduled principal of
    ``custom`` facilities, e.g. the unpaid rows of ``repayments``) gives their balance path; a
    custom facility without rows amortises linearly.
    """
    today = day_number(as_of)
    active = facilities[facilities["status"] == "active"]
    if active.empty:
        raise DataContractError("facility_book: no active facility to value")
    missing = sorted(set(active["customer_id"]) - set(customer_rows.index))
    if missing:
        raise DataContractError(f"facilities of unknown customers {missing[:5]} (give their rows)")
    cust = customer_rows.loc[active["customer_id"]].to_numpy(np.int64)
    product_code = active["product"].to_numpy(object)
    product = pd.Index(PRODUCT_CODES).get_indexer(pd.Index(product_code)).astype(np.int64)
    if (product < 0).any():
        raise DataContractError(f"unknown product codes {sorted(set(product_code[product < 0]))}")
    origination = np.array([day_number(d) for d in active["origination_date"]], dtype=np.int64)
    maturity = np.array([day_number(d) for d in active["maturity_date"]], dtype=np.int64)
    _check_running(active, origination, maturity, today)
    remaining = _months_up_to(today, maturity)
    term = _months_up_to(origination, maturity)

    off = np.isin(product_code, OFF_BALANCE)
    revolving = product_code == "revolver"
    kind = active["amortization"].map(_AMORTIZATION).to_numpy(np.float64)
    if np.isnan(kind).any():
        raise DataContractError("facility_book: an amortization code is not one of the contract's")
    schedule = np.where(off, BULLET, np.where(revolving, REVOLVING, kind)).astype(np.int64)

    limit = active["limit_amount"].to_numpy(np.float64)
    balance = active["drawn_amount"].to_numpy(np.float64)
    per_product = [assumptions.products[p] for p in PRODUCT_CODES]
    fixed_util = np.array([np.nan if a.utilisation is None else a.utilisation
                           for a in per_product])[product]  # fmt: skip
    utilisation = np.where(np.isnan(fixed_util), balance / np.maximum(limit, 1e-9), fixed_util)
    revolver_balance = np.where(revolving, limit * utilisation, balance)
    balance = np.where(revolving, revolver_balance, balance)
    renewal_balance = np.where(revolving, revolver_balance, np.where(off, balance, limit))

    floating = active["rate_type"].to_numpy(object) != "fixed"
    _check_pricing(active, floating & ~off)
    five_year = active["rate_type"].to_numpy(object) == "lpr_5y"
    spread_bp = active["spread_bp"].to_numpy(np.float64)
    # the last reset on or before as_of: origination + k × reset_months
    months_since = _months_between(origination, today)
    reset = assumptions.reset_months
    last_reset_months = (months_since // reset) * reset
    last_reset_day = _add_months(origination, last_reset_months)
    lpr_now = market.lpr_on(last_reset_day, five_year)
    next_reset = (last_reset_months + reset - months_since).astype(np.int64)
    fixed_rate = active["rate"].to_numpy(np.float64)
    rate = np.where(floating, lpr_now + np.nan_to_num(spread_bp) / 1e4, np.nan_to_num(fixed_rate))
    rate = np.where(off, 0.0, rate)
    lpr_at_origination = market.lpr_on(origination, five_year)
    spread = np.where(floating, np.nan_to_num(spread_bp) / 1e4, rate - lpr_at_origination)
    spread = np.where(off, 0.0, spread)
    ftp_fixed = np.where(floating | off, np.nan, market.ftp_on(origination, term))
    ftp_spread = market.ftp_on(today, float(reset)) - market.lpr_on(today, five_year)

    ccf = load_ccf_table(ccf_table)
    ccf_drawn = np.asarray(credit_conversion_factor(product_code, ccf), dtype=np.float64)
    ccf_undrawn = np.asarray(
        credit_conversion_factor(product_code, ccf, part="undrawn"), dtype=np.float64
    )
    lgd = np.asarray(
        lgd_from_table(active["collateral_type"].to_numpy(object), table=lgd_table),
        dtype=np.float64,
    )
    maturity_years = np.clip(remaining / 12.0, 1.0, 5.0)
    capital_k = np.asarray(
        capital_requirement_k(np.maximum(pd_1y[cust], assumptions.pd_floor), lgd, maturity_years),
        dtype=np.float64,
    )
    cpr = np.array([a.prepayment_cpr_annual for a in per_product])[product]
    custom_rows = np.flatnonzero(schedule == CUSTOM)
    custom = None
    if custom_rows.size:
        custom = _custom_balances(
            active.iloc[custom_rows], balance[custom_rows], remaining[custom_rows],
            custom_schedules, today, assumptions.horizon_months,
        )  # fmt: skip
    return FacilityBook(
        customer=cust,
        product=product,
        schedule=schedule,
        on_balance=~off,
        balance=balance,
        limit=limit,
        renewal_balance=renewal_balance,
        remaining_months=remaining,
        term_months=term,
        floating=floating & ~off,
        five_year=five_year,
        rate=rate,
        spread=spread,
        lpr_now=lpr_now,
        next_reset=next_reset,
        ftp_fixed=ftp_fixed,
        ftp_spread=ftp_spread,
        commitment_fee_bp=np.nan_to_num(active["commitment_fee_bp"].to_numpy(np.float64)),
        upfront_fee=np.nan_to_num(active["upfront_fee"].to_numpy(np.float64)),
        ccf_drawn=ccf_drawn,
        ccf_undrawn=ccf_undrawn,
        lgd=lgd,
        capital_k=capital_k,
        smm=-np.expm1(np.log1p(-cpr) / 12.0),
        renewal_probability=np.array([a.renewal_probability for a in per_product])[product],
        opex_month=np.array([a.opex_month_yuan for a in per_product])[product],
        opex_bp=np.array([a.opex_bp_annual for a in per_product])[product],
        custom_balance=custom,
    )


def _check_running(active: pd.DataFrame, origination: IntArray, maturity: IntArray, today: int
                   ) -> None:  # fmt: skip
    """Only facilities running on the valuation date, in yuan, can be valued."""
    ids = active["facility_id"].to_numpy(object)
    problems = {
        "mature on or before the valuation date": maturity <= today,
        "start after the valuation date": origination > today,
    }
    if "currency" in active.columns:
        currency = active["currency"].fillna("CNY").replace("", "CNY").to_numpy(object)
        problems["are not in CNY (the market table has no FX curves; value them apart)"] = (
            currency != "CNY"
        )
    for what, bad in problems.items():
        if bad.any():
            raise DataContractError(
                f"facility_book: {int(bad.sum())} active facilities {what}: "
                f"{', '.join(map(str, ids[bad][:5]))}"
            )


def _check_pricing(active: pd.DataFrame, floating: BoolArray) -> None:
    """A floating facility needs its spread, a fixed one its rate (the contract's row rules;
    a missing value would silently price at 0)."""
    ids = active["facility_id"].to_numpy(object)
    no_spread = floating & active["spread_bp"].isna().to_numpy()
    off = np.isin(active["product"].to_numpy(object), OFF_BALANCE)
    no_rate = ~floating & ~off & active["rate"].isna().to_numpy()
    for what, bad in (("spread_bp", no_spread), ("rate", no_rate)):
        if bad.any():
            raise DataContractError(
                f"facility_book: {int(bad.sum())} facilities have no {what}: "
                f"{', '.join(map(str, ids[bad][:5]))}"
            )


def _months_up_to(start: IntArray | int, end: IntArray) -> IntArray:
    """Calendar months from ``start`` to ``end``, a part month counting as one, at least 1 —
    on the grid of :func:`lendvalue.valuation.curves.month_starts`."""
    begin = np.broadcast_to(np.asarray(start, dtype=np.int64), end.shape)
    whole = _months_between(begin, end)
    return np.maximum(whole + (_add_months(begin, whole) < end), 1).astype(np.int64)


def with_pd(book: FacilityBook, pd_1y: Array, *, pd_floor: float) -> FacilityBook:
    """The book with its capital requirement recomputed at the customers' one-year PDs
    ``pd_1y`` (by customer row): K at the PD, the facility's LGD and its remaining maturity
    (1-5 years), as :func:`facility_book` computes it."""
    maturity_years = np.clip(book.remaining_months / 12.0, 1.0, 5.0)
    k = capital_requirement_k(np.maximum(pd_1y[book.customer], pd_floor), book.lgd,
                              maturity_years)  # fmt: skip
    return replace(book, capital_k=np.asarray(k, dtype=np.float64))


def _months_between(earlier: IntArray, later: IntArray | int) -> IntArray:
    """Whole calendar months from ``earlier`` to ``later`` (days), counting a month once its
    day of month is reached."""
    a = earlier.astype("datetime64[D]")
    b = np.asarray(later, dtype=np.int64).astype("datetime64[D]")
    months = (b.astype("datetime64[M]") - a.astype("datetime64[M]")).astype(np.int64)
    reached = _add_months(earlier, months) <= later
    out: IntArray = np.maximum(months - (~reached), 0)
    return out


def _add_months(days: IntArray, months: IntArray) -> IntArray:
    d = days.astype("datetime64[D]")
    month0 = d.astype("datetime64[M]")
    day_in_month = (d - month0.astype("datetime64[D]")).astype(np.int64)
    target = month0 + months.astype("timedelta64[M]")
    last = ((target + 1).astype("datetime64[D]") - 1 - target.astype("datetime64[D]")).astype(
        np.int64
    )
    out: IntArray = target.astype("datetime64[D]").astype(np.int64) + np.minimum(day_in_month, last)
    return out


def _custom_balances(
    rows: pd.DataFrame,
    balance: Array,
    remaining: IntArray,
    schedules: pd.DataFrame | None,
    today: int,
    horizon: int,
) -> Array:
    """Scheduled balance at months 0 … H of each custom facility: today's balance less the
    principal due by each month end (linear over the remaining term when no rows are given)."""
    out = np.zeros((len(rows), horizon + 1))
    months = np.arange(horizon + 1, dtype=np.float64)
    for k, (facility_id, b0, n) in enumerate(
        zip(rows["facility_id"], balance, remaining, strict=True)
    ):
        due = None
        if schedules is not None:
            due = schedules[schedules["facility_id"] == facility_id]
        if due is None or due.empty:
            out[k] = b0 * np.clip(1.0 - months / n, 0.0, 1.0)
            continue
        day = np.array([day_number(d) for d in due["due_date"]], dtype=np.int64)
        month = np.ceil((day - today) / _MONTH_DAYS).astype(np.int64)
        paid = np.bincount(np.clip(month, 0, horizon), weights=due["principal"].to_numpy(float),
                           minlength=horizon + 1)  # fmt: skip
        out[k] = np.maximum(b0 - np.cumsum(paid), 0.0)
    return out
