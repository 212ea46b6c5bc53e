"""Exposure at default from drawn balances, limits and credit conversion factors (CCF) by
product.

.. math:: EAD = CCF^{drawn}_{p} \\, D + [\\text{committed}_p] \\, CCF^{undrawn}_{p} \\max(L - D, 0)

with ``D`` the drawn balance (用信余额) and ``L`` the limit (授信额度) of the data contract's
``facilities`` table, and per product ``p`` (BCBS CRE20.93–20.101 standardised; CRE32
foundation IRB: "the committed but undrawn amount multiplied by a CCF"; 《商业银行资本管理办法》
(2023) 表外项目信用转换系数):

- ``drawn_ccf`` — what the drawn balance is. For loans (``term_loan``, ``working_capital``,
  ``revolver``, ``project_finance``, funded ``trade_finance`` such as 押汇 and 打包贷款) it is
  money lent: 100%. For ``guarantee`` (保函) and ``acceptance`` (银行承兑汇票) the 用信余额 is the
  face amount outstanding, an off-balance-sheet item converted by its CCF: 50% for
  non-financing guarantees, 100% for acceptances (a direct credit substitute).
- ``undrawn_is_commitment`` and ``undrawn_ccf`` — whether ``L − D`` is an amount the bank is
  still committed to lend, and its CCF (commitments 40%; 10% when unconditionally
  cancellable). Only then does the undrawn part count: for an amortising term loan whose limit
  is the original principal, ``L − D`` is principal already repaid, which cannot be redrawn
  and is no exposure (CRE20.93 applies CCFs to *commitments*). Revolvers are committed by
  default; a term or project loan still in its drawdown period is too, and a bank marks such
  products (or passes its own table).

Cash margin (保证金) held against guarantees and acceptances is collateral and lowers the LGD
(collateral ``deposit``), not the EAD.

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
from lendvalue.tables import (
    FloatOrArray,
    TableSource,
    as_float_array,
    check_range,
    exact_keys,
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
    """The CCFs of one product under one approach, with the item they stand for and their
    source (module notes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drawn_ccf: float = Field(ge=0.0, le=1.0)
    undrawn_is_commitment: bool
    undrawn_ccf: float = Field(ge=0.0, le=1.0)
    item_zh: str = Field(min_length=1)
    source: str = Field(min_length=1)


def _exact_products(value: dict[str, CCFEntry]) -> dict[str, CCFEntry]:
    exact_keys(value, PRODUCT_CODES, "data contract's product codes")
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

    def column(self, approach: str) -> dict[str, CCFEntry]:
        """The entries of ``approach`` (``standardised`` or ``firb``) by product."""
        column: dict[str, CCFEntry] = getattr(self, _check_approach(approach))
        return column


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
    part: str = "drawn",
) -> FloatOrArray:
    """CCF of each product code under ``approach``, for its ``drawn`` balance or its
    ``undrawn`` part (0 where the undrawn part is no commitment).

    Source: the table's entries (BCBS CRE20.93–20.101; CRE32 foundation IRB;
    《商业银行资本管理办法》(2023) 表外项目信用转换系数).

    Raises
    ------
    DataContractError
        For an unknown product code (the message names it and lists the valid codes), an
        unknown approach or part.
    """
    column = load_ccf_table(table).column(approach)
    if part not in ("drawn", "undrawn"):
        raise DataContractError(f"part must be 'drawn' or 'undrawn', got {part!r}")
    values = {
        k: e.drawn_ccf if part == "drawn" else e.undrawn_ccf * e.undrawn_is_commitment
        for k, e in column.items()
    }
    codes = np.asarray(product, dtype=object)
    return scalar_or_array(lookup_codes("product", codes, values), product)


def exposure_at_default(
    drawn_yuan: npt.ArrayLike,
    limit_yuan: npt.ArrayLike,
    product: str | npt.ArrayLike,
    table: TableSource = None,
    *,
    approach: str = "standardised",
) -> FloatOrArray:
    """Exposure at default: the credit equivalent of the drawn balance plus that of the
    committed undrawn part (module notes).

    .. math:: EAD = CCF^{drawn} D + [\\text{committed}] \\, CCF^{undrawn} \\max(L - D, 0)

    Source: BCBS CRE20.93 (off-balance-sheet items × CCF), CRE32 foundation IRB (committed
    but undrawn amount × CCF); 《商业银行资本管理办法》(2023) 表外项目.

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
        EAD in the currency of the inputs; at most ``max(drawn, limit)``.

    Raises
    ------
    DataContractError
        Negative or non-finite amounts, drawn above limit, unknown product or approach.
    """
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
    on_drawn = credit_conversion_factor(codes, table, approach=approach, part="drawn")
    on_undrawn = credit_conversion_factor(codes, table, approach=approach, part="undrawn")
    out = on_drawn * drawn + on_undrawn * np.maximum(limit - drawn, 0.0)
    return scalar_or_array(np.asarray(out, dtype=np.float64), drawn_yuan, limit_yuan, product)
