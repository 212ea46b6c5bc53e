"""Credit facilities, their repayment schedules and histories, and credit events.

A facility's fate follows its customer: facilities running when the customer stops paying
(91 days before the default date) default; facilities running when a customer leaves are
prepaid on the relationship's end date; the rest mature and settle. The five-category class
(五级分类, 金融资产风险分类办法 2023) follows the customer's days past due at as_of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lendvalue.contract import COLLATERAL_TYPES
from lendvalue.sample import params
from lendvalue.sample.dates import (
    DAYS_PER_MONTH,
    BoolArray,
    FloatArray,
    IntArray,
    add_months,
    rank_within_runs,
    whole_years_between,
)
from lendvalue.sample.names import StrArray
from lendvalue.sample.portfolio import NEVER, Calendar, Counters, Portfolio, downgraded_recently
from lendvalue.sample.rates import LprHistory

ANNUITY, LINEAR, BULLET = 0, 1, 2
AMORTIZATION_CODES = np.array(["annuity", "linear", "bullet"])
PRODUCT = {code: i for i, code in enumerate(params.PRODUCT_CODES)}
GUARANTEE, ACCEPTANCE, REVOLVER = PRODUCT["guarantee"], PRODUCT["acceptance"], PRODUCT["revolver"]
ACTIVE, SETTLED, DEFAULTED, WRITTEN_OFF = 0, 1, 2, 3
STATUS_CODES = np.array(["active", "settled", "defaulted", "written_off"])
CLASS_CODES = np.array(["normal", "special_mention", "substandard", "doubtful", "loss"])


@dataclass
class Facilities:
    """Facilities of one chunk, sorted by customer then origination (arrays of length ``m``)."""

    cust: IntArray
    """Row of the owning customer in the :class:`Portfolio`."""
    ids: pa.Array
    product: IntArray
    """Index into ``params.PRODUCT_CODES``."""
    tenor: IntArray
    """Months."""
    orig: IntArray
    """Origination day number."""
    maturity: IntArray
    """Maturity day number (origination + tenor months)."""
    limit: FloatArray
    """Yuan."""
    fixed: BoolArray
    rate: FloatArray
    """Fixed rate (NaN for floating)."""
    spread_bp: FloatArray
    """Spread over the reference LPR (NaN for guarantees and acceptances)."""
    five_year: BoolArray
    amortization: IntArray
    step: IntArray
    """Months per installment period (1 monthly, 3 quarterly, the tenor for acceptances)."""
    periods: IntArray
    principal0: FloatArray
    """Balance the schedule amortises: the limit, or the drawn part of a revolver."""
    status: IntArray
    cutoff: IntArray
    """Last day a regular installment may fall on."""
    prepaid: BoolArray
    """Running when the customer left: a prepayment row on the relationship end date."""
    write_off_day: IntArray
    collateral: StrArray
    upfront_fee: FloatArray
    commitment_fee_bp: FloatArray
    currency_blank: BoolArray

    @property
    def m(self) -> int:
        return len(self.cust)


def simulate_facilities(
    rng: np.random.Generator, p: Portfolio, cal: Calendar, counters: Counters, lpr: LprHistory
) -> Facilities:
    """Draw each customer's facilities and settle their status at as_of."""
    count = 1 + np.minimum(rng.poisson(np.asarray(params.FACILITY_EXTRA_MEAN)[p.size]), 4)
    cust = np.repeat(np.arange(p.n), count)
    m = len(cust)
    size = p.size[cust]
    product = np.empty(m, dtype=np.int64)
    for s, size_code in enumerate(params.SIZES):
        rows = np.flatnonzero(size == s)
        shares = np.asarray(params.PRODUCT_SHARES_BY_SIZE[size_code])
        product[rows] = rng.choice(len(shares), size=rows.size, p=shares / shares.sum())
    tenor = np.empty(m, dtype=np.int64)
    for code, k in PRODUCT.items():
        rows = np.flatnonzero(product == k)
        tenor[rows] = rng.choice(np.asarray(params.TENOR_MONTHS[code]), size=rows.size)
    first_of_customer = np.r_[True, cust[1:] != cust[:-1]] if m else np.zeros(0, dtype=bool)
    orig = _origination_days(rng, p, cal, cust, tenor, first_of_customer)
    order = np.lexsort((orig, cust))
    cust, product, tenor, orig = cust[order], product[order], tenor[order], orig[order]
    maturity = add_months(orig, tenor)

    limit = np.asarray(params.LIMIT_MEDIAN_BY_SIZE_YUAN)[p.size[cust]] * np.exp(
        params.LIMIT_LOG_SD * rng.standard_normal(m)
    )
    factor = np.array([params.LIMIT_PRODUCT_FACTOR[c] for c in params.PRODUCT_CODES])[product]
    limit = np.maximum(np.round(limit * factor, -4), 10_000.0)

    off_balance = (product == GUARANTEE) | (product == ACCEPTANCE)
    grade = np.minimum(p.grade_on(orig, cust), 6)
    spread = (
        np.asarray(params.SPREAD_BP_BY_GRADE)[grade]
        + np.array([params.SPREAD_PRODUCT_BP.get(c, 0.0) for c in params.PRODUCT_CODES])[product]
        + params.SPREAD_NOISE_BP * rng.standard_normal(m)
    )
    spread = np.where(off_balance, np.nan, np.round(spread, 1))
    five_year = tenor > params.LPR_5Y_ABOVE_MONTHS
    fixed = off_balance | (rng.random(m) < params.FIXED_RATE_SHARE)
    rate_at_orig = lpr.in_effect(orig, five_year) + np.nan_to_num(spread) / 1e4
    rate = np.where(off_balance, 0.0, np.where(fixed, np.round(rate_at_orig, 6), np.nan))

    amortization = np.full(m, BULLET, dtype=np.int64)
    kind_of = {"annuity": ANNUITY, "linear": LINEAR, "bullet": BULLET}
    for code, mix in params.AMORTIZATION_SHARES.items():
        rows = np.flatnonzero(product == PRODUCT[code])
        kinds = np.array([kind_of[k] for k in mix])
        w = np.array(list(mix.values()))
        amortization[rows] = kinds[rng.choice(len(kinds), size=rows.size, p=w / w.sum())]
    step = np.where(amortization == BULLET, 3, 1)
    step = np.where(product == ACCEPTANCE, tenor, step)
    periods = -(-tenor // step)

    status, cutoff, prepaid, write_off_day = _status(rng, p, cal, cust, maturity)
    lo, hi = params.REVOLVER_UTILISATION
    dlo, dhi = params.DEFAULT_REVOLVER_UTILISATION
    utilisation = np.where(status >= DEFAULTED, rng.uniform(dlo, dhi, m), rng.uniform(lo, hi, m))
    principal0 = np.where(product == REVOLVER, np.round(limit * utilisation, 2), limit)

    serial = np.arange(counters.facilities, counters.facilities + m)
    counters.facilities += m
    digits = pc.utf8_lpad(pc.cast(pa.array(serial + 1), pa.string()), width=8, padding="0")
    return Facilities(
        cust=cust,
        ids=pc.binary_join_element_wise("F", digits, ""),
        product=product,
        tenor=tenor,
        orig=orig,
        maturity=maturity,
        limit=limit,
        fixed=fixed,
        rate=rate,
        spread_bp=spread,
        five_year=five_year,
        amortization=amortization,
        step=step,
        periods=periods,
        principal0=principal0,
        status=status,
        cutoff=cutoff,
        prepaid=prepaid,
        write_off_day=write_off_day,
        collateral=_collateral(rng, product, p.size[cust]),
        upfront_fee=_upfront_fees(rng, product, limit, tenor),
        commitment_fee_bp=_commitment_fees(rng, product),
        currency_blank=rng.random(m) < params.CURRENCY_BLANK_SHARE,
    )


def _origination_days(
    rng: np.random.Generator,
    p: Portfolio,
    cal: Calendar,
    cust: IntArray,
    tenor: IntArray,
    first_of_customer: BoolArray,
) -> IntArray:
    """Origination between onboarding and the last day the customer could borrow: the day
    before it left, the day before its first missed payment, or as_of. Part of a live
    customer's facilities are recent (the running book); a defaulting customer's first facility
    runs over its default."""
    lo = p.onboard[cust]
    left = np.where(p.end_day[cust] < NEVER, p.end_day[cust] - 1, NEVER)
    hi = np.maximum(
        np.minimum.reduce([np.full(len(cust), cal.as_of), left, p.first_missed[cust] - 1]), lo
    )
    tenor_days = np.floor(tenor * DAYS_PER_MONTH).astype(np.int64)
    uniform = lo + np.floor(rng.random(len(cust)) * (hi - lo + 1)).astype(np.int64)
    recent_lo = np.maximum(lo, cal.as_of - tenor_days)
    recent = recent_lo + np.floor(rng.random(len(cust)) * (cal.as_of - recent_lo + 1)).astype(
        np.int64
    )
    current = (hi == cal.as_of) & (rng.random(len(cust)) < params.CURRENT_FACILITY_SHARE)
    out = np.where(current, recent, uniform)
    fm = p.first_missed[cust]
    straddle = first_of_customer & p.defaulted[cust]
    over_default = np.maximum(lo, fm - np.floor(rng.uniform(0.1, 0.9, len(cust)) * tenor_days))
    out = np.where(straddle, np.minimum(over_default, np.maximum(hi, lo)), out)
    result: IntArray = np.minimum(out, hi).astype(np.int64)
    return result


def _status(
    rng: np.random.Generator,
    p: Portfolio,
    cal: Calendar,
    cust: IntArray,
    maturity: IntArray,
) -> tuple[IntArray, IntArray, BoolArray, IntArray]:
    """Status at as_of, the last day a regular installment falls on, whether the facility is
    prepaid at the relationship end, and its write-off day.

    A facility running when its customer stopped paying defaults (or, when the default date is
    still ahead, stays active and overdue even past maturity).
    """
    m = len(cust)
    fm = p.first_missed[cust]
    defaulted = p.defaulted[cust] & (maturity >= fm)
    overdue = ~p.defaulted[cust] & (fm <= cal.as_of) & (maturity >= fm)
    left = (p.end_day[cust] < NEVER) & ~p.defaulted[cust]
    prepaid = left & (maturity > p.end_day[cust])
    settled = ~defaulted & ~overdue & ((maturity <= cal.as_of) | prepaid)

    room = cal.as_of - 5 - p.default_day
    written = p.defaulted & (room >= 365) & (rng.random(p.n) < params.WRITE_OFF_SHARE)
    span = np.minimum(room, 720) - 365 + 1
    customer_wo = (
        p.default_day + 365 + np.floor(rng.random(p.n) * np.maximum(span, 1)).astype(np.int64)
    )
    rank = np.zeros(m, dtype=np.int64)
    in_default = np.flatnonzero(defaulted)
    rank[in_default] = rank_within_runs(cust[in_default])
    written_off = defaulted & written[cust]
    write_off_day = np.where(written_off, customer_wo[cust] + rank, NEVER)

    status = np.where(
        written_off, WRITTEN_OFF, np.where(defaulted, DEFAULTED, np.where(settled, SETTLED, ACTIVE))
    )
    cutoff = np.where(
        prepaid,
        p.end_day[cust] - 1,
        np.where(written_off, write_off_day, np.where(settled, maturity, cal.as_of)),
    )
    return status.astype(np.int64), cutoff.astype(np.int64), prepaid, write_off_day


def _collateral(rng: np.random.Generator, product: IntArray, size: IntArray) -> StrArray:
    codes = np.array([c.code for c in COLLATERAL_TYPES])
    out = np.empty(len(product), dtype="<U12")
    for code, k in PRODUCT.items():
        for s in range(4):
            rows = np.flatnonzero((product == k) & (size == s))
            w = np.array(params.COLLATERAL_SHARES[code], dtype=np.float64)
            w[0] *= params.UNSECURED_FACTOR_BY_SIZE[s]
            out[rows] = codes[rng.choice(len(codes), size=rows.size, p=w / w.sum())]
    return out


def _upfront_fees(
    rng: np.random.Generator, product: IntArray, limit: FloatArray, tenor: IntArray
) -> FloatArray:
    """Arrangement fee on term loans and project finance (0.2-1.0%), guarantee commission
    (0.5-1.5% a year, paid upfront), acceptance commission (0.05%); none on the others."""
    m = len(product)
    arrangement = limit * rng.uniform(0.002, 0.01, m)
    guarantee = limit * rng.uniform(0.005, 0.015, m) * tenor / 12.0
    acceptance = limit * 0.0005
    fee = np.full(m, np.nan)
    term = (product == PRODUCT["term_loan"]) | (product == PRODUCT["project_finance"])
    fee = np.where(term, arrangement, fee)
    fee = np.where(product == GUARANTEE, guarantee, fee)
    fee = np.where(product == ACCEPTANCE, acceptance, fee)
    out: FloatArray = np.round(fee, 2)
    return out


def _commitment_fees(rng: np.random.Generator, product: IntArray) -> FloatArray:
    """Commitment fee on the undrawn part of revolvers (20-50 bp) and project finance (25-75 bp)."""
    m = len(product)
    fee: FloatArray = np.where(product == REVOLVER, rng.uniform(20, 50, m), np.nan)
    fee = np.where(product == PRODUCT["project_finance"], rng.uniform(25, 75, m), fee)
    out: FloatArray = np.round(fee, 1)
    return out


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------


def remaining_fraction(
    amortization: IntArray, monthly_rate: FloatArray, periods: IntArray, j: IntArray
) -> FloatArray:
    """Share of the original balance outstanding after installment ``j`` (0 = before the first).

    .. math:: \\text{annuity: } \\frac{(1+r)^n - (1+r)^j}{(1+r)^n - 1}, \\quad
              \\text{linear: } 1 - j/n, \\quad \\text{bullet: } [j < n]
    """
    j = np.clip(j, 0, periods).astype(np.float64)
    n = periods.astype(np.float64)
    linear = 1.0 - j / n
    r = np.maximum(monthly_rate, 1e-12)
    annuity = (np.power(1 + r, n) - np.power(1 + r, j)) / (np.power(1 + r, n) - 1)
    bullet = (j < n).astype(np.float64)
    out: FloatArray = np.where(
        amortization == ANNUITY, annuity, np.where(amortization == LINEAR, linear, bullet)
    )
    return out


def due_day(f: Facilities, rows: IntArray, j: IntArray) -> IntArray:
    """Due date of installment ``j`` (1-based) of facilities ``rows``; the last one is the
    maturity date."""
    return add_months(f.orig[rows], np.minimum(f.step[rows] * j, f.tenor[rows]))


def installments_on_or_before(f: Facilities, day: IntArray) -> IntArray:
    """Number of installments of each facility due on or before ``day``."""
    months = (
        np.asarray(day, dtype="datetime64[D]").astype("datetime64[M]")
        - np.asarray(f.orig, dtype="datetime64[D]").astype("datetime64[M]")
    ).astype(np.int64)
    j = np.where(months >= f.tenor, f.periods, months // f.step)
    j = np.clip(j, 0, f.periods)
    rows = np.arange(f.m)
    j = j - ((j > 0) & (due_day(f, rows, np.maximum(j, 1)) > day))
    out: IntArray = np.maximum(j, 0)
    return out


def period_rate(f: Facilities, rows: IntArray, j: IntArray, lpr: LprHistory) -> FloatArray:
    """Annual rate of installment period ``j``: the fixed rate, or the reference LPR in effect at
    the last origination anniversary before the period starts plus the spread (annual
    repricing, the usual term of 存量 LPR contracts)."""
    reset = add_months(f.orig[rows], 12 * ((f.step[rows] * (j - 1)) // 12))
    floating = lpr.in_effect(reset, f.five_year[rows]) + np.nan_to_num(f.spread_bp[rows]) / 1e4
    out: FloatArray = np.where(f.fixed[rows], f.rate[rows], floating)
    return out


def _origination_rate(f: Facilities, lpr: LprHistory) -> FloatArray:
    floating = lpr.in_effect(f.orig, f.five_year) + np.nan_to_num(f.spread_bp) / 1e4
    out: FloatArray = np.where(f.fixed, f.rate, floating)
    return out


@dataclass
class RepaymentResult:
    """The repayment rows and what they imply for their facilities and customers."""

    table: pa.Table
    unpaid_regular: IntArray
    """Unpaid regular installments per facility at as_of."""
    customer_dpd: IntArray
    """Days past due of each customer at as_of (the oldest unpaid installment, or the first
    missed payment of a customer heading into default)."""


def simulate_repayments(
    rng: np.random.Generator, p: Portfolio, f: Facilities, cal: Calendar, lpr: LprHistory
) -> RepaymentResult:
    """Installments due in the three years before as_of, with how and when they were paid."""
    window_lo = int(add_months(np.array([cal.as_of]), -12 * params.REPAYMENT_WINDOW_YEARS)[0])
    has_rows = f.product != GUARANTEE
    j_first = installments_on_or_before(f, np.full(f.m, window_lo - 1)) + 1
    j_last = installments_on_or_before(f, f.cutoff)
    count = np.where(has_rows, np.maximum(j_last - j_first + 1, 0), 0)
    fac = np.repeat(np.arange(f.m), count)
    j = j_first[fac] + rank_within_runs(fac)
    r0 = _origination_rate(f, lpr) / 12.0
    amort = f.amortization[fac]
    before = remaining_fraction(amort, r0[fac], f.periods[fac], j - 1)
    after = remaining_fraction(amort, r0[fac], f.periods[fac], j)
    due = due_day(f, fac, j)
    months = np.minimum(f.step[fac] * j, f.tenor[fac]) - f.step[fac] * (j - 1)
    rate = np.where(f.product[fac] == ACCEPTANCE, 0.0, period_rate(f, fac, j, lpr))
    principal = f.principal0[fac] * (before - after)
    interest = f.principal0[fac] * before * rate * months / 12.0

    # the prepayment of facilities still running when the customer left
    pre = np.flatnonzero(f.prepaid & has_rows & (p.end_day[f.cust] >= window_lo))
    j_pre = installments_on_or_before(f, f.cutoff)[pre]
    last_due = np.where(j_pre > 0, due_day(f, pre, np.maximum(j_pre, 1)), f.orig[pre])
    end = p.end_day[f.cust[pre]]
    left_fraction = remaining_fraction(f.amortization[pre], r0[pre], f.periods[pre], j_pre)
    pre_rate = np.where(f.product[pre] == ACCEPTANCE, 0.0, period_rate(f, pre, j_pre + 1, lpr))
    pre_principal = f.principal0[pre] * left_fraction
    pre_interest = pre_principal * pre_rate * (end - last_due) / 360.0

    fac = np.concatenate([fac, pre])
    due = np.concatenate([due, end])
    principal = np.round(np.concatenate([principal, pre_principal]), 2)
    interest = np.round(np.concatenate([interest, pre_interest]), 2)
    is_prepayment = np.r_[np.zeros(len(j), dtype=bool), np.ones(len(pre), dtype=bool)]
    order = np.lexsort((due, fac))
    fac, due, principal, interest, is_prepayment = (
        fac[order],
        due[order],
        principal[order],
        interest[order],
        is_prepayment[order],
    )
    cust = f.cust[fac]
    settled = f.status[fac] == SETTLED
    dpd, unpaid = _payment_behaviour(rng, p, cal, cust, due, is_prepayment | settled)
    paid = np.where(unpaid, 0, due + dpd)
    fee = _fees(rng, principal, interest, dpd, unpaid)

    unpaid_regular = np.bincount(fac[unpaid & ~is_prepayment], minlength=f.m).astype(np.int64)
    customer_dpd = np.zeros(p.n, dtype=np.int64)
    np.maximum.at(customer_dpd, cust[unpaid], dpd[unpaid])
    heading = p.first_missed <= cal.as_of
    customer_dpd = np.where(
        heading, np.maximum(customer_dpd, cal.as_of - p.first_missed), customer_dpd
    )
    table = pa.table(
        {
            "facility_id": f.ids.take(pa.array(fac)),
            "due_date": pa.array(due.astype(np.int32), pa.date32()),
            "paid_date": pa.array(paid.astype(np.int32), pa.date32(), mask=unpaid),
            "principal": pa.array(principal, pa.float64()),
            "interest": pa.array(interest, pa.float64()),
            "fee": pa.array(fee, pa.float64(), from_pandas=True),
            "days_past_due": pa.array(dpd, pa.int64()),
        }
    )
    return RepaymentResult(table, unpaid_regular, customer_dpd)


def _payment_behaviour(
    rng: np.random.Generator,
    p: Portfolio,
    cal: Calendar,
    cust: IntArray,
    due: IntArray,
    paid_by_as_of: BoolArray,
) -> tuple[IntArray, BoolArray]:
    """Days past due and whether each installment is still unpaid at as_of.

    From the first missed payment on nothing is paid; in the three months before it payments
    come late by a rising number of days; otherwise an installment is late by 1-29 days with a
    probability that rises with the grade at its due date. Unpaid rows count days to as_of.
    Rows flagged ``paid_by_as_of`` (prepayments, settled facilities) are paid by as_of at the
    latest.
    """
    n = len(due)
    fm = p.first_missed[cust]
    stopped = due >= fm
    distress = (due >= fm - params.PRE_DEFAULT_LATE_DAYS) & ~stopped
    grade = np.minimum(p.grade_on(due, cust), 6)
    late = rng.random(n) < np.asarray(params.LATE_PAYMENT_PROB_BY_GRADE)[grade]
    ramp = 15 + 45 * (1 - (fm - due) / params.PRE_DEFAULT_LATE_DAYS) + 5 * rng.standard_normal(n)
    dpd = np.where(
        distress,
        np.clip(np.round(ramp), 1, 89),
        np.where(late, rng.integers(1, 30, n), 0),
    ).astype(np.int64)
    dpd = np.where(paid_by_as_of & ~stopped, np.minimum(dpd, cal.as_of - due), dpd)
    unpaid = stopped | (due + dpd > cal.as_of)
    dpd = np.where(unpaid, cal.as_of - due, dpd)
    return dpd, unpaid


def _fees(
    rng: np.random.Generator,
    principal: FloatArray,
    interest: FloatArray,
    dpd: IntArray,
    unpaid: BoolArray,
) -> FloatArray:
    """Penalty interest (罚息) on late payments; an occasional service fee; else empty."""
    n = len(principal)
    penalty = np.round((principal + interest) * params.PENALTY_RATE_PER_DAY * dpd, 2)
    service = np.round(rng.uniform(100, 2000, n), 2)
    with_service = rng.random(n) < params.SERVICE_FEE_SHARE
    out: FloatArray = np.where(
        ~unpaid & (dpd > 0), penalty, np.where(with_service & ~unpaid, service, np.nan)
    )
    return out


# ---------------------------------------------------------------------------------------------
# Balances at as_of, classification, the facilities table and credit events
# ---------------------------------------------------------------------------------------------


def drawn_and_exposure(
    p: Portfolio, f: Facilities, cal: Calendar, lpr: LprHistory, rep: RepaymentResult
) -> tuple[FloatArray, FloatArray]:
    """Drawn balance at as_of and exposure at default (0 where not defaulted).

    Amortising facilities owe the schedule's balance after the installments actually paid;
    revolvers their drawn part; guarantees and acceptances their face value while alive (a
    called guarantee or an unpaid acceptance becomes an advance, 垫款). Defaulted facilities owe
    what was outstanding when payments stopped; written-off ones are off the books.
    """
    r0 = _origination_rate(f, lpr) / 12.0
    paid_by_as_of = installments_on_or_before(f, np.full(f.m, cal.as_of)) - rep.unpaid_regular
    stopped = installments_on_or_before(f, p.first_missed[f.cust] - 1)
    j = np.where(f.status >= DEFAULTED, stopped, paid_by_as_of)
    balance = f.principal0 * remaining_fraction(f.amortization, r0, f.periods, j)
    balance = np.where((f.product == GUARANTEE) | (f.product == ACCEPTANCE), f.limit, balance)
    balance = np.minimum(np.round(balance, 2), f.limit)
    ead = np.where(f.status >= DEFAULTED, balance, 0.0)
    drawn = np.where((f.status == ACTIVE) | (f.status == DEFAULTED), balance, 0.0)
    return drawn, ead


def classification(p: Portfolio, f: Facilities, cal: Calendar, customer_dpd: IntArray) -> IntArray:
    """五级分类 from the customer's days past due at as_of, by the thresholds of
    《商业银行金融资产风险分类办法》(2023): 关注 (special mention) for 1-90 days or a recent
    downgrade, 次级 above 90 days or in default, 可疑 above 270, 损失 above 360 or written off."""
    dpd = customer_dpd[f.cust]
    downgrade = downgraded_recently(p, cal.as_of)[f.cust]
    bad = np.where(dpd > 360, 4, np.where(dpd > 270, 3, 2))
    live = np.where(dpd > 90, bad, np.where((dpd >= 1) | downgrade, 1, 0))
    out: IntArray = np.select(
        [f.status == SETTLED, f.status == WRITTEN_OFF, f.status == DEFAULTED],
        [0, 4, bad],
        default=live,
    ).astype(np.int64)
    return out


def facilities_table(
    p: Portfolio, f: Facilities, drawn: FloatArray, class_index: IntArray
) -> pa.Table:
    """The ``facilities`` rows (typed)."""
    rate_type = np.where(f.fixed, "fixed", np.where(f.five_year, "lpr_5y", "lpr_1y"))
    nan = np.isnan
    return pa.table(
        {
            "facility_id": f.ids,
            "customer_id": p.ids.take(pa.array(f.cust)),
            "product": pa.array(np.asarray(params.PRODUCT_CODES)[f.product], pa.string()),
            "limit_amount": pa.array(f.limit, pa.float64()),
            "drawn_amount": pa.array(drawn, pa.float64()),
            "currency": pa.array(np.full(f.m, "CNY"), pa.string(), mask=f.currency_blank),
            "origination_date": pa.array(f.orig.astype(np.int32), pa.date32()),
            "maturity_date": pa.array(f.maturity.astype(np.int32), pa.date32()),
            "rate_type": pa.array(rate_type, pa.string()),
            "rate": pa.array(f.rate, pa.float64(), mask=nan(f.rate)),
            "spread_bp": pa.array(f.spread_bp, pa.float64(), mask=nan(f.spread_bp)),
            "amortization": pa.array(AMORTIZATION_CODES[f.amortization], pa.string()),
            "collateral_type": pa.array(f.collateral, pa.string()),
            "upfront_fee": pa.array(f.upfront_fee, pa.float64(), mask=nan(f.upfront_fee)),
            "commitment_fee_bp": pa.array(
                f.commitment_fee_bp, pa.float64(), mask=nan(f.commitment_fee_bp)
            ),
            "classification": pa.array(CLASS_CODES[class_index], pa.string()),
            "status": pa.array(STATUS_CODES[f.status], pa.string()),
        }
    )


@dataclass
class _Events:
    """Credit events collected as arrays, one ``add`` per kind of event."""

    cust: list[IntArray] = field(default_factory=list)
    day: list[IntArray] = field(default_factory=list)
    event: list[StrArray] = field(default_factory=list)
    facility: list[IntArray] = field(default_factory=list)
    amount: list[FloatArray] = field(default_factory=list)
    detail: list[StrArray] = field(default_factory=list)

    def add(
        self,
        event: str,
        cust: IntArray,
        day: IntArray,
        *,
        facility: IntArray | None = None,
        amount: FloatArray | None = None,
        detail: str = "",
    ) -> None:
        """Events of one kind; ``facility`` -1 or omitted means none, ``amount`` NaN none."""
        n = len(cust)
        self.cust.append(cust)
        self.day.append(day)
        self.event.append(np.full(n, event))
        self.facility.append(np.full(n, -1) if facility is None else facility)
        self.amount.append(np.full(n, np.nan) if amount is None else amount)
        self.detail.append(np.full(n, detail))


def credit_events_table(
    rng: np.random.Generator,
    p: Portfolio,
    f: Facilities,
    cal: Calendar,
    ead: FloatArray,
    customer_dpd: IntArray,
) -> pa.Table:
    """Credit events up to as_of: ``overdue_90`` and ``default`` of defaulted customers, the
    classification changes their days past due imply, some restructurings and lawsuits, the
    write-offs; and the move to special mention of live customers that are late or downgraded.
    """
    as_of = cal.as_of
    defaulted = np.flatnonzero(p.defaulted)
    # the main defaulted facility of each defaulted customer: the largest exposure
    main_of = np.full(p.n, -1, dtype=np.int64)
    total = np.zeros(p.n)
    np.add.at(total, f.cust, ead)
    fac_order = np.lexsort((ead, f.cust))
    in_default = f.status[fac_order] >= DEFAULTED
    main_of[f.cust[fac_order][in_default]] = fac_order[in_default]
    main = main_of[defaulted]

    ev = _Events()
    fm = p.first_missed[defaulted]
    ev.add(
        "default",
        defaulted,
        p.default_day[defaulted],
        facility=main,
        amount=total[defaulted],
        detail="逾期超过90天 (90+ days past due)",
    )
    ev.add("overdue_90", defaulted, fm + 90, facility=main, amount=ead[main], detail="逾期90天")
    steps = (
        (1, "normal→special_mention"),
        (params.FIRST_MISSED_DAYS_BEFORE_DEFAULT, "special_mention→substandard"),
        (181, "substandard→doubtful"),
        (361, "doubtful→loss"),
    )
    for offset, move in steps:
        keep = fm + offset <= as_of
        ev.add(
            "classification_change",
            defaulted[keep],
            (fm + offset)[keep],
            facility=main[keep],
            detail=move,
        )
    for kind, share, lo, hi in (
        ("restructure", params.RESTRUCTURE_SHARE, 60, 240),
        ("lawsuit", params.LAWSUIT_SHARE, 30, 365),
    ):
        when = p.default_day[defaulted] + rng.integers(lo, hi + 1, len(defaulted))
        keep = (rng.random(len(defaulted)) < share) & (when <= as_of)
        ev.add(kind, defaulted[keep], when[keep], facility=main[keep], amount=ead[main[keep]])
    written = np.flatnonzero(f.status == WRITTEN_OFF)
    ev.add(
        "write_off",
        f.cust[written],
        f.write_off_day[written],
        facility=written,
        amount=ead[written],
        detail="核销",
    )

    # customers heading into default but not there yet, and live customers late or downgraded
    heading = np.flatnonzero(~p.defaulted & (p.first_missed <= as_of))
    ev.add(
        "classification_change",
        heading,
        p.first_missed[heading] + 1,
        detail="normal→special_mention",
    )
    heading_90 = heading[p.first_missed[heading] + 90 <= as_of]
    ev.add("overdue_90", heading_90, p.first_missed[heading_90] + 90, detail="逾期90天")
    has_active = np.zeros(p.n, dtype=bool)
    has_active[f.cust[f.status == ACTIVE]] = True
    watch = ~p.defaulted & (p.first_missed > as_of) & has_active
    late = np.flatnonzero(watch & (customer_dpd >= 1))
    ev.add(
        "classification_change",
        late,
        as_of - customer_dpd[late] + 1,
        detail="normal→special_mention",
    )
    down = np.flatnonzero(watch & (customer_dpd == 0) & downgraded_recently(p, as_of))
    k_last = np.clip(
        whole_years_between(p.onboard[down], np.full(len(down), as_of)), 0, params.MAX_REVIEWS
    )
    ev.add(
        "classification_change",
        down,
        p.reviews[down, k_last],
        detail="normal→special_mention (downgrade)",
    )

    cust, day = np.concatenate(ev.cust), np.concatenate(ev.day)
    event = np.concatenate(ev.event)
    order = np.lexsort((event, day, cust))
    cust, day, event = cust[order], day[order], event[order]
    facility = np.concatenate(ev.facility)[order]
    amount = np.round(np.concatenate(ev.amount), 2)[order]
    detail = np.concatenate(ev.detail)[order]
    fac_ids = f.ids.take(pa.array(np.maximum(facility, 0))) if f.m else pa.nulls(0, pa.string())
    return pa.table(
        {
            "customer_id": p.ids.take(pa.array(cust)),
            "event_date": pa.array(day.astype(np.int32), pa.date32()),
            "event": pa.array(event, pa.string()),
            "facility_id": pc.if_else(
                pa.array(facility >= 0), fac_ids, pa.scalar(None, pa.string())
            ),
            "amount": pa.array(amount, pa.float64(), mask=np.isnan(amount)),
            "detail": pa.array(detail, pa.string(), mask=detail == ""),
        }
    )
