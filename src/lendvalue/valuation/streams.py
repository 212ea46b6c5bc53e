"""The customer-level streams beside the facilities: deposits, fee income from the
repeat-transaction models, retention spend and acquisition cost — monthly, expected, by customer
(customers × months, in blocks of customers).

- **Deposits**: the balance today :math:`D_0` runs off at ``runoff_annual`` while the
  relationship lasts and the customer is not in default, :math:`D_m = D_0 (1 - \\rho)^{m/12}`;
  each month it earns the deposit FTP (at the assumed tenor, today's curve) over the rate the
  bank pays: :math:`\\text{deposit value}_m = S(m-1) (1 - PD(m-1)) D_{m-1}
  (\\mathrm{FTP}^{dep} - r^{dep}) / 12`, and costs ``opex_bp_annual`` of the balance.
- **Fees**: the expected fee margin of each month, e.g. from
  :func:`fee_margins` (BG/NBD expected transactions × Gamma-Gamma average margin). It is *not*
  weighted by the relationship's survival: the repeat-transaction model has its own dropout,
  and weighting by both would count attrition twice.
- **Retention spend**: ``retention_cost_annual_yuan`` of the customer's size class, a twelfth a
  month while the relationship lasts and the customer is not in default.
- **Acquisition cost**: for a prospect (not yet a customer), its ``acquisition_cost`` once, today
  (undiscounted).

All are pre-tax; the customer's tax is levied on their sum with the facilities' profit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lendvalue.errors import DataContractError
from lendvalue.valuation.curves import day_number
from lendvalue.valuation.customer_curves import Curves

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BLOCK_CUSTOMERS = 8192


@dataclass(frozen=True)
class CustomerStreams:
    """Inputs per customer (row ``i`` of the customer arrays)."""

    deposit_balance: Array
    deposit_rate: Array
    deposit_ftp: Array
    """The deposit FTP rate crediting the balance (today's curve at the assumed tenor)."""
    retention_cost_annual: Array
    acquisition_cost: Array
    """0 for existing customers."""
    fee_margin: Array | None = None
    """Expected fee margin by month (customers × months 1 … H), yuan; None: no fee stream."""


def stream_values(
    streams: CustomerStreams,
    survival: Curves,
    pd_curves: Curves,
    *,
    horizon_months: int,
    discount_rate_annual: float,
    runoff_annual: float,
    deposit_opex_bp_annual: float,
    monthly: bool = False,
) -> tuple[dict[str, Array], dict[str, Array] | None]:
    """Present values per customer — ``deposit_value``, ``deposit_opex``, ``fee_income``,
    ``retention_cost``, ``acquisition_cost`` (signed, pre-tax) — plus their first-12-month sums
    (``*_12m``); with ``monthly`` the monthly amounts too."""
    n = streams.deposit_balance.shape[0]
    h = horizon_months
    names = ("deposit_value", "deposit_opex", "fee_income", "retention_cost")
    pv = {k: np.zeros(n) for k in names}
    first = {f"{k}_12m": np.zeros(n) for k in names}
    months = {k: np.zeros((n, h)) for k in names} if monthly else None
    discount = (1.0 + discount_rate_annual) ** (-np.arange(1, h + 1) / 12.0)
    runoff = (1.0 - runoff_annual) ** (np.arange(h) / 12.0)
    for start in range(0, n if h else 0, BLOCK_CUSTOMERS):
        rows = np.arange(start, min(start + BLOCK_CUSTOMERS, n))
        # the relationship alive and the customer not in default at the start of the month
        alive = survival.block(rows, h)[:, :-1] * (1.0 - pd_curves.block(rows, h)[:, :-1])
        balance = alive * streams.deposit_balance[rows, None] * runoff[None, :]
        spread = (streams.deposit_ftp[rows] - streams.deposit_rate[rows])[:, None]
        flows = {
            "deposit_value": balance * spread / 12.0,
            "deposit_opex": -balance * deposit_opex_bp_annual / 1.2e5,
            "fee_income": (np.zeros_like(alive) if streams.fee_margin is None
                           else streams.fee_margin[rows, :h]),
            "retention_cost": -alive * streams.retention_cost_annual[rows, None] / 12.0,
        }  # fmt: skip
        for k, v in flows.items():
            pv[k][rows] = v @ discount
            first[f"{k}_12m"][rows] = v[:, :12].sum(axis=1)
            if months is not None:
                months[k][rows] = v
    pv["acquisition_cost"] = -streams.acquisition_cost.astype(np.float64)
    return {**pv, **first}, months


def customer_streams(
    customers: Any,
    deposits: Any,
    *,
    as_of: Any,
    market: Any,
    assumptions: Any,
    fee_margin: Array | None = None,
) -> CustomerStreams:
    """The streams of ``customers`` (rows ``customer_id, size_class`` and, for prospects,
    ``acquisition_cost``) from ``deposits`` (``customer_id, balance_yuan, rate``, e.g.
    :func:`lendvalue.warehouse.valuation_inputs.deposit_positions`; missing customers hold
    none), crediting deposits at the deposit FTP curve on ``as_of`` at the assumptions'
    ``deposits.ftp_tenor_months`` and charging each size class its
    ``retention_cost_annual_yuan``."""
    import pandas as pd

    ids = customers["customer_id"]
    dep = deposits.set_index("customer_id") if len(deposits) else pd.DataFrame(
        columns=["balance_yuan", "rate"])  # fmt: skip
    balance = ids.map(dep["balance_yuan"]).fillna(0.0).to_numpy(np.float64)
    rate = ids.map(dep["rate"]).fillna(0.0).to_numpy(np.float64)
    ftp = float(market.deposit_ftp_on(day_number(as_of), assumptions.deposits.ftp_tenor_months))
    retention = customers["size_class"].map(assumptions.retention_cost_annual_yuan)
    if retention.isna().any():
        raise DataContractError("customers need a size_class of the contract to cost retention")
    acquisition = (customers["acquisition_cost"].fillna(0.0).to_numpy(np.float64)
                   if "acquisition_cost" in customers.columns else np.zeros(len(ids)))  # fmt: skip
    return CustomerStreams(
        deposit_balance=balance, deposit_rate=rate, deposit_ftp=np.full(len(ids), ftp),
        retention_cost_annual=retention.to_numpy(np.float64), acquisition_cost=acquisition,
        fee_margin=fee_margin,
    )  # fmt: skip


def expected_fee_margins(
    transaction_model: Any,
    summary: Any,
    margin_per_transaction: npt.ArrayLike,
    horizon_months: int,
) -> Array:
    """The monthly fee stream of each customer of ``summary`` (its RFM summary, one row per
    customer) from a fitted repeat-transaction model (BG/NBD, MBG/NBD, Pareto/NBD): the expected
    transactions by each month end, in the model's time unit, through :func:`fee_margins`.
    ``margin_per_transaction`` is a scalar or one value per customer (Gamma-Gamma's
    ``expected_average_spend``, a margin in yuan)."""
    from lendvalue.models.btyd.estimators import PERIODS_PER_YEAR

    per_month = PERIODS_PER_YEAR[transaction_model.time_unit] / 12.0
    horizons = np.arange(horizon_months + 1, dtype=np.float64)[:, None] * per_month
    cumulative = np.asarray(
        transaction_model.conditional_expected_transactions(summary, horizons), dtype=np.float64
    ).T  # customers × months 0 … H
    return fee_margins(cumulative, margin_per_transaction)


def fee_margins(
    expected_transactions: npt.ArrayLike, margin_per_transaction: npt.ArrayLike
) -> Array:
    """Expected fee margin by month from cumulative expected transactions.

    ``expected_transactions`` is customers × months 0 … H of :math:`E[X(t_m)]` (e.g. a BG/NBD
    model's ``conditional_expected_transactions`` at each month end, in the model's time unit;
    column 0 is 0); the month's margin is the increment × the expected margin per transaction
    (a scalar or one per customer, e.g. Gamma-Gamma's ``expected_average_spend``)."""
    cumulative = np.asarray(expected_transactions, dtype=np.float64)
    per = np.asarray(margin_per_transaction, dtype=np.float64)
    per = per[:, None] if per.ndim == 1 else per
    return np.asarray(np.diff(cumulative, axis=1) * per, dtype=np.float64)
