"""The public estimators: published fits reproduced through them, weights, persistence,
covariates, intervals, input errors, diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lendvalue.errors import DataContractError, NotFittedError
from lendvalue.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from lendvalue.models.base import collapse
from lendvalue.models.btyd.diagnostics import calibration_vs_holdout, p_alive_grid, tracking

DATA = Path(__file__).resolve().parents[2] / "data" / "btyd"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def bgnbd(cdnow: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow)


def test_bgnbd_reproduces_fader_hardie_lee_2005(bgnbd: BetaGeoModel) -> None:
    """FHL (2005) print r=0.243 α=4.414 a=0.793 b=2.426 (three decimals: tolerance 5e-4 plus
    optimiser slack) and LL=−9582.4 (one decimal)."""
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in expected.items():
        assert bgnbd.params_[name] == pytest.approx(value, abs=6e-4), name
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bgnbd.n_customers_ == 2357
    assert all(s > 0 for s in bgnbd.standard_errors_.values())


def test_bgnbd_conditional_expectation_matches_hardies_spreadsheet(bgnbd: BetaGeoModel) -> None:
    """E[X(39) | x=2, t_x=30.43, T=38.86] = 1.226 (Hardie's BG/NBD spreadsheet)."""
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert bgnbd.conditional_expected_transactions(one, 39)[0] == pytest.approx(1.226, abs=5e-4)


def test_pareto_and_mbg_reproduce_their_published_fits(cdnow: pd.DataFrame) -> None:
    """Pareto/NBD r=0.553 α=10.578 s=0.606 β=11.669, LL=−9595.0 (FHL 2005); MBG/NBD
    0.525 / 6.183 / 0.891 / 1.614 (Batislam et al. 2007 via BTYDplus); three decimals."""
    pnbd = ParetoNBDModel().fit(cdnow)
    for name, value in {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}.items():
        assert pnbd.params_[name] == pytest.approx(value, rel=2e-3), name
    assert pnbd.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    mbg = ModifiedBetaGeoModel().fit(cdnow)
    for name, value in {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}.items():
        assert mbg.params_[name] == pytest.approx(value, rel=2e-3), name


def test_bgbb_reproduces_fader_hardie_shang_2010() -> None:
    """BG/BB on the donations: α=1.204 β=0.750 γ=0.657 δ=2.783, LL=−33,225.6."""
    cells = pd.read_csv(DATA / "donations.csv").rename(columns={"periods": "n_periods"})
    model = BetaGeoBetaBinomModel().fit(cells, weights=cells["weights"])
    for name, value in {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}.items():
        assert model.params_[name] == pytest.approx(value, abs=1.5e-3), name
    assert model.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert model.n_customers_ == 11104


def test_gamma_gamma_reproduces_fader_hardie_lee_2005_jmr() -> None:
    """p=6.25 q=3.74 γ=15.44 on the 946 CDNOW repeat buyers (two decimals: tolerance 5e-3).
    The mean spends come from the raw log through rfm_summary: the published summary file
    rounds them to cents, which alone moves v by about ±0.008."""
    from lendvalue.warehouse.rfm import rfm_summary
    from tests.warehouse.test_rfm import cdnow_log

    summary = rfm_summary(
        cdnow_log(), calibration_end="1997-09-30", customer_col="customer", date_col="date",
        amount_col="dollars", product_line_col=None,
    )  # fmt: skip
    model = GammaGammaModel().fit(summary[summary["frequency"] > 0])
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert model.params_[name] == pytest.approx(value, abs=5e-3), name
    assert model.n_customers_ == 946


def test_weights_equal_exploded_rows(cdnow: pd.DataFrame) -> None:
    head = cdnow.head(300)
    counts = np.arange(300) % 3 + 1
    exploded = head.loc[head.index.repeat(counts)]
    a = BetaGeoModel().fit(head, weights=counts)
    b = BetaGeoModel().fit(exploded)
    for name in a.params_:
        assert a.params_[name] == pytest.approx(b.params_[name], rel=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize("model", [BetaGeoModel, ParetoNBDModel])
def test_a_warm_started_fit_lands_where_a_cold_one_does(
    model: type[BetaGeoModel] | type[ParetoNBDModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large fits start from a subsample's estimate and are preconditioned with its Hessian;
    the estimate, likelihood and covariance must not depend on that."""
    data = _simulate_with_covariate(6_000, gamma_purchase=0.5, seed=11)
    covariates = {"purchase": ["z"]}
    cold = model(covariates=covariates).fit(data)
    monkeypatch.setattr(model, "warm_start_rows", 500)
    warm = model(covariates=covariates).fit(data)
    assert warm.log_likelihood_ == pytest.approx(cold.log_likelihood_, rel=1e-12)
    for name, value in cold.params_.items():
        assert warm.params_[name] == pytest.approx(value, abs=1e-3 * cold.standard_errors_[name])
        se = cold.standard_errors_[name]
        assert warm.standard_errors_[name] == pytest.approx(se, rel=1e-3)


def test_no_rows_to_fit_is_a_clear_error(cdnow: pd.DataFrame) -> None:
    with pytest.raises(DataContractError, match="no rows of weight > 0"):
        BetaGeoModel().fit(cdnow.head(0))
    with pytest.raises(DataContractError, match="no rows of weight > 0"):
        BetaGeoModel().fit(cdnow.head(3), weights=[0, 0, 0])


def test_collapse_merges_identical_rows_in_order_of_first_appearance() -> None:
    d = {"x": np.array([1.0, 0.0, 1.0, 2.0, 0.0, 1.0]), "t": np.array([2, 0, 2, 5, 0, 3.5])}
    w = np.array([1.0, 2.0, 3.0, 0.0, 1.0, 0.5])
    out, weights = collapse(d, w)
    assert out["x"].tolist() == [1.0, 0.0, 1.0]
    assert out["t"].tolist() == [2.0, 0.0, 3.5]
    assert weights.tolist() == [4.0, 3.0, 0.5]  # the row of weight 0 is gone


def test_collapse_handles_more_distinct_values_than_a_63_bit_key() -> None:
    rng = np.random.default_rng(0)
    d = {f"c{i}": rng.normal(size=40_000) for i in range(5)}  # 40k^5 > 2^62: groupby path
    d = {k: np.concatenate([v, v[:10]]) for k, v in d.items()}
    out, weights = collapse(d, np.ones(40_010))
    assert len(weights) == 40_000 and weights[:10].tolist() == [2.0] * 10
    np.testing.assert_array_equal(out["c3"], d["c3"][:40_000])


def test_save_and_load_keep_everything_but_the_data(bgnbd: BetaGeoModel, tmp_path: Path) -> None:
    path = tmp_path / "bgnbd.json"
    bgnbd.save(path)
    assert "frequency" not in json.loads(path.read_text())
    back = BetaGeoModel.load(path)
    assert back.params_ == bgnbd.params_
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert back.p_alive(one)[0] == bgnbd.p_alive(one)[0]
    pd.testing.assert_frame_equal(back.covariance_, bgnbd.covariance_)


def test_intervals_bracket_the_estimate(bgnbd: BetaGeoModel, cdnow: pd.DataFrame) -> None:
    out = bgnbd.conditional_expected_transactions(cdnow.head(50), 52, interval=0.8)
    assert list(out.columns) == ["estimate", "lower", "upper"]
    assert (out["lower"] <= out["estimate"] + 1e-12).all()
    assert (out["estimate"] <= out["upper"] + 1e-12).all()
    summary = bgnbd.summary()
    assert (summary["lower_95"] < summary["estimate"]).all()


def _simulate_with_covariate(n: int, gamma_purchase: float, seed: int) -> pd.DataFrame:
    """BG/NBD customers whose purchase rate is scaled by exp(γ z), z ∈ {0, 1}."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n).astype(float)
    alpha = 6.0 * np.exp(-gamma_purchase * z)
    lam = rng.gamma(0.8, 1 / alpha)
    p = rng.beta(0.9, 3.0, n)
    T = rng.uniform(20, 104, n)
    until_death = rng.geometric(p)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(until_death, arrivals)
    share = rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1))
    return pd.DataFrame(
        {"frequency": x, "recency": np.where(x > 0, share * T, 0.0), "T": T, "z": z}
    )


def test_a_purchase_covariate_is_recovered_within_its_interval() -> None:
    data = _simulate_with_covariate(20_000, gamma_purchase=0.7, seed=3)
    model = BetaGeoModel(covariates={"purchase": ["z"]}).fit(data)
    est, se = model.params_["purchase[z]"], model.standard_errors_["purchase[z]"]
    assert abs(est - 0.7) < 2.58 * se, (est, se)
    # a new customer with z = 1 buys more; (given a long silence, a faster buyer is more likely
    # gone, so the *conditional* expectation need not rise with z)
    with_z = model.expected_transactions(52, data=pd.DataFrame({"z": [1.0]}))
    without = model.expected_transactions(52, data=pd.DataFrame({"z": [0.0]}))
    assert with_z[0] > without[0]


def test_bad_input_names_the_column_rule_and_row(cdnow: pd.DataFrame) -> None:
    bad = cdnow.copy()
    bad.loc[7, "recency"] = bad.loc[7, "T"] + 1
    with pytest.raises(DataContractError, match=r"recency ≤ T; 1 row\(s\) are not, the first at"):
        BetaGeoModel().fit(bad)
    with pytest.raises(DataContractError, match="missing column"):
        BetaGeoModel().fit(cdnow.drop(columns="T"))
    with pytest.raises(NotFittedError):
        BetaGeoModel().p_alive(cdnow)
    with pytest.raises(DataContractError, match="no covariate group"):
        BetaGeoModel(covariates={"spend": ["z"]}).fit(cdnow)


def test_diagnostics_are_data(bgnbd: BetaGeoModel) -> None:
    from lendvalue.warehouse.rfm import rfm_summary
    from tests.warehouse.test_rfm import cdnow_log

    log = cdnow_log()
    summary = rfm_summary(
        log, calibration_end="1997-09-30", holdout_end="1998-06-30", customer_col="customer",
        date_col="date", amount_col="dollars", product_line_col=None,
    )  # fmt: skip
    table = calibration_vs_holdout(bgnbd, summary)
    assert table["customers"].sum() == 2357 and table["frequency"].iloc[-1] == "7+"
    track = tracking(
        bgnbd, log, start="1997-01-01", end="1998-06-30", customer_col="customer", date_col="date"
    )
    # FHL (2005) figure 2: the model tracks the 78-week cumulative repeat sales within a few %
    assert track["expected_cumulative"].iloc[-1] == pytest.approx(
        track["actual_cumulative"].iloc[-1], rel=0.05
    )
    grid = p_alive_grid(bgnbd, T=38.86)
    assert ((grid.to_numpy() >= 0) & (grid.to_numpy() <= 1)).all()


def test_a_pareto_dropout_covariate_is_recovered_within_its_interval() -> None:
    """Pareto/NBD customers whose dropout rate is scaled by exp(δ z): β_i = β exp(−δ z)."""
    rng = np.random.default_rng(8)
    n, delta = 20_000, 0.8
    z = rng.integers(0, 2, n).astype(float)
    lam = rng.gamma(0.7, 1 / 5.0, n)
    mu = rng.gamma(1.0, 1 / (12.0 * np.exp(-delta * z)))
    T = rng.uniform(20, 104, n)
    alive_for = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(lam * alive_for)
    t_x = np.where(x > 0, alive_for * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    data = pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "z": z})
    model = ParetoNBDModel(covariates={"dropout": ["z"]}).fit(data)
    est, se = model.params_["dropout[z]"], model.standard_errors_["dropout[z]"]
    assert abs(est - delta) < 2.58 * se, (est, se)
    leaving = model.p_alive(data.head(200).assign(z=1.0))
    staying = model.p_alive(data.head(200).assign(z=0.0))
    assert (leaving <= staying + 1e-12).all()
