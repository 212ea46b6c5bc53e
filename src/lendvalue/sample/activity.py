"""What customers do besides borrowing: fee-earning transactions, deposits, financial statements
and the rating reviews."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lendvalue.contract import GBT4754_SECTIONS
from lendvalue.sample import params
from lendvalue.sample.dates import (
    SECONDS_PER_DAY,
    FloatArray,
    IntArray,
    add_months,
    december_31,
    month_range,
    month_start,
    rank_within_runs,
    whole_years_between,
    year_of,
)
from lendvalue.sample.portfolio import Calendar, Portfolio

SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY


def observation_window(p: Portfolio, cal: Calendar) -> tuple[IntArray, IntArray]:
    """First day of each customer's transaction window, max(onboard_date, as_of - 3 years), and
    the day after its last observable day, min(end_date, as_of) + 1."""
    window_lo = int(add_months(np.array([cal.as_of]), -12 * params.TRANSACTION_WINDOW_YEARS)[0])
    start: IntArray = np.maximum(p.onboard, window_lo)
    stop: IntArray = np.minimum(p.end_day, cal.as_of) + 1
    return start, stop


def simulate_transactions(rng: np.random.Generator, p: Portfolio, cal: Calendar) -> pa.Table:
    """Fee-earning transactions per product line by a true BG/NBD process with Gamma-Gamma
    amounts.

    For customer i on a line (Fader, Hardie & Lee 2005, Marketing Science 24(2), assumptions
    i-v): :math:`\\lambda_i \\sim \\text{Gamma}(r, \\alpha)` repeat transactions per week while
    alive, :math:`p_i \\sim \\text{Beta}(a, b)` chance of dropping out after each repeat
    transaction. The process starts with a first transaction ("birth") and is observed until as_of
    or the relationship end. Given :math:`N \\sim \\text{Poisson}(\\lambda \\tau)` arrivals over the
    observed span :math:`\\tau`, the arrival times are uniform order statistics; the customer makes
    the first :math:`\\min(N, J)` of them, :math:`J \\sim \\text{Geometric}(p)` being the repeat
    transaction after which it drops out. Amounts: :math:`\\nu_i \\sim \\text{Gamma}(q, v)`,
    each amount :math:`\\sim \\text{Gamma}(p, \\nu_i)` (Fader, Hardie & Lee 2005, J. Marketing
    Research 42(4), section 3; Colombo & Jiang 1999).
    """
    start, stop = observation_window(p, cal)
    cust_parts, sec_parts, line_parts, amount_parts = [], [], [], []
    lo_sec, hi_sec = params.BUSINESS_DAY_SECONDS
    for line_no, lp in enumerate(params.LINE_PARAMETERS.values()):
        uses = rng.random(p.n) < np.asarray(lp.usage_by_size)[p.size]
        rows = np.flatnonzero(uses)
        birth = start[rows] + rng.uniform(0.0, params.BIRTH_OFFSET_WEEKS * 7.0, rows.size)
        observed = birth < stop[rows]
        rows, birth = rows[observed], birth[observed]
        k = rows.size
        lam = rng.gamma(lp.r, 1.0 / lp.alpha, k)
        drop = rng.beta(lp.a, lp.b, k)
        tau_weeks = (stop[rows] - birth) / 7.0
        arrivals = rng.poisson(lam * tau_weeks)
        dropout_after = rng.geometric(np.maximum(drop, 1e-300))
        repeats = np.minimum(arrivals, dropout_after)

        owner = np.repeat(np.arange(k), arrivals)
        u = rng.random(owner.size)
        u = u[np.lexsort((u, owner))]
        keep = rank_within_runs(owner) < repeats[owner]
        owner, u = owner[keep], u[keep]
        when = birth[owner] + u * tau_weeks[owner] * 7.0

        who = np.concatenate([np.arange(k), owner])
        day = np.floor(np.concatenate([birth, when])).astype(np.int64)
        second = day * SECONDS_PER_DAY + rng.integers(lo_sec, hi_sec, who.size)
        nu = rng.gamma(lp.gg_q, 1.0 / lp.gg_v, k)
        amount = np.maximum(np.round(rng.gamma(lp.gg_p, 1.0 / nu[who]), 2), 0.01)
        cust_parts.append(rows[who])
        sec_parts.append(_distinct_seconds(rows[who], second))
        line_parts.append(np.full(who.size, line_no))
        amount_parts.append(amount)
    cust = np.concatenate(cust_parts)
    sec = np.concatenate(sec_parts)
    line = np.concatenate(line_parts)
    amount = np.concatenate(amount_parts)
    order = np.lexsort((line, sec, cust))
    codes = np.asarray(params.LINE_CODES)
    return pa.table(
        {
            "customer_id": p.ids.take(pa.array(cust[order])),
            "ts": pa.array(sec[order], pa.timestamp("s")),
            "product_line": pa.array(codes[line[order]], pa.string()),
            "amount": pa.array(amount[order], pa.float64()),
        }
    )


def _distinct_seconds(owner: IntArray, second: IntArray) -> IntArray:
    """Move a transaction one second on while it collides with another of the same customer on
    the same line (the key is customer, timestamp and line)."""
    order = np.lexsort((second, owner))
    o, s = owner[order], second[order].copy()
    while True:
        clash = np.flatnonzero((o[1:] == o[:-1]) & (s[1:] <= s[:-1])) + 1
        if clash.size == 0:
            break
        s[clash] = s[clash - 1] + 1
    out = np.empty_like(second)
    out[order] = s
    return out


def simulate_deposits(rng: np.random.Generator, p: Portfolio, cal: Calendar) -> pa.Table:
    """Monthly average balances for the 36 months up to as_of's month while the relationship is
    alive: a log AR(1) around a customer level set by size class, cut after a default."""
    months = month_range(
        int(add_months(month_start(np.array([cal.as_of])), -(params.DEPOSIT_MONTHS - 1))[0]),
        params.DEPOSIT_MONTHS,
    )
    month_end = add_months(months, 1) - 1
    last = np.minimum(p.end_day, cal.as_of)
    alive = (months[None, :] <= last[:, None]) & (month_end[None, :] >= p.onboard[:, None])
    phi, sd = params.DEPOSIT_AR1_PHI, params.DEPOSIT_AR1_SD
    level = np.log(np.asarray(params.DEPOSIT_MEDIAN_BY_SIZE_YUAN)[p.size]) + (
        params.DEPOSIT_CUSTOMER_LOG_SD * rng.standard_normal(p.n)
    )
    logs = np.empty((p.n, params.DEPOSIT_MONTHS))
    logs[:, 0] = level + sd / np.sqrt(1 - phi**2) * rng.standard_normal(p.n)
    for t in range(1, params.DEPOSIT_MONTHS):
        logs[:, t] = level + phi * (logs[:, t - 1] - level) + sd * rng.standard_normal(p.n)
    balance = np.exp(logs) * np.where(
        months[None, :] > p.default_day[:, None], params.DEPOSIT_AFTER_DEFAULT_FACTOR, 1.0
    )
    lo, hi = params.DEPOSIT_RATE_RANGE
    base = rng.uniform(lo, hi, p.n)
    trend = -0.00008 * (np.arange(params.DEPOSIT_MONTHS) - params.DEPOSIT_MONTHS / 2)
    rate = np.clip(
        base[:, None] + trend[None, :] + 0.0003 * rng.standard_normal(logs.shape), lo, hi
    )
    cust, month = np.nonzero(alive)
    return pa.table(
        {
            "customer_id": p.ids.take(pa.array(cust)),
            "month": pa.array(months[month].astype(np.int32), pa.date32()),
            "avg_balance": pa.array(np.round(balance[cust, month], 2), pa.float64()),
            "rate": pa.array(np.round(rate[cust, month], 6), pa.float64()),
        }
    )


def _ratio(name: str, notches: FloatArray, quality: FloatArray, noise: FloatArray) -> FloatArray:
    """Draw a ratio from its :class:`params.RatioModel`."""
    m = params.RATIO_MODELS[name]
    z = m.intercept + m.per_notch * notches + m.on_q * quality + m.sd * noise
    if m.link == "logit":
        out: FloatArray = 1.0 / (1.0 + np.exp(-z))
    elif m.link == "log":
        out = np.exp(z)
    else:
        out = z
    return out


def simulate_financials(rng: np.random.Generator, p: Portfolio, cal: Calendar) -> pa.Table:
    """Annual statements at 31 December for the 3-5 years before as_of's year, while the
    customer is a customer (from the statement before onboarding to the year before it left or
    defaulted). Ratios follow :data:`params.RATIO_MODELS`; the accounts follow from them."""
    last_year = int(year_of(np.array([cal.as_of]))[0]) - 1
    years = np.arange(last_year - 4, last_year + 1)
    dec31 = december_31(years)
    shape = (p.n, len(years))
    n_years = rng.choice(
        np.asarray(params.STATEMENT_YEARS), size=p.n, p=np.asarray(params.STATEMENT_YEARS_SHARES)
    )
    include = (
        (years[None, :] > last_year - n_years[:, None])
        & (dec31[None, :] >= p.onboard[:, None] - 366)
        & (dec31[None, :] < p.stop_day[:, None])
        & (dec31[None, :] <= cal.as_of)
    )
    k = np.clip(
        whole_years_between(np.repeat(p.onboard[:, None], len(years), 1), np.tile(dec31, (p.n, 1))),
        0,
        params.MAX_REVIEWS,
    )
    grade = np.minimum(np.take_along_axis(p.grades, k, axis=1).astype(np.float64), 6)
    notches = 3.0 - grade
    q = np.repeat(p.quality[:, None], len(years), 1)

    def draw(name: str) -> FloatArray:
        return _ratio(name, notches, q, rng.standard_normal(shape))

    leverage = draw("leverage")
    sections = np.array(list(GBT4754_SECTIONS))
    factor = np.array([params.TURNOVER_SECTION_FACTOR.get(s, 1.0) for s in sections])
    turnover = draw("asset_turnover") * factor[np.searchsorted(sections, p.section)][:, None]
    margin = draw("ebitda_margin")
    growth = np.clip(draw("revenue_growth"), -0.5, 1.0)
    current_ratio = draw("current_ratio")
    ca_share = np.minimum(draw("current_asset_share"), 0.95)
    cost_of_debt = np.maximum(draw("cost_of_debt"), 0.005)

    assets = np.empty(shape)
    assets[:, -1] = np.asarray(params.ASSETS_MEDIAN_BY_SIZE_YUAN)[p.size] * np.exp(
        params.ASSETS_LOG_SD * rng.standard_normal(p.n)
    )
    for y in range(len(years) - 1, 0, -1):
        assets[:, y - 1] = assets[:, y] / (1.0 + growth[:, y])
    liabilities = leverage * assets
    revenue = turnover * assets
    ebitda = margin * revenue
    debt = params.INTEREST_BEARING_SHARE * liabilities
    interest = cost_of_debt * debt
    pretax = ebitda - params.DEPRECIATION_RATE * assets - interest
    tax = params.TAX_RATE * np.maximum(pretax, 0.0)
    net_income = pretax - tax
    current_assets = ca_share * assets
    current_liabilities = np.minimum(current_assets / current_ratio, 0.95 * liabilities)
    debt_service = interest + params.PRINCIPAL_DUE_SHARE * debt
    cash_flow = (
        ebitda
        - tax
        - 0.1 * growth * current_assets
        + params.CASH_CONVERSION_SD * revenue * rng.standard_normal(shape)
    )
    cust, year = np.nonzero(include)

    def money(values: FloatArray) -> pa.Array:
        return pa.array(np.round(values[cust, year], 2), pa.float64())

    return pa.table(
        {
            "customer_id": p.ids.take(pa.array(cust)),
            "period_end": pa.array(dec31[year].astype(np.int32), pa.date32()),
            "revenue": money(revenue),
            "ebitda": money(ebitda),
            "net_income": money(net_income),
            "total_assets": money(assets),
            "total_liabilities": money(liabilities),
            "current_assets": money(current_assets),
            "current_liabilities": money(current_liabilities),
            "interest_expense": money(interest),
            "debt_service": money(debt_service),
            "operating_cash_flow": money(cash_flow),
        }
    )


def simulate_ratings(rng: np.random.Generator, p: Portfolio, cal: Calendar) -> pa.Table:
    """The annual reviews in the five years before as_of (while the customer is a performing
    customer), and a D rating on the default date."""
    window_lo = int(add_months(np.array([cal.as_of]), -12 * params.RATING_HISTORY_YEARS)[0])
    keep = (p.reviews >= window_lo) & (p.reviews <= cal.as_of) & (p.reviews < p.stop_day[:, None])
    cust, k = np.nonzero(keep)
    day = p.reviews[cust, k]
    grade = p.grades[cust, k].astype(np.int64)
    d = np.flatnonzero(p.defaulted & (p.default_day >= window_lo))
    cust = np.concatenate([cust, d])
    day = np.concatenate([day, p.default_day[d]])
    grade = np.concatenate([grade, np.full(d.size, params.DEFAULT_GRADE_INDEX)])
    order = np.lexsort((day, cust))
    cust, day, grade = cust[order], day[order], grade[order]
    sources = np.array(list(params.RATING_SOURCE_SHARES))
    shares = np.array(list(params.RATING_SOURCE_SHARES.values()))
    source = sources[rng.choice(len(sources), size=cust.size, p=shares / shares.sum())]
    return pa.table(
        {
            "customer_id": p.ids.take(pa.array(cust)),
            "rating_date": pa.array(day.astype(np.int32), pa.date32()),
            "grade": pa.array(np.asarray(params.GRADE_CODES)[grade], pa.string()),
            "source": pa.array(source, pa.string()),
        }
    )
