"""BG/BB: beta-geometric / beta-Bernoulli model of repeat transactions at discrete opportunities.

Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time noncontractual
setting", *Marketing Science* 29(6), 1086-1108 (FHS below). At each of ``n`` opportunities a
live customer transacts with probability :math:`p`; after each opportunity she dies with
probability :math:`\\theta`, for good. Across customers :math:`p \\sim \\mathrm{Beta}(\\alpha,
\\beta)` and :math:`\\theta \\sim \\mathrm{Beta}(\\gamma, \\delta)`. For a bank an opportunity is
one period of the fee calendar (a month, a quarter) in which the customer can buy the service.

Data per customer: ``x`` transactions in ``n`` opportunities, the last one at opportunity
``t_x`` (``t_x = 0`` when ``x = 0``), so ``0 <= x <= t_x <= n``.

Conventions of every function here: parameters first, then data; floats or float64 arrays that
broadcast together; one value per customer, in the broadcast shape; log space throughout; finite
for every valid input (parameters in ``[1e-8, 1e8]``, up to ``1e4`` opportunities). When the four
parameters are scalars, the work is done once per distinct data row and scattered back.

Numerical notes (why the code does not just transcribe the paper):

- The sum in the likelihood (FHS eq. 5) is evaluated as ratios of consecutive terms, which are
  all at most one, so one loop over the offset ``i`` (vectorised over customers, who are sorted so
  that those still summing form a prefix) replaces ``n - t_x`` calls to ``betaln`` per customer.
- The closed forms with :math:`\\delta/(\\gamma-1)` (FHS eqs. 7 and 13) are 0/0 at
  :math:`\\gamma = 1`; they are evaluated through ``expm1`` of a log-ratio written with ``betaln``,
  and, for :math:`|\\gamma - 1| < 10^{-4}`, through its digamma series.
- ``scipy.special.hyp2f1`` returns NaN or inf for large parts of the parameter space needed by
  DERT (FHS eq. 14); the :math:`{}_2F_1(1, b; c; z)` needed there is computed with Gauss's
  continued fraction instead (the one behind the incomplete beta function), which converges for
  every ``z`` in (0, 1), in about :math:`7/\\sqrt{d}` steps for a small discount rate ``d``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, exprel, gammaln, polygamma

__all__ = [
    "bgbb_conditional_expected_transactions",
    "bgbb_discounted_expected_transactions",
    "bgbb_expected_transactions",
    "bgbb_loglik",
    "bgbb_loglik_grad",
    "bgbb_p_alive",
    "bgbb_prob_n_transactions",
]

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- public functions


def bgbb_loglik(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    n: ArrayLike,
) -> FloatArray:
    """Log-likelihood of each customer's ``(x, t_x, n)``.

    FHS eq. 5, with the sum written as a log-sum-exp over :math:`i = 0, \\dots, n - t_x - 1`:

    .. math::

        L = \\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha,\\beta)}
            \\frac{B(\\gamma, \\delta+n)}{B(\\gamma,\\delta)}
          + \\sum_{i=0}^{n-t_x-1}
            \\frac{B(\\alpha+x, \\beta+t_x-x+i)}{B(\\alpha,\\beta)}
            \\frac{B(\\gamma+1, \\delta+t_x+i)}{B(\\gamma,\\delta)}

    Parameters
    ----------
    alpha, beta : array_like
        Beta distribution of the transaction probability :math:`p`; positive.
    gamma, delta : array_like
        Beta distribution of the dropout probability :math:`\\theta`; positive.
    x : array_like
        Number of transactions, ``0 <= x <= t_x``.
    t_x : array_like
        Opportunity of the last transaction, ``0`` when ``x = 0``; ``t_x <= n``.
    n : array_like
        Number of opportunities observed.

    Returns
    -------
    numpy.ndarray
        :math:`\\log L` per customer, in the broadcast shape of the inputs. A weighted
        log-likelihood is ``np.sum(weights * bgbb_loglik(...))``.
    """
    params, data, shape, inverse = _flatten((alpha, beta, gamma, delta), (x, t_x, n))
    ll = _loglik_parts(*params, *data, with_grad=False)[0]
    return _restore(ll, shape, inverse)


def bgbb_loglik_grad(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    n: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Partial derivatives of :func:`bgbb_loglik` per customer, on the natural parameter scale.

    Writing :math:`L = A + \\sum_i T_i` (FHS eq. 5) with :math:`\\psi` the digamma function,

    .. math::

        \\frac{\\partial \\log L}{\\partial \\alpha}
          = \\frac{A}{L}\\,\\partial_\\alpha \\log A
          + \\sum_i \\frac{T_i}{L}\\,\\partial_\\alpha \\log T_i,
        \\qquad
        \\partial_\\alpha \\log A = \\psi(\\alpha+x) - \\psi(\\alpha+\\beta+n)
                                    - \\psi(\\alpha) + \\psi(\\alpha+\\beta),

    and likewise for :math:`\\beta, \\gamma, \\delta`; the :math:`\\partial \\log T_i` follow
    from :math:`\\partial \\log T_0` by adding :math:`\\partial \\log (T_{j+1}/T_j)`, e.g.
    :math:`-1/(\\alpha+\\beta+t_x+j)` for :math:`\\alpha`.

    Parameters
    ----------
    alpha, beta, gamma, delta, x, t_x, n : array_like
        As in :func:`bgbb_loglik`.

    Returns
    -------
    tuple of numpy.ndarray
        :math:`(\\partial_\\alpha, \\partial_\\beta, \\partial_\\gamma, \\partial_\\delta)
        \\log L`, each in the broadcast shape of the inputs.
    """
    params, data, shape, inverse = _flatten((alpha, beta, gamma, delta), (x, t_x, n))
    _, d_alpha, d_beta, d_gamma, d_delta = _loglik_parts(*params, *data, with_grad=True)
    return (
        _restore(d_alpha, shape, inverse),
        _restore(d_beta, shape, inverse),
        _restore(d_gamma, shape, inverse),
        _restore(d_delta, shape, inverse),
    )


def bgbb_p_alive(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    n: ArrayLike,
) -> FloatArray:
    """Probability that the customer is alive at opportunity ``n + 1``.

    FHS eq. 11:

    .. math::

        P(\\text{alive at } n+1 \\mid x, t_x, n) =
          \\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha,\\beta)}
          \\frac{B(\\gamma, \\delta+n+1)}{B(\\gamma,\\delta)} \\Big/ L

    with :math:`L` the likelihood of FHS eq. 5 (:func:`bgbb_loglik`).

    Parameters
    ----------
    alpha, beta, gamma, delta, x, t_x, n : array_like
        As in :func:`bgbb_loglik`.

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], in the broadcast shape of the inputs.
    """
    params, data, shape, inverse = _flatten((alpha, beta, gamma, delta), (x, t_x, n))
    a, b, g, d = params
    xs, txs, ns = data
    ll = _loglik_parts(a, b, g, d, xs, txs, ns, with_grad=False)[0]
    log_num = betaln(a + xs, b + ns - xs) - betaln(a, b) + betaln(g, d + ns + 1.0) - betaln(g, d)
    p_alive = np.minimum(np.exp(log_num - ll), 1.0)
    return _restore(p_alive, shape, inverse)


def bgbb_conditional_expected_transactions(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    n: ArrayLike,
    n_star: ArrayLike,
) -> FloatArray:
    """Expected number of transactions in the next ``n_star`` opportunities, given the history.

    FHS eq. 13:

    .. math::

        E[X(n, n+n^*) \\mid x, t_x, n] = \\frac{1}{L}
          \\frac{B(\\alpha+x+1, \\beta+n-x)}{B(\\alpha,\\beta)}
          \\frac{\\delta}{\\gamma-1}
          \\frac{\\Gamma(\\gamma+\\delta)}{\\Gamma(1+\\delta)}
          \\left[\\frac{\\Gamma(1+\\delta+n)}{\\Gamma(\\gamma+\\delta+n)}
               - \\frac{\\Gamma(1+\\delta+n+n^*)}{\\Gamma(\\gamma+\\delta+n+n^*)}\\right]

    evaluated as :math:`\\frac{1}{L}\\frac{B(\\alpha+x+1,\\beta+n-x)}{B(\\alpha,\\beta)}
    \\sum_{t=n+1}^{n+n^*} \\frac{B(\\gamma,\\delta+t)}{B(\\gamma,\\delta)}`, the same quantity
    with the bracket rewritten so that it stays accurate and finite at :math:`\\gamma = 1`.

    Parameters
    ----------
    alpha, beta, gamma, delta, x, t_x, n : array_like
        As in :func:`bgbb_loglik`.
    n_star : array_like
        Number of future opportunities (the horizon, in opportunities); ``0`` gives ``0``.

    Returns
    -------
    numpy.ndarray
        Expected transactions, in the broadcast shape of the inputs.
    """
    params, data, shape, inverse = _flatten((alpha, beta, gamma, delta), (x, t_x, n, n_star))
    a, b, g, d = params
    xs, txs, ns, horizon = data
    ll = _loglik_parts(a, b, g, d, xs, txs, ns, with_grad=False)[0]
    with np.errstate(divide="ignore"):
        log_value = (
            betaln(a + xs + 1.0, b + ns - xs)
            - betaln(a, b)
            + betaln(g, d + ns)
            - betaln(g, d)
            + np.log(d + ns)
            + _log_q(g, d + ns, horizon)
            - ll
        )
    return _restore(np.exp(log_value), shape, inverse)


def bgbb_expected_transactions(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    n: ArrayLike,
) -> FloatArray:
    """Expected number of transactions of a new customer in her first ``n`` opportunities.

    FHS eq. 7:

    .. math::

        E[X(n)] = \\frac{\\alpha}{\\alpha+\\beta}\\frac{\\delta}{\\gamma-1}
          \\left[1 - \\frac{\\Gamma(\\gamma+\\delta)}{\\Gamma(1+\\delta)}
                     \\frac{\\Gamma(1+\\delta+n)}{\\Gamma(\\gamma+\\delta+n)}\\right]

    evaluated so that it stays accurate and finite at :math:`\\gamma = 1`.

    Parameters
    ----------
    alpha, beta, gamma, delta : array_like
        Model parameters, positive.
    n : array_like
        Number of opportunities (the horizon); ``0`` gives ``0``.

    Returns
    -------
    numpy.ndarray
        :math:`E[X(n)]`, in the broadcast shape of the inputs.
    """
    a, b, g, d, ns = (np.asarray(v, dtype=np.float64) for v in (alpha, beta, gamma, delta, n))
    with np.errstate(divide="ignore"):
        log_value = -np.log1p(b / a) + np.log(d) + _log_q(g, d, ns)
    return np.asarray(np.exp(log_value), dtype=np.float64)


def bgbb_prob_n_transactions(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    n: ArrayLike,
    x: ArrayLike,
) -> FloatArray:
    """Probability that a new customer makes exactly ``x`` transactions in ``n`` opportunities.

    FHS eq. 8:

    .. math::

        P(X(n) = x) = \\binom{n}{x}
            \\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha,\\beta)}
            \\frac{B(\\gamma, \\delta+n)}{B(\\gamma,\\delta)}
          + \\sum_{i=x}^{n-1} \\binom{i}{x}
            \\frac{B(\\alpha+x, \\beta+i-x)}{B(\\alpha,\\beta)}
            \\frac{B(\\gamma+1, \\delta+i)}{B(\\gamma,\\delta)}

    Parameters
    ----------
    alpha, beta, gamma, delta : array_like
        Model parameters, positive.
    n : array_like
        Number of opportunities.
    x : array_like
        Number of transactions, ``0 <= x <= n``.

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], in the broadcast shape of the inputs.
    """
    params, data, shape, inverse = _flatten((alpha, beta, gamma, delta), (n, x))
    prob = np.minimum(np.exp(_log_prob_core(*params, *data)), 1.0)
    return _restore(prob, shape, inverse)


def bgbb_discounted_expected_transactions(
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    n: ArrayLike,
    discount_rate: ArrayLike,
) -> FloatArray:
    """Discounted expected residual transactions (DERT) after opportunity ``n``.

    FHS eq. 14, the present value at opportunity ``n`` of the expected number of transactions at
    opportunities ``n + 1, n + 2, ...``, the one at ``n + t`` discounted by :math:`(1+d)^{-t}`:

    .. math::

        \\mathrm{DERT}(d \\mid x, t_x, n) =
          \\frac{B(\\alpha+x+1, \\beta+n-x)}{B(\\alpha,\\beta)}
          \\frac{B(\\gamma, \\delta+n+1)}{B(\\gamma,\\delta)\\,(1+d)}
          \\frac{{}_2F_1\\!\\left(1, \\delta+n+1; \\gamma+\\delta+n+1; \\tfrac{1}{1+d}\\right)}{L}

    The hypergeometric function is evaluated by Gauss's continued fraction (see the module
    notes), not by ``scipy.special.hyp2f1``. Multiply by the expected margin per transaction
    to get a residual value.

    Parameters
    ----------
    alpha, beta, gamma, delta, x, t_x, n : array_like
        As in :func:`bgbb_loglik`.
    discount_rate : array_like
        Discount rate ``d`` per opportunity (0.01 for 1 % per opportunity), positive. The cost
        grows like :math:`1/\\sqrt{d}`: about 700 continued-fraction steps at ``d = 1e-4``.

    Returns
    -------
    numpy.ndarray
        DERT per customer, in the broadcast shape of the inputs.
    """
    params, data, shape, inverse = _flatten((alpha, beta, gamma, delta), (x, t_x, n, discount_rate))
    a, b, g, d = params
    xs, txs, ns, rate = data
    ll = _loglik_parts(a, b, g, d, xs, txs, ns, with_grad=False)[0]
    log_value = (
        betaln(a + xs + 1.0, b + ns - xs)
        - betaln(a, b)
        + betaln(g, d + ns + 1.0)
        - betaln(g, d)
        - np.log1p(rate)
        + _log_hyp2f1_dert(g, d + ns, rate)
        - ll
    )
    return _restore(np.exp(log_value), shape, inverse)


# --------------------------------------------------------------------------- kernels


def _loglik_parts(
    alpha: FloatArray,
    beta: FloatArray,
    gamma: FloatArray,
    delta: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    n: FloatArray,
    *,
    with_grad: bool,
) -> tuple[FloatArray, ...]:
    """FHS eq. 5 on flat arrays: ``(log L,)`` or ``(log L, d_alpha, d_beta, d_gamma, d_delta)``.

    ``log T_0`` is the first term of the sum; the sum is ``T_0 * S`` with
    ``S = sum_i T_i / T_0``, each ratio at most one (the terms fall with ``i``).
    """
    log_ab = betaln(alpha, beta)
    log_gd = betaln(gamma, delta)
    log_a = betaln(alpha + x, beta + n - x) - log_ab + betaln(gamma, delta + n) - log_gd
    log_t0 = betaln(alpha + x, beta + t_x - x) - log_ab + betaln(gamma + 1.0, delta + t_x) - log_gd
    k = n - t_x
    has_sum = k > 0
    sums = _ratio_sums(alpha, beta, gamma, delta, x, t_x, k, with_grad=with_grad)
    total = np.where(has_sum, sums[0], 1.0)
    log_tail = np.where(has_sum, log_t0 + np.log(total), -np.inf)
    ll = np.logaddexp(log_a, log_tail)
    if not with_grad:
        return (ll,)

    w_s, w_b, w_e, w_d = (s / total for s in sums[1:])
    share_a = np.exp(log_a - ll)
    share_t = np.exp(log_tail - ll)
    psi_ab = digamma(alpha + beta)
    psi_gd = digamma(gamma + delta)
    psi_ax_minus_a = digamma(alpha + x) - digamma(alpha)
    psi_abn = digamma(alpha + beta + n)
    psi_abt = digamma(alpha + beta + t_x)
    psi_gdt1 = digamma(gamma + delta + 1.0 + t_x)
    psi_gdn = digamma(gamma + delta + n)
    psi_d = digamma(delta)
    psi_b = digamma(beta)

    da_alpha = psi_ax_minus_a - psi_abn + psi_ab
    da_beta = digamma(beta + n - x) - psi_b - psi_abn + psi_ab
    da_gamma = psi_gd - psi_gdn
    da_delta = digamma(delta + n) - psi_d - psi_gdn + psi_gd

    dt_alpha = psi_ax_minus_a - psi_abt + psi_ab - w_s
    dt_beta = digamma(beta + t_x - x) - psi_b - psi_abt + psi_ab + w_b - w_s
    dt_gamma = 1.0 / gamma - psi_gdt1 + psi_gd - w_e
    dt_delta = digamma(delta + t_x) - psi_d - psi_gdt1 + psi_gd + w_d - w_e

    return (
        ll,
        share_a * da_alpha + share_t * dt_alpha,
        share_a * da_beta + share_t * dt_beta,
        share_a * da_gamma + share_t * dt_gamma,
        share_a * da_delta + share_t * dt_delta,
    )


def _ratio_sums(
    alpha: FloatArray,
    beta: FloatArray,
    gamma: FloatArray,
    delta: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    k: FloatArray,
    *,
    with_grad: bool,
) -> tuple[FloatArray, ...]:
    """``S = sum_{i<k} T_i/T_0`` and, for the gradient, ``sum_i (T_i/T_0) C_i`` for four ``C``.

    ``T_{j+1}/T_j = b_j d_j / (s_j e_j)`` with ``b_j = beta+t_x-x+j``, ``s_j = alpha+beta+t_x+j``,
    ``d_j = delta+t_x+j``, ``e_j = gamma+delta+1+t_x+j``; the ``C`` are the running sums of
    ``1/s_j``, ``1/b_j``, ``1/e_j`` and ``1/d_j`` over ``j < i``. Customers are sorted by ``k``,
    descending, so those with a term ``j`` left form a prefix ``[:m]``.
    """
    size = k.shape[0]
    order = np.argsort(-k, kind="stable")
    ks = k[order]
    b0 = np.broadcast_to(beta + t_x - x, k.shape)[order]
    s0 = np.broadcast_to(alpha + beta + t_x, k.shape)[order]
    d0 = np.broadcast_to(delta + t_x, k.shape)[order]
    e0 = np.broadcast_to(gamma + delta + 1.0 + t_x, k.shape)[order]

    ratio = np.ones(size)
    total = (ks > 0).astype(np.float64)
    n_acc = 5 if with_grad else 1
    acc = [total] + [np.zeros(size) for _ in range(n_acc - 1)]
    running = [np.zeros(size) for _ in range(4)] if with_grad else []
    k_max = int(ks[0]) if size else 0
    active = np.searchsorted(-ks, -np.arange(1, max(k_max, 1), dtype=np.float64), side="left")
    for j in range(1, k_max):
        m = int(active[j - 1])
        bj = b0[:m] + (j - 1)
        sj = s0[:m] + (j - 1)
        dj = d0[:m] + (j - 1)
        ej = e0[:m] + (j - 1)
        ratio[:m] *= (bj / sj) * (dj / ej)
        r = ratio[:m]
        total[:m] += r
        if with_grad:
            for run, step in zip(running, (sj, bj, ej, dj), strict=True):
                run[:m] += 1.0 / step
            for a_sum, run in zip(acc[1:], running, strict=True):
                a_sum[:m] += r * run[:m]

    out = []
    for a_sum in acc:
        unsorted = np.empty(size)
        unsorted[order] = a_sum
        out.append(unsorted)
    return tuple(out)


def _log_prob_core(
    alpha: FloatArray,
    beta: FloatArray,
    gamma: FloatArray,
    delta: FloatArray,
    n: FloatArray,
    x: FloatArray,
) -> FloatArray:
    """``log P(X(n) = x)`` (FHS eq. 8) on flat arrays; one log-add per term of the sum."""
    log_ab = betaln(alpha, beta)
    log_gd = betaln(gamma, delta)
    log_x_fact = gammaln(x + 1.0)
    log_first = (
        gammaln(n + 1.0)
        - log_x_fact
        - gammaln(n - x + 1.0)
        + betaln(alpha + x, beta + n - x)
        - log_ab
        + betaln(gamma, delta + n)
        - log_gd
    )
    size = n.shape[0]
    k = n - x
    order = np.argsort(-k, kind="stable")
    ks = k[order]

    def sort(v: FloatArray) -> FloatArray:
        return np.broadcast_to(v, k.shape)[order]

    a_x, beta_s, g1, d_s = sort(alpha + x), sort(beta), sort(gamma + 1.0), sort(delta)
    x_s, lxf = sort(x), sort(log_x_fact)
    const = sort(-log_ab - log_gd)
    acc = np.full(size, -np.inf)
    k_max = int(ks[0]) if size else 0
    active = np.searchsorted(-ks, -np.arange(0, k_max, dtype=np.float64), side="left")
    for j in range(k_max):
        m = int(active[j])
        i = x_s[:m] + j
        term = (
            gammaln(i + 1.0)
            - lxf[:m]
            - gammaln(j + 1.0)
            + betaln(a_x[:m], beta_s[:m] + j)
            + betaln(g1[:m], d_s[:m] + i)
            + const[:m]
        )
        acc[:m] = np.logaddexp(acc[:m], term)
    log_sum = np.empty(size)
    log_sum[order] = acc
    return np.asarray(np.logaddexp(log_first, log_sum), dtype=np.float64)


def _log_q(gamma: ArrayLike, base: ArrayLike, m: ArrayLike) -> FloatArray:
    """``log Q`` with ``Q = (1 - R) / (gamma - 1)``, the bracket of FHS eqs. 7 and 13.

    .. math::

        R = \\frac{\\Gamma(\\gamma+D)\\,\\Gamma(1+D+m)}{\\Gamma(1+D)\\,\\Gamma(\\gamma+D+m)},
        \\qquad
        D\\,Q = \\sum_{t=1}^{m} \\frac{B(\\gamma, D+t)}{B(\\gamma, D)}.

    ``log R`` is a difference of two ``betaln`` (with :math:`\\gamma - 1` or
    :math:`1 - \\gamma` as the small argument, so nothing overflows); ``1 - R`` is ``-expm1``.
    Near :math:`\\gamma = 1` the 0/0 is removed by the series
    :math:`\\log R = -u\\,[\\Phi(1+D+m) - \\Phi(1+D)]`, :math:`u = \\gamma - 1`,
    :math:`\\Phi = \\psi + \\tfrac{u}{2}\\psi' + \\tfrac{u^2}{6}\\psi''`, and
    :math:`Q = \\Delta\\Phi \\cdot \\mathrm{exprel}(-u\\,\\Delta\\Phi)`. ``m = 0`` gives ``-inf``.
    """
    g, d, mm = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(gamma, base, m))
    shape = g.shape
    g, d, mm = g.ravel(), d.ravel(), mm.ravel()
    u = g - 1.0
    out = np.empty(g.shape)
    near = np.abs(u) < 1e-4
    with np.errstate(divide="ignore"):
        if near.any():
            un, lo, hi = u[near], 1.0 + d[near], 1.0 + d[near] + mm[near]
            dphi = (
                (digamma(hi) - digamma(lo))
                + un / 2.0 * (polygamma(1, hi) - polygamma(1, lo))
                + un**2 / 6.0 * (polygamma(2, hi) - polygamma(2, lo))
            )
            out[near] = np.log(dphi) + np.log(exprel(-un * dphi))
        up = ~near & (u > 0)
        if up.any():
            uu, dd, m_up = u[up], d[up], mm[up]
            log_r = betaln(1.0 + dd + m_up, uu) - betaln(1.0 + dd, uu)
            out[up] = _log_abs_expm1(log_r) - np.log(uu)
        down = ~near & (u < 0)
        if down.any():
            w, gd, m_dn = -u[down], g[down] + d[down], mm[down]
            log_r = betaln(gd, w) - betaln(gd + m_dn, w)
            out[down] = _log_abs_expm1(log_r) - np.log(w)
    return out.reshape(shape)


def _log_abs_expm1(y: FloatArray) -> FloatArray:
    """``log |exp(y) - 1|`` without overflow for large ``y``; ``-inf`` at ``y = 0``."""
    out = np.empty(y.shape)
    pos = y > 0
    with np.errstate(divide="ignore"):
        out[pos] = y[pos] + np.log(-np.expm1(-y[pos]))
        out[~pos] = np.log(-np.expm1(y[~pos]))
    return out


def _log_hyp2f1_dert(gamma: ArrayLike, base: ArrayLike, rate: ArrayLike) -> FloatArray:
    """``log 2F1(1, D+1; gamma+D+1; 1/(1+d))`` by Gauss's continued fraction (modified Lentz).

    With :math:`a = \\gamma + D`, :math:`b = 1 - \\gamma`, :math:`z = 1/(1+d)`,
    :math:`{}_2F_1(1, a+b; a+1; z) = 1/(1+\\frac{c_1}{1+\\frac{c_2}{1+\\cdots}})` with
    :math:`c_{2m+1} = -\\frac{(a+m)(a+b+m)z}{(a+2m)(a+2m+1)}`,
    :math:`c_{2m} = \\frac{m(b-m)z}{(a+2m-1)(a+2m)}` (the continued fraction of the incomplete
    beta function, e.g. Press et al., *Numerical Recipes*, 3rd ed., eq. 6.4.5). It holds for any
    real ``b``, so for every :math:`\\gamma`, including integers, where the connection formulas
    used near ``z = 1`` are singular.
    """
    g, dd, rr = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(gamma, base, rate))
    shape = g.shape
    g, dd, rr = g.ravel(), dd.ravel(), rr.ravel()
    size = g.shape[0]
    out = np.empty(size)
    if size == 0:
        return out.reshape(shape)
    tiny = 1e-300
    a = g + dd
    b = 1.0 - g
    a_plus_b = dd + 1.0
    z = 1.0 / (1.0 + rr)
    c = np.ones(size)
    d = 1.0 - a_plus_b * z / (a + 1.0)
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    idx = np.arange(size)
    max_iter = 1000 + int(30.0 / np.sqrt(max(float(np.min(rr)), 1e-12)))
    for it in range(1, max_iter + 1):
        m2 = 2.0 * it
        for coef in (
            it * (b - it) * z / ((a + m2 - 1.0) * (a + m2)),
            -(a + it) * (a_plus_b + it) * z / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + coef * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + coef / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
        done = np.abs(step - 1.0) < 1e-15
        if done.any():
            out[idx[done]] = h[done]
            keep = ~done
            if not keep.any():
                break
            idx = idx[keep]
            a, b, a_plus_b, z, c, d, h = (v[keep] for v in (a, b, a_plus_b, z, c, d, h))
    else:
        out[idx] = h
    return np.log(out).reshape(shape)


# --------------------------------------------------------------------------- broadcasting


def _flatten(
    params: tuple[ArrayLike, ...], data: tuple[ArrayLike, ...]
) -> tuple[list[FloatArray], list[FloatArray], tuple[int, ...], NDArray[np.intp] | None]:
    """Broadcast to one shape and flatten; with scalar parameters keep distinct data rows only.

    Returns the parameters (0-d arrays when scalar), the flat data columns, the broadcast shape
    and, in the scalar case, the index that scatters per-row results back (else ``None``).
    """
    p = [np.asarray(v, dtype=np.float64) for v in params]
    d = [np.asarray(v, dtype=np.float64) for v in data]
    shape = np.broadcast_shapes(*(v.shape for v in p + d))
    if all(v.ndim == 0 for v in p):
        columns, inverse = _distinct_rows([np.broadcast_to(v, shape).ravel() for v in d])
        return p, columns, shape, inverse
    flat = [np.ascontiguousarray(np.broadcast_to(v, shape).ravel()) for v in p + d]
    return flat[: len(p)], flat[len(p) :], shape, None


def _distinct_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """The distinct rows of some columns and the index that maps them back to every row.

    A lexicographic sort and a comparison of neighbours: several times faster than
    ``np.unique(axis=0)`` on a million rows.
    """
    size = columns[0].shape[0]
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    first = np.ones(size, dtype=bool)
    for c in ordered:
        first[1:] &= c[1:] == c[:-1]
    first = ~first
    if size:
        first[0] = True
    inverse = np.empty(size, dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return [c[first] for c in ordered], inverse


def _restore(
    values: FloatArray, shape: tuple[int, ...], inverse: NDArray[np.intp] | None
) -> FloatArray:
    """Scatter per-row results back to the broadcast shape."""
    full = values if inverse is None else values[inverse]
    return np.asarray(full, dtype=np.float64).reshape(shape)
