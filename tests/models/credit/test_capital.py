"""IRB capital for corporate exposures (BCBS CRE31) and the standardised risk-weight table:
published risk weights reproduced, the formula re-derived by hand, the SME adjustment, the
shape of the risk-weight curve, bad input and the YAML table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from lendvalue.errors import ConfigError, DataContractError
from lendvalue.models.credit.capital import (
    BASEL_SME_BOUNDS_EUR_MILLION,
    CN_SME_BOUNDS_10M_YUAN,
    CN_SME_BOUNDS_100M_YUAN,
    CN_SME_BOUNDS_MILLION_YUAN,
    PD_FLOOR_CORPORATE,
    StandardisedRiskWeights,
    asset_correlation,
    capital_requirement_k,
    corporate_risk_weight,
    expected_loss,
    load_standardised_risk_weights,
    maturity_adjustment,
    risk_weighted_assets,
    standardised_risk_weight,
)

PROPERTY = settings(max_examples=60, deadline=None)
unit = st.floats(0.0, 1.0)
maturity = st.floats(0.0, 30.0)
sales = st.one_of(st.none(), st.floats(0.0, 200.0))


def rw_by_hand(pd: float, lgd: float, m: float, s: float | None = None) -> float:
    """CRE31.5 written out with scipy.stats.norm, independent of the module's kernels."""
    weight = (1 - np.exp(-50 * pd)) / (1 - np.exp(-50))
    r = 0.12 * weight + 0.24 * (1 - weight)
    if s is not None and s < 50:
        r -= 0.04 * (1 - (max(s, 5.0) - 5) / 45)
    b = (0.11852 - 0.05478 * np.log(pd)) ** 2
    stressed = norm.cdf((norm.ppf(pd) + np.sqrt(r) * norm.ppf(0.999)) / np.sqrt(1 - r))
    k = (lgd * stressed - pd * lgd) * (1 + (m - 2.5) * b) / (1 - 1.5 * b)
    return float(12.5 * k)


# --------------------------------------------------------------------------- reference values


def test_pd_1pct_lgd_45pct_m_2_5_gives_92_32pct() -> None:
    """BCBS CRE99 / Basel II Annex 5 illustrative IRB risk weights, corporate, LGD 45%,
    M = 2.5: PD 1% → 92.32%. Published to two decimals of a percent: tolerance 5e-5."""
    rw = corporate_risk_weight(0.01, 0.45, 2.5)
    assert isinstance(rw, float)
    assert rw == pytest.approx(0.9232, abs=5e-5)


@pytest.mark.parametrize(
    ("pd_", "published_pct"),
    [
        (0.0003, 14.44),
        (0.0005, 19.65),
        (0.001, 29.65),
        (0.0025, 49.47),
        (0.005, 69.61),
        (0.01, 92.32),
        (0.10, 193.09),
        (0.20, 238.23),
    ],
)
def test_published_illustrative_risk_weights(pd_: float, published_pct: float) -> None:
    """Basel II (June 2006) Annex 5 / CRE99 illustrative risk weights, corporate exposures,
    LGD 45%, M 2.5, no firm-size adjustment (the table carries no 1.06 factor, so it is the
    Basel III final curve). PD 0.03% is below today's 0.05% floor (CRE32.4) and is read
    with ``pd_floor=0.0003``, the Basel II floor the table used. Tolerance 1e-4: two decimals
    of a percent published, plus the spreadsheet inverse-normal error of 2004."""
    rw = corporate_risk_weight(pd_, 0.45, 2.5, pd_floor=0.0003)
    assert rw == pytest.approx(published_pct / 100, abs=1e-4)


@pytest.mark.parametrize(
    ("pd_", "lgd", "m", "s"),
    [
        (0.02, 0.40, 4.0, None),
        (0.003, 0.25, 1.0, 20.0),
        (0.15, 0.75, 3.3, 7.5),
        (0.05, 1.0, 5.0, 2),
    ],
)
def test_matches_closed_form(pd_: float, lgd: float, m: float, s: float | None) -> None:
    """The formula written out independently (see ``rw_by_hand``); both are double-precision
    evaluations of the same closed form, so 1e-12 relative."""
    assert corporate_risk_weight(pd_, lgd, m, s) == pytest.approx(
        rw_by_hand(pd_, lgd, m, s), rel=1e-12
    )


def test_no_1_06_scaling_and_rwa_is_12_5_k_ead() -> None:
    """CRE31.5: RWA = K × 12.5 × EAD (Basel III final dropped Basel II's 1.06)."""
    k = capital_requirement_k(0.01, 0.45, 2.5)
    assert isinstance(k, float)
    assert risk_weighted_assets(1_000_000.0, 0.01, 0.45, 2.5) == pytest.approx(12.5 * k * 1e6)
    assert 12.5 * k == pytest.approx(0.92317, abs=1e-5)  # with 1.06 it would be 0.9786


def test_vectorised_shapes_and_scalar_out() -> None:
    pds = np.array([[0.001, 0.01], [0.05, 0.2]])
    rw = corporate_risk_weight(pds, 0.45, np.array([1.0, 5.0]))
    assert isinstance(rw, np.ndarray)
    assert rw.shape == (2, 2)
    assert rw[0, 1] == pytest.approx(corporate_risk_weight(0.01, 0.45, 5.0))
    assert isinstance(asset_correlation(0.01), float)
    assert isinstance(maturity_adjustment(0.01, 2.5), float)


def test_pd_floor_and_maturity_bounds() -> None:
    """PD below the 0.05% floor (CRE32.4) counts as 0.05%; M is clipped to [1, 5] years."""
    at_floor = corporate_risk_weight(PD_FLOOR_CORPORATE, 0.45, 2.5)
    assert corporate_risk_weight([0.0, 1e-6, 0.0004], 0.45, 2.5) == pytest.approx([at_floor] * 3)
    assert corporate_risk_weight(0.01, 0.45, 0.25) == corporate_risk_weight(0.01, 0.45, 1.0)
    assert corporate_risk_weight(0.01, 0.45, 12.0) == corporate_risk_weight(0.01, 0.45, 5.0)
    assert maturity_adjustment(0.01, 1.0) == pytest.approx(1.0, rel=1e-15)  # one-year horizon
    b = (0.11852 - 0.05478 * np.log(0.01)) ** 2
    assert maturity_adjustment(0.01, 2.5) == pytest.approx(1 / (1 - 1.5 * b), rel=1e-14)


def test_defaulted_exposures() -> None:
    """CRE31.3: K = max(0, LGD − EL_best_estimate); by default EL_BE = LGD, so K = 0."""
    assert capital_requirement_k(1.0, 0.45, 2.5) == 0.0
    k = capital_requirement_k([1.0, 1.0, 1.0], 0.45, 2.5, el_best_estimate=[0.30, 0.45, 0.6])
    assert k == pytest.approx([0.15, 0.0, 0.0])
    # the best estimate is ignored for performing exposures
    assert capital_requirement_k(0.01, 0.45, 2.5, el_best_estimate=0.1) == capital_requirement_k(
        0.01, 0.45, 2.5
    )


def test_expected_loss() -> None:
    """CRE35.2: EL = PD × LGD × EAD, PD floored at 0.05% (CRE32.4) unless asked not to."""
    assert expected_loss(0.02, 0.45, 1e6) == pytest.approx(9_000.0)
    assert expected_loss(0.0, 0.45, 1e6) == pytest.approx(0.0005 * 0.45 * 1e6)
    assert expected_loss(0.0, 0.45, 1e6, pd_floor=None) == 0.0
    assert expected_loss([1.0, 0.1], [0.4, 0.5], [100.0, 200.0]) == pytest.approx([40.0, 10.0])


# --------------------------------------------------------------------------- SME adjustment


def test_sme_adjustment_lowers_rw_and_vanishes_at_the_upper_bound() -> None:
    """CRE31.6: −0.04 × (1 − (S − 5)/45) on the correlation; S < 5 counts as 5; none at or
    above EUR 50m."""
    base = corporate_risk_weight(0.01, 0.45, 2.5)
    s = np.array([0.0, 5.0, 20.0, 49.9, 50.0, 500.0])
    rw = corporate_risk_weight(0.01, 0.45, 2.5, s)
    assert np.all(rw[:4] < base)
    assert rw[0] == rw[1]  # below the lower bound counts as the lower bound
    assert np.all(np.diff(rw[1:4]) > 0)  # the relief shrinks as sales grow
    assert rw[4] == base and rw[5] == base
    r = asset_correlation([0.01, 0.01], [5.0, np.nan])
    assert r[0] == pytest.approx(asset_correlation(0.01) - 0.04)
    assert r[1] == asset_correlation(0.01)  # NaN sales: unknown, no relief


def test_chinese_bounds_are_one_band_in_three_units() -> None:
    """附件5 中小企业: S in 千万元 between 3 and 30 (RMB 30m–300m). Revenue of RMB 120m is
    12 千万, 120 百万 or 1.2 亿: the three constants give the same risk weight."""
    in_10m = corporate_risk_weight(0.02, 0.45, 2.5, 12.0, sme_bounds=CN_SME_BOUNDS_10M_YUAN)
    in_1m = corporate_risk_weight(0.02, 0.45, 2.5, 120.0, sme_bounds=CN_SME_BOUNDS_MILLION_YUAN)
    in_100m = corporate_risk_weight(0.02, 0.45, 2.5, 1.2, sme_bounds=CN_SME_BOUNDS_100M_YUAN)
    assert in_10m == pytest.approx(in_1m, rel=1e-14)
    assert in_10m == pytest.approx(in_100m, rel=1e-14)
    # −0.04 × (1 − (12 − 3)/27) on the correlation
    r = asset_correlation(0.02, 12.0, sme_bounds=CN_SME_BOUNDS_10M_YUAN)
    assert r == pytest.approx(asset_correlation(0.02) - 0.04 * (1 - 9 / 27), rel=1e-14)
    assert BASEL_SME_BOUNDS_EUR_MILLION == (5.0, 50.0)


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(
    st.floats(PD_FLOOR_CORPORATE, 0.25),
    st.floats(PD_FLOOR_CORPORATE, 0.25),
    st.floats(0.01, 1.0),
    st.floats(1.0, 5.0),
    sales,
)
def test_rw_rises_with_pd_below_its_peak(
    p1: float, p2: float, lgd: float, m: float, s: float | None
) -> None:
    """K peaks near PD ≈ 0.27–0.34 (lowest, 0.275, at M = 5 and no SME relief), so below
    PD = 0.25 the risk weight rises with PD for every LGD, M and S."""
    lo, hi = sorted((p1, p2))
    assert corporate_risk_weight(lo, lgd, m, s) <= corporate_risk_weight(hi, lgd, m, s) * (
        1 + 1e-12
    )


@PROPERTY
@given(st.floats(0.4, 0.9999), st.floats(0.4, 0.9999), st.floats(0.01, 1.0), st.floats(1.0, 5.0))
def test_rw_falls_with_pd_above_its_peak(p1: float, p2: float, lgd: float, m: float) -> None:
    """Unexpected loss LGD (N(·) − PD) vanishes as default becomes certain: beyond the peak
    (all below PD = 0.35) the risk weight falls with PD. It is not monotone overall."""
    lo, hi = sorted((p1, p2))
    assert corporate_risk_weight(lo, lgd, m) >= corporate_risk_weight(hi, lgd, m) * (1 - 1e-12)


@PROPERTY
@given(st.floats(0.0, 0.9999), unit, st.floats(0.0, 1.0), maturity, sales)
def test_rw_linear_in_lgd(pd_: float, lgd: float, scale: float, m: float, s: float | None) -> None:
    """For performing exposures K = LGD × (N(·) − PD) × MA: linear in LGD."""
    rw_one = corporate_risk_weight(pd_, 1.0, m, s)
    assert corporate_risk_weight(pd_, lgd * scale, m, s) == pytest.approx(
        lgd * scale * rw_one, rel=1e-12, abs=1e-15
    )


@PROPERTY
@given(st.floats(0.0, 0.9999), st.floats(0.01, 1.0), maturity, maturity, sales)
def test_rw_rises_with_maturity(
    pd_: float, lgd: float, m1: float, m2: float, s: float | None
) -> None:
    """b(PD) > 0, so the maturity adjustment (1 + (M − 2.5) b)/(1 − 1.5 b) rises with M
    (flat outside [1, 5])."""
    lo, hi = sorted((m1, m2))
    assert corporate_risk_weight(pd_, lgd, lo, s) <= corporate_risk_weight(pd_, lgd, hi, s) * (
        1 + 1e-12
    )


@PROPERTY
@given(unit, unit, st.floats(0.0, 1e6), st.one_of(st.none(), st.floats(0.0, 1e12)), unit)
def test_finite_and_nonnegative_on_extreme_inputs(
    pd_: float, lgd: float, m: float, s: float | None, elbe: float
) -> None:
    rw = corporate_risk_weight(pd_, lgd, m, s, el_best_estimate=elbe)
    assert np.isfinite(rw) and rw >= 0.0
    assert rw <= 12.5  # K ≤ 1: at LGD = 1 and M = 5 the peak risk weight is about 6.0
    assert 0.08 - 1e-15 <= asset_correlation(pd_, s) <= 0.24 + 1e-15  # rounding at PD = 1


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"pd": -0.01}, "pd"),
        ({"pd": 1.01}, "pd"),
        ({"pd": np.nan}, "pd"),
        ({"lgd": 1.2}, "lgd"),
        ({"lgd": np.nan}, "lgd"),
        ({"lgd": -0.1}, "lgd"),
        ({"maturity_years": -1.0}, "maturity_years"),
        ({"maturity_years": np.inf}, "maturity_years"),
        ({"sales_million": -5.0}, "sales_million"),
        ({"pd": "high"}, "pd"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"pd": 0.01, "lgd": 0.45, "maturity_years": 2.5} | kwargs
    with pytest.raises(DataContractError, match=rf"^{name} "):
        corporate_risk_weight(**args)  # type: ignore[arg-type]


def test_bad_parameters() -> None:
    with pytest.raises(DataContractError, match="sme_bounds"):
        corporate_risk_weight(0.01, 0.45, 2.5, 10.0, sme_bounds=(50.0, 5.0))
    with pytest.raises(DataContractError, match="pd_floor"):
        corporate_risk_weight(0.01, 0.45, 2.5, pd_floor=0.0)
    with pytest.raises(DataContractError, match="el_best_estimate"):
        corporate_risk_weight(1.0, 0.45, 2.5, el_best_estimate=1.5)
    with pytest.raises(DataContractError, match="ead_yuan"):
        risk_weighted_assets(-1.0, 0.01, 0.45, 2.5)


# --------------------------------------------------------------------------- standardised


def test_default_standardised_table() -> None:
    """《商业银行资本管理办法》(2023) 权重法: 一般公司 100%, 投资级公司 75%, 中小企业 85%,
    小微企业 75%, 项目融资 130% / 100% / 80% (operational phase, high quality)."""
    expected = {
        "general_corporate": 1.00,
        "investment_grade_corporate": 0.75,
        "sme_corporate": 0.85,
        "small_micro_corporate": 0.75,
        "project_finance_pre_operational": 1.30,
        "project_finance_operational": 1.00,
        "project_finance_high_quality_operational": 0.80,
    }
    rw = standardised_risk_weight(list(expected))
    assert rw == pytest.approx(list(expected.values()))
    assert standardised_risk_weight("sme_corporate") == 0.85
    table = load_standardised_risk_weights()
    assert all(entry.source for entry in table.risk_weights.values())


def test_unknown_exposure_class_lists_valid_codes() -> None:
    with pytest.raises(DataContractError, match=r"retail_mortgage.*general_corporate"):
        standardised_risk_weight(["general_corporate", "retail_mortgage"])


def test_standardised_table_override(tmp_path: Path) -> None:
    path = tmp_path / "rw.yaml"
    path.write_text(
        "version: 1\nrisk_weights:\n  general_corporate:\n    risk_weight: 1.5\n"
        "    label_zh: 一般公司\n    source: stress test\n",
        encoding="utf-8",
    )
    assert standardised_risk_weight("general_corporate", path) == 1.5
    mapping = {
        "version": 1,
        "risk_weights": {"x": {"risk_weight": 0.2, "label_zh": "x", "source": "s"}},
    }
    assert standardised_risk_weight("x", mapping) == 0.2
    table = StandardisedRiskWeights.model_validate(mapping)
    assert standardised_risk_weight(["x", "x"], table) == pytest.approx([0.2, 0.2])


def test_malformed_standardised_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rw.yaml"
    path.write_text(
        "version: 1\nrisk_weights:\n  general_corporate:\n    risk_weight: -1\n"
        "    label_zh: 一般公司\n    source: s\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"risk_weights\.general_corporate\.risk_weight"):
        standardised_risk_weight("general_corporate", path)
    path.write_text("version: 1\nrisk_weights: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_standardised_risk_weights(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_standardised_risk_weights(tmp_path / "missing.yaml")
