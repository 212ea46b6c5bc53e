"""The cash-flow engine against hand-computed cases — written as independent closed-form
arithmetic (geometric sums, annuity formulas), not by calling the engine twice — and its
invariants as properties.

Conventions (docs/valuation.md): month m covers (m-1, m] and is paid at its end, discounted by
(1 + d)^(-m/12); interest accrues on the balance at the start of the month at rate / 12; the
weight of month m is S(m-1)(1 - PD(m-1)) p^c; expected loss is (PD(m) - PD(m-1)) LGD EAD."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.valuation import (
    COMPONENTS,
    FacilityBook,
    MarketCurves,
    MatrixCurves,
    load_assumptions,
    project_cash_flows,
)
from lendvalue.valuation.book import ANNUITY, BULLET, LINEAR, REVOLVING

AS_OF = dt.date(2025, 6, 30)
REL = 1e-8


def market(lpr_1y: float = 0.030, later: tuple[str, float] | None = None) -> MarketCurves:
    """Flat curves: 1Y LPR ``lpr_1y`` (5Y + 50 bp), loan FTP 2.5% at every tenor, deposit FTP
    1.8%; ``later`` = (date, new 1Y LPR) adds a future fixing."""
    rows = [("2025-05-20", "lpr", "1Y", lpr_1y), ("2025-05-20", "lpr", "5Y", lpr_1y + 0.005)]
    if later:
        rows += [(later[0], "lpr", "1Y", later[1]), (later[0], "lpr", "5Y", later[1] + 0.005)]
    for tenor in ("1M", "1Y", "10Y"):
        rows += [("2025-05-31", "ftp", tenor, 0.025), ("2025-05-31", "deposit_ftp", tenor, 0.018)]
    frame = pd.DataFrame(rows, columns=["date", "curve", "tenor", "rate"])
    frame["date"] = pd.to_datetime(frame["date"])
    return MarketCurves.from_frame(frame)


def assumptions(horizon: int = 12, **changes: Any) -> Any:
    base = load_assumptions().model_copy(
        update={"horizon_months": horizon, "discount_rate_annual": 0.08, "tax_rate": 0.25,
                "cost_of_capital_annual": 0.10, "capital_return_annual": 0.02,
                "capital_multiplier": 1.0, **changes}
    )  # fmt: skip
    return base


def loan(**changes: Any) -> FacilityBook:
    """One fixed-rate 1-year bullet: 1,000,000 yuan at 4%, FTP 2.5%, LGD 45%, K 8%, opex 100
    yuan a month and 10 bp a year, no renewal, no prepayment."""
    base: dict[str, Any] = dict(
        customer=0, product=0, schedule=BULLET, on_balance=True, balance=1e6, limit=1e6,
        renewal_balance=1e6, remaining_months=12, term_months=12, floating=False,
        five_year=False, rate=0.04, spread=0.01, lpr_now=0.03, next_reset=12, ftp_fixed=0.025,
        ftp_spread=-0.005, commitment_fee_bp=0.0, upfront_fee=0.0, ccf_drawn=1.0,
        ccf_undrawn=0.0, lgd=0.45, capital_k=0.08, smm=0.0, renewal_probability=0.0,
        opex_month=100.0, opex_bp=10.0,
    )  # fmt: skip
    base.update(changes)
    arrays = {k: np.atleast_1d(np.asarray(v)) for k, v in base.items()}
    for k in ("customer", "product", "schedule", "remaining_months", "term_months",
              "next_reset"):  # fmt: skip
        arrays[k] = arrays[k].astype(np.int64)
    for k in ("on_balance", "floating", "five_year"):
        arrays[k] = arrays[k].astype(bool)
    return FacilityBook(**arrays)


def flat_pd(q: float, horizon: int, customers: int = 1) -> MatrixCurves:
    """Constant monthly default probability q: PD(m) = 1 - (1 - q)^m."""
    months = np.arange(horizon + 1)
    return MatrixCurves(np.tile(1.0 - (1.0 - q) ** months, (customers, 1)))


def alive(horizon: int, customers: int = 1, monthly_exit: float = 0.0) -> MatrixCurves:
    months = np.arange(horizon + 1)
    return MatrixCurves(np.tile((1.0 - monthly_exit) ** months, (customers, 1)))


def value(book: FacilityBook, a: Any, q: float = 0.0, mk: MarketCurves | None = None,
          exit_rate: float = 0.0, customers: int = 1) -> pd.DataFrame:  # fmt: skip
    h = a.horizon_months
    return project_cash_flows(book, a, mk or market(), AS_OF, alive(h, customers, exit_rate),
                              flat_pd(q, h, customers)).table  # fmt: skip


def _components_close(got: pd.Series, want: dict[str, float]) -> None:
    for name, expected in want.items():
        assert got[name] == pytest.approx(expected, rel=REL, abs=1e-6), name


# --------------------------------------------------------------------------- hand-computed


def test_one_year_bullet_with_constant_pd() -> None:
    """x = 1 - q survives a month, v = 1.08^(-1/12) discounts one: G = Σ_{m=1..12} x^(m-1) v^m
    = v (1 - (xv)^12) / (1 - xv). Interest B·4%/12·G, funding -B·2.5%/12·G, opex
    -(100 + B·10bp/12)·G, expected loss -0.45·B·q·G, capital K·B·G (capital-months), tax -25%
    of the pre-tax sum, capital charge -(10% - 2%·(1 - 25%))/12 · K·B·G."""
    q, b = 0.002, 1e6
    v, x = 1.08 ** (-1 / 12), 1 - q
    g = v * (1 - (x * v) ** 12) / (1 - x * v)
    interest, funding = b * 0.04 / 12 * g, -b * 0.025 / 12 * g
    opex, loss = -(100 + b * 0.001 / 12) * g, -0.45 * b * q * g
    pretax = interest + funding + opex + loss
    capital = 0.08 * b * g
    charge = -(0.10 - 0.02 * 0.75) / 12 * capital
    got = value(loan(), assumptions(), q=q).iloc[0]
    _components_close(got, {"interest_income": interest, "funding_cost": funding,
                            "fee_income": 0.0, "operating_cost": opex, "expected_loss": loss,
                            "tax": -0.25 * pretax, "capital_charge": charge,
                            "value": 0.75 * pretax + charge, "current_value": 0.75 * pretax
                            + charge, "potential_value": 0.0})  # fmt: skip
    # RAROC = (pre-tax + capital × 2%/12)(1 - t) / (capital / 12), annualised
    raroc = (pretax + capital * 0.02 / 12) * 0.75 / (capital / 12)
    assert got["raroc"] == pytest.approx(raroc, rel=REL)


def test_three_year_annuity_with_constant_pd() -> None:
    """Annuity of 36 months at i = 5%/12: balance at the start of month m is
    B((1+i)^36 - (1+i)^(m-1))/((1+i)^36 - 1); summed month by month in plain Python."""
    q, b, i, n = 0.001, 2e6, 0.05 / 12, 36
    v = 1.08 ** (-1 / 12)
    interest = funding = loss = opex = capital = 0.0
    for m in range(1, n + 1):
        bal = b * ((1 + i) ** n - (1 + i) ** (m - 1)) / ((1 + i) ** n - 1)
        w = (1 - q) ** (m - 1)
        interest += v**m * w * bal * 0.05 / 12
        funding -= v**m * w * bal * 0.025 / 12
        opex -= v**m * w * (100 + bal * 0.001 / 12)
        loss -= v**m * w * q * 0.45 * bal
        capital += v**m * w * 0.08 * bal
    book = loan(balance=b, limit=b, renewal_balance=b, schedule=ANNUITY, rate=0.05,
                remaining_months=n, term_months=n)  # fmt: skip
    got = value(book, assumptions(horizon=n), q=q).iloc[0]
    pretax = interest + funding + opex + loss
    _components_close(got, {"interest_income": interest, "funding_cost": funding,
                            "expected_loss": loss, "operating_cost": opex,
                            "value": 0.75 * pretax - (0.10 - 0.015) / 12 * capital})  # fmt: skip


def test_revolver_commitment_fee_and_undrawn_exposure() -> None:
    """Limit 10M, 60% drawn: interest and FTP on 6M; 25 bp a year commitment fee on the 4M
    undrawn; EAD = 6M + 40% × 4M = 7.6M for the expected loss and the capital."""
    q = 0.0015
    v, x = 1.08 ** (-1 / 12), 1 - q
    g = v * (1 - (x * v) ** 12) / (1 - x * v)
    book = loan(schedule=REVOLVING, balance=6e6, limit=10e6, renewal_balance=6e6,
                commitment_fee_bp=25.0, ccf_undrawn=0.4)  # fmt: skip
    got = value(book, assumptions(), q=q).iloc[0]
    ead = 6e6 + 0.4 * 4e6
    _components_close(got, {"interest_income": 6e6 * 0.04 / 12 * g,
                            "fee_income": 4e6 * 0.0025 / 12 * g,
                            "expected_loss": -0.45 * q * ead * g,
                            "capital_charge": -(0.10 - 0.015) / 12 * 0.08 * ead * g})  # fmt: skip


def test_floating_loan_across_an_lpr_change() -> None:
    """A 1Y-LPR loan at +80 bp whose last reset fixed 3.0%, next reset in month 4; the LPR
    falls to 2.7% on 2025-08-20: months 1-3 pay 3.8%, months 4-12 pay 2.7% + 0.8% = 3.5% (the
    cut applies from the reset, not from its publication). FTP follows the LPR at -50 bp."""
    v = 1.08 ** (-1 / 12)
    b = 1e6
    interest = sum(v**m * b * (0.038 if m <= 3 else 0.035) / 12 for m in range(1, 13))
    funding = -sum(v**m * b * (0.025 if m <= 3 else 0.022) / 12 for m in range(1, 13))
    book = loan(floating=True, rate=0.038, spread=0.008, lpr_now=0.030, next_reset=3,
                ftp_fixed=np.nan)  # fmt: skip
    mk = market(0.030, later=("2025-08-20", 0.027))
    got = value(book, assumptions(), mk=mk).iloc[0]
    _components_close(got, {"interest_income": interest, "funding_cost": funding})


def test_renewals_weighted_by_their_probability() -> None:
    """A 12-month bullet renewed with probability 0.8 over 36 months: months 13-24 weigh 0.8,
    25-36 weigh 0.64; each renewal brings its 5,000 yuan upfront fee with its first month; the
    renewals are floating at the LPR (3.0%) + 1% spread, funded at LPR - 0.5%. Current value is
    the first year alone."""
    v = 1.08 ** (-1 / 12)
    b = 1e6
    weights = [1.0] * 12 + [0.8] * 12 + [0.64] * 12
    # the renewals' floating 3.0% + 1% and 3.0% - 0.5% equal the fixed 4% and 2.5% here
    interest = sum(v**m * w * b * 0.04 / 12 for m, w in enumerate(weights, 1))
    funding = -sum(v**m * w * b * 0.025 / 12 for m, w in enumerate(weights, 1))
    fees = 5000 * (0.8 * v**13 + 0.64 * v**25)
    opex = -sum(v**m * w * (100 + b * 0.001 / 12) for m, w in enumerate(weights, 1))
    book = loan(renewal_probability=0.8, upfront_fee=5000.0)
    got = value(book, assumptions(horizon=36)).iloc[0]
    _components_close(got, {"interest_income": interest, "funding_cost": funding,
                            "fee_income": fees, "operating_cost": opex})  # fmt: skip
    first_year = 0.75 * sum(v**m * (b * 0.015 / 12 - 100 - b * 0.001 / 12) for m in range(1, 13))
    first_year -= (0.10 - 0.015) / 12 * sum(v**m * 0.08 * b for m in range(1, 13))
    assert got["current_value"] == pytest.approx(first_year, rel=REL)


def test_linear_loan_with_prepayment_and_attrition() -> None:
    """Linear over 24 months with a 12% CPR (SMM = 1 - 0.88^(1/12)) and a relationship that
    ends with probability 1% a month: balance B(1 - (m-1)/24)(1 - SMM)^(m-1), weight
    0.99^(m-1)."""
    b, smm = 1e6, 1 - 0.88 ** (1 / 12)
    v = 1.08 ** (-1 / 12)
    interest = sum(v**m * 0.99 ** (m - 1) * b * (1 - (m - 1) / 24) * (1 - smm) ** (m - 1)
                   * 0.04 / 12 for m in range(1, 25))  # fmt: skip
    book = loan(schedule=LINEAR, remaining_months=24, term_months=24, smm=smm)
    got = value(book, assumptions(horizon=24), exit_rate=0.01).iloc[0]
    assert got["interest_income"] == pytest.approx(interest, rel=REL)


# --------------------------------------------------------------------------- properties

books = st.fixed_dictionaries({
    "schedule": st.sampled_from([ANNUITY, LINEAR, BULLET, REVOLVING]),
    "remaining_months": st.integers(1, 60),
    "term_months": st.integers(1, 60),
    "rate": st.floats(0.02, 0.08),
    "renewal_probability": st.floats(0.0, 0.95),
    "floating": st.booleans(),
    "next_reset": st.integers(1, 12),
})  # fmt: skip
PROPERTY = settings(max_examples=40, deadline=None)


def _book(d: dict[str, Any]) -> FacilityBook:
    return loan(**d, spread=d["rate"] - 0.03, ftp_fixed=0.025, ccf_undrawn=0.4,
                limit=1.5e6, commitment_fee_bp=20.0)  # fmt: skip


@PROPERTY
@given(books, st.floats(0.0, 0.02), st.floats(0.001, 0.02))
def test_value_falls_as_pd_rises(d: dict[str, Any], q: float, dq: float) -> None:
    a = assumptions(horizon=60)
    assert value(_book(d), a, q=q + dq)["value"][0] < value(_book(d), a, q=q)["value"][0]


@PROPERTY
@given(books, st.floats(0.05, 0.9), st.floats(0.01, 0.1))
def test_value_falls_as_lgd_rises(d: dict[str, Any], lgd: float, more: float) -> None:
    a = assumptions(horizon=60)
    low = value(replace(_book(d), lgd=np.array([lgd])), a, q=0.002)["value"][0]
    high = value(replace(_book(d), lgd=np.array([lgd + more])), a, q=0.002)["value"][0]
    assert high < low


@PROPERTY
@given(books, st.floats(0.0001, 0.01))
def test_value_falls_with_ftp_opex_and_discount_rises_with_spread(d: dict[str, Any],
                                                                 bump: float) -> None:  # fmt: skip
    a = assumptions(horizon=60)
    base = value(_book(d), a, q=0.001)["value"][0]
    dearer = replace(_book(d), ftp_fixed=np.array([0.025 + bump]),
                     ftp_spread=np.array([-0.005 + bump]))  # fmt: skip
    assert value(dearer, a, q=0.001)["value"][0] < base
    costlier = replace(_book(d), opex_month=np.array([100.0 + 1e4 * bump]))
    assert value(costlier, a, q=0.001)["value"][0] < base
    wider = replace(_book(d), spread=np.array([d["rate"] - 0.03 + bump]),
                    rate=np.array([d["rate"] + bump]))  # fmt: skip
    assert value(wider, a, q=0.001)["value"][0] > base
    # the value is the monthly economic profit discounted: with every month's profit positive
    # (negative) a higher discount rate lowers (raises) it
    monthly = project_cash_flows(_book(d), a, market(), AS_OF, alive(60), flat_pd(0.001, 60),
                                 monthly=True).monthly  # fmt: skip
    assert monthly is not None
    profit = sum(monthly[name][0] for name in COMPONENTS)
    v = 1.08 ** (-np.arange(1, 61) / 12)
    assert profit @ v == pytest.approx(base, rel=1e-10, abs=1e-6)
    later = value(_book(d), assumptions(horizon=60, discount_rate_annual=0.08 + bump), q=0.001)
    if np.all(profit > 0):
        assert later["value"][0] < base
    if np.all(profit < 0):
        assert later["value"][0] > base


@PROPERTY
@given(books, st.floats(0.0, 0.9))
def test_value_of_a_profitable_loan_rises_with_renewal(d: dict[str, Any], p: float) -> None:
    a = assumptions(horizon=60, capital_multiplier=0.5)
    d = d | {"rate": 0.06}
    lower = value(replace(_book(d), renewal_probability=np.array([p])), a)["value"][0]
    upper = value(replace(_book(d), renewal_probability=np.array([p + 0.05])), a)["value"][0]
    assert upper >= lower


@PROPERTY
@given(st.lists(books, min_size=2, max_size=5))
def test_value_is_additive_and_components_sum(ds: list[dict[str, Any]]) -> None:
    """Valuing facilities together equals valuing each alone (the engine's blocks, threads and
    customers do not mix them), and every row's components sum to its value."""
    a = assumptions(horizon=48)
    books_ = [_book(d) for d in ds]
    together = FacilityBook(**{
        f: np.concatenate([getattr(bk, f) for bk in books_]) for f in books_[0].__dataclass_fields__
        if f != "custom_balance"
    })  # fmt: skip
    joint = value(together, a, q=0.001)
    alone = [value(bk, a, q=0.001).iloc[0] for bk in books_]
    for k, row in enumerate(alone):
        for name in (*COMPONENTS, "value"):
            assert joint[name][k] == pytest.approx(row[name], rel=1e-12, abs=1e-9)
    sums = joint[list(COMPONENTS)].sum(axis=1)
    np.testing.assert_allclose(sums, joint["value"], rtol=1e-12, atol=1e-9)


def test_zero_horizon_gives_zero() -> None:
    got = value(loan(), assumptions(horizon=0)).iloc[0]
    assert all(got[name] == 0.0 for name in (*COMPONENTS, "value"))


def test_blocks_and_threads_do_not_change_the_numbers() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    book = loan(
        customer=np.arange(n) % 7, schedule=rng.choice([ANNUITY, LINEAR, BULLET], n),
        balance=rng.uniform(1e5, 1e7, n), limit=np.full(n, 1e7), renewal_balance=np.full(n, 1e6),
        remaining_months=rng.integers(1, 60, n), term_months=rng.integers(1, 60, n),
        floating=rng.random(n) < 0.5, rate=rng.uniform(0.03, 0.06, n),
        next_reset=rng.integers(1, 13, n), renewal_probability=rng.uniform(0, 0.9, n),
        product=np.zeros(n), five_year=np.zeros(n), spread=np.full(n, 0.01),
        lpr_now=np.full(n, 0.03), ftp_fixed=np.full(n, 0.025), ftp_spread=np.full(n, -0.005),
        commitment_fee_bp=np.zeros(n), upfront_fee=np.zeros(n), ccf_drawn=np.ones(n),
        ccf_undrawn=np.zeros(n), lgd=np.full(n, 0.45), capital_k=np.full(n, 0.08),
        smm=np.zeros(n), opex_month=np.full(n, 100.0), opex_bp=np.full(n, 10.0),
        on_balance=np.ones(n),
    )  # fmt: skip
    a = assumptions(horizon=60)
    h = 60
    s, pdc = alive(h, 7, 0.005), flat_pd(0.001, h, 7)
    one = project_cash_flows(book, a, market(), AS_OF, s, pdc, block_rows=3000, threads=1)
    many = project_cash_flows(book, a, market(), AS_OF, s, pdc, block_rows=128, threads=2)
    pd.testing.assert_frame_equal(one.table, many.table, rtol=1e-13)


# --------------------------------------------------------------------------- review cases


def test_a_missing_number_is_not_summed_away() -> None:
    """A NaN in a curve makes the facility's value NaN, not a finite sum of what is left."""
    h = 12
    s = alive(h)
    nan_pd = flat_pd(0.001, h).values.copy()
    nan_pd[0, 5] = np.nan
    with pytest.raises(Exception, match="finite probabilities"):
        MatrixCurves(nan_pd)
    book = loan(balance=np.array([np.nan]))
    got = project_cash_flows(book, assumptions(), market(), AS_OF, s, flat_pd(0.001, h)).table
    assert np.isnan(got["value"][0])


def test_renewal_cycles_are_exact_for_any_term() -> None:
    """A 49-month term: 49 · (1/49) must count as one whole cycle (the second renewal starts
    in month 99 and brings its fee then)."""
    v = 1.08 ** (-1 / 12)
    book = loan(remaining_months=1, term_months=49, renewal_probability=0.5, upfront_fee=1000.0,
                opex_month=0.0, opex_bp=0.0, balance=0.0, renewal_balance=0.0)  # fmt: skip
    got = value(book, assumptions(horizon=120)).iloc[0]
    assert got["fee_income"] == pytest.approx(1000 * (0.5 * v**2 + 0.25 * v**51 + 0.125 * v**100),
                                              rel=REL)  # fmt: skip


def test_an_lpr_scenario_in_the_assumptions_is_applied() -> None:
    """The assumptions' lpr_scenario adds future fixings: a 1Y-LPR loan resetting in month 4
    pays the scenario's 2.5% + 80 bp from then on."""
    import datetime as dt_

    from lendvalue.valuation.assumptions import LprFixing

    mk = market(0.030).with_scenario([(dt_.date(2025, 8, 20), "1Y", 0.025)])
    v = 1.08 ** (-1 / 12)
    interest = sum(v**m * 1e6 * (0.038 if m <= 3 else 0.033) / 12 for m in range(1, 13))
    book = loan(floating=True, rate=0.038, spread=0.008, lpr_now=0.030, next_reset=3,
                ftp_fixed=np.nan)  # fmt: skip
    got = value(book, assumptions(), mk=mk).iloc[0]
    assert got["interest_income"] == pytest.approx(interest, rel=REL)
    scenario = assumptions(lpr_scenario=(LprFixing(date=dt_.date(2025, 8, 20), tenor="1Y",
                                                   rate=0.025),))  # fmt: skip
    assert scenario.lpr_scenario[0].rate == 0.025
