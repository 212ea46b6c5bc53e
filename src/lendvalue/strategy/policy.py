"""The segment policy: what the bank does in each cell of the value × risk matrix, and the
rules of pricing and decisions — one versioned YAML file, in Chinese and English, validated by
pydantic (``defaults/policy.yaml``; a bank passes its own with ``load_policy(path)``).

Per cell (``high_value_low_risk`` … ``low_value_high_risk``): the action, a pricing adjustment
in bp added to the hurdle price, a limit multiplier on the need- and capacity-based limit, the
collateral required, the service level and the review frequency. Then:

- ``pricing``: the price step (quotes are rounded *up* to it, so the rounded price never falls
  below the hurdle), the hurdle RAROC (default: the assumptions' cost of capital), and the
  relationship adjustment — at most ``max_discount_bp``, at most the share
  ``share_of_other_value`` of the customer's other value spent on it, never below break-even —
  which rewards the value the relationship already brings and never asks for more: a quote is
  never conditional on deposits or other products (七不准: 以贷转存、存贷挂钩、借贷搭售).
- ``decision``: when an application is declined or referred to a credit committee.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lendvalue.contract import CLASSIFICATIONS
from lendvalue.segmentation import SEGMENT_CODES
from lendvalue.tables import TableSource, exact_keys, load_table

CLASS_CODES = tuple(c.code for c in CLASSIFICATIONS)


class CellPolicy(BaseModel):
    """What the bank does with the customers of one cell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    action_zh: str = Field(min_length=1)
    action_en: str = Field(min_length=1)
    pricing_adjustment_bp: float = Field(ge=-200, le=500)
    limit_multiplier: float = Field(ge=0.0, le=3.0)
    collateral_zh: str = Field(min_length=1)
    collateral_en: str = Field(min_length=1)
    service_level_zh: str = Field(min_length=1)
    service_level_en: str = Field(min_length=1)
    review_months: int = Field(ge=1, le=24)


class RelationshipPricing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_discount_bp: float = Field(ge=0.0, le=200.0)
    share_of_other_value: float = Field(ge=0.0, le=1.0)


class PricingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step_bp: float = Field(gt=0.0, le=50.0)
    hurdle_raroc: float | None = Field(default=None, ge=0.0, le=1.0)
    """None: the assumptions' ``cost_of_capital_annual``."""
    relationship: RelationshipPricing


class DecisionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decline_pd: float = Field(gt=0.0, le=1.0)
    refer_pd: float = Field(gt=0.0, le=1.0)
    decline_classifications: tuple[Literal["normal", "special_mention", "substandard",
                                           "doubtful", "loss"], ...]  # fmt: skip
    refer_classifications: tuple[Literal["normal", "special_mention", "substandard",
                                         "doubtful", "loss"], ...]  # fmt: skip
    over_limit_refer_share: float = Field(ge=0.0, le=1.0)
    """A request up to this share above the limit is referred; above it, declined."""
    refer_segments: tuple[str, ...] = ()
    """Cells whose applications always go to the credit committee (e.g. the exit cell)."""

    @field_validator("refer_segments")
    @classmethod
    def _known_segments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in SEGMENT_CODES]
        if unknown:
            raise ValueError(
                f"unknown segments {unknown}; the cells are {', '.join(SEGMENT_CODES)}"
            )
        return value


class Policy(BaseModel):
    """The whole policy file (module notes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    name: str = Field(min_length=1)
    cells: dict[str, CellPolicy]
    pricing: PricingPolicy
    decision: DecisionPolicy

    @field_validator("cells")
    @classmethod
    def _every_cell(cls, value: dict[str, CellPolicy]) -> dict[str, CellPolicy]:
        exact_keys(value, SEGMENT_CODES, "nine cells")
        return value

    def cell(self, segment: str) -> CellPolicy:
        """The policy of ``segment`` (a :data:`SEGMENT_CODES` code)."""
        try:
            return self.cells[segment]
        except KeyError:
            from lendvalue.errors import DataContractError

            raise DataContractError(
                f"unknown segment {segment!r}; the cells are {', '.join(SEGMENT_CODES)}"
            ) from None


def load_policy(source: TableSource = None) -> Policy:
    """The packaged default policy (``source=None``), a YAML path, a mapping or a
    :class:`Policy`; problems raise :class:`~lendvalue.errors.ConfigError` naming the field."""
    return load_table(Policy, source, "policy.yaml", package="lendvalue.strategy")
