"""A loan application, end to end from the warehouse: the customer's profile, the price, the
limit and the decision — what ``lendvalue price`` prints.

- **PD**: the representative PD of the customer's latest grade on the master scale (the CLV
  table's scorecard PD is the pipeline's; a single quote uses the rating the credit officer
  sees), over the facility's life at a constant hazard. An unrated customer cannot be priced.
- **Segment**: from the latest CLV table snapshot when one exists; otherwise the risk tier from
  the grade, PD and 五级分类 and the middle value tier (核心), said so in the result.
- **Relationship value**: the customer's CLV in that snapshot less its deposits' value (0
  without one): the relationship discount never depends on deposits (存贷挂钩); the deposit and
  fee contribution is shown on the quote for information.
- **Limit**: :func:`lendvalue.strategy.limits.credit_limit` on the latest statement and the
  running exposures, times the segment's limit multiplier, capped by the large-exposure rules
  at the bank's capital.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from lendvalue.errors import DataContractError, InfeasibleError
from lendvalue.models.credit.master_scale import load_master_scale
from lendvalue.segmentation import risk_tier, segment
from lendvalue.strategy.decisions import Decision, decide
from lendvalue.strategy.limits import credit_limits_where_assessable
from lendvalue.strategy.policy import Policy, load_policy
from lendvalue.strategy.pricing import CustomerProfile, PricingRequest, Quote, quote
from lendvalue.tables import TableSource
from lendvalue.valuation.assumptions import Assumptions, load_assumptions
from lendvalue.valuation.curves import MarketCurves
from lendvalue.warehouse.strategy_inputs import customer_profiles, limit_inputs


@dataclass(frozen=True)
class ApplicationResult:
    decision: Decision
    quote: Quote | None
    """None when the customer cannot be priced (in default, or no spread reaches the hurdle)."""
    limit: pd.Series
    """The :func:`credit_limit` row: every candidate amount, ``limit_yuan``, ``binding``."""
    grade: str
    pd_1y: float
    classification: str
    segment: str
    segment_source: str
    """``clv_table`` (the latest snapshot) or ``risk_only`` (no snapshot: middle value tier)."""


def evaluate_application(
    con: duckdb.DuckDBPyConnection,
    *,
    customer_id: str,
    product: str,
    amount_yuan: float,
    tenor_months: int,
    as_of: dt.date,
    collateral_type: str = "unsecured",
    bank_capital: Any = None,
    assumptions: Assumptions | None = None,
    policy: Policy | None = None,
    limits_table: TableSource = None,
) -> ApplicationResult:
    """Price, limit and decide one application (module notes)."""
    a = assumptions or load_assumptions()
    pol = policy or load_policy()
    profiles = customer_profiles(con, as_of).set_index("customer_id")
    if customer_id not in profiles.index:
        raise DataContractError(f"customer {customer_id!r} is not in the warehouse")
    row = profiles.loc[customer_id]
    grade = row["grade"]
    if pd.isna(grade):
        raise DataContractError(f"customer {customer_id} has no rating on {as_of}: rate it first")
    scale = load_master_scale()
    pd_1y = float(scale.pd_of_grade([grade])[0])
    classification = str(row["classification"])
    if pd.notna(row["segment"]):
        cell, source = str(row["segment"]), "clv_table"
    else:
        tier, _ = risk_tier([grade], [pd_1y], [classification])
        cell, source = str(segment(["mid"], tier)[0]), "risk_only"
    # the relationship's value without its deposits funds the discount: no price depends on
    # deposits (存贷挂钩); deposits and fees are shown on the quote, never required
    deposits = float(row["deposit_value"]) if pd.notna(row["deposit_value"]) else 0.0
    fees = float(row["fee_income"]) if pd.notna(row["fee_income"]) else 0.0
    other_value = (float(row["clv"]) - deposits * (1 - a.tax_rate)) if pd.notna(row["clv"]) \
        else 0.0  # fmt: skip
    market = MarketCurves.from_frame(con.execute("SELECT * FROM market").df())
    q: Quote | None = None
    unpriced = ""
    if pd_1y < 1.0:
        try:
            q = quote(
                PricingRequest(product, amount_yuan, tenor_months, collateral_type),
                CustomerProfile(customer_id, pd_1y, cell, other_value_yuan=other_value,
                                deposit_value_yuan=deposits, fee_value_yuan=fees),
                as_of=as_of, assumptions=a, market=market, policy=pol,
            )  # fmt: skip
        except InfeasibleError as exc:
            unpriced = str(exc)
    inputs = limit_inputs(con, as_of).set_index("customer_id").loc[[customer_id]].reset_index()
    inputs["product"] = product
    inputs["requested_yuan"] = float(amount_yuan)
    inputs["limit_multiplier"] = pol.cell(cell).limit_multiplier
    limit = credit_limits_where_assessable(inputs, bank_capital=bank_capital,
                                           table=limits_table).iloc[0]  # fmt: skip
    decision = decide(
        requested_yuan=float(amount_yuan), limit_yuan=float(limit["limit_yuan"]),
        limit_binding=str(limit["binding_zh"]), grade=str(grade), pd_1y=pd_1y,
        classification=classification, segment=cell, policy=pol, quote=q, unpriced=unpriced,
    )  # fmt: skip
    return ApplicationResult(
        decision=decision, quote=q, limit=limit, grade=str(grade), pd_1y=pd_1y,
        classification=classification, segment=cell, segment_source=source,
    )  # fmt: skip
