"""Customer-level state of one chunk: who the customers are, how their credit quality migrates,
when their relationship ends, and which campaigns treated them.

Every later table (facilities, repayments, transactions, …) is derived from a :class:`Portfolio`;
nothing here loops over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lendvalue.contract import CHANNELS
from lendvalue.sample import params
from lendvalue.sample.dates import (
    DAYS_PER_MONTH,
    BoolArray,
    FloatArray,
    IntArray,
    add_months,
    whole_years_between,
)
from lendvalue.sample.names import (
    StrArray,
    company_names,
    sample_industries,
    sample_regions,
    uscc_codes,
)

NEVER = 10**7
"""Day number standing for "not within the simulation" (year ~29000)."""


@dataclass(frozen=True)
class Calendar:
    """Dates shared by every chunk, as day numbers."""

    as_of: int
    campaign_days: tuple[int, ...]
    total_customers: int


@dataclass
class Counters:
    """Running numbers that continue from one chunk to the next (ids must stay unique)."""

    groups: int = 0
    facilities: int = 0


def customer_ids(serial: IntArray, prefix: str = "C", width: int = 7) -> pa.Array:
    """``C0000001``-style ids for 0-based serial numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(serial + 1), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


@dataclass
class Portfolio:
    """Latent and observed customer attributes of one chunk (arrays of length ``n``)."""

    serial: IntArray
    ids: pa.Array
    size: IntArray
    """0 large, 1 medium, 2 small, 3 micro."""
    section: StrArray
    division: IntArray
    industry: StrArray
    industry_risk: BoolArray
    region: StrArray
    admin: StrArray
    names: StrArray
    uscc: StrArray
    group_id: pa.Array
    rm_id: pa.Array
    onboard: IntArray
    acquisition_cost: FloatArray
    quality: FloatArray
    grades: npt.NDArray[np.int8]
    """Grade index after k annual steps, shape (n, MAX_REVIEWS + 1); 7 = D."""
    reviews: IntArray
    """Day of review k = onboard + k years, shape (n, MAX_REVIEWS + 1)."""
    default_latent: IntArray
    """Day the migration chain enters D (NEVER when it does not within the simulated years)."""
    attrition_day: IntArray
    """Day the Weibull attrition time falls on (may be after as_of)."""
    defaulted: BoolArray
    """Default on or before as_of while the relationship was alive."""
    default_day: IntArray
    """The default date where ``defaulted``, else NEVER."""
    first_missed: IntArray
    """First unpaid installment date for customers heading into default while still customers
    (NEVER otherwise); may be after as_of."""
    end_day: IntArray
    """Relationship end date (NEVER while active at as_of)."""
    end_reason: StrArray
    stop_day: IntArray
    """The day the customer stops being observed as a performing customer: the earlier of
    attrition and default (NEVER when neither happened)."""
    treated_from: IntArray
    """Day of the first campaign that treated the customer (NEVER if none)."""
    campaign_target: BoolArray
    """Shape (n, campaigns)."""
    campaign_treated: BoolArray

    @property
    def n(self) -> int:
        return len(self.serial)

    def grade_on(self, days: IntArray, rows: IntArray) -> IntArray:
        """Grade index of customers ``rows`` in effect on ``days`` (the last review on or before
        the day; the initial grade before onboarding)."""
        k = np.clip(whole_years_between(self.onboard[rows], days), 0, params.MAX_REVIEWS)
        out: IntArray = self.grades[rows, k].astype(np.int64)
        return out


def simulate_portfolio(
    rng: np.random.Generator, first_serial: int, n: int, cal: Calendar, counters: Counters
) -> Portfolio:
    """Draw ``n`` customers starting at serial ``first_serial`` and simulate their credit
    migration, relationship end and campaign treatment."""
    serial = np.arange(first_serial, first_serial + n, dtype=np.int64)
    size = rng.choice(4, size=n, p=np.asarray(params.SIZE_SHARES))
    section, division, industry = sample_industries(rng, n)
    industry_risk = np.isin(section, params.RISKY_SECTIONS) | (
        (section == "C") & np.isin(division, params.RISKY_MANUFACTURING_DIVISIONS)
    )
    region, admin, prefix = sample_regions(rng, n)
    names = company_names(rng, prefix, section, size)
    onboard = _onboard_days(rng, n, cal.as_of)
    acquisition = np.round(
        np.asarray(params.ACQUISITION_COST_MEDIAN_YUAN)[size]
        * np.exp(params.ACQUISITION_COST_LOG_SD * rng.standard_normal(n)),
        2,
    )
    quality = rng.standard_normal(n)
    grades, reviews, default_latent = _migrate(rng, quality, size, onboard)
    portfolio = Portfolio(
        serial=serial,
        ids=customer_ids(serial),
        size=size,
        section=section,
        division=division,
        industry=industry,
        industry_risk=industry_risk,
        region=region,
        admin=admin,
        names=names,
        uscc=uscc_codes(serial, admin),
        group_id=_group_ids(rng, n, counters),
        rm_id=_rm_ids(rng, n, cal.total_customers),
        onboard=onboard,
        acquisition_cost=acquisition,
        quality=quality,
        grades=grades,
        reviews=reviews,
        default_latent=default_latent,
        attrition_day=np.full(n, NEVER, dtype=np.int64),
        defaulted=np.zeros(n, dtype=bool),
        default_day=np.full(n, NEVER, dtype=np.int64),
        first_missed=np.full(n, NEVER, dtype=np.int64),
        end_day=np.full(n, NEVER, dtype=np.int64),
        end_reason=np.full(n, "", dtype="<U10"),
        stop_day=np.full(n, NEVER, dtype=np.int64),
        treated_from=np.full(n, NEVER, dtype=np.int64),
        campaign_target=np.zeros((n, len(cal.campaign_days)), dtype=bool),
        campaign_treated=np.zeros((n, len(cal.campaign_days)), dtype=bool),
    )
    _simulate_relationships(rng, portfolio, cal)
    return portfolio


def _onboard_days(rng: np.random.Generator, n: int, as_of: int) -> IntArray:
    """Onboarding dates: relationship age exponential (mean 6 years) truncated to 15 years, by
    inversion of the truncated CDF."""
    mean, top = params.ONBOARD_MEAN_AGE_YEARS, params.ONBOARD_YEARS
    u = rng.random(n)
    age_years = -mean * np.log1p(-u * (1.0 - np.exp(-top / mean)))
    out: IntArray = as_of - np.floor(age_years * 365.25).astype(np.int64)
    return out


def _group_ids(rng: np.random.Generator, n: int, counters: Counters) -> pa.Array:
    """About 15% of customers in groups of 2-8 members (``G00001`` …); groups stay within a
    chunk."""
    members = np.flatnonzero(rng.random(n) < params.GROUP_SHARE)
    rng.shuffle(members)
    sizes: list[int] = []
    left = members.size
    while left > 1:
        s = min(left, int(rng.integers(2, 9)))
        sizes.append(s)
        left -= s
    members = members[: sum(sizes)]
    group_no = np.repeat(np.arange(len(sizes)), sizes) + counters.groups + 1
    counters.groups += len(sizes)
    out = np.full(n, None, dtype=object)
    if members.size:
        labels = pc.binary_join_element_wise(
            "G", pc.utf8_lpad(pc.cast(pa.array(group_no), pa.string()), width=5, padding="0"), ""
        )
        out[members] = labels.to_numpy(zero_copy_only=False)
    return pa.array(out, pa.string())


def _rm_ids(rng: np.random.Generator, n: int, total_customers: int) -> pa.Array:
    """Relationship managers ``RM0001`` …, one per about 60 customers of the whole sample."""
    n_rm = max(1, int(np.ceil(total_customers / params.CUSTOMERS_PER_RM)))
    rm = rng.integers(1, n_rm + 1, n)
    return pc.binary_join_element_wise(
        "RM", pc.utf8_lpad(pc.cast(pa.array(rm), pa.string()), width=4, padding="0"), ""
    )


def initial_grades(quality: FloatArray, size: IntArray) -> IntArray:
    """Initial grade index: the number of cut points at or above q + size shift (0 = AAA)."""
    z = quality + np.asarray(params.QUALITY_SIZE_SHIFT)[size]
    out: IntArray = (z[:, None] <= np.asarray(params.INITIAL_GRADE_CUTS)[None, :]).sum(axis=1)
    return out


def _migrate(
    rng: np.random.Generator, quality: FloatArray, size: IntArray, onboard: IntArray
) -> tuple[npt.NDArray[np.int8], IntArray, IntArray]:
    """Run the annual migration chain from onboarding.

    One step per anniversary with the true matrix :data:`params.MIGRATION_MATRIX` (a
    discrete-time Markov chain, as in Jarrow, Lando & Turnbull 1997); a step into D puts the
    default on a day uniform strictly inside that year.
    """
    n, steps = len(quality), params.MAX_REVIEWS
    cumulative = np.cumsum(np.asarray(params.MIGRATION_MATRIX), axis=1)
    cumulative[:, -1] = 1.0
    grades = np.empty((n, steps + 1), dtype=np.int8)
    grades[:, 0] = initial_grades(quality, size)
    reviews = add_months(onboard[:, None], 12 * np.arange(steps + 1)[None, :])
    default_latent = np.full(n, NEVER, dtype=np.int64)
    for k in range(steps):
        current = grades[:, k].astype(np.int64)
        u = rng.random(n)
        nxt = np.minimum((u[:, None] > cumulative[current]).sum(axis=1), 7)
        new_default = (current != 7) & (nxt == 7)
        span = reviews[:, k + 1] - reviews[:, k]
        offset = 1 + np.floor(rng.random(n) * (span - 1)).astype(np.int64)
        default_latent = np.where(new_default, reviews[:, k] + offset, default_latent)
        grades[:, k + 1] = nxt
    return grades, reviews, default_latent


def linear_predictor(p: Portfolio) -> FloatArray:
    """:math:`\\beta^\\top z` of the Weibull attrition model."""
    b = params.WEIBULL_BETA
    g0 = p.grades[:, 0].astype(np.float64) - params.GRADE_CENTRE
    out: FloatArray = (
        b["size_medium"] * (p.size == 1)
        + b["size_small"] * (p.size == 2)
        + b["size_micro"] * (p.size == 3)
        + b["industry_risk"] * p.industry_risk
        + b["grade_centred"] * g0
    )
    return out


def weibull_cumulative_hazard(
    t_months: FloatArray, lin: FloatArray, treated_months: FloatArray
) -> FloatArray:
    """Cumulative attrition hazard at ``t_months`` since start.

    .. math:: H(t) = \\left[(t/\\lambda)^k + (e^{\\gamma} - 1)
              \\max(0, (t/\\lambda)^k - (t_1/\\lambda)^k)\\right] e^{\\beta^\\top z}

    with :math:`t_1` the month of first treatment (``inf`` if never). Weibull proportional
    hazards (Cox 1972; the Weibull baseline as in Kalbfleisch & Prentice 2002, section 2.2.2).
    """
    k, lam = params.WEIBULL_SHAPE, params.WEIBULL_SCALE_MONTHS
    base = (np.maximum(t_months, 0.0) / lam) ** k
    at_treat = (np.minimum(treated_months, np.maximum(t_months, 0.0)) / lam) ** k
    out: FloatArray = (base + (np.exp(params.GAMMA_TREAT) - 1.0) * (base - at_treat)) * np.exp(lin)
    return out


def _attrition_months(
    exp_draw: FloatArray, lin: FloatArray, treated_months: FloatArray
) -> FloatArray:
    """Invert the piecewise cumulative hazard: the t with H(t) = E for E ~ Exp(1)."""
    k, lam = params.WEIBULL_SHAPE, params.WEIBULL_SCALE_MONTHS
    scaled = exp_draw * np.exp(-lin)  # = (t/lambda)^k without treatment
    at_treat = (np.where(np.isfinite(treated_months), treated_months, 0.0) / lam) ** k
    before = ~np.isfinite(treated_months) | (scaled <= at_treat)
    after = at_treat + (scaled - at_treat) * np.exp(-params.GAMMA_TREAT)
    out: FloatArray = lam * np.where(before, scaled, after) ** (1.0 / k)
    return out


def _simulate_relationships(rng: np.random.Generator, p: Portfolio, cal: Calendar) -> None:
    """Attrition by the Weibull model with the campaign treatment, then default and workout."""
    lin = linear_predictor(p)
    exp_draw = rng.standard_exponential(p.n)
    treated_months = np.full(p.n, np.inf)

    def attrition_days() -> IntArray:
        months = _attrition_months(exp_draw, lin, treated_months)
        out: IntArray = p.onboard + np.floor(np.minimum(months, 1e6) * DAYS_PER_MONTH).astype(
            np.int64
        )
        return out

    attrition = attrition_days()
    for j, day in enumerate(cal.campaign_days):
        alive = (p.onboard <= day) & (attrition > day) & (p.default_latent > day)
        target = alive & (rng.random(p.n) < params.CAMPAIGN_TARGET_SHARE)
        treated = target & (rng.random(p.n) < params.CAMPAIGN_TREAT_SHARE)
        p.campaign_target[:, j] = target
        p.campaign_treated[:, j] = treated
        first = treated & ~np.isfinite(treated_months)
        treated_months[first] = (day - p.onboard[first]) / DAYS_PER_MONTH
        p.treated_from[first] = day
        attrition = np.where(first, np.maximum(attrition_days(), day), attrition)
    p.attrition_day[:] = attrition

    in_default_first = p.default_latent < attrition
    p.defaulted[:] = in_default_first & (p.default_latent <= cal.as_of)
    p.default_day[:] = np.where(p.defaulted, p.default_latent, NEVER)
    p.first_missed[:] = np.where(
        in_default_first, p.default_latent - params.FIRST_MISSED_DAYS_BEFORE_DEFAULT, NEVER
    )
    p.stop_day[:] = np.minimum(attrition, p.default_latent)

    ended_by_attrition = ~in_default_first & (attrition <= cal.as_of)
    lo, hi = params.WORKOUT_DAYS
    workout_end = p.default_day + rng.integers(lo, hi + 1, p.n)
    ended_by_default = p.defaulted & (workout_end <= cal.as_of)
    p.end_day[:] = np.where(
        ended_by_attrition, attrition, np.where(ended_by_default, workout_end, NEVER)
    )
    reasons = np.array(list(params.END_REASON_SHARES))
    shares = np.array(list(params.END_REASON_SHARES.values()))
    drawn = reasons[rng.choice(len(reasons), size=p.n, p=shares / shares.sum())]
    p.end_reason[:] = np.where(ended_by_attrition, drawn, np.where(ended_by_default, "default", ""))


def downgraded_recently(p: Portfolio, as_of: int) -> BoolArray:
    """Customers whose last review (within a year before as_of) moved them down two notches or
    more, or down into CCC: the early-warning trigger for 关注 (special mention)."""
    k_last = np.clip(whole_years_between(p.onboard, np.full(p.n, as_of)), 0, params.MAX_REVIEWS)
    rows = np.arange(p.n)
    last = p.grades[rows, k_last].astype(np.int64)
    prev = p.grades[rows, np.maximum(k_last - 1, 0)].astype(np.int64)
    recent = (k_last >= 1) & (p.reviews[rows, k_last] > as_of - 365)
    alive = (p.stop_day > as_of) & (p.first_missed > as_of)
    out: BoolArray = alive & recent & (last < 7) & ((last - prev >= 2) | ((last == 6) & (prev < 6)))
    return out


def customers_table(p: Portfolio) -> pa.Table:
    """The ``customers`` rows of the chunk (typed)."""
    return pa.table(
        {
            "customer_id": p.ids,
            "name": pa.array(p.names, pa.string()),
            "uscc": pa.array(p.uscc, pa.string()),
            "industry": pa.array(p.industry, pa.string()),
            "region": pa.array(p.region, pa.string()),
            "size_class": pa.array(np.asarray(params.SIZES)[p.size], pa.string()),
            "group_id": p.group_id,
            "rm_id": p.rm_id,
            "onboard_date": pa.array(p.onboard.astype(np.int32), pa.date32()),
            "acquisition_cost": pa.array(p.acquisition_cost, pa.float64()),
        }
    )


def relationships_table(p: Portfolio) -> pa.Table:
    """The ``relationships`` rows: one per customer."""
    ended = p.end_day < NEVER
    return pa.table(
        {
            "customer_id": p.ids,
            "start_date": pa.array(p.onboard.astype(np.int32), pa.date32()),
            "end_date": pa.array(
                np.where(ended, p.end_day, 0).astype(np.int32), pa.date32(), mask=~ended
            ),
            "end_reason": pa.array(p.end_reason, pa.string(), mask=~ended),
        }
    )


def campaign_ids(cal: Calendar) -> list[str]:
    """``MKT202408``-style ids from the launch months."""
    days = np.asarray(cal.campaign_days, dtype="datetime64[D]")
    return [f"MKT{str(d)[:4]}{str(d)[5:7]}" for d in days]


def marketing_table(rng: np.random.Generator, p: Portfolio, cal: Calendar) -> pa.Table:
    """One row per targeted customer and campaign: treated or control, with the channel it used
    or would have used and its cost (0 for the control group)."""
    channels = np.array([c.code for c in CHANNELS])
    medians = np.array([params.CHANNEL_COST_MEDIAN_YUAN[c] for c in channels])
    ids = campaign_ids(cal)
    parts: list[pa.Table] = []
    for j, day in enumerate(cal.campaign_days):
        rows = np.flatnonzero(p.campaign_target[:, j])
        channel = np.empty(rows.size, dtype=np.int64)
        for s, size in enumerate(params.SIZES):
            sub = np.flatnonzero(p.size[rows] == s)
            shares = np.asarray(params.CHANNEL_SHARES_BY_SIZE[size])
            channel[sub] = rng.choice(len(channels), size=sub.size, p=shares)
        treated = p.campaign_treated[rows, j]
        median = medians[channel]
        noise = np.exp(0.3 * rng.standard_normal(rows.size))
        cost = np.where(treated, np.round(median * noise, 2), 0.0)
        parts.append(
            pa.table(
                {
                    "campaign_id": pa.array(np.full(rows.size, ids[j]), pa.string()),
                    "customer_id": p.ids.take(pa.array(rows)),
                    "segment": pa.nulls(rows.size, pa.string()),
                    "date": pa.array(np.full(rows.size, day, dtype=np.int32), pa.date32()),
                    "channel": pa.array(channels[channel], pa.string()),
                    "cost": pa.array(cost, pa.float64()),
                    "treated": pa.array(treated, pa.bool_()),
                }
            )
        )
    return pa.concat_tables(parts)


SEGMENTS = ("大型制造业", "中型制造业", "小微批发零售业", "建筑业客户", "科技型中小企业")


def segment_marketing_table(rng: np.random.Generator, cal: Calendar) -> pa.Table:
    """A few segment-level rows per campaign (brand spend; no customer, no treatment flag)."""
    ids = campaign_ids(cal)
    campaign, segment, date, channel, cost = [], [], [], [], []
    for j, day in enumerate(cal.campaign_days):
        for seg in rng.choice(SEGMENTS, size=3, replace=False):
            campaign.append(ids[j])
            segment.append(str(seg))
            date.append(day)
            channel.append(str(rng.choice(["event", "digital"])))
            cost.append(round(float(rng.uniform(20_000, 100_000)), 2))
    n = len(campaign)
    return pa.table(
        {
            "campaign_id": pa.array(campaign, pa.string()),
            "customer_id": pa.nulls(n, pa.string()),
            "segment": pa.array(segment, pa.string()),
            "date": pa.array(np.asarray(date, dtype=np.int32), pa.date32()),
            "channel": pa.array(channel, pa.string()),
            "cost": pa.array(cost, pa.float64()),
            "treated": pa.nulls(n, pa.bool_()),
        }
    )
