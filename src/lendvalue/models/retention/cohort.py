"""Contractual cohort retention: the shifted-beta-geometric (sBG) and beta-discrete-Weibull (BdW)
models of how many customers of a cohort are still customers after each renewal period.

A customer renews at the end of every period or leaves for good. Period 1 is the one bought at
acquisition; ``T`` is the period at whose end the customer does not renew, and
:math:`S(t) = P(T > t)` is the share of the cohort still a customer after ``t`` renewal
decisions (``S(0) = 1``). Renewal periods are years for a corporate relationship
(``time_unit = "year"``), but any fixed period works.

- **sBG** (Fader & Hardie 2007, "How to project customer retention", *Journal of Interactive
  Marketing* 21(1), 76-90; FH07 below): a customer leaves at the end of each period with a
  constant probability :math:`\\theta`, and :math:`\\theta \\sim \\mathrm{Beta}(\\alpha, \\beta)`
  across customers. Then (FH07, section 3)

  .. math::

      P(T = t) = \\frac{B(\\alpha+1, \\beta+t-1)}{B(\\alpha,\\beta)}, \\qquad
      S(t) = \\frac{B(\\alpha, \\beta+t)}{B(\\alpha,\\beta)}, \\qquad
      r_t = \\frac{S(t)}{S(t-1)} = \\frac{\\beta+t-1}{\\alpha+\\beta+t-1}.

  The aggregate retention rate rises with ``t`` only because the customers most likely to leave
  leave first (heterogeneity), never because a customer's own propensity changes.
- **BdW** (Fader, Hardie, Liu, Davin & Steenburgh 2018, "'How to project customer retention'
  revisited: the role of duration dependence", *Journal of Interactive Marketing* 43, 1-16;
  FHLDS18 below): a customer's own survival is discrete Weibull,
  :math:`P(T > t \\mid \\theta) = (1-\\theta)^{t^c}`, with the same beta mixing, so

  .. math::

      S(t) = \\frac{B(\\alpha, \\beta + t^c)}{B(\\alpha, \\beta)}, \\qquad
      P(T = t) = S(t-1) - S(t).

  ``c < 1`` is negative duration dependence (a customer becomes less likely to leave as the
  relationship ages), ``c > 1`` positive; ``c = 1`` is the sBG.

Data: rows of customer groups with ``duration`` (whole periods observed, ≥ 1) and ``churned``
(1: the group left at the end of period ``duration``, contributing :math:`P(T = \\text{duration})`;
0: still customers after ``duration`` periods, contributing :math:`S(\\text{duration})`), weighted
by the number of customers. :func:`survivors_to_lifetimes` builds them from the survivor counts
of one or several cohorts, each observed for its own number of periods; cohorts fitted together
share the parameters.

Value (Fader & Hardie 2010, "Customer-base valuation in a contractual setting: the perils of
ignoring heterogeneity", *Marketing Science* 29(1), 85-93; FH10 below): the discounted expected
residual lifetime (DERL, FH10 eq. 6) of a customer, and times a per-period margin, the expected
residual value of the relationship (:meth:`renewal_value`).

Numerical notes: everything is in log space. The BdW churn probability is a difference of two
survival probabilities; it is evaluated as :math:`S(t-1)(1 - e^{D})` with
:math:`D = \\log B(\\alpha, u + h) - \\log B(\\alpha, u)`, :math:`u = \\beta + (t-1)^c`,
:math:`h = t^c - (t-1)^c`. :math:`D` is a difference of log-gamma *differences*
:math:`\\log\\Gamma(x+s) - \\log\\Gamma(x)` evaluated by Stirling's series term by term (not
of ``betaln`` values, which for large ``u`` lose most digits), or, when ``h`` or ``α`` is small
next to ``u``, a midpoint series in digamma differences; gradients use digamma differences
computed the same way. The likelihood and its gradient stay finite for durations up to 10⁴,
α and β from 10⁻⁸ to 10⁸ and c from 10⁻³ to 30, and agree with central differences to 1e-7.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import polygamma

from lendvalue.errors import DataContractError
from lendvalue.models.base import Array, BaseModel, ColumnCheck, Params
from lendvalue.models.btyd.bgbb import _log_hyp2f1_dert

__all__ = [
    "BetaDiscreteWeibullModel",
    "ShiftedBetaGeoModel",
    "bdw_conditional_survival",
    "bdw_derl",
    "bdw_log_pmf",
    "bdw_log_survival",
    "bdw_loglik",
    "bdw_loglik_and_grad",
    "bdw_loglik_grad",
    "bdw_retention_rate",
    "bdw_survival",
    "sbg_conditional_survival",
    "sbg_derl",
    "sbg_log_pmf",
    "sbg_log_survival",
    "sbg_loglik",
    "sbg_loglik_and_grad",
    "sbg_loglik_grad",
    "sbg_retention_rate",
    "sbg_survival",
    "survivors_to_lifetimes",
]

SurvivorsLike = Sequence[float] | npt.NDArray[Any] | pd.Series | pd.DataFrame | Mapping[Any, Any]
"""Survivor counts: one cohort's counts from period 0, a mapping cohort → counts, or a long
frame with columns ``cohort`` (optional), ``period`` and ``survivors``."""

# --------------------------------------------------------------------------- numerical kernels

_PSI_SHIFT = 10
"""Digamma differences use the recurrence up to this argument, then the asymptotic series."""
_BERNOULLI_2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
"""B_2, B_4, ..., B_14: the asymptotic series of ψ at x ≥ 10 is then accurate to about 1e-16."""
_SERIES = 0.05
"""A log-beta step goes by the midpoint series when its width is below this share of ``u``."""
_DERL_RTOL = 1e-12
"""The BdW DERL series stops when a bound on its remaining tail is below this share of the sum."""


def _floats(*values: npt.ArrayLike) -> tuple[tuple[int, ...], list[Array]]:
    """Broadcast to one shape and flatten (copies, so callers may write into them)."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    shape = arrays[0].shape
    return shape, [np.array(a, dtype=np.float64).ravel() for a in arrays]


def _psi_diff(x: npt.ArrayLike, h: npt.ArrayLike) -> Array:
    """:math:`\\psi(x+h) - \\psi(x)` for ``x > 0``, ``h ≥ 0``, to a few ulps *relative*, also
    when ``h`` is tiny next to ``x`` (where ``digamma(x + h) - digamma(x)`` cancels).

    The recurrence :math:`\\psi(y) = \\psi(y+1) - 1/y` lifts ``x`` above 10 while adding the
    positive terms :math:`h / (y (y+h))`; there the asymptotic series
    :math:`\\psi(y) \\sim \\ln y - \\tfrac{1}{2y} - \\sum_k B_{2k} / (2k\\,y^{2k})` is differenced
    term by term with ``log1p`` and ``expm1`` (Abramowitz & Stegun 6.3.5 and 6.3.18).
    """
    shape, (y, hh) = _floats(x, h)
    total = np.zeros_like(y)
    for _ in range(_PSI_SHIFT):
        low = y < _PSI_SHIFT
        if not low.any():
            break
        yl, hl = y[low], hh[low]
        total[low] += hl / (yl * (yl + hl))
        y[low] = yl + 1.0
    with np.errstate(over="ignore", under="ignore"):
        log_ratio = np.log1p(hh / y)
        total += log_ratio + hh / (2.0 * y * (y + hh))
        inv_y2 = 1.0 / (y * y)
        power = np.ones_like(y)
        for k, b2k in enumerate(_BERNOULLI_2K, start=1):
            power = power * inv_y2
            total -= b2k / (2 * k) * power * np.expm1(-2.0 * k * log_ratio)
    return total.reshape(shape)


def _lgamma_diff(x: npt.ArrayLike, h: npt.ArrayLike) -> Array:
    """:math:`\\log\\Gamma(x+h) - \\log\\Gamma(x)` for ``x > 0``, ``h ≥ 0``, to a few ulps of the
    result (``gammaln(x + h) - gammaln(x)`` loses :math:`\\log_{10}(x \\ln x)` digits for large
    ``x``).

    The recurrence :math:`\\log\\Gamma(y) = \\log\\Gamma(y+1) - \\log y` lifts ``x`` above 10
    while adding :math:`-\\log(1 + h/y)`; there Stirling's series
    :math:`(y-\\tfrac12)\\ln y - y + \\tfrac12\\ln 2\\pi + \\sum_k B_{2k}/(2k(2k-1)y^{2k-1})`
    (Abramowitz & Stegun 6.1.40) is differenced term by term with ``log1p`` and ``expm1``.
    """
    shape, (y, hh) = _floats(x, h)
    total = np.zeros_like(y)
    for _ in range(_PSI_SHIFT):
        low = y < _PSI_SHIFT
        if not low.any():
            break
        yl, hl = y[low], hh[low]
        total[low] -= np.log1p(hl / yl)
        y[low] = yl + 1.0
    with np.errstate(over="ignore", under="ignore"):
        log_ratio = np.log1p(hh / y)
        total += (y - 0.5) * log_ratio + hh * (np.log(y + hh) - 1.0)
        inv_y2 = 1.0 / (y * y)
        power = y.copy()
        for k, b2k in enumerate(_BERNOULLI_2K, start=1):
            power = power * inv_y2  # y^(1-2k)
            total += b2k / (2 * k * (2 * k - 1)) * power * np.expm1((1 - 2 * k) * log_ratio)
    return total.reshape(shape)


def _midpoint_integral(m: Array, shift: Array, width: Array) -> Array:
    """:math:`\\int_{m-w/2}^{m+w/2} [\\psi(y+s) - \\psi(y)]\\,dy` by the midpoint rule with its
    corrections :math:`w^{2j+1} g^{(2j)}(m) / (2^{2j} (2j+1)!)`, j = 1..3; the relative error is
    about :math:`(w/m)^8 / 2000` (below 1e-13 for ``w ≤ 0.05 m``)."""
    total = _psi_diff(m, shift)
    w2 = width * width
    factor = np.ones_like(width)
    for j in (1, 2, 3):
        factor = factor * w2 / (4.0 * (2 * j) * (2 * j + 1))
        total = total + factor * (polygamma(2 * j, m + shift) - polygamma(2 * j, m))
    return np.asarray(width * total, dtype=np.float64)


def _log_beta_step(a: npt.ArrayLike, u: npt.ArrayLike, h: npt.ArrayLike) -> Array:
    """:math:`\\log B(a, u+h) - \\log B(a, u) \\le 0` for ``a, u > 0``, ``h ≥ 0``.

    It equals :math:`\\Lambda(u, a) - \\Lambda(u+h, a) = \\Lambda(u, h) - \\Lambda(u+a, h)` with
    :math:`\\Lambda(x, s) = \\log\\Gamma(x+s) - \\log\\Gamma(x)` (:func:`_lgamma_diff`; the form
    with the smaller shift keeps the terms small), i.e.
    :math:`-\\int_u^{u+h} [\\psi(y+a) - \\psi(y)]\\,dy` and, by symmetry,
    :math:`-\\int_u^{u+a} [\\psi(y+h) - \\psi(y)]\\,dy`. When the smaller of ``h`` and ``a`` is
    below 5 % of ``u`` that difference would lose digits, and the narrower integral is taken by
    :func:`_midpoint_integral` instead.
    """
    shape, (aa, uu, hh) = _floats(a, u, h)
    out = np.empty_like(aa)
    small = np.minimum(aa, hh) <= _SERIES * uu
    direct = ~small
    if direct.any():
        ad, ud, hd = aa[direct], uu[direct], hh[direct]
        lo, hi = np.minimum(ad, hd), np.maximum(ad, hd)  # difference across the narrower shift
        out[direct] = np.minimum(_lgamma_diff(ud, lo) - _lgamma_diff(ud + hi, lo), 0.0)
    in_h = small & (hh <= aa)
    if in_h.any():
        ai, ui, hi = aa[in_h], uu[in_h], hh[in_h]
        out[in_h] = -_midpoint_integral(ui + hi / 2.0, ai, hi)
    in_a = small & (hh > aa)
    if in_a.any():
        ai, ui, hi = aa[in_a], uu[in_a], hh[in_a]
        out[in_a] = -_midpoint_integral(ui + ai / 2.0, hi, ai)
    return out.reshape(shape)


def _power(t: Array, c: Array) -> Array:
    """:math:`t^c` with :math:`0^c = 0` (``c > 0``)."""
    with np.errstate(divide="ignore"):
        return np.where(t > 0, np.exp(c * np.log(np.where(t > 0, t, 1.0))), 0.0)


def _power_step(t0: Array, k: Array, c: Array) -> Array:
    """:math:`(t_0+k)^c - t_0^c` without cancellation: :math:`t_0^c\\,\\mathrm{expm1}(c
    \\log(1 + k/t_0))`, and :math:`k^c` at :math:`t_0 = 0`."""
    safe = np.where(t0 > 0, t0, 1.0)
    return np.where(t0 > 0, _power(safe, c) * np.expm1(c * np.log1p(k / safe)), _power(k, c))


def _log1mexp(d: Array) -> Array:
    """:math:`\\log(1 - e^d)` for ``d < 0`` (Mächler 2012: ``log(-expm1)`` near 0, else
    ``log1p(-exp)``)."""
    with np.errstate(divide="ignore"):
        return np.where(d > -math.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


# --------------------------------------------------------------------------- sBG (pure)


def sbg_log_survival(alpha: npt.ArrayLike, beta: npt.ArrayLike, t: npt.ArrayLike) -> Array:
    """:math:`\\log S(t) = \\log B(\\alpha, \\beta+t) - \\log B(\\alpha, \\beta)`,
    for real ``t ≥ 0``."""
    return _log_beta_step(alpha, beta, t)


def sbg_survival(alpha: npt.ArrayLike, beta: npt.ArrayLike, t: npt.ArrayLike) -> Array:
    """:math:`S(t) = P(T > t)`, the share of a cohort still customers after ``t`` periods."""
    return np.asarray(np.exp(sbg_log_survival(alpha, beta, t)), dtype=np.float64)


def sbg_conditional_survival(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, t: npt.ArrayLike, given: npt.ArrayLike
) -> Array:
    """:math:`S(g+t)/S(g) = B(\\alpha, \\beta+g+t) / B(\\alpha, \\beta+g)`: the probability that a
    customer still there after ``g`` periods is still there ``t`` periods later."""
    shape, (a, b, tt, g) = _floats(alpha, beta, t, given)
    return np.exp(_log_beta_step(a, b + g, tt)).reshape(shape)


def sbg_retention_rate(alpha: npt.ArrayLike, beta: npt.ArrayLike, t: npt.ArrayLike) -> Array:
    """:math:`r_t = S(t)/S(t-1) = (\\beta+t-1)/(\\alpha+\\beta+t-1)`, ``t ≥ 1`` (FH07)."""
    a, b, tt = (np.asarray(v, dtype=np.float64) for v in (alpha, beta, t))
    return np.asarray((b + tt - 1.0) / (a + b + tt - 1.0), dtype=np.float64)


def sbg_log_pmf(alpha: npt.ArrayLike, beta: npt.ArrayLike, t: npt.ArrayLike) -> Array:
    """:math:`\\log P(T=t) = \\log B(\\alpha+1, \\beta+t-1) - \\log B(\\alpha,\\beta)` (FH07),
    written as :math:`\\log\\frac{\\alpha}{\\alpha+\\beta+t-1} + \\log S(t-1)`."""
    a, b, tt = (np.asarray(v, dtype=np.float64) for v in (alpha, beta, t))
    return np.asarray(
        np.log(a) - np.log(a + b + tt - 1.0) + _log_beta_step(a, b, tt - 1.0), dtype=np.float64
    )


def sbg_loglik(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, duration: npt.ArrayLike, churned: npt.ArrayLike
) -> Array:
    """Per-row log-likelihood: :math:`\\log P(T=\\text{duration})` when ``churned`` is 1, else
    :math:`\\log S(\\text{duration})` (the per-customer term of FH07's likelihood)."""
    return _sbg_parts(alpha, beta, duration, churned, with_grad=False)[0]


def sbg_loglik_grad(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, duration: npt.ArrayLike, churned: npt.ArrayLike
) -> tuple[Array, Array]:
    """Partial derivatives of :func:`sbg_loglik` in α and β. With
    :math:`\\Delta\\psi(x, h) = \\psi(x+h) - \\psi(x)` and :math:`s = \\alpha+\\beta`:

    - censored: :math:`\\partial_\\alpha = -\\Delta\\psi(s, t)`,
      :math:`\\partial_\\beta = \\Delta\\psi(\\beta, t) - \\Delta\\psi(s, t)`;
    - churned: :math:`\\partial_\\alpha = 1/\\alpha - 1/(s+t-1) - \\Delta\\psi(s, t-1)`,
      :math:`\\partial_\\beta = -1/(s+t-1) + \\Delta\\psi(\\beta, t-1) - \\Delta\\psi(s, t-1)`.
    """
    _, d_alpha, d_beta = _sbg_parts(alpha, beta, duration, churned, with_grad=True)
    return d_alpha, d_beta


def sbg_loglik_and_grad(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, duration: npt.ArrayLike, churned: npt.ArrayLike
) -> tuple[Array, tuple[Array, Array]]:
    """:func:`sbg_loglik` and :func:`sbg_loglik_grad` at once."""
    ll, d_alpha, d_beta = _sbg_parts(alpha, beta, duration, churned, with_grad=True)
    return ll, (d_alpha, d_beta)


def _sbg_parts(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
    *,
    with_grad: bool,
) -> tuple[Array, ...]:
    shape, (a, b, t, dead) = _floats(alpha, beta, duration, churned)
    gone = dead > 0
    # churned rows need S(t-1), censored rows S(t): one log-beta step each
    steps = np.where(gone, t - 1.0, t)
    log_s = _log_beta_step(a, b, steps)
    s_last = a + b + t - 1.0
    ll = np.where(gone, np.log(a) - np.log(s_last) + log_s, log_s)
    if not with_grad:
        return (ll.reshape(shape),)
    psi_s = _psi_diff(a + b, steps)
    psi_b = _psi_diff(b, steps)
    inv_last = 1.0 / s_last
    d_alpha = np.where(gone, 1.0 / a - inv_last, 0.0) - psi_s
    d_beta = np.where(gone, -inv_last, 0.0) + psi_b - psi_s
    return ll.reshape(shape), d_alpha.reshape(shape), d_beta.reshape(shape)


def sbg_derl(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    discount_rate: npt.ArrayLike,
    renewals: npt.ArrayLike = 0,
) -> Array:
    """Discounted expected residual lifetime (FH10 eq. 6) of a customer who has made
    ``renewals`` renewals (FH10's :math:`n - 1`; 0 for a customer still in the period bought at
    acquisition).

    Convention (FH10): we stand at the end of period :math:`n` = ``renewals + 1``, just before
    the customer's next renewal decision; the current period is paid for and not counted. Each
    later period the customer stays for counts one, discounted from its start, so the next
    renewal (at the start of period :math:`n+1`, i.e. now) is not discounted, the one after by
    :math:`1/(1+d)`:

    .. math::

        \\mathrm{DERL}(d \\mid \\alpha, \\beta, n) = \\sum_{k \\ge 0}
            \\frac{S(n+k)}{S(n-1)} (1+d)^{-k}
          = \\frac{\\beta+n-1}{\\alpha+\\beta+n-1}\\,
            {}_2F_1\\!\\left(1, \\beta+n; \\alpha+\\beta+n; \\tfrac{1}{1+d}\\right).

    For one customer with churn probability θ it is :math:`(1-\\theta)(1+d)/(d+\\theta)`. The
    hypergeometric function is Gauss's continued fraction of
    :mod:`lendvalue.models.btyd.bgbb` (accurate also when :math:`1/(1+d)` is close to 1, where
    ``scipy.special.hyp2f1`` can return NaN for large α).

    Parameters
    ----------
    alpha, beta : array_like
        sBG parameters, positive.
    discount_rate : array_like
        Discount rate per period ``d > 0`` (0.1 for 10 % a year with yearly renewals).
    renewals : array_like
        Renewals made so far, ≥ 0.
    """
    shape, (a, b, d, r) = _floats(alpha, beta, discount_rate, renewals)
    if a.size == 0:
        return np.empty(shape)
    base = b + r
    log_value = np.log(base) - np.log(a + base) + _log_hyp2f1_dert(a, base, d)
    return np.exp(log_value).reshape(shape)


# --------------------------------------------------------------------------- BdW (pure)


def bdw_log_survival(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, c: npt.ArrayLike, t: npt.ArrayLike
) -> Array:
    """:math:`\\log S(t) = \\log B(\\alpha, \\beta+t^c) - \\log B(\\alpha,\\beta)` (FHLDS18),
    for real ``t ≥ 0``."""
    shape, (a, b, cc, tt) = _floats(alpha, beta, c, t)
    return _log_beta_step(a, b, _power(tt, cc)).reshape(shape)


def bdw_survival(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, c: npt.ArrayLike, t: npt.ArrayLike
) -> Array:
    """:math:`S(t) = P(T > t)` of the BdW."""
    return np.asarray(np.exp(bdw_log_survival(alpha, beta, c, t)), dtype=np.float64)


def bdw_conditional_survival(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    c: npt.ArrayLike,
    t: npt.ArrayLike,
    given: npt.ArrayLike,
) -> Array:
    """:math:`S(g+t)/S(g) = B(\\alpha, \\beta+(g+t)^c) / B(\\alpha, \\beta+g^c)`."""
    shape, (a, b, cc, tt, g) = _floats(alpha, beta, c, t, given)
    step = _power_step(g, tt, cc)
    return np.exp(_log_beta_step(a, b + _power(g, cc), step)).reshape(shape)


def bdw_retention_rate(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, c: npt.ArrayLike, t: npt.ArrayLike
) -> Array:
    """:math:`r_t = S(t)/S(t-1)`, ``t ≥ 1``."""
    shape, (a, b, cc, tt) = _floats(alpha, beta, c, t)
    return bdw_conditional_survival(a, b, cc, 1.0, tt - 1.0).reshape(shape)


def bdw_log_pmf(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, c: npt.ArrayLike, t: npt.ArrayLike
) -> Array:
    """:math:`\\log P(T=t) = \\log S(t-1) + \\log(1 - S(t)/S(t-1))`, ``t ≥ 1`` (FHLDS18, in
    log space)."""
    return bdw_loglik(alpha, beta, c, t, 1.0)


def bdw_loglik(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    c: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
) -> Array:
    """Per-row log-likelihood of the BdW: :math:`\\log P(T=\\text{duration})` when ``churned`` is
    1, else :math:`\\log S(\\text{duration})`."""
    return _bdw_parts(alpha, beta, c, duration, churned, with_grad=False)[0]


def bdw_loglik_grad(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    c: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
) -> tuple[Array, Array, Array]:
    """Partial derivatives of :func:`bdw_loglik` in α, β and c.

    With :math:`u = \\beta + t^c`, :math:`s = \\alpha+\\beta` and
    :math:`G(x) = \\psi(x+\\alpha) - \\psi(x)`:
    :math:`\\partial_\\alpha \\log S(t) = -[\\psi(s+t^c) - \\psi(s)]`,
    :math:`\\partial_\\beta \\log S(t) = G(\\beta) - G(u)`,
    :math:`\\partial_c \\log S(t) = -G(u)\\,t^c \\ln t` (zero at ``t = 0``). For a churned row,
    :math:`\\log P = \\log S(t-1) + \\log(1 - e^D)` with :math:`D = \\log S(t) - \\log S(t-1)`,
    so :math:`\\partial \\log P = \\partial \\log S(t-1) - \\partial D / \\mathrm{expm1}(-D)`.
    """
    _, d_alpha, d_beta, d_c = _bdw_parts(alpha, beta, c, duration, churned, with_grad=True)
    return d_alpha, d_beta, d_c


def bdw_loglik_and_grad(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    c: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
) -> tuple[Array, tuple[Array, Array, Array]]:
    """:func:`bdw_loglik` and :func:`bdw_loglik_grad` at once."""
    ll, d_alpha, d_beta, d_c = _bdw_parts(alpha, beta, c, duration, churned, with_grad=True)
    return ll, (d_alpha, d_beta, d_c)


def _bdw_parts(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    c: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
    *,
    with_grad: bool,
) -> tuple[Array, ...]:
    shape, (a, b, cc, t, dead) = _floats(alpha, beta, c, duration, churned)
    gone = dead > 0
    t1 = t - 1.0
    p1 = _power(t1, cc)  # (t-1)^c, 0 at t = 1
    h = _power_step(t1, np.ones_like(t), cc)  # t^c - (t-1)^c
    u1 = b + p1
    log_s1 = _log_beta_step(a, b, p1)
    d = _log_beta_step(a, u1, h)  # log S(t) - log S(t-1) < 0
    ll = np.where(gone, log_s1 + _log1mexp(d), log_s1 + d)
    if not with_grad:
        return (ll.reshape(shape),)
    p2 = p1 + h
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t1 = np.where(t1 > 0, np.log(np.where(t1 > 0, t1, 1.0)), 0.0)
    log_t = np.log(t)
    g_beta = _psi_diff(b, a)
    g1 = _psi_diff(u1, a)
    g2 = _psi_diff(b + p2, a)
    # log S(t-1) and log S(t)
    a1, b1, c1 = -_psi_diff(a + b, p1), g_beta - g1, -g1 * p1 * log_t1
    a2, b2, c2 = -_psi_diff(a + b, p2), g_beta - g2, -g2 * p2 * log_t
    # D = log S(t) - log S(t-1), its α-derivative without cancellation
    da, db, dc = -_psi_diff(a + u1, h), g1 - g2, c2 - c1
    with np.errstate(over="ignore", divide="ignore"):
        odds = np.where(gone, 1.0 / np.expm1(-np.where(gone, d, -1.0)), 0.0)
    d_alpha = np.where(gone, a1 - odds * da, a2)
    d_beta = np.where(gone, b1 - odds * db, b2)
    d_c = np.where(gone, c1 - odds * dc, c2)
    return ll.reshape(shape), d_alpha.reshape(shape), d_beta.reshape(shape), d_c.reshape(shape)


def bdw_derl(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    c: npt.ArrayLike,
    discount_rate: npt.ArrayLike,
    renewals: npt.ArrayLike = 0,
) -> Array:
    """Discounted expected residual lifetime of the BdW, with the convention of
    :func:`sbg_derl` (FH10 eq. 6): for :math:`m` = ``renewals``,

    .. math::

        \\mathrm{DERL} = \\sum_{k \\ge 1} \\frac{S(m+k)}{S(m)} (1+d)^{-(k-1)}.

    Summed in blocks of terms (vectorised over rows and terms) until the tail, which is at most
    the last term times :math:`1/d` (each term is at most :math:`1/(1+d)` times the one before),
    is below 1e-12 of the sum. Cost grows like :math:`\\log(1/d)/d` terms: about 3,000 at
    ``d = 0.01``, 3.7e5 at ``d = 1e-4``. With ``c = 1`` it equals :func:`sbg_derl`.
    """
    shape, (a, b, cc, d, m) = _floats(alpha, beta, c, discount_rate, renewals)
    total = np.zeros_like(a)
    if a.size == 0:
        return total.reshape(shape)
    base = b + _power(m, cc)
    log_z = -np.log1p(d)
    rows = np.arange(a.size)
    # terms fall at least geometrically: the bound is reached by term k_cap at the latest
    k_cap = float(np.max(np.ceil(np.log(_DERL_RTOL * d) / log_z))) + 2.0
    start, width = 1.0, 64
    while rows.size and start <= k_cap:
        k = start + np.arange(width, dtype=np.float64)[None, :]
        r = rows[:, None]
        h = _power_step(m[r], k, cc[r])
        terms = np.exp(_log_beta_step(a[r], base[r], h) + (k - 1.0) * log_z[r])
        total[rows] += terms.sum(axis=1)
        finished = (terms[:, -1] <= _DERL_RTOL * d[rows] * total[rows]) | ~np.isfinite(total[rows])
        rows = rows[~finished]
        start += width
        width = min(width * 2, 4096)
    return total.reshape(shape)


# --------------------------------------------------------------------------- survivor counts


def survivors_to_lifetimes(
    survivors: SurvivorsLike, cohort: Hashable | None = None
) -> pd.DataFrame:
    """Survivor counts of cohorts → likelihood rows ``cohort, duration, churned, n_customers``.

    ``survivors`` is one of

    - one cohort's counts by period, starting with the cohort size at period 0 (a sequence,
      array or Series, e.g. ``[1000, 631, 468, ...]``), labelled ``cohort`` (default 0);
    - a mapping ``{cohort: counts}`` for several cohorts;
    - a long DataFrame with columns ``period`` and ``survivors`` and, for several cohorts,
      ``cohort``; each cohort's periods must run 0, 1, 2, ... without gaps.

    A cohort of :math:`n_0` customers observed through period :math:`t_{max}` gives a churned row
    (``churned = 1``) of :math:`n_{t-1} - n_t` customers for each :math:`t = 1..t_{max}` (rows of
    zero customers included) and one censored row (``duration = t_max``, ``churned = 0``) of
    :math:`n_{t_{max}}` customers. A cohort observed at period 0 only carries no information and
    gives no rows. Counts must be whole numbers ≥ 0, non-increasing, with :math:`n_0 > 0`; a
    :class:`~lendvalue.errors.DataContractError` names the cohort and period that break this.
    """
    frames = []
    for label, counts in _cohort_counts(survivors, cohort):
        n = _checked_counts(label, counts)
        t_max = n.size - 1
        if t_max == 0:
            continue
        durations = np.arange(1, t_max + 1, dtype=np.int64)
        frames.append(
            pd.DataFrame(
                {
                    "cohort": [label] * (t_max + 1),
                    "duration": np.append(durations, t_max),
                    "churned": np.append(np.ones(t_max, dtype=np.int64), 0),
                    "n_customers": np.append(n[:-1] - n[1:], n[-1]),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "cohort": pd.Series([], dtype=object),
                "duration": pd.Series([], dtype=np.int64),
                "churned": pd.Series([], dtype=np.int64),
                "n_customers": pd.Series([], dtype=np.int64),
            }
        )
    return pd.concat(frames, ignore_index=True)


def _cohort_counts(
    survivors: SurvivorsLike, cohort: Hashable | None
) -> list[tuple[Hashable, Array]]:
    """(label, counts by period from 0) for each cohort, in order of appearance."""
    if isinstance(survivors, pd.DataFrame):
        return _frame_counts(survivors, cohort)
    if isinstance(survivors, Mapping):
        if cohort is not None:
            raise DataContractError(
                "survivors_to_lifetimes: a mapping already labels its cohorts; drop cohort="
            )
        return [(label, _numeric(label, values)) for label, values in survivors.items()]
    label = 0 if cohort is None else cohort
    return [(label, _numeric(label, survivors))]


def _frame_counts(frame: pd.DataFrame, cohort: Hashable | None) -> list[tuple[Hashable, Array]]:
    missing = [c for c in ("period", "survivors") if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"survivors_to_lifetimes: the frame lacks column(s) {', '.join(missing)}; expected "
            "cohort (optional), period, survivors"
        )
    if "cohort" in frame.columns:
        if cohort is not None:
            raise DataContractError(
                "survivors_to_lifetimes: the frame has a cohort column; drop cohort="
            )
        groups: list[tuple[Hashable, pd.DataFrame]] = list(
            frame.groupby("cohort", sort=False, dropna=False)
        )
    else:
        groups = [(0 if cohort is None else cohort, frame)]
    out: list[tuple[Hashable, Array]] = []
    for label, group in groups:
        periods = _numeric(label, group["period"], what="period")
        order = np.argsort(periods, kind="stable")
        periods = periods[order]
        expected = np.arange(periods.size, dtype=np.float64)
        if not np.array_equal(periods, expected):
            first = int(np.argmax(periods != expected))
            raise DataContractError(
                f"survivors_to_lifetimes: cohort {label!r}: periods must run 0, 1, 2, ... "
                f"without gaps or repeats; period {expected[first]:g} is missing or repeated "
                f"(found {periods[first]:g} in its place)"
            )
        out.append((label, _numeric(label, group["survivors"])[order]))
    return out


def _numeric(label: Hashable, values: Any, what: str = "survivors") -> Array:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r}: {what} must be numbers ({exc})"
        ) from exc
    if array.ndim != 1:
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r}: {what} must be one number per period, "
            f"got an array of shape {array.shape}"
        )
    if what == "period" and not np.all(np.isfinite(array) & (array == np.floor(array))):
        bad = int(np.argmax(~(np.isfinite(array) & (array == np.floor(array)))))
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r}: periods must be whole numbers, got "
            f"{array[bad]!r}"
        )
    return array


def _checked_counts(label: Hashable, counts: Array) -> npt.NDArray[np.int64]:
    if counts.size == 0:
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r} has no counts; give at least the cohort "
            "size at period 0"
        )
    valid = np.isfinite(counts) & (counts >= 0) & (counts == np.floor(counts))
    if not valid.all():
        period = int(np.argmax(~valid))
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r}, period {period}: survivors must be a "
            f"whole number ≥ 0, got {counts[period]!r}"
        )
    if counts[0] <= 0:
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r}, period 0: the cohort size must be > 0, "
            f"got {counts[0]:g}"
        )
    rises = counts[1:] > counts[:-1]
    if rises.any():
        period = int(np.argmax(rises)) + 1
        raise DataContractError(
            f"survivors_to_lifetimes: cohort {label!r}, period {period}: survivors rise from "
            f"{counts[period - 1]:g} to {counts[period]:g}; a cohort's survivor counts can only "
            "fall (customers who leave do not come back into it)"
        )
    return counts.astype(np.int64)


# --------------------------------------------------------------------------- estimators


def _whole_at_least_one(name: str) -> ColumnCheck:
    return ColumnCheck(
        name, "a whole number ≥ 1", lambda v: (v >= 1) & (v == np.floor(v)) & np.isfinite(v)
    )


def _zero_or_one(name: str) -> ColumnCheck:
    return ColumnCheck(name, "0 or 1", lambda v: (v == 0) | (v == 1))


class _CohortRetentionModel(BaseModel):
    """Fitting from survivor counts and the predictions both cohort models share.

    Every time is in periods (the model's ``time_unit``, default year); a discount rate is per
    period; margins are per period, in the currency of the caller. Every prediction accepts
    ``interval`` (e.g. 0.9): the result is then a DataFrame ``estimate, lower, upper`` (one row
    per value, inputs flattened) over 200 parameter draws from the asymptotic normal.
    """

    columns: ClassVar[tuple[ColumnCheck, ...]] = (
        _whole_at_least_one("duration"),
        _zero_or_one("churned"),
    )
    time_unit_default: ClassVar[str] = "year"

    # -- the model's part --------------------------------------------------------------------

    @abc.abstractmethod
    def _log_sf(self, p: Params, t: Array) -> Array:
        """Per model."""

    @abc.abstractmethod
    def _cond_sf(self, p: Params, t: Array, given: Array) -> Array:
        """Per model."""

    @abc.abstractmethod
    def _retention(self, p: Params, t: Array) -> Array:
        """Per model."""

    @abc.abstractmethod
    def _log_pmf(self, p: Params, t: Array) -> Array:
        """Per model."""

    @abc.abstractmethod
    def _derl(self, p: Params, discount_rate: Array, renewals: Array) -> Array:
        """Per model."""

    def _loglik(self, p: Params, d: dict[str, Array]) -> Array:
        return self._loglik_and_grad(p, d)[0]

    def _loglik_grad(self, p: Params, d: dict[str, Array]) -> dict[str, Array]:
        return self._loglik_and_grad(p, d)[1]

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, data: Any, weights: npt.ArrayLike | None = None) -> Self:
        """Maximum-likelihood fit on rows ``duration, churned`` (e.g. from
        :func:`survivors_to_lifetimes`); ``weights`` count the customers of each row and default
        to the data's ``n_customers`` column when it has one, else 1 per row."""
        if weights is None:
            frame = self._frame(data)
            if "n_customers" in frame.columns:
                weights = frame["n_customers"].to_numpy(np.float64)
        return super().fit(data, weights)

    def fit_survivors(self, survivors: SurvivorsLike, cohort: Hashable | None = None) -> Self:
        """Fit on survivor counts: :func:`survivors_to_lifetimes` then :meth:`fit`, weighted by
        the number of customers. Several cohorts (a mapping or a long frame) share one set of
        parameters, each observed for its own number of periods."""
        rows = survivors_to_lifetimes(survivors, cohort)
        return self.fit(rows, weights=rows["n_customers"].to_numpy(np.float64))

    # -- predictions --------------------------------------------------------------------------

    def _predict(self, fn: Callable[[Params], Array], interval: float | None) -> Any:
        self._check_fitted()
        if interval is None:
            return self._with_interval(fn, None, None)
        return self._with_interval(lambda p: np.ravel(fn(p)), None, interval)

    def survival(self, t: npt.ArrayLike, interval: float | None = None) -> Any:
        """:math:`S(t)`: the share of a new cohort still customers after ``t`` periods."""
        tt = _times(t, "t", 0.0)
        return self._predict(lambda p: np.exp(self._log_sf(p, tt)), interval)

    def churn_probability(self, t: npt.ArrayLike, interval: float | None = None) -> Any:
        """:math:`P(T = t)`: the share of a new cohort that leaves at the end of period ``t``
        (whole, ≥ 1)."""
        tt = _times(t, "t", 1.0, whole=True)
        return self._predict(lambda p: np.exp(self._log_pmf(p, tt)), interval)

    def retention_rate(self, t: npt.ArrayLike, interval: float | None = None) -> Any:
        """:math:`r_t = S(t)/S(t-1)`: the share of the customers of period ``t`` (≥ 1) who
        renew at its end."""
        tt = _times(t, "t", 1.0)
        return self._predict(lambda p: self._retention(p, tt), interval)

    def conditional_survival(
        self, t: npt.ArrayLike, given: npt.ArrayLike, interval: float | None = None
    ) -> Any:
        """:math:`S(g+t)/S(g)`: the probability that a customer who has stayed ``given`` periods
        (made ``given`` renewals) is still a customer ``t`` periods later."""
        tt = _times(t, "t", 0.0)
        gg = _times(given, "given", 0.0)
        return self._predict(lambda p: self._cond_sf(p, tt, gg), interval)

    def derl(
        self,
        discount_rate: npt.ArrayLike,
        renewals: npt.ArrayLike = 0,
        interval: float | None = None,
    ) -> Any:
        """Discounted expected residual lifetime, in periods (FH10 eq. 6), of a customer who has
        made ``renewals`` renewals, at ``discount_rate`` per period (> 0).

        Convention (FH10): we stand at the end of the customer's current period (period
        ``renewals + 1``), just before the next renewal decision; the current period is not
        counted, the next one counts 1 if the customer renews, undiscounted (it is paid now),
        the one after :math:`1/(1+d)`, and so on. Seen from the day of acquisition (the start
        of period 1, one period earlier), the discounted expected lifetime including the period
        bought is ``1 + derl(d, renewals=0) / (1 + d)`` :math:`= \\sum_{t \\ge 0} S(t)(1+d)^{-t}`
        (FH07's expected CLV per unit margin).
        """
        d = _times(discount_rate, "discount_rate", 0.0, strict=True)
        r = _times(renewals, "renewals", 0.0)
        return self._predict(lambda p: self._derl(p, d, r), interval)

    def renewal_value(
        self,
        margin: npt.ArrayLike,
        discount_rate: npt.ArrayLike,
        renewals: npt.ArrayLike = 0,
        interval: float | None = None,
    ) -> Any:
        """Expected residual value of a relationship: ``margin`` (per period, received at each
        renewal, at the start of the period) × :meth:`derl`. The current period's margin is
        *not* included (it is already earned); the next renewal's margin is undiscounted (we
        stand at the end of the current period). The expected lifetime value of a customer at
        acquisition, first margin included, is
        ``margin + renewal_value(margin, d, renewals=0) / (1 + d)``."""
        m = np.asarray(margin, dtype=np.float64)
        if not np.all(np.isfinite(m)):
            raise DataContractError("renewal_value: margin must be finite")
        d = _times(discount_rate, "discount_rate", 0.0, strict=True)
        r = _times(renewals, "renewals", 0.0)
        return self._predict(lambda p: m * self._derl(p, d, r), interval)

    def project(self, periods: int, interval: float | None = None) -> pd.DataFrame:
        """The survival curve and retention rates of a new cohort for ``t = 0..periods``:
        columns ``period``, ``survival``, ``retention_rate`` (NaN at period 0), and with
        ``interval`` also ``survival_lower/upper`` and ``retention_rate_lower/upper``."""
        if int(periods) != periods or periods < 0:
            raise DataContractError(f"project: periods must be a whole number ≥ 0, got {periods}")
        t = np.arange(int(periods) + 1, dtype=np.float64)
        out = pd.DataFrame({"period": t.astype(np.int64)})
        survival = self.survival(t, interval)
        retention = self.retention_rate(t[1:], interval)
        if interval is None:
            out["survival"] = survival
            out["retention_rate"] = np.append(np.nan, retention)
            return out
        for col, suffix in (("estimate", ""), ("lower", "_lower"), ("upper", "_upper")):
            out["survival" + suffix] = survival[col].to_numpy()
            out["retention_rate" + suffix] = np.append(np.nan, retention[col].to_numpy())
        return out


def _times(
    values: npt.ArrayLike,
    name: str,
    minimum: float,
    *,
    strict: bool = False,
    whole: bool = False,
) -> Array:
    array = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(array) & ((array > minimum) if strict else (array >= minimum))
    if whole:
        ok &= array == np.floor(array)
    if not np.all(ok):
        rule = ("> " if strict else "≥ ") + f"{minimum:g}"
        kind = "whole numbers" if whole else "finite"
        raise DataContractError(f"{name} must be {kind} {rule}, got {array[~ok].ravel()[:3]}")
    return array


class ShiftedBetaGeoModel(_CohortRetentionModel):
    """Shifted-beta-geometric cohort retention (Fader & Hardie 2007): per-period churn
    probability θ ~ Beta(α, β), constant for each customer.

    Fit with :meth:`fit_survivors` (survivor counts of one or several cohorts) or :meth:`fit`
    (rows ``duration, churned`` weighted by ``n_customers``)::

        model = ShiftedBetaGeoModel().fit_survivors([1000, 631, 468, 382, 326, 289, 262, 241])
        model.params_                      # {'alpha': 0.704, 'beta': 1.182} (FH07, regular)
        model.project(12)                  # survival and retention rate, years 0-12
        model.renewal_value(5_000, 0.10)   # expected residual value at a 5,000 yearly margin
    """

    param_names = ("alpha", "beta")

    def _loglik_and_grad(self, p: Params, d: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        ll, (d_alpha, d_beta) = sbg_loglik_and_grad(
            p["alpha"], p["beta"], d["duration"], d["churned"]
        )
        return ll, {"alpha": d_alpha, "beta": d_beta}

    def _log_sf(self, p: Params, t: Array) -> Array:
        return sbg_log_survival(p["alpha"], p["beta"], t)

    def _cond_sf(self, p: Params, t: Array, given: Array) -> Array:
        return sbg_conditional_survival(p["alpha"], p["beta"], t, given)

    def _retention(self, p: Params, t: Array) -> Array:
        return sbg_retention_rate(p["alpha"], p["beta"], t)

    def _log_pmf(self, p: Params, t: Array) -> Array:
        return sbg_log_pmf(p["alpha"], p["beta"], t)

    def _derl(self, p: Params, discount_rate: Array, renewals: Array) -> Array:
        return sbg_derl(p["alpha"], p["beta"], discount_rate, renewals)


class BetaDiscreteWeibullModel(_CohortRetentionModel):
    """Beta-discrete-Weibull cohort retention (Fader, Hardie, Liu, Davin & Steenburgh 2018):
    :math:`P(T > t \\mid \\theta) = (1-\\theta)^{t^c}`, θ ~ Beta(α, β). ``c < 1``: a customer's
    own churn propensity falls with tenure; ``c > 1``: it rises; ``c = 1``: the sBG. The API is
    that of :class:`ShiftedBetaGeoModel`; :meth:`derl` is a vectorised series."""

    param_names = ("alpha", "beta", "c")

    def _loglik_and_grad(self, p: Params, d: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        ll, (d_alpha, d_beta, d_c) = bdw_loglik_and_grad(
            p["alpha"], p["beta"], p["c"], d["duration"], d["churned"]
        )
        return ll, {"alpha": d_alpha, "beta": d_beta, "c": d_c}

    def _log_sf(self, p: Params, t: Array) -> Array:
        return bdw_log_survival(p["alpha"], p["beta"], p["c"], t)

    def _cond_sf(self, p: Params, t: Array, given: Array) -> Array:
        return bdw_conditional_survival(p["alpha"], p["beta"], p["c"], t, given)

    def _retention(self, p: Params, t: Array) -> Array:
        return bdw_retention_rate(p["alpha"], p["beta"], p["c"], t)

    def _log_pmf(self, p: Params, t: Array) -> Array:
        return bdw_log_pmf(p["alpha"], p["beta"], p["c"], t)

    def _derl(self, p: Params, discount_rate: Array, renewals: Array) -> Array:
        return bdw_derl(p["alpha"], p["beta"], p["c"], discount_rate, renewals)
