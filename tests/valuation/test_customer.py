"""Customer CLV: streams by hand, the reconciliation of every row, current + potential, the band;
the facility book built from the contract's facilities table; and one valuation of a sample
bank from the warehouse, with models fitted on it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from lendvalue.errors import DataContractError
from lendvalue.models import WeibullAFTModel
from lendvalue.models.credit.migration import CohortMigration, pd_term_structure
from lendvalue.sample import generate_sample
from lendvalue.valuation import (
    CLV_COMPONENTS,
    CustomerStreams,
    GradePDCurves,
    ProportionalHazardCurves,
    ValuationInputs,
    customer_value,
    facility_book,
    fee_margins,
)
from lendvalue.valuation.book import ANNUITY, BULLET, REVOLVING
from lendvalue.valuation.uncertainty import pd_scenarios, scenarios, survival_scenarios
from lendvalue.warehouse.features import retention_covariates
from lendvalue.warehouse.ratings import rating_history
from lendvalue.warehouse.valuation_inputs import (
    active_facilities,
    deposit_positions,
    realised_contribution,
    valuation_customers,
)
from tests.valuation.test_engine import AS_OF, alive, assumptions, flat_pd, loan, market

REL = 1e-8


def streams(n: int = 1, **changes: Any) -> CustomerStreams:
    base: dict[str, Any] = dict(
        deposit_balance=np.full(n, 5e6), deposit_rate=np.full(n, 0.005),
        deposit_ftp=np.full(n, 0.018), retention_cost_annual=np.full(n, 2400.0),
        acquisition_cost=np.zeros(n),
    )  # fmt: skip
    base.update(changes)
    return CustomerStreams(**base)


def inputs(n: int = 1, q: float = 0.0, h: int = 12, **stream_changes: Any) -> ValuationInputs:
    return ValuationInputs(
        as_of=AS_OF, market=market(), customers=pd.DataFrame({"customer_id": [f"C{i}"
                                                                              for i in range(n)]}),
        pd_1y=np.full(n, 0.01), survival=alive(h, n), pd_curves=flat_pd(q, h, n),
        streams=streams(n, **stream_changes),
    )  # fmt: skip


def test_deposit_retention_and_acquisition_by_hand() -> None:
    """A customer with only deposits: 5M at 0.5% paid, credited at 1.8% deposit FTP, running off
    10% a year: Σ v^m 5M 0.9^((m-1)/12) 1.3%/12; deposit opex 10 bp of the same balance;
    retention 2,400 a year = 200 a month; a prospect's acquisition cost of 30,000 today;
    tax 25% of the pre-tax sum; no capital."""
    v = 1.08 ** (-1 / 12)
    balance = [5e6 * 0.9 ** ((m - 1) / 12) for m in range(1, 13)]
    deposit = sum(v**m * b * 0.013 / 12 for m, b in enumerate(balance, 1))
    opex = -sum(v**m * b * 0.001 / 12 for m, b in enumerate(balance, 1))
    retention = -sum(v**m * 200 for m in range(1, 13))
    pretax = deposit + opex + retention - 30000
    book = loan(balance=0.0, limit=1.0, renewal_balance=0.0, opex_month=0.0)  # earns nothing
    got = customer_value(book, assumptions(), inputs(acquisition_cost=np.array([30000.0]))
                         ).iloc[0]  # fmt: skip
    for name, want in {"deposit_value": deposit, "operating_cost": opex,
                       "retention_cost": retention, "acquisition_cost": -30000.0,
                       "tax": -0.25 * pretax, "clv": 0.75 * pretax}.items():  # fmt: skip
        assert got[name] == pytest.approx(want, rel=REL), name
    # deposits are current value; retention and acquisition are potential
    assert got["current_value"] == pytest.approx(0.75 * (deposit + opex), rel=REL)


def test_rows_reconcile_and_sum_their_facilities() -> None:
    """Three customers, five facilities: each customer's facility components are the sums of its
    facilities' values, every row's components sum to its CLV, current + potential = CLV, and
    the fee stream adds to fee income untaxed by survival."""
    book = loan(
        customer=[0, 0, 1, 2, 2], schedule=[BULLET, ANNUITY, REVOLVING, BULLET, BULLET],
        balance=[1e6, 2e6, 3e6, 5e5, 4e5], limit=[1e6, 2e6, 5e6, 5e5, 4e5],
        renewal_balance=[1e6, 2e6, 3e6, 5e5, 4e5], remaining_months=[6, 24, 12, 3, 30],
        term_months=[12, 36, 12, 6, 36], renewal_probability=[0.8, 0.2, 0.9, 0.5, 0.0],
        ccf_undrawn=[0, 0, 0.4, 0, 0], commitment_fee_bp=[0, 0, 20, 0, 0],
        product=[0] * 5, on_balance=[True] * 5, floating=[False] * 5, five_year=[False] * 5,
        rate=[0.04] * 5, spread=[0.01] * 5, lpr_now=[0.03] * 5, next_reset=[12] * 5,
        ftp_fixed=[0.025] * 5, ftp_spread=[-0.005] * 5, upfront_fee=[1000.0] * 5,
        ccf_drawn=[1.0] * 5, lgd=[0.45] * 5, capital_k=[0.08] * 5, smm=[0.0] * 5,
        opex_month=[100.0] * 5, opex_bp=[10.0] * 5,
    )  # fmt: skip
    h = 36
    fees = np.array([[50.0] * h, [0.0] * h, [10.0] * h])
    inp = inputs(3, q=0.001, h=h, fee_margin=fees)
    from lendvalue.valuation import project_cash_flows

    per_facility = project_cash_flows(book, assumptions(h), inp.market, AS_OF, inp.survival,
                                      inp.pd_curves).table  # fmt: skip
    table = customer_value(book, assumptions(h), inp)
    assert len(table) == 3
    np.testing.assert_allclose(table[list(CLV_COMPONENTS)].sum(axis=1), table["clv"], rtol=1e-12)
    np.testing.assert_allclose(table["current_value"] + table["potential_value"], table["clv"])
    expected = per_facility.groupby(book.customer)["expected_loss"].sum()
    np.testing.assert_allclose(table["expected_loss"], expected, rtol=1e-12)
    v = 1.08 ** (-np.arange(1, h + 1) / 12)
    own_fees = fees @ v
    facility_fees = per_facility.groupby(book.customer)["fee_income"].sum().to_numpy()
    np.testing.assert_allclose(table["fee_income"], facility_fees + own_fees, rtol=1e-12)
    assert table["net_interest_income"].equals(table["interest_income"] + table["funding_cost"])


def test_the_band_brackets_the_estimate_and_widens_with_uncertainty() -> None:
    base = inputs(1, q=0.002, h=24)
    curves = GradePDCurves.from_grades(np.tile(1 - 0.998 ** np.arange(1, 25), (1, 1)), [0],
                                       [1 - 0.998**12])  # fmt: skip
    base = ValuationInputs(**{**base.__dict__, "pd_curves": curves})
    book = loan(remaining_months=24, term_months=24)
    narrow = customer_value(book, assumptions(24), base,
                            scenarios=scenarios(pd_curves=pd_scenarios(curves, 0.1)))  # fmt: skip
    wide = customer_value(book, assumptions(24), base,
                          scenarios=scenarios(pd_curves=pd_scenarios(curves, 0.5)))  # fmt: skip
    for t in (narrow, wide):
        assert t["clv_low"][0] <= t["clv"][0] <= t["clv_high"][0]
    assert wide["clv_high"][0] - wide["clv_low"][0] > narrow["clv_high"][0] - narrow["clv_low"][0]


def test_fee_stream_from_a_bgnbd_model() -> None:
    """CDNOW (weeks): the stream's sum over 9 months equals the model's conditional expectation
    at 9 months (of 365.25 / 7 / 12 weeks) times the margin; the first customer's months are
    positive and fall (dropout and the rate's posterior)."""
    from lendvalue.models import BetaGeoModel
    from lendvalue.valuation import expected_fee_margins

    summary = pd.read_csv(
        Path(__file__).parents[1] / "data" / "btyd" / "cdnow_customers_summary.csv"
    )
    model = BetaGeoModel().fit(summary)
    stream = expected_fee_margins(model, summary.iloc[:50], 80.0, 9)
    assert stream.shape == (50, 9)
    want = model.conditional_expected_transactions(summary.iloc[:50], 9 * 365.25 / 7 / 12) * 80.0
    np.testing.assert_allclose(stream.sum(axis=1), want, rtol=1e-10)
    assert np.all(stream[0] > 0) and np.all(np.diff(stream[0]) < 0)


def test_fee_margins_are_increments_times_margin() -> None:
    cumulative = np.array([[0.0, 0.5, 0.9, 1.2], [0.0, 0.1, 0.1, 0.3]])
    np.testing.assert_allclose(fee_margins(cumulative, [100.0, 50.0]),
                               [[50, 40, 30], [5, 0, 10]])  # fmt: skip


# --------------------------------------------------------------------------- the book


def test_facility_book_from_the_contract_table() -> None:
    """A fixed 3-year annuity and a 1Y-LPR revolver originated 2024-03-15: remaining months
    rounded up, the revolver's last reset 2025-03-15 at the LPR then (3.1%) + 50 bp, next reset
    in 9 months; the fixed loan's FTP locked at its origination at its 36-month term; EAD
    factors, LGD from collateral, K at the customer's PD; an inactive facility left out."""
    frame = pd.DataFrame({
        "facility_id": ["F1", "F2", "F3"], "customer_id": ["C1", "C2", "C1"],
        "product": ["term_loan", "revolver", "guarantee"], "limit_amount": [3e6, 5e6, 1e6],
        "drawn_amount": [2.4e6, 2e6, 1e6], "currency": [None] * 3,
        "origination_date": pd.to_datetime(["2024-01-10", "2024-03-15", "2025-01-01"]),
        "maturity_date": pd.to_datetime(["2027-01-10", "2026-03-15", "2026-01-01"]),
        "rate_type": ["fixed", "lpr_1y", "fixed"], "rate": [0.045, np.nan, 0.0],
        "spread_bp": [np.nan, 50.0, np.nan], "amortization": ["annuity", "bullet", "bullet"],
        "collateral_type": ["real_estate", "unsecured", "deposit"], "upfront_fee": [0, 0, 5000],
        "commitment_fee_bp": [0, 25, 0], "classification": ["normal"] * 3,
        "status": ["active", "active", "settled"],
    })  # fmt: skip
    rows = pd.Series([0, 1], index=["C1", "C2"])
    mk = market(0.031)
    book = facility_book(frame, rows, AS_OF, mk, assumptions(), np.array([0.01, 0.02]))
    assert book.n == 2
    assert book.remaining_months.tolist() == [19, 9]  # 2025-06-30 → 2027-01-10 / 2026-03-15
    assert book.term_months.tolist() == [36, 24]
    assert book.schedule.tolist() == [ANNUITY, REVOLVING]
    assert book.next_reset.tolist()[1] == 9 and book.floating.tolist() == [False, True]
    assert book.rate.tolist() == pytest.approx([0.045, 0.031 + 0.005])
    assert book.ftp_fixed[0] == pytest.approx(0.025) and np.isnan(book.ftp_fixed[1])
    assert book.spread[0] == pytest.approx(0.045 - 0.031)  # renewals: its margin over LPR
    assert book.ccf_undrawn.tolist() == [0.0, 0.4] and book.lgd.tolist() == [0.20, 0.45]
    assert book.renewal_balance.tolist() == [3e6, 2e6]
    assert 0 < book.capital_k[0] < book.capital_k[1]
    with pytest.raises(DataContractError, match="unknown customers"):
        facility_book(frame, rows.iloc[:1], AS_OF, mk, assumptions(), np.array([0.01]))


# --------------------------------------------------------------------------- a sample bank

TABLES = ("customers", "facilities", "repayments", "transactions", "deposits", "financials",
          "ratings", "credit_events", "marketing", "relationships", "market")  # fmt: skip


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, str]:
    folder = tmp_path_factory.mktemp("valuation")
    summary = generate_sample(folder, customers=4_000, seed=11, fmt="parquet")
    as_of = json.loads(Path(summary.truth_path).read_text(encoding="utf-8"))["as_of"]
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{folder / table}.parquet'")
    return con, as_of


def test_a_sample_bank_valued_from_the_warehouse(
    bank: tuple[duckdb.DuckDBPyConnection, str],
) -> None:
    """Every input from the warehouse and from models fitted on it: survival from a Weibull
    AFT model on the relationships, PD curves from the cohort migration matrix scaled to each
    customer's grade PD, deposits and the realised contribution; 20 survival draws for the
    band. One row per valuation customer; every row reconciles."""
    con, as_of = bank
    day = dt.date.fromisoformat(as_of)
    customers = valuation_customers(con, as_of)
    covs = retention_covariates(con, as_of).set_index("customer_id")
    customers = customers.join(covs[["size_small", "size_micro", "grade_centred"]],
                               on="customer_id")  # fmt: skip
    from lendvalue.warehouse.features import relationship_spells

    spells = relationship_spells(con, as_of).merge(covs.reset_index(), on="customer_id")
    weibull = WeibullAFTModel(covariates=["size_small", "size_micro", "grade_centred"]).fit(spells)
    survival = ProportionalHazardCurves.from_model(weibull, customers)
    migration = CohortMigration().fit(rating_history(con, as_of), as_of=as_of)
    grades = pd_term_structure(migration, 120)
    grade_row = (customers["grade_centred"] + 3).clip(0, 6).astype(int).to_numpy()
    pd_1y = grades.cumulative[grade_row, 11]
    pd_curves = GradePDCurves.from_grades(grades.cumulative, grade_row, pd_1y)
    deposits = deposit_positions(con, as_of).set_index("customer_id")
    dep = customers["customer_id"].map(deposits["balance_yuan"]).fillna(0.0).to_numpy()
    rate = customers["customer_id"].map(deposits["rate"]).fillna(0.0).to_numpy()
    a = assumptions(120)
    mk = market()
    realised = realised_contribution(con, as_of).set_index("customer_id")["realised"]
    inp = ValuationInputs(
        as_of=day, market=mk, customers=customers, pd_1y=pd_1y, survival=survival,
        pd_curves=pd_curves,
        streams=CustomerStreams(
            deposit_balance=dep, deposit_rate=rate, deposit_ftp=np.full(len(dep), 0.018),
            retention_cost_annual=customers["size_class"].map(a.retention_cost_annual_yuan)
            .to_numpy(float), acquisition_cost=customers["acquisition_cost"].to_numpy(float),
        ),
        realised_12m=realised,
    )  # fmt: skip
    facilities = active_facilities(con, as_of)
    draws = scenarios(survival=survival_scenarios(weibull, customers, n_draws=20))
    table = customer_value(facilities, a, inp, scenarios=draws)
    assert len(table) == len(customers) and table["customer_id"].is_unique
    np.testing.assert_allclose(table[list(CLV_COMPONENTS)].sum(axis=1), table["clv"],
                               rtol=1e-12, atol=1e-6)  # fmt: skip
    assert (table["clv_low"] <= table["clv"]).all() and (table["clv"] <= table["clv_high"]).all()
    assert (table["expected_loss"] <= 0).all() and (table["interest_income"] >= 0).all()
    assert table["realised_12m"].abs().sum() > 0
    has_loans = np.isin(
        np.arange(len(customers)),
        pd.Index(customers["customer_id"]).get_indexer(facilities["customer_id"]),
    )
    # cash-collateralised facilities (LGD 0) hold no capital; every other loan does
    assert (table["capital_pv"] >= 0).all()
    assert (table.loc[has_loans, "capital_pv"] > 0).mean() > 0.8
    assert np.isfinite(table.loc[table["capital_pv"] > 0, "raroc"]).all()


def test_facility_book_refuses_what_it_cannot_value() -> None:
    """Matured, not yet started, foreign-currency and unpriced facilities are named."""
    base = {
        "facility_id": "F1", "customer_id": "C1", "product": "term_loan",
        "limit_amount": 1e6, "drawn_amount": 1e6, "currency": "CNY",
        "origination_date": pd.Timestamp("2024-01-10"), "maturity_date": pd.Timestamp("2027-01-10"),
        "rate_type": "fixed", "rate": 0.045, "spread_bp": np.nan, "amortization": "bullet",
        "collateral_type": "unsecured", "upfront_fee": 0.0, "commitment_fee_bp": 0.0,
        "classification": "normal", "status": "active",
    }  # fmt: skip
    rows = pd.Series([0], index=["C1"])
    cases = [
        ({"maturity_date": pd.Timestamp("2025-06-30")}, "mature on or before"),
        ({"origination_date": pd.Timestamp("2025-07-01")}, "start after"),
        ({"currency": "USD"}, "not in CNY"),
        ({"rate": np.nan}, "no rate"),
        ({"rate_type": "lpr_1y", "rate": np.nan}, "no spread_bp"),
    ]
    for change, message in cases:
        with pytest.raises(DataContractError, match=message):
            facility_book(pd.DataFrame([base | change]), rows, AS_OF, market(), assumptions(),
                          np.array([0.01]))  # fmt: skip
    # a maturity on the valuation date's day of month five months on is five months away
    five = pd.DataFrame([base | {"maturity_date": pd.Timestamp("2025-11-30")}])
    book = facility_book(five, rows, AS_OF, market(), assumptions(), np.array([0.01]))
    assert book.remaining_months.tolist() == [5]


def test_streams_from_the_assumptions_stop_at_default() -> None:
    """customer_streams credits deposits at the deposit FTP at the assumed tenor and costs
    retention by size class; both stop when the customer defaults (PD weight)."""
    from lendvalue.valuation.streams import customer_streams, stream_values

    customers = pd.DataFrame({"customer_id": ["C0", "C1"], "size_class": ["large", "micro"]})
    deposits = pd.DataFrame({"customer_id": ["C1"], "balance_yuan": [1e6], "rate": [0.004]})
    a = assumptions(24)
    st_ = customer_streams(customers, deposits, as_of=AS_OF, market=market(), assumptions=a)
    assert st_.deposit_balance.tolist() == [0.0, 1e6] and st_.deposit_ftp.tolist() == [0.018] * 2
    assert st_.retention_cost_annual.tolist() == [20000.0, 500.0]
    safe, _ = stream_values(st_, alive(24, 2), flat_pd(0.0, 24, 2), horizon_months=24,
                            discount_rate_annual=0.08, runoff_annual=0.1,
                            deposit_opex_bp_annual=10.0)  # fmt: skip
    risky, _ = stream_values(st_, alive(24, 2), flat_pd(0.01, 24, 2), horizon_months=24,
                             discount_rate_annual=0.08, runoff_annual=0.1,
                             deposit_opex_bp_annual=10.0)  # fmt: skip
    v = 1.08 ** (-1 / 12)
    want = sum(v**m * 0.99 ** (m - 1) * 1e6 * 0.9 ** ((m - 1) / 12) * 0.014 / 12
               for m in range(1, 25))  # fmt: skip
    assert risky["deposit_value"][1] == pytest.approx(want, rel=REL)
    assert risky["deposit_value"][1] < safe["deposit_value"][1]


def test_a_pd_scenario_moves_the_capital_too() -> None:
    """A scenario with a five times higher PD lowers the CLV by more than its expected loss
    alone: the capital requirement rises with the PD (with_pd)."""
    from lendvalue.valuation import Scenario
    from lendvalue.valuation.book import with_pd

    book = loan(remaining_months=24, term_months=24)
    h = 24
    base_inputs = inputs(1, q=0.001, h=h)
    base = customer_value(book, assumptions(h), base_inputs)
    higher = customer_value(
        book,
        assumptions(h),
        base_inputs,
        scenarios=[Scenario(pd_curves=flat_pd(0.005, h), pd_1y=np.array([0.06]))],
    )
    assert higher["clv_low"][0] < base["clv"][0]
    rebuilt = with_pd(book, np.array([0.06]), pd_floor=0.0005)
    assert rebuilt.capital_k[0] > 0 and rebuilt.capital_k[0] != book.capital_k[0]
