"""Credit limits: the working-capital need of the 流动资金贷款 annex worked by hand, debt capacity
by hand from a simple balance sheet, the large-exposure caps (a group's customers sharing its
room), the limit and what binds it, vectorisation, bad input and the YAML table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.errors import ConfigError, DataContractError
from lendvalue.strategy import limits
from lendvalue.strategy.limits import (
    BINDING_LABELS_ZH,
    BINDING_REASONS,
    DEFAULT_WC_TURNOVER,
    MAX_LEVERAGE,
    MIN_DSCR,
    NEW_DEBT_RATE_ANNUAL,
    NEW_DEBT_TENOR_YEARS,
    BankCapital,
    credit_limit,
    debt_capacity,
    exposure_headroom,
    load_limit_policy,
    new_working_capital_loan,
    own_working_capital,
    working_capital_need,
    working_capital_turnover,
)

PROPERTY = settings(max_examples=60, deadline=None)
YI = 1e8  # 1 亿元
WAN = 1e4  # 1 万元
CAPITAL = BankCapital(net_capital_yuan=100 * YI, tier1_net_capital_yuan=80 * YI)
"""资本净额 100 亿, 一级资本净额 80 亿: loans to one customer ≤ 10 亿, exposure ≤ 12 亿, a group
≤ 16 亿 under the default shares (10%, 15%, 20%)."""


def customer(**overrides: Any) -> dict[str, Any]:
    """The hand-checked working-capital borrower, with a balance sheet that leaves room."""
    row: dict[str, Any] = {
        "customer_id": "C1",
        "product": "working_capital",
        "revenue": 1 * YI,
        "profit_margin": 0.10,
        "expected_growth": 0.20,
        "wc_turnover": 3.0,
        "own_funds_yuan": 1000 * WAN,
        "existing_wc_loans_yuan": 1500 * WAN,
        "other_wc_funding_yuan": 300 * WAN,
        "total_assets": 2 * YI,
        "total_liabilities": 1 * YI,
        "operating_cash_flow": 3000 * WAN,
        "debt_service": 500 * WAN,
        "customer_exposure_yuan": 0.0,
    }
    row.update(overrides)
    return row


# --------------------------------------------------------------------------- working capital


def test_working_capital_example_by_hand() -> None:
    """营运资金量 = 1 亿 × (1 − 10%) × (1 + 20%) / 3 = 1 亿 × 0.9 × 1.2 / 3 = 1.08 亿 / 3
    = 3,600 万; 新增流动资金贷款额度 = 3,600 − 1,000 (自有资金) − 1,500 (现有流贷) − 300 (其他渠道)
    = 800 万. Exact decimal arithmetic: tolerance 1e-6 yuan."""
    need = working_capital_need(1 * YI, 0.10, 0.20, turnover=3.0)
    assert isinstance(need, float)
    assert need == pytest.approx(3600 * WAN, abs=1e-6)
    loan = new_working_capital_loan(need, 1000 * WAN, 1500 * WAN, 300 * WAN)
    assert loan == pytest.approx(800 * WAN, abs=1e-6)


def test_turnover_from_day_counts() -> None:
    """存货 80 + 应收 60 − 应付 30 + 预付 20 − 预收 10 = 120 天 → 360 / 120 = 3 次, so the same
    borrower needs the same 3,600 万."""
    assert working_capital_turnover(80, 60, 30, 20, 10) == pytest.approx(3.0)
    need = working_capital_need(
        1 * YI, 0.10, 0.20, inventory_days=80, receivable_days=60, payable_days=30,
        prepayment_days=20, advance_receipt_days=10,
    )  # fmt: skip
    assert need == pytest.approx(3600 * WAN)


def test_turnover_then_days_then_default() -> None:
    """Per customer: the given turnover wins; else the day counts (90 days → 4 turns); else the
    default (2 turns): 1.08 亿 / 3, / 4, / 2."""
    need = working_capital_need(
        [YI, YI, YI], 0.10, 0.20, turnover=[3.0, np.nan, np.nan],
        inventory_days=[60, 60, np.nan], receivable_days=[60, 60, np.nan],
        payable_days=[30, 30, np.nan],
    )  # fmt: skip
    np.testing.assert_allclose(
        need, [1.08 * YI / 3, 1.08 * YI / 4, 1.08 * YI / DEFAULT_WC_TURNOVER]
    )


def test_non_positive_cycle_means_no_need() -> None:
    """Suppliers fund the whole cycle (30 + 10 − 60 < 0 days): turnover ∞, need 0."""
    assert working_capital_turnover(30, 10, 60) == np.inf
    assert working_capital_need(YI, 0.1, 0.0, inventory_days=30, receivable_days=10,
                                payable_days=60) == 0.0  # fmt: skip


def test_new_loan_is_floored_at_zero() -> None:
    assert new_working_capital_loan(3600 * WAN, 4000 * WAN) == 0.0


def test_own_working_capital_approximation() -> None:
    """流动资产 3 亿 − 流动负债 2 亿 = 1 亿; a deficit counts as 0; the add-back undoes the double
    deduction of short-term loans held in current liabilities."""
    assert own_working_capital(3 * YI, 2 * YI) == pytest.approx(1 * YI)
    assert own_working_capital(1 * YI, 2 * YI) == 0.0
    assert own_working_capital(3 * YI, 2 * YI, 0.5 * YI) == pytest.approx(1.5 * YI)


@PROPERTY
@given(
    st.floats(0, 1e10), st.floats(-0.5, 0.9), st.floats(-0.5, 2.0), st.floats(0.5, 12.0),
    st.floats(0.01, 1.0),
)  # fmt: skip
def test_need_is_linear_in_revenue_and_falls_with_turnover(
    revenue: float, margin: float, growth: float, turns: float, bump: float
) -> None:
    base = working_capital_need(revenue, margin, growth, turns)
    assert working_capital_need(2 * revenue, margin, growth, turns) == pytest.approx(2 * base)
    assert working_capital_need(revenue, margin, growth, turns + bump) <= base


# --------------------------------------------------------------------------- debt capacity


def test_debt_capacity_by_hand() -> None:
    """Assets A = 1 亿, liabilities L = 6,000 万, λ = 0.75:
    D_lev = (λA − L)/(1 − λ) = (7,500 − 6,000) 万 / 0.25 = 6,000 万; check (6,000 + 6,000) /
    (10,000 + 6,000) = 0.75. Cash flow 1,200 万, debt service 500 万, μ = 1.25, new debt at 0%
    over 4 years (a = 1/4): D_dscr = (1,200/1.25 − 500) 万 / 0.25 = (960 − 500) × 4 万 = 1,840 万;
    check 1,200 / (500 + 1,840/4) = 1,200 / 960 = 1.25. DSCR binds."""
    out = debt_capacity(1 * YI, 6000 * WAN, 1200 * WAN, 500 * WAN, max_leverage=0.75,
                        min_dscr=1.25, rate_annual=0.0, tenor_years=4)  # fmt: skip
    row = out.iloc[0]
    assert row["leverage_capacity_yuan"] == pytest.approx(6000 * WAN)
    assert row["dscr_capacity_yuan"] == pytest.approx(1840 * WAN)
    assert row["debt_capacity_yuan"] == pytest.approx(1840 * WAN)
    assert row["binding"] == "dscr"


def test_dscr_capacity_with_annuity() -> None:
    """At 5% over one year the annual payment per yuan is 1.05: D = 460 万 / 1.05; over three
    years a = 0.05 / (1 − 1.05⁻³) = 0.367209: D = 460 万 / 0.367209."""
    one = debt_capacity(YI, 0.0, 1200 * WAN, 500 * WAN, rate_annual=0.05, tenor_years=1)
    assert one["dscr_capacity_yuan"].iloc[0] == pytest.approx(460 * WAN / 1.05)
    three = debt_capacity(YI, 0.0, 1200 * WAN, 500 * WAN, rate_annual=0.05, tenor_years=3)
    a = 0.05 / (1 - 1.05**-3)
    assert three["dscr_capacity_yuan"].iloc[0] == pytest.approx(460 * WAN / a)
    assert three["binding"].iloc[0] == "dscr"


def test_capacity_floors_at_zero_and_unknown_cash_flow_is_nan() -> None:
    """Leverage already 90% > 75% → 0; negative cash flow → 0; unknown cash flow → NaN."""
    out = debt_capacity([YI, YI, YI], [0.9 * YI, 0.1 * YI, 0.1 * YI],
                        [1e7, -1e7, np.nan], [0.0, 0.0, 0.0])  # fmt: skip
    assert out["leverage_capacity_yuan"].iloc[0] == 0.0
    assert out["binding"].iloc[0] == "leverage"
    assert out["dscr_capacity_yuan"].iloc[1] == 0.0
    assert np.isnan(out["debt_capacity_yuan"].iloc[2])
    assert out["binding"].iloc[2] == "dscr"


@PROPERTY
@given(
    st.floats(1e6, 1e11), st.floats(0.0, 0.7), st.floats(1e5, 1e9), st.floats(0.0, 0.2),
    st.one_of(st.just(0.0), st.floats(1e-4, 0.15)), st.floats(0.5, 20.0),
)  # fmt: skip
def test_at_capacity_each_ratio_sits_on_its_limit(
    assets: float, lev: float, cf: float, ds_share: float, rate: float, tenor: float
) -> None:
    """Borrowing D_lev puts leverage exactly at λ; borrowing D_dscr puts DSCR exactly at μ
    (whenever the capacity is positive)."""
    liabilities, service = lev * assets, ds_share * cf
    out = debt_capacity(assets, liabilities, cf, service, rate_annual=rate, tenor_years=tenor)
    d_lev = out["leverage_capacity_yuan"].iloc[0]
    d_dscr = out["dscr_capacity_yuan"].iloc[0]
    assert (liabilities + d_lev) / (assets + d_lev) == pytest.approx(MAX_LEVERAGE, rel=1e-9)
    a = 1 / tenor if rate == 0 else rate / (1 - (1 + rate) ** -tenor)
    assert cf / (service + a * d_dscr) == pytest.approx(MIN_DSCR, rel=1e-9)


# --------------------------------------------------------------------------- large exposures


def test_exposure_headroom_by_hand() -> None:
    """Loans 8 亿 of 10 亿 → 2 亿 left; exposure 9 亿 of 12 亿 → 3 亿; group 15 亿 of 16 亿 → 1 亿
    (binding). A guarantee is no loan: only the exposure and group rooms apply."""
    out = exposure_headroom(CAPITAL, 9 * YI, 15 * YI, customer_loans=8 * YI)
    row = out.iloc[0]
    assert row["single_loan_headroom_yuan"] == pytest.approx(2 * YI)
    assert row["single_exposure_headroom_yuan"] == pytest.approx(3 * YI)
    assert row["customer_headroom_yuan"] == pytest.approx(2 * YI)
    assert row["group_exposure_headroom_yuan"] == pytest.approx(1 * YI)
    assert row["headroom_yuan"] == pytest.approx(1 * YI)
    assert row["binding"] == "group_exposure"
    off = exposure_headroom(CAPITAL, 9 * YI, np.nan, customer_loans=8 * YI, is_loan=False)
    assert off["single_loan_headroom_yuan"].iloc[0] == np.inf
    assert off["group_exposure_headroom_yuan"].iloc[0] == np.inf
    assert off["binding"].iloc[0] == "single_exposure"


def test_bank_capital_must_be_given() -> None:
    with pytest.raises(ConfigError, match="bank_capital"):
        exposure_headroom(None, 0.0)
    with pytest.raises(DataContractError, match="tier1_net_capital_yuan"):
        exposure_headroom({"net_capital_yuan": 1e9, "tier1_net_capital_yuan": 2e9}, 0.0)


def group_pair(**extra: Any) -> pd.DataFrame:
    """Two term-loan requests of group G, which already owes 14.5 亿: A asks 1.5 亿, B 1 亿."""
    rows = [
        customer(customer_id="A", product="term_loan", requested_yuan=1.5 * YI, group_id="G",
                 group_exposure_yuan=14.5 * YI, total_assets=100 * YI, total_liabilities=10 * YI,
                 operating_cash_flow=20 * YI, **extra),
        customer(customer_id="B", product="term_loan", requested_yuan=1.0 * YI, group_id="G",
                 group_exposure_yuan=14.5 * YI, total_assets=100 * YI, total_liabilities=10 * YI,
                 operating_cash_flow=20 * YI, **extra),
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_group_cap_cuts_the_later_customer() -> None:
    """Group room = 20% × 80 亿 − 14.5 亿 = 1.5 亿. Together A and B ask 2.5 亿 (the group would
    reach 17 亿 = 21.25% > 20%): A, first, gets its 1.5 亿; B is cut to 0 by group_exposure."""
    out = credit_limit(group_pair(), bank_capital=CAPITAL)
    assert out["limit_yuan"].tolist() == pytest.approx([1.5 * YI, 0.0])
    assert out["binding"].tolist() == ["requested", "group_exposure"]
    assert out["binding_zh"].iloc[1] == BINDING_LABELS_ZH["group_exposure"]
    assert out["group_exposure_headroom_yuan"].tolist() == pytest.approx([1.5 * YI, 1.5 * YI])


def test_group_priority_decides_who_is_cut() -> None:
    """With B first (priority 1 before 2): B gets 1 亿, A the remaining 0.5 亿."""
    frame = group_pair()
    frame["priority"] = [2, 1]
    out = credit_limit(frame, bank_capital=CAPITAL).set_index("customer_id")
    assert out.loc["B", "limit_yuan"] == pytest.approx(1.0 * YI)
    assert out.loc["A", "limit_yuan"] == pytest.approx(0.5 * YI)
    assert out.loc["A", "binding"] == "group_exposure"
    assert out.loc["B", "binding"] == "requested"


def test_group_cap_of_15pct_from_yaml_override() -> None:
    """The 2010 集团客户指引 reading, 15% of 资本净额 (set in the table): room = 15 亿 − 14.5 亿
    = 0.5 亿, so A (asking 1.5 亿) is cut to 0.5 亿 and B to 0 — both by the group cap."""
    policy = load_limit_policy().model_dump()
    policy["large_exposure"]["group_exposure"].update(share=0.15, capital_base="net_capital")
    out = credit_limit(group_pair(), bank_capital=CAPITAL, table=policy)
    assert out["limit_yuan"].tolist() == pytest.approx([0.5 * YI, 0.0])
    assert out["binding"].tolist() == ["group_exposure", "group_exposure"]


# --------------------------------------------------------------------------- the limit


def test_limit_is_the_need_based_loan() -> None:
    """The hand example's 800 万 is below the leverage capacity ((0.75 × 2 亿 − 1 亿)/0.25 = 2 亿)
    and the DSCR capacity ((3,000/1.25 − 500) 万 / a = 1,900 万 / 0.360349): it binds."""
    out = credit_limit(pd.DataFrame([customer()]), bank_capital=CAPITAL).iloc[0]
    assert out["wc_need_yuan"] == pytest.approx(3600 * WAN)
    assert out["wc_new_loan_yuan"] == pytest.approx(800 * WAN)
    assert out["leverage_capacity_yuan"] == pytest.approx(2 * YI)
    a = 0.04 / (1 - 1.04**-3)
    assert out["dscr_capacity_yuan"] == pytest.approx(1900 * WAN / a)
    assert out["limit_yuan"] == pytest.approx(800 * WAN)
    assert out["binding"] == "working_capital_need"
    assert out["binding_zh"] == "流动资金贷款需求测算"
    assert bool(out["assessable"])


def test_multiplier_scales_need_not_request_nor_caps() -> None:
    """× 1.2: 800 万 → 960 万. A request of 900 万 is a ceiling (not scaled). A customer whose
    loans stand at 9.995 亿 has 50 万 left under the 10 亿 loan cap, whatever the multiplier."""
    rows = pd.DataFrame([
        customer(customer_id="A", limit_multiplier=1.2),
        customer(customer_id="B", limit_multiplier=1.2, requested_yuan=900 * WAN),
        customer(customer_id="C", limit_multiplier=1.2, customer_exposure_yuan=9.995 * YI),
    ])  # fmt: skip
    out = credit_limit(rows, bank_capital=CAPITAL)
    assert out["limit_yuan"].tolist() == pytest.approx([960 * WAN, 900 * WAN, 50 * WAN])
    assert out["binding"].tolist() == ["working_capital_need", "requested", "single_loan"]


def test_leverage_and_dscr_bind() -> None:
    """Liabilities 1.49 亿 of 2 亿: D_lev = (0.75 × 2 − 1.49) 亿 / 0.25 = 400 万 < 800 万, leverage
    binds. A weak cash flow (900 万 against 500 万 service): D_dscr = (900/1.25 − 500) 万 / a
    = 220 万 / 0.360349 ≈ 610.5 万 < 800 万, DSCR binds."""
    rows = pd.DataFrame([
        customer(customer_id="A", total_liabilities=1.49 * YI),
        customer(customer_id="B", operating_cash_flow=900 * WAN),
    ])  # fmt: skip
    out = credit_limit(rows, bank_capital=CAPITAL)
    a = 0.04 / (1 - 1.04**-3)
    assert out["limit_yuan"].tolist() == pytest.approx([400 * WAN, 220 * WAN / a])
    assert out["binding"].tolist() == ["leverage", "dscr"]


def test_non_need_product_uses_the_request() -> None:
    out = credit_limit(
        pd.DataFrame([customer(product="term_loan", requested_yuan=2000 * WAN)]),
        bank_capital=CAPITAL,
    ).iloc[0]
    assert np.isnan(out["wc_new_loan_yuan"])
    assert out["limit_yuan"] == pytest.approx(2000 * WAN)
    assert out["binding"] == "requested"


def test_fallbacks_from_contract_columns() -> None:
    """No margin, turnover, own funds or cash flow given: margin = net income / revenue = 10%,
    the manufacturing (C) default of 2.5 turns, own funds = 流动资产 − 流动负债 = 1,000 万, cash
    flow = EBITDA. Need = 1.08 亿 / 2.5 = 4,320 万; loan = 4,320 − 1,000 − 1,500 − 300
    = 1,520 万."""
    row = customer(industry="C3611", net_income=1000 * WAN, current_assets=6000 * WAN,
                   current_liabilities=5000 * WAN, ebitda=3000 * WAN)  # fmt: skip
    for key in ("profit_margin", "wc_turnover", "own_funds_yuan", "operating_cash_flow"):
        del row[key]
    out = credit_limit(pd.DataFrame([row]), bank_capital=CAPITAL).iloc[0]
    assert out["wc_need_yuan"] == pytest.approx(4320 * WAN)
    assert out["limit_yuan"] == pytest.approx(1520 * WAN)


def test_unknown_cash_flow_gives_zero_and_says_so() -> None:
    row = customer(operating_cash_flow=np.nan)
    out = credit_limit(pd.DataFrame([row]), bank_capital=CAPITAL).iloc[0]
    assert out["limit_yuan"] == 0.0
    assert out["binding"] == "dscr"
    assert not bool(out["assessable"])


def test_binding_labels_cover_every_reason() -> None:
    assert set(BINDING_LABELS_ZH) == set(BINDING_REASONS)


# --------------------------------------------------------------------------- vectorisation


def random_book(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    assets = rng.uniform(1e7, 1e10, n)
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        "product": rng.choice(["working_capital", "revolver", "term_loan", "guarantee"], n),
        "industry": rng.choice(["C3611", "E47", "F51", "K70", None], n),
        "revenue": rng.uniform(0, 2e10, n),
        "profit_margin": rng.uniform(-0.2, 0.3, n),
        "expected_growth": rng.uniform(-0.1, 0.3, n),
        "wc_turnover": np.where(rng.random(n) < 0.5, rng.uniform(1, 6, n), np.nan),
        "own_funds_yuan": rng.uniform(-1e8, 1e9, n),
        "existing_wc_loans_yuan": rng.uniform(0, 1e9, n),
        "total_assets": assets,
        "total_liabilities": assets * rng.uniform(0.2, 0.95, n),
        "operating_cash_flow": np.where(rng.random(n) < 0.9, rng.normal(1e8, 2e8, n), np.nan),
        "debt_service": rng.uniform(0, 2e8, n),
        "requested_yuan": rng.uniform(1e6, 2e9, n),
        "limit_multiplier": rng.choice([0.5, 0.8, 1.0, 1.2], n),
        "customer_exposure_yuan": rng.uniform(0, 1.3e9, n),
    })  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_many_customers_equal_one_by_one(seed: int) -> None:
    book = random_book(40, seed)
    together = credit_limit(book, bank_capital=CAPITAL)
    alone = pd.concat([credit_limit(book.iloc[[i]], bank_capital=CAPITAL) for i in range(40)])
    pd.testing.assert_frame_equal(together, alone)


def test_math_functions_vectorise() -> None:
    """Arrays in equal a loop of scalars, for the need and the debt capacity."""
    rng = np.random.default_rng(7)
    rev, margin, growth, turns = (rng.uniform(0, 1e9, 25), rng.uniform(-0.2, 0.3, 25),
                                  rng.uniform(-0.2, 0.5, 25), rng.uniform(0.5, 8, 25))  # fmt: skip
    need = working_capital_need(rev, margin, growth, turns)
    each = [
        working_capital_need(r, m, g, t)
        for r, m, g, t in zip(rev, margin, growth, turns, strict=True)
    ]
    np.testing.assert_allclose(need, each)
    assets, cash = rng.uniform(1e7, 1e9, 25), rng.uniform(-1e6, 1e8, 25)
    together = debt_capacity(assets, assets * 0.6, cash, 1e6)
    alone = pd.concat(
        [debt_capacity(a, a * 0.6, c, 1e6) for a, c in zip(assets, cash, strict=True)]
    )
    pd.testing.assert_frame_equal(together, alone.reset_index(drop=True))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"revenue": -1.0}, "revenue"),
        ({"revenue": np.nan}, "revenue"),
        ({"profit_margin": np.nan}, "profit_margin"),
        ({"growth": -2.0}, "growth"),
        ({"turnover": 0.0}, "turnover"),
        ({"turnover": -3.0}, "turnover"),
        ({"default_turnover": 0.0}, "default_turnover"),
    ],
)
def test_bad_need_inputs_name_the_argument(kwargs: dict[str, float], name: str) -> None:
    args: dict[str, Any] = {"revenue": YI, "profit_margin": 0.1, "growth": 0.2, "turnover": 3.0}
    args.update(kwargs)
    with pytest.raises(DataContractError, match=name):
        working_capital_need(**args)


def test_other_bad_inputs() -> None:
    with pytest.raises(DataContractError, match="inventory_days"):
        working_capital_need(YI, 0.1, 0.2, inventory_days=-5, receivable_days=1, payable_days=1)
    with pytest.raises(DataContractError, match="payable_days"):
        working_capital_need(YI, 0.1, 0.2, inventory_days=5, receivable_days=1)
    with pytest.raises(DataContractError, match="own_funds"):
        new_working_capital_loan(1e7, np.nan)
    with pytest.raises(DataContractError, match="total_assets"):
        debt_capacity(0.0, 0.0, 1e6, 0.0)
    with pytest.raises(DataContractError, match="max_leverage"):
        debt_capacity(YI, 0.0, 1e6, 0.0, max_leverage=1.0)
    with pytest.raises(DataContractError, match="customer_exposure"):
        exposure_headroom(CAPITAL, -1.0)


def test_bad_frames_name_the_column() -> None:
    with pytest.raises(DataContractError, match="customer_exposure_yuan"):
        credit_limit(pd.DataFrame([customer()]).drop(columns="customer_exposure_yuan"),
                     bank_capital=CAPITAL)  # fmt: skip
    with pytest.raises(DataContractError, match="requested_yuan"):
        credit_limit(pd.DataFrame([customer(product="term_loan")]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="existing_wc_loans_yuan"):
        credit_limit(pd.DataFrame([customer(existing_wc_loans_yuan=np.nan)]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="group_exposure_yuan"):
        credit_limit(pd.DataFrame([customer(group_id="G")]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="revenue"):
        credit_limit(pd.DataFrame([customer(revenue=-1.0)]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="wc_turnover"):
        credit_limit(pd.DataFrame([customer(wc_turnover=0.0)]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="product"):
        credit_limit(pd.DataFrame([customer(product="mortgage")]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="unique"):
        credit_limit(pd.DataFrame([customer(), customer()]), bank_capital=CAPITAL)
    with pytest.raises(DataContractError, match="group_exposure_yuan"):
        frame = group_pair()
        frame.loc[1, "group_exposure_yuan"] = 1.0
        credit_limit(frame, bank_capital=CAPITAL)


# --------------------------------------------------------------------------- YAML table


def test_packaged_defaults_match_the_module_constants() -> None:
    policy = load_limit_policy()
    assert policy.working_capital.default_turnover == DEFAULT_WC_TURNOVER
    assert policy.debt_capacity.max_leverage == MAX_LEVERAGE
    assert policy.debt_capacity.min_dscr == MIN_DSCR
    assert policy.debt_capacity.new_debt_rate_annual == NEW_DEBT_RATE_ANNUAL
    assert policy.debt_capacity.new_debt_tenor_years == NEW_DEBT_TENOR_YEARS
    caps = policy.large_exposure
    assert (caps.single_loan.share, caps.single_loan.capital_base) == (0.10, "net_capital")
    assert (caps.single_exposure.share, caps.single_exposure.capital_base) == (
        0.15, "tier1_net_capital",
    )  # fmt: skip
    assert (caps.group_exposure.share, caps.group_exposure.capital_base) == (
        0.20, "tier1_net_capital",
    )  # fmt: skip
    assert policy.bank_capital is None


def test_yaml_override_from_a_file(tmp_path: Path) -> None:
    """max_leverage 0.6 and the bank's capital in the file: D_lev = (0.6 × 2 亿 − 1 亿) / 0.4
    = 5,000 万, and no bank_capital argument is needed."""
    text = (Path(str(limits.__file__)).parent / "defaults" / "limits.yaml").read_text("utf-8")
    text = text.replace("max_leverage: 0.75", "max_leverage: 0.6").replace(
        "bank_capital: null",
        "bank_capital:\n  net_capital_yuan: 1.0e10\n  tier1_net_capital_yuan: 8.0e9",
    )
    path = tmp_path / "limits.yaml"
    path.write_text(text, encoding="utf-8")
    out = credit_limit(pd.DataFrame([customer()]), table=path).iloc[0]
    assert out["leverage_capacity_yuan"] == pytest.approx(5000 * WAN)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("debt_capacity", "max_leverage"), 1.5, r"debt_capacity\.max_leverage"),
        (("large_exposure", "group_exposure", "share"), -0.1,
         r"large_exposure\.group_exposure\.share"),
        (("large_exposure", "single_loan", "capital_base"), "equity",
         r"large_exposure\.single_loan\.capital_base"),
        (("working_capital", "turnover_by_section"), {"Z": 2.0},
         r"working_capital\.turnover_by_section"),
        (("working_capital", "need_products"), ["overdraft"], r"working_capital\.need_products"),
    ],
)  # fmt: skip
def test_bad_yaml_names_the_field(
    tmp_path: Path, path: tuple[str, ...], value: object, field: str
) -> None:
    raw = load_limit_policy().model_dump()
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=field):
        load_limit_policy(raw)


def test_unreadable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text("version: 1\nworking_capital: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_limit_policy(path)
    path.write_text("version: 1\nname: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="working_capital"):
        load_limit_policy(path)


def test_public_names_exist() -> None:
    assert all(hasattr(limits, name) for name in limits.__all__)
