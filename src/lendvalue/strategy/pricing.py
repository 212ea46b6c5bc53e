"""Risk- and relationship-based loan pricing: the lowest LPR + spread at which a new or
renewing facility earns the hurdle RAROC, solved with the valuation engine itself — the same
cash flows, funding, expected loss, capital and tax as the CLV table — then adjusted by the
segment policy and the customer's relationship, rounded up to the policy's step.

1. **Hurdle spread** :math:`s_h`: the spread over the LPR (1Y, or 5Y above five years) at which
   :func:`~lendvalue.valuation.project_cash_flows` gives RAROC = the hurdle (root of a function
   linear in the spread, by Brent's method to 1e-12).
2. **Break-even spread** :math:`s_0`: the spread at which the pre-tax profit is zero — funding,
   expected loss and operating cost just covered, nothing left for capital. A facility that
   holds no capital (a zero LGD: cash-collateralised) has no RAROC to meet; its hurdle spread is
   the break-even spread.
3. **Adjustments**: the segment cell's ``pricing_adjustment_bp``, less the relationship
   discount :math:`\\min(\\text{max bp}, \\text{share} \\times V_{other} / c_{bp})` where
   :math:`V_{other}` is the value the customer's existing relationship brings (its CLV without
   this facility; only a positive value earns a discount) and :math:`c_{bp}` the after-tax PV of
   one basis point on this facility. The discount rewards what the relationship already is;
   it is never conditional on deposits or other products (七不准: 以贷转存、存贷挂钩、
   借贷搭售) — the quote shows the customer's deposit and fee contribution, and demands
   nothing.
4. **Quote**: :math:`\\max(s_h + \\text{adjustment} - \\text{discount}, s_0)`, rounded *up* to the
   step, so rounding never takes the price below the hurdle or break-even it was meant to meet.

The build-up shows the quoted rate as annualised basis points of the expected balance: funding
(FTP), expected loss, operating cost, capital charge, tax and the margin left (economic profit);
they add up to the rate exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from lendvalue.errors import DataContractError, InfeasibleError
from lendvalue.strategy.policy import Policy
from lendvalue.tables import TableSource
from lendvalue.valuation.assumptions import Assumptions
from lendvalue.valuation.book import ANNUITY, LINEAR, FacilityBook, facility_book
from lendvalue.valuation.curves import MarketCurves, day_number
from lendvalue.valuation.customer_curves import MatrixCurves
from lendvalue.valuation.engine import project_cash_flows

Array = npt.NDArray[np.float64]
AMORTISING = ("term_loan", "project_finance")
COMPLIANCE_ZH = (
    "本报价不以存款、购买其他产品或服务为条件（七不准：不得以贷转存、存贷挂钩、借贷搭售）。"
)
COMPLIANCE_EN = ("This quote is not conditional on deposits or on buying other products or "
                 "services (no loan-for-deposit, deposit-linked or tied lending).")  # fmt: skip
_SEARCH = (-0.05, 0.50)
"""Spreads searched for a root (−500 bp … +5,000 bp)."""


@dataclass(frozen=True)
class PricingRequest:
    """A new or renewing facility to price."""

    product: str
    amount_yuan: float
    tenor_months: int
    collateral_type: str = "unsecured"
    amortization: str | None = None
    """None: annuity for term and project loans, bullet otherwise."""


@dataclass(frozen=True)
class CustomerProfile:
    """What pricing needs to know of the customer: its one-year PD and monthly cumulative PD
    curve (months 0 … H, from the credit module; None: a constant hazard at ``pd_1y``), the
    survival of the relationship (None: no attrition over the facility's life), its segment
    (a policy cell) and the value of its existing relationship."""

    customer_id: str
    pd_1y: float
    segment: str
    pd_curve: Array | None = None
    survival: Array | None = None
    other_value_yuan: float = 0.0
    deposit_value_yuan: float = 0.0
    """Shown on the quote for information; never used to price."""
    fee_value_yuan: float = 0.0


@dataclass(frozen=True)
class Quote:
    """The priced facility: rates as decimals, spreads in bp, the build-up in annualised bp of
    the expected balance."""

    customer_id: str
    product: str
    amount_yuan: float
    tenor_months: int
    lpr: float
    lpr_tenor: str
    spread_bp: float
    rate: float
    hurdle: float
    hurdle_spread_bp: float
    breakeven_spread_bp: float
    policy_adjustment_bp: float
    relationship_discount_bp: float
    raroc: float
    value_yuan: float
    build_up_bp: dict[str, float]
    deposit_value_yuan: float
    fee_value_yuan: float

    @property
    def price_text(self) -> str:
        return f"LPR({self.lpr_tenor}) {self.spread_bp:+.0f}bp = {self.rate * 100:.2f}%"


def quote(
    request: PricingRequest,
    profile: CustomerProfile,
    *,
    as_of: dt.date,
    assumptions: Assumptions,
    market: MarketCurves,
    policy: Policy,
    ccf_table: TableSource = None,
    lgd_table: TableSource = None,
) -> Quote:
    """The price of ``request`` for ``profile`` (module notes)."""
    if request.amount_yuan <= 0 or request.tenor_months < 1:
        raise DataContractError("a pricing request needs an amount > 0 and a tenor ≥ 1 month")
    horizon = int(request.tenor_months)
    a = assumptions.model_copy(update={"horizon_months": horizon})
    book = _request_book(request, profile, as_of, a, market, ccf_table, lgd_table)
    pd_curve = _pd_curve(profile, horizon)
    survival = np.ones(horizon + 1) if profile.survival is None else profile.survival[: horizon + 1]

    def values(spread: float) -> pd.Series:
        b = replace(book, spread=np.array([spread]), rate=book.lpr_now + spread)
        table = project_cash_flows(b, a, market, as_of, MatrixCurves(survival[None, :]),
                                   MatrixCurves(pd_curve[None, :]), threads=1).table  # fmt: skip
        return table.iloc[0]

    hurdle = policy.pricing.hurdle_raroc
    hurdle = a.cost_of_capital_annual if hurdle is None else hurdle
    # pre-tax profit = interest + funding + fees + opex + expected loss (tax and capital aside)
    pretax = ("interest_income", "funding_cost", "fee_income", "operating_cost", "expected_loss")
    s_even = _root(lambda s: float(values(s)[list(pretax)].sum()), "break-even")
    if float(values(s_even)["capital_pv"]) > 0:
        s_hurdle = _root(lambda s: float(values(s)["raroc"]) - hurdle, "the hurdle RAROC")
    else:  # no capital (a zero LGD, e.g. cash-collateralised): any profit beats the hurdle
        s_hurdle = s_even
    cell = policy.cell(profile.segment)
    bp_value = float(values(s_hurdle + 1e-4)["value"]) - float(values(s_hurdle)["value"])
    relationship = policy.pricing.relationship
    affordable = (relationship.share_of_other_value * max(profile.other_value_yuan, 0.0)
                  / bp_value) if bp_value > 0 else 0.0  # fmt: skip
    discount = min(relationship.max_discount_bp, affordable)
    target_bp = max(s_hurdle * 1e4 + cell.pricing_adjustment_bp - discount, s_even * 1e4)
    step = policy.pricing.step_bp
    spread_bp = math.ceil(round(target_bp / step, 9)) * step
    final = values(spread_bp / 1e4)
    lpr = float(book.lpr_now[0])
    return Quote(
        customer_id=profile.customer_id, product=request.product,
        amount_yuan=float(request.amount_yuan), tenor_months=horizon, lpr=lpr,
        lpr_tenor="5Y" if bool(book.five_year[0]) else "1Y", spread_bp=float(spread_bp),
        rate=lpr + spread_bp / 1e4, hurdle=float(hurdle), hurdle_spread_bp=s_hurdle * 1e4,
        breakeven_spread_bp=s_even * 1e4, policy_adjustment_bp=cell.pricing_adjustment_bp,
        relationship_discount_bp=float(discount), raroc=float(final["raroc"]),
        value_yuan=float(final["value"]), build_up_bp=_build_up(final),
        deposit_value_yuan=profile.deposit_value_yuan, fee_value_yuan=profile.fee_value_yuan,
    )  # fmt: skip


def _request_book(
    request: PricingRequest,
    profile: CustomerProfile,
    as_of: dt.date,
    a: Assumptions,
    market: MarketCurves,
    ccf_table: TableSource,
    lgd_table: TableSource,
) -> FacilityBook:
    """The requested facility as a new floating-rate contract originated today (spread 0 here;
    the solver sets it)."""
    months = np.array([request.tenor_months], dtype="timedelta64[M]")
    start = np.datetime64(as_of, "M") + months
    day_in_month = day_number(as_of) - int(np.datetime64(as_of, "M").astype("datetime64[D]")
                                           .astype(np.int64))  # fmt: skip
    maturity = (start.astype("datetime64[D]") + day_in_month)[0]
    amortization = request.amortization or (
        "annuity" if request.product in AMORTISING else "bullet"
    )
    frame = pd.DataFrame({
        "facility_id": ["quote"], "customer_id": [profile.customer_id],
        "product": [request.product], "limit_amount": [float(request.amount_yuan)],
        "drawn_amount": [float(request.amount_yuan)], "currency": ["CNY"],
        "origination_date": [pd.Timestamp(as_of)], "maturity_date": [pd.Timestamp(maturity)],
        "rate_type": ["lpr_5y" if request.tenor_months > 60 else "lpr_1y"], "rate": [np.nan],
        "spread_bp": [0.0], "amortization": [amortization],
        "collateral_type": [request.collateral_type], "upfront_fee": [0.0],
        "commitment_fee_bp": [0.0], "classification": ["normal"], "status": ["active"],
    })  # fmt: skip
    book = facility_book(
        frame, pd.Series([0], index=[profile.customer_id]), as_of, market, a,
        np.array([profile.pd_1y]), ccf_table=ccf_table, lgd_table=lgd_table,
    )  # fmt: skip
    # priced on its own: a renewal is priced when it comes
    return replace(book, renewal_probability=np.zeros(1))


def _pd_curve(profile: CustomerProfile, horizon: int) -> Array:
    if profile.pd_curve is not None:
        curve = np.asarray(profile.pd_curve, dtype=np.float64)
        if curve.shape[0] < horizon + 1:
            raise DataContractError(f"the PD curve covers {curve.shape[0] - 1} months; the "
                                    f"facility runs {horizon}")  # fmt: skip
        return curve[: horizon + 1]
    if not 0.0 <= profile.pd_1y < 1.0:
        raise DataContractError(f"pd_1y must lie in [0, 1), got {profile.pd_1y}")
    months = np.arange(horizon + 1, dtype=np.float64)
    return np.asarray(-np.expm1(np.log1p(-profile.pd_1y) * months / 12.0), dtype=np.float64)


def _root(f: Callable[[float], float], what: str) -> float:
    lo, hi = _SEARCH
    f_lo, f_hi = f(lo), f(hi)
    if not (np.isfinite(f_lo) and np.isfinite(f_hi)) or f_lo * f_hi > 0:
        raise InfeasibleError(
            f"no spread between {lo * 1e4:.0f} and {hi * 1e4:.0f} bp reaches {what}: the "
            "facility holds no capital (a zero LGD) or its costs cannot be covered"
        )
    return float(optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-14))


def _build_up(values: pd.Series) -> dict[str, float]:
    """Each cost as annualised bp of the expected balance — its PV over the PV of the balance
    in balance-years — and the margin left; they add up to ``rate``."""

    def bp(name: str) -> float:
        return float(values[name]) / float(values["balance_pv"]) * 1e4

    return {
        "funding": -bp("funding_cost"),
        "expected_loss": -bp("expected_loss"),
        "operating_cost": -bp("operating_cost"),
        "capital_charge": -bp("capital_charge"),
        "tax": -bp("tax"),
        "fees": -bp("fee_income"),
        "margin": bp("value"),
        "rate": bp("interest_income"),
    }


def standard_prices(
    book: FacilityBook,
    *,
    segments: npt.ArrayLike,
    other_value_yuan: npt.ArrayLike,
    as_of: dt.date,
    assumptions: Assumptions,
    market: MarketCurves,
    policy: Policy,
    survival: Any,
    pd_curves: Any,
) -> pd.DataFrame:
    """The quote of :func:`quote` for one facility per customer at once (``book`` row ``i``
    is customer ``book.customer[i]``'s, ``segments`` and ``other_value_yuan`` by book row),
    for bullet facilities — whose value is linear in the spread, so two passes of the engine at
    spreads 0 and 1% give every customer's hurdle and break-even spreads exactly. Columns:
    ``hurdle_spread_bp, breakeven_spread_bp, policy_adjustment_bp, relationship_discount_bp,
    spread_bp`` (the quote), ``rate``."""
    if np.any(book.schedule == ANNUITY) or np.any(book.schedule == LINEAR):
        raise DataContractError("standard_prices prices bullet facilities (value linear in "
                                "the spread); use quote() for amortising ones")  # fmt: skip
    lo, hi = 0.0, 0.01

    def at(spread: float) -> pd.DataFrame:
        b = replace(book, spread=np.full(book.n, spread), rate=book.lpr_now + spread,
                    renewal_probability=np.zeros(book.n))  # fmt: skip
        return project_cash_flows(b, assumptions, market, as_of, survival, pd_curves).table

    v0, v1 = at(lo), at(hi)
    hurdle = policy.pricing.hurdle_raroc
    hurdle = assumptions.cost_of_capital_annual if hurdle is None else hurdle
    capital = v0["capital_pv"].to_numpy()
    rapat0, rapat1 = v0["rapat_pv"].to_numpy(), v1["rapat_pv"].to_numpy()
    pretax0 = -v0["tax"].to_numpy() / assumptions.tax_rate if assumptions.tax_rate else None
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (rapat1 - rapat0) / (hi - lo)
        s_hurdle = lo + (hurdle * capital - rapat0) / slope
        if pretax0 is None:
            pretax0 = v0["value"].to_numpy() - v0["capital_charge"].to_numpy()
            pretax1 = v1["value"].to_numpy() - v1["capital_charge"].to_numpy()
        else:
            pretax1 = -v1["tax"].to_numpy() / assumptions.tax_rate
        s_even = lo - pretax0 / ((pretax1 - pretax0) / (hi - lo))
    s_hurdle = np.where(capital > 0, s_hurdle, s_even)
    cells = np.asarray(segments, dtype=object)
    adjustment = np.array([policy.cell(c).pricing_adjustment_bp for c in cells])
    bp_value = (v1["value"].to_numpy() - v0["value"].to_numpy()) / ((hi - lo) * 1e4)
    rel = policy.pricing.relationship
    other = np.maximum(np.asarray(other_value_yuan, dtype=np.float64), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        affordable = np.where(bp_value > 0, rel.share_of_other_value * other / bp_value, 0.0)
    discount = np.minimum(rel.max_discount_bp, affordable)
    target = np.maximum(s_hurdle * 1e4 + adjustment - discount, s_even * 1e4)
    step = policy.pricing.step_bp
    spread_bp = np.ceil(np.round(target / step, 9)) * step
    return pd.DataFrame({
        "hurdle_spread_bp": s_hurdle * 1e4, "breakeven_spread_bp": s_even * 1e4,
        "policy_adjustment_bp": adjustment, "relationship_discount_bp": discount,
        "spread_bp": spread_bp, "rate": book.lpr_now + spread_bp / 1e4,
    })  # fmt: skip
