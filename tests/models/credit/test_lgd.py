"""LGD: the supervisory table and collateral blend, and the fractional-logit model fitted on
the 2,545 defaulted loans of Baesens, Rösch & Scheule (2016)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.errors import ConfigError, DataContractError, NotFittedError
from lendvalue.models.credit.lgd import (
    COLLATERAL_TYPE_CODES,
    LGDModel,
    LGDTable,
    collateralised_lgd,
    fractional_logit_quasi_loglik,
    fractional_logit_robust_covariance,
    fractional_logit_score,
    lgd_from_table,
    load_lgd_table,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "credit"
FEATURES = ["LTV", "purpose1"]
SPLIT_SEED = 2016
PROPERTY = settings(max_examples=60, deadline=None)

# --------------------------------------------------------------------------- table


def test_default_table_values() -> None:
    """Defaults (defaults/lgd.yaml): senior unsecured 45% (CN2012, per brief CN2023; Basel
    III final CRE32.6 has 40% for corporates), subordinated 75% (CRE32.7); fully secured:
    real estate 20%, equipment (other physical) 25%, receivables 20%, deposit 0% (CRE32.9-12);
    guarantees and equity pledges are not LGD collateral here."""
    expected_senior = {
        "unsecured": 0.45,
        "guarantee": 0.45,
        "real_estate": 0.20,
        "equipment": 0.25,
        "receivables": 0.20,
        "deposit": 0.0,
        "equity": 0.45,
    }
    assert set(expected_senior) == set(COLLATERAL_TYPE_CODES)
    codes = list(expected_senior)
    assert lgd_from_table(codes) == pytest.approx(list(expected_senior.values()))
    subordinated = lgd_from_table(codes, "subordinated")
    assert subordinated == pytest.approx([0.75, 0.75, 0.20, 0.25, 0.20, 0.0, 0.75])
    assert lgd_from_table("unsecured", "subordinated") == 0.75
    table = load_lgd_table()
    assert all(t.source for t in table.collateral.values())


def test_table_lookup_is_vectorised_and_broadcasts() -> None:
    codes = np.array([["deposit", "unsecured"], ["real_estate", "equity"]])
    out = lgd_from_table(codes, np.array(["senior", "subordinated"]))
    assert isinstance(out, np.ndarray)
    assert out.shape == (2, 2)
    assert out == pytest.approx(np.array([[0.0, 0.75], [0.20, 0.75]]))


def test_unknown_codes_raise_with_the_valid_ones() -> None:
    with pytest.raises(DataContractError, match=r"'vehicle'.*unsecured, guarantee, real_estate"):
        lgd_from_table(["unsecured", "vehicle"])
    with pytest.raises(DataContractError, match=r"seniority.*'junior'"):
        lgd_from_table("unsecured", "junior")


def _table_dict() -> dict[str, object]:
    return load_lgd_table().model_dump()


def test_table_override_and_validation(tmp_path: Path) -> None:
    raw = _table_dict()
    raw["unsecured_lgd"]["senior"] = 0.40  # type: ignore[index]  # Basel III final CRE32.6
    assert lgd_from_table("unsecured", table=raw) == 0.40
    assert lgd_from_table("unsecured", table=LGDTable.model_validate(raw)) == 0.40

    missing = _table_dict()
    del missing["collateral"]["equity"]  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"collateral: .*missing \['equity'\]"):
        load_lgd_table(missing)

    half = _table_dict()
    half["collateral"]["deposit"]["haircut"] = None  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"collateral\.deposit"):
        load_lgd_table(half)

    path = tmp_path / "lgd.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unsecured_lgd"):
        load_lgd_table(path)


# --------------------------------------------------------------------------- collateral blend


def test_collateral_blend_by_hand() -> None:
    """CRE32.9-12 with H_E = H_FX = 0: E_S = min(C (1 − H_C), E),
    LGD* = LGD_U (E − E_S)/E + LGD_S E_S/E. Real estate, C = E = 100, H_C = 40%:
    E_S = 60, LGD* = 0.45 × 0.4 + 0.20 × 0.6 = 0.30."""
    assert collateralised_lgd(100.0, 100.0, "real_estate") == pytest.approx(0.30)
    out = collateralised_lgd([0.0, 50.0, 100.0, 1000.0], 100.0, "receivables", "subordinated")
    assert out == pytest.approx([0.75, 0.75 * 0.7 + 0.20 * 0.3, 0.75 * 0.4 + 0.2 * 0.6, 0.20])
    assert collateralised_lgd(50.0, 100.0, "deposit") == pytest.approx(0.5 * 0.45)
    assert collateralised_lgd(1e9, 100.0, "guarantee") == 0.45  # not eligible collateral
    assert collateralised_lgd(10.0, 0.0, "real_estate") == 0.45  # no exposure


@PROPERTY
@given(
    st.floats(0.0, 1e9),
    st.floats(0.0, 1e9),
    st.floats(1e-3, 1e9),
    st.sampled_from(COLLATERAL_TYPE_CODES),
    st.sampled_from(["senior", "subordinated"]),
)
def test_collateral_blend_properties(c1: float, c2: float, ead: float, kind: str, sen: str) -> None:
    """LGD* lies between the secured and unsecured LGD and never rises with more collateral."""
    lo, hi = sorted((c1, c2))
    less, more = collateralised_lgd([lo, hi], ead, kind, sen)
    assert more <= less + 1e-15
    bounds = sorted((float(lgd_from_table(kind, sen)), float(lgd_from_table("unsecured", sen))))
    assert bounds[0] - 1e-15 <= more <= less <= bounds[1] + 1e-15


def test_blend_bad_input() -> None:
    with pytest.raises(DataContractError, match=r"^collateral_value_yuan"):
        collateralised_lgd(-1.0, 100.0, "real_estate")
    with pytest.raises(DataContractError, match=r"^ead_yuan"):
        collateralised_lgd(1.0, np.nan, "real_estate")


# --------------------------------------------------------------------------- fractional logit


@pytest.fixture(scope="module")
def lgd_data() -> pd.DataFrame:
    """Baesens, Rösch & Scheule (2016), *Credit Risk Analytics*, data distributed with the
    book (a European bank, slightly modified and anonymised): 2,545 defaulted loans."""
    frame = pd.read_csv(DATA / "lgd.csv")
    assert len(frame) == 2545
    return frame


@pytest.fixture(scope="module")
def split(lgd_data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(SPLIT_SEED)
    order = rng.permutation(len(lgd_data))
    n_train = round(0.7 * len(lgd_data))
    return lgd_data.iloc[order[:n_train]], lgd_data.iloc[order[n_train:]]


@pytest.fixture(scope="module")
def fitted(split: tuple[pd.DataFrame, pd.DataFrame]) -> LGDModel:
    train, _ = split
    return LGDModel().fit(train[FEATURES], train["lgd_time"])


def _scores(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    mae = float(np.abs(y - pred).mean())
    r2 = float(1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    return mae, r2


def test_fit_on_baesens_lgd_beats_the_null_model(
    fitted: LGDModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """lgd_time on LTV and purpose1 (1 = renting), 70/30 split with seed 2016 (1,782 / 763).

    Measured: LGD = Λ(−3.001 + 2.297 LTV + 0.829 purpose1), robust SEs 0.126 / 0.143 /
    0.155 (both slopes z > 5: higher LTV and renting purpose lose more).

    ============  =======  ======  ==========================
    sample        MAE      R²      null (training mean 0.229)
    ============  =======  ======  ==========================
    in-sample     0.2217   0.212   MAE 0.2730, R² 0.000
    holdout       0.2228   0.191   MAE 0.2682, R² −0.0002
    ============  =======  ======  ==========================

    The model truly beats the mean on the holdout (R² 0.19 vs 0; MAE −0.045); LTV carries
    real signal (correlation 0.42 with LGD). Thresholds below sit well inside the margins
    seen over six split seeds (holdout R² 0.18–0.22, MAE gain 0.04–0.05). What is *not* true:
    a constant equal to the training *median* (0.032; LGDs pile up near 0) has about the
    same holdout MAE (0.219) — MAE rewards medians, while the fractional logit estimates the
    conditional mean, which is what expected loss needs. So R² is the yardstick here and the
    MAE comparison against the median is only pinned to "within 0.01"."""
    train, test = split
    y_train, y_test = train["lgd_time"].to_numpy(), test["lgd_time"].to_numpy()
    mae_in, r2_in = _scores(y_train, fitted.predict(train[FEATURES]))
    mae_out, r2_out = _scores(y_test, fitted.predict(test[FEATURES]))
    null_mae_out, null_r2_out = _scores(y_test, np.full(len(y_test), y_train.mean()))
    assert fitted.params_ == pytest.approx(
        {"intercept": -3.0012, "LTV": 2.2971, "purpose1": 0.8291}, abs=5e-4
    )
    assert r2_in > 0.18 and mae_in < 0.23
    assert r2_out > 0.15 > null_r2_out + 0.1
    assert mae_out < null_mae_out - 0.03
    median_mae_out = float(np.abs(y_test - np.median(y_train)).mean())
    assert abs(mae_out - median_mae_out) < 0.01
    assert fitted.params_["LTV"] / fitted.standard_errors_["LTV"] > 5
    assert fitted.params_["purpose1"] / fitted.standard_errors_["purpose1"] > 5


def test_mean_fitted_equals_mean_observed(
    fitted: LGDModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """With an intercept the first score equation is Σ(y − Λ) = 0 (PW96): the fit's gradient
    tolerance (1e-10 on the mean) gives the means equal to 1e-8."""
    train, _ = split
    gap = fitted.predict(train[FEATURES]).mean() - train["lgd_time"].mean()
    assert abs(gap) < 1e-8


def test_score_equals_finite_differences(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Analytic gradient vs central differences (step 1e-6 on a quasi-log-likelihood of size
    ~1e3: truncation ~1e-12, rounding ~1e-7 absolute) at a point away from the optimum."""
    train, _ = split
    X = np.column_stack([np.ones(len(train)), train[FEATURES].to_numpy()])
    y = train["lgd_time"].to_numpy()
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    beta = np.array([-1.0, 0.7, -0.4])
    h = 1e-6
    numeric = np.array(
        [
            (
                fractional_logit_quasi_loglik(beta + h * e, X, y, w)
                - fractional_logit_quasi_loglik(beta - h * e, X, y, w)
            )
            / (2 * h)
            for e in np.eye(3)
        ]
    )
    assert fractional_logit_score(beta, X, y, w) == pytest.approx(numeric, rel=1e-6, abs=1e-5)


def test_robust_standard_errors_match_the_bootstrap(
    fitted: LGDModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """The PW96 sandwich against 150 pairs-bootstrap refits (seeded). A bootstrap SE from B
    draws has relative error about 1/√(2B) ≈ 6%, so a ±20% band is more than 3 sigma."""
    train, _ = split
    rng = np.random.default_rng(11)
    draws = []
    for _ in range(150):
        rows = rng.integers(0, len(train), len(train))
        sample = train.iloc[rows]
        model = LGDModel().fit(sample[FEATURES], sample["lgd_time"])
        draws.append(list(model.params_.values()))
    boot_se = np.std(np.array(draws), axis=0, ddof=1)
    sandwich = np.array(list(fitted.standard_errors_.values()))
    assert sandwich / boot_se == pytest.approx(np.ones(3), abs=0.2)
    X = np.column_stack([np.ones(len(train)), train[FEATURES].to_numpy()])
    cov = fractional_logit_robust_covariance(
        list(fitted.params_.values()), X, train["lgd_time"].to_numpy()
    )
    assert np.sqrt(np.diag(cov)) == pytest.approx(sandwich, rel=1e-12)


@PROPERTY
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2))
def test_predictions_lie_in_unit_interval(fitted: LGDModel, row: list[float]) -> None:
    pred = fitted.predict(pd.DataFrame([row], columns=FEATURES))
    assert np.all((pred >= 0) & (pred <= 1))


def test_json_round_trip(fitted: LGDModel, lgd_data: pd.DataFrame) -> None:
    raw = json.loads(json.dumps(fitted.to_dict()))
    assert "lgd_time" not in json.dumps(raw)  # parameters only, never the data
    again = LGDModel.from_dict(raw)
    X = lgd_data[FEATURES]
    assert np.array_equal(again.predict(X), fitted.predict(X))
    assert again.standard_errors_ == fitted.standard_errors_
    assert again.feature_names_in_ == ("LTV", "purpose1")
    with pytest.raises(DataContractError, match="LGDModel"):
        LGDModel.from_dict({"model": "Other", "format_version": 1})
    broken = dict(raw, params={"intercept": 1.0})
    with pytest.raises(DataContractError, match="malformed"):
        LGDModel.from_dict(broken)


def test_predict_uses_column_names_and_checks_shape(
    fitted: LGDModel, lgd_data: pd.DataFrame
) -> None:
    X = lgd_data[FEATURES]
    assert np.array_equal(fitted.predict(X[["purpose1", "LTV"]]), fitted.predict(X))
    assert np.array_equal(fitted.predict(X.to_numpy()), fitted.predict(X))
    with pytest.raises(DataContractError, match="missing column"):
        fitted.predict(X[["LTV"]])
    with pytest.raises(DataContractError, match="fitted on 2"):
        fitted.predict(np.ones((3, 3)))


def test_fit_bad_input(lgd_data: pd.DataFrame) -> None:
    X, y = lgd_data[FEATURES], lgd_data["lgd_time"].to_numpy()
    with pytest.raises(NotFittedError):
        LGDModel().predict(X)
    with pytest.raises(DataContractError, match=r"^y must lie in"):
        LGDModel().fit(X, y * 1.5)
    with pytest.raises(DataContractError, match=r"^y must lie in"):
        LGDModel().fit(X, np.where(np.arange(len(y)) == 3, np.nan, y))
    with pytest.raises(DataContractError, match="some losses"):
        LGDModel().fit(X, np.zeros(len(y)))
    with pytest.raises(DataContractError, match="collinear"):
        LGDModel().fit(X.assign(LTV2=2 * X["LTV"]), y)
    with pytest.raises(DataContractError, match="missing or infinite"):
        LGDModel().fit(X.assign(LTV=X["LTV"].where(X.index != 5)), y)
    with pytest.raises(DataContractError, match="tol"):
        LGDModel(tol=-1.0).fit(X, y)
    with pytest.raises(DataContractError, match="rows"):
        LGDModel().fit(X, y[:-1])


def test_weights_and_no_intercept(lgd_data: pd.DataFrame) -> None:
    """Integer weights equal repeated rows; without an intercept the model still fits."""
    head = lgd_data.iloc[:300]
    w = np.random.default_rng(5).integers(1, 4, len(head))
    weighted = LGDModel().fit(head[FEATURES], head["lgd_time"], sample_weight=w)
    exploded = head.loc[head.index.repeat(w)]
    repeated = LGDModel().fit(exploded[FEATURES], exploded["lgd_time"])
    assert weighted.params_ == pytest.approx(repeated.params_, rel=1e-7)
    plain = LGDModel(fit_intercept=False).fit(head[FEATURES], head["lgd_time"])
    assert plain.intercept_ == 0.0 and set(plain.params_) == set(FEATURES)
