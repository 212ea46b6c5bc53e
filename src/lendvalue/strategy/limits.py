"""Credit limits: the working-capital need, the debt capacity the balance sheet and the cash
flow allow, the regulatory large-exposure headroom, and the limit that the tightest of them sets.

Working-capital need — 《流动资金贷款管理暂行办法》(银监会令 2010 年第 1 号) 附件《流动资金贷款
需求量的测算参考》, carried into 《流动资金贷款管理办法》(国家金融监督管理总局, 2024, in force
1 July 2024; that the 2024 annex keeps the formula unchanged was not checked against the text):

.. math::

    W &= S_0\\,(1 - m)\\,(1 + g) / n, \\qquad
    n = \\frac{360}{D_{inv} + D_{rec} - D_{pay} + D_{pre} - D_{adv}} \\\\
    \\Delta L &= \\max(W - F_{own} - L_{wc} - F_{other},\\; 0)

with :math:`S_0` last year's sales (营业收入), :math:`m` the profit margin (销售利润率),
:math:`g` the expected sales growth, :math:`n` the working-capital turnover (营运资金周转次数)
from the inventory, receivable, payable, prepayment and advance-receipt days, :math:`F_{own}`
the borrower's own funds (自有资金), :math:`L_{wc}` its existing working-capital loans and
:math:`F_{other}` working capital from other channels. The contract has no turnover days, so a
caller passes the turnover, or the five day counts, or neither (a configured default by GB/T 4754
section). A cash conversion cycle of zero days or less means no need (n = ∞).

Debt capacity — the largest new debt :math:`D` such that leverage
:math:`(L + D)/(A + D) \\le \\lambda` (the proceeds are assets too) and
:math:`DSCR = CF / (DS + a D) \\ge \\mu` with :math:`a` the annual annuity payment per yuan at
the new debt's rate and tenor (:func:`debt_capacity` has the algebra).

Large exposures — 《商业银行大额风险暴露管理办法》(银保监会令 2018 年第 1 号) 第七条: loans to one
non-bank customer ≤ 10% of 资本净额 and exposure to it ≤ 15% of 一级资本净额; 第八条: exposure
to one group of connected non-bank customers (集团客户、经济依存客户) ≤ 20% of 一级资本净额; the
10% of 资本净额 restates 《商业银行法》第三十九条 (同一借款人的贷款余额与资本余额之比 ≤ 10%).
The shares and their capital bases are in ``defaults/limits.yaml``; its notes say what was
verified.

The limit — per customer: the need-based new loan (products in ``need_products``) or the
requested amount, and the debt capacity; the need and the capacity are scaled by the segment's
limit multiplier, the requested amount is a ceiling that is never scaled; then the single-customer
and group headroom cap the result, never scaled either (:func:`credit_limit`).

All numbers are in yuan; the math functions are vectorised (arrays broadcast, scalars give a
``float``); inputs are checked once, at the public entry points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lendvalue.contract import GBT4754_SECTIONS, PRODUCTS
from lendvalue.errors import ConfigError, DataContractError
from lendvalue.tables import (
    Array,
    FloatOrArray,
    TableSource,
    as_float_array,
    check_range,
    load_table,
    scalar_or_array,
)

__all__ = [
    "BINDING_LABELS_ZH",
    "BINDING_REASONS",
    "DAYS_PER_YEAR",
    "DEFAULT_WC_TURNOVER",
    "MAX_LEVERAGE",
    "MIN_DSCR",
    "NEW_DEBT_RATE_ANNUAL",
    "NEW_DEBT_TENOR_YEARS",
    "BankCapital",
    "DebtCapacityPolicy",
    "ExposureCap",
    "LargeExposurePolicy",
    "LimitPolicy",
    "WorkingCapitalPolicy",
    "credit_limit",
    "debt_capacity",
    "exposure_headroom",
    "load_limit_policy",
    "new_working_capital_loan",
    "own_working_capital",
    "working_capital_need",
    "working_capital_turnover",
]

DAYS_PER_YEAR = 360.0
"""The annex's year: 营运资金周转次数 = 360 / 周转天数."""
DEFAULT_WC_TURNOVER = 2.0
"""Working-capital turns a year when no turnover or day counts are known (a 180-day cycle;
illustrative, see ``defaults/limits.yaml``)."""
MAX_LEVERAGE = 0.75
"""Highest total liabilities / total assets after the new debt (illustrative policy value)."""
MIN_DSCR = 1.25
"""Lowest cash flow / debt service after the new debt (a common covenant level)."""
NEW_DEBT_RATE_ANNUAL = 0.04
NEW_DEBT_TENOR_YEARS = 3.0
"""Rate and amortisation tenor at which the new debt's annual service is counted in the DSCR."""

BINDING_REASONS = (
    "working_capital_need", "leverage", "dscr", "requested",
    "single_loan", "single_exposure", "group_exposure", "no_statement",
)  # fmt: skip
"""What can set a limit, in the order ties are resolved."""
BINDING_LABELS_ZH: dict[str, str] = {
    "working_capital_need": "流动资金贷款需求测算",
    "leverage": "资产负债率上限",
    "dscr": "偿债覆盖率(DSCR)下限",
    "requested": "申请金额",
    "single_loan": "单一客户贷款集中度上限",
    "single_exposure": "单一客户大额风险暴露上限",
    "group_exposure": "关联客户(集团)大额风险暴露上限",
    "no_statement": "无可用财务报表，无法测算",
}

PRODUCT_CODES: tuple[str, ...] = tuple(p.code for p in PRODUCTS)
_MAX_DAYS = 3650.0

# --------------------------------------------------------------------------- YAML table


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _known_products(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [p for p in value if p not in PRODUCT_CODES]
    if unknown:
        raise ValueError(
            f"unknown products {unknown}; the contract's are {', '.join(PRODUCT_CODES)}"
        )
    return value


class WorkingCapitalPolicy(_Strict):
    """How the working-capital need is estimated when the borrower's data are thin."""

    need_products: tuple[str, ...]
    """Products whose limit starts from the need-based new loan (流动资金贷款); the others start
    from the requested amount."""
    default_turnover: float = Field(gt=0.0, le=DAYS_PER_YEAR)
    """Turns a year when neither a turnover nor day counts are given."""
    turnover_by_section: dict[str, float] = {}
    """Default turns a year by GB/T 4754 section letter; overrides ``default_turnover``."""
    default_expected_growth: float = Field(ge=-1.0, le=10.0)
    """预计销售收入年增长率 when the frame has none."""
    own_funds_add_back_existing_loans: bool = False
    """When own funds are approximated by current assets − current liabilities: add the existing
    working-capital loans back (they sit in current liabilities and are deducted again)."""

    @field_validator("need_products")
    @classmethod
    def _need_products(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known_products(value)

    @field_validator("turnover_by_section")
    @classmethod
    def _sections(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [s for s in value if s not in GBT4754_SECTIONS]
        bad = [s for s, v in value.items() if not (0.0 < v <= DAYS_PER_YEAR)]
        if unknown or bad:
            raise ValueError(
                f"keys must be GB/T 4754 section letters A–T with turns in (0, 360]; unknown "
                f"{unknown}, out of range {bad}"
            )
        return value


class DebtCapacityPolicy(_Strict):
    max_leverage: float = Field(gt=0.0, lt=1.0)
    min_dscr: float = Field(gt=0.0, le=10.0)
    new_debt_rate_annual: float = Field(ge=0.0, le=0.36)
    new_debt_tenor_years: float = Field(gt=0.0, le=30.0)


class ExposureCap(_Strict):
    """One concentration limit: ``share`` of the bank's ``capital_base``."""

    share: float = Field(gt=0.0, le=1.0)
    capital_base: Literal["net_capital", "tier1_net_capital"]
    """``net_capital`` 资本净额 or ``tier1_net_capital`` 一级资本净额."""
    label_zh: str = Field(min_length=1)
    source: str = Field(min_length=1)


class LargeExposurePolicy(_Strict):
    single_loan: ExposureCap
    """Loans to one customer (贷款余额)."""
    single_exposure: ExposureCap
    """All exposure to one customer (风险暴露)."""
    group_exposure: ExposureCap
    """Exposure to one group of connected customers."""
    loan_products: tuple[str, ...]
    """Products that count as loans for ``single_loan``; the others (guarantees, acceptances)
    count only as exposure."""

    @field_validator("loan_products")
    @classmethod
    def _loan_products(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known_products(value)


class BankCapital(_Strict):
    """The bank's capital at the latest reporting date (《商业银行资本管理办法》definitions)."""

    net_capital_yuan: float = Field(gt=0.0)
    """资本净额."""
    tier1_net_capital_yuan: float = Field(gt=0.0)
    """一级资本净额."""

    @model_validator(mode="after")
    def _tier1_within_total(self) -> BankCapital:
        if self.tier1_net_capital_yuan > self.net_capital_yuan:
            raise ValueError("tier1_net_capital_yuan cannot exceed net_capital_yuan")
        return self

    def base(self, name: str) -> float:
        return self.net_capital_yuan if name == "net_capital" else self.tier1_net_capital_yuan


class LimitPolicy(_Strict):
    """The whole ``limits.yaml`` (module notes)."""

    version: int = Field(ge=1, le=1)
    name: str = Field(min_length=1)
    working_capital: WorkingCapitalPolicy
    debt_capacity: DebtCapacityPolicy
    large_exposure: LargeExposurePolicy
    bank_capital: BankCapital | None = None
    """The bank's capital; ``None``: callers pass it (it changes every quarter)."""


def load_limit_policy(source: TableSource = None) -> LimitPolicy:
    """The packaged default (``source=None``), a YAML path, a mapping or a
    :class:`LimitPolicy`; problems raise :class:`~lendvalue.errors.ConfigError` naming the
    field."""
    return load_table(LimitPolicy, source, "limits.yaml", package="lendvalue.strategy")


# --------------------------------------------------------------------------- input checks


def _finite(name: str, value: npt.ArrayLike) -> Array:
    arr = as_float_array(name, value)
    check_range(name, arr, -np.inf, np.inf)  # NaN and ±inf only
    return arr


def _positive(name: str, value: npt.ArrayLike, *, allow_nan: bool = False, hint: str = "") -> Array:
    arr = as_float_array(name, value)
    values = arr[~np.isnan(arr)] if allow_nan else arr
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        raise DataContractError(
            f"{name} must be > 0 and finite" + (" or NaN" if allow_nan else "")
            + f"; got {float(values[bad].ravel()[0])!r}. {hint}".rstrip()
        )  # fmt: skip
    return arr


def _nonneg(name: str, value: npt.ArrayLike, *, allow_nan: bool = False) -> Array:
    arr = as_float_array(name, value)
    check_range(name, arr, 0.0, np.inf, allow_nan=allow_nan)
    return arr


def _rows(*arrays: Array) -> list[Array]:
    """Broadcast to one row per customer (1-D)."""
    out = np.broadcast_arrays(*[np.atleast_1d(a) for a in arrays])
    if out[0].ndim != 1:
        raise DataContractError(f"expected one value per customer (1-D), got shape {out[0].shape}")
    return [np.asarray(a, dtype=np.float64) for a in out]


def _index(first: Any, n: int) -> pd.Index:
    if isinstance(first, pd.Series) and len(first) == n:
        return first.index
    return pd.RangeIndex(n)


# --------------------------------------------------------------------------- working capital


def working_capital_turnover(
    inventory_days: npt.ArrayLike,
    receivable_days: npt.ArrayLike,
    payable_days: npt.ArrayLike,
    prepayment_days: npt.ArrayLike = 0.0,
    advance_receipt_days: npt.ArrayLike = 0.0,
) -> FloatOrArray:
    """营运资金周转次数 from the five turnover-day counts (流贷测算参考, 一).

    .. math::

        n = \\frac{360}{D_{inv} + D_{rec} - D_{pay} + D_{pre} - D_{adv}}

    Each count is in days and in [0, 3650]. A cycle of zero days or less (suppliers and
    advance receipts fund the whole cycle) gives ``inf``: no working-capital need.
    """
    names = ("inventory_days", "receivable_days", "payable_days", "prepayment_days",
             "advance_receipt_days")  # fmt: skip
    values = (inventory_days, receivable_days, payable_days, prepayment_days, advance_receipt_days)
    arrays = []
    for name, value in zip(names, values, strict=True):
        arr = as_float_array(name, value)
        check_range(name, arr, 0.0, _MAX_DAYS)
        arrays.append(arr)
    inv, rec, pay, pre, adv = np.broadcast_arrays(*arrays)
    cycle = inv + rec - pay + pre - adv
    with np.errstate(divide="ignore"):
        out = np.where(cycle > 0, DAYS_PER_YEAR / np.where(cycle > 0, cycle, 1.0), np.inf)
    return scalar_or_array(out, *values)


def working_capital_need(
    revenue: npt.ArrayLike,
    profit_margin: npt.ArrayLike,
    growth: npt.ArrayLike,
    turnover: npt.ArrayLike | None = None,
    *,
    inventory_days: npt.ArrayLike | None = None,
    receivable_days: npt.ArrayLike | None = None,
    payable_days: npt.ArrayLike | None = None,
    prepayment_days: npt.ArrayLike = 0.0,
    advance_receipt_days: npt.ArrayLike = 0.0,
    default_turnover: npt.ArrayLike = DEFAULT_WC_TURNOVER,
) -> FloatOrArray:
    """营运资金量: the working capital the borrower's sales tie up next year.

    .. math::

        W = \\max\\!\\left(\\frac{S_0\\,(1 - m)\\,(1 + g)}{n},\\; 0\\right)

    Source: 《流动资金贷款管理暂行办法》(2010) 附件《流动资金贷款需求量的测算参考》一,
    估算借款人营运资金量 (the 2024 《流动资金贷款管理办法》 refers to the same method).

    Parameters
    ----------
    revenue : array_like
        上年度销售收入 in yuan, ≥ 0.
    profit_margin : array_like
        上年度销售利润率 as a decimal in [−1, 1] (a loss-making year raises the need).
    growth : array_like
        预计销售收入年增长率 as a decimal in [−1, 10].
    turnover : array_like, optional
        营运资金周转次数 (turns a year), > 0; NaN for a customer whose turnover is unknown.
    inventory_days, receivable_days, payable_days, prepayment_days, advance_receipt_days
        The day counts of :func:`working_capital_turnover`; used where ``turnover`` is missing
        (``None`` or NaN). Pass the first three together or none; NaN marks a customer without
        them. Prepayment and advance-receipt days default to 0.
    default_turnover : array_like
        Turns a year where neither is known (e.g. per industry); default
        :data:`DEFAULT_WC_TURNOVER`.

    Returns
    -------
    float or ndarray
        The need in yuan (0 when the cash conversion cycle is zero days or less).
    """
    rev = as_float_array("revenue", revenue)
    check_range("revenue", rev, 0.0, np.inf, hint="Pass last year's sales in yuan.")
    margin = as_float_array("profit_margin", profit_margin)
    check_range("profit_margin", margin, -1.0, 1.0, hint="Pass a decimal (0.1 = 10%).")
    g = as_float_array("growth", growth)
    check_range("growth", g, -1.0, 10.0, hint="Pass a decimal (0.2 = 20%).")
    fallback = _positive("default_turnover", default_turnover)
    turns = (
        np.full_like(fallback, np.nan)
        if turnover is None
        else _positive("turnover", turnover, allow_nan=True, hint="Pass turns a year, e.g. 3.")
    )
    day_inputs = (inventory_days, receivable_days, payable_days)
    if any(d is not None for d in day_inputs):
        if any(d is None for d in day_inputs):
            raise DataContractError(
                "inventory_days, receivable_days and payable_days go together: pass all three "
                "(NaN for a customer without them) or none"
            )
        names = ("inventory_days", "receivable_days", "payable_days", "prepayment_days",
                 "advance_receipt_days")  # fmt: skip
        values: tuple[npt.ArrayLike, ...] = (
            *(d for d in day_inputs if d is not None), prepayment_days, advance_receipt_days,
        )  # fmt: skip
        days = []
        for name, value in zip(names, values, strict=True):
            arr = as_float_array(name, value)
            check_range(name, arr, 0.0, _MAX_DAYS, allow_nan=True)
            days.append(arr)
        inv, rec, pay, pre, adv = np.broadcast_arrays(*days)
        known = ~(np.isnan(inv) | np.isnan(rec) | np.isnan(pay) | np.isnan(pre) | np.isnan(adv))
        from_days = np.asarray(
            working_capital_turnover(
                np.where(known, inv, 0.0), np.where(known, rec, 0.0), np.where(known, pay, 1.0),
                np.where(known, pre, 0.0), np.where(known, adv, 0.0),
            ),
            dtype=np.float64,
        )  # fmt: skip
        from_days = np.where(known, from_days, np.nan)
    else:
        from_days = np.array(np.nan)
    turns, from_days, fallback = np.broadcast_arrays(turns, from_days, fallback)
    used = np.where(np.isnan(turns), np.where(np.isnan(from_days), fallback, from_days), turns)
    need = np.maximum(rev * (1.0 - margin) * (1.0 + g) / used, 0.0)
    inputs: list[Any] = [revenue, profit_margin, growth, default_turnover]
    inputs += [v for v in (turnover, *day_inputs) if v is not None]
    return scalar_or_array(need, *inputs)


def own_working_capital(
    current_assets: npt.ArrayLike,
    current_liabilities: npt.ArrayLike,
    add_back: npt.ArrayLike = 0.0,
) -> FloatOrArray:
    """自有资金 approximated by the borrower's net working capital.

    .. math::

        F_{own} \\approx \\max(CA - CL + B,\\; 0)

    The annex names 借款人自有资金 without defining it; practice reads it as the working
    capital the borrower funds itself, current assets less current liabilities. ``add_back``
    (:math:`B`) is what of the current liabilities is deducted separately — the existing
    working-capital loans, which the formula subtracts again. A working-capital deficit counts as
    no own funds (0), so it never raises the loan.
    """
    ca = _nonneg("current_assets", current_assets)
    cl = _nonneg("current_liabilities", current_liabilities)
    b = _nonneg("add_back", add_back)
    return scalar_or_array(
        np.maximum(ca - cl + b, 0.0), current_assets, current_liabilities, add_back
    )


def new_working_capital_loan(
    need: npt.ArrayLike,
    own_funds: npt.ArrayLike,
    existing_wc_loans: npt.ArrayLike = 0.0,
    other_funding: npt.ArrayLike = 0.0,
) -> FloatOrArray:
    """新增流动资金贷款额度 (流贷测算参考, 二), floored at zero.

    .. math::

        \\Delta L = \\max(W - F_{own} - L_{wc} - F_{other},\\; 0)

    ``need`` is :func:`working_capital_need`; ``own_funds`` 借款人自有资金 (any sign; see
    :func:`own_working_capital`); ``existing_wc_loans`` 现有流动资金贷款 from all lenders;
    ``other_funding`` 其他渠道提供的营运资金. All in yuan.
    """
    w = _nonneg("need", need)
    own = _finite("own_funds", own_funds)
    existing = _nonneg("existing_wc_loans", existing_wc_loans)
    other = _nonneg("other_funding", other_funding)
    out = np.maximum(w - own - existing - other, 0.0)
    return scalar_or_array(out, need, own_funds, existing_wc_loans, other_funding)


# --------------------------------------------------------------------------- debt capacity


def _annuity_factor(rate: Array, tenor: Array) -> Array:
    """Annual payment per yuan borrowed: r / (1 − (1 + r)^−n), 1/n at r = 0."""
    safe = np.where(rate > 0, rate, 1.0)
    factor = safe / -np.expm1(-tenor * np.log1p(safe))
    return np.where(rate > 0, factor, 1.0 / tenor)


def debt_capacity(
    total_assets: npt.ArrayLike,
    total_liabilities: npt.ArrayLike,
    cash_flow: npt.ArrayLike,
    debt_service: npt.ArrayLike,
    *,
    max_leverage: npt.ArrayLike = MAX_LEVERAGE,
    min_dscr: npt.ArrayLike = MIN_DSCR,
    rate_annual: npt.ArrayLike = NEW_DEBT_RATE_ANNUAL,
    tenor_years: npt.ArrayLike = NEW_DEBT_TENOR_YEARS,
) -> pd.DataFrame:
    """The most new debt the borrower carries within a leverage and a DSCR limit.

    Leverage: the new debt :math:`D` is a liability, and its proceeds are an asset while they
    are held or spent on inventory and receivables, so both sides grow by :math:`D`:

    .. math::

        \\frac{L + D}{A + D} \\le \\lambda
        \\iff L + D \\le \\lambda A + \\lambda D
        \\iff D \\le \\frac{\\lambda A - L}{1 - \\lambda} = D_{lev}
        \\qquad (A + D > 0,\\ \\lambda < 1)

    Debt service cover, with :math:`a = r / (1 - (1 + r)^{-T})` the level annual payment per
    yuan at rate :math:`r` over :math:`T` years (:math:`1/T` at :math:`r = 0`):

    .. math::

        \\frac{CF}{DS + a D} \\ge \\mu
        \\iff a D \\le \\frac{CF}{\\mu} - DS
        \\iff D \\le \\frac{CF / \\mu - DS}{a} = D_{dscr}
        \\qquad (DS + a D > 0)

    Each is floored at 0 (already over the limit, or no positive cash flow: no new debt);
    the capacity is :math:`\\min(D_{lev}, D_{dscr})`. Limits are policy, not regulation: the
    defaults (:data:`MAX_LEVERAGE`, :data:`MIN_DSCR`) are documented in ``limits.yaml``.

    Parameters
    ----------
    total_assets, total_liabilities : array_like
        Balance sheet in yuan (assets > 0, liabilities ≥ 0).
    cash_flow : array_like
        Annual cash flow available for debt service, usually operating cash flow (EBITDA when it
        is missing). NaN: unknown — the DSCR capacity and the capacity are NaN.
    debt_service : array_like
        Existing annual principal and interest due (≥ 0); NaN: unknown, as above.
    max_leverage : array_like
        λ in (0, 1).
    min_dscr : array_like
        μ > 0.
    rate_annual, tenor_years : array_like
        The new debt's rate (decimal, [0, 1]) and amortisation tenor in years (> 0).

    Returns
    -------
    DataFrame
        ``leverage_capacity_yuan``, ``dscr_capacity_yuan``, ``debt_capacity_yuan`` and
        ``binding`` (``leverage`` or ``dscr``; ``dscr`` when it is unknown), one row per
        customer (the index of ``total_assets`` when it is a Series).
    """
    assets = _positive("total_assets", total_assets)
    liabilities = _nonneg("total_liabilities", total_liabilities)
    cf = as_float_array("cash_flow", cash_flow)
    check_range("cash_flow", cf, -np.inf, np.inf, allow_nan=True)
    ds = _nonneg("debt_service", debt_service, allow_nan=True)
    lam = as_float_array("max_leverage", max_leverage)
    check_range("max_leverage", lam, 1e-6, 1.0 - 1e-6, hint="Pass a decimal below 1, e.g. 0.75.")
    mu = _positive("min_dscr", min_dscr)
    rate = as_float_array("rate_annual", rate_annual)
    check_range("rate_annual", rate, 0.0, 1.0, hint="Pass a decimal (0.04 = 4%).")
    tenor = _positive("tenor_years", tenor_years, hint="Pass years, e.g. 3.")
    assets, liabilities, cf, ds, lam, mu, rate, tenor = _rows(
        assets, liabilities, cf, ds, lam, mu, rate, tenor
    )
    leverage_cap = np.maximum((lam * assets - liabilities) / (1.0 - lam), 0.0)
    dscr_cap = np.maximum((cf / mu - ds) / _annuity_factor(rate, tenor), 0.0)
    dscr_cap = np.where(np.isnan(cf) | np.isnan(ds), np.nan, dscr_cap)
    capacity = np.minimum(leverage_cap, dscr_cap)  # NaN propagates: unknown capacity
    binding = np.where(leverage_cap <= dscr_cap, "leverage", "dscr")
    return pd.DataFrame(
        {
            "leverage_capacity_yuan": leverage_cap,
            "dscr_capacity_yuan": dscr_cap,
            "debt_capacity_yuan": capacity,
            "binding": binding,
        },
        index=_index(total_assets, len(assets)),
    )


# --------------------------------------------------------------------------- large exposures


def _bank_capital(
    bank_capital: BankCapital | Mapping[str, Any] | None, policy: LimitPolicy
) -> BankCapital:
    if bank_capital is None:
        if policy.bank_capital is None:
            raise ConfigError(
                "bank_capital is not set: pass BankCapital(net_capital_yuan=..., "
                "tier1_net_capital_yuan=...) or set bank_capital in the limits YAML"
            )
        return policy.bank_capital
    if isinstance(bank_capital, BankCapital):
        return bank_capital
    try:
        return BankCapital.model_validate(dict(bank_capital))
    except (TypeError, ValueError) as exc:
        raise DataContractError(
            "bank_capital must have net_capital_yuan and tier1_net_capital_yuan, both > 0 "
            f"with tier 1 ≤ net: {exc}"
        ) from exc


def _exposure_rooms(
    caps: LargeExposurePolicy,
    capital: BankCapital,
    exposure: Array,
    loans: Array,
    group: Array,
    is_loan: Array,
) -> tuple[Array, Array, Array]:
    def cap(c: ExposureCap) -> float:
        return c.share * capital.base(c.capital_base)

    loan_room = np.where(is_loan, np.maximum(cap(caps.single_loan) - loans, 0.0), np.inf)
    exposure_room = np.maximum(cap(caps.single_exposure) - exposure, 0.0)
    group_room = np.where(
        np.isnan(group), np.inf, np.maximum(cap(caps.group_exposure) - np.nan_to_num(group), 0.0)
    )
    return loan_room, exposure_room, group_room


def exposure_headroom(
    bank_capital: BankCapital | Mapping[str, Any] | None,
    customer_exposure: npt.ArrayLike,
    group_exposure: npt.ArrayLike | None = None,
    *,
    customer_loans: npt.ArrayLike | None = None,
    is_loan: npt.ArrayLike = True,
    table: TableSource = None,
) -> pd.DataFrame:
    """Room left under the large-exposure limits for one more yuan of lending to a customer.

    .. math::

        H_{loan} &= \\max(s_{loan} K_{net} - E^{loan}_i, 0) \\quad
            \\text{(loans only; } s_{loan} = 10\\%\\text{)} \\\\
        H_{single} &= \\max(s_{single} K_{T1} - E_i, 0) \\quad (s_{single} = 15\\%) \\\\
        H_{group} &= \\max(s_{group} K_{T1} - E_{G(i)}, 0) \\quad (s_{group} = 20\\%)

    Sources: 《商业银行大额风险暴露管理办法》(2018) 第七条 (single non-bank customer: loans
    ≤ 10% of 资本净额 :math:`K_{net}`, exposure ≤ 15% of 一级资本净额 :math:`K_{T1}`), 第八条
    (a group of connected non-bank customers ≤ 20% of :math:`K_{T1}`); 《商业银行法》第三十九条.
    Shares and bases come from ``table`` (``large_exposure``).

    Parameters
    ----------
    bank_capital : BankCapital, mapping or None
        The bank's 资本净额 and 一级资本净额; ``None``: ``bank_capital`` of ``table``.
    customer_exposure : array_like
        The bank's current exposure to the customer, yuan, ≥ 0.
    group_exposure : array_like, optional
        Current exposure to the customer's whole group of connected customers (the customer
        included), yuan; NaN or ``None``: no group, no group limit.
    customer_loans : array_like, optional
        Current loans to the customer (贷款余额); default ``customer_exposure``.
    is_loan : array_like of bool
        Whether the new limit is a loan (the loan limit applies) or off-balance (only the
        exposure limits apply). The new amount counts in full towards exposure (no CCF).
    table : optional
        A limits table (:func:`load_limit_policy`).

    Returns
    -------
    DataFrame
        ``single_loan_headroom_yuan`` (``inf`` for non-loans), ``single_exposure_headroom_yuan``,
        ``customer_headroom_yuan`` (the tighter of the two), ``group_exposure_headroom_yuan``
        (``inf`` without a group), ``headroom_yuan`` and ``binding`` (``single_loan``,
        ``single_exposure`` or ``group_exposure``).
    """
    policy = load_limit_policy(table)
    capital = _bank_capital(bank_capital, policy)
    exposure = _nonneg("customer_exposure", customer_exposure)
    loans = exposure if customer_loans is None else _nonneg("customer_loans", customer_loans)
    group = (
        np.array(np.nan)
        if group_exposure is None
        else _nonneg("group_exposure", group_exposure, allow_nan=True)
    )
    loan_flag = np.asarray(is_loan, dtype=bool).astype(np.float64)
    exposure, loans, group, loan_flag = _rows(exposure, loans, group, loan_flag)
    loan_room, exposure_room, group_room = _exposure_rooms(
        policy.large_exposure, capital, exposure, loans, group, loan_flag.astype(bool)
    )
    rooms = np.column_stack([loan_room, exposure_room, group_room])
    names = np.array(["single_loan", "single_exposure", "group_exposure"])
    return pd.DataFrame(
        {
            "single_loan_headroom_yuan": loan_room,
            "single_exposure_headroom_yuan": exposure_room,
            "customer_headroom_yuan": np.minimum(loan_room, exposure_room),
            "group_exposure_headroom_yuan": group_room,
            "headroom_yuan": rooms.min(axis=1),
            "binding": names[rooms.argmin(axis=1)],
        },
        index=_index(customer_exposure, len(exposure)),
    )


# --------------------------------------------------------------------------- the limit

REQUIRED_COLUMNS = (
    "customer_id", "product", "revenue", "total_assets", "total_liabilities",
    "customer_exposure_yuan",
)  # fmt: skip
"""Columns :func:`credit_limit` needs in every frame."""
OPTIONAL_COLUMNS = (
    "group_id", "group_exposure_yuan", "customer_loans_yuan", "industry", "profit_margin",
    "net_income", "expected_growth", "wc_turnover", "inventory_days", "receivable_days",
    "payable_days", "prepayment_days", "advance_receipt_days", "own_funds_yuan",
    "current_assets", "current_liabilities", "existing_wc_loans_yuan", "other_wc_funding_yuan",
    "operating_cash_flow", "ebitda", "debt_service", "interest_expense", "requested_yuan",
    "limit_multiplier", "priority", "new_debt_rate_annual", "new_debt_tenor_years",
)  # fmt: skip
"""Columns :func:`credit_limit` reads when present (module notes of each)."""


def _col(frame: pd.DataFrame, name: str, default: float = np.nan) -> Array:
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=np.float64)
    try:
        return pd.to_numeric(frame[name], errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError) as exc:
        raise DataContractError(f"column {name} must be numeric: {exc}") from exc


def _text(frame: pd.DataFrame, name: str) -> npt.NDArray[np.object_]:
    if name not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    values = frame[name].astype(object).to_numpy()
    return np.array([None if pd.isna(v) or v == "" else str(v) for v in values], dtype=object)


def _require(ok: npt.NDArray[np.bool_], name: str, ids: npt.NDArray[np.object_], why: str) -> None:
    bad = ~ok
    if bad.any():
        shown = ", ".join(str(i) for i in ids[bad][:5])
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        raise DataContractError(f"column {name} is missing for customer(s) {shown}{more}: {why}")


def _allocate(
    amount: Array, room: Array, keys: npt.NDArray[np.intp], order: Sequence[int]
) -> Array:
    """Share a room per key among its rows in ``order``: each row gets what is left, up to its
    amount. ``keys`` −1: no shared room (the row keeps its amount)."""
    idx = np.asarray(order, dtype=np.intp)
    out = amount.copy()
    grouped = keys[idx] >= 0
    if not grouped.any():
        return out
    rows = idx[grouped]
    before = pd.Series(amount[rows]).groupby(keys[rows]).cumsum().to_numpy() - amount[rows]
    out[rows] = np.clip(room[rows] - before, 0.0, amount[rows])
    return out


def credit_limit(
    frame: pd.DataFrame,
    *,
    bank_capital: BankCapital | Mapping[str, Any] | None = None,
    table: TableSource = None,
) -> pd.DataFrame:
    """The credit limit of each customer in ``frame`` and what set it.

    .. math::

        P_i &= \\min\\big(k_i \\cdot \\min(\\Delta L_i, D_i),\\; R_i\\big) \\quad
            \\text{(need products; } \\Delta L_i \\text{ dropped for the others)} \\\\
        Q_i &= \\min(P_i, H^{loan}_i, H^{single}_i) \\\\
        \\text{limit}_i &= \\min\\Big(Q_i,\\; \\max\\big(H^{group}_{G(i)}
            - \\textstyle\\sum_{j \\prec i,\\, j \\in G(i)} \\text{limit}_j,\\; 0\\big)\\Big)

    with :math:`\\Delta L` :func:`new_working_capital_loan`, :math:`D` the tighter of the
    leverage and DSCR capacities (:func:`debt_capacity`), :math:`k` the segment's limit
    multiplier, :math:`R` the requested amount (∞ when a need product has none), :math:`H` the
    headroom of :func:`exposure_headroom`. The multiplier scales the need and the capacity,
    never the request or the regulatory caps. Customers of one group share its headroom in the
    order of ``priority`` (ascending; then the frame's order): a later customer is cut first.

    One row per customer (``customer_id`` unique). Columns (``REQUIRED_COLUMNS`` /
    ``OPTIONAL_COLUMNS``): the contract's ``financials`` names (``revenue``, ``net_income``,
    ``ebitda``, ``total_assets``, ``total_liabilities``, ``current_assets``,
    ``current_liabilities``, ``interest_expense``, ``debt_service``, ``operating_cash_flow``),
    ``customers.industry`` and ``group_id``, and:

    - ``product`` — a contract product code; ``need_products`` of the table (default
      ``working_capital``, ``revolver``) start from the need, the others from ``requested_yuan``
      (then required);
    - ``profit_margin`` (default ``net_income / revenue``, clipped to [−1, 1]),
      ``expected_growth`` (default the table's), ``wc_turnover`` or the five ``*_days``
      (default the table's turnover for the industry's section);
    - ``own_funds_yuan`` (default :func:`own_working_capital` of current assets and
      liabilities), ``existing_wc_loans_yuan`` (required for need products — all lenders'),
      ``other_wc_funding_yuan`` (default 0);
    - cash flow ``operating_cash_flow``, else ``ebitda``; debt service ``debt_service``, else
      ``interest_expense`` (principal unknown: understates), else 0 when there are no
      liabilities; ``new_debt_rate_annual``, ``new_debt_tenor_years`` (default the table's);
    - ``limit_multiplier`` (default 1, in [0, 10]), ``requested_yuan``;
    - ``customer_exposure_yuan`` (required), ``customer_loans_yuan`` (default the exposure),
      ``group_exposure_yuan`` (the whole group's current exposure, the same on every row of a
      group; required where ``group_id`` is set), ``priority``.

    A candidate that cannot be assessed (no margin or own funds for the need, no cash flow or
    debt service for the DSCR) counts as 0: the limit is 0, ``binding`` names it and
    ``assessable`` is False.

    Returns
    -------
    DataFrame
        Indexed like ``frame``: ``customer_id``, ``product``, ``wc_need_yuan``,
        ``wc_new_loan_yuan`` (NaN for other products), ``leverage_capacity_yuan``,
        ``dscr_capacity_yuan``, ``requested_yuan``, ``limit_multiplier``,
        ``pre_cap_limit_yuan`` (:math:`P`), ``single_loan_headroom_yuan``,
        ``single_exposure_headroom_yuan``, ``group_exposure_headroom_yuan`` (before this
        batch), ``limit_yuan``, ``binding`` (one of :data:`BINDING_REASONS`), ``binding_zh``
        and ``assessable``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataContractError(f"credit_limit needs a DataFrame, got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"credit_limit: missing column(s) {missing}; required: {', '.join(REQUIRED_COLUMNS)}"
        )
    policy = load_limit_policy(table)
    capital = _bank_capital(bank_capital, policy)
    wc, dc = policy.working_capital, policy.debt_capacity
    n = len(frame)
    ids = _text(frame, "customer_id")
    if pd.Series(ids).duplicated().any():
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise DataContractError(f"customer_id must be unique (one request each); {dup!r} repeats")
    products = _text(frame, "product")
    unknown = sorted({str(p) for p in products if p not in PRODUCT_CODES})
    if unknown:
        raise DataContractError(
            f"column product has unknown code(s) {unknown}; valid: {', '.join(PRODUCT_CODES)}"
        )
    need_row = np.isin(products, wc.need_products)
    loan_row = np.isin(products, policy.large_exposure.loan_products)

    # ---- working-capital need (need products only)
    revenue = _col(frame, "revenue")
    check_range("revenue", revenue, 0.0, np.inf, hint="Column revenue: last year's sales, yuan.")
    margin = _col(frame, "profit_margin")
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = np.clip(_col(frame, "net_income") / revenue, -1.0, 1.0)
    margin = np.where(np.isnan(margin), np.where(revenue == 0, 0.0, derived), margin)
    growth = _col(frame, "expected_growth")
    growth = np.where(np.isnan(growth), wc.default_expected_growth, growth)
    industry = _text(frame, "industry")
    section_turns = np.array(
        [wc.turnover_by_section.get(str(c)[:1].upper(), wc.default_turnover) if c else
         wc.default_turnover for c in industry],
        dtype=np.float64,
    )  # fmt: skip
    has_days = any(
        c in frame.columns for c in ("inventory_days", "receivable_days", "payable_days")
    )
    existing = _col(frame, "existing_wc_loans_yuan")
    if need_row.any():
        _require(
            ~np.isnan(existing) | ~need_row, "existing_wc_loans_yuan", ids,
            "the need-based loan deducts existing working-capital loans (0 if none)",
        )  # fmt: skip
    existing = np.where(need_row, existing, 0.0)
    other = np.nan_to_num(_col(frame, "other_wc_funding_yuan"), nan=0.0)
    turnover = _positive("wc_turnover", _col(frame, "wc_turnover"), allow_nan=True)
    need_known = ~np.isnan(margin)
    need = np.asarray(
        working_capital_need(
            revenue, np.where(need_known, margin, 0.0), growth, turnover,
            inventory_days=_col(frame, "inventory_days") if has_days else None,
            receivable_days=_col(frame, "receivable_days") if has_days else None,
            payable_days=_col(frame, "payable_days") if has_days else None,
            prepayment_days=np.nan_to_num(_col(frame, "prepayment_days"), nan=0.0),
            advance_receipt_days=np.nan_to_num(_col(frame, "advance_receipt_days"), nan=0.0),
            default_turnover=section_turns,
        ),
        dtype=np.float64,
    )  # fmt: skip
    need = np.where(need_known, need, np.nan)
    own = _col(frame, "own_funds_yuan")
    ca, cl = _col(frame, "current_assets"), _col(frame, "current_liabilities")
    approx_known = ~np.isnan(ca) & ~np.isnan(cl)
    add_back = np.nan_to_num(existing) if wc.own_funds_add_back_existing_loans else 0.0
    approx = np.asarray(
        own_working_capital(np.where(approx_known, ca, 0.0), np.where(approx_known, cl, 0.0),
                            add_back),
        dtype=np.float64,
    )  # fmt: skip
    own = np.where(np.isnan(own), np.where(approx_known, approx, np.nan), own)
    own_known = ~np.isnan(own)
    new_loan = np.asarray(
        new_working_capital_loan(
            np.nan_to_num(need), np.where(own_known, own, 0.0), np.nan_to_num(existing), other
        ),
        dtype=np.float64,
    )
    new_loan = np.where(need_known & own_known, new_loan, np.nan)
    new_loan = np.where(need_row, new_loan, np.nan)
    need = np.where(need_row, need, np.nan)

    # ---- debt capacity
    assets, liabilities = _col(frame, "total_assets"), _col(frame, "total_liabilities")
    cash_flow = _col(frame, "operating_cash_flow")
    cash_flow = np.where(np.isnan(cash_flow), _col(frame, "ebitda"), cash_flow)
    service = _col(frame, "debt_service")
    service = np.where(np.isnan(service), _col(frame, "interest_expense"), service)
    service = np.where(np.isnan(service) & (liabilities == 0), 0.0, service)
    rate = _col(frame, "new_debt_rate_annual", dc.new_debt_rate_annual)
    tenor = _col(frame, "new_debt_tenor_years", dc.new_debt_tenor_years)
    capacity = debt_capacity(
        assets, liabilities, cash_flow, service,
        max_leverage=dc.max_leverage, min_dscr=dc.min_dscr,
        rate_annual=np.where(np.isnan(rate), dc.new_debt_rate_annual, rate),
        tenor_years=np.where(np.isnan(tenor), dc.new_debt_tenor_years, tenor),
    )  # fmt: skip
    lev_cap = capacity["leverage_capacity_yuan"].to_numpy()
    dscr_cap = capacity["dscr_capacity_yuan"].to_numpy()

    # ---- request and multiplier
    requested = _col(frame, "requested_yuan")
    check_range("requested_yuan", requested, 0.0, np.inf, allow_nan=True)
    _require(
        ~np.isnan(requested) | need_row, "requested_yuan", ids,
        f"products other than {', '.join(wc.need_products)} are limited by the request",
    )  # fmt: skip
    multiplier = _col(frame, "limit_multiplier", 1.0)
    multiplier = np.where(np.isnan(multiplier), 1.0, multiplier)
    check_range("limit_multiplier", multiplier, 0.0, 10.0)

    # ---- the need/capacity limit: candidates in BINDING_REASONS order, ties to the first
    scaled = [
        np.where(need_row, multiplier * new_loan, np.inf),
        multiplier * lev_cap,
        multiplier * dscr_cap,
        np.where(np.isnan(requested), np.inf, requested),
    ]
    assessable = ~np.isnan(np.column_stack(scaled)).any(axis=1)
    candidates = np.nan_to_num(np.column_stack(scaled), nan=0.0, posinf=np.inf)
    pick = candidates.argmin(axis=1)
    pre_cap = candidates[np.arange(n), pick]
    binding = np.array(BINDING_REASONS, dtype=object)[pick]

    # ---- large exposures: the customer's own caps, then the group's, shared in order
    group_ids = _text(frame, "group_id")
    in_group = np.array([g is not None for g in group_ids])
    group_exposure = _col(frame, "group_exposure_yuan")
    _require(
        ~np.isnan(group_exposure) | ~in_group, "group_exposure_yuan", ids,
        "a customer with a group_id needs the group's current exposure",
    )  # fmt: skip
    group_exposure = np.where(in_group, group_exposure, np.nan)
    exposure = _col(frame, "customer_exposure_yuan")
    loans = _col(frame, "customer_loans_yuan")
    rooms = exposure_headroom(
        capital, exposure, group_exposure,
        customer_loans=np.where(np.isnan(loans), exposure, loans), is_loan=loan_row,
        table=policy,
    )  # fmt: skip
    keys = np.full(n, -1, dtype=np.intp)
    if in_group.any():
        codes, _ = pd.factorize(pd.Series(group_ids[in_group], dtype=object))
        keys[in_group] = codes
        spread = pd.Series(group_exposure[in_group]).groupby(codes).agg(["min", "max"])
        if (spread["max"] > spread["min"]).any():
            raise DataContractError(
                "column group_exposure_yuan must be the same on every row of a group (the whole "
                "group's current exposure)"
            )
    loan_room = rooms["single_loan_headroom_yuan"].to_numpy()
    exposure_room = rooms["single_exposure_headroom_yuan"].to_numpy()
    group_room = rooms["group_exposure_headroom_yuan"].to_numpy()
    after_single = np.minimum(pre_cap, np.minimum(loan_room, exposure_room))
    cut_single = after_single < pre_cap
    binding = np.where(
        cut_single, np.where(loan_room <= exposure_room, "single_loan", "single_exposure"), binding
    )
    priority = _col(frame, "priority")
    order = np.lexsort((np.arange(n), np.where(np.isnan(priority), np.inf, priority)))
    limit = _allocate(after_single, group_room, keys, order.tolist())
    binding = np.where(limit < after_single, "group_exposure", binding)

    return pd.DataFrame(
        {
            "customer_id": ids,
            "product": products,
            "wc_need_yuan": need,
            "wc_new_loan_yuan": new_loan,
            "leverage_capacity_yuan": lev_cap,
            "dscr_capacity_yuan": dscr_cap,
            "requested_yuan": requested,
            "limit_multiplier": multiplier,
            "pre_cap_limit_yuan": pre_cap,
            "single_loan_headroom_yuan": loan_room,
            "single_exposure_headroom_yuan": exposure_room,
            "group_exposure_headroom_yuan": group_room,
            "limit_yuan": limit,
            "binding": binding.astype(str),
            "binding_zh": [BINDING_LABELS_ZH[b] for b in binding],
            "assessable": assessable,
        },
        index=frame.index,
    )


STATEMENT_COLUMNS = ("revenue", "total_assets", "total_liabilities")
"""A customer without these (no statement available) cannot be assessed."""


def credit_limits_where_assessable(
    frame: pd.DataFrame,
    *,
    bank_capital: BankCapital | Mapping[str, Any] | None = None,
    table: TableSource = None,
) -> pd.DataFrame:
    """:func:`credit_limit` for the customers with a financial statement; the others get limit 0,
    ``binding`` ``no_statement`` and ``assessable`` False — a bank lends on statements, and one
    customer without them must not stop the limits of all the others."""
    has = frame[list(STATEMENT_COLUMNS)].notna().all(axis=1).to_numpy()
    out = pd.DataFrame(index=frame.index)
    if has.any():
        out = credit_limit(frame[has], bank_capital=bank_capital, table=table).reindex(frame.index)
    else:
        out["customer_id"] = frame["customer_id"]
    missing = ~has
    out.loc[missing, "customer_id"] = frame.loc[missing, "customer_id"]
    out.loc[missing, "limit_yuan"] = 0.0
    out.loc[missing, "binding"] = "no_statement"
    out.loc[missing, "binding_zh"] = BINDING_LABELS_ZH["no_statement"]
    out.loc[missing, "assessable"] = False
    return out
