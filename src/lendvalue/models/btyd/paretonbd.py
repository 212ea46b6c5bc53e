"""Pareto/NBD: Poisson purchasing while alive, an exponential lifetime, gamma heterogeneity.

Schmittlein, Morrison & Colombo (1987), "Counting your customers: who are they and what will they
do next?", *Management Science* 33(1), 1-24 (SMC below); Fader & Hardie (2005), "A note on
deriving the Pareto/NBD model and related expressions" (FH05 below); Fader, Hardie & Lee (2005),
"RFM and CLV: using iso-value curves for customer base analysis", *Journal of Marketing Research*
42(4), 415-430 (FHL below). While alive a customer transacts at rate :math:`\\lambda`; she dies
at an exponential time with rate :math:`\\mu`; across customers :math:`\\lambda \\sim
\\mathrm{Gamma}(r, \\alpha)` and :math:`\\mu \\sim \\mathrm{Gamma}(s, \\beta)` (shape, rate).

Data per customer: ``x`` repeat transactions, the last at ``t_x`` (``0`` when ``x = 0``), in an
observation window of length ``T``; ``0 <= t_x <= T``, ``T > 0``, in the model's time unit.

Conventions of every function here: parameters first, then data; floats or float64 arrays that
broadcast together -- the parameters too, so covariates can scale :math:`\\alpha` and
:math:`\\beta` per customer; one value per customer, in the broadcast shape; log space throughout;
finite for every valid input (parameters in ``[1e-8, 1e8]``, ``x`` up to ``1e5``, ``T`` up to
``1e6``). When the four parameters are scalars, every term is computed once per distinct value
of what it depends on -- ``x``, ``t``, or the pair ``(x, t)`` -- and gathered (a daily grid of 10M
customers has ~60 x 1,100 distinct pairs).

Numerical notes (why the code does not transcribe FH05 eq. 22-24):

- The hypergeometric term is rewritten as the integral it comes from (FH05 section 3, the
  individual likelihood averaged over :math:`\\lambda` but not yet over the death time): with
  :math:`a = r + x`,

  .. math::

      \\frac{s}{r+s+x} A_0 = s \\int_{t_x}^{T}
          (\\alpha+\\tau)^{-a} (\\beta+\\tau)^{-(s+1)} \\, d\\tau = s\\,(J(t_x) - J(T)),
      \\qquad J(t) = \\int_t^\\infty (\\alpha+\\tau)^{-a} (\\beta+\\tau)^{-(s+1)} \\, d\\tau .

  Writing :math:`P = \\max(\\alpha, \\beta) + t`, :math:`Q = \\min(\\alpha, \\beta) + t` with
  exponents :math:`p, q` (:math:`p = a, q = s+1` when :math:`\\alpha \\ge \\beta`, swapped
  otherwise) and :math:`z = |\\alpha-\\beta| / P`, Euler's transformation of FH05's
  :math:`{}_2F_1(r+s+x, q; r+s+x+1; z)` gives

  .. math::

      J(t) = \\frac{Q}{(r+s+x)\\, P^{p} Q^{q}}\\; \\Phi(z), \\qquad
      \\Phi(z) = {}_2F_1(1, p; p+q; z) = \\sum_{n \\ge 0} \\frac{(p)_n}{(p+q)_n} z^n ,

  a series of positive terms, each below :math:`z^n`. Both cases :math:`\\alpha \\ge \\beta` and
  :math:`\\alpha < \\beta` are the same formula with the roles swapped, and :math:`z = 0` at
  :math:`\\alpha = \\beta`, so the value is continuous there.
- For :math:`z \\le 1/2` the series is summed in plain arithmetic (at most ~55 terms). For
  :math:`z > 1/2` (the rates differ by more than a factor two) the integral is split at the
  point :math:`u^*` where the local :math:`z` reaches 1/2: beyond it the series again; before it
  a finite integral whose log-integrand is concave in :math:`\\eta = \\log(1 + u/Q)`, computed
  by adaptive Gauss-Kronrod (7/15) quadrature after scaling by its maximum (known in closed form)
  and cutting where it has fallen by :math:`e^{-40}`. Connection formulas at :math:`z = 1` are
  avoided: they are singular whenever :math:`q` is an integer.
- The likelihood is the log-sum-exp of its "alive at :math:`T`" part, normalised by
  :math:`(\\alpha+T)^{r+x}(\\beta+T)^s`, and its "died in :math:`(t_x, T]`" part, normalised by
  :math:`(\\alpha+t_x)^{r+x}(\\beta+t_x)^s`, so that neither carries the large terms of the
  other; :math:`\\lambda`, the log odds of the second against the first, gives
  :math:`P(\\text{alive}) = \\sigma(-\\lambda)`. :math:`\\log\\Gamma(r+x) - \\log\\Gamma(r)` uses
  Stirling's series for :math:`r \\ge 10` rather than a difference of two large values.
- The gradient is analytic: derivatives of the series are summed with it, derivatives of the
  quadrature are moments of the same nodes.
- DERT (FHL eq. 2) needs :math:`\\kappa^s U(s, s; \\kappa)`. ``scipy.special.hyperu`` returns
  NaN for :math:`s \\gtrsim 10` and loses up to 2 digits near :math:`s = 1`; the identity
  :math:`\\kappa^s U(s,s;\\kappa) = \\kappa e^\\kappa E_s(\\kappa) = E[\\kappa/(\\kappa+G)]`,
  :math:`G \\sim \\mathrm{Gamma}(s, 1)`, is evaluated by the continued fraction of
  :math:`E_s`, the regularised incomplete gamma function, or quadrature, whichever is accurate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaincc, gammaln, xlogy

__all__ = [
    "paretonbd_conditional_expected_transactions",
    "paretonbd_discounted_expected_transactions",
    "paretonbd_expected_transactions",
    "paretonbd_loglik",
    "paretonbd_loglik_and_grad",
    "paretonbd_loglik_grad",
    "paretonbd_p_alive",
    "paretonbd_prob_n_transactions",
]

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]
LogIntegrand = Callable[[FloatArray, IndexArray], FloatArray]
"""``f(y, idx)``: log-integrand at points ``y`` (``(k, j)``) of elements ``idx`` (``(k,)``)."""
Moments = Callable[[FloatArray, IndexArray], list[FloatArray]]

_Z_SPLIT = 0.5
"""Largest ``z`` summed by the series alone; the quadrature covers the rest."""
_LOG_DROP = 40.0
"""The quadrature cuts where the integrand has fallen below ``exp(-40)`` of its maximum; by
concavity the part cut off is below ``exp(-40) / (1 - exp(-40))`` of the integral."""
_QUAD_RTOL = 1e-9
"""A panel is accepted when |K15 - G7| is below this fraction of the integral. For these analytic
integrands the error of K15 itself is then below ~1e-14 of the integral (checked against mpmath
in both cases of the likelihood, up to parameter ratios of 1e16)."""
_QUAD_MAX_ROUNDS = 60
_SERIES_TOL = 1e-17
_SERIES_MAX_TERMS = 400
_CF_MAX_TERMS = 5000

# Gauss-Kronrod 7/15 nodes on [-1, 1] and weights (Piessens et al. 1983, QUADPACK QK15).
_GK_XPOS = (
    0.991455371120812639206854697526329,
    0.949107912342758524526189684047851,
    0.864864423359769072789712788640926,
    0.741531185599394439863864773280788,
    0.586087235467691130294144845693013,
    0.405845151377397166906606412076961,
    0.207784955007898467600689403773245,
    0.0,
)
_GK_WPOS = (
    0.022935322010529224963732008058970,
    0.063092092629978553290700663189204,
    0.104790010322250183839876322541518,
    0.140653259715525918745189590510238,
    0.169004726639267902826583426598550,
    0.190350578064785409913256402421014,
    0.204432940075298892414161999234649,
    0.209482141084727828012999174891714,
)
_G_WPOS = (
    0.129484966168869693270611432679082,
    0.279705391489276667901467771423780,
    0.381830050505118944950369775488975,
    0.417959183673469387755102040816327,
)


def _frozen(values: Sequence[float]) -> NDArray[np.float64]:
    """A read-only float array (module tables must not be changed by accident)."""
    out = np.array(values, dtype=np.float64)
    out.flags.writeable = False
    return out


_GK_X = _frozen([-v for v in _GK_XPOS[:-1]] + list(_GK_XPOS[::-1]))
_GK_W = _frozen(list(_GK_WPOS[:-1]) + list(_GK_WPOS[::-1]))
_G_INDEX = np.arange(1, 15, 2)
_G_INDEX.flags.writeable = False
_G_W = _frozen(list(_G_WPOS[:-1]) + list(_G_WPOS[::-1]))


# --------------------------------------------------------------------------- public functions


def paretonbd_loglik(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Log-likelihood of each customer's ``(x, t_x, T)``.

    FH05 section 3 (eq. 22-24), with the hypergeometric term :math:`A_0` written as the integral
    :math:`J` of the module notes:

    .. math::

        L = \\frac{\\Gamma(r+x)\\, \\alpha^r \\beta^s}{\\Gamma(r)}
            \\left[ \\frac{1}{(\\alpha+T)^{r+x} (\\beta+T)^s}
                  + s \\int_{t_x}^{T} \\frac{d\\tau}{(\\alpha+\\tau)^{r+x}
                                                    (\\beta+\\tau)^{s+1}} \\right]

    computed as the log-sum-exp of the logs of its two terms (times the prefactor), each
    normalised where it is largest -- the first at ``T``, the second at ``t_x``.

    Parameters
    ----------
    r, alpha : array_like
        Shape and rate of the gamma distribution of the transaction rate; positive. Per-customer
        arrays are allowed (covariates).
    s, beta : array_like
        Shape and rate of the gamma distribution of the dropout rate; positive.
    x : array_like
        Repeat transactions, integer-valued, ``>= 0``.
    t_x : array_like
        Time of the last repeat transaction, ``0 <= t_x <= T`` (``0`` when ``x = 0``).
    T : array_like
        Length of the observation window, ``> 0``.

    Returns
    -------
    numpy.ndarray
        :math:`\\log L` per customer, in the broadcast shape of the inputs. A weighted
        log-likelihood is ``np.sum(weights * paretonbd_loglik(...))``.
    """
    params, data, shape = _flatten((r, alpha, s, beta), (x, t_x, T))
    ll, _ = _loglik_core(*params, *data, with_grad=False)
    return ll.reshape(shape)


def paretonbd_loglik_grad(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Partial derivatives of :func:`paretonbd_loglik` per customer, on the natural scale.

    Analytic. With :math:`\\lambda = \\log(s (J(t_x) - J(T))) - \\log f`, :math:`f =
    (\\alpha+T)^{-(r+x)} (\\beta+T)^{-s}` and :math:`\\psi` the digamma function,

    .. math::

        \\frac{\\partial \\log L}{\\partial r} = \\psi(r+x) - \\psi(r) - \\log(1 + T/\\alpha)
            + \\sigma(\\lambda) \\frac{\\partial \\lambda}{\\partial r}, \\qquad
        \\frac{\\partial \\lambda}{\\partial \\theta}
          = \\frac{J(t_x)\\, \\partial_\\theta \\log J(t_x) - J(T)\\, \\partial_\\theta \\log J(T)}
                  {J(t_x) - J(T)} + \\dots

    and likewise for :math:`\\alpha, s, \\beta`. :math:`\\partial \\log J` comes from summing the
    derivatives of the series terms (:math:`\\partial_p \\log (p)_n/(p+q)_n =
    \\sum_{k<n} q / ((p+k)(p+q+k))`, ...) and, where the quadrature is used, from moments of the
    derivative of the log-integrand over the same nodes.

    Parameters
    ----------
    r, alpha, s, beta, x, t_x, T : array_like
        As in :func:`paretonbd_loglik`.

    Returns
    -------
    tuple of numpy.ndarray
        :math:`(\\partial_r, \\partial_\\alpha, \\partial_s, \\partial_\\beta) \\log L`, each in
        the broadcast shape of the inputs.
    """
    return paretonbd_loglik_and_grad(r, alpha, s, beta, x, t_x, T)[1]


def paretonbd_loglik_and_grad(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray, FloatArray]]:
    """:func:`paretonbd_loglik` and :func:`paretonbd_loglik_grad` in one pass (for optimisers).

    Parameters
    ----------
    r, alpha, s, beta, x, t_x, T : array_like
        As in :func:`paretonbd_loglik`.

    Returns
    -------
    tuple
        ``(loglik, (d_r, d_alpha, d_s, d_beta))``, each array in the broadcast shape.
    """
    params, data, shape = _flatten((r, alpha, s, beta), (x, t_x, T))
    ll, grad = _loglik_core(*params, *data, with_grad=True)
    assert grad is not None
    d_r, d_alpha, d_s, d_beta = (g.reshape(shape) for g in grad)
    return ll.reshape(shape), (d_r, d_alpha, d_s, d_beta)


def paretonbd_p_alive(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Probability that the customer is alive at ``T``.

    FH05 section 5:

    .. math::

        P(\\text{alive} \\mid x, t_x, T) = \\left[1 + \\frac{s}{r+s+x}
            (\\alpha+T)^{r+x} (\\beta+T)^{s} A_0 \\right]^{-1} = \\frac{1}{1 + e^{\\lambda}}

    with :math:`\\lambda` as in :func:`paretonbd_loglik`.

    Parameters
    ----------
    r, alpha, s, beta, x, t_x, T : array_like
        As in :func:`paretonbd_loglik`.

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], in the broadcast shape of the inputs.
    """
    params, data, shape = _flatten((r, alpha, s, beta), (x, t_x, T))
    lam = _log_odds(*params, *data)
    return np.asarray(expit(-lam)).reshape(shape)


def paretonbd_expected_transactions(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, t: ArrayLike
) -> FloatArray:
    """Expected repeat transactions in ``(0, t]`` of a newly acquired customer.

    FH05 section 4:

    .. math::

        E[X(t)] = \\frac{r \\beta}{\\alpha (s-1)}
            \\left[1 - \\left(\\frac{\\beta}{\\beta+t}\\right)^{s-1}\\right],

    evaluated as :math:`(r\\beta/\\alpha)\\,(1 - e^{-(s-1)\\ell})/(s-1)` with
    :math:`\\ell = \\log(1 + t/\\beta)` through ``expm1``, so :math:`s = 1` gives the limit
    :math:`(r\\beta/\\alpha)\\,\\ell`.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters, positive.
    t : array_like
        Horizon in the model's time unit, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Expected transactions, in the broadcast shape of the inputs.
    """
    values = (r, alpha, s, beta, t)
    r_, a_, s_, b_, t_ = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    out = (r_ / a_) * b_ * _one_minus_exp_over(s_ - 1.0, np.log1p(t_ / b_))
    return np.asarray(out, dtype=np.float64)


def paretonbd_conditional_expected_transactions(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    t: ArrayLike,
) -> FloatArray:
    """Expected transactions in ``(T, T + t]`` given the customer's history.

    FH05 section 6:

    .. math::

        E[Y(t) \\mid x, t_x, T] = P(\\text{alive} \\mid x, t_x, T)\\;
            \\frac{(r+x)(\\beta+T)}{(\\alpha+T)(s-1)}
            \\left[1 - \\left(\\frac{\\beta+T}{\\beta+T+t}\\right)^{s-1}\\right],

    with the :math:`s = 1` limit taken as in :func:`paretonbd_expected_transactions`.

    Parameters
    ----------
    r, alpha, s, beta, x, t_x, T : array_like
        As in :func:`paretonbd_loglik`.
    t : array_like
        Horizon after ``T``, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Expected transactions, in the broadcast shape of the inputs.
    """
    params, data, shape = _flatten((r, alpha, s, beta), (x, t_x, T, t))
    r_, a_, s_, b_ = params
    x_, tx_, T_, t_ = data
    lam = _log_odds(r_, a_, s_, b_, x_, tx_, T_)
    rate = (r_ + x_) / (a_ + T_) * (b_ + T_)
    out = expit(-lam) * rate * _one_minus_exp_over(s_ - 1.0, np.log1p(t_ / (b_ + T_)))
    return np.asarray(out, dtype=np.float64).reshape(shape)


def paretonbd_prob_n_transactions(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, t: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Probability of exactly ``n`` repeat transactions in ``(0, t]`` for a new customer.

    Equivalent to the closed form of Fader & Hardie (2006, rev. 2020), "Deriving an expression
    for P(X(t) = x) under the Pareto/NBD model", without its alternating sum of hypergeometric
    terms: split on whether the customer is still alive at ``t``,

    .. math::

        P(X(t) = n) = \\frac{\\Gamma(r+n)}{\\Gamma(r)\\, n!}
            \\left(\\frac{\\alpha}{\\alpha+t}\\right)^r \\left(\\frac{t}{\\alpha+t}\\right)^n
            \\left(\\frac{\\beta}{\\beta+t}\\right)^s
          + \\frac{\\Gamma(r+n)\\, \\alpha^r s \\beta^s}{\\Gamma(r)\\, n!}
            \\int_0^t \\frac{\\tau^n \\, d\\tau}{(\\alpha+\\tau)^{r+n} (\\beta+\\tau)^{s+1}},

    the second term (death at :math:`\\tau < t`, NBD count up to :math:`\\tau`) by the
    log-space quadrature of the module notes, in :math:`\\log \\tau`.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters, positive.
    t : array_like
        Horizon, ``>= 0``.
    n : array_like
        Number of transactions, integer-valued, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Probabilities, in the broadcast shape of the inputs.
    """
    values = (r, alpha, s, beta, t, n)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    shape = arrays[0].shape
    r_, a_, s_, b_, t_, n_ = (np.ascontiguousarray(v).ravel() for v in arrays)
    log_count = _log_rising(r_, n_) - gammaln(n_ + 1.0)
    with np.errstate(divide="ignore"):
        alive = (
            log_count - r_ * np.log1p(t_ / a_) + xlogy(n_, t_ / (a_ + t_)) - s_ * np.log1p(t_ / b_)
        )
    dead = np.full(r_.size, -np.inf)
    pos = t_ > 0
    if pos.any():
        parts = (r_, a_, s_, b_, t_, n_, log_count)
        dead[pos] = _log_dead_before(*(v[pos] for v in parts))
    return np.exp(np.logaddexp(alive, dead)).reshape(shape)


def paretonbd_discounted_expected_transactions(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    delta: ArrayLike,
) -> FloatArray:
    """Discounted expected residual transactions (DERT) after ``T``, unlimited horizon.

    FHL eq. 2, with continuous compounding at rate ``delta`` per time unit:

    .. math::

        \\mathrm{DERT}(\\delta \\mid x, t_x, T) =
            \\frac{\\alpha^r \\beta^s \\delta^{s-1} \\Gamma(r+x+1)\\,
                   U(s, s; \\delta(\\beta+T))}
                  {\\Gamma(r) (\\alpha+T)^{r+x+1} L(r, \\alpha, s, \\beta \\mid x, t_x, T)}
          = P(\\text{alive}) \\, \\frac{r+x}{\\alpha+T} \\,
            \\frac{\\kappa^s U(s, s; \\kappa)}{\\delta}, \\quad \\kappa = \\delta(\\beta+T),

    :math:`U` Tricomi's confluent hypergeometric function. :math:`\\kappa^s U(s,s;\\kappa) =
    \\kappa e^\\kappa E_s(\\kappa) = E[\\kappa/(\\kappa+G)]`, :math:`G \\sim
    \\mathrm{Gamma}(s, 1)`, lies in (0, 1) and is evaluated by the continued fraction of the
    generalised exponential integral :math:`E_s` (``kappa >= 1`` or ``s >= 20``), by the
    regularised upper incomplete gamma function (``s < 1``), or by quadrature of
    :math:`\\kappa \\int_0^\\infty e^{(1-s)y - \\kappa (e^y - 1)} dy` (the rest), not by
    ``scipy.special.hyperu``, which is NaN or inaccurate over much of this range.

    Parameters
    ----------
    r, alpha, s, beta, x, t_x, T : array_like
        As in :func:`paretonbd_loglik`.
    delta : array_like
        Continuously compounded discount rate per model time unit, ``> 0`` (for an annual rate
        ``d`` and weekly time, ``log1p(d) / 52.18``).

    Returns
    -------
    numpy.ndarray
        DERT per customer, in the broadcast shape of the inputs.
    """
    params, data, shape = _flatten((r, alpha, s, beta), (x, t_x, T, delta))
    r_, a_, s_, b_ = params
    x_, tx_, T_, d_ = data
    lam = _log_odds(r_, a_, s_, b_, x_, tx_, T_)
    s_full = np.broadcast_to(s_, d_.shape)
    kappa = d_ * (b_ + T_)
    log_dert = (
        -np.logaddexp(0.0, lam)
        + np.log(r_ + x_)
        - np.log(a_ + T_)
        + _log_kappa_s_hyperu(np.ascontiguousarray(s_full), kappa)
        - np.log(d_)
    )
    return np.exp(log_dert).reshape(shape)


# --------------------------------------------------------------------------- likelihood core


def _loglik_core(
    r: FloatArray,
    a: FloatArray,
    s: FloatArray,
    b: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    *,
    with_grad: bool,
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None]:
    """Log-likelihood (and gradient) on flat arrays; scalar parameters are 0-d arrays.

    :math:`\\log L` is the log-sum-exp of the "alive at T" part, normalised at ``T``, and the
    "died in (t_x, T]" part, normalised at ``t_x``, so that neither carries the other's large
    terms (e.g. :math:`r \\log(1 + T/\\alpha)` for a large :math:`r` and a tiny
    :math:`\\alpha`).
    """
    c = _customer_terms(r, a, s, b, x, t_x, T, with_grad=with_grad)
    lam, dead_rel, lam_grad = _log_odds_dead(r, s, x, t_x, T, c, with_grad=with_grad)
    lg = c["log_rising"]
    alive = lg - r * c["l1p_a_T"] - x * c["log_a_T"] - s * c["l1p_b_T"]
    dead = lg - r * c["l1p_a_tx"] - x * c["log_a_tx"] - s * c["l1p_b_tx"] + dead_rel
    ll = np.asarray(np.logaddexp(alive, dead), dtype=np.float64)
    if not with_grad:
        return ll, None
    assert lam_grad is not None
    w = expit(lam)
    d_r = c["digamma_rising"] - c["l1p_a_T"] + w * lam_grad[0]
    d_a = r * T / (a * (a + T)) - x / (a + T) + w * lam_grad[1]
    d_s = -c["l1p_b_T"] + w * lam_grad[2]
    d_b = s * T / (b * (b + T)) + w * lam_grad[3]
    g_r, g_a, g_s, g_b = (
        np.asarray(np.broadcast_to(g, ll.shape), dtype=np.float64) for g in (d_r, d_a, d_s, d_b)
    )
    return ll, (g_r, g_a, g_s, g_b)


def _log_odds(
    r: FloatArray,
    a: FloatArray,
    s: FloatArray,
    b: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
) -> FloatArray:
    """:math:`\\lambda` of :func:`_log_odds_dead` alone (predictions)."""
    c = _customer_terms(r, a, s, b, x, t_x, T, with_grad=False)
    return _log_odds_dead(r, s, x, t_x, T, c, with_grad=False)[0]


def _log_odds_dead(
    r: FloatArray,
    s: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    c: dict[str, FloatArray],
    *,
    with_grad: bool,
) -> tuple[FloatArray, FloatArray, list[FloatArray] | None]:
    """:math:`\\lambda = \\log(s (J(t_x) - J(T)) / f)` per customer (and its gradient).

    :math:`K(t) = \\log(s J(t) / f)` is assembled from the normalised integral
    :math:`\\tilde J(t) = J(t) (\\alpha+t)^{r+x} (\\beta+t)^{s+1}` (see :func:`_log_jtilde`):

    .. math::

        K(t) = \\log s + \\log \\tilde J(t) + (r+x) \\log\\frac{\\alpha+T}{\\alpha+t}
               + s \\log\\frac{\\beta+T}{\\beta+t} - \\log(\\beta+t),
        \\qquad \\lambda = K(t_x) + \\log(1 - e^{K(T) - K(t_x)}).

    Also returns :math:`\\log(s (J(t_x) - J(T)) (\\alpha+t_x)^{r+x} (\\beta+t_x)^s)`, the
    dead part normalised at ``t_x``. Both are ``-inf`` when ``t_x = T``. ``c`` holds the
    per-customer terms of :func:`_customer_terms`.
    """
    log_s = np.log(s)
    ax = r + x
    gap = T - t_x
    a_tx, b_tx = c["a_tx"], c["b_tx"]
    g_a = np.log1p(gap / a_tx)  # log((alpha + T) / (alpha + t_x))
    g_b = np.log1p(gap / b_tx)
    k2 = log_s + c["lj_T"] - c["log_b_T"]
    k1_rel = log_s + c["lj_tx"] - c["log_b_tx"]
    k1 = k1_rel + ax * g_a + s * g_b
    diff = np.minimum(k2 - k1, 0.0)
    # no window to die in, or one so short that J(t_x) and J(T) agree to the last bit
    no_window = (t_x >= T) | (diff >= 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(no_window, -np.inf, _log1mexp(diff))
    lam = np.asarray(k1 + tail, dtype=np.float64)
    dead_rel = np.asarray(k1_rel + tail, dtype=np.float64)
    if not with_grad:
        return lam, dead_rel, None
    a_T, b_T = c["a_tx"] + gap, c["b_tx"] + gap
    dk1 = (
        c["dlj_tx_r"] + g_a,
        c["dlj_tx_a"] - ax * gap / (a_tx * a_T),
        c["dlj_tx_s"] + g_b,
        c["dlj_tx_b"] - s * gap / (b_tx * b_T) - 1.0 / b_tx,
    )
    dk2 = (c["dlj_T_r"], c["dlj_T_a"], c["dlj_T_s"], c["dlj_T_b"] - 1.0 / b_T)
    rho = np.exp(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(no_window, 0.0, 1.0 / -np.expm1(diff))
    grads = []
    for j in range(4):
        g = np.where(no_window, 0.0, (dk1[j] - rho * dk2[j]) * inv)
        if j == 2:
            g = g + 1.0 / s
        grads.append(np.asarray(g, dtype=np.float64))
    return lam, dead_rel, grads


def _customer_terms(
    r: FloatArray,
    a: FloatArray,
    s: FloatArray,
    b: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    *,
    with_grad: bool,
) -> dict[str, FloatArray]:
    """Per-customer building blocks: :math:`\\log\\tilde J` at ``t_x`` and ``T`` (and its
    gradient), :math:`\\log(\\alpha+t)`, :math:`\\log(1+t/\\alpha)` and the same in
    :math:`\\beta` at both times, and :math:`\\log\\Gamma(r+x)/\\Gamma(r)` (and its
    derivative).

    With scalar parameters each is computed once per distinct value and gathered: terms in ``t``
    once per distinct time, terms in ``x`` once per distinct count, :math:`\\tilde J` on the grid
    of distinct counts times distinct times when that grid is no larger than the data (daily or
    weekly data), else once per distinct ``(x, t)`` pair.
    """
    n = x.size
    names = ("r", "a", "s", "b")
    out: dict[str, FloatArray] = {"a_tx": np.asarray(a + t_x), "b_tx": np.asarray(b + t_x)}
    if r.ndim == 0 and a.ndim == 0 and s.ndim == 0 and b.ndim == 0:
        cx, ux_idx = pd.factorize(x)
        ct, ut_idx = pd.factorize(np.concatenate([t_x, T]))
        ux = np.asarray(ux_idx, dtype=np.float64)
        ut = np.asarray(ut_idx, dtype=np.float64)
        n_t = ut.size
        c1, c2 = ct[:n], ct[n:]
        if ux.size * n_t <= 2 * n:
            grid_x, grid_t = np.repeat(ux, n_t), np.tile(ut, ux.size)
            k1, k2 = cx * n_t + c1, cx * n_t + c2
        else:
            key = np.concatenate([cx, cx]).astype(np.int64) * n_t + ct
            inverse, ukey = pd.factorize(key)
            grid_x, grid_t = ux[ukey // n_t], ut[ukey % n_t]
            k1, k2 = inverse[:n], inverse[n:]
        lj, dj = _log_jtilde_model(r, a, s, b, grid_x, grid_t, with_grad=with_grad)
        out["lj_tx"], out["lj_T"] = lj[k1], lj[k2]
        if dj is not None:
            for name, d in zip(names, dj, strict=True):
                out[f"dlj_tx_{name}"], out[f"dlj_T_{name}"] = d[k1], d[k2]
        tables = {
            "log_a": np.log(a + ut),
            "log_b": np.log(b + ut),
            "l1p_a": np.log1p(ut / a),
            "l1p_b": np.log1p(ut / b),
        }
        for name, tab in tables.items():
            out[f"{name}_tx"], out[f"{name}_T"] = tab[c1], tab[c2]
        out["log_rising"] = _log_rising(r, ux)[cx]
        if with_grad:
            out["digamma_rising"] = _digamma_rising(r, ux)[cx]
        return out
    rr, aa, ss, bb = (np.concatenate([v, v]) for v in (r, a, s, b))
    tt = np.concatenate([t_x, T])
    lj, dj = _log_jtilde_model(rr, aa, ss, bb, np.concatenate([x, x]), tt, with_grad=with_grad)
    out["lj_tx"], out["lj_T"] = lj[:n], lj[n:]
    if dj is not None:
        for name, d in zip(names, dj, strict=True):
            out[f"dlj_tx_{name}"], out[f"dlj_T_{name}"] = d[:n], d[n:]
    for t, suffix in ((t_x, "tx"), (T, "T")):
        out[f"log_a_{suffix}"] = np.log(a + t)
        out[f"log_b_{suffix}"] = np.log(b + t)
        out[f"l1p_a_{suffix}"] = np.log1p(t / a)
        out[f"l1p_b_{suffix}"] = np.log1p(t / b)
    out["log_rising"] = _log_rising(r, x)
    if with_grad:
        out["digamma_rising"] = _digamma_rising(r, x)
    return out


def _log_jtilde_model(
    r: FloatArray,
    a: FloatArray,
    s: FloatArray,
    b: FloatArray,
    x: FloatArray,
    t: FloatArray,
    *,
    with_grad: bool,
) -> tuple[FloatArray, list[FloatArray] | None]:
    """:math:`\\log \\tilde J(t)` and its derivatives in :math:`(r, \\alpha, s, \\beta)`.

    The larger of :math:`\\alpha + t, \\beta + t` is ``P`` with its exponent ``p``; the other
    ``Q``, ``q`` (:math:`r+x` goes with :math:`\\alpha`, :math:`s+1` with :math:`\\beta`).
    """
    r, a, s, b, x, t = np.broadcast_arrays(r, a, s, b, x, t)
    ge = a >= b
    ax = r + x
    s1 = s + 1.0
    p = np.where(ge, ax, s1)
    q = np.where(ge, s1, ax)
    q1 = np.where(ge, s, (r - 1.0) + x)  # q - 1 without cancellation when s is tiny
    m = r + s + x
    big = np.where(ge, a, b) + t
    small = np.where(ge, b, a) + t
    gap = np.abs(a - b)
    lj, dj = _log_jtilde(p, q, q1, m, big, small, gap, with_grad=with_grad)
    if dj is None:
        return lj, None
    dp, dq, d_big, d_small = dj
    return lj, [
        np.where(ge, dp, dq),
        np.where(ge, d_big, d_small),
        np.where(ge, dq, dp),
        np.where(ge, d_small, d_big),
    ]


def _log_jtilde(
    p: FloatArray,
    q: FloatArray,
    q1: FloatArray,
    m: FloatArray,
    P: FloatArray,
    Q: FloatArray,
    D: FloatArray,
    *,
    with_grad: bool,
) -> tuple[FloatArray, list[FloatArray] | None]:
    """:math:`\\log \\int_0^\\infty (1+u/P)^{-p} (1+u/Q)^{-q} du` for ``P >= Q``, ``D = P - Q``.

    Equals :math:`\\log(Q\\,\\Phi(z)/m)`, :math:`m = p+q-1`, :math:`z = D/P`; ``q1 = q - 1``
    and ``m`` are passed in, computed by the caller without cancellation. For
    :math:`z > 1/2` the integral is split at :math:`u^* = D/z_c - P` (:math:`z_c = 1/2`): the
    tail is :math:`(P/P')^p (Q/Q')^q\\, Q' \\Phi(z_c)/m` with :math:`P' = D/z_c`,
    :math:`Q' = D(1-z_c)/z_c`, the head a quadrature. Derivatives are taken with :math:`u^*`
    fixed (the split point cancels), returned as ``[d/dp, d/dq, d/dP, d/dQ]``.
    """
    z = D / P
    rho = Q / P
    log_j = np.empty(p.shape)
    grads = [np.empty(p.shape) for _ in range(4)] if with_grad else None

    ser = z <= _Z_SPLIT
    if ser.any():
        pi, qi, zi, mi, Pi, Qi, ri = (v[ser] for v in (p, q, z, m, P, Q, rho))
        lphi, dphi = _log_phi_series(pi, qi, zi, with_grad=with_grad)
        log_j[ser] = np.log(Qi) - np.log(mi) + lphi
        if grads is not None and dphi is not None:
            fp, fq, fz = dphi
            grads[0][ser] = -1.0 / mi + fp
            grads[1][ser] = -1.0 / mi + fq
            grads[2][ser] = fz * ri / Pi
            grads[3][ser] = 1.0 / Qi - fz / Pi

    head = ~ser
    if head.any():
        pi, qi, q1i, zi, mi, Pi, Qi, ri, Di = (v[head] for v in (p, q, q1, z, m, P, Q, rho, D))
        zc = _Z_SPLIT
        # tail beyond the split point, by the series at z = zc
        lphi, dphi = _log_phi_series(pi, qi, np.full(pi.shape, zc), with_grad=with_grad)
        log_pp = np.log(zc) - np.log(zi)  # log(P / P')
        log_qq = np.log(ri) - np.log(zi) + np.log(zc / (1.0 - zc))  # log(Q / Q')
        log_tail = (
            pi * log_pp + qi * log_qq + np.log(Di) + np.log((1.0 - zc) / zc) - np.log(mi) + lphi
        )
        # head: Q * int_0^eta_max exp((1-q) eta - p log1p(rho expm1(eta))) d eta
        eta_max = -log_qq
        slope0 = -q1i - pi * ri
        with np.errstate(divide="ignore", invalid="ignore"):
            eta_peak = np.log(-q1i * zi / (ri * mi))
        eta_peak = np.where(slope0 > 0, np.clip(eta_peak, 0.0, eta_max), 0.0)

        def psi(eta: FloatArray, idx: IndexArray) -> FloatArray:
            return np.asarray(
                -q1i[idx][:, None] * eta
                - pi[idx][:, None] * np.log1p(ri[idx][:, None] * np.expm1(eta)),
                dtype=np.float64,
            )

        def moments(eta: FloatArray, idx: IndexArray) -> list[FloatArray]:
            w = ri[idx][:, None] * np.expm1(eta)
            return [
                -np.log1p(w),
                -eta,
                (pi[idx] / Pi[idx])[:, None] * (w / (1.0 + w)),
                -(qi[idx] / Qi[idx])[:, None] * np.expm1(-eta),
            ]

        log_int, means = _log_quad(
            psi,
            np.zeros(pi.shape),
            eta_max,
            eta_peak,
            moments if with_grad else None,
            n_moments=4 if with_grad else 0,
        )
        log_head = np.log(Qi) + log_int
        total = np.logaddexp(log_head, log_tail)
        log_j[head] = total
        if grads is not None and dphi is not None and means is not None:
            fp, fq, fz = dphi
            w_head = np.exp(log_head - total)
            w_tail = np.exp(log_tail - total)
            P2 = Di / zc
            Q2 = P2 * (1.0 - zc)
            tail_grads = (
                log_pp - 1.0 / mi + fp,
                log_qq - 1.0 / mi + fq,
                pi / Pi - pi / P2 + fz * (1.0 - zc) / P2,
                qi / Qi - q1i / Q2 - fz / P2,
            )
            for j in range(4):
                grads[j][head] = w_head * means[j] + w_tail * tail_grads[j]
    return log_j, grads


def _log_phi_series(
    p: FloatArray, q: FloatArray, z: FloatArray, *, with_grad: bool
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray] | None]:
    """:math:`\\log {}_2F_1(1, p; p+q; z)` for :math:`0 \\le z \\le 1/2`, by its series.

    Terms :math:`t_{n+1} = t_n (p+n) z / (p+q+n)`, all positive and below :math:`z^n`. With
    ``with_grad`` also :math:`\\Phi_p/\\Phi, \\Phi_q/\\Phi, \\Phi_z/\\Phi` from
    :math:`\\partial_p \\log t_n = \\sum_{k<n} q/((p+k)(p+q+k))`,
    :math:`\\partial_q \\log t_n = -\\sum_{k<n} 1/(p+q+k)`, :math:`\\partial_z \\log t_n = n/z`.
    Elements leave the loop as they converge.
    """
    size = p.size
    total = np.ones(size)
    sum_p = np.zeros(size)
    sum_q = np.zeros(size)
    sum_z = np.zeros(size)
    act = np.arange(size)
    pa, qa, za = p.copy(), q.copy(), z.copy()
    ca = pa + qa
    term = np.ones(size)
    tot = np.ones(size)
    acc_p = np.zeros(size)
    acc_q = np.zeros(size)
    sp = np.zeros(size)
    sq = np.zeros(size)
    sz = np.zeros(size)
    n = 0
    while act.size and n < _SERIES_MAX_TERMS:
        for _ in range(8):
            if with_grad:
                acc_p += qa / ((pa + n) * (ca + n))
                acc_q -= 1.0 / (ca + n)
            term *= (pa + n) / (ca + n) * za
            tot += term
            if with_grad:
                sp += term * acc_p
                sq += term * acc_q
                sz += (n + 1) * term
            n += 1
        bound = term * (n + 1) * (1.0 + acc_p - acc_q) if with_grad else term
        done = (bound <= _SERIES_TOL * tot) | (n >= _SERIES_MAX_TERMS)
        if done.any():
            ids = act[done]
            total[ids] = tot[done]
            sum_p[ids] = sp[done]
            sum_q[ids] = sq[done]
            sum_z[ids] = sz[done]
            keep = ~done
            act = act[keep]
            pa, qa, za, ca = pa[keep], qa[keep], za[keep], ca[keep]
            term, tot, acc_p, acc_q = term[keep], tot[keep], acc_p[keep], acc_q[keep]
            sp, sq, sz = sp[keep], sq[keep], sz[keep]
    if not with_grad:
        return np.log(total), None
    with np.errstate(divide="ignore", invalid="ignore"):
        fz = np.where(z > 0, sum_z / (total * np.where(z > 0, z, 1.0)), p / (p + q))
    return np.log(total), (sum_p / total, sum_q / total, fz)


# --------------------------------------------------------------------------- quadrature


def _log_quad(
    psi: LogIntegrand,
    lo: FloatArray,
    hi: FloatArray,
    peak: FloatArray,
    moments: Moments | None = None,
    *,
    n_moments: int = 0,
) -> tuple[FloatArray, FloatArray | None]:
    """:math:`\\log \\int_{lo}^{hi} e^{\\psi(y)} dy` per element, for concave :math:`\\psi`.

    ``peak`` is the maximiser of :math:`\\psi` on ``[lo, hi]``. The interval is first cut where
    :math:`\\psi` has fallen by ``_LOG_DROP`` on either side of the peak (bisection on the log of
    the distance, valid because :math:`\\psi` is monotone on each side); then adaptive
    Gauss-Kronrod 7/15 on ``[cut_left, peak]`` and ``[peak, cut_right]``, halving every panel
    whose :math:`|K_{15} - G_7|` exceeds ``_QUAD_RTOL`` of the running integral. ``moments``,
    if given, returns functions :math:`g_j(y)` whose means :math:`\\int g_j e^\\psi / \\int
    e^\\psi` are returned too (the gradient).
    """
    size = lo.size
    ids = np.arange(size)
    top = psi(peak[:, None], ids)[:, 0]
    target = top - _LOG_DROP
    left = _level_point(psi, ids, peak, lo, target)
    right = _level_point(psi, ids, peak, hi, target)
    a = np.concatenate([left, peak])
    b = np.concatenate([peak, right])
    idx = np.concatenate([ids, ids])
    keep = b > a
    a, b, idx = a[keep], b[keep], idx[keep]
    acc = np.zeros(size)
    macc = np.zeros((n_moments, size))
    for rnd in range(_QUAD_MAX_ROUNDS):
        if idx.size == 0:
            break
        mid = 0.5 * (a + b)
        half = 0.5 * (b - a)
        y = mid[:, None] + half[:, None] * _GK_X[None, :]
        f = np.exp(psi(y, idx) - top[idx][:, None])
        kron = half * (f @ _GK_W)
        gauss = half * (f[:, _G_INDEX] @ _G_W)
        est = acc + np.bincount(idx, weights=kron, minlength=size)
        ok = np.abs(kron - gauss) <= _QUAD_RTOL * est[idx]
        ok |= half <= 1e-15 * np.maximum(np.abs(mid), 1.0)
        if rnd == _QUAD_MAX_ROUNDS - 1:
            ok[:] = True
        if ok.any():
            acc += np.bincount(idx[ok], weights=kron[ok], minlength=size)
            if moments is not None:
                fo = f[ok]
                for j, g in enumerate(moments(y[ok], idx[ok])):
                    val = half[ok] * ((fo * g) @ _GK_W)
                    macc[j] += np.bincount(idx[ok], weights=val, minlength=size)
        split = ~ok
        a, b, mid, idx = a[split], b[split], mid[split], idx[split]
        a, b, idx = np.concatenate([a, mid]), np.concatenate([mid, b]), np.concatenate([idx, idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_int = np.log(acc) + top
        means = macc / acc if moments is not None else None
    return log_int, means


def _level_point(
    psi: LogIntegrand,
    ids: IndexArray,
    peak: FloatArray,
    end: FloatArray,
    target: FloatArray,
    n_iter: int = 40,
) -> FloatArray:
    """A point between ``peak`` and ``end`` where :math:`\\psi` has just fallen below
    ``target`` (``end`` itself if it never does); bisection on :math:`\\log_2` of the distance
    from the peak, down to :math:`2^{-64}` of the span."""
    out = end.copy()
    span = end - peak
    need = (psi(end[:, None], ids)[:, 0] < target) & (span != 0)
    if not need.any():
        return out
    j = ids[need]
    pk, sp, tg = peak[need], span[need], target[need]
    lo_e = np.full(j.size, -64.0)
    hi_e = np.zeros(j.size)
    for _ in range(n_iter):
        mid = 0.5 * (lo_e + hi_e)
        below = psi((pk + sp * np.exp2(mid))[:, None], j)[:, 0] < tg
        hi_e = np.where(below, mid, hi_e)
        lo_e = np.where(below, lo_e, mid)
    out[need] = pk + sp * np.exp2(hi_e)
    return out


def _concave_peak(
    dpsi: LogIntegrand, lo: FloatArray, hi: FloatArray, n_iter: int = 64
) -> FloatArray:
    """Maximiser on ``[lo, hi]`` of a concave function with derivative ``dpsi`` (bisection)."""
    ids = np.arange(lo.size)
    a, b = lo.copy(), hi.copy()
    for _ in range(n_iter):
        mid = 0.5 * (a + b)
        rising = dpsi(mid[:, None], ids)[:, 0] > 0
        a = np.where(rising, mid, a)
        b = np.where(rising, b, mid)
    peak = 0.5 * (a + b)
    peak = np.where(dpsi(lo[:, None], ids)[:, 0] <= 0, lo, peak)
    return np.asarray(np.where(dpsi(hi[:, None], ids)[:, 0] >= 0, hi, peak), dtype=np.float64)


# --------------------------------------------------------------------------- predictions core


def _log_dead_before(
    r: FloatArray,
    a: FloatArray,
    s: FloatArray,
    b: FloatArray,
    t: FloatArray,
    n: FloatArray,
    log_count: FloatArray,
) -> FloatArray:
    """Log of the second term of :func:`paretonbd_prob_n_transactions` (``t > 0``).

    In :math:`y = \\log\\tau` the log-integrand :math:`(n+1)y - (r+n)\\log(1+e^y/\\alpha)
    - (s+1)\\log(1+e^y/\\beta)` is concave.
    """
    la, lb = np.log(a), np.log(b)
    ra, s1, n1 = r + n, s + 1.0, n + 1.0

    def psi(y: FloatArray, idx: IndexArray) -> FloatArray:
        return np.asarray(
            n1[idx][:, None] * y
            - ra[idx][:, None] * np.logaddexp(0.0, y - la[idx][:, None])
            - s1[idx][:, None] * np.logaddexp(0.0, y - lb[idx][:, None]),
            dtype=np.float64,
        )

    def dpsi(y: FloatArray, idx: IndexArray) -> FloatArray:
        return np.asarray(
            n1[idx][:, None]
            - ra[idx][:, None] * expit(y - la[idx][:, None])
            - s1[idx][:, None] * expit(y - lb[idx][:, None]),
            dtype=np.float64,
        )

    hi = np.log(t)
    lo = hi - 750.0
    peak = _concave_peak(dpsi, lo, hi)
    log_int, _ = _log_quad(psi, lo, hi, peak)
    return np.asarray(log_count - n * la + np.log(s) - lb + log_int, dtype=np.float64)


def _log_kappa_s_hyperu(s: FloatArray, kappa: FloatArray) -> FloatArray:
    """:math:`\\log(\\kappa^s U(s, s; \\kappa)) = \\log E[\\kappa / (\\kappa + G)]`,
    :math:`G \\sim \\mathrm{Gamma}(s, 1)`.

    Three regimes, each accurate to a few ulps against mpmath:

    - ``kappa >= 1`` or ``s >= 20``: :math:`\\kappa e^\\kappa E_s(\\kappa)` with the even
      continued fraction :math:`e^\\kappa E_s(\\kappa) = 1/(\\kappa+s-)\\, 1\\cdot s/(\\kappa+s+2-)
      \\, 2(s+1)/(\\kappa+s+4-) \\cdots` (modified Lentz; under 100 terms there);
    - ``s < 1``: :math:`\\kappa^s e^\\kappa \\Gamma(1-s)\\, Q(1-s, \\kappa)`, ``Q`` the
      regularised upper incomplete gamma function;
    - otherwise quadrature of :math:`\\kappa \\int_0^\\infty e^{(1-s)y - \\kappa(e^y-1)} dy`
      (from :math:`U(s,s;\\kappa) = \\Gamma(s)^{-1}\\int_0^\\infty e^{-\\kappa u} u^{s-1}
      (1+u)^{-1} du`, :math:`1 + u = e^y`).
    """
    s, kappa = np.broadcast_arrays(s, kappa)
    s = np.ascontiguousarray(s).ravel()
    kappa = np.ascontiguousarray(kappa).ravel()
    out = np.empty(s.size)
    cf = (kappa >= 1.0) | (s >= 20.0)
    low = ~cf & (s < 1.0)
    mid = ~cf & ~low
    if cf.any():
        out[cf] = np.log(kappa[cf]) + _log_expint_cf(s[cf], kappa[cf])
    if low.any():
        sl, kl = s[low], kappa[low]
        out[low] = sl * np.log(kl) + kl + gammaln(1.0 - sl) + np.log(gammaincc(1.0 - sl, kl))
    if mid.any():
        sm, km = s[mid], kappa[mid]

        def psi(y: FloatArray, idx: IndexArray) -> FloatArray:
            return np.asarray(
                (1.0 - sm[idx])[:, None] * y - km[idx][:, None] * np.expm1(y), dtype=np.float64
            )

        hi = np.log1p((_LOG_DROP + 50.0) / km)
        log_int, _ = _log_quad(psi, np.zeros(sm.size), hi, np.zeros(sm.size))
        out[mid] = np.log(km) + log_int
    return out


def _log_expint_cf(s: FloatArray, x: FloatArray) -> FloatArray:
    """:math:`\\log(e^x E_s(x))` by the even part of its continued fraction (modified Lentz)."""
    tiny = 1e-300
    out = np.empty(s.size)
    act = np.arange(s.size)
    sa, xa = s.copy(), x.copy()
    b = xa + sa
    c = np.full(s.size, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, _CF_MAX_TERMS + 1):
        an = -i * (sa + i - 1.0)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        step = c * d
        h = h * step
        done = (np.abs(step - 1.0) <= 4e-16) | (i == _CF_MAX_TERMS)
        if done.any():
            out[act[done]] = np.log(h[done])
            keep = ~done
            act = act[keep]
            sa, xa, b, c, d, h = (v[keep] for v in (sa, xa, b, c, d, h))
            if act.size == 0:
                break
    return out


# --------------------------------------------------------------------------- small helpers


_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
"""Coefficients of :math:`z^{-1}, z^{-3}, \\dots, z^{-13}` in Stirling's series for
:math:`\\log\\Gamma(z)`; for :math:`z \\ge 10` the next term is below :math:`3 \\cdot 10^{-17}`."""
_STIRLING_PSI = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
"""Coefficients of :math:`z^{-2}, z^{-4}, \\dots, z^{-14}` in the asymptotic series of
:math:`\\log z - 1/(2z) - \\psi(z)`."""


def _log_rising(r: FloatArray, x: FloatArray) -> FloatArray:
    """:math:`\\log\\Gamma(r+x) - \\log\\Gamma(r)` without the cancellation of two large
    ``gammaln`` values: for :math:`r \\ge 10`, Stirling's series gives
    :math:`(r - \\tfrac12)\\log(1 + x/r) + x \\log(r+x) - x + c(r+x) - c(r)`."""
    r, x = np.broadcast_arrays(np.asarray(r, dtype=np.float64), np.asarray(x, dtype=np.float64))
    big = r >= 10.0
    rb = np.where(big, r, 10.0)
    zb = rb + x
    corr = np.zeros(r.shape)
    for k, c in enumerate(_STIRLING):
        corr = corr + c * (zb ** -(2 * k + 1) - rb ** -(2 * k + 1))
    stirling = (rb - 0.5) * np.log1p(x / rb) + xlogy(x, zb) - x + corr
    return np.asarray(np.where(big, stirling, gammaln(r + x) - gammaln(r)), dtype=np.float64)


def _digamma_rising(r: FloatArray, x: FloatArray) -> FloatArray:
    """:math:`\\psi(r+x) - \\psi(r)`, by the asymptotic series for :math:`r \\ge 10`."""
    r, x = np.broadcast_arrays(np.asarray(r, dtype=np.float64), np.asarray(x, dtype=np.float64))
    big = r >= 10.0
    rb = np.where(big, r, 10.0)
    zb = rb + x
    corr = -0.5 * (1.0 / zb - 1.0 / rb)
    for k, c in enumerate(_STIRLING_PSI):
        corr = corr - c * (zb ** -(2 * k + 2) - rb ** -(2 * k + 2))
    series = np.log1p(x / rb) + corr
    return np.asarray(np.where(big, series, digamma(r + x) - digamma(r)), dtype=np.float64)


def _one_minus_exp_over(k: FloatArray, ell: FloatArray) -> FloatArray:
    """:math:`(1 - e^{-k\\ell}) / k`, with the limit :math:`\\ell` at :math:`k = 0`."""
    k, ell = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(ell, np.float64))
    zero = k == 0.0
    safe = np.where(zero, 1.0, k)
    return np.asarray(np.where(zero, ell, -np.expm1(-k * ell) / safe), dtype=np.float64)


def _log1mexp(v: FloatArray) -> FloatArray:
    """:math:`\\log(1 - e^{v})` for :math:`v \\le 0` (Maechler 2012)."""
    with np.errstate(divide="ignore"):
        return np.asarray(
            np.where(v > -np.log(2.0), np.log(-np.expm1(v)), np.log1p(-np.exp(v))),
            dtype=np.float64,
        )


def _flatten(
    params: Sequence[ArrayLike], data: Sequence[ArrayLike]
) -> tuple[list[FloatArray], list[FloatArray], tuple[int, ...]]:
    """Broadcast everything; data flat, parameters flat too unless all four are scalars (then
    0-d arrays, which is how the fast paths recognise them)."""
    p_arr = [np.asarray(v, dtype=np.float64) for v in params]
    d_arr = [np.asarray(v, dtype=np.float64) for v in data]
    shape = np.broadcast_shapes(*(v.shape for v in p_arr + d_arr))
    flat_data = [np.ascontiguousarray(np.broadcast_to(v, shape)).ravel() for v in d_arr]
    if all(v.ndim == 0 for v in p_arr):
        return p_arr, flat_data, shape
    flat_params = [np.ascontiguousarray(np.broadcast_to(v, shape)).ravel() for v in p_arr]
    return flat_params, flat_data, shape
