"""Gamma-Gamma model of the mean value of a customer's transactions.

Colombo & Jiang (1999), "A stochastic RFM model", *Journal of Interactive Marketing* 13(3);
Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves for customer base analysis",
*Journal of Marketing Research* 42(4), 415-430; Fader & Hardie (2013), "The Gamma-Gamma model
of monetary value", note 025 at brucehardie.com (FH 2013 below).

Each transaction value of a customer is :math:`Z \\sim \\mathrm{Gamma}(p, \\nu)` (shape, rate);
across customers :math:`\\nu \\sim \\mathrm{Gamma}(q, v)` (shape, rate; the papers' :math:`\\gamma`
is ``v`` here). The data per customer are ``x``, the number of repeat transactions, and ``zbar``,
their mean value. The model assumes the value of a transaction is independent of how often the
customer transacts; check the correlation of ``x`` and ``zbar`` before trusting it.

Conventions: parameters first, then data; floats or float64 arrays that broadcast; one value per
customer; log space; finite for every valid input (parameters in ``[1e-8, 1e8]``, ``x`` up to
``1e4``, ``zbar > 0``).

Zero and negative margins (the policy)
--------------------------------------
For a bank ``zbar`` is a fee *margin*, which can be zero or negative; the model describes positive
values only, so nothing here pretends otherwise. :func:`prepare_spend` applies one of two policies
to the customers with repeat transactions (``x >= 1``) whose mean margin is not positive:

``"error"`` (the default)
    Raise :class:`lendvalue.errors.DataContractError` with this exact text, where ``{n_bad}`` is
    the number of such customers, ``{n_repeat}`` the number with ``x >= 1``, and ``{rows}`` the
    first five 0-based row positions (then ``", … (N more)"``)::

        Gamma-Gamma spend model: {n_bad} of {n_repeat} customers with repeat transactions have
        a mean margin (monetary_value) that is zero, negative or missing (rows {rows}, 0-based).
        The model describes positive values only. Use the policy 'exclude'
        (GammaGammaModel(nonpositive='exclude')) to fit on the customers with a positive mean
        margin and value the others at their own observed mean margin, or correct or remove
        those rows.

    (one line in the raised message; wrapped here for reading).

``"exclude"``
    Fit on the customers with ``x >= 1`` and ``zbar > 0`` only. The estimator reports how many
    were left out (``excluded_customers_``); the others' prediction is their *own observed mean
    margin*, unshrunk: :func:`gammagamma_conditional_expected_spend` returns ``zbar`` itself when
    ``x >= 1`` and ``zbar <= 0``. That is the conservative choice: shrinking a loss-making
    customer toward the mean of the profitable ones would raise her value on the strength of
    other customers' profits. Two consequences to state in any report: the fitted population
    mean :math:`pv/(q-1)` is the mean margin of *profitable* repeat customers and overstates the
    whole base; and the prediction jumps at ``zbar = 0`` (a customer at ``+0.01`` is shrunk up
    toward the population mean, one at ``-0.01`` keeps ``-0.01``).

A shift (fit on ``zbar + c``, subtract ``c`` afterwards) is deliberately not offered: every
prediction would depend on the arbitrary ``c`` through the fitted shape and the shrinkage, and no
one could defend a particular ``c`` to a risk committee. Customers with ``x = 0`` never enter the
fit; their prediction is the population mean (the formula at ``x = 0``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma

from lendvalue.errors import ConfigError, DataContractError

__all__ = [
    "gammagamma_conditional_expected_spend",
    "gammagamma_expected_spend",
    "gammagamma_loglik",
    "gammagamma_loglik_grad",
    "prepare_spend",
]

FloatArray = NDArray[np.float64]


def gammagamma_loglik(
    p: ArrayLike, q: ArrayLike, v: ArrayLike, x: ArrayLike, zbar: ArrayLike
) -> FloatArray:
    """Log density of each customer's mean transaction value ``zbar`` given ``x``.

    Given :math:`\\nu`, the sum :math:`x\\bar z` of ``x`` values is :math:`\\mathrm{Gamma}(px,
    \\nu)`, so :math:`\\bar z \\sim \\mathrm{Gamma}(px, x\\nu)`; mixing over
    :math:`\\nu \\sim \\mathrm{Gamma}(q, v)`:

    .. math::

        f(\\bar z \\mid p, q, v; x) =
          \\frac{\\Gamma(px+q)}{\\Gamma(px)\\,\\Gamma(q)}
          \\frac{v^q\\, x^{px}\\, \\bar z^{\\,px-1}}{(v + x\\bar z)^{px+q}}

    (FH 2013, eq. 1 at :math:`x = 1`; the factor :math:`x^{px}` is the Jacobian of the mean,
    which the published log-likelihoods include). Evaluated as
    :math:`-\\log B(px, q) - q\\,\\mathrm{log1p}(x\\bar z/v) - px\\,\\mathrm{log1p}(v/(x\\bar z))
    - \\log \\bar z`, which has no large cancelling terms.

    Parameters
    ----------
    p : array_like
        Shape of each transaction's value, positive.
    q, v : array_like
        Shape and rate of the gamma distribution of :math:`\\nu` across customers, positive.
    x : array_like
        Number of repeat transactions, at least 1.
    zbar : array_like
        Their mean value, positive.

    Returns
    -------
    numpy.ndarray
        Log density per customer, in the broadcast shape of the inputs.
    """
    pp, qq, vv, xx, zz = _arrays(p, q, v, x, zbar)
    px = pp * xx
    xz = xx * zz
    ll = -betaln(px, qq) - qq * np.log1p(xz / vv) - px * np.log1p(vv / xz) - np.log(zz)
    return np.asarray(ll, dtype=np.float64)


def gammagamma_loglik_grad(
    p: ArrayLike, q: ArrayLike, v: ArrayLike, x: ArrayLike, zbar: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Partial derivatives of :func:`gammagamma_loglik` per customer (natural scale).

    With :math:`\\psi` the digamma function:

    .. math::

        \\frac{\\partial \\ell}{\\partial p} =
            x\\left[\\psi(px+q) - \\psi(px) - \\log\\left(1 + \\frac{v}{x\\bar z}\\right)\\right],
        \\quad
        \\frac{\\partial \\ell}{\\partial q} =
            \\psi(px+q) - \\psi(q) - \\log\\left(1 + \\frac{x\\bar z}{v}\\right),
        \\quad
        \\frac{\\partial \\ell}{\\partial v} = \\frac{q}{v} - \\frac{px+q}{v+x\\bar z}
            = \\frac{x\\,(q\\bar z - pv)}{v\\,(v+x\\bar z)}

    Parameters
    ----------
    p, q, v, x, zbar : array_like
        As in :func:`gammagamma_loglik`.

    Returns
    -------
    tuple of numpy.ndarray
        :math:`(\\partial_p, \\partial_q, \\partial_v)\\,\\ell`, each in the broadcast shape.
    """
    pp, qq, vv, xx, zz = _arrays(p, q, v, x, zbar)
    px = pp * xx
    xz = xx * zz
    psi_all = digamma(px + qq)
    d_p = xx * (psi_all - digamma(px) - np.log1p(vv / xz))
    d_q = psi_all - digamma(qq) - np.log1p(xz / vv)
    d_v = xx * (qq * zz - pp * vv) / (vv * (vv + xz))
    return (
        np.asarray(d_p, dtype=np.float64),
        np.asarray(d_q, dtype=np.float64),
        np.asarray(d_v, dtype=np.float64),
    )


def gammagamma_conditional_expected_spend(
    p: ArrayLike, q: ArrayLike, v: ArrayLike, x: ArrayLike, zbar: ArrayLike
) -> FloatArray:
    """Expected value of a customer's future transactions given ``x`` and ``zbar``.

    The posterior of :math:`\\nu` is :math:`\\mathrm{Gamma}(px+q, v+x\\bar z)`, so (FH 2013,
    eq. 5)

    .. math::

        E[Z \\mid x, \\bar z] = \\frac{p\\,(v + x\\bar z)}{px+q-1}
          = \\frac{q-1}{px+q-1}\\,\\frac{pv}{q-1} + \\frac{px}{px+q-1}\\,\\bar z,

    a weighted average of the population mean and the customer's own mean, defined for
    :math:`px + q > 1` (``inf`` otherwise: the posterior mean of :math:`1/\\nu` is infinite).
    At ``x = 0`` it is the population mean :math:`pv/(q-1)` whatever ``zbar`` holds.

    Policy for non-positive margins (see the module notes): where ``x >= 1`` and ``zbar <= 0``
    the result is ``zbar`` itself, unshrunk.

    Parameters
    ----------
    p, q, v : array_like
        Model parameters, positive.
    x : array_like
        Number of repeat transactions, 0 or more.
    zbar : array_like
        Their mean value (ignored where ``x = 0``).

    Returns
    -------
    numpy.ndarray
        Expected value per future transaction, in the broadcast shape of the inputs.
    """
    pp, qq, vv, xx, zz = _arrays(p, q, v, x, zbar)
    own = np.where(xx > 0, xx * zz, 0.0)
    denominator = pp * xx + qq - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        shrunk = np.where(denominator > 0, pp * (vv + own) / denominator, np.inf)
    spend = np.where((xx > 0) & (zz <= 0), zz, shrunk)
    return np.asarray(spend, dtype=np.float64)


def gammagamma_expected_spend(p: ArrayLike, q: ArrayLike, v: ArrayLike) -> FloatArray:
    """Population mean value of a transaction, :math:`E[Z] = pv/(q-1)`.

    The mean of :math:`Z \\mid \\nu` is :math:`p/\\nu` and :math:`E[1/\\nu] = v/(q-1)` for
    :math:`\\nu \\sim \\mathrm{Gamma}(q, v)` (FH 2013, eq. 5 at ``x = 0``). ``inf`` for
    ``q <= 1``, where the mean does not exist.

    Parameters
    ----------
    p, q, v : array_like
        Model parameters, positive.

    Returns
    -------
    numpy.ndarray
        Mean value per transaction, in the broadcast shape of the parameters.
    """
    pp, qq, vv = _arrays(p, q, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(qq > 1.0, pp * vv / (qq - 1.0), np.inf)
    return np.asarray(mean, dtype=np.float64)


def prepare_spend(
    x: ArrayLike,
    zbar: ArrayLike,
    weights: ArrayLike | None = None,
    policy: str = "error",
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """The customers a Gamma-Gamma fit uses, under the policy for non-positive margins.

    Keeps the customers with ``x >= 1`` and ``zbar > 0``. Customers with ``x = 0`` carry no
    information about values and are always left out. Customers with ``x >= 1`` and a mean margin
    that is not positive (zero, negative or NaN) are handled by ``policy``, as described in the
    module notes: ``"error"`` raises, ``"exclude"`` leaves them out of the fit.

    Parameters
    ----------
    x : array_like
        Number of repeat transactions per customer (1-D).
    zbar : array_like
        Mean value (margin) of those transactions per customer (1-D).
    weights : array_like, optional
        Number of customers each row stands for; filtered alongside.
    policy : {"error", "exclude"}
        What to do with customers whose mean margin is not positive.

    Returns
    -------
    x, zbar, weights : numpy.ndarray (weights ``None`` when not given)
        The rows to fit on. The number left out is ``len(x_in) - len(x_out)`` (it includes the
        customers with ``x = 0``).

    Raises
    ------
    DataContractError
        Under ``"error"``, when a customer with ``x >= 1`` has ``zbar <= 0`` or NaN; the message
        is the text given in the module notes.
    ConfigError
        When ``policy`` is not ``"error"`` or ``"exclude"``.
    """
    if policy not in ("error", "exclude"):
        raise ConfigError(
            f"non-positive margin policy {policy!r} is not one of 'error', 'exclude'; "
            "use 'exclude' to fit on positive mean margins only"
        )
    xs = np.asarray(x, dtype=np.float64).ravel()
    zs = np.asarray(zbar, dtype=np.float64).ravel()
    repeat = xs >= 1
    keep = repeat & (zs > 0)
    bad = np.flatnonzero(repeat & ~keep)
    if policy == "error" and bad.size:
        shown = ", ".join(str(i) for i in bad[:5])
        if bad.size > 5:
            shown += f", … ({bad.size - 5} more)"
        raise DataContractError(
            f"Gamma-Gamma spend model: {bad.size} of {int(repeat.sum())} customers with repeat "
            "transactions have a mean margin (monetary_value) that is zero, negative or missing "
            f"(rows {shown}, 0-based). The model describes positive values only. Use the policy "
            "'exclude' (GammaGammaModel(nonpositive='exclude')) to fit on the customers with a "
            "positive mean margin and value the others at their own observed mean margin, or "
            "correct or remove those rows."
        )
    kept_weights = None
    if weights is not None:
        kept_weights = np.asarray(weights, dtype=np.float64).ravel()[keep]
    return xs[keep], zs[keep], kept_weights


def _arrays(*values: ArrayLike) -> list[FloatArray]:
    """The inputs as float64 arrays broadcast to one shape."""
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]
