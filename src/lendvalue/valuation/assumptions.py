"""The business assumptions of a valuation: one versioned YAML file validated by pydantic.

Every rate is annual and a decimal; money is in yuan; every default is documented, with its
source, in ``defaults/assumptions.yaml`` and ``docs/assumptions.md``. A bank copies the file,
changes what its ALM, finance and risk departments decide, and passes the path:
``load_assumptions("assumptions_2025.yaml")``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lendvalue.contract import PRODUCTS, SIZE_CLASSES
from lendvalue.tables import TableSource, exact_keys, load_table

PRODUCT_CODES: tuple[str, ...] = tuple(p.code for p in PRODUCTS)
SIZE_CODES: tuple[str, ...] = tuple(s.code for s in SIZE_CLASSES)


class ProductAssumptions(BaseModel):
    """What a product earns and costs beyond its contract terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prepayment_cpr_annual: float = Field(ge=0.0, lt=1.0)
    """Constant prepayment rate of amortising and bullet loans (share of the balance a year)."""
    renewal_probability: float = Field(ge=0.0, le=1.0)
    """Chance that the facility is renewed at maturity for another original term, given that
    the relationship is still there (that chance comes from the retention model)."""
    opex_month_yuan: float = Field(ge=0.0)
    """Operating cost of servicing one facility for a month (yuan)."""
    opex_bp_annual: float = Field(ge=0.0)
    """Operating cost in bp of the balance (or face amount) a year."""
    utilisation: float | None = Field(default=None, ge=0.0, le=1.0)
    """Expected drawn share of a revolving limit; ``None``: the facility's current share."""


class DepositAssumptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    runoff_annual: float = Field(ge=0.0, lt=1.0)
    """Share of the balance that leaves each year while the relationship lasts."""
    ftp_tenor_months: int = Field(ge=1, le=360)
    """Tenor of the deposit FTP curve that credits the balance (its behavioural duration)."""
    opex_bp_annual: float = Field(ge=0.0)


class LprFixing(BaseModel):
    """A future LPR fixing of a rate scenario: in force from ``date``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    tenor: Literal["1Y", "5Y"]
    rate: float = Field(ge=-0.05, le=0.5)


class Assumptions(BaseModel):
    """All business assumptions of :func:`lendvalue.valuation.customer_value` (module notes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    name: str = Field(min_length=1)
    horizon_months: int = Field(ge=0, le=600)
    discount_rate_annual: float = Field(gt=-1.0, le=1.0)
    tax_rate: float = Field(ge=0.0, lt=1.0)
    cost_of_capital_annual: float = Field(ge=0.0, le=1.0)
    """The hurdle rate: what shareholders require on the capital a facility ties up."""
    capital_return_annual: float = Field(ge=0.0, le=1.0)
    """What the capital itself earns while invested (it needs no funding)."""
    capital_multiplier: float = Field(gt=0.0, le=10.0)
    """Capital held = multiplier × IRB K × EAD (1: the IRB minimum; 12.5 × a target ratio of
    RWA holds capital at that ratio)."""
    pd_floor: float = Field(ge=0.0, lt=1.0)
    reset_months: int = Field(ge=1, le=120)
    """Floating loans reprice every this many months from origination (annual: 12)."""
    products: dict[str, ProductAssumptions]
    deposits: DepositAssumptions
    retention_cost_annual_yuan: dict[str, float]
    """Expected retention spend per customer and year, by size class."""
    lpr_scenario: tuple[LprFixing, ...] = ()
    """Future LPR fixings; after the last fixing known (history and scenario) the rate stays."""

    @field_validator("products")
    @classmethod
    def _every_product(cls, value: dict[str, ProductAssumptions]) -> dict[str, ProductAssumptions]:
        exact_keys(value, PRODUCT_CODES, "contract's products")
        return value

    @field_validator("retention_cost_annual_yuan")
    @classmethod
    def _every_size(cls, value: dict[str, float]) -> dict[str, float]:
        exact_keys(value, SIZE_CODES, "size classes")
        if any(v < 0 for v in value.values()):
            raise ValueError("retention costs must be ≥ 0")
        return value

    @model_validator(mode="after")
    def _hurdle_above_capital_return(self) -> Assumptions:
        if self.cost_of_capital_annual < self.capital_return_annual:
            raise ValueError("cost_of_capital_annual must be at least capital_return_annual")
        return self


def load_assumptions(source: TableSource = None) -> Assumptions:
    """The packaged default (``source=None``), a YAML path, a mapping or an
    :class:`Assumptions`; problems raise :class:`~lendvalue.errors.ConfigError` naming the
    field."""
    return load_table(Assumptions, source, "assumptions.yaml", package="lendvalue.valuation")
