"""Customer CLV: every facility's value and the customer's own streams, summed per customer, with
each component kept so a row reconciles to the fen, the split into current and potential value,
RAROC, EVA and an uncertainty band.

.. math::

    CLV_i = \\underbrace{II + FC + FI + DV + EL + OC + RC + AC}_{\\text{pre-tax profit}}
            + TAX + CC

with signed present values (costs negative): interest income, funding cost (FTP), fee income
(facility fees and the fee stream), deposit value (deposit FTP over the rate paid), expected
loss, operating cost (facilities and deposits), retention cost, acquisition cost, tax at the
tax rate on the pre-tax profit, and the capital charge.

- **Current value (当前价值)**: the running contracts to their maturity and the deposits
  (after tax and capital); **potential value (潜在价值)**: renewals, the fee stream, retention and
  acquisition — what depends on future decisions. Current + potential = CLV. The realised
  contribution of the last 12 months (历史贡献) comes from the warehouse and sits beside them.
- **RAROC**: the PV of risk-adjusted profit after tax (facilities plus the customer's streams
  and the return the capital earns) over the PV of capital, annualised; **EVA (12 months)**:
  the first year's economic profit, undiscounted.
- **Band**: the 10th and 90th percentiles of the CLV over scenarios drawn from the models'
  parameter uncertainty (:class:`Scenario`): each scenario replaces the survival curves, the PD
  curves (and with them the capital requirement) or the fee stream and revalues everything.
  The band is widened, where needed, to contain the estimate itself: with few draws the
  estimate can fall outside the sample quantiles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.tables import TableSource
from lendvalue.valuation.assumptions import Assumptions
from lendvalue.valuation.book import FacilityBook, facility_book, with_pd
from lendvalue.valuation.curves import MarketCurves
from lendvalue.valuation.customer_curves import Curves
from lendvalue.valuation.engine import FacilityValues, project_cash_flows
from lendvalue.valuation.streams import CustomerStreams, stream_values

Array = npt.NDArray[np.float64]

CLV_COMPONENTS = ("interest_income", "funding_cost", "fee_income", "deposit_value",
                  "expected_loss", "operating_cost", "retention_cost", "acquisition_cost",
                  "tax", "capital_charge")  # fmt: skip
"""The customer table's signed components; their sum is ``clv``."""


@dataclass(frozen=True)
class ValuationInputs:
    """Everything a valuation reads besides the facilities and the assumptions, by customer row
    (``customers`` in order: its ``customer_id`` must be unique)."""

    as_of: dt.date
    market: MarketCurves
    customers: pd.DataFrame
    pd_1y: Array
    survival: Curves
    pd_curves: Curves
    streams: CustomerStreams
    realised_12m: pd.Series | None = None
    """The last 12 months' realised contribution by ``customer_id`` (customers it lacks: 0)."""
    ccf_table: TableSource = None
    lgd_table: TableSource = None
    custom_schedules: pd.DataFrame | None = None

    @property
    def customer_rows(self) -> pd.Series:
        ids = self.customers["customer_id"]
        if not ids.is_unique:
            raise DataContractError("ValuationInputs: customer_id must be unique")
        return pd.Series(np.arange(len(ids)), index=ids.to_numpy())


@dataclass(frozen=True)
class Scenario:
    """One draw of the models' uncertain inputs; ``None`` keeps the base case's."""

    survival: Curves | None = None
    pd_curves: Curves | None = None
    pd_1y: Array | None = None
    fee_margin: Array | None = None


def facility_values(
    facilities: pd.DataFrame | FacilityBook,
    assumptions: Assumptions,
    inputs: ValuationInputs,
    *,
    monthly: bool = False,
) -> tuple[FacilityBook, FacilityValues]:
    """The book of ``facilities`` (built when a frame is given) and its values."""
    market = _market(inputs, assumptions)
    book = facilities if isinstance(facilities, FacilityBook) else facility_book(
        facilities, inputs.customer_rows, inputs.as_of, market, assumptions,
        inputs.pd_1y, ccf_table=inputs.ccf_table, lgd_table=inputs.lgd_table,
        custom_schedules=inputs.custom_schedules,
    )  # fmt: skip
    values = project_cash_flows(
        book, assumptions, market, inputs.as_of, inputs.survival, inputs.pd_curves,
        monthly=monthly,
    )  # fmt: skip
    return book, values


def _market(inputs: ValuationInputs, assumptions: Assumptions) -> MarketCurves:
    """The market curves with the assumptions' LPR scenario, if any."""
    return inputs.market.with_scenario((f.date, f.tenor, f.rate) for f in assumptions.lpr_scenario)


def customer_value(
    facilities: pd.DataFrame | FacilityBook,
    assumptions: Assumptions,
    inputs: ValuationInputs,
    *,
    scenarios: Sequence[Scenario] = (),
    band: tuple[float, float] = (0.1, 0.9),
) -> pd.DataFrame:
    """One row per customer of ``inputs.customers``: the signed components
    (:data:`CLV_COMPONENTS`), ``clv``, ``net_interest_income`` (interest + funding, shown not
    added), ``current_value``, ``potential_value``, ``realised_12m`` (when given), ``capital_pv``,
    ``raroc``, ``eva_12m`` and, with ``scenarios``, ``clv_low`` and ``clv_high`` (the ``band``
    quantiles of the CLV over them)."""
    book, values = facility_values(facilities, assumptions, inputs)
    table = _customer_table(book, values, assumptions, inputs, inputs.streams)
    if scenarios:
        draws = np.column_stack([
            _scenario_clv(book, assumptions, inputs, s) for s in scenarios
        ])  # fmt: skip
        low, high = np.quantile(draws, band, axis=1)
        table["clv_low"] = np.minimum(low, table["clv"].to_numpy())
        table["clv_high"] = np.maximum(high, table["clv"].to_numpy())
    return table


def _scenario_clv(
    book: FacilityBook, assumptions: Assumptions, inputs: ValuationInputs, s: Scenario
) -> Array:
    streams = inputs.streams
    if s.fee_margin is not None:
        streams = replace(streams, fee_margin=s.fee_margin)
    pd_curves = s.pd_curves or inputs.pd_curves
    pd_1y = s.pd_1y
    if pd_1y is None and s.pd_curves is not None:  # the level the curves imply, for capital
        rows = np.arange(len(inputs.customers), dtype=np.int64)
        pd_1y = pd_curves.block(rows, 12)[:, 12]
    if pd_1y is not None:
        book = with_pd(book, pd_1y, pd_floor=assumptions.pd_floor)
    changed = replace(inputs, survival=s.survival or inputs.survival, pd_curves=pd_curves,
                      pd_1y=inputs.pd_1y if pd_1y is None else pd_1y, streams=streams)  # fmt: skip
    values = project_cash_flows(book, assumptions, _market(changed, assumptions),
                                changed.as_of, changed.survival, changed.pd_curves)  # fmt: skip
    return _customer_table(book, values, assumptions, changed, streams)["clv"].to_numpy()


def _customer_table(
    book: FacilityBook,
    values: FacilityValues,
    assumptions: Assumptions,
    inputs: ValuationInputs,
    streams: CustomerStreams,
) -> pd.DataFrame:
    n = len(inputs.customers)
    fac = values.table

    def per_customer(column: str) -> Array:
        return np.bincount(book.customer, weights=fac[column].to_numpy(np.float64), minlength=n
                           ).astype(np.float64)  # fmt: skip

    own, _ = stream_values(
        streams, inputs.survival, inputs.pd_curves, horizon_months=assumptions.horizon_months,
        discount_rate_annual=assumptions.discount_rate_annual,
        runoff_annual=assumptions.deposits.runoff_annual,
        deposit_opex_bp_annual=assumptions.deposits.opex_bp_annual,
    )  # fmt: skip
    t = assumptions.tax_rate
    out = pd.DataFrame({"customer_id": inputs.customers["customer_id"].to_numpy()})
    out["interest_income"] = per_customer("interest_income")
    out["funding_cost"] = per_customer("funding_cost")
    out["fee_income"] = per_customer("fee_income") + own["fee_income"]
    out["deposit_value"] = own["deposit_value"]
    out["expected_loss"] = per_customer("expected_loss")
    out["operating_cost"] = per_customer("operating_cost") + own["deposit_opex"]
    out["retention_cost"] = own["retention_cost"]
    out["acquisition_cost"] = own["acquisition_cost"]
    customer_pretax = (own["fee_income"] + own["deposit_value"] + own["deposit_opex"]
                       + own["retention_cost"] + own["acquisition_cost"])  # fmt: skip
    out["tax"] = per_customer("tax") - t * customer_pretax
    out["capital_charge"] = per_customer("capital_charge")
    out["clv"] = out[list(CLV_COMPONENTS)].sum(axis=1, skipna=False)
    out["net_interest_income"] = out["interest_income"] + out["funding_cost"]
    deposits_after_tax = (own["deposit_value"] + own["deposit_opex"]) * (1 - t)
    out["current_value"] = per_customer("current_value") + deposits_after_tax
    out["potential_value"] = out["clv"] - out["current_value"]
    if inputs.realised_12m is not None:
        realised = inputs.realised_12m
        if not isinstance(realised, pd.Series):
            raise DataContractError("realised_12m must be a Series indexed by customer_id")
        out["realised_12m"] = out["customer_id"].map(realised).fillna(0.0).to_numpy(np.float64)
    capital = per_customer("capital_pv")
    rapat = per_customer("rapat_pv") + customer_pretax * (1 - t)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["raroc"] = np.where(capital > 0, rapat / capital, np.nan)
    out["capital_pv"] = capital
    first_year = sum(own[f"{k}_12m"] for k in ("fee_income", "deposit_value", "deposit_opex",
                                               "retention_cost"))  # fmt: skip
    out["eva_12m"] = per_customer("eva_12m") + (first_year + own["acquisition_cost"]) * (1 - t)
    return out
