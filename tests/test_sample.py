"""Tests of the synthetic portfolio generator (:mod:`lendvalue.sample`).

The contract checks below re-implement the warehouse's validation semantics independently (in
DuckDB over the files as text), so a sample is checked against the contract itself, not against
the code that wrote it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lendvalue.contract import (
    TABLES,
    Column,
    Table,
    is_valid_industry,
    is_valid_uscc,
    table_rules,
)
from lendvalue.errors import ConfigError
from lendvalue.sample import SampleSummary, generate_sample, params
from lendvalue.sample.portfolio import initial_grades, weibull_cumulative_hazard

AS_OF = dt.date(2025, 6, 30)
SQL_TYPES = {
    "DOUBLE": "DOUBLE",
    "BIGINT": "BIGINT",
    "DATE": "DATE",
    "MONTH": "DATE",
    "TIMESTAMP": "TIMESTAMP",
}

# ---------------------------------------------------------------------------------------------
# An independent contract checker
# ---------------------------------------------------------------------------------------------


def read_text(path: Path) -> pd.DataFrame:
    """A sample file as text, one column per contract column, NULL for empty values, with the
    line number (CSV: physical line, header = 1; Parquet: 1-based row index)."""
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        frame.insert(0, "_line", np.arange(2, len(frame) + 2))
    else:
        table = pq.read_table(path)
        cols = {}
        for name in table.column_names:
            col = table.column(name)
            if pa.types.is_timestamp(col.type):
                col = col.cast(pa.timestamp("s"))
            cols[name] = col.cast(pa.string())
        frame = pa.table(cols).to_pandas()
        frame.insert(0, "_line", np.arange(1, len(frame) + 1))
    return frame.astype(object).where(frame.notna(), None)


def _norm(col: Column) -> str:
    out = f"NULLIF(TRIM(s.\"{col.name}\"), '')"
    if col.enum:
        pairs = {}
        for code in col.enum:
            for alias in (code.code, code.zh, code.en):
                pairs[alias.lower()] = code.code
        whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in pairs.items())
        out = f"CASE lower({out}) {whens} ELSE {out} END"
    if col.default is not None:
        out = f"COALESCE({out}, '{col.default}')"
    return out


def _typed(col: Column, norm: str) -> str:
    if col.dtype == "VARCHAR":
        return norm
    if col.dtype == "BOOLEAN":
        return f"CASE lower({norm}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
    return f"TRY_CAST({norm} AS {SQL_TYPES[col.dtype]})"


def violations(
    table: Table, frame: pd.DataFrame, parents: dict[str, set[str]]
) -> dict[int, set[str]]:
    """Line → the rule ids the row breaks (rows breaking nothing are absent)."""
    con = duckdb.connect()
    con.create_function("uscc_ok", is_valid_uscc, ["VARCHAR"], "BOOLEAN")
    con.create_function("industry_ok", is_valid_industry, ["VARCHAR"], "BOOLEAN")
    con.register("s", frame)
    selects = ["s._line"]
    for col in table.columns:
        norm = _norm(col)
        selects += [f'{norm} AS "n${col.name}"', f'{_typed(col, norm)} AS "{col.name}"']
    con.execute(f"CREATE TABLE t AS SELECT {', '.join(selects)} FROM s")
    found: dict[int, set[str]] = {}

    def mark(rule_id: str, where: str) -> None:
        for (line,) in con.execute(f"SELECT _line FROM t WHERE {where}").fetchall():
            found.setdefault(int(line), set()).add(rule_id)

    today = dt.date.today().isoformat()
    for col in table.columns:
        n, v = f'"n${col.name}"', f'"{col.name}"'
        rid = f"{table.name}.{col.name}"
        if col.required:
            mark(f"{rid}.required", f"{n} IS NULL")
        if col.dtype != "VARCHAR":
            mark(f"{rid}.type", f"{n} IS NOT NULL AND {v} IS NULL")
        if col.enum:
            codes = ", ".join(f"'{c}'" for c in col.enum_codes)
            mark(f"{rid}.enum", f"{v} NOT IN ({codes})")
        if col.min is not None or col.max is not None:
            parts = []
            if col.min is not None:
                parts.append(f"{v} {'<=' if col.min_exclusive else '<'} {col.min!r}")
            if col.max is not None:
                parts.append(f"{v} > {col.max!r}")
            mark(f"{rid}.range", " OR ".join(parts))
        if col.pattern:
            mark(f"{rid}.pattern", f"NOT regexp_full_match({v}, '{col.pattern}')")
        if col.check == "uscc":
            mark(f"{rid}.uscc", f"NOT uscc_ok({v})")
        if col.check == "industry":
            mark(f"{rid}.industry", f"NOT industry_ok({v})")
        if col.not_future:
            limit = (
                f"DATE '{today}'" if col.dtype != "TIMESTAMP" else f"TIMESTAMP '{today} 23:59:59'"
            )
            mark(f"{rid}.not_future", f"{v} > {limit}")
        if col.references:
            known = parents[col.references[0]]
            con.register("known", pd.DataFrame({"k": sorted(known)}, dtype=object))
            mark(f"{rid}.reference", f"{v} IS NOT NULL AND {v} NOT IN (SELECT k FROM known)")
    for rr in table.row_rules:
        mark(f"{table.name}.{rr.name}", f"NOT COALESCE(({rr.condition}), TRUE)")
    key = ", ".join(f'"{k}"' for k in table.key)
    complete = " AND ".join(f'"{k}" IS NOT NULL' for k in table.key if table.column(k).required)
    match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM d."{k}"' for k in table.key)
    mark(
        f"{table.name}.key.unique",
        f"_line IN (SELECT t._line FROM t JOIN (SELECT {key} FROM t WHERE {complete} "
        f"GROUP BY {key} HAVING count(*) > 1) d ON {match})",
    )
    return found


def check_sample(out: Path, fmt: str) -> dict[str, dict[int, set[str]]]:
    """Violations of every table of a sample, references resolved against the good rows of the
    parent tables, as the warehouse loads them."""
    parents: dict[str, set[str]] = {}
    result = {}
    for table in TABLES:
        frame = read_text(out / f"{table.name}.{fmt}")
        bad = violations(table, frame, parents)
        result[table.name] = bad
        if table.name in ("customers", "facilities"):
            good = frame[~frame["_line"].isin(bad)]
            parents[table.name] = set(good[table.key[0]].str.strip())
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def truth_of(summary: SampleSummary) -> dict[str, Any]:
    return json.loads(summary.truth_path.read_text("utf-8"))


# ---------------------------------------------------------------------------------------------
# Fixtures: samples shared by several tests
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(tmp_path_factory.mktemp("clean_csv"), customers=1500, seed=7)


@pytest.fixture(scope="module")
def bad_csv(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(
        tmp_path_factory.mktemp("bad_csv"),
        customers=800,
        seed=3,
        bad_share=0.05,
        chunk_customers=300,
    )


@pytest.fixture(scope="module")
def large_parquet(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(
        tmp_path_factory.mktemp("large"), customers=20_000, seed=11, fmt="parquet"
    )


# ---------------------------------------------------------------------------------------------
# Determinism, files and row counts
# ---------------------------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"customers": 300, "bad_share": 0.05, "chunk_customers": 120}
    a = generate_sample(tmp_path / "a", seed=5, **kwargs)
    b = generate_sample(tmp_path / "b", seed=5, **kwargs)
    c = generate_sample(tmp_path / "c", seed=6, **kwargs)
    for name in a.files:
        assert sha256(a.files[name]) == sha256(b.files[name]), name
    assert sha256(a.truth_path) == sha256(b.truth_path)
    assert sha256(a.files["customers"]) != sha256(c.files["customers"])
    assert sha256(a.files["transactions"]) != sha256(c.files["transactions"])


def test_parquet_is_deterministic(tmp_path: Path) -> None:
    a = generate_sample(tmp_path / "a", customers=200, seed=1, fmt="parquet", bad_share=0.1)
    b = generate_sample(tmp_path / "b", customers=200, seed=1, fmt="parquet", bad_share=0.1)
    for name in a.files:
        assert sha256(a.files[name]) == sha256(b.files[name]), name


def test_files_have_the_contract_columns_and_truth_counts_their_rows(
    clean_csv: SampleSummary,
) -> None:
    truth = truth_of(clean_csv)
    assert set(clean_csv.files) == {t.name for t in TABLES}
    for table in TABLES:
        path = clean_csv.files[table.name]
        assert path.name == f"{table.name}.csv"
        lines = path.read_text("utf-8").splitlines()
        assert lines[0] == ",".join(table.column_names)
        assert len(lines) - 1 == clean_csv.rows[table.name] == truth["rows"][table.name]
        assert clean_csv.rows[table.name] > 0, table.name
    assert truth["bad_rows"] == [] and clean_csv.bad_rows == 0


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fmt"):
        generate_sample(tmp_path, customers=10, fmt="xlsx")
    with pytest.raises(ConfigError, match="bad_share"):
        generate_sample(tmp_path, customers=10, bad_share=1.5)
    with pytest.raises(ConfigError, match="as_of"):
        generate_sample(tmp_path, customers=10, as_of=dt.date.today() + dt.timedelta(days=1))


def test_progress_is_reported_after_each_chunk(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate_sample(
        tmp_path, customers=250, chunk_customers=100, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(100, 250), (200, 250), (250, 250)]


# ---------------------------------------------------------------------------------------------
# The contract on clean samples
# ---------------------------------------------------------------------------------------------


def test_clean_sample_breaks_no_contract_rule(clean_csv: SampleSummary) -> None:
    found = check_sample(clean_csv.out_dir, "csv")
    assert {name: sorted(v.items())[:3] for name, v in found.items() if v} == {}


def test_two_chunks_and_one_chunk_are_both_valid(tmp_path: Path) -> None:
    for chunk in (400, 170):
        out = tmp_path / str(chunk)
        generate_sample(out, customers=400, seed=2, chunk_customers=chunk, fmt="parquet")
        found = check_sample(out, "parquet")
        assert {name: sorted(v.items())[:3] for name, v in found.items() if v} == {}
    one = pq.read_table(tmp_path / "400" / "customers.parquet")
    two = pq.read_table(tmp_path / "170" / "customers.parquet")
    assert one.num_rows == two.num_rows == 400
    assert len(set(two.column("uscc").to_pylist())) == 400


def test_identifiers_and_codes_look_real(clean_csv: SampleSummary) -> None:
    customers = read_text(clean_csv.files["customers"])
    assert customers["customer_id"].iloc[0] == "C0000001"
    assert customers["uscc"].is_unique
    assert customers["uscc"].str.startswith("91").all()
    # the admin-division code starts with the province's two digits
    assert (customers["uscc"].str[2:4] == customers["region"].str[:2]).all()
    assert customers["name"].str.endswith("有限公司").all()
    shares = customers["size_class"].value_counts(normalize=True)
    assert 0.35 < shares["small"] < 0.55 and shares["large"] < 0.1
    assert 0.08 < customers["group_id"].notna().mean() < 0.22
    assert customers["industry"].str[0].value_counts().index[0] == "C"
    facilities = read_text(clean_csv.files["facilities"])
    assert set(facilities["product"]) == set(params.PRODUCT_CODES)


def test_csv_and_parquet_hold_the_same_values(tmp_path: Path) -> None:
    a = generate_sample(tmp_path / "csv", customers=300, seed=4, fmt="csv")
    b = generate_sample(tmp_path / "pq", customers=300, seed=4, fmt="parquet")
    for table in TABLES:
        text = read_text(a.files[table.name]).drop(columns="_line")
        typed = read_text(b.files[table.name]).drop(columns="_line")
        assert text.shape == typed.shape, table.name
        for col in table.columns:
            x, y = text[col.name], typed[col.name]
            if col.dtype == "DOUBLE":
                xs = pd.to_numeric(x).to_numpy(dtype=float)
                ys = pd.to_numeric(y).to_numpy(dtype=float)
                assert np.array_equal(xs, ys, equal_nan=True), (table.name, col.name)
            else:
                assert x.equals(y), (table.name, col.name)


# ---------------------------------------------------------------------------------------------
# Bad rows
# ---------------------------------------------------------------------------------------------


def test_bad_rows_cover_every_rule_and_are_exactly_what_truth_says(bad_csv: SampleSummary) -> None:
    truth = truth_of(bad_csv)
    listed: dict[str, dict[int, set[str]]] = {t.name: {} for t in TABLES}
    for entry in truth["bad_rows"]:
        assert entry["file"] == f"{entry['table']}.csv"
        listed[entry["table"]][entry["line"]] = set(entry["rules"])
    found = check_sample(bad_csv.out_dir, "csv")
    for table in TABLES:
        # every rule id of the table is covered, and the checker sees exactly the listed rows
        covered = set().union(*listed[table.name].values())
        assert covered == {r.rule_id for r in table_rules(table)}, table.name
        assert found[table.name] == listed[table.name], table.name
    assert truth["bad_rows_notes"]["uncovered_rules"] == {}
    assert bad_csv.bad_rows == len(truth["bad_rows"]) == truth["bad_rows_count"]


def test_bad_share_is_about_right_per_table(bad_csv: SampleSummary) -> None:
    truth = truth_of(bad_csv)
    per_table = pd.Series([e["table"] for e in truth["bad_rows"]]).value_counts()
    for name in ("repayments", "transactions", "deposits"):
        share = per_table[name] / truth["rows"][name]
        assert 0.03 < share < 0.08, (name, share)


def test_bad_rows_differ_from_the_good_rows(bad_csv: SampleSummary) -> None:
    truth = truth_of(bad_csv)
    lines = {e["line"] for e in truth["bad_rows"] if e["table"] == "facilities"}
    frame = read_text(bad_csv.files["facilities"])
    bad = frame[frame["_line"].isin(lines)]
    good = frame[~frame["_line"].isin(lines)]
    assert len(bad) == len(lines)
    assert not set(bad["facility_id"].dropna()) & set(good["facility_id"])


def test_parquet_bad_rows_skip_only_the_type_rules(tmp_path: Path) -> None:
    summary = generate_sample(tmp_path, customers=500, seed=9, fmt="parquet", bad_share=0.03)
    truth = truth_of(summary)
    assert truth["bad_rows_notes"]["type_rules"].startswith("skipped")
    found = check_sample(summary.out_dir, "parquet")
    for table in TABLES:
        listed = {e["line"]: set(e["rules"]) for e in truth["bad_rows"] if e["table"] == table.name}
        assert found[table.name] == listed, table.name
        expected = {r.rule_id for r in table_rules(table) if r.kind != "type"}
        assert set().union(*listed.values()) == expected, table.name


# ---------------------------------------------------------------------------------------------
# Known truth: migration, survival, BG/NBD
# ---------------------------------------------------------------------------------------------


def test_migration_matrix_is_a_realistic_stochastic_matrix() -> None:
    m = np.asarray(params.MIGRATION_MATRIX)
    assert np.allclose(m.sum(axis=1), 1.0, atol=1e-12)
    assert m[-1, -1] == 1.0
    pd_1y = m[:-1, -1]
    assert np.all(np.diff(pd_1y) > 0) and pd_1y[0] == pytest.approx(0.0003)
    assert np.all((np.diag(m)[:-1] >= 0.69) & (np.diag(m)[:-1] <= 0.9))


def _active_lines(summary: SampleSummary) -> Iterator[tuple[str, pd.DataFrame]]:
    """Per product line, each active customer's repeat count x and observed span T in weeks."""
    con = duckdb.connect()
    out = summary.out_dir
    frame = con.execute(
        f"""
        SELECT t.customer_id, t.product_line, count(*) - 1 AS x,
               (DATE '{AS_OF}' + 1 - min(t.ts)::DATE) / 7.0 AS T
        FROM read_parquet('{out}/transactions.parquet') t
        JOIN read_parquet('{out}/relationships.parquet') r USING (customer_id)
        WHERE r.end_date IS NULL
        GROUP BY ALL
        """
    ).df()
    for line, group in frame.groupby("product_line"):
        yield str(line), group


def bgnbd_expected_repeats(r: float, alpha: float, a: float, b: float, t: np.ndarray) -> np.ndarray:
    """E[X(t)] of the BG/NBD model, Fader, Hardie & Lee (2005) eq. 7 averaged over the
    heterogeneity: E[(1 - e^{-lambda p t}) / p] with lambda ~ Gamma(r, alpha), p ~ Beta(a, b).
    The lambda average is closed form, (1 - (alpha / (alpha + p t))^r) / p; the p average is a
    midpoint rule on s = p^a (which removes the p^(a-1) singularity), exact to ~1e-6 here."""
    s = (np.arange(20_000) + 0.5) / 20_000
    p = s ** (1.0 / a)
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    weight = (1.0 - p) ** (b - 1.0) / a / math.exp(log_beta) / len(s)
    inner = (1.0 - (alpha / (alpha + np.outer(t, p))) ** r) / p
    return inner @ weight


def test_bgnbd_repeat_counts_match_the_true_parameters(large_parquet: SampleSummary) -> None:
    """Mean repeat transactions of active customers vs the BG/NBD expectation at their own
    observed span. Tolerance: 4 standard errors of the sample mean (counts are independent
    across customers), so a correct generator fails with probability below 1e-4."""
    grid = np.linspace(0.0, 160.0, 321)  # weeks; E[X(t)] is smooth, so interpolate
    for line, group in _active_lines(large_parquet):
        lp = params.LINE_PARAMETERS[line]
        on_grid = bgnbd_expected_repeats(lp.r, lp.alpha, lp.a, lp.b, grid)
        expected = np.interp(group["T"].to_numpy(dtype=float), grid, on_grid)
        observed = group["x"].to_numpy(dtype=float)
        se = observed.std(ddof=1) / math.sqrt(len(observed))
        assert abs(observed.mean() - expected.mean()) < 4 * se, (
            line,
            observed.mean(),
            expected.mean(),
        )


def test_gamma_gamma_mean_amount_matches_the_true_parameters(large_parquet: SampleSummary) -> None:
    """Population mean amount p v / (q - 1) (Fader, Hardie & Lee 2005 JMR, eq. 2 integrated over
    nu), estimated by the mean over customers of their own mean amount, weighted equally.
    Tolerance: 4 standard errors of that customer-level mean."""
    table = pq.read_table(large_parquet.files["transactions"]).to_pandas()
    per_customer = table.groupby(["product_line", "customer_id"])["amount"].mean()
    for line, lp in params.LINE_PARAMETERS.items():
        if line == "advisory":
            continue  # a handful of customers; the heavy tail makes the check uninformative
        means = per_customer.loc[line].to_numpy()
        truth = lp.gg_p * lp.gg_v / (lp.gg_q - 1.0)
        se = means.std(ddof=1) / math.sqrt(len(means))
        assert abs(means.mean() - truth) < 4 * se, (line, means.mean(), truth)


def test_attrition_matches_the_weibull_truth(large_parquet: SampleSummary) -> None:
    """Compensator check (Andersen et al. 1993, ch. II): for a counting process with intensity
    h(t), E[number of events] = E[sum of cumulative hazards up to each exit or censoring time].
    Attrition ends (end_reason other than default) are the events; a default censors attrition
    (competing risk). Customers onboarded in the last five years are used because their initial
    grade, a covariate, is their first rating. The count is Poisson-like with variance the
    expected count, so the tolerance is 4 sqrt(expected)."""
    out = large_parquet.out_dir
    con = duckdb.connect()
    frame = con.execute(
        f"""
        WITH first_rating AS (
            SELECT customer_id, arg_min(grade, rating_date) AS grade0, min(rating_date) AS d0
            FROM read_parquet('{out}/ratings.parquet') GROUP BY ALL
        ), defaults AS (
            SELECT customer_id, min(event_date) AS default_date
            FROM read_parquet('{out}/credit_events.parquet') WHERE event = 'default' GROUP BY ALL
        ), treated AS (
            SELECT customer_id, min(date) AS treated_from
            FROM read_parquet('{out}/marketing.parquet') WHERE treated GROUP BY ALL
        )
        SELECT c.customer_id, c.size_class, c.industry, r.start_date, r.end_date, r.end_reason,
               f.grade0, d.default_date, t.treated_from
        FROM read_parquet('{out}/customers.parquet') c
        JOIN read_parquet('{out}/relationships.parquet') r USING (customer_id)
        JOIN first_rating f ON f.customer_id = c.customer_id AND f.d0 = r.start_date
        LEFT JOIN defaults d ON d.customer_id = c.customer_id
        LEFT JOIN treated t ON t.customer_id = c.customer_id
        WHERE r.start_date >= DATE '{AS_OF}' - INTERVAL 5 YEAR
        """
    ).df()
    assert len(frame) > 5000
    b = params.WEIBULL_BETA
    section = frame["industry"].str[0]
    division = frame["industry"].str[1:3].astype(int)
    risky = section.isin(params.RISKY_SECTIONS) | (
        (section == "C") & division.isin(params.RISKY_MANUFACTURING_DIVISIONS)
    )
    grade = frame["grade0"].map({g: i for i, g in enumerate(params.GRADE_CODES)})
    lin = (
        b["size_medium"] * (frame["size_class"] == "medium")
        + b["size_small"] * (frame["size_class"] == "small")
        + b["size_micro"] * (frame["size_class"] == "micro")
        + b["industry_risk"] * risky
        + b["grade_centred"] * (grade - params.GRADE_CENTRE)
    ).to_numpy(dtype=float)
    start = pd.to_datetime(frame["start_date"])
    attrition = frame["end_date"].notna() & (frame["end_reason"] != "default")
    exit_day = pd.to_datetime(frame["end_date"]).where(attrition)
    exit_day = exit_day.fillna(pd.to_datetime(frame["default_date"]))
    exit_day = exit_day.fillna(pd.Timestamp(AS_OF))
    month = 365.25 / 12
    t = ((exit_day - start).dt.days / month).to_numpy(dtype=float)
    t1 = ((pd.to_datetime(frame["treated_from"]) - start).dt.days / month).to_numpy(dtype=float)
    t1 = np.where(np.isnan(t1), np.inf, t1)
    hazards = weibull_cumulative_hazard(
        t.astype(np.float64), lin.astype(np.float64), t1.astype(np.float64)
    )
    expected = float(hazards.sum())
    observed = int(attrition.sum())
    assert abs(observed - expected) < 4 * math.sqrt(expected), (observed, expected)


def test_share_of_ended_relationships_is_in_the_target_band(large_parquet: SampleSummary) -> None:
    rel = pq.read_table(large_parquet.files["relationships"]).to_pandas()
    ended = rel["end_date"].notna().mean()
    assert 0.25 <= ended <= 0.35, ended
    assert set(rel["end_reason"].dropna()) == {"moved_bank", "closed", "merged", "other", "default"}


def test_treatment_is_randomised_within_each_campaign(large_parquet: SampleSummary) -> None:
    marketing = pq.read_table(large_parquet.files["marketing"]).to_pandas()
    rows = marketing[marketing["customer_id"].notna()]
    assert set(rows.groupby("campaign_id").size().index) == {
        c["campaign_id"] for c in truth_of(large_parquet)["marketing"]["campaigns"]
    }
    share = rows.groupby("campaign_id")["treated"].mean()
    assert ((share > 0.45) & (share < 0.55)).all()
    assert (rows.loc[rows["treated"], "cost"] > 0).all()
    assert (rows.loc[~rows["treated"].astype(bool), "cost"] == 0).all()
    segments = marketing[marketing["customer_id"].isna()]
    assert len(segments) > 0 and segments["treated"].isna().all()


def test_initial_grades_follow_the_cut_points() -> None:
    q = np.array([2.0, 1.5, 1.0, 0.5, -0.5, -1.0, -2.0])
    assert initial_grades(q, np.full(7, 2)).tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_default_rates_by_grade_are_near_the_true_pd(large_parquet: SampleSummary) -> None:
    """One-year default frequency from consecutive annual reviews in the ratings table against
    the true PD of the starting grade (grades BB, B, CCC where defaults are frequent enough).
    Only reviews whose whole following year lies before as_of count (a default in a partial
    year is seen, a survival is not), and customers that left within the year drop out (they
    would bias either way by about half the yearly attrition, ~2% of the PD). Tolerance: 4
    binomial standard errors."""
    ratings = pq.read_table(large_parquet.files["ratings"]).to_pandas()
    ratings = ratings.sort_values(["customer_id", "rating_date"])
    nxt = ratings.groupby("customer_id")[["grade", "rating_date"]].shift(-1)
    gap = (pd.to_datetime(nxt["rating_date"]) - pd.to_datetime(ratings["rating_date"])).dt.days
    full_year = pd.to_datetime(ratings["rating_date"]) <= pd.Timestamp(AS_OF) - pd.Timedelta(
        days=366
    )
    pairs = ratings.assign(next_grade=nxt["grade"], gap=gap)[gap.notna() & (gap <= 366) & full_year]
    for grade in ("BB", "B", "CCC"):
        start = pairs[pairs["grade"] == grade]
        rate = (start["next_grade"] == "D").mean()
        pd_true = params.MIGRATION_MATRIX[params.GRADE_CODES.index(grade)][-1]
        se = math.sqrt(pd_true * (1 - pd_true) / len(start))
        assert abs(rate - pd_true) < 4 * se + 0.002, (grade, rate, pd_true)


def test_truth_json_is_complete(clean_csv: SampleSummary) -> None:
    truth = truth_of(clean_csv)
    for key in (
        "seed",
        "as_of",
        "customers",
        "format",
        "bad_share",
        "rows",
        "bad_rows",
        "master_scale",
        "credit",
        "relationship_survival",
        "transactions",
        "financials",
        "facilities",
        "deposits",
        "marketing",
        "market",
    ):
        assert key in truth, key
    assert truth["relationship_survival"]["gamma_treat"] == pytest.approx(-0.4)
    assert truth["market"]["ftp_synthetic"] is True
    assert set(truth["transactions"]["lines"]) == set(params.LINE_CODES)
    assert len(truth["marketing"]["campaigns"]) == 3
