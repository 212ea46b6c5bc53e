"""Valuation inputs from the warehouse: every rule on a tiny hand-made bank whose numbers are
worked out by hand below, then shapes and reconciliations on a 3,000-customer sample bank."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lendvalue.contract import get_table
from lendvalue.errors import DataContractError
from lendvalue.sample import DEFAULT_AS_OF, generate_sample
from lendvalue.warehouse.defaults import default_dates_sql
from lendvalue.warehouse.valuation_inputs import (
    REALISED_COMPONENTS,
    active_facilities,
    custom_schedules,
    deposit_positions,
    realised_contribution,
    valuation_customers,
)

AS_OF = "2025-06-30"  # the window of 12 months is (2024-06-30, 2025-06-30]
MONTH = 365.25 / 12

# Every row in contract column order. Comments give what the row tests.
# fmt: off
ROWS: dict[str, list[tuple[object, ...]]] = {
    "customers": [
        # customer_id, name, uscc, industry, region, size_class, group_id, rm_id, onboard_date,
        # acquisition_cost
        ("C1", "甲公司", "u1", "C3611", "110000", "large", "G1", "RM1", "2024-12-31", 50000.0),
        ("C2", "乙公司", "u2", "F5121", "310000", "medium", None, "RM2", "2020-01-01", None),
        ("C3", "丙公司", "u3", "E4700", "440000", "small", None, "RM1", "2018-05-01", None),
        ("C4", "丁公司", "u4", "C3011", "320000", "micro", None, "RM2", "2020-01-01", None),
        ("C5", "戊公司", "u5", "I6510", "330000", "medium", None, "RM3", "2025-06-30", 8000.0),
        ("C6", "己公司", "u6", "K7010", "500000", "small", None, "RM3", "2025-07-01", None),
        ("C7", "庚公司", "u7", "C3612", "110000", "large", "G1", "RM1", "2019-03-15", None),
    ],
    "relationships": [
        ("C1", "2024-12-31", None, None),
        ("C2", "2020-01-01", None, None),
        ("C3", "2018-05-01", None, None),                  # defaulted (events)
        ("C4", "2020-01-01", "2025-06-30", "moved_bank"),  # ended on as_of: out
        ("C5", "2025-06-30", None, None),                  # started on as_of: in
        ("C6", "2025-07-01", None, None),                  # starts after as_of: out
        ("C7", "2019-03-15", None, None),                  # D rating after as_of: in
    ],
    "market": [
        ("2024-05-20", "lpr", "1Y", 0.0345), ("2024-05-20", "lpr", "5Y", 0.0395),
        ("2024-10-21", "lpr", "1Y", 0.0310), ("2024-10-21", "lpr", "5Y", 0.0360),
        ("2025-05-20", "lpr", "1Y", 0.0300), ("2025-05-20", "lpr", "5Y", 0.0350),
        ("2024-06-30", "ftp", "3M", 0.020), ("2024-06-30", "ftp", "1Y", 0.024),
        ("2024-06-30", "ftp", "3Y", 0.028), ("2024-06-30", "ftp", "5Y", 0.030),
        ("2024-12-31", "ftp", "3M", 0.018), ("2024-12-31", "ftp", "1Y", 0.022),
        ("2024-12-31", "ftp", "3Y", 0.026), ("2024-12-31", "ftp", "5Y", 0.029),
        ("2024-06-30", "deposit_ftp", "6M", 0.015), ("2024-06-30", "deposit_ftp", "1Y", 0.018),
        ("2025-03-31", "deposit_ftp", "6M", 0.014), ("2025-03-31", "deposit_ftp", "1Y", 0.016),
    ],
    "facilities": [
        # facility_id, customer_id, product, limit_amount, drawn_amount, currency,
        # origination_date, maturity_date, rate_type, rate, spread_bp, amortization,
        # collateral_type, upfront_fee, commitment_fee_bp, classification, status
        ("F1", "C1", "term_loan", 1e6, 8e5, "CNY", "2024-01-15", "2026-01-15", "fixed", 0.048,
         None, "annuity", "real_estate", 5000.0, None, "normal", "active"),
        ("F2", "C1", "working_capital", 2e5, 2e5, "CNY", "2024-09-10", "2025-09-10", "lpr_1y",
         None, 50.0, "bullet", "unsecured", 3000.0, None, "normal", "active"),
        ("F3", "C1", "project_finance", 5e6, 4e6, "CNY", "2023-03-01", "2033-03-01", "lpr_5y",
         None, -20.0, "linear", "equipment", None, 30.0, "normal", "active"),
        ("F5", "C1", "trade_finance", 1e5, 0.0, "CNY", "2025-01-10", "2025-03-10", "fixed", 0.04,
         None, "bullet", "receivables", None, None, "normal", "settled"),
        ("F6", "C1", "acceptance", 1e5, 0.0, "CNY", "2024-12-01", "2025-06-01", "fixed", 0.0,
         None, "bullet", "deposit", 600.0, None, "normal", "settled"),
        ("F9", "C1", "revolver", 3e5, 0.0, "CNY", "2024-02-01", "2026-02-01", "fixed", 0.045,
         None, "bullet", "guarantee", None, 25.0, "normal", "settled"),
        ("F7", "C2", "working_capital", 4e5, 3e5, "CNY", "2023-06-30", "2026-06-30", "fixed",
         0.05, None, "annuity", "guarantee", None, None, "normal", "active"),
        ("F8", "C2", "guarantee", 2e5, 2e5, "CNY", "2024-06-30", "2025-06-30", "fixed", 0.0,
         None, "bullet", "deposit", 1000.0, None, "normal", "active"),
        ("F4", "C3", "working_capital", 3e5, 3e5, "CNY", "2024-03-01", "2026-03-01", "fixed",
         0.06, None, "bullet", "unsecured", None, None, "loss", "active"),
        ("F10", "C5", "working_capital", 1e5, 1e5, "CNY", "2025-07-01", "2026-07-01", "fixed",
         0.05, None, "bullet", "unsecured", None, None, "normal", "active"),
        ("F11", "C7", "term_loan", 1e6, 9e5, "CNY", "2024-01-01", "2027-01-01", "fixed", 0.05,
         None, "custom", "real_estate", None, None, "normal", "active"),
    ],
    "repayments": [
        # facility_id, due_date, paid_date, principal, interest, fee, days_past_due
        ("F1", "2024-06-30", "2024-06-30", 0.0, 1000.0, 10.0, 0),  # paid at as_of - 12m: out
        ("F1", "2024-12-15", "2024-12-16", 0.0, 4800.0, 50.0, 1),
        ("F1", "2025-06-30", "2025-06-30", 0.0, 2400.0, None, 0),  # paid on as_of: in
        ("F1", "2025-12-15", None, 0.0, 2400.0, None, 0),          # not paid
        ("F2", "2025-03-10", "2025-03-12", 0.0, 3600.0, 20.0, 2),
        ("F3", "2024-07-05", "2024-07-05", 0.0, 1000.0, None, 0),
        ("F5", "2025-03-10", "2025-03-10", 40000.0, 500.0, None, 0),
        ("F6", "2025-06-01", "2025-06-01", 100000.0, 0.0, 100.0, 0),
        ("F7", "2024-06-30", "2024-06-30", 0.0, 700.0, 7.0, 0),    # out
        ("F4", "2024-09-01", "2024-09-01", 0.0, 3000.0, None, 0),
        ("F4", "2024-06-15", "2024-07-10", 0.0, 600.0, None, 25),  # due before any FTP curve
        ("F11", "2025-01-01", "2025-01-01", 100000.0, 0.0, None, 0),
        ("F11", "2025-06-30", None, 50000.0, 0.0, None, 0),        # due on as_of: not future
        ("F11", "2025-07-01", None, 200000.0, 0.0, None, 0),
        ("F11", "2025-09-01", "2025-06-20", 30000.0, 0.0, None, 0),  # prepaid before as_of
        ("F11", "2026-01-01", None, 200000.0, 0.0, None, 0),
        ("F11", "2027-01-01", None, 420000.0, 0.0, None, 0),
    ],
    "transactions": [
        ("C1", "2024-06-30 18:00:00", "settlement", 999.0),  # on as_of - 12m: out
        ("C1", "2024-07-01 00:00:00", "settlement", 200.0),
        ("C1", "2025-01-05 10:00:00", "fx", -50.0),
        ("C1", "2025-06-30 23:59:59", "cash_management", 300.0),
        ("C2", "2024-06-30 12:00:00", "settlement", 80.0),   # out
    ],
    "deposits": [
        ("C1", "2024-06-01", 1000000.0, 0.002),  # before the window
        ("C1", "2024-07-01", 1200000.0, 0.002),
        ("C1", "2025-04-01", 2000000.0, 0.003),
        ("C1", "2025-05-01", 2400000.0, None),   # rate missing: pays 0
        ("C1", "2025-06-01", 3000000.0, 0.004),
        ("C2", "2024-06-01", 500000.0, 0.001),   # before the window
        ("C5", "2025-06-01", 0.0, None),
    ],
    "ratings": [
        ("C1", "2024-12-31", "BBB", "internal"),
        ("C2", "2020-01-01", "A", "internal"),
        ("C7", "2025-08-01", "D", "internal"),   # default after as_of
    ],
    "credit_events": [
        # customer_id, event_date, event, facility_id, amount, detail
        ("C3", "2024-06-30", "write_off", None, 9999.0, None),  # on as_of - 12m: out
        ("C3", "2025-03-10", "default", "F4", None, None),
        ("C3", "2025-03-10", "overdue_90", "F4", 150000.0, None),  # not a write-off
        ("C3", "2025-05-20", "write_off", "F4", 150000.0, None),
        ("C3", "2025-06-01", "write_off", "F4", None, None),       # no amount: skipped
        ("C3", "2025-06-30", "write_off", "F4", 1000.0, None),     # on as_of: in
    ],
}
# fmt: on


def _sql_value(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def build_bank(con: duckdb.DuckDBPyConnection, rows: dict[str, list[tuple[object, ...]]]) -> None:
    """CREATE TABLE … AS SELECT … FROM (VALUES …), typed as the contract says."""
    for name, data in rows.items():
        table = get_table(name)
        cols = [f'"{c}"' for c in table.column_names]
        types = ["DATE" if c.dtype == "MONTH" else c.dtype for c in table.columns]
        values = ",\n".join("(" + ", ".join(_sql_value(v) for v in row) + ")" for row in data)
        select = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in zip(cols, types, strict=True))
        con.execute(
            f"CREATE TABLE {name} AS SELECT {select} FROM (VALUES {values}) v({', '.join(cols)})"
        )


@pytest.fixture()
def bank() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_bank(con, ROWS)
    return con


def by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("customer_id")


# ---------------------------------------------------------------------------------------------
# valuation_customers
# ---------------------------------------------------------------------------------------------


def test_valuation_customers_keep_running_performing_relationships(bank) -> None:
    out = valuation_customers(bank, AS_OF)
    # C3 defaulted (2024-06-30 write-off, 2025-03-10 default); C4 ended on as_of; C6 starts
    # after it; C7's D rating comes after as_of, so C7 is still performing
    assert out["customer_id"].tolist() == ["C1", "C2", "C5", "C7"]
    assert list(out.columns) == [
        "customer_id",
        "size_class",
        "group_id",
        "rm_id",
        "industry",
        "region",
        "tenure_months",
        "acquisition_cost",
        "prospect",
    ]
    c = by_customer(out)
    # days since the start: C1 2024-12-31 → 2025-06-30 = 31+28+31+30+31+30; C2 2020-01-01 →
    # 2025-01-01 = 5×365 + 2 leap days, then 31+28+31+30+31+29; C5 0; C7 2019-03-15 →
    # 2025-03-15 = 6×365 + 2, then 16+30+31+30
    assert c.loc["C1", "tenure_months"] == pytest.approx((31 + 28 + 31 + 30 + 31 + 30) / MONTH)
    assert c.loc["C2", "tenure_months"] == pytest.approx(
        (5 * 365 + 2 + 31 + 28 + 31 + 30 + 31 + 29) / MONTH
    )
    assert c.loc["C5", "tenure_months"] == 0.0
    assert c.loc["C7", "tenure_months"] == pytest.approx((6 * 365 + 2 + 16 + 30 + 31 + 30) / MONTH)
    # existing customers are acquired: their acquisition cost (C1: 50,000) is sunk
    assert (out["acquisition_cost"] == 0.0).all()
    assert not out["prospect"].any()
    assert c.loc["C1", ["size_class", "group_id", "rm_id", "industry", "region"]].tolist() == [
        "large",
        "G1",
        "RM1",
        "C3611",
        "110000",
    ]
    assert pd.isna(c.loc["C2", "group_id"])


def test_valuation_customers_before_the_default(bank) -> None:
    # on 2024-06-29 C3 has not defaulted yet (first default date: the 2024-06-30 write-off);
    # C1 and C5 have not started
    out = valuation_customers(bank, "2024-06-29")
    assert out["customer_id"].tolist() == ["C2", "C3", "C4", "C7"]


# ---------------------------------------------------------------------------------------------
# active_facilities
# ---------------------------------------------------------------------------------------------


def test_active_facilities_of_valued_customers(bank) -> None:
    out = active_facilities(bank, AS_OF, snapshot_date=AS_OF)
    # F5, F6, F9 settled; F8 matures on as_of; F4's customer C3 defaulted; F10 starts after
    assert out["facility_id"].tolist() == ["F1", "F11", "F2", "F3", "F7"]  # text order
    assert list(out.columns) == list(get_table("facilities").column_names)
    f1 = out.set_index("facility_id").loc["F1"]
    assert (f1["customer_id"], f1["rate"], f1["drawn_amount"]) == ("C1", 0.048, 8e5)


def test_active_facilities_refuse_another_snapshot(bank) -> None:
    with pytest.raises(DataContractError, match="2025-07-31"):
        active_facilities(bank, AS_OF, snapshot_date="2025-07-31")
    # the same date written otherwise is the same snapshot
    assert len(active_facilities(bank, AS_OF, snapshot_date=dt.date(2025, 6, 30))) == 5


# ---------------------------------------------------------------------------------------------
# custom_schedules
# ---------------------------------------------------------------------------------------------


def test_custom_schedules_are_the_future_unpaid_rows(bank) -> None:
    out = custom_schedules(bank, AS_OF)
    # F1's unpaid 2025-12-15 row is not custom; F11's row due on as_of is not future, its
    # 2025-09-01 row was prepaid on 2025-06-20
    assert list(out.columns) == ["facility_id", "due_date", "principal"]
    assert out["facility_id"].tolist() == ["F11"] * 3
    assert [d.date() for d in pd.to_datetime(out["due_date"])] == [
        dt.date(2025, 7, 1),
        dt.date(2026, 1, 1),
        dt.date(2027, 1, 1),
    ]
    assert out["principal"].tolist() == [200000.0, 200000.0, 420000.0]


def test_custom_schedules_earlier_as_of(bank) -> None:
    # on 2025-06-10 the row due 2025-06-30 is future and the 2025-09-01 row not yet prepaid
    out = custom_schedules(bank, "2025-06-10")
    assert out["principal"].tolist() == [50000.0, 200000.0, 30000.0, 200000.0, 420000.0]


# ---------------------------------------------------------------------------------------------
# deposit_positions
# ---------------------------------------------------------------------------------------------


def test_deposit_positions_month_end(bank) -> None:
    out = by_customer(deposit_positions(bank, AS_OF))
    # whole months ended by 2025-06-30: 2025-04, 05, 06. C2 has only 2024-06.
    assert out.index.tolist() == ["C1", "C5"]
    balance = 2000000 + 2400000 + 3000000
    assert out.loc["C1", "balance_yuan"] == pytest.approx(balance / 3)
    # May's missing rate pays 0: (2.0M × 0.3% + 2.4M × 0 + 3.0M × 0.4%) / 7.4M
    assert out.loc["C1", "rate"] == pytest.approx((6000 + 0 + 12000) / balance)
    assert out.loc["C1", "months_observed"] == 3
    # a zero balance: rate 0, not NaN
    assert out.loc["C5"].tolist() == [0.0, 0.0, 1]


@pytest.mark.parametrize("as_of", ["2025-06-15", "2025-05-31"])
def test_deposit_positions_mid_month(bank, as_of: str) -> None:
    # June is not whole by 2025-06-15: the months are 2025-03, 04, 05, of which C1 has two
    out = by_customer(deposit_positions(bank, as_of))
    assert out.index.tolist() == ["C1"]
    assert out.loc["C1", "balance_yuan"] == pytest.approx((2000000 + 2400000) / 2)
    assert out.loc["C1", "rate"] == pytest.approx(2000000 * 0.003 / (2000000 + 2400000))
    assert out.loc["C1", "months_observed"] == 2


# ---------------------------------------------------------------------------------------------
# realised_contribution
# ---------------------------------------------------------------------------------------------

# C1, worked out row by row.
# Interest paid in (2024-06-30, 2025-06-30]: F1 4800 + 2400, F2 3600, F3 1000, F5 500, F6 0.
C1_INTEREST = 4800 + 2400 + 3600 + 1000 + 500 + 0
# Funding = interest × FTP / loan rate; a fixed-rate loan's FTP is locked at origination (the
# curve in force then, at its original term), a floating one's read on the due date:
# - F1 fixed 4.8%, term 2024-01-15 → 2026-01-15 = 366 + 365 = 731 days = 24.02 → 24 months,
#   between the 1Y and 3Y points halfway; originated before the first curve (2024-06-30),
#   which stands in: (2.4% + 2.8%) / 2 = 2.6% for both payments.
F1_FUNDING = -(4800 + 2400) * 0.026 / 0.048  # -3900
# - F2 LPR 1Y + 50bp, due 2025-03-10: fixing of 2024-10-21 3.10% → 3.60%; 12M FTP of the
#   2024-12-31 curve 2.2%.
F2_FUNDING = -3600 * 0.022 / (0.0310 + 0.0050)  # -2200
# - F3 LPR 5Y − 20bp, due 2024-07-05: fixing of 2024-05-20 3.95% → 3.75%; 12M FTP of the
#   2024-06-30 curve 2.4%.
F3_FUNDING = -1000 * 0.024 / (0.0395 - 0.0020)  # -640
# - F5 fixed 4%, 2025-01-10 → 2025-03-10 = 21 + 28 + 10 = 59 days = 1.94 → 2 months, below the
#   3M point: flat, 1.8% on the 2024-12-31 curve (in force at its origination).
F5_FUNDING = -500 * 0.018 / 0.04  # -225
# - F6 acceptance, rate 0: no funding.
C1_FUNDING = F1_FUNDING + F2_FUNDING + F3_FUNDING + F5_FUNDING
# Fees: transactions 200 − 50 + 300 (999 on 2024-06-30 is out); repayment fees F1 50, F2 20,
# F6 100 (F1's 10 of 2024-06-30 is out); upfront fees of F2 (2024-09-10) 3000 and F6
# (2024-12-01) 600 (F1 originated 2024-01-15: out).
C1_FEES = (200 - 50 + 300) + (50 + 20 + 100) + (3000 + 600)
# Deposits: 2024-07 on the 2024-06-30 deposit FTP 1.8%; 2025-04/05/06 on the 2025-03-31 1.6%.
C1_DEPOSITS = (
    1200000 * (0.018 - 0.002) / 12
    + 2000000 * (0.016 - 0.003) / 12
    + 2400000 * (0.016 - 0.0) / 12
    + 3000000 * (0.016 - 0.004) / 12
)
# C3: F4 fixed 6%, 2024-03-01 → 2026-03-01 = 730 days = 23.98 → 24 months, originated before
# every FTP curve: the earliest, 2024-06-30, stands in: 2.6% for both payments (the late one
# due 2024-06-15 and paid 2024-07-10, in the window, included). Write-offs 2025-05-20
# 150,000 and 2025-06-30 1,000.
C3_INTEREST = 3000 + 600
C3_FUNDING = -3000 * 0.026 / 0.06 - 600 * 0.026 / 0.06  # -1300 - 260
C3_WRITE_OFFS = -(150000 + 1000)


def test_realised_contribution_by_hand(bank) -> None:
    out = realised_contribution(bank, AS_OF)
    assert list(out.columns) == ["customer_id", *REALISED_COMPONENTS, "realised"]
    assert out["customer_id"].tolist() == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    c = by_customer(out)
    assert c.loc["C1", "interest_income"] == pytest.approx(C1_INTEREST)
    assert c.loc["C1", "funding_cost"] == pytest.approx(C1_FUNDING)
    # the same, rounded by hand
    assert c.loc["C1", "funding_cost"] == pytest.approx(-(3900 + 2200 + 640 + 225))
    assert c.loc["C1", "fee_income"] == pytest.approx(C1_FEES)
    assert c.loc["C1", "deposit_value"] == pytest.approx(C1_DEPOSITS)
    assert c.loc["C1", "deposit_value"] == pytest.approx(1600 + 26000 / 12 + 3200 + 3000)
    assert c.loc["C1", "write_offs"] == 0.0
    assert c.loc["C1", "realised"] == pytest.approx(
        C1_INTEREST + C1_FUNDING + C1_FEES + C1_DEPOSITS
    )
    assert c.loc["C3"].tolist() == pytest.approx(
        [C3_INTEREST, C3_FUNDING, 0, 0, C3_WRITE_OFFS, C3_INTEREST + C3_FUNDING + C3_WRITE_OFFS]
    )
    # C2: interest, fee, transaction and deposit month all just before the window; the rest
    # have nothing at all (C5's deposit month has a zero balance; C7 pays no interest)
    for customer in ("C2", "C4", "C5", "C6", "C7"):
        assert c.loc[customer].tolist() == [0.0] * 6, customer


def test_realised_contribution_three_months(bank) -> None:
    # window (2025-03-31, 2025-06-30]: F1's 2025-06-30 payment, F6's fee and 2025-06-30
    # transaction; the deposit months 2025-04, 05, 06; both C3 write-offs
    c = by_customer(realised_contribution(bank, AS_OF, months=3))
    assert c.loc["C1", "interest_income"] == pytest.approx(2400)
    assert c.loc["C1", "funding_cost"] == pytest.approx(-2400 * 0.026 / 0.048)
    assert c.loc["C1", "fee_income"] == pytest.approx(100 + 300)
    assert c.loc["C1", "deposit_value"] == pytest.approx(
        (2000000 * 0.013 + 2400000 * 0.016 + 3000000 * 0.012) / 12
    )
    assert c.loc["C3", "interest_income"] == 0.0
    assert c.loc["C3", "write_offs"] == pytest.approx(C3_WRITE_OFFS)


@pytest.mark.parametrize("curve", ["lpr", "ftp", "deposit_ftp"])
def test_realised_contribution_names_a_missing_curve(bank, curve: str) -> None:
    bank.execute(f"DELETE FROM market WHERE curve = '{curve}'")
    with pytest.raises(DataContractError, match=f"'{curve}'"):
        realised_contribution(bank, AS_OF)


def test_realised_contribution_checks_its_input(bank) -> None:
    with pytest.raises(DataContractError, match="months"):
        realised_contribution(bank, AS_OF, months=0)
    with pytest.raises(DataContractError, match="as_of"):
        realised_contribution(bank, "30/06/2025")
    with pytest.raises(DataContractError, match="realised_contribution"):
        realised_contribution(duckdb.connect(), AS_OF)


# ---------------------------------------------------------------------------------------------
# A 3,000-customer sample bank
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_bank(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder: Path = tmp_path_factory.mktemp("valuation_inputs")
    summary = generate_sample(folder, customers=3000, seed=23, fmt="parquet")
    con = duckdb.connect()
    for table, path in summary.files.items():
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{path}'")
    return con


def test_sample_bank_shapes(sample_bank) -> None:
    con, as_of = sample_bank, DEFAULT_AS_OF
    customers = valuation_customers(con, as_of)
    facilities = active_facilities(con, as_of, snapshot_date=as_of)
    deposits = deposit_positions(con, as_of)
    realised = realised_contribution(con, as_of)
    assert 0 < len(customers) < 3000
    for frame in (customers, deposits, realised):
        assert frame["customer_id"].is_unique
        assert frame["customer_id"].is_monotonic_increasing
    assert len(realised) == 3000
    assert (customers["tenure_months"] >= 0).all()
    assert deposits["months_observed"].between(1, 3).all()
    assert (deposits["balance_yuan"] >= 0).all() and deposits["rate"].between(0, 0.2).all()
    assert facilities["facility_id"].is_unique and (facilities["status"] == "active").all()
    assert set(facilities["customer_id"]) <= set(customers["customer_id"])
    assert len(custom_schedules(con, as_of)) == 0  # the generator makes no custom facility
    # every facility the bank still calls active and running belongs to a valued customer or
    # to one in default: nothing running is lost by leaving the others out
    at = f"DATE '{as_of.isoformat()}'"
    running = con.sql(
        f"SELECT DISTINCT customer_id FROM facilities WHERE status = 'active' "
        f"AND origination_date <= {at} AND maturity_date > {at}"
    ).df()["customer_id"]
    defaulted = con.sql(
        f"SELECT customer_id FROM ({default_dates_sql()}) WHERE default_date <= {at}"
    ).df()["customer_id"]
    assert set(running) <= set(customers["customer_id"]) | set(defaulted)
    assert len(facilities) > 0.9 * sum(running.isin(customers["customer_id"]))


def test_sample_bank_realised_reconciles(sample_bank) -> None:
    con, as_of = sample_bank, DEFAULT_AS_OF
    realised = by_customer(realised_contribution(con, as_of))
    rows = con.sql(
        "SELECT f.customer_id, p.due_date, p.interest, f.rate_type, f.rate, f.spread_bp, "
        "f.origination_date, f.maturity_date FROM repayments p JOIN facilities f "
        "USING (facility_id) WHERE p.paid_date > DATE '2024-06-30' "
        "AND p.paid_date <= DATE '2025-06-30'"
    ).df()
    # interest: to the fen, per customer and in total
    interest = rows.groupby("customer_id")["interest"].sum()
    interest = interest.reindex(realised.index, fill_value=0.0)
    assert np.abs(realised["interest_income"] - interest).max() < 0.005
    assert abs(realised["interest_income"].sum() - rows["interest"].sum()) < 0.005

    # funding, recomputed with numpy: the curve published last on or before the due date
    # (the sample's curves all start before the window), linear in the tenor, flat outside
    market = con.sql("SELECT * FROM market").df()
    lpr = market[market["curve"] == "lpr"].pivot(index="date", columns="tenor", values="rate")
    ftp = market[market["curve"] == "ftp"].pivot(index="date", columns="tenor", values="rate")
    tenors = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12, "3Y": 36, "5Y": 60, "10Y": 120}
    ftp = ftp[list(tenors)]
    due = rows["due_date"].to_numpy("datetime64[D]")
    fixed = (rows["rate_type"] == "fixed").to_numpy()
    # fixed-rate FTP is locked at origination (the first curve stands in before the history)
    ftp_day = np.where(fixed, rows["origination_date"].to_numpy("datetime64[D]"), due)
    lpr_row = np.searchsorted(lpr.index.to_numpy("datetime64[D]"), due, side="right") - 1
    ftp_row = np.searchsorted(ftp.index.to_numpy("datetime64[D]"), ftp_day, side="right") - 1
    ftp_row = np.maximum(ftp_row, 0)
    assert (lpr_row >= 0).all()
    lpr_now = np.where(
        rows["rate_type"] == "lpr_5y", lpr["5Y"].to_numpy()[lpr_row], lpr["1Y"].to_numpy()[lpr_row]
    )
    loan_rate = np.where(fixed, rows["rate"], lpr_now + rows["spread_bp"].fillna(0) / 1e4)
    days = (rows["maturity_date"] - rows["origination_date"]).dt.days.to_numpy()
    term = np.where(fixed, np.maximum(np.round(days / MONTH), 1), 12.0)
    grid = np.array(list(tenors.values()), dtype=float)
    curve_ftp = np.array(
        [np.interp(t, grid, ftp.to_numpy()[k]) for t, k in zip(term, ftp_row, strict=True)]
    )
    safe_rate = np.where(loan_rate > 0, loan_rate, 1.0)
    funding = np.where(loan_rate > 0, -rows["interest"] * curve_ftp / safe_rate, 0.0)
    expected = pd.Series(funding).groupby(rows["customer_id"]).sum()
    expected = expected.reindex(realised.index, fill_value=0.0)
    assert np.abs(realised["funding_cost"] - expected).max() < 1e-6 * max(
        1.0, float(np.abs(expected).max())
    )
    # FTP sits below the loan rate: funding eats part of the interest, never all of it
    share = -realised["funding_cost"].sum() / realised["interest_income"].sum()
    assert 0.2 < share < 1.0

    # the total is the sum of its parts; costs are negative
    parts = realised[list(REALISED_COMPONENTS)].sum(axis=1)
    assert np.abs(realised["realised"] - parts).max() < 1e-6
    assert (realised["funding_cost"] <= 0).all() and (realised["write_offs"] <= 0).all()
    assert (realised["write_offs"] < 0).any() and (realised["deposit_value"] != 0).any()
