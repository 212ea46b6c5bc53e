"""Pricing with the valuation engine: the solved spread meets the hurdle RAROC; the price
rises with PD and LGD, falls with relationship value only within the policy's bounds, never
below break-even, rounded up to the step; the build-up adds up to the rate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.errors import ConfigError, DataContractError, InfeasibleError
from lendvalue.strategy.policy import SEGMENT_CODES, load_policy
from lendvalue.strategy.pricing import (
    COMPLIANCE_ZH,
    CustomerProfile,
    PricingRequest,
    quote,
)
from lendvalue.valuation import load_assumptions
from tests.valuation.test_engine import market

AS_OF = dt.date(2025, 6, 30)
POLICY = load_policy()
ASSUMPTIONS = load_assumptions()


def price(pd_1y: float = 0.01, segment: str = "mid_value_medium_risk", other: float = 0.0,
          product: str = "working_capital", amount: float = 1e7, tenor: int = 12,
          collateral: str = "unsecured", **kw: Any) -> Any:  # fmt: skip
    return quote(
        PricingRequest(product, amount, tenor, collateral),
        CustomerProfile("C1", pd_1y, segment, other_value_yuan=other),
        as_of=AS_OF, assumptions=kw.get("assumptions", ASSUMPTIONS), market=market(),
        policy=kw.get("policy", POLICY),
    )  # fmt: skip


def test_the_hurdle_spread_earns_the_hurdle_exactly() -> None:
    """RAROC at the solved (unrounded) spread equals the hurdle (10%) within 1e-6, for a
    bullet working-capital loan and a 5-year amortising term loan; the quote (rounded up, no
    adjustment in this cell) earns at least the hurdle."""
    for product, tenor in (("working_capital", 12), ("term_loan", 60)):
        q = price(product=product, tenor=tenor)
        assert q.policy_adjustment_bp == 0.0 and q.relationship_discount_bp == 0.0
        assert q.raroc >= q.hurdle - 1e-12
        assert q.spread_bp % 5 == 0 and q.spread_bp - q.hurdle_spread_bp < 5
        # revalue at the unrounded hurdle spread with the engine
        hurdle_policy = POLICY.model_copy(update={"pricing": POLICY.pricing.model_copy(
            update={"step_bp": 1e-6})})  # fmt: skip
        exact = price(product=product, tenor=tenor, policy=hurdle_policy)
        assert exact.raroc == pytest.approx(0.10, abs=1e-6)
    assert "以贷转存" in COMPLIANCE_ZH  # the note every quote carries


def test_the_build_up_adds_up_to_the_rate() -> None:
    q = price(product="term_loan", tenor=36, collateral="real_estate")
    b = q.build_up_bp
    parts = (b["funding"] + b["expected_loss"] + b["operating_cost"] + b["capital_charge"]
             + b["tax"] + b["fees"] + b["margin"])  # fmt: skip
    assert parts == pytest.approx(b["rate"], rel=1e-10)
    assert b["rate"] == pytest.approx(q.rate * 1e4, rel=1e-10)  # a flat LPR: the rate itself
    assert b["funding"] == pytest.approx(250.0, rel=1e-10)  # LPR 3.0% - 0.5% FTP spread


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0005, 0.08), st.floats(1.05, 2.0))
def test_the_price_rises_with_pd(pd_1y: float, factor: float) -> None:
    low, high = price(pd_1y=pd_1y), price(pd_1y=min(pd_1y * factor, 0.09))
    assert high.hurdle_spread_bp > low.hurdle_spread_bp
    assert high.spread_bp >= low.spread_bp


def test_the_price_rises_with_lgd() -> None:
    """Collateral from deposits (LGD 0) through real estate (20%) to unsecured (45%)."""
    spreads = [price(collateral=c).hurdle_spread_bp for c in ("deposit", "real_estate",
                                                             "unsecured")]  # fmt: skip
    assert spreads[0] < spreads[1] < spreads[2]
    cash = price(collateral="deposit")  # no capital: priced at break-even
    assert cash.hurdle_spread_bp == cash.breakeven_spread_bp
    with pytest.raises(InfeasibleError, match="reaches"):
        price(amount=1.0)  # a yuan cannot carry 200 yuan of monthly cost below 5,000 bp


def test_relationship_value_lowers_the_price_only_within_policy() -> None:
    """No other value: no discount. Some: a discount costing at most 20% of it. Much: at most
    30 bp. Never below break-even; never a condition."""
    none = price(other=0.0)
    some = price(other=5_000.0)
    lots = price(other=1e9)
    assert none.relationship_discount_bp == 0.0
    assert 0 < some.relationship_discount_bp < 30
    # the discount's after-tax PV cost is the share of the other value it may spend
    per_bp = (price(other=0.0, policy=POLICY).value_yuan,)
    assert per_bp and lots.relationship_discount_bp == 30.0
    assert lots.spread_bp <= some.spread_bp <= none.spread_bp
    assert lots.spread_bp >= lots.breakeven_spread_bp
    negative = price(other=-1e7)
    assert negative.relationship_discount_bp == 0.0


def test_never_below_break_even() -> None:
    """A generous policy (200 bp discounts, −100 bp in the cell) still quotes at least the
    break-even spread."""
    raw = POLICY.model_dump()
    raw["cells"]["high_value_low_risk"]["pricing_adjustment_bp"] = -100.0
    raw["pricing"]["relationship"] = {"max_discount_bp": 200.0, "share_of_other_value": 1.0}
    generous = load_policy(raw)
    q = price(segment="high_value_low_risk", other=1e10, policy=generous)
    assert q.spread_bp >= q.breakeven_spread_bp
    assert q.spread_bp - q.breakeven_spread_bp < 5


def test_cell_adjustments_follow_the_policy() -> None:
    base = price(segment="mid_value_medium_risk")
    for segment in SEGMENT_CODES:
        q = price(segment=segment)
        adj = POLICY.cell(segment).pricing_adjustment_bp
        assert q.policy_adjustment_bp == adj
        assert abs(q.spread_bp - max(base.hurdle_spread_bp + adj, q.breakeven_spread_bp)) < 5


def test_bad_requests_and_policies() -> None:
    with pytest.raises(DataContractError, match="amount > 0"):
        price(amount=0.0)
    with pytest.raises(DataContractError, match="unknown segment"):
        price(segment="vip")
    with pytest.raises(ConfigError, match="cells"):
        load_policy({**POLICY.model_dump(), "cells": {}})
    raw = POLICY.model_dump()
    raw["cells"]["high_value_low_risk"]["limit_multiplier"] = -1
    with pytest.raises(ConfigError, match="limit_multiplier"):
        load_policy(raw)
    assert set(POLICY.cells) == set(SEGMENT_CODES) and len(SEGMENT_CODES) == 9
    assert np.isfinite(price().raroc)


def test_standard_prices_for_many_customers_equal_each_quote() -> None:
    """Bullet facilities are linear in the spread: two engine passes give every customer's
    hurdle and break-even spreads, and the quotes equal quote() one by one."""
    from lendvalue.strategy.pricing import _pd_curve, _request_book, standard_prices
    from lendvalue.valuation import FacilityBook, MatrixCurves

    pds = [0.002, 0.01, 0.04]
    segments = ["high_value_low_risk", "mid_value_medium_risk", "low_value_high_risk"]
    others = [2e6, 0.0, 5e5]
    a = ASSUMPTIONS.model_copy(update={"horizon_months": 12})
    request = PricingRequest("working_capital", 1e7, 12)
    books = [
        _request_book(request, CustomerProfile(f"C{i}", p, s), AS_OF, a, market(), None, None)
        for i, (p, s) in enumerate(zip(pds, segments, strict=True))
    ]
    book = FacilityBook(
        **{
            f: np.concatenate([getattr(b, f) for b in books])
            for f in books[0].__dataclass_fields__
            if f != "custom_balance"
        }
    )
    book = type(book)(**{**book.__dict__, "customer": np.arange(3)})
    curves = MatrixCurves(np.stack([_pd_curve(CustomerProfile("C", p, "x"), 12) for p in pds]))
    many = standard_prices(
        book,
        segments=segments,
        other_value_yuan=others,
        as_of=AS_OF,
        assumptions=a,
        market=market(),
        policy=POLICY,
        survival=MatrixCurves(np.ones((3, 13))),
        pd_curves=curves,
    )
    for i, (p, s, o) in enumerate(zip(pds, segments, others, strict=True)):
        one = price(pd_1y=p, segment=s, other=o)
        assert many["hurdle_spread_bp"][i] == pytest.approx(one.hurdle_spread_bp, abs=1e-6)
        assert many["breakeven_spread_bp"][i] == pytest.approx(one.breakeven_spread_bp, abs=1e-6)
        assert many["relationship_discount_bp"][i] == pytest.approx(
            one.relationship_discount_bp, abs=1e-6
        )
        assert many["spread_bp"][i] == one.spread_bp


def test_break_even_without_tax() -> None:
    """With a zero tax rate the break-even spread still covers funding, loss and cost (it is
    solved on the pre-tax profit, not on the tax)."""
    untaxed = ASSUMPTIONS.model_copy(update={"tax_rate": 0.0})
    q = price(assumptions=untaxed)
    taxed = price()
    assert q.breakeven_spread_bp == pytest.approx(taxed.breakeven_spread_bp, abs=1e-6)
    assert q.breakeven_spread_bp > -500
