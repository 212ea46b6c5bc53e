"""Regulatory capital for corporate exposures: the IRB risk-weight function of the Basel III
final framework (BCBS CRE31) and a configurable table of standardised-approach risk weights.

IRB (foundation or advanced) — for a performing exposure with probability of default ``PD``,
loss given default ``LGD`` and effective maturity ``M`` (BCBS CRE31.5, in force 1 Jan 2023):

.. math::

    R &= 0.12\\,\\frac{1-e^{-50\\,PD}}{1-e^{-50}}
        + 0.24\\left(1-\\frac{1-e^{-50\\,PD}}{1-e^{-50}}\\right)
        \\;[-\\;0.04\\left(1-\\frac{S-S_{lo}}{S_{hi}-S_{lo}}\\right)]_{\\text{SME}} \\\\
    b &= (0.11852 - 0.05478 \\ln PD)^2 \\\\
    K &= \\left[LGD\\;N\\!\\left(\\frac{G(PD) + \\sqrt{R}\\,G(0.999)}{\\sqrt{1-R}}\\right)
        - PD \\cdot LGD\\right] \\frac{1 + (M - 2.5)\\,b}{1 - 1.5\\,b} \\\\
    RWA &= 12.5 \\cdot K \\cdot EAD

with :math:`N` the standard normal distribution function and :math:`G` its inverse. The
risk weight is :math:`RW = 12.5 K` as a decimal (0.9232 = 92.32%). The Basel II scaling
factor 1.06 (Basel II, June 2006, para 44) is **not** applied: the final framework dropped it
(BCBS, *Basel III: Finalising post-crisis reforms*, December 2017, IRB section; CRE31.5 has
``RWA = K × 12.5 × EAD``). A bank still reporting under a regime that keeps it multiplies
by 1.06 itself.

- Defaulted exposures (``PD = 1``): :math:`K = \\max(0, LGD - EL_{BE})` with
  :math:`EL_{BE}` the bank's best estimate of expected loss (CRE31.3). Under the foundation
  approach LGD is supervisory and the best estimate equals it, so K = 0 — the default here
  (``el_best_estimate=None``). Advanced-approach banks pass their own ``EL_BE``.
- PD floor: 0.05% for corporate exposures (CRE32.4). The Chinese 2023 rules are understood
  to use the same 0.05% for 公司风险暴露 (up from 0.03% in 2012); not checked against the text.
- Maturity: M is floored at one year and capped at five (CRE32, "effective maturity",
  advanced approach). Foundation-approach banks pass ``maturity_years=2.5``, the
  supervisory maturity of the foundation approach (CRE32, same section).

SME firm-size adjustment — Basel (CRE31.6 in the 2023 framework): for a borrower whose
consolidated group has annual sales ``S`` below EUR 50m the correlation falls by
:math:`0.04 (1 - (S - 5)/45)`; sales below EUR 5m count as 5m; at or above 50m there is no
adjustment. The bounds are the ``sme_bounds`` parameter so that other jurisdictions' units
work unchanged.

China — 《商业银行资本管理办法》(国家金融监督管理总局令 2023 年第 4 号), 附件5 信用风险内部评级法
风险加权资产计量规则: the 中小企业 correlation is
:math:`R - 0.04 \\times (1 - (S - 3)/27)` with S the annual operating revenue (年营业收入)
**in units of 10 million yuan (千万元)**, revenue below 3千万 treated as 3千万 — i.e. bounds
RMB 30m and 300m, the latter matching the rules' 中小企业 ceiling of 年营业收入 3 亿元. This is
how the 2012 rules (《商业银行资本管理办法(试行)》附件3) read and, as far as could be
established, the 2023 text keeps it; the primary 2023 text could not be retrieved to confirm
the unit. If the unit were 亿元 (bounds 3亿–30亿) the adjustment would reach firms ten times
larger than the rules' own 中小企业 definition, which is why the 千万元 reading is taken here.
Pass one of :data:`CN_SME_BOUNDS_10M_YUAN` (S in 千万元), :data:`CN_SME_BOUNDS_MILLION_YUAN`
(S in 百万元) or :data:`CN_SME_BOUNDS_100M_YUAN` (S in 亿元) with sales in the matching unit;
all three describe the same RMB 30m–300m band.

Standardised approach — risk weights by exposure class from a YAML table validated by
:class:`StandardisedRiskWeights`; the default (``defaults/capital.yaml``) documents each weight
and its source in 《商业银行资本管理办法》(2023) and BCBS CRE20.

All functions are vectorised: arrays broadcast against each other, and scalars in give a
``float`` out. Inputs are checked once, at the public entry points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy.special import ndtr, ndtri

from lendvalue.errors import DataContractError
from lendvalue.tables import (
    Array,
    FloatOrArray,
    TableSource,
    as_float_array,
    check_range,
    load_table,
    lookup_codes,
    scalar_or_array,
)

__all__ = [
    "BASEL_SME_BOUNDS_EUR_MILLION",
    "CN_SME_BOUNDS_10M_YUAN",
    "CN_SME_BOUNDS_100M_YUAN",
    "CN_SME_BOUNDS_MILLION_YUAN",
    "MATURITY_CAP_YEARS",
    "MATURITY_FLOOR_YEARS",
    "PD_FLOOR_CORPORATE",
    "ExposureClassWeight",
    "StandardisedRiskWeights",
    "asset_correlation",
    "capital_requirement_k",
    "corporate_risk_weight",
    "expected_loss",
    "load_standardised_risk_weights",
    "maturity_adjustment",
    "risk_weighted_assets",
    "standardised_risk_weight",
]

BASEL_SME_BOUNDS_EUR_MILLION: tuple[float, float] = (5.0, 50.0)
"""CRE31.6: the firm-size adjustment runs from EUR 5m (full −0.04) to EUR 50m (none)."""
CN_SME_BOUNDS_10M_YUAN: tuple[float, float] = (3.0, 30.0)
"""《商业银行资本管理办法》附件5 中小企业: S in 千万元, bounds 3 and 30 (RMB 30m–300m)."""
CN_SME_BOUNDS_MILLION_YUAN: tuple[float, float] = (30.0, 300.0)
"""The same Chinese band with S in millions of yuan (百万元)."""
CN_SME_BOUNDS_100M_YUAN: tuple[float, float] = (0.3, 3.0)
"""The same Chinese band with S in 亿元 (0.3 亿 = 3千万 to 3 亿); see the module notes on units."""
PD_FLOOR_CORPORATE = 0.0005
"""CRE32.4: PD used in the risk weight and in expected loss is at least 0.05% (corporates)."""
MATURITY_FLOOR_YEARS = 1.0
MATURITY_CAP_YEARS = 5.0
"""Effective maturity M is floored at one year and capped at five years (CRE32)."""

_G999 = float(ndtri(0.999))
_CONFIDENCE = 0.999
_MIN_PD_FLOOR = 1e-5
"""Below PD ≈ 2.9e-6 the maturity adjustment's denominator 1 − 1.5 b turns negative; floors
must stay above that."""

# --------------------------------------------------------------------------- input checks


def _check_bounds(sme_bounds: tuple[float, float]) -> tuple[float, float]:
    try:
        low, high = (float(b) for b in sme_bounds)
    except (TypeError, ValueError) as exc:
        raise DataContractError(
            f"sme_bounds must be two numbers (lower, upper), got {sme_bounds!r}"
        ) from exc
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low < high):
        raise DataContractError(
            f"sme_bounds must satisfy 0 <= lower < upper, got {sme_bounds!r}; Basel uses "
            f"{BASEL_SME_BOUNDS_EUR_MILLION} (EUR m), China {CN_SME_BOUNDS_10M_YUAN} (千万元)"
        )
    return low, high


def _check_pd_floor(pd_floor: float) -> float:
    floor = float(pd_floor)
    if not (_MIN_PD_FLOOR <= floor < 1):
        raise DataContractError(
            f"pd_floor must lie in [{_MIN_PD_FLOOR:g}, 1), got {pd_floor!r}; the Basel "
            f"corporate floor is {PD_FLOOR_CORPORATE} (CRE32.4)"
        )
    return floor


# --------------------------------------------------------------------------- kernels


def _correlation(pd_: Array, sales: Array | None, low: float, high: float) -> Array:
    weight = -np.expm1(-50.0 * pd_) / -np.expm1(-50.0)
    r = 0.12 * weight + 0.24 * (1.0 - weight)
    if sales is not None:
        s = np.clip(sales, low, high)
        adjustment = np.where(np.isnan(sales), 0.0, 0.04 * (1.0 - (s - low) / (high - low)))
        r = r - adjustment
    return r


def _maturity_adjustment(pd_: Array, maturity: Array) -> Array:
    b = (0.11852 - 0.05478 * np.log(pd_)) ** 2
    return (1.0 + (maturity - 2.5) * b) / (1.0 - 1.5 * b)


def _k_performing(pd_: Array, lgd: Array, r: Array, ma: Array) -> Array:
    conditional_pd = ndtr((ndtri(pd_) + np.sqrt(r) * _G999) / np.sqrt(1.0 - r))
    return (lgd * conditional_pd - pd_ * lgd) * ma


# --------------------------------------------------------------------------- public IRB


def asset_correlation(
    pd: npt.ArrayLike,
    sales_million: npt.ArrayLike | None = None,
    *,
    sme_bounds: tuple[float, float] = BASEL_SME_BOUNDS_EUR_MILLION,
) -> FloatOrArray:
    """Asset correlation R of a corporate exposure, with the SME firm-size adjustment.

    .. math::

        R = 0.12\\,\\frac{1-e^{-50 PD}}{1-e^{-50}}
            + 0.24\\left(1-\\frac{1-e^{-50 PD}}{1-e^{-50}}\\right)
            - 0.04\\left(1-\\frac{\\min(\\max(S, S_{lo}), S_{hi})-S_{lo}}{S_{hi}-S_{lo}}\\right)

    Source: BCBS CRE31.5 (correlation) and CRE31.6 (firm-size adjustment, EUR 5m–50m);
    《商业银行资本管理办法》(2023) 附件5 (中小企业, S in 千万元, bounds 3 and 30 — see the
    module notes).

    Parameters
    ----------
    pd : array_like
        Probability of default as a decimal in [0, 1] (not floored here).
    sales_million : array_like, optional
        Annual sales of the borrower's consolidated group, in the unit of ``sme_bounds``
        (EUR million by default). ``None`` or NaN: no firm-size adjustment (not an SME, or
        sales unknown — the conservative reading). Sales at or above the upper bound get no
        adjustment; below the lower bound they count as the lower bound.
    sme_bounds : (float, float)
        Lower and upper sales bound of the adjustment, e.g. :data:`CN_SME_BOUNDS_10M_YUAN`.

    Returns
    -------
    float or ndarray
        R, between 0.08 and 0.24.
    """
    low, high = _check_bounds(sme_bounds)
    pd_ = as_float_array("pd", pd)
    check_range("pd", pd_, 0.0, 1.0)
    sales = None if sales_million is None else as_float_array("sales_million", sales_million)
    if sales is not None:
        check_range("sales_million", sales, 0.0, np.inf, allow_nan=True)
        pd_, sales = np.broadcast_arrays(pd_, sales)
    out = _correlation(pd_, sales, low, high)
    inputs = (pd,) if sales_million is None else (pd, sales_million)
    return scalar_or_array(out, *inputs)


def maturity_adjustment(
    pd: npt.ArrayLike,
    maturity_years: npt.ArrayLike,
    *,
    pd_floor: float = PD_FLOOR_CORPORATE,
    maturity_floor_years: float = MATURITY_FLOOR_YEARS,
    maturity_cap_years: float = MATURITY_CAP_YEARS,
) -> FloatOrArray:
    """Maturity adjustment :math:`(1 + (M - 2.5) b) / (1 - 1.5 b)` with
    :math:`b = (0.11852 - 0.05478 \\ln PD)^2` (BCBS CRE31.5).

    .. math::

        MA = \\frac{1 + (\\min(\\max(M, 1), 5) - 2.5)\\,b(PD)}{1 - 1.5\\,b(PD)}

    PD is floored at ``pd_floor`` (CRE32.4) and M clipped to
    ``[maturity_floor_years, maturity_cap_years]`` (CRE32, effective maturity). MA = 1 at
    M = 1 (one-year horizon) and rises with M.
    """
    floor = _check_pd_floor(pd_floor)
    pd_ = as_float_array("pd", pd)
    check_range("pd", pd_, 0.0, 1.0)
    maturity = as_float_array("maturity_years", maturity_years)
    check_range("maturity_years", maturity, 0.0, np.inf, hint="Pass years, e.g. 2.5.")
    pd_, maturity = np.broadcast_arrays(np.maximum(pd_, floor), maturity)
    m = np.clip(maturity, maturity_floor_years, maturity_cap_years)
    return scalar_or_array(_maturity_adjustment(pd_, m), pd, maturity_years)


def capital_requirement_k(
    pd: npt.ArrayLike,
    lgd: npt.ArrayLike,
    maturity_years: npt.ArrayLike,
    sales_million: npt.ArrayLike | None = None,
    *,
    sme_bounds: tuple[float, float] = BASEL_SME_BOUNDS_EUR_MILLION,
    pd_floor: float = PD_FLOOR_CORPORATE,
    el_best_estimate: npt.ArrayLike | None = None,
    maturity_floor_years: float = MATURITY_FLOOR_YEARS,
    maturity_cap_years: float = MATURITY_CAP_YEARS,
) -> FloatOrArray:
    """Capital requirement K per unit of EAD for corporate exposures (IRB).

    Performing exposures (``PD < 1``), BCBS CRE31.5 with the correlation of
    :func:`asset_correlation` and the maturity adjustment of :func:`maturity_adjustment`:

    .. math::

        K = \\left[LGD\\;N\\!\\left(\\frac{G(PD) + \\sqrt{R}\\,G(0.999)}{\\sqrt{1-R}}\\right)
            - PD \\cdot LGD\\right] \\frac{1 + (M - 2.5)\\,b}{1 - 1.5\\,b}

    Defaulted exposures (``PD = 1``), BCBS CRE31.3:

    .. math:: K = \\max(0,\\; LGD - EL_{BE})

    Parameters
    ----------
    pd, lgd : array_like
        Decimals in [0, 1]. PD is floored at ``pd_floor``; ``PD = 1`` marks default.
    maturity_years : array_like
        Effective maturity M in years (≥ 0), clipped to
        ``[maturity_floor_years, maturity_cap_years]``.
    sales_million : array_like, optional
        Group annual sales in the unit of ``sme_bounds`` for the SME adjustment (CRE31.6);
        ``None``/NaN for none.
    sme_bounds : (float, float)
        Sales bounds of the adjustment; Basel EUR (5, 50) m by default.
    pd_floor : float
        0.05% by default (CRE32.4).
    el_best_estimate : array_like, optional
        Best estimate of expected loss (a decimal of EAD) for defaulted exposures; used only
        where ``PD = 1``. ``None`` means equal to LGD, so K = 0 (foundation approach:
        supervisory LGD, EL = LGD × EAD).

    Returns
    -------
    float or ndarray
        K ≥ 0, as a decimal of EAD.

    Notes
    -----
    K is not monotone in PD: it rises with PD up to a peak near PD ≈ 0.27–0.34 (depending on
    M and sales) and then falls to 0 at PD → 1, because the unexpected loss
    :math:`LGD\\,(N(\\cdot) - PD)` vanishes as default becomes certain (expected loss, covered by
    provisions, takes over).
    """
    low, high = _check_bounds(sme_bounds)
    floor = _check_pd_floor(pd_floor)
    pd_ = as_float_array("pd", pd)
    check_range("pd", pd_, 0.0, 1.0, hint="Pass a probability as a decimal (0.01 for 1%).")
    lgd_ = as_float_array("lgd", lgd)
    check_range("lgd", lgd_, 0.0, 1.0, hint="Pass LGD as a decimal (0.45 for 45%).")
    maturity = as_float_array("maturity_years", maturity_years)
    check_range("maturity_years", maturity, 0.0, np.inf, hint="Pass years, e.g. 2.5.")
    if not (0 < maturity_floor_years <= maturity_cap_years):
        raise DataContractError(
            "maturity bounds must satisfy 0 < maturity_floor_years <= maturity_cap_years, got "
            f"{maturity_floor_years!r} and {maturity_cap_years!r}"
        )
    arrays = [pd_, lgd_, maturity]
    sales = None
    if sales_million is not None:
        sales = as_float_array("sales_million", sales_million)
        check_range("sales_million", sales, 0.0, np.inf, allow_nan=True)
        arrays.append(sales)
    elbe = None
    if el_best_estimate is not None:
        elbe = as_float_array("el_best_estimate", el_best_estimate)
        check_range("el_best_estimate", elbe, 0.0, 1.0)
        arrays.append(elbe)
    broadcast = np.broadcast_arrays(*arrays)
    pd_, lgd_, maturity = broadcast[:3]
    rest = broadcast[3:]
    if sales is not None:
        sales, rest = rest[0], rest[1:]
    if elbe is not None:
        elbe = rest[0]

    defaulted = pd_ >= 1.0
    # performing branch on a safe PD (defaulted rows get a dummy PD, overwritten below)
    pd_eff = np.where(defaulted, 0.5, np.maximum(pd_, floor))
    r = _correlation(pd_eff, sales, low, high)
    m = np.clip(maturity, maturity_floor_years, maturity_cap_years)
    k = _k_performing(pd_eff, lgd_, r, _maturity_adjustment(pd_eff, m))
    k = np.maximum(k, 0.0)  # guards -0.0 / rounding at LGD = 0
    k_default = np.zeros_like(lgd_) if elbe is None else np.maximum(0.0, lgd_ - elbe)
    out = np.where(defaulted, k_default, k)
    inputs: list[Any] = [pd, lgd, maturity_years]
    if sales_million is not None:
        inputs.append(sales_million)
    if el_best_estimate is not None:
        inputs.append(el_best_estimate)
    return scalar_or_array(out, *inputs)


def corporate_risk_weight(
    pd: npt.ArrayLike,
    lgd: npt.ArrayLike,
    maturity_years: npt.ArrayLike,
    sales_million: npt.ArrayLike | None = None,
    *,
    sme_bounds: tuple[float, float] = BASEL_SME_BOUNDS_EUR_MILLION,
    pd_floor: float = PD_FLOOR_CORPORATE,
    el_best_estimate: npt.ArrayLike | None = None,
    maturity_floor_years: float = MATURITY_FLOOR_YEARS,
    maturity_cap_years: float = MATURITY_CAP_YEARS,
) -> FloatOrArray:
    """IRB risk weight of a corporate exposure as a decimal: :math:`RW = 12.5\\,K`.

    .. math:: RW = 12.5 \\times K(PD, LGD, M, S)

    Source: BCBS CRE31.5 (RWA = K × 12.5 × EAD; no 1.06 scaling in the Basel III final
    framework). PD 1%, LGD 45%, M 2.5 gives 0.9232 (BCBS CRE99 / Basel II Annex 5
    illustrative risk weights: 92.32%). Arguments as in :func:`capital_requirement_k`.
    """
    k = capital_requirement_k(
        pd,
        lgd,
        maturity_years,
        sales_million,
        sme_bounds=sme_bounds,
        pd_floor=pd_floor,
        el_best_estimate=el_best_estimate,
        maturity_floor_years=maturity_floor_years,
        maturity_cap_years=maturity_cap_years,
    )
    return 12.5 * k


def risk_weighted_assets(
    ead_yuan: npt.ArrayLike,
    pd: npt.ArrayLike,
    lgd: npt.ArrayLike,
    maturity_years: npt.ArrayLike,
    sales_million: npt.ArrayLike | None = None,
    *,
    sme_bounds: tuple[float, float] = BASEL_SME_BOUNDS_EUR_MILLION,
    pd_floor: float = PD_FLOOR_CORPORATE,
    el_best_estimate: npt.ArrayLike | None = None,
    maturity_floor_years: float = MATURITY_FLOOR_YEARS,
    maturity_cap_years: float = MATURITY_CAP_YEARS,
) -> FloatOrArray:
    """Risk-weighted assets in the currency of ``ead_yuan``:
    :math:`RWA = K \\times 12.5 \\times EAD` (BCBS CRE31.5; CRE31.3 for defaulted exposures).

    The minimum capital is 8% of RWA, i.e. K × EAD. Arguments as in
    :func:`capital_requirement_k`; ``ead_yuan`` ≥ 0.
    """
    ead = as_float_array("ead_yuan", ead_yuan)
    check_range("ead_yuan", ead, 0.0, np.inf)
    k = capital_requirement_k(
        pd,
        lgd,
        maturity_years,
        sales_million,
        sme_bounds=sme_bounds,
        pd_floor=pd_floor,
        el_best_estimate=el_best_estimate,
        maturity_floor_years=maturity_floor_years,
        maturity_cap_years=maturity_cap_years,
    )
    out = 12.5 * np.asarray(k) * ead
    inputs: list[Any] = [ead_yuan, pd, lgd, maturity_years]
    if sales_million is not None:
        inputs.append(sales_million)
    if el_best_estimate is not None:
        inputs.append(el_best_estimate)
    return scalar_or_array(np.asarray(out, dtype=np.float64), *inputs)


def expected_loss(
    pd: npt.ArrayLike,
    lgd: npt.ArrayLike,
    ead_yuan: npt.ArrayLike,
    *,
    pd_floor: float | None = PD_FLOOR_CORPORATE,
) -> FloatOrArray:
    """Expected loss amount :math:`EL = PD \\times LGD \\times EAD` (BCBS CRE35.2).

    .. math:: EL = \\max(PD, PD_{floor}) \\cdot LGD \\cdot EAD

    PD is floored at ``pd_floor`` as CRE32.4 requires for the regulatory EL; pass
    ``pd_floor=None`` for the unfloored (e.g. IFRS 9-style) product. For a defaulted
    exposure (PD = 1) this is LGD × EAD, the foundation-approach EL.
    """
    pd_ = as_float_array("pd", pd)
    check_range("pd", pd_, 0.0, 1.0, hint="Pass a probability as a decimal (0.01 for 1%).")
    lgd_ = as_float_array("lgd", lgd)
    check_range("lgd", lgd_, 0.0, 1.0, hint="Pass LGD as a decimal (0.45 for 45%).")
    ead = as_float_array("ead_yuan", ead_yuan)
    check_range("ead_yuan", ead, 0.0, np.inf)
    if pd_floor is not None:
        pd_ = np.maximum(pd_, _check_pd_floor(pd_floor))
    out = np.asarray(pd_ * lgd_ * ead, dtype=np.float64)
    return scalar_or_array(out, pd, lgd, ead_yuan)


class ExposureClassWeight(BaseModel):
    """One standardised-approach exposure class: its risk weight and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk_weight: float = Field(ge=0.0, le=12.5, description="decimal, 1.0 = 100%")
    label_zh: str = Field(min_length=1)
    source: str = Field(min_length=1, description="regulation and paragraph")


class StandardisedRiskWeights(BaseModel):
    """Standardised-approach risk weights for corporate exposure classes (YAML
    ``defaults/capital.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    risk_weights: dict[str, ExposureClassWeight] = Field(min_length=1)

    @field_validator("risk_weights")
    @classmethod
    def _codes_are_identifiers(
        cls, value: dict[str, ExposureClassWeight]
    ) -> dict[str, ExposureClassWeight]:
        bad = [k for k in value if not k.isidentifier() or k != k.lower()]
        if bad:
            raise ValueError(f"exposure-class codes must be lower_snake_case, got {bad}")
        return value

    @property
    def exposure_classes(self) -> tuple[str, ...]:
        return tuple(self.risk_weights)


def load_standardised_risk_weights(
    source: TableSource = None,
) -> StandardisedRiskWeights:
    """The standardised risk-weight table: the packaged default (``source=None``), a YAML path
    or a mapping, validated by :class:`StandardisedRiskWeights`; bad tables raise
    :class:`~lendvalue.errors.ConfigError` naming the field."""
    return load_table(StandardisedRiskWeights, source, "capital.yaml")


def standardised_risk_weight(
    exposure_class: str | npt.ArrayLike,
    table: TableSource = None,
) -> FloatOrArray:
    """Standardised-approach risk weight (decimal) of each exposure-class code.

    .. math:: RWA = RW_{\\text{class}} \\times EAD

    Source: 《商业银行资本管理办法》(2023) 权重法 (一般公司 100%, 投资级公司 75%, 中小企业 85%,
    小微企业 75%, 项目融资 130%/100%/80% by phase) and BCBS CRE20.42–20.51; each entry of the
    table carries its own source.

    Parameters
    ----------
    exposure_class : str or array_like of str
        Codes of the table, e.g. ``"general_corporate"``, ``"sme_corporate"``.
    table : optional
        ``None`` for the packaged default, a YAML path, a mapping or a
        :class:`StandardisedRiskWeights`.

    Raises
    ------
    DataContractError
        For a code the table does not have (the message lists the valid codes).
    """
    rw_table = load_standardised_risk_weights(table)
    weights = {k: v.risk_weight for k, v in rw_table.risk_weights.items()}
    codes = np.asarray(exposure_class, dtype=object)
    out = lookup_codes("exposure_class", codes, weights)
    return scalar_or_array(out, exposure_class)
