"""Migration matrices and PD term structures: hand cases, a continuous-time chain the duration
estimator must recover, and the synthetic bank whose true one-year matrix the cohort estimator
must recover (``lendvalue.sample.params.MIGRATION_MATRIX``, also in truth.json)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import linalg

from lendvalue.errors import DataContractError, NotFittedError
from lendvalue.models.credit.migration import (
    GRADE_CODES,
    CohortMigration,
    DurationMigration,
    PDTermStructure,
    cohort_transitions,
    customer_pd_term_structure,
    duration_counts,
    generator_from_matrix,
    pd_term_structure,
)
from lendvalue.sample import generate_sample
from lendvalue.sample.params import MIGRATION_MATRIX
from lendvalue.warehouse.ratings import rating_history

TRUTH = np.array(MIGRATION_MATRIX)
K = len(GRADE_CODES)
D = K - 1


def frame(rows: list[tuple[str, str, str]], **extra: Any) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["customer_id", "rating_date", "grade"])
    for name, values in extra.items():
        out[name] = values
    return out


# ---------------------------------------------------------------------------------------------
# The synthetic bank, read through the warehouse query
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("migration")
    summary = generate_sample(folder, customers=20_000, seed=7, fmt="parquet")
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    con = duckdb.connect()
    for table in ("ratings", "credit_events", "relationships", "repayments", "facilities"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{folder / table}.parquet'")
    history = rating_history(con, truth["as_of"])
    con.close()
    return history, truth


def test_truth_json_carries_the_same_matrix(bank: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    _, truth = bank
    np.testing.assert_array_equal(np.array(truth["credit"]["migration_matrix"]), TRUTH)
    assert truth["credit"]["grade_order"] == list(GRADE_CODES)


def test_warehouse_history_ends_at_the_first_default(
    bank: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    history, truth = bank
    as_of = pd.Timestamp(truth["as_of"])
    assert (history["rating_date"] <= as_of).all()
    assert (history["observed_until"] <= as_of).all()
    last = history.groupby("customer_id").tail(1)
    d_rows = history[history["grade"] == "D"]
    assert d_rows["customer_id"].is_unique
    assert d_rows.index.isin(last.index).all()  # D is the last row of its customer
    # customers whose default predates their rating window get their D from credit_events
    assert (d_rows["source"] == "default_record").sum() > 0


def test_cohort_recovers_the_true_matrix(bank: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    """Jafry & Schuermann (2004) cohort estimator against the generator's true matrix.

    Every entry within 3.5 standard errors. The standard error is the multinomial one at the
    TRUE probability, sqrt(P(1-P)/N_i): the estimated one is 0 for transitions never observed.
    With 56 performing entries a 3.5-SE band is crossed by chance with probability about
    56 x 4.7e-4 = 2.6% (normal approximation; the seed is fixed, so the test is deterministic).
    Measured on seed 7: max |z| = 2.14 (2.63 with the estimated standard errors). The small
    bias left by withdrawal (a customer who leaves mid-year is dropped, yet its default is
    counted when it defaults before leaving) is about 0.5% of the PD, far inside the band.
    """
    history, truth = bank
    model = CohortMigration().fit(history, as_of=truth["as_of"])
    p = model.matrix_.to_numpy()
    n_i = model.n_obs_.to_numpy()[:-1, None]
    assert (n_i > 1500).all()
    se = np.sqrt(TRUTH[:-1] * (1 - TRUTH[:-1]) / n_i)
    z = (p[:-1] - TRUTH[:-1]) / se
    assert np.abs(z).max() < 3.5, np.round(z, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(p[-1], np.eye(K)[-1])
    assert (model.counts_.to_numpy().sum(axis=1)[:-1] == model.n_obs_.to_numpy()[:-1]).all()
    assert (model.withdrawn_.to_numpy()[:-1] > 0).all()


def test_duration_estimator_on_annual_reviews(bank: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    """Lando & Skødeberg (2002) duration estimator on a bank that reviews ratings once a year.

    What is true here: a non-default jump from grade i can only happen at a review, and the
    review years that ran to their end number F_i; defaults fall uniformly inside the year. So
    the estimator converges to

        Lambda*_ij = P_ij F_i / R_i  (j != i, D),   Lambda*_iD = P_iD (1 + P_iD F_i / (2 R_i))

    (R_i: years at risk; the default intensity counts defaults in complete and in censored
    years, whose exposure is R_i + P_iD F_i / 2 up to O(P_iD L^2)), with F_i = (non-default
    consecutive reviews from i) / (1 - P_iD). The estimate must match Lambda* within 3.5 Poisson
    standard errors sqrt(Lambda*_ij / R_i) (Albert 1962) — measured max |z| = 2.14 —
    and its one-year matrix expm(Lambda-hat) then differs from the true matrix by the
    systematic gap expm(Lambda*) - P, which is up to 0.05 (CCC staying CCC; the censored last
    spells dilute the off-diagonal rates and expm adds multi-step paths). The PD column, which
    the term structures use, stays within 0.015 of the truth (measured 0.009).
    """
    history, truth = bank
    model = DurationMigration().fit(history, as_of=truth["as_of"])
    gen = model.generator_.to_numpy()
    off = ~np.eye(K, dtype=bool)
    assert (gen[off] >= 0).all()
    np.testing.assert_allclose(gen.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_array_equal(gen[-1], 0.0)
    one_year = model.matrix().to_numpy()
    np.testing.assert_allclose(one_year.sum(axis=1), 1.0, atol=1e-12)

    nxt = history.groupby("customer_id")["grade"].shift(-1)
    from_grade = history["grade"][(history["grade"] != "D") & nxt.notna() & (nxt != "D")]
    cycles = from_grade.value_counts().reindex(GRADE_CODES, fill_value=0).to_numpy()[:-1]
    r = model.exposure_years_.to_numpy()[:-1]
    p_d = TRUTH[:-1, -1]
    full_years = cycles / (1.0 - p_d)
    limit = TRUTH[:-1] * (full_years / r)[:, None]
    limit[:, -1] = p_d * (1.0 + p_d * full_years / (2.0 * r))
    rows = np.arange(K - 1)
    limit[rows, rows] = 0.0
    est = gen[:-1].copy()
    est[rows, rows] = 0.0
    z = (est - limit) / np.sqrt(np.where(limit > 0, limit, np.nan) / r[:, None])
    assert np.nanmax(np.abs(z)) < 3.5, np.round(z, 2)

    assert np.abs(one_year - TRUTH).max() < 0.06
    assert np.abs(one_year[:-1, -1] - TRUTH[:-1, -1]).max() < 0.015
    assert (np.diag(one_year)[:-1] > np.diag(TRUTH)[:-1]).all()  # dilution by censored spells
    se = model.matrix_se().to_numpy()
    assert (se >= 0).all() and se[-1].max() == 0.0


def test_term_structures_on_the_bank(bank: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    history, truth = bank
    cohort = CohortMigration().fit(history, as_of=truth["as_of"])
    duration = DurationMigration().fit(history, as_of=truth["as_of"])
    for source in (cohort, duration):
        ts = source.pd_term_structure(120)
        assert ts.index == GRADE_CODES[:-1]
        check_term_structure(ts)
        assert (np.diff(ts.at(120)) > 0).all()  # worse grades default more
    # the estimated matrix is not exactly embeddable (its logarithm has one negative
    # off-diagonal entry, -6.5e-4); the IRW regularisation moves expm(root) from it by at most
    # 5.9e-4 and its one-year PDs by 7e-6 — tolerance 1e-3
    one_year = pd_term_structure(cohort, 12).at(12)
    np.testing.assert_allclose(one_year, cohort.matrix_.to_numpy()[:-1, -1], atol=1e-3)
    root = generator_from_matrix(cohort.matrix_.to_numpy())
    assert np.abs(linalg.expm(root) - cohort.matrix_.to_numpy()).max() < 1e-3


# ---------------------------------------------------------------------------------------------
# A continuous-time chain: the duration estimator's own assumptions hold
# ---------------------------------------------------------------------------------------------


def simulate_ctmc(
    generator: np.ndarray, customers: int, years: float, seed: int
) -> tuple[pd.DataFrame, str]:
    """Ratings of customers following the chain exactly (a rating at every jump)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2015-01-01")
    grade = rng.integers(0, K - 1, customers)
    t = np.zeros(customers)
    rows_c, rows_t, rows_g = [np.arange(customers)], [t.copy()], [grade.copy()]
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        rate = -generator[grade, grade]
        alive &= rate > 0
        t = np.where(alive, t + rng.exponential(1.0 / np.where(rate > 0, rate, 1.0)), t)
        alive &= t < years
        probs = (
            np.where((np.arange(K)[None, :] != grade[:, None]), generator[grade], 0.0)
            / np.where(rate > 0, rate, 1.0)[:, None]
        )
        u = rng.random(customers)
        nxt = np.minimum((u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1), K - 1)
        grade = np.where(alive, nxt, grade)
        rows_c.append(np.flatnonzero(alive))
        rows_t.append(t[alive])
        rows_g.append(grade[alive])
    cust = np.concatenate(rows_c)
    day = start + np.floor(np.concatenate(rows_t) * 365.25).astype("timedelta64[D]")
    out = pd.DataFrame(
        {
            "customer_id": cust,
            "rating_date": day,
            "grade": np.asarray(GRADE_CODES)[np.concatenate(rows_g)],
        }
    ).drop_duplicates(["customer_id", "rating_date"], keep="last")
    as_of = str(start + np.timedelta64(int(years * 365.25), "D"))
    return out, as_of


def test_duration_recovers_a_continuous_time_generator() -> None:
    """Lando & Skødeberg (2002) on data from a continuous-time chain with the regularised root
    of the true matrix as generator: each rate within 4 Poisson standard errors
    sqrt(Lambda_ij / R_i) where at least 10 jumps are expected (42 entries: a 4-SE band is
    crossed by chance with probability about 0.3%; measured max |z| = 2.36), and the one-year
    matrix within 4 delta-method standard errors of expm(Lambda) (measured 2.38)."""
    true_gen = generator_from_matrix(TRUTH)
    history, as_of = simulate_ctmc(true_gen, customers=20_000, years=6.0, seed=11)
    model = DurationMigration().fit(history, as_of=as_of)
    r = model.exposure_years_.to_numpy()[:-1]
    est, truth = model.generator_.to_numpy()[:-1], true_gen[:-1]
    off = ~np.eye(K, dtype=bool)[:-1]
    enough = off & (truth * r[:, None] >= 10)
    assert enough.sum() >= 35
    z = (est - truth)[enough] / np.sqrt(
        truth[enough] / np.broadcast_to(r[:, None], truth.shape)[enough]
    )
    assert np.abs(z).max() < 4.0, np.round(z, 2)

    truth_model = DurationMigration()
    truth_model.generator_ = pd.DataFrame(true_gen, index=GRADE_CODES, columns=GRADE_CODES)
    truth_model.exposure_years_ = model.exposure_years_
    se = truth_model.matrix_se().to_numpy()
    diff = model.matrix().to_numpy() - linalg.expm(true_gen)
    mask = se > 1e-4
    assert np.abs(diff[mask] / se[mask]).max() < 4.0


# ---------------------------------------------------------------------------------------------
# Hand cases
# ---------------------------------------------------------------------------------------------


def test_cohort_windows_by_hand() -> None:
    rows = [
        ("c1", "2020-03-01", "BBB"),  # reviewed a year later as BB
        ("c1", "2021-03-01", "BB"),  # defaults within the year
        ("c1", "2021-09-15", "D"),
        ("c2", "2020-02-29", "A"),  # anniversary on 28 Feb, review a day later: grace
        ("c2", "2021-02-28", "A"),
        ("c2", "2022-02-28", "A"),
        ("c2", "2023-02-28", "AA"),
        ("c2", "2024-02-29", "AA"),
        ("c3", "2020-01-10", "B"),  # leaves before its next review: withdrawn
        ("c4", "2020-05-01", "CCC"),  # defaults 10 days after its window: not a CCC default
        ("c4", "2021-05-11", "D"),
        ("c5", "2024-01-01", "AAA"),  # window still open at as_of
    ]
    observed_until = [None] * 8 + ["2020-06-30", None, None, None]
    pairs = cohort_transitions(
        frame(rows, observed_until=observed_until), as_of="2024-06-30", grace_days=31
    )
    got = {
        (r.customer_id, r.rating_date.date().isoformat()): (
            None if pd.isna(r.to_grade) else r.to_grade,
            r.outcome,
        )
        for r in pairs.itertuples()
    }
    assert got == {
        ("c1", "2020-03-01"): ("BB", "observed"),
        ("c1", "2021-03-01"): ("D", "observed"),
        ("c2", "2020-02-29"): ("A", "observed"),
        ("c2", "2021-02-28"): ("A", "observed"),
        ("c2", "2022-02-28"): ("AA", "observed"),
        ("c2", "2023-02-28"): ("AA", "observed"),  # 2024-02-29 is one day after 2024-02-28
        ("c2", "2024-02-29"): (None, "open"),
        ("c3", "2020-01-10"): (None, "withdrawn"),
        ("c4", "2020-05-01"): ("CCC", "observed"),
        ("c5", "2024-01-01"): (None, "open"),
    }
    model = CohortMigration().fit(frame(rows, observed_until=observed_until), as_of="2024-06-30")
    assert model.counts_.loc["BB", "D"] == 1 and model.withdrawn_["B"] == 1
    assert model.n_obs_["AAA"] == 0 and model.matrix_.loc["AAA"].isna().all()


def test_without_grace_a_late_review_is_no_change() -> None:
    rows = [("c", "2023-02-28", "A"), ("c", "2024-02-29", "BBB")]
    pairs = cohort_transitions(frame(rows), as_of="2024-12-31", grace_days=0)
    assert pairs["to_grade"].iloc[0] == "A"
    pairs = cohort_transitions(frame(rows), as_of="2024-12-31", grace_days=1)
    assert pairs["to_grade"].iloc[0] == "BBB"


def test_duration_counts_by_hand() -> None:
    rows = [
        ("c1", "2020-01-01", "BBB"),
        ("c1", "2021-01-01", "BBB"),  # reaffirmed: no jump
        ("c1", "2022-01-01", "BB"),
        ("c1", "2022-07-02", "D"),
        ("c1", "2023-01-01", "B"),  # after default: ignored (D absorbing)
        ("c2", "2020-01-01", "A"),  # left on 2020-07-01: censored
    ]
    counts, exposure = duration_counts(
        frame(rows, observed_until=[None] * 5 + ["2020-07-01"]), as_of="2024-01-01"
    )
    expect = np.zeros((K, K), dtype=np.int64)
    expect[3, 4] = expect[4, 7] = 1
    np.testing.assert_array_equal(counts, expect)
    assert exposure[3] == pytest.approx(731 / 365.25)  # 2020-01-01 .. 2022-01-01
    assert exposure[4] == pytest.approx(182 / 365.25)
    assert exposure[2] == pytest.approx(182 / 365.25)
    assert exposure[5] == 0.0


def test_input_errors() -> None:
    with pytest.raises(DataContractError, match="lacks columns"):
        CohortMigration().fit(pd.DataFrame({"customer_id": ["a"]}), as_of="2024-01-01")
    with pytest.raises(DataContractError, match=r"\['BBB\+'\] are not on the scale"):
        DurationMigration().fit(frame([("a", "2020-01-01", "BBB+")]), as_of="2024-01-01")
    with pytest.raises(DataContractError, match="two ratings of one customer on one day"):
        DurationMigration().fit(
            frame([("a", "2020-01-01", "A"), ("a", "2020-01-01", "AA")]), as_of="2024-01-01"
        )
    with pytest.raises(NotFittedError):
        DurationMigration().matrix()
    with pytest.raises(NotFittedError):
        CohortMigration().pd_term_structure(12)
    with pytest.raises(DataContractError, match="no observations"):
        DurationMigration().fit(frame([("a", "2020-01-01", "A")]), as_of="2024-01-01").matrix()


def test_generator_from_matrix_and_absorbing_default() -> None:
    gen = generator_from_matrix(TRUTH)
    off = ~np.eye(K, dtype=bool)
    assert (gen[off] >= 0).all()
    np.testing.assert_allclose(gen.sum(axis=1), 0.0, atol=1e-12)
    # the true matrix is embeddable (log P has no negative off-diagonal entry): the root is exact
    assert np.abs(linalg.expm(gen) - TRUTH).max() < 1e-12
    p = linalg.expm(gen * 7.5)
    np.testing.assert_allclose(p[-1], np.eye(K)[-1], atol=1e-15)
    half_year = generator_from_matrix(linalg.expm(gen / 2), period_months=6)
    np.testing.assert_allclose(half_year, gen, atol=1e-9)
    not_absorbing = TRUTH.copy()
    not_absorbing[-1] = [0.1] + [0.0] * (K - 2) + [0.9]
    with pytest.raises(DataContractError, match="absorbing"):
        generator_from_matrix(not_absorbing)
    with pytest.raises(DataContractError, match="rows sum to 0"):
        pd_term_structure(np.full((K, K), 0.5), 12)


# ---------------------------------------------------------------------------------------------
# Term structures
# ---------------------------------------------------------------------------------------------


def check_term_structure(ts: PDTermStructure) -> None:
    cum, marg, cond = ts.cumulative, ts.marginal, ts.conditional
    assert ((cum >= 0) & (cum <= 1)).all()
    assert (np.diff(cum, axis=1) >= 0).all()
    np.testing.assert_allclose(marg.cumsum(axis=1), cum, atol=1e-12)
    assert ((cond >= 0) & (cond <= 1 + 1e-12)).all()
    long = ts.to_frame()
    assert len(long) == cum.size
    assert list(long.columns) == ["id", "month", "cumulative_pd", "marginal_pd", "conditional_pd"]


def test_term_structure_from_a_generator_matches_expm() -> None:
    gen = generator_from_matrix(TRUTH)
    ts = pd_term_structure(gen, 60)
    for m in (1, 12, 37, 60):
        np.testing.assert_allclose(ts.at(m), linalg.expm(gen * m / 12)[:-1, -1], rtol=1e-10)
    # from the annual matrix directly: the same generator
    np.testing.assert_allclose(pd_term_structure(TRUTH, 60).cumulative, ts.cumulative)
    frame_input = pd.DataFrame(TRUTH, index=GRADE_CODES, columns=GRADE_CODES)
    np.testing.assert_allclose(pd_term_structure(frame_input, 60).cumulative, ts.cumulative)


def test_customer_structure_hits_its_one_year_pd() -> None:
    grades = pd_term_structure(TRUTH, 120)
    pd_1y = np.array([0.0, 0.0004, 0.02, 0.02, 0.35, 1.0])
    grade = np.array(["AAA", "AA", "BBB", "B", "CCC", "BB"])
    ts = customer_pd_term_structure(pd_1y, grade, grades, index=list("abcdef"))
    assert ts.index == tuple("abcdef")
    np.testing.assert_array_equal(ts.at(12), pd_1y)  # exactly
    check_term_structure(ts)
    np.testing.assert_array_equal(ts.cumulative[0], 0.0)
    np.testing.assert_array_equal(ts.cumulative[-1], 1.0)
    # the same one-year PD takes its grade's shape: a BBB obligor's hazard rises with time (it
    # can only migrate down), a B obligor's less so, so by 10 years BBB has caught up further
    assert ts.at(120)[2] > ts.at(120)[3]
    # a customer at its grade's own PD gets the grade's curve
    own = customer_pd_term_structure([grades.at(12)[3]], ["BBB"], grades)
    np.testing.assert_allclose(own.cumulative[0], grades.cumulative[3], rtol=1e-12)


def test_customer_structure_errors() -> None:
    grades = pd_term_structure(TRUTH, 6)
    with pytest.raises(DataContractError, match="anchor month 12"):
        customer_pd_term_structure([0.01], ["A"], grades)
    grades = pd_term_structure(TRUTH, 24)
    with pytest.raises(DataContractError, match="no PD curve"):
        customer_pd_term_structure([0.01], ["D"], grades)
    with pytest.raises(DataContractError, match="outside"):
        customer_pd_term_structure([1.2], ["A"], grades)


def test_a_grade_without_default_risk_gets_a_flat_hazard() -> None:
    gen = np.zeros((3, 3))
    gen[1, 2] = 0.1
    gen[1, 1] = -0.1
    grades = pd_term_structure(gen, 24, grades=["X", "Y", "D"])
    ts = customer_pd_term_structure([0.1], ["X"], grades)
    months = np.arange(1, 25)
    np.testing.assert_allclose(ts.cumulative[0], 1 - 0.9 ** (months / 12), rtol=1e-12)


# --- hypothesis ------------------------------------------------------------------------------


@st.composite
def generators(draw: st.DrawFn) -> np.ndarray:
    k = draw(st.integers(3, 8))
    rates = draw(hnp.arrays(np.float64, (k, k), elements=st.floats(0.0, 2.0)))
    rates[-1] = 0.0
    np.fill_diagonal(rates, 0.0)
    np.fill_diagonal(rates, -rates.sum(axis=1))
    return rates


@settings(max_examples=40, deadline=None)
@given(generators(), st.integers(1, 60))
def test_term_structure_properties(gen: np.ndarray, horizon_months: int) -> None:
    codes = [f"G{i}" for i in range(gen.shape[0])]
    ts = pd_term_structure(gen, horizon_months, grades=codes)
    check_term_structure(ts)
    p = linalg.expm(gen * horizon_months / 12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(p[-1], np.eye(len(codes))[-1], atol=1e-12)  # D absorbing
    np.testing.assert_allclose(ts.at(horizon_months), p[:-1, -1], atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, 20, elements=st.floats(0.0, 1.0)),
    hnp.arrays(np.int64, 20, elements=st.integers(0, K - 2)),
)
def test_customer_structure_properties(pd_1y: np.ndarray, grade_idx: np.ndarray) -> None:
    grades = pd_term_structure(TRUTH, 36)
    codes = np.asarray(GRADE_CODES)[grade_idx]
    ts = customer_pd_term_structure(pd_1y, codes, grades)
    np.testing.assert_array_equal(ts.at(12), pd_1y)
    check_term_structure(ts)
    higher = customer_pd_term_structure(np.minimum(pd_1y + 0.01, 1.0), codes, grades)
    assert (higher.cumulative >= ts.cumulative - 1e-15).all()  # monotone in the one-year PD


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, (6, 6), elements=st.floats(0.0, 1.0)), st.floats(0.6, 0.98))
def test_regularised_root_is_a_generator(noise: np.ndarray, stay: float) -> None:
    p = np.where(noise < 1e-6, 0.0, noise)
    np.fill_diagonal(p, 0.0)
    p = (1 - stay) * p / np.maximum(p.sum(axis=1, keepdims=True), 1e-6)
    empty = p.sum(axis=1) == 0
    p[empty, -1] = 1 - stay
    np.fill_diagonal(p, stay)
    p[-1] = np.eye(6)[-1]
    gen = generator_from_matrix(p)
    off = ~np.eye(6, dtype=bool)
    assert (gen[off] >= 0).all()
    np.testing.assert_allclose(gen.sum(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(linalg.expm(gen).sum(axis=1), 1.0, atol=1e-10)


def test_as_of_accepts_dates() -> None:
    rows = [("c", "2020-01-01", "A"), ("c", "2021-01-01", "BBB")]
    a = CohortMigration().fit(frame(rows), as_of=dt.date(2022, 1, 1)).counts_
    b = CohortMigration().fit(frame(rows), as_of="2022-01-01").counts_
    pd.testing.assert_frame_equal(a, b)


def test_rating_history_by_hand() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE ratings AS SELECT * FROM (VALUES
            ('c1', DATE '2020-01-01', 'BBB', 'internal'),
            ('c1', DATE '2021-01-01', 'BB', NULL),
            ('c1', DATE '2021-08-01', 'D', 'internal'),   -- recorded after the default event
            ('c1', DATE '2022-01-01', 'B', 'override'),   -- after default: dropped
            ('c2', DATE '2020-03-01', 'A', 'external'),
            ('c2', DATE '2024-03-01', 'A', 'internal'),   -- after as_of: dropped
            ('c3', DATE '2020-01-01', 'AA', 'internal')
        ) t(customer_id, rating_date, grade, source)"""
    )
    con.execute(
        """CREATE TABLE credit_events AS SELECT * FROM (VALUES
            ('c1', DATE '2021-06-15', 'default', 'F1', 1.0, NULL),
            ('c3', DATE '2021-06-15', 'lawsuit', NULL, NULL, NULL)
        ) t(customer_id, event_date, event, facility_id, amount, detail)"""
    )
    # c3 is 120 days late on an installment due 2023-03-01: more than 90 days past due from
    # 2023-05-31, a default (CRE36.69) though no event or rating says so
    con.execute(
        """CREATE TABLE facilities AS SELECT * FROM (VALUES ('F1', 'c1'), ('F3', 'c3'))
           t(facility_id, customer_id)"""
    )
    con.execute(
        """CREATE TABLE repayments AS SELECT * FROM (VALUES
            ('F3', DATE '2022-03-01', 0), ('F3', DATE '2023-03-01', 120)
        ) t(facility_id, due_date, days_past_due)"""
    )
    con.execute(
        """CREATE TABLE relationships AS SELECT * FROM (VALUES
            ('c1', DATE '2015-01-01', DATE '2023-01-01', 'default'),
            ('c2', DATE '2015-01-01', DATE '2022-05-01', 'moved_bank'),
            ('c3', DATE '2015-01-01', NULL, NULL)
        ) t(customer_id, start_date, end_date, end_reason)"""
    )
    got = rating_history(con, "2023-12-31")
    got["rating_date"] = got["rating_date"].dt.date.astype(str)
    got["observed_until"] = got["observed_until"].dt.date.astype(str)
    assert got.to_dict("records") == [
        {"customer_id": "c1", "rating_date": "2020-01-01", "grade": "BBB", "source": "internal",
         "observed_until": "2023-01-01"},
        {"customer_id": "c1", "rating_date": "2021-01-01", "grade": "BB", "source": "internal",
         "observed_until": "2023-01-01"},
        {"customer_id": "c1", "rating_date": "2021-06-15", "grade": "D",
         "source": "default_record", "observed_until": "2023-01-01"},
        {"customer_id": "c2", "rating_date": "2020-03-01", "grade": "A", "source": "external",
         "observed_until": "2022-05-01"},
        {"customer_id": "c3", "rating_date": "2020-01-01", "grade": "AA", "source": "internal",
         "observed_until": "2023-12-31"},
        {"customer_id": "c3", "rating_date": "2023-05-31", "grade": "D",
         "source": "default_record", "observed_until": "2023-12-31"},
    ]  # fmt: skip
    ratings_only = rating_history(con, "2023-12-31", default_events=False)
    c1 = ratings_only[ratings_only["customer_id"] == "c1"]
    assert c1["grade"].tolist() == ["BBB", "BB", "D"]
    assert c1["source"].tolist()[-1] == "internal"
    con.execute("DROP TABLE relationships")
    with pytest.raises(DataContractError, match=r"rating_history.*relationships"):
        rating_history(con, "2023-12-31")
