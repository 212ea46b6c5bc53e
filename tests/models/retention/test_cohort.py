"""Cohort retention models (sBG, BdW): the published fit of Fader & Hardie (2007) reproduced,
pooled cohorts, survivor counts, DERL, mathematical properties and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.errors import DataContractError, NotFittedError
from lendvalue.models.retention.cohort import (
    BetaDiscreteWeibullModel,
    ShiftedBetaGeoModel,
    bdw_conditional_survival,
    bdw_derl,
    bdw_log_pmf,
    bdw_loglik,
    bdw_loglik_and_grad,
    bdw_loglik_grad,
    bdw_retention_rate,
    bdw_survival,
    sbg_conditional_survival,
    sbg_derl,
    sbg_log_pmf,
    sbg_loglik,
    sbg_loglik_and_grad,
    sbg_loglik_grad,
    sbg_retention_rate,
    sbg_survival,
    survivors_to_lifetimes,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "retention"
PUBLISHED = {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}
"""FH07's sBG fit on years 1-7 of each segment (alpha, beta)."""

positive = st.floats(1e-3, 1e3).map(float)
wide = st.floats(-8.0, 8.0).map(lambda x: float(10.0**x))  # 1e-8 .. 1e8, log-uniform
shape_c = st.floats(-1.3, 0.7).map(lambda x: float(10.0**x))  # 0.05 .. 5


@pytest.fixture(scope="module")
def fh07() -> pd.DataFrame:
    return pd.read_csv(DATA / "fader_hardie_2007_retention.csv")


@pytest.fixture(scope="module")
def sbg_fits(fh07: pd.DataFrame) -> dict[str, ShiftedBetaGeoModel]:
    return {
        seg: ShiftedBetaGeoModel().fit_survivors(fh07[f"{seg}_survivors_of_1000"].iloc[:8])
        for seg in PUBLISHED
    }


@pytest.fixture(scope="module")
def bdw_fits(fh07: pd.DataFrame) -> dict[str, BetaDiscreteWeibullModel]:
    return {
        seg: BetaDiscreteWeibullModel().fit_survivors(fh07[f"{seg}_survivors_of_1000"].iloc[:8])
        for seg in PUBLISHED
    }


# --------------------------------------------------------------------------- published results


@pytest.mark.parametrize("segment", list(PUBLISHED))
def test_sbg_reproduces_fader_hardie_2007(
    segment: str, sbg_fits: dict[str, ShiftedBetaGeoModel]
) -> None:
    """FH07 fit the sBG on years 1-7 of 1,000 customers: regular α=0.704 β=1.182, high-end
    α=0.668 β=3.806 (three decimals). Measured: regular 0.70408 / 1.18204, LL −1680.265;
    high-end 0.66809 / 3.80610, LL −1611.158."""
    model = sbg_fits[segment]
    alpha, beta = PUBLISHED[segment]
    assert round(model.params_["alpha"], 3) == alpha
    assert round(model.params_["beta"], 3) == beta
    assert model.n_customers_ == 1000
    assert model.converged_
    expected_ll = {"regular": -1680.265, "high_end": -1611.158}[segment]
    assert model.log_likelihood_ == pytest.approx(expected_ll, abs=2e-3)
    assert all(s > 0 for s in model.standard_errors_.values())


def test_sbg_projects_the_holdout_years(
    fh07: pd.DataFrame, sbg_fits: dict[str, ShiftedBetaGeoModel]
) -> None:
    """Years 8-12 are the holdout. Measured % surviving, projected vs actual:
    regular 22.01/20.44/19.12/17.99/17.00 vs 22.3/20.7/19.4/18.3/17.3 (MAE 0.29 points);
    high-end 46.04/43.58/41.42/39.51/37.80 vs 46.8/44.5/42.7/40.9/39.4 (MAE 1.19 points;
    the sBG under-projects the high-end segment a little more each year)."""
    years = np.arange(8, 13)
    maes = {}
    for segment, model in sbg_fits.items():
        projected = 100 * model.survival(years)
        actual = fh07[f"{segment}_pct_surviving"].to_numpy()[8:]
        maes[segment] = float(np.mean(np.abs(projected - actual)))
    assert maes["regular"] == pytest.approx(0.29, abs=0.01)
    assert maes["high_end"] == pytest.approx(1.19, abs=0.01)
    assert max(maes.values()) < 1.5


def test_bdw_nests_the_sbg_on_fh07(
    fh07: pd.DataFrame,
    sbg_fits: dict[str, ShiftedBetaGeoModel],
    bdw_fits: dict[str, BetaDiscreteWeibullModel],
) -> None:
    """The BdW contains the sBG (c = 1), so its maximised log-likelihood is at least as high.
    Measured: regular α=0.456 β=0.779 c=1.283 (se 0.30), LL −1679.60 (+0.66), holdout MAE 0.26;
    high-end α=0.214 β=1.427 c=1.724 (se 0.30), LL −1605.31 (+5.84), holdout MAE 0.52."""
    for segment, bdw in bdw_fits.items():
        assert bdw.converged_
        assert bdw.log_likelihood_ >= sbg_fits[segment].log_likelihood_ - 1e-6
        assert 0.5 < bdw.params_["c"] < 3.0
        projected = 100 * bdw.survival(np.arange(8, 13))
        actual = fh07[f"{segment}_pct_surviving"].to_numpy()[8:]
        assert np.mean(np.abs(projected - actual)) < 1.0
    assert bdw_fits["high_end"].log_likelihood_ - sbg_fits["high_end"].log_likelihood_ > 5.0


# --------------------------------------------------------------------------- several cohorts


def _simulate_cohorts(
    rng: np.random.Generator, sizes: list[int], lengths: list[int], alpha: float, beta: float,
    c: float,
) -> pd.DataFrame:  # fmt: skip
    """Survivor counts of cohorts drawn from the BdW (c = 1: sBG): θ ~ Beta(α, β), and
    T = the first t with (1 − θ)^(t^c) < U, U uniform (inverse transform)."""
    frames = []
    for label, (size, length) in enumerate(zip(sizes, lengths, strict=True)):
        theta = rng.beta(alpha, beta, size)
        u = rng.uniform(size=size)
        lifetime = np.ceil((np.log(u) / np.log1p(-theta)) ** (1.0 / c))
        lifetime = np.maximum(lifetime, 1.0)
        periods = np.arange(length + 1)
        survivors = (lifetime[None, :] > periods[:, None]).sum(axis=1)
        frames.append(
            pd.DataFrame({"cohort": f"c{label}", "period": periods, "survivors": survivors})
        )
    return pd.concat(frames, ignore_index=True)


def test_pooled_cohorts_recover_sbg_parameters() -> None:
    """Three cohorts of different sizes observed for 8, 5 and 3 periods, fitted together."""
    rng = np.random.default_rng(20240607)
    truth = {"alpha": 0.9, "beta": 2.5}
    frame = _simulate_cohorts(rng, [3000, 2000, 1200], [8, 5, 3], truth["alpha"], truth["beta"], 1)
    model = ShiftedBetaGeoModel().fit_survivors(frame)
    assert model.n_customers_ == 6200
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 2.58 * model.standard_errors_[name], name


def test_pooled_cohorts_recover_bdw_parameters() -> None:
    """Duration dependence (c = 0.6, customers grow loyal) is recovered from four cohorts."""
    rng = np.random.default_rng(7)
    truth = {"alpha": 1.2, "beta": 1.8, "c": 0.6}
    frame = _simulate_cohorts(rng, [4000, 3000, 3000, 2000], [10, 7, 5, 3], 1.2, 1.8, 0.6)
    model = BetaDiscreteWeibullModel().fit_survivors(frame)
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 2.58 * model.standard_errors_[name], name


def test_weights_equal_exploded_rows() -> None:
    rows = survivors_to_lifetimes({"a": [40, 30, 24, 20], "b": [25, 15, 12]})
    exploded = rows.loc[rows.index.repeat(rows["n_customers"])].drop(columns="n_customers")
    for cls in (ShiftedBetaGeoModel, BetaDiscreteWeibullModel):
        weighted = cls().fit(rows)  # weights default to n_customers
        explicit = cls().fit(rows, weights=rows["n_customers"])
        one_each = cls().fit(exploded)
        for name in cls.param_names:
            assert weighted.params_[name] == pytest.approx(one_each.params_[name], rel=1e-6)
            assert explicit.params_[name] == weighted.params_[name]
        assert weighted.log_likelihood_ == pytest.approx(one_each.log_likelihood_, rel=1e-10)
        assert weighted.n_customers_ == one_each.n_customers_ == 65


# --------------------------------------------------------------------------- survivor counts


def test_survivors_to_lifetimes_rows() -> None:
    rows = survivors_to_lifetimes([10, 6, 5], cohort="2021")
    assert rows.to_dict("list") == {
        "cohort": ["2021"] * 3,
        "duration": [1, 2, 2],
        "churned": [1, 1, 0],
        "n_customers": [4, 1, 5],
    }
    assert rows["n_customers"].sum() == 10


def test_survivors_forms_agree_and_short_cohorts() -> None:
    long = pd.DataFrame(
        {
            "cohort": ["x", "x", "y", "y", "y", "z", "x"],
            "period": [1, 0, 0, 1, 2, 0, 2],
            "survivors": [8, 9, 5, 5, 4, 7, 8],
        }
    )
    from_frame = survivors_to_lifetimes(long)
    from_mapping = survivors_to_lifetimes({"x": [9, 8, 8], "y": [5, 5, 4], "z": [7]})
    pd.testing.assert_frame_equal(from_frame, from_mapping)
    assert "z" not in set(from_frame["cohort"])  # observed at period 0 only: no information
    assert survivors_to_lifetimes([12]).empty
    single = survivors_to_lifetimes(long[long["cohort"] == "y"].drop(columns="cohort"), "y")
    pd.testing.assert_frame_equal(single, survivors_to_lifetimes({"y": [5, 5, 4]}))


@pytest.mark.parametrize(
    ("survivors", "fragment"),
    [
        ({"2019": [100, 80, 85, 70]}, "cohort '2019', period 2: survivors rise from 80 to 85"),
        ({"A": [100, 80, -3]}, "cohort 'A', period 2: survivors must be a whole number ≥ 0"),
        ({"A": [100, 80.5, 70]}, "cohort 'A', period 1: survivors must be a whole number ≥ 0"),
        ({"A": [100, np.nan]}, "cohort 'A', period 1"),
        ({"B": [0, 0]}, "cohort 'B', period 0: the cohort size must be > 0"),
        ({"B": []}, "cohort 'B' has no counts"),
        ({"B": ["many", 3]}, "cohort 'B': survivors must be numbers"),
    ],
)
def test_bad_survivor_counts_name_cohort_and_period(
    survivors: dict[str, list[float]], fragment: str
) -> None:
    with pytest.raises(DataContractError, match="survivors_to_lifetimes") as info:
        survivors_to_lifetimes(survivors)
    assert fragment in str(info.value)


def test_bad_survivor_frames() -> None:
    gap = pd.DataFrame({"cohort": "Q1", "period": [0, 1, 3], "survivors": [9, 8, 7]})
    with pytest.raises(DataContractError, match=r"cohort 'Q1'.*period 2 is missing"):
        survivors_to_lifetimes(gap)
    with pytest.raises(DataContractError, match="lacks column"):
        survivors_to_lifetimes(pd.DataFrame({"period": [0, 1]}))
    with pytest.raises(DataContractError, match="drop cohort="):
        survivors_to_lifetimes(gap, cohort="other")
    with pytest.raises(DataContractError, match="cohort 3, period 1: survivors rise"):
        ShiftedBetaGeoModel().fit_survivors([5, 6], cohort=3)


def test_bad_rows_and_predictions() -> None:
    with pytest.raises(DataContractError, match="duration must be a whole number ≥ 1"):
        ShiftedBetaGeoModel().fit(pd.DataFrame({"duration": [0, 2], "churned": [1, 0]}))
    with pytest.raises(DataContractError, match="churned must be 0 or 1"):
        ShiftedBetaGeoModel().fit(pd.DataFrame({"duration": [1, 2], "churned": [2, 0]}))
    with pytest.raises(NotFittedError):
        ShiftedBetaGeoModel().survival(3)
    model = ShiftedBetaGeoModel().fit_survivors([100, 70, 55, 46])
    with pytest.raises(DataContractError, match="discount_rate"):
        model.derl(0.0)
    with pytest.raises(DataContractError, match="t must be"):
        model.retention_rate(0)
    with pytest.raises(DataContractError, match="t must be whole"):
        model.churn_probability(1.5)


# --------------------------------------------------------------------------- predictions


def test_predictions_and_intervals(sbg_fits: dict[str, ShiftedBetaGeoModel]) -> None:
    model = sbg_fits["regular"]
    t = np.arange(1, 13)
    s = model.survival(t)
    np.testing.assert_allclose(model.retention_rate(t), s / np.append(1.0, s[:-1]), rtol=1e-12)
    np.testing.assert_allclose(
        model.churn_probability(t), np.append(1.0, s[:-1]) - s, rtol=1e-10, atol=1e-15
    )
    projection = model.project(12)
    assert list(projection.columns) == ["period", "survival", "retention_rate"]
    np.testing.assert_allclose(projection["survival"].to_numpy()[1:], s)
    assert np.isnan(projection["retention_rate"].iloc[0])
    band = model.project(12, interval=0.8)
    assert {"survival_lower", "survival_upper", "retention_rate_upper"} <= set(band.columns)
    assert np.all(band["survival_lower"] <= band["survival"] + 1e-12)
    assert np.all(band["survival"] <= band["survival_upper"] + 1e-12)
    value = model.renewal_value(100.0, 0.1, renewals=[0, 3], interval=0.9)
    assert list(value.columns) == ["estimate", "lower", "upper"]
    assert np.all((value["lower"] < value["estimate"]) & (value["estimate"] < value["upper"]))


def test_derl_convention_matches_the_series(sbg_fits: dict[str, ShiftedBetaGeoModel]) -> None:
    """FH10 eq. 6 for a customer with n − 1 = ``renewals`` renewals is
    Σ_{k≥0} S(n+k)/S(n−1) (1+d)^−k: the next renewal undiscounted (we stand at the end of
    period n). Seen from acquisition, one period earlier, 1 + DERL(renewals=0)/(1+d) is FH07's
    expected discounted lifetime Σ_{t≥0} S(t)/(1+d)^t."""
    model = sbg_fits["high_end"]
    d = 0.1
    k = np.arange(0, 4000)
    for renewals in (0, 1, 4):
        n = renewals + 1
        s = model.survival(n + k) / model.survival(n - 1)
        assert model.derl(d, renewals=renewals) == pytest.approx(
            np.sum(s * (1 + d) ** -k), rel=1e-10
        )
    clv_periods = np.sum(model.survival(k) * (1 + d) ** -k)
    assert 1 + model.derl(d) / (1 + d) == pytest.approx(clv_periods, rel=1e-10)
    assert model.renewal_value(250.0, d, renewals=4) == pytest.approx(250 * model.derl(d, 4))


def test_sbg_derl_homogeneous_limit() -> None:
    """With no heterogeneity (α, β → ∞ at mean θ) DERL = (1 − θ)(1 + d)/(d + θ) (FH10)."""
    theta, d = 0.3, 0.12
    value = sbg_derl(theta * 1e8, (1 - theta) * 1e8, d)
    assert value == pytest.approx((1 - theta) * (1 + d) / (d + theta), rel=1e-6)


@pytest.mark.parametrize(
    ("alpha", "beta", "d", "renewals"),
    [
        (0.704, 1.182, 0.1, 0),
        (0.668, 3.806, 0.1, 4),
        (0.1, 0.1, 0.01, 0),
        (0.5, 2.0, 0.001, 2),  # 1/(1+d) close to 1
        (5.0, 0.2, 0.002, 3),
        (300.0, 2.0, 0.1, 0),  # scipy.special.hyp2f1 returns NaN here
    ],
)
def test_bdw_derl_series_with_c_one_equals_sbg_closed_form(
    alpha: float, beta: float, d: float, renewals: int
) -> None:
    closed = sbg_derl(alpha, beta, d, renewals)
    series = bdw_derl(alpha, beta, 1.0, d, renewals)
    assert np.isfinite(closed)
    assert series == pytest.approx(closed, rel=1e-10)


def test_bdw_with_c_one_equals_sbg() -> None:
    t = np.arange(1, 3001, dtype=np.float64)
    for alpha, beta in [(0.704, 1.182), (1e-3, 5.0), (50.0, 0.01), (3.0, 300.0)]:
        for churned in (0.0, 1.0):
            np.testing.assert_allclose(
                bdw_loglik(alpha, beta, 1.0, t, churned),
                sbg_loglik(alpha, beta, t, churned),
                rtol=1e-12,
                atol=1e-12,
            )
        np.testing.assert_allclose(bdw_survival(alpha, beta, 1.0, t), sbg_survival(alpha, beta, t),
                                   rtol=1e-12)  # fmt: skip
        np.testing.assert_allclose(
            bdw_retention_rate(alpha, beta, 1.0, t), sbg_retention_rate(alpha, beta, t), rtol=1e-12
        )
        np.testing.assert_allclose(
            bdw_log_pmf(alpha, beta, 1.0, t), sbg_log_pmf(alpha, beta, t), rtol=1e-12, atol=1e-12
        )
        grads_bdw = bdw_loglik_grad(alpha, beta, 1.0, t, 1.0)
        grads_sbg = sbg_loglik_grad(alpha, beta, t, 1.0)
        for g_bdw, g_sbg in zip(grads_bdw[:2], grads_sbg, strict=True):
            np.testing.assert_allclose(g_bdw, g_sbg, rtol=1e-9, atol=1e-12)


def test_save_and_load(tmp_path: Path, bdw_fits: dict[str, BetaDiscreteWeibullModel]) -> None:
    model = bdw_fits["regular"]
    model.save(tmp_path / "bdw.json")
    loaded = BetaDiscreteWeibullModel.load(tmp_path / "bdw.json")
    assert loaded.params_ == model.params_
    assert loaded.time_unit == "year"
    np.testing.assert_allclose(loaded.survival([1, 5, 20]), model.survival([1, 5, 20]))


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(alpha=wide, beta=wide, c=shape_c)
def test_survival_never_rises_and_stays_in_unit_interval(
    alpha: float, beta: float, c: float
) -> None:
    t = np.concatenate([np.arange(0, 400), np.geomspace(400, 1e4, 200)])
    for s in (sbg_survival(alpha, beta, t), bdw_survival(alpha, beta, c, t)):
        assert s[0] == 1.0
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 0)


@settings(max_examples=60, deadline=None)
@given(
    alpha=positive,
    beta=positive,
    c=shape_c,
    t=st.integers(0, 500),
    g=st.integers(0, 500),
)
def test_conditional_survival_is_consistent(
    alpha: float, beta: float, c: float, t: int, g: int
) -> None:
    """S(g + t | alive at g) · S(g) = S(g + t)."""
    np.testing.assert_allclose(
        sbg_conditional_survival(alpha, beta, t, g) * sbg_survival(alpha, beta, g),
        sbg_survival(alpha, beta, g + t),
        rtol=1e-11,
        atol=1e-300,
    )
    np.testing.assert_allclose(
        bdw_conditional_survival(alpha, beta, c, t, g) * bdw_survival(alpha, beta, c, g),
        bdw_survival(alpha, beta, c, g + t),
        rtol=1e-11,
        atol=1e-300,
    )


@settings(max_examples=40, deadline=None)
@given(
    total=st.floats(0.2, 50.0),
    low=st.floats(0.05, 0.9),
    gap=st.floats(0.02, 0.5),
    c=st.floats(0.3, 3.0),
    d=st.floats(0.03, 0.5),
    renewals=st.integers(0, 20),
)
def test_derl_falls_with_mean_churn_and_rises_with_beta(
    total: float, low: float, gap: float, c: float, d: float, renewals: int
) -> None:
    """θ ~ Beta(α, β) has mean churn probability α/(α + β). With α + β fixed, a larger α moves
    mass to larger θ (Beta(α', s − α') dominates Beta(α, s − α) stochastically for α' > α), and a
    customer's discounted residual lifetime (1 − θ)(1 + d)/(d + θ) falls in θ — also after
    conditioning on ``renewals`` survived periods, which turns Beta(α, β) into Beta(α, β + m^c).
    So DERL *falls* as α/(α + β) rises at fixed α + β, and *rises* with β at fixed α."""
    share_lo, share_hi = low, min(low + gap, 0.98)
    a_lo, a_hi = share_lo * total, share_hi * total
    sbg = [sbg_derl(a, total - a, d, renewals) for a in (a_lo, a_hi)]
    bdw = [bdw_derl(a, total - a, c, d, renewals) for a in (a_lo, a_hi)]
    assert sbg[1] < sbg[0]
    assert bdw[1] < bdw[0]
    assert sbg_derl(a_lo, total * 1.5, d, renewals) > sbg_derl(a_lo, total, d, renewals)
    assert bdw_derl(a_lo, total * 1.5, c, d, renewals) > bdw_derl(a_lo, total, c, d, renewals)


@settings(max_examples=80, deadline=None)
@given(
    alpha=wide,
    beta=wide,
    c=st.floats(-3.0, np.log10(30.0)).map(lambda x: float(10.0**x)),
    durations=st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
)
def test_loglik_and_gradient_finite_on_extreme_inputs(
    alpha: float, beta: float, c: float, durations: list[int]
) -> None:
    """α, β from 1e-8 to 1e8, c from 1e-3 to 30, durations up to 10⁴."""
    t = np.array([1, 2, 10_000, *durations], dtype=np.float64)
    for churned in (np.zeros_like(t), np.ones_like(t)):
        for ll, grads in (
            sbg_loglik_and_grad(alpha, beta, t, churned),
            bdw_loglik_and_grad(alpha, beta, c, t, churned),
        ):
            assert np.all(np.isfinite(ll)) and np.all(ll <= 0)
            assert all(np.all(np.isfinite(g)) for g in grads)


def _central(f: object, x: list[float], i: int, step: float = 1e-5) -> np.ndarray:
    """Central difference in parameter i with a relative step."""
    up, down = list(x), list(x)
    up[i] *= 1 + step
    down[i] *= 1 - step
    return (f(*up) - f(*down)) / (2 * step * x[i])  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(
    alpha=st.floats(0.05, 20.0),
    beta=st.floats(0.05, 20.0),
    c=st.floats(0.2, 3.0),
    durations=st.lists(st.integers(1, 300), min_size=1, max_size=6),
    churned=st.lists(st.integers(0, 1), min_size=6, max_size=6),
)
def test_gradient_matches_central_differences(
    alpha: float, beta: float, c: float, durations: list[int], churned: list[int]
) -> None:
    t = np.array(durations, dtype=np.float64)
    dead = np.array(churned[: len(durations)], dtype=np.float64)
    analytic = bdw_loglik_grad(alpha, beta, c, t, dead)
    for i in range(3):
        numeric = _central(lambda a, b, k: bdw_loglik(a, b, k, t, dead), [alpha, beta, c], i)
        np.testing.assert_allclose(analytic[i], numeric, rtol=1e-5, atol=1e-7)
    analytic_sbg = sbg_loglik_grad(alpha, beta, t, dead)
    for i in range(2):
        numeric = _central(lambda a, b: sbg_loglik(a, b, t, dead), [alpha, beta], i)
        np.testing.assert_allclose(analytic_sbg[i], numeric, rtol=1e-5, atol=1e-7)
