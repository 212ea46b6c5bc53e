"""Survival with covariates: the sample generator's Weibull proportional-hazards truth is
recovered from spells and covariates built in the warehouse; the likelihoods, curves and
validation measures are checked against independent arithmetic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.errors import ConvergenceError, DataContractError
from lendvalue.models.retention.survival import (
    CoxPHModel,
    WeibullAFTModel,
    weibull_loglik_and_grad,
    weibull_survival,
)
from lendvalue.models.retention.validation import (
    churn_by_decile,
    comparison_table,
    concordance_index,
    holdout_errors,
)
from lendvalue.warehouse.features import relationship_spells, retention_covariates

Z_99 = 2.576
COVARIATES = ["size_medium", "size_small", "size_micro", "industry_risk",
              "initial_grade_centred", "treated"]  # fmt: skip


@pytest.fixture(scope="module")
def spells(bank: tuple[duckdb.DuckDBPyConnection, Any]) -> pd.DataFrame:
    con, truth = bank
    risky = truth["relationship_survival"]["covariates"]["industry_risk"]
    assert "['B', 'E', 'H', 'K']" in risky and "[30, 31, 32]" in risky
    groups = {"industry_risk": ["B", "E", "H", "K", "C30", "C31", "C32"]}
    cov = retention_covariates(con, truth["as_of"], industry_groups=groups)
    data = relationship_spells(con, truth["as_of"]).merge(cov, on="customer_id")
    # the rating history covers five years: the onboarding grade is known for later starters
    return data.dropna(subset=["initial_grade_centred"]).reset_index(drop=True)


def _truth_beta(truth: Any) -> dict[str, float]:
    s = truth["relationship_survival"]
    beta = dict(s["beta"])
    beta["initial_grade_centred"] = beta.pop("grade_centred")
    beta["treated"] = s["gamma_treat"]
    return beta


def test_weibull_recovers_the_generators_survival_truth(
    bank: tuple[duckdb.DuckDBPyConnection, Any], spells: pd.DataFrame
) -> None:
    truth = bank[1]["relationship_survival"]
    model = WeibullAFTModel(covariates=COVARIATES).fit(spells)
    assert spells["event"].sum() > 800
    shape, se = model.params_["shape"], model.standard_errors_["shape"]
    assert abs(shape - truth["k"]) < Z_99 * se, (shape, se)
    scale, se = model.params_["scale"], model.standard_errors_["scale"]
    assert abs(scale - truth["lambda_months"]) < Z_99 * se, (scale, se)
    ratios = model.hazard_ratios()
    for name, beta in _truth_beta(bank[1]).items():
        est, se = ratios.loc[name, "beta"], ratios.loc[name, "std_error"]
        assert abs(est - beta) < Z_99 * se, (name, est, se, beta)


def test_cox_agrees_with_weibull_and_with_the_truth(
    bank: tuple[duckdb.DuckDBPyConnection, Any], spells: pd.DataFrame
) -> None:
    cox = CoxPHModel(covariates=COVARIATES).fit(spells)
    weibull = WeibullAFTModel(covariates=COVARIATES).fit(spells).hazard_ratios()
    for name, beta in _truth_beta(bank[1]).items():
        est, se = cox.params_[name], cox.standard_errors_[name]
        assert abs(est - beta) < Z_99 * se, (name, est, se, beta)
        assert abs(est - weibull.loc[name, "beta"]) < 0.25 * se, name
    # Breslow's baseline against the Weibull's at the covariate origin, where data are dense
    t = np.array([12.0, 24.0, 48.0])
    zero = pd.DataFrame({key: [0.0] for key in COVARIATES})
    w_model = WeibullAFTModel(covariates=COVARIATES).fit(spells)
    np.testing.assert_allclose(cox.survival(t, zero), w_model.survival(t, zero), atol=0.02)


def test_landmark_spells_enter_at_their_tenure_and_hold_only_the_living(
    bank: tuple[duckdb.DuckDBPyConnection, Any],
) -> None:
    con, truth = bank
    landmark = "2024-06-30"
    marked = relationship_spells(con, truth["as_of"], landmark=landmark)
    rel = con.execute("SELECT * FROM relationships").df()
    alive = rel[(rel["start_date"] <= landmark) & ~(rel["end_date"] <= landmark)]
    assert set(marked["customer_id"]) == set(alive["customer_id"])
    first = marked.groupby("customer_id")["entry"].min()
    tenure = (pd.Timestamp(landmark) - alive.set_index("customer_id")["start_date"]).dt.days
    np.testing.assert_allclose(first.sort_index(), tenure.sort_index() / (365.25 / 12))
    # spells of a customer tile its observed time; only the last can hold the exit
    full = relationship_spells(con, truth["as_of"])
    spans = full.groupby("customer_id").agg(
        entry=("entry", "min"), duration=("duration", "max"), events=("event", "sum"),
        n=("event", "size"),
    )  # fmt: skip
    assert (spans["events"] <= 1).all() and spans["n"].max() == 2
    length = (full["duration"] - full["entry"]).groupby(full["customer_id"]).sum()
    np.testing.assert_allclose(length, spans["duration"] - spans["entry"])
    defaulted = full[full["end_reason"] == "default"]
    assert len(defaulted) > 0 and (defaulted["event"] == 0).all()  # a competing risk: censored


def test_weibull_likelihood_is_the_truncated_censored_density() -> None:
    scale, shape = np.array([80.0, 80.0]), np.array([1.3, 1.3])
    entry, duration, event = np.array([10.0, 0.0]), np.array([50.0, 50.0]), np.array([1.0, 0.0])
    ll, _, _ = weibull_loglik_and_grad(scale, shape, entry, duration, event)
    s = lambda t: np.exp(-((t / 80.0) ** 1.3))  # noqa: E731
    density = 1.3 / 80.0 * (50 / 80.0) ** 0.3 * s(50.0)
    np.testing.assert_allclose(ll, [np.log(density / s(10.0)), np.log(s(50.0))], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    scale=st.floats(0.5, 5000.0),
    shape=st.floats(0.2, 6.0),
    entry=st.floats(0.0, 300.0),
    extra=st.floats(1e-3, 300.0),
    event=st.sampled_from([0.0, 1.0]),
)
def test_weibull_gradient_matches_finite_differences(
    scale: float, shape: float, entry: float, extra: float, event: float
) -> None:
    args = [np.array([v]) for v in (entry, entry + extra, event)]
    _, d_scale, d_shape = weibull_loglik_and_grad(np.array([scale]), np.array([shape]), *args)

    def ll(sc: float, sh: float) -> float:
        return float(weibull_loglik_and_grad(np.array([sc]), np.array([sh]), *args)[0][0])

    assert np.isfinite(ll(scale, shape))
    h_sc, h_sh = 1e-6 * scale, 1e-6 * shape
    fd_scale = (ll(scale + h_sc, shape) - ll(scale - h_sc, shape)) / (2 * h_sc)
    fd_shape = (ll(scale, shape + h_sh) - ll(scale, shape - h_sh)) / (2 * h_sh)
    assert d_scale[0] == pytest.approx(fd_scale, rel=1e-4, abs=1e-7)
    assert d_shape[0] == pytest.approx(fd_shape, rel=1e-4, abs=1e-7)


@pytest.fixture(scope="module")
def fitted(spells: pd.DataFrame) -> WeibullAFTModel:
    return WeibullAFTModel(covariates=COVARIATES).fit(spells)


@settings(max_examples=40, deadline=None)
@given(tenure=st.floats(0.0, 240.0), months=st.integers(1, 120), row=st.integers(0, 999))
def test_curves_never_rise_and_conditional_survival_is_consistent(
    fitted: WeibullAFTModel, spells: pd.DataFrame, tenure: float, months: int, row: int
) -> None:
    customer = spells.iloc[[row]].assign(duration=tenure)
    curve = fitted.conditional_survival(customer, months)[0]
    assert np.all(np.diff(curve) <= 1e-15) and 0 <= curve[-1] <= curve[0] <= 1
    s = fitted.survival([tenure, tenure + months], customer)[0]
    assert curve[-1] * s[0] == pytest.approx(s[1], rel=1e-9, abs=1e-300)
    ahead = fitted.probability_alive_at(customer, [float(months)])
    assert ahead[0] == pytest.approx(curve[-1], rel=1e-12)


def test_curves_over_many_blocks_equal_the_closed_form() -> None:
    """10,000 customers (three blocks of the blocked projection) with tenures in whole days,
    many tied: each row equals exp(-((τ+m)/λ_i)^ρ + (τ/λ_i)^ρ) for the Weibull, and Cox's
    curve equals its own probability_alive_at (another code path) at every month."""
    rng = np.random.default_rng(11)
    n = 10_000
    z = rng.normal(size=n)
    life = 150 * np.exp(0.3 * z) * rng.weibull(1.3, n)
    window = rng.uniform(1, 120, n)
    stop = np.ceil(np.minimum(life, window) * 30.4375) / 30.4375
    frame = pd.DataFrame({"entry": 0.0, "duration": stop,
                          "event": (life <= window).astype(float), "z": z})  # fmt: skip
    weibull = WeibullAFTModel(covariates=["z"]).fit(frame)
    cox = CoxPHModel(covariates=["z"]).fit(frame)
    alive = frame[frame["event"] == 0].sample(frac=1.0, random_state=0)  # shuffled rows
    months = np.arange(1, 37, dtype=float)
    tau = alive["duration"].to_numpy()[:, None]
    scale = weibull.params_["scale"] * np.exp(weibull.params_["scale[z]"] * alive["z"].to_numpy())
    rho = weibull.params_["shape"]
    expected = np.exp(-(((tau + months) / scale[:, None]) ** rho) + (tau / scale[:, None]) ** rho)
    np.testing.assert_allclose(weibull.conditional_survival(alive, 36), expected, rtol=1e-12)
    curves = cox.conditional_survival(alive, 36)
    for m in (1, 7, 36):
        ahead = cox.probability_alive_at(alive, np.full(len(alive), float(m)))
        np.testing.assert_allclose(curves[:, m - 1], ahead, rtol=1e-12)


def test_weibull_survival_function() -> None:
    np.testing.assert_allclose(weibull_survival([0.0, 200.0], 200.0, 1.2), [1.0, np.exp(-1.0)])


def _brute_cox(beta: np.ndarray, entry: np.ndarray, stop: np.ndarray, event: np.ndarray,
               z: np.ndarray) -> tuple[float, np.ndarray]:  # fmt: skip
    """Breslow partial likelihood and score by explicit risk sets."""
    ll, grad = 0.0, np.zeros(z.shape[1])
    for t in np.unique(stop[event == 1]):
        risk = (entry < t) & (stop >= t)
        dead = (stop == t) & (event == 1)
        weights = np.exp(z[risk] @ beta)
        ll += float(np.sum(z[dead] @ beta) - dead.sum() * np.log(weights.sum()))
        grad += z[dead].sum(axis=0) - dead.sum() * (weights @ z[risk]) / weights.sum()
    return ll, grad


def test_cox_maximises_breslows_partial_likelihood_with_delayed_entry() -> None:
    rng = np.random.default_rng(3)
    n = 300
    z = rng.normal(size=(n, 2))
    stop = np.round(rng.exponential(20 * np.exp(-z @ [0.5, -0.3])) + 1.0)  # ties on purpose
    entry = np.where(rng.random(n) < 0.3, np.floor(stop * rng.random(n)), 0.0)
    event = (rng.random(n) < 0.7).astype(float)
    frame = pd.DataFrame({"entry": entry, "duration": stop, "event": event, "z1": z[:, 0],
                          "z2": z[:, 1]})  # fmt: skip
    model = CoxPHModel(covariates=["z1", "z2"]).fit(frame)
    beta = np.array([model.params_["z1"], model.params_["z2"]])
    ll, grad = _brute_cox(beta, entry, stop, event, z)
    assert model.log_likelihood_ == pytest.approx(ll, rel=1e-10)
    np.testing.assert_allclose(grad, 0.0, atol=1e-6)
    # the information is the curvature of the partial likelihood
    h = 1e-5
    hess = np.array([(_brute_cox(beta + h * e, entry, stop, event, z)[1]
                      - _brute_cox(beta - h * e, entry, stop, event, z)[1]) / (2 * h)
                     for e in np.eye(2)])  # fmt: skip
    np.testing.assert_allclose(np.linalg.inv(-hess), model.covariance_.to_numpy(), rtol=1e-4)


def _brute_concordance(t: np.ndarray, e: np.ndarray, r: np.ndarray) -> float:
    num = den = 0.0
    for i in np.flatnonzero(e == 1):
        later = (t > t[i]) | ((t == t[i]) & (e == 0))
        den += later.sum()
        num += np.sum(r[i] > r[later]) + 0.5 * np.sum(r[i] == r[later])
    return num / den


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_concordance_equals_harrells_pair_count(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 60))
    t = np.array(data.draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=float)
    e = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=float)
    r = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=float)
    later_exists = any(((t > t[i]) | ((t == t[i]) & (e == 0))).sum() for i in np.flatnonzero(e))
    if not later_exists:
        with pytest.raises(DataContractError):
            concordance_index(t, e, r)
        return
    assert concordance_index(t, e, r) == pytest.approx(_brute_concordance(t, e, r), abs=1e-12)


def test_holdout_validation_by_decile_and_the_comparison_table(
    bank: tuple[duckdb.DuckDBPyConnection, Any],
) -> None:
    """Fit on the year before a landmark, predict the next year's churn of those alive on it."""
    con = bank[0]
    groups = {"industry_risk": ["B", "E", "H", "K", "C30", "C31", "C32"]}
    covs = ["size_medium", "size_small", "size_micro", "industry_risk", "grade_centred",
            "fee_trend"]  # fmt: skip
    train = relationship_spells(con, "2024-06-30", landmark="2023-06-30").merge(
        retention_covariates(con, "2023-06-30", industry_groups=groups), on="customer_id"
    )
    test = relationship_spells(con, "2025-06-30", landmark="2024-06-30")
    test = test.groupby("customer_id", as_index=False).agg(
        entry=("entry", "min"), duration=("duration", "max"), event=("event", "max")
    )
    test = test.merge(
        retention_covariates(con, "2024-06-30", industry_groups=groups), on="customer_id"
    )
    rows = {}
    for name, model in (("weibull_aft", WeibullAFTModel(covariates=covs)),
                        ("cox_ph", CoxPHModel(covariates=covs))):  # fmt: skip
        model.fit(train)
        start = test.assign(duration=test["entry"])
        churn = 1.0 - model.probability_alive_at(start, np.full(len(test), 12.0))
        left = test["event"].to_numpy(float)
        deciles = churn_by_decile(churn, left)
        assert deciles["customers"].sum() == len(test) and len(deciles) == 10
        assert deciles["observed_churn"].iloc[-1] > deciles["observed_churn"].iloc[0]
        k = len(covs) + (2 if name == "weibull_aft" else 0)
        rows[name] = {"log_likelihood": model.log_likelihood_, "n_params": k,
                      **holdout_errors(churn, left),
                      "concordance": concordance_index(test["duration"] - test["entry"],
                                                       left, churn)}  # fmt: skip
        assert 0.55 < rows[name]["concordance"] < 0.9
        assert abs(rows[name]["leavers_error"]) < 0.25
    table = comparison_table(rows)
    assert table["chosen"].sum() == 1
    assert {"aic", "brier", "decile_mae", "concordance"} <= set(table.columns)


def test_a_separating_covariate_is_named(spells: pd.DataFrame) -> None:
    data = spells.assign(never_leaves=np.where(spells["event"] == 1, 0.0, spells.index % 2))
    with pytest.raises(ConvergenceError, match="never_leaves run off to infinity"):
        CoxPHModel(covariates=["size_small", "never_leaves"]).fit(data)


def test_bad_spells_are_named(spells: pd.DataFrame) -> None:
    bad = spells.head(5).assign(entry=[0, 0, 100.0, 0, 0], duration=[1, 1, 50.0, 1, 1])
    with pytest.raises(DataContractError, match="entry < duration"):
        WeibullAFTModel().fit(bad)
    with pytest.raises(DataContractError, match="duration must be > entry"):
        CoxPHModel(covariates=["size_small"]).fit(bad)
    with pytest.raises(DataContractError, match="size_small take a single value"):
        WeibullAFTModel(covariates=["size_small"]).fit(spells.head(50).assign(size_small=1.0))
    with pytest.raises(DataContractError, match="landmark"):
        relationship_spells(duckdb.connect(), "2025-01-01", landmark="2025-06-30")


def test_models_save_and_reload(fitted: WeibullAFTModel, tmp_path: Path) -> None:
    fitted.save(tmp_path / "w.json")
    back = WeibullAFTModel.load(tmp_path / "w.json")
    assert back.params_ == fitted.params_
