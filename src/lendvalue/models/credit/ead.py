"""Exposure at default from drawn balances, limits and credit conversion factors (CCF) by
product.

.. math:: EAD = D + CCF_{\\text{product}} \\times \\max(L - D,\\, 0)

with ``D`` the drawn balance (用信余额) and ``L`` the limit (授信额度) of the data contract's
``facilities`` table. The undrawn part is an off-balance-sheet item converted to a credit
equivalent by its CCF (BCBS CRE20.93–20.101 standardised; CRE32 foundation IRB: "the
committed but undrawn amount multiplied by a CCF"; 《商业银行资本管理办法》(2023) 表外项目信用
转换系数).

Products are exactly the contract's codes: ``term_loan, working_capital, revolver,
project_finance, trade_finance, guarantee, acceptance``.

- Loans (``term_loan``, ``working_capital``, ``revolver``, ``project_finance``): ``D`` is the
  loan outstanding, ``L − D`` the committed but undrawn amount.
- ``trade_finance``: ``D`` is funded trade finance (押汇, 贸易融资款), ``L − D`` the
  contingent part (documentary letters of credit issued, not yet paid).
- ``guarantee`` (保函) and ``acceptance`` (银行承兑汇票): the whole instrument is off-balance
  sheet until the bank pays. ``L`` is the face amount of the guarantees / accepted bills
  outstanding, ``D`` what the bank has already paid out (垫款, now an on-balance-sheet claim
  on the customer), so ``L − D`` is what it may still have to pay. The same formula then
  gives ``EAD = 垫款 + CCF × 未到期敞口``; for acceptances (CCF 100%) EAD = L. Cash margin
  (保证金) held against these is collateral and lowers the LGD (collateral ``deposit``), not
  the EAD.

The CCFs come from a YAML table (``defaults/ccf.yaml``, validated by :class:`CCFTable`) with
one column per approach: ``standardised`` and ``firb``. Under the Basel III final framework the
foundation-IRB CCFs are those of the standardised approach (the Basel II 75% for commitments
is gone), so the default ``firb`` column repeats the standardised one; a bank whose supervisor
keeps other foundation values (e.g. 《商业银行资本管理办法(试行)》2012 初级法: 75% for
commitments) passes its own table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lendvalue.contract import PRODUCTS
from lendvalue.errors import DataContractError
from lendvalue.models.credit._tables import (
    FloatOrArray,
    TableSource,
    as_float_array,
    check_range,
    load_table,
    lookup_codes,
    scalar_or_array,
)

__all__ = [
    "APPROACHES",
    "PRODUCT_CODES",
    "CCFEntry",
    "CCFTable",
    "credit_conversion_factor",
    "exposure_at_default",
    "load_ccf_table",
]

PRODUCT_CODES: tuple[str, ...] = tuple(p.code for p in PRODUCTS)
"""The data contract's product codes (``facilities.product``), in contract order."""
APPROACHES: tuple[str, ...] = ("standardised", "firb")
_DRAWN_TOLERANCE = 1e-9
"""Relative tolerance of the contract rule ``drawn_amount <= limit_amount * (1 + 1e-9)``."""


class CCFEntry(BaseModel):
    """The CCF of one product under one approach, with the item it stands for and its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ccf: float = Field(ge=0.0, le=1.0)
    item_zh: str = Field(min_length=1)
    source: str = Field(min_length=1)


def _exact_products(value: dict[str, CCFEntry]) -> dict[str, CCFEntry]:
    missing = [p for p in PRODUCT_CODES if p not in value]
    extra = [p for p in value if p not in PRODUCT_CODES]
    if missing or extra:
        raise ValueError(
            "must have exactly the data contract's product codes "
            f"{', '.join(PRODUCT_CODES)}; missing {missing}, unknown {extra}"
        )
    return value


class CCFTable(BaseModel):
    """Credit conversion factors by product, one column per approach (``defaults/ccf.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    standardised: dict[str, CCFEntry]
    firb: dict[str, CCFEntry]

    @field_validator("standardised", "firb")
    @classmethod
    def _products(cls, value: dict[str, CCFEntry]) -> dict[str, CCFEntry]:
        return _exact_products(value)

    def ccfs(self, approach: str) -> dict[str, float]:
        """``{product: ccf}`` for ``approach`` (``standardised`` or ``firb``)."""
        column: dict[str, CCFEntry] = getattr(self, _check_approach(approach))
        return {k: v.ccf for k, v in column.items()}


def _check_approach(approach: str) -> str:
    if approach not in APPROACHES:
        raise DataContractError(
            f"approach must be one of {', '.join(APPROACHES)}, got {approach!r}"
        )
    return approach


def load_ccf_table(source: TableSource = None) -> CCFTable:
    """The CCF table: packaged default (``source=None``), a YAML path or a mapping, validated
    by :class:`CCFTable`; problems raise :class:`~lendvalue.errors.ConfigError` naming the
    field (e.g. ``standardised.revolver.ccf``)."""
    return load_table(CCFTable, source, "ccf.yaml")


def credit_conversion_factor(
    product: str | npt.ArrayLike,
    table: TableSource = None,
    *,
    approach: str = "standardised",
) -> FloatOrArray:
    """CCF of each product code under ``approach``.

    Source: the table's entries (BCBS CRE20.93–20.101; CRE32 foundation IRB;
    《商业银行资本管理办法》(2023) 表外项目信用转换系数).

    Raises
    ------
    DataContractError
        For an unknown product code (the message names it and lists the valid codes) or an
        unknown approach.
    """
    _check_approach(approach)
    ccfs = load_ccf_table(table).ccfs(approach)
    codes = np.asarray(product, dtype=object)
    return scalar_or_array(lookup_codes("product", codes, ccfs), product)


def exposure_at_default(
    drawn_yuan: npt.ArrayLike,
    limit_yuan: npt.ArrayLike,
    product: str | npt.ArrayLike,
    table: TableSource = None,
    *,
    approach: str = "standardised",
) -> FloatOrArray:
    """Exposure at default: drawn balance plus the credit equivalent of the undrawn part.

    .. math:: EAD = D + CCF \\times \\max(L - D,\\; 0)

    Source: BCBS CRE20.93 (off-balance-sheet items × CCF), CRE32 foundation IRB (committed
    but undrawn amount × CCF); 《商业银行资本管理办法》(2023) 表外项目. See the module notes
    for what ``D`` and ``L`` mean for guarantees and acceptances.

    Parameters
    ----------
    drawn_yuan, limit_yuan : array_like
        Drawn balance and limit, ≥ 0 and finite; ``drawn ≤ limit × (1 + 1e-9)`` (the
        contract's ``drawn_within_limit`` rule). A drawn balance within that tolerance above
        the limit counts as fully drawn.
    product : str or array_like of str
        Contract product codes, broadcast against the amounts.
    table : optional
        ``None`` for the packaged default, a YAML path, a mapping or a :class:`CCFTable`.
    approach : {"standardised", "firb"}
        Which CCF column to use.

    Returns
    -------
    float or ndarray
        EAD in the currency of the inputs; ``drawn ≤ EAD ≤ max(drawn, limit)``.

    Raises
    ------
    DataContractError
        Negative or non-finite amounts, drawn above limit, unknown product or approach.
    """
    _check_approach(approach)
    ccfs = load_ccf_table(table).ccfs(approach)
    drawn = as_float_array("drawn_yuan", drawn_yuan)
    check_range("drawn_yuan", drawn, 0.0, np.inf)
    limit = as_float_array("limit_yuan", limit_yuan)
    check_range("limit_yuan", limit, 0.0, np.inf)
    codes = np.asarray(product, dtype=object)
    drawn, limit, codes = np.broadcast_arrays(drawn, limit, codes)
    over = drawn > limit * (1.0 + _DRAWN_TOLERANCE)
    if over.any():
        first = tuple(int(i) for i in np.argwhere(over)[0])
        where = "" if not first else f" at {first[0] if len(first) == 1 else first}"
        raise DataContractError(
            f"drawn_yuan exceeds limit_yuan in {int(over.sum())} row(s) (first{where}: "
            f"drawn {drawn[first]:,.2f} > limit {limit[first]:,.2f}); the contract requires "
            "drawn <= limit * (1 + 1e-9). Fix the limit or the balance at ingest."
        )
    ccf = lookup_codes("product", codes, ccfs)
    out = drawn + ccf * np.maximum(limit - drawn, 0.0)
    return scalar_or_array(np.asarray(out, dtype=np.float64), drawn_yuan, limit_yuan, product)
