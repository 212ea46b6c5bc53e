"""BG/BB: the donations reference fit (Fader, Hardie & Shang 2010) and the model's identities."""

from __future__ import annotations

from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import betaln, hyp2f1

from lendvalue.models.btyd.bgbb import (
    bgbb_conditional_expected_transactions,
    bgbb_discounted_expected_transactions,
    bgbb_expected_transactions,
    bgbb_loglik,
    bgbb_loglik_grad,
    bgbb_p_alive,
    bgbb_prob_n_transactions,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "btyd"
PUBLISHED = (1.204, 0.750, 0.657, 2.783)
"""Fader, Hardie & Shang (2010), Marketing Science 29(6): alpha, beta, gamma, delta."""


# --------------------------------------------------------------------------- helpers


def _fit(x: np.ndarray, t_x: np.ndarray, n: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted MLE on log-parameters with the analytic gradient (a stand-in for the engine)."""

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        ll = float(np.sum(w * bgbb_loglik(*params, x, t_x, n)))
        grad = np.array([np.sum(w * g) for g in bgbb_loglik_grad(*params, x, t_x, n)])
        return -ll, -grad * params

    result = minimize(
        objective,
        np.zeros(4),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 500},
    )
    assert result.success, result.message
    return np.exp(result.x), -float(result.fun)


def _histories(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every summary (x, t_x) possible in n opportunities, with its number of binary sequences.

    x = 0 is one sequence; otherwise the last transaction is at t_x and the other x - 1 fall
    anywhere in the first t_x - 1 opportunities: C(t_x - 1, x - 1) sequences.
    """
    rows = [(0, 0, 1)] + [
        (x, t, comb(t - 1, x - 1)) for t in range(1, n + 1) for x in range(1, t + 1)
    ]
    x, t_x, count = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    return x, t_x, count


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(np.log(low), np.log(high)).map(lambda v: float(np.exp(v)))


MODERATE = _log_uniform(0.05, 20.0)
EXTREME = _log_uniform(1e-8, 1e8)
# gamma = 1 exactly is the 0/0 point of FHS eqs. 7 and 13; draw it on purpose
PARAMS = st.tuples(MODERATE, MODERATE, st.one_of(MODERATE, st.just(1.0)), MODERATE)
EXTREME_PARAMS = st.tuples(EXTREME, EXTREME, st.one_of(EXTREME, st.just(1.0)), EXTREME)


@st.composite
def _customers(draw: st.DrawFn, max_n: int, max_size: int = 12) -> tuple[np.ndarray, ...]:
    """A batch of valid (x, t_x, n) rows: 0 <= x <= t_x <= n, t_x = 0 iff x = 0."""
    rows = []
    for _ in range(draw(st.integers(1, max_size))):
        n = draw(st.integers(0, max_n))
        t_x = draw(st.integers(0, n))
        x = 0 if t_x == 0 else draw(st.integers(1, t_x))
        rows.append((x, t_x, n))
    return tuple(np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))


# --------------------------------------------------------------------------- reference values


def test_donations_fit_reproduces_fader_hardie_shang_2010() -> None:
    """FHS (2010): alpha=1.204 beta=0.750 gamma=0.657 delta=2.783, LL = -33,225.6.

    Tolerance 5e-4 on each parameter (three decimals published) and 0.05 on the LL (one decimal
    published). The fit lands at 1.2035, 0.7497, 0.6567, 2.7834, LL -33,225.58.
    """
    df = pd.read_csv(DATA / "donations.csv")
    x, t_x, n, w = (
        df[c].to_numpy(np.float64) for c in ("frequency", "recency", "periods", "weights")
    )
    assert w.sum() == 11_104
    params, ll = _fit(x, t_x, n, w)
    np.testing.assert_allclose(params, PUBLISHED, atol=5e-4, rtol=0)
    assert ll == pytest.approx(-33_225.6, abs=0.05)
    # the published (rounded) parameters are as good to the printed precision
    ll_published = float(np.sum(w * bgbb_loglik(*PUBLISHED, x, t_x, n)))
    assert ll_published == pytest.approx(-33_225.6, abs=0.05)


def test_dert_matches_scipy_hyp2f1_where_scipy_is_reliable() -> None:
    """FHS eq. 14 with scipy's 2F1 at the donations estimates (moderate arguments only)."""
    a, b, g, d = PUBLISHED
    x, t_x, n = np.array([0.0, 2, 6]), np.array([0.0, 4, 6]), 6.0
    for rate in (0.1, 0.5):
        ll = bgbb_loglik(a, b, g, d, x, t_x, n)
        expected = (
            np.exp(betaln(a + x + 1, b + n - x) - betaln(a, b))
            * np.exp(betaln(g, d + n + 1) - betaln(g, d))
            / (1 + rate)
            * hyp2f1(1.0, d + n + 1, g + d + n + 1, 1 / (1 + rate))
            / np.exp(ll)
        )
        got = bgbb_discounted_expected_transactions(a, b, g, d, x, t_x, n, rate)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# --------------------------------------------------------------------------- identities


@settings(max_examples=40, deadline=None)
@given(params=PARAMS, n=st.integers(0, 10))
def test_sequence_probabilities_sum_to_one_and_agree_with_the_pmf(
    params: tuple[float, ...], n: int
) -> None:
    """sum over summaries of C(t_x-1, x-1) L(x, t_x, n) is 1, and grouped by x it is eq. 8."""
    x, t_x, count = _histories(n)
    mass = count * np.exp(bgbb_loglik(*params, x, t_x, n))
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    by_x = np.bincount(x.astype(int), weights=mass, minlength=n + 1)
    np.testing.assert_allclose(
        by_x, bgbb_prob_n_transactions(*params, n, np.arange(n + 1)), rtol=1e-9, atol=1e-15
    )


@settings(max_examples=40, deadline=None)
@given(params=PARAMS, n=st.integers(0, 80))
def test_pmf_sums_to_one_and_its_mean_is_eq_7(params: tuple[float, ...], n: int) -> None:
    xs = np.arange(n + 1, dtype=np.float64)
    prob = bgbb_prob_n_transactions(*params, n, xs)
    assert np.all((prob >= 0) & (prob <= 1))
    assert prob.sum() == pytest.approx(1.0, abs=1e-10)
    assert float(np.sum(xs * prob)) == pytest.approx(
        float(bgbb_expected_transactions(*params, n)), rel=1e-9, abs=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(
    params=PARAMS,
    n=st.integers(0, 8),
    n_star=st.integers(0, 30),
    rate=st.floats(0.05, 2.0),
)
def test_conditional_predictions_average_to_the_unconditional_ones(
    params: tuple[float, ...], n: int, n_star: int, rate: float
) -> None:
    """Law of total expectation over every history: eqs. 11, 13 and 14 against eqs. 5 and 7."""
    g, d = params[2], params[3]
    x, t_x, count = _histories(n)
    mass = count * np.exp(bgbb_loglik(*params, x, t_x, n))

    alive = np.sum(mass * bgbb_p_alive(*params, x, t_x, n))
    assert alive == pytest.approx(np.exp(betaln(g, d + n + 1) - betaln(g, d)), rel=1e-9)

    future = np.sum(mass * bgbb_conditional_expected_transactions(*params, x, t_x, n, n_star))
    expected = bgbb_expected_transactions(*params, n + n_star) - bgbb_expected_transactions(
        *params, n
    )
    assert future == pytest.approx(float(expected), rel=1e-8, abs=1e-12)

    # E[X(n+t)] - E[X(n+t-1)] is the expected transaction at n+t; 2,000 terms leave < 1e-40
    horizon = np.arange(0, 2_001)
    increments = np.diff(bgbb_expected_transactions(*params, n + horizon))
    discounted = float(np.sum(increments * (1 + rate) ** -horizon[1:]))
    dert = np.sum(mass * bgbb_discounted_expected_transactions(*params, x, t_x, n, rate))
    assert dert == pytest.approx(discounted, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("n", [0, 1, 6, 300])
def test_expected_transactions_is_continuous_at_gamma_one(n: int) -> None:
    """gamma = 1 uses the digamma series, |gamma - 1| >= 1e-4 the betaln form: they must meet."""
    a, b, d = 0.8, 1.7, 2.5
    at_one = bgbb_expected_transactions(a, b, 1.0, d, n)
    for eps in (1e-9, 1e-5, 0.99e-4, 1.01e-4, 1e-3):
        for g in (1.0 - eps, 1.0 + eps):
            near = bgbb_expected_transactions(a, b, g, d, n)
            assert near == pytest.approx(float(at_one), rel=3 * eps + 1e-12, abs=1e-15)


# --------------------------------------------------------------------------- likelihood properties


@settings(max_examples=40, deadline=None)
@given(params=PARAMS, data=_customers(max_n=40))
def test_gradient_equals_central_differences(
    params: tuple[float, ...], data: tuple[np.ndarray, ...]
) -> None:
    """theta * dLL/dtheta against a central difference in log(theta), step 1e-5."""
    x, t_x, n = data
    grads = bgbb_loglik_grad(*params, x, t_x, n)
    ll = bgbb_loglik(*params, x, t_x, n)
    step = 1e-5
    for k in range(4):
        up = list(params)
        down = list(params)
        up[k] *= np.exp(step)
        down[k] *= np.exp(-step)
        fd = (bgbb_loglik(*up, x, t_x, n) - bgbb_loglik(*down, x, t_x, n)) / (2 * step)
        np.testing.assert_allclose(
            params[k] * grads[k], fd, rtol=1e-5, atol=1e-7 * (1 + np.max(np.abs(ll)))
        )


@settings(max_examples=40, deadline=None)
@given(
    params=PARAMS,
    data=_customers(max_n=30),
    weights=st.lists(st.integers(0, 5), min_size=12, max_size=12),
)
def test_weights_equal_exploded_rows(
    params: tuple[float, ...], data: tuple[np.ndarray, ...], weights: list[int]
) -> None:
    """A weighted sum of log-likelihoods equals the sum over repeated rows, on both paths
    (scalar parameters: distinct rows only; array parameters: every row)."""
    x, t_x, n = data
    w = np.array(weights[: x.size], dtype=np.float64)
    weighted = float(np.sum(w * bgbb_loglik(*params, x, t_x, n)))
    rep = w.astype(int)
    exploded = float(np.sum(bgbb_loglik(*params, x.repeat(rep), t_x.repeat(rep), n.repeat(rep))))
    assert weighted == pytest.approx(exploded, rel=1e-12, abs=1e-9)
    per_row = [np.full(x.size, p) for p in params]
    np.testing.assert_allclose(
        bgbb_loglik(*per_row, x, t_x, n), bgbb_loglik(*params, x, t_x, n), rtol=1e-13
    )
    for g_rows, g_scalar in zip(
        bgbb_loglik_grad(*per_row, x, t_x, n), bgbb_loglik_grad(*params, x, t_x, n), strict=True
    ):
        np.testing.assert_allclose(g_rows, g_scalar, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(params=EXTREME_PARAMS, data=_customers(max_n=300, max_size=6), rate=_log_uniform(1e-3, 1e4))
def test_everything_is_finite_on_extreme_inputs(
    params: tuple[float, ...], data: tuple[np.ndarray, ...], rate: float
) -> None:
    x, t_x, n = data
    assert np.all(np.isfinite(bgbb_loglik(*params, x, t_x, n)))
    assert all(np.all(np.isfinite(g)) for g in bgbb_loglik_grad(*params, x, t_x, n))
    p_alive = bgbb_p_alive(*params, x, t_x, n)
    assert np.all((p_alive >= 0) & (p_alive <= 1))
    for n_star in (0, 1, 10_000):
        assert np.all(
            np.isfinite(bgbb_conditional_expected_transactions(*params, x, t_x, n, n_star))
        )
    assert np.all(np.isfinite(bgbb_discounted_expected_transactions(*params, x, t_x, n, rate)))
    assert np.all(np.isfinite(bgbb_expected_transactions(*params, n)))
    prob = bgbb_prob_n_transactions(*params, n, x)
    assert np.all((prob >= 0) & (prob <= 1))


def test_finite_at_the_corners_with_ten_thousand_opportunities() -> None:
    """Every corner of [1e-8, 1e8]^4 (and gamma = 1) against long and short histories."""
    corners = np.array(np.meshgrid(*[[1e-8, 1.0, 1e8]] * 4)).reshape(4, -1).T
    corners = np.vstack([corners, corners * [1, 1, 0, 1] + [0, 0, 1, 0]])  # gamma = 1 exactly
    long_ = [(0, 0, 10_000), (10_000, 10_000, 10_000), (1, 1, 10_000), (5_000, 9_000, 10_000)]
    rows = np.array([*long_, (3, 3, 3), (0, 0, 0)])
    params = [np.repeat(corners[:, k], len(rows)) for k in range(4)]
    x, t_x, n = (np.tile(rows[:, k], len(corners)).astype(np.float64) for k in range(3))
    assert np.all(np.isfinite(bgbb_loglik(*params, x, t_x, n)))
    assert all(np.all(np.isfinite(g)) for g in bgbb_loglik_grad(*params, x, t_x, n))
    assert np.all(np.isfinite(bgbb_conditional_expected_transactions(*params, x, t_x, n, 10_000)))
    for rate in (1e-6, 1e8):
        assert np.all(np.isfinite(bgbb_discounted_expected_transactions(*params, x, t_x, n, rate)))
    assert np.all(np.isfinite(bgbb_prob_n_transactions(*params, n, x)))


# --------------------------------------------------------------------------- predictions


@settings(max_examples=40, deadline=None)
@given(params=PARAMS, data=_customers(max_n=40))
def test_p_alive_is_a_probability(params: tuple[float, ...], data: tuple[np.ndarray, ...]) -> None:
    p_alive = bgbb_p_alive(*params, *data)
    assert np.all((p_alive >= 0) & (p_alive <= 1))
    # a transaction at the last opportunity proves she was alive then: only the dropout after it
    # is uncertain, P = (delta + n) / (gamma + delta + n)
    x, t_x, n = data
    last = (t_x == n) & (x > 0)
    g, d = params[2], params[3]
    np.testing.assert_allclose(p_alive[last], ((d + n) / (g + d + n))[last], rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(params=PARAMS, data=_customers(max_n=40, max_size=4))
def test_expectations_do_not_fall_with_the_horizon(
    params: tuple[float, ...], data: tuple[np.ndarray, ...]
) -> None:
    x, t_x, n = data
    horizon = np.arange(0, 61, dtype=np.float64)
    cet = bgbb_conditional_expected_transactions(
        *params, x[:, None], t_x[:, None], n[:, None], horizon[None, :]
    )
    assert np.all(cet[:, 0] == 0)
    assert np.all(np.diff(cet, axis=1) >= -1e-12 * cet[:, 1:])
    unconditional = bgbb_expected_transactions(*params, horizon)
    assert np.all(np.diff(unconditional) >= -1e-12 * unconditional[1:])
    assert np.all(unconditional <= horizon * (1 + 1e-12))


@settings(max_examples=40, deadline=None)
@given(params=PARAMS, data=_customers(max_n=30), rate=_log_uniform(1e-3, 10.0))
def test_dert_lies_between_bounds_from_the_undiscounted_expectation(
    params: tuple[float, ...], data: tuple[np.ndarray, ...], rate: float
) -> None:
    """For every N: (1+d)^-N E[X(n, n+N)] <= DERT <= E[X(n, n+N)] + E[X(n, n+1)] (1+d)^-N / d,
    since each period's expected transaction is at most the first one's."""
    x, t_x, n = data
    dert = bgbb_discounted_expected_transactions(*params, x, t_x, n, rate)
    first = bgbb_conditional_expected_transactions(*params, x, t_x, n, 1)
    for horizon in (1, 12, 200, 5_000):
        within = bgbb_conditional_expected_transactions(*params, x, t_x, n, horizon)
        factor = (1 + rate) ** -horizon
        assert np.all(factor * within <= dert * (1 + 1e-9))
        assert np.all(dert <= (within + first * factor / rate) * (1 + 1e-9))
