"""BG/NBD and MBG/NBD: the CDNOW reference fits and the models' identities."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.optimize import minimize
from scipy.special import betaln

from lendvalue.models.btyd.bgnbd import (
    bgnbd_conditional_expected_transactions,
    bgnbd_expected_transactions,
    bgnbd_loglik,
    bgnbd_loglik_and_grad,
    bgnbd_loglik_grad,
    bgnbd_p_alive,
    bgnbd_prob_n_transactions,
    mbgnbd_conditional_expected_transactions,
    mbgnbd_expected_transactions,
    mbgnbd_loglik,
    mbgnbd_loglik_and_grad,
    mbgnbd_loglik_grad,
    mbgnbd_p_alive,
    mbgnbd_prob_n_transactions,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "btyd"
BG_PUBLISHED = (0.243, 4.414, 0.793, 2.426)
"""Fader, Hardie & Lee (2005), Marketing Science 24(2): r, alpha, a, b on CDNOW (weeks)."""
BG_PUBLISHED_LL = -9582.4
MBG_PUBLISHED = (0.525, 6.183, 0.891, 1.614)
"""Batislam, Denizel & Filiztekin (2007) as reproduced by BTYDplus on CDNOW: r, alpha, a, b."""

Loglik = Callable[..., np.ndarray]
Grad = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
MODELS = {
    "bgnbd": (bgnbd_loglik, bgnbd_loglik_grad, bgnbd_loglik_and_grad),
    "mbgnbd": (mbgnbd_loglik, mbgnbd_loglik_grad, mbgnbd_loglik_and_grad),
}
EXPECTED = {"bgnbd": bgnbd_expected_transactions, "mbgnbd": mbgnbd_expected_transactions}
CONDITIONAL = {
    "bgnbd": bgnbd_conditional_expected_transactions,
    "mbgnbd": mbgnbd_conditional_expected_transactions,
}
P_ALIVE = {"bgnbd": bgnbd_p_alive, "mbgnbd": mbgnbd_p_alive}
PMF = {"bgnbd": bgnbd_prob_n_transactions, "mbgnbd": mbgnbd_prob_n_transactions}


# --------------------------------------------------------------------------- helpers


def _cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDNOW calibration summary (weeks): x = frequency, t_x = recency, T."""
    frame = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    x, t_x, T = (frame[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T"))
    return x, t_x, T


def _fit(loglik: Loglik, grad: Grad) -> tuple[np.ndarray, float]:
    """MLE on log-parameters with the analytic gradient (a stand-in for the estimator engine)."""
    x, t_x, T = _cdnow()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = float(np.sum(loglik(*params, x, t_x, T)))
        g = np.array([np.sum(part) for part in grad(*params, x, t_x, T)])
        return -value, -g * params

    result = minimize(
        objective,
        np.zeros(4),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 500},
    )
    assert result.success, result.message
    return np.exp(result.x), -float(result.fun)


@pytest.fixture(scope="module")
def bg_fit() -> tuple[np.ndarray, float]:
    return _fit(bgnbd_loglik, bgnbd_loglik_grad)


@pytest.fixture(scope="module")
def mbg_fit() -> tuple[np.ndarray, float]:
    return _fit(mbgnbd_loglik, mbgnbd_loglik_grad)


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(np.log10(low), np.log10(high)).map(lambda e: float(10.0**e))


EXTREME = _log_uniform(1e-8, 1e8)
MODERATE = _log_uniform(0.05, 20.0)


@st.composite
def _customers(
    draw: st.DrawFn, max_x: int, t_low: float, t_high: float, size: int = 12
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Valid (x, t_x, T): t_x = 0 when x = 0, else anywhere in [0, T] (often exactly T)."""
    n = draw(st.integers(1, size))
    x = np.array(draw(st.lists(st.integers(0, max_x), min_size=n, max_size=n)), dtype=float)
    T = np.array(draw(st.lists(_log_uniform(t_low, t_high), min_size=n, max_size=n)), dtype=float)
    share = np.array(
        draw(st.lists(st.sampled_from([0.0, 1.0]) | st.floats(0, 1), min_size=n, max_size=n))
    )
    t_x = np.where(x > 0, share * T, 0.0)
    return x, t_x, T


# --------------------------------------------------------------------------- reference fits


def test_bgnbd_fit_matches_fader_hardie_lee_2005(bg_fit: tuple[np.ndarray, float]) -> None:
    # FHL (2005) print three decimals (r = 0.243 ...): half a unit in the last place, 5e-4;
    # the log-likelihood -9582.4 to one decimal: 0.05.
    params, ll = bg_fit
    np.testing.assert_allclose(params, BG_PUBLISHED, rtol=0, atol=5e-4)
    assert ll == pytest.approx(BG_PUBLISHED_LL, abs=0.05)


def test_mbgnbd_fit_matches_batislam_et_al_2007(mbg_fit: tuple[np.ndarray, float]) -> None:
    # Three decimals printed (r = 0.525 ...): 5e-4. Our maximum: r = 0.52484, alpha = 6.18299,
    # a = 0.89136, b = 1.61400, log-likelihood -9582.13 (BG/NBD: -9582.43).
    params, ll = mbg_fit
    np.testing.assert_allclose(params, MBG_PUBLISHED, rtol=0, atol=5e-4)
    assert ll == pytest.approx(-9582.13, abs=0.01)


def test_conditional_expectation_matches_hardies_spreadsheet(
    bg_fit: tuple[np.ndarray, float],
) -> None:
    # Hardie's BG/NBD spreadsheet: E[X(39) | x=2, t_x=30.43, T=38.86] = 1.226 (three decimals,
    # 5e-4), at the published parameters as printed and at ours (which differ from them by
    # less than their rounding).
    for params in (BG_PUBLISHED, bg_fit[0]):
        value = bgnbd_conditional_expected_transactions(*params, 2.0, 30.43, 38.86, 39.0)
        assert float(value) == pytest.approx(1.226, abs=5e-4)


def test_mbgnbd_loglik_at_published_parameters_is_near_the_maximum(
    mbg_fit: tuple[np.ndarray, float],
) -> None:
    # Rounding the parameters to three decimals costs less than 0.01 of log-likelihood.
    x, t_x, T = _cdnow()
    at_published = float(np.sum(mbgnbd_loglik(*MBG_PUBLISHED, x, t_x, T)))
    assert mbg_fit[1] - 0.01 < at_published <= mbg_fit[1]


# --------------------------------------------------------------------------- log-likelihood


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60, deadline=None)
@given(
    params=st.tuples(EXTREME, EXTREME, EXTREME, EXTREME),
    data=_customers(max_x=100_000, t_low=1e-6, t_high=1e6),
)
def test_loglik_and_gradient_are_finite_on_extreme_inputs(
    model: str,
    params: tuple[float, float, float, float],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    loglik, grad, both = MODELS[model]
    ll = loglik(*params, *data)
    assert np.all(np.isfinite(ll))
    for g in grad(*params, *data):
        assert np.all(np.isfinite(g))
    # per-customer parameters take the other code path: finite too, and the same numbers
    per_customer = [np.full(data[0].shape, p) for p in params]
    np.testing.assert_allclose(loglik(*per_customer, *data), ll, rtol=1e-12, atol=1e-12)
    ll_both, _ = both(*params, *data)
    np.testing.assert_array_equal(ll_both, ll)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60, deadline=None)
@given(
    params=st.tuples(EXTREME, EXTREME, EXTREME, EXTREME),
    data=_customers(max_x=100_000, t_low=1e-6, t_high=1e6),
)
def test_per_customer_parameters_equal_the_scalar_fast_path(
    model: str,
    params: tuple[float, float, float, float],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    # Scalar parameters: terms in x from a table (or np.unique when x is large), gathered;
    # arrays: everything per customer. Same formulas, so agreement to rounding.
    loglik, grad, _ = MODELS[model]
    per_customer = [np.full(data[0].shape, p) for p in params]
    scale = 1.0 + float(np.max(np.abs(loglik(*params, *data))))
    np.testing.assert_allclose(
        loglik(*per_customer, *data), loglik(*params, *data), rtol=1e-12, atol=1e-12 * scale
    )
    for g_fast, g_slow in zip(grad(*params, *data), grad(*per_customer, *data), strict=True):
        np.testing.assert_allclose(g_slow, g_fast, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("model", MODELS)
def test_large_inputs_split_over_threads_give_the_same_numbers(model: str) -> None:
    # 300,000 customers take the blocked, threaded scalar path; the per-customer path is one
    # vectorised pass. Integer x indexes the table; a non-integer x falls back to np.unique.
    loglik, grad, _ = MODELS[model]
    rng = np.random.default_rng(7)
    n = 300_000
    x = rng.integers(0, 60, n).astype(float)
    T = rng.integers(1, 157 * 7, n) / 7.0
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T * 7) / 7, 0.0)
    params = (0.4, 3.0, 0.7, 2.5)
    per_customer = [np.full(n, p) for p in params]
    np.testing.assert_allclose(
        loglik(*params, x, t_x, T), loglik(*per_customer, x, t_x, T), rtol=1e-13
    )
    for g_fast, g_slow in zip(
        grad(*params, x, t_x, T), grad(*per_customer, x, t_x, T), strict=True
    ):
        np.testing.assert_allclose(g_fast, g_slow, rtol=1e-13, atol=1e-300)
    x[-1] = 2.5  # not a count: the table path must notice and step aside
    np.testing.assert_allclose(
        loglik(*params, x, t_x, T), loglik(*per_customer, x, t_x, T), rtol=1e-13
    )


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60, deadline=None)
@given(
    params=st.tuples(MODERATE, MODERATE, MODERATE, MODERATE),
    data=_customers(max_x=40, t_low=0.5, t_high=200.0, size=6),
)
def test_gradient_equals_central_differences(
    model: str,
    params: tuple[float, float, float, float],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    # Step 1e-5 relative: truncation ~1e-10, rounding ~1e-16 |log L| / 1e-5 ~ 1e-9 absolute.
    loglik, grad, _ = MODELS[model]
    analytic = grad(*params, *data)
    for i, g in enumerate(analytic):
        h = 1e-5 * params[i]
        up = list(params)
        down = list(params)
        up[i] += h
        down[i] -= h
        numeric = (loglik(*up, *data) - loglik(*down, *data)) / (2 * h)
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-6)


def test_bgnbd_loglik_equals_fhl_eq_6_written_out() -> None:
    # FHL (2005) eq. 6 transcribed literally (fine for moderate inputs).
    from scipy.special import gamma

    r, alpha, a, b = 0.7, 3.0, 1.3, 2.2
    x = np.array([0.0, 1.0, 4.0, 7.0])
    t_x = np.array([0.0, 3.5, 20.0, 30.0])
    T = np.array([10.0, 12.0, 35.0, 30.0])
    beta = np.exp(betaln(a, b + x) - betaln(a, b))
    alive = beta * gamma(r + x) * alpha**r / (gamma(r) * (alpha + T) ** (r + x))
    dropped = np.where(
        x > 0,
        np.exp(betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b))
        * gamma(r + x)
        * alpha**r
        / (gamma(r) * (alpha + t_x) ** (r + x)),
        0.0,
    )
    np.testing.assert_allclose(bgnbd_loglik(r, alpha, a, b, x, t_x, T), np.log(alive + dropped))
    mbg_alive = np.exp(betaln(a, b + x + 1) - betaln(a, b)) * alive / beta
    mbg_dropped = (
        np.exp(betaln(a + 1, b + x) - betaln(a, b))
        * gamma(r + x)
        * alpha**r
        / (gamma(r) * (alpha + t_x) ** (r + x))
    )
    np.testing.assert_allclose(
        mbgnbd_loglik(r, alpha, a, b, x, t_x, T), np.log(mbg_alive + mbg_dropped)
    )


# --------------------------------------------------------------------------- P(alive)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60, deadline=None)
@given(
    params=st.tuples(EXTREME, EXTREME, EXTREME, EXTREME),
    data=_customers(max_x=100_000, t_low=1e-6, t_high=1e6),
)
def test_p_alive_is_a_probability(
    model: str,
    params: tuple[float, float, float, float],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    p = P_ALIVE[model](*params, *data)
    assert np.all((p >= 0) & (p <= 1))
    if model == "bgnbd":
        assert np.all(p[data[0] == 0] == 1.0)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60, deadline=None)
@given(
    params=st.tuples(MODERATE, MODERATE, MODERATE, MODERATE),
    x=st.integers(5, 60),
    T=st.floats(20.0, 200.0),
    silence=st.floats(0.5, 1.0),
)
def test_long_silence_after_many_purchases_lowers_p_alive(
    model: str, params: tuple[float, float, float, float], x: int, T: float, silence: float
) -> None:
    # Same x and T; one bought at T, the other last bought at (1 - silence) T.
    just_bought = P_ALIVE[model](*params, x, T, T)
    silent = P_ALIVE[model](*params, x, (1.0 - silence) * T, T)
    assert silent < just_bought


# --------------------------------------------------------------------------- expectations


ANY_A = st.one_of(_log_uniform(0.05, 20.0), st.floats(1 - 3e-3, 1 + 3e-3))
"""a near 1 too: eq. 7 is 0/0 there and the code bridges the gap."""


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=40, deadline=None)
@given(
    params=st.tuples(MODERATE, MODERATE, ANY_A, _log_uniform(0.05, 1000.0)),
    horizons=st.lists(_log_uniform(1e-4, 1e5), min_size=2, max_size=8),
)
def test_expected_transactions_start_at_zero_and_grow_with_the_horizon(
    model: str, params: tuple[float, float, float, float], horizons: list[float]
) -> None:
    t = np.array([0.0, *sorted(horizons)])
    e = EXPECTED[model](*params, t)
    assert e[0] == 0.0
    assert np.all(np.isfinite(e)) and np.all(e[1:] > 0)
    assert np.all(np.diff(e) >= -1e-9 * e[1:])
    assert np.all(e <= params[0] * t / params[1] * (1 + 1e-9))  # never above "never leaves"


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=40, deadline=None)
@given(
    params=st.tuples(MODERATE, MODERATE, ANY_A, MODERATE),
    x=st.integers(0, 2000),
    share=st.floats(0, 1),
    T=st.floats(0.5, 200.0),
    horizons=st.lists(_log_uniform(1e-4, 1e5), min_size=2, max_size=8),
)
def test_conditional_expectation_starts_at_zero_and_grows_with_the_horizon(
    model: str,
    params: tuple[float, float, float, float],
    x: int,
    share: float,
    T: float,
    horizons: list[float],
) -> None:
    t = np.array([0.0, *sorted(horizons)])
    t_x = share * T if x > 0 else 0.0
    e = CONDITIONAL[model](*params, x, t_x, T, t)
    assert e[0] == 0.0
    assert np.all(np.isfinite(e)) and np.all(e >= 0)  # P(alive) may underflow to 0
    assert np.all(np.diff(e) >= -1e-9 * e[1:])


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=40, deadline=None)
@given(
    params=st.tuples(_log_uniform(0.1, 5), _log_uniform(0.5, 20), ANY_A, _log_uniform(0.2, 50)),
    w=_log_uniform(0.01, 20.0),
)
def test_pmf_sums_to_one_and_its_mean_is_the_expectation(
    model: str, params: tuple[float, float, float, float], w: float
) -> None:
    # t / alpha <= 20: the negative binomial tail beyond n = 3000 is below (20/21)^3000 ~ 1e-63.
    t = w * params[1]
    n = np.arange(0, 3001, dtype=float)
    p = PMF[model](*params, t, n)
    assert np.all(p >= 0)
    assert float(np.sum(p)) == pytest.approx(1.0, abs=1e-10)
    assert float(np.sum(n * p)) == pytest.approx(float(EXPECTED[model](*params, t)), rel=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_pmf_at_time_zero_is_all_at_zero(model: str) -> None:
    p = PMF[model](0.5, 2.0, 0.8, 2.0, 0.0, np.arange(5.0))
    np.testing.assert_array_equal(p, [1.0, 0.0, 0.0, 0.0, 0.0])


def _mean_by_quadrature(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E[X(t)] from the model's definition: E_p[(1 - (alpha / (alpha + p t))^r) / p], the beta
    density handled by QUADPACK's algebraic-endpoint weight; independent of eq. 7."""

    def bought_per_p(p: float) -> float:  # (1 - (1 + p t / alpha)^(-r)) / p, r t / alpha at 0
        if p == 0.0:
            return r * t / alpha
        return float(-np.expm1(-r * np.log1p(p * t / alpha)) / p)

    value, _ = integrate.quad(
        bought_per_p,
        0.0,
        1.0,
        weight="alg",
        wvar=(a - 1.0, b - 1.0),
        epsabs=0.0,
        epsrel=1e-12,
        limit=200,
    )
    return float(value / np.exp(betaln(a, b)))


@settings(max_examples=60, deadline=None)
@given(
    params=st.tuples(_log_uniform(0.05, 20), _log_uniform(0.05, 20), ANY_A, _log_uniform(0.3, 40)),
    t=_log_uniform(1e-3, 1e4),
)
def test_expected_transactions_equal_the_models_definition(
    params: tuple[float, float, float, float], t: float
) -> None:
    # Series, closed form, the bridge across a = 1 and the quadrature fallback against the
    # integral: against mpmath the code is within 2e-8 relative (scipy's hyp2f1 near z = 1,
    # and the bridge), the integral within 1e-12; so 1e-7.
    expected = _mean_by_quadrature(*params, t)
    assert float(bgnbd_expected_transactions(*params, t)) == pytest.approx(expected, rel=1e-7)
    r, alpha, a, b = params
    mbg = float(mbgnbd_expected_transactions(*params, t))
    assert mbg == pytest.approx(b / (a + b) * _mean_by_quadrature(r, alpha, a, b + 1, t), rel=1e-7)


@pytest.mark.parametrize(
    ("r", "alpha", "a", "b", "t", "reference"),
    [
        (0.0142, 1.67, 0.508, 554.0, 3.87e5, 455.57264297381244),
        (4.27, 20.7, 6.2, 383.0, 1.02e4, 74.57934661443973),
        (0.291, 29.3, 1.57, 706.0, 4.8e4, 200.93292352899897),
        (2.0, 0.5, 0.9995, 300.0, 5e3, 1189.021615242171),
    ],
)
def test_expected_transactions_where_scipys_hyp2f1_fails(
    r: float, alpha: float, a: float, b: float, t: float, reference: float
) -> None:
    # scipy.special.hyp2f1 returns NaN for these arguments (b > 200, t / alpha > 300).
    # References: FHL eq. 7 in mpmath 1.4 at 50 digits; the code's fallback quadrature asks
    # for 1e-11 relative, so 1e-9.
    value = float(bgnbd_expected_transactions(r, alpha, a, b, t))
    assert value == pytest.approx(reference, rel=1e-9)
    assert value == pytest.approx(_mean_by_quadrature(r, alpha, a, b, t), rel=1e-9)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=30, deadline=None)
@given(
    params=st.tuples(EXTREME, EXTREME, EXTREME, EXTREME),
    data=_customers(max_x=100_000, t_low=1e-6, t_high=1e6, size=4),
    t=_log_uniform(1e-6, 1e6),
)
def test_expectations_are_finite_on_extreme_inputs(
    model: str,
    params: tuple[float, float, float, float],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    t: float,
) -> None:
    e = EXPECTED[model](*params, t)
    assert np.isfinite(e) and e >= 0
    c = CONDITIONAL[model](*params, *data, t)
    assert np.all(np.isfinite(c)) and np.all(c >= 0)
    p = PMF[model](*params, t, data[0])
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1 + 1e-12))


def test_broadcasting_keeps_the_shape() -> None:
    t = np.array([[1.0], [2.0]])
    n = np.arange(3.0)
    assert bgnbd_prob_n_transactions(0.5, 2.0, 0.8, 2.0, t, n).shape == (2, 3)
    assert mbgnbd_expected_transactions(0.5, 2.0, 0.8, 2.0, t).shape == (2, 1)
    x = np.array([[0.0, 1.0, 2.0]])
    assert bgnbd_loglik(0.5, 2.0, 0.8, 2.0, x, x, 3.0).shape == (1, 3)
    assert bgnbd_loglik(np.full((2, 1), 0.5), 2.0, 0.8, 2.0, x, x, 3.0).shape == (2, 3)
    assert all(g.shape == (1, 3) for g in mbgnbd_loglik_grad(0.5, 2.0, 0.8, 2.0, x, x, 3.0))
    assert bgnbd_p_alive(0.5, 2.0, 0.8, 2.0, x, x, 3.0).shape == (1, 3)
