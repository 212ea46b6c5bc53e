"""PD validation measures against their definitions computed the slow way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lendvalue.errors import DataContractError
from lendvalue.models.credit.validation import (
    auc,
    brier,
    calibration_by_grade,
    gini,
    jeffreys_p_value,
    ks,
    psi,
    validation_report,
)

samples = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 6).map(float)), min_size=2, max_size=40
).filter(lambda rows: 0 < sum(r[0] for r in rows) < len(rows))


@settings(max_examples=150, deadline=None)
@given(samples)
def test_auc_is_the_pair_count_and_ks_the_largest_cdf_gap(rows: list[tuple[int, float]]) -> None:
    """AUC = P(score of a defaulter > score of a non-defaulter) + ½ P(tie), over all pairs;
    KS = max over thresholds t of |F_default(t) − F_performing(t)| (tied scores coarse)."""
    y = np.array([r[0] for r in rows], dtype=float)
    s = np.array([r[1] for r in rows])
    bad, good = s[y == 1], s[y == 0]
    pairs = (bad[:, None] > good[None, :]) + 0.5 * (bad[:, None] == good[None, :])
    assert auc(y, s) == pytest.approx(pairs.mean(), abs=1e-12)
    assert gini(y, s) == pytest.approx(2 * pairs.mean() - 1, abs=1e-12)
    gaps = [abs(np.mean(bad <= t) - np.mean(good <= t)) for t in np.unique(s)]
    assert ks(y, s) == pytest.approx(max(gaps), abs=1e-12)


def test_brier_and_report() -> None:
    y = np.array([0, 0, 1, 1.0])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    assert brier(y, p) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    report = validation_report(y, p, grade=["A", "A", "B", "B"], development_pd=p)
    assert report["auc"] == 0.75 and report["defaults"] == 2 and report["psi"] == 0.0
    assert list(report["calibration"].index) == ["A", "B"]


def test_jeffreys_test_against_the_beta_posterior() -> None:
    """ECB (2019) 2.5.3.1: p = Beta(D + ½, N − D + ½).cdf(PD). 20 defaults among 1,000 at a
    PD of 1% is far too many (p ≈ 0.0013); 10 at 1% is consistent."""
    p = jeffreys_p_value([20, 10], [1000, 1000], [0.01, 0.01])
    np.testing.assert_allclose(
        p, [stats.beta.cdf(0.01, 20.5, 980.5), stats.beta.cdf(0.01, 10.5, 990.5)]
    )
    assert p[0] < 0.005 < 0.4 < p[1]
    rng = np.random.default_rng(2)
    grade = np.repeat(["AA", "BBB", "B"], 4000)
    pd_ = np.repeat([0.002, 0.02, 0.08], 4000)
    y = (rng.random(grade.size) < np.repeat([0.002, 0.02, 0.16], 4000)).astype(float)
    table = calibration_by_grade(y, pd_, grade)
    assert table.loc["B", "verdict"] == "too_low"
    assert table.loc["BBB", "verdict"] == "ok" and list(table.index) == ["AA", "BBB", "B"]
    with pytest.raises(DataContractError):
        jeffreys_p_value([5], [3], [0.1])


def test_psi_on_known_shares() -> None:
    """Ten equal bins of the expected sample; the actual sample moves 5% of the mass from the
    lowest bin to the highest: PSI = (0.05 − 0.10) ln(0.05/0.10) + (0.15 − 0.10) ln(0.15/0.10)
    = 0.05 ln 2 + 0.05 ln 1.5 ≈ 0.0549 (the other bins contribute 0)."""
    expected = np.arange(1000) / 1000
    actual = expected.copy()
    actual[:50] = 0.999
    assert psi(expected, actual) == pytest.approx(0.05 * np.log(2) + 0.05 * np.log(1.5), rel=1e-9)
    assert psi(expected, expected) == 0.0


def test_validation_rejects_bad_outcomes() -> None:
    with pytest.raises(DataContractError, match="both defaults"):
        auc([0, 0], [0.1, 0.2])
    with pytest.raises(DataContractError, match="0 \\(performing\\) or 1"):
        ks([0, 2], [0.1, 0.2])
    with pytest.raises(DataContractError, match="\\[0, 1\\]"):
        brier([0, 1], [0.1, 1.2])
